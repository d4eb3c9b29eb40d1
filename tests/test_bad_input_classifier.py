"""Bad inputs and bad hyperparameters for the classifier: fastnet fails where scikit-learn fails.

The classifier's half of ``test_bad_input.py``.  Every failing case is run
against ``sklearn.neural_network.MLPClassifier`` and ``fastnet.MLPClassifier``
(on a fresh estimator for ``fit``, on a fitted one for a warm-start ``fit`` and
for ``partial_fit``).  Both must raise the *same* exception class, and fastnet's
message must name the problem.  Where scikit-learn accepts an input (python
lists, integer X, sparse matrices, float32, string / bool / pandas labels, a
single class, ...), fastnet accepts it too and, with the same ``random_state``,
ends with the same weights and predicts exactly what scikit-learn predicts.

A failed call must not damage a fitted fastnet classifier: afterwards
``predict``, ``predict_proba`` and ``predict_log_proba`` are bit-for-bit what
they were, ``classes_`` and every public fitted attribute are unchanged, and a
further training step continues exactly as on an untouched twin (so the label
binarizer, optimizer state and random state survive too).  This includes calls
that scikit-learn only refuses part-way through training (switching on
``early_stopping`` or switching from lbfgs to adam on a warm start), after
which scikit-learn is left with changed weights.

Classifier-specific rules checked here (all scikit-learn 1.9 behaviour):

* ``partial_fit`` needs ``classes`` on its first call (multilabel too), must
  then keep them, and later ``y`` may only use labels from ``classes_``;
  a warm-start ``fit`` needs exactly the same set of classes.
* Continuous float y is refused ("Unknown label type"), y with NaN is refused,
  a 2-D y that is not a 0/1 indicator is refused ("Multioutput target data is
  not supported with label binarization").
* A single class is *accepted* by scikit-learn (logistic output, all-zero
  target, ``predict_proba`` with two columns); fastnet must do the same.
* ``early_stopping`` splits stratified only for single-output targets
  (binary), so a class with one member fails there but not for multiclass.
"""

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import fastnet
from _bad_input import (HYPER_COMMON, assert_same_state, public_state, put, readonly,
                        sparse_with_nan, sparsified)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, P = 40, 3
BASE = dict(hidden_layer_sizes=(5,), max_iter=20, random_state=0)


def _data():
    rng = np.random.RandomState(42)
    X = rng.randn(N, P)
    y3 = np.argmax(X @ rng.randn(P, 3), axis=1)  # classes 0/1/2, counts 18 / 6 / 16
    yb = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(np.int64)
    Y = (X > 0).astype(np.int64)  # multilabel indicator, 3 labels
    sw = rng.uniform(0.5, 2.0, N)
    return X, {"multiclass": y3, "binary": yb, "multilabel": Y}, sw


X0, TARGETS, SW0 = _data()
Y3, YB, YML = TARGETS["multiclass"], TARGETS["binary"], TARGETS["multilabel"]
CLASSES = {"multiclass": np.array([0, 1, 2]), "binary": np.array([0, 1]),
           "multilabel": np.array([0, 1, 2])}


def test_the_data_has_the_properties_the_cases_rely_on():
    assert sorted(np.bincount(Y3)) == [6, 16, 18]
    assert 10 <= YB.sum() <= 30
    assert ((YML == 0).any(axis=0) & (YML == 1).any(axis=0)).all()
    assert len(np.unique(Y3[:10])) == 3  # the 10-row early-stopping case keeps all classes


def _relabel(y, old, new):
    return np.where(y == old, new, y)


def _one_member(yb):
    y = np.zeros_like(yb)
    y[3] = 1
    return y


_AUTO = object()  # partial_fit gets ``classes`` only on an unfitted estimator


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
    target: str = "multiclass"  # the y of the fitted model (and of ``data``'s y)
    # ``classes`` passed to partial_fit; _AUTO: all classes on an unfitted estimator,
    # none on a fitted one.
    classes: object = _AUTO
    # scikit-learn validates hyperparameters in partial_fit only while the model is
    # unfitted (``_fit_context`` skips it for a fitted one), so those cases -- and
    # the first-call rules -- run partial_fit on a fresh estimator.
    partial_fit_on_fitted: bool = True

    def match_for(self, method):
        return self.match[method] if isinstance(self.match, dict) else self.match


_FIT_ONLY = ("fit", "fit_warm_start")
_LATER = ("fit_warm_start", "partial_fit")  # only a fitted model can refuse these

# ----------------------------------------------------------------- bad data
DATA_CASES = [
    Case("nan_in_X", ValueError, ["Input X", "NaN"],
         lambda X, y, w: (put(X, (3, 1), np.nan), y, None)),
    Case("inf_in_X", ValueError, ["Input X", "infinity"],
         lambda X, y, w: (put(X, (0, 0), np.inf), y, None)),
    Case("neg_inf_in_X", ValueError, ["Input X", "infinity"],
         lambda X, y, w: (put(X, (7, 2), -np.inf), y, None)),
    Case("nan_in_sparse_X", ValueError, ["NaN"], lambda X, y, w: (sparse_with_nan(X0), y, None)),
    Case("nan_in_float_y", ValueError, ["Input y", "NaN"],
         lambda X, y, w: (X, put(y, 5, np.nan), None)),
    Case("inf_in_float_y", ValueError, ["Input y", "infinity"],
         lambda X, y, w: (X, put(y, 0, np.inf), None)),
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
    Case("y_complex", ValueError, ["complex"], lambda X, y, w: (X, y + 1j, None)),
    Case("y_sparse_column", TypeError, ["Sparse data was passed for y"],
         lambda X, y, w: (X, sp.csr_matrix(y[:, None]), None)),
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
    Case("empty_X_0_samples", ValueError, ["0 sample(s)"], lambda X, y, w: (X[:0], y[:0], None)),
    Case("X_0_features", ValueError, ["0 feature(s)"], lambda X, y, w: (X[:, :0], y, None)),
    Case("y_0_outputs", ValueError, ["0 feature(s)", f"({N}, 0)"],
         lambda X, y, w: (X, np.empty((N, 0)), None)),
    Case("X_y_length_mismatch", ValueError,
         ["inconsistent numbers of samples", f"[{N}, {N - 1}]"],
         lambda X, y, w: (X, y[:-1], None)),
    Case("sample_weight_length_mismatch", ValueError, ["sample_weight", f"({N - 1},)", f"({N},)"],
         lambda X, y, w: (X, y, w[:-1])),
    # X and y are valid (a new width, a new set of classes), so a fit gets past
    # validate_data -- which resets n_features_in_, classes_ and the label
    # binarizer -- before sample_weight fails.
    Case("nan_in_sample_weight_new_n_features_and_classes", ValueError, ["sample_weight", "NaN"],
         lambda X, y, w: (np.c_[X, X[:, :1]], (y > 0).astype(int), put(w, 2, np.nan)),
         methods=("fit",)),
    Case("sample_weight_2d", ValueError, ["Sample weights must be 1D"],
         lambda X, y, w: (X, y, w[:, None])),
    Case("sample_weight_strings", ValueError, ["could not convert string to float"],
         lambda X, y, w: (X, y, np.array(["a"] * N))),
    Case("X_strings", ValueError, ["could not convert string to float"],
         lambda X, y, w: (np.array([["a", "b", "c"]] * N), y, None)),
    Case("X_object_array_of_strings", ValueError, ["could not convert string to float"],
         lambda X, y, w: (np.array([["a", "b", "c"]] * N, dtype=object), y, None)),
    Case("X_complex", ValueError, ["complex"], lambda X, y, w: (X + 1j, y, None)),
    Case("X_ragged_lists", ValueError, ["inhomogeneous"],
         lambda X, y, w: ([[1.0, 2.0, 3.0], [1.0, 2.0]] + X[2:].tolist(), y, None)),
    Case("X_dict", TypeError, ["dict"], lambda X, y, w: ({"a": 1}, y, None)),
    Case("nan_in_X_multilabel", ValueError, ["Input X", "NaN"],
         lambda X, y, w: (put(X, (3, 1), np.nan), y, None), target="multilabel"),
]

# ------------------------------------------------------- bad hyperparameters
_HYPER = HYPER_COMMON
HYPER_CASES = [
    Case(f"{name}={value!r}", exc, [name], params={name: value}, partial_fit_on_fitted=False)
    for name, value, exc in _HYPER
] + [
    # partial_fit only exists for sgd/adam (``available_if``), so an unknown solver
    # makes partial_fit itself missing before any parameter validation.
    Case("solver='newton'", InvalidParameterError, ["solver"], params={"solver": "newton"},
         methods=_FIT_ONLY),
]

# ------------------------------------------------------- stateful problems
STATE_CASES = [
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
    Case("partial_fit_with_early_stopping", ValueError, ["partial_fit", "early_stopping"],
         params={"early_stopping": True}, methods=("partial_fit",)),
    Case("partial_fit_with_early_stopping_first_call", ValueError,
         ["partial_fit", "early_stopping"], params={"early_stopping": True},
         methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_wrong_n_features", ValueError, ["2 features", "expecting 3"],
         lambda X, y, w: (X[:, :2], y, None), methods=("partial_fit",)),
    Case("partial_fit_with_lbfgs", AttributeError, ["partial_fit"],
         base={"solver": "lbfgs"}, methods=("partial_fit",)),
    Case("partial_fit_with_lbfgs_first_call", AttributeError, ["partial_fit"],
         params={"solver": "lbfgs"}, methods=("partial_fit",), partial_fit_on_fitted=False),
    Case("partial_fit_with_unknown_solver", AttributeError, ["partial_fit"],
         params={"solver": "newton"}, methods=("partial_fit",), partial_fit_on_fitted=False),
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
    Case("early_stopping_empty_train_set", ValueError, ["train set will be empty"],
         params={"early_stopping": True, "validation_fraction": 0.99}, methods=_FIT_ONLY),
    Case("early_stopping_validation_fraction_zero", ValueError, ["test_size=0.0"],
         params={"early_stopping": True, "validation_fraction": 0.0}, methods=_FIT_ONLY),
    Case("early_stopping_validation_set_too_small", ValueError, ["validation set is too small"],
         lambda X, y, w: (X[:10], y[:10], None), params={"early_stopping": True},
         methods=_FIT_ONLY),
    Case("early_stopping_validation_set_too_small_multilabel", ValueError,
         ["validation set is too small"],
         params={"early_stopping": True, "validation_fraction": 0.01},
         methods=_FIT_ONLY, target="multilabel"),
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

# -------------------------------------------- training diverges (non-finite)
_NONFINITE = ["non-finite parameter weights"]
# batch_size=1: one epoch (partial_fit) is 40 sgd steps, enough to overflow.
_SGD1 = {"solver": "sgd", "batch_size": 1}
DIVERGE_CASES = [
    Case("sgd_huge_X", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params=_SGD1, base={"solver": "sgd"}),
    Case("sgd_huge_X_binary", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params=_SGD1, base={"solver": "sgd"}, target="binary"),
    Case("sgd_huge_X_multilabel", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params=_SGD1, base={"solver": "sgd"}, target="multilabel"),
    # a fresh fit that has already replaced classes_ / out_activation_ / n_outputs_
    Case("sgd_huge_X_new_classes", ValueError, _NONFINITE,
         lambda X, y, w: (X * 1e300, YB, None), params=_SGD1,
         base={"solver": "sgd"}, methods=("fit",)),
    Case("adam_huge_learning_rate", ValueError, _NONFINITE,
         params={"learning_rate_init": 1e300}, methods=_FIT_ONLY),
]

FAILING_CASES = DATA_CASES + HYPER_CASES + STATE_CASES + DIVERGE_CASES


def test_case_ids_are_unique():
    ids = [c.id for c in FAILING_CASES]
    assert len(ids) == len(set(ids))


def _cases_for(method, on_fitted=None):
    return [
        pytest.param(c, id=c.id) for c in FAILING_CASES
        if method in c.methods and (on_fitted is None or c.partial_fit_on_fitted == on_fitted)
    ]


def _fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _fitted(cls, target="multiclass", **extra):
    return _fit_quietly(cls(**{**BASE, **extra}), X0, TARGETS[target])


def _call(est, method, case):
    X, y, sw = case.data(X0.copy(), TARGETS[case.target].copy(), SW0.copy())
    if method != "partial_fit":
        return est.fit(X, y, sample_weight=sw)
    classes = case.classes
    if classes is _AUTO:
        classes = None if hasattr(est, "classes_") else CLASSES[case.target]
    return est.partial_fit(X, y, sample_weight=sw, classes=classes)


def _raised(est, method, case):
    with pytest.raises(Exception) as info, np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _call(est, method, case)
    return info.value


def _assert_names_problem(err, case, method):
    msg = str(err).lower()
    for part in case.match_for(method):
        assert part.lower() in msg, f"{part!r} not in fastnet's message: {err}"


def _estimator_for(cls, case, method):
    """The estimator a failing call is made on: fresh for fit, fitted otherwise."""
    if method == "fit" or (method == "partial_fit" and not case.partial_fit_on_fitted):
        return cls(**{**BASE, **case.base, **case.params})
    extra = {**case.base, "warm_start": method == "fit_warm_start"}
    return _fitted(cls, case.target, **extra).set_params(**case.params)


# --------------------------------------------------- same error as sklearn
SAME_ERROR = [
    pytest.param(c, method, id=f"{method}-{c.id}")
    for method in ("fit", "fit_warm_start", "partial_fit")
    for c in FAILING_CASES
    if method in c.methods
]


@pytest.mark.parametrize("case, method", SAME_ERROR)
def test_fails_like_sklearn(case, method):
    call = "partial_fit" if method == "partial_fit" else "fit"
    sk_err = _raised(_estimator_for(SkMLPClassifier, case, method), call, case)
    fn_err = _raised(_estimator_for(fastnet.MLPClassifier, case, method), call, case)
    assert isinstance(sk_err, case.exc), f"sklearn raised {sk_err!r}; the table is wrong"
    assert type(fn_err) is type(sk_err), f"fastnet raised {fn_err!r}, sklearn {sk_err!r}"
    _assert_names_problem(fn_err, case, method)


# ---------------------------------------------------------- loses nothing
def _outputs(est):
    return est.predict(X0), est.predict_proba(X0), est.predict_log_proba(X0)


def _train_on(est, target):
    """One more training step, the kind the model supports."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if est.solver == "lbfgs" or est.early_stopping:
            est.set_params(warm_start=True).fit(X0, TARGETS[target])
        else:
            est.partial_fit(X0, TARGETS[target])


LOSES_NOTHING = [
    pytest.param(c, method, id=f"{method}-{c.id}")
    for method in ("fit", "fit_warm_start", "partial_fit")
    for c in FAILING_CASES
    if method in c.methods
    and (method != "partial_fit" or c.partial_fit_on_fitted)
]


@pytest.mark.parametrize("case, method", LOSES_NOTHING)
def test_failed_call_on_fitted_model_loses_nothing(case, method):
    call = "partial_fit" if method == "partial_fit" else "fit"
    extra = {**case.base, "warm_start": method == "fit_warm_start"}
    model = _fitted(fastnet.MLPClassifier, case.target, **extra)
    twin = _fitted(fastnet.MLPClassifier, case.target, **extra)
    before = _outputs(model)
    classes = model.classes_.copy()
    state = public_state(model)
    original = model.get_params()

    model.set_params(**case.params)
    with pytest.raises(case.exc) as info, np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _call(model, call, case)
    _assert_names_problem(info.value, case, method)

    model.set_params(**original)
    for old, new in zip(before, _outputs(model)):
        assert new.dtype == old.dtype
        np.testing.assert_array_equal(new, old)
    np.testing.assert_array_equal(model.classes_, classes)
    assert_same_state(state, public_state(model))
    # Label binarizer, optimizer state and random state survived too: training
    # goes on exactly as on the twin.
    _train_on(model, case.target)
    _train_on(twin, case.target)
    for a, b in zip(_outputs(model), _outputs(twin)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.coefs_ + model.intercepts_, twin.coefs_ + twin.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.classes_, twin.classes_)


def test_loses_nothing_is_not_vacuous_for_a_mid_training_failure():
    """scikit-learn itself *is* changed by the warm-start early-stopping case
    (an epoch ran before it failed), so fastnet's unchanged weights are a rollback."""
    sk = _fitted(SkMLPClassifier, warm_start=True)
    before = [c.copy() for c in sk.coefs_]
    with pytest.raises(AttributeError):
        sk.set_params(early_stopping=True).fit(X0, Y3)
    assert not all(np.array_equal(a, b) for a, b in zip(before, sk.coefs_))


def _case(name):
    return next(c for c in FAILING_CASES if c.id == name)


# Failures that happen after random draws (epoch shuffles, the validation split).
RANDOM_STATE_CASES = [
    pytest.param("sgd_huge_X", "partial_fit", id="partial_fit-sgd_huge_X"),
    pytest.param("sgd_huge_X", "fit_warm_start", id="fit_warm_start-sgd_huge_X"),
    pytest.param("warm_start_switching_on_early_stopping", "fit_warm_start",
                 id="fit_warm_start-warm_start_switching_on_early_stopping"),
    pytest.param("nan_in_sample_weight", "partial_fit", id="partial_fit-nan_in_sample_weight"),
]


@pytest.mark.parametrize("name, method", RANDOM_STATE_CASES)
def test_failed_call_with_a_random_state_instance_loses_nothing(name, method):
    """With ``random_state`` a ``RandomState`` instance the draws of a call come
    from that shared generator.  A failed call must not use some of them up:
    the next partial_fit (mini-batches of 10, so the shuffle order matters)
    equals the untouched twin's."""
    case = _case(name)
    call = "partial_fit" if method == "partial_fit" else "fit"

    def fitted():
        extra = {**case.base, "warm_start": method == "fit_warm_start",
                 "random_state": np.random.RandomState(0)}
        return _fitted(fastnet.MLPClassifier, case.target, **extra)

    model, twin, advanced = fitted(), fitted(), fitted()
    original = model.get_params()
    model.set_params(**case.params)
    with pytest.raises(case.exc), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _call(model, call, case)
    model.set_params(**original)
    advanced.random_state.seed(1)  # a twin whose generator is elsewhere

    for est in (model, twin, advanced):
        est.set_params(batch_size=10).partial_fit(X0, TARGETS[case.target])
    np.testing.assert_array_equal(model.coefs_[0], twin.coefs_[0])
    np.testing.assert_array_equal(model.predict_proba(X0), twin.predict_proba(X0))
    # not vacuous: the continuation does depend on the generator's position
    assert not np.array_equal(advanced.coefs_[0], twin.coefs_[0])


@pytest.mark.parametrize("case", _cases_for("fit"))
def test_failed_first_fit_leaves_model_unfitted(case):
    model = fastnet.MLPClassifier(**{**BASE, **case.base, **case.params})
    with pytest.raises(case.exc), np.errstate(all="ignore"):
        _call(model, "fit", case)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(model))


FIRST_PARTIAL_FIT_FAILURES = ["nan_in_X", "nan_in_sample_weight", "sgd_huge_X",
                              "partial_fit_first_call_y_not_in_classes"]


@pytest.mark.parametrize("name", FIRST_PARTIAL_FIT_FAILURES)
def test_failed_first_partial_fit_leaves_model_unfitted(name):
    """fastnet's rollback covers the first partial_fit too: like a failed first
    fit, it leaves no fitted attribute behind (``classes_`` included), so the
    model still says 'not fitted'.  (scikit-learn keeps ``classes_`` and the
    model then fails with AttributeError in predict.)"""
    case = _case(name)
    model = fastnet.MLPClassifier(**{**BASE, **case.base, **case.params})
    with pytest.raises(case.exc), np.errstate(all="ignore"):
        _call(model, "partial_fit", case)
    leftovers = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert leftovers == []
    with pytest.raises(NotFittedError):
        model.predict(X0)


def test_retry_after_failed_first_partial_fit_trains_like_a_fresh_model():
    """The natural fix of a wrong ``classes`` -- call again with the right ones --
    must work on the same object and train exactly as a fresh model.
    (scikit-learn refuses the retry: "`classes=[0, 1, 2]` is not the same as on
    last call to partial_fit", because its failed first call kept ``classes_``.)"""
    model = fastnet.MLPClassifier(**BASE)
    with pytest.raises(ValueError, match="classes not in"):
        model.partial_fit(X0, Y3, classes=[0, 1])
    model.partial_fit(X0, Y3, classes=[0, 1, 2])
    fresh = fastnet.MLPClassifier(**BASE).partial_fit(X0, Y3, classes=[0, 1, 2])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    for a, b in zip(_outputs(model), _outputs(fresh)):
        np.testing.assert_array_equal(a, b)


def test_failed_fit_keeps_feature_names():
    df = pd.DataFrame(X0, columns=["a", "b", "c"])
    model = _fit_quietly(fastnet.MLPClassifier(**BASE), df, Y3)
    before = model.predict_proba(df)
    other = pd.DataFrame(put(X0, (0, 0), np.nan), columns=["x", "y", "z"])
    with pytest.raises(ValueError, match="NaN"):
        model.fit(other, Y3)
    # valid X with new names, then a bad sample_weight: names were already reset
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(pd.DataFrame(X0, columns=["x", "y", "z"]), Y3, sample_weight=SW0[:-1])
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names, but..." warning either
        np.testing.assert_array_equal(model.predict_proba(df), before)


def test_partial_fit_is_missing_on_a_fitted_lbfgs_model():
    for cls in (SkMLPClassifier, fastnet.MLPClassifier):
        model = _fitted(cls, solver="lbfgs")
        assert not hasattr(model, "partial_fit")
        model.set_params(solver="sgd")
        assert hasattr(model, "partial_fit")


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
PREDICT_METHODS = ["predict", "predict_proba", "predict_log_proba"]


@pytest.mark.parametrize("method", PREDICT_METHODS)
@pytest.mark.parametrize("name", list(PREDICT_CASES))
def test_predict_fails_like_sklearn_and_loses_nothing(name, method):
    X_bad, exc, match = PREDICT_CASES[name]
    sk, fn = _fitted(SkMLPClassifier), _fitted(fastnet.MLPClassifier)
    before = _outputs(fn)
    with pytest.raises(exc) as sk_info:
        getattr(sk, method)(X_bad)
    with pytest.raises(exc) as fn_info:
        getattr(fn, method)(X_bad)
    assert type(fn_info.value) is type(sk_info.value)
    msg = str(fn_info.value).lower()
    assert all(part.lower() in msg for part in match), msg
    for old, new in zip(before, _outputs(fn)):
        np.testing.assert_array_equal(new, old)


FEATURE_NAME_CASES = {
    "other_names": (["x", "y", "z"], "feature names should match"),
    "reordered_names": (["c", "a", "b"], "same order"),
    "extra_column": (["a", "b", "c", "d"], "feature names should match"),
}


@pytest.mark.parametrize("method", PREDICT_METHODS)
@pytest.mark.parametrize("name", list(FEATURE_NAME_CASES))
def test_wrong_feature_names_at_predict_fail_like_sklearn(name, method):
    columns, match = FEATURE_NAME_CASES[name]
    df = pd.DataFrame(X0, columns=["a", "b", "c"])
    bad = pd.DataFrame(np.c_[X0, X0][:, :len(columns)], columns=columns)
    errors = []
    for cls in (SkMLPClassifier, fastnet.MLPClassifier):
        model = _fit_quietly(cls(**BASE), df, Y3)
        with pytest.raises(Exception) as info:
            getattr(model, method)(bad)
        errors.append(info.value)
    sk_err, fn_err = errors
    assert isinstance(sk_err, ValueError)
    assert type(fn_err) is type(sk_err)
    assert match in str(fn_err)
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c"])


@pytest.mark.parametrize("method", PREDICT_METHODS + ["score"])
def test_use_before_fit_raises_not_fitted(method):
    args = (X0,) if method != "score" else (X0, Y3)
    for cls in (SkMLPClassifier, fastnet.MLPClassifier):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(cls(**BASE), method)(*args)


def test_loss_is_not_a_classifier_parameter():
    for cls in (SkMLPClassifier, fastnet.MLPClassifier):
        assert "loss" not in cls().get_params()
        with pytest.raises(ValueError, match="Invalid parameter 'loss'"):
            cls().set_params(loss="squared_error")


# --------------------------------------------------- accepted like sklearn
def _fit(X, y, sw=None):
    return [("fit", X, y, {"sample_weight": sw})]


def _partial(*steps):
    """partial_fit calls: (X, y, classes) each."""
    return [("partial_fit", X, y, {"classes": classes}) for X, y, classes in steps]


_NAMES3 = np.array(["cat", "dog", "emu"])
_SINGLE = np.zeros(N, dtype=np.int64)

# name -> (params, calls); the fitted models then predict on X0 (or the X of the last call)
ACCEPTED = {
    "python_lists": lambda: ({}, _fit(X0.tolist(), Y3.tolist())),
    "int64_X": lambda: ({}, _fit(np.round(3 * X0).astype(np.int64), Y3)),
    "int32_X": lambda: ({}, _fit(np.round(3 * X0).astype(np.int32), Y3)),
    "bool_X": lambda: ({}, _fit(X0 > 0, Y3)),
    "sparse_csr": lambda: ({}, _fit(sp.csr_matrix(sparsified(X0)), Y3)),
    "sparse_csc": lambda: ({}, _fit(sp.csc_matrix(sparsified(X0)), Y3)),
    "float32_X": lambda: ({}, _fit(X0.astype(np.float32), Y3)),
    "float32_X_binary": lambda: ({}, _fit(X0.astype(np.float32), YB)),
    "fortran_order": lambda: ({}, _fit(np.asfortranarray(X0), Y3)),
    "non_contiguous": lambda: ({}, _fit(np.repeat(X0, 2, axis=1)[:, ::2], Y3)),
    "read_only": lambda: ({}, _fit(readonly(X0), readonly(Y3))),
    "dataframe_X": lambda: ({}, _fit(pd.DataFrame(X0, columns=["a", "b", "c"]), Y3)),
    "string_labels": lambda: ({}, _fit(X0, _NAMES3[Y3])),
    "string_labels_binary": lambda: ({}, _fit(X0, np.array(["no", "yes"])[YB])),
    "bool_labels": lambda: ({}, _fit(X0, YB.astype(bool))),
    "float_integral_labels": lambda: ({}, _fit(X0, Y3.astype(np.float64))),
    "negative_int_labels": lambda: ({}, _fit(X0, Y3 - 5)),
    "binary_labels_3_and_8": lambda: ({}, _fit(X0, 3 + 5 * YB)),
    "pandas_series_int_labels": lambda: ({}, _fit(X0, pd.Series(Y3, name="target"))),
    "pandas_series_string_labels": lambda: ({}, _fit(X0, pd.Series(_NAMES3[Y3]))),
    "pandas_categorical_labels": lambda: ({}, _fit(X0, pd.Series(pd.Categorical(_NAMES3[Y3])))),
    "pandas_series_bool_labels": lambda: ({}, _fit(X0, pd.Series(YB.astype(bool)))),
    "y_column_vector": lambda: ({}, _fit(X0, Y3[:, None])),
    "multilabel_indicator": lambda: ({}, _fit(X0, YML)),
    "multilabel_bool_indicator": lambda: ({}, _fit(X0, YML.astype(bool))),
    "multilabel_float_indicator": lambda: ({}, _fit(X0, YML.astype(np.float64))),
    "multilabel_dataframe": lambda: ({}, _fit(X0, pd.DataFrame(YML, columns=list("pqr")))),
    "multilabel_sparse_indicator": lambda: ({}, _fit(X0, sp.csr_matrix(YML))),
    "single_class": lambda: ({}, _fit(X0, _SINGLE)),
    "single_class_strings": lambda: ({}, _fit(X0, np.array(["only"] * N))),
    "single_class_lbfgs": lambda: ({"solver": "lbfgs"}, _fit(X0, _SINGLE + 4)),
    "single_class_partial_fit": lambda: ({}, _partial((X0, _SINGLE, [0]))),
    "sample_weight_list": lambda: ({}, _fit(X0, Y3, SW0.tolist())),
    "sample_weight_scalar": lambda: ({}, _fit(X0, Y3, 2.0)),
    "sample_weight_negative": lambda: ({}, _fit(X0, Y3, -SW0)),
    "sample_weight_some_zero": lambda: ({}, _fit(X0, Y3, np.where(Y3 == 1, 0.0, SW0))),
    "lbfgs_multiclass": lambda: ({"solver": "lbfgs"}, _fit(X0, Y3)),
    "lbfgs_binary_lists": lambda: ({"solver": "lbfgs"}, _fit(X0.tolist(), YB.tolist())),
    "lbfgs_sparse": lambda: ({"solver": "lbfgs"}, _fit(sp.csr_matrix(sparsified(X0)), Y3)),
    "sgd_string_labels": lambda: ({"solver": "sgd"}, _fit(X0, _NAMES3[Y3])),
    "hidden_layer_sizes_int": lambda: ({"hidden_layer_sizes": 4}, _fit(X0, Y3)),
    "hidden_layer_sizes_list": lambda: ({"hidden_layer_sizes": [4, 3]}, _fit(X0, Y3)),
    "hidden_layer_sizes_ndarray": lambda: ({"hidden_layer_sizes": np.array([4])}, _fit(X0, Y3)),
    "hidden_layer_sizes_empty": lambda: ({"hidden_layer_sizes": ()}, _fit(X0, Y3)),
    "early_stopping_binary_stratified": lambda: ({"early_stopping": True}, _fit(X0, YB)),
    # multiclass targets are one-hot (n_outputs_ > 1): the split is not stratified,
    # so a class with a single member is fine
    "early_stopping_multiclass_class_with_one_member": lambda: (
        {"early_stopping": True}, _fit(X0, _relabel(Y3, 1, 0) + (np.arange(N) == 5))),
    "early_stopping_multilabel": lambda: ({"early_stopping": True}, _fit(X0, YML)),
    "early_stopping_single_class": lambda: ({"early_stopping": True}, _fit(X0, _SINGLE)),
    "partial_fit_classes_superset": lambda: ({}, _partial((X0, Y3, [0, 1, 2, 3]),
                                                          (X0, Y3, None))),
    "partial_fit_unsorted_duplicate_classes": lambda: ({}, _partial((X0, Y3, [2, 0, 1, 1]))),
    "partial_fit_string_classes": lambda: ({}, _partial(
        (X0[:20], _NAMES3[Y3[:20]], list(_NAMES3)), (X0[20:], _NAMES3[Y3[20:]], None))),
    "partial_fit_chunk_with_one_class": lambda: ({}, _partial(
        (X0, Y3, [0, 1, 2]), (X0[Y3 == 2], Y3[Y3 == 2], None))),
    "partial_fit_classes_as_ndarray_again": lambda: ({}, _partial(
        (X0, Y3, np.array([0, 1, 2])), (X0, Y3, np.array([0, 1, 2])))),
    "partial_fit_multilabel": lambda: ({}, _partial((X0, YML, [0, 1, 2]), (X0, YML, None))),
    "partial_fit_after_fit": lambda: ({}, _fit(X0, Y3) + _partial((X0[:25], Y3[:25], None))),
    "warm_start_same_classes_other_order": lambda: (
        {"warm_start": True}, _fit(X0, Y3) + _fit(X0[::-1], Y3[::-1])),
    "refit_with_other_classes": lambda: ({}, _fit(X0, Y3) + _fit(X0, _NAMES3[YB])),
    "multilabel_partial_fit_1d_y_later": lambda: (
        {}, _fit(X0, YML) + _partial((X0, Y3, None))),
}


def _rtol(dtype):
    return 1e-4 if dtype == np.float32 else 1e-9


def _assert_close(a, b, rtol, what):
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=what)


def _as_dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_like_sklearn_with_same_predictions(name):
    params, calls = ACCEPTED[name]()
    models = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, DataConversionWarning))
        for cls in (SkMLPClassifier, fastnet.MLPClassifier):
            est = cls(**{**BASE, **params})
            for method, X, y, kwargs in calls:
                assert getattr(est, method)(X, y, **kwargs) is est
            models.append(est)
    sk, fn = models
    X_pred = calls[-1][1]

    # same classes (values and dtype), same outputs, same weights
    assert type(fn.classes_) is type(sk.classes_)
    np.testing.assert_array_equal(np.asarray(fn.classes_), np.asarray(sk.classes_))
    assert np.asarray(fn.classes_).dtype == np.asarray(sk.classes_).dtype
    assert fn.out_activation_ == sk.out_activation_
    assert fn.n_outputs_ == sk.n_outputs_
    for a, b in zip(fn.coefs_ + fn.intercepts_, sk.coefs_ + sk.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        _assert_close(a, b, 1e-6 if params.get("solver") == "lbfgs" else _rtol(b.dtype),
                      "weights")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. no feature-name warning that sklearn does not give
        fn_pred, sk_pred = fn.predict(X_pred), sk.predict(X_pred)
        fn_proba, sk_proba = fn.predict_proba(X_pred), sk.predict_proba(X_pred)
        fn_log, sk_log = fn.predict_log_proba(X_pred), sk.predict_log_proba(X_pred)
    assert sp.issparse(fn_pred) == sp.issparse(sk_pred)
    assert fn_pred.shape == sk_pred.shape and fn_pred.dtype == sk_pred.dtype
    np.testing.assert_array_equal(_as_dense(fn_pred), _as_dense(sk_pred))
    assert fn_proba.shape == sk_proba.shape and fn_proba.dtype == sk_proba.dtype
    tol = 1e-6 if params.get("solver") == "lbfgs" else _rtol(sk_proba.dtype)
    _assert_close(fn_proba, sk_proba, tol, "predict_proba")
    assert fn_log.shape == sk_log.shape and fn_log.dtype == sk_log.dtype
    _assert_close(np.exp(fn_log), np.exp(sk_log), tol, "predict_log_proba")
    # every prediction is one of the classes (or a 0/1 indicator row)
    dense = _as_dense(fn_pred)
    if dense.ndim == 1:
        assert set(dense.tolist()) <= set(np.asarray(fn.classes_).tolist())
    else:
        assert set(np.unique(dense).tolist()) <= {0, 1}
    # the accepted form and the plain float array are the same model input
    if not isinstance(X_pred, pd.DataFrame):
        X_plain = np.asarray(_as_dense(X_pred) if sp.issparse(X_pred) else X_pred,
                             dtype=np.float64)
        np.testing.assert_array_equal(_as_dense(fn.predict(X_plain)), dense)


def test_single_class_is_accepted_like_sklearn():
    """A single class: scikit-learn trains a logistic output on an all-zero
    target and always predicts the class; predict_proba still has two columns."""
    sk = _fitted(SkMLPClassifier, target="multiclass").fit(X0, _SINGLE + 7)
    fn = _fitted(fastnet.MLPClassifier, target="multiclass").fit(X0, _SINGLE + 7)
    np.testing.assert_array_equal(fn.classes_, [7])
    assert fn.out_activation_ == sk.out_activation_ == "logistic"
    np.testing.assert_array_equal(fn.predict(X0), np.full(N, 7))
    proba = fn.predict_proba(X0)
    assert proba.shape == (N, 2)
    np.testing.assert_allclose(proba, sk.predict_proba(X0), rtol=1e-9, atol=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
