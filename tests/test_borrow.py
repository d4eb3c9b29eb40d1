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

from fastnet.kernels.borrow import borrowed, borrowed_matrix


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


@njit
def _matrix_view(a):
    m = borrowed_matrix(a)
    total = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            total += m[i, j] * (i + 1) + j  # reads every element through the view's strides
    m[0, 0] = -7.0  # written through the borrowed view
    return m.shape, m.strides, total, _has_owner(m)


def _expected_total(matrix):
    rows, cols = np.indices(matrix.shape)
    return float(np.sum(matrix * (rows + 1) + cols))  # small integers: exact in float64


def test_borrowed_matrix_of_c_and_transposed_arrays_keeps_shape_strides_and_data():
    for a in (np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(4, 3).T):
        before = a.copy()
        shape, strides, total, owned = _matrix_view(a)
        assert shape == before.shape and strides == a.strides
        assert total == _expected_total(before)
        assert not owned
        before[0, 0] = -7.0
        assert np.array_equal(a, before)  # the write landed in the original, only there


def test_borrowed_matrix_of_a_vector_is_one_row_with_row_stride_zero():
    v = np.arange(5.0)
    shape, strides, total, owned = _matrix_view(v)
    assert shape == (1, 5) and strides == (0, 8)
    assert total == _expected_total(np.arange(5.0)[None, :])
    assert not owned and v[0] == -7.0


def test_tiled_products_of_every_layout_share_one_compiled_unit():
    # What borrowed_matrix is for: batches, their transposes and intercept vectors reach
    # the tile loop as one type, so it is typed (and compiled) once.
    from fastnet.kernels import small

    from fastnet.kernels.registry import IDENTITY

    @njit
    def three_products(X, Y, biased, b, D, G, out):
        small.tiled_product(X, Y, biased, b, small.BIAS_ACT, IDENTITY)  # intercepts: a vector
        small.tiled_product(X.T, D, G, G, small.PLAIN, IDENTITY)  # a transposed batch
        small.tiled_product(X, Y, out, out, small.PLAIN, IDENTITY)

    rng = np.random.default_rng(0)
    n, m, k = 9, 5, 2 * small.lanes(8)
    X, Y, b = rng.standard_normal((n, m)), rng.standard_normal((m, k)), rng.standard_normal(k)
    D = rng.standard_normal((n, k))
    biased, G, out = np.empty((n, k)), np.empty((m, k)), np.empty((n, k))
    three_products(X, Y, biased, b, D, G, out)
    # Standard-normal terms, float64: sums of 5 or 9 products (+ one intercept) are within a
    # few ulps of NumPy's order, far below 1e-13 of values of order 1.
    np.testing.assert_allclose(biased, X @ Y + b, rtol=1e-13, atol=1e-13)  # every row: b
    np.testing.assert_allclose(G, X.T @ D, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(out, X @ Y, rtol=1e-13, atol=1e-13)
    # Other tests in this process may have typed it for float32 too: one per dtype.
    float64 = [args for args in small._tiled_matrix_product.subroutine_signatures
               if args[0].dtype == types.float64]
    assert len(float64) == 1
    assert float64[0][0] == float64[0][3] == types.Array(types.float64, 2, "A")
