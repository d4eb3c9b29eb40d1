"""Inverted dropout of a hidden layer's outputs, masks from a counter-based generator.

While training, each hidden unit's output is zeroed with probability ``rate``
and the survivors are scaled by ``1 / (1 - rate)`` (PyTorch's and Keras's
inverted dropout), so predict needs no rescaling.  The mask of unit ``j`` in
row ``r`` of layer ``i`` at training step ``s`` is
``scalar.dropout_keeps(scalar.dropout_stream(seed, s, i), r * width + j, rate)``:
a pure function of those numbers, recomputed in the backward pass instead of
stored, and computable by any device (the CUDA twin draws the same masks).
"""

from ._jit import jit, like
from .scalar import derivative, dropout_keeps


@jit
def dropout_forward(A, key, rate):
    """Drop and rescale a layer's outputs in place.

    Parameters
    ----------
    A : ndarray of shape (batch, units)
        The layer's outputs ``act(Z + b)``; overwritten with ``A * mask / (1 - rate)``.
    key : uint64
        ``scalar.dropout_stream(seed, step, layer)``.
    rate : float64
        Drop probability, in (0, 1).
    """
    n, k = A.shape
    scale = like(A, 1.0 / (1.0 - rate))
    zero = like(A, 0)
    for i in range(n):
        for j in range(k):
            if dropout_keeps(key, i * k + j, rate):
                A[i, j] *= scale
            else:
                A[i, j] = zero


@jit
def dropout_backward(A, D, key, rate, code):
    """dLoss/dZ of a dropped-out layer from dLoss/d(its dropped outputs), in place.

    With ``A = a * mask * scale`` (``scale = 1 / (1 - rate)``), the chain rule
    gives ``dL/dz = dL/dA * mask * scale * act'(a)``, the derivative taken from
    the output ``a = A / scale`` of a kept unit (``scalar.derivative``).

    Parameters
    ----------
    A : ndarray of shape (batch, units)
        The layer's dropped outputs from the forward pass.
    D : ndarray of shape (batch, units)
        dLoss/dA on entry, dLoss/dZ on exit.
    key : uint64
        The key the forward pass used.
    rate : float64
    code : int
        The layer's activation code.
    """
    n, k = A.shape
    scale = like(A, 1.0 / (1.0 - rate))
    for i in range(n):
        for j in range(k):
            if dropout_keeps(key, i * k + j, rate):
                D[i, j] = derivative(code, A[i, j] / scale, D[i, j] * scale)
            else:
                D[i, j] = like(D, 0)
