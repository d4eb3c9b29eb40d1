"""Activation passes over a layer, chosen by an int code (``registry``).

Every function works in place on a C-contiguous 2-D array ``Z`` of shape
(batch, units).  Derivatives are computed from the layer *outputs*, exactly as
scikit-learn's ``DERIVATIVES`` do (logistic: a(1-a), tanh: 1-a^2, relu: a != 0),
so the backward pass needs no stored pre-activations.  The per-element math is
``scalar.activate`` / ``scalar.derivative``.
"""

from ._jit import jit, like
from .registry import IDENTITY, SOFTMAX
from .scalar import activate, derivative
from .vexp import exp_inplace
from .views import flat_view


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
        An activation code of ``registry``.
    """
    n, k = Z.shape
    if code == SOFTMAX:
        for i in range(n):
            row_max = Z[i, 0] + b[0]
            for j in range(k):
                z = Z[i, j] + b[j]
                Z[i, j] = z
                if z > row_max:
                    row_max = z
            for j in range(k):
                Z[i, j] -= row_max
        # One pass of exp over the whole block, not a row's few columns at a time, so
        # that it runs as vectors (``vexp``: libm's exp is scalar).
        exp_inplace(flat_view(Z))
        for i in range(n):
            total = like(Z, 0)
            for j in range(k):
                total += Z[i, j]
            for j in range(k):
                Z[i, j] /= total
        return
    if k == 1:
        # A 1-wide layer (single-output regression): one flat, vectorizable loop.  With the
        # code a variable, the switch in ``activate`` stays in the loop and it runs a value
        # at a time; the identity of a regressor's output layer gets a loop of its own, which
        # LLVM vectorizes (10 000 x 1, a scratch timing: float64 5.6 -> 2.1 us, float32 5.2 ->
        # 0.9; the other codes and wider layers kept the one loop: their copies cost a cold
        # first fit more compile time than they saved).
        flat = flat_view(Z)
        if code == IDENTITY:
            for i in range(n):
                flat[i] = flat[i] + b[0]
        else:
            for i in range(n):
                flat[i] = activate(code, flat[i] + b[0])
        return
    for i in range(n):
        for j in range(k):
            Z[i, j] = activate(code, Z[i, j] + b[j])


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
        A hidden-layer activation code.
    """
    if code == IDENTITY:
        return
    n, k = D.shape
    for i in range(n):
        for j in range(k):
            D[i, j] = derivative(code, A[i, j], D[i, j])
