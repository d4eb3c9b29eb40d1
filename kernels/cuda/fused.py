"""The fused small-network kernels: a whole MLP -- forward, loss, backward, optimizer -- per block.

After tiny-cuda-nn's "fully fused MLP" (Müller et al. 2021): for narrow
networks (every width <= :data:`MAX_WIDTH`) one launch trains a whole run of
epochs.  One block of up to :data:`MAX_THREADS` threads loops over the
mini-batches in the host-given order; each batch is processed in tiles of
``tile_rows`` rows whose inputs, activations and deltas of every layer live
in shared memory (:data:`SHARED_BYTES` of static shared memory), so the only
global traffic of a tile is its input rows, the weights (read-only within a
step, cached in L1) and the thread-owned gradient accumulators.  After the
last tile the block takes the optimizer step on the whole flat parameter
buffer and moves on to the next batch: no launch and no host round trip per
batch or per epoch -- for a tiny net a batch computes for less time than a
launch and its synchronization cost (not measured here: no GPU on the
development machine; the GPU benchmark measures it).

Threads map to (row, unit) pairs in the forward and delta passes, to (input,
unit) weight pairs in the gradient pass -- each thread owns the same
gradient elements in every tile, so the accumulation needs no atomics -- and
to parameters in the optimizer step.  Sums over a layer's inputs run in
index order.  Column sums (the bias gradient, the loss's per-column sums)
take a thread per column when a layer has as many units as the block has
threads and otherwise split each column's rows among the idle threads,
whose partial sums meet in a tree -- a 1-wide output layer must not leave
one thread adding a tile's 200 rows while the others wait; the L2 term's
sum of squares is a block-wide tree too.

The element math is ``kernels/scalar.py``'s (:mod:`._device_math`); the
batch arithmetic follows ``kernels/epoch.py``: the loss with its per-batch L2
term, the optimizer finishing the raw gradient sums ``(g + alpha W) / sw_sum``
as it reads them, dropout masks ``dropout_keeps(dropout_stream(seed, step,
layer), row * width + unit, rate)`` recomputed in the backward pass.

Kernels here take the typed groups of ``kernels/groups.py`` with device
arrays in them (``Layout``, ``Codes``, ``Data``, ``Optimizer``, ``Dropout``)
plus :class:`Schedule`, the host-prepared run of epochs.
"""

from collections import namedtuple

import numpy as np
from numba import cuda, float32, float64, int64

from .._jit import like
from ..groups import H_BETA_1, H_BETA_2, H_EPSILON, H_MOMENTUM, H_NESTEROV
from ..groups import ADAM
from ..registry import POISSON, SOFTMAX, SQUARED_ERROR
from ._device_math import (
    activate, adam_update, derivative, dropout_keeps, dropout_stream, loss_term, sgd_update,
    softmax_row,
)

__all__ = ["MAX_WIDTH", "MAX_THREADS", "MAX_TILE_ROWS", "SHARED_BYTES", "MAX_FORWARD_BLOCKS",
           "Schedule",
           "tile_rows", "threads_for", "kernels"]

# Widest layer (input and output included) the fused kernels take, as tiny-cuda-nn's
# fully fused MLP (<= 128 neurons): wider layers go to the cuBLAS path (``wide``).
MAX_WIDTH = 128
# Threads of a fused block: 8 warps keep an SM's issue slots busy on a tile of rows.
MAX_THREADS = 256
# Rows of a tile at most (the source-row indices of a tile are kept in shared memory).
MAX_TILE_ROWS = 256
# Static shared memory for a tile's inputs, activations and deltas: 40 KiB of the 48 KiB a
# block may use without opting in, the rest for the per-column sums and reductions.
SHARED_BYTES = 40 * 1024
# Predict: one block per tile of rows, up to this many blocks (grid-stride beyond).
MAX_FORWARD_BLOCKS = 1024

# One run of epochs, prepared on the host (``schedule.prepare``): ``orders`` int64 (E, n)
# the sample order of each epoch (scikit-learn's shuffle, drawn on the host), ``starts`` /
# ``ends`` int64 (E,) the rows each epoch trains in this call, ``batch_size``, ``lrs``
# float64 (n_batches,) each batch's learning rate (Adam's bias-corrected one), ``sw_sums``
# (n_batches,) each batch's total sample weight in the parameters' dtype, ``losses``
# float64 (E,) each epoch's summed loss (in: the partial sum of a resumed epoch), ``step0``
# the dropout step of the first batch.
Schedule = namedtuple("Schedule", ["orders", "starts", "ends", "batch_size", "lrs", "sw_sums",
                                   "losses", "step0"])


def tile_rows(units, dtype):
    """Rows of a tile: as many as the shared buffer holds (0: the network doesn't fit).

    Parameters
    ----------
    units : sequence of int
        Layer widths, input first.
    dtype : numpy dtype

    Returns
    -------
    rows : int
    """
    # inputs, every layer's activations and deltas, the output's loss terms
    per_row = int(units[0]) + 2 * int(np.sum(units[1:])) + int(units[-1])
    return min(MAX_TILE_ROWS, SHARED_BYTES // np.dtype(dtype).itemsize // per_row)


def threads_for(units, rows):
    """Threads of a fused block: enough for the widest pass, whole warps, at most MAX_THREADS."""
    units = [int(u) for u in units]
    widest = max(max(a * b for a, b in zip(units[:-1], units[1:])), rows * max(units))
    return int(min(MAX_THREADS, max(32, -(-widest // 32) * 32)))


# ----------------------------------------------------------------- device code
@cuda.jit(device=True)
def _source_rows(src, order, ordered, first, t, tid, nth):
    """``src[r]`` = the data row of tile row ``r``: ``order[first + r]`` or ``first + r``."""
    for r in range(tid, t, nth):
        src[r] = order[first + r] if ordered else first + r


@cuda.jit(device=True)
def _load_inputs(sh, X, src, t, tid, nth):
    """The tile's input rows into ``sh[0 : t * n_features]``."""
    nf = X.shape[1]
    for e in range(tid, t * nf, nth):
        r = e // nf
        sh[e] = X[src[r], e - r * nf]


@cuda.jit(device=True)
def _tile_forward(params, layout, codes, sh, t, drop, step, row0, tid, nth):
    """Every layer's outputs for a tile of ``t`` rows, in shared memory.

    Layer ``i``'s (t, units[i + 1]) block starts at ``sh[t * (units[0] + act_off[i])]``;
    the inputs are at ``sh[0]``.  ``row0`` is the tile's first row within the batch (the
    dropout masks index rows of the batch, as on the CPU).
    """
    n_layers = layout.units.shape[0] - 1
    in_base = 0
    fan_in = layout.units[0]
    base_a = t * layout.units[0]
    for i in range(n_layers):
        fan_out = layout.units[i + 1]
        out_base = base_a + t * layout.act_off[i]
        w0 = layout.coef_off[i]
        b0 = layout.icpt_off[i]
        code = codes.output if i == n_layers - 1 else codes.hidden
        rate = drop.rates[i]
        key = dropout_stream(drop.seed, step, i)
        for e in range(tid, t * fan_out, nth):
            r = e // fan_out
            j = e - r * fan_out
            z = like(params, 0)
            for k in range(fan_in):
                z += sh[in_base + r * fan_in + k] * params[w0 + k * fan_out + j]
            z += params[b0 + j]
            if code != SOFTMAX:
                z = activate(code, z)
                if rate > 0.0:
                    if dropout_keeps(key, (row0 + r) * fan_out + j, rate):
                        z *= like(params, 1.0 / (1.0 - rate))
                    else:
                        z = like(params, 0)
            sh[out_base + e] = z
        cuda.syncthreads()
        if code == SOFTMAX:  # row-wise, one thread a row
            for r in range(tid, t, nth):
                softmax_row(sh, out_base + r * fan_out, fan_out)
            cuda.syncthreads()
        in_base = out_base
        fan_in = fan_out


@cuda.jit(device=True)
def _column_sums(sh, base, t, k, out, out_off, red, tid, nth):
    """``out[out_off + j] += sh[base + 0 * k + j] + ... + sh[base + (t - 1) * k + j]``.

    The (t, k) block's column sums, by the whole block: with at least as many
    columns as threads, a thread per column adds the rows in order; with fewer
    (a 1-wide output layer) each column's rows are split into ``nth // k``
    strided chunks whose partial sums meet in a tree -- no thread adds
    hundreds of rows alone.  Ends with a barrier.
    """
    if k >= nth:
        for j in range(tid, k, nth):
            total = out[out_off + j]
            for r in range(t):
                total += sh[base + r * k + j]
            out[out_off + j] = total
        cuda.syncthreads()
        return
    chunks = nth // k
    j = tid % k
    c = tid // k
    if c < chunks:
        total = like(red, 0)
        for r in range(c, t, chunks):
            total += sh[base + r * k + j]
        red[tid] = total
    cuda.syncthreads()
    stride = 1
    while stride < chunks:
        if c < chunks and c % (2 * stride) == 0 and c + stride < chunks:
            red[tid] += red[tid + stride * k]
        cuda.syncthreads()
        stride *= 2
    if c == 0:
        out[out_off + j] += red[j]
    cuda.syncthreads()


@cuda.jit(device=True)
def _block_sum(red, tid, nth):
    """``red[0] = red[0] + ... + red[nth - 1]`` by a tree (every thread calls it; barriers)."""
    cuda.syncthreads()
    stride = 1
    while stride < nth:
        if tid % (2 * stride) == 0 and tid + stride < nth:
            red[tid] += red[tid + stride]
        cuda.syncthreads()
        stride *= 2


@cuda.jit(device=True)
def _offsets(layout, t):
    """``(activations, deltas, output width, output layer's offset)`` of a ``t``-row tile."""
    n_layers = layout.units.shape[0] - 1
    k = layout.units[n_layers]
    last = layout.act_off[n_layers - 1]
    base_a = t * layout.units[0]
    base_d = base_a + t * (last + k)
    return base_a, base_d, k, last


@cuda.jit(device=True)
def _tile_loss_delta(layout, codes, data, sh, src, t, col_sum, eps, red, tid, nth):
    """Add the tile's loss terms to ``col_sum``; write the output deltas.

    Each element's weighted term goes to the tile's scratch block (after the
    deltas), whose column sums :func:`_column_sums` adds.
    """
    base_a, base_d, k, last = _offsets(layout, t)
    a0 = base_a + t * last
    d0 = base_d + t * last
    s0 = base_d + t * (last + k)
    Y = data.Y
    sw = data.sw
    for e in range(tid, t * k, nth):
        r = e // k
        p = sh[a0 + e]
        y = Y[src[r], e - r * k]
        term = loss_term(codes.loss, p, y, eps)
        d = p - y
        if data.has_sw:
            term = term * sw[src[r]]
            d *= sw[src[r]]
        sh[s0 + e] = term
        sh[d0 + e] = d
    cuda.syncthreads()
    _column_sums(sh, s0, t, k, col_sum, 0, red, tid, nth)


@cuda.jit(device=True)
def _tile_backward(params, grad, layout, codes, sh, t, drop, step, row0, red, tid, nth):
    """Add the tile's raw gradient sums to ``grad``; propagate the deltas down the layers.

    ``grad`` receives ``A_prev.T @ D`` and ``D.sum(0)`` (the CPU's unfinished
    gradient); each thread owns the same elements in every tile.
    """
    n_layers = layout.units.shape[0] - 1
    base_a, base_d, k, last = _offsets(layout, t)
    for i in range(n_layers - 1, -1, -1):
        fan_in = layout.units[i]
        fan_out = layout.units[i + 1]
        d0 = base_d + t * layout.act_off[i]
        p0 = 0 if i == 0 else base_a + t * layout.act_off[i - 1]
        w0 = layout.coef_off[i]
        b0 = layout.icpt_off[i]
        for e in range(tid, fan_in * fan_out, nth):
            kk = e // fan_out
            j = e - kk * fan_out
            s = like(params, 0)
            for r in range(t):
                s += sh[p0 + r * fan_in + kk] * sh[d0 + r * fan_out + j]
            grad[w0 + e] += s
        if i > 0:
            q0 = base_d + t * layout.act_off[i - 1]
            rate = drop.rates[i - 1]
            key = dropout_stream(drop.seed, step, i - 1)
            scale = like(params, 1.0 / (1.0 - rate))
            for e in range(tid, t * fan_in, nth):
                r = e // fan_in
                kk = e - r * fan_in
                s = like(params, 0)
                for j in range(fan_out):
                    s += sh[d0 + r * fan_out + j] * params[w0 + kk * fan_out + j]
                a = sh[p0 + e]
                if rate > 0.0:
                    if dropout_keeps(key, (row0 + r) * fan_in + kk, rate):
                        s = derivative(codes.hidden, a / scale, s * scale)
                    else:
                        s = like(params, 0)
                else:
                    s = derivative(codes.hidden, a, s)
                sh[q0 + e] = s
        # The bias gradient (the deltas' column sums; its barrier ends the layer).
        _column_sums(sh, d0, t, fan_out, grad, b0, red, tid, nth)


@cuda.jit(device=True)
def _batch(params, grad, layout, codes, data, order, ordered, first, n, sw_sum, drop, step,
           rows, eps, alpha, sh, src, col_sum, red, scal, tid, nth):
    """Loss and raw gradient sums of the batch of rows ``first .. first + n`` (of ``order``).

    ``sw_sum`` is the batch's total sample weight (summed on the host).  On
    return (after a barrier) ``scal[0]`` holds ``sw_sum`` and ``scal[1]`` the
    batch's loss, L2 term included; ``grad`` the raw sums.
    """
    n_params = params.shape[0]
    for p in range(tid, n_params, nth):
        grad[p] = like(params, 0)
    for j in range(tid, col_sum.shape[0], nth):
        col_sum[j] = like(params, 0)
    if tid == 0:
        scal[0] = sw_sum
    cuda.syncthreads()
    for row0 in range(0, n, rows):
        t = min(rows, n - row0)
        _source_rows(src, order, ordered, first + row0, t, tid, nth)
        cuda.syncthreads()
        _load_inputs(sh, data.X, src, t, tid, nth)
        cuda.syncthreads()
        _tile_forward(params, layout, codes, sh, t, drop, step, row0, tid, nth)
        _tile_loss_delta(layout, codes, data, sh, src, t, col_sum, eps, red, tid, nth)
        _tile_backward(params, grad, layout, codes, sh, t, drop, step, row0, red, tid, nth)
    # The L2 term: each thread's share of sum(W**2), the shares added by a tree.
    s = like(params, 0)
    for p in range(tid, layout.n_coef, nth):
        s += params[p] * params[p]
    red[tid] = s
    _block_sum(red, tid, nth)
    if tid == 0:
        squares = red[0]
        k = layout.units[layout.units.shape[0] - 1]
        sw_sum = scal[0]
        total = like(params, 0)
        for j in range(k):
            total += col_sum[j] / sw_sum
        # scikit-learn's averaging (the CPU's loss_value): mean over columns for squared
        # error, the sum for poisson, the negated sum for the log-losses.
        if codes.loss == SQUARED_ERROR:
            loss = like(params, 0.5) * (total / like(params, k))
        elif codes.loss == POISSON:
            loss = total
        else:
            loss = -total
        scal[1] = loss + (like(params, 0.5) * alpha) * squares / sw_sum
    cuda.syncthreads()


@cuda.jit(device=True)
def _optimizer_step(params, grad, opt, n_coef, sw_sum, lr, tid, nth):
    """One SGD or Adam step on every parameter, finishing the raw gradient as it reads it."""
    alpha = opt.alpha
    state = opt.state
    if opt.code == ADAM:
        b1 = like(params, opt.hyper[H_BETA_1])
        b2 = like(params, opt.hyper[H_BETA_2])
        one_minus_b1 = like(params, 1.0 - opt.hyper[H_BETA_1])
        one_minus_b2 = like(params, 1.0 - opt.hyper[H_BETA_2])
        epsilon = like(params, opt.hyper[H_EPSILON])
        for p in range(tid, params.shape[0], nth):
            g = (grad[p] + alpha * params[p]) / sw_sum if p < n_coef else grad[p] / sw_sum
            w, m, v = adam_update(params[p], state[0, p], state[1, p], g, lr, b1, one_minus_b1,
                                  b2, one_minus_b2, epsilon)
            params[p] = w
            state[0, p] = m
            state[1, p] = v
    else:
        momentum = like(params, opt.hyper[H_MOMENTUM])
        nesterov = opt.hyper[H_NESTEROV] != 0.0
        for p in range(tid, params.shape[0], nth):
            g = (grad[p] + alpha * params[p]) / sw_sum if p < n_coef else grad[p] / sw_sum
            w, v = sgd_update(params[p], state[0, p], g, lr, momentum, nesterov)
            params[p] = w
            state[0, p] = v


# ---------------------------------------------------------------------- kernels
def _make_kernels(numba_dtype, numpy_dtype):
    """The fused kernels of one float type (shared arrays need a compile-time dtype)."""
    elems = SHARED_BYTES // np.dtype(numpy_dtype).itemsize
    eps_value = np.finfo(numpy_dtype).eps

    @cuda.jit
    def train(params, grad, layout, codes, data, opt, drop, sched, rows):
        """A run of epochs in one block: every batch of ``sched``, then its optimizer step."""
        sh = cuda.shared.array(elems, numba_dtype)
        src = cuda.shared.array(MAX_TILE_ROWS, int64)
        col_sum = cuda.shared.array(MAX_WIDTH, numba_dtype)
        red = cuda.shared.array(MAX_THREADS, numba_dtype)
        scal = cuda.shared.array(2, numba_dtype)
        tid = cuda.threadIdx.x
        nth = cuda.blockDim.x
        eps = like(params, eps_value)
        n_samples = data.X.shape[0]
        cols = col_sum[: layout.units[layout.units.shape[0] - 1]]
        b = 0
        for e in range(sched.starts.shape[0]):
            order = sched.orders[e]
            first = sched.starts[e]
            accumulated = sched.losses[e]
            while first < sched.ends[e]:
                n = min(sched.batch_size, n_samples - first)
                _batch(params, grad, layout, codes, data, order, True, first, n,
                       sched.sw_sums[b], drop, sched.step0 + b, rows, eps, opt.alpha, sh, src,
                       cols, red, scal, tid, nth)
                _optimizer_step(params, grad, opt, layout.n_coef, scal[0],
                                like(params, sched.lrs[b]), tid, nth)
                accumulated += float64(scal[1]) * n
                cuda.syncthreads()  # the step is done before the next batch reads params
                first += n
                b += 1
            if tid == 0:
                sched.losses[e] = accumulated

    @cuda.jit
    def loss_and_grad(params, grad, layout, codes, data, sw_sum, alpha, drop, step, rows, loss):
        """Loss and finished gradient of the whole ``data`` as one batch, in one block."""
        sh = cuda.shared.array(elems, numba_dtype)
        src = cuda.shared.array(MAX_TILE_ROWS, int64)
        col_sum = cuda.shared.array(MAX_WIDTH, numba_dtype)
        red = cuda.shared.array(MAX_THREADS, numba_dtype)
        scal = cuda.shared.array(2, numba_dtype)
        tid = cuda.threadIdx.x
        nth = cuda.blockDim.x
        cols = col_sum[: layout.units[layout.units.shape[0] - 1]]
        n = data.X.shape[0]
        _batch(params, grad, layout, codes, data, src, False, 0, n, sw_sum, drop, step, rows,
               like(params, eps_value), alpha, sh, src, cols, red, scal, tid, nth)
        sw_sum = scal[0]
        for p in range(tid, params.shape[0], nth):  # the CPU's finish=True
            if p < layout.n_coef:
                grad[p] = (grad[p] + alpha * params[p]) / sw_sum
            else:
                grad[p] /= sw_sum
        if tid == 0:
            loss[0] = scal[1]

    @cuda.jit
    def forward(params, layout, codes, X, drop, rows, out):
        """Predict: tiles of ``rows`` rows, one block a tile (grid-stride), no dropout."""
        sh = cuda.shared.array(elems, numba_dtype)
        src = cuda.shared.array(MAX_TILE_ROWS, int64)
        tid = cuda.threadIdx.x
        nth = cuda.blockDim.x
        n = X.shape[0]
        k = out.shape[1]
        for row0 in range(cuda.blockIdx.x * rows, n, cuda.gridDim.x * rows):
            t = min(rows, n - row0)
            _source_rows(src, src, False, row0, t, tid, nth)
            cuda.syncthreads()
            _load_inputs(sh, X, src, t, tid, nth)
            cuda.syncthreads()
            _tile_forward(params, layout, codes, sh, t, drop, 0, 0, tid, nth)
            base_a, base_d, k_out, last = _offsets(layout, t)
            a0 = base_a + t * last
            for e in range(tid, t * k, nth):
                r = e // k
                out[row0 + r, e - r * k] = sh[a0 + e]
            cuda.syncthreads()

    return {"train": train, "loss_and_grad": loss_and_grad, "forward": forward}


_KERNELS = {}


def kernels(dtype):
    """``{"train", "loss_and_grad", "forward"}``: the fused kernels for float ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype not in _KERNELS:
        _KERNELS[dtype] = _make_kernels(float32 if dtype == np.float32 else float64, dtype.type)
    return _KERNELS[dtype]
