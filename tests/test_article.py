"""The article's examples, end to end through the public API.

(a) Celsius -> Fahrenheit: one neuron (``hidden_layer_sizes=()``) learns
    w = 1.8 and b = 32 -- with L-BFGS and Adam on the raw temperatures, and
    with plain gradient descent (sgd) once the input is standardized.
(b) The museum vending machine: one neuron on the visitors approaches the
    least-squares line (computed here independently with ``numpy.linalg.lstsq``,
    with an intercept because the neuron has a bias); adding the temperature
    lowers the training error; hidden layers with tanh / logistic / relu fit
    the data as well as scikit-learn's MLPRegressor with the same settings.

Every expected number is computed here (the exact conversion, least squares,
scikit-learn), never copied from fastnet's output.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastnet
from _compare import RTOL, assert_close, k_predict, stops_clearly
from fastnet.datasets import celsius_to_fahrenheit, load_vending_machine


def _fit_converged(est, X, y):
    """Fit and insist that the solver's own stopping rule ended the run."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y)


def _neuron(model):
    """(w, b) of a one-neuron model, or of a pipeline, read from its predictions."""
    b = float(model.predict(np.array([[0.0]]))[0])
    w = float(model.predict(np.array([[1.0]]))[0]) - b
    return w, b


# --------------------------------------------------- Celsius -> Fahrenheit
CELSIUS_SETTINGS = {
    # Full-batch quasi-Newton on the raw temperatures.
    "lbfgs_raw": lambda cls: cls(hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, tol=1e-10,
                                 random_state=0),
    # Adam on the raw temperatures; 50 samples -> one full batch per epoch.
    "adam_raw": lambda cls: cls(hidden_layer_sizes=(), solver="adam", alpha=0.0,
                                learning_rate_init=0.5, max_iter=3000, tol=1e-8,
                                n_iter_no_change=50, random_state=0),
    # The article's gradient descent (sgd, momentum) needs a well-conditioned
    # input: standardize it; the pipeline still maps Celsius to Fahrenheit.
    "sgd_standardized": lambda cls: make_pipeline(
        StandardScaler(),
        cls(hidden_layer_sizes=(), solver="sgd", alpha=0.0, learning_rate_init=0.3,
            max_iter=3000, tol=1e-9, n_iter_no_change=20, random_state=0),
    ),
}


@pytest.mark.parametrize("setting", list(CELSIUS_SETTINGS))
def test_one_neuron_learns_celsius_to_fahrenheit(setting):
    X, y = celsius_to_fahrenheit()
    model = _fit_converged(CELSIUS_SETTINGS[setting](fastnet.MLPRegressor), X, y)
    est = model[-1] if hasattr(model, "steps") else model

    # A single layer of neurons: one weight matrix (1, 1) and one bias.
    assert est.n_layers_ == 2
    assert [c.shape for c in est.coefs_] == [(1, 1)]
    assert est.n_iter_ < est.max_iter

    w, b = _neuron(model)
    assert w == pytest.approx(1.8, abs=1e-2)
    assert b == pytest.approx(32.0, abs=1e-2)
    if est is model:  # raw input: the neuron's own parameters are w and b
        assert est.coefs_[0][0, 0] == pytest.approx(1.8, abs=1e-2)
        assert est.intercepts_[0][0] == pytest.approx(32.0, abs=1e-2)

    boiling = model.predict(np.array([[100.0]]))
    assert boiling.shape == (1,)
    assert boiling[0] == pytest.approx(212.0, abs=0.1)
    assert model.predict(np.array([[-40.0]]))[0] == pytest.approx(-40.0, abs=0.1)

    # scikit-learn with the same settings lands on the same neuron.
    sk_w, sk_b = _neuron(_fit_converged(CELSIUS_SETTINGS[setting](SkMLPRegressor), X, y))
    assert w == pytest.approx(sk_w, rel=1e-6)
    assert b == pytest.approx(sk_b, rel=1e-6)


# --------------------------------------------------------- vending machine
@pytest.fixture(scope="module")
def vending():
    X, y = load_vending_machine(return_X_y=True)
    assert X.shape == (50, 2) and y.shape == (50,)
    return X, y


def _least_squares(X, y):
    """Coefficients (slopes..., intercept) and training MSE of the best line/plane."""
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef, float(np.mean((A @ coef - y) ** 2))


def _mse(model, X, y):
    return float(np.mean((model.predict(X) - y) ** 2))


def _neuron_adam(max_iter):
    # Raw inputs (visitors ~100/day): Adam's per-parameter steps cope with the
    # scale; alpha=0 so the least-squares solution is the exact target.
    return fastnet.MLPRegressor(hidden_layer_sizes=(), solver="adam", alpha=0.0,
                                learning_rate_init=0.1, max_iter=max_iter, tol=1e-10,
                                n_iter_no_change=50, random_state=0)


def test_visitors_only_neuron_approaches_least_squares_line(vending):
    X, y = vending
    visitors = X[:, :1]
    (slope, intercept), ls_mse = _least_squares(visitors, y)

    distances = []
    for epochs in (10, 100, 300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            partial = _neuron_adam(epochs).fit(visitors, y)
        assert partial.n_iter_ == epochs
        distances.append(abs(partial.coefs_[0][0, 0] - slope))
    model = _fit_converged(_neuron_adam(5000), visitors, y)
    assert model.n_iter_ < 5000
    distances.append(abs(model.coefs_[0][0, 0] - slope))

    # Training walks the weight toward the least-squares slope ...
    assert all(a > b for a, b in zip(distances, distances[1:])), distances
    # ... and ends on the least-squares line, not merely near it.
    assert model.coefs_[0][0, 0] == pytest.approx(slope, rel=1e-4)
    assert model.intercepts_[0][0] == pytest.approx(intercept, abs=1e-2)
    assert _mse(model, visitors, y) == pytest.approx(ls_mse, rel=1e-6)
    assert model.loss_ == pytest.approx(ls_mse / 2, rel=1e-6)  # sklearn's loss is half the MSE


def test_adding_temperature_lowers_the_training_error(vending):
    X, y = vending
    visitors = X[:, :1]
    _, ls_mse_visitors = _least_squares(visitors, y)
    coef_both, ls_mse_both = _least_squares(X, y)

    one = _fit_converged(_neuron_adam(5000), visitors, y)
    two = _fit_converged(_neuron_adam(5000), X, y)
    mse_one, mse_two = _mse(one, visitors, y), _mse(two, X, y)

    assert mse_two < mse_one
    assert mse_two < 0.5 * mse_one  # clearly better, as the article shows
    assert mse_one == pytest.approx(ls_mse_visitors, rel=1e-6)
    assert mse_two == pytest.approx(ls_mse_both, rel=1e-6)
    np.testing.assert_allclose(two.coefs_[0].ravel(), coef_both[:2], rtol=1e-3)
    # More temperature, more bottles sold.
    assert two.coefs_[0][1, 0] > 0


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu"])
def test_hidden_layer_fits_as_well_as_sklearn(vending, activation):
    X, y = vending

    def model(cls):
        return make_pipeline(
            StandardScaler(),
            cls(hidden_layer_sizes=(10,), activation=activation, solver="adam",
                learning_rate_init=0.1, max_iter=1000, tol=1e-6, n_iter_no_change=20,
                random_state=0),
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fn = model(fastnet.MLPRegressor).fit(X, y)
        sk = model(SkMLPRegressor).fit(X, y)

    assert [c.shape for c in fn[-1].coefs_] == [(2, 10), (10, 1)]
    assert stops_clearly(sk[-1])  # so the epoch counts must agree exactly
    assert fn[-1].n_iter_ == sk[-1].n_iter_
    fn_pred, sk_pred = fn.predict(X), sk.predict(X)
    assert_close(fn_pred, sk_pred, k=k_predict(sk[-1]))
    # As well as scikit-learn, up to what its predictions' tolerance t can move the MSE:
    # mean((r + t)^2) - mean(r^2) <= mean(2 |r| t + t^2).
    t = RTOL[np.dtype(np.float64)] * np.abs(sk_pred) + k_predict(sk[-1]) * float(
        np.finfo(np.float64).eps) * np.abs(sk_pred).max()
    mse_fn, mse_sk = _mse(fn, X, y), _mse(sk, X, y)
    assert mse_fn <= mse_sk + np.mean(2 * np.abs(sk_pred - y) * t + t**2)
    # A hidden layer fits the training days at least as well as the best plane.
    _, ls_mse_both = _least_squares(X, y)
    assert mse_fn <= ls_mse_both
