"""The fused training epochs: every mini-batch of a run of epochs in one compiled call.

For each batch of the sample order: gather the rows into preallocated
buffers, forward, loss, backward, optimizer step.  Nothing is allocated inside
the batch loop.  :func:`run_epochs` reshuffles the order before each epoch
with NumPy's own MT19937 draws (``mt19937``), so Python sees a run of epochs
only through the per-epoch losses it returns.  A call may also stop inside an
epoch after a number of batches (``Plan.max_batches``) and resume it in the
next call, so that an epoch longer than the caller's time slice still returns
to Python between batches (Ctrl-C).
"""

import numpy as np

from ._jit import jit, like
from .borrow import borrowed
from .dense import block, dense_backward, dense_forward, l2_penalty
from .groups import ADAM, H_LEARNING_RATE, Data
from .losses import loss_value, output_delta
from .mt19937 import shuffle
from .optimizers import adam_learning_rate, adam_step, sgd_step
from .views import matrix_view


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
def batch_loss_and_grad(params, grad, layout, codes, batch, work, alpha, drop, finish=True):
    """Loss and gradient of one batch (scikit-learn's ``_backprop``).

    Parameters
    ----------
    params, grad : ndarray of shape (n_params,)
        Flat parameters (read) and gradient (written).
    layout : Layout
    codes : Codes
    batch : Data
        ``X`` (n, units[0]), ``Y`` (n, units[-1]), sample weights.
    work : Work
        ``acts``, ``deltas`` (at least ``n * sum(units[1:])`` elements) and
        ``col_sum`` (units[-1],) are used.
    alpha : float of params' dtype
    drop : Dropout or None
        Dropout of the hidden layers at step ``drop.step[0]``, or None for none.
    finish : bool, default=True
        False leaves the raw gradient sums in ``grad`` (see ``dense_backward``).

    Returns
    -------
    loss : float of params' dtype
        The data term plus ``0.5 * alpha * sum(W**2) / sw_sum``.
    """
    X = batch.X
    n = X.shape[0]
    n_layers = layout.units.shape[0] - 1
    sw_sum = _weight_total(params, batch.sw, batch.has_sw, n)
    out = dense_forward(params, layout, codes, X, work.acts, drop)
    loss = loss_value(codes.loss, out, batch, work.col_sum)
    loss += l2_penalty(params, layout.n_coef, alpha, sw_sum)
    D = block(work.deltas, layout, n, n_layers - 1)
    output_delta(out, batch, D)
    dense_backward(params, grad, layout, codes, X, work.acts, work.deltas, alpha, sw_sum,
                   finish, drop)
    return loss


# Rows are copied in chunks of this many elements, the last chunk overlapping the one
# before it, so that a row of any width >= CHUNK is a few whole vector moves with no
# element-by-element remainder.
CHUNK = 4


@jit(inline=True)
def _copy_row(src, s, dst, d):
    """``dst[d, :] = src[s, :]`` for rows of equal width (chunks of ``CHUNK``).

    Indices are unsigned (``s`` and ``d`` too): with signed ones Numba tests every
    element's index for wraparound and LLVM no longer sees one vector move.
    """
    width = np.uintp(src.shape[1])
    chunk = np.uintp(CHUNK)
    one = np.uintp(1)
    if width < chunk:
        for c in range(width):
            dst[d, c] = src[s, c]
        return
    c = np.uintp(0)
    while True:
        if c > width - chunk:
            c = width - chunk  # the last chunk ends with the row (it may overlap)
        # Four loads, then four stores: LLVM moves them as one vector.
        a0 = src[s, c]
        a1 = src[s, c + one]
        a2 = src[s, c + one + one]
        a3 = src[s, c + one + one + one]
        dst[d, c] = a0
        dst[d, c + one] = a1
        dst[d, c + one + one] = a2
        dst[d, c + one + one + one] = a3
        c += chunk
        if c >= width:
            return


@jit(inline=True)
def _gather(data, order, start, n, work):
    """The batch of rows ``order[start:start + n]``, copied into the workspaces.

    Chunked row copies (``_copy_row``) and a 1-wide target copied as one element:
    an element loop per row of a few elements cost more in loop control than in
    copying (200 rows of a 1000 x 10 set with a 1-wide target: float64 1.20-1.27 ->
    0.76-0.77 us, float32 1.18-1.23 -> 0.59-0.85; ``python -m bench.anatomy passes`` on
    the AVX-512 Intel Xeon).
    """
    n_features = data.X.shape[1]
    n_outputs = data.Y.shape[1]
    Xb = matrix_view(work.x[: n * n_features], n, n_features)
    Yb = matrix_view(work.y[: n * n_outputs], n, n_outputs)
    swb = work.sw[:n]
    for r in range(n):
        # Unsigned: the order holds row numbers, never negative (no wraparound test).
        src = np.uintp(order[start + r])
        dst = np.uintp(r)
        _copy_row(data.X, src, Xb, dst)
        if n_outputs == 1:
            Yb[dst, 0] = data.Y[src, 0]
        else:
            _copy_row(data.Y, src, Yb, dst)
        if data.has_sw:
            swb[r] = data.sw[src]
    return Data(Xb, Yb, swb, data.has_sw)


@jit
def run_epochs(params, layout, codes, data, work, opt, shuf, plan, drop):
    """Train a run of epochs: every mini-batch of the order, reshuffled before each epoch.

    The shuffle is ``RandomState.shuffle(order)`` on the state ``(shuf.key,
    shuf.pos)``, draw for draw, which is what scikit-learn's
    ``order = shuffle(order, random_state=rs)`` amounts to.  One function,
    not an epoch kernel called in a loop: Numba re-optimizes a callee's code
    inside every caller, and that extra level cost ~1 s of the cold compile.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Trained in place.
    layout : Layout
    codes : Codes
    data : Data
        The whole training set, C-contiguous, in params' dtype.
    work : Work
        Workspaces sized for ``plan.batch_size`` rows.
    opt : Optimizer
        Its state and step count are advanced in place.
    shuf : Shuffle
        The sample order (shuffled in place before each epoch when enabled).
    plan : Plan
        How many epochs and batches this call may train; ``plan.cursor`` /
        ``plan.partial`` carry an epoch in progress between calls, and
        ``plan.losses`` receives each completed epoch's summed loss.
    drop : Dropout or None
        Dropout of the hidden layers; its step counter advances by one per batch.

    Returns
    -------
    n_done : int
        Epochs completed by this call (their losses are ``plan.losses[:n_done]``);
        when smaller than ``plan.n_epochs``, the batch budget ran out and
        ``plan.cursor[0]`` says where the unfinished epoch resumes.
    """
    # Every array below is a borrowed view of an argument (alive for the whole call, never
    # returned), so Numba's atomic reference counting of the views made every batch is a
    # null test: 258 count changes a batch in the tiny workload, ~15% of its time.  (Not
    # ``drop``: Numba prunes the ``drop is not None`` branches only on the argument itself.)
    params, layout, codes, data, work, opt, shuf, plan = borrowed(
        (params, layout, codes, data, work, opt, shuf, plan))
    n_samples = data.X.shape[0]
    batch_size = plan.batch_size
    budget = plan.max_batches
    order = shuf.order
    for epoch in range(plan.n_epochs):
        if budget == 0:
            return epoch  # before the next epoch's shuffle: it is drawn when it starts
        start = plan.cursor[0]
        accumulated = plan.partial[0]
        if start == 0:
            if shuf.enabled:
                shuffle(order, shuf.key, shuf.pos)
            accumulated = 0.0
        while start < n_samples:
            if budget == 0:
                plan.cursor[0] = start
                plan.partial[0] = accumulated
                return epoch
            budget -= 1
            n = n_samples - start if n_samples - start < batch_size else batch_size
            batch = _gather(data, order, start, n, work)
            loss = batch_loss_and_grad(params, work.grad, layout, codes, batch, work,
                                       opt.alpha, drop, False)
            if drop is not None:
                drop.step[0] += 1
            accumulated += np.float64(loss) * n
            # The optimizer finishes the gradient (raw sums + alpha * W, / sw_sum) as it
            # reads it.
            sw_sum = _weight_total(params, batch.sw, batch.has_sw, n)
            if opt.code == ADAM:
                opt.step[0] += 1
                lr = adam_learning_rate(opt, opt.step[0])
                adam_step(params, work.grad, opt, layout.n_coef, sw_sum, like(params, lr))
            else:
                sgd_step(params, work.grad, opt, layout.n_coef, sw_sum,
                         like(params, opt.hyper[H_LEARNING_RATE]))
            start += n
        plan.cursor[0] = 0
        plan.partial[0] = 0.0
        plan.losses[epoch] = accumulated
    return plan.n_epochs
