"""Host-side preparation of a run of epochs: the CPU kernel's bookkeeping, done ahead.

``kernels/epoch.py``'s ``run_epochs`` decides, batch by batch, when an epoch
starts (and reshuffles), when the batch budget runs out, and Adam's
bias-corrected rate of each step.  None of that depends on the data, so the
CUDA twins decide it here, before the launch, with the CPU's own compiled
pieces -- ``mt19937.shuffle`` for the orders (the same draws: ``random_state``
means the same on both devices) and ``optimizers.adam_learning_rate`` for
the rates (the same float64 numbers) -- and hand the device a
:class:`~.fused.Schedule`: one upload per run of epochs.
"""

from collections import namedtuple

import numpy as np

from ..groups import ADAM, H_LEARNING_RATE
from ..mt19937 import shuffle
from ..optimizers import adam_learning_rate

__all__ = ["Run", "prepare", "finish"]

# ``orders`` (E, n) int64, ``starts`` / ``ends`` (E,) int64, ``lrs`` (n_batches,) float64,
# ``sw_sums`` (n_batches,) each batch's total sample weight (the parameters' dtype),
# ``losses`` (E,) float64 (each epoch's loss so far: the resumed epoch's partial sum or 0),
# ``n_batches`` int.
Run = namedtuple("Run", ["orders", "starts", "ends", "lrs", "sw_sums", "losses", "n_batches"])


def weight_total(data, rows=None):
    """The total sample weight of ``data``'s rows ``rows`` (all by default), its dtype.

    The CPU kernels add the weights in the batch loop; the GPU gets them from
    here (a block-wide reduction would cost more than the batch it serves).
    Unweighted: the row count, exactly.
    """
    dtype = data.X.dtype
    n = data.X.shape[0] if rows is None else rows.shape[0]
    if not data.has_sw:
        return dtype.type(n)
    return (data.sw if rows is None else data.sw[rows]).sum(dtype=dtype)


def prepare(data, opt, shuf, plan):
    """The epochs and batches this call trains, as ``kernels.epoch.run_epochs`` would.

    Shuffles ``shuf.order`` in place before each epoch that starts (when
    enabled), exactly as the CPU kernel does, and copies each epoch's order.

    Parameters
    ----------
    data : Data
        The training set (its sample weights are summed per batch).
    opt : Optimizer
        ``opt.step`` is read, not advanced (see :func:`finish`).
    shuf : Shuffle
    plan : Plan

    Returns
    -------
    run : Run
        Empty (E = 0) when the budget is 0.
    """
    n_samples = data.X.shape[0]
    batch_size = plan.batch_size
    budget = plan.max_batches
    cursor = int(plan.cursor[0])
    orders, starts, ends, losses = [], [], [], []
    for _ in range(plan.n_epochs):
        if budget == 0:
            break
        start = cursor
        if start == 0:
            if shuf.enabled:
                shuffle(shuf.order, shuf.key, shuf.pos)
            losses.append(0.0)
        else:
            losses.append(float(plan.partial[0]))
        remaining = -(-(n_samples - start) // batch_size)
        if 0 <= budget < remaining:
            end = start + budget * batch_size
            budget = 0
        else:
            end = n_samples
            budget = budget - remaining if budget > 0 else budget
        orders.append(shuf.order.copy())
        starts.append(start)
        ends.append(end)
        cursor = 0 if end == n_samples else end
    sw_sums = [weight_total(data, order[first: first + batch_size])
               for order, s, e in zip(orders, starts, ends)
               for first in range(s, e, batch_size)]
    n_batches = len(sw_sums)
    t0 = int(opt.step[0])
    if opt.code == ADAM:
        lrs = np.array([adam_learning_rate(opt, t0 + b + 1) for b in range(n_batches)])
    else:
        lrs = np.full(n_batches, opt.hyper[H_LEARNING_RATE])
    E = len(starts)
    return Run(np.array(orders, dtype=np.int64).reshape(E, n_samples),
               np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64),
               np.ascontiguousarray(lrs, dtype=np.float64),
               np.array(sw_sums, dtype=data.X.dtype).reshape(n_batches),
               np.array(losses, dtype=np.float64), n_batches)


def finish(run, n_samples, opt, plan, drop, losses):
    """Write back what the CPU kernel leaves in its groups; return the epochs completed.

    Parameters
    ----------
    run : Run
    n_samples : int
    opt : Optimizer
        Adam's ``opt.step`` advances by the batches trained (SGD's stays, as on the CPU).
    plan : Plan
        ``losses`` of the completed epochs; ``cursor`` / ``partial`` of an unfinished one.
    drop : Dropout or None
        ``drop.step`` advances by the batches trained.
    losses : ndarray of float64, shape (E,)
        Each epoch's summed loss as the device left it.

    Returns
    -------
    n_done : int
    """
    n_done = 0
    plan.cursor[0] = 0
    plan.partial[0] = 0.0
    for e in range(run.starts.shape[0]):
        if run.ends[e] == n_samples:
            plan.losses[n_done] = losses[e]
            n_done += 1
        else:
            plan.cursor[0] = run.ends[e]
            plan.partial[0] = losses[e]
    if opt.code == ADAM:
        opt.step[0] += run.n_batches
    if drop is not None:
        drop.step[0] += run.n_batches
    return n_done
