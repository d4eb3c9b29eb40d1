"""kernels/labels.py's ``argmax_rows`` against NumPy's ``argmax(axis=1)`` (the oracle),
the classifier's predict on both sides of ``COMPILED_ARGMAX_ROWS``, and the few-row
predict that takes the argmax inside the forward pass's compiled call
(``dense_argmax_if_finite``)."""

import numpy as np
import pytest

from fastnet import MLPClassifier
from fastnet import _layerwise
from fastnet.estimators import COMPILED_ARGMAX_ROWS
from fastnet.kernels import dense as kdense
from fastnet.kernels import packed as kpacked
from fastnet.kernels.labels import argmax_rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_argmax_rows_is_numpys(dtype, k):
    """Random rows, ties (the first largest wins), infinities and NaN (the first NaN
    wins, as in NumPy), in every column position."""
    rng = np.random.default_rng(k)
    Z = rng.integers(-2, 3, size=(500, k)).astype(dtype)  # many ties
    specials = [np.inf, -np.inf, np.nan]
    for row in range(0, 500, 7):
        Z[row, rng.integers(k)] = specials[row % 3]
    Z[1, :] = np.nan
    Z[2, :] = -np.inf
    got = argmax_rows(Z)
    assert got.dtype == np.intp and got.shape == (500,)
    np.testing.assert_array_equal(got, Z.argmax(axis=1))
    assert (np.isnan(Z).any(axis=1) == np.isnan(Z[np.arange(500), got])).all()


def test_argmax_rows_of_no_rows():
    assert argmax_rows(np.empty((0, 3))).shape == (0,)


def test_classifier_labels_on_both_sides_of_the_compiled_argmax():
    """predict == classes_[argmax(predict_proba)] for fewer and more rows than
    COMPILED_ARGMAX_ROWS, with string labels (the take of the classes)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = np.array(["ant", "bee", "cat", "dog"])[(X[:, 0] > 0) + 2 * (X[:, 1] > 0)]
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)
    for n in (COMPILED_ARGMAX_ROWS - 1, COMPILED_ARGMAX_ROWS, 3 * COMPILED_ARGMAX_ROWS):
        Xn = rng.standard_normal((n, 4))
        want = model.classes_[model.predict_proba(Xn).argmax(axis=1)]
        np.testing.assert_array_equal(model.predict(Xn), want)


@pytest.fixture(scope="module")
def four_classes():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 4))
    y = np.array(["ant", "bee", "cat", "dog"])[(X[:, 0] > 0) + 2 * (X[:, 1] > 0)]
    return X, y, MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)


@pytest.mark.parametrize("n", [1, 5, _layerwise.MIN_ROWS - 1, _layerwise.MIN_ROWS])
def test_few_row_predict_takes_the_argmax_in_the_compiled_call(four_classes, n):
    """Below MIN_ROWS rows a multiclass predict's classes come from one compiled call;
    they equal the classes at predict_proba's argmax, for inputs in the model's dtype
    and layout and for those converted first (float32, a strided view)."""
    _, _, model = four_classes
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 4))
    want = model.classes_[model.predict_proba(X).argmax(axis=1)]
    model._network.__dict__.pop("_argmax_entry", None)  # bound by the call that takes it
    np.testing.assert_array_equal(model.predict(X), want)
    assert ("_argmax_entry" in model._network.__dict__) == (n < _layerwise.MIN_ROWS)
    np.testing.assert_array_equal(model.predict(X.astype(np.float32)),
                                  model.classes_[model.predict_proba(X.astype(np.float32))
                                                 .argmax(axis=1)])
    wide = np.repeat(X, 2, axis=1)[:, ::2]  # the same values, not C-contiguous
    np.testing.assert_array_equal(model.predict(wide), want)


def test_dense_argmax_if_finite_is_the_argmax_of_the_forward(four_classes):
    _, _, model = four_classes
    net = model._network
    X = np.random.default_rng(2).standard_normal((7, 4))
    args = (net.params.flat, kpacked.pack(net.layout.group, net._argmax_codes), X)
    index = kdense.dense_argmax_if_finite(*args)
    np.testing.assert_array_equal(index, kdense.dense_forward_if_finite(*args).argmax(axis=1))
    X[3, 2] = np.nan
    assert kdense.dense_argmax_if_finite(*args).shape == (0,)


def test_a_nan_row_raises_as_scikit_learn_and_the_model_still_predicts(four_classes):
    X, _, model = four_classes
    bad = X[:2].copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict(bad)
    np.testing.assert_array_equal(model.predict(X[:2]),
                                  model.classes_[model.predict_proba(X[:2]).argmax(axis=1)])
