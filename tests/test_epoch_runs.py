"""Several epochs per compiled call: the compiled shuffle and the stopping promise.

The oracle for the shuffle is NumPy's ``RandomState`` itself; for training,
scikit-learn's estimators with the same ``random_state``.
"""

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _compare import assert_same_fit, stops_clearly
from fastnet import MLPClassifier, MLPRegressor
from fastnet import training as _training
from fastnet.kernels import mt19937

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _state_arrays(rs):
    state = rs.get_state(legacy=False)["state"]
    return np.array(state["key"], dtype=np.uint32), np.array([state["pos"]], dtype=np.int64)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 623, 624, 625, 5000])
@pytest.mark.parametrize("burn", [0, 1, 623, 624])
def test_shuffle_draws_as_randomstate(n, burn):
    rs = np.random.RandomState(n + 7 * burn)
    rs.randint(0, 2**32, size=burn, dtype=np.uint32)  # start anywhere in the 624-word block
    key, pos = _state_arrays(rs)
    expected = np.arange(n)
    got = np.arange(n)
    for _ in range(3):
        rs.shuffle(expected)
        mt19937.shuffle(got, key, pos)
        np.testing.assert_array_equal(got, expected)
    k2, p2 = _state_arrays(rs)
    np.testing.assert_array_equal(key, k2)
    assert pos[0] == p2[0]


def _reference_interval(words, max_value):
    """NumPy's random_interval on a stream of raw 32-bit words (Python)."""
    if max_value == 0:
        return 0
    mask = max_value
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    while True:
        if max_value <= 0xFFFFFFFF:
            value = int(next(words)) & mask
        else:
            value = ((int(next(words)) << 32) | int(next(words))) & mask
        if value <= max_value:
            return value


@pytest.mark.parametrize("max_value", [0, 1, 5, 2**31, 2**32 - 1, 2**32, 3 * 2**40 + 5,
                                       2**63 - 1])
def test_random_interval_matches_reference(max_value):
    rs = np.random.RandomState(3)
    key, pos = _state_arrays(rs)
    # Full-range uint32 draws are the generator's raw words, one each.
    words = iter(rs.randint(0, 2**32, size=4000, dtype=np.uint32))
    for _ in range(200):
        assert mt19937.random_interval(key, pos, max_value) == _reference_interval(
            words, max_value)


def _data(n=150, p=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    return X, np.tanh(X @ rng.randn(p)) + 0.05 * rng.randn(n)


def _assert_same(fast, sk):
    """The whole fit, within ``_compare``'s tolerances; ``n_iter_`` exactly, which the
    stopping rule's margins make sound."""
    assert stops_clearly(sk)
    assert_same_fit(fast, sk)  # n_iter_, t_, weights, loss_curve_, learning rate


@pytest.mark.parametrize("params", [
    dict(solver="adam", tol=1e-3, n_iter_no_change=3),
    dict(solver="sgd", learning_rate="adaptive", tol=1e-3, n_iter_no_change=2,
         learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="constant", tol=1e-2, n_iter_no_change=4),
], ids=["adam", "sgd-adaptive", "sgd-constant"])
def test_runs_of_epochs_stop_where_sklearn_stops(params, epoch_calls):
    """Stopping (and adaptive's rate cuts) land exactly where scikit-learn's do,
    while calls train several epochs each."""
    X, y = _data()
    common = dict(hidden_layer_sizes=(6,), batch_size=16, max_iter=300, random_state=1)
    fast = MLPRegressor(**common, **params).fit(X, y)
    sk = SkMLPRegressor(**common, **params).fit(X, y)
    assert max(epoch_calls) > 1, "expected runs of several epochs per call"
    assert sum(epoch_calls) == fast.n_iter_
    assert sk.n_iter_ < 300, "the case should stop early"
    _assert_same(fast, sk)


def test_one_epoch_per_call_when_scikit_learn_decides_every_epoch(epoch_calls):
    X, y = _data()
    for params in (dict(early_stopping=True), dict(solver="sgd", learning_rate="invscaling")):
        epoch_calls.clear()
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=12, random_state=0, **params).fit(X, y)
        assert epoch_calls and set(epoch_calls) == {1}


def test_time_limit_splits_long_runs(monkeypatch, epoch_calls):
    monkeypatch.setattr(_training, "_SECONDS_PER_CALL", 0.0)
    X, y = _data()
    params = dict(hidden_layer_sizes=(5,), max_iter=15, random_state=0, tol=0,
                  n_iter_no_change=100)
    fast = MLPRegressor(**params).fit(X, y)
    assert epoch_calls == [1] * 15
    _assert_same(fast, SkMLPRegressor(**params).fit(X, y))


def test_shared_randomstate_ends_where_sklearn_leaves_it():
    X, y = _data()
    labels = (y > 0).astype(int)
    for fast_cls, sk_cls, target in ((MLPRegressor, SkMLPRegressor, y),
                                     (MLPClassifier, SkMLPClassifier, labels)):
        rs_fast, rs_sk = np.random.RandomState(5), np.random.RandomState(5)
        rs_fast.randn(), rs_sk.randn()  # a cached Gaussian must survive too
        params = dict(hidden_layer_sizes=(4,), max_iter=40, batch_size=20, tol=1e-3,
                      n_iter_no_change=3)
        fast = fast_cls(random_state=rs_fast, **params).fit(X, target)
        sk = sk_cls(random_state=rs_sk, **params).fit(X, target)
        assert stops_clearly(sk) and fast.n_iter_ == sk.n_iter_
        np.testing.assert_array_equal(rs_fast.randn(5), rs_sk.randn(5))
        np.testing.assert_array_equal(rs_fast.randint(0, 1000, 5), rs_sk.randint(0, 1000, 5))


def test_randomstate_on_another_bit_generator_is_shuffled_in_python():
    X, y = _data()
    params = dict(hidden_layer_sizes=(4,), max_iter=8, batch_size=25)
    rs_fast = np.random.RandomState(np.random.PCG64(9))
    rs_sk = np.random.RandomState(np.random.PCG64(9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = MLPRegressor(random_state=rs_fast, **params).fit(X, y)
        sk = SkMLPRegressor(random_state=rs_sk, **params).fit(X, y)
    _assert_same(fast, sk)
    np.testing.assert_array_equal(rs_fast.randn(3), rs_sk.randn(3))
