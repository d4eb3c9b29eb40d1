"""ONNX export (fastnet.onnx): onnxruntime's outputs against predict / predict_proba.

Tolerances: float64 1e-12 relative, float32 1e-5 relative, each with an absolute
term for outputs near 0 (see ``_abs_term``); probabilities (in [0, 1]) 1e-12 /
1e-5 absolute; labels exactly equal.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import fastnet
from fastnet import MLPClassifier, MLPRegressor
from fastnet.kernels import registry

import reference as R

skl2onnx = pytest.importorskip("skl2onnx", reason='the onnx extra: pip install "fastnet[onnx]"')
ort = pytest.importorskip("onnxruntime", reason='the onnx extra: pip install "fastnet[onnx]"')
import fastnet.onnx  # noqa: E402  (registers the converters)
from onnx import TensorProto  # noqa: E402
from skl2onnx.common.data_types import FloatTensorType, StringTensorType  # noqa: E402

DTYPES = (np.float32, np.float64)
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
PROBA_ATOL = {np.float32: 1e-5, np.float64: 1e-12}
N_FEATURES = 5


def _X(dtype, n=48, seed=0):
    return np.random.RandomState(seed).randn(n, N_FEATURES).astype(dtype)


def _reg(**params):
    return MLPRegressor(random_state=0, **params)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _session(onx):
    return ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(onx, X):
    """onnxruntime's outputs, by output name."""
    sess = _session(onx)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: X})))


def _abs_term(model, X):
    """The absolute tolerance for outputs near 0, derived from the sum length.

    Every pre-activation is a sum of ``fan_in`` products and a bias.  fastnet
    (BLAS, or NumPy layer by layer) and onnxruntime add them in different orders,
    and two orders of a sum of n terms may differ by up to about
    ``2 n eps sum(|terms|)``: an error relative to the size of the *terms*, not of
    the result, so where the terms cancel to nearly 0 a relative tolerance alone
    fails.  ``sum(|terms|)`` is taken at the output layer (``|H| @ |W| + |b|``),
    n is the longest sum in the network (largest fan-in, plus the bias), and the
    rounding of each earlier layer reaches the output through weights of the same
    size: one more factor of the number of layers.
    """
    dtype = model.coefs_[0].dtype
    coefs = [W.astype(np.float64) for W in model.coefs_]
    intercepts = [b.astype(np.float64) for b in model.intercepts_]
    acts = R.forward(X.astype(np.float64), coefs, intercepts, model.activation,
                             "identity")
    terms = np.abs(acts[-2]) @ np.abs(coefs[-1]) + np.abs(intercepts[-1])
    n = max(W.shape[0] for W in coefs) + 1
    return 2 * len(coefs) * n * np.finfo(dtype).eps * terms.max()


def _assert_regression(onx, model, X):
    out = _run(onx, X)["variable"]
    expected = model.predict(X).reshape(len(X), -1)
    dtype = model.coefs_[0].dtype.type
    assert out.dtype == dtype and out.shape == expected.shape
    if model.out_activation_ == "exp":
        # exp turns the pre-activation's absolute error into a relative one.
        assert_allclose(out, expected, rtol=RTOL[dtype] + _abs_term(model, X), atol=0)
    else:
        assert_allclose(out, expected, rtol=RTOL[dtype], atol=_abs_term(model, X))


# ------------------------------------------------------------------- regressor
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regressor(dtype, n_outputs):
    X = _X(dtype)
    Y = np.random.RandomState(1).randn(len(X), n_outputs).astype(dtype)
    model = _fit(_reg(hidden_layer_sizes=(7, 4), activation="tanh", max_iter=15), X,
                 Y[:, 0] if n_outputs == 1 else Y)
    onx = skl2onnx.to_onnx(model, X[:1])
    # Multi-output keeps its columns (skl2onnx's own MLP converter reshapes to (-1, 1)).
    _assert_regression(onx, model, X)
    elem = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE}[dtype]
    assert onx.graph.input[0].type.tensor_type.elem_type == elem
    assert onx.graph.output[0].type.tensor_type.elem_type == elem
    # The weights travel in the model's dtype: no float32 rounding of a float64 model.
    assert {init.data_type for init in onx.graph.initializer} == {elem}


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson(dtype):
    X = _X(dtype)
    y = np.random.RandomState(2).poisson(3.0, size=(len(X), 2)).astype(dtype)
    model = _fit(_reg(hidden_layer_sizes=(6,), loss="poisson", max_iter=15), X, y)
    assert model.out_activation_ == "exp"
    onx = skl2onnx.to_onnx(model, X[:1])
    assert onx.graph.node[-1].op_type == "Exp"
    _assert_regression(onx, model, X)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", registry.HIDDEN_ACTIVATIONS)
def test_every_hidden_activation(activation, dtype):
    X = _X(dtype)
    y = np.sin(X[:, 0]) + X[:, 1]
    model = _fit(_reg(hidden_layer_sizes=(6, 5), activation=activation, max_iter=10), X, y)
    _assert_regression(skl2onnx.to_onnx(model, X[:1]), model, X)


def test_every_activation_is_convertible():
    """A new registry activation without an ONNX operator fails here, not in a user's hands."""
    assert set(fastnet.onnx.CONVERTIBLE_ACTIVATIONS) == set(registry.ACTIVATIONS)


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_hidden_layer(dtype):
    X = _X(dtype)
    reg = _fit(_reg(hidden_layer_sizes=(), max_iter=10), X, X @ np.arange(N_FEATURES))
    _assert_regression(skl2onnx.to_onnx(reg, X[:1]), reg, X)
    clf = _fit(MLPClassifier((), max_iter=10, random_state=0), X, X[:, 0] > 0)
    _assert_classifier(clf, X, zipmap=False)


@pytest.mark.parametrize("model_dtype, input_dtype", [(np.float32, np.float64),
                                                       (np.float64, np.float32)])
def test_graph_computes_in_the_model_dtype(model_dtype, input_dtype):
    """As predict: the input is cast to the model's dtype, the output is in it."""
    X = _X(model_dtype)
    model = _fit(_reg(hidden_layer_sizes=(6,), max_iter=10), X, X[:, 0])
    Xin = X.astype(input_dtype)
    onx = skl2onnx.to_onnx(model, Xin[:1])
    out = _run(onx, Xin)["variable"]
    assert out.dtype == model_dtype
    assert_allclose(out.ravel(), model.predict(Xin), rtol=RTOL[model_dtype],
                    atol=_abs_term(model, X))


# ------------------------------------------------------------------ classifier
_CASES = {
    "binary-int": lambda rng, n: rng.randint(0, 2, n) * 7 - 3,
    "binary-str": lambda rng, n: np.array(["no", "yes"])[rng.randint(0, 2, n)],
    # Labels beyond int32: the label output is int64 throughout.
    "multiclass-int": lambda rng, n: np.array([-5, 10**12, 7])[rng.randint(0, 3, n)],
    "multiclass-str": lambda rng, n: np.array(["cat", "dog", "émeu", "ox"])[rng.randint(0, 4, n)],
    "multilabel": lambda rng, n: rng.randint(0, 2, (n, 3)),
}
_fitted = {}


def _classifier(case, dtype):
    """One small fitted classifier per case and dtype, shared by the zipmap variants."""
    key = (case, dtype)
    if key not in _fitted:
        X = _X(dtype)
        y = _CASES[case](np.random.RandomState(3), len(X))
        _fitted[key] = _fit(MLPClassifier((8,), max_iter=20, random_state=0), X, y), X
    return _fitted[key]


def _assert_classifier(model, X, zipmap):
    dtype = model.coefs_[0].dtype.type
    options = None if zipmap is None else {id(model): {"zipmap": zipmap}}
    out = _run(skl2onnx.to_onnx(model, X[:1], options=options), X)
    expected_labels = model.predict(X)
    expected_proba = model.predict_proba(X)
    if zipmap is False:
        labels, proba = out["label"], out["probabilities"]
        assert proba.dtype == dtype
        assert_allclose(proba, expected_proba, rtol=0, atol=PROBA_ATOL[dtype])
    elif zipmap == "columns":
        labels = out["output_label"]
        names = [("i%d" if np.asarray(model.classes_).dtype.kind in "biu" else "s%s") % c
                 for c in model.classes_]
        proba = np.column_stack([out[name] for name in names])
        assert proba.dtype == dtype
        assert_allclose(proba, expected_proba, rtol=0, atol=PROBA_ATOL[dtype])
    else:
        labels, maps = out["output_label"], out["output_probability"]
        assert [list(m) for m in maps] == [list(model.classes_)] * len(X)
        proba = np.array([list(m.values()) for m in maps])
        # ONNX's ZipMap holds float32 values: a float64 model's probabilities are
        # rounded to float32 there (within 2**-25 of a value in [0, 1], one ulp of slack).
        atol = max(PROBA_ATOL[dtype], 2.0**-24)
        assert_allclose(proba, expected_proba, rtol=0, atol=atol)
    assert labels.shape == expected_labels.shape
    if expected_labels.dtype.kind in "biuf":
        assert labels.dtype == np.int64
        assert np.array_equal(labels, expected_labels)
    else:
        assert labels.tolist() == expected_labels.tolist()


@pytest.mark.parametrize("zipmap", [None, False, "columns"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(_CASES))
def test_classifier(case, dtype, zipmap):
    model, X = _classifier(case, dtype)
    assert model.out_activation_ == ("softmax" if case.startswith("multiclass") else "logistic")
    _assert_classifier(model, X, zipmap)


@pytest.mark.parametrize("zipmap", [True, False])
def test_outputs_match_skl2onnx_for_sklearn(zipmap):
    """The same output names and types as skl2onnx gives scikit-learn's MLPClassifier."""
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    X = _X(np.float32)
    y = np.random.RandomState(4).randint(0, 3, len(X))
    ours = _fit(MLPClassifier((5,), max_iter=5, random_state=0), X, y)
    theirs = _fit(SkMLPClassifier((5,), max_iter=5, random_state=0), X, y)

    def signature(model):
        sess = _session(skl2onnx.to_onnx(model, X[:1], options={"zipmap": zipmap}))
        return [(o.name, o.type) for o in sess.get_inputs() + sess.get_outputs()]

    assert signature(ours) == signature(theirs)


def test_label_types():
    """Float labels that are integers export as int64 (as skl2onnx); bool as int64 too."""
    X = _X(np.float64)
    for y in (np.array([0.0, 1.0, 2.0])[np.arange(len(X)) % 3], X[:, 0] > 0):
        model = _fit(MLPClassifier((4,), max_iter=5, random_state=0), X, y)
        _assert_classifier(model, X, zipmap=False)
        _assert_classifier(model, X, zipmap=None)


def test_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = _X(np.float32) * 10 + 3
    y = np.random.RandomState(5).randint(0, 3, len(X))
    pipe = _fit(make_pipeline(StandardScaler(), MLPClassifier((6,), max_iter=10,
                                                              random_state=0)), X, y)
    out = _run(skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False}), X)
    assert np.array_equal(out["label"], pipe.predict(X))
    assert_allclose(out["probabilities"], pipe.predict_proba(X), atol=1e-5)


@pytest.mark.skipif("dropout" not in MLPRegressor().get_params(),
                    reason="this fastnet has no dropout parameter")
def test_dropout_is_not_in_the_graph():
    X = _X(np.float64)
    model = _fit(_reg(hidden_layer_sizes=(8,), dropout=0.5, max_iter=10), X, X[:, 0])
    _assert_regression(skl2onnx.to_onnx(model, X[:1]), model, X)


# ------------------------------------------------------------------ public API
def test_convenience_to_onnx():
    model, X = _classifier("multiclass-str", np.float64)
    out = _run(fastnet.onnx.to_onnx(model, X, zipmap=False), X)
    assert out["probabilities"].dtype == np.float64
    assert out["label"].tolist() == model.predict(X).tolist()
    # Default zipmap, and skl2onnx's keywords pass through.
    onx = fastnet.onnx.to_onnx(model, X[:1], target_opset=17)
    assert {o.name for o in _session(onx).get_outputs()} == {"output_label",
                                                             "output_probability"}
    reg = _fit(_reg(hidden_layer_sizes=(3,), max_iter=5), X, X[:, 0])
    with pytest.raises(ValueError, match="zipmap"):
        fastnet.onnx.to_onnx(reg, X, zipmap=False)


def test_register_is_idempotent():
    from skl2onnx._supported_operators import sklearn_operator_name_map

    fastnet.onnx.register()
    fastnet.onnx.register()
    assert sklearn_operator_name_map[MLPRegressor] == "FastnetMLPRegressor"
    assert sklearn_operator_name_map[MLPClassifier] == "FastnetMLPClassifier"


def test_import_fastnet_does_not_import_onnx():
    code = ("import sys, fastnet; "
            "bad = [m for m in ('skl2onnx', 'onnx', 'onnxruntime') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # import skl2onnx -> ImportError
    monkeypatch.delitem(sys.modules, "fastnet.onnx")
    with pytest.raises(ImportError, match=r'pip install "fastnet\[onnx\]"'):
        import fastnet.onnx  # noqa: F401


# ---------------------------------------------------------------------- errors
def test_unfitted_model():
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(MLPRegressor(), _X(np.float32)[:1])


def test_wrong_number_of_features():
    model, X = _classifier("binary-int", np.float32)
    with pytest.raises(ValueError, match="fitted with 5 features"):
        skl2onnx.to_onnx(model, X[:1, :3])


def test_string_input():
    model, X = _classifier("binary-int", np.float32)
    with pytest.raises(TypeError, match="numeric input tensor"):
        skl2onnx.to_onnx(model, initial_types=[("X", StringTensorType([None, N_FEATURES]))])


def test_unsupported_activation():
    X = _X(np.float32)
    model = _fit(_reg(hidden_layer_sizes=(3,), max_iter=5), X, X[:, 0])
    model.out_activation_ = "softplus"  # as if the registry had gained one
    with pytest.raises(ValueError, match="cannot convert the output activation 'softplus'"):
        skl2onnx.to_onnx(model, initial_types=[("X", FloatTensorType([None, N_FEATURES]))])

