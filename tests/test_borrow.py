"""kernels/borrow.py: borrowed arrays share their data and drop their owner.

The owner's pointer (the meminfo) is read by a small intrinsic of the test's
own, straight from the array's struct, so the check does not go through the
code under test.  What the kernels rely on -- same data, shape and strides;
writes visible through the original; results of a training run unchanged --
is asserted directly (the fit's equality with scikit-learn is in the
fidelity suites, which run through the borrowing epoch kernel).
"""

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from fastnet.kernels.borrow import borrowed


@intrinsic
def _has_owner(typingctx, arr):
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, value=args[0])
        null = cgutils.get_null_value(ary.meminfo.type)
        return builder.icmp_unsigned("!=", ary.meminfo, null)

    return types.boolean(arr), codegen


Pair = namedtuple("Pair", ["values", "scale", "inner"])


@njit
def _borrow_and_write(a):
    b = borrowed(a)
    view = b[1:3]
    view[:] = 7.0
    return _has_owner(a), _has_owner(b), _has_owner(view), b.shape[0], b.strides[0]


@njit
def _borrow_group(group):
    g = borrowed(group)
    g.values[0] = g.scale
    g.inner[0][1] = -1.0
    return (_has_owner(group.values), _has_owner(g.values), _has_owner(g.inner[0]),
            g.inner[1], g.scale)


def test_borrowed_array_shares_data_shape_strides_without_an_owner():
    a = np.zeros(5)
    owned, borrowed_owner, view_owner, length, stride = _borrow_and_write(a)
    assert owned and not borrowed_owner and not view_owner
    assert (length, stride) == (5, 8)
    np.testing.assert_array_equal(a, [0, 7, 7, 0, 0])  # written through the borrowed view


def test_borrowed_reaches_into_nested_named_tuples_and_keeps_other_fields():
    values = np.zeros(3, dtype=np.float32)
    inner = np.zeros(2)
    group = Pair(values, np.float32(2.5), (inner, 4))
    owned, borrowed_owner, inner_owner, count, scale = _borrow_group(group)
    assert owned and not borrowed_owner and not inner_owner
    assert count == 4 and scale == np.float32(2.5)
    np.testing.assert_array_equal(values, [2.5, 0, 0])
    np.testing.assert_array_equal(inner, [0, -1.0])


@njit
def _borrow_many(a, reps):
    total = 0.0
    for _ in range(reps):
        total += borrowed(a)[0]
    return total


def test_borrowing_leaves_the_owner_alive_and_freeable():
    # The owner must survive any number of borrows (no decref of it) and be released
    # once (no incref left behind): Numba's allocation counts balance, and the NumPy
    # array that Numba wrapped for the call holds no extra Python reference after it.
    import sys

    from numba.core.runtime import _nrt_python, rtsys

    a = np.ones(4)
    _borrow_many(a, 1)  # compiled before counting
    refs = sys.getrefcount(a)
    _nrt_python.memsys_enable_stats()
    try:
        before = rtsys.get_allocation_stats()
        assert _borrow_many(a, 1000) == 1000.0
        after = rtsys.get_allocation_stats()
    finally:
        _nrt_python.memsys_disable_stats()
    assert after.mi_alloc - before.mi_alloc == after.mi_free - before.mi_free
    assert after.alloc - before.alloc == after.free - before.free
    assert sys.getrefcount(a) == refs
    np.testing.assert_array_equal(a, np.ones(4))
