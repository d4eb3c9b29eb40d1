"""Borrowed arrays: views that Numba's runtime does not reference-count.

Every array value inside a compiled function carries a pointer to its
owner's reference count (the *meminfo*), and Numba adjusts that count --
with an atomic instruction -- whenever an array is bound to a variable,
read out of a tuple, sliced or reshaped.  A training batch of the tiny
workload (two layers) did 128 increments and 130 decrements, ~15% of its
time (``perf``; counted with ``python -m bench.anatomy refcounts tiny``).
``NRT_incref`` / ``NRT_decref`` return at once for a null meminfo, which is
what :func:`borrowed` gives: the same data, shape and strides, no owner.

Only for values that the caller keeps alive for as long as the borrowed
copies are used: a kernel's own arguments, within that kernel.  A borrowed
array must never be returned to Python or stored beyond the call.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["borrowed"]


def _borrow_value(context, builder, ty, value):
    """``value`` (of Numba type ``ty``) with every array inside it ownerless."""
    if isinstance(ty, types.Array):
        ary = context.make_array(ty)(context, builder, value=value)
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()
    if isinstance(ty, types.BaseTuple):
        out = value
        for i, member in enumerate(ty.types):
            inner = _borrow_value(context, builder, member, builder.extract_value(value, i))
            out = builder.insert_value(out, inner, i)
        return out
    # Anything else is handed on as a new reference, as an intrinsic's result must be.
    context.nrt.incref(builder, ty, value)
    return value


@intrinsic
def borrowed(typingctx, value):
    """``value`` with every array in it (nested in tuples and named tuples too) borrowed.

    Parameters
    ----------
    value : array, tuple or named tuple (of those), or any other value
        Arrays keep their data, shape and strides; their meminfo and parent
        become null.  Other values are returned as they are (None too).

    Returns
    -------
    Same type as ``value``.
    """
    def codegen(context, builder, signature, args):
        return _borrow_value(context, builder, signature.args[0], args[0])

    return value(value), codegen

