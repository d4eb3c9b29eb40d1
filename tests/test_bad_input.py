"""Bad inputs and bad hyperparameters: fastnet fails exactly where scikit-learn fails.

Every case below is run against ``sklearn.neural_network.MLPRegressor`` and
``fastnet.MLPRegressor``.  Both must raise, with the *same* exception class,
and fastnet's message must name the problem.  Where scikit-learn accepts an
input (python lists, integer X, sparse matrices, float32, ...), fastnet must
accept it too and predict what scikit-learn predicts.

A failed call must not damage a fitted fastnet model: after a failing ``fit``,
``partial_fit`` or ``predict`` the model predicts bit-for-bit what it
predicted before, keeps its fitted attributes, and a further ``partial_fit``
continues exactly as on an untouched twin (so optimizer state and random
state survive too).  scikit-learn itself does not promise this (it can be
left with NaN weights after a divergent epoch); fastnet does.

Deliberate deviation from scikit-learn: ``loss='poisson'`` with a negative
target.  scikit-learn 1.9 trains on it and ends with a NaN loss (checked
below, so the rationale stays true); fastnet raises ``ValueError`` naming
'poisson' and 'non-negative'.
"""

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
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
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.randn(N)
    sw = rng.uniform(0.5, 2.0, N)
    return X, y, sw


X0, Y0, SW0 = _data()


@dataclass
class Case:
    """One failing call: ``params`` set on the estimator, ``data`` changed, then fit/partial_fit."""

    id: str
    exc: type
    match: list
    data: Callable = lambda X, y, w: (X, y, None)
    params: dict = field(default_factory=dict)
    methods: tuple = ("fit", "fit_warm_start", "partial_fit")
    base: dict = field(default_factory=dict)  # extra params of the already fitted model
    # scikit-learn validates hyperparameters in partial_fit only while the model is
    # unfitted (``_fit_context`` skips it for a fitted one), so those cases run
    # partial_fit on a fresh estimator.
    partial_fit_on_fitted: bool = True


# Each ``data`` maps the good (X, y, sample_weight) to the bad call's arguments.
_FIT_ONLY = ("fit", "fit_warm_start")

# ----------------------------------------------------------------- bad data
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
         lambda X, y, w: (X, put(y, 0, -np.inf), None)),
    Case("nan_in_sample_weight", ValueError, ["sample_weight", "NaN"],
         lambda X, y, w: (X, y, put(w, 2, np.nan))),
    Case("inf_in_sample_weight", ValueError, ["sample_weight", "infinity"],
         lambda X, y, w: (X, y, put(w, 2, np.inf))),
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

# ------------------------------------------------------- bad hyperparameters
_HYPER = HYPER_COMMON + [
    ("solver", "newton", InvalidParameterError),
    ("loss", "huber", InvalidParameterError),
]
HYPER_CASES = [
    Case(f"{name}={value!r}", exc, [name], params={name: value}, partial_fit_on_fitted=False)
    for name, value, exc in _HYPER
]

# ------------------------------------------------------- stateful problems
STATE_CASES = [
    Case("early_stopping_validation_set_too_small", ValueError, ["validation set is too small"],
         lambda X, y, w: (X[:10], y[:10], None), params={"early_stopping": True},
         methods=_FIT_ONLY),
    Case("early_stopping_validation_fraction_too_small", ValueError,
         ["validation set is too small"],
         params={"early_stopping": True, "validation_fraction": 0.01}, methods=_FIT_ONLY),
    Case("partial_fit_with_early_stopping", ValueError, ["partial_fit", "early_stopping"],
         params={"early_stopping": True}, methods=("partial_fit",)),
    Case("partial_fit_wrong_n_features", ValueError, ["2 features", "expecting 3"],
         lambda X, y, w: (X[:, :2], y, None), methods=("partial_fit",)),
    Case("partial_fit_wrong_n_outputs", ValueError, ["layer sizes"],
         lambda X, y, w: (X, np.c_[y, y], None), methods=("partial_fit",)),
]

# -------------------------------------------- training diverges (non-finite)
_NONFINITE = ["non-finite parameter weights"]
DIVERGE_CASES = [
    Case("adam_huge_X", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None)),
    Case("sgd_huge_X", ValueError, _NONFINITE, lambda X, y, w: (X * 1e300, y, None),
         params={"solver": "sgd"}, base={"solver": "sgd"}),
    Case("sgd_huge_learning_rate", ValueError, _NONFINITE,
         params={"solver": "sgd", "learning_rate_init": 1e10}, methods=_FIT_ONLY),
    Case("adam_huge_y", ValueError, _NONFINITE, lambda X, y, w: (X, np.full(N, 1e308), None)),
]

FAILING_CASES = DATA_CASES + HYPER_CASES + STATE_CASES + DIVERGE_CASES


def _cases_for(method):
    return [pytest.param(c, id=c.id) for c in FAILING_CASES if method in c.methods]


def _fitted(cls, **extra):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**{**BASE, **extra}).fit(X0, Y0)


def _call(est, method, case):
    X, y, sw = case.data(X0.copy(), Y0.copy(), SW0.copy())
    return getattr(est, method)(X, y, sample_weight=sw)


def _raised(est, method, case):
    with pytest.raises(Exception) as info, np.errstate(all="ignore"):
        _call(est, method, case)
    return info.value


def _assert_names_problem(err, case):
    msg = str(err).lower()
    for part in case.match:
        assert part.lower() in msg, f"{part!r} not in fastnet's message: {err}"


# --------------------------------------------------- same error as sklearn
@pytest.mark.parametrize("case", _cases_for("fit"))
def test_fit_fails_like_sklearn(case):
    sk_err = _raised(SkMLPRegressor(**{**BASE, **case.base, **case.params}), "fit", case)
    fn_err = _raised(fastnet.MLPRegressor(**{**BASE, **case.base, **case.params}), "fit", case)
    assert isinstance(sk_err, case.exc), f"sklearn raised {sk_err!r}; the table is wrong"
    assert type(fn_err) is type(sk_err), f"fastnet raised {fn_err!r}, sklearn {sk_err!r}"
    _assert_names_problem(fn_err, case)


@pytest.mark.parametrize("case", _cases_for("partial_fit"))
def test_partial_fit_fails_like_sklearn(case):
    errors = []
    for cls in (SkMLPRegressor, fastnet.MLPRegressor):
        if case.partial_fit_on_fitted:
            est = _fitted(cls, **case.base).set_params(**case.params)
        else:
            est = cls(**{**BASE, **case.base, **case.params})
        errors.append(_raised(est, "partial_fit", case))
    sk_err, fn_err = errors
    assert isinstance(sk_err, case.exc), f"sklearn raised {sk_err!r}; the table is wrong"
    assert type(fn_err) is type(sk_err), f"fastnet raised {fn_err!r}, sklearn {sk_err!r}"
    _assert_names_problem(fn_err, case)


# ---------------------------------------------------------- loses nothing
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
    model = _fitted(fastnet.MLPRegressor, **extra)
    twin = _fitted(fastnet.MLPRegressor, **extra)
    before = model.predict(X0)
    state = public_state(model)
    original = model.get_params()

    model.set_params(**case.params)
    with pytest.raises(case.exc) as info:
        _call(model, call, case)
    _assert_names_problem(info.value, case)

    model.set_params(**original)
    np.testing.assert_array_equal(model.predict(X0), before)
    assert_same_state(state, public_state(model))
    # Optimizer state and random state survived too: training goes on as on the twin.
    model.partial_fit(X0, Y0)
    twin.partial_fit(X0, Y0)
    np.testing.assert_array_equal(model.predict(X0), twin.predict(X0))


def test_failed_fit_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X0, columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fastnet.MLPRegressor(**BASE).fit(df, Y0)
    before = model.predict(df)
    other = pd.DataFrame(put(X0, (0, 0), np.nan), columns=["x", "y", "z"])
    with pytest.raises(ValueError, match="NaN"):
        model.fit(other, Y0)
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names, but..." warning either
        np.testing.assert_array_equal(model.predict(df), before)


@pytest.mark.parametrize("case", _cases_for("fit"))
def test_failed_first_fit_leaves_model_unfitted(case):
    model = fastnet.MLPRegressor(**{**BASE, **case.base, **case.params})
    with pytest.raises(case.exc):
        _call(model, "fit", case)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(model))


# -------------------------------------------------------------- predict
PREDICT_CASES = {
    "nan_in_X": (put(X0, (0, 0), np.nan), ValueError, ["NaN"]),
    "inf_in_X": (put(X0, (1, 2), np.inf), ValueError, ["infinity"]),
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
}


@pytest.mark.parametrize("name", list(PREDICT_CASES))
def test_predict_fails_like_sklearn_and_loses_nothing(name):
    X_bad, exc, match = PREDICT_CASES[name]
    sk, fn = _fitted(SkMLPRegressor), _fitted(fastnet.MLPRegressor)
    before = fn.predict(X0)
    with pytest.raises(exc) as sk_info:
        sk.predict(X_bad)
    with pytest.raises(exc) as fn_info:
        fn.predict(X_bad)
    assert type(fn_info.value) is type(sk_info.value)
    msg = str(fn_info.value).lower()
    assert all(part.lower() in msg for part in match), msg
    np.testing.assert_array_equal(fn.predict(X0), before)


@pytest.mark.parametrize("method", ["predict", "score"])
def test_use_before_fit_raises_not_fitted(method):
    args = (X0,) if method == "predict" else (X0, Y0)
    for cls in (SkMLPRegressor, fastnet.MLPRegressor):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(cls(**BASE), method)(*args)


def test_string_targets_are_refused_and_lose_nothing():
    """Non-numeric string y: sklearn 1.9 fails late in training with numpy's
    UFuncTypeError (a TypeError); fastnet refuses it with ValueError
    'could not convert string to float'.  Both refuse it; the classes differ."""
    y_bad = np.array(["a"] * N)
    with pytest.raises((TypeError, ValueError)):
        SkMLPRegressor(**BASE).fit(X0, y_bad)
    model = _fitted(fastnet.MLPRegressor)
    before = model.predict(X0)
    with pytest.raises(ValueError, match="could not convert string to float"):
        model.fit(X0, y_bad)
    np.testing.assert_array_equal(model.predict(X0), before)


# ----------------------------------------------------- poisson deviation
@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_poisson_with_negative_target_is_refused(solver):
    """Deliberate deviation: sklearn trains on negative y with loss='poisson'
    and ends with a NaN loss; fastnet raises ValueError naming the problem."""
    y_neg = Y0.copy()  # has negative values
    assert y_neg.min() < 0
    params = {**BASE, "loss": "poisson", "solver": solver}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkMLPRegressor(**params).fit(X0, y_neg)
    assert np.isnan(sk.loss_), "sklearn no longer trains on NaN losses: revisit the deviation"
    with pytest.raises(ValueError) as info:
        fastnet.MLPRegressor(**params).fit(X0, y_neg)
    msg = str(info.value).lower()
    assert "poisson" in msg and "non-negative" in msg
    # Zero is a valid count: y >= 0 is accepted.
    y_ok = np.abs(Y0)
    y_ok[0] = 0.0
    fastnet.MLPRegressor(**params).fit(X0, y_ok)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_poisson_negative_target_on_fitted_model_loses_nothing(method):
    y_pos = np.abs(Y0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fastnet.MLPRegressor(**BASE, loss="poisson").fit(X0, y_pos)
    before = model.predict(X0)
    state = public_state(model)
    with pytest.raises(ValueError, match="non-negative"):
        getattr(model, method)(X0, Y0)
    np.testing.assert_array_equal(model.predict(X0), before)
    assert_same_state(state, public_state(model))


# --------------------------------------------------- accepted like sklearn
ACCEPTED = {
    "python_lists": lambda: (X0.tolist(), Y0.tolist(), None, {}),
    "int64_X": lambda: (np.round(3 * X0).astype(np.int64), Y0, None, {}),
    "int32_X": lambda: (np.round(3 * X0).astype(np.int32), Y0, None, {}),
    "bool_X": lambda: (X0 > 0, Y0, None, {}),
    "int_y": lambda: (X0, np.round(Y0).astype(np.int64), None, {}),
    "sparse_csr": lambda: (sp.csr_matrix(sparsified(X0)), Y0, None, {}),
    "sparse_csc": lambda: (sp.csc_matrix(sparsified(X0)), Y0, None, {}),
    "float32": lambda: (X0.astype(np.float32), Y0.astype(np.float32), None, {}),
    "float32_X_float64_y": lambda: (X0.astype(np.float32), Y0, None, {}),
    "fortran_order": lambda: (np.asfortranarray(X0), Y0, None, {}),
    "non_contiguous": lambda: (np.repeat(X0, 2, axis=1)[:, ::2], Y0, None, {}),
    "read_only": lambda: (readonly(X0), readonly(Y0), None, {}),
    "y_column_vector": lambda: (X0, Y0[:, None], None, {}),
    "multi_output_y": lambda: (X0, np.c_[Y0, -Y0], None, {}),
    "sample_weight_list": lambda: (X0, Y0, SW0.tolist(), {}),
    "sample_weight_scalar": lambda: (X0, Y0, 2.0, {}),
    "hidden_layer_sizes_int": lambda: (X0, Y0, None, {"hidden_layer_sizes": 4}),
    "hidden_layer_sizes_list": lambda: (X0, Y0, None, {"hidden_layer_sizes": [4, 3]}),
    "hidden_layer_sizes_ndarray": lambda: (X0, Y0, None, {"hidden_layer_sizes": np.array([4])}),
    "hidden_layer_sizes_empty": lambda: (X0, Y0, None, {"hidden_layer_sizes": ()}),
    "lbfgs_lists": lambda: (X0.tolist(), Y0.tolist(), None, {"solver": "lbfgs"}),
    "lbfgs_sparse": lambda: (sp.csr_matrix(sparsified(X0)), Y0, None, {"solver": "lbfgs"}),
    "sgd_float32": lambda: (X0.astype(np.float32), Y0, None, {"solver": "sgd"}),
}


def _dense_float(X):
    X = X.toarray() if sp.issparse(X) else X
    return np.asarray(X, dtype=np.float64)


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_like_sklearn_with_close_predictions(name):
    X, y, sw, params = ACCEPTED[name]()
    preds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, DataConversionWarning))
        for cls in (SkMLPRegressor, fastnet.MLPRegressor):
            est = cls(**{**BASE, **params}).fit(X, y, sample_weight=sw)
            preds.append(est.predict(X))
    sk_pred, fn_pred = preds
    assert fn_pred.shape == sk_pred.shape
    assert fn_pred.dtype == sk_pred.dtype
    assert np.isfinite(fn_pred).all()
    rtol = 1e-5 if sk_pred.dtype == np.float32 else 1e-9
    scale = np.max(np.abs(sk_pred))
    np.testing.assert_allclose(fn_pred, sk_pred, rtol=0, atol=rtol * scale)
    # The accepted form and the plain float array are the same model input.
    np.testing.assert_array_equal(est.predict(_dense_float(X)), fn_pred)
