"""Arrays whose data starts on a cache line: the buffers the kernels stream through.

The register tiles (``kernels/small.py``) load a tile's right-hand side and
store its outputs as unaligned vectors of 8 float64 / 16 float32 (64 bytes).
Where the buffer's start is a multiple of the vector register's width (32
bytes on AVX2) every such load and store stays inside its cache line's halves;
where it is not, every one of them straddles two halves and half of them two
cache lines.  NumPy's own allocations start on 16 bytes only, so which case a
fit got was chance: the same fit of the small workload ran at two speeds,
process after process.  ``python -m bench.anatomy align small`` measures both.

Every buffer of parameters, gradients, optimizer state and per-batch
workspace is therefore allocated here, on :data:`ALIGNMENT` bytes (a cache
line, and AVX-512's register width).
"""

import math

import numpy as np

__all__ = ["ALIGNMENT", "empty", "zeros", "aligned_copy", "is_aligned"]

ALIGNMENT = 64


def empty(shape, dtype):
    """``np.empty(shape, dtype)`` whose data starts on :data:`ALIGNMENT` bytes.

    Parameters
    ----------
    shape : int or tuple of int
    dtype : numpy dtype

    Returns
    -------
    array : ndarray of shape ``shape``, C-contiguous, uninitialized
        A view of a slightly larger byte buffer (its ``base``).  An array of no
        elements may start anywhere: NumPy keeps the buffer's own start for an
        empty slice, and nothing is ever loaded from it.
    """
    itemsize = np.dtype(dtype).itemsize
    count = math.prod(shape) if isinstance(shape, tuple) else int(shape)
    raw = np.empty(count * itemsize + ALIGNMENT, dtype=np.uint8)
    skip = -raw.ctypes.data % ALIGNMENT
    array = raw[skip:skip + count * itemsize].view(dtype)
    return array.reshape(shape) if isinstance(shape, tuple) else array


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)`` whose data starts on :data:`ALIGNMENT` bytes."""
    array = empty(shape, dtype)
    array.fill(0)
    return array


def aligned_copy(array):
    """A C-contiguous copy of ``array`` (same dtype and shape) on :data:`ALIGNMENT` bytes."""
    array = np.asarray(array)
    out = empty(array.shape, array.dtype)
    out[...] = array
    return out


def is_aligned(array):
    """Whether ``array``'s data starts on :data:`ALIGNMENT` bytes (always, with no elements)."""
    return array.size == 0 or array.ctypes.data % ALIGNMENT == 0
