"""The fused training epochs: every mini-batch of several epochs in one compiled call.

For each batch of the given sample order: gather the rows into preallocated
buffers, forward, loss, backward, optimizer step.  Nothing is allocated inside
the batch loop.  :func:`run_epochs` reshuffles the order before each epoch
with NumPy's own MT19937 draws (``mt19937``), so Python sees a run of epochs
only through the per-epoch losses it returns.
"""

import numpy as np

from ._jit import jit, like
from .dense import dense_backward, dense_forward, l2_penalty
from .losses import loss_value, output_delta
from .mt19937 import shuffle
from .optimizers import adam_step, sgd_step

SGD = 0
ADAM = 1

# Positions in the float64 ``hyper`` array handed to :func:`run_epochs`.
H_LEARNING_RATE = 0
H_MOMENTUM = 1
H_NESTEROV = 2
H_BETA_1 = 3
H_BETA_2 = 4
H_EPSILON = 5
N_HYPER = 6


@jit(inline=True)
def _weight_total(params, sw, has_sw, n):
    """The batch's total sample weight in params' dtype (``n`` when unweighted)."""
    if has_sw:
        total = like(params, 0)
        for r in range(n):
            total += sw[r]
        return total
    return like(params, n)


@jit(inline=True)
def batch_loss_and_grad(params, grad, units, coef_off, icpt_off, n_coef, X, Y, sw, has_sw,
                        acts, deltas, col_sum, hidden_code, out_code, loss_code, alpha,
                        finish=True):
    """Loss and gradient of one batch (scikit-learn's ``_backprop``).

    Parameters
    ----------
    params, grad : ndarray of shape (n_params,)
        Flat parameters (read) and gradient (written).
    units, coef_off, icpt_off : ndarray of int64
        The layout (see ``dense``).
    n_coef : int
        Number of weights (they come first in ``params``).
    X : ndarray of shape (n, units[0]); Y : ndarray of shape (n, units[-1])
    sw : ndarray of shape (n,); has_sw : bool
        Sample weights and whether to use them.
    acts, deltas : ndarray
        Workspaces of at least ``n * sum(units[1:])`` elements.
    col_sum : ndarray of shape (units[-1],)
        Workspace for the loss.
    hidden_code, out_code, loss_code : int
    alpha : float of params' dtype
    finish : bool, default=True
        False leaves the raw gradient sums in ``grad`` (see ``dense_backward``).

    Returns
    -------
    loss : float of params' dtype
        The data term plus ``0.5 * alpha * sum(W**2) / sw_sum``.
    """
    n = X.shape[0]
    n_layers = units.shape[0] - 1
    sw_sum = _weight_total(params, sw, has_sw, n)
    out = dense_forward(params, units, coef_off, icpt_off, X, acts, hidden_code, out_code)
    loss = loss_value(loss_code, out, Y, sw, has_sw, col_sum)
    loss += l2_penalty(params, n_coef, alpha, sw_sum)
    start = 0
    for layer in range(n_layers - 1):
        start += units[layer + 1]
    k = units[n_layers]
    D = deltas[start * n : start * n + n * k].reshape((n, k))
    output_delta(out, Y, sw, has_sw, D)
    dense_backward(params, grad, units, coef_off, icpt_off, X, acts, deltas, hidden_code,
                   alpha, sw_sum, finish)
    return loss


@jit
def run_epochs(n_epochs, shuffle_rows, mt_key, mt_pos, order, X, Y, sw, has_sw, batch_size,
               params, grad, units, coef_off, icpt_off, n_coef, hidden_code, out_code,
               loss_code, alpha, opt_code, state, hyper, t, x_buf, y_buf, sw_buf, acts, deltas,
               col_sum, losses):
    """Train ``n_epochs`` epochs: every mini-batch of ``order``, reshuffled before each.

    The shuffle is ``RandomState.shuffle(order)`` on the state ``(mt_key,
    mt_pos)``, draw for draw, which is what scikit-learn's
    ``order = shuffle(order, random_state=rs)`` amounts to.  One function,
    not an epoch kernel called in a loop: Numba re-optimizes a callee's code
    inside every caller, and that extra level cost ~1 s of the cold compile.

    Parameters
    ----------
    n_epochs : int
    shuffle_rows : bool
        Whether to reshuffle before each epoch.
    mt_key : ndarray of uint32, shape (624,); mt_pos : ndarray of int64, shape (1,)
        MT19937 state, advanced in place (ignored unless ``shuffle_rows``).
    order : ndarray of int64, shape (n_samples,)
        The sample order, carried from epoch to epoch; shuffled in place.
    X : ndarray of shape (n_samples, n_features), C-contiguous
    Y : ndarray of shape (n_samples, n_outputs), C-contiguous
    sw : ndarray of shape (n_samples,) (any length when not ``has_sw``)
    has_sw : bool
    batch_size : int
        Rows per batch; the last batch of an epoch takes what is left.
    params, grad : ndarray of shape (n_params,)
    units, coef_off, icpt_off : ndarray of int64
    n_coef : int
    hidden_code, out_code, loss_code : int
    alpha : float of params' dtype
    opt_code : int
        ``SGD`` or ``ADAM``.
    state : ndarray of shape (2, n_params)
        SGD: row 0 is the velocity.  Adam: rows are the first and second
        moments.  Updated in place.
    hyper : ndarray of float64, shape (N_HYPER,)
        Learning rate (the initial one for Adam), momentum, nesterov (0/1),
        beta_1, beta_2, epsilon.
    t : int
        Adam's step count before the first epoch.
    x_buf, y_buf, sw_buf, acts, deltas, col_sum : ndarray
        Workspaces sized for ``batch_size`` rows.
    losses : ndarray of float64, shape (>= n_epochs,)
        Receives each epoch's sum over batches of batch loss times batch length.

    Returns
    -------
    t : int
        Adam's step count after the last epoch.
    """
    n_samples, n_features = X.shape
    n_outputs = Y.shape[1]
    lr_init = hyper[H_LEARNING_RATE]
    momentum = like(params, hyper[H_MOMENTUM])
    nesterov = hyper[H_NESTEROV] != 0.0
    beta_1 = hyper[H_BETA_1]
    beta_2 = hyper[H_BETA_2]
    # 1 - beta in float64 first, then cast: the order scikit-learn's numpy code uses.
    b1 = like(params, beta_1)
    b2 = like(params, beta_2)
    one_minus_b1 = like(params, 1.0 - beta_1)
    one_minus_b2 = like(params, 1.0 - beta_2)
    epsilon = like(params, hyper[H_EPSILON])
    for epoch in range(n_epochs):
        if shuffle_rows:
            shuffle(order, mt_key, mt_pos)
        accumulated = 0.0
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            n = stop - start
            Xb = x_buf[: n * n_features].reshape((n, n_features))
            Yb = y_buf[: n * n_outputs].reshape((n, n_outputs))
            swb = sw_buf[:n]
            for r in range(n):
                src = order[start + r]
                for c in range(n_features):
                    Xb[r, c] = X[src, c]
                for c in range(n_outputs):
                    Yb[r, c] = Y[src, c]
                if has_sw:
                    swb[r] = sw[src]
            loss = batch_loss_and_grad(params, grad, units, coef_off, icpt_off, n_coef, Xb, Yb,
                                       swb, has_sw, acts, deltas, col_sum, hidden_code,
                                       out_code, loss_code, alpha, False)
            accumulated += np.float64(loss) * n
            # The optimizer finishes the gradient (raw sums + alpha * W, / sw_sum) as it
            # reads it.
            sw_sum = _weight_total(params, swb, has_sw, n)
            if opt_code == ADAM:
                t += 1
                # float exponent: C pow(), as Python's float ** int does.
                lr = lr_init * np.sqrt(1.0 - beta_2 ** float(t)) / (1.0 - beta_1 ** float(t))
                adam_step(params, grad, state[0], state[1], n_coef, alpha, sw_sum,
                          like(params, lr), b1, one_minus_b1, b2, one_minus_b2, epsilon)
            else:
                sgd_step(params, grad, state[0], n_coef, alpha, sw_sum, like(params, lr_init),
                         momentum, nesterov)
        losses[epoch] = accumulated
    return t
