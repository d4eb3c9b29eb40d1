"""Safe model files: ``fastnet.save(estimator, path)`` and ``fastnet.load(path)``.

Format (versions 1 to 3), a ZIP archive with exactly these members:

``meta.json``
    UTF-8 JSON: ``format`` ("fastnet-model"), ``format_version`` (int),
    ``fastnet_version``, ``estimator`` ("MLPRegressor" or "MLPClassifier"),
    ``params`` (the constructor parameters), ``fitted`` (scalar and list fitted
    attributes), ``layer_units``, ``dtype``, ``optimizer`` (its kind and
    scalars, or null) and ``arrays`` (name -> dtype and shape of every array
    member).
``<name>.npy``
    NumPy arrays, read with ``allow_pickle=False``: ``params`` (the flat
    parameter buffer), and where present ``best_params``, ``optimizer_state``,
    ``feature_names_in_``, ``classes_``.

Nothing in a file is ever unpickled or executed.  Loading checks every member
name, JSON type, array dtype and shape against the format and raises
:class:`ModelFileError` (a ``ValueError``) on anything truncated, corrupted,
foreign or inconsistent; a file written by a newer format version is refused
with a message saying so.

Forward compatibility: a file keeps loading after the estimators gain
constructor parameters.  Each format version records the parameters it
introduced (``_PARAMS_INTRODUCED``); a file of version ``V`` holds exactly the
parameters of the versions up to ``V``, and every parameter introduced after
``V`` takes its constructor default.  A parameter this fastnet does not know
means the file was written by a newer fastnet and is refused, naming it.
Adding a constructor parameter therefore means a new ``FORMAT_VERSION`` with
its entry in ``_PARAMS_INTRODUCED``; ``save`` refuses to write a file whose
parameters the table does not describe, so a forgotten entry fails loudly
instead of writing files that no fastnet reads.
"""

import io
import json
import math
import zipfile
from numbers import Integral, Real

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from ._version import __version__
from .kernels import registry as _registry
from .network import Network

__all__ = ["save", "load", "ModelFileError", "FORMAT_VERSION"]

FORMAT = "fastnet-model"
FORMAT_VERSION = 3

# Constructor parameters each format version introduced, per estimator (never
# edit a released version's entry: files of that version hold exactly these).
# A new parameter gets a new format version: {2: {"MLPRegressor": {"dropout"},
# "MLPClassifier": {"dropout"}}}, say.  Files of version 1 then load with the
# constructor's default dropout; fastnets that read only version 1 refuse
# version-2 files ("newer format version") instead of dropping the parameter.
_V1_SHARED_PARAMS = frozenset({
    "activation", "alpha", "batch_size", "beta_1", "beta_2", "early_stopping", "epsilon",
    "hidden_layer_sizes", "learning_rate", "learning_rate_init", "max_fun", "max_iter",
    "momentum", "n_iter_no_change", "nesterovs_momentum", "power_t", "random_state",
    "shuffle", "solver", "tol", "validation_fraction", "verbose", "warm_start",
})
_PARAMS_INTRODUCED = {
    1: {"MLPRegressor": _V1_SHARED_PARAMS | {"loss"}, "MLPClassifier": _V1_SHARED_PARAMS},
    # Beyond scikit-learn: dropout (both), class_weight (classifier); version 2 files also
    # hold the dropout masks' seed and step and validation_loss_curve_.
    2: {"MLPRegressor": {"dropout"}, "MLPClassifier": {"dropout", "class_weight"}},
    # device ('cpu' or 'cuda'): where the model trains.  The stored arrays are the same
    # on every device, so a file of a model fitted on a GPU loads and predicts on a
    # machine without one; files of versions 1 and 2 load with device='cpu'.
    3: {"MLPRegressor": {"device"}, "MLPClassifier": {"device"}},
}
# Parameters whose dict values are stored as {"items": [[key, value], ...]}: JSON object
# keys are strings, class labels need not be.
_DICT_PARAMS = frozenset({"class_weight"})

# ----------------------------------------------------------- name tables
# Every name the format stores and checks, in one place.  Activation and loss
# names derive from the registry in fastnet.kernels (and ``Network`` validates
# the activation names a file holds against it).
_DTYPES = ("float32", "float64")
_ARRAY_NAMES = ("params", "best_params", "optimizer_state", "feature_names_in_", "classes_")
# Optimizer class stored for each solver; lbfgs keeps none.  Any solver but
# "sgd" expects Adam, as training always did: a model fitted with adam and then
# switched to lbfgs by set_params still carries (and saves) its Adam state.
_OPTIMIZER_OF_SOLVER = {"sgd": "SGD", "adam": "Adam"}
_OPTIMIZER_KINDS = frozenset(_OPTIMIZER_OF_SOLVER.values())
# binary / multilabel (logistic) and multiclass (softmax)
_CLASSIFIER_OUTPUTS = set(_registry.output_activations_for("MLPClassifier"))
_MULTICLASS_OUTPUT = next(name for name, loss in _registry.CANONICAL_LOSS.items()
                          if loss == "log_loss")
_LABEL_BINARIZER_TYPES = {"binary", "multiclass", "multilabel-indicator"}

# Fitted attributes stored in JSON, with the Python types each may take.
_SCALAR_ATTRIBUTES = {
    "n_iter_": (int,),
    "t_": (int,),
    "n_layers_": (int,),
    "n_outputs_": (int,),
    "n_features_in_": (int,),
    "out_activation_": (str,),
    "loss_": (float, int),
    "best_loss_": (float, int, type(None)),
    "best_validation_score_": (float, int, type(None)),
    "loss_curve_": (list,),
    "validation_scores_": (list, type(None)),
    "_no_improvement_count": (int,),
    "validation_loss_curve_": (list, type(None)),
    "_dropout_seed": (int,),
    "_dropout_step": (int,),
}
_MAX_MEMBER_BYTES = 1 << 34  # 16 GiB: refuse absurd sizes before reading


class ModelFileError(ValueError):
    """A model file that is not a valid fastnet model file of a known version."""


class _VersionTableError(RuntimeError):
    """``_PARAMS_INTRODUCED`` disagrees with the estimators: a fastnet bug, not a bad file."""


def _estimator_classes():
    from .estimators import MLPClassifier, MLPRegressor

    return {"MLPRegressor": MLPRegressor, "MLPClassifier": MLPClassifier}


def _params_known_by(version, name):
    """The constructor parameters a format-``version`` file of estimator ``name`` holds."""
    known = set()
    for v in range(1, version + 1):
        known |= _PARAMS_INTRODUCED.get(v, {}).get(name, set())
    return known


def _current_params(name, cls):
    """This fastnet's parameters of ``cls``, checked against the version table.

    A mismatch is a fastnet bug (a constructor parameter added without its
    format version), not a bad file, so it is not reported as one.
    """
    names = set(cls._get_param_names())
    known = _params_known_by(FORMAT_VERSION, name)
    if names != known:
        raise _VersionTableError(
            f"fastnet.persistence._PARAMS_INTRODUCED does not describe {name}'s parameters "
            f"(not in the table: {sorted(names - known)}; not in {name}: "
            f"{sorted(known - names)}); a new parameter needs a new FORMAT_VERSION"
        )
    return names


# --------------------------------------------------------------------- save
def _json_value(value, what):
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, (tuple, list)):
        return [_json_value(v, what) for v in value]
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return [_json_value(v, what) for v in value.tolist()]
    raise TypeError(f"{what} of type {type(value).__name__} cannot be stored in a fastnet file")


def _params_for_file(est):
    _current_params(type(est).__name__, type(est))  # never write a file no fastnet reads
    params = {}
    for name, value in est.get_params(deep=False).items():
        if name == "random_state" and not (value is None or isinstance(value, Integral)):
            value = None  # a RandomState's stream is not part of the model
        if name in _DICT_PARAMS and isinstance(value, dict):
            value = {"items": [[_json_value(k, f"a key of {name!r}"),
                                _json_value(v, f"a value of {name!r}")]
                               for k, v in value.items()]}
            params[name] = value
            continue
        params[name] = _json_value(value, f"parameter {name!r}")
    return params


def save(estimator, path):
    """Write a fitted fastnet estimator to a safe, versioned model file.

    Parameters
    ----------
    estimator : fastnet.MLPRegressor or fastnet.MLPClassifier
        A fitted estimator.
    path : str, os.PathLike or binary file object
        Where to write (a ZIP archive; ``.fnet`` is a good suffix).

    Notes
    -----
    A ``random_state`` given as a ``RandomState`` instance is stored as
    ``None``.  Multilabel classifiers store ``classes_`` as an array; labels
    must be numbers, booleans or strings (no arbitrary objects).
    """
    from sklearn.utils.validation import check_is_fitted

    classes = _estimator_classes()
    name = type(estimator).__name__
    if classes.get(name) is not type(estimator):
        raise TypeError(f"save() takes a fastnet MLPRegressor or MLPClassifier, got {name}")
    check_is_fitted(estimator)
    net = estimator._network_for_attributes()

    arrays = {"params": net.params.flat}
    if hasattr(estimator, "_best_params"):
        arrays["best_params"] = estimator._best_params
    optimizer = getattr(estimator, "_optimizer", None)
    optimizer_meta = None
    if optimizer is not None:
        optimizer_meta = {
            "kind": type(optimizer).__name__,
            "learning_rate": float(optimizer.learning_rate),
            "t": int(optimizer.t),
        }
        if optimizer.state is not None:
            arrays["optimizer_state"] = optimizer.state
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in_"] = np.asarray(estimator.feature_names_in_, dtype=str)
    label_binarizer = None
    if hasattr(estimator, "classes_"):
        classes_ = np.asarray(estimator.classes_)
        if classes_.dtype == object:
            classes_ = _object_labels_to_plain(classes_)
        arrays["classes_"] = classes_
        lb = estimator._label_binarizer
        label_binarizer = {"y_type_": lb.y_type_, "sparse_input_": bool(lb.sparse_input_)}

    fitted = {}
    for attr in _SCALAR_ATTRIBUTES:
        if hasattr(estimator, attr):
            fitted[attr] = _json_value(getattr(estimator, attr), f"attribute {attr!r}")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fastnet_version": __version__,
        "estimator": name,
        "params": _params_for_file(estimator),
        "tuple_params": sorted(
            k for k, v in estimator.get_params(deep=False).items() if isinstance(v, tuple)
        ),
        "fitted": fitted,
        "layer_units": list(net.layer_units),
        "dtype": net.dtype.name,
        "optimizer": optimizer_meta,
        "label_binarizer": label_binarizer,
        "arrays": {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays.items()},
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("meta.json", json.dumps(meta, allow_nan=True, indent=1))
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(value), allow_pickle=False)
            zf.writestr(f"{key}.npy", buf.getvalue())


def _object_labels_to_plain(labels):
    kinds = {type(v) for v in labels}
    if kinds <= {str}:
        return labels.astype(str)
    raise TypeError(
        "class labels of types %s cannot be stored without pickle; use numbers, bools or strings"
        % sorted(k.__name__ for k in kinds)
    )


# --------------------------------------------------------------------- load
def _fail(msg):
    raise ModelFileError(msg)


def _expect(cond, msg):
    if not cond:
        _fail(msg)


def _read_meta(zf):
    try:
        raw = zf.read("meta.json")
    except KeyError:
        _fail("not a fastnet model file: meta.json is missing")
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"corrupted fastnet model file: meta.json is not valid JSON ({exc})")
    _expect(isinstance(meta, dict), "corrupted fastnet model file: meta.json is not an object")
    _expect(meta.get("format") == FORMAT, "not a fastnet model file (wrong 'format' marker)")
    version = meta.get("format_version")
    _expect(isinstance(version, int) and not isinstance(version, bool) and version >= 1,
            "corrupted fastnet model file: bad format_version")
    if version > FORMAT_VERSION:
        _fail(
            f"this model file uses format version {version}, newer than this fastnet "
            f"({__version__}) reads (up to {FORMAT_VERSION}); upgrade fastnet to load it"
        )
    return meta


def _read_array(zf, name, spec):
    _expect(isinstance(spec, dict) and isinstance(spec.get("dtype"), str)
            and isinstance(spec.get("shape"), list), f"corrupted entry for array {name!r}")
    try:
        info = zf.getinfo(f"{name}.npy")
    except KeyError:
        _fail(f"corrupted fastnet model file: array {name!r} is missing")
    _expect(info.file_size <= _MAX_MEMBER_BYTES, f"array {name!r} is implausibly large")
    try:
        raw = zf.read(info)
        stream = io.BytesIO(raw)
        version = np.lib.format.read_magic(stream)
        readers = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
        _expect(version in readers, f"array {name!r} has an unsupported .npy version {version}")
        shape, _, dtype = readers[version](stream)
        # A header may claim any shape: refuse one the member cannot hold before
        # numpy tries to allocate it.
        claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
        _expect(claimed <= len(raw), f"array {name!r} claims more data than the file holds")
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except ModelFileError:
        raise
    except Exception as exc:  # ValueError, TokenError, MemoryError, zip errors, ...
        _fail(f"corrupted fastnet model file: array {name!r} cannot be read ({exc})")
    _expect(isinstance(array, np.ndarray), f"array {name!r} is not an array")
    _expect(array.dtype.str == spec["dtype"] and list(array.shape) == spec["shape"],
            f"corrupted fastnet model file: array {name!r} has dtype {array.dtype.str} and shape "
            f"{list(array.shape)}, meta.json says {spec['dtype']} and {spec['shape']}")
    return array


def _check_params(name, cls, version, params, tuple_params):
    """The estimator the file's constructor parameters describe, unfitted.

    A format-``version`` file must hold exactly the parameters that version
    knew: one missing is a corrupted file, one introduced only by a later
    version is an inconsistent one, and one this fastnet does not know at all
    was written by a newer fastnet.  Parameters introduced after ``version``
    are left out of the constructor call, so they take their defaults.
    """
    _expect(isinstance(params, dict), "corrupted fastnet model file: 'params' is not an object")
    current = _current_params(name, cls)
    known = _params_known_by(version, name)
    unknown = sorted(set(params) - current)
    _expect(not unknown,
            f"model file parameters {unknown} do not match {name}: this fastnet "
            f"({__version__}) has no such parameter{'s' if len(unknown) > 1 else ''}, so the file "
            f"was written by a newer fastnet (or for another estimator); upgrade fastnet to "
            f"load it")
    too_new = sorted(set(params) - known)
    _expect(not too_new,
            f"corrupted fastnet model file: parameters {too_new} are newer than its format "
            f"version {version}")
    missing = sorted(known - set(params))
    _expect(not missing,
            f"corrupted fastnet model file: parameters {missing} are missing (format version "
            f"{version} files hold them)")
    params = dict(params)
    for param in _DICT_PARAMS & set(params):
        value = params[param]
        if isinstance(value, dict):
            items = value.get("items")
            _expect(set(value) == {"items"} and isinstance(items, list)
                    and all(isinstance(kv, list) and len(kv) == 2 for kv in items),
                    f"corrupted file: parameter {param!r}")
            params[param] = {k: v for k, v in items}
    for param in tuple_params:
        _expect(param in params and isinstance(params[param], list),
                f"corrupted file: tuple parameter {param!r}")
        params[param] = tuple(params[param])
    est = cls(**params)
    try:
        est._validate_params()
    except Exception as exc:  # InvalidParameterError is a ValueError and TypeError
        _fail(f"model file holds invalid parameters: {exc}")
    return est


def load(path):
    """Read a model file written by :func:`save`; never unpickles anything.

    Parameters
    ----------
    path : str, os.PathLike or binary file object

    Returns
    -------
    estimator : fastnet.MLPRegressor or fastnet.MLPClassifier
        Fitted, predicting exactly as the saved one, and able to continue
        training (``partial_fit``, ``warm_start``).

    Raises
    ------
    ModelFileError
        If the file is truncated, corrupted, not a fastnet model file, or of a
        newer format version.
    """
    try:
        zf = zipfile.ZipFile(path, "r")
    except FileNotFoundError:
        raise
    except Exception as exc:  # BadZipFile, NotImplementedError (zip version), ...
        _fail(f"not a fastnet model file (not a readable ZIP archive: {exc})")
    with zf:
        try:
            return _load_from_zip(zf)
        except (ModelFileError, _VersionTableError):
            raise
        except Exception as exc:  # anything a damaged member provokes is a bad file
            _fail(f"corrupted fastnet model file ({type(exc).__name__}: {exc})")


def _load_from_zip(zf):
    meta = _read_meta(zf)
    cls = _estimator_classes().get(meta.get("estimator"))
    _expect(cls is not None, f"unknown estimator {meta.get('estimator')!r} in model file")
    name = meta["estimator"]
    specs = meta.get("arrays")
    _expect(isinstance(specs, dict) and "params" in specs, "corrupted file: no 'params' array")
    allowed = set(_ARRAY_NAMES)
    _expect(set(specs) <= allowed, f"unknown arrays in model file: {sorted(set(specs) - allowed)}")
    members = set(zf.namelist())
    _expect(members == {"meta.json"} | {f"{k}.npy" for k in specs},
            f"unexpected members in model file: {sorted(members)}")

    tuple_params = meta.get("tuple_params", ["hidden_layer_sizes"])
    _expect(isinstance(tuple_params, list), "corrupted file: 'tuple_params' is not a list")
    est = _check_params(name, cls, meta["format_version"], meta.get("params"), tuple_params)
    dtype = meta.get("dtype")
    _expect(dtype in _DTYPES, f"bad dtype {dtype!r} in model file")
    units = meta.get("layer_units")
    _expect(isinstance(units, list) and len(units) >= 2
            and all(isinstance(u, int) and not isinstance(u, bool) and u >= 1 for u in units),
            "corrupted file: bad layer_units")

    fitted = meta.get("fitted")
    _expect(isinstance(fitted, dict), "corrupted file: 'fitted' is not an object")
    _expect(set(fitted) <= set(_SCALAR_ATTRIBUTES), "unknown fitted attributes in model file")
    for attr, value in fitted.items():
        _expect(isinstance(value, _SCALAR_ATTRIBUTES[attr]) and not isinstance(value, bool),
                f"corrupted file: attribute {attr!r} has the wrong type")
        if isinstance(value, list):
            _expect(all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value),
                    f"corrupted file: attribute {attr!r} must hold numbers")
    required = ["n_iter_", "n_layers_", "n_outputs_", "n_features_in_", "out_activation_",
                "loss_"]
    if est.solver in _OPTIMIZER_OF_SOLVER:
        required += ["t_", "loss_curve_", "_no_improvement_count"]
        if est.early_stopping:
            required += ["validation_scores_", "best_validation_score_"]
        else:
            required += ["best_loss_"]
    if meta["format_version"] >= 2:
        required += ["_dropout_seed", "_dropout_step"]
        if est.solver in _OPTIMIZER_OF_SOLVER and est.early_stopping:
            required += ["validation_loss_curve_"]
    for attr in required:
        _expect(attr in fitted and (fitted[attr] is not None or attr == "loss_"),
                f"corrupted file: fitted attribute {attr!r} is missing")
    for attr in ("n_iter_", "t_", "_no_improvement_count", "_dropout_step"):
        _expect(0 <= fitted.get(attr, 0) < 2**53, f"corrupted file: {attr!r} out of range")
    _expect(0 <= fitted.get("_dropout_seed", 0) < 2**64,
            "corrupted file: '_dropout_seed' out of range")
    _expect(fitted["n_layers_"] == len(units) and fitted["n_features_in_"] == units[0]
            and fitted["n_outputs_"] == units[-1],
            "corrupted file: layer_units disagree with the fitted attributes")
    hidden = est.hidden_layer_sizes
    hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
    _expect(hidden == units[1:-1], "corrupted file: hidden_layer_sizes disagree with layer_units")

    arrays = {name: _read_array(zf, name, spec) for name, spec in specs.items()}
    flat = arrays["params"]
    _expect(flat.dtype == np.dtype(dtype), "corrupted file: params dtype disagrees")
    try:
        # A CPU network whatever ``device`` says: the file holds host arrays, and a
        # model with device='cuda' predicts here and goes to the GPU when it trains.
        net = Network(units, est.activation, fitted["out_activation_"], dtype=dtype)
    except (ValueError, TypeError) as exc:
        _fail(f"corrupted file: {exc}")
    _expect(flat.shape == (net.layout.n_params,),
            f"corrupted file: params has {flat.size} values, layer_units need "
            f"{net.layout.n_params}")
    if name == "MLPRegressor":
        valid_outputs = {est._output_activation()}
    else:
        valid_outputs = _CLASSIFIER_OUTPUTS
    _expect(fitted["out_activation_"] in valid_outputs,
            f"corrupted file: output activation {fitted['out_activation_']!r} does not fit "
            f"{name}")
    net.params.flat[...] = flat

    for attr, value in fitted.items():
        setattr(est, attr, float(value) if attr in ("loss_",) else value)
    if "loss_curve_" in fitted:
        est.loss_curve_ = [float(v) for v in fitted["loss_curve_"]]
    if est.solver in _OPTIMIZER_OF_SOLVER and "validation_loss_curve_" not in fitted:
        # A version 1 file: the validation loss was not recorded (NaN per epoch).
        scores = fitted.get("validation_scores_")
        est.validation_loss_curve_ = None if scores is None else [math.nan] * len(scores)
    elif fitted.get("validation_loss_curve_") is not None:
        curve = est.validation_loss_curve_ = [float(v) for v in fitted["validation_loss_curve_"]]
        _expect(len(curve) == len(fitted.get("validation_scores_") or []),
                "corrupted file: validation_loss_curve_ and validation_scores_ differ in length")
    try:
        net.dropout = est._dropout_rates()
    except (ValueError, TypeError) as exc:
        _fail(f"model file holds invalid parameters: {exc}")
    net.dropout_seed = est._dropout_seed = fitted.get("_dropout_seed", 0)
    net.dropout_step = est._dropout_step = fitted.get("_dropout_step", 0)
    if "best_params" in arrays:
        _expect(arrays["best_params"].shape == flat.shape
                and arrays["best_params"].dtype == flat.dtype, "corrupted file: best_params")
        est._best_params = arrays["best_params"].copy()
    if "feature_names_in_" in arrays:
        names = arrays["feature_names_in_"]
        _expect(names.dtype.kind == "U" and names.shape == (units[0],),
                "corrupted file: feature_names_in_")
        est.feature_names_in_ = names.astype(object)
    _load_optimizer(est, meta.get("optimizer"), arrays.get("optimizer_state"), net)
    _load_classes(est, name == "MLPClassifier", meta.get("label_binarizer"),
                  arrays.get("classes_"), units[-1])
    est._bind_network(net)
    return est


def _load_optimizer(est, meta, state, net):
    if meta is None:
        _expect(state is None, "corrupted file: optimizer state without an optimizer")
        return
    _expect(isinstance(meta, dict) and meta.get("kind") in _OPTIMIZER_KINDS,
            "corrupted file: bad optimizer entry")
    lr, t = meta.get("learning_rate"), meta.get("t")
    _expect(isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr)
            and isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 2**53,
            "corrupted file: bad optimizer scalars")
    _expect(meta["kind"] == _OPTIMIZER_OF_SOLVER.get(est.solver, "Adam"),
            "corrupted file: optimizer does not match the solver")
    from .training import make_optimizer

    optimizer = make_optimizer(est)
    optimizer.learning_rate = float(lr)
    optimizer.t = t
    if state is not None:
        _expect(state.shape == (2, net.layout.n_params) and state.dtype == net.dtype,
                "corrupted file: optimizer_state does not fit the parameters")
        optimizer.state = state.copy()
    est._optimizer = optimizer


def _load_classes(est, is_classifier, meta, classes, n_outputs):
    if not is_classifier:
        _expect(classes is None and meta is None, "corrupted file: classes in a regressor")
        return
    _expect(classes is not None and isinstance(meta, dict), "corrupted file: classes missing")
    _expect(classes.ndim == 1 and classes.dtype.kind in "biufU" and classes.size >= 1,
            "corrupted file: classes_ must be a 1-d array of numbers, bools or strings")
    y_type = meta.get("y_type_")
    _expect(y_type in _LABEL_BINARIZER_TYPES, "corrupted file: bad label type")
    _expect((est.out_activation_ == _MULTICLASS_OUTPUT) == (y_type == "multiclass"),
            "corrupted file: output activation disagrees with the label type")
    expected_outputs = 1 if y_type == "binary" else classes.size
    _expect(n_outputs == expected_outputs, "corrupted file: classes_ disagree with n_outputs_")
    lb = LabelBinarizer()
    lb.classes_ = classes
    lb.y_type_ = y_type
    lb.sparse_input_ = bool(meta.get("sparse_input_", False))
    est._label_binarizer = lb
    est.classes_ = classes
