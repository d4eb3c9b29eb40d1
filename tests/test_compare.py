"""The comparison helpers of ``_compare`` accept rounding and reject genuine errors.

The tolerance ``rtol * |b| + k * eps * scale`` (derived in ``_compare``'s docstring)
must let through what different CPUs and BLAS builds do -- the known case is a
float32 weight of 1e-4 in an array whose largest entry is 0.5, 1.2e-8 off on an
AVX2-only machine -- and still fail a wrong implementation: here a real float32
and float64 fit whose fastnet weights are then perturbed.
"""

import types

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _compare import (K_PROBA, RTOL, assert_close, assert_close_log_proba, assert_close_proba,
                      assert_same_fit, assert_same_labels, assert_same_predictions,
                      clear_decisions, fit_both, fit_procedure, k_fit)
from fastnet import MLPRegressor

EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def fitted(request, regression_data):
    """test_fidelity's float32 regressor fit: (fastnet, scikit-learn), in both dtypes."""
    X, y, _ = regression_data
    params = dict(solver="sgd", hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10,
                  batch_size=50, random_state=0)
    return fit_both(MLPRegressor, SkMLPRegressor, params,
                    fit_procedure(X.astype(request.param), y))[:2]


def _perturbed(fn, index, change):
    """A copy of the fastnet model whose first weight matrix has ``change(w)`` at ``index``."""
    twin = types.SimpleNamespace(**vars(fn))
    twin.coefs_ = [c.copy() for c in fn.coefs_]
    w = twin.coefs_[0]
    w[index] = change(w[index])
    return twin


def test_budget_of_the_float32_fit(fitted):
    fn, sk = fitted
    # 157 rows in batches of 50: 4 steps an epoch (ceil(t_ / 50) = 32, plus one partial
    # batch per epoch), 10 epochs; the longest sum is the batch of 50.
    assert k_fit(sk) == 32 + 10 + 50
    assert_same_fit(fn, sk)  # what the CPUs do passes


def test_rejects_an_error_on_the_largest_weight(fitted):
    fn, sk = fitted
    rtol = RTOL[np.dtype(sk.coefs_[0].dtype)]
    w = sk.coefs_[0]
    big = np.unravel_index(np.argmax(np.abs(w)), w.shape)
    # The absolute term adds less than a fifth of rtol at the largest element ...
    assert k_fit(sk) * float(np.finfo(w.dtype).eps) < 0.2 * rtol
    # ... so an error of 1.2 rtol there fails; as does 1e-4 absolute in float32 (relative
    # 2e-4 on a weight of ~0.5) and 1e-7 relative in float64.
    error = 1.2 * rtol
    with pytest.raises(AssertionError, match="parameter array 0"):
        assert_same_fit(_perturbed(fn, big, lambda v: v * (1 + error)), sk)
    if w.dtype == np.float32:
        assert 0.3 < abs(w[big]) < 1.0
        with pytest.raises(AssertionError, match="parameter array 0"):
            assert_same_fit(_perturbed(fn, big, lambda v: v + np.float32(1e-4)), sk)
    else:
        with pytest.raises(AssertionError, match="parameter array 0"):
            assert_same_fit(_perturbed(fn, big, lambda v: v * (1 + 1e-7)), sk)


def test_rejects_an_error_of_the_arrays_scale_on_a_small_weight(fitted):
    fn, sk = fitted
    w = sk.coefs_[0]
    small = np.unravel_index(np.argmin(np.abs(w)), w.shape)
    scale = float(np.abs(w).max())
    assert abs(w[small]) < 0.1 * scale
    # float32: 1e-4 of the array's scale; float64: 1e-7 of it.
    error = 1e-4 if w.dtype == np.float32 else 1e-7
    with pytest.raises(AssertionError, match="parameter array 0"):
        assert_same_fit(_perturbed(fn, small, lambda v: v + error * scale), sk)


def test_rejects_an_error_in_the_loss_curve(fitted):
    fn, sk = fitted
    twin = types.SimpleNamespace(**vars(fn))
    twin.loss_curve_ = list(fn.loss_curve_)
    twin.loss_curve_[-1] *= 1 + 2 * RTOL[np.dtype(sk.coefs_[0].dtype)]
    with pytest.raises(AssertionError, match="loss_curve_"):
        assert_same_fit(twin, sk)


def test_accepts_the_avx2_rounding_and_rejects_a_real_error():
    """The reported case: -1.0161032e-04 vs -1.0159853e-04 in an array whose max is 0.5."""
    desired = np.array([[0.0894777, 0.5013202, 0.1146303, 0.3152217, -1.0159853e-04]],
                       dtype=np.float32)
    actual = desired.copy()
    actual[0, 4] = np.float32(-1.0161032e-04)
    with pytest.raises(AssertionError):  # rtol alone, as before
        assert_close(actual, desired, k=0)
    assert_close(actual, desired, k=92)
    for k in (92, 400):  # even a budget four times larger rejects 1e-4 of the scale
        wrong = desired.copy()
        wrong[0, 4] += np.float32(1e-4 * 0.5)
        with pytest.raises(AssertionError):
            assert_close(wrong, desired, k=k)


def test_non_finite_values_must_match():
    desired = np.array([1.0, np.inf, np.nan])
    assert_close(desired.copy(), desired, k=10)
    for wrong in ([np.nan, np.inf, np.nan], [1.0, 1e308, np.nan], [1.0, -np.inf, np.nan],
                  [1.0, np.inf, 0.0]):
        with pytest.raises(AssertionError, match="non-finite"):
            assert_close(np.array(wrong), desired, k=10)


def test_probabilities_absolute_term_is_k_eps():
    p = np.array([[1 - 2e-7, 2e-7], [0.5, 0.5]], dtype=np.float32)
    # the first column near 1 known to a few eps: fine
    close = p + np.array([[4 * EPS32, 4 * EPS32], [0, 0]], dtype=np.float32)
    assert_close_proba(close, p)
    # 1e-4 relative error on a probability of 0.5 is a genuine error in float32 ...
    wrong = p.copy()
    wrong[1] = [0.5 * (1 + 1.2e-4), 0.5 * (1 - 1.2e-4)]
    with pytest.raises(AssertionError, match="probabilities"):
        assert_close_proba(wrong, p)
    # ... and so is 1e-7 in float64
    p64 = p.astype(np.float64)
    with pytest.raises(AssertionError, match="probabilities"):
        assert_close_proba(p64 + np.array([[0, 0], [1e-7, -1e-7]]), p64)
    assert (K_PROBA + 1) * EPS32 < 1e-4 * 0.5 * 0.2  # the absolute term stays far below


def test_log_probabilities_carry_the_probability_tolerance():
    p = np.array([0.9, 0.1, 1e-6, 0.0])
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        # rounding of p near 1 (a few eps) shows in log p as a few eps: accepted
        assert_close_log_proba(np.log(p * (1 + 4e-16)), log_p)
        # -inf must stay -inf
        with pytest.raises(AssertionError, match="non-finite"):
            assert_close_log_proba(np.log(np.array([0.9, 0.1, 1e-6, 1e-300])), log_p)
    # a 1e-7 relative error in a probability of 1e-6 is not rounding in float64
    wrong = log_p.copy()
    wrong[2] += 1e-7
    with pytest.raises(AssertionError, match="log-probabilities"):
        assert_close_log_proba(wrong, log_p)


class _Stub:
    """A fitted binary classifier's predictions, for the label helpers."""

    out_activation_ = "logistic"
    n_outputs_ = 1

    def __init__(self, p1):
        self.p1 = np.asarray(p1, dtype=np.float32)

    def predict_proba(self, X):
        return np.c_[1 - self.p1, self.p1]

    def predict(self, X):
        return (self.p1 > 0.5).astype(np.int64)


def test_labels_may_differ_only_at_a_near_tie():
    sk = _Stub([0.9, 0.2, np.float32(0.5) + np.float32(2 * EPS32)])  # the last is a near-tie
    assert clear_decisions(sk, None).tolist() == [True, True, False]
    flipped_at_tie = _Stub([0.9, 0.2, np.float32(0.5) - np.float32(2 * EPS32)])
    assert_same_labels(flipped_at_tie, sk, None)
    flipped_clear = _Stub([0.9, 0.6, 0.5])
    with pytest.raises(AssertionError, match="labels differ"):
        assert_same_labels(flipped_clear, sk, None)


def test_regressor_predictions_reject_a_wrong_output(regression_data):
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    fn, sk, _ = fit_both(MLPRegressor, SkMLPRegressor, params, fit_procedure(X, y))
    assert_same_predictions(fn, sk, X)
    wrong = types.SimpleNamespace(predict=lambda X_: fn.predict(X_) * (1 + 1e-7))
    with pytest.raises(AssertionError, match="predict"):
        assert_same_predictions(wrong, sk, X)
