"""fastnet's compiled kernels against the plain NumPy reference (tests/reference.py).

Every kernel gets fresh random inputs at several sizes (batch 1, 7, 64; widths
1..9; 0 to 3 hidden layers) in both float32 and float64.  float64 must agree
to ~1e-12 relative, float32 to ~1e-5.  Arguments are passed with the same
Numba types the Python layer passes (int64 codes and offsets, C-contiguous
arrays, scalars of the parameters' dtype), so the kernels compile once per
dtype for the whole test session.
"""

import inspect
import zlib

import numpy as np
import pytest
from numba import njit
from numba import types as nbtypes
from numba.core.registry import CPUDispatcher

import reference as R
from fastnet import SGD, Adam, Network
from fastnet._layout import Layout
from fastnet.kernels import activations as kact
from fastnet.kernels import dense as kdense
from fastnet.kernels import epoch as kepoch
from fastnet.kernels import losses as klosses
from fastnet.kernels import optimizers as kopt

DTYPES = [np.float64, np.float32]
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}

# (layer units, batch rows): depth 0..3, widths 1..9, batch 1 / 7 / 64.
CONFIGS = [
    ((3, 1), 1),
    ((4, 5, 2), 7),
    ((9, 1, 7, 3), 64),
    ((2, 8, 6, 9, 4), 7),
    ((5, 3, 4, 2, 1), 64),
    ((1, 9, 1), 1),
]
CONFIG_IDS = ["-".join(map(str, u)) + f"_n{n}" for u, n in CONFIGS]


def _rng(request):
    """A generator seeded from the test's id: fresh inputs per case, reproducible."""
    return np.random.RandomState(zlib.crc32(request.node.name.encode()))


def assert_close(actual, desired, dtype, scale=None, rtol=None):
    """Elementwise |a - d| <= rtol * |d| + rtol * scale, scale = max|d| by default.

    The absolute part absorbs the rounding of entries that are sums of
    cancelling terms; it is relative to the magnitude of the whole array.
    """
    actual = np.asarray(actual)
    desired = np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    if scale is None:
        scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * max(scale, 1e-30))


def _units_for(units, output):
    """Softmax/log-loss needs at least 2 classes (see test_gradients for 1)."""
    if output == "softmax" and units[-1] < 2:
        return tuple(units[:-1]) + (3,)
    return tuple(units)


def _targets(rng, output, n, k, dtype):
    """Targets valid for the canonical loss of ``output``."""
    if output == "identity":
        Y = rng.randn(n, k)
    elif output == "exp":
        Y = rng.poisson(1.5, size=(n, k)).astype(float)  # non-negative, many zeros
    elif output == "softmax":
        Y = np.eye(k)[rng.randint(0, k, n)]  # one-hot
    else:
        Y = (rng.rand(n, k) < 0.5).astype(float)  # 0/1 multilabel
    return np.ascontiguousarray(Y, dtype=dtype)


def _flat_params(rng, layout, dtype, scale=1.0):
    return (scale * rng.uniform(-1, 1, layout.n_params)).astype(dtype)


def _block_offsets(units, n):
    """Start of each layer's (n, units[i+1]) block in an activation workspace."""
    starts = np.concatenate([[0], np.cumsum(units[1:])[:-1]]) * n
    return [int(s) for s in starts]


# ---------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 9)])
@pytest.mark.parametrize("name", R.ALL_ACTIVATIONS)
def test_bias_activation_forward(request, dtype, shape, name):
    rng = _rng(request)
    Z = (3 * rng.randn(*shape)).astype(dtype)
    b = rng.randn(shape[1]).astype(dtype)
    expected = R.activation(Z + b, name)
    got = Z.copy()
    kact.bias_activation_forward(got, b, kact.CODES[name])
    assert got.dtype == np.dtype(dtype)
    assert_close(got, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_forward_exact_zeros_and_softmax_large_logits(dtype):
    """relu: negatives become exactly 0; softmax subtracts the row max (no overflow)."""
    Z = np.array([[-2.0, 0.0, 3.0], [5.0, -0.5, -7.0]], dtype=dtype)
    b = np.array([1.0, -1.0, 0.5], dtype=dtype)
    got = Z.copy()
    kact.bias_activation_forward(got, b, kact.RELU)
    np.testing.assert_array_equal(got, [[0.0, 0.0, 3.5], [6.0, 0.0, 0.0]])

    # exp(1000) overflows both dtypes: only a max-shifted softmax stays finite.
    Z = np.array([[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -1000.0]], dtype=dtype)
    b = np.zeros(3, dtype=dtype)
    got = Z.copy()
    kact.bias_activation_forward(got, b, kact.SOFTMAX)
    assert np.all(np.isfinite(got))
    assert_close(got, R.activation(Z, "softmax"), dtype)
    assert_close(got.sum(axis=1), np.ones(2), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 9)])
@pytest.mark.parametrize("name", R.HIDDEN_ACTIVATIONS)
def test_activation_backward(request, dtype, shape, name):
    rng = _rng(request)
    Z = (2 * rng.randn(*shape)).astype(dtype)
    if name == "relu":
        Z[rng.rand(*shape) < 0.3] = 0  # exact zeros: derivative taken as 0 there
    A = R.activation(Z, name)
    D = rng.randn(*shape).astype(dtype)
    expected = R.activation_derivative(A, D, name)
    got = D.copy()
    kact.activation_backward(A, got, kact.CODES[name])
    assert got.dtype == np.dtype(dtype)
    assert_close(got, expected, dtype)
    if name != "identity":
        # The derivative actually did something (guards a no-op kernel).
        assert not np.allclose(got, D) or shape == (1, 1)


# --------------------------------------------------------------------- losses
def _loss_inputs(rng, loss_name, n, k, dtype):
    """(out, Y) valid for the loss; probabilities include exact 0 and 1."""
    if loss_name == "squared_error":
        out = rng.randn(n, k)
        Y = rng.randn(n, k)
    elif loss_name == "poisson":
        out = np.exp(rng.randn(n, k))
        Y = rng.poisson(1.0, size=(n, k)).astype(float)
    elif loss_name == "log_loss":
        out = R.activation(2 * rng.randn(n, k), "softmax")
        Y = np.eye(k)[rng.randint(0, k, n)]
        # Saturated rows: a certain-and-right one and a certain-and-wrong one.
        out[0] = 0.0
        out[0, np.argmax(Y[0])] = 1.0
        if n > 1:
            out[1] = 0.0
            out[1, (np.argmax(Y[1]) + 1) % k] = 1.0
    else:
        out = R.activation(2 * rng.randn(n, k), "logistic")
        Y = (rng.rand(n, k) < 0.5).astype(float)
        out[0, 0] = 1.0 - Y[0, 0]  # certain and wrong: only clipping keeps it finite
        if n > 1:
            out[1, :] = Y[1, :]  # certain and right
    return (np.ascontiguousarray(out, dtype=dtype), np.ascontiguousarray(Y, dtype=dtype))


LOSS_SHAPES = [(1, 2), (7, 3), (64, 1), (64, 9)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LOSS_SHAPES, ids=[f"{n}x{k}" for n, k in LOSS_SHAPES])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss_name", list(klosses.CODES))
def test_loss_value_and_output_delta(request, dtype, shape, weighted, loss_name):
    n, k = shape
    if loss_name == "log_loss" and k < 2:
        k = 2  # softmax needs 2 classes; 1 column is covered in test_gradients
    rng = _rng(request)
    out, Y = _loss_inputs(rng, loss_name, n, k, dtype)
    if weighted:
        sw = rng.uniform(0.1, 3.0, n).astype(dtype)
        if n > 2:
            sw[2] = 0.0  # a zero weight is allowed
    else:
        sw = np.empty(0, dtype=dtype)  # what the Python layer passes
    col_sum = np.empty(k, dtype=dtype)
    code = klosses.CODES[loss_name]

    got = klosses.loss_value(code, out, Y, sw, weighted, col_sum)
    expected = R.loss(loss_name, Y, out, sw if weighted else None)
    assert np.isfinite(got)
    assert_close(got, expected, dtype)

    D = np.full((n, k), np.nan, dtype=dtype)
    klosses.output_delta(out, Y, sw, weighted, D)
    assert_close(D, R.output_delta(out, Y, sw if weighted else None), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", ["log_loss", "binary_log_loss"])
def test_log_losses_clip_to_eps(dtype, loss_name):
    """A certain-and-wrong prediction costs -log(eps), not inf; a certain-and-right one
    costs -log(1 - eps) (clipping on both sides, eps = finfo(dtype).eps)."""
    eps = np.finfo(dtype).eps
    if loss_name == "log_loss":  # row 0 certain and wrong, row 1 certain and right
        out = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
        Y = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    else:
        out = np.array([[0.0], [1.0]], dtype=dtype)
        Y = np.array([[1.0], [1.0]], dtype=dtype)
    expected = -(np.log(dtype(eps)) + np.log(dtype(1) - dtype(eps))) / 2
    col_sum = np.empty(out.shape[1], dtype=dtype)
    got = klosses.loss_value(klosses.CODES[loss_name], out, Y, np.empty(0, dtype=dtype),
                             False, col_sum)
    assert_close(got, expected, dtype)
    assert_close(got, R.loss(loss_name, Y, out), dtype)


# --------------------------------------------------------------------- dense
def _forward_kernel(flat, layout, X, hidden, output):
    n = X.shape[0]
    acts = np.full(n * layout.activation_size, np.nan, dtype=flat.dtype)
    out = kdense.dense_forward(flat, layout.units, layout.coef_offsets,
                               layout.intercept_offsets, X, acts,
                               kact.CODES[hidden], kact.CODES[output])
    return out, acts


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("output", R.OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("hidden", R.HIDDEN_ACTIVATIONS)
def test_dense_forward(request, dtype, config, output, hidden):
    units, n = config
    units = _units_for(units, output)
    rng = _rng(request)
    layout = Layout(units)
    flat = _flat_params(rng, layout, dtype)
    X = rng.randn(n, units[0]).astype(dtype)
    coefs, intercepts = R.unpack(flat, units)
    expected = R.forward(X, coefs, intercepts, hidden, output)

    out, acts = _forward_kernel(flat, layout, X, hidden, output)
    assert out.dtype == np.dtype(dtype) and out.shape == (n, units[-1])
    assert_close(out, expected[-1], dtype)
    # Every layer's block of the workspace holds that layer's activations.
    for i, start in enumerate(_block_offsets(units, n)):
        block = acts[start : start + n * units[i + 1]].reshape(n, units[i + 1])
        assert_close(block, expected[i + 1], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("hidden", R.HIDDEN_ACTIVATIONS)
def test_dense_backward(request, dtype, config, hidden):
    units, n = config
    rng = _rng(request)
    layout = Layout(units)
    flat = _flat_params(rng, layout, dtype)
    X = rng.randn(n, units[0]).astype(dtype)
    coefs, intercepts = R.unpack(flat, units)
    expected_acts = R.forward(X, coefs, intercepts, hidden, "identity")
    delta_out = rng.randn(n, units[-1]).astype(dtype)
    alpha = dtype(0.3)
    sw_sum = dtype(rng.uniform(0.5, 2.0) * n)

    _, acts = _forward_kernel(flat, layout, X, hidden, "identity")
    deltas = np.full_like(acts, np.nan)
    start = _block_offsets(units, n)[-1]
    deltas[start : start + n * units[-1]] = delta_out.ravel()
    grad = np.full_like(flat, np.nan)
    for finish in (True, False):
        kdense.dense_backward(flat, grad, layout.units, layout.coef_offsets,
                              layout.intercept_offsets, X, acts, deltas, kact.CODES[hidden],
                              alpha, sw_sum, finish)
        # finish=False leaves the raw sums: the gradient with alpha=0 and sw_sum=1.
        dW, db = R.backprop(expected_acts, coefs, delta_out, hidden,
                            alpha if finish else 0.0, sw_sum if finish else 1.0)
        assert grad.dtype == np.dtype(dtype)
        for i, (c, b) in enumerate(zip(*R.unpack(grad, units))):
            assert_close(c, dW[i], dtype, scale=np.abs(dW[i]).max() + np.abs(db[i]).max())
            assert_close(b, db[i], dtype, scale=np.abs(dW[i]).max() + np.abs(db[i]).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_penalty(request, dtype):
    rng = _rng(request)
    layout = Layout((4, 5, 3))
    flat = _flat_params(rng, layout, dtype)
    coefs, _ = R.unpack(flat, layout.units)
    got = kdense.l2_penalty(flat, layout.n_coef, dtype(0.7), dtype(6.5))
    assert_close(got, R.l2_term(coefs, 0.7, 6.5), dtype)


def _batch_kernel(flat, layout, X, Y, sw, hidden, output, alpha):
    n = X.shape[0]
    dtype = flat.dtype
    has_sw = sw is not None
    sw_arr = sw if has_sw else np.empty(0, dtype=dtype)
    acts = np.empty(n * layout.activation_size, dtype=dtype)
    deltas = np.empty_like(acts)
    col_sum = np.empty(layout.units[-1], dtype=dtype)
    grad = np.full_like(flat, np.nan)
    loss = kepoch.batch_loss_and_grad(
        flat, grad, layout.units, layout.coef_offsets, layout.intercept_offsets,
        layout.n_coef, X, Y, sw_arr, has_sw, acts, deltas, col_sum, kact.CODES[hidden],
        kact.CODES[output], klosses.CODES[R.LOSS_OF_OUTPUT[output]], dtype.type(alpha),
    )
    return loss, grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("output", R.OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_batch_loss_and_grad(request, dtype, config, output, weighted):
    units, n = config
    units = _units_for(units, output)
    rng = _rng(request)
    layout = Layout(units)
    X = rng.randn(n, units[0]).astype(dtype)
    Y = _targets(rng, output, n, units[-1], dtype)
    sw = rng.uniform(0.2, 3.0, n).astype(dtype) if weighted else None
    for hidden in R.HIDDEN_ACTIVATIONS:
        for alpha in (0.0, 0.45):
            flat = _flat_params(rng, layout, dtype)
            coefs, intercepts = R.unpack(flat, units)
            exp_loss, dW, db = R.loss_and_grad(X, Y, coefs, intercepts, hidden, output,
                                               alpha, sw)
            loss, grad = _batch_kernel(flat, layout, X, Y, sw, hidden, output, alpha)
            assert_close(loss, exp_loss, dtype)
            expected = R.pack(dW, db)
            assert_close(grad, expected, dtype)
            # The parameters are read, never written.
            np.testing.assert_array_equal(flat, R.pack(coefs, intercepts))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width", [1, 3, kdense.NARROW - 1, kdense.NARROW, 17])
def test_column_sums_add_rows_in_order(request, dtype, width):
    """Both loop shapes add the rows in order, bit for bit, so the narrow-layer path
    changes no result.  That is NumPy's axis-0 sum of a C-ordered array for two or
    more columns; one column is contiguous and NumPy sums it pairwise instead."""
    rng = _rng(request)
    D = (rng.randn(203, width) * 10 ** rng.uniform(-3, 3, (203, width))).astype(dtype)
    out = np.empty(width, dtype=dtype)
    kdense.column_sums(D, out)
    expected = np.zeros(width, dtype=dtype)
    for row in D:  # the order spelled out
        expected += row
    np.testing.assert_array_equal(out, expected)
    if width > 1:
        np.testing.assert_array_equal(out, D.sum(axis=0))


@pytest.mark.parametrize("code", sorted(klosses.CODES.values()))
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_value_narrow_and_wide_paths_agree(request, code, weighted):
    """The register-sum path for < NARROW outputs equals the row-by-row path."""
    rng = _rng(request)
    k = klosses.NARROW - 1
    out = rng.uniform(0.05, 0.95, (40, k))
    Y = (rng.rand(40, k) < 0.5).astype(float)
    if code == klosses.LOG_LOSS:
        out /= out.sum(axis=1, keepdims=True)
    sw = rng.uniform(0.5, 2, 40) if weighted else np.empty(0)
    narrow = klosses.loss_value(code, out, Y, sw, weighted, np.empty(k))
    # The same columns padded to NARROW with zero-loss columns take the wide path.
    pad = klosses.NARROW - k
    out_w = np.hstack([out, np.full((40, pad), 0.5 if code != klosses.POISSON else 1.0)])
    Y_w = np.hstack([Y, np.full((40, pad), 0.5 if code != klosses.POISSON else 1.0)])
    col_w = np.empty(klosses.NARROW)
    klosses.loss_value(code, out_w, Y_w, sw, weighted, col_w)
    col_n = np.empty(k)
    klosses.loss_value(code, out, Y, sw, weighted, col_n)
    np.testing.assert_array_equal(col_n, col_w[:k])
    assert np.isfinite(narrow)


# ----------------------------------------------------------------- optimizers
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 13, 200])
@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_step(request, dtype, size, nesterov):
    rng = _rng(request)
    lr, momentum = 0.05, 0.9
    params = rng.randn(size).astype(dtype)
    velocity = np.zeros(size, dtype=dtype)
    ref_params, ref_velocity = [params.copy()], [velocity.copy()]
    for _ in range(4):
        grad = rng.randn(size).astype(dtype)
        kopt.sgd_step(params, grad, velocity, 0, dtype(0), dtype(1), dtype(lr), dtype(momentum),
                      nesterov)
        R.sgd_step(ref_params, [grad], ref_velocity, lr, momentum, nesterov)
        assert params.dtype == np.dtype(dtype)
        assert_close(params, ref_params[0], dtype)
        assert_close(velocity, ref_velocity[0], dtype)


def test_sgd_nesterov_differs_from_plain_momentum():
    """The nesterov flag must change the update once the velocity is non-zero."""
    results = []
    for nesterov in (False, True):
        params = np.zeros(3)
        velocity = np.zeros(3)
        for _ in range(2):
            kopt.sgd_step(params, np.ones(3), velocity, 0, 0.0, 1.0, 0.1, 0.9, nesterov)
        results.append(params.copy())
    # plain: -0.1, then -0.1 - 0.19 = -0.29; nesterov: -0.19, then -0.19 - 0.271 = -0.461
    np.testing.assert_allclose(results[0], -0.29, rtol=1e-12)
    np.testing.assert_allclose(results[1], -0.461, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 13, 200])
def test_adam_step(request, dtype, size):
    rng = _rng(request)
    lr_init, beta_1, beta_2, epsilon = 0.01, 0.9, 0.999, 1e-8
    params = rng.randn(size).astype(dtype)
    m = np.zeros(size, dtype=dtype)
    v = np.zeros(size, dtype=dtype)
    ref_params = [params.copy()]
    ref = R.AdamState(ref_params, lr_init, beta_1, beta_2, epsilon)
    for t in range(1, 6):
        grad = rng.randn(size).astype(dtype)
        # The caller's part, as run_epoch does it: the bias-corrected rate in float64.
        lr = lr_init * np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
        kopt.adam_step(params, grad, m, v, 0, dtype(0), dtype(1), dtype(lr), dtype(beta_1),
                       dtype(1.0 - beta_1), dtype(beta_2), dtype(1.0 - beta_2), dtype(epsilon))
        ref.step(ref_params, [grad])
        assert params.dtype == np.dtype(dtype)
        assert_close(params, ref_params[0], dtype)
        assert_close(m, ref.ms[0], dtype)
        assert_close(v, ref.vs[0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_steps_finish_the_raw_gradient(request, dtype, optimizer):
    """The fused ``(raw + alpha * W) / sw_sum`` gives bit for bit the step on the
    gradient finished beforehand by NumPy, in the same dtype."""
    rng = _rng(request)
    size, n_coef = 17, 11
    alpha, sw_sum = dtype(0.3), dtype(7.5)
    raw = rng.randn(size).astype(dtype)
    params = rng.randn(size).astype(dtype)
    finished = raw / sw_sum
    finished[:n_coef] = (raw[:n_coef] + alpha * params[:n_coef]) / sw_sum
    fused_p, plain_p = params.copy(), params.copy()
    fused_s = [np.full(size, 0.2, dtype=dtype), np.full(size, 0.1, dtype=dtype)]
    plain_s = [a.copy() for a in fused_s]
    if optimizer == "sgd":
        hyper = (dtype(0.05), dtype(0.9), True)
        kopt.sgd_step(fused_p, raw, fused_s[0], n_coef, alpha, sw_sum, *hyper)
        kopt.sgd_step(plain_p, finished, plain_s[0], 0, dtype(0), dtype(1), *hyper)
    else:
        hyper = tuple(dtype(x) for x in (0.01, 0.9, 0.1, 0.999, 0.001, 1e-8))
        kopt.adam_step(fused_p, raw, *fused_s, n_coef, alpha, sw_sum, *hyper)
        kopt.adam_step(plain_p, finished, *plain_s, 0, dtype(0), dtype(1), *hyper)
    assert not np.array_equal(fused_p, params)
    np.testing.assert_array_equal(fused_p, plain_p)
    for a, b in zip(fused_s, plain_s):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------- epoch
def run_epoch_kernel(X, Y, sw, order, batch_size, flat, layout, hidden, output, alpha,
                     opt_code, state, hyper, t):
    """One epoch of kernels.epoch.run_epochs (no shuffle), workspaces for ``batch_size``.

    Returns ``(summed batch loss times batch length, t)``.
    """
    dtype = flat.dtype
    n_features, n_outputs = X.shape[1], Y.shape[1]
    has_sw = sw is not None
    losses = np.empty(1)
    no_key, no_pos = np.zeros(624, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    t = kepoch.run_epochs(
        1, False, no_key, no_pos, order,
        X, Y, sw if has_sw else np.empty(0, dtype=dtype), has_sw, batch_size, flat,
        np.empty_like(flat), layout.units, layout.coef_offsets, layout.intercept_offsets,
        layout.n_coef, kact.CODES[hidden], kact.CODES[output],
        klosses.CODES[R.LOSS_OF_OUTPUT[output]], dtype.type(alpha), opt_code, state, hyper, t,
        np.empty(batch_size * n_features, dtype=dtype),
        np.empty(batch_size * n_outputs, dtype=dtype), np.empty(batch_size, dtype=dtype),
        np.empty(batch_size * layout.activation_size, dtype=dtype),
        np.empty(batch_size * layout.activation_size, dtype=dtype),
        np.empty(n_outputs, dtype=dtype), losses,
    )
    return losses[0], t


EPOCH_NETS = [((5, 6, 4, 2), "tanh", "identity"), ((3, 7, 3), "relu", "softmax"),
              ((4, 2), "logistic", "logistic")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("net", EPOCH_NETS,
                         ids=["tanh-identity", "relu-softmax", "logistic-0hidden"])
@pytest.mark.parametrize("opt", ["sgd", "sgd-nesterov", "adam"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_run_epoch_equals_reference_loop(request, dtype, net, opt, weighted):
    units, hidden, output = net
    n, batch_size = 23, 5  # 4 full batches and one of 3
    rng = _rng(request)
    layout = Layout(units)
    X = rng.randn(n, units[0]).astype(dtype)
    Y = _targets(rng, output, n, units[-1], dtype)
    sw = rng.uniform(0.2, 3.0, n).astype(dtype) if weighted else None
    alpha = 0.01
    flat = _flat_params(rng, layout, dtype, scale=0.5)
    coefs, intercepts = R.unpack(flat, units)

    hyper = np.zeros(kepoch.N_HYPER)
    state = np.zeros((2, layout.n_params), dtype=dtype)
    if opt == "adam":
        hyper[[kepoch.H_LEARNING_RATE, kepoch.H_BETA_1, kepoch.H_BETA_2, kepoch.H_EPSILON]] = (
            0.01, 0.9, 0.999, 1e-8)
        opt_code = kepoch.ADAM
        ref_opt = R.AdamState(coefs + intercepts, 0.01, 0.9, 0.999, 1e-8)
    else:
        nesterov = opt == "sgd-nesterov"
        hyper[[kepoch.H_LEARNING_RATE, kepoch.H_MOMENTUM, kepoch.H_NESTEROV]] = (
            0.05, 0.9, float(nesterov))
        opt_code = kepoch.SGD
        ref_opt = R.SGDState(coefs + intercepts, 0.05, 0.9, nesterov)

    t = 0
    for epoch in range(2):  # a second epoch checks the state and t carry over
        order = rng.permutation(n).astype(np.int64)
        accumulated, t = run_epoch_kernel(X, Y, sw, order, batch_size, flat, layout, hidden,
                                          output, alpha, opt_code, state, hyper, t)
        expected = R.run_epoch(X, Y, coefs, intercepts, hidden, output, ref_opt, order,
                               batch_size, alpha, sw)
        assert flat.dtype == np.dtype(dtype)
        assert_close(flat, R.pack(coefs, intercepts), dtype)
        assert_close(accumulated, expected, dtype)
        if opt == "adam":
            assert t == 5 * (epoch + 1) == ref_opt.t
            assert_close(state[0], R.pack(ref_opt.ms[:len(coefs)], ref_opt.ms[len(coefs):]),
                         dtype)
            assert_close(state[1], R.pack(ref_opt.vs[:len(coefs)], ref_opt.vs[len(coefs):]),
                         dtype)
        else:
            assert t == 0
            vel = ref_opt.velocities
            assert_close(state[0], R.pack(vel[:len(coefs)], vel[len(coefs):]), dtype)


def test_run_epoch_order_matters(request):
    """Same data, two orders: different parameters (the kernel reads ``order``)."""
    rng = _rng(request)
    units = (3, 4, 1)
    layout = Layout(units)
    X = rng.randn(11, 3)
    Y = rng.randn(11, 1)
    flat0 = _flat_params(rng, layout, np.float64)
    hyper = np.zeros(kepoch.N_HYPER)
    hyper[kepoch.H_LEARNING_RATE] = 0.1
    results = []
    for order in (np.arange(11), np.arange(11)[::-1].copy()):
        flat = flat0.copy()
        state = np.zeros((2, layout.n_params))
        run_epoch_kernel(X, Y, None, order.astype(np.int64), 4, flat, layout, "tanh",
                         "identity", 0.0, kepoch.SGD, state, hyper, 0)
        results.append(flat)
    assert not np.allclose(results[0], results[1])


# --------------------------------------------------------------------- float32
def _dispatchers():
    found = {}
    for mod in (kact, klosses, kdense, kopt, kepoch):
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__:
                found[f"{mod.__name__}.{name}"] = obj
    return found


def _is_float32_signature(sig):
    return any(t == nbtypes.float32 or (isinstance(t, nbtypes.Array) and t.dtype == nbtypes.float32)
               for t in sig)


def _retype_float32_callers():
    """Re-type the body of every kernel that calls other kernels, for each of its
    float32 signatures, so that the signatures it calls its callees with are
    registered on the callees' dispatchers.

    Needed because a kernel loaded from Numba's on-disk cache does not touch its
    callees' dispatchers: their ``signatures`` would then miss the calls made
    from inside the fused kernels.  A fresh, uncached dispatcher over the same
    Python function is compiled (nothing runs); repeat until no new float32
    signature appears.
    """
    from fastnet.kernels._jit import _OPTIONS

    done = set()
    while True:
        todo = []
        for qualname, disp in _dispatchers().items():
            code = disp.py_func.__code__
            calls_kernels = any(isinstance(disp.py_func.__globals__.get(name), CPUDispatcher)
                                for name in code.co_names)
            if not calls_kernels:
                continue
            for sig in disp.signatures:
                if _is_float32_signature(sig) and (qualname, sig) not in done:
                    todo.append((qualname, disp, sig))
        if not todo:
            return
        for qualname, disp, sig in todo:
            njit(cache=False, **_OPTIONS)(disp.py_func).compile(sig)
            done.add((qualname, sig))


# Documented float64 inputs of a float32 call: run_epoch's hyperparameter vector
# (its learning-rate arithmetic is float64 by design, as scikit-learn's is).
# The float64 hyperparameter vector, and run_epochs' per-epoch loss output (float64 sums).
ALLOWED_FLOAT64_ARGS = {"run_epochs": {"hyper", "losses"}}
ALLOWED_FLOAT64_RETURN = set()


def test_float32_stays_float32(request):
    """Calling every kernel with float32 arrays compiles float32 work only.

    For each compiled signature that takes a float32 array or scalar, no other
    argument may be a float64 array or float64 scalar (apart from documented
    exceptions), and the return type must not be float64: a float64 constant
    leaking into float32 work shows up here as a float64 signature of an inner
    kernel or a float64 result.  Kernels that call kernels are re-typed first
    (see ``_retype_float32_callers``) so the check does not depend on Numba's
    on-disk cache.
    """
    dtype = np.float32
    rng = _rng(request)
    # Drive every kernel in float32, directly and through the fused ones.
    for units, hidden, output in EPOCH_NETS:
        layout = Layout(units)
        X = rng.randn(9, units[0]).astype(dtype)
        Y = _targets(rng, output, 9, units[-1], dtype)
        flat = _flat_params(rng, layout, dtype)
        for sw in (None, rng.uniform(0.5, 2, 9).astype(dtype)):
            loss, grad = _batch_kernel(flat, layout, X, Y, sw, hidden, output, 0.1)
            # (Numba boxes scalar results as Python floats: their compiled type is
            # checked below through the signatures' return types.)
            assert np.isfinite(loss) and grad.dtype == np.float32
            for opt_code in (kepoch.SGD, kepoch.ADAM):
                hyper = np.array([0.01, 0.9, 1.0, 0.9, 0.999, 1e-8])
                state = np.zeros((2, layout.n_params), dtype=dtype)
                acc, t = run_epoch_kernel(X, Y, sw, np.arange(9, dtype=np.int64), 4, flat,
                                          layout, hidden, output, 0.1, opt_code, state,
                                          hyper, 0)
                assert flat.dtype == np.float32 and state.dtype == np.float32
                assert np.all(np.isfinite(flat))
    # ...and through the public Network, as users call them.
    for output in R.OUTPUT_ACTIVATIONS:
        net = Network((3, 4, 2), activation="tanh", output_activation=output, dtype=dtype,
                      random_state=0)
        X = rng.randn(9, 3).astype(dtype)
        Y = _targets(rng, output, 9, 2, dtype)
        assert net.forward(X).dtype == np.float32
        assert net._forward_if_finite(X).dtype == np.float32
        loss, grad = net.loss_and_grad(X, Y, sample_weight=np.ones(9, dtype), alpha=0.1)
        assert grad.flat.dtype == np.float32 and np.isfinite(loss)
        for opt in (SGD(), Adam()):
            assert np.isfinite(net.train_epoch(X, Y, opt, batch_size=4, alpha=0.1))
            assert net.params.flat.dtype == np.float32 and opt.state.dtype == np.float32
    for name in R.ALL_ACTIVATIONS:
        Z = rng.randn(4, 3).astype(dtype)
        kact.bias_activation_forward(Z, rng.randn(3).astype(dtype), kact.CODES[name])
        assert Z.dtype == np.float32
    for name in R.HIDDEN_ACTIVATIONS:
        kact.activation_backward(Z, Z.copy(), kact.CODES[name])
    p = rng.randn(5).astype(dtype)
    kopt.sgd_step(p, p.copy(), np.zeros_like(p), 2, dtype(0.1), dtype(3), dtype(0.1), dtype(0.9),
                  True)
    kopt.adam_step(p, p.copy(), np.zeros_like(p), np.zeros_like(p), 2, *(dtype(x) for x in
                   (0.1, 3, 0.01, 0.9, 0.1, 0.999, 0.001, 1e-8)))
    assert p.dtype == np.float32

    _retype_float32_callers()

    checked = set()
    for qualname, disp in _dispatchers().items():
        short = qualname.rsplit(".", 1)[1]
        params = list(inspect.signature(disp.py_func).parameters)
        for sig in disp.signatures:
            floats = []
            for pname, ty in zip(params, sig):
                if isinstance(ty, nbtypes.Array) and isinstance(ty.dtype, nbtypes.Float):
                    floats.append((pname, ty.dtype, "array"))
                elif isinstance(ty, nbtypes.Float):
                    floats.append((pname, ty, "scalar"))
            if not _is_float32_signature(sig):
                continue  # a float64 (or int-only) signature
            checked.add(short)
            bad = [(p, str(t), kind) for p, t, kind in floats
                   if t == nbtypes.float64 and p not in ALLOWED_FLOAT64_ARGS.get(short, ())]
            assert not bad, f"{qualname}{sig}: float64 {bad} in a float32 call"
            ret = disp.overloads[sig].signature.return_type
            if short not in ALLOWED_FLOAT64_RETURN:
                assert "float64" not in str(ret), f"{qualname}{sig} returns {ret}"
    # The check must have seen the float32 compilation of every public kernel.
    expected = {"bias_activation_forward", "activation_backward", "loss_value", "output_delta",
                "dense_forward", "dense_backward", "l2_penalty", "batch_loss_and_grad",
                "run_epochs", "dense_forward_if_finite", "sgd_step", "adam_step"}
    assert expected <= checked, expected - checked
