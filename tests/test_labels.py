"""kernels/labels.py's ``argmax_rows`` against NumPy's ``argmax(axis=1)`` (the oracle),
and the classifier's predict on both sides of ``COMPILED_ARGMAX_ROWS``."""

import numpy as np
import pytest

from fastnet import MLPClassifier
from fastnet.estimators import COMPILED_ARGMAX_ROWS
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
