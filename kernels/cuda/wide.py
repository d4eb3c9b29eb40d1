"""The wide-layer path: cuBLAS matrix products, every elementwise pass one fused kernel.

For layers wider than the fused kernels take, the matrix products dominate
and belong to cuBLAS.  Per mini-batch, on the default stream and without a
host synchronization (the host only enqueues):

1. ``gather``: the batch's rows of X, Y and the weights, in the epoch's order;
2. per layer, ``Z = A @ W`` (cuBLAS), then ``bias_activation`` -- bias,
   activation and dropout in one pass (``softmax_rows`` for a softmax output);
3. ``loss_delta``: the loss's per-column sums and the output deltas in one pass;
4. per layer, ``dW = A_prev.T @ D`` and ``D_prev = D @ W.T`` (cuBLAS),
   ``bias_grad`` (the column sums, rows in order) and ``backward_activation``
   -- the derivative and the dropout mask in one pass;
5. ``loss_l2``: the L2 term's sum of squares, the batch loss and the epoch's
   running loss (one block);
6. ``optimizer_step``: SGD or Adam on the whole flat buffer, finishing the raw
   gradient as it reads it (the fused kernel's device function, grid-strided).

The products go through CuPy (``cupy.matmul`` -> cuBLAS GEMM) on zero-copy
views of Numba's device arrays (``__cuda_array_interface__``): CuPy is the
mature, widely installed way to reach cuBLAS from Python, its matmul picks
the GEMM and its transposes from the views' strides, and it shares the
legacy default stream with Numba's launches, so no synchronization is needed
between the two.  (nvmath-python's stateful ``Matmul`` would plan each shape
once -- a later option; it is a newer, heavier dependency.)  Under Numba's
CUDA simulator, which can't run cuBLAS, :func:`matmul` computes the product
with NumPy on the host instead -- the only host fallback, simulator only, so
every custom kernel here still runs in the CI's simulator tests.  On a GPU
without CuPy a shared-memory tiled kernel (:func:`tiled_matmul`, tested under
the simulator on its own) stands in for cuBLAS: slower, but the wide path
needs nothing beyond numba-cuda.
"""

import numpy as np
from numba import cuda, float64
from numba.core import config

from .._jit import like
from ..registry import POISSON, SOFTMAX, SQUARED_ERROR
from ..scalar import dropout_stream as _host_dropout_stream
from ._device_math import activate, derivative, dropout_keeps, loss_term, softmax_row
from .fused import _block_sum, _optimizer_step

__all__ = ["matmul", "tiled_matmul", "launch_tiled_matmul", "train", "loss_and_grad", "forward",
           "THREADS", "TILE"]

# Threads per block of the elementwise kernels (and of the one-block loss_l2).
THREADS = 256

def matmul(a, b, out, trans_a=False, trans_b=False):
    """``out = op(a) @ op(b)`` on device arrays: cuBLAS (through CuPy) where it is installed.

    Under the simulator, which can't run cuBLAS, NumPy computes the product on
    the host.  On a GPU without CuPy, :func:`tiled_matmul` (a shared-memory
    tiled kernel, slower than cuBLAS) stands in, so the wide path works with
    numba-cuda alone.

    Parameters
    ----------
    a, b : device arrays, 2-D, C-contiguous
    out : device array, 2-D, C-contiguous
        Written in place.
    trans_a, trans_b : bool
        Use the transpose of ``a`` / ``b`` (a strided view: no copy).
    """
    if config.ENABLE_CUDASIM:
        ha = a.copy_to_host()
        hb = b.copy_to_host()
        out.copy_to_device(np.dot(ha.T if trans_a else ha, hb.T if trans_b else hb))
        return
    cupy = _cupy()
    if cupy is None:
        launch_tiled_matmul(a, b, out, trans_a, trans_b)
        return
    ca, cb, co = cupy.asarray(a), cupy.asarray(b), cupy.asarray(out)
    cupy.matmul(ca.T if trans_a else ca, cb.T if trans_b else cb, out=co)


_CUPY = []


def _cupy():
    """CuPy, or None when it is not installed (looked up once)."""
    if not _CUPY:
        try:
            import cupy
        except ImportError:
            cupy = None
        _CUPY.append(cupy)
    return _CUPY[0]


# Edge of the square tiles of :func:`tiled_matmul` (TILE x TILE threads a block).
TILE = 16


@cuda.jit
def tiled_matmul(a, b, out, trans_a, trans_b):
    """``out = op(a) @ op(b)``: one TILE x TILE block per output tile, operands staged in
    shared memory tile by tile (the textbook kernel; cuBLAS's stand-in without CuPy)."""
    sa = cuda.shared.array((TILE, TILE), float64)
    sb = cuda.shared.array((TILE, TILE), float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    n, m = out.shape
    inner = a.shape[0] if trans_a else a.shape[1]
    acc = like(out, 0)
    for t0 in range(0, inner, TILE):
        k = t0 + tx
        if row < n and k < inner:
            sa[ty, tx] = a[k, row] if trans_a else a[row, k]
        else:
            sa[ty, tx] = 0.0
        k = t0 + ty
        if col < m and k < inner:
            sb[ty, tx] = b[col, k] if trans_b else b[k, col]
        else:
            sb[ty, tx] = 0.0
        cuda.syncthreads()
        for kk in range(min(TILE, inner - t0)):
            acc += like(out, sa[ty, kk]) * like(out, sb[kk, tx])
        cuda.syncthreads()
    if row < n and col < m:
        out[row, col] = acc


def launch_tiled_matmul(a, b, out, trans_a=False, trans_b=False):
    """Launch :func:`tiled_matmul` over ``out``'s tiles."""
    n, m = out.shape
    tiled_matmul[(-(-m // TILE), -(-n // TILE)), (TILE, TILE)](a, b, out, trans_a, trans_b)


def _grid(n):
    """``(blocks, threads)`` covering ``n`` items: whole warps, at most THREADS a block."""
    n = max(1, int(n))
    threads = min(THREADS, -(-n // 32) * 32)
    return -(-n // threads), threads


# ------------------------------------------------------------------ kernels
@cuda.jit
def gather(data, order, first, n, xb, yb, swb):
    """Rows ``order[first : first + n]`` of X, Y (and the weights) into the batch buffers."""
    i = cuda.grid(1)
    nf = data.X.shape[1]
    no = data.Y.shape[1]
    if i < n * nf:
        r = i // nf
        xb[r, i - r * nf] = data.X[order[first + r], i - r * nf]
    if i < n * no:
        r = i // no
        yb[r, i - r * no] = data.Y[order[first + r], i - r * no]
    if i < n and data.has_sw:
        swb[i] = data.sw[order[first + i]]


@cuda.jit
def bias_activation(Z, b, code, rate, key):
    """``Z = act(Z + b)``, then inverted dropout at ``rate`` (0: none), one pass."""
    i = cuda.grid(1)
    n, k = Z.shape
    if i < n * k:
        r = i // k
        j = i - r * k
        z = activate(code, Z[r, j] + b[j])
        if rate > 0.0:
            if dropout_keeps(key, i, rate):
                z *= like(z, 1.0 / (1.0 - rate))
            else:
                z = like(z, 0)
        Z[r, j] = z


@cuda.jit
def softmax_rows(Z, b, n):
    """``Z = softmax(Z + b)`` row by row, one thread a row (``scalar.softmax_row``)."""
    r = cuda.grid(1)
    k = Z.shape[1]
    if r < n:
        for j in range(k):
            Z[r, j] += b[j]
        softmax_row(Z[r], 0, k)


@cuda.jit
def loss_delta(out, Y, sw, has_sw, code, eps, D, col_sum):
    """Per column (one thread each, rows in order): the loss's sum and the deltas
    ``(out - Y) sw``."""
    j = cuda.grid(1)
    n, k = out.shape
    if j < k:
        total = like(eps, 0)
        for r in range(n):
            term = loss_term(code, out[r, j], Y[r, j], eps)
            d = out[r, j] - Y[r, j]
            if has_sw:
                term = term * sw[r]
                d *= sw[r]
            total += term
            D[r, j] = d
        col_sum[j] = total


@cuda.jit
def bias_grad(D, db):
    """``db[j] = D[0, j] + D[1, j] + ...``, rows in order (the CPU's column_sums)."""
    j = cuda.grid(1)
    n, k = D.shape
    if j < k:
        total = like(db, 0)
        for r in range(n):
            total += D[r, j]
        db[j] = total


@cuda.jit
def backward_activation(A, D, code, rate, key):
    """``D = D * act'(A)``, through the dropout mask at ``rate`` (0: none), one pass."""
    i = cuda.grid(1)
    n, k = D.shape
    if i < n * k:
        r = i // k
        j = i - r * k
        if rate > 0.0:
            scale = like(A, 1.0 / (1.0 - rate))
            if dropout_keeps(key, i, rate):
                D[r, j] = derivative(code, A[r, j] / scale, D[r, j] * scale)
            else:
                D[r, j] = like(D, 0)
        else:
            D[r, j] = derivative(code, A[r, j], D[r, j])


@cuda.jit
def loss_l2(params, n_coef, alpha, col_sum, sw_sums, b, n, code, partials, scal, losses, epoch):
    """One block: the batch's loss (L2 term included), added to its epoch's.

    ``scal[0]`` receives the batch's total sample weight ``sw_sums[b]``,
    ``scal[1]`` the loss; ``losses[epoch] += loss * n`` unless ``epoch`` < 0.
    """
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    s = like(params, 0)
    for p in range(tid, n_coef, nth):
        s += params[p] * params[p]
    partials[tid] = s
    _block_sum(partials, tid, nth)
    if tid == 0:
        squares = partials[0]
        sw_sum = sw_sums[b]
        k = col_sum.shape[0]
        total = like(params, 0)
        for j in range(k):
            total += col_sum[j] / sw_sum
        if code == SQUARED_ERROR:
            loss = like(params, 0.5) * (total / like(params, k))
        elif code == POISSON:
            loss = total
        else:
            loss = -total
        loss += (like(params, 0.5) * alpha) * squares / sw_sum
        scal[0] = sw_sum
        scal[1] = loss
        if epoch >= 0:
            losses[epoch] += np.float64(loss) * n


@cuda.jit
def optimizer_step(params, grad, opt, n_coef, scal, lrs, b):
    """SGD or Adam on every parameter (grid-strided), the raw gradient finished on the fly."""
    _optimizer_step(params, grad, opt, n_coef, scal[0], like(params, lrs[b]), cuda.grid(1),
                    cuda.gridsize(1))


@cuda.jit
def finish_grad(params, grad, n_coef, alpha, scal):
    """``grad = (grad + alpha W) / sw_sum`` for the weights, ``grad / sw_sum`` for the biases."""
    p = cuda.grid(1)
    if p < params.shape[0]:
        if p < n_coef:
            grad[p] = (grad[p] + alpha * params[p]) / scal[0]
        else:
            grad[p] /= scal[0]


# -------------------------------------------------------------- host driver
class _Net:
    """Views of one network's device buffers for batches of up to ``rows`` rows."""

    def __init__(self, d_params, layout, codes, rows, dtype, drop):
        units = [int(u) for u in layout.units]
        self.units = units
        self.n_layers = len(units) - 1
        self.codes = codes
        self.dtype = dtype
        self.n_coef = int(layout.n_coef)
        self.params = d_params
        self.coef_off = [int(o) for o in layout.coef_off]
        self.icpt_off = [int(o) for o in layout.icpt_off]
        self.act_off = [int(o) for o in layout.act_off]
        size = sum(units[1:])
        self.acts = cuda.device_array(rows * size, dtype=dtype)
        self.deltas = cuda.device_array(rows * size, dtype=dtype)
        self.grad = cuda.device_array(d_params.shape[0], dtype=dtype)
        self.col_sum = cuda.device_array(units[-1], dtype=dtype)
        self.scal = cuda.device_array(2, dtype=dtype)
        self.partials = cuda.device_array(THREADS, dtype=dtype)
        self.rates = (np.zeros(self.n_layers) if drop is None
                      else np.asarray(drop.rates, dtype=np.float64))
        self.seed = np.uint64(0) if drop is None else np.uint64(drop.seed)

    def weights(self, buf, i):
        start = self.coef_off[i]
        return buf[start: start + self.units[i] * self.units[i + 1]].reshape(
            (self.units[i], self.units[i + 1]))

    def intercepts(self, buf, i):
        return buf[self.icpt_off[i]: self.icpt_off[i] + self.units[i + 1]]

    def block(self, buf, n, i):
        start = n * self.act_off[i]
        return buf[start: start + n * self.units[i + 1]].reshape((n, self.units[i + 1]))

    def key(self, step, i):
        """Dropout key of layer ``i`` at ``step`` (the shared hash, on the host)."""
        if self.rates[i] <= 0.0:
            return np.uint64(0)
        with np.errstate(over="ignore"):  # modulo-2**64 arithmetic on NumPy scalars
            return np.uint64(_host_dropout_stream(self.seed, np.int64(step), i))

    def forward(self, X, n, step):
        """Every layer's outputs for the ``n`` rows of ``X`` (training: with dropout)."""
        A = X
        for i in range(self.n_layers):
            Z = self.block(self.acts, n, i)
            matmul(A, self.weights(self.params, i), Z)
            b = self.intercepts(self.params, i)
            last = i == self.n_layers - 1
            code = self.codes.output if last else self.codes.hidden
            if code == SOFTMAX:
                softmax_rows[_grid(n)](Z, b, n)
            else:
                width = self.units[i + 1]
                bias_activation[_grid(n * width)](Z, b, code, self.rates[i],
                                                             self.key(step, i))
            A = Z
        return A

    def loss_and_grad(self, X, Y, sw, has_sw, n, sw_sums, b, alpha, step, losses, epoch):
        """Forward, loss, backward: raw gradient sums in ``self.grad``, loss in ``scal``."""
        out = self.forward(X, n, step)
        last = self.n_layers - 1
        eps = self.dtype.type(np.finfo(self.dtype).eps)
        loss_delta[_grid(self.units[-1])](out, Y, sw, has_sw, self.codes.loss, eps,
                                                      self.block(self.deltas, n, last),
                                                      self.col_sum)
        for i in range(last, -1, -1):
            D = self.block(self.deltas, n, i)
            A_prev = X if i == 0 else self.block(self.acts, n, i - 1)
            matmul(A_prev, D, self.weights(self.grad, i), trans_a=True)
            bias_grad[_grid(self.units[i + 1])](D, self.intercepts(self.grad, i))
            if i > 0:
                D_prev = self.block(self.deltas, n, i - 1)
                matmul(D, self.weights(self.params, i), D_prev, trans_b=True)
                backward_activation[_grid(n * self.units[i])](
                    A_prev, D_prev, self.codes.hidden, self.rates[i - 1], self.key(step, i - 1))
        loss_l2[1, _grid(self.n_coef)[1]](self.params, self.n_coef, alpha, self.col_sum,
                                          sw_sums, b, n, self.codes.loss, self.partials,
                                          self.scal, losses, epoch)


def train(d_params, layout, codes, data, opt, drop, sched, run):
    """A run of epochs, batch by batch from the host (see the module docstring).

    Parameters
    ----------
    d_params : device array (n_params,)
        Trained in place.
    layout : Layout
        The host layout (its tables drive the host loop).
    codes : Codes
    data : Data
        Device arrays.
    opt : Optimizer
        Device state and hyperparameters.
    drop : Dropout or None
        The host group (rates, seed); masks at ``sched.step0 + batch``.
    sched : fused.Schedule
        Device arrays (``losses`` accumulated in place).
    run : schedule.Run
        The same schedule on the host (starts, ends, orders).
    """
    dtype = np.dtype(d_params.dtype)
    bs = int(sched.batch_size)
    net = _Net(d_params, layout, codes, bs, dtype, drop)
    nf, no = net.units[0], net.units[-1]
    xb = cuda.device_array((bs, nf), dtype=dtype)
    yb = cuda.device_array((bs, no), dtype=dtype)
    swb = cuda.device_array(bs, dtype=dtype)
    n_samples = data.X.shape[0]
    n_params = d_params.shape[0]
    b = 0
    for e in range(run.starts.shape[0]):
        first = int(run.starts[e])
        order = sched.orders[e]
        while first < int(run.ends[e]):
            n = min(bs, n_samples - first)
            gather[_grid(n * max(nf, no, 1))](data, order, first, n, xb, yb, swb)
            X, Y, sw = xb[:n], yb[:n], swb[:n]
            net.loss_and_grad(X, Y, sw, data.has_sw, n, sched.sw_sums, b, opt.alpha,
                              int(sched.step0) + b, sched.losses, e)
            optimizer_step[_grid(n_params)](d_params, net.grad, opt, net.n_coef,
                                                       net.scal, sched.lrs, b)
            first += n
            b += 1


def loss_and_grad(d_params, d_grad, layout, codes, data, sw_sum, alpha, drop, step, d_loss):
    """Loss and finished gradient of the whole ``data`` as one batch (L-BFGS).

    Parameters
    ----------
    d_params, d_grad : device arrays (n_params,)
    layout : Layout (host)
    codes : Codes
    data : Data (device)
    sw_sum : float of params' dtype
        The total sample weight.
    alpha : float of params' dtype
    drop : Dropout or None (host)
    step : int
        The dropout step.
    d_loss : device array (1,)
        Receives the loss.
    """
    dtype = np.dtype(d_params.dtype)
    n = data.X.shape[0]
    net = _Net(d_params, layout, codes, n, dtype, drop)
    losses = cuda.device_array(1, dtype=np.float64)
    sw_sums = cuda.to_device(np.array([sw_sum], dtype=dtype))
    net.loss_and_grad(data.X, data.Y, data.sw, data.has_sw, n, sw_sums, 0, alpha, step, losses,
                      -1)
    finish_grad[_grid(d_params.shape[0])](d_params, net.grad, net.n_coef, alpha,
                                                     net.scal)
    d_grad.copy_to_device(net.grad)
    d_loss.copy_to_device(net.scal[1:2])


def forward(d_params, layout, codes, X, d_out):
    """Predict: the output layer's activations of the device array ``X`` into ``d_out``."""
    dtype = np.dtype(d_params.dtype)
    n = X.shape[0]
    net = _Net(d_params, layout, codes, n, dtype, None)
    d_out.copy_to_device(net.forward(X, n, 0))
