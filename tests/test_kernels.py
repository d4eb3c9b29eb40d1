"""fastnet's compiled kernels against the plain NumPy reference (tests/reference.py).

Every kernel gets fresh random inputs at several sizes (batch 1, 7, 64; widths
1..9; 0 to 3 hidden layers) in both float32 and float64.  float64 must agree
to ~1e-12 relative, float32 to ~1e-5.  Arguments are passed with the same
Numba types the Python layer passes (int64 codes and offsets, C-contiguous
arrays, scalars of the parameters' dtype), so the kernels compile once per
dtype for the whole test session.
"""

import collections
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
from fastnet.kernels import dropout as kdrop
from fastnet.kernels import epoch as kepoch
from fastnet.kernels import groups as kg
from fastnet.kernels import losses as klosses
from fastnet.kernels import optimizers as kopt
from fastnet.kernels import registry as kreg
from fastnet.kernels import scalar as kscalar

ACT = kreg.ACTIVATION_CODES
LOSS = kreg.LOSS_CODES

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
    kact.bias_activation_forward(got, b, ACT[name])
    assert got.dtype == np.dtype(dtype)
    assert_close(got, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_forward_exact_zeros_and_softmax_large_logits(dtype):
    """relu: negatives become exactly 0; softmax subtracts the row max (no overflow)."""
    Z = np.array([[-2.0, 0.0, 3.0], [5.0, -0.5, -7.0]], dtype=dtype)
    b = np.array([1.0, -1.0, 0.5], dtype=dtype)
    got = Z.copy()
    kact.bias_activation_forward(got, b, kreg.RELU)
    np.testing.assert_array_equal(got, [[0.0, 0.0, 3.5], [6.0, 0.0, 0.0]])

    # exp(1000) overflows both dtypes: only a max-shifted softmax stays finite.
    Z = np.array([[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -1000.0]], dtype=dtype)
    b = np.zeros(3, dtype=dtype)
    got = Z.copy()
    kact.bias_activation_forward(got, b, kreg.SOFTMAX)
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
    kact.activation_backward(A, got, ACT[name])
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
@pytest.mark.parametrize("loss_name", list(LOSS))
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
    code = LOSS[loss_name]

    got = klosses.loss_value(code, out, kg.Data(out, Y, sw, weighted), col_sum)
    expected = R.loss(loss_name, Y, out, sw if weighted else None)
    assert np.isfinite(got)
    assert_close(got, expected, dtype)

    D = np.full((n, k), np.nan, dtype=dtype)
    klosses.output_delta(out, kg.Data(out, Y, sw, weighted), D)
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
    got = klosses.loss_value(LOSS[loss_name], out,
                             kg.Data(out, Y, np.empty(0, dtype=dtype), False), col_sum)
    assert_close(got, expected, dtype)
    assert_close(got, R.loss(loss_name, Y, out), dtype)


# --------------------------------------------------------------------- dense
def _codes(hidden, output):
    # The AVX2 tile policy (tiles up to 128 x 128 weights), on every CPU: these networks'
    # layers take the tiles and BLAS; test_small runs each product both ways.
    return kg.Codes(ACT[hidden], ACT[output], LOSS[R.LOSS_OF_OUTPUT[output]], 128 * 128,
                    128 * 128, 0)


def _forward_kernel(flat, layout, X, hidden, output):
    n = X.shape[0]
    acts = np.full(n * layout.activation_size, np.nan, dtype=flat.dtype)
    out = kdense.dense_forward(flat, layout.group, _codes(hidden, output), X, acts,
                               kg.NO_DROPOUT)
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
        kdense.dense_backward(flat, grad, layout.group, _codes(hidden, "identity"), X, acts,
                              deltas, alpha, sw_sum, finish, kg.NO_DROPOUT)
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
    grad = np.full_like(flat, np.nan)
    work = _work(layout, n, X.shape[1], Y.shape[1], dtype)._replace(grad=grad)
    loss = kepoch.batch_loss_and_grad(flat, grad, layout.group, _codes(hidden, output),
                                      kg.Data(X, Y, sw_arr, has_sw), work, dtype.type(alpha),
                                      kg.NO_DROPOUT)
    return loss, grad


def _work(layout, rows, n_features, n_outputs, dtype):
    """Workspaces for ``rows`` rows, filled with NaN (a read before a write shows)."""
    def nan(size):
        return np.full(size, np.nan, dtype=dtype)
    return kg.Work(nan(rows * n_features), nan(rows * n_outputs), nan(rows),
                   nan(rows * layout.activation_size), nan(rows * layout.activation_size),
                   nan(n_outputs), nan(layout.n_params))


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
# Straddling every edge of the loop shapes: the column loop (< NARROW), float32's row loop
# (8 to 15), and the register groups of 1, 2 and 4 tiles' widths (8 float64 / 16 float32
# columns each) with an overlapping last group.
@pytest.mark.parametrize("width", [1, 3, kdense.NARROW - 1, kdense.NARROW, 15, 16, 17, 31, 33,
                                   63, 64, 65, 75, 130])
def test_column_sums_are_numpys_axis0_sum(request, dtype, width):
    """NumPy's axis-0 sum bit for bit, whichever loop shape runs: two or more columns
    add the rows in order (every loop shape does); one column is contiguous and
    NumPy sums it pairwise, and so does ``pairwise_column_sum``."""
    rng = _rng(request)
    D = (rng.randn(203, width) * 10 ** rng.uniform(-3, 3, (203, width))).astype(dtype)
    out = np.empty(width, dtype=dtype)
    kdense.column_sums(D, out)
    if width == 1:
        expected = np.array([dtype(0) + _numpy_pairwise_sum(D[:, 0])], dtype=dtype)
    else:
        expected = np.zeros(width, dtype=dtype)
        for row in D:  # the order spelled out
            expected += row
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out, D.sum(axis=0))


def _numpy_pairwise_sum(a):
    """NumPy's ``pairwise_sum`` (numpy/_core/src/umath/loops_utils.h.src), in Python."""
    t = a.dtype.type
    n = len(a)
    if n < 8:
        total = t(0)
        for x in a:
            total = t(total + x)
        return total
    if n <= 128:
        r = list(a[:8])
        whole = n - n % 8
        for i in range(8, whole, 8):
            r = [t(r[j] + a[i + j]) for j in range(8)]
        total = t(t(t(r[0] + r[1]) + t(r[2] + r[3])) + t(t(r[4] + r[5]) + t(r[6] + r[7])))
        for x in a[whole:]:
            total = t(total + x)
        return total
    half = n // 2
    half -= half % 8
    return t(_numpy_pairwise_sum(a[:half]) + _numpy_pairwise_sum(a[half:]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pairwise_column_sum_is_numpys_at_every_length(request, dtype):
    """Every branch of the walk: below 8, one block, the remainders after whole groups of
    8, one split (129-256 rows) and several levels (up to 5000 rows); a column of a
    wider matrix too."""
    rng = _rng(request)
    for n in [0, 1, 7, 8, 9, 15, 16, 127, 128, 129, 136, 255, 256, 257, 1000, 1031, 5000]:
        D = (rng.randn(n, 3) * 10 ** rng.uniform(-3, 3, (n, 3))).astype(dtype)
        got = kdense.pairwise_column_sum(D, 1, n)
        column = np.ascontiguousarray(D[:, 1])
        assert got == _numpy_pairwise_sum(column), n
        assert dtype(0) + got == np.sum(column), n


@pytest.mark.parametrize("code", sorted(LOSS.values()))
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_value_narrow_and_wide_paths_agree(request, code, weighted):
    """The register-sum path for < NARROW outputs equals the row-by-row path."""
    rng = _rng(request)
    k = klosses.NARROW - 1
    out = rng.uniform(0.05, 0.95, (40, k))
    Y = (rng.rand(40, k) < 0.5).astype(float)
    if code == kreg.LOG_LOSS:
        out /= out.sum(axis=1, keepdims=True)
    sw = rng.uniform(0.5, 2, 40) if weighted else np.empty(0)
    narrow = klosses.loss_value(code, out, kg.Data(out, Y, sw, weighted), np.empty(k))
    # The same columns padded to NARROW with zero-loss columns take the wide path.
    pad = klosses.NARROW - k
    out_w = np.hstack([out, np.full((40, pad), 0.5 if code != kreg.POISSON else 1.0)])
    Y_w = np.hstack([Y, np.full((40, pad), 0.5 if code != kreg.POISSON else 1.0)])
    col_w = np.empty(klosses.NARROW)
    klosses.loss_value(code, out_w, kg.Data(out_w, Y_w, sw, weighted), col_w)
    col_n = np.empty(k)
    klosses.loss_value(code, out, kg.Data(out, Y, sw, weighted), col_n)
    np.testing.assert_array_equal(col_n, col_w[:k])
    assert np.isfinite(narrow)


# ----------------------------------------------------------------- optimizers
def _opt(code, state, alpha=0.0, lr=0.0, momentum=0.0, nesterov=False, beta_1=0.0, beta_2=0.0,
         epsilon=0.0, t=0):
    """An ``Optimizer`` group; ``state`` (2, n) or a list of two (n,) arrays."""
    state = np.asarray(state) if not isinstance(state, np.ndarray) else state
    hyper = np.zeros(kg.N_HYPER)
    hyper[kg.H_LEARNING_RATE] = lr
    hyper[kg.H_MOMENTUM] = momentum
    hyper[kg.H_NESTEROV] = float(nesterov)
    hyper[kg.H_BETA_1] = beta_1
    hyper[kg.H_BETA_2] = beta_2
    hyper[kg.H_EPSILON] = epsilon
    return kg.Optimizer(code, state, hyper, state.dtype.type(alpha),
                        np.array([t], dtype=np.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 13, 200])
@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_step(request, dtype, size, nesterov):
    rng = _rng(request)
    lr, momentum = 0.05, 0.9
    params = rng.randn(size).astype(dtype)
    opt = _opt(kg.SGD, np.zeros((2, size), dtype=dtype), momentum=momentum, nesterov=nesterov)
    velocity = opt.state[0]
    ref_params, ref_velocity = [params.copy()], [velocity.copy()]
    for _ in range(4):
        grad = rng.randn(size).astype(dtype)
        kopt.sgd_step(params, grad, opt, 0, dtype(1), dtype(lr))
        R.sgd_step(ref_params, [grad], ref_velocity, lr, momentum, nesterov)
        assert params.dtype == np.dtype(dtype)
        assert_close(params, ref_params[0], dtype)
        assert_close(velocity, ref_velocity[0], dtype)


def test_sgd_nesterov_differs_from_plain_momentum():
    """The nesterov flag must change the update once the velocity is non-zero."""
    results = []
    for nesterov in (False, True):
        params = np.zeros(3)
        opt = _opt(kg.SGD, np.zeros((2, 3)), momentum=0.9, nesterov=nesterov)
        for _ in range(2):
            kopt.sgd_step(params, np.ones(3), opt, 0, 1.0, 0.1)
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
    opt = _opt(kg.ADAM, np.zeros((2, size), dtype=dtype), beta_1=beta_1, beta_2=beta_2,
               epsilon=epsilon)
    m, v = opt.state
    ref_params = [params.copy()]
    ref = R.AdamState(ref_params, lr_init, beta_1, beta_2, epsilon)
    for t in range(1, 6):
        grad = rng.randn(size).astype(dtype)
        # The caller's part, as run_epoch does it: the bias-corrected rate in float64.
        lr = lr_init * np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
        kopt.adam_step(params, grad, opt, 0, dtype(1), dtype(lr))
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
    fused_s = np.stack([np.full(size, 0.2, dtype=dtype), np.full(size, 0.1, dtype=dtype)])
    plain_s = fused_s.copy()
    if optimizer == "sgd":
        hyper = dict(momentum=0.9, nesterov=True)
        code, lr = kg.SGD, dtype(0.05)
    else:
        hyper = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8)
        code, lr = kg.ADAM, dtype(0.01)
    step = kopt.sgd_step if optimizer == "sgd" else kopt.adam_step
    step(fused_p, raw, _opt(code, fused_s, alpha, **hyper), n_coef, sw_sum, lr)
    step(plain_p, finished, _opt(code, plain_s, 0.0, **hyper), 0, dtype(1), lr)
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
    has_sw = sw is not None
    data = kg.Data(X, Y, sw if has_sw else np.empty(0, dtype=dtype), has_sw)
    opt = kg.Optimizer(opt_code, state, hyper, dtype.type(alpha), np.array([t]))
    plan = kg.plan(1, batch_size)
    n_done = kepoch.run_epochs(flat, layout.group, _codes(hidden, output), data,
                               _work(layout, batch_size, X.shape[1], Y.shape[1], dtype), opt,
                               kg.no_shuffle(order), plan, kg.NO_DROPOUT)
    assert n_done == 1
    return plan.losses[0], int(opt.step[0])


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

    hyper = np.zeros(kg.N_HYPER)
    state = np.zeros((2, layout.n_params), dtype=dtype)
    if opt == "adam":
        hyper[[kg.H_LEARNING_RATE, kg.H_BETA_1, kg.H_BETA_2, kg.H_EPSILON]] = (
            0.01, 0.9, 0.999, 1e-8)
        opt_code = kg.ADAM
        ref_opt = R.AdamState(coefs + intercepts, 0.01, 0.9, 0.999, 1e-8)
    else:
        nesterov = opt == "sgd-nesterov"
        hyper[[kg.H_LEARNING_RATE, kg.H_MOMENTUM, kg.H_NESTEROV]] = (
            0.05, 0.9, float(nesterov))
        opt_code = kg.SGD
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
    hyper = np.zeros(kg.N_HYPER)
    hyper[kg.H_LEARNING_RATE] = 0.1
    results = []
    for order in (np.arange(11), np.arange(11)[::-1].copy()):
        flat = flat0.copy()
        state = np.zeros((2, layout.n_params))
        run_epoch_kernel(X, Y, None, order.astype(np.int64), 4, flat, layout, "tanh",
                         "identity", 0.0, kg.SGD, state, hyper, 0)
        results.append(flat)
    assert not np.allclose(results[0], results[1])


# --------------------------------------------------------------------- float32
def _dispatchers():
    found = {}
    for mod in (kact, klosses, kdense, kopt, kepoch, kdrop):
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__:
                found[f"{mod.__name__}.{name}"] = obj
    return found


def _flat_types(name, ty):
    """``(path, type)`` of an argument, with every field of a typed group spelled out.

    The kernels take named tuples (``groups``); a float64 buffer leaking into a
    float32 call would hide inside one, so the check looks at each field
    (``opt.hyper``, ``work.acts``, ...).
    """
    if isinstance(ty, (nbtypes.NamedTuple, nbtypes.NamedUniTuple)):
        for field, field_ty in zip(ty.fields, ty.types):
            yield from _flat_types(f"{name}.{field}", field_ty)
    else:
        yield name, ty


def _is_float32_type(t):
    return t == nbtypes.float32 or (isinstance(t, nbtypes.Array) and t.dtype == nbtypes.float32)


def _is_float32_signature(sig):
    return any(_is_float32_type(t) for i, ty in enumerate(sig) for _, t in _flat_types(i, ty))


def _retype_float32_callers():
    """Re-type the body of every kernel that calls other kernels, for each of its
    float32 signatures, so that the signatures it calls its callees with are
    registered on the callees' dispatchers.

    Needed because a kernel loaded from Numba's on-disk cache does not touch its
    callees' dispatchers: their ``signatures`` would then miss the calls made
    from inside the fused kernels.  A fresh, uncached dispatcher over the same
    Python function is compiled (nothing runs); repeat until no new float32
    signature appears.  A fastnet ``Kernel`` is only *typed* (``Kernel.subroutine``: its
    callees are typed as it is, which registers their signatures; no LLVM, which made
    this test take a minute of a cold CI run); any other dispatcher is compiled afresh.
    """
    from fastnet.kernels._jit import _OPTIONS, Kernel

    done = set()
    while True:
        todo = []
        for qualname, disp in _dispatchers().items():
            code = disp.py_func.__code__
            calls_kernels = any(isinstance(disp.py_func.__globals__.get(name), CPUDispatcher)
                                for name in code.co_names)
            if not calls_kernels:
                continue
            for sig in [*disp.signatures, *getattr(disp, "subroutine_signatures", {})]:
                if _is_float32_signature(sig) and (qualname, sig) not in done:
                    todo.append((qualname, disp, sig))
        if not todo:
            return
        for qualname, disp, sig in todo:
            if isinstance(disp, Kernel):
                # A fresh Kernel over the same function: its own (empty) table of typed
                # signatures, so the body is typed again even where it was typed before.
                Kernel(py_func=disp.py_func, targetoptions=disp.targetoptions).subroutine(
                    tuple(sig))
            else:
                njit(cache=False, **_OPTIONS)(disp.py_func).compile(sig)
            done.add((qualname, sig))


# Helpers whose float64 result is documented: Adam's bias-corrected rate is computed in
# float64 and cast by its caller, as scikit-learn computes it.
FLOAT64_RESULTS = {"adam_learning_rate"}

# Documented float64 inputs of a float32 call: the optimizer's hyperparameter vector
# (its learning-rate arithmetic is float64 by design, as scikit-learn's is) and the
# plan's per-epoch loss sums (float64 accumulation).
# The dropout rates (and a rate passed on its own) are float64 by design: the masks compare
# a float64 uniform with them, so float32 and float64 models draw the same masks.
ALLOWED_FLOAT64_ARGS = {"opt.hyper", "plan.partial", "plan.losses", "drop.rates", "rate"}


def _float32_kernel_calls(rng, dtype):
    """Drive every kernel in float32, directly and through the fused ones."""
    for units, hidden, output in EPOCH_NETS:
        layout = Layout(units)
        X = rng.randn(9, units[0]).astype(dtype)
        Y = _targets(rng, output, 9, units[-1], dtype)
        flat = _flat_params(rng, layout, dtype)
        for sw in (None, rng.uniform(0.5, 2, 9).astype(dtype)):
            loss, grad = _batch_kernel(flat, layout, X, Y, sw, hidden, output, 0.1)
            # (Numba boxes scalar results as Python floats: their compiled type is
            # checked through the signatures' return types.)
            assert np.isfinite(loss) and grad.dtype == np.float32
            for opt_code in (kg.SGD, kg.ADAM):
                hyper = np.array([0.01, 0.9, 1.0, 0.9, 0.999, 1e-8])
                state = np.zeros((2, layout.n_params), dtype=dtype)
                run_epoch_kernel(X, Y, sw, np.arange(9, dtype=np.int64), 4, flat, layout,
                                 hidden, output, 0.1, opt_code, state, hyper, 0)
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
        # ...and with dropout, through the epoch kernel and a fixed-mask gradient.
        net = Network((3, 4, 2), activation="tanh", output_activation=output, dtype=dtype,
                      random_state=0, dropout=0.5)
        assert np.isfinite(net.train_epoch(X, Y, Adam(), batch_size=4, alpha=0.1))
        loss, grad = net.loss_and_grad(X, Y, alpha=0.1, dropout_step=3)
        assert grad.flat.dtype == np.float32 and np.isfinite(loss)
    for name in R.ALL_ACTIVATIONS:
        Z = rng.randn(4, 3).astype(dtype)
        kact.bias_activation_forward(Z, rng.randn(3).astype(dtype), ACT[name])
        assert Z.dtype == np.float32
    for name in R.HIDDEN_ACTIVATIONS:
        kact.activation_backward(Z, Z.copy(), ACT[name])
    p = rng.randn(5).astype(dtype)
    for code, step in ((kg.SGD, kopt.sgd_step), (kg.ADAM, kopt.adam_step)):
        opt = _opt(code, np.zeros((2, 5), dtype=dtype), alpha=0.1, momentum=0.9, nesterov=True,
                   beta_1=0.9, beta_2=0.999, epsilon=1e-8)
        step(p, p.copy(), opt, 2, dtype(3), dtype(0.01))
    assert p.dtype == np.float32


def test_float32_stays_float32(request):
    """Calling every kernel with float32 arrays compiles float32 work only.

    For each compiled signature that takes a float32 array or scalar -- looking
    inside the typed argument groups field by field -- no other argument may be
    a float64 array or float64 scalar (apart from documented exceptions), and
    the return type must not be float64: a float64 constant leaking into
    float32 work shows up here as a float64 signature of an inner kernel or a
    float64 result.  Kernels that call kernels are re-typed first (see
    ``_retype_float32_callers``) so the check does not depend on Numba's
    on-disk cache.
    """
    _float32_kernel_calls(_rng(request), np.float32)
    _retype_float32_callers()

    checked = set()
    for qualname, disp in _dispatchers().items():
        short = qualname.rsplit(".", 1)[1]
        params = list(inspect.signature(disp.py_func).parameters)
        # Called from Python: the dispatcher's overloads; called from another kernel: the
        # signatures it was typed with as a subroutine (kernels._jit.Kernel).
        returns = {sig: disp.overloads[sig].signature.return_type for sig in disp.signatures}
        returns.update(getattr(disp, "subroutine_signatures", {}))
        for sig, ret in returns.items():
            if not _is_float32_signature(sig):
                continue  # a float64 (or int-only) signature
            checked.add(short)
            fields = [item for pname, ty in zip(params, sig) for item in _flat_types(pname, ty)]
            bad = [(path, str(t)) for path, t in fields
                   if (t == nbtypes.float64 or (isinstance(t, nbtypes.Array)
                                                and t.dtype == nbtypes.float64))
                   and path not in ALLOWED_FLOAT64_ARGS]
            assert not bad, f"{qualname}{sig}: float64 {bad} in a float32 call"
            if short not in FLOAT64_RESULTS:
                assert "float64" not in str(ret), f"{qualname}{sig} returns {ret}"
    # The check must have seen the float32 compilation of every public kernel.
    expected = {"bias_activation_forward", "activation_backward", "loss_value", "output_delta",
                "dense_forward", "dense_backward", "l2_penalty", "batch_loss_and_grad",
                "run_epochs", "dense_forward_if_finite", "sgd_step", "adam_step",
                "dropout_forward", "dropout_backward"}
    assert expected <= checked, expected - checked


_PAIR = collections.namedtuple("Pair", ["a", "b"])


def test_float32_leak_check_sees_inside_groups():
    """The check above looks into named tuples: a float64 field of a group is found."""
    group = nbtypes.NamedTuple((nbtypes.Array(nbtypes.float64, 1, "C"), nbtypes.float32),
                               _PAIR)
    paths = dict(_flat_types("g", group))
    assert set(paths) == {"g.a", "g.b"} and paths["g.a"].dtype == nbtypes.float64
    assert _is_float32_signature((nbtypes.int64, group))
    assert not _is_float32_signature((nbtypes.int64, nbtypes.Array(nbtypes.float64, 1, "C")))


SCALAR_ARGS = {
    # name: the argument kinds of one call (f: float of the dtype, i: int code, b: bool)
    "activate": "if", "derivative": "iff", "xlogy": "ff", "loss_term": "ifff",
    "sgd_update": "fffffb", "adam_update": "ffffffffff",
}


@pytest.mark.parametrize("name", sorted(SCALAR_ARGS))
def test_scalar_math_stays_float32(name):
    """Each elementwise function, compiled on float32 scalars, returns float32 only.

    The elementwise functions are inlined into the kernels, so their types never
    show on a dispatcher: each is compiled here on its own.  The code is a
    run-time value, so one compilation types every branch.
    """
    kinds = SCALAR_ARGS[name]
    names = ", ".join(f"a{i}" for i in range(len(kinds)))
    namespace = {"func": getattr(kscalar, name)}
    exec(f"def call({names}):\n    return func({names})", namespace)  # fixed arity for Numba
    wrapper = njit(namespace["call"])
    args = [np.int64(1) if k == "i" else True if k == "b" else np.float32(0.5) for k in kinds]
    wrapper(*args)
    (sig,) = wrapper.signatures
    ret = str(wrapper.overloads[sig].signature.return_type)
    assert "float64" not in ret and "float32" in ret, f"{name}{sig} returns {ret}"


# ------------------------------------------------------------- partial epochs
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("budget", [1, 2, 4, 5, 7])
def test_epochs_split_into_batch_budgets_equal_one_call(request, dtype, budget):
    """A run of epochs trained in calls of ``budget`` batches -- stopping inside epochs
    and resuming there -- is bit for bit the run trained in one call: parameters,
    Adam state and step count, per-epoch losses, the shuffled order and the MT19937
    state (each epoch's shuffle is drawn once, when the epoch starts)."""
    rng = _rng(request)
    units, hidden, output = (4, 6, 2), "tanh", "identity"
    layout = Layout(units)
    n, batch_size, n_epochs = 23, 5, 3  # 5 batches per epoch, the last of 3 rows
    X = rng.randn(n, units[0]).astype(dtype)
    Y = _targets(rng, output, n, units[-1], dtype)
    data = kg.Data(X, Y, rng.uniform(0.5, 2, n).astype(dtype), True)
    flat0 = _flat_params(rng, layout, dtype, scale=0.5)
    seeded = np.random.RandomState(7).get_state(legacy=False)["state"]

    def fresh():
        opt = _opt(kg.ADAM, np.zeros((2, layout.n_params), dtype=dtype), alpha=0.01, lr=0.01,
                   beta_1=0.9, beta_2=0.999, epsilon=1e-8)
        shuf = kg.Shuffle(True, np.arange(n, dtype=np.int64),
                          np.array(seeded["key"], dtype=np.uint32),
                          np.array([seeded["pos"]], dtype=np.int64))
        return flat0.copy(), opt, shuf

    flat_a, opt_a, shuf_a = fresh()
    plan_a = kg.plan(n_epochs, batch_size)
    work = _work(layout, batch_size, units[0], units[-1], dtype)
    assert kepoch.run_epochs(flat_a, layout.group, _codes(hidden, output), data, work, opt_a,
                             shuf_a, plan_a, kg.NO_DROPOUT) == n_epochs

    flat_b, opt_b, shuf_b = fresh()
    cursor, partial = np.zeros(1, dtype=np.int64), np.zeros(1)
    losses, calls = [], 0
    while len(losses) < n_epochs:
        plan = kg.plan(n_epochs - len(losses), batch_size, budget, cursor, partial)
        done = kepoch.run_epochs(flat_b, layout.group, _codes(hidden, output), data, work,
                                 opt_b, shuf_b, plan, kg.NO_DROPOUT)
        losses.extend(plan.losses[:done])
        calls += 1
        assert done <= -(-budget // 5) + 1  # never more epochs than the batches allow
    assert calls == -(-n_epochs * 5 // budget)  # every call used its whole budget but the last
    np.testing.assert_array_equal(flat_b, flat_a)
    np.testing.assert_array_equal(opt_b.state, opt_a.state)
    assert opt_b.step[0] == opt_a.step[0] == n_epochs * 5
    np.testing.assert_array_equal(losses, plan_a.losses)
    np.testing.assert_array_equal(shuf_b.order, shuf_a.order)
    np.testing.assert_array_equal(shuf_b.key, shuf_a.key)
    assert shuf_b.pos[0] == shuf_a.pos[0]
    assert cursor[0] == 0


_GatherWork = collections.namedtuple("_GatherWork", "x y sw")


@njit
def _gather_batch(data, order, start, n, work):
    return kepoch._gather(data, order, start, n, work)


@pytest.mark.parametrize("dtype", DTYPES)
# Widths below a chunk (element loop), one chunk, whole chunks, and chunks with an
# overlapping last one; 1-wide targets (their own copy) and wider ones.
@pytest.mark.parametrize("n_features", [1, 3, 4, 5, 8, 10, 13])
@pytest.mark.parametrize("n_outputs", [1, 2, 6])
def test_gather_copies_the_ordered_rows(request, dtype, n_features, n_outputs):
    rng = _rng(request)
    n_samples, start, n = 57, 11, 23
    X = rng.randn(n_samples, n_features).astype(dtype)
    Y = rng.randn(n_samples, n_outputs).astype(dtype)
    sw = rng.uniform(0.5, 2.0, n_samples).astype(dtype)
    order = rng.permutation(n_samples).astype(np.int64)
    size = 40  # workspaces longer than the batch, filled with NaN to show stray writes
    work = _GatherWork(np.full(size * n_features, np.nan, dtype),
                       np.full(size * n_outputs, np.nan, dtype), np.full(size, np.nan, dtype))
    rows = order[start:start + n]
    for has_sw in (False, True):
        batch = _gather_batch(kg.Data(X, Y, sw, has_sw), order, start, n, work)
        np.testing.assert_array_equal(batch.X, X[rows])
        np.testing.assert_array_equal(batch.Y, Y[rows])
        assert batch.has_sw == has_sw
        if has_sw:
            np.testing.assert_array_equal(batch.sw, sw[rows])
        # The batch is the workspaces' first n rows; nothing after them is touched.
        assert np.isnan(work.x[n * n_features:]).all() and np.isnan(work.y[n * n_outputs:]).all()
