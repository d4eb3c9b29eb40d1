"""fastnet.MLPClassifier against sklearn.neural_network.MLPClassifier: what only the
classifier has.

What both estimators share (optimizers, schedules, batches, stopping rules, sample
weights, partial_fit, warm_start, float32, verbose output, scores, API parity) is
tested for both in ``test_fidelity.py``; its docstring states the claim and the
tolerances (derived in ``_compare``).  Here: the targets (binary, bool, multiclass,
string, multilabel) and how they are binarized, the output activation and loss,
the stratified validation split, ``classes`` in partial_fit and warm starts, and
the log-loss clip.  Labels are compared where scikit-learn's decision is clear
(``_compare.assert_same_labels``), probabilities with ``assert_close_proba``.

scikit-learn itself is the oracle: every test fits both estimators with identical
arguments and compares.  Where a test needs a situation to happen (a chunk that
lacks a class, saturated probabilities that the log-loss must clip, an early
stop), it first asserts that the situation happens in scikit-learn, so the
comparison is known to exercise it.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import _compare
from _compare import (RTOL, assert_close_proba, assert_same_fit, assert_same_labels,
                      assert_same_predictions, categories, fit_procedure, k_loss, loss_scale,
                      max_iter_warning, outcome, quiet_fit, sample_weights)
from fastnet import MLPClassifier

TARGETS = ["binary", "bool", "multiclass", "string", "multilabel"]


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def clf_data():
    """X (151, 5) and targets of every kind (``_compare.classification_data``)."""
    return _compare.classification_data()


@pytest.fixture(scope="module")
def sample_weight(clf_data):
    """Non-uniform positive weights, one per row of the shared data."""
    return sample_weights(clf_data[0].shape[0])


# ------------------------------------------------------------------ helpers
def fit_both(params, procedure):
    """:func:`_compare.fit_both` for MLPClassifier against scikit-learn's."""
    return _compare.fit_both(MLPClassifier, SkMLPClassifier, params, procedure)


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
    if solver != "lbfgs":
        assert recorded == [max_iter_warning(12)]
    assert_same_fit(fn, sk, X.shape[0])
    assert_same_predictions(fn, sk, X, X.shape[0])
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
    assert_close_proba(proba, sk.predict_proba(X))
    # predict is classes_[p > 0.5], as in scikit-learn.
    assert_array_equal(fn.predict(X), fn.classes_[(proba[:, 1] > 0.5).astype(int)])
    assert_same_labels(fn, sk, X)


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
    assert_same_fit(fn, sk)  # validation_scores_ included
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
    if solver != "lbfgs":
        assert sk.n_iter_ == 7 and len(sk.loss_curve_) == 12
        assert sk.t_ == 12 * X.shape[0]
    assert_same_fit(fn, sk, X.shape[0])
    assert_same_predictions(fn, sk, X, X.shape[0])


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
    fn = quiet_fit(MLPClassifier(**params), X, y)
    sk = quiet_fit(SkMLPClassifier(**params), X, y)
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
    Late in training the loss is so small that these terms exceed the loss
    tolerance several times over, so fastnet must clip exactly as scikit-learn
    does to match its ``loss_curve_`` epoch by epoch.
    """
    rng = np.random.RandomState(0)
    n_classes = 2 if target == "binary" else 3
    centers = 12.0 * np.eye(n_classes, 4)
    y = np.repeat(np.arange(n_classes), 40)
    X = (centers[y] + 0.5 * rng.randn(y.shape[0], 4)).astype(dtype)
    params = dict(solver="sgd", alpha=0.0, learning_rate_init=2.0, momentum=0.9,
                  hidden_layer_sizes=(8,), batch_size=20, max_iter=15, tol=0.0,
                  n_iter_no_change=100, random_state=0)
    rtol = RTOL[np.dtype(dtype)]  # the loss_curve_ tolerance: assert_same_losses
    fn, sk, _ = fit_both(params, fit_procedure(X, y))
    # The situation under test: scikit-learn's outputs saturate, and the clip changes
    # the loss by far more than the tolerance.
    raw = sk._forward_pass_fast(X)
    assert raw.dtype == dtype
    eps = np.finfo(dtype).eps
    assert ((raw >= 1 - eps) | (raw <= eps)).any()
    Y = sk._label_binarizer.transform(y)
    clipped, unclipped = _data_log_loss(Y, raw, True), _data_log_loss(Y, raw, False)
    assert clipped == pytest.approx(sk.loss_curve_[-1], rel=0.5)  # the last epoch's regime
    top = max(sk.loss_curve_)
    tolerance = rtol * clipped + k_loss(sk) * eps * float(loss_scale(clipped, top))
    assert abs(clipped - unclipped) > 4 * tolerance
    assert np.isfinite(sk.loss_curve_).all()
    assert_same_fit(fn, sk)
    assert_same_predictions(fn, sk, X)
