"""Vectors seen as matrices and back, without Numba's general reshape.

``ndarray.reshape`` in a kernel calls Numba's C helper
``numba_attempt_nocopy_reshape`` every time, for any layout: a function call
and a loop over the dimensions to find strides that are known here.  A batch
takes about fifteen such views of its workspaces and parameters (every layer's
weights, activations and deltas), ~1% of the tiny workload's fit in the helper
alone (``perf``).  :func:`matrix_view` builds the view's shape and strides
directly, and :func:`flat_view` the other way.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["flat_view", "matrix_view"]


@intrinsic
def matrix_view(typingctx, vector, rows, cols):
    """``vector.reshape((rows, cols))`` for a C-contiguous vector of ``rows * cols`` elements.

    Parameters
    ----------
    vector : ndarray of shape (rows * cols,), C-contiguous
        The size is not checked: the callers slice exactly ``rows * cols``
        elements.
    rows, cols : int

    Returns
    -------
    ndarray of shape (rows, cols), C-contiguous
        A view sharing ``vector``'s data and owner (a new reference to it).
    """
    if not (isinstance(vector, types.Array) and vector.ndim == 1 and vector.layout == "C"
            and isinstance(rows, types.Integer) and isinstance(cols, types.Integer)):
        return None
    result = types.Array(vector.dtype, 2, "C", readonly=not vector.mutable,
                         aligned=vector.aligned)

    def codegen(context, builder, signature, args):
        src = context.make_array(vector)(context, builder, value=args[0])
        out = context.make_array(result)(context, builder)
        n_rows = context.cast(builder, args[1], signature.args[1], types.intp)
        n_cols = context.cast(builder, args[2], signature.args[2], types.intp)
        itemsize = src.itemsize
        context.populate_array(out, data=src.data, shape=[n_rows, n_cols],
                               strides=[builder.mul(n_cols, itemsize), itemsize],
                               itemsize=itemsize, meminfo=src.meminfo, parent=src.parent)
        context.nrt.incref(builder, result, out._getvalue())
        return out._getvalue()

    return result(vector, rows, cols), codegen


@intrinsic
def flat_view(typingctx, array):
    """``array.reshape(array.size)`` for a C-contiguous array: its elements as one vector.

    Parameters
    ----------
    array : ndarray, C-contiguous

    Returns
    -------
    ndarray of shape (array.size,), C-contiguous
        A view sharing ``array``'s data and owner (a new reference to it).
    """
    if not (isinstance(array, types.Array) and array.layout == "C"):
        return None
    result = types.Array(array.dtype, 1, "C", readonly=not array.mutable,
                         aligned=array.aligned)

    def codegen(context, builder, signature, args):
        src = context.make_array(array)(context, builder, value=args[0])
        out = context.make_array(result)(context, builder)
        size = context.get_constant(types.intp, 1)
        for extent in cgutils.unpack_tuple(builder, src.shape, array.ndim):
            size = builder.mul(size, extent)
        context.populate_array(out, data=src.data, shape=[size], strides=[src.itemsize],
                               itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
        context.nrt.incref(builder, result, out._getvalue())
        return out._getvalue()

    return result(array), codegen
