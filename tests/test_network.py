"""The low-level public API, ``fastnet.Network``, end to end.

Initialization is checked against scikit-learn's documented draws written out
here independently; forward passes and training epochs against the NumPy
reference (tests/reference.py) looping over the same mini-batches.
"""

import pickle
import zlib

import numpy as np
import pytest

import reference as R
import fastnet
from fastnet import Network

DTYPES = [np.float64, np.float32]
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def _rng(request):
    return np.random.RandomState(zlib.crc32(request.node.name.encode()))


def assert_close(actual, desired, dtype, rtol=None):
    actual = np.asarray(actual)
    desired = np.asarray(desired)
    assert actual.shape == desired.shape
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    scale = float(np.abs(desired).max()) if desired.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * max(scale, 1e-30))


def _targets(rng, output, n, k):
    if output == "identity":
        return rng.randn(n, k)
    if output == "exp":
        return rng.poisson(1.5, size=(n, k)).astype(float)
    if output == "softmax":
        return np.eye(k)[rng.randint(0, k, n)]
    return (rng.rand(n, k) < 0.5).astype(float)


# ------------------------------------------------------------- initialization
def _sklearn_draws_from(rng, layer_units, f):
    """scikit-learn's ``_init_coef``, layer by layer: weights then intercepts,
    U(-b, b) with b = sqrt(f / (fan_in + fan_out)), in float64."""
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(f / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def _sklearn_draws(layer_units, activation, seed):
    """f = 2 for logistic hidden layers, else 6."""
    f = 2.0 if activation == "logistic" else 6.0
    return _sklearn_draws_from(np.random.RandomState(seed), layer_units, f)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", R.HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("layer_units", [(3, 1), (4, 6, 2), (2, 5, 3, 4)])
def test_initial_weights_are_sklearns_draws(dtype, activation, layer_units):
    seed = 42
    net = Network(layer_units, activation=activation, dtype=dtype, random_state=seed)
    coefs, intercepts = _sklearn_draws(layer_units, activation, seed)
    assert net.params.flat.dtype == np.dtype(dtype)
    assert len(net.params.coefs) == len(layer_units) - 1
    for got, exp in zip(net.params.coefs + net.params.intercepts, coefs + intercepts):
        assert got.shape == exp.shape
        # Drawn in float64, then cast: bit-identical.
        np.testing.assert_array_equal(got, exp.astype(dtype))
    # The bound is the Glorot one (logistic's is sqrt(3) times smaller).
    f = 2.0 if activation == "logistic" else 6.0
    bound0 = np.sqrt(f / (layer_units[0] + layer_units[1]))
    assert np.abs(net.params.coefs[0]).max() <= bound0


def test_initial_weights_random_state_forms():
    units = (3, 4, 2)
    a = Network(units, random_state=7)
    b = Network(units, random_state=np.random.RandomState(7))
    c = Network(units, random_state=8)
    np.testing.assert_array_equal(a.params.flat, b.params.flat)
    assert not np.array_equal(a.params.flat, c.params.flat)
    # A shared RandomState advances: two networks from it differ, in sklearn's order.
    rng = np.random.RandomState(3)
    n1 = Network(units, random_state=rng)
    n2 = Network(units, random_state=rng)
    rng_exp = np.random.RandomState(3)
    first = R.pack(*_sklearn_draws_from(rng_exp, units, 6.0))
    second = R.pack(*_sklearn_draws_from(rng_exp, units, 6.0))
    np.testing.assert_array_equal(n1.params.flat, first)
    np.testing.assert_array_equal(n2.params.flat, second)


# -------------------------------------------------------------------- views
@pytest.mark.parametrize("dtype", DTYPES)
def test_param_views_are_views_of_flat(dtype):
    units = (3, 5, 4, 2)
    net = Network(units, activation="tanh", dtype=dtype, random_state=0)
    flat = net.params.flat
    assert flat.shape == (3 * 5 + 5 * 4 + 4 * 2 + 5 + 4 + 2,)
    ref_coefs, ref_intercepts = R.unpack(flat, units)
    for c, b, rc, rb in zip(net.params.coefs, net.params.intercepts, ref_coefs, ref_intercepts):
        assert np.shares_memory(c, flat) and np.shares_memory(b, flat)
        assert c.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(c, rc)  # sklearn's _pack order
        np.testing.assert_array_equal(b, rb)
    # Writing to a view changes flat at the _pack offset, and vice versa.
    net.params.coefs[1][2, 3] = 42.0
    assert flat[3 * 5 + 2 * 4 + 3] == 42.0
    net.params.intercepts[0][4] = -7.0
    assert flat[3 * 5 + 5 * 4 + 4 * 2 + 4] == -7.0
    flat[-1] = 9.0
    assert net.params.intercepts[-1][-1] == 9.0
    # ...and the network computes with the edited values.
    X = np.random.RandomState(0).randn(4, 3)
    assert_close(net.forward(X), R.forward(X.astype(dtype), *R.unpack(flat, units),
                                           "tanh", "identity")[-1], dtype)


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", R.OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("activation", R.HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("layer_units", [(3, 2), (4, 7, 3), (2, 6, 5, 3)], ids=["d0", "d1", "d2"])
def test_forward_matches_reference(request, dtype, output, activation, layer_units):
    rng = _rng(request)
    net = Network(layer_units, activation=activation, output_activation=output, dtype=dtype,
                  random_state=1)
    X = rng.randn(13, layer_units[0])
    X_before = X.copy()
    out = net.forward(X)
    np.testing.assert_array_equal(X, X_before)  # input untouched
    assert out.dtype == np.dtype(dtype) and out.shape == (13, layer_units[-1])
    expected = R.forward(X.astype(dtype), net.params.coefs, net.params.intercepts, activation,
                         output)[-1]
    assert_close(out, expected, dtype)
    # A second call does not overwrite the first call's result.
    out2 = net.forward(2 * X)
    assert_close(out, expected, dtype)
    assert not np.allclose(out2, out)


def test_forward_accepts_lists_and_other_dtypes():
    net = Network((2, 3, 1), activation="tanh", random_state=0)
    X = [[1, 2], [3, -4]]
    expected = R.forward(np.array(X, dtype=float), net.params.coefs, net.params.intercepts,
                         "tanh", "identity")[-1]
    assert_close(net.forward(X), expected, np.float64)
    assert_close(net.forward(np.array(X, dtype=np.int32)), expected, np.float64)
    assert_close(net.forward(np.asfortranarray(np.array(X, dtype=float))), expected, np.float64)


@pytest.mark.parametrize("bad_shape", [(5, 2), (5, 4), (3,), (2, 3, 1), (0, 3)])
def test_forward_wrong_shape_raises(bad_shape):
    net = Network((3, 4, 1), random_state=0)
    with pytest.raises(ValueError, match="shape|sample"):
        net.forward(np.ones(bad_shape))


# ---------------------------------------------------------------- training
def _problem(rng, n=60, n_features=4, n_outputs=1):
    """A learnable regression: y = tanh(X @ w) + small noise."""
    X = rng.randn(n, n_features)
    w = rng.randn(n_features, n_outputs)
    Y = np.tanh(X @ w) + 0.05 * rng.randn(n, n_outputs)
    return X, Y


def _full_loss(net, X, y):
    return net.loss_and_grad(X, y)[0]


@pytest.mark.parametrize("make_opt", [
    lambda: fastnet.Adam(learning_rate_init=0.01),
    lambda: fastnet.SGD(learning_rate_init=0.05, momentum=0.9, nesterov=True),
    lambda: fastnet.SGD(learning_rate_init=0.05, momentum=0.5, nesterov=False),
], ids=["adam", "sgd-nesterov", "sgd-momentum"])
def test_train_epoch_lowers_the_loss(request, make_opt):
    rng = _rng(request)
    X, Y = _problem(rng)
    net = Network((4, 8, 1), activation="tanh", random_state=0)
    opt = make_opt()
    start = _full_loss(net, X, Y[:, 0])
    epoch_losses = []
    for _ in range(40):
        epoch_losses.append(net.train_epoch(X, Y[:, 0], opt, batch_size=16,
                                            order=rng.permutation(60)))
    end = _full_loss(net, X, Y[:, 0])
    assert end < 0.3 * start, (start, end)
    assert epoch_losses[-1] < 0.3 * epoch_losses[0]
    assert np.all(np.isfinite(net.params.flat))


def _reference_optimizer(opt, params):
    if isinstance(opt, fastnet.Adam):
        return R.AdamState(params, opt.learning_rate_init, opt.beta_1, opt.beta_2, opt.epsilon)
    return R.SGDState(params, opt.learning_rate_init, opt.momentum, opt.nesterov)


TRAIN_CASES = [
    # (layer_units, activation, output_activation, optimizer factory, weighted, alpha)
    ((4, 6, 1), "relu", "identity", lambda: fastnet.Adam(learning_rate_init=0.01), False, 1e-3),
    ((4, 5, 3, 2), "tanh", "logistic", lambda: fastnet.SGD(learning_rate_init=0.1), True, 0.0),
    ((4, 3), "logistic", "softmax",
     lambda: fastnet.SGD(learning_rate_init=0.1, nesterov=False), False, 0.01),
    ((4, 5, 2), "identity", "exp", lambda: fastnet.Adam(learning_rate_init=0.005), True, 0.1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", TRAIN_CASES,
                         ids=["relu-sq-adam", "tanh-binary-sgd", "softmax-sgd", "poisson-adam"])
def test_train_epoch_equals_reference_loop(request, dtype, case):
    units, activation, output, make_opt, weighted, alpha = case
    rng = _rng(request)
    n, batch_size = 29, 8  # 3 full batches and one of 5
    X = rng.randn(n, units[0])
    Y = _targets(rng, output, n, units[-1])
    sw = rng.uniform(0.3, 2.0, n) if weighted else None
    net = Network(units, activation=activation, output_activation=output, dtype=dtype,
                  random_state=3)
    opt = make_opt()
    coefs = [c.copy() for c in net.params.coefs]
    intercepts = [b.copy() for b in net.params.intercepts]
    ref_opt = _reference_optimizer(opt, coefs + intercepts)
    Xd, Yd = X.astype(dtype), Y.astype(dtype)
    swd = None if sw is None else sw.astype(dtype)
    for _ in range(3):
        order = rng.permutation(n)
        loss = net.train_epoch(X, Y, opt, batch_size=batch_size, sample_weight=sw, alpha=alpha,
                               order=order)
        expected = R.run_epoch(Xd, Yd, coefs, intercepts, activation, output, ref_opt, order,
                               batch_size, alpha, swd) / n
        assert_close(loss, expected, dtype)
        assert net.params.flat.dtype == np.dtype(dtype)
        assert_close(net.params.flat, R.pack(coefs, intercepts), dtype)
    if isinstance(opt, fastnet.Adam):
        assert opt.t == ref_opt.t == 3 * 4  # one step per mini-batch, carried over epochs
        assert opt.learning_rate == pytest.approx(ref_opt.learning_rate, rel=1e-12)


def test_train_epoch_order_is_honoured(request):
    rng = _rng(request)
    X, Y = _problem(rng, n=21, n_features=3)
    y = Y[:, 0]
    orders = [None, rng.permutation(21), rng.permutation(21), np.arange(21)[::-1]]
    finals = []
    for order in orders:
        net = Network((3, 4, 1), activation="tanh", random_state=0)
        coefs = [c.copy() for c in net.params.coefs]
        intercepts = [b.copy() for b in net.params.intercepts]
        opt = fastnet.SGD(learning_rate_init=0.1)
        ref_opt = _reference_optimizer(opt, coefs + intercepts)
        loss = net.train_epoch(X, y, opt, batch_size=5, order=order)
        ref_order = np.arange(21) if order is None else order
        expected = R.run_epoch(X, y[:, None], coefs, intercepts, "tanh", "identity", ref_opt,
                               ref_order, 5) / 21
        assert loss == pytest.approx(expected, rel=1e-12)
        assert_close(net.params.flat, R.pack(coefs, intercepts), np.float64)
        finals.append(net.params.flat.copy())
    # Different orders give different results (None is the data order).
    for i in range(1, 4):
        assert not np.allclose(finals[0], finals[i])
    assert not np.allclose(finals[1], finals[2])


@pytest.mark.parametrize("order", [
    np.arange(20),                      # too short
    np.arange(22),                      # too long
    np.r_[np.arange(20), 21],           # index out of range
    np.r_[-1, np.arange(1, 21)],        # negative index
    np.arange(21).reshape(3, 7),        # not 1-D
], ids=["short", "long", "too-big", "negative", "2d"])
def test_train_epoch_invalid_order_raises(order):
    X = np.random.RandomState(0).randn(21, 3)
    y = X[:, 0].copy()
    net = Network((3, 2, 1), random_state=0)
    before = net.params.flat.copy()
    with pytest.raises(ValueError, match="order"):
        net.train_epoch(X, y, fastnet.SGD(), batch_size=5, order=order)
    np.testing.assert_array_equal(net.params.flat, before)  # nothing trained


# --------------------------------------------------------------- from_arrays
@pytest.mark.parametrize("dtype", DTYPES)
def test_from_arrays_round_trip(dtype):
    net = Network((3, 5, 2), activation="logistic", output_activation="softmax", dtype=dtype,
                  random_state=4)
    copy = Network.from_arrays(net.params.coefs, net.params.intercepts, activation="logistic",
                               output_activation="softmax")
    assert copy.dtype == np.dtype(dtype)  # float32 arrays keep float32
    assert copy.layer_units == (3, 5, 2)
    np.testing.assert_array_equal(copy.params.flat, net.params.flat)
    assert not np.shares_memory(copy.params.flat, net.params.flat)  # copies
    for c in copy.params.coefs + copy.params.intercepts:
        assert np.shares_memory(c, copy.params.flat)
    X = np.random.RandomState(0).randn(6, 3)
    np.testing.assert_array_equal(copy.forward(X), net.forward(X))
    net.params.flat[0] += 1.0  # editing the source does not touch the copy
    assert copy.params.flat[0] != net.params.flat[0]


def test_from_arrays_plain_lists_and_dtype():
    coefs = [[[1.0, 2.0]], [[3.0], [4.0]]]  # (1, 2), (2, 1)
    intercepts = [[0.5, -0.5], [1.0]]
    net = Network.from_arrays(coefs, intercepts, activation="identity")
    assert net.dtype == np.float64
    x = np.array([[2.0]])
    # identity network: ((2*1 + .5) * 3 + (2*2 - .5) * 4) + 1
    assert net.forward(x)[0, 0] == pytest.approx(2.5 * 3 + 3.5 * 4 + 1)
    net32 = Network.from_arrays(coefs, intercepts, activation="identity", dtype=np.float32)
    assert net32.params.flat.dtype == np.float32


@pytest.mark.parametrize("coefs, intercepts, words", [
    ([np.ones((3, 4)), np.ones((5, 2))], [np.ones(4), np.ones(2)], "chain"),  # 4 -> 5
    # Shapes numpy would broadcast into the buffer: they must still be refused.
    ([np.ones((3, 4)), np.ones((1, 2))], [np.ones(4), np.ones(2)], "chain"),
    ([np.ones((3, 4))], [np.ones(1)], "chain"),
    ([np.ones((3, 4))], [np.ones(3)], "chain"),                        # intercept width
    ([np.ones((3, 4))], [np.ones((1, 4))], "chain"),                   # intercept not 1-D
    ([np.ones((3, 4)), np.ones((4, 2))], [np.ones(4)], "intercept"),   # one intercept short
    ([], [], "intercept"),                                             # no layer
    ([np.ones(3)], [np.ones(1)], "chain"),                             # weights not 2-D
], ids=["coef-chain", "coef-broadcastable", "intercept-broadcastable", "intercept-width",
        "intercept-2d", "count", "empty", "1d"])
def test_from_arrays_rejects_shapes_that_do_not_chain(coefs, intercepts, words):
    with pytest.raises(ValueError, match=words):
        Network.from_arrays(coefs, intercepts)


# -------------------------------------------------------------------- pickle
@pytest.mark.parametrize("dtype", DTYPES)
def test_pickle_round_trip(dtype):
    net = Network((3, 6, 4, 2), activation="relu", output_activation="logistic", dtype=dtype,
                  random_state=5)
    X = np.random.RandomState(1).randn(9, 3)
    # Train a little so the state is not just the seed's, and build a workspace.
    net.train_epoch(X, (X[:, :2] > 0).astype(float), fastnet.Adam(), batch_size=4)
    out = net.forward(X)
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.forward(X), out)
    np.testing.assert_array_equal(clone.params.flat, net.params.flat)
    assert clone.params.flat.dtype == np.dtype(dtype)
    assert (clone.activation, clone.output_activation, clone.loss) == (
        "relu", "logistic", "binary_log_loss")
    # The views were rebuilt on the clone's own buffer.
    assert not np.shares_memory(clone.params.flat, net.params.flat)
    for c, b in zip(clone.params.coefs, clone.params.intercepts):
        assert np.shares_memory(c, clone.params.flat) and np.shares_memory(b, clone.params.flat)
    clone.params.coefs[0][0, 0] = 123.0
    assert clone.params.flat[0] == 123.0
    # ...and the clone still trains.
    loss = clone.train_epoch(X, (X[:, :2] > 0).astype(float), fastnet.SGD(), batch_size=4)
    assert np.isfinite(loss)


# ------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(layer_units=(3, 1), activation="sigmoid"), ValueError, ["activation", "sigmoid"]),
    (dict(layer_units=(3, 1), activation="softmax"), ValueError, ["activation", "softmax"]),
    (dict(layer_units=(3, 1), output_activation="relu"), ValueError,
     ["output_activation", "relu"]),
    (dict(layer_units=(3, 1), output_activation="identity", loss="log_loss"), ValueError,
     ["log_loss", "identity"]),
    (dict(layer_units=(3, 2), output_activation="softmax", loss="squared_error"), ValueError,
     ["squared_error", "softmax"]),
    (dict(layer_units=(3, 1), output_activation="exp", loss="binary_log_loss"), ValueError,
     ["binary_log_loss", "exp"]),
    (dict(layer_units=(3, 0, 1)), ValueError, ["layer_units"]),
    (dict(layer_units=(0, 1)), ValueError, ["layer_units"]),
    (dict(layer_units=(3, -2, 1)), ValueError, ["layer_units"]),
    (dict(layer_units=(3,)), ValueError, ["layer_units"]),
    (dict(layer_units=(3, 1), dtype=int), TypeError, ["dtype"]),
    (dict(layer_units=(3, 1), dtype=np.int32), TypeError, ["dtype"]),
    (dict(layer_units=(3, 1), dtype=np.float16), TypeError, ["dtype"]),
], ids=["unknown-activation", "output-only-as-hidden", "hidden-only-as-output",
        "loss-identity", "loss-softmax", "loss-exp", "width0", "input0", "negative",
        "one-layer", "dtype-int", "dtype-int32", "dtype-float16"])
def test_bad_constructor_arguments(kwargs, exc, words):
    with pytest.raises(exc) as info:
        Network(**kwargs)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not named in: {message}"


def test_canonical_losses_are_accepted_explicitly():
    for output, loss in R.LOSS_OF_OUTPUT.items():
        net = Network((3, 2), output_activation=output, loss=loss, random_state=0)
        assert net.loss == loss
        assert Network((3, 2), output_activation=output, random_state=0).loss == loss
