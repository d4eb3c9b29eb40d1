"""Loss values and output-layer deltas, chosen by an int code (``registry``).

Each loss is paired with its canonical output activation (squared error with
identity, poisson with exp, log-loss with softmax, binary log-loss with
logistic), so the derivative with respect to the output layer's
pre-activation is simply ``out - y`` (times the sample weight), as in
scikit-learn's ``_backprop``.

Averaging follows scikit-learn's ``LOSS_FUNCTIONS``: a (weighted) mean over
samples per output column, then the mean over columns for squared error and
the sum over columns for the others.  The per-element terms are
``scalar.loss_term``.
"""

import numpy as np

from ._jit import jit, like
from .registry import BINARY_LOG_LOSS, LOG_LOSS, POISSON, SQUARED_ERROR
from .scalar import loss_term

# Below this many outputs a column's sum runs in a register (see loss_value); the
# log-losses always take that path.
NARROW = 8

_EPS_FLOAT64 = float(np.finfo(np.float64).eps)
_EPS_FLOAT32 = float(np.finfo(np.float32).eps)


@jit
def loss_value(code, out, batch, col_sum):
    """The data term of the loss for one batch (no L2 penalty).

    Parameters
    ----------
    code : int
        A loss code of ``registry``.
    out : ndarray of shape (batch, n_outputs)
        The network's output (after the output activation).
    batch : Data
        ``batch.Y`` (batch, n_outputs) the targets (0/1 indicators for the
        log-losses); ``batch.sw`` (batch,) sample weights, used when
        ``batch.has_sw``.
    col_sum : ndarray of shape (n_outputs,)
        Workspace for the per-column sums.

    Returns
    -------
    loss : float of out's dtype
    """
    Y = batch.Y
    sw = batch.sw
    has_sw = batch.has_sw
    n, k = out.shape
    zero = like(out, 0)
    # finfo(dtype).eps as a constant: np.finfo compiles two dispatchers of its own
    eps = like(out, _EPS_FLOAT64 if out.itemsize == 8 else _EPS_FLOAT32)
    # Unweighted, the total is n: the same as adding n ones (exact below 2**24 rows even in
    # float32, where the sum of ones stops growing), without a chain of n dependent adds.
    weight_total = like(out, n)
    if has_sw:
        weight_total = zero
        for i in range(n):
            weight_total += sw[i]
    # Per column, rows added in order: a register sum per column for narrow outputs,
    # row by row over all columns otherwise (the same numbers either way).  The log-losses
    # take the column loop at any width: row by row, LLVM vectorizes across the columns and,
    # to do so, computes the log of every element -- xlogy(0, q) needs none, and one-hot
    # targets have one nonzero a row (200 x 10 float64: 13.0 us before, 2.3 now: `python -m
    # bench.anatomy passes` on both).
    if k < NARROW or code == LOG_LOSS or code == BINARY_LOG_LOSS:
        for j in range(k):
            total = zero
            for i in range(n):
                term = loss_term(code, out[i, j], Y[i, j], eps)
                if has_sw:
                    term = term * sw[i]
                total += term
            col_sum[j] = total
    else:
        for j in range(k):
            col_sum[j] = zero
        for i in range(n):
            for j in range(k):
                term = loss_term(code, out[i, j], Y[i, j], eps)
                if has_sw:
                    term = term * sw[i]
                col_sum[j] += term
    total = zero
    for j in range(k):
        total += col_sum[j] / weight_total
    if code == SQUARED_ERROR:
        return like(out, 0.5) * (total / like(out, k))
    if code == POISSON:
        return total
    return -total


@jit
def output_delta(out, batch, D):
    """dLoss/dZ of the output layer: ``(out - Y) * sw``.

    Parameters
    ----------
    out : ndarray of shape (batch, n_outputs)
    batch : Data
        Targets ``batch.Y`` (batch, n_outputs) and weights ``batch.sw``.
    D : ndarray of shape (batch, n_outputs)
        Written in place.
    """
    Y = batch.Y
    sw = batch.sw
    has_sw = batch.has_sw
    n, k = out.shape
    if k == 1:
        # One output (regression, binary labels): a loop of its own -- the element loop
        # per row cost more in loop control than the subtraction (200 x 1: 0.35 -> 0.03 us,
        # `python -m bench.anatomy passes`).
        for i in range(n):
            d = out[i, 0] - Y[i, 0]
            if has_sw:
                d *= sw[i]
            D[i, 0] = d
        return
    for i in range(n):
        for j in range(k):
            d = out[i, j] - Y[i, j]
            if has_sw:
                d *= sw[i]
            D[i, j] = d
