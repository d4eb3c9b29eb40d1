"""kernels/vexp.py's vectorizable exp against NumPy's.

The oracle is ``np.exp`` in float64 (within an ulp of the true value on the
platforms NumPy supports).  vexp's own error is about an ulp (reduction
exact to ~2**-60 relative, polynomial truncation ~4e-18, a dozen fused
multiply-adds of rounding on values near 1), so two implementations each
within about an ulp of the truth differ by at most 2 ulps: the bound used.
float32 results are computed in float64 and rounded once; against the
float64 reference rounded to float32 they may differ by that rounding's
half ulp plus a last-bit tie: 1 float32 ulp.
"""

import numpy as np
import pytest
from numba import njit

from fastnet.kernels import vexp


@njit
def _exp_all(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = vexp.exp(x[i])
    return out


@njit
def _exp_inplace(values):
    vexp.exp_inplace(values)


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_exp_within_two_ulps_of_numpy_over_the_normal_range():
    rng = np.random.RandomState(0)
    # Every binade the result can take (dense around 0, where softmax works), plus
    # the ends of the range where the two factors of 2**n matter.
    x = np.concatenate([np.linspace(-708.0, 709.7, 200_001), rng.uniform(-40, 40, 100_000),
                        rng.uniform(-1e-3, 1e-3, 10_000), [-708.39, 709.78]])
    got = _exp_all(x)
    ref = np.exp(x)
    assert _ulps(got, ref).max() <= 2.0


def test_exp_subnormal_results_and_the_ends():
    # Results below 2**-1022 are subnormal: their spacing is fixed (5e-324), and the
    # two-factor scaling rounds once more there: within 2 subnormal steps.
    x = np.linspace(-745.1, -708.5, 10_001)
    got, ref = _exp_all(x), np.exp(x)
    assert np.max(np.abs(got - ref)) <= 2 * 5e-324
    assert np.all(got > 0)
    with np.errstate(over="ignore"):
        edges = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.79, 1e308, -745.14, -1e308,
                          5e-324, -5e-324])
        ref = np.exp(edges)
    got = _exp_all(edges)
    np.testing.assert_array_equal(got, ref)  # NaN, inf, 0, 1 exactly as NumPy


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_inplace_keeps_the_dtype(dtype):
    x = np.random.RandomState(1).uniform(-80, 80, 5_000).astype(dtype)
    values = x.copy()
    _exp_inplace(values)
    assert values.dtype == dtype
    if dtype == np.float64:
        assert _ulps(values, np.exp(x)).max() <= 2.0
    else:
        ref = np.exp(x.astype(np.float64)).astype(np.float32)
        finite = np.isfinite(ref) & (ref >= np.finfo(np.float32).tiny)
        assert _ulps(values[finite], ref[finite]).max() <= 1.0
        assert np.array_equal(np.isinf(values), np.isinf(ref))
