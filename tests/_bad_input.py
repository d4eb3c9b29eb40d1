"""The bad-input cases of both estimators and the machinery that runs them.

``tests/test_bad_input.py`` runs every table here against scikit-learn and fastnet,
for the regressor and the classifier; ``tests/test_bad_input_classifier.py`` adds
the classifier's own rules.  A table row is shared when both estimators must
refuse (or accept) it alike; rows that only make sense for one estimator (a loss
parameter, label types, ``classes``) are in that estimator's table.

Counting the cases per estimator: ``python tests/_bad_input.py``.
"""

import copy
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils._param_validation import InvalidParameterError

import fastnet

N, P = 40, 3
BASE = dict(hidden_layer_sizes=(5,), max_iter=20, random_state=0)


# ------------------------------------------------------------------- helpers
def put(a, index, value):
    """A float64 copy of ``a`` with ``a[index] = value``."""
    a = np.array(a, dtype=np.float64, copy=True)
    a[index] = value
    return a


def sparsified(X):
    """``X`` with its small entries zeroed (dense), for building sparse inputs."""
    return np.where(np.abs(X) > 0.5, X, 0.0)


def sparse_with_nan(X):
    """A CSR version of :func:`sparsified` ``X`` with one stored NaN."""
    Xs = sp.csr_matrix(sparsified(X))
    Xs.data[0] = np.nan
    return Xs


def readonly(a):
    """A read-only copy of ``a``."""
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def public_state(est):
    """Deep copies of every public fitted attribute (``name_``)."""
    return {
        k: copy.deepcopy(v) for k, v in vars(est).items()
        if k.endswith("_") and not k.startswith("_")
    }


def assert_same_state(before, after):
    """Two :func:`public_state` snapshots are equal: same keys, types, dtypes and values."""
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        if isinstance(old, list) and old and isinstance(old[0], np.ndarray):
            assert len(old) == len(new), key
            for a, b in zip(old, new):
                assert a.dtype == b.dtype, key
                np.testing.assert_array_equal(a, b, err_msg=key)
        elif isinstance(old, np.ndarray):
            assert isinstance(new, np.ndarray) and new.dtype == old.dtype, key
            np.testing.assert_array_equal(old, new, err_msg=key)
        else:
            assert type(new) is type(old), key
            np.testing.assert_array_equal(np.asarray(old, dtype=object),
                                          np.asarray(new, dtype=object), err_msg=key)


def _relabel(y, old, new):
    return np.where(y == old, new, y)


def _one_member(yb):
    y = np.zeros_like(yb)
    y[3] = 1
    return y


# ---------------------------------------------------------------------- data
def _regression_data():
    rng = np.random.RandomState(42)
    X = rng.randn(N, P)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.randn(N)
    sw = rng.uniform(0.5, 2.0, N)
    return X, y, sw


def _classification_data():
    rng = np.random.RandomState(42)
    X = rng.randn(N, P)
    y3 = np.argmax(X @ rng.randn(P, 3), axis=1)  # classes 0/1/2, counts 18 / 6 / 16
    yb = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(np.int64)
    Y = (X > 0).astype(np.int64)  # multilabel indicator, 3 labels
    sw = rng.uniform(0.5, 2.0, N)
    return X, {"multiclass": y3, "binary": yb, "multilabel": Y}, sw


X0, Y0, REG_SW = _regression_data()
_X_CLF, CLF_TARGETS, CLF_SW = _classification_data()
assert np.array_equal(X0, _X_CLF)  # both draw X first from RandomState(42)
Y3, YB, YML = CLF_TARGETS["multiclass"], CLF_TARGETS["binary"], CLF_TARGETS["multilabel"]


@dataclass(frozen=True)
class Estimator:
    """One side of the pair: the classes and the data its cases run on."""

    name: str
    fast: type
    sk: type
    targets: dict  # name -> y of the fitted model (and of a case's ``data``)
    default_target: str
    sw: np.ndarray
    classes: dict  # target name -> ``classes`` for a first partial_fit; {} for a regressor
    predict_methods: tuple


REGRESSOR = Estimator("regressor", fastnet.MLPRegressor, SkMLPRegressor, {"y": Y0}, "y", REG_SW,
                      {}, ("predict",))
CLASSIFIER = Estimator(
    "classifier", fastnet.MLPClassifier, SkMLPClassifier, CLF_TARGETS, "multiclass", CLF_SW,
    {"multiclass": np.array([0, 1, 2]), "binary": np.array([0, 1]),
     "multilabel": np.array([0, 1, 2])},
    ("predict", "predict_proba", "predict_log_proba"))
ESTIMATORS = {"regressor": REGRESSOR, "classifier": CLASSIFIER}

_AUTO = object()  # partial_fit gets ``classes`` only on an unfitted classifier
_BOTH = ("regressor", "classifier")


@dataclass
class Case:
    """One failing call: ``params`` set on the estimator, ``data`` changed, then fit/partial_fit."""

    id: str
    exc: type
    match: list  # or {method: list} where the message depends on the method
    data: Callable = lambda X, y, w: (X, y, None)
    params: dict = field(default_factory=dict)
    methods: tuple = ("fit", "fit_warm_start", "partial_fit")
    base: dict = field(default_factory=dict)  # extra params of the already fitted model
    target: str = None  # the y of the fitted model (and of ``data``'s y); None: the default
    # ``classes`` passed to a classifier's partial_fit; _AUTO: all classes on an unfitted
    # estimator, none on a fitted one.
    classes: object = _AUTO
    # scikit-learn validates hyperparameters in partial_fit only while the model is
    # unfitted (``_fit_context`` skips it for a fitted one), so those cases -- and
    # the first-call rules -- run partial_fit on a fresh estimator.
    partial_fit_on_fitted: bool = True
    estimators: tuple = _BOTH

    def match_for(self, method):
        return self.match[method] if isinstance(self.match, dict) else self.match

    def target_for(self, estimator):
        return self.target or estimator.default_target


_FIT_ONLY = ("fit", "fit_warm_start")
_LATER = ("fit_warm_start", "partial_fit")  # only a fitted model can refuse these
_REG = ("regressor",)
_CLF = ("classifier",)

# ------------------------------------------------------ bad data (both estimators)
DATA_CASES = [
    Case("nan_in_X", ValueError, ["Input X", "NaN"],
         lambda X, y, w: (put(X, (3, 1), np.nan), y, None)),
    Case("inf_in_X", ValueError, ["Input X", "infinity"],
         lambda X, y, w: (put(X, (0, 0), np.inf), y, None)),
    Case("neg_inf_in_X", ValueError, ["Input X", "infinity"],
         lambda X, y, w: (put(X, (7, 2), -np.inf), y, None)),
    Case("nan_in_sparse_X", ValueError, ["NaN"], lambda X, y, w: (sparse_with_nan(X0), y, None)),
    Case("nan_in_y", ValueError, ["Input y", "NaN"],
         lambda X, y, w: (X, put(y, 5, np.nan), None)),
    Case("inf_in_y", ValueError, ["Input y", "infinity"],
         lambda X, y, w: (X, put(y, 0, np.inf), None)),
    Case("neg_inf_in_y", ValueError, ["Input y", "infinity"],
         lambda X, y, w: (X, put(y, 0, -np.inf), None)),
    Case("nan_in_sample_weight", ValueError, ["sample_weight", "NaN"],
         lambda X, y, w: (X, y, put(w, 2, np.nan))),
    Case("inf_in_sample_weight", ValueError, ["sample_weight", "infinity"],
         lambda X, y, w: (X, y, put(w, 2, np.inf))),
    Case("all_zero_sample_weight", ValueError, ["Sample weights", "non-zero"],
         lambda X, y, w: (X, y, np.zeros(N))),
    Case("X_1d", ValueError, ["Expected 2D array", "1D array"], lambda X, y, w: (X[:, 0], y, None)),
    Case("X_3d", ValueError, ["dim 3"], lambda X, y, w: (X[:, :, None], y, None)),
    Case("X_scalar", ValueError, ["Expected 2D array", "scalar"], lambda X, y, w: (5.0, y, None)),
    Case("X_None", ValueError, ["Expected 2D array"], lambda X, y, w: (None, y, None)),
    Case("y_None", ValueError, ["requires y", "None"], lambda X, y, w: (X, None, None)),
    Case("y_3d", ValueError, ["dim 3"], lambda X, y, w: (X, y[:, None, None], None)),
    Case("y_sparse_column", TypeError, ["Sparse data was passed for y"],
         lambda X, y, w: (X, sp.csr_matrix(y[:, None]), None)),
    Case("empty_X_0_samples", ValueError, ["0 sample(s)"], lambda X, y, w: (X[:0], y[:0], None)),
    Case("X_0_features", ValueError, ["0 feature(s)"], lambda X, y, w: (X[:, :0], y, None)),
    Case("y_0_outputs", ValueError, ["0 feature(s)", f"({N}, 0)"],
         lambda X, y, w: (X, np.empty((N, 0)), None)),
    Case("X_y_length_mismatch", ValueError,
         ["inconsistent numbers of samples", f"[{N}, {N - 1}]"],
         lambda X, y, w: (X, y[:-1], None)),
    Case("sample_weight_length_mismatch", ValueError, ["sample_weight", f"({N - 1},)", f"({N},)"],
         lambda X, y, w: (X, y, w[:-1])),
    # X itself is valid (with a new number of features), so a fit gets past
    # validate_data -- which resets n_features_in_ -- before sample_weight fails.
    # (With warm_start or partial_fit the new width itself is the error.)
    Case("nan_in_sample_weight_new_n_features", ValueError, ["sample_weight", "NaN"],
         lambda X, y, w: (np.c_[X, X[:, :1]], y, put(w, 2, np.nan)), methods=("fit",)),
    Case("sample_weight_2d", ValueError, ["Sample weights must be 1D"],
         lambda X, y, w: (X, y, w[:, None])),
    Case("sample_weight_strings", ValueError, ["could not convert string to float"],
         lambda X, y, w: (X, y, np.array(["a"] * N))),
    Case("X_strings", ValueError, ["could not convert string to float"],
         lambda X, y, w: (np.array([["a", "b", "c"]] * N), y, None)),
    Case("X_object_array_of_strings", ValueError, ["could not convert string to float"],
         lambda X, y, w: (np.array([["a", "b", "c"]] * N, dtype=object), y, None)),
    Case("X_complex", ValueError, ["complex"], lambda X, y, w: (X + 1j, y, None)),
    Case("y_complex", ValueError, ["complex"], lambda X, y, w: (X, y + 1j, None)),
    Case("X_ragged_lists", ValueError, ["inhomogeneous"],
         lambda X, y, w: ([[1.0, 2.0, 3.0], [1.0, 2.0]] + X[2:].tolist(), y, None)),
    Case("X_dict", TypeError, ["dict"], lambda X, y, w: ({"a": 1}, y, None)),
]

# -------------------------------------------------- bad data (classifier only)
CLASSIFIER_DATA_CASES = [
    Case("nan_in_object_string_y", ValueError, ["NaN"],
         lambda X, y, w: (X, np.array(["a", np.nan] * (N // 2), dtype=object), None)),
    Case("continuous_y", ValueError, ["Unknown label type"],
         lambda X, y, w: (X, X[:, 0] * 1.37, None)),
    Case("continuous_y_binary_model", ValueError, ["Unknown label type"],
         lambda X, y, w: (X, y + 0.5, None), target="binary"),
    Case("y_2d_not_an_indicator", ValueError,
         {"fit": ["Multioutput target data is not supported with label binarization"],
          "fit_warm_start": ["Unknown label type"], "partial_fit": ["Unknown label type"]},
         lambda X, y, w: (X, np.c_[y, 2 - y], None)),
    Case("y_2d_fractional_indicator", ValueError,
         {"fit": ["Multioutput target data is not supported with label binarization"],
          "fit_warm_start": ["Unknown label type"], "partial_fit": ["Unknown label type"]},
         lambda X, y, w: (X, np.where(YML > 0, 0.5, 0.0), None), target="multilabel"),
    Case("mixed_string_and_int_labels", TypeError, ["not supported between", "str", "int"],
         lambda X, y, w: (X, np.array([1, "a"] * (N // 2), dtype=object), None)),
    Case("None_among_labels", TypeError, ["not supported between", "NoneType"],
         lambda X, y, w: (X, np.array([None, 1] * (N // 2), dtype=object), None)),
    # an object array of ints is type 'unknown' to scikit-learn (strings are fine)
    Case("object_dtype_int_labels", ValueError, ["Unknown label type"],
         lambda X, y, w: (X, y.astype(object), None)),
    Case("bytes_labels", TypeError, ["bytes"], lambda X, y, w: (X, y.astype("S1"), None)),
    # X and y are valid (a new width, a new set of classes), so a fit gets past
    # validate_data -- which resets n_features_in_, classes_ and the label
    # binarizer -- before sample_weight fails.
    Case("nan_in_sample_weight_new_n_features_and_classes", ValueError, ["sample_weight", "NaN"],
         lambda X, y, w: (np.c_[X, X[:, :1]], (y > 0).astype(int), put(w, 2, np.nan)),
         methods=("fit",)),
    Case("nan_in_X_multilabel", ValueError, ["Input X", "NaN"],
         lambda X, y, w: (put(X, (3, 1), np.nan), y, None), target="multilabel"),
]
for _case in CLASSIFIER_DATA_CASES:
    _case.estimators = _CLF

# ------------------------------------------------------- bad hyperparameters
# Hyperparameter values both estimators must refuse like scikit-learn: (name, value,
# exception).
HYPER_COMMON = [
    ("hidden_layer_sizes", (0,), ValueError),
    ("hidden_layer_sizes", (-1,), ValueError),
    ("hidden_layer_sizes", (5, 0), ValueError),
    ("hidden_layer_sizes", [4, -2], ValueError),
    ("hidden_layer_sizes", 0, InvalidParameterError),
    ("hidden_layer_sizes", -3, InvalidParameterError),
    ("hidden_layer_sizes", "abc", InvalidParameterError),
    ("activation", "softmax", InvalidParameterError),
    ("learning_rate", "foo", InvalidParameterError),
    ("alpha", -1, InvalidParameterError),
    ("learning_rate_init", 0, InvalidParameterError),
    ("learning_rate_init", -0.1, InvalidParameterError),
    ("momentum", 1.5, InvalidParameterError),
    ("momentum", -0.1, InvalidParameterError),
    ("beta_1", 1, InvalidParameterError),
    ("beta_2", -0.1, InvalidParameterError),
    ("beta_2", 1.0, InvalidParameterError),
    ("epsilon", 0, InvalidParameterError),
    ("validation_fraction", 1, InvalidParameterError),
    ("validation_fraction", -0.1, InvalidParameterError),
    ("max_iter", 0, InvalidParameterError),
    ("max_iter", 1.5, InvalidParameterError),
    ("batch_size", 0, InvalidParameterError),
    ("batch_size", "big", InvalidParameterError),
    ("n_iter_no_change", 0, InvalidParameterError),
    ("tol", -1, InvalidParameterError),
    ("power_t", -1, InvalidParameterError),
    ("max_fun", 0, InvalidParameterError),
    ("shuffle", "yes", InvalidParameterError),
    ("nesterovs_momentum", "yes", InvalidParameterError),
    ("early_stopping", "x", InvalidParameterError),
    ("warm_start", "x", InvalidParameterError),
    ("verbose", "loud", InvalidParameterError),
    ("random_state", "abc", InvalidParameterError),
]
HYPER_CASES = [
    Case(f"{name}={value!r}", exc, [name], params={name: value}, partial_fit_on_fitted=False)
    for name, value, exc in HYPER_COMMON
] + [
    # The regressor keeps partial_fit for every solver, and validates it there.
    Case("solver='newton'", InvalidParameterError, ["solver"], params={"solver": "newton"},
         partial_fit_on_fitted=False, estimators=_REG),
    Case("loss='huber'", InvalidParameterError, ["loss"], params={"loss": "huber"},
         partial_fit_on_fitted=False, estimators=_REG),
    # The classifier's partial_fit only exists for sgd/adam (``available_if``), so an
    # unknown solver makes partial_fit itself missing before any parameter validation.
    Case("solver='newton'", InvalidParameterError, ["solver"], params={"solver": "newton"},
         methods=_FIT_ONLY, estimators=_CLF),
    Case("partial_fit_with_unknown_solver", AttributeError, ["partial_fit"],
         params={"solver": "newton"}, methods=("partial_fit",), partial_fit_on_fitted=False,
         estimators=_CLF),
]

# ------------------------------------------------------- stateful problems
STATE_CASES = [
    Case("early_stopping_validation_set_too_small", ValueError, ["validation set is too small"],
         lambda X, y, w: (X[:10], y[:10], None), params={"early_stopping": True},
         methods=_FIT_ONLY),
    Case("early_stopping_validation_fraction_too_small", ValueError,
         ["validation set is too small"],
         params={"early_stopping": True, "validation_fraction": 0.01}, methods=_FIT_ONLY),
    Case("early_stopping_empty_train_set", ValueError, ["train set will be empty"],
         params={"early_stopping": True, "validation_fraction": 0.99}, methods=_FIT_ONLY),
    Case("early_stopping_validation_fraction_zero", ValueError, ["test_size=0.0"],
         params={"early_stopping": True, "validation_fraction": 0.0}, methods=_FIT_ONLY),
    Case("partial_fit_with_early_stopping", ValueError, ["partial_fit", "early_stopping"],
         params={"early_stopping": True}, methods=("partial_fit",)),
    Case("partial_fit_with_early_stopping_first_call", ValueError,
         ["partial_fit", "early_stopping"], params={"early_stopping": True},
         methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_wrong_n_features", ValueError, ["2 features", "expecting 3"],
         lambda X, y, w: (X[:, :2], y, None), methods=("partial_fit",)),
    # refused by scikit-learn only after an epoch has run (the weights have moved)
    Case("warm_start_switching_on_early_stopping", AttributeError, ["append"],
         params={"early_stopping": True}, methods=("fit_warm_start",)),
    Case("warm_start_switching_off_early_stopping", TypeError, ["NoneType"],
         params={"early_stopping": False}, base={"early_stopping": True},
         methods=("fit_warm_start",)),
    Case("warm_start_from_lbfgs_to_adam", AttributeError, ["loss_curve_"],
         params={"solver": "adam"}, base={"solver": "lbfgs"}, methods=("fit_warm_start",)),
    Case("partial_fit_on_lbfgs_model_switched_to_adam", AttributeError, ["loss_curve_"],
         params={"solver": "adam"}, base={"solver": "lbfgs"}, methods=("partial_fit",)),
]

REGRESSOR_STATE_CASES = [
    Case("partial_fit_wrong_n_outputs", ValueError, ["layer sizes"],
         lambda X, y, w: (X, np.c_[y, y], None), methods=("partial_fit",), estimators=_REG),
]

CLASSIFIER_STATE_CASES = [
    # partial_fit's classes
    Case("partial_fit_first_call_without_classes", ValueError,
         ["classes must be passed on the first call to partial_fit"],
         classes=None, methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_first_call_y_not_in_classes", ValueError, ["classes not in"],
         classes=[0, 1], methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_first_call_empty_classes", ValueError, ["0 samples"],
         classes=[], methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_first_call_2d_classes", ValueError, ["Unknown label type"],
         classes=[[0, 1, 2]], methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_classes_changed_later", ValueError,
         ["classes=", "not the same as on last call to partial_fit"],
         classes=[0, 1, 2, 3], methods=("partial_fit",)),
    Case("partial_fit_new_label_later", ValueError, ["classes not in", "[1 2 7]"],
         lambda X, y, w: (X, _relabel(y, 0, 7), None), methods=("partial_fit",)),
    Case("partial_fit_string_labels_on_int_classes", ValueError, ["classes not in"],
         lambda X, y, w: (X, y.astype(str), None), methods=("partial_fit",)),
    Case("partial_fit_with_lbfgs", AttributeError, ["partial_fit"],
         base={"solver": "lbfgs"}, methods=("partial_fit",)),
    Case("partial_fit_with_lbfgs_first_call", AttributeError, ["partial_fit"],
         params={"solver": "lbfgs"}, methods=("partial_fit",), partial_fit_on_fitted=False),
    # warm start needs the same set of classes
    Case("warm_start_with_a_class_missing", ValueError,
         ["warm_start", "same classes", "[1 2]"],
         lambda X, y, w: (X, _relabel(y, 0, 1), None), methods=("fit_warm_start",)),
    Case("warm_start_with_a_new_class", ValueError, ["warm_start", "same classes", "[1 2 5]"],
         lambda X, y, w: (X, _relabel(y, 0, 5), None), methods=("fit_warm_start",)),
    Case("warm_start_with_a_new_class_lbfgs", ValueError, ["warm_start", "same classes"],
         lambda X, y, w: (X, _relabel(y, 0, 5), None), methods=("fit_warm_start",),
         base={"solver": "lbfgs"}),
    Case("warm_start_binary_to_string_labels", ValueError, ["warm_start", "same classes"],
         lambda X, y, w: (X, np.array(["no", "yes"])[y], None), methods=("fit_warm_start",),
         target="binary"),
    # multilabel
    Case("multilabel_partial_fit_first_call_without_classes", ValueError,
         ["classes must be passed on the first call to partial_fit"],
         classes=None, methods=("partial_fit",), partial_fit_on_fitted=False,
         target="multilabel"),
    Case("multilabel_partial_fit_first_call_other_classes", ValueError, ["classes not in"],
         classes=[5, 6], methods=("partial_fit",), partial_fit_on_fitted=False,
         target="multilabel"),
    Case("multilabel_fewer_labels_later", ValueError,
         {"partial_fit": ["mismatch with the labels"],
          "fit_warm_start": ["warm_start", "same classes"]},
         lambda X, y, w: (X, y[:, :2], None), methods=_LATER, target="multilabel"),
    Case("multilabel_more_labels_later", ValueError,
         {"partial_fit": ["classes not in"], "fit_warm_start": ["warm_start", "same classes"]},
         lambda X, y, w: (X, np.c_[y, y[:, :1]], None), methods=_LATER, target="multilabel"),
    Case("multilabel_y_on_multiclass_model", ValueError, ["not fitted with multilabel input"],
         lambda X, y, w: (X, YML, None), methods=_LATER),
    # early stopping: the (stratified for binary) validation split
    Case("early_stopping_stratify_class_with_one_member", ValueError,
         ["least populated", "1 member"],
         lambda X, y, w: (X, _one_member(y), None), params={"early_stopping": True},
         methods=_FIT_ONLY, target="binary"),
    Case("early_stopping_validation_smaller_than_n_classes", ValueError,
         ["test_size = 1", "number of classes = 2"],
         params={"early_stopping": True, "validation_fraction": 0.02},
         methods=_FIT_ONLY, target="binary"),
    Case("early_stopping_validation_set_too_small_multilabel", ValueError,
         ["validation set is too small"],
         params={"early_stopping": True, "validation_fraction": 0.01},
         methods=_FIT_ONLY, target="multilabel"),
]
for _case in CLASSIFIER_STATE_CASES:
    _case.estimators = _CLF

# -------------------------------------------- training diverges (non-finite)
_NONFINITE = ["non-finite parameter weights"]
# batch_size=1: one epoch (partial_fit) is 40 sgd steps, enough to overflow a classifier.
_SGD1 = {"solver": "sgd", "batch_size": 1}
DIVERGE_CASES = [
    Case("adam_huge_X", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         estimators=_REG),
    Case("sgd_huge_X", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params={"solver": "sgd"}, base={"solver": "sgd"}, estimators=_REG),
    Case("sgd_huge_learning_rate", ValueError, _NONFINITE,
         params={"solver": "sgd", "learning_rate_init": 1e10}, methods=_FIT_ONLY,
         estimators=_REG),
    Case("adam_huge_y", ValueError, _NONFINITE, lambda X, y, w: (X, np.full(N, 1e308), None),
         estimators=_REG),
    Case("sgd_huge_X", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params=_SGD1, base={"solver": "sgd"}, estimators=_CLF),
    Case("sgd_huge_X_binary", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params=_SGD1, base={"solver": "sgd"}, target="binary", estimators=_CLF),
    Case("sgd_huge_X_multilabel", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params=_SGD1, base={"solver": "sgd"}, target="multilabel", estimators=_CLF),
    # a fresh fit that has already replaced classes_ / out_activation_ / n_outputs_
    Case("sgd_huge_X_new_classes", ValueError, _NONFINITE,
         lambda X, y, w: (X * 1e300, YB, None), params=_SGD1,
         base={"solver": "sgd"}, methods=("fit",), estimators=_CLF),
    Case("adam_huge_learning_rate", ValueError, _NONFINITE,
         params={"learning_rate_init": 1e300}, methods=_FIT_ONLY, estimators=_CLF),
]

ALL_CASES = (DATA_CASES + CLASSIFIER_DATA_CASES + HYPER_CASES + STATE_CASES
             + REGRESSOR_STATE_CASES + CLASSIFIER_STATE_CASES + DIVERGE_CASES)
FAILING_CASES = {name: [c for c in ALL_CASES if name in c.estimators] for name in ESTIMATORS}


def case(estimator, name):
    """The failing case ``name`` of ``estimator`` (an :class:`Estimator`)."""
    return next(c for c in FAILING_CASES[estimator.name] if c.id == name)


# -------------------------------------------------------------- predict
PREDICT_CASES = {
    "nan_in_X": (put(X0, (0, 0), np.nan), ValueError, ["NaN"]),
    "inf_in_X": (put(X0, (1, 2), np.inf), ValueError, ["infinity"]),
    "nan_in_sparse_X": (sparse_with_nan(X0), ValueError, ["NaN"]),
    "X_1d": (X0[:, 0], ValueError, ["Expected 2D array"]),
    "X_3d": (X0[:, :, None], ValueError, ["dim 3"]),
    "X_scalar": (3.0, ValueError, ["Expected 2D array", "scalar"]),
    "X_None": (None, ValueError, ["Expected 2D array"]),
    "empty_X_0_samples": (X0[:0], ValueError, ["0 sample(s)"]),
    "X_0_features": (X0[:, :0], ValueError, ["0 feature(s)"]),
    "too_many_features": (np.c_[X0, X0[:, 0]], ValueError, ["4 features", "expecting 3"]),
    "too_few_features": (X0[:, :2], ValueError, ["2 features", "expecting 3"]),
    "sparse_wrong_features": (sp.csr_matrix(np.c_[X0, X0[:, 0]]), ValueError, ["4 features"]),
    "X_strings": (np.array([["a", "b", "c"]] * 4), ValueError, ["strings"]),
    "X_object_array_of_strings": (np.array([["a", "b", "c"]] * 4, dtype=object), ValueError,
                                  ["could not convert string to float"]),
    "X_complex": (X0 + 1j, ValueError, ["complex"]),
    "X_dict": ({"a": 1}, ValueError, ["Expected 2D array", "scalar"]),  # TypeError in fit
}


# --------------------------------------------------- accepted like sklearn
def _fit(X, y, sw=None):
    return [("fit", X, y, {"sample_weight": sw})]


def _partial(*steps):
    """partial_fit calls: (X, y, classes) each (``classes`` only reaches a classifier)."""
    return [("partial_fit", X, y, {"classes": classes}) for X, y, classes in steps]


_NAMES3 = np.array(["cat", "dog", "emu"])
SINGLE = np.zeros(N, dtype=np.int64)


def _shared_accepted(y, sw):
    """Inputs both estimators accept, on the estimator's default target ``y``:
    name -> (params, calls)."""
    return {
        "python_lists": ({}, _fit(X0.tolist(), y.tolist())),
        "int64_X": ({}, _fit(np.round(3 * X0).astype(np.int64), y)),
        "int32_X": ({}, _fit(np.round(3 * X0).astype(np.int32), y)),
        "bool_X": ({}, _fit(X0 > 0, y)),
        "sparse_csr": ({}, _fit(sp.csr_matrix(sparsified(X0)), y)),
        "sparse_csc": ({}, _fit(sp.csc_matrix(sparsified(X0)), y)),
        "float32_X": ({}, _fit(X0.astype(np.float32), y)),
        "fortran_order": ({}, _fit(np.asfortranarray(X0), y)),
        "non_contiguous": ({}, _fit(np.repeat(X0, 2, axis=1)[:, ::2], y)),
        "read_only": ({}, _fit(readonly(X0), readonly(y))),
        "dataframe_X": ({}, _fit(pd.DataFrame(X0, columns=["a", "b", "c"]), y)),
        "y_column_vector": ({}, _fit(X0, y[:, None])),
        "sample_weight_list": ({}, _fit(X0, y, sw.tolist())),
        "sample_weight_scalar": ({}, _fit(X0, y, 2.0)),
        "sample_weight_negative": ({}, _fit(X0, y, -sw)),
        "hidden_layer_sizes_int": ({"hidden_layer_sizes": 4}, _fit(X0, y)),
        "hidden_layer_sizes_list": ({"hidden_layer_sizes": [4, 3]}, _fit(X0, y)),
        "hidden_layer_sizes_ndarray": ({"hidden_layer_sizes": np.array([4])}, _fit(X0, y)),
        "hidden_layer_sizes_empty": ({"hidden_layer_sizes": ()}, _fit(X0, y)),
        "lbfgs": ({"solver": "lbfgs"}, _fit(X0, y)),
        "lbfgs_lists": ({"solver": "lbfgs"}, _fit(X0.tolist(), y.tolist())),
        "lbfgs_sparse": ({"solver": "lbfgs"}, _fit(sp.csr_matrix(sparsified(X0)), y)),
        "sgd_float32": ({"solver": "sgd"}, _fit(X0.astype(np.float32), y)),
        "early_stopping": ({"early_stopping": True}, _fit(X0, y)),
        "partial_fit": ({}, _partial((X0, y, np.unique(y)))),
        "partial_fit_after_fit": ({}, _fit(X0, y) + _partial((X0[:25], y[:25], None))),
        "warm_start_other_order": ({"warm_start": True},
                                    _fit(X0, y) + _fit(X0[::-1], y[::-1])),
    }


REGRESSOR_ACCEPTED = {
    "int_y": ({}, _fit(X0, np.round(Y0).astype(np.int64))),
    "float32": ({}, _fit(X0.astype(np.float32), Y0.astype(np.float32))),
    "multi_output_y": ({}, _fit(X0, np.c_[Y0, -Y0])),
    "partial_fit_lbfgs": ({"solver": "lbfgs"}, _partial((X0, Y0, None))),
    "sample_weight_some_zero": ({}, _fit(X0, Y0, np.where(np.arange(N) % 3 == 0, 0.0, REG_SW))),
}

CLASSIFIER_ACCEPTED = {
    "float32_X_binary": ({}, _fit(X0.astype(np.float32), YB)),
    "string_labels": ({}, _fit(X0, _NAMES3[Y3])),
    "string_labels_binary": ({}, _fit(X0, np.array(["no", "yes"])[YB])),
    "bool_labels": ({}, _fit(X0, YB.astype(bool))),
    "float_integral_labels": ({}, _fit(X0, Y3.astype(np.float64))),
    "negative_int_labels": ({}, _fit(X0, Y3 - 5)),
    "binary_labels_3_and_8": ({}, _fit(X0, 3 + 5 * YB)),
    "pandas_series_int_labels": ({}, _fit(X0, pd.Series(Y3, name="target"))),
    "pandas_series_string_labels": ({}, _fit(X0, pd.Series(_NAMES3[Y3]))),
    "pandas_categorical_labels": ({}, _fit(X0, pd.Series(pd.Categorical(_NAMES3[Y3])))),
    "pandas_series_bool_labels": ({}, _fit(X0, pd.Series(YB.astype(bool)))),
    "multilabel_indicator": ({}, _fit(X0, YML)),
    "multilabel_bool_indicator": ({}, _fit(X0, YML.astype(bool))),
    "multilabel_float_indicator": ({}, _fit(X0, YML.astype(np.float64))),
    "multilabel_dataframe": ({}, _fit(X0, pd.DataFrame(YML, columns=list("pqr")))),
    "multilabel_sparse_indicator": ({}, _fit(X0, sp.csr_matrix(YML))),
    "single_class": ({}, _fit(X0, SINGLE)),
    "single_class_strings": ({}, _fit(X0, np.array(["only"] * N))),
    "single_class_lbfgs": ({"solver": "lbfgs"}, _fit(X0, SINGLE + 4)),
    "single_class_partial_fit": ({}, _partial((X0, SINGLE, [0]))),
    "sample_weight_some_zero": ({}, _fit(X0, Y3, np.where(Y3 == 1, 0.0, CLF_SW))),
    "lbfgs_binary_lists": ({"solver": "lbfgs"}, _fit(X0.tolist(), YB.tolist())),
    "sgd_string_labels": ({"solver": "sgd"}, _fit(X0, _NAMES3[Y3])),
    "early_stopping_binary_stratified": ({"early_stopping": True}, _fit(X0, YB)),
    # multiclass targets are one-hot (n_outputs_ > 1): the split is not stratified,
    # so a class with a single member is fine
    "early_stopping_multiclass_class_with_one_member": (
        {"early_stopping": True}, _fit(X0, _relabel(Y3, 1, 0) + (np.arange(N) == 5))),
    "early_stopping_multilabel": ({"early_stopping": True}, _fit(X0, YML)),
    "early_stopping_single_class": ({"early_stopping": True}, _fit(X0, SINGLE)),
    "partial_fit_classes_superset": ({}, _partial((X0, Y3, [0, 1, 2, 3]), (X0, Y3, None))),
    "partial_fit_unsorted_duplicate_classes": ({}, _partial((X0, Y3, [2, 0, 1, 1]))),
    "partial_fit_string_classes": ({}, _partial(
        (X0[:20], _NAMES3[Y3[:20]], list(_NAMES3)), (X0[20:], _NAMES3[Y3[20:]], None))),
    "partial_fit_chunk_with_one_class": ({}, _partial(
        (X0, Y3, [0, 1, 2]), (X0[Y3 == 2], Y3[Y3 == 2], None))),
    "partial_fit_classes_as_ndarray_again": ({}, _partial(
        (X0, Y3, np.array([0, 1, 2])), (X0, Y3, np.array([0, 1, 2])))),
    "partial_fit_multilabel": ({}, _partial((X0, YML, [0, 1, 2]), (X0, YML, None))),
    "refit_with_other_classes": ({}, _fit(X0, Y3) + _fit(X0, _NAMES3[YB])),
    "multilabel_partial_fit_1d_y_later": ({}, _fit(X0, YML) + _partial((X0, Y3, None))),
}

ACCEPTED = {
    "regressor": {**_shared_accepted(Y0, REG_SW), **REGRESSOR_ACCEPTED},
    "classifier": {**_shared_accepted(Y3, CLF_SW), **CLASSIFIER_ACCEPTED},
}


# ---------------------------------------------------------------- machinery
def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def fitted(estimator, cls, target=None, **extra):
    """``cls`` (fastnet's or scikit-learn's) fitted with BASE on ``estimator``'s data."""
    y = estimator.targets[target or estimator.default_target]
    return fit_quietly(cls(**{**BASE, **extra}), X0, y)


def call(estimator, est, method, case):
    """Make the case's failing ``fit`` or ``partial_fit`` call on ``est``."""
    target = case.target_for(estimator)
    X, y, sw = case.data(X0.copy(), estimator.targets[target].copy(), estimator.sw.copy())
    if method != "partial_fit":
        return est.fit(X, y, sample_weight=sw)
    if not estimator.classes:
        return est.partial_fit(X, y, sample_weight=sw)
    classes = case.classes
    if classes is _AUTO:
        classes = None if hasattr(est, "classes_") else estimator.classes[target]
    return est.partial_fit(X, y, sample_weight=sw, classes=classes)


def raised(estimator, est, method, case):
    """The exception the case's call raises on ``est`` (it must raise)."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            call(estimator, est, method, case)
    except Exception as exc:  # noqa: BLE001 - what is raised is what is compared
        return exc
    raise AssertionError(f"{type(est).__module__}: {case.id} did not raise")


def assert_names_problem(err, case, method):
    msg = str(err).lower()
    for part in case.match_for(method):
        assert part.lower() in msg, f"{part!r} not in fastnet's message: {err}"


def estimator_for(estimator, cls, case, method):
    """The estimator a failing call is made on: fresh for fit, fitted otherwise."""
    if method == "fit" or (method == "partial_fit" and not case.partial_fit_on_fitted):
        return cls(**{**BASE, **case.base, **case.params})
    extra = {**case.base, "warm_start": method == "fit_warm_start"}
    return fitted(estimator, cls, case.target, **extra).set_params(**case.params)


def outputs(estimator, est):
    """Everything the fitted ``est`` predicts on X0."""
    return tuple(getattr(est, method)(X0) for method in estimator.predict_methods)


def train_on(estimator, est, target=None):
    """One more training step of the kind the model supports, in mini-batches of 10 so
    that the shuffle -- the random state -- shows in the weights."""
    y = estimator.targets[target or estimator.default_target]
    est.set_params(batch_size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if est.early_stopping or (est.solver == "lbfgs" and estimator.classes):
            est.set_params(warm_start=True).fit(X0, y)
        else:
            est.partial_fit(X0, y)
    return est


def counts():
    """Bad inputs and accepted inputs per estimator: failing fit / partial_fit cases,
    predict cases (each checked for every predict method), accepted cases."""
    table = {}
    for name, estimator in ESTIMATORS.items():
        cases = FAILING_CASES[name]
        table[name] = {
            "failing cases": len(cases),
            "  run by fit": sum("fit" in c.methods for c in cases),
            "  run by warm-start fit": sum("fit_warm_start" in c.methods for c in cases),
            "  run by partial_fit": sum("partial_fit" in c.methods for c in cases),
            "predict cases": len(PREDICT_CASES),
            "  x predict methods": len(PREDICT_CASES) * len(estimator.predict_methods),
            "bad inputs and hyperparameters (failing + predict)":
                len(cases) + len(PREDICT_CASES),
            "accepted cases": len(ACCEPTED[name]),
        }
    return table


if __name__ == "__main__":
    for name, rows in counts().items():
        print(name)
        for label, value in rows.items():
            print(f"  {label:52s} {value}")
