"""The predict paths: same answers and same errors as the validated, fused path.

``predict`` skips scikit-learn's ``validate_data`` for plain float ndarrays
(see ``BaseMLP._lean_forward``).  The oracle here is scikit-learn itself: a
scikit-learn model with the same weights must give the same predictions (within
``_compare``'s tolerances: rtol 1e-9 plus the rounding budget), and the same
inputs must fail with the same error messages.
"""

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import LabelBinarizer

from _compare import assert_close, assert_same_predictions, clear_decisions, k_predict
from fastnet import MLPClassifier, MLPRegressor
from fastnet.estimators import _decode_labels


def _fit_pair(fast_cls, sk_cls, X, y, **params):
    params = dict(hidden_layer_sizes=(7, 5), max_iter=30, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fast_cls(**params).fit(X, y), sk_cls(**params).fit(X, y)


@pytest.fixture(scope="module")
def regressors(regression_data):
    X, y, _ = regression_data
    return _fit_pair(MLPRegressor, SkMLPRegressor, X, y)


@pytest.fixture(scope="module")
def multiclass(regression_data):
    X, y, _ = regression_data
    labels = np.array(["low", "mid", "high"])[np.digitize(y, [-0.3, 0.3])]
    return _fit_pair(MLPClassifier, SkMLPClassifier, X, labels)


@pytest.fixture(scope="module")
def binary(regression_data):
    X, y, _ = regression_data
    return _fit_pair(MLPClassifier, SkMLPClassifier, X, np.where(y > 0, 7, -3))


def _inputs(X):
    """Inputs the lean path takes as they are or after a cheap conversion."""
    rows = X[:5]
    return {
        "one row": X[:1].copy(),
        "float32": rows.astype(np.float32),
        "fortran order": np.asfortranarray(rows),
        "strided view": X[::3],
        "read-only": np.array(rows, copy=True),
    }


@pytest.mark.parametrize("case", ["one row", "float32", "fortran order", "strided view",
                                  "read-only"])
def test_regressor_matches_sklearn(regressors, regression_data, case):
    fast, sk = regressors
    X = regression_data[0]
    x = _inputs(X)[case]
    if case == "read-only":
        x.setflags(write=False)
    assert fast._lean_forward(x) is not None, "the lean path should take this input"
    assert_same_predictions(fast, sk, x)


@pytest.mark.parametrize("fixture", ["multiclass", "binary"])
def test_classifier_matches_sklearn(request, regression_data, fixture):
    fast, sk = request.getfixturevalue(fixture)
    X = regression_data[0]
    for x in (X[:1], X[:40]):
        assert fast._lean_forward(x) is not None
        assert clear_decisions(sk, x).all()  # so the labels must be identical
        np.testing.assert_array_equal(fast.predict(x), sk.predict(x))
        assert_same_predictions(fast, sk, x)  # probabilities and log-probabilities too


@pytest.mark.parametrize("y", [np.array([0, 1, 1, 0, 1]), np.array(["b", "a", "c", "a", "b"]),
                               np.array([10, -1, 10, 2, 2])])
def test_decode_labels_is_inverse_transform(y):
    rng = np.random.RandomState(0)
    lb = LabelBinarizer().fit(y)
    n_cols = 1 if len(lb.classes_) == 2 else len(lb.classes_)
    scores = rng.rand(50, n_cols)
    if n_cols == 1:
        scores = scores.ravel()
        scores[:3] = 0.5  # exactly on the threshold
    np.testing.assert_array_equal(_decode_labels(lb, scores), lb.inverse_transform(scores))


BAD_ROWS = {
    "nan": np.array([[np.nan, 0, 0, 0, 0, 0]]),
    "inf": np.array([[0, 0, 0, np.inf, 0, 0]]),
    "-inf in float32": np.array([[0, 0, 0, 0, 0, -np.inf]], dtype=np.float32),
    "too few columns": np.zeros((1, 5)),
    "too many columns": np.zeros((2, 7)),
    "no rows": np.zeros((0, 6)),
    "1-D": np.zeros(6),
    "3-D": np.zeros((1, 6, 1)),
    "complex": np.zeros((1, 6), dtype=complex),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
@pytest.mark.parametrize("kind", ["regressors", "multiclass"])
def test_bad_rows_fail_like_sklearn(request, kind, case):
    fast, sk = request.getfixturevalue(kind)
    x = BAD_ROWS[case]
    with pytest.raises(ValueError) as sk_error:
        sk.predict(x)
    with pytest.raises(ValueError) as fast_error:
        fast.predict(x)
    assert str(fast_error.value) == str(sk_error.value)
    # The model is untouched: it still predicts a good row as scikit-learn does.
    assert_same_predictions(fast, sk, np.ones((1, 6)))


def test_nan_in_last_row_of_many_is_found(regressors):
    fast, _ = regressors
    x = np.ones((300, 6))
    x[-1, -1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fast.predict(x)


def test_replaced_weights_are_used(regression_data):
    X, y, _ = regression_data
    fast, sk = _fit_pair(MLPRegressor, SkMLPRegressor, X, y)
    new_coef = fast.coefs_[0] * 2.0
    fast.coefs_[0] = new_coef  # in place in the list: the network must be rebuilt
    sk.coefs_[0] = sk.coefs_[0] * 2.0
    assert_same_predictions(fast, sk, X[:1])


@pytest.mark.parametrize("layer", [0, -1])
def test_replaced_intercepts_are_used(regression_data, layer):
    """The lean path checks the intercepts' views as well as the weights'."""
    X, y, _ = regression_data
    fast, sk = _fit_pair(MLPRegressor, SkMLPRegressor, X, y)
    fast.predict(X[:1])  # the lean path bound first
    fast.intercepts_[layer] = fast.intercepts_[layer] + 1.0
    sk.intercepts_[layer] = sk.intercepts_[layer] + 1.0
    assert_same_predictions(fast, sk, X[:1])


def test_feature_names_still_checked(regression_data):
    pd = pytest.importorskip("pandas")
    X, y, _ = regression_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    fast, sk = _fit_pair(MLPRegressor, SkMLPRegressor, frame, y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        sk.predict(X[:1])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        fast_pred = fast.predict(X[:1])
    assert_close(fast_pred, sk.predict(frame.iloc[:1]), k=k_predict(sk))


def test_unfitted_model_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPRegressor().predict(np.zeros((1, 3)))
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(np.zeros((1, 3)))


# --------------------------------------------------- layer-by-layer NumPy path
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden", ["tanh", "logistic", "relu", "identity"])
@pytest.mark.parametrize("output", ["identity", "exp", "logistic", "softmax"])
def test_layerwise_forward_matches_fused_kernel(dtype, hidden, output):
    from fastnet import Network, _layerwise

    rng = np.random.RandomState(0)
    net = Network([5, 9, 7, 3], activation=hidden, output_activation=output, dtype=dtype,
                  random_state=1)
    X = rng.randn(_layerwise.MIN_ROWS + 11, 5).astype(dtype)
    acts = np.empty(X.shape[0] * net.layout.activation_size, dtype=dtype)
    from fastnet.kernels import dense as kdense
    from fastnet.kernels import groups

    expected = kdense.dense_forward(net.params.flat, net.layout.group, net._codes, X, acts,
                                    groups.NO_DROPOUT)
    got = _layerwise.forward(net, X)
    assert got.dtype == np.dtype(dtype) and got.shape == expected.shape
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
    # Network.forward takes this path exactly when the hidden activation needs exp/tanh.
    assert _layerwise.worthwhile(net, X.shape[0]) == (hidden in ("tanh", "logistic"))
    assert not _layerwise.worthwhile(net, _layerwise.MIN_ROWS - 1)
    np.testing.assert_allclose(net.forward(X), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_many_rows_predict_like_sklearn(regression_data, activation):
    X, y, _ = regression_data
    fast, sk = _fit_pair(MLPRegressor, SkMLPRegressor, X, y, activation=activation)
    big = np.vstack([X] * 3)
    from fastnet import _layerwise

    assert _layerwise.worthwhile(fast._network, big.shape[0])
    # NumPy's SIMD tanh / exp here, libm's in scikit-learn's: _compare's budget covers it
    assert_same_predictions(fast, sk, big)
    bad = big.copy()
    bad[-1, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fast.predict(bad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_rows_predict_in_chunks_like_sklearn(regression_data, dtype):
    """More rows than one chunk (``kernels.dense.chunk_rows``): predict goes chunk by chunk
    through the compiled kernel and must still give scikit-learn's predictions; a NaN in
    the last chunk still takes the full path and scikit-learn's error."""
    X, y, _ = regression_data
    X, y = X.astype(dtype), y.astype(dtype)
    fast, sk = _fit_pair(MLPRegressor, SkMLPRegressor, X, y, activation="relu")
    chunk = fast._network._chunk
    big = np.vstack([X] * (2 * chunk // X.shape[0] + 2))[: 2 * chunk + 3]
    assert big.shape[0] > 2 * chunk
    assert fast._lean_forward(big) is not None
    assert_same_predictions(fast, sk, big)
    from fastnet import Network

    net = fast._network
    assert isinstance(net, Network)
    np.testing.assert_array_equal(net.forward(big), fast._lean_forward(big))
    bad = big.copy()
    bad[-1, 0] = np.nan
    assert fast._lean_forward(bad) is None
    with pytest.raises(ValueError, match="NaN"):
        fast.predict(bad)


# ------------------------------------------------ class predictions without the softmax
def _logits(net, X):
    """The output layer's pre-activations, in float64 NumPy (the oracle)."""
    A = X.astype(np.float64)
    last = len(net.params.coefs) - 1
    for i, (W, b) in enumerate(zip(net.params.coefs, net.params.intercepts)):
        A = A @ W + b
        if i < last:
            A = np.tanh(A) if net.activation == "tanh" else np.maximum(A, 0)
    return A


@pytest.mark.parametrize("hidden", ["relu", "tanh"])
@pytest.mark.parametrize("rows", ["one", "few", "layer-wise", "chunks"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_argmax_only_forward_is_the_softmax_layers_input(hidden, rows, dtype):
    """Every forward path with ``argmax_only`` returns the pre-activations of a softmax
    output (not probabilities: the rows don't sum to 1), and their row maxima are where
    the probabilities' are.  Tolerance: products of at most 9-term sums of O(1) values
    and ulp-level tanh, a few hundred eps of the dtype covers them (64 * eps * scale)."""
    from fastnet import Network, _layerwise

    net = Network([4, 9, 5], activation=hidden, output_activation="softmax", dtype=dtype,
                  random_state=2)
    n = {"one": 1, "few": _layerwise.MIN_ROWS - 1, "layer-wise": _layerwise.MIN_ROWS + 5,
         "chunks": 2 * net._chunk + 3}[rows]
    X = np.random.RandomState(4).randn(n, 4).astype(dtype)
    ref = _logits(net, X)
    tol = 64 * np.finfo(dtype).eps * (1 + np.abs(ref).max())
    for got in (net._forward(X, argmax_only=True), net._forward_if_finite(X, argmax_only=True)):
        assert got.dtype == dtype and got.shape == (n, 5)
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol)
    proba = net.forward(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=16 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(proba.argmax(axis=1), ref.argmax(axis=1))
    # A logistic output is kept: its outputs are compared with 0.5, not ranked.
    binary = Network([4, 9, 1], activation=hidden, output_activation="logistic", dtype=dtype,
                     random_state=2)
    np.testing.assert_array_equal(binary._forward(X, argmax_only=True), binary.forward(X))


@pytest.mark.parametrize("n_rows", [1, 200, 3000])
def test_multiclass_predict_is_argmax_of_predict_proba_and_sklearns(multiclass, regression_data,
                                                                   n_rows):
    fast, sk = multiclass
    X, _, _ = regression_data
    big = np.resize(X, (n_rows, X.shape[1])) + 0.01 * np.arange(n_rows)[:, None]
    got = fast.predict(big)
    np.testing.assert_array_equal(got, fast.classes_[fast.predict_proba(big).argmax(axis=1)])
    assert_same_predictions(fast, sk, big)
