"""Register-blocked matrix products for narrow layers, with no BLAS call.

For the products of a small network (a batch of 200 rows through layers a
few dozen units wide) a BLAS call costs more in its fixed overhead -- the
argument checks, packing the operands into buffers, deciding on threads --
than in arithmetic, and OpenBLAS has no small-matrix kernel on AVX2 machines.
These products run here instead, as tiles of ``ROWS x LANES`` outputs kept in
vector registers while the sum runs over its whole length.

Numba leaves its SLP vectorizer off, so straight-line code on scalar
accumulators stays scalar; the tile is therefore written as an LLVM
intrinsic on ``<LANES x float>`` vectors (:func:`_tile_kernel`).  It sums
each output in the order of the sum (index 0 first), each step a
multiply-add (``llvm.fmuladd``: fused where the CPU has FMA, as BLAS does);
no reassociation, no fast-math.

Edges: a product whose width is not a multiple of ``LANES`` places its last
column tile at ``k - LANES``, overlapping the one before; likewise the last
row tile.  The overlapped outputs are computed again in the same order and
written with the same values, so no masked loads or stores are needed --
which is why the tiled path needs ``k >= LANES``.  Narrower products stay
with BLAS (:func:`use_tiles`).
"""

import numpy as np
from llvmlite import binding, ir
from numba.core import cgutils, config, types
from numba.extending import intrinsic

from ._jit import jit

__all__ = ["LANES", "ROWS_F64", "ROWS_F32", "MAX_TERMS", "MAX_PRODUCT", "TILES_F32",
           "use_tiles",
           "tiled_product", "product", "input_delta"]

# Columns of a tile: one <8 x float> (256 bits) or two <4 x double> registers on AVX2.
LANES = 8


def _vector_bytes():
    """The SIMD register width Numba compiles for, in bytes: 64 with AVX-512, else 32.

    Numba targets the host unless ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` say
    otherwise (e.g. ``NUMBA_CPU_NAME=haswell`` to build for AVX2 machines).
    """
    if config.CPU_FEATURES is not None:
        return 64 if "+avx512f" in config.CPU_FEATURES else 32
    if config.CPU_NAME not in (None, "host"):
        return 32  # a named target: assume the common AVX2 register width
    try:
        features = binding.get_host_cpu_features()
    except RuntimeError:  # no feature detection on this platform
        return 32
    return 64 if features.get("avx512f", False) else 32


# Rows of a tile, per dtype: as many rows as keep eight vector registers of
# accumulators in flight -- enough independent multiply-adds to cover their latency
# on two FMA ports, few enough not to spill (AVX2 has 16 registers, AVX-512 32).
VECTOR_BYTES = _vector_bytes()
ROWS_F64 = 8 * VECTOR_BYTES // (LANES * 8)
ROWS_F32 = 8 * VECTOR_BYTES // (LANES * 4)
# float32 tiles are 8 wide, half an AVX-512 register: there OpenBLAS's small-matrix
# kernels are faster (measured: fits 10-25% slower through the tiles), so with AVX-512
# float32 products stay with BLAS.  float64 tiles fill the register.
TILES_F32 = VECTOR_BYTES == 32
# Products of a layer with more weights (fan_in * fan_out) than this go to BLAS: there
# the arithmetic dominates BLAS's fixed cost and its packed kernels are as fast or faster
# (measured for batches of 200 rows: tiles win up to 128 x 128 with AVX2 BLAS, break even
# with AVX-512's small-matrix kernels, lose at 256 x 256).
MAX_TERMS = 128 * 128
# Products with more multiply-adds than this go to BLAS too: it runs them on every core
# (many-row predict), the tiles on one.
MAX_PRODUCT = 1 << 22


def _tile_kernel(rows_of):
    """An intrinsic computing one ``rows x LANES`` tile of ``out = X @ Y``.

    ``rows_of(dtype)`` gives the tile's height for the arrays' dtype (decided
    while compiling: one intrinsic serves both dtypes).

    ``tile(X, x0, xr, xc, Y, y0, yr, out, o0, orow, length)`` sets, for
    ``q < rows`` and ``l < LANES``::

        out.flat[o0 + q*orow + l] = sum(X.flat[x0 + q*xr + s*xc] * Y.flat[y0 + s*yr + l]
                                        for s in range(length))

    summed in the order of ``s``, starting from 0.  Offsets and strides are in
    elements; the arrays' data pointers are used as they are, so any layout
    of X works (A or A.T); Y's tile row and out's tile row must be
    contiguous.  Nothing is checked: the caller keeps every access in bounds.
    """

    @intrinsic
    def tile(typingctx, X, x0, xr, xc, Y, y0, yr, out, o0, orow, length):
        if not all(isinstance(a, types.Array) for a in (X, Y, out)):
            return None
        if not (X.dtype == Y.dtype == out.dtype) or X.dtype not in (types.float32,
                                                                    types.float64):
            return None
        sig = types.void(X, types.intp, types.intp, types.intp, Y, types.intp, types.intp,
                         out, types.intp, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            (x, x0, xr, xc, y, y0, yr, o, o0, orow, length) = args
            rows = rows_of(signature.args[0].dtype)
            ft = context.get_value_type(signature.args[0].dtype)
            vt = ir.VectorType(ft, LANES)
            xdata = context.make_array(signature.args[0])(context, builder, x).data
            ydata = context.make_array(signature.args[4])(context, builder, y).data
            odata = context.make_array(signature.args[7])(context, builder, o).data
            suffix = "v%d%s" % (LANES, "f64" if ft == ir.DoubleType() else "f32")
            fmuladd = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vt, [vt, vt, vt]), "llvm.fmuladd." + suffix)
            zero = ir.Constant(vt, [ir.Constant(ft, 0.0)] * LANES)
            accs = [cgutils.alloca_once_value(builder, zero) for _ in range(rows)]
            undef = ir.Constant(vt, ir.Undefined)
            lane0 = ir.Constant(ir.IntType(32), 0)
            splat_mask = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
            with cgutils.for_range(builder, length, intp=x0.type) as loop:
                s = loop.index
                yptr = builder.gep(ydata, [builder.add(y0, builder.mul(s, yr))])
                yv = builder.load(builder.bitcast(yptr, vt.as_pointer()), align=1)
                xs = builder.add(x0, builder.mul(s, xc))
                for q in range(rows):
                    xi = builder.add(xs, builder.mul(ir.Constant(xr.type, q), xr))
                    xv = builder.load(builder.gep(xdata, [xi]))
                    xb = builder.shuffle_vector(builder.insert_element(undef, xv, lane0),
                                                undef, splat_mask)
                    builder.store(builder.call(fmuladd, [xb, yv, builder.load(accs[q])]),
                                  accs[q])
            for q in range(rows):
                oi = builder.add(o0, builder.mul(ir.Constant(orow.type, q), orow))
                optr = builder.bitcast(builder.gep(odata, [oi]), vt.as_pointer())
                builder.store(builder.load(accs[q]), optr, align=1)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile = _tile_kernel(lambda dtype: ROWS_F64 if dtype == types.float64 else ROWS_F32)
_tile_row = _tile_kernel(lambda dtype: 1)


@jit(inline=True)
def use_tiles(n, m, k):
    """Whether a product with ``n x k`` outputs summed over ``m`` terms suits the tiles.

    (:func:`product` and :func:`input_delta` also keep float32 with BLAS where
    :data:`TILES_F32` is False.)

    Parameters
    ----------
    n, m, k : int
        ``out (n, k) = X (n, m) @ Y (m, k)``.

    Returns
    -------
    bool
    """
    return k >= LANES and m * k <= MAX_TERMS and n * m * k <= MAX_PRODUCT


# Not inlined: one compiled unit per argument layout, however many call sites.
@jit
def tiled_product(X, Y, out):
    """``out = X @ Y`` by register tiles, each output summed in the order of the sum.

    Parameters
    ----------
    X : ndarray of shape (n, m)
        Any strides (a C-contiguous array or the transpose of one).
    Y : ndarray of shape (m, k), C-contiguous, ``k >= LANES``
    out : ndarray of shape (n, k), C-contiguous
        Overwritten.
    """
    n, m = X.shape
    k = Y.shape[1]
    size = X.itemsize
    xr = X.strides[0] // size
    xc = X.strides[1] // size
    yr = Y.strides[0] // size
    orow = out.strides[0] // size
    rows = ROWS_F64 if size == 8 else ROWS_F32
    i = 0
    while i < n:
        if n - i >= rows:
            r = i
        elif n >= rows:
            r = n - rows  # the last row tile overlaps the one before: same values again
        else:
            r = -1
        j = 0
        while j < k:
            c = j if k - j >= LANES else k - LANES  # last column tile overlaps likewise
            if r >= 0:
                _tile(X, r * xr, xr, xc, Y, c, yr, out, r * orow + c, orow, m)
            else:
                _tile_row(X, i * xr, xr, xc, Y, c, yr, out, i * orow + c, orow, m)
            j += LANES
        i = i + rows if r >= 0 else i + 1


@jit(inline=True)
def input_delta(D, W, scratch, D_prev):
    """``D_prev = D @ W.T``: the error a layer sends back to its inputs.

    The tiled product needs the right-hand side's rows contiguous, so ``W.T``
    is first copied into ``scratch``: the layer's weight-gradient buffer,
    which the backward pass fills only afterwards.  A 1-wide layer (single
    output) is an outer product, one multiplication per element.

    Parameters
    ----------
    D : ndarray of shape (n, fan_out)
        dLoss/dZ of the layer.
    W : ndarray of shape (fan_in, fan_out), C-contiguous
    scratch : ndarray of shape (fan_in, fan_out), C-contiguous
        Overwritten (with ``W.T``, when the tiles are used).
    D_prev : ndarray of shape (n, fan_in)
        Written: dLoss/dA of the layer's input (before the activation's derivative).
    """
    n, k = D.shape
    m = W.shape[0]
    if k == 1:
        for r in range(n):
            d = D[r, 0]
            for p in range(m):
                D_prev[r, p] = d * W[p, 0]
    elif use_tiles(n, k, m) and (TILES_F32 or D.itemsize == 8):
        WT = scratch.reshape((k, m))
        for p in range(m):
            for j in range(k):
                WT[j, p] = W[p, j]
        tiled_product(D, WT, D_prev)
    else:
        np.dot(D, W.T, D_prev)


@jit(inline=True)
def product(X, Y, out):
    """``out = X @ Y``: by the tiles for narrow layers (:func:`use_tiles`), else BLAS.

    Parameters
    ----------
    X : ndarray of shape (n, m)
        C-contiguous, or the transpose of a C-contiguous array.
    Y : ndarray of shape (m, k), C-contiguous
    out : ndarray of shape (n, k), C-contiguous
        Overwritten.
    """
    n, m = X.shape
    if use_tiles(n, m, Y.shape[1]) and (TILES_F32 or X.itemsize == 8):
        tiled_product(X, Y, out)
    else:
        np.dot(X, Y, out)
