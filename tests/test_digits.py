"""The article's handwritten digits: fastnet against scikit-learn on ``load_digits``.

The article's recipe: scikit-learn's bundled 8x8 digits (no download), pixels
scaled to [0, 1] by dividing by 16, ``train_test_split(..., random_state=0)``
(75 % / 25 %: 1347 training and 450 test images) and
``MLPClassifier(hidden_layer_sizes=(100,), random_state=0)`` with every other
parameter at its default (adam, ``max_iter=200``).

With the same seed fastnet trains the same weights as scikit-learn, so in float64
its test accuracy is exactly scikit-learn's (and at least 0.96, the article's
claim), its predictions are identical and its weights, losses and probabilities
agree within ``_compare``'s tolerances (rtol 1e-9 plus the rounding budget of 1400
Adam steps).  In float32 (fastnet trains in float32 end to end; scikit-learn is fed
the same float32 X) rounding differs, so the claim is: accuracy at least 0.96 and
within one percentage point of scikit-learn's float32 run, and fastnet stops where
scikit-learn's rule stops on fastnet's own loss curve (the rule's margin there is
below float32's loss tolerance, so the two runs' epochs counts are not compared).

Each of the four fits (two libraries, two dtypes) runs once per module, with
BLAS limited to one thread (threadpoolctl).  The default ``max_iter=200`` is
kept: on the 2-core test machine, busy with parallel jobs, a 200-epoch fit took
0.2-0.7 s with one BLAS thread but 4-23 s with OpenBLAS's two threads fighting
the other jobs for the cores.  The thread count changes no claim tested here:
both libraries run under the same limit.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

from _compare import (assert_close_proba, assert_same_losses, assert_same_params, clear_decisions,
                      max_iter_warning, replayed_n_iter, sklearn_params_and_ours, stops_clearly)
from fastnet import MLPClassifier

ARTICLE_PARAMS = dict(hidden_layer_sizes=(100,), random_state=0)
MIN_ACCURACY = 0.96


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    return X_train, X_test, y_train, y_test


def _fit(cls, X, y):
    """Fit with the article's parameters; returns the model and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(1, user_api="blas"):
        warnings.simplefilter("always")
        model = cls(**ARTICLE_PARAMS).fit(X, y)
    return model, [(w.category, str(w.message)) for w in caught]


_FITS = {}


def _fitted(dtype, digits):
    """(fastnet model, scikit-learn model, their warnings, X_test, y_test) in one dtype.

    Fitted once per dtype for the whole module.
    """
    key = np.dtype(dtype).name
    if key not in _FITS:
        X_train, X_test, y_train, y_test = digits
        X_train, X_test = X_train.astype(dtype), X_test.astype(dtype)
        fn, fn_warnings = _fit(MLPClassifier, X_train, y_train)
        sk, sk_warnings = _fit(SkMLPClassifier, X_train, y_train)
        _FITS[key] = dict(dtype=dtype, fn=fn, sk=sk, fn_warnings=fn_warnings,
                          sk_warnings=sk_warnings, X_test=X_test, y_test=y_test)
    return _FITS[key]


@pytest.fixture(scope="module", params=[np.float64, np.float32], ids=["float64", "float32"])
def fitted(request, digits):
    return _fitted(request.param, digits)


@pytest.fixture(scope="module")
def fitted64(digits):
    return _fitted(np.float64, digits)


def test_recipe_is_the_articles(digits):
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))
    # The defaults the article relies on are scikit-learn's.
    assert MLPClassifier(**ARTICLE_PARAMS).get_params() == sklearn_params_and_ours(
        "classifier", SkMLPClassifier(**ARTICLE_PARAMS).get_params())
    assert MLPClassifier().max_iter == 200 and MLPClassifier().solver == "adam"


def test_accuracy_at_least_096(fitted):
    fn = fitted["fn"]
    accuracy = fn.score(fitted["X_test"], fitted["y_test"])
    assert accuracy >= MIN_ACCURACY
    assert accuracy == np.mean(fn.predict(fitted["X_test"]) == fitted["y_test"])


def test_trains_in_the_input_dtype(fitted):
    fn, dtype = fitted["fn"], fitted["dtype"]
    for array in fn.coefs_ + fn.intercepts_:
        assert array.dtype == dtype
    assert fn.predict_proba(fitted["X_test"]).dtype == dtype
    assert fn.out_activation_ == fitted["sk"].out_activation_ == "softmax"
    assert_array_equal(fn.classes_, np.arange(10))


def test_accuracy_matches_sklearn(fitted):
    fn, sk = fitted["fn"], fitted["sk"]
    X_test, y_test = fitted["X_test"], fitted["y_test"]
    fn_accuracy, sk_accuracy = fn.score(X_test, y_test), sk.score(X_test, y_test)
    assert sk_accuracy >= MIN_ACCURACY  # the article's claim holds for the oracle too
    if fitted["dtype"] == np.float64:
        # same seed => same weights; no test label is a near-tie, so the same labels
        assert clear_decisions(sk, X_test).all()
        assert fn_accuracy == sk_accuracy
    else:
        assert abs(fn_accuracy - sk_accuracy) <= 0.01


def test_same_convergence_warnings(fitted):
    """Both stop at the same point and say so alike (warning category and message).

    Exactly where no stopping decision of scikit-learn's run is a near-tie (float64);
    otherwise fastnet must stop where scikit-learn's rule stops on fastnet's own loss
    curve, and warn as scikit-learn warns there.
    """
    fn, sk = fitted["fn"], fitted["sk"]
    assert {category for category, _ in fitted["sk_warnings"]} <= {ConvergenceWarning}
    assert fn.n_iter_ == len(fn.loss_curve_)
    assert fn.n_iter_ == replayed_n_iter(fn.loss_curve_, fn.tol, fn.n_iter_no_change)
    at_max_iter = [max_iter_warning(fn.max_iter)] if fn.n_iter_ == fn.max_iter else []
    assert fitted["fn_warnings"] == at_max_iter
    if fitted["dtype"] == np.float64:
        assert stops_clearly(sk)
    if stops_clearly(sk):
        assert fitted["fn_warnings"] == fitted["sk_warnings"]
        assert fn.n_iter_ == sk.n_iter_


def test_float64_predictions_identical(fitted64):
    fn, sk, X_test = fitted64["fn"], fitted64["sk"], fitted64["X_test"]
    assert clear_decisions(sk, X_test).all()
    assert_array_equal(fn.predict(X_test), sk.predict(X_test))
    assert_close_proba(fn.predict_proba(X_test), sk.predict_proba(X_test))


def test_float64_same_training(fitted64):
    fn, sk = fitted64["fn"], fitted64["sk"]
    assert fitted64["fn_warnings"] == fitted64["sk_warnings"]
    assert fn.n_iter_ == sk.n_iter_
    assert_same_losses(fn, sk)  # loss_curve_ and loss_
    assert_same_params(fn, sk)
