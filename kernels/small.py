"""Register-blocked matrix products for narrow layers, with no BLAS call.

For the products of a small network (a batch of 200 rows through layers a
few dozen units wide) a BLAS call costs more in its fixed overhead -- the
argument checks, packing the operands into buffers, deciding on threads --
than in arithmetic, and OpenBLAS has no small-matrix kernel on AVX2 machines.
These products run here instead, as tiles of ``rows x lanes`` outputs kept in
vector registers while the sum runs over its whole length (``lanes``: 8 float64
or 16 float32 columns, :func:`lanes`).

Numba leaves its SLP vectorizer off, so straight-line code on scalar
accumulators stays scalar; the tile is therefore written as an LLVM
intrinsic on ``<lanes x float>`` vectors (:func:`_tile_kernel`).  It sums
each output in the order of the sum (index 0 first), each step a
multiply-add (``llvm.fmuladd``: fused where the CPU has FMA, as BLAS does);
no reassociation, no fast-math.

Edges: a product whose width is not a multiple of ``lanes`` places its last
column tile at ``k - lanes``, overlapping the one before; likewise the last
row tile.  The overlapped outputs are computed again in the same order and
written with the same values, so no masked loads or stores are needed --
which is why the tiled path needs ``k >= lanes``.  Narrower products stay
with BLAS (:func:`use_tiles`), except in many-row predict, where products
from half that width take half-width tiles (:func:`rows_forward_product`).
Predicting fewer rows than a tile (one row, say), the products take long
one-row tiles instead (:func:`few_rows_forward_product`).
"""

from llvmlite import binding, ir
from numba.core import cgutils, config, types
from numba.extending import intrinsic

from ._jit import jit
from .activations import activation_backward, bias_activation_forward
from .blas import matmul_into
from .borrow import borrowed_matrix
from .registry import IDENTITY, LOGISTIC, RELU, TANH
from .scalar import derivative

__all__ = ["LANES", "LANES_F32", "ROWS_F64", "ROWS_F32", "WIDE_LANES", "WIDE_LANES_F32",
           "WIDE_ROWS", "WIDE_TILES", "HALF_ROWS_F64", "HALF_ROWS_F32",
           "HALF_F32_MAX_SUM", "MAX_TERMS", "MAX_TERMS_BACKWARD", "MIN_FAN_IN_BACKWARD",
           "LONG_LANES", "LONG_LANES_F32", "MAX_PRODUCT", "lanes", "wide_lanes", "long_lanes",
           "tile_rows", "tile_limits", "use_tiles", "use_half_tiles",
           "PLAIN", "DERIVATIVE", "BIAS_ACT", "tiled_product", "half_tiled_product", "product",
           "forward_product", "rows_forward_product", "few_rows_forward_product",
           "long_row_product",
           "input_delta", "tiled_column_sums"]

# Columns of a tile: float64 tiles are 8 wide (two <4 x double> registers on AVX2, one on
# AVX-512), float32 tiles 16 (two <8 x float> on AVX2).  Two registers a row, so that a
# step of the sum loads one broadcast per two multiply-adds: with one register a row
# (8-wide float32 tiles, measured) the loads, not the multiply-adds, set the pace.
LANES = 8
LANES_F32 = 16


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
ROWS_F32 = 8 * VECTOR_BYTES // (LANES_F32 * 4)
# Wide tiles, for products at least WIDE_LANES (float64) / WIDE_LANES_F32 columns wide: two
# registers a row on AVX-512, eight rows, so sixteen accumulators (of its 32 registers) and
# one broadcast load per two multiply-adds.  The one-register rows above were load-bound
# there (nine loads, a row address computed for each, per eight multiply-adds).  Forward
# products, one thread (`python -m bench.tiles`), narrow -> wide tiles: float64 32x64
# 14.1 -> 10.4 us, 64x64 25.3 -> 19.1, 64x100 43.8 -> 36.2, 128x128 139 -> 86; float32 32x64
# 6.7 -> 5.3, 64x64 12.5 -> 9.4, 128x128 66 -> 38.  (Four rows of two registers, eight
# accumulators, gained little: 64x64 float64 23 us; twelve rows helped 128x128 and lost at
# 64 wide.)  With 16 registers AVX2 has no room for them: its products keep the narrow tiles
# (WIDE_TILES False); the wide kernel is built there only with two rows, for the tests
# (which call ``_tiles`` with ``wide``).
WIDE_LANES = 2 * LANES
WIDE_LANES_F32 = 2 * LANES_F32
WIDE_TILES = VECTOR_BYTES == 64
WIDE_ROWS = 8 if WIDE_TILES else 2
# Half-width tiles, for products from half a tile's width (4 float64 / 8 float32 columns) to
# just under a whole one: one register a row, twice the rows, so the same number of
# accumulators.  Below a whole tile's width the products went to BLAS and, in the forward
# pass, a separate bias pass.  AVX2 (`python -m bench.tiles --shapes ...`, 200 rows, one
# thread, BLAS time / tiles time, forward and weight gradient): float64 16x4 1.7-1.9 /
# 2.2-2.4, 20x4 1.8 / 2.0, 64x4 1.4 / 2.5, 32x6 1.1 / 1.6, 100x6 1.0 / 1.5, 64x7 1.3 / 1.8;
# float32 (one broadcast load per multiply-add: load-bound, as the 8-wide tiles below) 2x8
# 2.6-2.7 / 2.9-3.0, 10x8 1.4-1.5 / 1.9, 20x8 1.1-1.2 / 1.7, 32x8 0.91-0.97 / 1.7, 64x12 0.61-0.68 /
# 1.05, 100x10 0.53-0.58 / 0.84-0.88.  So float32 takes them only for sums of up to
# HALF_F32_MAX_SUM terms (a layer's fan-in in the forward pass: e.g. the (2, 8) hidden
# layer of the vending machine's network).  Only many-row predict uses them
# (rows_forward_product: see there why training does not).  AVX-512 (Intel Emerald Rapids,
# OpenBLAS SkylakeX), 10 000 rows, plain products: float32 2x8 1.41-1.66, 5x8 1.07-1.19, 10x8
# 1.03-1.06, 20x8 1.80-1.82, 2x12 0.94-1.01, 20x12 1.19-1.27; float64 2x4 1.46-1.50, 5x6 0.68,
# 20x4 0.94-1.12, 20x7 1.83-1.86, 64x4 1.51-1.62 -- and BLAS's side still owes the bias pass
# that the tiles' stores fuse (24-29 us for 10 000 x 8 float32).  Vending machine float32,
# 10 000-row predict (`python -m bench.anatomy predict vending`, three rounds, BLAS -> half
# tiles): 103-109 -> 69-76 us; float64 (whole tiles there) unchanged.  The first many-row
# predict on a cold cache compiles them there now: 1.48 -> 1.68 s CPU float32, 1.35 -> 1.49
# float64 (a scratch script, two rounds each).
HALF_ROWS_F64 = 2 * ROWS_F64
HALF_ROWS_F32 = 2 * ROWS_F32
HALF_F32_MAX_SUM = 20
# Long one-row tiles, for products of fewer rows than a tile (predicting a few rows): one
# row, as many columns as a whole tile holds outputs (ROWS_F64 x LANES float64, ROWS_F32 x
# LANES_F32 float32: 32 / 64 on AVX2), so the same eight registers of accumulators.  The
# one-row tiles above keep one or two registers, each a chain of fan-in multiply-adds, one
# after another: latency-bound.  Only predict uses them (few_rows_forward_product).
LONG_LANES = ROWS_F64 * LANES
LONG_LANES_F32 = ROWS_F32 * LANES_F32
# Layers with more weights (fan_in * fan_out) than these go to BLAS: MAX_TERMS in the
# forward product, MAX_TERMS_BACKWARD in the two of the backward pass (input delta, weight
# gradient).  Beyond them the arithmetic dominates BLAS's fixed cost and its packed kernels
# are as fast or faster.  They are the defaults a network's kernels get (``tile_limits``,
# in ``Codes.tiles_forward`` / ``tiles_backward`` / ``tiles_backward_from``: runtime
# values, so that one compiled kernel serves any policy and the tests run both paths on
# every CPU).  Measured
# for batches of 200 rows, one thread (`python -m bench.tiles`, issue 15), BLAS time /
# tiles time, plain products (no epilogue):
#
#   AVX2 (OpenBLAS Haswell)  10x16  20x100  64x100  64x64  128x128  100x256  256x256
#   float64 forward           1.84    1.27    1.37   1.14     1.07     0.98     0.73
#   float64 weight gradient   1.82    1.31    1.19   1.29     1.23     0.96     0.79
#   float32 forward           1.88    1.12    1.01   1.14     1.10     0.88     1.06
#   float32 weight gradient   2.95    1.48    1.16   1.34     1.27     1.16     1.05
#
#   AVX-512 (OpenBLAS SkylakeX, Intel Rocket Lake; wide tiles from 16 float64 / 32 float32
#   columns, narrow below)
#                            10x16  20x100  64x100  64x64  128x128  100x256  256x256
#   float64 forward           1.12    0.98    1.28   1.07     1.16     1.09     1.17
#   float64 weight gradient   0.74    0.82    1.21   1.00     1.14     0.97     0.98
#   float32 forward           1.08    0.95    1.12   1.03     1.41     1.11     1.04
#   float32 weight gradient   0.84    0.76    1.11   0.95     1.13     1.09     1.10
#
# (float32 tiles 8 wide -- one register a row, one broadcast load per multiply-add --
# were load-bound and lost to BLAS from 64x64 on AVX2: 0.89-0.95.  With AVX-512, before
# the wide tiles, OpenBLAS's small-matrix kernels beat the narrow tiles almost everywhere:
# 0.51-0.93 in float64.)  The gradients of layers with few inputs (10, 20: few output
# rows) stay faster in BLAS, so on AVX-512 a layer's backward products take the tiles from
# MIN_FAN_IN_BACKWARD inputs on.  Fits by policy (`python -m bench.anatomy policy mid`,
# `policy digits`, ..., three fits a sample, min of two interleaved rounds, ms, float64 /
# float32): backward from 32 inputs -- mid 306 / 170, digits 215 / 125, small 51.5 / 28.0,
# tiny 9.3 / 8.2; backward all BLAS -- mid 369 / 175, digits 236 / 132, small 49.0 / 27.5,
# tiny 9.5 / 8.0 (small and tiny run the same code under both: their spread is noise);
# all tiles -- mid 338 / 175, digits 216 / 123, small 54.8 / 30.2; all BLAS -- mid 337 /
# 185, digits 251 / 135.  The forward tiles also fuse bias and relu into their stores:
# predict 10 000 rows of mid 1761 us against 2638 all BLAS.  Medium (100x256, 256x256) is
# no faster with 256x256 forward limits (`policy medium --policies ...`: 879 against 895 ms
# float64), so MAX_TERMS stays 128 x 128.
# (On an AMD Zen 4 AVX-512 machine the narrow float64 tiles had measured break-even with BLAS.)
MAX_TERMS = 128 * 128
MAX_TERMS_BACKWARD = MAX_TERMS
MIN_FAN_IN_BACKWARD = 32 if WIDE_TILES else 0
# Products with more multiply-adds than this go to BLAS too: it runs them on every core
# (many-row predict), the tiles on one.
MAX_PRODUCT = 1 << 22


# What a tile does with its sums before storing them (``mode`` of the tile intrinsic).
PLAIN = 0  # out = X @ Y
DERIVATIVE = 1  # out = derivative(code, E, X @ Y): E the layer's outputs (input_delta)
BIAS_ACT = 2  # out = activate(code, X @ Y + E): E the intercepts; code RELU or IDENTITY


def _epilogue(builder, mode, code, acc, e):
    """The vector a tile stores, from its sums ``acc`` and the matching vector ``e`` of E.

    ``mode`` and ``code`` are Python ints here (one branch of the tile's switch):
    the same operations, in the same order, as ``scalar.derivative`` and
    ``scalar.activate`` do on one element.
    """
    zero = ir.Constant(acc.type, [ir.Constant(acc.type.element, 0.0)] * acc.type.count)
    one = ir.Constant(acc.type, [ir.Constant(acc.type.element, 1.0)] * acc.type.count)
    if mode == DERIVATIVE:
        if code == RELU:  # a == 0 -> 0, else d
            return builder.select(builder.fcmp_ordered("==", e, zero), zero, acc)
        if code == TANH:  # d * (1 - a * a)
            return builder.fmul(acc, builder.fsub(one, builder.fmul(e, e)))
        if code == LOGISTIC:  # d * a * (1 - a)
            return builder.fmul(builder.fmul(acc, e), builder.fsub(one, e))
        return acc
    if mode == BIAS_ACT:
        z = builder.fadd(acc, e)
        if code == RELU:  # z < 0 -> 0, else z (NaN stays NaN)
            return builder.select(builder.fcmp_ordered("<", z, zero), zero, z)
        return z
    return acc


# The (mode, code) pairs with an epilogue of their own; every other pair stores the plain
# sums (the callers send only these: see forward_product and input_delta).
_EPILOGUES = [(DERIVATIVE, RELU), (DERIVATIVE, TANH), (DERIVATIVE, LOGISTIC), (BIAS_ACT, RELU),
              (BIAS_ACT, IDENTITY)]


def _tile_kernel(rows_of, wide=False, half=False, long=False):
    """An intrinsic computing one ``rows x lanes`` tile of ``out = X @ Y``, fused epilogue.

    ``rows_of(dtype)`` gives the tile's height for the arrays' dtype (decided
    while compiling: one intrinsic serves both dtypes); ``lanes`` is
    :func:`lanes` of the dtype, :func:`wide_lanes` with ``wide``, half of
    :func:`lanes` with ``half``, :func:`long_lanes` with ``long``.

    ``tile(X, x0, xr, xc, Y, y0, yr, out, o0, orow, length, E, e0, erow, mode, code)``
    computes, for ``q < rows`` and ``l < lanes``::

        s_ql = sum(X.flat[x0 + q*xr + s*xc] * Y.flat[y0 + s*yr + l] for s in range(length))

    summed in the order of ``s``, starting from 0, and stores into
    ``out.flat[o0 + q*orow + l]``: ``s_ql`` (``mode`` PLAIN),
    ``derivative(code, e_ql, s_ql)`` (DERIVATIVE) or ``activate(code, s_ql +
    e_ql)`` (BIAS_ACT), with ``e_ql = E.flat[e0 + q*erow + l]`` (``erow = 0``: the
    same vector of E for every row, e.g. intercepts).  Offsets and strides are
    in elements; the arrays' data pointers are used as they are, so any layout
    of X works (A or A.T); Y's, out's and E's tile rows must be contiguous.
    Nothing is checked: the caller keeps every access in bounds, and passes a
    (mode, code) pair of ``_EPILOGUES`` (any other stores the plain sums).
    """

    @intrinsic
    def tile(typingctx, X, x0, xr, xc, Y, y0, yr, out, o0, orow, length, E, e0, erow, mode,
             code):
        if not all(isinstance(a, types.Array) for a in (X, Y, out, E)):
            return None
        if not (X.dtype == Y.dtype == out.dtype == E.dtype) or X.dtype not in (types.float32,
                                                                              types.float64):
            return None
        sig = types.void(X, types.intp, types.intp, types.intp, Y, types.intp, types.intp,
                         out, types.intp, types.intp, types.intp, E, types.intp, types.intp,
                         types.intp, types.intp)

        def codegen(context, builder, signature, args):
            (x, x0, xr, xc, y, y0, yr, o, o0, orow, length, e, e0, erow, mode, code) = args
            rows = rows_of(signature.args[0].dtype)
            ft = context.get_value_type(signature.args[0].dtype)
            width = LANES if ft == ir.DoubleType() else LANES_F32
            if long:
                width = LONG_LANES if ft == ir.DoubleType() else LONG_LANES_F32
            if wide:
                width *= 2
            if half:
                width //= 2
            vt = ir.VectorType(ft, width)
            xdata = context.make_array(signature.args[0])(context, builder, x).data
            ydata = context.make_array(signature.args[4])(context, builder, y).data
            odata = context.make_array(signature.args[7])(context, builder, o).data
            edata = context.make_array(signature.args[11])(context, builder, e).data
            suffix = "v%d%s" % (width, "f64" if ft == ir.DoubleType() else "f32")
            fmuladd = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vt, [vt, vt, vt]), "llvm.fmuladd." + suffix)
            zero = ir.Constant(vt, [ir.Constant(ft, 0.0)] * width)
            accs = [cgutils.alloca_once_value(builder, zero) for _ in range(rows)]
            undef = ir.Constant(vt, ir.Undefined)
            lane0 = ir.Constant(ir.IntType(32), 0)
            splat_mask = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
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
            sums = [builder.load(acc) for acc in accs]

            def vector(data, start, q, stride):
                index = builder.add(start, builder.mul(ir.Constant(stride.type, q), stride))
                return builder.bitcast(builder.gep(data, [index]), vt.as_pointer())

            # One branch per (mode, code) pair, taken once per tile; the default stores the
            # plain sums.
            done = builder.append_basic_block("tile_stored")
            plain = builder.append_basic_block("tile_store_plain")
            switch = builder.switch(builder.add(builder.mul(mode, ir.Constant(mode.type, 16)),
                                                code), plain)
            for m, c in [(PLAIN, IDENTITY)] + _EPILOGUES:
                case = plain if m == PLAIN else builder.append_basic_block(
                    "tile_store_%d_%d" % (m, c))
                if m != PLAIN:
                    switch.add_case(ir.Constant(mode.type, m * 16 + c), case)
                builder.position_at_end(case)
                for q in range(rows):
                    ev = None
                    if m != PLAIN:
                        ev = builder.load(vector(edata, e0, q, erow), align=1)
                    builder.store(_epilogue(builder, m, c, sums[q], ev),
                                  vector(odata, o0, q, orow), align=1)
                builder.branch(done)
            builder.position_at_end(done)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile = _tile_kernel(lambda dtype: ROWS_F64 if dtype == types.float64 else ROWS_F32)
_tile_row = _tile_kernel(lambda dtype: 1)
_tile_wide = _tile_kernel(lambda dtype: WIDE_ROWS, wide=True)
_tile_half = _tile_kernel(lambda dtype: HALF_ROWS_F64 if dtype == types.float64
                          else HALF_ROWS_F32, half=True)
_tile_half_row = _tile_kernel(lambda dtype: 1, half=True)
_tile_long_row = _tile_kernel(lambda dtype: 1, long=True)


def _column_sums_kernel(vectors):
    """An intrinsic adding the rows of ``vectors * lanes`` columns, the sums in registers.

    ``sum_rows(D, d0, drow, n, out, o0)`` stores, for ``l < vectors * lanes``::

        out.flat[o0 + l] = 0 + D.flat[d0 + l] + D.flat[d0 + drow + l] + ...
                             + D.flat[d0 + (n-1)*drow + l]

    rows added in order (NumPy's order for ``D.sum(axis=0)``), one vector
    register per ``lanes`` columns.  A loop that adds each row into ``out`` in
    memory waits, row after row, for the previous row's store to come back
    (~3 ns a row); here the only chain is the additions'.  Nothing is checked.
    """

    @intrinsic
    def sum_rows(typingctx, D, d0, drow, n, out, o0):
        if not (isinstance(D, types.Array) and isinstance(out, types.Array)):
            return None
        if D.dtype != out.dtype or D.dtype not in (types.float32, types.float64):
            return None
        sig = types.void(D, types.intp, types.intp, types.intp, out, types.intp)

        def codegen(context, builder, signature, args):
            (d, d0, drow, n, o, o0) = args
            ft = context.get_value_type(signature.args[0].dtype)
            width = LANES if ft == ir.DoubleType() else LANES_F32
            vt = ir.VectorType(ft, width)
            ddata = context.make_array(signature.args[0])(context, builder, d).data
            odata = context.make_array(signature.args[4])(context, builder, o).data
            zero = ir.Constant(vt, [ir.Constant(ft, 0.0)] * width)
            accs = [cgutils.alloca_once_value(builder, zero) for _ in range(vectors)]
            with cgutils.for_range(builder, n, intp=d0.type) as loop:
                row = builder.add(d0, builder.mul(loop.index, drow))
                for v in range(vectors):
                    at = builder.add(row, ir.Constant(d0.type, v * width))
                    dv = builder.load(builder.bitcast(builder.gep(ddata, [at]), vt.as_pointer()),
                                      align=1)
                    builder.store(builder.fadd(builder.load(accs[v]), dv), accs[v])
            for v in range(vectors):
                at = builder.add(o0, ir.Constant(o0.type, v * width))
                builder.store(builder.load(accs[v]),
                              builder.bitcast(builder.gep(odata, [at]), vt.as_pointer()), align=1)
            return context.get_dummy_value()

        return sig, codegen

    return sum_rows


_sum_rows_4 = _column_sums_kernel(4)
_sum_rows_2 = _column_sums_kernel(2)
_sum_rows_1 = _column_sums_kernel(1)


@jit(inline=True)
def tiled_column_sums(D, out):
    """``out[c] = 0 + D[0, c] + D[1, c] + ... + D[n-1, c]``, the sums in vector registers.

    Up to four registers of columns at a time; the last group of a width that
    is not a multiple of ``lanes`` overlaps the one before (same values again).

    Parameters
    ----------
    D : ndarray of shape (n, k), rows contiguous, ``k >= lanes(D.itemsize)``
    out : ndarray of shape (k,), contiguous
        Overwritten.
    """
    n, k = D.shape
    drow = D.strides[0] // D.itemsize
    width = lanes(D.itemsize)
    c = 0
    while k - c >= 4 * width:
        _sum_rows_4(D, c, drow, n, out, c)
        c += 4 * width
    if k - c >= 2 * width:
        _sum_rows_2(D, c, drow, n, out, c)
        c += 2 * width
    while c < k:
        at = c if k - c >= width else k - width
        _sum_rows_1(D, at, drow, n, out, at)
        c += width


@jit(inline=True)
def lanes(itemsize):
    """Columns of a tile for elements of ``itemsize`` bytes (8: float64, 4: float32)."""
    return LANES if itemsize == 8 else LANES_F32


@jit(inline=True)
def tile_rows(itemsize):
    """Rows of a (narrow) tile for elements of ``itemsize`` bytes."""
    return ROWS_F64 if itemsize == 8 else ROWS_F32


@jit(inline=True)
def long_lanes(itemsize):
    """Columns of a long one-row tile for elements of ``itemsize`` bytes (32 float64, 64
    float32 on AVX2; twice that with AVX-512)."""
    return LONG_LANES if itemsize == 8 else LONG_LANES_F32


@jit(inline=True)
def wide_lanes(itemsize):
    """Columns of a wide tile for elements of ``itemsize`` bytes (16 float64, 32 float32)."""
    return WIDE_LANES if itemsize == 8 else WIDE_LANES_F32


def tile_limits():
    """The most weights a layer may have for its products to take the tiles (plain Python).

    The measured policy for this CPU, the values a network puts in its
    ``Codes`` (both dtypes alike).

    Returns
    -------
    forward, backward, backward_from : int
        :data:`MAX_TERMS` and :data:`MAX_TERMS_BACKWARD` (0 sends every product of
        that pass to BLAS), and :data:`MIN_FAN_IN_BACKWARD`: layers with fewer
        inputs send their backward products to BLAS.
    """
    return MAX_TERMS, MAX_TERMS_BACKWARD, MIN_FAN_IN_BACKWARD


@jit(inline=True)
def use_tiles(limit, itemsize, weights, n, m, k):
    """Whether a product of a layer with ``weights`` weights takes the tiles.

    Parameters
    ----------
    limit : int
        The most weights a layer may have for the tiles (``Codes.tiles_forward`` or
        ``Codes.tiles_backward``).
    itemsize : int
        8 (float64) or 4 (float32).
    weights : int
        The layer's ``fan_in * fan_out``.
    n, m, k : int
        The product: ``out (n, k) = X (n, m) @ Y (m, k)``; ``k >= lanes(itemsize)`` (the tiles'
        edge handling), ``n * m * k <= MAX_PRODUCT``.

    Returns
    -------
    bool
    """
    return k >= lanes(itemsize) and weights <= limit and n * m * k <= MAX_PRODUCT


@jit(inline=True)
def use_half_tiles(limit, itemsize, weights, n, m, k):
    """Whether a product narrower than a tile takes the half-width tiles (many-row predict).

    Parameters are :func:`use_tiles`' ones; from ``lanes(itemsize) // 2`` to
    ``lanes(itemsize) - 1`` columns, and in float32 only for sums of at most
    ``HALF_F32_MAX_SUM`` terms (where they were measured faster).

    Returns
    -------
    bool
    """
    width = lanes(itemsize)
    return (width <= 2 * k < 2 * width and (itemsize == 8 or m <= HALF_F32_MAX_SUM)
            and weights <= limit and n * m * k <= MAX_PRODUCT)


@jit(inline=True)
def tiled_product(X, Y, out, E, mode, code):
    """``out = X @ Y`` by register tiles, each output summed in the order of the sum,
    finished by the tile's epilogue (``mode``) on the way to memory.

    Parameters
    ----------
    X : ndarray of shape (n, m)
        Any strides (a C-contiguous array or the transpose of one).
    Y : ndarray of shape (m, k), C-contiguous, ``k >= lanes(X.itemsize)``
        At least :func:`wide_lanes` columns take the wide tiles where ``WIDE_TILES``
        (narrower products: :func:`half_tiled_product`).
    out : ndarray of shape (n, k), C-contiguous
        Overwritten.
    E : ndarray of shape (n, k) or (k,), C-contiguous
        PLAIN: unused (pass ``out``); DERIVATIVE: the layer's outputs (n, k), out
        receives ``derivative(code, E, X @ Y)``; BIAS_ACT: the intercepts (k,), out
        receives ``activate(code, X @ Y + E)``.
    mode : int
        PLAIN, DERIVATIVE or BIAS_ACT.
    code : int
        The activation code: for DERIVATIVE one of RELU, TANH, LOGISTIC,
        IDENTITY; for BIAS_ACT RELU or IDENTITY.
    """
    _tiled_matrix_product(borrowed_matrix(X), Y, out, borrowed_matrix(E), mode, code)


# Not inlined: one compiled unit, however many call sites.  Its callers pass a batch or its
# transpose as X and a matrix or a vector as E; as borrowed 'A'-layout matrices they are one
# type, so the tile loop is typed and compiled once, not once per layout (three times in a
# fit).  A cold first fit of tiny float64, AVX2 AMD EPYC, the two trees in turn
# (`python -m bench.anatomy firstfit tiny --dtypes float64 --repeats 1`): 16.1 -> 11.9 s CPU
# on a slow day, 9.5 / 10.4 -> 8.3 / 7.9 s on a calmer one.
@jit
def _tiled_matrix_product(X, Y, out, E, mode, code):
    """:func:`tiled_product` of 2-D arrays of one type (``E`` a vector: row stride 0)."""
    _tiles(X, Y, out, E, mode, code, WIDE_TILES and Y.shape[1] >= wide_lanes(X.itemsize))


@jit(inline=True)
def _element_strides(X, Y, out, E):
    """The strides the tile intrinsics take, in elements: X's rows and columns, Y's and
    out's rows, E's rows (0 for a vector of intercepts: the same one for every row)."""
    size = X.itemsize
    erow = E.strides[0] // size if E.ndim == 2 else 0
    return (X.strides[0] // size, X.strides[1] // size, Y.strides[0] // size,
            out.strides[0] // size, erow)


def _tile_loop_kernel(tile, tile_row, rows_f64, rows_f32, width_divisor):
    """The loop over row and column tiles of one kind of tile (``tile``, ``tile_row``: its
    intrinsics for whole tiles and for one row; ``lanes(itemsize) // width_divisor``
    columns, ``rows_f64`` / ``rows_f32`` rows).  Each kind is a loop of its own, so that the
    training kernels compile no half-width tiles (the half loop still holds the wide
    branch, which its caller never takes)."""

    @jit(inline=True)
    def loop(X, Y, out, E, mode, code, wide):
        n, m = X.shape
        k = Y.shape[1]
        size = X.itemsize
        xr, xc, yr, orow, erow = _element_strides(X, Y, out, E)
        if wide:
            rows = WIDE_ROWS
            width = wide_lanes(size)
        else:
            rows = rows_f64 if size == 8 else rows_f32
            width = lanes(size) // width_divisor
        if wide and n < rows:  # fewer rows than a wide tile: the narrow one-row tiles
            wide = False
            rows = rows_f64 if size == 8 else rows_f32
            width = lanes(size) // width_divisor
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
                c = j if k - j >= width else k - width  # last column tile overlaps likewise
                if r < 0:
                    tile_row(X, i * xr, xr, xc, Y, c, yr, out, i * orow + c, orow, m,
                             E, i * erow + c, erow, mode, code)
                elif wide:
                    _tile_wide(X, r * xr, xr, xc, Y, c, yr, out, r * orow + c, orow, m,
                               E, r * erow + c, erow, mode, code)
                else:
                    tile(X, r * xr, xr, xc, Y, c, yr, out, r * orow + c, orow, m,
                         E, r * erow + c, erow, mode, code)
                j += width
            i = i + rows if r >= 0 else i + 1

    return loop


# The tile loop of tiled_product: narrow tiles, or wide ones with ``wide``.
_tiles = _tile_loop_kernel(_tile, _tile_row, ROWS_F64, ROWS_F32, 1)
# half_tiled_product's (``wide`` always False).
_half_tiles = _tile_loop_kernel(_tile_half, _tile_half_row, HALF_ROWS_F64, HALF_ROWS_F32, 2)


@jit
def half_tiled_product(X, Y, out, E, mode, code):
    """:func:`tiled_product` by half-width tiles: ``Y`` from ``lanes(X.itemsize) // 2`` to
    ``lanes(X.itemsize) - 1`` columns (:func:`use_half_tiles`)."""
    _half_tiles(X, Y, out, E, mode, code, False)


@jit
def long_row_product(X, Y, out, E, mode, code):
    """:func:`tiled_product` row by row, by long one-row tiles (:func:`long_lanes` columns).

    For products of fewer rows than a tile (:func:`tile_rows`), which
    :func:`tiled_product` computes by one-row tiles of one or two registers,
    latency-bound.  Each output is summed in the same order as there, so the
    results are the same bit for bit.  Parameters are :func:`tiled_product`'s,
    with ``Y`` at least ``long_lanes(X.itemsize)`` columns wide.
    """
    n, m = X.shape
    k = Y.shape[1]
    xr, xc, yr, orow, erow = _element_strides(X, Y, out, E)
    width = long_lanes(X.itemsize)
    for i in range(n):
        j = 0
        while j < k:
            c = j if k - j >= width else k - width  # the last tile overlaps: same values again
            _tile_long_row(X, i * xr, xr, xc, Y, c, yr, out, i * orow + c, orow, m,
                           E, i * erow + c, erow, mode, code)
            j += width


@jit(inline=True)
def input_delta(D, W, scratch, D_prev, A_prev, code, limit):
    """``D_prev = (D @ W.T) * act'(A_prev)``: the error a layer sends back to its inputs.

    The derivative is taken as ``scalar.derivative`` does, fused into the
    product's stores for the activations the tiles have an epilogue for
    (``_EPILOGUES``; others in ``activation_backward`` after the product);
    ``code`` IDENTITY takes none, e.g. before dropout's own.  The
    tiled product needs the right-hand side's rows contiguous, so ``W.T`` is
    first copied into ``scratch``: the layer's weight-gradient buffer, which
    the backward pass fills only afterwards.  A 1-wide layer (single output) is
    an outer product, one multiplication per element.

    Parameters
    ----------
    D : ndarray of shape (n, fan_out)
        dLoss/dZ of the layer.
    W : ndarray of shape (fan_in, fan_out), C-contiguous
    scratch : ndarray of shape (fan_in, fan_out), C-contiguous
        Overwritten (with ``W.T``, when the tiles are used).
    D_prev : ndarray of shape (n, fan_in)
        Written: dLoss/dZ of the layer below (dLoss/dA when ``code`` is IDENTITY).
    A_prev : ndarray of shape (n, fan_in), C-contiguous
        The outputs of the layer below.
    code : int
        Its (hidden) activation code.
    limit : int
        ``Codes.tiles_backward`` (:func:`use_tiles`).
    """
    n, k = D.shape
    m = W.shape[0]
    if k == 1:
        for r in range(n):
            d = D[r, 0]
            for p in range(m):
                D_prev[r, p] = derivative(code, A_prev[r, p], d * W[p, 0])
    elif use_tiles(limit, D.itemsize, W.size, n, k, m):
        WT = scratch.reshape((k, m))
        for p in range(m):
            for j in range(k):
                WT[j, p] = W[p, j]
        if code == RELU or code == TANH or code == LOGISTIC or code == IDENTITY:
            tiled_product(D, WT, D_prev, A_prev, DERIVATIVE, code)
        else:  # an activation the tiles have no epilogue for: its derivative pass after
            tiled_product(D, WT, D_prev, D_prev, PLAIN, IDENTITY)
            activation_backward(A_prev, D_prev, code)
    else:
        matmul_into(D, W.T, D_prev)
        activation_backward(A_prev, D_prev, code)


@jit(inline=True)
def forward_product(X, W, b, code, Z, limit):
    """``Z = act(X @ W + b)``: a layer's forward pass, bias and activation fused where they can.

    Parameters
    ----------
    X : ndarray of shape (n, fan_in), C-contiguous
    W : ndarray of shape (fan_in, fan_out), C-contiguous
    b : ndarray of shape (fan_out,)
    code : int
        The layer's activation code.  RELU and IDENTITY are applied in the tiles'
        stores; the others (and BLAS-sized layers) in a pass after the product.
    Z : ndarray of shape (n, fan_out), C-contiguous
        Overwritten.
    limit : int
        ``Codes.tiles_forward`` (:func:`use_tiles`).
    """
    n, m = X.shape
    k = W.shape[1]
    if (code == RELU or code == IDENTITY) and use_tiles(limit, X.itemsize, W.size, n, m, k):
        tiled_product(X, W, Z, b, BIAS_ACT, code)
    else:
        product(X, W, Z, W.size, limit)
        bias_activation_forward(Z, b, code)


@jit
def rows_forward_product(X, W, b, code, Z, limit):
    """:func:`forward_product` of many-row predict (``fastnet._layerwise``), which also
    takes the half-width tiles (:func:`use_half_tiles`).

    The training kernels leave them out: their two intrinsics cost a cold first
    fit 8.2 -> 9.5 s CPU in float64 (``python -m bench.anatomy firstfit tiny``),
    and the narrow layers they serve are a small part of a fit.  Parameters are
    :func:`forward_product`'s.
    """
    n, m = X.shape
    k = W.shape[1]
    if not use_half_tiles(limit, X.itemsize, W.size, n, m, k):
        forward_product(X, W, b, code, Z, limit)
    elif code == RELU or code == IDENTITY:
        half_tiled_product(X, W, Z, b, BIAS_ACT, code)
    else:
        half_tiled_product(X, W, Z, Z, PLAIN, IDENTITY)
        bias_activation_forward(Z, b, code)


@jit
def few_rows_forward_product(X, W, b, code, Z, limit):
    """:func:`forward_product` of the one-call predict (``dense.dense_forward_if_finite``),
    which also takes the long one-row tiles for fewer rows than a tile
    (:func:`long_row_product`): a one-row predict's products.

    The training kernels leave them out (a fit's batches have a tile's rows but
    the last), and so do many-row predicts.  Parameters are
    :func:`forward_product`'s.
    """
    n, m = X.shape
    k = W.shape[1]
    size = X.itemsize
    if (n < tile_rows(size) and k >= long_lanes(size) and (code == RELU or code == IDENTITY)
            and use_tiles(limit, size, W.size, n, m, k)):
        long_row_product(X, W, Z, b, BIAS_ACT, code)
    else:
        forward_product(X, W, b, code, Z, limit)


@jit(inline=True)
def product(X, Y, out, weights, limit):
    """``out = X @ Y``: by the tiles for narrow layers (:func:`use_tiles`), else BLAS.

    Parameters
    ----------
    X : ndarray of shape (n, m)
        C-contiguous, or the transpose of a C-contiguous array.
    Y : ndarray of shape (m, k), C-contiguous
    out : ndarray of shape (n, k), C-contiguous
        Overwritten.
    weights : int
        The number of weights of the layer the product belongs to (``fan_in *
        fan_out``): its weights for the forward pass, its gradient for ``A.T @ D``.
    limit : int
        The pass's limit, ``Codes.tiles_forward`` or ``Codes.tiles_backward``
        (:func:`use_tiles`).
    """
    n, m = X.shape
    if use_tiles(limit, X.itemsize, weights, n, m, Y.shape[1]):
        tiled_product(X, Y, out, out, PLAIN, IDENTITY)
    else:
        matmul_into(X, Y, out)
