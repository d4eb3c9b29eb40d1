"""``Network.loss_and_grad`` against centred finite differences of its own loss.

float64 throughout, step h = 1e-6.  A centred difference has truncation error
O(h^2) ~ 1e-12 and rounding error ~ eps * |loss| / h ~ 1e-10, both far below the
1e-6 relative tolerance, so a gradient that is right passes and one that is off
by a factor, a sign, a missing term (L2, sample weights, an activation
derivative) or a transposed layer fails.

Checked for every hidden activation, depths 0 to 3, with and without ``alpha``
and ``sample_weight``, and for every (output activation, loss) pair the
Network supports, with targets valid for that loss.
"""

import zlib

import numpy as np
import pytest

import reference as R
from fastnet import Network

H = 1e-6
RTOL_FD = 1e-6
# Rounding error of a centred difference: the loss is computed to a few ulps,
# so (L(+h) - L(-h)) / 2h is off by ~ c * eps * |L| / h; c measured <= 4 on
# these problems (|error| <= 1e-9 for |L| ~ 1).  FD_NOISE_ULPS keeps a margin.
FD_NOISE_ULPS = 16
# An entry is "not tiny" when its magnitude is at least this multiple of
# max(1, |L|): there the rounding error is below 0.5e-6 relative, so the
# strict elementwise rtol applies with no absolute slack.
NOT_TINY = 2e-3
# ReLU's kink: hidden pre-activations must stay this far from 0 (see below).
RELU_MARGIN = 1e-3

HIDDEN_SIZES = [(), (5,), (4, 3), (3, 4, 2)]  # depths 0..3
N_IN = 3
N_SAMPLES = 8
OUTPUTS = list(R.LOSS_OF_OUTPUT)  # identity, exp, softmax, logistic


def _rng(request):
    return np.random.RandomState(zlib.crc32(request.node.name.encode()))


def _targets(rng, output, n, k):
    if output == "identity":
        return rng.randn(n, k)
    if output == "exp":
        return rng.poisson(1.5, size=(n, k)).astype(float)  # counts, zeros included
    if output == "softmax":
        return np.eye(k)[rng.randint(0, k, n)]  # one-hot
    return (rng.rand(n, k) < 0.5).astype(float)  # 0/1 multilabel


def _n_out(output):
    # squared_error uses ONE output here: with k > 1 outputs scikit-learn's loss
    # averages over outputs but its gradient does not (the gradient is k times
    # the loss's), see test_multioutput_squared_error_gradient_is_its_loss_gradient.
    return {"softmax": 3, "identity": 1}.get(output, 2)


def finite_difference_grad(net, X, y, sample_weight, alpha):
    """Centred differences of ``net``'s loss, one parameter at a time."""
    flat = net.params.flat
    g = np.empty_like(flat)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + H
        plus, _ = net.loss_and_grad(X, y, sample_weight=sample_weight, alpha=alpha)
        flat[k] = old - H
        minus, _ = net.loss_and_grad(X, y, sample_weight=sample_weight, alpha=alpha)
        flat[k] = old
        g[k] = (plus - minus) / (2 * H)
    return g


def assert_matches_fd(g, g_fd, loss):
    """Norm-relative agreement, elementwise agreement up to the FD rounding floor,
    and strict elementwise rtol on the entries that are not tiny."""
    norm_fd = np.linalg.norm(g_fd)
    assert norm_fd > 0, "degenerate case: the loss does not depend on the parameters"
    err = np.linalg.norm(g - g_fd)
    assert err <= RTOL_FD * max(norm_fd, 1e-300), (
        f"||g - g_fd|| = {err:.3e}, ||g_fd|| = {norm_fd:.3e}"
    )
    scale = max(1.0, abs(loss))
    noise = FD_NOISE_ULPS * np.finfo(np.float64).eps * scale / H
    np.testing.assert_allclose(g, g_fd, rtol=RTOL_FD, atol=noise)
    big = np.abs(g_fd) >= NOT_TINY * scale
    assert big.any(), "no informative entry"
    np.testing.assert_allclose(g[big], g_fd[big], rtol=RTOL_FD, atol=0)


def _relu_safe_inputs(rng, net, n):
    """Inputs whose hidden pre-activations all satisfy |z| >= RELU_MARGIN.

    Why: relu is not differentiable at 0.  The analytic gradient uses the
    derivative from outputs (0 where a == 0, i.e. z <= 0), while a centred
    difference whose +-h perturbation moves some z across 0 measures the
    average of the two one-sided slopes.  The perturbation of one parameter
    moves a pre-activation by about h * |input| ~ 1e-5 at most here, so a
    margin of 1e-3 keeps every z on one side of the kink and the loss smooth
    around the point.
    """
    for _ in range(200):
        X = rng.randn(n, net.n_features)
        _, pre = R.forward(X, net.params.coefs, net.params.intercepts, "relu",
                           net.output_activation, return_pre=True)
        hidden_pre = pre[:-1]
        if all(np.abs(Z).min() >= RELU_MARGIN for Z in hidden_pre):
            # Also some units must be inactive, or relu would be tested as identity.
            if not hidden_pre or any((Z < 0).any() for Z in hidden_pre):
                return X
    raise AssertionError("could not draw inputs away from relu's kink")


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden_sizes", HIDDEN_SIZES, ids=lambda s: f"depth{len(s)}")
@pytest.mark.parametrize("activation", R.HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("alpha", [0.0, 0.3], ids=["alpha0", "alpha0.3"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gradient_matches_finite_differences(request, output, hidden_sizes, activation, alpha,
                                             weighted):
    rng = _rng(request)
    n_out = _n_out(output)
    units = [N_IN, *hidden_sizes, n_out]
    net = Network(units, activation=activation, output_activation=output,
                  random_state=zlib.crc32(request.node.name.encode()) % 1000)
    if activation == "relu":
        X = _relu_safe_inputs(rng, net, N_SAMPLES)
    else:
        X = rng.randn(N_SAMPLES, N_IN)
    y = _targets(rng, output, N_SAMPLES, n_out)
    sw = rng.uniform(0.2, 3.0, N_SAMPLES) if weighted else None
    before = net.params.flat.copy()

    loss, grad = net.loss_and_grad(X, y, sample_weight=sw, alpha=alpha)
    np.testing.assert_array_equal(net.params.flat, before)  # parameters only read
    g_fd = finite_difference_grad(net, X, y, sw, alpha)
    np.testing.assert_array_equal(net.params.flat, before)
    assert_matches_fd(grad.flat, g_fd, loss)

    # The loss is scikit-learn's (data term + per-batch L2), the gradient sklearn's backprop.
    exp_loss, dW, db = R.loss_and_grad(X, y, net.params.coefs, net.params.intercepts,
                                       activation, output, alpha, sw)
    assert loss == pytest.approx(float(exp_loss), rel=1e-12, abs=1e-15)
    expected = R.pack(dW, db)
    np.testing.assert_allclose(grad.flat, expected, rtol=1e-12,
                               atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("output", OUTPUTS)
def test_grad_views_share_the_flat_buffer(request, output):
    rng = _rng(request)
    n_out = _n_out(output)
    units = [N_IN, 4, 3, n_out]
    net = Network(units, activation="tanh", output_activation=output, random_state=0)
    X = rng.randn(N_SAMPLES, N_IN)
    y = _targets(rng, output, N_SAMPLES, n_out)
    _, grad = net.loss_and_grad(X, y)

    assert grad.flat.shape == net.params.flat.shape
    assert grad.flat.dtype == np.float64
    assert len(grad.coefs) == len(grad.intercepts) == len(units) - 1
    ref_coefs, ref_intercepts = R.unpack(grad.flat, units)
    for gc, gb, pc, pb, rc, rb in zip(grad.coefs, grad.intercepts, net.params.coefs,
                                      net.params.intercepts, ref_coefs, ref_intercepts):
        assert gc.shape == pc.shape and gb.shape == pb.shape
        assert np.shares_memory(gc, grad.flat) and np.shares_memory(gb, grad.flat)
        assert not np.shares_memory(gc, net.params.flat)
        # At sklearn's _pack offsets: weights first, then intercepts.
        np.testing.assert_array_equal(gc, rc)
        np.testing.assert_array_equal(gb, rb)
    # Writing through flat is visible in the views (they are views, not copies).
    grad.flat[:] = np.arange(grad.flat.size)
    assert grad.coefs[0][0, 0] == 0 and grad.coefs[0][0, 1] == 1
    assert grad.intercepts[-1][-1] == grad.flat.size - 1


def test_softmax_with_one_output_is_consistent_or_rejected(request):
    """A one-column softmax is constant (always 1): its loss cannot depend on the
    weights, so either the Network refuses it, or its gradient is the gradient of
    its loss (zero, by finite differences) and its loss is scikit-learn's
    ``log_loss`` (which treats one column as the positive-class probability)."""
    rng = _rng(request)
    try:
        net = Network([N_IN, 4, 1], activation="tanh", output_activation="softmax",
                      random_state=0)
    except ValueError:
        return  # rejected up front: consistent
    X = rng.randn(N_SAMPLES, N_IN)
    y = (rng.rand(N_SAMPLES) < 0.5).astype(float)
    loss, grad = net.loss_and_grad(X, y)
    g_fd = finite_difference_grad(net, X, y, None, 0.0)
    np.testing.assert_allclose(grad.flat, g_fd, atol=1e-6,
                               err_msg="gradient is not the derivative of the loss")
    exp_loss, _, _ = R.loss_and_grad(X, y[:, None], net.params.coefs, net.params.intercepts,
                                     "tanh", "softmax")
    assert loss == pytest.approx(float(exp_loss), rel=1e-12)


@pytest.mark.parametrize("n_out", [2, 3])
def test_multioutput_squared_error_gradient_is_sklearns(request, n_out):
    """identity/squared_error with several outputs: scikit-learn's convention.

    The loss is scikit-learn's ``squared_loss`` = 0.5 * mean over outputs of the
    (weighted) mean over samples, but scikit-learn's ``_backprop`` gradient is
    ``delta = out - y`` divided by sw_sum only: n_out times the derivative of that
    loss (scikit-learn issue #8349).  fastnet keeps that gradient, as documented in
    ``Network.loss_and_grad``, so training stays weight-for-weight identical to
    scikit-learn's; here we pin the factor exactly (alpha=0, so it applies to
    every entry).
    """
    rng = _rng(request)
    net = Network([N_IN, 4, n_out], activation="tanh", output_activation="identity",
                  random_state=1)
    X = rng.randn(N_SAMPLES, N_IN)
    y = rng.randn(N_SAMPLES, n_out)
    loss, grad = net.loss_and_grad(X, y)
    g_fd = finite_difference_grad(net, X, y, None, 0.0)
    assert_matches_fd(grad.flat / n_out, g_fd, loss)
