"""Helpers shared by the fidelity tests: run the same procedure on fastnet and scikit-learn."""

import contextlib
import io
import warnings

import numpy as np
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning


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


MISSING = object()  # an attribute that does not exist
STOCHASTIC_ONLY = ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")


def assert_same_value(name, a, b, rtol):
    """A fitted scalar or list of floats agrees (or is missing/None in both)."""
    if b is MISSING or a is MISSING:
        assert (a is MISSING) and (b is MISSING), f"{name}: present in only one estimator"
    elif b is None or a is None:
        assert a is None and b is None, f"{name}: {a!r} vs {b!r}"
    elif isinstance(b, list):
        assert isinstance(a, list), f"{name}: {type(a)} is not a list"
        assert len(a) == len(b), f"{name}: lengths {len(a)} vs {len(b)}"
        assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                        rtol=rtol, atol=0, err_msg=name)
    else:
        assert_allclose(float(a), float(b), rtol=rtol, atol=0, err_msg=name)


def assert_same_losses(fn, sk, rtol):
    """``loss_`` and the stochastic solvers' curves and scores agree."""
    for name in ("loss_",) + STOCHASTIC_ONLY:
        assert_same_value(name, getattr(fn, name, MISSING), getattr(sk, name, MISSING), rtol)


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
