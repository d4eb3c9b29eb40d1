"""fastnet's CUDA kernels: the GPU twins of the CPU kernels, loaded only when asked for.

``import fastnet`` never imports this package (nor ``numba.cuda``); a
``Network(device="cuda")`` does, on its first kernel call.  The three entry
points take the CPU kernels' arguments -- the typed groups of
``kernels/groups.py`` on host NumPy arrays -- and leave their results in the
same host arrays, so the rest of fastnet calls either device the same way:

:func:`run_epochs`
    ``kernels.epoch.run_epochs``'s twin: a run of epochs of mini-batch SGD or
    Adam; returns the epochs completed, fills ``plan.losses``, advances
    ``opt.state`` / ``opt.step`` / ``drop.step``, reshuffles ``shuf.order``
    per epoch and honours ``plan.max_batches`` / ``cursor`` / ``partial``.
:func:`batch_loss_and_grad`
    ``kernels.epoch.batch_loss_and_grad``'s twin (L-BFGS's evaluation).
:func:`dense_forward`
    ``kernels.dense.dense_forward``'s twin (predict): returns a new host array.

Which kernel runs
-----------------
* **Fused** (:mod:`.fused`) when every layer, input and output included, is at
  most ``fused_max_width`` wide (default :data:`FUSED_MAX_WIDTH` = 128, as
  tiny-cuda-nn's fully fused MLP) and a tile of at least one row fits the
  block's shared memory: one launch trains the whole run of epochs in one
  block (forward, loss, backward and optimizer of every batch, activations in
  shared memory).  L-BFGS's loss and gradient take it too for up to
  :data:`FUSED_MAX_ROWS` rows; predict launches one block per tile of rows.
* **Wide** (:mod:`.wide`) otherwise: per batch, cuBLAS matrix products
  (through CuPy) with the bias + activation (+ dropout), loss + output delta,
  derivative (+ dropout), bias-gradient, L2 + loss and optimizer passes each
  one custom kernel; the batch loop runs on the host, without a
  synchronization per batch.  Without CuPy a shared-memory tiled GEMM kernel
  takes cuBLAS's place (slower; numba-cuda alone suffices).
* Under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, for tests) every
  kernel runs as it would on a GPU; only the cuBLAS products, which the
  simulator can't run, are computed by NumPy on the host (``wide.matmul``).

A ``Network(device="cuda")`` predicts on the GPU from
``fastnet.network.CUDA_PREDICT_MIN_ROWS`` rows on (1024: a plausible
crossover, not yet measured) and on the CPU below, or where CUDA is unusable.

What stays on the host
----------------------
The sample orders are scikit-learn's: the CPU's compiled MT19937 shuffle
draws them before the launch (:mod:`.schedule`), one (epochs, n_samples)
upload per run of epochs, so ``random_state`` means the same on both devices;
Adam's bias-corrected rates are the CPU's float64 numbers too, and each
batch's total sample weight is summed there.  Dropout masks
are the counter-based hash of ``kernels/dropout.py``, computed on the device:
the same masks as the CPU's.

Memory
------
The training arrays (X, Y, sample weights, layout tables) are uploaded once
and kept in a :class:`DeviceCache` -- the one the caller passes as ``cache``
(a ``Network`` keeps one per network) -- as long as the same host arrays come
back.  The parameters and optimizer state are uploaded at the start of every
call and downloaded at its end (3 x n_params values): the host arrays stay
the truth, as with the CPU kernels.

Fidelity
--------
The same initial weights, shuffles, masks and operation order per element as
the CPU; the matrix products and the L2 sum add in another order (so do
BLAS builds on different CPUs).  Results agree with the CPU kernels to the
rounding of those sums -- ``tests/_compare.py``'s derived tolerance -- not bit
for bit.
"""

import numpy as np
from numba import cuda

from ..groups import Codes, Data, Dropout, Layout, Optimizer
from . import fused, schedule, wide
from .memory import DeviceCache, launching, to_device

__all__ = ["run_epochs", "batch_loss_and_grad", "dense_forward", "DeviceCache",
           "FUSED_MAX_WIDTH", "FUSED_MAX_ROWS", "uses_fused"]

# Widest layer the fused kernels take (inputs and outputs count): tiny-cuda-nn's bound.
FUSED_MAX_WIDTH = fused.MAX_WIDTH
# L-BFGS's whole-data loss and gradient: one fused block works through the rows tile by
# tile, so past a few thousand rows the cuBLAS path's whole-GPU products win.
FUSED_MAX_ROWS = 4096


def uses_fused(units, dtype, fused_max_width=None):
    """Whether a network of these widths trains with the fused kernel.

    Parameters
    ----------
    units : sequence of int
        Layer widths, input first.
    dtype : numpy dtype
    fused_max_width : int, optional
        The width bound; default :data:`FUSED_MAX_WIDTH` (0 forces the wide path).

    Returns
    -------
    bool
    """
    limit = FUSED_MAX_WIDTH if fused_max_width is None else fused_max_width
    return (max(int(u) for u in units) <= min(limit, fused.MAX_WIDTH)
            and fused.tile_rows(units, dtype) >= 1)


# ------------------------------------------------------------ device groups
def _layout(layout, cache):
    return Layout(cache.get(layout.units), cache.get(layout.coef_off), cache.get(layout.icpt_off),
                  cache.get(layout.act_off), int(layout.n_coef))


def _data(data, cache):
    return Data(cache.get(data.X), cache.get(data.Y), cache.get(data.sw), bool(data.has_sw))


def _codes(codes):
    return Codes(int(codes.hidden), int(codes.output), int(codes.loss),
                 int(codes.tiles_forward), int(codes.tiles_backward),
                 int(codes.tiles_backward_from))


def _dropout(drop, n_layers, step=0):
    """The device ``Dropout`` group; no dropout is every rate 0 (the kernels test rates)."""
    if drop is None:
        return Dropout(to_device(np.zeros(n_layers)), np.uint64(0), np.int64(step))
    return Dropout(to_device(np.asarray(drop.rates, dtype=np.float64)), np.uint64(drop.seed),
                   np.int64(step))


def _optimizer(opt, d_state, dtype):
    return Optimizer(int(opt.code), d_state, to_device(np.asarray(opt.hyper, dtype=np.float64)),
                     dtype.type(opt.alpha), np.int64(0))


def _cache(cache):
    return DeviceCache() if cache is None else cache


# ------------------------------------------------------------ entry points
def run_epochs(params, layout, codes, data, work, opt, shuf, plan, drop, *, cache=None,
               fused_max_width=None):
    """Train a run of epochs on the GPU: ``kernels.epoch.run_epochs`` on host arrays.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Trained in place (uploaded, trained, downloaded).
    layout, codes, data, opt, shuf, plan, drop
        As ``kernels.epoch.run_epochs``; ``opt.state`` / ``opt.step``,
        ``shuf.order`` / ``shuf.key`` / ``shuf.pos``, ``plan.losses`` /
        ``cursor`` / ``partial`` and ``drop.step`` are advanced in place as the
        CPU kernel advances them.
    work : Work or None
        Not used: the device workspaces are the kernels' own.
    cache : DeviceCache, optional
        Where the device copies of ``data`` and ``layout`` are kept between calls.
    fused_max_width : int, optional
        Widest layer for the fused kernel (default :data:`FUSED_MAX_WIDTH`; 0: wide path).

    Returns
    -------
    n_done : int
        Epochs completed (their losses are ``plan.losses[:n_done]``).
    """
    n_samples = data.X.shape[0]
    run = schedule.prepare(data, opt, shuf, plan)
    losses = run.losses
    if run.n_batches:
        cache = _cache(cache)
        dtype = params.dtype
        n_layers = layout.units.shape[0] - 1
        d_params = cuda.to_device(params)
        d_state = cuda.to_device(np.ascontiguousarray(opt.state))
        step0 = 0 if drop is None else int(drop.step[0])
        sched = fused.Schedule(cuda.to_device(run.orders), cuda.to_device(run.starts),
                               cuda.to_device(run.ends), int(plan.batch_size),
                               cuda.to_device(run.lrs), cuda.to_device(run.sw_sums),
                               cuda.to_device(run.losses), np.int64(step0))
        d_data = _data(data, cache)
        d_opt = _optimizer(opt, d_state, dtype)
        with launching():
            if uses_fused(layout.units, dtype, fused_max_width):
                rows = fused.tile_rows(layout.units, dtype)
                threads = fused.threads_for(layout.units, min(rows, plan.batch_size))
                d_grad = cuda.device_array(params.shape[0], dtype=dtype)
                fused.kernels(dtype)["train"][1, threads](
                    d_params, d_grad, _layout(layout, cache), _codes(codes), d_data, d_opt,
                    _dropout(drop, n_layers), sched, rows)
            else:
                wide.train(d_params, layout, _codes(codes), d_data, d_opt, drop, sched, run)
        d_params.copy_to_host(params)
        opt.state[...] = d_state.copy_to_host()
        losses = sched.losses.copy_to_host()
    return schedule.finish(run, n_samples, opt, plan, drop, losses)


def batch_loss_and_grad(params, grad, layout, codes, batch, work, alpha, drop, finish=True, *,
                        cache=None, fused_max_width=None):
    """Loss and gradient of one batch on the GPU: ``kernels.epoch.batch_loss_and_grad``.

    Parameters
    ----------
    params, grad : ndarray of shape (n_params,)
        Flat parameters (read) and gradient (written, host).
    layout, codes : Layout, Codes
    batch : Data
        The whole batch (L-BFGS: the training set), kept on the device in ``cache``.
    work : Work or None
        Not used.
    alpha : float
    drop : Dropout or None
        Dropout at step ``drop.step[0]`` (not advanced), or None.
    finish : bool, default=True
        Must be True: the GPU always returns the finished gradient.
    cache : DeviceCache, optional
    fused_max_width : int, optional
        As :func:`run_epochs`.

    Returns
    -------
    loss : float of params' dtype
    """
    if not finish:
        raise ValueError("the CUDA batch_loss_and_grad returns the finished gradient only")
    cache = _cache(cache)
    dtype = params.dtype
    n = batch.X.shape[0]
    n_layers = layout.units.shape[0] - 1
    step = 0 if drop is None else int(drop.step[0])
    d_params = cuda.to_device(params)
    d_grad = cuda.device_array(params.shape[0], dtype=dtype)
    d_loss = cuda.device_array(1, dtype=dtype)
    d_data = _data(batch, cache)
    alpha = dtype.type(alpha)
    sw_sum = schedule.weight_total(batch)
    with launching():
        if uses_fused(layout.units, dtype, fused_max_width) and n <= FUSED_MAX_ROWS:
            rows = fused.tile_rows(layout.units, dtype)
            threads = fused.threads_for(layout.units, min(rows, n))
            fused.kernels(dtype)["loss_and_grad"][1, threads](
                d_params, d_grad, _layout(layout, cache), _codes(codes), d_data, sw_sum, alpha,
                _dropout(drop, n_layers, step), np.int64(step), rows, d_loss)
        else:
            wide.loss_and_grad(d_params, d_grad, layout, _codes(codes), d_data, sw_sum, alpha,
                               drop, step, d_loss)
    d_grad.copy_to_host(grad)
    return d_loss.copy_to_host()[0]


def dense_forward(params, layout, codes, X, acts=None, drop=None, *, cache=None,
                  fused_max_width=None):
    """Predict on the GPU: the output layer's activations (``kernels.dense.dense_forward``).

    Parameters
    ----------
    params : ndarray of shape (n_params,)
    layout, codes : Layout, Codes
    X : ndarray of shape (n, units[0]), C-contiguous, params' dtype
        Uploaded for this call (not cached: predict inputs change).
    acts : ignored
        The CPU kernel's workspace; the GPU keeps its own.
    drop : None
        Predict never drops (given for the CPU kernel's signature; must be None).
    cache : DeviceCache, optional
        Holds the layout tables.
    fused_max_width : int, optional

    Returns
    -------
    out : ndarray of shape (n, units[-1])
        A new host array.
    """
    if drop is not None:
        raise ValueError("the CUDA dense_forward predicts without dropout (drop must be None)")
    cache = _cache(cache)
    dtype = params.dtype
    units = layout.units
    n = X.shape[0]
    d_params = cuda.to_device(params)
    d_X = to_device(X)
    d_out = cuda.device_array((n, int(units[-1])), dtype=dtype)
    with launching():
        if uses_fused(units, dtype, fused_max_width):
            rows = fused.tile_rows(units, dtype)
            threads = fused.threads_for(units, min(rows, n))
            blocks = min(-(-n // rows), fused.MAX_FORWARD_BLOCKS)
            fused.kernels(dtype)["forward"][blocks, threads](
                d_params, _layout(layout, cache), _codes(codes), d_X,
                _dropout(None, len(units) - 1), rows,
                d_out)
        else:
            wide.forward(d_params, layout, _codes(codes), d_X, d_out)
    return d_out.copy_to_host()
