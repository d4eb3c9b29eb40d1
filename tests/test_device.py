"""The estimators' ``device`` parameter, on a machine where CUDA can't run.

``device='cpu'`` (the default) or ``'cuda'`` is a constructor parameter like
scikit-learn's own: kept by ``get_params`` / ``set_params`` / ``clone`` and
searched over by ``GridSearchCV``.  Checked here, without a GPU:

* ``import fastnet`` and everything a CPU model does (fit, predict, save,
  load, pickle) never import ``numba.cuda`` (a fresh interpreter's modules).
* ``device='cuda'`` where CUDA can't run: ``fit`` / ``partial_fit`` raise the
  ImportError (numba-cuda missing) or RuntimeError (no driver) that names the
  problem, and the estimator -- fitted or not, a user's RandomState included --
  is exactly as before the call.
* A model whose ``device`` is 'cuda' (as a model fitted on a GPU has it)
  pickles, saves and loads, keeps its ``device``, and predicts on the CPU,
  bit for bit as before, in a fresh interpreter that never imports
  ``numba.cuda``.

The CUDA path itself (training on the device, its agreement with the CPU) is
tested in ``tests_cuda/``, under Numba's CUDA simulator and on a real GPU.
"""

import io
import json
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

import fastnet
from fastnet import MLPClassifier, MLPRegressor, _device

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_RNG = np.random.RandomState(7)
X = _RNG.randn(40, 3)
Y_REG = X @ np.array([1.0, -0.5, 0.25]) + 0.1 * _RNG.randn(40)
Y_CLF = np.array(["a", "b", "c"])[np.digitize(X[:, 0], [-0.4, 0.4])]
SMALL = dict(hidden_layer_sizes=(4,), max_iter=3, batch_size=10, random_state=0)
ESTIMATORS = {"regressor": (MLPRegressor, Y_REG), "classifier": (MLPClassifier, Y_CLF)}
per_estimator = pytest.mark.parametrize("estimator", list(ESTIMATORS))


def _fit_args(estimator, method):
    """(y, extra keyword arguments) for ``method`` of ``estimator``."""
    _, y = ESTIMATORS[estimator]
    if estimator == "classifier" and method == "partial_fit":
        return y, {"classes": np.unique(y)}
    return y, {}


@pytest.fixture
def no_numba_cuda(monkeypatch):
    """This process as if numba-cuda (the ``cuda`` extra) were not installed."""
    monkeypatch.setattr(_device, "_numba_cuda_installed", lambda: False)


def _state(est):
    """Everything a fit could change, as comparable plain values (arrays as bytes)."""
    out = {}
    for key, value in sorted(vars(est).items()):
        if key == "_network":
            out[key] = (id(value), value.params.flat.tobytes())
        elif isinstance(value, np.ndarray):
            out[key] = (value.dtype.str, value.shape, value.tobytes())
        elif isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            out[key] = [(v.dtype.str, v.shape, v.tobytes()) for v in value]
        elif isinstance(value, np.random.RandomState):
            state = value.get_state()
            out[key] = (state[0], state[1].tobytes(), state[2:])
        elif key == "_optimizer":
            out[key] = (type(value).__name__, value.t, value.learning_rate,
                        None if value.state is None else value.state.tobytes())
        elif key == "_label_binarizer":
            out[key] = (value.y_type_, value.classes_.tolist())
        else:
            out[key] = repr(value)
    return out


# ----------------------------------------------------------------- the parameter
@per_estimator
def test_device_is_a_parameter_kept_by_get_params_set_params_and_clone(estimator):
    cls, _ = ESTIMATORS[estimator]
    assert cls().device == "cpu" and cls().get_params()["device"] == "cpu"
    est = cls(device="cuda", **SMALL)
    assert est.get_params()["device"] == "cuda"
    assert "device='cuda'" in repr(est)
    assert clone(est).get_params() == est.get_params()
    assert est.set_params(device="cpu").device == "cpu"


@per_estimator
@pytest.mark.parametrize("bad", ["gpu", "CUDA", "cuda:0", 0, None])
def test_an_unknown_device_is_refused_naming_the_options(estimator, bad):
    cls, y = ESTIMATORS[estimator]
    with pytest.raises(InvalidParameterError, match=r"'device' parameter .* among") as info:
        cls(device=bad, **SMALL).fit(X, y)
    assert "'cpu'" in str(info.value) and "'cuda'" in str(info.value)


# ------------------------------------------------------------ CUDA unusable here
@per_estimator
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_cuda_without_numba_cuda_raises_before_anything_changes(no_numba_cuda, estimator,
                                                                method, fitted):
    cls, _ = ESTIMATORS[estimator]
    y, extra = _fit_args(estimator, method)
    # A user's RandomState is shared state too: a refused call must not draw from it.
    est = cls(**dict(SMALL, random_state=np.random.RandomState(3)))
    if fitted:
        getattr(est, method)(X, y, **extra)
        prediction = est.predict(X)
    est.set_params(device="cuda")
    before = _state(est)
    with pytest.raises(ImportError, match="device='cuda' needs the optional package "
                                          "numba-cuda") as info:
        getattr(est, method)(X, y, **extra)
    assert 'pip install "fastnet[cuda]"' in str(info.value)
    assert _state(est) == before
    if fitted:  # still the same working model
        np.testing.assert_array_equal(est.predict(X), prediction)
    else:
        assert not hasattr(est, "coefs_") and not hasattr(est, "n_features_in_")
        assert not hasattr(est, "classes_")
    # Back on the CPU, the same estimator trains as a fresh one would.
    est.set_params(device="cpu")
    getattr(est, method)(X, y, **extra)
    assert np.isfinite(est.predict(X).astype(float) if estimator == "regressor"
                       else est.predict_proba(X)).all()


@per_estimator
def test_cuda_without_a_driver_raises_a_runtime_error_naming_it(estimator):
    """The real state of a machine with numba-cuda and no GPU (CI, this project's)."""
    if not _device._numba_cuda_installed():
        pytest.skip("numba-cuda is not installed (the test extra has it); the ImportError "
                    "test covers this machine")
    if _device.simulating():
        pytest.skip("NUMBA_ENABLE_CUDASIM is set: the simulator is a usable device")
    from numba import cuda

    if cuda.is_available():
        pytest.skip("a GPU is usable here: tests_cuda/ tests the device itself")
    cls, y = ESTIMATORS[estimator]
    est = cls(**SMALL).fit(X, y)
    before = _state(est.set_params(device="cuda"))
    with pytest.raises(RuntimeError, match="device='cuda' needs an NVIDIA GPU with a "
                                           "working driver: .+"):
        est.fit(X, y)
    assert _state(est) == before


@per_estimator
def test_grid_search_over_device_scores_the_cpu_and_reports_the_cuda_failure(
        no_numba_cuda, estimator):
    cls, y = ESTIMATORS[estimator]
    search = GridSearchCV(cls(**SMALL), {"device": ["cuda", "cpu"]}, cv=2,
                          error_score=np.nan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    failed = [w for w in caught if issubclass(w.category, FitFailedWarning)]
    assert failed and "numba-cuda" in str(failed[0].message)
    scores = dict(zip([p["device"] for p in search.cv_results_["params"]],
                      search.cv_results_["mean_test_score"]))
    assert np.isnan(scores["cuda"]) and np.isfinite(scores["cpu"])
    assert search.best_params_ == {"device": "cpu"}
    assert search.best_estimator_.device == "cpu"
    # error_score='raise' passes the device's own error through.
    with pytest.raises(ImportError, match="numba-cuda"):
        GridSearchCV(cls(**SMALL), {"device": ["cuda"]}, cv=2, error_score="raise").fit(X, y)


# ---------------------------------------------- a device='cuda' model on the CPU
def _cuda_model(estimator):
    """A fitted model whose ``device`` is 'cuda', as a model fitted on a GPU has it:
    weights in host NumPy arrays (fitted here on the CPU: no GPU in this suite)."""
    cls, y = ESTIMATORS[estimator]
    return cls(**SMALL).fit(X, y).set_params(device="cuda")


@per_estimator
@pytest.mark.parametrize("route", ["pickle", "fastnet.save"])
def test_a_cuda_model_pickles_saves_and_predicts_on_the_cpu(estimator, route):
    est = _cuda_model(estimator)
    if route == "pickle":
        twin = pickle.loads(pickle.dumps(est))
    else:
        buf = io.BytesIO()
        fastnet.save(est, buf)
        twin = fastnet.load(io.BytesIO(buf.getvalue()))
    assert twin.device == "cuda" and twin.get_params() == est.get_params()
    assert all(type(c) is np.ndarray for c in twin.coefs_ + twin.intercepts_)
    np.testing.assert_array_equal(twin.predict(X), est.predict(X))
    if estimator == "classifier":
        assert twin.predict_proba(X).tobytes() == est.predict_proba(X).tobytes()
    else:
        assert twin.predict(X).tobytes() == est.predict(X).tobytes()


_FRESH = textwrap.dedent("""
    import io, json, pickle, sys
    import numpy as np
    import fastnet

    X = np.asarray(json.loads(sys.argv[1]))
    out = {"at_start": sorted(m for m in sys.modules if "cuda" in m)}
    if len(sys.argv) > 2:   # predict with models made elsewhere
        with open(sys.argv[2], "rb") as f:
            out["pickled"] = pickle.load(f).predict(X).tolist()
        out["loaded"] = fastnet.load(sys.argv[3]).predict(X).tolist()
    else:                   # everything a CPU model does
        reg = fastnet.MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
        reg.fit(X, X[:, 0]).predict(X)
        reg.partial_fit(X, X[:, 0])
        clf = fastnet.MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=2)
        clf.fit(X, X[:, 0] > 0).predict_proba(X)
        buf = io.BytesIO()
        fastnet.save(clf, buf)
        fastnet.load(io.BytesIO(buf.getvalue())).predict(X)
        pickle.loads(pickle.dumps(reg)).predict(X)
        fastnet.Network([3, 2, 1], random_state=0).forward(X)
    out["cuda_modules"] = sorted(m for m in sys.modules
                                 if m.startswith(("numba.cuda", "numba_cuda.", "cuda")))
    print("RESULT" + json.dumps(out))
""")


def _run_fresh(*args):
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run([sys.executable, "-c", _FRESH, json.dumps(X.tolist()), *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_import_fastnet_and_cpu_models_never_import_numba_cuda():
    got = _run_fresh()
    # numba-cuda's startup hook (_numba_cuda_redirector, a .pth file) may be there; the
    # CUDA target itself and NVIDIA's bindings must not be.
    assert got["cuda_modules"] == [], got
    assert "numba.cuda" not in got["at_start"]


@per_estimator
def test_a_cuda_model_predicts_in_a_fresh_cpu_process_without_importing_cuda(
        estimator, tmp_path):
    est = _cuda_model(estimator)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(est))
    fastnet.save(est, tmp_path / "model.fnet")
    got = _run_fresh(tmp_path / "model.pkl", tmp_path / "model.fnet")
    assert got["cuda_modules"] == [], got
    expected = est.predict(X).tolist()
    assert got["pickled"] == expected and got["loaded"] == expected
