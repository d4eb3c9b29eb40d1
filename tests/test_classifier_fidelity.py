"""fastnet.MLPClassifier against its specification, sklearn.neural_network.MLPClassifier.

The claim under test: with the same ``random_state`` and hyperparameters fastnet
binarizes the labels, picks the output activation and loss, draws the initial
weights, the (stratified) validation split and the per-epoch shuffles exactly as
scikit-learn does, so after training ``coefs_``, ``intercepts_``, ``loss_curve_``,
``loss_``, ``best_loss_``, ``validation_scores_``, ``best_validation_score_`` and
``t_`` equal scikit-learn's within rtol 1e-9 in float64 (weights 1e-6 for lbfgs;
1e-4 in float32, against scikit-learn fed the same float32 X), ``n_iter_``,
``classes_``, ``out_activation_`` and ``n_outputs_`` are identical, ``predict`` is
identical and ``predict_proba`` / ``predict_log_proba`` agree within 1e-9.  The
same warnings (category and message, in order), the same errors and the same
verbose lines must come out of both.

scikit-learn itself is the oracle: every test fits both estimators with identical
arguments and compares.  Where a test needs a situation to happen (a chunk that
lacks a class, saturated probabilities that the log-loss must clip, an early
stop), it first asserts that the situation happens in scikit-learn, so the
comparison is known to exercise it.
"""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import fastnet
import _compare
from _compare import (assert_same_losses, categories, fit_procedure, max_iter_warning, outcome,
                      public_fitted)
from fastnet import MLPClassifier

RTOL64 = 1e-9
RTOL32 = 1e-4
RTOL_LBFGS = 1e-6



TARGETS = ["binary", "bool", "multiclass", "string", "multilabel"]


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def clf_data():
    """X (151, 5) and targets of every kind scikit-learn's classifier accepts.

    151 rows so that batches don't divide n.  The multiclass target is
    imbalanced (71 / 58 / 22), so a stratified validation split differs from a
    plain one; the multilabel target has rows with 0, 1, 2 and 3 labels.
    """
    rng = np.random.RandomState(0)
    n = 151
    X = rng.randn(n, 5)
    W = rng.randn(5, 3)
    S = X @ W + 0.7 * rng.randn(n, 3)
    y3 = np.argmax(S + np.array([0.8, 0.0, -0.8]), axis=1)
    y2 = (S[:, 0] > S[:, 1]).astype(np.int64)
    Y = (S > 0.5).astype(np.int64)
    targets = {
        "binary": y2 * 5 + 3,  # labels 3 and 8: not 0/1
        "bool": y2.astype(bool),
        "multiclass": y3,
        "string": np.array(["cat", "dog", "emu"])[y3],
        "multilabel": Y,
    }
    return X, targets


@pytest.fixture(scope="module")
def sample_weight(clf_data):
    """Non-uniform positive weights, one per row of the shared data."""
    X = clf_data[0]
    return np.random.RandomState(1).uniform(0.1, 3.0, X.shape[0])


# ------------------------------------------------------------------ helpers
def fit_both(params, procedure):
    """:func:`_compare.fit_both` for MLPClassifier against scikit-learn's."""
    return _compare.fit_both(MLPClassifier, SkMLPClassifier, params, procedure)


def _assert_same_classes(fn, sk):
    assert isinstance(fn.classes_, np.ndarray)
    assert fn.classes_.dtype == sk.classes_.dtype
    assert_array_equal(fn.classes_, sk.classes_)


def assert_same_fit(fn, sk, rtol=RTOL64, coef_rtol=None):
    """Everything a fit leaves behind, fastnet against scikit-learn."""
    coef_rtol = rtol if coef_rtol is None else coef_rtol
    _assert_same_classes(fn, sk)
    assert fn.n_iter_ == sk.n_iter_
    assert fn.out_activation_ == sk.out_activation_
    assert fn.n_outputs_ == sk.n_outputs_
    assert fn.n_layers_ == sk.n_layers_
    assert fn.n_features_in_ == sk.n_features_in_
    assert fn.t_ == sk.t_  # samples seen: an int, exactly
    assert len(fn.coefs_) == len(sk.coefs_)
    assert len(fn.intercepts_) == len(sk.intercepts_)
    for i, (a, b) in enumerate(zip(fn.coefs_ + fn.intercepts_, sk.coefs_ + sk.intercepts_)):
        assert a.shape == b.shape, f"parameter array {i}"
        assert a.dtype == b.dtype, f"parameter array {i}"
        # float32: a weight that training brings near 0 carries the rounding of the
        # larger ones; compare it at the array's scale (about 8 float32 ulps of it).
        atol = 0 if a.dtype == np.float64 else 1e-6 * float(np.abs(b).max())
        assert_allclose(a, b, rtol=coef_rtol, atol=atol, err_msg=f"parameter array {i}")
    assert_same_losses(fn, sk, rtol)


def assert_same_predictions(fn, sk, X, rtol=RTOL64):
    """predict identical (values and dtype); predict_proba / predict_log_proba within rtol."""
    fn_pred, sk_pred = fn.predict(X), sk.predict(X)
    assert fn_pred.shape == sk_pred.shape
    assert fn_pred.dtype == sk_pred.dtype
    assert_array_equal(fn_pred, sk_pred)
    fn_proba, sk_proba = fn.predict_proba(X), sk.predict_proba(X)
    assert fn_proba.shape == sk_proba.shape
    assert fn_proba.dtype == sk_proba.dtype
    assert_allclose(fn_proba, sk_proba, rtol=rtol, atol=0, err_msg="predict_proba")
    fn_log, sk_log = fn.predict_log_proba(X), sk.predict_log_proba(X)
    assert fn_log.shape == sk_log.shape
    assert fn_log.dtype == sk_log.dtype
    assert_allclose(fn_log, sk_log, rtol=rtol, atol=0, err_msg="predict_log_proba")


def _quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


# ------------------------------------------------------ targets x solvers
_EXPECTED_OUTPUTS = {
    "binary": ("logistic", 1, [3, 8]),
    "bool": ("logistic", 1, [False, True]),
    "multiclass": ("softmax", 3, [0, 1, 2]),
    "string": ("softmax", 3, ["cat", "dog", "emu"]),
    "multilabel": ("logistic", 3, [0, 1, 2]),
}


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("target", TARGETS)
def test_targets_and_solvers(clf_data, target, solver):
    X, targets = clf_data
    y = targets[target]
    params = dict(solver=solver, hidden_layer_sizes=(6,), learning_rate_init=0.05, max_iter=12,
                  batch_size=40, random_state=0)
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    out_activation, n_outputs, classes = _EXPECTED_OUTPUTS[target]
    assert sk.out_activation_ == out_activation and sk.n_outputs_ == n_outputs
    assert list(sk.classes_) == classes
    assert categories(recorded) == [ConvergenceWarning]
    if solver == "lbfgs":
        assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS)
        assert_same_predictions(fn, sk, X, rtol=RTOL_LBFGS)
    else:
        assert recorded == [max_iter_warning(12)]
        assert_same_fit(fn, sk)
        assert_same_predictions(fn, sk, X)
    if target == "bool":
        assert fn.predict(X).dtype == bool
    if target == "multilabel":
        assert fn.predict(X).shape == (X.shape[0], 3)
        assert set(np.unique(fn.predict(X))) <= {0, 1}


@pytest.mark.parametrize("target", ["binary", "bool"])
def test_binary_predict_proba_is_one_minus_p_and_p(clf_data, target):
    X, targets = clf_data
    y = targets[target]
    params = dict(hidden_layer_sizes=(4,), learning_rate_init=0.05, max_iter=5, random_state=1)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    proba = fn.predict_proba(X)
    assert proba.shape == (X.shape[0], 2)
    # The network's single logistic output is the probability of classes_[1].
    p = fn._forward_pass_fast(X).ravel()
    assert_array_equal(proba[:, 1], p)
    assert_array_equal(proba[:, 0], 1 - p)
    assert_allclose(proba, sk.predict_proba(X), rtol=RTOL64, atol=0)
    # predict is classes_[p > 0.5], as in scikit-learn.
    assert_array_equal(fn.predict(X), fn.classes_[(proba[:, 1] > 0.5).astype(int)])
    assert_array_equal(fn.predict(X), sk.predict(X))


def test_multilabel_outputs(clf_data):
    X, targets = clf_data
    Y = targets["multilabel"]
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.05, max_iter=8, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, Y))
    assert fn.n_outputs_ == sk.n_outputs_ == Y.shape[1]
    assert fn.out_activation_ == "logistic"
    proba = fn.predict_proba(X)
    assert proba.shape == (X.shape[0], Y.shape[1])
    # independent logistic outputs: rows do not sum to 1
    assert not np.allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(fn.predict(X), (proba > 0.5).astype(int))
    assert_same_predictions(fn, sk, X)


def test_column_vector_y_warns_like_sklearn(clf_data):
    X, targets = clf_data
    y = targets["multiclass"].reshape(-1, 1)
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    fn, sk, recorded = fit_both(params, fit_procedure(X, y))
    assert DataConversionWarning in categories(recorded)
    assert_same_fit(fn, sk)
    assert fn.predict(X).shape == (X.shape[0],)


# ------------------------------------------------- activations x solvers
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_activation_and_solver(clf_data, activation, solver):
    X, targets = clf_data
    y = targets["multiclass"]
    params = dict(hidden_layer_sizes=(5, 3), activation=activation, solver=solver, max_iter=10,
                  batch_size=30, learning_rate_init=0.03, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    if solver == "lbfgs":
        assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS)
        assert_same_predictions(fn, sk, X, rtol=RTOL_LBFGS)
    else:
        assert_same_fit(fn, sk)
        assert_same_predictions(fn, sk, X)


@pytest.mark.parametrize("nesterovs_momentum", [True, False])
@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_sgd_variants(clf_data, schedule, nesterovs_momentum):
    X, targets = clf_data
    y = targets["string"]
    params = dict(solver="sgd", learning_rate=schedule, nesterovs_momentum=nesterovs_momentum,
                  learning_rate_init=0.2, tol=0.05, n_iter_no_change=1,
                  hidden_layer_sizes=(5,), max_iter=15, batch_size=50, random_state=2)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    if schedule != "constant":  # the schedule acted: the rate moved
        assert sk._optimizer.learning_rate < 0.2
    assert_same_fit(fn, sk)
    assert fn._optimizer.learning_rate == pytest.approx(sk._optimizer.learning_rate,
                                                        rel=RTOL64)
    assert_same_predictions(fn, sk, X)


def test_stops_on_tol_before_max_iter(clf_data):
    X, targets = clf_data
    params = dict(tol=1e-2, n_iter_no_change=2, learning_rate_init=0.05,
                  hidden_layer_sizes=(5,), max_iter=40, random_state=0)
    fn, sk, recorded = fit_both(params, fit_procedure(X, targets["multiclass"]))
    assert sk.n_iter_ < 40
    assert recorded == []
    assert_same_fit(fn, sk)


# ------------------------------------------------------- early stopping
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("target", TARGETS)
def test_early_stopping(clf_data, target, solver):
    X, targets = clf_data
    y = targets[target]
    params = dict(solver=solver, early_stopping=True, n_iter_no_change=3,
                  validation_fraction=0.2, learning_rate_init=0.1, hidden_layer_sizes=(6,),
                  max_iter=25, random_state=3)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    assert len(sk.validation_scores_) == sk.n_iter_
    assert_same_fit(fn, sk)
    assert fn.validation_scores_ == pytest.approx(sk.validation_scores_, rel=RTOL64, abs=0)
    assert fn.best_validation_score_ == max(fn.validation_scores_)
    assert fn.best_loss_ is None
    assert_same_predictions(fn, sk, X)


def _validation_rows(random_state, layer_units, y, stratify):
    """The rows scikit-learn holds out: its split draws after the weight init's draws."""
    rng = np.random.RandomState(random_state)
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        rng.uniform(size=(fan_in, fan_out))
        rng.uniform(size=fan_out)
    rows = np.arange(y.shape[0])
    return train_test_split(rows, random_state=rng, test_size=0.2,
                            stratify=y if stratify else None)[1]


@pytest.mark.parametrize("kind", ["int", "string"])
def test_early_stopping_split_is_stratified_for_binary(clf_data, kind):
    """One output column (binary) gets a stratified validation split; fastnet must too.

    Multiclass targets have one column per class (``n_outputs_ > 1``) and, like
    multilabel ones, are split without stratification; ``test_early_stopping``
    covers them.
    """
    X, targets = clf_data
    rare = targets["multiclass"] == 2  # 22 of 151 rows
    y = np.where(rare, "rare", "common") if kind == "string" else rare.astype(int)
    params = dict(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                  learning_rate_init=0.01, hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    # The situation under test: on this data the stratified split is not the plain one,
    # and keeps the class proportions.
    units = [X.shape[1], 5, 1]
    stratified = _validation_rows(0, units, rare, stratify=True)
    plain = _validation_rows(0, units, rare, stratify=False)
    assert set(stratified) != set(plain)
    assert abs(rare[stratified].sum() - 0.2 * rare.sum()) <= 1

    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    assert sk.n_outputs_ == 1
    assert sk.n_iter_ < 30  # stopped early
    assert int(np.argmax(sk.validation_scores_)) < sk.n_iter_ - 1  # best weights restored
    assert_same_fit(fn, sk)
    assert fn.n_iter_ == sk.n_iter_
    assert_same_predictions(fn, sk, X)


def test_early_stopping_validation_set_too_small(clf_data):
    X, targets = clf_data
    params = dict(early_stopping=True, validation_fraction=0.01, max_iter=3, random_state=0)
    X_small, y_small = X[:60], targets["binary"][:60]
    fn = outcome(lambda: MLPClassifier(**params).fit(X_small, y_small))
    sk = outcome(lambda: SkMLPClassifier(**params).fit(X_small, y_small))
    assert sk[0] == "raised"
    assert fn == sk


# --------------------------------------------------------- sample weight
@pytest.mark.parametrize(
    "solver, early_stopping",
    [("sgd", False), ("adam", False), ("lbfgs", False), ("sgd", True), ("adam", True)],
)
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_sample_weight(clf_data, sample_weight, target, solver, early_stopping):
    X, targets = clf_data
    y = targets[target]
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(5,), max_iter=12, batch_size=30,
                  random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y, sample_weight))
    if solver == "lbfgs":
        assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS)
        assert_same_predictions(fn, sk, X, rtol=RTOL_LBFGS)
    else:
        assert_same_fit(fn, sk)
        assert_same_predictions(fn, sk, X)
    # The weights matter (otherwise this test would not test them).
    unweighted = _quiet_fit(SkMLPClassifier(**params), X, y)
    assert not np.allclose(unweighted.coefs_[0], sk.coefs_[0], rtol=1e-6, atol=0)


# ---------------------------------------------------------- partial_fit
def _chunks_lacking_classes(y):
    """Four chunks of rows; the first three each lack at least one class of y."""
    labels = np.unique(y)
    rows = np.arange(y.shape[0])
    first = rows[y != labels[-1]][:50]
    second = rows[y != labels[0]][:45]
    third = rows[y == labels[0]][:30]
    return [first, second, third, rows]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("target", ["multiclass", "string", "binary"])
def test_partial_fit_with_classes_and_incomplete_chunks(clf_data, sample_weight, target, solver):
    X, targets = clf_data
    y = targets[target]
    classes = np.unique(y)[::-1]  # any order: classes_ comes out sorted
    chunks = _chunks_lacking_classes(y)
    for chunk in chunks[:3]:
        assert len(np.unique(y[chunk])) < len(classes)  # the situation under test
    params = dict(solver=solver, hidden_layer_sizes=(5,), batch_size=20, learning_rate_init=0.05,
                  random_state=0)

    def procedure(est):
        est.partial_fit(X[chunks[0]], y[chunks[0]], classes=classes)
        for chunk in chunks[1:3]:
            est.partial_fit(X[chunk], y[chunk])
        return est.partial_fit(X, y, sample_weight=sample_weight)

    fn, sk, recorded = fit_both(params, procedure)
    assert recorded == []
    assert sk.n_iter_ == 1 and len(sk.loss_curve_) == 4
    assert sk.t_ == sum(len(c) for c in chunks)
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)


def test_partial_fit_multilabel(clf_data):
    X, targets = clf_data
    Y = targets["multilabel"]
    params = dict(hidden_layer_sizes=(5,), batch_size=25, learning_rate_init=0.05, random_state=0)

    def procedure(est):
        est.partial_fit(X[:70], Y[:70], classes=[0, 1, 2])
        est.partial_fit(X[70:], Y[70:])
        return est.partial_fit(X, Y)

    fn, sk, _ = fit_both(params, procedure)
    assert sk.n_outputs_ == 3 and sk.out_activation_ == "logistic"
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)


def test_partial_fit_without_classes_on_first_call_raises_like_sklearn(clf_data):
    X, targets = clf_data
    y = targets["multiclass"]
    fn = outcome(lambda: MLPClassifier(random_state=0).partial_fit(X, y))
    sk = outcome(lambda: SkMLPClassifier(random_state=0).partial_fit(X, y))
    assert sk[0] == "raised" and sk[1] is ValueError
    assert fn == sk


def test_partial_fit_unseen_label_raises_like_sklearn(clf_data):
    X, targets = clf_data
    y = targets["multiclass"]
    params = dict(hidden_layer_sizes=(4,), learning_rate_init=0.05, random_state=0)
    fn = MLPClassifier(**params).partial_fit(X, y, classes=[0, 1, 2])
    sk = SkMLPClassifier(**params).partial_fit(X, y, classes=[0, 1, 2])
    y_new = y.copy()
    y_new[:5] = 7
    fn_outcome = outcome(lambda: fn.partial_fit(X, y_new))
    sk_outcome = outcome(lambda: sk.partial_fit(X, y_new))
    assert sk_outcome[0] == "raised" and sk_outcome[1] is ValueError
    assert fn_outcome == sk_outcome
    # A refused call changes nothing: both carry on alike.
    fn.partial_fit(X, y)
    sk.partial_fit(X, y)
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)


def test_partial_fit_classes_on_later_call_must_match(clf_data):
    X, targets = clf_data
    y = targets["multiclass"]
    fn = MLPClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    sk = SkMLPClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    fn_outcome = outcome(lambda: fn.partial_fit(X, y, classes=[0, 1, 2, 3]))
    sk_outcome = outcome(lambda: sk.partial_fit(X, y, classes=[0, 1, 2, 3]))
    assert sk_outcome[0] == "raised"
    assert fn_outcome == sk_outcome


def test_partial_fit_after_fit(clf_data):
    X, targets = clf_data
    y = targets["string"]
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=4, random_state=1)

    def procedure(est):
        est.fit(X, y)
        est.partial_fit(X[:100], y[:100])
        return est.partial_fit(X, y)

    fn, sk, _ = fit_both(params, procedure)
    assert sk._optimizer.t == 4 + 1 + 1
    assert_same_fit(fn, sk)


def test_partial_fit_with_early_stopping_raises(clf_data):
    X, targets = clf_data
    y = targets["binary"]
    fn = outcome(lambda: MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[3, 8]))
    sk = outcome(lambda: SkMLPClassifier(early_stopping=True).partial_fit(X, y, classes=[3, 8]))
    assert sk[0] == "raised"
    assert fn == sk


def test_partial_fit_unavailable_for_lbfgs():
    assert not hasattr(SkMLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifier(solver="sgd"), "partial_fit")
    assert hasattr(MLPClassifier(solver="adam"), "partial_fit")
    fn = outcome(lambda: MLPClassifier(solver="lbfgs").partial_fit)
    sk = outcome(lambda: SkMLPClassifier(solver="lbfgs").partial_fit)
    assert sk[0] == "raised" and sk[1] is AttributeError
    assert fn == sk


# ----------------------------------------------------------- warm_start
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("target", ["bool", "string", "multilabel"])
def test_warm_start_same_classes_continues(clf_data, target, solver):
    X, targets = clf_data
    y = targets[target]
    params = dict(solver=solver, hidden_layer_sizes=(5,), batch_size=50, learning_rate_init=0.02,
                  max_iter=5, random_state=0)
    rows = np.random.RandomState(5).permutation(X.shape[0])

    def procedure(est):
        est.fit(X, y)
        # a different sample (same classes) for the continued fit
        return est.set_params(warm_start=True, max_iter=7).fit(X[rows], y[rows])

    fn, sk, recorded = fit_both(params, procedure)
    assert categories(recorded) == [ConvergenceWarning, ConvergenceWarning]
    if solver == "lbfgs":
        assert_same_fit(fn, sk, coef_rtol=RTOL_LBFGS)
        assert_same_predictions(fn, sk, X, rtol=RTOL_LBFGS)
    else:
        assert sk.n_iter_ == 7 and len(sk.loss_curve_) == 12
        assert sk.t_ == 12 * X.shape[0]
        assert_same_fit(fn, sk)
        assert_same_predictions(fn, sk, X)


@pytest.mark.parametrize("case", ["fewer", "more", "other"])
def test_warm_start_with_different_classes_raises_like_sklearn(clf_data, case):
    X, targets = clf_data
    y = targets["multiclass"]
    y_new = {
        "fewer": np.where(y == 2, 1, y),  # {0, 1}
        "more": np.concatenate([y[:-1], [3]]),  # {0, 1, 2, 3}
        "other": np.where(y == 2, 5, y),  # {0, 1, 5}
    }[case]
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0, warm_start=True)
    fn = _quiet_fit(MLPClassifier(**params), X, y)
    sk = _quiet_fit(SkMLPClassifier(**params), X, y)
    fn_outcome = outcome(lambda: fn.fit(X, y_new))
    sk_outcome = outcome(lambda: sk.fit(X, y_new))
    assert sk_outcome[0] == "raised" and sk_outcome[1] is ValueError
    assert fn_outcome == sk_outcome
    # nothing changed: the classifiers still agree
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)


def test_refit_without_warm_start_redefines_classes(clf_data):
    X, targets = clf_data
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)

    def procedure(est):
        est.fit(X, targets["multiclass"])
        return est.fit(X, targets["bool"])

    fn, sk, _ = fit_both(params, procedure)
    assert list(sk.classes_) == [False, True] and sk.out_activation_ == "logistic"
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)


# ---------------------------------------------------- log-loss clipping
def _data_log_loss(Y, P, clip):
    """scikit-learn's (binary) log-loss of outputs P for indicators Y, optionally unclipped."""
    eps = np.finfo(P.dtype).eps
    if clip:
        P = np.clip(P, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        if P.shape[1] == 1:
            terms = xlogy(Y, P) + xlogy(1 - Y, 1 - P)
        else:
            terms = xlogy(Y, P)
    return -terms.sum(axis=1).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_log_loss_clips_saturated_probabilities(target, dtype):
    """Separable data and a large learning rate drive the outputs to exactly 0 / 1.

    With ``alpha=0`` the loss of a saturated, correct sample is only what the
    clip to [eps, 1 - eps] leaves: -log(1 - eps), 2.2e-16 in float64 and 1.2e-7
    in float32 (unclipped: 0; another eps, e.g. float64's in float32 work:
    another number); a confidently wrong sample costs -log(eps) instead of inf.
    Late in training the loss is so small that these terms show at the
    tolerance, so fastnet must clip exactly as scikit-learn does to match its
    ``loss_curve_`` epoch by epoch.
    """
    rng = np.random.RandomState(0)
    n_classes = 2 if target == "binary" else 3
    centers = 12.0 * np.eye(n_classes, 4)
    y = np.repeat(np.arange(n_classes), 40)
    X = (centers[y] + 0.5 * rng.randn(y.shape[0], 4)).astype(dtype)
    params = dict(solver="sgd", alpha=0.0, learning_rate_init=2.0, momentum=0.9,
                  hidden_layer_sizes=(8,), batch_size=20, max_iter=15, tol=0.0,
                  n_iter_no_change=100, random_state=0)
    rtol = RTOL64 if dtype == np.float64 else RTOL32
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    # The situation under test: scikit-learn's outputs saturate, and the clip changes
    # the loss by far more than the tolerance.
    raw = sk._forward_pass_fast(X)
    assert raw.dtype == dtype
    eps = np.finfo(dtype).eps
    assert ((raw >= 1 - eps) | (raw <= eps)).any()
    Y = sk._label_binarizer.transform(y)
    clipped, unclipped = _data_log_loss(Y, raw, True), _data_log_loss(Y, raw, False)
    assert_allclose(clipped, sk.loss_curve_[-1], rtol=0.5)  # the last epoch's regime
    assert abs(clipped - unclipped) > 10 * rtol * clipped
    assert np.isfinite(sk.loss_curve_).all()
    assert_same_fit(fn, sk, rtol=rtol)
    assert_array_equal(fn.predict(X), sk.predict(X))
    if dtype == np.float64:
        with np.errstate(divide="ignore"):  # log(0) of saturated probabilities, in both
            assert_same_predictions(fn, sk, X)


# -------------------------------------------------------------- float32
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_float32(clf_data, sample_weight, target, solver):
    X, targets = clf_data
    y = targets[target]
    X32 = X.astype(np.float32)
    params = dict(solver=solver, hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10,
                  batch_size=50, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X32, y, sample_weight))
    for arr in fn.coefs_ + fn.intercepts_:
        assert arr.dtype == np.float32
    assert_same_fit(fn, sk, rtol=RTOL32)
    assert_array_equal(fn.predict(X32), sk.predict(X32))
    fn_proba, sk_proba = fn.predict_proba(X32), sk.predict_proba(X32)
    assert fn_proba.dtype == sk_proba.dtype == np.float32
    assert_allclose(fn_proba, sk_proba, rtol=RTOL32, atol=0)


def test_float32_partial_fit(clf_data):
    X, targets = clf_data
    y = targets["string"]
    X32 = X.astype(np.float32)
    params = dict(solver="sgd", hidden_layer_sizes=(5,), learning_rate_init=0.05, random_state=0)

    def procedure(est):
        est.partial_fit(X32, y, classes=["cat", "dog", "emu"])
        for _ in range(3):
            est.partial_fit(X32, y)
        return est

    fn, sk, _ = fit_both(params, procedure)
    assert fn.coefs_[0].dtype == np.float32
    assert_same_fit(fn, sk, rtol=RTOL32)


# -------------------------------------------------------------- verbose
@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(solver="adam", max_iter=5),
         ["Iteration 1, loss = ", "Iteration 5, loss = "]),
        (dict(solver="sgd", early_stopping=True, n_iter_no_change=2, tol=0.0,
              learning_rate_init=0.05, validation_fraction=0.2, max_iter=40),
         ["Validation score: ", "Validation score did not improve more than tol=0.000000 "
          "for 2 consecutive epochs. Stopping."]),
        (dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
              learning_rate_init=0.1, max_iter=30),
         ["Setting learning rate to 0.020000", "Learning rate too small. Stopping."]),
    ],
    ids=["iterations", "early-stopping", "adaptive"],
)
def test_verbose_output_identical(clf_data, capsys, params, expected):
    X, targets = clf_data
    y = targets["multiclass"]
    params = dict(verbose=True, hidden_layer_sizes=(5,), random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        capsys.readouterr()
        MLPClassifier(**params).fit(X, y)
        fn_out = capsys.readouterr().out
        SkMLPClassifier(**params).fit(X, y)
        sk_out = capsys.readouterr().out
    for fragment in expected:
        assert fragment in sk_out
    assert fn_out.splitlines() == sk_out.splitlines()


# ------------------------------------------------------------ score
@pytest.mark.parametrize("target", TARGETS)
def test_score(clf_data, sample_weight, target):
    X, targets = clf_data
    y = targets[target]
    params = dict(hidden_layer_sizes=(5,), learning_rate_init=0.02, max_iter=10, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    sk_score = sk.score(X, y)
    assert 0.0 < sk_score < 1.0  # a score that says something
    assert fn.score(X, y) == sk_score
    assert fn.score(X, y, sample_weight=sample_weight) == sk.score(X, y,
                                                                   sample_weight=sample_weight)
    X_new = np.random.RandomState(9).randn(20, X.shape[1])
    assert_same_predictions(fn, sk, X_new)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input(clf_data, fmt):
    X, targets = clf_data
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0)).asformat(fmt)
    y = targets["string"]
    params = dict(hidden_layer_sizes=(4,), learning_rate_init=0.02, max_iter=6, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X_sparse, y))
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X_sparse)
    assert fn.score(X_sparse, y) == sk.score(X_sparse, y)


# ------------------------------------------------------------ API parity
def test_signature_matches_sklearn():
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert described(MLPClassifier) == described(SkMLPClassifier)
    assert fastnet.MLPClassifier is MLPClassifier


def test_default_params_match_sklearn():
    assert MLPClassifier().get_params() == SkMLPClassifier().get_params()


def test_clone_preserves_params(clf_data):
    X, targets = clf_data
    y = targets["string"]
    params = dict(hidden_layer_sizes=(7, 2), activation="tanh", solver="sgd", alpha=0.3,
                  batch_size=33, learning_rate="invscaling", power_t=0.3, max_iter=5,
                  random_state=11, momentum=0.5, nesterovs_momentum=False)
    original = _quiet_fit(MLPClassifier(**params), X, y)
    copy = clone(original)
    assert type(copy) is MLPClassifier
    assert copy.get_params() == original.get_params() == SkMLPClassifier(**params).get_params()
    assert not hasattr(copy, "coefs_") and not hasattr(copy, "classes_")
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    _quiet_fit(copy, X, y)
    assert_same_fit(copy, sk)


@pytest.mark.parametrize(
    "params",
    [dict(solver="adam"), dict(solver="sgd", early_stopping=True), dict(solver="lbfgs")],
    ids=["adam", "sgd-early-stopping", "lbfgs"],
)
def test_public_fitted_attributes_match(clf_data, params):
    X, targets = clf_data
    params = dict(hidden_layer_sizes=(4,), max_iter=5, random_state=0, **params)
    fn, sk, _ = fit_both(params, fit_procedure(X, targets["multiclass"]))
    assert public_fitted(fn) == public_fitted(sk)
    assert {"coefs_", "intercepts_", "n_iter_", "loss_", "classes_"} <= public_fitted(sk)
