"""Vectors seen as matrices and back, without Numba's general reshape.

``ndarray.reshape`` in a kernel calls Numba's C helper
``numba_attempt_nocopy_reshape`` every time, for any layout: a function call
and a loop over the dimensions to find strides that are known here.  A batch
takes about fifteen such views of its workspaces and parameters (every layer's
weights, activations and deltas): ~1% of the tiny workload's fit in the helper
alone (``perf``), more with the call around it -- with the views built directly
the tiny float64 fit went from 8.8-9.0 to 8.37-8.39 ms (a scratch loop of 300
fits, interleaved with the tree before, AVX-512 Intel Xeon; stop 30's changes
together: ``python -m bench.anatomy overhead tiny``, README).  :func:`matrix_view` builds the
view's shape and strides directly, and :func:`flat_view` the other way.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["flat_view", "matrix_view", "view_type"]


def view_type(array, ndim, layout):
    """The Numba type of a view of ``array``: its dtype, writability and alignment."""
    return types.Array(array.dtype, ndim, layout, readonly=not array.mutable,
                       aligned=array.aligned)


def _owned_view(context, builder, result, src, shape, strides):
    """A ``result``-typed view of the array struct ``src``: its data and a new reference
    to its owner."""
    out = context.make_array(result)(context, builder)
    context.populate_array(out, data=src.data, shape=shape, strides=strides,
                           itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
    context.nrt.incref(builder, result, out._getvalue())
    return out._getvalue()


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
    result = view_type(vector, 2, "C")

    def codegen(context, builder, signature, args):
        src = context.make_array(vector)(context, builder, value=args[0])
        n_rows = context.cast(builder, args[1], signature.args[1], types.intp)
        n_cols = context.cast(builder, args[2], signature.args[2], types.intp)
        return _owned_view(context, builder, result, src, [n_rows, n_cols],
                           [builder.mul(n_cols, src.itemsize), src.itemsize])

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
    result = view_type(array, 1, "C")

    def codegen(context, builder, signature, args):
        src = context.make_array(array)(context, builder, value=args[0])
        size = context.get_constant(types.intp, 1)
        for extent in cgutils.unpack_tuple(builder, src.shape, array.ndim):
            size = builder.mul(size, extent)
        return _owned_view(context, builder, result, src, [size], [src.itemsize])

    return result(array), codegen
