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

__all__ = ["activate", "derivative", "xlogy", "loss_term", "sgd_update", "adam_update"]


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
    q = min(max(p, eps), like(p, 1) - eps)
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
