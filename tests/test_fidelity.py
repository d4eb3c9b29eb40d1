"""fastnet's estimators against their specification, scikit-learn's: what both share.

Every test here runs for ``MLPRegressor`` and ``MLPClassifier`` (parametrized over
the estimator pair, as scikit-learn's own ``test_mlp.py`` parametrizes over
``MLPEstimator``); what only one of them has lives in ``test_regressor_fidelity.py``
and ``test_classifier_fidelity.py``.

The claim under test: with the same ``random_state`` and hyperparameters fastnet
draws the same initial weights, the same validation split and the same per-epoch
shuffles as scikit-learn, so after training ``coefs_``, ``intercepts_``,
``loss_curve_``, ``loss_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_`` agree within rtol 1e-9 in float64 (weights 1e-6 for
lbfgs; 1e-4 in float32, against scikit-learn fed the same float32 X) plus the
rounding budget of ``_compare`` (its docstring derives it), and ``n_iter_`` and
``t_`` are identical.  The same warnings (category and message) and the same
verbose lines must come out of both.

scikit-learn itself is the oracle: every test fits both estimators with identical
arguments and compares.  Where a test needs a situation to happen (a stop on tol,
a learning-rate division, an early stop that restores older weights), it first
asserts that the situation happens in scikit-learn, so the comparison is known to
exercise it.
"""

import inspect

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

import fastnet
import _compare
from _compare import (BEYOND_SKLEARN_ATTRIBUTES, BEYOND_SKLEARN_PARAMS, PAIRS, STOCHASTIC_ONLY,
                      assert_close, assert_same_fit,
                      assert_same_predictions, assert_same_value, categories, clear_decisions,
                      fit_procedure, k_loss, k_predict, max_iter_warning, outcome, public_fitted,
                      quiet_fit, sample_weights, sklearn_params_and_ours)

ESTIMATORS = list(PAIRS)
DEFAULT_TARGET = {"regressor": "y", "classifier": "multiclass"}
CLF_TARGETS = ["binary", "bool", "multiclass", "string", "multilabel"]

per_estimator = pytest.mark.parametrize("estimator", ESTIMATORS)


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def data(regression_data):
    """estimator name -> (X, {target name: y})."""
    X, y, Y = regression_data
    return {"regressor": (X, {"y": y, "Y": Y}), "classifier": _compare.classification_data()}


def Xy(data, estimator, target=None):
    X, targets = data[estimator]
    return X, targets[target or DEFAULT_TARGET[estimator]]


def over(regressor, classifier):
    """(estimator, target) parameters: the targets each estimator is tested on."""
    return [pytest.param(name, target, id=f"{name}-{target}")
            for name, targets in (("regressor", regressor), ("classifier", classifier))
            for target in targets]


def fit_both(estimator, params, procedure):
    """:func:`_compare.fit_both` for the named estimator pair."""
    return _compare.fit_both(*PAIRS[estimator], params, procedure)


def partial_fit(est, X, y, classes, **kwargs):
    """``est.partial_fit``; a classifier's first call gets ``classes``."""
    if is_classifier(est) and not hasattr(est, "classes_"):
        kwargs["classes"] = classes
    return est.partial_fit(X, y, **kwargs)


def n_rows(X):
    return X.shape[0]


# ------------------------------------------- optimizers and activations
_OPTIMIZERS = {
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "sgd-momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "sgd-no-momentum": dict(solver="sgd", momentum=0.0),
    "adam": dict(solver="adam"),
    "lbfgs": dict(solver="lbfgs"),
}


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("optimizer", list(_OPTIMIZERS))
@per_estimator
def test_activation_and_optimizer(data, estimator, activation, optimizer):
    X, y = Xy(data, estimator)
    params = dict(hidden_layer_sizes=(5, 3), activation=activation, max_iter=12,
                  batch_size=40, learning_rate_init=0.02, random_state=0,
                  **_OPTIMIZERS[optimizer])
    fn, sk, recorded = fit_both(estimator, params, fit_procedure(X, y))
    if optimizer == "lbfgs":
        assert categories(recorded) == [ConvergenceWarning]
    else:
        assert recorded == [max_iter_warning(12)]
    assert_same_fit(fn, sk, n_rows(X))
    assert_same_predictions(fn, sk, X, n_rows(X))


@pytest.mark.parametrize("estimator, target", over(["Y"], ["multiclass", "multilabel"]))
def test_adam_hyperparameters(data, estimator, target):
    X, y = Xy(data, estimator, target)
    params = dict(hidden_layer_sizes=(6,), beta_1=0.5, beta_2=0.9, epsilon=1e-3,
                  learning_rate_init=0.05, max_iter=10, batch_size=32, random_state=4)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    assert_same_fit(fn, sk)
    n_batches = int(np.ceil(n_rows(X) / 32))
    assert fn._optimizer.t == sk._optimizer.t == 10 * n_batches


# ------------------------------------------------------- learning rates
@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
@per_estimator
def test_sgd_learning_rate_schedule(data, estimator, schedule):
    X, y = Xy(data, estimator)
    params = dict(solver="sgd", learning_rate=schedule, learning_rate_init=0.1, power_t=0.4,
                  hidden_layer_sizes=(5,), max_iter=15, batch_size=50, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    if schedule == "invscaling":
        expected = 0.1 / (sk.t_ + 1) ** 0.4
        assert sk._optimizer.learning_rate == pytest.approx(expected, rel=1e-12)
    assert_same_fit(fn, sk)


@pytest.mark.parametrize("nesterovs_momentum", [True, False])
@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("estimator, target", over(["y"], ["string"]))
def test_sgd_variants(data, estimator, target, schedule, nesterovs_momentum):
    X, y = Xy(data, estimator, target)
    params = dict(solver="sgd", learning_rate=schedule, nesterovs_momentum=nesterovs_momentum,
                  learning_rate_init=0.2, tol=0.05, n_iter_no_change=1,
                  hidden_layer_sizes=(5,), max_iter=15, batch_size=50, random_state=2)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    if schedule != "constant":  # the schedule acted: the rate moved
        assert sk._optimizer.learning_rate < 0.2
    assert_same_fit(fn, sk)  # the learning rate included
    assert_same_predictions(fn, sk, X)


@pytest.mark.parametrize(
    "early_stopping, n_iter_no_change, max_iter",
    [(False, 1, 30), (False, 2, 9), (True, 1, 12)],
    ids=["until-too-small", "some-divisions", "early-stopping"],
)
@per_estimator
def test_sgd_adaptive_learning_rate_divides(data, estimator, early_stopping, n_iter_no_change,
                                            max_iter):
    X, y = Xy(data, estimator)
    # tol far above any improvement: every epoch counts as "no improvement".
    params = dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.1, tol=10.0,
                  n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                  hidden_layer_sizes=(5,), max_iter=max_iter, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    assert sk._optimizer.learning_rate < 0.1 / 5 + 1e-15  # at least one division happened
    assert_same_fit(fn, sk)
    assert fn._optimizer.learning_rate == sk._optimizer.learning_rate


# -------------------------------------------------- batches and shuffles
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("batch_size", [1, 23, 50, "n-1", "n", "auto"])
@per_estimator
def test_batch_size_and_shuffle(data, estimator, shuffle, batch_size):
    X, y = Xy(data, estimator)
    batch_size = {"n-1": n_rows(X) - 1, "n": n_rows(X)}.get(batch_size, batch_size)
    max_iter = 2 if batch_size == 1 else 8
    params = dict(batch_size=batch_size, shuffle=shuffle, hidden_layer_sizes=(4,),
                  learning_rate_init=0.01, solver="sgd", max_iter=max_iter, random_state=5)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    assert_same_fit(fn, sk)


@per_estimator
def test_batch_size_larger_than_n_warns_and_clips(data, estimator):
    X, y = Xy(data, estimator)
    params = dict(batch_size=500, hidden_layer_sizes=(4,), learning_rate_init=0.01,
                  max_iter=6, random_state=2)
    fn, sk, recorded = fit_both(estimator, params, fit_procedure(X, y))
    assert categories(recorded) == [UserWarning, ConvergenceWarning]
    assert "batch_size" in recorded[0][1]
    assert_same_fit(fn, sk)
    # Clipped to n: the same numbers as batch_size=n (fastnet against itself: exactly).
    clipped = quiet_fit(PAIRS[estimator][0](**{**params, "batch_size": n_rows(X)}), X, y)
    for a, b in zip(fn.coefs_ + fn.intercepts_, clipped.coefs_ + clipped.intercepts_):
        assert_array_equal(a, b)


# ------------------------------------------------------- stopping rules
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@per_estimator
def test_stops_on_tol_before_max_iter(data, estimator, solver):
    X, y = Xy(data, estimator)
    params = dict(solver=solver, tol=1e-2, n_iter_no_change=2, learning_rate_init=0.05,
                  hidden_layer_sizes=(5,), max_iter=40, random_state=0)
    fn, sk, recorded = fit_both(estimator, params, fit_procedure(X, y))
    assert sk.n_iter_ < 40
    assert recorded == []  # no ConvergenceWarning when stopping on tol
    assert_same_fit(fn, sk)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@per_estimator
def test_early_stopping_restores_best_weights(data, estimator, solver):
    X, y = Xy(data, estimator)
    params = dict(solver=solver, early_stopping=True, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(5,), max_iter=30,
                  validation_fraction=0.2, random_state=2)
    fn, sk, recorded = fit_both(estimator, params, fit_procedure(X, y))
    # The situation under test: stopped early, and the best epoch is not the last one,
    # so the returned weights are an earlier epoch's.
    assert sk.n_iter_ < 30 and recorded == []
    assert int(np.argmax(sk.validation_scores_)) < sk.n_iter_ - 1
    assert_same_fit(fn, sk)
    assert len(fn.validation_scores_) == fn.n_iter_
    assert fn.best_validation_score_ == max(fn.validation_scores_)
    assert fn.best_loss_ is None
    assert_same_predictions(fn, sk, X)


@pytest.mark.parametrize("estimator, target", over(["y"], ["binary", "multiclass"]))
def test_early_stopping_validation_set_too_small(data, estimator, target):
    """One validation row: too small a set -- or, stratified (binary), fewer rows than
    classes."""
    X, y = Xy(data, estimator, target)
    params = dict(early_stopping=True, validation_fraction=0.01, max_iter=3, random_state=0)
    fast_cls, sk_cls = PAIRS[estimator]
    fn = outcome(lambda: fast_cls(**params).fit(X[:50], y[:50]))
    sk = outcome(lambda: sk_cls(**params).fit(X[:50], y[:50]))
    assert sk[0] == "raised"
    assert fn == sk


# --------------------------------------------------------- sample weight
@pytest.mark.parametrize(
    "solver, early_stopping",
    [("sgd", False), ("adam", False), ("lbfgs", False), ("sgd", True), ("adam", True)],
)
@pytest.mark.parametrize("estimator, target",
                         over(["y"], ["binary", "multiclass", "multilabel"]))
def test_sample_weight(data, estimator, target, solver, early_stopping):
    X, y = Xy(data, estimator, target)
    sw = sample_weights(n_rows(X))
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(5,), max_iter=12, batch_size=30,
                  random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y, sw))
    assert_same_fit(fn, sk, n_rows(X))
    assert_same_predictions(fn, sk, X, n_rows(X))
    # The weights matter (otherwise this test would not test them).
    unweighted = quiet_fit(PAIRS[estimator][1](**params), X, y)
    # By far more than rounding: 1e-3 of the largest weight, where ulps are ~1e-16 of it.
    gap = np.abs(unweighted.coefs_[0] - sk.coefs_[0]).max()
    assert gap > 1e-3 * np.abs(sk.coefs_[0]).max()


# ---------------------------------------------------- layers and alpha
@pytest.mark.parametrize("hidden_layer_sizes", [(), (1,), (5, 3, 2), 4],
                         ids=["none", "one", "three-layers", "int"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@per_estimator
def test_hidden_layer_sizes(data, estimator, hidden_layer_sizes, solver):
    X, y = Xy(data, estimator)
    params = dict(hidden_layer_sizes=hidden_layer_sizes, solver=solver, learning_rate_init=0.03,
                  max_iter=10, random_state=7)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    assert_same_fit(fn, sk)


@pytest.mark.parametrize("alpha", [0.0, 10.0])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@per_estimator
def test_alpha(data, estimator, alpha, solver):
    X, y = Xy(data, estimator)
    params = dict(alpha=alpha, solver=solver, hidden_layer_sizes=(5,), learning_rate_init=0.05,
                  max_iter=10, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    assert_same_fit(fn, sk, n_rows(X))


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
@per_estimator
def test_lbfgs(data, estimator, params):
    X, y = Xy(data, estimator)
    params = dict(solver="lbfgs", random_state=0, **params)
    fn, sk, recorded = fit_both(estimator, params, fit_procedure(X, y))
    if "max_fun" in params:
        assert categories(recorded) == [ConvergenceWarning]
        assert "F,G EVALUATIONS" in recorded[0][1]
    elif params["max_iter"] == 200:
        assert sk.n_iter_ < 200 and recorded == []
    else:
        assert categories(recorded) == [ConvergenceWarning]
    assert_same_fit(fn, sk, n_rows(X))
    for name in STOCHASTIC_ONLY:
        assert not hasattr(sk, name)
        assert not hasattr(fn, name), name
    assert fn.t_ == sk.t_ == 0


@per_estimator
def test_lbfgs_sample_weight_and_warm_start(data, estimator):
    X, y = Xy(data, estimator)
    sw = sample_weights(n_rows(X))
    params = dict(solver="lbfgs", hidden_layer_sizes=(5,), max_iter=10, random_state=0)

    def procedure(est):
        est.fit(X, y, sample_weight=sw)
        return est.set_params(warm_start=True, max_iter=8).fit(X, y, sample_weight=sw)

    fn, sk, recorded = fit_both(estimator, params, procedure)
    assert categories(recorded) == [ConvergenceWarning, ConvergenceWarning]
    assert_same_fit(fn, sk, n_rows(X))


# ---------------------------------------------------------- partial_fit
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@per_estimator
def test_partial_fit_sequence(data, estimator, solver, shuffle):
    X, y = Xy(data, estimator)
    sw = sample_weights(n_rows(X))
    chunks = [slice(0, 60), slice(60, None), slice(None), slice(None, None, 2)]
    params = dict(solver=solver, shuffle=shuffle, hidden_layer_sizes=(5,), batch_size=40,
                  learning_rate_init=0.02, random_state=0)

    def procedure(est):
        for chunk in chunks:
            partial_fit(est, X[chunk], y[chunk], np.unique(y))
        return est.partial_fit(X, y, sample_weight=sw)

    fn, sk, recorded = fit_both(estimator, params, procedure)
    assert recorded == []
    n = n_rows(X)
    assert sk.n_iter_ == 1 and len(sk.loss_curve_) == 5
    assert sk.t_ == 60 + (n - 60) + n + (n + 1) // 2 + n
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)
    if solver == "adam":
        assert fn._optimizer.t == sk._optimizer.t


@per_estimator
def test_partial_fit_adaptive_learning_rate(data, estimator):
    X, y = Xy(data, estimator)
    params = dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                  hidden_layer_sizes=(5,), learning_rate_init=0.1, random_state=0)

    def procedure(est):
        for _ in range(5):
            partial_fit(est, X, y, np.unique(y))
        return est

    fn, sk, _ = fit_both(estimator, params, procedure)
    assert sk._optimizer.learning_rate < 0.1 / 5 + 1e-15
    assert_same_fit(fn, sk)


@pytest.mark.parametrize("estimator, target", over(["y"], ["string"]))
def test_partial_fit_after_fit_keeps_optimizer(data, estimator, target):
    X, y = Xy(data, estimator, target)
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=4, random_state=1)

    def procedure(est):
        est.fit(X, y)
        est.partial_fit(X[:100], y[:100])
        return est.partial_fit(X, y)

    fn, sk, _ = fit_both(estimator, params, procedure)
    assert sk._optimizer.t == 4 + 1 + 1
    assert_same_fit(fn, sk)


@per_estimator
def test_partial_fit_with_early_stopping_raises(data, estimator):
    X, y = Xy(data, estimator)
    fast_cls, sk_cls = PAIRS[estimator]
    fn = outcome(lambda: partial_fit(fast_cls(early_stopping=True), X, y, np.unique(y)))
    sk = outcome(lambda: partial_fit(sk_cls(early_stopping=True), X, y, np.unique(y)))
    assert sk[0] == "raised"
    assert fn == sk


# ----------------------------------------------------------- warm_start
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("estimator, target", over(["y"], ["binary"]))
def test_warm_start_continues_weights_and_restarts_optimizer(data, estimator, target, solver,
                                                             early_stopping):
    X, y = Xy(data, estimator, target)
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=50,
                  hidden_layer_sizes=(5,), batch_size=50, learning_rate_init=0.02, max_iter=5,
                  random_state=0)

    def procedure(est):
        est.fit(X, y)
        return est.set_params(warm_start=True, max_iter=8).fit(X, y)

    fn, sk, recorded = fit_both(estimator, params, procedure)
    assert recorded == [max_iter_warning(5), max_iter_warning(8)]
    assert sk.n_iter_ == 8 and len(sk.loss_curve_) == 13
    n_train = n_rows(X) - (int(np.ceil(0.1 * n_rows(X))) if early_stopping else 0)
    assert sk.t_ == 13 * n_train
    if early_stopping:
        # The second fit beats the first one's best score, so both libraries end with
        # its best weights (otherwise: test_warm_start_early_stopping_without_improvement).
        assert max(sk.validation_scores_[5:]) > max(sk.validation_scores_[:5])
    assert_same_fit(fn, sk)
    if solver == "adam":
        # restarted: only the second fit's steps
        assert fn._optimizer.t == sk._optimizer.t == 8 * int(np.ceil(n_train / 50))


def _output(est, X):
    """What the network computes: ``predict_proba`` of a classifier, ``predict`` otherwise."""
    return est.predict_proba(X) if is_classifier(est) else est.predict(X)


@per_estimator
def test_warm_start_early_stopping_without_improvement(data, estimator):
    """A warm-started fit whose validation score never beats the first fit's best.

    Deliberate difference (README, "Deliberate differences"): fastnet restores the
    best validated weights seen across warm-started fits.  scikit-learn's
    ``_best_coefs`` are, after an early-stopping fit, the very arrays ``coefs_``
    holds, so its second fit updates them in place and it returns the second
    fit's last weights instead.  Everything else (scores, counters) matches.
    """
    X, y = Xy(data, estimator)
    params = dict(hidden_layer_sizes=(5,), early_stopping=True, n_iter_no_change=3,
                  learning_rate_init=0.01, max_iter=30, random_state=0)
    best_after_first_fit = {}

    def procedure(est):
        est.fit(X, y)
        best_after_first_fit[type(est).__module__] = _output(est, X)
        return est.set_params(warm_start=True, learning_rate_init=0.5, max_iter=6).fit(X, y)

    fn, sk, _ = fit_both(estimator, params, procedure)
    first_fit_best = max(sk.validation_scores_[:-sk.n_iter_])
    assert max(sk.validation_scores_[-sk.n_iter_:]) <= first_fit_best  # no improvement
    assert fn.n_iter_ == sk.n_iter_
    score = dict(k=k_loss(sk), dtype=np.float64, scale=1.0)
    assert_same_value("validation_scores_", fn.validation_scores_, sk.validation_scores_,
                      **score)
    assert fn.best_validation_score_ == max(fn.validation_scores_[:-fn.n_iter_])
    assert_same_value("best_validation_score_", fn.best_validation_score_, first_fit_best,
                      **score)
    # fastnet hands back the weights that scored best_validation_score_ ...
    assert_array_equal(_output(fn, X), best_after_first_fit["fastnet.estimators"])
    # ... which is not what the second fit ended with.
    assert not np.allclose(_output(fn, X), _output(sk, X))


@per_estimator
def test_random_state_instance_continues_stream(data, estimator):
    """A RandomState instance is shared across fits: the second fit draws new numbers.

    batch_size=20 gives 8 mini-batches per epoch, so the order each epoch's shuffle
    gives the rows shows in the weights (with one batch of all rows it would not), and
    the second fit's initial weights show where the first fit left the stream.
    """
    X, y = Xy(data, estimator)
    params = dict(hidden_layer_sizes=(5,), max_iter=4, batch_size=20, learning_rate_init=0.01)
    assert n_rows(X) > 7 * 20

    def procedure(est):
        est.set_params(random_state=np.random.RandomState(3))
        first = [c.copy() for c in est.fit(X, y).coefs_]
        est.fit(X, y)
        assert not np.allclose(first[0], est.coefs_[0])
        return est

    fn, sk, _ = fit_both(estimator, params, procedure)
    assert_same_fit(fn, sk)
    # Not vacuous: with 8 batches an epoch the order of the rows shows in the weights
    # (with one batch of n rows it would not) ...
    sk_cls = PAIRS[estimator][1]

    def sk_fit(random_state, **extra):
        return quiet_fit(sk_cls(**{**params, "random_state": random_state, **extra}), X, y)

    shuffled = sk_fit(np.random.RandomState(3))
    unshuffled = sk_fit(np.random.RandomState(3), shuffle=False)
    # A real difference, at 1e-3 of the weights' scale (not ulps of a near-zero weight).
    assert _differ(shuffled.coefs_[-1], unshuffled.coefs_[-1])
    one_batch = [sk_fit(np.random.RandomState(3), shuffle=shuffle, batch_size=n_rows(X))
                 for shuffle in (True, False)]
    # The same sums of the same rows in another order: equal to rounding, relative to the
    # weights' scale (a weight near zero carries the scale's rounding, not its own).
    ref = one_batch[1].coefs_[-1]
    assert np.allclose(one_batch[0].coefs_[-1], ref, rtol=1e-6,
                       atol=1e-6 * np.max(np.abs(ref)))
    # ... and one draw more between the two fits moves the second one.
    stream = np.random.RandomState(3)
    sk_fit(stream)
    stream.random_sample()
    moved = sk_fit(stream)
    assert _differ(moved.coefs_[-1], sk.coefs_[-1])


def _differ(a, b):
    """Whether two weight arrays differ by more than 1e-3 of their scale somewhere."""
    return np.max(np.abs(a - b)) > 1e-3 * np.max(np.abs(b))


# -------------------------------------------------------------- float32
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("estimator, target",
                         over(["y"], ["binary", "multiclass", "multilabel"]))
def test_float32(data, estimator, target, solver, weighted):
    X, y = Xy(data, estimator, target)
    X32 = X.astype(np.float32)
    sw = sample_weights(n_rows(X)) if weighted else None
    params = dict(solver=solver, hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10,
                  batch_size=50, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X32, y, sw))
    for arr in fn.coefs_ + fn.intercepts_:
        assert arr.dtype == np.float32
    # n_iter_ == max_iter by construction (n_iter_no_change=10 cannot trip in 10
    # epochs), so its exact comparison depends on no rounding.
    assert sk.n_iter_ == 10
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X32)  # labels where the decision is clear
    pred = fn.predict_proba(X32) if is_classifier(fn) else fn.predict(X32)
    assert pred.dtype == np.float32


@pytest.mark.parametrize("estimator, target", over(["y"], ["string"]))
def test_float32_partial_fit(data, estimator, target):
    X, y = Xy(data, estimator, target)
    X32 = X.astype(np.float32)
    params = dict(solver="sgd", hidden_layer_sizes=(5,), learning_rate_init=0.05, random_state=0)

    def procedure(est):
        for _ in range(4):
            partial_fit(est, X32, y, np.unique(y))
        return est

    fn, sk, _ = fit_both(estimator, params, procedure)
    assert fn.coefs_[0].dtype == np.float32
    assert_same_fit(fn, sk)


@per_estimator
def test_float32_model_predicts_float64_input_in_float32(data, estimator):
    """A float32-trained model given float64 X predicts in float32.

    Deliberate difference (README): scikit-learn mixes dtypes and returns float64;
    fastnet keeps the model's dtype (one compiled kernel per dtype, float32 speed).
    The values still agree with scikit-learn's to float32 precision.
    """
    X, y = Xy(data, estimator)
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=5, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X.astype(np.float32), y))
    method = "predict_proba" if is_classifier(fn) else "predict"
    sk_pred = getattr(sk, method)(X)
    fn_pred = getattr(fn, method)(X)
    assert sk_pred.dtype == np.float64
    assert fn_pred.dtype == np.float32
    if is_classifier(fn):
        _compare.assert_close_proba(fn_pred, sk_pred, dtype=np.float32)
    else:
        assert_close(fn_pred, sk_pred, k=k_predict(sk), dtype=np.float32)
    assert_array_equal(fn_pred, getattr(fn, method)(X.astype(np.float32)))


# -------------------------------------------------------------- verbose
_VERBOSE = {
    "iterations": (dict(solver="adam", max_iter=5),
                   ["Iteration 1, loss = ", "Iteration 5, loss = "]),
    "early-stopping": (dict(solver="adam", early_stopping=True, n_iter_no_change=3,
                            learning_rate_init=0.05, validation_fraction=0.2, max_iter=30),
                       ["Validation score: ", "Validation score did not improve more than "
                        "tol=0.000100 for 3 consecutive epochs. Stopping."]),
    "early-stopping-sgd-tol-0": (dict(solver="sgd", early_stopping=True, n_iter_no_change=2,
                                      tol=0.0, learning_rate_init=0.05, validation_fraction=0.2,
                                      max_iter=40),
                                 ["Validation score: ", "Validation score did not improve more "
                                  "than tol=0.000000 for 2 consecutive epochs. Stopping."]),
    "adaptive": (dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                      learning_rate_init=0.1, max_iter=30),
                 ["Setting learning rate to 0.020000", "Learning rate too small. Stopping."]),
    "tol": (dict(solver="sgd", tol=1e-2, n_iter_no_change=2, learning_rate_init=0.05,
                 max_iter=30),
            ["Training loss did not improve more than tol=0.010000 for 2 consecutive epochs. "
             "Stopping."]),
}


# The cases whose message scikit-learn prints for one estimator only (on this data).
_VERBOSE_ONLY = {"early-stopping-sgd-tol-0": "classifier"}


@pytest.mark.parametrize("estimator, case", [
    pytest.param(estimator, case, id=f"{estimator}-{case}")
    for estimator in ESTIMATORS for case in _VERBOSE
    if _VERBOSE_ONLY.get(case, estimator) == estimator])
def test_verbose_output_identical(data, capsys, estimator, case):
    X, y = Xy(data, estimator)
    params, expected = _VERBOSE[case]
    params = dict(verbose=True, hidden_layer_sizes=(5,), random_state=0, **params)
    fast_cls, sk_cls = PAIRS[estimator]
    capsys.readouterr()
    quiet_fit(fast_cls(**params), X, y)
    fn_out = capsys.readouterr().out
    quiet_fit(sk_cls(**params), X, y)
    sk_out = capsys.readouterr().out
    for fragment in expected:
        assert fragment in sk_out
    assert fn_out.splitlines() == sk_out.splitlines()


# --------------------------------------------------- predict, score, input
@pytest.mark.parametrize("estimator, target", over(["y", "Y"], CLF_TARGETS))
def test_predict_and_score(data, estimator, target):
    X, y = Xy(data, estimator, target)
    sw = sample_weights(n_rows(X))
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    X_new = np.random.RandomState(9).randn(20, X.shape[1])
    assert_same_predictions(fn, sk, X_new)
    if is_classifier(sk):
        # accuracy counts labels: exact, once no label of X is a near-tie
        assert clear_decisions(sk, X).all()
        sk_score = sk.score(X, y)
        assert 0.0 < sk_score < 1.0  # a score that says something
        assert fn.score(X, y) == sk_score
        assert fn.score(X, y, sample_weight=sw) == sk.score(X, y, sample_weight=sw)
    else:
        k = k_loss(sk) + k_predict(sk)
        assert_close(fn.score(X, y), sk.score(X, y), k=k, scale=1.0, err_msg="R^2")
        assert_close(fn.score(X, y, sample_weight=sw), sk.score(X, y, sample_weight=sw), k=k,
                     scale=1.0, err_msg="weighted R^2")


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("estimator, target", over(["y"], ["string"]))
def test_sparse_input(data, estimator, target, fmt):
    X, y = Xy(data, estimator, target)
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0)).asformat(fmt)
    params = dict(hidden_layer_sizes=(4,), learning_rate_init=0.02, max_iter=6, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X_sparse, y))
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X_sparse)
    if is_classifier(sk):
        assert clear_decisions(sk, X_sparse).all()
        assert fn.score(X_sparse, y) == sk.score(X_sparse, y)


@per_estimator
def test_dataframe_feature_names(data, estimator):
    X, y = Xy(data, estimator)
    columns = ["visitors", "temperature", "c", "d", "e", "f"][:X.shape[1]]
    df = pd.DataFrame(X, columns=columns)
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(df, y))
    assert_same_fit(fn, sk)
    assert list(fn.feature_names_in_) == list(sk.feature_names_in_) == columns
    assert fn.feature_names_in_.dtype == sk.feature_names_in_.dtype

    # Same columns, same order: no warning, same predictions.
    same = (outcome(lambda: fn.predict(df)), outcome(lambda: sk.predict(df)))
    assert same[0][0] == same[1][0] == "returned"
    assert same[0][2] == same[1][2] == []
    assert_same_predictions(fn, sk, df)

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
@per_estimator
def test_signature_matches_sklearn(estimator):
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    fast_cls, sk_cls = PAIRS[estimator]
    ours, theirs = described(fast_cls), described(sk_cls)
    # scikit-learn's parameters, in its order, kinds and defaults; then fastnet's own,
    # keyword-only, defaulting to "off".
    assert ours[:len(theirs)] == theirs
    extra = BEYOND_SKLEARN_PARAMS[estimator]
    assert ours[len(theirs):] == [(name, inspect.Parameter.KEYWORD_ONLY, default)
                                  for name, default in extra.items()]
    assert getattr(fastnet, sk_cls.__name__) is fast_cls


@per_estimator
def test_default_params_match_sklearn(estimator):
    fast_cls, sk_cls = PAIRS[estimator]
    assert fast_cls().get_params() == sklearn_params_and_ours(estimator, sk_cls().get_params())


@pytest.mark.parametrize("estimator, target", over(["y"], ["string"]))
def test_clone_preserves_params(data, estimator, target):
    X, y = Xy(data, estimator, target)
    fast_cls, sk_cls = PAIRS[estimator]
    params = dict(hidden_layer_sizes=(7, 2), activation="tanh", solver="sgd", alpha=0.3,
                  batch_size=33, learning_rate="invscaling", power_t=0.3, max_iter=5,
                  random_state=11, momentum=0.5, nesterovs_momentum=False)
    original = quiet_fit(fast_cls(**params), X, y)
    copy = clone(original)
    assert type(copy) is fast_cls
    assert copy.get_params() == original.get_params() == sklearn_params_and_ours(
        estimator, sk_cls(**params).get_params())
    assert not hasattr(copy, "coefs_") and not hasattr(copy, "classes_")
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    quiet_fit(copy, X, y)
    assert_same_fit(copy, sk)


@pytest.mark.parametrize(
    "params",
    [dict(solver="adam"), dict(solver="sgd", early_stopping=True), dict(solver="lbfgs")],
    ids=["adam", "sgd-early-stopping", "lbfgs"],
)
@per_estimator
def test_public_fitted_attributes_match(data, estimator, params):
    X, y = Xy(data, estimator)
    params = dict(hidden_layer_sizes=(4,), max_iter=5, random_state=0, **params)
    fn, sk, _ = fit_both(estimator, params, fit_procedure(X, y))
    assert public_fitted(fn) - BEYOND_SKLEARN_ATTRIBUTES == public_fitted(sk)
    # validation_loss_curve_ exists where the other curves do (sgd/adam).
    assert ("validation_loss_curve_" in public_fitted(fn)) == ("loss_curve_" in public_fitted(sk))
    expected = {"coefs_", "intercepts_", "n_iter_", "loss_"}
    if is_classifier(sk):
        expected.add("classes_")
    assert expected <= public_fitted(sk)
