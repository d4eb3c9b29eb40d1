"""Per-element math, written once: activations, derivatives, loss terms, optimizer updates.

Every function here is a plain Python function of scalars -- callable from
Python as it is (the tests call it on NumPy scalars) -- and registered with
:func:`._jit.elementwise`, which lets any Numba target compile it into its
callers: the CPU kernels (``@njit``) now, CUDA device code in the CUDA twin.
The array kernels loop; these say what happens to one element, so both
devices compute the same operations in the same order.

Constants are cast with :func:`._jit.like` to the dtype of the data, so that
float32 work stays float32.
"""

import numpy as np

from ._jit import elementwise, like
from .registry import (
    EXP, LOG_LOSS, LOGISTIC, POISSON, RELU, SQUARED_ERROR, TANH,
)

__all__ = ["activate", "derivative", "softmax_row", "xlogy", "loss_term", "sgd_update",
           "adam_update", "splitmix64", "dropout_stream", "dropout_keeps"]


@elementwise
def activate(code, z):
    """One pre-activation through an elementwise activation (everything but softmax).

    Parameters
    ----------
    code : int
        An activation code of ``registry`` (not SOFTMAX: it is row-wise).
    z : float

    Returns
    -------
    a : float of z's type
    """
    if code == LOGISTIC:
        return like(z, 1) / (like(z, 1) + np.exp(-z))
    if code == TANH:
        return np.tanh(z)
    if code == RELU:
        if z < like(z, 0):  # NaN stays NaN, as with np.maximum
            return like(z, 0)
        return z
    if code == EXP:
        return np.exp(z)
    return z


@elementwise
def softmax_row(values, start, k):
    """``values[start:start + k] = softmax(values[start:start + k])``, in place.

    The one row-wise activation, for the kernels that take a row at a time (the
    CUDA twins, one thread a row).  The CPU kernel
    (``activations.bias_activation_forward``) does the same operations in the same
    order -- row maximum subtracted, exp, the sum in index order, a division --
    but runs the exps of a whole block at once, as vectors (``vexp``).

    Parameters
    ----------
    values : ndarray of shape (>= start + k,)
        The row's pre-activations (bias added) from ``start``; overwritten.
    start, k : int
    """
    row_max = values[start]
    for j in range(k):
        if values[start + j] > row_max:
            row_max = values[start + j]
    total = like(row_max, 0)
    for j in range(k):
        e = np.exp(values[start + j] - row_max)
        values[start + j] = e
        total += e
    for j in range(k):
        values[start + j] /= total


@elementwise
def derivative(code, a, d):
    """``d * act'(z)``, the derivative written in terms of the output ``a``.

    As scikit-learn's ``DERIVATIVES``: logistic ``a (1 - a)``, tanh ``1 - a^2``,
    relu ``1[a != 0]``, identity 1.

    Parameters
    ----------
    code : int
        A hidden-layer activation code.
    a : float
        The layer's output.
    d : float
        dLoss/dA.

    Returns
    -------
    float
        dLoss/dZ.
    """
    if code == LOGISTIC:
        return d * a * (like(a, 1) - a)
    if code == TANH:
        return d * (like(a, 1) - a * a)
    if code == RELU:
        if a == like(a, 0):
            return like(d, 0)
    return d


@elementwise
def xlogy(x, y):
    """``x * log(y)`` with ``0 * log(0) = 0``, as ``scipy.special.xlogy``."""
    if x == 0:
        return like(y, 0) * x
    return x * np.log(y)


@elementwise
def loss_term(code, p, y, eps):
    """One element's unweighted loss term, before the per-column mean.

    Parameters
    ----------
    code : int
        A loss code of ``registry``.
    p, y : float
        Prediction (after the output activation) and target.
    eps : float
        ``finfo(dtype).eps``: the log-losses clip ``p`` to ``[eps, 1 - eps]``
        as scikit-learn does.

    Returns
    -------
    term : float
        Squared error ``(y - p)^2``; poisson ``y log(y / p) - y + p``; log-loss
        ``y log(q)`` (multiclass) or ``y log(q) + (1 - y) log(1 - q)`` (binary),
        not negated.
    """
    if code == SQUARED_ERROR:
        return (y - p) * (y - p)
    if code == POISSON:
        return xlogy(y, y / p) - y + p
    # np.clip(p, eps, 1 - eps), NaN kept (two comparisons: the builtins min and max
    # compiled a dispatcher each)
    q = p
    if q < eps:
        q = eps
    if q > like(p, 1) - eps:
        q = like(p, 1) - eps
    if code == LOG_LOSS:
        return xlogy(y, q)
    return xlogy(y, q) + xlogy(like(p, 1) - y, like(p, 1) - q)


@elementwise
def sgd_update(w, velocity, g, learning_rate, momentum, nesterov):
    """One parameter's SGD step with (Nesterov) momentum, as scikit-learn's.

    ``v = momentum * v - lr * g``; the update is ``v`` (plain momentum) or
    ``momentum * v - lr * g`` with the new ``v`` (Nesterov).

    Returns
    -------
    w, velocity : float
        The updated parameter and velocity.
    """
    v = momentum * velocity - learning_rate * g
    if nesterov:
        return w + (momentum * v - learning_rate * g), v
    return w + v, v


@elementwise
def adam_update(w, m, v, g, learning_rate, beta_1, one_minus_beta_1, beta_2,
                one_minus_beta_2, epsilon):
    """One parameter's Adam step, epsilon outside the bias correction (scikit-learn's).

    ``learning_rate`` is the step's bias-corrected rate; ``1 - beta`` come in
    precomputed (in float64, then cast, as scikit-learn's NumPy code does).

    Returns
    -------
    w, m, v : float
        The updated parameter and moments.
    """
    m = beta_1 * m + one_minus_beta_1 * g
    v = beta_2 * v + one_minus_beta_2 * (g * g)
    return w + (-learning_rate * m / (np.sqrt(v) + epsilon)), m, v


# ------------------------------------------------------------------- dropout
# SplitMix64 (Steele, Lea & Flood 2014): the increment and the output mix.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


@elementwise
def splitmix64(z):
    """SplitMix64's output function of a 64-bit word (a bijection that mixes every bit)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


@elementwise
def dropout_stream(seed, step, layer):
    """The key of one layer's masks at one training step (a batch).

    Counter-based: ``splitmix64(seed + gamma * (step * 64 + layer + 1))`` -- no
    state to carry, so any device computes any mask on its own.  Up to 64
    layers per step.

    Parameters
    ----------
    seed : uint64
    step : int
        Batches trained under this seed before this one.
    layer : int
        Index of the hidden layer (0 = the first).

    Returns
    -------
    key : uint64
    """
    counter = np.uint64(step) * np.uint64(64) + np.uint64(layer) + np.uint64(1)
    return splitmix64(seed + _GAMMA * counter)


@elementwise
def dropout_keeps(key, index, rate):
    """Whether unit ``index`` (row * width + unit) of a layer survives dropout ``rate``.

    ``u = (splitmix64(key + gamma * (index + 1)) >> 11) * 2**-53`` is uniform in
    [0, 1) with 53 bits; the unit is kept when ``u >= rate`` (probability
    ``1 - rate``).  The comparison is in float64 whatever the model's dtype, so
    float32 and float64 models draw the same masks.
    """
    h = splitmix64(key + _GAMMA * (np.uint64(index) + np.uint64(1)))
    u = np.float64(h >> np.uint64(11)) * 1.1102230246251565e-16  # 2**-53
    return u >= rate
