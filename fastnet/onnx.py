"""ONNX export of fastnet's estimators, through skl2onnx.

Importing this module registers fastnet's converters with skl2onnx (see
:func:`register`); from then on ``skl2onnx.to_onnx(model, X[:1])`` converts a
fitted :class:`fastnet.MLPRegressor` or :class:`fastnet.MLPClassifier`, alone
or inside a scikit-learn pipeline, and :func:`to_onnx` is a shortcut::

    import fastnet.onnx
    onx = fastnet.onnx.to_onnx(model, X[:1])           # or skl2onnx.to_onnx(model, X[:1])

The graph is fastnet's own, built from ``coefs_`` / ``intercepts_`` (MatMul,
Add and the activation per layer), not skl2onnx's MLP converter, which
reshapes every regressor's output to ``(-1, 1)``, knows no exp output and
follows the input's dtype.  Here:

- The graph computes in the model's dtype, as ``predict`` does: a float64
  model gives a double graph, a float32 model a float one; an input of another
  numeric type is cast first.
- ``MLPRegressor`` outputs ``variable`` of shape ``(N, n_outputs)`` --
  ``(N, 1)`` for a single output, as every skl2onnx regressor, where
  ``predict`` returns ``(N,)``.  ``loss='poisson'`` ends in ``Exp``.
- ``MLPClassifier`` outputs ``label`` (what ``predict`` returns: int64 for
  integer or bool labels, strings for string labels; multilabel: an int64
  ``(N, n_labels)`` indicator) and ``probabilities`` (``predict_proba``), as
  skl2onnx does for scikit-learn's MLPClassifier: by default the
  probabilities go through a ZipMap (``output_label`` and
  ``output_probability``, a list of ``{class: probability}`` dicts); option
  ``zipmap=False`` keeps the tensor, ``zipmap='columns'`` gives one output per
  class.  ONNX's ZipMap holds float32 values only, so a float64 model's
  probabilities are rounded to float32 inside a ZipMap; take
  ``zipmap=False`` for the double tensor.

Dropout (or any other training-only setting) does not appear in the graph:
inference uses the weights alone.

Needs the ``onnx`` extra: ``pip install "fastnet[onnx]"`` (skl2onnx, and
onnxruntime to run the models).
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .estimators import MLPClassifier, MLPRegressor
from .kernels import registry as _registry

_INSTALL_HINT = 'pip install "fastnet[onnx]"'

try:
    import skl2onnx
    from onnx import TensorProto, numpy_helper
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DictionaryType,
        DoubleTensorType,
        FloatTensorType,
        Int32TensorType,
        Int64TensorType,
        SequenceType,
        StringTensorType,
    )
except ImportError as exc:  # tests/test_onnx.py hides skl2onnx to check this message
    raise ImportError(
        f"fastnet.onnx needs skl2onnx and onnx, which are not installed: {_INSTALL_HINT}"
    ) from exc

__all__ = ["register", "to_onnx", "CONVERTIBLE_ACTIVATIONS"]

# The ONNX operator of each registry activation (None: no node, the value passes
# through).  Only the operator names are ONNX's; which activations exist, and where
# they may stand, is the registry's.  The formulas agree: logistic is
# 1 / (1 + exp(-z)) (Sigmoid), softmax is row-wise over the units (axis 1 of an
# (N, units) tensor in every opset).
_ONNX_OPS = {
    "identity": None,
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "exp": "Exp",
    "softmax": "Softmax",
}
_ONNX_ATTRS = {"softmax": {"axis": 1}}

#: Registry activations this module converts (any the registry gains later and this
#: table lacks is refused with an error that names these).
CONVERTIBLE_ACTIVATIONS = tuple(name for name in _registry.ACTIVATIONS if name in _ONNX_OPS)

_REGRESSOR_ALIAS = "FastnetMLPRegressor"
_CLASSIFIER_ALIAS = "FastnetMLPClassifier"
_CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"]}
# Numeric inputs, cast to the model's dtype as predict's validation would.
_INPUT_TYPES = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType,
                BooleanTensorType)
_PROTO_OF_DTYPE = {np.dtype(np.float32): TensorProto.FLOAT,
                   np.dtype(np.float64): TensorProto.DOUBLE}
_TENSOR_TYPE_OF_DTYPE = {np.dtype(np.float32): FloatTensorType,
                         np.dtype(np.float64): DoubleTensorType}

_registered = False


# ----------------------------------------------------------------------- checks
def _model_dtype(model):
    """The dtype the model computes in (its weights'): float32 or float64."""
    dtype = np.dtype(model.coefs_[0].dtype)
    if dtype not in _PROTO_OF_DTYPE:
        raise TypeError(f"fastnet.onnx converts float32 and float64 models, not {dtype}.")
    return dtype


def _check_model(model):
    """Raise a clear error for a model this module cannot convert."""
    check_is_fitted(model, ["coefs_", "intercepts_", "out_activation_"])
    layers = [(model.activation, "hidden")] * (len(model.coefs_) - 1)
    layers.append((model.out_activation_, "output"))
    for name, where in layers:
        if name not in CONVERTIBLE_ACTIVATIONS:
            raise ValueError(
                f"fastnet.onnx cannot convert the {where} activation {name!r} of "
                f"{type(model).__name__}; it converts {list(CONVERTIBLE_ACTIVATIONS)}."
            )
    if len(model.coefs_) != len(model.intercepts_):
        raise ValueError("coefs_ and intercepts_ must have one entry per layer.")
    _model_dtype(model)


def _check_input(operator):
    """One numeric 2-D input with the fitted number of columns."""
    model = operator.raw_operator
    if len(operator.inputs) != 1:
        raise RuntimeError(
            f"{type(model).__name__} takes one input tensor of shape (N, n_features), "
            f"got {len(operator.inputs)} inputs (a DataFrame with several columns? "
            "pass a NumPy array, e.g. X.to_numpy()[:1])."
        )
    in_type = operator.inputs[0].type
    if not isinstance(in_type, _INPUT_TYPES):
        raise TypeError(
            f"{type(model).__name__} takes a numeric input tensor (float, double, int64, "
            f"int32 or bool), got {type(in_type).__name__}."
        )
    shape = in_type.shape
    n_features = model.coefs_[0].shape[0]
    if shape is not None and len(shape) == 2 and isinstance(shape[1], numbers.Integral):
        if shape[1] != n_features:
            raise ValueError(
                f"{type(model).__name__} was fitted with {n_features} features; the "
                f"input tensor has {shape[1]} columns."
            )
    elif shape is not None and len(shape) != 2:
        raise ValueError(f"expected a 2-D input of shape (N, {n_features}), got {shape}.")


def _integer_classes(classes):
    """classes_ as int64 values (ONNX's labels are int64 or strings), or None for strings."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        as_int = classes.astype(np.int64)
        if not np.array_equal(as_int, classes):
            raise ValueError(f"class labels {classes} do not fit in int64.")
        return as_int
    if classes.dtype.kind == "f":
        # As skl2onnx: integral float labels become int64 labels.
        as_int = classes.astype(np.int64)
        if not np.array_equal(as_int, classes):
            raise ValueError(
                f"fastnet.onnx exports integer or string class labels; {classes} are "
                "floats that are not integers."
            )
        return as_int
    if classes.dtype.kind in "UO" and all(isinstance(c, str) for c in classes):
        return None
    raise ValueError(
        f"fastnet.onnx exports integer, bool or string class labels, not {classes.dtype}."
    )


def _classifier_kind(model):
    """'binary', 'multiclass' or 'multilabel', as the label binarizer decodes predict."""
    y_type = model._label_binarizer.y_type_
    if y_type == "multilabel-indicator":
        return "multilabel"
    if y_type == "multiclass":
        return "multiclass"
    if y_type == "binary" and len(model.classes_) == 2 and model.n_outputs_ == 1:
        return "binary"
    raise ValueError(
        f"fastnet.onnx cannot convert a classifier with target type {y_type!r} and "
        f"{len(model.classes_)} class(es)."
    )


# ---------------------------------------------------------------------- parsers
def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """Declare the classifier's outputs, then the ZipMap skl2onnx adds to classifiers."""
    options = scope.get_options(model, dict(zipmap=True))
    zipmap = options["zipmap"]
    operator = scope.declare_local_operator(_CLASSIFIER_ALIAS, model)
    operator.inputs = inputs
    # ZipMap's values are float32 in ONNX: the probabilities are cast for it (see shapes).
    operator.fastnet_float_probabilities = zipmap is True
    label = scope.declare_local_variable("label", Int64TensorType())
    proba = scope.declare_local_variable("probabilities", FloatTensorType())
    operator.outputs.extend([label, proba])
    if zipmap is False:
        return operator.outputs
    return _declare_zipmap(scope, model, zipmap, operator.outputs)


def _declare_zipmap(scope, model, mode, outputs):
    """skl2onnx's ZipMap (or its 'columns' variant) on (label, probabilities)."""
    _check_model(model)
    classes = np.asarray(model.classes_).ravel()
    ints = _integer_classes(classes)
    if mode == "columns":
        zipmap = scope.declare_local_operator("SklearnZipMapColumns")
    else:
        zipmap = scope.declare_local_operator("SklearnZipMap")
    zipmap.inputs = outputs
    if ints is not None:
        zipmap.classlabels_int64s = [int(c) for c in ints]
        label_type = Int64TensorType([None])
        names = ["i%d" % c for c in ints]
    else:
        zipmap.classlabels_strings = [c.encode("utf-8") for c in classes]
        label_type = StringTensorType([None])
        names = ["s%s" % c for c in classes]
    zipmap.outputs.append(scope.declare_local_variable("output_label", label_type))
    if mode == "columns":
        # Slices of the probabilities, in the model's dtype (no ZipMap node).
        column_type = _TENSOR_TYPE_OF_DTYPE[_model_dtype(model)]
        for name in names:
            zipmap.outputs.append(scope.declare_local_variable(name, column_type()))
    else:
        zipmap.outputs.append(scope.declare_local_variable(
            "output_probability",
            SequenceType(DictionaryType(label_type, FloatTensorType())),
        ))
    zipmap.init_status(is_evaluated=True)
    return zipmap.outputs


# ------------------------------------------------------------- shape calculators
def _regressor_shapes(operator):
    model = operator.raw_operator
    _check_model(model)
    _check_input(operator)
    if len(operator.outputs) != 1:
        raise RuntimeError(f"{type(model).__name__} has one output, not {len(operator.outputs)}.")
    n = operator.inputs[0].get_first_dimension()
    tensor_type = _TENSOR_TYPE_OF_DTYPE[_model_dtype(model)]
    operator.outputs[0].type = tensor_type([n, model.coefs_[-1].shape[1]])


def _classifier_shapes(operator):
    model = operator.raw_operator
    _check_model(model)
    _check_input(operator)
    if len(operator.outputs) != 2:
        raise RuntimeError(
            f"{type(model).__name__} has two outputs (label, probabilities), "
            f"not {len(operator.outputs)}."
        )
    n = operator.inputs[0].get_first_dimension()
    kind = _classifier_kind(model)
    ints = _integer_classes(model.classes_)
    n_classes = len(model.classes_)
    label_shape = [n, n_classes] if kind == "multilabel" else [n]
    operator.outputs[0].type = (
        Int64TensorType(label_shape) if ints is not None else StringTensorType(label_shape))
    if getattr(operator, "fastnet_float_probabilities", False):
        proba_type = FloatTensorType
    else:
        proba_type = _TENSOR_TYPE_OF_DTYPE[_model_dtype(model)]
    operator.outputs[1].type = proba_type([n, n_classes])


# -------------------------------------------------------------------- converters
class _Graph:
    """Small helpers over skl2onnx's scope and container."""

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def name(self, hint):
        return self.scope.get_unique_variable_name(hint)

    def constant(self, hint, array):
        name = self.name(hint)
        array = np.asarray(array)
        if array.dtype.kind in "OU":
            # String tensors can't travel as raw data (skl2onnx copies only that).
            self.container.add_initializer(name, TensorProto.STRING, list(array.shape),
                                           [str(v).encode("utf-8") for v in array.ravel()])
        else:
            # numpy_helper keeps the array's dtype and bits (float32 stays float32).
            self.container.add_initializer(
                name, None, None, numpy_helper.from_array(np.ascontiguousarray(array)))
        return name

    def node(self, op_type, inputs, output=None, op_domain="", **attrs):
        output = output or self.name(op_type.lower())
        self.container.add_node(op_type, inputs, output, op_domain=op_domain,
                                name=self.scope.get_unique_operator_name(op_type), **attrs)
        return output


def _forward(graph, operator, model, dtype, output=None):
    """The network's forward pass: X -> output activations (N, n_outputs), in dtype."""
    x = operator.inputs[0]
    h = x.full_name
    if not isinstance(x.type, _TENSOR_TYPE_OF_DTYPE[dtype]):
        h = graph.node("Cast", [h], graph.name("cast_input"), to=_PROTO_OF_DTYPE[dtype])
    n_layers = len(model.coefs_)
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        last = i == n_layers - 1
        w_name = graph.constant("coefficient", np.asarray(W, dtype=dtype))
        b_name = graph.constant("intercepts", np.asarray(b, dtype=dtype).reshape(1, -1))
        z = graph.node("Add", [graph.node("MatMul", [h, w_name]), b_name])
        activation = model.out_activation_ if last else model.activation
        op = _ONNX_OPS[activation]
        target = output if last else None
        if op is None:
            h = graph.node("Identity", [z], target) if target else z
        else:
            h = graph.node(op, [z], target, **_ONNX_ATTRS.get(activation, {}))
    return h


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    _forward(_Graph(scope, container), operator, model, _model_dtype(model),
             output=operator.outputs[0].full_name)


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, container)
    dtype = _model_dtype(model)
    kind = _classifier_kind(model)
    label_out, proba_out = operator.outputs[0].full_name, operator.outputs[1].full_name
    # A ZipMap takes float32 values only: a double model's probabilities are cast for it.
    cast_proba = getattr(operator, "fastnet_float_probabilities", False) and dtype != np.float32

    p = _forward(graph, operator, model, dtype)
    binarizer = model._label_binarizer
    if kind != "multiclass":
        # predict's threshold (LabelBinarizer's, halfway between the labels: 0.5).
        threshold = graph.constant("threshold", np.array(
            (binarizer.pos_label + binarizer.neg_label) / 2.0, dtype=dtype))
    if kind == "binary":
        # predict_proba's [1 - p, p], the same arithmetic in the same dtype.
        one = graph.constant("one", np.array(1, dtype=dtype))
        proba = graph.node("Concat", [graph.node("Sub", [one, p]), p], axis=1)
        above = graph.node("Greater", [p, threshold])
        index = graph.node("Cast", [above], to=TensorProto.INT64)
        index = graph.node("Reshape", [index, graph.constant("shape", np.array([-1], np.int64))])
    else:
        proba = p
        if kind == "multiclass":
            # The first maximum on ties, as NumPy's argmax.
            index = graph.node("ArgMax", [p], axis=1, keepdims=0)
    if cast_proba:
        graph.node("Cast", [proba], proba_out, to=TensorProto.FLOAT)
    else:
        graph.node("Identity", [proba], proba_out)

    if kind == "multilabel":
        above = graph.node("Greater", [p, threshold])
        graph.node("Cast", [above], label_out, to=TensorProto.INT64)
        return
    ints = _integer_classes(model.classes_)
    if ints is not None:
        classes = graph.constant("classes", ints)
    else:
        classes = graph.constant("classes", np.asarray(model.classes_, dtype=object))
    graph.node("Gather", [classes, index], label_out, axis=0)


# ------------------------------------------------------------------ public API
def register():
    """Register fastnet's converters with skl2onnx (idempotent).

    Called when :mod:`fastnet.onnx` is imported; after it,
    ``skl2onnx.to_onnx(model, X[:1])`` converts fastnet's estimators, alone or
    in a pipeline.  ``MLPClassifier`` takes skl2onnx's option ``zipmap``
    (``True``, ``False`` or ``'columns'``).
    """
    global _registered
    if _registered:
        return
    skl2onnx.update_registered_converter(
        MLPRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor)
    skl2onnx.update_registered_converter(
        MLPClassifier, _CLASSIFIER_ALIAS, _classifier_shapes, _convert_classifier,
        parser=_parse_classifier, options=_CLASSIFIER_OPTIONS)
    _registered = True


def to_onnx(model, X, *, zipmap=None, **kwargs):
    """Convert a fitted fastnet estimator to an ONNX model.

    Parameters
    ----------
    model : MLPRegressor or MLPClassifier
        Fitted.
    X : ndarray of shape (n_samples, n_features)
        Sample input; only its dtype and number of columns are used (``X[:1]``
        will do).  float32 / float64 input gives a float / double input tensor;
        the graph computes in the model's dtype either way.
    zipmap : {True, False, 'columns'}, default=None
        Classifiers only: skl2onnx's option (None: its default, True).
    **kwargs
        Passed on to :func:`skl2onnx.to_onnx` (``target_opset``, ``options``,
        ``name``...).

    Returns
    -------
    onx : onnx.ModelProto
    """
    register()
    if zipmap is not None:
        if not isinstance(model, MLPClassifier):
            raise ValueError("zipmap is an option of MLPClassifier only.")
        options = dict(kwargs.pop("options", None) or {})
        options[id(model)] = {**options.get(id(model), {}), "zipmap": zipmap}
        kwargs["options"] = options
    return skl2onnx.to_onnx(model, X, **kwargs)


register()
