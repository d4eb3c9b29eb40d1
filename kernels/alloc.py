"""Arrays a kernel allocates, without ``np.empty``'s own dispatchers.

``np.empty`` in a kernel compiles dispatchers of its own (its ``@overload``
and the allocator's: 0.12-0.18 s of a cold tiny fit on the 2-vCPU AMD EPYC,
``python -m bench.anatomy firstfit tiny`` with ``np.empty`` for the shuffle's
block of words, which is now a ``stack_vector``).  :func:`new_vector`
allocates as they do -- one aligned block from Numba's runtime, owned by the
array's meminfo and freed with its last reference -- straight in the calling
kernel; :func:`stack_vector` takes a small, ownerless vector from the calling
kernel's stack.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["new_vector", "stack_vector"]

# Numba's own alignment for array data (BaseContext.get_preferred_array_alignment).
_ALIGN = 32


@intrinsic
def new_vector(typingctx, like, n):
    """``np.empty(n, dtype=like.dtype)``: a new, uninitialized, C-contiguous vector.

    Parameters
    ----------
    like : ndarray
        Any array of the wanted dtype (only its type is used).
    n : int
        The number of elements, ``0 <= n`` (not checked) and small enough for
        ``n * itemsize`` bytes not to overflow.

    Returns
    -------
    ndarray of shape (n,)
        Owned by Numba's runtime: it may be returned to Python.  A failed
        allocation raises MemoryError.
    """
    if not isinstance(like, types.Array) or not isinstance(n, types.Integer):
        return None
    array_type = types.Array(like.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        count = context.cast(builder, args[1], signature.args[1], types.intp)
        itemsize = context.get_constant(
            types.intp, context.get_abi_sizeof(context.get_data_type(like.dtype)))
        meminfo = context.nrt.meminfo_alloc_aligned(builder, builder.mul(count, itemsize),
                                                   _ALIGN)
        array = context.make_array(array_type)(context, builder)
        data = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), array.data.type)
        context.populate_array(array, data=data, shape=[count], strides=[itemsize],
                               itemsize=itemsize, meminfo=meminfo)
        return array._getvalue()

    return array_type(like, n), codegen


@intrinsic
def stack_vector(typingctx, like, n):
    """A small uninitialized vector of ``like``'s dtype on the calling kernel's stack.

    Parameters
    ----------
    like : ndarray or number
        Gives the dtype (an array's element type, or the number's own type).
    n : int literal
        The number of elements (a compile-time constant).

    Returns
    -------
    ndarray of shape (n,)
        Without an owner (null meminfo: reference counting skips it) and valid
        only while the kernel that made it runs: never return or store it.
    """
    if not isinstance(n, types.IntegerLiteral):
        return None
    dtype = like.dtype if isinstance(like, types.Array) else like
    if not isinstance(dtype, types.Number):
        return None
    array_type = types.Array(dtype, 1, "C")
    count = n.literal_value

    def codegen(context, builder, signature, args):
        element = context.get_data_type(dtype)
        data = cgutils.alloca_once(builder, element, size=count)
        array = context.make_array(array_type)(context, builder)
        intp = context.get_value_type(types.intp)
        itemsize = context.get_abi_sizeof(element)
        context.populate_array(array, data=data, shape=[intp(count)],
                               strides=[intp(itemsize)], itemsize=intp(itemsize),
                               meminfo=None)
        return array._getvalue()

    return array_type(like, n), codegen
