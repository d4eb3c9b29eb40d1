"""The register-tiled products of kernels/small.py against NumPy, and the dense passes
that use them.

The oracle is a float64 (for float32 inputs: exact-enough) NumPy product.  The
tolerance is the error bound of a sum of length m computed in any order,
``|fl(x.y) - x.y| <= gamma_m * sum_s |x_s y_s|`` with gamma_m ~ m * eps / 2
(Higham, sec. 3.1): elementwise ``m * eps * (|X| @ |Y|)`` (``_compare``'s
``k = m`` with a per-element scale, no relative slack), which the tiles meet
whether or not the CPU fuses the multiply-adds.

Shapes straddle every edge of the tiling: 1 row, fewer rows than a tile,
one row more than a tile, widths just below, at and above ``LANES`` (the
narrowest tiled width; from half of it the half-width tiles of many-row
predict) and above a multiple of it, sums of length 1 and odd
lengths, and the ``use_tiles`` limits themselves.
"""

import zlib

import numpy as np
import pytest
from numba import njit

import reference as R
from _compare import assert_close
from fastnet._layout import Layout
from fastnet.kernels import dense as kdense
from fastnet.kernels import groups as kg
from fastnet.kernels import packed as kpacked
from fastnet.kernels import registry as kreg
from fastnet.kernels import small as ksmall

DTYPES = [np.float64, np.float32]
# Codes.tiles_forward / tiles_backward forcing each path where a product's shape allows the
# tiles: every layer to the tiles, or every product to BLAS -- both tested on every CPU,
# whichever the CPU's own policy (``ksmall.tile_limits``) picks.
PATHS = {"tiles": 1 << 40, "blas": 0}
L = ksmall.LANES
ROWS = max(ksmall.ROWS_F64, ksmall.ROWS_F32)


def _tiled_shapes(lanes):
    """(n, m, k): out (n, k) = X (n, m) @ Y (m, k), every k >= lanes (the tiled path)."""
    return [
        (1, 1, lanes), (1, 7, lanes + 1), (2, 3, 2 * lanes - 1), (ROWS - 1, 5, lanes + 5),
        (ROWS, 1, lanes), (ROWS + 1, 17, 3 * lanes + 1), (2 * ROWS + 3, 10, 2 * lanes),
        (200, 20, 100), (37, 33, 64), (9, 128, 128),
    ]


def _half_shapes(lanes):
    """Widths from lanes // 2 to lanes - 1: the half-width tiles (twice the rows)."""
    half, rows = lanes // 2, 2 * ROWS
    return [
        (1, 3, half), (rows - 1, 5, half + 1), (rows, 1, lanes - 1), (rows + 1, 17, half),
        (2 * rows + 3, 10, lanes - 1), (10000 // 97, 2, half),
    ]


# Tiles are ksmall.lanes(itemsize) wide: 8 float64 columns, 16 float32.
TILED_CASES = [(dtype, shape) for dtype, lanes in ((np.float64, ksmall.LANES),
                                                   (np.float32, ksmall.LANES_F32))
               for shape in _tiled_shapes(lanes)]


# Wide tiles (two registers a row; used where ksmall.WIDE_TILES, AVX-512): ksmall.WIDE_LANES
# columns float64, WIDE_LANES_F32 float32, ksmall.WIDE_ROWS rows.  They are tested on every
# CPU through the tile loop's own flag (on AVX2 the kernel is built with two rows), against NumPy
# and bit for bit against the narrow tiles, which sum every output in the same order.
def _wide_shapes(lanes):
    rows = ksmall.WIDE_ROWS
    return [
        (1, 1, lanes), (1, 7, lanes + 1), (rows - 1, 5, 2 * lanes - 1), (rows, 3, lanes),
        (rows + 1, 17, 3 * lanes + 5), (2 * rows + 3, 10, 2 * lanes), (200, 64, 64 + lanes // 2),
    ]


WIDE_CASES = [(dtype, shape) for dtype, lanes in ((np.float64, ksmall.WIDE_LANES),
                                                  (np.float32, ksmall.WIDE_LANES_F32))
              for shape in _wide_shapes(lanes)]


def _case_id(case):
    dtype, shape = case
    return np.dtype(dtype).name + "-" + "x".join(map(str, shape))


def _rng(request):
    return np.random.RandomState(zlib.crc32(request.node.name.encode()))


# Called from compiled code, as the kernels call them (inline helpers have no Python entry
# of their own worth testing: what runs is the code inlined into a caller).
@njit
def _tiled(X, Y, out):
    ksmall.tiled_product(X, Y, out, out, ksmall.PLAIN, kreg.IDENTITY)


@njit
def _tiled_transposed(A, Y, out):
    ksmall.tiled_product(A.T, Y, out, out, ksmall.PLAIN, kreg.IDENTITY)


@njit
def _product(X, Y, out, limit):
    ksmall.product(X, Y, out, Y.size, limit)


@njit
def _tiles_by_width(X, Y, out, E, mode, code, wide):
    ksmall._tiles(X, Y, out, E, mode, code, wide)


@njit
def _use_half_tiles(limit, itemsize, weights, n, m, k):
    return ksmall.use_half_tiles(limit, itemsize, weights, n, m, k)


@njit
def _input_delta(D, W, scratch, D_prev, A_prev, code, limit):
    ksmall.input_delta(D, W, scratch, D_prev, A_prev, code, limit)


@njit
def _forward_product(X, W, b, code, Z, limit):
    ksmall.forward_product(X, W, b, code, Z, limit)


@njit
def _use_tiles(limit, itemsize, weights, n, m, k):
    return ksmall.use_tiles(limit, itemsize, weights, n, m, k)


def _assert_product(got, X, Y, dtype):
    """``got == X @ Y`` within the rounding bound of sums of length ``m``."""
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    bound = np.abs(X64) @ np.abs(Y64)
    assert_close(got, X64 @ Y64, k=X.shape[1], rtol=0.0, dtype=dtype, scale=bound)


def _operands(request, case):
    """The case's dtype, shape, a seeded generator and random X (n, m), Y (m, k)."""
    dtype, (n, m, k) = case
    rng = _rng(request)
    return dtype, (n, m, k), rng, rng.randn(n, m).astype(dtype), rng.randn(m, k).astype(dtype)


@pytest.mark.parametrize("case", TILED_CASES, ids=_case_id)
def test_tiled_product_matches_numpy(request, case):
    dtype, (n, m, k), _, X, Y = _operands(request, case)
    out = np.full((n, k), np.nan, dtype=dtype)  # every output must be written
    _tiled(X, Y, out)
    assert out.dtype == np.dtype(dtype)
    _assert_product(out, X, Y, dtype)


@pytest.mark.parametrize("case", TILED_CASES, ids=_case_id)
def test_tiled_product_of_a_transpose(request, case):
    """The weight gradient's product: ``A.T @ D`` with A row-major (strided left side)."""
    dtype, (n, m, k) = case
    rng = _rng(request)
    A = rng.randn(m, n).astype(dtype)  # X = A.T is (n, m)
    Y = rng.randn(m, k).astype(dtype)
    out = np.full((n, k), np.nan, dtype=dtype)
    _tiled_transposed(A, Y, out)
    _assert_product(out, A.T, Y, dtype)


@pytest.mark.parametrize("case", WIDE_CASES, ids=_case_id)
def test_wide_tiles_match_numpy_and_the_narrow_tiles_bit_for_bit(request, case):
    dtype, (n, m, k), rng, X, Y = _operands(request, case)
    wide = np.full((n, k), np.nan, dtype=dtype)  # every output must be written
    _tiles_by_width(X, Y, wide, wide, ksmall.PLAIN, kreg.IDENTITY, True)
    _assert_product(wide, X, Y, dtype)
    A = rng.randn(m, n).astype(dtype)  # the weight gradient's strided left side, A.T
    # Every epilogue: the same sums in the same order, then the same per-element operations.
    E_rows = np.abs(rng.randn(n, k)).astype(dtype) * (rng.rand(n, k) > 0.3)  # relu's zeros too
    b = rng.randn(k).astype(dtype)
    cases = [(ksmall.PLAIN, kreg.IDENTITY, None)] + [
        (mode, code, b if mode == ksmall.BIAS_ACT else E_rows)
        for mode, code in ksmall._EPILOGUES]
    for left in (X, A.T):
        for mode, code, E in cases:
            got = {}
            for width in (True, False):
                out = np.full((n, k), np.nan, dtype=dtype)
                _tiles_by_width(left, Y, out, out if E is None else E, mode, code, width)
                got[width] = out
            np.testing.assert_array_equal(got[True], got[False], err_msg=f"{mode=} {code=}")
            assert not np.isnan(got[True]).any()


def _long_row_shapes(lanes):
    """Fewer rows than a tile, at least a long tile's width (``lanes``): one long tile, the
    last one overlapping, several."""
    return [(1, 1, lanes), (1, 7, lanes + 1), (2, 33, 2 * lanes - 3), (ROWS - 1, 64, 3 * lanes)]


LONG_ROW_CASES = [(dtype, shape) for dtype, lanes in ((np.float64, ksmall.LONG_LANES),
                                                      (np.float32, ksmall.LONG_LANES_F32))
                  for shape in _long_row_shapes(lanes)]


@pytest.mark.parametrize("case", LONG_ROW_CASES, ids=_case_id)
def test_long_row_tiles_equal_the_whole_tiles_bit_for_bit(request, case):
    """Predict's few-row products by long one-row tiles: each row the same sums in the same
    order as the whole tiles compute for that row among a tile's rows (the first ``n`` of
    ``ROWS`` rows here), for every epilogue and both layouts of the left side; and the
    product against NumPy."""
    dtype, (n, m, k), rng, _, Y = _operands(request, case)
    X_whole = rng.randn(ROWS, m).astype(dtype)
    A_whole = rng.randn(m, ROWS).astype(dtype)  # the strided left side: A.T
    E_whole = np.abs(rng.randn(ROWS, k)).astype(dtype) * (rng.rand(ROWS, k) > 0.3)
    b = rng.randn(k).astype(dtype)
    cases = [(ksmall.PLAIN, kreg.IDENTITY, None)] + [
        (mode, code, "b" if mode == ksmall.BIAS_ACT else "rows")
        for mode, code in ksmall._EPILOGUES]
    for left_whole in (X_whole, A_whole.T):
        left = left_whole[:n]
        for mode, code, which in cases:
            E_w = {None: None, "b": b, "rows": E_whole}[which]
            E_n = {None: None, "b": b, "rows": np.ascontiguousarray(E_whole[:n])}[which]
            whole = np.full((ROWS, k), np.nan, dtype=dtype)
            _tiles_by_width(left_whole, Y, whole, whole if E_w is None else E_w, mode, code,
                            False)
            long = np.full((n, k), np.nan, dtype=dtype)  # every output must be written
            ksmall.long_row_product(left, Y, long, long if E_n is None else E_n, mode, code)
            np.testing.assert_array_equal(long, whole[:n], err_msg=f"{mode=} {code=}")
            assert not np.isnan(long).any()
            if mode == ksmall.PLAIN:
                _assert_product(long, left, Y, dtype)


HALF_CASES = [(dtype, shape) for dtype, lanes in ((np.float64, ksmall.LANES),
                                                  (np.float32, ksmall.LANES_F32))
              for shape in _half_shapes(lanes)]


@pytest.mark.parametrize("case", HALF_CASES, ids=_case_id)
def test_half_width_tiles_equal_the_whole_tiles_bit_for_bit(request, case):
    """Fewer columns than a tile: the half-width tiles sum every output in the order the
    whole tiles do, so they give the first ``k`` columns of a product ``lanes`` wide, bit
    for bit, for every epilogue and both layouts of the left side."""
    dtype, (n, m, k), rng, X, _ = _operands(request, case)
    lanes = ksmall.lanes(np.dtype(dtype).itemsize)
    Y_whole = rng.randn(m, lanes).astype(dtype)
    Y = np.ascontiguousarray(Y_whole[:, :k])
    A = rng.randn(m, n).astype(dtype)
    E_whole = np.abs(rng.randn(n, lanes)).astype(dtype) * (rng.rand(n, lanes) > 0.3)
    b_whole = rng.randn(lanes).astype(dtype)
    cases = [(ksmall.PLAIN, kreg.IDENTITY, None, None)] + [
        (mode, code, *((b_whole, b_whole[:k].copy()) if mode == ksmall.BIAS_ACT
                       else (E_whole, np.ascontiguousarray(E_whole[:, :k]))))
        for mode, code in ksmall._EPILOGUES]
    for left in (X, A.T):
        for mode, code, E_w, E_k in cases:
            whole = np.full((n, lanes), np.nan, dtype=dtype)
            _tiles_by_width(left, Y_whole, whole, whole if E_w is None else E_w, mode, code,
                            False)
            half = np.full((n, k), np.nan, dtype=dtype)  # every output must be written
            ksmall.half_tiled_product(left, Y, half, half if E_k is None else E_k, mode, code)
            np.testing.assert_array_equal(half, whole[:, :k], err_msg=f"{mode=} {code=}")
            assert not np.isnan(half).any()
            if mode == ksmall.PLAIN:
                _assert_product(half, left, Y, dtype)


def test_use_half_tiles_limits():
    """From half a tile's width to just under a whole one, where measured faster than BLAS
    (AVX2 and AVX-512); float32 only for sums of at most ``HALF_F32_MAX_SUM`` terms."""
    limit = 128 * 128
    half, L32 = L // 2, ksmall.LANES_F32
    assert _use_half_tiles(limit, 8, 16 * half, 10000, 16, half)
    assert _use_half_tiles(limit, 8, 200 * (L - 1), 200, 200, L - 1)  # long sums too
    assert not _use_half_tiles(limit, 8, 16 * (half - 1), 10000, 16, half - 1)
    assert not _use_half_tiles(limit, 8, 16 * L, 10000, 16, L)  # the whole tiles' width
    assert not _use_half_tiles(0, 8, 16 * half, 10000, 16, half)  # limit 0: BLAS
    short = ksmall.HALF_F32_MAX_SUM
    assert _use_half_tiles(limit, 4, 2 * (L32 // 2), 10000, 2, L32 // 2)
    assert _use_half_tiles(limit, 4, short * (L32 - 1), 10000, short, L32 - 1)
    assert not _use_half_tiles(limit, 4, (short + 1) * (L32 // 2), 10000, short + 1, L32 // 2)
    rows = ksmall.MAX_PRODUCT // (16 * half)
    assert _use_half_tiles(limit, 8, 16 * half, rows, 16, half)
    assert not _use_half_tiles(limit, 8, 16 * half, rows + 1, 16, half)


def _check_layer_forward(request, dtype, code, n, m, k, kernel):
    """``kernel(X, W, b, code, Z, MAX_TERMS)`` is ``act(X @ W + b)``, against NumPy."""
    rng = _rng(request)
    X, W = rng.randn(n, m).astype(dtype), rng.randn(m, k).astype(dtype)
    b = rng.randn(k).astype(dtype)
    Z = np.full((n, k), np.nan, dtype=dtype)
    kernel(X, W, b, kreg.ACTIVATION_CODES[code], Z, ksmall.MAX_TERMS)
    X64, W64 = X.astype(np.float64), W.astype(np.float64)
    pre = X64 @ W64 + b
    want = {"identity": pre, "relu": np.maximum(pre, 0), "tanh": np.tanh(pre)}[code]
    # The sum's bound (m terms and the bias, module docstring), carried through the
    # activation: relu and tanh have slope at most 1; tanh's own rounding adds an ulp.
    scale = np.abs(X64) @ np.abs(W64) + np.abs(b) + (code == "tanh")
    assert_close(Z, want, k=m + 1, rtol=0.0, dtype=dtype, scale=scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("code", ["identity", "relu", "tanh"])
@pytest.mark.parametrize("shape", [(1000, 2, 0), (333, 3, -1), (1000, 30, 1), (5, 4, 1),
                                   (300, 5, 2)],
                         ids=["half", "too-narrow", "long-sum", "few-rows", "whole"])
def test_rows_forward_product_is_the_layers_forward(request, dtype, code, shape):
    """Many-row predict's product, whichever way it goes (the half-width tiles, the whole
    ones, BLAS).  ``shape``: rows, fan-in and the fan-out in half tiles' widths,
    ``lanes // 2`` plus 0, -1 (too narrow for them), 1, or ``lanes`` (2: the whole
    tiles); 30 inputs are a float32 sum too long for the half tiles, 5 rows fewer than a
    half tile has."""
    n, m, width = shape
    half = ksmall.lanes(np.dtype(dtype).itemsize) // 2
    k = {0: half, -1: half - 1, 1: half + 1, 2: 2 * half}[width]
    _check_layer_forward(request, dtype, code, n, m, k, ksmall.rows_forward_product)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("code", ["identity", "relu", "tanh"])
@pytest.mark.parametrize("shape", [(1, 9, 3), (ROWS - 1, 3, 0), (1, 5, -1), (ROWS, 4, 0),
                                   (2, 7, -2)],
                         ids=["one-row-long", "few-rows-long", "one-row-narrower",
                              "a-tile-of-rows", "one-wide"])
def test_few_rows_forward_product_is_the_layers_forward(request, dtype, code, shape):
    """The one-call predict's product, whichever way it goes (the long one-row tiles for
    fewer rows than a tile, else forward_product: the whole tiles, BLAS).  ``shape``:
    rows, fan-in and the fan-out: a long tile's width plus 3 (the last long tile
    overlaps) or 0, -1 (one column fewer than a long tile), or -2 (one column)."""
    n, m, width = shape
    long = ksmall.long_lanes(np.dtype(dtype).itemsize)
    k = {3: long + 3, 0: long, -1: long - 1, -2: 1}[width]
    _check_layer_forward(request, dtype, code, n, m, k, ksmall.few_rows_forward_product)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiled_product_sums_in_order_exactly_where_exact(dtype):
    """Sums that are exact in any order must come out exact: catches a dropped or doubled
    term (an overlapping edge tile adding instead of overwriting, a skipped row)."""
    lanes = ksmall.LANES if dtype == np.float64 else ksmall.LANES_F32
    n, m, k = 2 * ROWS + 1, 9, 2 * lanes + 3
    X = np.arange(n * m, dtype=dtype).reshape(n, m) % 7
    Y = np.arange(m * k, dtype=dtype).reshape(m, k) % 5 - 2
    out = np.full((n, k), np.nan, dtype=dtype)
    _tiled(X, Y, out)
    np.testing.assert_array_equal(out, X @ Y)


def test_use_tiles_limits():
    limit = 128 * 128
    assert not _use_tiles(limit, 8, 16 * (L - 1), 200, 16, L - 1)  # narrower than a tile
    assert _use_tiles(limit, 8, 16 * L, 200, 16, L)
    assert _use_tiles(limit, 8, limit, 1, 16, L)
    assert not _use_tiles(limit, 8, limit + 1, 1, 16, L)  # more weights than the limit
    assert not _use_tiles(0, 8, 16 * L, 200, 16, L)  # limit 0: BLAS for every layer
    # float32 tiles are twice as wide.
    L32 = ksmall.LANES_F32
    assert _use_tiles(limit, 4, 16 * L32, 1, 16, L32)
    assert not _use_tiles(limit, 4, 16 * (L32 - 1), 200, 16, L32 - 1)
    # The weight gradient of a (20, 100) layer sums 200 rows: a 20 000-term Y, 2000 weights.
    assert _use_tiles(limit, 8, 20 * 100, 20, 200, 100)
    rows = ksmall.MAX_PRODUCT // (16 * L)
    assert _use_tiles(limit, 8, 16 * L, rows, 16, L)
    # A product big enough for BLAS's threads.
    assert not _use_tiles(limit, 8, 16 * L, rows + 1, 16, L)


def test_networks_carry_the_cpus_tile_policy():
    """A network's kernels get the measured policy, in ``Codes``, whatever the dtype."""
    from fastnet.network import Network

    assert ksmall.tile_limits() == (ksmall.MAX_TERMS, ksmall.MAX_TERMS_BACKWARD,
                                    ksmall.MIN_FAN_IN_BACKWARD)
    for dtype in DTYPES:
        codes = Network([3, 8, 1], dtype=dtype)._codes
        assert (codes.tiles_forward, codes.tiles_backward,
                codes.tiles_backward_from) == ksmall.tile_limits()


def test_an_unpickled_network_takes_this_cpus_tile_policy():
    """A network saved on another machine (another policy) computes with this CPU's; one
    pickled before ``tiles_backward_from`` existed (five fields) still loads."""
    import pickle

    from fastnet.network import Network

    net = Network([3, 8, 1], random_state=0)
    net._codes = net._codes._replace(tiles_forward=7, tiles_backward=5, tiles_backward_from=3)
    loaded = pickle.loads(pickle.dumps(net))
    codes = loaded._codes
    assert (codes.tiles_forward, codes.tiles_backward,
            codes.tiles_backward_from) == ksmall.tile_limits()
    assert (codes.hidden, codes.output, codes.loss) == (net._codes.hidden, net._codes.output,
                                                        net._codes.loss)
    assert kg.Codes(1, 2, 3, 4, 5).tiles_backward_from == 0


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 16, 3), (200, 10, 1), (3, 300, 300), (7, 33, 12)],
                         ids=["narrow", "one-wide", "wide", "tiled"])
def test_product_takes_either_path_to_the_same_result(request, dtype, shape, path):
    n, m, k = shape
    rng = _rng(request)
    X = rng.randn(n, m).astype(dtype)
    Y = rng.randn(m, k).astype(dtype)
    out = np.full((n, k), np.nan, dtype=dtype)
    _product(X, Y, out, PATHS[path])
    _assert_product(out, X, Y, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(200, 16, 1), (1, 9, 1), (7, 8, 5), (7, 5, 8), (3, 17, 9),
                                   (200, 64, 64), (2, 200, 100)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("path", PATHS)
def test_input_delta_is_D_times_W_transposed(request, dtype, shape, path):
    """``D @ W.T`` by every path: outer product (1 output), BLAS (narrow or big), tiles;
    ``W`` itself is left alone (only the scratch buffer is overwritten)."""
    n, fan_in, fan_out = shape
    rng = _rng(request)
    D = rng.randn(n, fan_out).astype(dtype)
    W = rng.randn(fan_in, fan_out).astype(dtype)
    W_before = W.copy()
    scratch = np.full((fan_in, fan_out), np.nan, dtype=dtype)
    D_prev = np.full((n, fan_in), np.nan, dtype=dtype)
    A_prev = rng.rand(n, fan_in).astype(dtype)  # not read: IDENTITY takes no derivative
    _input_delta(D, W, scratch, D_prev, A_prev, kreg.IDENTITY, PATHS[path])
    np.testing.assert_array_equal(W, W_before)
    _assert_product(D_prev, D, W.T, dtype)


# Every hidden activation, by every path of input_delta / forward_product: outer product
# (1 output), tiles (fused epilogue), BLAS (separate pass).
FUSED_SHAPES = [(200, 16, 1), (7, 8, 5), (ROWS + 1, 17, 9), (2 * ROWS + 3, 100, 20),
                (3, 300, 300)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("shape", FUSED_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("path", PATHS)
def test_input_delta_applies_the_derivative(request, dtype, name, shape, path):
    """``(D @ W.T) * act'(A_prev)`` with the derivative written in terms of the outputs, as
    scikit-learn's DERIVATIVES (relu: exactly 0 where the output is 0)."""
    n, fan_in, fan_out = shape
    rng = _rng(request)
    D = rng.randn(n, fan_out).astype(dtype)
    W = rng.randn(fan_in, fan_out).astype(dtype)
    A_prev = R.activation(rng.randn(n, fan_in), name).astype(dtype)
    scratch = np.full((fan_in, fan_out), np.nan, dtype=dtype)
    D_prev = np.full((n, fan_in), np.nan, dtype=dtype)
    _input_delta(D, W, scratch, D_prev, A_prev, kreg.ACTIVATION_CODES[name], PATHS[path])
    A64 = A_prev.astype(np.float64)
    D64, WT64 = D.astype(np.float64), W.T.astype(np.float64)
    expected = R.activation_derivative(A64, D64 @ WT64, name)
    # The product's rounding (sums of length fan_out) scaled by the derivative's factor
    # (|act'| <= 1 for these four, as a function of the output), plus the factor's own
    # few roundings (<= 3 operations): k = fan_out + 3 on that scale.
    bound = np.abs(D64) @ np.abs(WT64)
    assert_close(D_prev, expected, k=fan_out + 3, rtol=0.0, dtype=dtype, scale=bound)
    if name == "relu":
        assert np.all(D_prev[A_prev == 0] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "identity", "tanh", "logistic"])
@pytest.mark.parametrize("shape", FUSED_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("path", PATHS)
def test_forward_product_adds_bias_and_activates(request, dtype, name, shape, path):
    """``act(X @ W + b)``: relu and identity in the tiles' stores, others after the product."""
    n, fan_in, fan_out = shape
    rng = _rng(request)
    X = rng.randn(n, fan_in).astype(dtype)
    W = rng.randn(fan_in, fan_out).astype(dtype)
    b = rng.randn(fan_out).astype(dtype)
    Z = np.full((n, fan_out), np.nan, dtype=dtype)
    _forward_product(X, W, b, kreg.ACTIVATION_CODES[name], Z, PATHS[path])
    X64, W64 = X.astype(np.float64), W.astype(np.float64)
    pre = X64 @ W64 + b
    expected = R.activation(pre, name)
    # relu, identity, tanh and logistic have slopes <= 1: the error of the sum (length
    # fan_in, plus the bias) passes through no larger, plus the activation's own rounding
    # (a few ulps of the result: 4 more).
    bound = np.abs(X64) @ np.abs(W64) + np.abs(b) + np.abs(expected)
    assert_close(Z, expected, k=fan_in + 4, rtol=0.0, dtype=dtype, scale=bound)
    if name == "relu":
        assert np.all(Z >= 0)


# ------------------------------------------------ the dense passes, through the tiles
# Layer widths around the tile limits (7, 8, 9, 16, 100) and one above 128 x 128 weights, so
# that under the AVX2 policy (tiles up to 128 x 128 weights: "mixed") the forward and
# backward passes mix tiled, BLAS and outer-product layers; "blas" sends every product there.
# (forward and backward limit, fewest inputs for the backward tiles): layers to the tiles
# where their shapes allow; every product to BLAS; the backward tiles only from 16 inputs
# on (the AVX-512 policy's kind of split: NETS have layers of 3 to 130 inputs).
DENSE_PATHS = {"mixed": (128 * 128, 0), "blas": (0, 0),
               "backward from 16 inputs": (128 * 128, 16)}
NETS = [((10, 16, 1), 200), ((20, 100, 1), 13), ((9, 8, 7, 9, 3), 5), ((3, 9, 8, 2), 1),
        ((17, 16, 17, 15, 1), 9),
        ((5, 130, 130, 8), 6)]


def _layers(rng, units, dtype):
    layout = Layout(units)
    flat = (rng.uniform(-1, 1, layout.n_params)).astype(dtype)
    return layout, flat, R.unpack(flat, units)


def _bound_forward(X, coefs):
    """Per-layer rounding scales of the forward pass: |A_prev| @ |W| layer by layer
    (relu and identity never increase a magnitude), with the longest sum so far."""
    A = np.abs(X.astype(np.float64))
    scales = []
    for W in coefs:
        A = A @ np.abs(W.astype(np.float64)) + 1.0  # + |b| <= 1
        scales.append(A)
    return scales


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("net", NETS, ids=lambda c: "-".join(map(str, c[0])) + f"_n{c[1]}"
                         if isinstance(c, tuple) else str(c))
@pytest.mark.parametrize("path", DENSE_PATHS)
def test_dense_forward_and_backward_through_tiles(request, dtype, net, path):
    units, n = net
    rng = _rng(request)
    layout, flat, (coefs, intercepts) = _layers(rng, units, dtype)
    X = rng.randn(n, units[0]).astype(dtype)
    limit, backward_from = DENSE_PATHS[path]
    codes = kg.Codes(kreg.ACTIVATION_CODES["relu"], kreg.ACTIVATION_CODES["identity"],
                     kreg.LOSS_CODES["squared_error"], limit, limit, backward_from)
    acts = np.full(n * layout.activation_size, np.nan, dtype=dtype)
    out = kdense.dense_forward(flat, layout.group, codes, X, acts, kg.NO_DROPOUT)
    expected = R.forward(X.astype(np.float64), [c.astype(np.float64) for c in coefs],
                         [b.astype(np.float64) for b in intercepts], "relu", "identity")
    # The error of layer i is its own sums' (length fan_in) plus what the inputs carried,
    # bounded by the sum of the fan-ins so far times the magnitudes propagated.
    k_so_far = np.cumsum(units[:-1])
    for i, scale in enumerate(_bound_forward(X, coefs)):
        got = acts[n * layout.group.act_off[i]:][: n * units[i + 1]].reshape(n, units[i + 1])
        assert_close(got, expected[i + 1], k=int(k_so_far[i]), rtol=0.0, dtype=dtype,
                     scale=scale, err_msg=f"layer {i} activations")
    assert_close(out, expected[-1], k=int(k_so_far[-1]), rtol=0.0, dtype=dtype,
                 scale=_bound_forward(X, coefs)[-1], err_msg="output")

    # Backward from a given output delta, on the kernel's own activations (so that only
    # the backward pass's rounding is measured): raw sums (finish=False).
    delta = rng.randn(n, units[-1]).astype(dtype)
    deltas = np.full_like(acts, np.nan)
    deltas[n * layout.group.act_off[-1]:][: n * units[-1]] = delta.ravel()
    grad = np.full_like(flat, np.nan)
    kdense.dense_backward(flat, grad, layout.group, codes, X, acts, deltas, dtype(0), dtype(1),
                          False, kg.NO_DROPOUT)
    kernel_acts = [X] + [acts[n * layout.group.act_off[i]:][: n * u].reshape(n, u)
                         for i, u in enumerate(units[1:])]
    A64 = [a.astype(np.float64) for a in kernel_acts]
    W64 = [c.astype(np.float64) for c in coefs]
    dW, db = R.backprop(A64, W64, delta.astype(np.float64), "relu", 0.0, 1.0)
    # Bound: each D_prev is a sum of length fan_out, each dW a sum of length n; magnitudes
    # propagated with |.| as for the forward pass.
    D_abs = np.abs(delta.astype(np.float64))
    k_back = 0
    g_dW, g_db = R.unpack(grad, units)
    for i in range(len(coefs) - 1, -1, -1):
        k_back += units[i + 1]
        assert_close(g_dW[i], dW[i], k=k_back + n, rtol=0.0, dtype=dtype,
                     scale=np.abs(A64[i]).T @ D_abs, err_msg=f"dW {i}")
        assert_close(g_db[i], db[i], k=k_back + n, rtol=0.0, dtype=dtype,
                     scale=D_abs.sum(axis=0), err_msg=f"db {i}")
        D_abs = D_abs @ np.abs(W64[i]).T


# ------------------------------------------------------- many-row forward, chunk by chunk
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk", [1, 7, 30, 64], ids=lambda c: f"chunk{c}")
def test_dense_forward_rows_equals_one_pass(request, dtype, chunk):
    """Chunks of 1, 7 (30 = 4 * 7 + 2: a short last chunk), all rows at once, more than
    all: every row's output as one ``dense_forward`` of all rows computes it -- within the
    rounding of the forward pass (a 1-row chunk may take another BLAS kernel)."""
    units, n = (6, 16, 9, 3), 30
    rng = _rng(request)
    layout, flat, (coefs, _) = _layers(rng, units, dtype)
    X = rng.randn(n, units[0]).astype(dtype)
    codes = kg.Codes(kreg.ACTIVATION_CODES["relu"], kreg.ACTIVATION_CODES["identity"],
                     kreg.LOSS_CODES["squared_error"], *ksmall.tile_limits())
    acts = np.empty(n * layout.activation_size, dtype=dtype)
    expected = kdense.dense_forward(flat, layout.group, codes, X, acts, kg.NO_DROPOUT).copy()
    small_acts = np.empty(chunk * layout.activation_size, dtype=dtype)
    for check in (True, False):
        out = np.full((n, units[-1]), np.nan, dtype=dtype)
        assert kdense.dense_forward_rows(flat, layout.group, codes, X, small_acts, out, check)
        # Two computations of the same sums, each within k * eps / 2 * scale of the truth.
        assert_close(out, expected, k=sum(units[:-1]), rtol=0.0, dtype=dtype,
                     scale=_bound_forward(X, coefs)[-1])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_dense_forward_rows_reports_a_non_finite_input_in_a_later_chunk(bad):
    units = (4, 9, 1)
    layout, flat, _ = _layers(np.random.RandomState(0), units, np.float64)
    X = np.random.RandomState(1).randn(25, 4)
    X[23, 2] = bad
    codes = kg.Codes(kreg.ACTIVATION_CODES["relu"], kreg.ACTIVATION_CODES["identity"],
                     kreg.LOSS_CODES["squared_error"], *ksmall.tile_limits())
    acts = np.empty(10 * layout.activation_size)
    out = np.empty((25, 1))
    assert not kdense.dense_forward_rows(flat, layout.group, codes, X, acts, out, True)
    assert kdense.dense_forward_rows(flat, layout.group, codes, X, acts, out, False)


def test_chunk_rows_bounds_the_workspace():
    """At most CHUNK_VALUES activations a chunk, as many rows as fit, but never fewer than
    CHUNK_MIN_ROWS rows, nor than WIDE_ROWS with a layer of WIDE_WEIGHTS weights (wide
    layers: BLAS needs tall products)."""
    for units in ([10, 16, 1], [64, 100, 10], [100, 256, 256, 1], [784, 1024, 1024, 10],
                  [3, 2 * kdense.CHUNK_VALUES, 1]):
        width = sum(units[1:])
        wide = max(a * b for a, b in zip(units[:-1], units[1:])) >= kdense.WIDE_WEIGHTS
        least = kdense.WIDE_ROWS if wide else kdense.CHUNK_MIN_ROWS
        rows = kdense.chunk_rows(units)
        assert rows >= least
        if rows > least:  # the activations bound decides
            assert rows * width <= kdense.CHUNK_VALUES < (rows + 1) * width
        else:
            assert least * width >= kdense.CHUNK_VALUES - width
    assert kdense.chunk_rows([10, 16, 1]) == kdense.CHUNK_VALUES // 17
    assert kdense.chunk_rows([100, 256, 256, 1]) == kdense.CHUNK_MIN_ROWS
    assert kdense.chunk_rows([784, 1024, 1024, 10]) == kdense.WIDE_ROWS


# ------------------------------------------------------- predict's one-call forward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 3, ROWS + 2])
def test_dense_forward_if_finite_equals_the_training_forward_bit_for_bit(request, dtype, n):
    """Predict's compiled forward (its own activations, the long one-row tiles for fewer
    rows than a tile) gives the training forward's outputs bit for bit: layers as wide as
    a long tile or wider sum each output in the same order (the last, 3 wide, goes to
    BLAS in both).  Each call returns fresh memory; a non-finite input, no rows."""
    long = ksmall.long_lanes(np.dtype(dtype).itemsize)
    units = (5, long + 6, long, 3)
    rng = _rng(request)
    layout, flat, _ = _layers(rng, units, dtype)
    codes = kg.Codes(kreg.ACTIVATION_CODES["relu"], kreg.ACTIVATION_CODES["identity"],
                     kreg.LOSS_CODES["squared_error"], ksmall.MAX_TERMS, ksmall.MAX_TERMS, 0)
    X = rng.randn(n, units[0]).astype(dtype)
    acts = np.full(n * layout.activation_size, np.nan, dtype=dtype)
    expected = kdense.dense_forward(flat, layout.group, codes, X, acts, kg.NO_DROPOUT).copy()
    packed = kpacked.pack(layout.group, codes)
    got = kdense.dense_forward_if_finite(flat, packed, X)
    np.testing.assert_array_equal(got, expected)
    again = kdense.dense_forward_if_finite(flat, packed, 2 * X)
    assert not np.shares_memory(got, again)
    np.testing.assert_array_equal(got, expected)  # untouched by the second call
    X[-1, -1] = np.inf
    none = kdense.dense_forward_if_finite(flat, packed, X)
    assert none.shape == (0, units[-1])
