"""kernels/vtanh.py's vectorizable tanh against tanh in extended precision.

The oracle is ``np.tanh`` of ``np.longdouble`` (x87 80-bit on x86-64 Linux,
binary128 on aarch64 Linux: 11 or more bits beyond float64, so its own error
is far under a float64 ulp).  Where ``longdouble`` is plain float64 (Windows,
macOS on ARM) the oracle is ``math.tanh`` (libm, within about an ulp), and a
bound one ulp wider.

vtanh's own bound: below 0.625 Cephes' rational function (error about 0.8 ulp:
a few roundings on ``x + x * small``); above, ``1 - 2 / (exp(2|x|) + 1)``:
vexp's ``exp`` within about an ulp, damped by ``2 / (s + 1) < 0.45`` of the
result, plus the addition's, division's and subtraction's roundings -- at
most about 1.5 ulps.  1.5 is the bound (measured: 1.31 float64, 1.29 float32).
"""

import math

import numpy as np
import pytest
from numba import njit

from fastnet import MLPRegressor
from fastnet.kernels import registry, vtanh

_EXTENDED = np.finfo(np.longdouble).nmant >= 63
BOUND = 1.5 if _EXTENDED else 2.5


def _over_array(scalar_tanh):
    """A compiled loop applying ``scalar_tanh`` to each element of a 1-D array."""

    @njit
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = scalar_tanh(x[i])
        return out

    return apply


_tanh64_all = _over_array(vtanh.tanh64)
_tanh32_all = _over_array(vtanh.tanh32)


def _truth(x):
    if _EXTENDED:
        return np.tanh(x.astype(np.longdouble))
    return np.array([math.tanh(float(v)) for v in x], dtype=np.float64)


def _ulps(got, x):
    """|got - tanh(x)| in ulps of got's dtype at the true value."""
    ref = _truth(x)
    spacing = np.spacing(np.abs(ref.astype(got.dtype))).astype(ref.dtype)
    return np.abs(got.astype(ref.dtype) - ref) / spacing


def _sweep(dtype, top):
    rng = np.random.RandomState(0)
    x = np.concatenate([np.linspace(-top, top, 200_001), rng.uniform(-1, 1, 50_000),
                        rng.uniform(0.6, 0.65, 10_000),  # the switch between the formulas
                        np.logspace(np.log10(np.finfo(dtype).smallest_subnormal), 1.4, 10_000)])
    x = np.concatenate([x, -x]).astype(dtype)
    return x


def test_tanh64_within_bound_of_the_true_value():
    x = _sweep(np.float64, 25.0)
    assert _ulps(_tanh64_all(x), x).max() <= BOUND


def test_tanh32_within_bound_of_the_true_value():
    x = _sweep(np.float32, 12.0)
    got = _tanh32_all(x)
    assert got.dtype == np.float32
    assert _ulps(got, x).max() <= BOUND


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_special_values_as_numpy(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    big = np.finfo(dtype).max
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, big, -big, 30.0, -30.0],
                 dtype=dtype)
    got = (_tanh64_all if dtype == np.float64 else _tanh32_all)(x)
    ref = np.tanh(x)
    np.testing.assert_array_equal(got, ref)  # NaN, +-1, +-0, the subnormal itself
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))  # tanh(-0.0) is -0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_inplace_keeps_the_dtype_and_values(dtype):
    x = np.random.RandomState(1).uniform(-6, 6, 5_001).astype(dtype)
    values = x.copy()
    vtanh.tanh_inplace(values)
    assert values.dtype == dtype
    scalar = _tanh64_all if dtype == np.float64 else _tanh32_all
    np.testing.assert_array_equal(values, scalar(x))  # the vector loop is the scalar math
    assert _ulps(values, x).max() <= BOUND


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("numpy_tanh", [False, True])
def test_many_row_predict_of_a_tanh_network_matches_numpy_forward(monkeypatch, dtype,
                                                                   numpy_tanh):
    """The estimator's many-row predict (the layer-wise path, with vtanh's tanh or, as on
    machines where NumPy's loop is AVX-512 code, NumPy's) against the network's formula
    in NumPy: products of 2- and 8-term sums and tanh values within BOUND ulps of each
    other's -- 64 eps of the output's scale covers both."""
    monkeypatch.setitem(registry._NUMPY_TANH, np.dtype(dtype), numpy_tanh)
    rng = np.random.RandomState(3)
    X = rng.randn(60, 2).astype(dtype)
    y = (X[:, 0] - 2 * X[:, 1]).astype(dtype)
    model = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=30,
                         random_state=0).fit(X, y)
    Xp = rng.randn(500, 2).astype(dtype)
    hidden = np.tanh(Xp.astype(np.float64) @ model.coefs_[0] + model.intercepts_[0])
    ref = hidden @ model.coefs_[1] + model.intercepts_[1]
    got = model.predict(Xp)
    assert got.dtype == dtype
    scale = np.abs(hidden).max() * np.abs(model.coefs_[1]).sum() + np.abs(ref).max()
    np.testing.assert_allclose(got, ref.ravel(), rtol=0, atol=64 * np.finfo(dtype).eps * scale)
