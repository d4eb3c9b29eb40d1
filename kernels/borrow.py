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

from .views import view_type

__all__ = ["borrowed", "borrowed_matrix"]


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


@intrinsic
def borrowed_matrix(typingctx, array):
    """``array`` borrowed as a 2-D array of any layout (``'A'``), one type for them all.

    A kernel typed once for this type serves C-contiguous arrays, their
    transposes and vectors alike, instead of being typed and compiled once per
    layout and dimension (what the tiled products' callers pass: batches, their
    transposes, a layer's intercepts).

    Parameters
    ----------
    array : ndarray of 1 or 2 dimensions
        A vector of shape (k,) becomes shape (1, k) with a row stride of 0 (every
        row the same vector, as ``np.broadcast_to`` would give).

    Returns
    -------
    ndarray of 2 dimensions, layout ``'A'``, borrowed (:func:`borrowed`)
    """
    if not isinstance(array, types.Array) or array.ndim not in (1, 2):
        return None
    result = view_type(array, 2, "A")

    def codegen(context, builder, signature, args):
        src = context.make_array(array)(context, builder, value=args[0])
        out = context.make_array(result)(context, builder)
        if array.ndim == 2:
            shape, strides = src.shape, src.strides
        else:
            intp = context.get_value_type(types.intp)
            one, zero = intp(1), intp(0)
            shape = cgutils.pack_array(builder, [one, builder.extract_value(src.shape, 0)])
            strides = cgutils.pack_array(builder, [zero, builder.extract_value(src.strides, 0)])
        context.populate_array(out, data=src.data, shape=shape, strides=strides,
                               itemsize=src.itemsize, meminfo=None)
        return out._getvalue()

    return result(array), codegen
