"""class_weight on MLPClassifier, and validation_loss_curve_ with early stopping.

Oracles: scikit-learn's ``compute_sample_weight`` / ``compute_class_weight`` (the
class weights must equal passing those sample weights), and scikit-learn's own
``LOSS_FUNCTIONS`` applied to the validation split's predictions of each epoch.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network._base import LOSS_FUNCTIONS
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

import fastnet
from fastnet import MLPClassifier, MLPRegressor


def _data(n=150, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    score = X[:, 0] + 0.5 * X[:, 1]
    y = np.digitize(score, [0.6, 1.4])  # imbalanced: ~70% / 20% / 10%
    return X, y


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _assert_same_weights(a, b):
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 7.5}, {2: 4.0}])
def test_class_weight_equals_the_sample_weight_it_stands_for(solver, class_weight):
    X, y = _data()
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=10, random_state=0,
                  batch_size=40)
    weighted = _fit(MLPClassifier(class_weight=class_weight, **params), X, y)
    oracle = _fit(MLPClassifier(**params), X, y,
                  sample_weight=compute_sample_weight(class_weight, y))
    _assert_same_weights(weighted, oracle)
    unweighted = _fit(MLPClassifier(**params), X, y)
    assert not np.allclose(weighted.coefs_[0], unweighted.coefs_[0])
    # Combined with sample_weight by multiplication, as scikit-learn's classifiers do.
    sw = np.random.RandomState(1).uniform(0.2, 2.0, len(y))
    both = _fit(MLPClassifier(class_weight=class_weight, **params), X, y, sample_weight=sw)
    oracle = _fit(MLPClassifier(**params), X, y,
                  sample_weight=sw * compute_sample_weight(class_weight, y))
    _assert_same_weights(both, oracle)


def test_class_weight_with_string_labels_and_early_stopping():
    X, y = _data()
    labels = np.array(["low", "mid", "high"])[y]
    cw = {"low": 0.5, "high": 5.0}
    params = dict(hidden_layer_sizes=(6,), max_iter=15, random_state=0, early_stopping=True)
    weighted = _fit(MLPClassifier(class_weight=cw, **params), X, labels)
    oracle = _fit(MLPClassifier(**params), X, labels,
                  sample_weight=compute_sample_weight(cw, labels))
    _assert_same_weights(weighted, oracle)
    assert weighted.validation_scores_ == oracle.validation_scores_


def test_multilabel_takes_balanced_but_refuses_a_dict():
    X, _ = _data()
    Y = np.c_[X[:, 0] > 0.8, X[:, 1] > -0.5].astype(int)
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    weighted = _fit(MLPClassifier(class_weight="balanced", **params), X, Y)
    oracle = _fit(MLPClassifier(**params), X, Y,
                  sample_weight=compute_sample_weight("balanced", Y))
    _assert_same_weights(weighted, oracle)
    est = MLPClassifier(class_weight={0: 1.0, 1: 2.0}, **params)
    with pytest.raises(ValueError, match="not supported for multilabel"):
        est.fit(X, Y)
    assert not hasattr(est, "coefs_")


def test_partial_fit_takes_a_dict_over_classes_and_refuses_balanced():
    X, y = _data()
    cw = {0: 1.0, 1: 2.0, 2: 6.0}
    est = MLPClassifier(hidden_layer_sizes=(5,), random_state=0, class_weight=cw)
    oracle = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    classes = np.array([0, 1, 2])
    per_class = compute_class_weight(cw, classes=classes, y=y)
    for batch in (slice(0, 50), slice(50, 100), slice(100, 150)):
        est.partial_fit(X[batch], y[batch], classes=classes)
        oracle.partial_fit(X[batch], y[batch], classes=classes,
                           sample_weight=per_class[y[batch]])
    _assert_same_weights(est, oracle)
    balanced = MLPClassifier(hidden_layer_sizes=(5,), class_weight="balanced")
    with pytest.raises(ValueError, match="'balanced' is not supported for partial_fit"):
        balanced.partial_fit(X, y, classes=classes)


def test_unknown_class_in_class_weight_is_scikit_learns_error():
    X, y = _data()
    with pytest.raises(ValueError, match=r"The classes, \[0, 1, 2\], are not in class_weight"):
        MLPClassifier(class_weight={7: 2.0}, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="unbalanced", max_iter=2).fit(X, y)


def test_class_weight_dict_survives_a_model_file(tmp_path):
    X, y = _data()
    est = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0,
                             class_weight={0: 1.0, 2: 3.5}), X, y)
    fastnet.save(est, tmp_path / "m.fnet")
    loaded = fastnet.load(tmp_path / "m.fnet")
    assert loaded.class_weight == {0: 1.0, 2: 3.5}
    assert all(type(k) is int for k in loaded.class_weight)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


# ------------------------------------------------------------ validation loss
def _record_validation_predictions(monkeypatch, est):
    """Each epoch's validation predictions, captured where the validation score is taken."""
    seen = []
    real_score = type(est)._score

    def score(self, X, y, sample_weight=None):
        seen.append((self._forward_pass_fast(X, check_input=False).copy(), y, sample_weight))
        return real_score(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(type(est), "_score", score)
    return seen


@pytest.mark.parametrize("case", ["regressor", "regressor-weighted", "poisson",
                                  "binary", "multiclass-weighted", "multilabel"])
def test_validation_loss_curve_is_the_loss_of_each_epochs_predictions(case, monkeypatch):
    X, y = _data()
    sw = None
    if case.startswith("regressor") or case == "poisson":
        target = np.exp(X[:, 0] / 2) if case == "poisson" else X @ [1.0, -2.0, 0.5, 0.0]
        est = MLPRegressor(loss="poisson" if case == "poisson" else "squared_error")
        loss_name = "poisson" if case == "poisson" else "squared_error"
    else:
        target = {"binary": y > 0, "multiclass-weighted": y,
                  "multilabel": np.c_[y > 0, X[:, 2] > 0].astype(int)}[case]
        est = MLPClassifier()
        loss_name = "log_loss" if case == "multiclass-weighted" else "binary_log_loss"
    if case.endswith("weighted"):
        sw = np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    est.set_params(hidden_layer_sizes=(5,), max_iter=12, random_state=0, early_stopping=True,
                   n_iter_no_change=20)
    seen = _record_validation_predictions(monkeypatch, est)
    _fit(est, X, target, sample_weight=sw)
    assert len(est.validation_loss_curve_) == len(est.validation_scores_) == est.n_iter_
    assert len(seen) == est.n_iter_
    for got, (pred, y_val, sw_val) in zip(est.validation_loss_curve_, seen):
        if hasattr(est, "classes_"):
            y_val = est._label_binarizer.transform(y_val)
        expected = LOSS_FUNCTIONS[loss_name](np.asarray(y_val, dtype=float).reshape(pred.shape),
                                             pred, sample_weight=sw_val)
        # One pass over ~15 validation rows in float64: rounding far below 1e-12.
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert len(set(est.validation_loss_curve_)) > 1  # it moves as training goes on


def test_validation_loss_curve_is_none_without_early_stopping():
    X, y = _data()
    est = _fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=3), X, X[:, 0])
    assert est.validation_loss_curve_ is None
    clf = _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, solver="lbfgs"), X, y)
    assert not hasattr(clf, "validation_loss_curve_")  # lbfgs keeps no curves, as sklearn


def test_validation_loss_curve_survives_save_and_warm_start(tmp_path):
    X, y = _data()
    params = dict(hidden_layer_sizes=(5,), max_iter=6, random_state=0, early_stopping=True,
                  n_iter_no_change=50)
    est = _fit(MLPClassifier(**params), X, y)
    fastnet.save(est, tmp_path / "m.fnet")
    loaded = fastnet.load(tmp_path / "m.fnet")
    assert loaded.validation_loss_curve_ == est.validation_loss_curve_
    loaded.set_params(warm_start=True, max_iter=3)
    _fit(loaded, X, y)
    assert len(loaded.validation_loss_curve_) == len(loaded.validation_scores_) == 9
