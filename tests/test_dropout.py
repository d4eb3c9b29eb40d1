"""Dropout: the masks (against their documented definition), their statistics, the
gradient through a fixed mask (finite differences), inference without dropout,
seeding apart from scikit-learn's draws, refusals, and a measured effect."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import reference as R
import fastnet
from fastnet import MLPClassifier, MLPRegressor, Network
from fastnet._dropout import dropout_seed
from fastnet.kernels import dropout as kdrop


def _data(n=120, p=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    return X, np.tanh(X @ rng.randn(p)) + 0.1 * rng.randn(n)


# ---------------------------------------------------------------------- masks
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_masks_are_the_documented_generator(rate):
    """The kernel's masks equal the generator's definition, computed independently
    with Python integers (tests/reference.py): a CUDA twin can reproduce them.  (The
    layer key, ``dropout_stream``, is checked compiled in the gradient test below.)"""
    seed, step, layer, n, width = 0xDEADBEEF12345678, 41, 1, 13, 11
    A = np.ones((n, width))
    kdrop.dropout_forward(A, np.uint64(R.dropout_key(seed, step, layer)), rate)
    keep = R.dropout_mask(seed, step, layer, n, width, rate)
    np.testing.assert_array_equal(A != 0, keep)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_mask_keep_rate_and_scaling(dtype, rate):
    """About 1 - rate of the units survive (binomial: 5 standard deviations over
    200 000 draws), each scaled by exactly 1 / (1 - rate) in the model's dtype, and
    different steps and layers draw different masks."""
    n, width = 1000, 200
    A = np.ones((n, width), dtype=dtype)
    kdrop.dropout_forward(A, np.uint64(R.dropout_key(7, 3, 0)), rate)
    kept = A != 0
    draws = kept.size
    sigma = np.sqrt(rate * (1 - rate) / draws)
    assert abs(kept.mean() - (1 - rate)) < 5 * sigma
    np.testing.assert_array_equal(A[kept], dtype(1.0 / (1.0 - rate)))
    assert A.dtype == dtype
    # Rows and columns are not correlated: every row and every column keeps some.
    assert kept.any(axis=0).all() and kept.any(axis=1).all()
    for other in (R.dropout_key(7, 4, 0), R.dropout_key(7, 3, 1), R.dropout_key(8, 3, 0)):
        B = np.ones((n, width), dtype=dtype)
        kdrop.dropout_forward(B, np.uint64(other), rate)
        # Independent masks agree on a fraction rate^2 + (1-rate)^2 of the units.
        agree = ((B != 0) == kept).mean()
        assert abs(agree - (rate**2 + (1 - rate) ** 2)) < 10 * sigma


# --------------------------------------------------------------- the gradient
@pytest.mark.parametrize("hidden", ["tanh", "logistic", "identity"])
@pytest.mark.parametrize("output", ["identity", "softmax"])
def test_gradient_with_a_fixed_mask_equals_finite_differences(hidden, output):
    rng = np.random.RandomState(1)
    # One output for squared error: with k outputs scikit-learn's gradient is k times the
    # data term's (#8349) but not the L2 term's, which finite differences can't separate.
    n_out = 1 if output == "identity" else 3
    net = Network([4, 6, 5, n_out], activation=hidden, output_activation=output,
                  random_state=2, dropout=(0.3, 0.5))
    X = rng.randn(9, 4)
    Y = rng.randn(9, n_out) if output == "identity" else np.eye(n_out)[rng.randint(0, n_out, 9)]
    sw = rng.uniform(0.5, 2.0, 9)
    step = 5
    loss, grad = net.loss_and_grad(X, Y, sample_weight=sw, alpha=0.1, dropout_step=step)
    # The mask really drops something, and differs from no dropout.
    full_loss, _ = net.loss_and_grad(X, Y, sample_weight=sw, alpha=0.1)
    assert loss != full_loss
    flat = net.params.flat
    fd = np.empty_like(flat)
    h = 1e-6
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + h
        up, _ = net.loss_and_grad(X, Y, sample_weight=sw, alpha=0.1, dropout_step=step)
        flat[k] = saved - h
        down, _ = net.loss_and_grad(X, Y, sample_weight=sw, alpha=0.1, dropout_step=step)
        flat[k] = saved
        fd[k] = (up - down) / (2 * h)
    # Central differences: O(h^2) truncation plus eps/h rounding, ~1e-9 here.
    np.testing.assert_allclose(grad.flat, fd, rtol=1e-5, atol=1e-7)
    # Units a mask dropped pass no gradient to their incoming weights.
    keep = R.dropout_mask(net.dropout_seed, step, 0, 9, 6, 0.3)
    coefs, intercepts = net.params.coefs, net.params.intercepts
    acts = R.forward_with_dropout(X, coefs, intercepts, hidden, output,
                                  [keep, R.dropout_mask(net.dropout_seed, step, 1, 9, 5, 0.5)],
                                  (0.3, 0.5))
    expected = R.loss(R.LOSS_OF_OUTPUT[output], Y, acts[-1], sw) + R.l2_term(coefs, 0.1,
                                                                              sw.sum())
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


# -------------------------------------------------------------- the estimators
def test_same_random_state_same_model_and_sklearn_draws_untouched():
    """dropout>0: the same random_state gives the same weights; the shared RandomState
    ends exactly where scikit-learn's does (the masks draw nothing from it); and the
    masks change the result."""
    X, y = _data()
    params = dict(hidden_layer_sizes=(16, 8), max_iter=8, batch_size=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPRegressor(dropout=0.3, random_state=3, **params).fit(X, y)
        b = MLPRegressor(dropout=0.3, random_state=3, **params).fit(X, y)
        c = MLPRegressor(dropout=0.3, random_state=4, **params).fit(X, y)
        plain = MLPRegressor(random_state=3, **params).fit(X, y)
        rs_fast, rs_sk = np.random.RandomState(9), np.random.RandomState(9)
        MLPRegressor(dropout=0.3, random_state=rs_fast, **params).fit(X, y)
        SkMLPRegressor(random_state=rs_sk, **params).fit(X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(a.coefs_[0], c.coefs_[0])
    assert not np.allclose(a.coefs_[0], plain.coefs_[0])
    assert rs_fast.randint(2**31) == rs_sk.randint(2**31)
    # Same initial weights as without dropout: one seed for both, drawn as sklearn.
    assert a._dropout_seed == dropout_seed(3) != dropout_seed(4)
    assert a._dropout_step == 8 * 4  # batches trained: 4 per epoch


def test_dropout_zero_is_scikit_learn_bit_for_bit():
    X, y = _data()
    params = dict(hidden_layer_sizes=(16,), max_iter=5, batch_size=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPRegressor(dropout=0.0, **params).fit(X, y)
        tuple_zero = MLPRegressor(dropout=(0.0,), **params).fit(X, y)
        sk = SkMLPRegressor(**params).fit(X, y)
    for a, b, c in zip(ours.coefs_, tuple_zero.coefs_, sk.coefs_):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)
    assert ours._dropout_step == 0


def test_predict_uses_the_whole_network():
    """A model trained with dropout predicts with every unit and no rescaling:
    the NumPy reference forward of its weights, and the same answer every call."""
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPRegressor(hidden_layer_sizes=(12, 7), activation="tanh", dropout=(0.5, 0.2),
                           max_iter=6, random_state=0).fit(X, y)
    expected = R.forward(X, est.coefs_, est.intercepts_, "tanh", "identity")[-1].ravel()
    np.testing.assert_allclose(est.predict(X), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(est.predict(X), est.predict(X))
    # The reported loss is the masked networks' (larger than the whole network's here).
    whole = est._network.data_loss(X, y) + 0.5 * est.alpha * sum(
        (c**2).sum() for c in est.coefs_) / len(X)
    assert est.loss_ > whole


@pytest.mark.parametrize("est_cls", [MLPRegressor, MLPClassifier])
def test_lbfgs_with_dropout_is_refused_and_loses_nothing(est_cls):
    X, y = _data()
    if est_cls is MLPClassifier:
        y = (y > 0).astype(int)
    est = est_cls(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    before = est.predict(X)
    est.set_params(dropout=0.2)
    with pytest.raises(ValueError, match="dropout=0.2 needs solver='sgd' or 'adam'"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict(X), before)


@pytest.mark.parametrize("dropout, error, match", [
    (1.0, ValueError, "dropout"),
    (-0.1, ValueError, "dropout"),
    (float("nan"), ValueError, "dropout"),
    ("0.5", ValueError, "dropout"),
    ((0.1, 0.2), ValueError, "dropout has 2 rates but the network has 1 hidden layer"),
    ((1.5,), ValueError, r"dropout rates must be in \[0, 1\)"),
    (("a",), TypeError, "dropout rates must be real numbers"),
    ([0.1, None], ValueError, "dropout has 2 rates"),
])
def test_bad_dropout_is_refused_clearly(dropout, error, match):
    X, y = _data()
    est = MLPRegressor(hidden_layer_sizes=(5,), dropout=dropout, max_iter=2)
    with pytest.raises(error, match=match):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


def test_network_rates_per_hidden_layer():
    assert Network([3, 4, 5, 1], dropout=0.25).dropout == (0.25, 0.25)
    assert Network([3, 4, 5, 1], dropout=(0.1, 0.0)).dropout == (0.1, 0.0)
    assert Network([3, 1], dropout=0.5).dropout == ()
    with pytest.raises(ValueError, match="2 hidden layer"):
        Network([3, 4, 5, 1], dropout=(0.1,))


# ------------------------------------------------------ persistence and copies
@pytest.mark.parametrize("route", ["save", "pickle", "clone"])
def test_dropout_models_save_pickle_clone_and_continue(route, tmp_path):
    """A saved (or pickled) dropout model continues training exactly as the original
    does: the masks' seed and step travel with it.  clone keeps the parameters."""
    X, y = _data()
    params = dict(hidden_layer_sizes=(9,), dropout=0.4, max_iter=3, batch_size=40,
                  random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPRegressor(**params).fit(X, y)
    if route == "clone":
        twin = clone(est)
        assert twin.get_params() == est.get_params()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            twin.fit(X, y)
        for a, b in zip(twin.coefs_, est.coefs_):
            np.testing.assert_array_equal(a, b)
        return
    if route == "save":
        fastnet.save(est, tmp_path / "m.fnet")
        twin = fastnet.load(tmp_path / "m.fnet")
    else:
        twin = pickle.loads(pickle.dumps(est))
    assert twin.get_params() == est.get_params()
    np.testing.assert_array_equal(twin.predict(X), est.predict(X))
    est.partial_fit(X, y)
    twin.partial_fit(X, y)
    assert twin._dropout_step == est._dropout_step == 3 * 3 + 3
    for a, b in zip(twin.coefs_ + twin.intercepts_, est.coefs_ + est.intercepts_):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------- a measured effect
def test_dropout_improves_held_out_score_where_the_plain_network_overfits():
    """A small noisy regression task (40 training rows, 10 features, noise as large as
    the signal) that a (256, 256) network overfits: over 3 seeds, dropout=0.5 gives a
    better mean held-out R^2 than no dropout.  (Measured when written, seeds 0 / 1 / 2:
    plain 0.018 / 0.061 / 0.086, dropout=0.5 0.178 / 0.187 / 0.163; the best any model
    can reach here is ~0.5, the noise being as large as the signal.)"""
    rng = np.random.RandomState(0)
    coef = rng.randn(10)
    X = rng.randn(2040, 10)
    y = X @ coef + np.sqrt(coef @ coef) * rng.randn(2040)
    X_train, y_train, X_test, y_test = X[:40], y[:40], X[40:], y[40:]
    scores = {0.0: [], 0.5: []}
    for seed in range(3):
        for rate in scores:
            est = MLPRegressor(hidden_layer_sizes=(256, 256), dropout=rate, max_iter=300,
                               tol=0, n_iter_no_change=300, learning_rate_init=3e-3,
                               random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X_train, y_train)
            scores[rate].append(est.score(X_test, y_test))
    assert np.mean(scores[0.5]) > np.mean(scores[0.0]), scores
