"""Helpers shared by the fidelity tests: run the same procedure on fastnet and scikit-learn,
and compare what comes out with tolerances that hold on every CPU.

Tolerances: why ``rtol`` alone is not enough, and what is added
===============================================================

fastnet and scikit-learn do the same arithmetic in a different order.  fastnet's
``np.dot`` inside Numba calls SciPy's bundled OpenBLAS, scikit-learn's ``@`` calls
NumPy's; the two builds pick different kernels (SSE, AVX2, AVX-512: different block
sizes, FMA or not) per CPU, and NumPy's SIMD ``exp``/``tanh`` differ between AVX2 and
AVX-512 machines by a few ulps.  So the oracle and fastnet agree to the last bits on
one machine and not on the next.  Every fastnet-vs-scikit-learn comparison of floats
here is, elementwise,

    |a - b| <= rtol * |b| + k * eps(dtype) * scale        (scale = max |b| of the array)

``rtol`` is the relative agreement the project promises (1e-9 in float64, 1e-4 in
float32, 1e-6 for L-BFGS weights); it is unchanged.  The second term is for elements
that are small only because large terms cancelled in them: such an element carries
the *absolute* rounding error of the large terms, which ``rtol * |b|`` cannot cover
(the known case: a float32 weight of 1e-4 in an array whose largest entry is 0.5
differed by 1.2e-8 on an AVX2-only machine, relative 1.2e-4).

Where ``k`` comes from.  A dot product of length n computed in any order satisfies
``|fl(x.y) - x.y| <= gamma_n * sum|x_i y_i|`` with ``gamma_n ~ n * u``, u = eps / 2
(Higham, *Accuracy and Stability of Numerical Algorithms*, sec. 3.1); two
implementations that each meet the bound differ by at most ``n * eps * sum|terms|``.
The terms are bounded by the scale of the array they produce, so a single sum of
length n gets ``k = n``.  For what training produces:

* **trained parameters**: ``k = T + n_sum`` (:func:`k_fit`).  A parameter is
  ``w_T = w_0 - sum_t s_t`` over T optimizer updates.  Each update is rounded once when
  it is added (``<= u * |w|`` each, ``T * u * scale`` in all), and each step ``s_t`` is
  built from sums of length at most ``n_sum`` = max(mini-batch, widest layer) -- the
  gradient's mean over the batch, the forward and backward products over a layer --
  which contribute ``n_sum * u * |s_t|``; summed over the run that is
  ``n_sum * u * sum_t |s_t|``, and the path ``sum_t |s_t|`` of these short fits is of
  the order of the weights themselves.  Both libraries: ``(T + n_sum) * eps * scale``.
  T is counted from the fitted attributes (``t_ / batch`` steps plus one partial batch
  per epoch; L-BFGS: ``n_iter_`` iterations over full-batch sums of length n).
  Rounding differences fed back through the training dynamics grow in proportion to
  the values they perturb: that growth is what ``rtol`` covers, as before.
* **predictions, losses, scores** of a trained model: the parameters' ``k`` plus the
  length of the computation's own sums -- the widest fan-in for a forward pass
  (:func:`k_predict`), the samples averaged for a loss or an R^2 score
  (:func:`k_loss`).  A loss is a mean of non-negative terms, so its scale is not the
  largest epoch loss but ``sqrt(L * L_max)`` (:func:`loss_scale` derives it): a loss
  late in training keeps its precision, which the log-loss clip test needs.  A
  score's scale is at least 1 (R^2 = 1 - SS_res / SS_tot; :func:`score_scale`).
* **probabilities**: an absolute ``K_PROBA * eps`` (:func:`assert_close_proba`).
  Probabilities are in [0, 1]; an error in the logits, dz, moves a logistic or softmax
  output by ``p * (1 - p) * dz`` or less -- *relative* to p and to 1 - p, so ``rtol``
  covers it.  What is absolute is the last roundings: NumPy's SIMD ``exp`` (<= 4 ulp),
  the softmax sum over <= 10 classes and its division, and ``1 - p`` for the first
  column of a binary classifier (p close to 1 is known to eps/2 absolutely, so 1 - p
  is known only to eps/2 absolutely): 4 + 10 + 1 + 1 = 16 = K_PROBA.
* **log-probabilities**: ``|d log p| = |dp| / p``, so the probability's tolerance
  carried through the log: ``rtol * max(1, |log p|) + K_PROBA * eps / p``
  (:func:`assert_close_log_proba`).  For p near 1 that is the absolute ``K_PROBA * eps``
  of p itself; for a tiny p that scikit-learn computes as 1 - p it is honestly larger.

How tight this is: with rtol 1e-4 in float32 and, for the float32 regressor fit of
``test_compare.py``, T + n_sum = 42 + 50, the absolute term is about 1e-5 of the
array's largest entry: a genuine error of 1e-4 of the scale on a small weight, or of
1.2 * rtol on the largest one, fails, and so does 1e-7 relative in float64
(``tests/test_compare.py`` proves it).  Measured on this project's fidelity tests with
OpenBLAS forced to its SkylakeX, Haswell, Sandybridge and Prescott kernels and NumPy's
AVX-512 / AVX2 SIMD switched off (``OPENBLAS_CORETYPE``, ``NPY_DISABLE_CPU_FEATURES``):
the largest difference beyond ``rtol * |b|`` was 0.6 ``eps * scale``, 60x or more below
the budgets, and no comparison used more than 2% of its whole tolerance.

Decisions (labels, ``n_iter_``).  A label is decided by comparing probabilities; where
scikit-learn's own margin (top-1 minus top-2 probability, or ``|p - 0.5|``) is within
the probability tolerance, either label is right: :func:`assert_same_labels`
compares labels only where the decision is clear, and :func:`stops_clearly` tells
whether every stopping decision of a fit is clear enough for an exact ``n_iter_``
comparison; where one is not (a long float32 fit), a test checks instead that fastnet
applies scikit-learn's rule to its own loss curve (:func:`replayed_n_iter`).
"""

import contextlib
import io
import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from fastnet import MLPClassifier, MLPRegressor

# The estimator pairs, as scikit-learn's test_mlp.py parametrizes over MLPEstimator.
PAIRS = {
    "regressor": (MLPRegressor, SkMLPRegressor),
    "classifier": (MLPClassifier, SkMLPClassifier),
}


# ------------------------------------------------------------------ data
def classification_data():
    """X (151, 5) and targets of every kind scikit-learn's classifier accepts.

    151 rows so that batches don't divide n.  The multiclass target is
    imbalanced (71 / 58 / 22), so a stratified validation split differs from a
    plain one; the multilabel target has rows with 0, 1, 2 and 3 labels.
    """
    rng = np.random.RandomState(0)
    n = 151
    X = rng.randn(n, 5)
    W = rng.randn(5, 3)
    S = X @ W + 0.7 * rng.randn(n, 3)
    y3 = np.argmax(S + np.array([0.8, 0.0, -0.8]), axis=1)
    y2 = (S[:, 0] > S[:, 1]).astype(np.int64)
    Y = (S > 0.5).astype(np.int64)
    targets = {
        "binary": y2 * 5 + 3,  # labels 3 and 8: not 0/1
        "bool": y2.astype(bool),
        "multiclass": y3,
        "string": np.array(["cat", "dog", "emu"])[y3],
        "multilabel": Y,
    }
    return X, targets


def sample_weights(n):
    """Non-uniform positive weights, one per row (the same first rows for every n)."""
    return np.random.RandomState(1).uniform(0.1, 3.0, n)


# ------------------------------------------------------------ procedures
def record(action):
    """Run ``action()``; return its result, the warnings it raised and its stdout."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        result = action()
    return result, [(w.category, str(w.message)) for w in caught], out.getvalue()


def fit_procedure(X, y, sample_weight=None):
    """A procedure that fits an estimator on ``(X, y, sample_weight)`` and returns it."""

    def procedure(est):
        return est.fit(X, y, sample_weight=sample_weight)

    return procedure


def fit_both(fast_cls, sk_cls, params, procedure):
    """Apply ``procedure`` to a fastnet and a scikit-learn estimator built from ``params``.

    Asserts that both raise the same warnings (categories and messages, in order)
    and print the same stdout.  Returns ``(fastnet_est, sklearn_est, warnings)``.
    """
    fn, fn_warnings, fn_out = record(lambda: procedure(fast_cls(**params)))
    sk, sk_warnings, sk_out = record(lambda: procedure(sk_cls(**params)))
    assert isinstance(fn, fast_cls) and isinstance(sk, sk_cls)
    assert fn_warnings == sk_warnings
    assert fn_out == sk_out
    return fn, sk, sk_warnings


def outcome(action):
    """('raised', type, message) or ('returned', value, warnings) of ``action()``."""
    try:
        value, recorded, _ = record(action)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return ("raised", type(exc), str(exc))
    return ("returned", value, recorded)


def quiet_fit(est, *args, **kwargs):
    """``est.fit(*args, **kwargs)`` with ConvergenceWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def categories(recorded):
    """The warning categories of a ``record`` result, in order."""
    return [category for category, _ in recorded]


def max_iter_warning(max_iter):
    """scikit-learn's ConvergenceWarning at ``max_iter``, as ``record`` lists it."""
    return (
        ConvergenceWarning,
        "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization "
        "hasn't converged yet." % max_iter,
    )


def public_fitted(est):
    """Names of the public fitted attributes (``name_``)."""
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


# What fastnet adds to scikit-learn's API (README "Beyond scikit-learn"): keyword-only
# constructor parameters after scikit-learn's, with these defaults (off: scikit-learn's
# behaviour), and fitted attributes scikit-learn's MLPs don't have.
BEYOND_SKLEARN_PARAMS = {
    "regressor": {"dropout": 0.0, "device": "cpu"},
    "classifier": {"dropout": 0.0, "class_weight": None, "device": "cpu"},
}
BEYOND_SKLEARN_ATTRIBUTES = {"validation_loss_curve_"}


def sklearn_params_and_ours(estimator, sk_params):
    """scikit-learn's ``get_params()`` plus fastnet's additions at their defaults."""
    return {**sk_params, **BEYOND_SKLEARN_PARAMS[estimator]}


# ------------------------------------------------------------ tolerances
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
RTOL_LBFGS = 1e-6  # L-BFGS weights: its line search amplifies last-bit differences
K_PROBA = 16  # exp (4 ulp) + a sum over <= 10 classes + the division + 1 - p; see above


def eps_of(*dtypes):
    """The coarsest machine epsilon among ``dtypes`` (non-float ones count as float64)."""
    found = [np.dtype(d) for d in dtypes if np.dtype(d).kind == "f"]
    return max((float(np.finfo(d).eps) for d in found), default=float(np.finfo(np.float64).eps))


def _dtype_of(*values):
    """The coarsest float dtype among arrays (what the values were computed in)."""
    dtypes = [np.asarray(v).dtype for v in values if np.asarray(v).dtype.kind == "f"]
    if not dtypes:
        return np.dtype(np.float64)
    return max(dtypes, key=lambda d: np.finfo(d).eps)


def _check(actual, desired, tol, what, rule):
    """Elementwise ``|a - b| <= tol``; non-finite entries must be identical."""
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(desired, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    finite = np.isfinite(b)
    same_nonfinite = (np.isnan(a) & np.isnan(b)) | (a == b)
    assert (finite | same_nonfinite).all(), f"{what}: non-finite entries differ"
    assert np.isfinite(a[finite]).all(), f"{what}: non-finite where the oracle is finite"
    with np.errstate(invalid="ignore"):
        excess = np.where(finite, np.abs(a - b) - np.broadcast_to(tol, b.shape), -np.inf)
    if (excess > 0).any():
        i = np.unravel_index(int(np.argmax(excess)), b.shape)
        tol_i = np.broadcast_to(tol, b.shape)[i]
        raise AssertionError(
            f"{what}: {int((excess > 0).sum())} of {b.size} elements differ by more than "
            f"{rule}; worst at {i}: {a[i]!r} vs {b[i]!r}, |a - b| = {abs(a[i] - b[i]):.3g} > "
            f"{tol_i:.3g}")


def assert_close(actual, desired, *, k, rtol=None, dtype=None, scale=None, err_msg=""):
    """``|a - b| <= rtol * |b| + k * eps(dtype) * scale``, elementwise.

    ``dtype`` defaults to the coarser of the two arrays' float dtypes, ``rtol`` to
    ``RTOL[dtype]`` and ``scale`` to ``max |b|``; ``k`` is the rounding budget of the
    computation that produced the values (module docstring; :func:`k_fit`,
    :func:`k_predict`, :func:`k_loss`).
    """
    dtype = _dtype_of(actual, desired) if dtype is None else np.dtype(dtype)
    rtol = RTOL[dtype] if rtol is None else rtol
    b = np.asarray(desired, dtype=np.float64)
    finite = b[np.isfinite(b)]
    if scale is None:
        scale = float(np.abs(finite).max()) if finite.size else 0.0
    tol = rtol * np.abs(b) + k * eps_of(dtype) * np.asarray(scale, dtype=np.float64)
    shown = f"{float(scale):.3g}" if np.ndim(scale) == 0 else "per element"
    _check(actual, desired, tol, err_msg or "values",
           f"rtol*|b| + k*eps*scale (rtol={rtol:g}, k={k:g}, {dtype}, scale={shown})")


def proba_tolerance(desired, rtol=None, dtype=None, k=K_PROBA):
    """The elementwise tolerance of probabilities ``desired``: ``rtol * p + k * eps``."""
    dtype = _dtype_of(desired) if dtype is None else np.dtype(dtype)
    rtol = RTOL[dtype] if rtol is None else rtol
    return rtol * np.abs(np.asarray(desired, dtype=np.float64)) + k * eps_of(dtype)


def assert_close_proba(actual, desired, *, rtol=None, dtype=None, k=K_PROBA, err_msg=""):
    """Probabilities: ``|a - b| <= rtol * |b| + k * eps(dtype)`` (absolute: p is in [0, 1])."""
    dtype = _dtype_of(actual, desired) if dtype is None else np.dtype(dtype)
    rtol = RTOL[dtype] if rtol is None else rtol
    _check(actual, desired, proba_tolerance(desired, rtol, dtype, k), err_msg or "probabilities",
           f"rtol*p + k*eps (rtol={rtol:g}, k={k:g}, {dtype})")


def assert_close_log_proba(actual, desired, *, rtol=None, dtype=None, k=K_PROBA, err_msg=""):
    """Log-probabilities: the probability's tolerance carried through the log,
    ``|a - b| <= rtol * max(1, |b|) + k * eps(dtype) / exp(b)``; -inf must match -inf."""
    dtype = _dtype_of(actual, desired) if dtype is None else np.dtype(dtype)
    rtol = RTOL[dtype] if rtol is None else rtol
    b = np.asarray(desired, dtype=np.float64)
    with np.errstate(over="ignore"):
        tol = rtol * np.maximum(1.0, np.abs(b)) + k * eps_of(dtype) * np.exp(-b)
    _check(actual, desired, tol, err_msg or "log-probabilities",
           f"rtol*max(1,|b|) + k*eps/p (rtol={rtol:g}, k={k:g}, {dtype})")


# ------------------------------------------------------- rounding budgets
def _width(est):
    """The widest layer (features, hidden units or outputs) of a fitted network."""
    return max(max(c.shape) for c in est.coefs_)


def k_fit(sk, n_samples=None):
    """``T + n_sum`` for the parameters of the fitted scikit-learn model ``sk``.

    T: optimizer updates (``ceil(t_ / batch)`` plus one partial batch per epoch; for
    L-BFGS ``n_iter_``).  n_sum: the longest sum of a step, max(batch, widest layer);
    L-BFGS sums over all ``n_samples`` rows, which the caller passes.
    """
    if sk.solver == "lbfgs":
        assert n_samples is not None, "k_fit needs n_samples for lbfgs"
        return sk.n_iter_ + max(n_samples, _width(sk))
    epochs = len(sk.loss_curve_)
    per_epoch = math.ceil(sk.t_ / max(epochs, 1))
    batch = min(200 if sk.batch_size == "auto" else sk.batch_size, max(per_epoch, 1))
    steps = math.ceil(sk.t_ / batch) + epochs
    return steps + max(batch, _width(sk))


def k_predict(sk, n_samples=None):
    """:func:`k_fit` plus the forward pass's own sums (the widest fan-in)."""
    return k_fit(sk, n_samples) + _width(sk)


def k_loss(sk, n_samples=None):
    """:func:`k_fit` plus the samples a loss or a score averages over."""
    if sk.solver == "lbfgs":
        return k_fit(sk, n_samples) + n_samples
    return k_fit(sk, n_samples) + math.ceil(sk.t_ / max(len(sk.loss_curve_), 1))


def coef_rtol(sk):
    """The relative agreement promised for ``sk``'s weights."""
    rtol = RTOL[np.dtype(sk.coefs_[0].dtype)]
    return max(rtol, RTOL_LBFGS) if sk.solver == "lbfgs" else rtol


# ------------------------------------------------------------ decisions
def clear_decisions(sk, X, rtol=None):
    """Mask of the labels of ``sk.predict(X)`` that no rounding can flip.

    fastnet's probabilities may differ from scikit-learn's by the probability tolerance
    t(p) (:func:`proba_tolerance`), so a label is clear where scikit-learn's margin exceeds
    what the two probabilities of the decision may move: ``|p - 0.5| > t(p)`` for a
    logistic column (binary, or each label of a multilabel target), ``p1 - p2 > t(p1) +
    t(p2)`` for the top two classes of a softmax.  Shaped like ``predict``'s labels.
    """
    proba = sk.predict_proba(X)
    if sk.out_activation_ == "softmax":
        top2 = np.sort(proba, axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0] > proba_tolerance(top2, rtol).sum(axis=1)
    p = proba[:, 1] if sk.n_outputs_ == 1 else proba  # one logistic column, or multilabel
    return np.abs(p - 0.5) > proba_tolerance(p, rtol)


def assert_same_labels(fn, sk, X, rtol=None):
    """``fn.predict(X)`` equals ``sk.predict(X)`` wherever the decision is clear
    (:func:`clear_decisions`); returns the mask of those labels."""
    fn_pred, sk_pred = fn.predict(X), sk.predict(X)
    assert fn_pred.shape == sk_pred.shape and fn_pred.dtype == sk_pred.dtype
    clear = clear_decisions(sk, X, rtol)
    assert clear.any(), "no clear decision at all: the comparison would be vacuous"
    differ = np.asarray(fn_pred != sk_pred)
    assert not (differ & clear).any(), (
        f"{int((differ & clear).sum())} labels differ where scikit-learn's margin is clear")
    return clear


def stops_clearly(sk):
    """Whether every "no improvement" decision of ``sk``'s fit (``loss > best_loss - tol``)
    has a margin beyond twice the loss tolerance, so that ``n_iter_`` cannot depend on
    rounding.  Replays scikit-learn's rule on its ``loss_curve_`` (no early stopping)."""
    assert not sk.early_stopping
    dtype = np.dtype(sk.coefs_[0].dtype)
    k, top = k_loss(sk), max(abs(v) for v in sk.loss_curve_)
    best = np.inf
    for loss in sk.loss_curve_:
        if np.isfinite(best):
            slack = RTOL[dtype] * abs(loss) + k * eps_of(dtype) * float(loss_scale(loss, top))
            if abs(loss - (best - sk.tol)) <= 2 * slack:
                return False
        best = min(best, loss)
    return True


def assert_stops_clearly(sk):
    """:func:`stops_clearly`, asserted: an exact ``n_iter_`` comparison is then sound."""
    assert stops_clearly(sk), "a stopping decision of this fit is a near-tie"


def replayed_n_iter(loss_curve, tol, n_iter_no_change):
    """The epoch at which scikit-learn's rule stops a fit with this ``loss_curve``
    (``tol`` / ``n_iter_no_change``, no early stopping, a solver that stops when the
    count trips), or ``len(loss_curve)`` if it never trips."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(loss_curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return len(loss_curve)


# ---------------------------------------------------------- comparisons
MISSING = object()  # an attribute that does not exist
STOCHASTIC_ONLY = ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")
LOSSES = ("loss_", "loss_curve_", "best_loss_")
SCORES = ("validation_scores_", "best_validation_score_")


def loss_scale(loss, top):
    """The scale of a loss value ``loss`` in a fit whose largest epoch loss is ``top``.

    A loss is a mean of non-negative terms, so it carries no cancellation of its own:
    a log-loss term -log p moves by the logit error times 1 - p (relative); a squared
    residual r^2 moves by 2 |r| dy, and the mean of |r| is at most sqrt(2 L) while the
    outputs' error dy is k * eps times their scale, about sqrt(2 * top) (the first
    epoch's loss is about half the targets' mean square).  So the absolute part of a
    loss's error is k * eps * sqrt(L * top): the loss itself at the start of training,
    much less than the first epoch's loss once it is small.
    """
    return np.sqrt(np.abs(np.asarray(loss, dtype=np.float64)) * top)


def score_scale(score):
    """The scale of validation scores: R^2 = 1 - SS_res / SS_tot moves by k * eps *
    max(1, |R^2|) at most; an accuracy (a fraction of labels) is exact or moves by
    1 / n_val, far beyond it."""
    score = np.asarray(score, dtype=np.float64)
    return max(1.0, float(np.abs(score[np.isfinite(score)]).max(initial=0.0)))


def assert_same_value(name, a, b, *, k, dtype, scale):
    """A fitted scalar or list of floats agrees within ``assert_close(k, scale)``
    (or is missing/None in both)."""
    if b is MISSING or a is MISSING:
        assert (a is MISSING) and (b is MISSING), f"{name}: present in only one estimator"
    elif b is None or a is None:
        assert a is None and b is None, f"{name}: {a!r} vs {b!r}"
    else:
        if isinstance(b, list):
            assert isinstance(a, list), f"{name}: {type(a)} is not a list"
            assert len(a) == len(b), f"{name}: lengths {len(a)} vs {len(b)}"
        assert_close(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), k=k,
                     dtype=dtype, scale=scale, err_msg=name)


def assert_same_losses(fn, sk, n_samples=None):
    """``loss_`` and the stochastic solvers' curves and scores agree (:func:`k_loss`,
    :func:`loss_scale`, :func:`score_scale`)."""
    dtype = np.dtype(sk.coefs_[0].dtype)
    k = k_loss(sk, n_samples)
    curve = getattr(sk, "loss_curve_", [sk.loss_])
    top = max(abs(v) for v in curve)
    for name in LOSSES + SCORES:
        a, b = getattr(fn, name, MISSING), getattr(sk, name, MISSING)
        if b is MISSING or b is None:
            scale = None
        else:
            scale = loss_scale(b, top) if name in LOSSES else score_scale(b)
        assert_same_value(name, a, b, k=k, dtype=dtype, scale=scale)


def assert_same_classes(fn, sk):
    assert isinstance(fn.classes_, np.ndarray)
    assert fn.classes_.dtype == sk.classes_.dtype
    np.testing.assert_array_equal(fn.classes_, sk.classes_)


def assert_same_params(fn, sk, n_samples=None, err_msg="parameter array"):
    """``coefs_`` and ``intercepts_``: same shapes and dtypes, values within :func:`k_fit`."""
    assert len(fn.coefs_) == len(sk.coefs_)
    assert len(fn.intercepts_) == len(sk.intercepts_)
    k, rtol = k_fit(sk, n_samples), coef_rtol(sk)
    for i, (a, b) in enumerate(zip(fn.coefs_ + fn.intercepts_, sk.coefs_ + sk.intercepts_)):
        assert a.shape == b.shape, f"{err_msg} {i}"
        assert a.dtype == b.dtype, f"{err_msg} {i}"
        assert_close(a, b, rtol=rtol, k=k, err_msg=f"{err_msg} {i}")


def assert_same_fit(fn, sk, n_samples=None):
    """Everything a fit leaves behind, fastnet against scikit-learn.

    ``n_samples`` (the rows of the fit) is needed for lbfgs fits only.
    """
    if hasattr(sk, "classes_"):
        assert_same_classes(fn, sk)
    assert fn.n_iter_ == sk.n_iter_
    assert fn.t_ == sk.t_  # samples seen: an int, exactly
    assert fn.n_layers_ == sk.n_layers_
    assert fn.n_outputs_ == sk.n_outputs_
    assert fn.out_activation_ == sk.out_activation_
    assert fn.n_features_in_ == sk.n_features_in_
    assert_same_params(fn, sk, n_samples)
    assert_same_losses(fn, sk, n_samples)
    if hasattr(sk, "_optimizer"):
        # Python floats from the same counters: the schedule itself must agree.
        assert_close(fn._optimizer.learning_rate, sk._optimizer.learning_rate, k=0,
                     rtol=RTOL[np.dtype(np.float64)], err_msg="_optimizer.learning_rate")


def assert_same_predictions(fn, sk, X, n_samples=None, rtol=None):
    """Regressor: ``predict`` within :func:`k_predict`.  Classifier: ``predict`` identical
    where the decision is clear, ``predict_proba`` / ``predict_log_proba`` within the
    probability tolerances.  Shapes and dtypes identical.  ``rtol`` defaults to that of
    ``sk``'s weights.
    """
    rtol = coef_rtol(sk) if rtol is None else rtol
    if not hasattr(sk, "predict_proba"):
        fn_pred, sk_pred = fn.predict(X), sk.predict(X)
        assert fn_pred.shape == sk_pred.shape and fn_pred.dtype == sk_pred.dtype
        assert_close(fn_pred, sk_pred, rtol=rtol, k=k_predict(sk, n_samples), err_msg="predict")
        return
    assert_same_labels(fn, sk, X, rtol)
    fn_proba, sk_proba = fn.predict_proba(X), sk.predict_proba(X)
    assert fn_proba.shape == sk_proba.shape and fn_proba.dtype == sk_proba.dtype
    assert_close_proba(fn_proba, sk_proba, rtol=rtol, err_msg="predict_proba")
    with np.errstate(divide="ignore"):  # log(0) of saturated probabilities, in both
        fn_log, sk_log = fn.predict_log_proba(X), sk.predict_log_proba(X)
    assert fn_log.shape == sk_log.shape and fn_log.dtype == sk_log.dtype
    assert_close_log_proba(fn_log, sk_log, rtol=rtol, err_msg="predict_log_proba")
