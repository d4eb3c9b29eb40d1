"""Forward and backward passes through a stack of dense layers.

All parameters live in ONE flat buffer ``params`` laid out as scikit-learn's
``_pack`` does: every layer's weights (row-major, shape (fan_in, fan_out)),
then every layer's intercepts; the gradient buffer has the same layout.  The
``Layout`` group (``groups``) says where layer ``i`` starts.

Activations and deltas of a batch of ``n`` rows live in flat workspaces: layer
``i``'s (n, units[i + 1]) block starts at ``n * layout.act_off[i]``.  The
workspaces are allocated once per fit for the largest batch and reused by
every batch.
"""

from ._jit import jit, like
from .alloc import new_vector, stack_vector
from .blas import vdot
from .borrow import borrowed
from .dropout import dropout_backward, dropout_forward
from .labels import argmax_rows_into
from .packed import unpack
from .registry import IDENTITY
from .scalar import dropout_stream
from .small import (few_rows_forward_product, forward_product, input_delta, lanes, product,
                    tiled_column_sums)
from .views import matrix_view


@jit(inline=True)
def _weights(buf, layout, i):
    fan_in = layout.units[i]
    fan_out = layout.units[i + 1]
    start = layout.coef_off[i]
    return matrix_view(buf[start : start + fan_in * fan_out], fan_in, fan_out)


@jit(inline=True)
def _intercepts(buf, layout, i):
    start = layout.icpt_off[i]
    return buf[start : start + layout.units[i + 1]]


@jit(inline=True)
def block(work, layout, n, i):
    """Layer i's (n, units[i + 1]) block of an activation/delta workspace."""
    start = n * layout.act_off[i]
    width = layout.units[i + 1]
    return matrix_view(work[start : start + n * width], n, width)


# Below this width a column's sum runs in a register, column by column; from a tile's width
# (``small.lanes``) up, a group of columns at a time in vector registers; in between (float32
# 8 to 15 columns), row by row over all columns at once.  All add the rows in order.
NARROW = 8


# NumPy's PW_BLOCKSIZE: pairwise_sum adds up to this many elements with eight accumulators.
PAIRWISE_BLOCK = 128


# Deep enough for any array: each level halves the rows.
_PAIRWISE_DEPTH = 64


@jit(inline=True)
def _pairwise_block(D, c, start, n):
    """One leaf of NumPy's ``pairwise_sum``: ``n <= PAIRWISE_BLOCK`` rows."""
    if n < 8:
        total = like(D, 0)
        for r in range(start, start + n):
            total += D[r, c]
        return total
    r0 = D[start, c]
    r1 = D[start + 1, c]
    r2 = D[start + 2, c]
    r3 = D[start + 3, c]
    r4 = D[start + 4, c]
    r5 = D[start + 5, c]
    r6 = D[start + 6, c]
    r7 = D[start + 7, c]
    whole = n - n % 8
    for i in range(start + 8, start + whole, 8):
        r0 += D[i, c]
        r1 += D[i + 1, c]
        r2 += D[i + 2, c]
        r3 += D[i + 3, c]
        r4 += D[i + 4, c]
        r5 += D[i + 5, c]
        r6 += D[i + 6, c]
        r7 += D[i + 7, c]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(start + whole, start + n):
        total += D[i, c]
    return total


@jit
def pairwise_column_sum(D, c, n):
    """``D[:n, c]`` summed as NumPy's ``pairwise_sum`` does, bit for bit.

    Up to ``PAIRWISE_BLOCK`` rows: below 8 in order, else eight accumulators
    combined as ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`` and the rest
    in order.  Above, the sum of the first ``h`` rows plus that of the others,
    ``h`` half the rows rounded down to a multiple of 8, each summed so again --
    NumPy's recursion, walked here with an explicit stack (the kernels'
    ``jit`` does not compile self-calls).  ``np.sum`` of one contiguous column
    is ``0 + pairwise_sum``.

    Parameters
    ----------
    D : ndarray of shape (rows, k)
    c, n : int
        The column and the number of rows (``n <= rows``).

    Returns
    -------
    total : float of D's dtype
    """
    # Frame f: the right part (right_start[f], right_len[f]) of a split, and the left
    # part's sum once known (has_left[f]).
    right_start = stack_vector(n, _PAIRWISE_DEPTH)
    right_len = stack_vector(n, _PAIRWISE_DEPTH)
    has_left = stack_vector(n, _PAIRWISE_DEPTH)
    left_sum = stack_vector(D, _PAIRWISE_DEPTH)
    frames = 0
    start = 0
    rows = n
    while True:
        while rows > PAIRWISE_BLOCK:
            half = rows // 2
            half -= half % 8
            right_start[frames] = start + half
            right_len[frames] = rows - half
            has_left[frames] = 0
            frames += 1
            rows = half
        value = _pairwise_block(D, c, start, rows)
        # Hand the value up: a left part waits for its right part, a right part completes
        # its frame.
        descend = False
        while frames > 0 and not descend:
            f = frames - 1
            if has_left[f] == 0:
                left_sum[f] = value
                has_left[f] = 1
                start = right_start[f]
                rows = right_len[f]
                descend = True
            else:
                value = left_sum[f] + value
                frames -= 1
        if not descend:
            return value


@jit(inline=True)
def column_sums(D, out):
    """``out[c] = D[0, c] + D[1, c] + ... + D[n-1, c]``: NumPy's ``np.sum(D, axis=0)``.

    Bit for bit scikit-learn's ``np.sum(D, axis=0)``: with two or more columns
    NumPy adds the rows in order, and every loop shape below adds in that order,
    so the result does not depend on which one runs; one column NumPy sums
    pairwise, and so does ``pairwise_column_sum`` here.  The row-by-row loop
    keeps the sums in memory and waits for each row's stores, ~3 ns a row; the
    other two keep them in registers (200 x 16 float64: 0.48 us with the row
    loop, 0.22 now: ``python -m bench.anatomy passes`` on both).

    Parameters
    ----------
    D : ndarray of shape (n, k), rows contiguous
    out : ndarray of shape (k,)
        Written.
    """
    n, k = D.shape
    if k >= lanes(D.itemsize):
        tiled_column_sums(D, out)
        return
    if k == 1:
        # NumPy's own order (one column is one contiguous run for np.sum), so that a
        # one-output network's intercept gradient is scikit-learn's bit for bit; as fast
        # as the one chain of additions it replaces (200 rows: 0.10 us either way, `python
        # -m bench.anatomy passes`).
        out[0] = like(out, 0) + pairwise_column_sum(D, 0, n)
        return
    if k < NARROW:
        for c in range(k):
            total = like(out, 0)
            for r in range(n):
                total += D[r, c]
            out[c] = total
        return
    for c in range(k):
        out[c] = like(out, 0)
    for r in range(n):
        for c in range(k):
            out[c] += D[r, c]


@jit(inline=True)
def _layer_code(codes, n_layers, i):
    return codes.output if i == n_layers - 1 else codes.hidden


@jit
def dense_forward(params, layout, codes, X, acts, drop):
    """Forward pass: every layer's activations for a batch.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        The flat parameter buffer.
    layout : Layout
    codes : Codes
        ``codes.hidden``, ``codes.output`` and ``codes.tiles_forward`` are used.
    X : ndarray of shape (n, units[0]), C-contiguous
        The input batch.
    acts : ndarray of shape (>= n * sum(units[1:]),)
        Workspace receiving each layer's output (after dropout, where applied).
    drop : Dropout or None
        Training-time dropout of the hidden layers, or None (``groups.NO_DROPOUT``):
        then Numba prunes the dropout branch while compiling.

    Returns
    -------
    out : ndarray of shape (n, units[-1])
        A view of the output layer's block of ``acts``.
    """
    n = X.shape[0]
    n_layers = layout.units.shape[0] - 1
    A = X
    for i in range(n_layers):
        Z = block(acts, layout, n, i)
        forward_product(A, _weights(params, layout, i), _intercepts(params, layout, i),
                        _layer_code(codes, n_layers, i), Z, codes.tiles_forward)
        # `is not None` alone in the condition: Numba prunes it for drop=None.
        if drop is not None:
            if drop.rates[i] > 0.0:
                dropout_forward(Z, dropout_stream(drop.seed, drop.step[0], i), drop.rates[i])
        A = Z
    return A


@jit(inline=True)
def all_finite(values, start, stop):
    """Whether ``values[start:stop]`` holds no NaN and no infinity.

    ``x - x`` is 0 unless ``x`` is NaN or infinite; an AND over the whole range,
    without an early exit, and over one flat run of memory, so that the loop
    vectorizes.  (The same test over a 2-D array's rows and columns runs its
    inner loop a row, ``n_features`` values, at a time: 25 us for 3855 x 10
    float64 values against 2.9 us flat, ``python -m bench.anatomy passes``.)

    Parameters
    ----------
    values : ndarray of shape (n,)
        Contiguous, e.g. ``X.reshape(X.size)`` of a C-contiguous ``X``.
    start, stop : int

    Returns
    -------
    bool
    """
    # Indexed from 0 in a view, not from ``start``: with an index that might be negative
    # Numba's wraparound test stays in the loop and the loop ran 3x slower (12.1 us above).
    run = values[start:stop]
    finite = True
    for i in range(run.shape[0]):
        v = run[i]
        finite &= (v - v) == 0
    return finite


@jit
def predict_forward(params, layout, codes, X, acts):
    """:func:`dense_forward` of the one-call predict (no dropout): each layer by
    ``small.few_rows_forward_product``, which the training kernels leave out.

    Parameters and return value as :func:`dense_forward`'s.
    """
    n = X.shape[0]
    n_layers = layout.units.shape[0] - 1
    A = X
    for i in range(n_layers):
        Z = block(acts, layout, n, i)
        few_rows_forward_product(A, _weights(params, layout, i), _intercepts(params, layout, i),
                                 _layer_code(codes, n_layers, i), Z, codes.tiles_forward)
        A = Z
    return A


@jit
def dense_forward_if_finite(params, packed, X):
    """:func:`predict_forward` into fresh activations, unless ``X`` holds NaN or infinity.

    The lean predict path's entry point: it checks finiteness here, in the
    same compiled call, instead of a separate ``np.isfinite(X).all()`` pass in
    Python, allocates the activations here too (no ``np.empty`` call from
    Python), and takes the layout and codes packed into one vector
    (``packed``: fewer arguments to unbox a call).

    Parameters
    ----------
    params : ndarray of shape (n_params,)
    packed : ndarray of shape (4 * n_layers + 9,), int64
        ``packed.pack(layout, codes)``: the network's ``Layout`` and ``Codes``.
    X : ndarray of shape (n, units[0]), C-contiguous

    Returns
    -------
    out : ndarray of shape (n, units[-1]), or of shape (0, units[-1])
        The output layer's activations, a view of the activations of every
        layer; the empty array when some value of ``X`` is not finite (nothing
        is computed then).
    """
    # Borrowed (see ``borrow``): the inputs only; the activations' view goes back to Python.
    params, packed, X = borrowed((params, packed, X))
    layout, codes = unpack(packed)
    n = X.shape[0]
    last = layout.units.shape[0] - 2
    acts = new_vector(params, n * (layout.act_off[last] + layout.units[last + 1]))
    if not all_finite(X.reshape(X.size), 0, X.size):
        return acts[:0].reshape((0, layout.units[last + 1]))
    return predict_forward(params, layout, codes, X, acts)


@jit
def dense_argmax_if_finite(params, packed, X):
    """Each row's index of its largest output (``np.argmax(out, axis=1)`` of
    :func:`dense_forward_if_finite`), in the same call: ``MLPClassifier.predict`` of
    a few rows, which then makes no NumPy call of its own for the argmax.

    Parameters
    ----------
    As :func:`dense_forward_if_finite`.

    Returns
    -------
    index : ndarray of shape (n,), int64, or of shape (0,)
        The empty array when some value of ``X`` is not finite.
    """
    out = dense_forward_if_finite(params, packed, X)
    index = new_vector(packed, out.shape[0])  # int64, as the packed groups
    argmax_rows_into(out, index)
    return index


# Many-row forward passes run a chunk of rows at a time (:func:`dense_forward_rows`), so
# that a chunk's activations stay in cache: 10 000 rows of a (64, 64) network would
# otherwise write 10 MB of fresh memory.  A chunk holds at most this many activations ...
CHUNK_VALUES = 1 << 16
# ... unless that leaves fewer rows than this: wide layers need tall products for BLAS to run
# at its rate.  (784, 1024, 1024, 1) float32, 10 000 rows, one thread (AVX2): 31-row chunks
# (CHUNK_VALUES alone) 1150 ms, 128 rows 594, 512 rows 469, unchunked 403 ms (scikit-learn
# 458); (64, 100, 10) float64 (AVX-512, `python -m bench.anatomy chunks digits`): chunks of
# 595 rows 3.60 ms, 1024 rows 3.57, 2048 rows 3.80.
CHUNK_MIN_ROWS = 512
# ... and networks with a layer of at least WIDE_WEIGHTS weights take chunks of at least
# WIDE_ROWS rows.  (784, 1024, 1024, 1) float32, 10 000 rows, AVX-512 (OpenBLAS SkylakeX),
# one thread (`python -m bench.anatomy chunks large --dtypes float32 --sizes
# 512,2048,4096,10000`): 512-row chunks 252 ms, 2048 232, 4096 233, unchunked 241;
# (100, 256, 256, 1) (65 536 weights, `chunks medium`): 512 to 4096 rows within 3% of each
# other, unchunked 29% slower in float64.
WIDE_WEIGHTS = 512 * 512
WIDE_ROWS = 2048


def chunk_rows(layer_units):
    """Rows per chunk of :func:`dense_forward_rows` for a network (plain Python).

    Parameters
    ----------
    layer_units : sequence of int
        Widths of every layer, input first.

    Returns
    -------
    int
        At least :data:`CHUNK_MIN_ROWS` (:data:`WIDE_ROWS` with a layer of
        :data:`WIDE_WEIGHTS` weights or more); ``acts`` of a many-row pass holds
        ``chunk_rows * sum(units[1:])`` values, at most :data:`CHUNK_VALUES` where
        that leaves enough rows.
    """
    units = [int(u) for u in layer_units]
    widest = max(a * b for a, b in zip(units[:-1], units[1:]))
    least = WIDE_ROWS if widest >= WIDE_WEIGHTS else CHUNK_MIN_ROWS
    return max(least, CHUNK_VALUES // sum(units[1:]))


@jit
def dense_forward_rows(params, layout, codes, X, acts, out, check):
    """:func:`dense_forward` of many rows, chunk by chunk, into ``out``.

    Parameters
    ----------
    params, layout, codes
        As :func:`dense_forward`.
    X : ndarray of shape (n, units[0]), C-contiguous
    acts : ndarray of shape (chunk * sum(units[1:]),)
        Workspace for ``chunk >= 1`` rows (:func:`chunk_rows`).
    out : ndarray of shape (n, units[-1])
        Receives the output layer's activations.
    check : bool
        Whether to check that ``X`` is finite, a chunk at a time, before computing it.

    Returns
    -------
    finite : bool
        False when ``check`` found NaN or infinity (``out`` is then incomplete).
    """
    params, layout, codes, X, acts, out = borrowed((params, layout, codes, X, acts, out))
    n, n_features = X.shape
    values = X.reshape(X.size)
    n_layers = layout.units.shape[0] - 1
    chunk = acts.shape[0] // (layout.act_off[n_layers - 1] + layout.units[n_layers])
    k = out.shape[1]
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        rows = X[start:stop]
        if check and not all_finite(values, start * n_features, stop * n_features):
            return False
        result = dense_forward(params, layout, codes, rows, acts, None)
        for r in range(stop - start):
            for c in range(k):
                out[start + r, c] = result[r, c]
    return True


@jit
def dense_backward(params, grad, layout, codes, X, acts, deltas, alpha, sw_sum, finish, drop):
    """Backward pass: the gradient of the loss w.r.t. every parameter.

    On entry the output layer's block of ``deltas`` holds dLoss/dZ of the
    output (see ``losses.output_delta``).  For each layer, as scikit-learn's
    ``_compute_loss_grad``::

        dW = (A_prev.T @ D + alpha * W) / sw_sum
        db = D.sum(axis=0) / sw_sum
        D_prev = (D @ W.T) * act'(A_prev)

    Parameters
    ----------
    params, grad : ndarray of shape (n_params,)
        Flat parameters (read) and flat gradient (written).
    layout : Layout
    codes : Codes
        ``codes.hidden``, ``codes.tiles_backward`` and ``codes.tiles_backward_from`` are
        used.
    X : ndarray of shape (n, units[0])
        The input batch.
    acts, deltas : ndarray
        Workspaces: activations from :func:`dense_forward`; deltas (written).
    alpha, sw_sum : float of params' dtype
        L2 strength and the batch's total sample weight (n when unweighted).
    finish : bool
        True: ``grad`` receives the gradient above.  False: only the raw sums
        ``A_prev.T @ D`` and ``D.sum(axis=0)``; the training epoch leaves the
        ``+ alpha * W`` and ``/ sw_sum`` to the optimizer step, which reads
        the buffer anyway (``optimizers``).
    drop : Dropout or None
        The dropout the forward pass applied (the same masks are recomputed).
    """
    n = X.shape[0]
    n_layers = layout.units.shape[0] - 1
    for i in range(n_layers - 1, -1, -1):
        D = block(deltas, layout, n, i)
        if i == 0:
            A_prev = X
        else:
            A_prev = block(acts, layout, n, i - 1)
        W = _weights(params, layout, i)
        dW = _weights(grad, layout, i)
        fan_in, fan_out = W.shape
        # This layer's backward products take the tiles only from the policy's fan-in on.
        limit = codes.tiles_backward if fan_in >= codes.tiles_backward_from else 0
        if i > 0:
            # Before dW: input_delta may use dW's buffer as scratch.
            D_prev = block(deltas, layout, n, i - 1)
            dropped = False
            if drop is not None:
                if drop.rates[i - 1] > 0.0:
                    input_delta(D, W, dW, D_prev, A_prev, IDENTITY, limit)
                    dropout_backward(A_prev, D_prev,
                                     dropout_stream(drop.seed, drop.step[0], i - 1),
                                     drop.rates[i - 1], codes.hidden)
                    dropped = True
            if not dropped:
                # The activation's derivative is applied as the product is stored.
                input_delta(D, W, dW, D_prev, A_prev, codes.hidden, limit)
        product(A_prev.T, D, dW, dW.size, limit)
        db = _intercepts(grad, layout, i)
        column_sums(D, db)
        if finish:
            for r in range(fan_in):
                for c in range(fan_out):
                    dW[r, c] = (dW[r, c] + alpha * W[r, c]) / sw_sum
            for c in range(fan_out):
                db[c] /= sw_sum


@jit
def l2_penalty(params, n_coef, alpha, sw_sum):
    """scikit-learn's per-batch L2 term: 0.5 * alpha * sum(W**2) / sw_sum.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Flat parameters; the first ``n_coef`` entries are all the weights.
    n_coef : int
    alpha, sw_sum : float of params' dtype

    Returns
    -------
    penalty : float of params' dtype
    """
    coefs = params[:n_coef]
    return (like(params, 0.5) * alpha) * vdot(coefs, coefs) / sw_sum
