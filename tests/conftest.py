"""Shared fixtures: small seeded data sets, reused so kernels compile once per dtype."""

import warnings

import numpy as np
import pytest


@pytest.fixture(scope="session")
def regression_data():
    """X (157, 6), y (157,) and Y (157, 3): awkward sizes so batches don't divide n."""
    rng = np.random.RandomState(0)
    X = rng.randn(157, 6)
    w = rng.randn(6, 3)
    Y = np.tanh(X @ w) + 0.1 * rng.randn(157, 3)
    return X, Y[:, 0].copy(), Y


@pytest.fixture
def no_convergence_warnings():
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def epoch_calls(monkeypatch):
    """The epochs completed by every ``Network._run_epochs`` call during the test."""
    from fastnet.network import Network

    calls = []
    real = Network._run_epochs

    def counting(self, *args, **kwargs):
        n_done = real(self, *args, **kwargs)
        calls.append(n_done)
        return n_done

    monkeypatch.setattr(Network, "_run_epochs", counting)
    return calls
