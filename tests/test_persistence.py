"""Safe model files: exact round trips, continued training, hostile files, fuzzing.

``fastnet.save`` / ``fastnet.load`` write and read a ZIP of ``meta.json`` and
``.npy`` members and never unpickle.  Checked here:

* Round trips are exact: the same ``get_params``, the same public fitted
  attributes (values and dtypes; weights bit-identical), bit-identical
  ``predict`` / ``predict_proba``, for 13 regressor / classifier set-ups, to a
  path and to a ``BytesIO``.
* Training continues after a load exactly as on the original: ``partial_fit``
  (optimizer state restored) and ``warm_start=True`` fits are bit-identical.
* Hostile or foreign files (pickles, malicious pickles, pickled ``.npy``
  members, empty / random / text / ``.npy`` files, foreign zips, newer format
  versions, absurd array headers) raise ``fastnet.ModelFileError`` and never
  run code.
* Fuzzing (seeded): for each of two small saved models, 300 byte mutations,
  100 truncations and 100 JSON-level mutations of ``meta.json``.  Every load
  either raises ``ModelFileError`` or gives a model whose ``predict`` works or
  raises a clean ``ValueError``; the counts are in the test ids.
* ``pickle`` and ``copy.deepcopy`` keep working, and the optional ``skops``
  route works with the trusted types listed in ``SKOPS_TRUSTED_TYPES``.
* Old files keep loading: the golden files in ``tests/golden/v<N>/`` (written
  once per format version by ``tests/golden/make_golden.py``) load and
  predict what was recorded when they were written; after the estimators
  gain a parameter (simulated) they still load, the new parameter at its
  default; a parameter this fastnet does not know is refused, naming it.
* Benign edits the loader accepts (JSON key order and whitespace, ZIP member
  order, deflate, the verbose flag, ...) still continue training to the same
  weights; edits of the training state are refused.
"""

import copy
import inspect
import io
import json
import pickle
import random
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fastnet
from fastnet import MLPClassifier, MLPRegressor, ModelFileError, _device, persistence
from fastnet.persistence import FORMAT_VERSION

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# ------------------------------------------------------------------ data
_RNG = np.random.RandomState(42)
N, P = 60, 4
X = _RNG.randn(N, P)
X_NEW = _RNG.randn(25, P)  # rows no model was trained on
Y_REG = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * _RNG.randn(N)
Y_MULTI = np.c_[Y_REG, np.tanh(X[:, 1]), X[:, 2] * X[:, 3]]
Y_POISSON = _RNG.poisson(np.exp(0.5 * X[:, 0])).astype(float)
Y_BIN = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_STR = np.array(["cat", "dog", "emu"])[np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])]
Y_MULTILABEL = np.c_[X[:, 0] > 0, X[:, 1] > 0.3, X[:, 0] + X[:, 3] < 0].astype(int)
Y_BOOL = Y_BIN.astype(bool)
Y_INT3 = np.digitize(X[:, 1], [-0.4, 0.4])
COLUMNS = ["visitors", "temperature", "weekday", "rain"]

SMALL = dict(hidden_layer_sizes=(5,), max_iter=6, random_state=0, batch_size=16)

# id -> (estimator factory, X, y).  Small models, several mini-batches per epoch.
CASES = {
    "reg-adam": (lambda: MLPRegressor(**SMALL), X, Y_REG),
    "reg-sgd": (lambda: MLPRegressor(**SMALL, solver="sgd", learning_rate="invscaling",
                                     learning_rate_init=0.05, momentum=0.8), X, Y_REG),
    "reg-lbfgs": (lambda: MLPRegressor(hidden_layer_sizes=(5, 3), solver="lbfgs", max_iter=8,
                                       random_state=0), X, Y_REG),
    "reg-poisson": (lambda: MLPRegressor(**SMALL, loss="poisson"), X, Y_POISSON),
    "reg-multioutput": (lambda: MLPRegressor(**SMALL, activation="tanh"), X, Y_MULTI),
    "reg-float32": (lambda: MLPRegressor(**SMALL), X.astype(np.float32), Y_REG),
    "reg-pandas": (lambda: MLPRegressor(**SMALL), pd.DataFrame(X, columns=COLUMNS), Y_REG),
    "reg-early-stopping": (lambda: MLPRegressor(hidden_layer_sizes=(5,), max_iter=12,
                                                random_state=0, batch_size=16,
                                                early_stopping=True, validation_fraction=0.2,
                                                n_iter_no_change=3), X, Y_REG),
    "clf-binary": (lambda: MLPClassifier(**SMALL, solver="sgd", learning_rate="adaptive",
                                         learning_rate_init=0.1), X, Y_BIN),
    "clf-multiclass-str": (lambda: MLPClassifier(**SMALL, activation="logistic"), X, Y_STR),
    "clf-multilabel": (lambda: MLPClassifier(**SMALL), X, Y_MULTILABEL),
    "clf-bool": (lambda: MLPClassifier(**SMALL), X, Y_BOOL),
    "clf-float32": (lambda: MLPClassifier(**SMALL), X.astype(np.float32), Y_INT3),
}


def _fit(case):
    factory, Xc, yc = CASES[case]
    return factory().fit(Xc, yc), Xc, yc


def _inputs_like(Xc, rows):
    if isinstance(Xc, pd.DataFrame):
        return pd.DataFrame(rows, columns=Xc.columns)
    return rows.astype(Xc.dtype)


def _roundtrip_bytes(est):
    buf = io.BytesIO()
    fastnet.save(est, buf)
    return buf.getvalue()


def _load_bytes(data):
    return fastnet.load(io.BytesIO(data))


# ------------------------------------------------------------- comparisons
def _public_attributes(est):
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


def _assert_same_value(a, b, what):
    """Same value, bit for bit, and the same dtype (numbers, arrays, lists, None, str)."""
    if a is None:
        assert b is None, f"{what}: {b!r} instead of None"
    elif isinstance(a, (list, tuple)):
        assert type(b) is type(a), f"{what}: {type(b).__name__} instead of {type(a).__name__}"
        assert len(a) == len(b), f"{what}: length {len(b)} instead of {len(a)}"
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same_value(u, v, f"{what}[{i}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{what}: {type(b).__name__} instead of ndarray"
        assert a.dtype == b.dtype, f"{what}: dtype {b.dtype} instead of {a.dtype}"
        assert a.shape == b.shape, f"{what}: shape {b.shape} instead of {a.shape}"
        if a.dtype == object:
            assert a.tolist() == b.tolist(), what
        else:
            assert a.tobytes() == b.tobytes(), f"{what}: values differ"
    elif isinstance(a, str):
        assert isinstance(b, str) and a == b, f"{what}: {b!r} instead of {a!r}"
    elif isinstance(a, (bool, np.bool_)):
        assert isinstance(b, (bool, np.bool_)) and a == b, f"{what}: {b!r} instead of {a!r}"
    elif isinstance(a, (int, float, np.number)):
        assert isinstance(b, (int, float, np.number)) and not isinstance(b, bool), what
        da, db = np.asarray(a).dtype, np.asarray(b).dtype
        assert da == db, f"{what}: dtype {db} ({type(b).__name__}) instead of {da}"
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), f"{what}: {b!r} != {a!r}"
    else:
        assert a == b, f"{what}: {b!r} != {a!r}"


def _assert_same_model(ref, est, X_eval):
    assert type(est) is type(ref)
    assert est.get_params() == ref.get_params()
    assert _public_attributes(est) == _public_attributes(ref)
    for attr in sorted(_public_attributes(ref)):
        _assert_same_value(getattr(ref, attr), getattr(est, attr), attr)
    for X_ in X_eval:
        _assert_same_value(ref.predict(X_), est.predict(X_), "predict")
        if hasattr(ref, "predict_proba"):
            _assert_same_value(ref.predict_proba(X_), est.predict_proba(X_), "predict_proba")


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("sink", ["path", "bytesio"])
@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_is_exact(case, sink, tmp_path):
    est, Xc, _ = _fit(case)
    before = est.predict(Xc)
    if sink == "path":
        path = tmp_path / "model.fnet"
        fastnet.save(est, str(path))
        assert zipfile.is_zipfile(path)
        loaded = fastnet.load(path)
    else:
        buf = io.BytesIO()
        fastnet.save(est, buf)
        buf.seek(0)
        loaded = fastnet.load(buf)
    assert loaded is not est
    _assert_same_model(est, loaded, [Xc, _inputs_like(Xc, X_NEW)])
    # Saving did not change the original.
    _assert_same_value(before, est.predict(Xc), "predict after save")
    # The loaded weights belong to the loaded model only.
    loaded.coefs_[0][...] += 1.0
    loaded.intercepts_[-1][...] += 1.0
    _assert_same_value(before, est.predict(Xc), "original after editing the loaded model")
    raw = "predict_proba" if hasattr(est, "predict_proba") else "predict"
    rows = _inputs_like(Xc, X_NEW)
    assert not np.array_equal(getattr(loaded, raw)(rows), getattr(est, raw)(rows))


def test_float32_model_stays_float32():
    est, Xc, _ = _fit("reg-float32")
    loaded = _load_bytes(_roundtrip_bytes(est))
    assert all(c.dtype == np.float32 for c in loaded.coefs_ + loaded.intercepts_)
    assert loaded.predict(Xc).dtype == np.float32


def test_feature_names_survive():
    est, Xc, _ = _fit("reg-pandas")
    loaded = _load_bytes(_roundtrip_bytes(est))
    assert list(loaded.feature_names_in_) == COLUMNS
    assert loaded.feature_names_in_.dtype == object
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DataFrame with the right names: no warning
        loaded.predict(Xc)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(Xc[COLUMNS[::-1]])


def _continue(est, Xc, yc, how):
    if how == "partial_fit":
        est.partial_fit(Xc, yc)
        rows = np.arange(len(yc))[::-1]
        Xr = Xc.iloc[rows] if isinstance(Xc, pd.DataFrame) else Xc[rows]
        est.partial_fit(Xr, yc[rows])
    else:
        est.set_params(warm_start=True, max_iter=4)
        est.fit(Xc, yc)
    return est


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("case", list(CASES))
def test_training_continues_after_load(case, how):
    est, Xc, yc = _fit(case)
    loaded = _load_bytes(_roundtrip_bytes(est))
    if how == "partial_fit" and est.early_stopping:
        for model in (est, loaded):
            with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
                model.partial_fit(Xc, yc)
        _assert_same_model(est, loaded, [Xc])
        return
    weights_before = [c.copy() for c in est.coefs_]
    _continue(est, Xc, yc, how)
    _continue(loaded, Xc, yc, how)
    # Training really happened (a no-op continuation would compare equal trivially).
    assert any(not np.array_equal(a, b) for a, b in zip(weights_before, est.coefs_))
    _assert_same_model(est, loaded, [Xc, _inputs_like(Xc, X_NEW)])


def test_optimizer_state_matters_for_the_continuation_check():
    """The partial_fit check above can fail: a model loaded without its Adam
    state continues differently, so restoring the state is what it verifies."""
    est, Xc, yc = _fit("reg-adam")
    members = _members(_roundtrip_bytes(est))
    del members["optimizer_state.npy"]  # a file without the Adam state (m, v, t)
    meta = json.loads(members["meta.json"])
    meta["optimizer"] = None
    del meta["arrays"]["optimizer_state"]
    members["meta.json"] = json.dumps(meta)
    loaded = _load_bytes(_zip(members))
    _assert_same_model(est, loaded, [Xc])
    est.partial_fit(Xc, yc)
    loaded.partial_fit(Xc, yc)
    assert not np.array_equal(est.predict(Xc), loaded.predict(Xc))


@pytest.mark.parametrize("hidden", [(5,), [5], 5, (5, 3), [4, 3]], ids=repr)
def test_get_params_round_trip_keeps_the_given_types(hidden):
    est = MLPRegressor(hidden_layer_sizes=hidden, max_iter=3, random_state=0).fit(X, Y_REG)
    loaded = _load_bytes(_roundtrip_bytes(est))
    assert loaded.get_params() == est.get_params()
    assert type(loaded.hidden_layer_sizes) is type(hidden)


def test_random_state_instance_is_stored_as_none():
    """Documented: a RandomState's stream is not part of the model."""
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3,
                       random_state=np.random.RandomState(3)).fit(X, Y_REG)
    loaded = _load_bytes(_roundtrip_bytes(est))
    assert loaded.random_state is None
    _assert_same_value(est.predict(X), loaded.predict(X), "predict")
    _assert_same_value(est.coefs_, loaded.coefs_, "coefs_")


def test_save_refuses_unfitted_and_foreign_estimators(tmp_path):
    from sklearn.exceptions import NotFittedError
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor

    with pytest.raises(NotFittedError):
        fastnet.save(MLPRegressor(), tmp_path / "a.fnet")
    with pytest.raises(TypeError, match="MLPRegressor or MLPClassifier"):
        fastnet.save(SkMLPRegressor(max_iter=2).fit(X, Y_REG), tmp_path / "b.fnet")


# ------------------------------------------------------------- hostile files
MARKERS = []  # set by _mark_executed if a pickle is ever run


def _mark_executed(path):
    MARKERS.append(path)
    with open(path, "w") as fh:
        fh.write("pwned")
    return 0


class _Evil:
    """Unpickling this calls ``_mark_executed(path)``: proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (_mark_executed, (self.path,))


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


@pytest.fixture(scope="module")
def saved_regressor():
    est, _, _ = _fit("reg-adam")
    return est, _roundtrip_bytes(est)


@pytest.fixture(scope="module")
def saved_classifier():
    est, _, _ = _fit("clf-multiclass-str")
    return est, _roundtrip_bytes(est)


def _with_meta(data, change):
    members = _members(data)
    meta = json.loads(members["meta.json"])
    change(meta)
    members["meta.json"] = json.dumps(meta)
    return _zip(members)


def _bad_files(good):
    """name -> (file bytes, regex the ModelFileError message must match)."""
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, Y_REG)
    rng = np.random.RandomState(7)
    meta = json.loads(_members(good)["meta.json"])
    return {
        "pickle-of-estimator": (pickle.dumps(est), "not a fastnet model file"),
        "empty-file": (b"", "not a fastnet model file"),
        "random-bytes": (rng.bytes(4096), "not a fastnet model file"),
        "text-file": (b"hello, this is a README\nnot a model\n" * 20, "not a fastnet model file"),
        "npy-file": (_npy(np.arange(10.0)), "not a fastnet model file"),
        "npz-without-meta": (_zip({"params.npy": _npy(np.arange(10.0))}), "meta.json is missing"),
        "zip-without-meta": (_zip({"README.txt": b"hi"}), "meta.json is missing"),
        "zip-foreign-format": (_zip({"meta.json": json.dumps({"format": "onnx", "version": 1})}),
                               "wrong 'format' marker"),
        "zip-meta-not-json": (_zip({"meta.json": b"\x80\x81 not json {"}), "not valid JSON"),
        "zip-meta-a-list": (_zip({"meta.json": b"[1, 2, 3]"}), "not an object"),
        "zip-meta-bad-version": (_with_meta(good, lambda m: m.update(format_version="1")),
                                 "bad format_version"),
        "extra-member": (_zip({**_members(good), "payload.pkl": pickle.dumps(est)}),
                         "unexpected members"),
        "missing-array": (_zip({k: v for k, v in _members(good).items() if k != "params.npy"}),
                          "unexpected members|missing"),
        "unknown-array-entry": (_with_meta(good, lambda m: m["arrays"].update(
            evil={"dtype": "|O", "shape": [1]})), "unknown arrays"),
        "regressor-called-classifier": (_with_meta(good, lambda m: m.update(
            estimator="MLPClassifier")), "do not match MLPClassifier"),
        "estimator-name-is-code": (_with_meta(good, lambda m: m.update(
            estimator="os.system")), "unknown estimator"),
        "params-shape-lies": (_with_meta(good, lambda m: m["arrays"]["params"].update(
            shape=[meta["arrays"]["params"]["shape"][0] + 1])), "params"),
        "layer-units-lie": (_with_meta(good, lambda m: m.update(
            layer_units=[P, 6, 1])), "hidden_layer_sizes disagree|layer_units"),
    }


_BAD_FILES = ["pickle-of-estimator", "empty-file", "random-bytes", "text-file", "npy-file",
              "npz-without-meta", "zip-without-meta", "zip-foreign-format", "zip-meta-not-json",
              "zip-meta-a-list", "zip-meta-bad-version", "extra-member", "missing-array",
              "unknown-array-entry", "regressor-called-classifier", "estimator-name-is-code",
              "params-shape-lies", "layer-units-lie"]


@pytest.mark.parametrize("name", _BAD_FILES)
def test_hostile_and_foreign_files_are_refused(name, saved_regressor, tmp_path):
    _, good = saved_regressor
    cases = _bad_files(good)
    assert sorted(cases) == sorted(_BAD_FILES)
    data, pattern = cases[name]
    path = tmp_path / f"{name}.fnet"
    path.write_bytes(data)
    for source in (path, str(path), io.BytesIO(data)):
        with pytest.raises(ModelFileError, match=pattern) as info:
            fastnet.load(source)
        assert isinstance(info.value, ValueError)
        assert len(str(info.value)) > 20


def test_a_malicious_pickle_never_runs(tmp_path):
    # The payload is live: unpickling it does create its marker.
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(_Evil(control)))
    assert control.exists()
    MARKERS.clear()

    marker = tmp_path / "marker"
    payload = pickle.dumps(_Evil(marker))
    bad = tmp_path / "evil.fnet"
    bad.write_bytes(payload)
    with pytest.raises(ModelFileError, match="not a fastnet model file"):
        fastnet.load(bad)
    # Also as a "meta.json" and as an "estimator.pkl" inside an otherwise plain zip.
    for members in ({"meta.json": payload}, {"meta.json": b"{}", "estimator.pkl": payload}):
        with pytest.raises(ModelFileError):
            fastnet.load(io.BytesIO(_zip(members)))
    assert not marker.exists()
    assert MARKERS == []


@pytest.mark.parametrize("member", ["params", "classes_"])
def test_a_pickled_npy_member_is_refused(member, saved_classifier, tmp_path):
    _, good = saved_classifier
    marker = tmp_path / f"marker-{member}"
    MARKERS.clear()
    members = _members(good)
    evil = np.empty(3, dtype=object)
    evil[:] = [_Evil(marker), "dog", "emu"]
    members[f"{member}.npy"] = _npy(evil, allow_pickle=True)
    assert b"_mark_executed" in members[f"{member}.npy"]  # really a pickle inside
    for meta_dtype in ("keep", "|O"):
        meta = json.loads(members["meta.json"])
        if meta_dtype == "|O":  # meta.json agreeing with the member does not help
            meta["arrays"][member] = {"dtype": "|O", "shape": [3]}
        members["meta.json"] = json.dumps(meta)
        with pytest.raises(ModelFileError, match=member):
            fastnet.load(io.BytesIO(_zip(members)))
    assert not marker.exists()
    assert MARKERS == []


def test_newer_format_version_is_refused(saved_regressor):
    _, good = saved_regressor
    newer = _with_meta(good, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match="newer") as info:
        fastnet.load(io.BytesIO(newer))
    assert str(FORMAT_VERSION + 1) in str(info.value)
    # ... while the current version loads.
    same = _with_meta(good, lambda m: m.update(format_version=FORMAT_VERSION))
    assert isinstance(fastnet.load(io.BytesIO(same)), MLPRegressor)


def _npy_header_claiming(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + b"\0" * 64


@pytest.mark.parametrize("shape", [(10**13,), (10**7, 10**7), (2**62,)], ids=str)
def test_npy_header_with_absurd_shape_is_refused(shape, saved_regressor):
    """A member whose header claims terabytes must be a ModelFileError, not a MemoryError."""
    _, good = saved_regressor
    members = _members(good)
    members["params.npy"] = _npy_header_claiming(shape)
    with pytest.raises(ModelFileError, match="params"):
        fastnet.load(io.BytesIO(_zip(members)))


@pytest.mark.parametrize("junk,at", [(b"#", b"'shape'"), (b"\0", b"{")],
                         ids=["hash-before-shape", "nul-for-brace"])
def test_npy_header_that_does_not_tokenize_is_refused(junk, at, saved_regressor):
    """One byte in the .npy header dict: numpy's fallback header parser raises
    tokenize.TokenError (neither ValueError nor OSError); still a ModelFileError."""
    _, good = saved_regressor
    members = _members(good)
    raw = bytearray(members["params.npy"])
    raw[raw.index(at)] = junk[0]  # leaves a bracket of the header dict unclosed
    members["params.npy"] = bytes(raw)
    with pytest.raises(ModelFileError, match="params"):
        fastnet.load(io.BytesIO(_zip(members)))


_ZIP_CENTRAL = b"PK\x01\x02"
_ZIP_LOCAL = b"PK\x03\x04"


def _set_header_field(data, signature, offset, fmt, value, which=0):
    """Overwrite a field of the ``which``-th local or central-directory header."""
    data = bytearray(data)
    pos = -1
    for _ in range(which + 1):
        pos = data.index(signature, pos + 1)
    struct.pack_into(fmt, data, pos + offset, value)
    return bytes(data)


# Compression method (central directory offset 10, local header offset 8) and
# general-purpose flags: what one flipped byte in a header can select.
_HEADER_MUTATIONS = {
    "deflate": (8,), "bzip2": (12,), "lzma": (14,), "aes": (99,), "unknown": (1234,),
}


@pytest.mark.parametrize("method", list(_HEADER_MUTATIONS))
@pytest.mark.parametrize("which", [0, 1])  # meta.json, params.npy
def test_zip_compression_method_corruption_is_refused(method, which, saved_regressor):
    _, good = saved_regressor
    (value,) = _HEADER_MUTATIONS[method]
    data = _set_header_field(good, _ZIP_CENTRAL, 10, "<H", value, which)
    data = _set_header_field(data, _ZIP_LOCAL, 8, "<H", value, which)
    with pytest.raises(ModelFileError):
        fastnet.load(io.BytesIO(data))


@pytest.mark.parametrize("version", [64, 251, 0xFFFF])
def test_zip_version_needed_corruption_is_refused(version, saved_regressor, tmp_path):
    """'Version needed to extract' (central directory offset 6): one byte the fuzzer hits."""
    _, good = saved_regressor
    data = _set_header_field(good, _ZIP_CENTRAL, 6, "<H", version, 0)
    path = tmp_path / "version.fnet"
    path.write_bytes(data)
    for source in (path, io.BytesIO(data)):
        with pytest.raises(ModelFileError):
            fastnet.load(source)


@pytest.mark.parametrize("flags", [0x1, 0x40, 0x8], ids=["encrypted", "strong-encryption",
                                                         "data-descriptor"])
def test_zip_flag_corruption_is_refused_or_harmless(flags, saved_regressor):
    est, good = saved_regressor
    data = _set_header_field(good, _ZIP_CENTRAL, 8, "<H", flags, 0)
    data = _set_header_field(data, _ZIP_LOCAL, 6, "<H", flags, 0)
    assert _load_outcome(data, est) in {"refused", "loaded"}


# ------------------------------------------------------------------- fuzzing
def _load_outcome(data, ref):
    """'refused', 'loaded' or 'loaded-predict-valueerror'; anything else raises."""
    try:
        est = fastnet.load(io.BytesIO(data))
    except ModelFileError:
        return "refused"
    assert type(est) in (MLPRegressor, MLPClassifier)
    n_features = getattr(est, "n_features_in_", ref.n_features_in_)
    rows = np.resize(X_NEW, (7, n_features)) if n_features != P else X_NEW[:7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pred = est.predict(rows)
            if hasattr(est, "predict_proba"):
                est.predict_proba(rows)
        except ValueError:
            return "loaded-predict-valueerror"
    assert len(pred) == len(rows)
    return "loaded"


def _run_fuzz(mutants, ref):
    """Load every mutant; return outcome counts, or fail listing the crashes."""
    counts, crashes = {}, []
    for description, data in mutants:
        try:
            outcome = _load_outcome(data, ref)
        except Exception as exc:  # a crash: anything but ModelFileError / clean ValueError
            crashes.append(f"{description}: {type(exc).__name__}: {str(exc)[:150]}")
            continue
        counts[outcome] = counts.get(outcome, 0) + 1
    kinds = {}
    for line in crashes:
        kinds[line.split(": ")[1]] = kinds.get(line.split(": ")[1], 0) + 1
    assert not crashes, (
        f"{len(crashes)} of {len(mutants)} mutants crashed (by exception: {kinds}); outcomes "
        f"of the others: {counts}; first ones:\n" + "\n".join(crashes[:12])
    )
    return counts


N_BYTE_MUTATIONS = 300
N_TRUNCATIONS = 100
N_JSON_MUTATIONS = 100


def _byte_mutants(good, seed):
    rng = random.Random(seed)
    mutants = []
    for i in range(N_BYTE_MUTATIONS):
        data = bytearray(good)
        kind = ("single", "multi", "run")[i % 3]
        if kind == "single":
            positions = [rng.randrange(len(data))]
        elif kind == "multi":
            positions = rng.sample(range(len(data)), rng.randint(2, 8))
        else:
            start = rng.randrange(len(data) - 1)
            positions = range(start, min(len(data), start + rng.randint(2, 16)))
        for pos in positions:
            data[pos] = (data[pos] + rng.randint(1, 255)) % 256  # always a change
        mutants.append((f"{kind} byte mutation at {list(positions)[:4]}", bytes(data)))
    return mutants


@pytest.mark.parametrize("model", ["regressor", "classifier"])
def test_fuzz_byte_mutations_300(model, saved_regressor, saved_classifier):
    ref, good = saved_regressor if model == "regressor" else saved_classifier
    mutants = _byte_mutants(good, seed={"regressor": 1, "classifier": 2}[model])
    assert len(mutants) == N_BYTE_MUTATIONS
    assert len({m for _, m in mutants}) == N_BYTE_MUTATIONS and good not in {m for _, m in mutants}
    counts = _run_fuzz(mutants, ref)
    print(f"byte mutations ({model}): {counts}")
    # CRC-32 and the format checks catch most of them.
    assert counts.get("refused", 0) >= N_BYTE_MUTATIONS // 2


@pytest.mark.parametrize("model", ["regressor", "classifier"])
def test_fuzz_truncations_100(model, saved_regressor, saved_classifier):
    ref, good = saved_regressor if model == "regressor" else saved_classifier
    rng = random.Random(3)
    lengths = sorted(rng.sample(range(len(good)), N_TRUNCATIONS))
    mutants = [(f"truncated to {n} of {len(good)} bytes", good[:n]) for n in lengths]
    counts = _run_fuzz(mutants, ref)
    print(f"truncations ({model}): {counts}")
    # A truncated archive loses its end-of-central-directory record: always refused.
    assert counts == {"refused": N_TRUNCATIONS}


N_NPY_MUTATIONS = 100


@pytest.mark.parametrize("model", ["regressor", "classifier"])
def test_fuzz_npy_member_mutations_100(model, saved_regressor, saved_classifier):
    """Byte mutations inside the .npy members, re-zipped with valid CRCs: half in the
    header (magic, length, dict), half in the data; data mutations may load."""
    ref, good = saved_regressor if model == "regressor" else saved_classifier
    rng = random.Random({"regressor": 21, "classifier": 22}[model])
    members = _members(good)
    names = sorted(k for k in members if k.endswith(".npy"))
    mutants = []
    for i in range(N_NPY_MUTATIONS):
        name = rng.choice(names)
        raw = bytearray(members[name])
        header_len = 10 + struct.unpack("<H", raw[8:10])[0]
        region = range(header_len) if i % 2 == 0 else range(header_len, len(raw))
        positions = rng.sample(region, min(len(region), rng.randint(1, 3)))
        for pos in positions:
            raw[pos] = (raw[pos] + rng.randint(1, 255)) % 256
        mutants.append((f"{name} bytes {positions}", _zip(dict(members, **{name: bytes(raw)}))))
    counts = _run_fuzz(mutants, ref)
    print(f".npy member mutations ({model}): {counts}")
    assert counts.get("refused", 0) >= N_NPY_MUTATIONS // 4
    assert counts.get("loaded", 0) + counts.get("loaded-predict-valueerror", 0) >= 10


_ODD_VALUES = ["x", "", 7, -1, 0, 0.5, 1e308, -1e308, float("nan"), float("inf"), None, True,
               False, [], {}, [1, 2], [[3]], {"a": 1}, 10**30, 2**63, "float64", "relu"]


def _paths(node, prefix=()):
    """Every (path, value) below node."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield prefix + (key,), value
        yield from _paths(value, prefix + (key,))


def _parent(meta, path):
    node = meta
    for key in path[:-1]:
        node = node[key]
    return node


_JSON_OPS = ["type", "delete", "number", "shape", "layer_units", "dtype", "estimator",
             "unknown_key", "string"]


def _json_mutation(meta, rng):
    """Apply one random JSON-level mutation in place; return its description.

    An operation that finds its target gone (an earlier mutation of the same
    mutant deleted or retyped it) falls back to a type change.
    """
    op = rng.choice(_JSON_OPS)
    try:
        return _json_operation(meta, rng, op)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        return _json_operation(meta, rng, "type")


def _json_operation(meta, rng, op):
    paths = list(_paths(meta))
    if op == "type":
        path, value = rng.choice(paths)
        new = rng.choice([v for v in _ODD_VALUES if type(v) is not type(value)])
        _parent(meta, path)[path[-1]] = new
        return f"type {'.'.join(map(str, path))} -> {new!r}"
    if op == "delete":
        dict_paths = [p for p, v in paths if isinstance(_parent(meta, p), dict)]
        path = rng.choice(dict_paths)
        del _parent(meta, path)[path[-1]]
        return f"delete {'.'.join(map(str, path))}"
    if op == "number":
        numeric = [(p, v) for p, v in paths
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        path, value = rng.choice(numeric)
        new = rng.choice([0, -1, value + 1, value - 1, value * 2, -value, 10**30, 2**63,
                          float("nan"), float("-inf"), 0.5, 3.7, 1e-300])
        _parent(meta, path)[path[-1]] = new
        return f"number {'.'.join(map(str, path))}: {value!r} -> {new!r}"
    if op == "shape":
        name = rng.choice(sorted(meta["arrays"]))
        shape = meta["arrays"][name]["shape"]
        choice = rng.randrange(5)
        if choice == 0:
            shape.append(rng.choice([1, 2]))
        elif choice == 1 and shape:
            shape.pop()
        elif shape:
            i = rng.randrange(len(shape))
            shape[i] = rng.choice([0, -1, shape[i] + 1, shape[i] - 1, 10**12])
        else:
            shape.append(0)
        return f"shape of {name} -> {shape}"
    if op == "layer_units":
        units = meta["layer_units"]
        choice = rng.randrange(5)
        if choice == 0:
            units.append(rng.choice([1, 3]))
        elif choice == 1:
            units.pop(rng.randrange(len(units)))
        elif choice == 2:
            meta["layer_units"] = []
        else:
            i = rng.randrange(len(units))
            units[i] = rng.choice([0, -1, units[i] + 1, units[i] - 1, 2.0, "5", None, True])
        return f"layer_units -> {meta['layer_units']}"
    if op == "dtype":
        if rng.random() < 0.5:
            meta["dtype"] = new = rng.choice(["float32", "float64", "float16", "int64", "object",
                                              "<f8", "O", ""])
            return f"dtype -> {new!r}"
        name = rng.choice(sorted(meta["arrays"]))
        meta["arrays"][name]["dtype"] = new = rng.choice(["|O", "<f4", "<f8", ">f8", "<i8",
                                                          "<U5", "|b1", "float64"])
        return f"dtype of {name} -> {new!r}"
    if op == "estimator":
        meta["estimator"] = new = rng.choice(["MLPRegressor", "MLPClassifier", "Pipeline",
                                              "os.system", "", None, 1, "BaseMLP", "Network"])
        return f"estimator -> {new!r}"
    if op == "unknown_key":
        dicts = [meta] + [v for _, v in paths if isinstance(v, dict)]
        target = rng.choice(dicts)
        key = rng.choice(["__class__", "evil", "__reduce__", "coefs_", "_network", "extra"])
        target[key] = rng.choice(_ODD_VALUES)
        return f"unknown key {key!r} in a dict with keys {sorted(target)[:4]}"
    # string: swap a string leaf for another meaningful string
    strings = [(p, v) for p, v in paths if isinstance(v, str)]
    path, value = rng.choice(strings)
    new = rng.choice(["identity", "logistic", "tanh", "relu", "softmax", "exp", "sgd", "adam",
                      "lbfgs", "SGD", "Adam", "binary", "multiclass", "multilabel-indicator",
                      "poisson", "squared_error", "auto", "constant", "fastnet-model"])
    _parent(meta, path)[path[-1]] = new
    return f"string {'.'.join(map(str, path))}: {value!r} -> {new!r}"


def _json_mutants(good, seed):
    rng = random.Random(seed)
    members = _members(good)
    base = json.loads(members["meta.json"])
    mutants, ops = [], set()
    for _ in range(N_JSON_MUTATIONS):
        meta = copy.deepcopy(base)
        descriptions = [_json_mutation(meta, rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        ops.update(d.split()[0] for d in descriptions)
        mutated = dict(members, **{"meta.json": json.dumps(meta)})
        mutants.append(("; ".join(descriptions), _zip(mutated)))
    return mutants, ops


@pytest.mark.parametrize("model", ["regressor", "classifier"])
def test_fuzz_json_mutations_100(model, saved_regressor, saved_classifier):
    ref, good = saved_regressor if model == "regressor" else saved_classifier
    # Control: re-zipping the untouched members loads and predicts identically.
    control = fastnet.load(io.BytesIO(_zip(_members(good))))
    _assert_same_value(ref.predict(X_NEW), control.predict(X_NEW), "control predict")
    mutants, ops = _json_mutants(good, seed={"regressor": 11, "classifier": 12}[model])
    assert len(mutants) == N_JSON_MUTATIONS
    assert ops == {"type", "delete", "number", "shape", "layer_units", "dtype", "estimator",
                   "unknown", "string"}
    counts = _run_fuzz(mutants, ref)
    print(f"JSON mutations ({model}): {counts}")
    assert counts.get("refused", 0) >= N_JSON_MUTATIONS // 2


def _drop_fitted(name):
    return lambda meta: meta["fitted"].pop(name)


# Edits of the training state: a loader may accept one only once it can show that
# training then continues as on the original -- then it belongs in _BENIGN_EDITS.
_TRAINING_STATE_EDITS = {
    "no-t_": _drop_fitted("t_"),
    "no-loss_curve_": _drop_fitted("loss_curve_"),
    "no-best_loss_": _drop_fitted("best_loss_"),
    "no-_no_improvement_count": _drop_fitted("_no_improvement_count"),
    "best_loss_-null-without-early-stopping": lambda m: m["fitted"].update(best_loss_=None),
    "optimizer-t-2**63": lambda m: m["optimizer"].update(t=2**63),
}


@pytest.mark.parametrize("edit", list(_TRAINING_STATE_EDITS))
def test_training_state_edits_are_refused(edit, saved_regressor):
    _, good = saved_regressor
    with pytest.raises(ModelFileError, match="corrupted"):
        fastnet.load(io.BytesIO(_with_meta(good, _TRAINING_STATE_EDITS[edit])))


def _rewrite_meta(dump):
    """An edit that re-serializes meta.json with ``dump(meta) -> str``."""
    def edit(data):
        members = _members(data)
        members["meta.json"] = dump(json.loads(members["meta.json"]))
        return _zip(members)
    return edit


def _reverse_keys(node):
    if isinstance(node, dict):
        return {k: _reverse_keys(node[k]) for k in reversed(list(node))}
    if isinstance(node, list):
        return [_reverse_keys(v) for v in node]
    return node


def _rezip(order=None, compression=zipfile.ZIP_STORED):
    def edit(data):
        members = _members(data)
        names = list(members) if order is None else order(list(members))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=compression) as zf:
            for name in names:
                zf.writestr(name, members[name])
        return buf.getvalue()
    return edit


def _meta_edit(change):
    return lambda data: _with_meta(data, change)


# Edits that change the bytes but not the model: the loader accepts each (the test
# fails if it refuses one), and training must continue exactly as on the original.
_BENIGN_EDITS = {
    "json-keys-sorted": _rewrite_meta(lambda m: json.dumps(m, sort_keys=True)),
    "json-keys-reversed": _rewrite_meta(lambda m: json.dumps(_reverse_keys(m))),
    "json-compact": _rewrite_meta(lambda m: json.dumps(m, separators=(",", ":"))),
    "json-indent-4-crlf": _rewrite_meta(lambda m: json.dumps(m, indent=4).replace("\n", "\r\n")),
    "json-unicode-escaped-key": _rewrite_meta(
        lambda m: json.dumps(m, ensure_ascii=True).replace('"params"', '"\\u0070arams"')),
    "zip-members-reversed": _rezip(order=lambda names: names[::-1]),
    "zip-deflated": _rezip(compression=zipfile.ZIP_DEFLATED),
    "verbose-flag": _meta_edit(lambda m: m["params"].update(verbose=True)),
    "fastnet_version-string": _meta_edit(lambda m: m.update(fastnet_version="0.0.1")),
}


@pytest.fixture(scope="module")
def saved_sgd_classifier():
    est, _, _ = _fit("clf-binary")  # SGD with momentum: velocities in optimizer_state
    return est, _roundtrip_bytes(est)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("model", ["reg-adam", "clf-binary"])
@pytest.mark.parametrize("edit", list(_BENIGN_EDITS))
def test_accepted_file_can_continue_training(edit, model, how, saved_regressor,
                                             saved_sgd_classifier, capsys):
    """A benignly edited file loads, and the loaded model trains on (partial_fit,
    warm_start) to bit-identically the weights the original reaches."""
    ref, good = saved_regressor if model == "reg-adam" else saved_sgd_classifier
    _, Xc, yc = CASES[model]
    data = _BENIGN_EDITS[edit](good)
    assert data != good  # the edit did change the file
    loaded = fastnet.load(io.BytesIO(data))  # accepted: a ModelFileError fails the test
    original = copy.deepcopy(ref)
    _assert_same_value(original.predict(X_NEW), loaded.predict(X_NEW), "predict after load")
    weights_before = [c.copy() for c in original.coefs_]
    _continue(original, Xc, yc, how)
    _continue(loaded, Xc, yc, how)
    capsys.readouterr()  # the verbose edit prints the losses
    assert any(not np.array_equal(a, b) for a, b in zip(weights_before, original.coefs_))
    _assert_same_value(original.coefs_, loaded.coefs_, "coefs_ after training")
    _assert_same_value(original.intercepts_, loaded.intercepts_, "intercepts_ after training")
    _assert_same_value(original.loss_curve_, loaded.loss_curve_, "loss_curve_")
    assert loaded.n_iter_ == original.n_iter_ and loaded.t_ == original.t_
    _assert_same_value(original.predict(X_NEW), loaded.predict(X_NEW), "predict after training")


def test_continue_training_check_sees_a_broken_continuation(saved_regressor):
    """Control for the test above: a file whose optimizer step counter was edited
    (t=1 instead of its real value; accepted, it is in range) continues
    differently, and the comparison catches it."""
    ref, good = saved_regressor
    loaded = fastnet.load(io.BytesIO(_with_meta(good, lambda m: m["optimizer"].update(t=1))))
    original = copy.deepcopy(ref)
    _continue(original, X, Y_REG, "partial_fit")
    _continue(loaded, X, Y_REG, "partial_fit")
    assert not np.array_equal(original.coefs_[0], loaded.coefs_[0])


# ------------------------------------------------------- pickle and deepcopy
@pytest.mark.parametrize("route", ["pickle", "deepcopy"])
@pytest.mark.parametrize("case", ["reg-adam", "reg-sgd", "clf-multiclass-str", "reg-float32"])
def test_pickle_and_deepcopy_keep_working(case, route):
    est, Xc, yc = _fit(case)
    if route == "pickle":
        twin = pickle.loads(pickle.dumps(est))
    else:
        twin = copy.deepcopy(est)
    _assert_same_model(est, twin, [Xc, X_NEW.astype(np.asarray(Xc).dtype)])
    _continue(est, Xc, yc, "partial_fit")
    _continue(twin, Xc, yc, "partial_fit")
    _assert_same_model(est, twin, [Xc, X_NEW.astype(np.asarray(Xc).dtype)])
    # and a pickled model can still be saved to a safe file
    _assert_same_model(twin, _load_bytes(_roundtrip_bytes(twin)), [Xc])


# ---------------------------------------------------------------------- skops
# What ``skops.io.get_untrusted_types`` reports for fitted fastnet models
# (skops 0.16): everything else inside (numpy arrays, RandomState,
# LabelBinarizer, lists, dicts) is trusted by skops by default.
SKOPS_TRUSTED_TYPES = {
    "reg-adam": ["fastnet.estimators.MLPRegressor", "fastnet.optimizers.Adam"],
    "reg-sgd": ["fastnet.estimators.MLPRegressor", "fastnet.optimizers.SGD"],
    "reg-lbfgs": ["fastnet.estimators.MLPRegressor"],
    "clf-multiclass-str": ["fastnet.estimators.MLPClassifier", "fastnet.optimizers.Adam"],
    "clf-binary": ["fastnet.estimators.MLPClassifier", "fastnet.optimizers.SGD"],
}


@pytest.mark.parametrize("case", list(SKOPS_TRUSTED_TYPES))
def test_skops_round_trip(case, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, Xc, yc = _fit(case)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert sorted(untrusted) == sorted(SKOPS_TRUSTED_TYPES[case])
    from skops.io.exceptions import UntrustedTypesFoundException

    with pytest.raises(UntrustedTypesFoundException):
        sio.load(path)  # nothing is loaded without trusting the fastnet types
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_model(est, loaded, [Xc, X_NEW])
    if est.solver != "lbfgs":
        _continue(est, Xc, yc, "partial_fit")
        _continue(loaded, Xc, yc, "partial_fit")
        _assert_same_model(est, loaded, [Xc, X_NEW])


# --------------------------------------------------------------- golden files
GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_EXPECTED = {
    int(folder.name[1:]): json.loads((folder / "expected.json").read_text())
    for folder in sorted(GOLDEN.glob("v*")) if (folder / "expected.json").is_file()
}
GOLDEN_CASES = [(v, name) for v, exp in sorted(GOLDEN_EXPECTED.items()) for name in exp["models"]]
GOLDEN_IDS = [f"v{v}-{name}" for v, name in GOLDEN_CASES]

# Recorded float64 predictions were computed by this machine's BLAS and NumPy
# builds; another machine's kernels (FMA or not, another summation order) may
# round the same sums differently by a few ulps, and a value near zero inherits
# the rounding of the larger terms that cancelled into it: rtol 1e-12 plus an
# atol of 1e-12 times the largest value (~4500 ulps, far below any real change:
# one wrong weight moves predictions by >1e-3 here).  float32: the same argument
# with float32's eps, 64 * 1.2e-7 ~ 7.6e-6 relative (sums of <= 4 terms, 2 layers).
_GOLDEN_RTOL = {"float64": 1e-12, "float32": 64 * float(np.finfo(np.float32).eps)}


def test_golden_files_exist_for_the_current_format():
    """Every format version leaves its golden files behind (make_golden.py)."""
    assert FORMAT_VERSION in GOLDEN_EXPECTED
    assert sorted(GOLDEN_EXPECTED) == list(range(1, FORMAT_VERSION + 1))
    for version, expected in GOLDEN_EXPECTED.items():
        models = expected["models"]
        kinds = {(m["estimator"], m["params"]["solver"]) for m in models.values()}
        assert kinds == {(e, s) for e in ("MLPRegressor", "MLPClassifier")
                         for s in ("adam", "sgd", "lbfgs")}
        for m in models.values():
            assert (GOLDEN / f"v{version}" / m["file"]).stat().st_size < 8192  # small
    # Format 2's additions occur in its files.
    v2 = GOLDEN_EXPECTED[2]["models"]
    assert any(m["params"]["dropout"] not in (0, 0.0) for m in v2.values())
    assert any(m["params"].get("class_weight") for m in v2.values())
    # Format 3's: models whose device is 'cuda' (fitted on the CPU, as a GPU-fitted model is
    # stored: host arrays), a regressor with Adam state and a classifier on a DataFrame.
    v3 = GOLDEN_EXPECTED[3]["models"]
    on_cuda = {(m["estimator"], m["params"]["solver"]) for m in v3.values()
               if m["params"]["device"] == "cuda"}
    assert on_cuda == {("MLPRegressor", "adam"), ("MLPClassifier", "lbfgs")}


@pytest.mark.parametrize("version", [1, 2])
def test_files_before_format_3_load_with_device_cpu(version):
    """``device`` arrived with format 3: older files take the constructor's default."""
    models = GOLDEN_EXPECTED[version]["models"]
    for record in models.values():
        data = (GOLDEN / f"v{version}" / record["file"]).read_bytes()
        assert b'"device"' not in data
        assert fastnet.load(io.BytesIO(data)).device == "cpu"


def _golden_inputs(version, record):
    X = np.asarray(GOLDEN_EXPECTED[version]["X"], dtype=np.float64).astype(record["dtype"])
    if record["dataframe"]:
        return pd.DataFrame(X, columns=GOLDEN_EXPECTED[version]["columns"])
    return X


def _json_params(est):
    return json.loads(json.dumps(est.get_params(), default=list))


def _assert_recorded_predictions(est, version, record):
    Xg = _golden_inputs(version, record)
    pred = est.predict(Xg)
    expected = np.asarray(record["predict"])
    if record["estimator"] == "MLPRegressor":
        assert pred.dtype == np.dtype(record["dtype"])
        rtol = _GOLDEN_RTOL[record["dtype"]]
        np.testing.assert_allclose(pred, expected, rtol=rtol,
                                   atol=rtol * float(np.max(np.abs(expected))))
        return
    # Labels exactly: make_golden.py recorded how far the closest decision was from
    # a tie (>= 1e-6, asserted there), far beyond any rounding of the probabilities.
    assert record["decision_margin"] >= 1e-6
    assert pred.tolist() == record["predict"]
    proba = est.predict_proba(Xg)
    assert proba.dtype == np.dtype(record["dtype"])
    # Probabilities lie in [0, 1]: an absolute tolerance.
    np.testing.assert_allclose(proba, np.asarray(record["predict_proba"]), rtol=0,
                               atol=_GOLDEN_RTOL[record["dtype"]])


@pytest.mark.parametrize("version,name", GOLDEN_CASES, ids=GOLDEN_IDS)
def test_golden_file_loads_and_predicts_the_recorded_values(version, name):
    record = GOLDEN_EXPECTED[version]["models"][name]
    path = GOLDEN / f"v{version}" / record["file"]
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("meta.json"))["format_version"] == version
    est = fastnet.load(path)
    assert type(est).__name__ == record["estimator"]
    # Stored numbers come back exactly: they are read, not recomputed.  Parameters
    # introduced after the file's version take their defaults.
    params = _json_params(est)
    newer = set(params) - persistence._params_known_by(version, record["estimator"])
    default = _json_params(type(est)())
    assert {k: params.pop(k) for k in newer} == {k: default[k] for k in newer}
    assert params == record["params"]
    assert est.n_iter_ == record["n_iter_"]
    assert list(getattr(est, "loss_curve_", [])) == record["loss_curve_"]
    _assert_recorded_predictions(est, version, record)
    if version == 1 and est.early_stopping:
        # Not recorded before format 2: one NaN per epoch, aligned with the scores.
        assert len(est.validation_loss_curve_) == len(est.validation_scores_)
        assert np.isnan(est.validation_loss_curve_).all()
    # Saved again (in today's format) it still predicts the same, bit for bit.
    again = _load_bytes(_roundtrip_bytes(est))
    Xg = _golden_inputs(version, record)
    _assert_same_value(est.predict(Xg), again.predict(Xg), "predict after re-saving")


@pytest.mark.parametrize("version,name", GOLDEN_CASES, ids=GOLDEN_IDS)
def test_golden_file_continues_training(version, name):
    """An old file trains on (warm_start; partial_fit where the solver allows it)."""
    record = GOLDEN_EXPECTED[version]["models"][name]
    est = fastnet.load(GOLDEN / f"v{version}" / record["file"])
    Xg, y = _golden_inputs(version, record), np.asarray(record["y"])
    before = [c.copy() for c in est.coefs_]
    if est.device == "cuda" and _device.cuda_problem() is not None:
        # Saved by a model that trains on a GPU: where CUDA can't run, training refuses
        # with the device's error, and the model goes on predicting what was recorded;
        # set to the CPU, it trains on.
        with pytest.raises((ImportError, RuntimeError), match="device='cuda' needs"):
            est.fit(Xg, y)
        assert all(np.array_equal(a, b) for a, b in zip(before, est.coefs_))
        _assert_recorded_predictions(est, version, record)
        est.set_params(device="cpu")
    if record["params"]["solver"] != "lbfgs" and not record["params"]["early_stopping"]:
        t = est.t_
        est.partial_fit(Xg, y)
        assert len(est.loss_curve_) == len(record["loss_curve_"]) + 1 and est.t_ == t + len(y)
    curve = list(getattr(est, "loss_curve_", []))
    est.set_params(warm_start=True, max_iter=2)
    est.fit(Xg, y)
    assert est.n_iter_ >= 1
    if record["params"]["solver"] != "lbfgs":  # the curve goes on from the saved one
        assert est.loss_curve_[:len(curve)] == curve and len(est.loss_curve_) > len(curve)
    if not record["params"]["early_stopping"]:  # early stopping may restore the old best
        assert any(not np.array_equal(a, b) for a, b in zip(before, est.coefs_))
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    assert est.coefs_[0].dtype == np.dtype(record["dtype"])


def _estimator_with_new_parameter(base, name, default):
    """``base`` as a later fastnet might define it: one more constructor parameter."""
    signature = inspect.signature(base.__init__)
    extra = inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)

    def __init__(self, **kwargs):
        value = kwargs.pop(name, default)
        base.__init__(self, **kwargs)
        setattr(self, name, value)

    __init__.__signature__ = signature.replace(
        parameters=[*signature.parameters.values(), extra])
    return type(base.__name__, (base,), {"__init__": __init__, "__module__": __name__})


@pytest.fixture
def a_later_fastnet(monkeypatch):
    """Simulate the next release: format version FORMAT_VERSION + 1 adds a
    (hypothetical) ``label_smoothing`` (default 0.0) to both estimators.  Returns the
    two estimator classes of that release."""
    new = "label_smoothing"
    classes = {"MLPRegressor": _estimator_with_new_parameter(MLPRegressor, new, 0.0),
               "MLPClassifier": _estimator_with_new_parameter(MLPClassifier, new, 0.0)}
    table = dict(persistence._PARAMS_INTRODUCED)
    table[FORMAT_VERSION + 1] = {"MLPRegressor": {new}, "MLPClassifier": {new}}
    monkeypatch.setattr(persistence, "_PARAMS_INTRODUCED", table)
    monkeypatch.setattr(persistence, "FORMAT_VERSION", FORMAT_VERSION + 1)
    monkeypatch.setattr(persistence, "_estimator_classes", lambda: classes)
    return classes


@pytest.mark.parametrize("name", ["reg-adam", "clf-lbfgs", "reg-adam-float32"])
def test_golden_file_loads_after_the_estimators_gain_a_parameter(name, a_later_fastnet):
    """Today's files (format FORMAT_VERSION) load in a release that adds a parameter."""
    record = GOLDEN_EXPECTED[FORMAT_VERSION]["models"][name]
    data = (GOLDEN / f"v{FORMAT_VERSION}" / record["file"]).read_bytes()
    assert b'"label_smoothing"' not in data  # written before the parameter existed
    est = fastnet.load(io.BytesIO(data))
    assert type(est) is a_later_fastnet[record["estimator"]]
    assert est.label_smoothing == 0.0  # introduced after this file's version: the default
    params = _json_params(est)
    assert params.pop("label_smoothing") == 0.0 and params == record["params"]
    _assert_recorded_predictions(est, FORMAT_VERSION, record)

    # Saved by the later fastnet, the file is of its version and holds the parameter ...
    newer = _roundtrip_bytes(est)
    meta = json.loads(_members(newer)["meta.json"])
    assert meta["format_version"] == FORMAT_VERSION + 1
    assert meta["params"]["label_smoothing"] == 0.0
    assert fastnet.load(io.BytesIO(newer)).label_smoothing == 0.0
    # ... which a file of that version must: without it, it is corrupt, not defaulted.
    lacking = _with_meta(newer, lambda m: m["params"].pop("label_smoothing"))
    with pytest.raises(ModelFileError, match=r"corrupted.*\['label_smoothing'\] are missing"):
        fastnet.load(io.BytesIO(lacking))
    # An older file cannot hold a parameter only the later version introduced.
    inconsistent = _with_meta(data, lambda m: m["params"].update(label_smoothing=0.0))
    with pytest.raises(ModelFileError, match=r"\['label_smoothing'\] are newer than its format"):
        fastnet.load(io.BytesIO(inconsistent))


def test_golden_file_edited_to_lack_a_parameter_a_later_version_adds_loads(monkeypatch):
    """The same rule with an existing parameter: pretend version 2 introduced
    ``momentum`` and strip it from a version-1 file that had momentum=0.8: the
    loaded model gets the constructor's default (0.9), not the file's value."""
    record = GOLDEN_EXPECTED[1]["models"]["reg-sgd"]
    assert record["params"]["momentum"] == 0.8 != MLPRegressor().momentum
    table = dict(persistence._PARAMS_INTRODUCED)
    table[1] = {k: v - {"momentum"} for k, v in table[1].items()}
    table[FORMAT_VERSION + 1] = {"MLPRegressor": {"momentum"}, "MLPClassifier": {"momentum"}}
    monkeypatch.setattr(persistence, "_PARAMS_INTRODUCED", table)
    monkeypatch.setattr(persistence, "FORMAT_VERSION", FORMAT_VERSION + 1)
    data = (GOLDEN / "v1" / record["file"]).read_bytes()
    with pytest.raises(ModelFileError, match=r"\['momentum'\] are newer than its format version 1"):
        fastnet.load(io.BytesIO(data))  # unedited, the file holds it: inconsistent now
    est = fastnet.load(io.BytesIO(_with_meta(data, lambda m: m["params"].pop("momentum"))))
    assert est.momentum == 0.9
    params = _json_params(est)
    assert params.pop("momentum") == 0.9
    assert {k: v for k, v in params.items() if k in record["params"]} == {
        k: v for k, v in record["params"].items() if k != "momentum"}
    _assert_recorded_predictions(est, 1, record)


def test_golden_file_lacking_a_parameter_its_version_knew_is_refused():
    data = (GOLDEN / "v1" / "reg-sgd.fnet").read_bytes()
    edited = _with_meta(data, lambda m: m["params"].pop("momentum"))
    with pytest.raises(ModelFileError, match=r"corrupted.*\['momentum'\] are missing"):
        fastnet.load(io.BytesIO(edited))


@pytest.mark.parametrize("name", ["reg-sgd", "clf-adam"])
def test_unknown_parameter_is_refused_as_from_a_newer_fastnet(name):
    record = GOLDEN_EXPECTED[1]["models"][name]
    data = (GOLDEN / "v1" / record["file"]).read_bytes()
    edited = _with_meta(data, lambda m: m["params"].update(label_smoothing=0.25))
    with pytest.raises(ModelFileError, match="written by a newer fastnet") as info:
        fastnet.load(io.BytesIO(edited))
    assert "'label_smoothing'" in str(info.value) and record["estimator"] in str(info.value)


def test_version_table_describes_the_estimators():
    """A new constructor parameter needs a new format version in _PARAMS_INTRODUCED."""
    for cls in (MLPRegressor, MLPClassifier):
        known = persistence._params_known_by(FORMAT_VERSION, cls.__name__)
        assert known == set(cls._get_param_names())


def test_save_and_load_refuse_an_outdated_version_table(monkeypatch, saved_regressor):
    """An estimator parameter missing from the table is a fastnet bug: save refuses
    to write a file no fastnet would read, and load does not blame the file."""
    est, good = saved_regressor
    table = dict(persistence._PARAMS_INTRODUCED)
    table[1] = dict(table[1])
    table[1]["MLPRegressor"] = table[1]["MLPRegressor"] - {"max_fun"}
    monkeypatch.setattr(persistence, "_PARAMS_INTRODUCED", table)
    with pytest.raises(RuntimeError, match=r"not in the table: \['max_fun'\]"):
        fastnet.save(est, io.BytesIO())
    with pytest.raises(RuntimeError, match="_PARAMS_INTRODUCED") as info:
        fastnet.load(io.BytesIO(good))
    assert not isinstance(info.value, ModelFileError)
