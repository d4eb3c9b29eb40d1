"""Helpers shared by the fidelity tests: run the same procedure on fastnet and scikit-learn."""

import contextlib
import io
import warnings


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
