"""Loss values and output-layer deltas, chosen by an int code.

Each loss is paired with its canonical output activation (squared error with
identity, poisson with exp, log-loss with softmax, binary log-loss with
logistic), so the derivative with respect to the output layer's
pre-activation is simply ``out - y`` (times the sample weight), as in
scikit-learn's ``_backprop``.

Averaging follows scikit-learn's ``LOSS_FUNCTIONS``: a (weighted) mean over
samples per output column, then the mean over columns for squared error and
the sum over columns for the others.
"""

import numpy as np

from ._jit import jit, like

SQUARED_ERROR = 0
POISSON = 1
LOG_LOSS = 2  # softmax output, multiclass
BINARY_LOG_LOSS = 3  # logistic output, binary and multilabel

CODES = {
    "squared_error": SQUARED_ERROR,
    "poisson": POISSON,
    "log_loss": LOG_LOSS,
    "binary_log_loss": BINARY_LOG_LOSS,
}


@jit(inline=True)
def _xlogy(x, y):
    """x * log(y) with 0 * log(0) = 0, like scipy.special.xlogy."""
    if x == 0:
        return like(y, 0) * x
    return x * np.log(y)


# Below this many outputs a column's sum runs in a register (see loss_value).
NARROW = 8


@jit(inline=True)
def _term(code, p, y, eps):
    """One element's unweighted loss term (before the per-column mean)."""
    one = like(p, 1)
    if code == SQUARED_ERROR:
        return (y - p) * (y - p)
    if code == POISSON:
        return _xlogy(y, y / p) - y + p
    q = min(max(p, eps), one - eps)  # clip as scikit-learn does
    if code == LOG_LOSS:
        return _xlogy(y, q)
    return _xlogy(y, q) + _xlogy(one - y, one - q)


@jit
def loss_value(code, out, Y, sw, has_sw, col_sum):
    """The data term of the loss for one batch (no L2 penalty).

    Parameters
    ----------
    code : int
        A loss code of this module.
    out : ndarray of shape (batch, n_outputs)
        The network's output (after the output activation).
    Y : ndarray of shape (batch, n_outputs)
        The targets (0/1 indicators for the log-losses).
    sw : ndarray of shape (batch,)
        Sample weights; ignored unless ``has_sw``.
    has_sw : bool
        Whether ``sw`` holds weights (otherwise every weight is 1).
    col_sum : ndarray of shape (n_outputs,)
        Workspace for the per-column sums.

    Returns
    -------
    loss : float of out's dtype
    """
    n, k = out.shape
    zero = like(out, 0)
    one = like(out, 1)
    eps = like(out, np.finfo(out.dtype).eps)
    weight_total = zero
    for i in range(n):
        weight_total += sw[i] if has_sw else one
    # Per column, rows added in order: a register sum per column for narrow outputs,
    # row by row over all columns otherwise (the same numbers either way).
    if k < NARROW:
        for j in range(k):
            total = zero
            for i in range(n):
                term = _term(code, out[i, j], Y[i, j], eps)
                if has_sw:
                    term = term * sw[i]
                total += term
            col_sum[j] = total
    else:
        for j in range(k):
            col_sum[j] = zero
        for i in range(n):
            for j in range(k):
                term = _term(code, out[i, j], Y[i, j], eps)
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
def output_delta(out, Y, sw, has_sw, D):
    """dLoss/dZ of the output layer: ``(out - Y) * sw``.

    Parameters
    ----------
    out : ndarray of shape (batch, n_outputs)
    Y : ndarray of shape (batch, n_outputs)
    sw : ndarray of shape (batch,)
    has_sw : bool
    D : ndarray of shape (batch, n_outputs)
        Written in place.
    """
    n, k = out.shape
    for i in range(n):
        for j in range(k):
            d = out[i, j] - Y[i, j]
            if has_sw:
                d *= sw[i]
            D[i, j] = d
