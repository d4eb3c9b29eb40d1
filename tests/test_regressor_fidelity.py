"""fastnet.MLPRegressor against its specification, sklearn.neural_network.MLPRegressor.

The claim under test: with the same ``random_state`` and hyperparameters fastnet
draws the same initial weights, the same validation split and the same per-epoch
shuffles as scikit-learn, so after training ``coefs_``, ``intercepts_``,
``loss_curve_``, ``loss_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_`` and ``t_`` equal scikit-learn's within rtol 1e-9 in
float64 (1e-4 in float32, against scikit-learn fed the same float32 X), and
``n_iter_`` is identical.  The same warnings (category and message) and the same
verbose lines must come out of both.

scikit-learn itself is the oracle: every test fits both estimators with identical
arguments and compares.  Where a test needs a situation to happen (a stop on tol,
a learning-rate division, an early stop that restores older weights), it first
asserts that the situation happens in scikit-learn, so the comparison is known to
exercise it.
"""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import fastnet
import _compare
from _compare import (STOCHASTIC_ONLY, assert_same_losses, categories, fit_procedure,
                      max_iter_warning, outcome, public_fitted)
from fastnet import MLPRegressor

RTOL64 = 1e-9
RTOL32 = 1e-4
RTOL_LBFGS_COEF = 1e-6
# float32 predictions are sums of O(1) terms: their rounding error is absolute
# (~1e-7), so an output that cancels to ~1e-3 can differ by more than rtol 1e-4.
PRED_ATOL32 = 1e-6




# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sample_weight(regression_data):
    """Non-uniform positive weights, one per row of the shared data."""
    X = regression_data[0]
    return np.random.RandomState(1).uniform(0.1, 3.0, X.shape[0])


@pytest.fixture(scope="module")
def y_counts(regression_data):
    """Non-negative targets for loss='poisson' (about half of them exactly 0)."""
    return np.maximum(regression_data[1], 0.0)


# ------------------------------------------------------------------ helpers
def fit_both(params, procedure):
    """:func:`_compare.fit_both` for MLPRegressor against scikit-learn's."""
    return _compare.fit_both(MLPRegressor, SkMLPRegressor, params, procedure)


def assert_same_fit(fn, sk, rtol=RTOL64, coef_rtol=None):
    """Everything a fit leaves behind, fastnet against scikit-learn."""
    coef_rtol = rtol if coef_rtol is None else coef_rtol
    assert fn.n_iter_ == sk.n_iter_
    assert fn.t_ == sk.t_
    assert fn.n_layers_ == sk.n_layers_
    assert fn.n_outputs_ == sk.n_outputs_
    assert fn.out_activation_ == sk.out_activation_
    assert fn.n_features_in_ == sk.n_features_in_
    assert len(fn.coefs_) == len(sk.coefs_)
    assert len(fn.intercepts_) == len(sk.intercepts_)
    for i, (a, b) in enumerate(zip(fn.coefs_ + fn.intercepts_, sk.coefs_ + sk.intercepts_)):
        assert a.shape == b.shape, f"parameter array {i}"
        assert a.dtype == b.dtype, f"parameter array {i}"
        assert_allclose(a, b, rtol=coef_rtol, atol=0, err_msg=f"parameter array {i}")
    assert_same_losses(fn, sk, rtol)
    if hasattr(sk, "_optimizer"):
        assert_allclose(fn._optimizer.learning_rate, sk._optimizer.learning_rate, rtol=rtol,
                        atol=0, err_msg="_optimizer.learning_rate")


# ------------------------------------------- optimizers and activations
_OPTIMIZERS = {
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "sgd-momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "sgd-no-momentum": dict(solver="sgd", momentum=0.0),
    "adam": dict(solver="adam"),
}


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("optimizer", list(_OPTIMIZERS))
def test_activation_and_optimizer(regression_data, activation, optimizer):
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(5, 3), activation=activation, max_iter=12,
                  batch_size=40, learning_rate_init=0.02, random_state=0,
                  **_OPTIMIZERS[optimizer])
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    assert recorded == [max_iter_warning(12)]
    assert_same_fit(fn, sk)


def test_adam_hyperparameters(regression_data):
    X, _, Y = regression_data
    params = dict(hidden_layer_sizes=(6,), beta_1=0.5, beta_2=0.9, epsilon=1e-3,
                  learning_rate_init=0.05, max_iter=10, batch_size=32, random_state=4)
    fn, sk, _ = fit_both(params, fit_procedure(X, Y))
    assert_same_fit(fn, sk)
    assert fn._optimizer.t == sk._optimizer.t == 10 * 5


# ------------------------------------------------------- learning rates
@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
def test_sgd_learning_rate_schedule(regression_data, schedule):
    X, y, _ = regression_data
    params = dict(solver="sgd", learning_rate=schedule, learning_rate_init=0.1, power_t=0.4,
                  hidden_layer_sizes=(5,), max_iter=15, batch_size=50, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    if schedule == "invscaling":
        expected = 0.1 / (sk.t_ + 1) ** 0.4
        assert sk._optimizer.learning_rate == pytest.approx(expected, rel=1e-12)
    assert_same_fit(fn, sk)


@pytest.mark.parametrize(
    "early_stopping, n_iter_no_change, max_iter",
    [(False, 1, 30), (False, 2, 9), (True, 1, 12)],
    ids=["until-too-small", "some-divisions", "early-stopping"],
)
def test_sgd_adaptive_learning_rate_divides(regression_data, early_stopping, n_iter_no_change,
                                            max_iter):
    X, y, _ = regression_data
    # tol far above any improvement: every epoch counts as "no improvement".
    params = dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.1, tol=10.0,
                  n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                  hidden_layer_sizes=(5,), max_iter=max_iter, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    assert sk._optimizer.learning_rate < 0.1 / 5 + 1e-15  # at least one division happened
    assert_same_fit(fn, sk)
    assert fn._optimizer.learning_rate == sk._optimizer.learning_rate


# -------------------------------------------------- batches and shuffles
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("batch_size", [1, 23, 50, 156, 157, "auto"])
def test_batch_size_and_shuffle(regression_data, shuffle, batch_size):
    X, y, _ = regression_data
    max_iter = 2 if batch_size == 1 else 8
    params = dict(batch_size=batch_size, shuffle=shuffle, hidden_layer_sizes=(4,),
                  learning_rate_init=0.01, solver="sgd", max_iter=max_iter, random_state=5)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    assert_same_fit(fn, sk)


def test_batch_size_larger_than_n_warns_and_clips(regression_data):
    X, y, _ = regression_data
    params = dict(batch_size=500, hidden_layer_sizes=(4,), learning_rate_init=0.01,
                  max_iter=6, random_state=2)
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    assert categories(recorded) == [UserWarning, ConvergenceWarning]
    assert "batch_size" in recorded[0][1]
    assert_same_fit(fn, sk)
    # Clipped to n: the same numbers as batch_size=n.
    clipped = MLPRegressor(**{**params, "batch_size": X.shape[0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clipped.fit(X, y)
    for a, b in zip(fn.coefs_ + fn.intercepts_, clipped.coefs_ + clipped.intercepts_):
        assert_allclose(a, b, rtol=RTOL64, atol=0)


# ------------------------------------------------------- stopping rules
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stops_on_tol_before_max_iter(regression_data, solver):
    X, y, _ = regression_data
    params = dict(solver=solver, tol=1e-2, n_iter_no_change=2, learning_rate_init=0.05,
                  hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    assert sk.n_iter_ < 30
    assert recorded == []  # no ConvergenceWarning when stopping on tol
    assert_same_fit(fn, sk)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_early_stopping_restores_best_weights(regression_data, solver):
    X, y, _ = regression_data
    params = dict(solver=solver, early_stopping=True, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(5,), max_iter=30,
                  validation_fraction=0.2, random_state=2)
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    # The situation under test: stopped early, and the best epoch is not the last one,
    # so the returned weights are an earlier epoch's.
    assert sk.n_iter_ < 30 and recorded == []
    assert int(np.argmax(sk.validation_scores_)) < sk.n_iter_ - 1
    assert_same_fit(fn, sk)
    assert len(fn.validation_scores_) == fn.n_iter_
    assert fn.best_validation_score_ == max(fn.validation_scores_)
    assert fn.best_loss_ is None


def test_early_stopping_validation_set_too_small(regression_data):
    X, y, _ = regression_data
    params = dict(early_stopping=True, validation_fraction=0.01, max_iter=3, random_state=0)
    fn = outcome(lambda: MLPRegressor(**params).fit(X[:50], y[:50]))
    sk = outcome(lambda: SkMLPRegressor(**params).fit(X[:50], y[:50]))
    assert sk[0] == "raised"
    assert fn == sk


# --------------------------------------------------------- sample weight
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sample_weight(regression_data, sample_weight, solver, early_stopping):
    X, y, _ = regression_data
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(5,), max_iter=15, batch_size=30,
                  random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y, sample_weight))
    assert_same_fit(fn, sk)
    # The weights matter (otherwise this test would not test them).
    unweighted = SkMLPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unweighted.fit(X, y)
    assert not np.allclose(unweighted.coefs_[0], sk.coefs_[0], rtol=1e-6, atol=0)


# ---------------------------------------------------- outputs and shapes
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_multi_output(regression_data, solver, early_stopping):
    X, _, Y = regression_data
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(6,), max_iter=15, batch_size=64,
                  random_state=3)
    fn, sk, _ = fit_both(params, fit_procedure(X, Y))
    assert fn.n_outputs_ == 3
    assert_same_fit(fn, sk)
    assert fn.predict(X).shape == sk.predict(X).shape == (X.shape[0], 3)


@pytest.mark.parametrize("hidden_layer_sizes", [(), (1,), (5, 3, 2), 4],
                         ids=["none", "one", "three-layers", "int"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_hidden_layer_sizes(regression_data, hidden_layer_sizes, solver):
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=hidden_layer_sizes, solver=solver, learning_rate_init=0.03,
                  max_iter=10, random_state=7)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    assert_same_fit(fn, sk)


@pytest.mark.parametrize("alpha", [0.0, 10.0])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_alpha(regression_data, alpha, solver):
    X, y, _ = regression_data
    params = dict(alpha=alpha, solver=solver, hidden_layer_sizes=(5,), learning_rate_init=0.05,
                  max_iter=10, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    if solver == "lbfgs":
        assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS_COEF)
    else:
        assert_same_fit(fn, sk)


# ------------------------------------------------------------- poisson
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_poisson_loss(regression_data, y_counts, solver):
    X = regression_data[0]
    assert (y_counts == 0).any() and (y_counts > 0).any()
    params = dict(loss="poisson", solver=solver, hidden_layer_sizes=(5,),
                  learning_rate_init=0.01, max_iter=20, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y_counts))
    assert fn.out_activation_ == "exp"
    coef_rtol = RTOL_LBFGS_COEF if solver == "lbfgs" else RTOL64
    assert_same_fit(fn, sk, coef_rtol=coef_rtol)
    assert_allclose(fn.predict(X), sk.predict(X), rtol=10 * coef_rtol, atol=0)


# ---------------------------------------------------------------- lbfgs
@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_layer_sizes=(5,), activation="relu", max_iter=30),
        dict(hidden_layer_sizes=(4, 2), activation="logistic", max_iter=20),
        dict(hidden_layer_sizes=(), activation="tanh", max_iter=200),  # converges
        dict(hidden_layer_sizes=(5,), activation="tanh", max_fun=7),  # hits max_fun
    ],
    ids=["relu", "logistic-2-layers", "converges", "max_fun"],
)
def test_lbfgs(regression_data, params):
    X, y, _ = regression_data
    params = dict(solver="lbfgs", random_state=0, **params)
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    if "max_fun" in params:
        assert categories(recorded) == [ConvergenceWarning]
        assert "F,G EVALUATIONS" in recorded[0][1]
    elif params["max_iter"] == 200:
        assert sk.n_iter_ < 200 and recorded == []
    else:
        assert categories(recorded) == [ConvergenceWarning]
    assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS_COEF)
    for name in STOCHASTIC_ONLY:
        assert not hasattr(sk, name)
        assert not hasattr(fn, name), name
    assert fn.t_ == sk.t_ == 0


def test_lbfgs_sample_weight_and_warm_start(regression_data, sample_weight):
    X, y, _ = regression_data
    params = dict(solver="lbfgs", hidden_layer_sizes=(5,), max_iter=10, random_state=0)

    def procedure(est):
        est.fit(X, y, sample_weight=sample_weight)
        return est.set_params(warm_start=True, max_iter=8).fit(X, y, sample_weight=sample_weight)

    fn, sk, recorded = fit_both(params, procedure)
    assert categories(recorded) == [ConvergenceWarning, ConvergenceWarning]
    assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS_COEF)


# ---------------------------------------------------------- partial_fit
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_sequence(regression_data, sample_weight, solver, shuffle):
    X, y, _ = regression_data
    chunks = [slice(0, 60), slice(60, None), slice(None), slice(None, None, 2)]
    params = dict(solver=solver, shuffle=shuffle, hidden_layer_sizes=(5,), batch_size=40,
                  learning_rate_init=0.02, random_state=0)

    def procedure(est):
        for chunk in chunks:
            est.partial_fit(X[chunk], y[chunk])
        est.partial_fit(X, y, sample_weight=sample_weight)
        return est

    fn, sk, recorded = fit_both(params, procedure)
    assert recorded == []
    assert sk.n_iter_ == 1 and len(sk.loss_curve_) == 5
    assert sk.t_ == 60 + 97 + 157 + 79 + 157
    assert_same_fit(fn, sk)
    if solver == "adam":
        assert fn._optimizer.t == sk._optimizer.t


def test_partial_fit_adaptive_learning_rate(regression_data):
    X, y, _ = regression_data
    params = dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                  hidden_layer_sizes=(5,), learning_rate_init=0.1, random_state=0)

    def procedure(est):
        for _ in range(5):
            est.partial_fit(X, y)
        return est

    fn, sk, _ = fit_both(params, procedure)
    assert sk._optimizer.learning_rate < 0.1 / 5 + 1e-15
    assert_same_fit(fn, sk)


def test_partial_fit_after_fit_keeps_optimizer(regression_data):
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=4, random_state=1)

    def procedure(est):
        est.fit(X, y)
        est.partial_fit(X[:100], y[:100])
        return est.partial_fit(X, y)

    fn, sk, _ = fit_both(params, procedure)
    assert sk._optimizer.t == 4 + 1 + 1
    assert_same_fit(fn, sk)


def test_partial_fit_with_early_stopping_raises(regression_data):
    X, y, _ = regression_data
    fn = outcome(lambda: MLPRegressor(early_stopping=True).partial_fit(X, y))
    sk = outcome(lambda: SkMLPRegressor(early_stopping=True).partial_fit(X, y))
    assert sk[0] == "raised"
    assert fn == sk


def test_partial_fit_with_lbfgs_runs_lbfgs_like_sklearn(regression_data):
    """scikit-learn's regressor keeps partial_fit for lbfgs (it runs lbfgs)."""
    X, y, _ = regression_data
    params = dict(solver="lbfgs", hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    assert hasattr(MLPRegressor(**params), "partial_fit") == hasattr(
        SkMLPRegressor(**params), "partial_fit")

    def procedure(est):
        return est.partial_fit(X, y)

    fn, sk, _ = fit_both(params, procedure)
    assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS_COEF)


# ----------------------------------------------------------- warm_start
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_warm_start_continues_weights_and_restarts_optimizer(regression_data, solver,
                                                             early_stopping):
    X, y, _ = regression_data
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=50,
                  hidden_layer_sizes=(5,), batch_size=50, learning_rate_init=0.02, max_iter=5,
                  random_state=0)

    def procedure(est):
        est.fit(X, y)
        return est.set_params(warm_start=True, max_iter=8).fit(X, y)

    fn, sk, recorded = fit_both(params, procedure)
    assert recorded == [max_iter_warning(5), max_iter_warning(8)]
    assert sk.n_iter_ == 8 and len(sk.loss_curve_) == 13
    n_train = X.shape[0] - (int(np.ceil(0.1 * X.shape[0])) if early_stopping else 0)
    assert sk.t_ == 13 * n_train
    assert_same_fit(fn, sk)
    if solver == "adam":
        # restarted: only the second fit's steps
        assert fn._optimizer.t == sk._optimizer.t == 8 * int(np.ceil(n_train / 50))


def test_warm_start_early_stopping_without_improvement(regression_data):
    """A warm-started fit whose validation score never beats the first fit's best.

    Deliberate difference (README, "Deliberate differences"): fastnet restores the
    best validated weights seen across warm-started fits.  scikit-learn's
    ``_best_coefs`` are, after an early-stopping fit, the very arrays ``coefs_``
    holds, so its second fit updates them in place and it returns the second
    fit's last weights instead.  Everything else (scores, counters) matches.
    """
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(5,), early_stopping=True, n_iter_no_change=3,
                  learning_rate_init=0.01, max_iter=30, random_state=0)
    best_after_first_fit = {}

    def procedure(est):
        est.fit(X, y)
        best_after_first_fit[type(est).__module__] = est.predict(X)
        return est.set_params(warm_start=True, learning_rate_init=0.5, max_iter=6).fit(X, y)

    fn, sk, _ = fit_both(params, procedure)
    first_fit_best = max(sk.validation_scores_[:-sk.n_iter_])
    assert max(sk.validation_scores_[-sk.n_iter_:]) < first_fit_best  # no improvement
    assert fn.n_iter_ == sk.n_iter_
    assert_allclose(fn.validation_scores_, sk.validation_scores_, rtol=RTOL64, atol=0)
    assert fn.best_validation_score_ == first_fit_best
    # fastnet hands back the weights that scored best_validation_score_ ...
    assert_allclose(fn.predict(X), best_after_first_fit["fastnet.estimators"], rtol=0, atol=0)
    # ... which is not what the second fit ended with.
    assert not np.allclose(fn.predict(X), sk.predict(X))


def test_random_state_instance_continues_stream(regression_data):
    """A RandomState instance is shared across fits: the second fit draws new numbers."""
    X, y, _ = regression_data

    def procedure(est):
        est.set_params(random_state=np.random.RandomState(3))
        first = [c.copy() for c in est.fit(X, y).coefs_]
        est.fit(X, y)
        assert not np.allclose(first[0], est.coefs_[0])
        return est

    fn, sk, _ = fit_both(dict(hidden_layer_sizes=(5,), max_iter=4, learning_rate_init=0.01),
                         procedure)
    assert_same_fit(fn, sk)


# -------------------------------------------------------------- float32
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("weighted", [False, True])
def test_float32(regression_data, sample_weight, solver, weighted):
    X, y, _ = regression_data
    X32 = X.astype(np.float32)
    sw = sample_weight if weighted else None
    params = dict(solver=solver, hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10,
                  batch_size=50, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X32, y, sw))
    for arr in fn.coefs_ + fn.intercepts_:
        assert arr.dtype == np.float32
    assert_same_fit(fn, sk, rtol=RTOL32)
    fn_pred, sk_pred = fn.predict(X32), sk.predict(X32)
    assert fn_pred.dtype == sk_pred.dtype == np.float32
    assert_allclose(fn_pred, sk_pred, rtol=RTOL32, atol=PRED_ATOL32)


def test_float32_partial_fit(regression_data):
    X, y, _ = regression_data
    X32 = X.astype(np.float32)
    params = dict(solver="sgd", hidden_layer_sizes=(5,), learning_rate_init=0.05, random_state=0)

    def procedure(est):
        for _ in range(4):
            est.partial_fit(X32, y)
        return est

    fn, sk, _ = fit_both(params, procedure)
    assert fn.coefs_[0].dtype == np.float32
    assert_same_fit(fn, sk, rtol=RTOL32)


def test_float32_model_predicts_float64_input_in_float32(regression_data):
    """A float32-trained model given float64 X predicts in float32.

    Deliberate difference (README): scikit-learn mixes dtypes and returns float64;
    fastnet keeps the model's dtype (one compiled kernel per dtype, float32 speed).
    The values still agree with scikit-learn's to float32 precision.
    """
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=5, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X.astype(np.float32), y))
    sk_pred = sk.predict(X)
    fn_pred = fn.predict(X)
    assert fn_pred.dtype == np.float32
    assert_allclose(fn_pred, sk_pred, rtol=RTOL32, atol=PRED_ATOL32)
    assert_array_equal(fn_pred, fn.predict(X.astype(np.float32)))


# -------------------------------------------------------------- verbose
@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(solver="adam", max_iter=5),
         ["Iteration 1, loss = ", "Iteration 5, loss = "]),
        (dict(solver="adam", early_stopping=True, n_iter_no_change=3, learning_rate_init=0.05,
              validation_fraction=0.2, max_iter=30),
         ["Validation score: ", "Validation score did not improve more than tol=0.000100 "
          "for 3 consecutive epochs. Stopping."]),
        (dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
              learning_rate_init=0.1, max_iter=30),
         ["Setting learning rate to 0.020000", "Learning rate too small. Stopping."]),
        (dict(solver="sgd", tol=1e-2, n_iter_no_change=2, learning_rate_init=0.05, max_iter=30),
         ["Training loss did not improve more than tol=0.010000 for 2 consecutive epochs. "
          "Stopping."]),
    ],
    ids=["iterations", "early-stopping", "adaptive", "tol"],
)
def test_verbose_output_identical(regression_data, capsys, params, expected):
    X, y, _ = regression_data
    params = dict(verbose=True, hidden_layer_sizes=(5,), random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        capsys.readouterr()
        MLPRegressor(**params).fit(X, y)
        fn_out = capsys.readouterr().out
        SkMLPRegressor(**params).fit(X, y)
        sk_out = capsys.readouterr().out
    for fragment in expected:
        assert fragment in sk_out
    assert fn_out.splitlines() == sk_out.splitlines()


# --------------------------------------------------- predict, score, input
@pytest.mark.parametrize("target", ["y", "Y"])
def test_predict_and_score(regression_data, sample_weight, target):
    X, y, Y = regression_data
    t = y if target == "y" else Y
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, t))
    X_new = np.random.RandomState(9).randn(20, X.shape[1])
    fn_pred, sk_pred = fn.predict(X_new), sk.predict(X_new)
    assert fn_pred.shape == sk_pred.shape and fn_pred.dtype == sk_pred.dtype
    assert_allclose(fn_pred, sk_pred, rtol=RTOL64, atol=0)
    assert_allclose(fn.score(X, t), sk.score(X, t), rtol=RTOL64, atol=0)
    assert_allclose(fn.score(X, t, sample_weight=sample_weight),
                    sk.score(X, t, sample_weight=sample_weight), rtol=RTOL64, atol=0)


def test_sparse_input(regression_data):
    X, y, _ = regression_data
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=6, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X_sparse, y))
    assert_same_fit(fn, sk)
    assert_allclose(fn.predict(X_sparse), sk.predict(X_sparse), rtol=RTOL64, atol=0)


def test_dataframe_feature_names(regression_data):
    X, y, _ = regression_data
    columns = ["visitors", "temperature", "c", "d", "e", "f"]
    df = pd.DataFrame(X, columns=columns)
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(df, y))
    assert_same_fit(fn, sk)
    assert list(fn.feature_names_in_) == list(sk.feature_names_in_) == columns
    assert fn.feature_names_in_.dtype == sk.feature_names_in_.dtype

    # Same columns, same order: no warning, same predictions.
    same = (outcome(lambda: fn.predict(df)), outcome(lambda: sk.predict(df)))
    assert same[0][0] == same[1][0] == "returned"
    assert same[0][2] == same[1][2] == []
    assert_allclose(same[0][1], same[1][1], rtol=RTOL64, atol=0)

    # Columns reordered: scikit-learn raises; fastnet must raise the same.
    reordered = df[columns[::-1]]
    fn_outcome = outcome(lambda: fn.predict(reordered))
    sk_outcome = outcome(lambda: sk.predict(reordered))
    assert sk_outcome[0] == "raised"
    assert fn_outcome == sk_outcome

    # No names at predict: the same UserWarning.
    fn_outcome = outcome(lambda: fn.predict(X))
    sk_outcome = outcome(lambda: sk.predict(X))
    assert sk_outcome[0] == fn_outcome[0] == "returned"
    assert sk_outcome[2] and fn_outcome[2] == sk_outcome[2]


# ------------------------------------------------------------ API parity
def test_signature_matches_sklearn():
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert described(MLPRegressor) == described(SkMLPRegressor)
    assert fastnet.MLPRegressor is MLPRegressor


def test_default_params_match_sklearn():
    assert MLPRegressor().get_params() == SkMLPRegressor().get_params()


def test_clone_preserves_params(regression_data):
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(7, 2), activation="tanh", solver="sgd", alpha=0.3,
                  batch_size=33, learning_rate="invscaling", power_t=0.3, max_iter=5,
                  random_state=11, momentum=0.5, nesterovs_momentum=False)
    original = MLPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        original.fit(X, y)
    copy = clone(original)
    assert type(copy) is MLPRegressor
    assert copy.get_params() == original.get_params() == SkMLPRegressor(**params).get_params()
    assert not hasattr(copy, "coefs_")
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        copy.fit(X, y)
    assert_same_fit(copy, sk)


@pytest.mark.parametrize(
    "params",
    [dict(solver="adam"), dict(solver="sgd", early_stopping=True), dict(solver="lbfgs")],
    ids=["adam", "sgd-early-stopping", "lbfgs"],
)
def test_public_fitted_attributes_match(regression_data, params):
    X, y, _ = regression_data
    params = dict(hidden_layer_sizes=(4,), max_iter=5, random_state=0, **params)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    assert public_fitted(fn) == public_fitted(sk)
    assert {"coefs_", "intercepts_", "n_iter_", "loss_"} <= public_fitted(sk)
