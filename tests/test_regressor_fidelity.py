"""fastnet.MLPRegressor against sklearn.neural_network.MLPRegressor: what only the
regressor has.

What both estimators share (optimizers, schedules, batches, stopping rules,
sample weights, partial_fit, warm_start, float32, verbose output, API parity) is
tested for both in ``test_fidelity.py``; its docstring states the claim and the
tolerances (derived in ``_compare``).  Here: several outputs, the Poisson loss and
partial_fit with lbfgs, which the classifier does not have.
"""

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import _compare
from _compare import assert_same_fit, assert_same_predictions, fit_procedure
from fastnet import MLPRegressor


def fit_both(params, procedure):
    """:func:`_compare.fit_both` for MLPRegressor against scikit-learn's."""
    return _compare.fit_both(MLPRegressor, SkMLPRegressor, params, procedure)


# ---------------------------------------------------- outputs and shapes
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_multi_output(regression_data, solver, early_stopping):
    X, _, Y = regression_data
    params = dict(solver=solver, early_stopping=early_stopping, n_iter_no_change=3,
                  learning_rate_init=0.05, hidden_layer_sizes=(6,), max_iter=15, batch_size=64,
                  random_state=3)
    fn, sk, _ = fit_both(params, fit_procedure(X, Y))
    assert fn.n_outputs_ == 3
    assert_same_fit(fn, sk)
    assert fn.predict(X).shape == sk.predict(X).shape == (X.shape[0], 3)
    assert_same_predictions(fn, sk, X)


# ------------------------------------------------------------- poisson
@pytest.fixture(scope="module")
def y_counts(regression_data):
    """Non-negative targets for loss='poisson' (about half of them exactly 0)."""
    return np.maximum(regression_data[1], 0.0)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_poisson_loss(regression_data, y_counts, solver):
    X = regression_data[0]
    assert (y_counts == 0).any() and (y_counts > 0).any()
    params = dict(loss="poisson", solver=solver, hidden_layer_sizes=(5,),
                  learning_rate_init=0.01, max_iter=20, random_state=0)
    fn, sk, _ = fit_both(params, fit_procedure(X, y_counts))
    assert fn.out_activation_ == "exp"
    assert_same_fit(fn, sk, X.shape[0])
    assert_same_predictions(fn, sk, X, X.shape[0])


# ------------------------------------------------------ lbfgs partial_fit
def test_partial_fit_with_lbfgs_runs_lbfgs_like_sklearn(regression_data):
    """scikit-learn's regressor keeps partial_fit for lbfgs (it runs lbfgs)."""
    X, y, _ = regression_data
    params = dict(solver="lbfgs", hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    assert hasattr(MLPRegressor(**params), "partial_fit") == hasattr(
        SkMLPRegressor(**params), "partial_fit")

    def procedure(est):
        return est.partial_fit(X, y)

    fn, sk, _ = fit_both(params, procedure)
    assert_same_fit(fn, sk, X.shape[0])
