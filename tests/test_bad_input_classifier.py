"""Bad inputs for the classifier: the rules only a classifier has.

The tables both estimators share -- and the classifier's own cases (label types,
``classes`` in partial_fit, warm starts that change the classes, stratified
early-stopping splits), which run through the same machinery -- are in
``_bad_input`` and run by ``test_bad_input.py``.  Here: the tests that are not
a table row.

Classifier-specific rules checked (all scikit-learn 1.9 behaviour):

* ``partial_fit`` needs ``classes`` on its first call (multilabel too), must
  then keep them, and later ``y`` may only use labels from ``classes_``;
  a warm-start ``fit`` needs exactly the same set of classes.
* Continuous float y is refused ("Unknown label type"), y with NaN is refused,
  a 2-D y that is not a 0/1 indicator is refused ("Multioutput target data is
  not supported with label binarization").
* A single class is *accepted* by scikit-learn (logistic output, all-zero
  target, ``predict_proba`` with two columns); fastnet must do the same.
* ``early_stopping`` splits stratified only for single-output targets
  (binary), so a class with one member fails there but not for multiclass.
"""

import numpy as np
import pytest

import fastnet
from _bad_input import BASE, CLASSIFIER, N, SINGLE, X0, Y3, fitted, outputs
from _compare import assert_close_proba

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_retry_after_failed_first_partial_fit_trains_like_a_fresh_model():
    """The natural fix of a wrong ``classes`` -- call again with the right ones --
    must work on the same object and train exactly as a fresh model.
    (scikit-learn refuses the retry: "`classes=[0, 1, 2]` is not the same as on
    last call to partial_fit", because its failed first call kept ``classes_``.)"""
    model = fastnet.MLPClassifier(**BASE)
    with pytest.raises(ValueError, match="classes not in"):
        model.partial_fit(X0, Y3, classes=[0, 1])
    model.partial_fit(X0, Y3, classes=[0, 1, 2])
    fresh = fastnet.MLPClassifier(**BASE).partial_fit(X0, Y3, classes=[0, 1, 2])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    for a, b in zip(outputs(CLASSIFIER, model), outputs(CLASSIFIER, fresh)):
        np.testing.assert_array_equal(a, b)


def test_partial_fit_is_missing_on_a_fitted_lbfgs_model():
    for cls in (CLASSIFIER.sk, CLASSIFIER.fast):
        model = fitted(CLASSIFIER, cls, solver="lbfgs")
        assert not hasattr(model, "partial_fit")
        model.set_params(solver="sgd")
        assert hasattr(model, "partial_fit")


def test_loss_is_not_a_classifier_parameter():
    for cls in (CLASSIFIER.sk, CLASSIFIER.fast):
        assert "loss" not in cls().get_params()
        with pytest.raises(ValueError, match="Invalid parameter 'loss'"):
            cls().set_params(loss="squared_error")


def test_single_class_is_accepted_like_sklearn():
    """A single class: scikit-learn trains a logistic output on an all-zero
    target and always predicts the class; predict_proba still has two columns."""
    sk = fitted(CLASSIFIER, CLASSIFIER.sk).fit(X0, SINGLE + 7)
    fn = fitted(CLASSIFIER, CLASSIFIER.fast).fit(X0, SINGLE + 7)
    np.testing.assert_array_equal(fn.classes_, [7])
    assert fn.out_activation_ == sk.out_activation_ == "logistic"
    np.testing.assert_array_equal(fn.predict(X0), np.full(N, 7))
    proba = fn.predict_proba(X0)
    assert proba.shape == (N, 2)
    assert_close_proba(proba, sk.predict_proba(X0))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
