"""Activation functions and their derivatives, chosen by an int code.

Every function works in place on a C-contiguous 2-D array ``Z`` of shape
(batch, units).  Derivatives are computed from the layer *outputs*, exactly as
scikit-learn's ``DERIVATIVES`` do (logistic: a(1-a), tanh: 1-a^2, relu: a != 0),
so the backward pass needs no stored pre-activations.
"""

import numpy as np

from ._jit import jit, like

IDENTITY = 0
LOGISTIC = 1
TANH = 2
RELU = 3
EXP = 4  # output only: poisson regression
SOFTMAX = 5  # output only: multiclass classification

CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "exp": EXP,
    "softmax": SOFTMAX,
}
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


@jit
def bias_activation_forward(Z, b, code):
    """Add the bias and apply the activation, in one pass over ``Z``.

    Parameters
    ----------
    Z : ndarray of shape (batch, units)
        The product ``A_prev @ W``; overwritten with ``act(Z + b)``.
    b : ndarray of shape (units,)
        The layer's intercepts.
    code : int
        One of the activation codes of this module.
    """
    n, k = Z.shape
    one = like(Z, 1)
    zero = like(Z, 0)
    if code == SOFTMAX:
        for i in range(n):
            row_max = Z[i, 0] + b[0]
            for j in range(k):
                z = Z[i, j] + b[j]
                Z[i, j] = z
                if z > row_max:
                    row_max = z
            total = zero
            for j in range(k):
                e = np.exp(Z[i, j] - row_max)
                Z[i, j] = e
                total += e
            for j in range(k):
                Z[i, j] /= total
        return
    if k == 1:
        # A 1-wide layer (single-output regression): one flat, vectorizable loop.
        flat = Z.reshape(n)
        for i in range(n):
            flat[i] = _activate(flat[i] + b[0], code, one, zero)
        return
    for i in range(n):
        for j in range(k):
            Z[i, j] = _activate(Z[i, j] + b[j], code, one, zero)


@jit(inline=True)
def _activate(z, code, one, zero):
    """One pre-activation through an elementwise activation (not softmax)."""
    if code == LOGISTIC:
        return one / (one + np.exp(-z))
    if code == TANH:
        return np.tanh(z)
    if code == RELU:
        if z < zero:  # NaN stays NaN, as with np.maximum
            return zero
        return z
    if code == EXP:
        return np.exp(z)
    return z


@jit
def activation_backward(A, D, code):
    """Multiply the back-propagated error by the activation's derivative.

    Parameters
    ----------
    A : ndarray of shape (batch, units)
        The layer's outputs from the forward pass.
    D : ndarray of shape (batch, units)
        dLoss/dA on entry, dLoss/dZ on exit (in place).
    code : int
        A hidden-layer activation code (identity, logistic, tanh, relu).
    """
    if code == IDENTITY:
        return
    n, k = D.shape
    one = like(D, 1)
    zero = like(D, 0)
    for i in range(n):
        for j in range(k):
            a = A[i, j]
            if code == LOGISTIC:
                D[i, j] = D[i, j] * a * (one - a)
            elif code == TANH:
                D[i, j] *= one - a * a
            elif code == RELU:
                if a == zero:
                    D[i, j] = zero
