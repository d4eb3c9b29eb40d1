"""kernels/blas.py: the BLAS products the kernels call, against Numba's own ``np.dot``.

The intrinsics emit the code of Numba's ``np.dot`` (same checks, same gemm /
gemv / dot dispatch, same BLAS), so the oracle for the bits is ``np.dot``
compiled by Numba on the same arguments: equal bit for bit.  Against NumPy
(another OpenBLAS build, another kernel) the bound of a sum of length m in any
order, ``m * eps * (|X| @ |Y|)`` elementwise (Higham, sec. 3.1).
"""

import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from numba import njit

from _compare import assert_close
from fastnet import MLPRegressor
from fastnet.kernels import small as ksmall
from fastnet.kernels.blas import matmul_into, vdot

DTYPES = [np.float64, np.float32]
# (n, m, k): out (n, k) = X (n, m) @ Y (m, k); 1-row and 1-column products take
# BLAS's gemv (and 1 x 1 its dot), as np.dot does; m = 0 zeroes out.
SHAPES = [(1, 1, 1), (1, 7, 1), (1, 5, 9), (6, 5, 1), (13, 17, 11), (200, 20, 16), (4, 0, 3)]


@njit
def _ours(X, Y, out):
    matmul_into(X, Y, out)


@njit
def _numba_dot(X, Y, out):
    np.dot(X, Y, out)


@njit
def _ours_transposed(X, Y, out):
    matmul_into(X.T, Y, out)  # X.T: an F-contiguous view, as the backward pass's A.T @ D


@njit
def _numba_dot_transposed(X, Y, out):
    np.dot(X.T, Y, out)


@njit
def _vdot_ours(x, y):
    return vdot(x, y)


@njit
def _vdot_numba(x, y):
    return np.dot(x, y)


def _operands(dtype, n, m, k, seed):
    rng = np.random.RandomState(seed)
    return rng.randn(n, m).astype(dtype), rng.randn(m, k).astype(dtype)


def _bound_check(out, X, Y, dtype):
    m = X.shape[1]
    exact = X.astype(np.float64) @ Y.astype(np.float64)
    scale = np.abs(X.astype(np.float64)) @ np.abs(Y.astype(np.float64))
    assert_close(out, exact, k=max(m, 1), rtol=0, dtype=dtype, scale=scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_matmul_into_is_numbas_np_dot(dtype, shape):
    n, m, k = shape
    X, Y = _operands(dtype, n, m, k, seed=n * 1000 + m * 10 + k)
    ours = np.full((n, k), np.nan, dtype)  # every entry must be written (m = 0: zeros)
    theirs = np.full((n, k), np.nan, dtype)
    _ours(X, Y, ours)
    _numba_dot(X, Y, theirs)
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours, theirs)
    _bound_check(ours, X, Y, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_matmul_into_takes_a_transposed_left_operand(dtype, shape):
    n, m, k = shape
    X, Y = _operands(dtype, n, m, k, seed=7 + n + m + k)
    XT = np.ascontiguousarray(X.T)  # (m, n) C-contiguous; its .T is X, F-contiguous
    ours = np.full((n, k), np.nan, dtype)
    theirs = np.full((n, k), np.nan, dtype)
    _ours_transposed(XT, Y, ours)
    _numba_dot_transposed(XT, Y, theirs)
    np.testing.assert_array_equal(ours, theirs)
    _bound_check(ours, X, Y, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("length", [1, 2, 17, 1000])
def test_vdot_is_numbas_np_dot(dtype, length):
    rng = np.random.RandomState(length)
    x = rng.randn(length).astype(dtype)
    y = rng.randn(length).astype(dtype)
    ours = _vdot_ours(x, y)
    # The scalar is the arrays' dtype inside the kernel (boxed, it becomes a Python float).
    returned = {str(sig.return_type) for sig in _vdot_ours.nopython_signatures
                if str(sig.args[0].dtype) == np.dtype(dtype).name}
    assert returned == {np.dtype(dtype).name}
    assert ours == _vdot_numba(x, y)
    exact = float(x.astype(np.float64) @ y.astype(np.float64))
    bound = length * np.finfo(dtype).eps * float(np.abs(x.astype(np.float64)) @ np.abs(y))
    assert abs(float(ours) - exact) <= bound


def test_mismatched_operands_are_not_typed():
    """The intrinsics type only what the BLAS call can take: mixed dtypes, integer
    arrays or an F-contiguous output are typing errors, not wrong products."""
    from numba.core.errors import TypingError

    X64 = np.ones((3, 2))
    Y32 = np.ones((2, 4), np.float32)
    with pytest.raises(TypingError):
        _ours(X64, Y32, np.empty((3, 4)))
    with pytest.raises(TypingError):
        _ours(np.ones((3, 2), np.int64), np.ones((2, 4), np.int64),
              np.empty((3, 4), np.int64))
    with pytest.raises(TypingError):
        _ours(X64, np.ones((2, 4)), np.empty((4, 3)).T)
    with pytest.raises(TypingError):
        _vdot_ours(np.ones(3), np.ones(3, np.float32))


def test_matmul_into_holds_no_reference():
    """``matmul_into`` returns a new reference to ``out`` (as np.dot's code does); a
    caller that drops it releases it.  A lost reference would keep every array a
    product wrote alive: a leak of each predict's activations."""
    X, Y = _operands(np.float64, 30, 4, 9, seed=3)
    out = np.empty((30, 9))
    before = [sys.getrefcount(a) for a in (X, Y, out)]
    for _ in range(5):
        _ours(X, Y, out)
        _ours_transposed(np.ascontiguousarray(X.T), Y, out)
        ksmall.product(X, Y, out, 36, 0)  # a kernel called from Python: BLAS (limit 0)
    assert [sys.getrefcount(a) for a in (X, Y, out)] == before


def test_many_row_predicts_keep_no_memory():
    """Repeated 10 000-row predicts of a tanh network (the layer-wise path: the compiled
    product into a NumPy buffer, then NumPy's tanh) hold no memory afterwards: each
    call's 10 000 x 8 float64 hidden block (640 KB) is freed.  Twenty calls that each
    kept theirs would hold 12.8 MB; the bound, 1 MB, leaves room for NumPy's and
    Python's own caches."""
    rng = np.random.RandomState(0)
    X = rng.randn(50, 2)
    y = X @ np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=5,
                           random_state=0).fit(X, y)
    Xp = rng.randn(10_000, 2)
    expected = est.predict(Xp)  # compiles, and warms every cache, before the count
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(20):
            np.testing.assert_array_equal(est.predict(Xp), expected)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 1 << 20, f"{end - start} bytes still held after 20 predicts"
