"""kernels/views.py: matrix and flat views built without Numba's reshape helper.

The oracle is NumPy's own ``reshape`` of the same array: same shape, strides
and elements, the same memory (a write through the view shows in the
original), and an owner that keeps the memory alive once the original is gone.
"""

import gc

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from fastnet.kernels.views import flat_view, matrix_view


@njit
def _matrix(v, rows, cols):
    return matrix_view(v, rows, cols)


@njit
def _flat(a):
    return flat_view(a)


@njit
def _matrix_of_slice(v, start, rows, cols):
    return matrix_view(v[start:start + rows * cols], rows, cols)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (7, 1), (1, 9), (0, 5)])
def test_matrix_view_is_numpys_reshape(dtype, shape):
    rows, cols = shape
    v = np.arange(rows * cols, dtype=dtype)
    m = _matrix(v, rows, cols)
    expected = v.reshape(shape)
    assert m.shape == expected.shape and m.strides == expected.strides
    assert m.dtype == v.dtype and m.flags.c_contiguous
    np.testing.assert_array_equal(m, expected)
    if v.size:
        assert m.ctypes.data == v.ctypes.data
        m[rows - 1, cols - 1] = 99
        assert v[-1] == 99  # the same memory


def test_matrix_view_of_a_slice_starts_at_the_slice():
    v = np.arange(30.0)
    m = _matrix_of_slice(v, 5, 4, 6)
    np.testing.assert_array_equal(m, v[5:29].reshape(4, 6))


@pytest.mark.parametrize("shape", [(6,), (2, 3), (2, 3, 4), (0, 3)])
def test_flat_view_is_numpys_ravel(shape):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    f = _flat(a)
    assert f.shape == (a.size,) and f.strides == (a.itemsize,)
    np.testing.assert_array_equal(f, a.reshape(a.size))
    if a.size:
        f[0] = -1
        assert a.flat[0] == -1


def test_views_keep_their_owner_alive():
    """Returned to Python, a view holds a reference to the array's memory."""
    v = np.arange(12.0)
    m = _matrix(v, 3, 4)
    f = _flat(np.arange(12.0).reshape(3, 4))
    del v
    gc.collect()
    np.arange(10_000.0)  # reuse freed memory if it had been freed
    np.testing.assert_array_equal(m, np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(f, np.arange(12.0))


def test_views_of_read_only_arrays_are_read_only():
    v = np.arange(6.0)
    v.flags.writeable = False
    assert not _matrix(v, 2, 3).flags.writeable
    a = np.arange(6.0).reshape(2, 3)
    a.flags.writeable = False
    assert not _flat(a).flags.writeable


def test_non_contiguous_arrays_are_refused_at_compile_time():
    """Strides that are not C order are never guessed: such a call does not compile."""
    with pytest.raises(TypingError):
        _matrix(np.arange(12.0)[::2], 2, 3)
    with pytest.raises(TypingError):
        _flat(np.arange(12.0).reshape(3, 4).T)
