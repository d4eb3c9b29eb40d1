"""Register tiles vs BLAS for the three products of a training batch, per layer shape.

The measurement behind ``MAX_TERMS`` / ``MAX_TERMS_BACKWARD`` in ``kernels/small.py``:
for a batch of rows through a layer ``fan_in x fan_out``, the forward product
``X @ W`` and the weight gradient ``X.T @ D``, each by fastnet's tiles and by
BLAS (``np.dot`` inside a compiled loop, as the kernels call it), on one
thread.  Prints microseconds per product and BLAS time / tiles time::

    python -m bench.tiles                       # the table's shapes, both dtypes
    python -m bench.tiles --shapes 64x64,128x128 --dtypes float32

Run it with ``OPENBLAS_NUM_THREADS=1`` (threadpoolctl limits the pools it finds,
but SciPy's OpenBLAS, which Numba calls, may load only later).
"""

import argparse
import time

import numpy as np

SHAPES = "10x16,20x100,64x100,100x10,32x64,64x64,100x128,128x128,100x256,256x256"


def _loops():
    """The compiled timing loops (built on first use: importing this module compiles nothing)."""
    from numba import njit

    from fastnet.kernels import small
    from fastnet.kernels.registry import IDENTITY

    @njit
    def tiles(X, Y, out, repeats):  # the half-width tiles below a whole tile's width
        half = Y.shape[1] < small.lanes(X.itemsize)
        for _ in range(repeats):
            if half:
                small.half_tiled_product(X, Y, out, out, small.PLAIN, IDENTITY)
            else:
                small.tiled_product(X, Y, out, out, small.PLAIN, IDENTITY)

    @njit
    def blas(X, Y, out, repeats):
        for _ in range(repeats):
            np.dot(X, Y, out)

    @njit
    def tiles_t(A, Y, out, repeats):
        half = Y.shape[1] < small.lanes(A.itemsize)
        for _ in range(repeats):
            if half:
                small.half_tiled_product(A.T, Y, out, out, small.PLAIN, IDENTITY)
            else:
                small.tiled_product(A.T, Y, out, out, small.PLAIN, IDENTITY)

    @njit
    def blas_t(A, Y, out, repeats):
        for _ in range(repeats):
            np.dot(A.T, Y, out)

    return tiles, blas, tiles_t, blas_t


def _best_us(loop, args, repeats, samples):
    loop(*args, 1)  # compile and warm
    best = float("inf")
    for _ in range(samples):
        start = time.perf_counter()
        loop(*args, repeats)
        best = min(best, (time.perf_counter() - start) / repeats * 1e6)
    return best


def measure(shapes, dtypes, rows=200, samples=5, work=2e7):
    """Tiles and BLAS times for each layer shape and dtype.

    Parameters
    ----------
    shapes : list of (int, int)
        ``(fan_in, fan_out)`` of each layer.
    dtypes : list of str
    rows : int, default=200
        The batch.
    samples : int, default=5
        Timed samples per product (the minimum is kept).
    work : float, default=2e7
        Multiply-adds per sample (sets the repeats).

    Returns
    -------
    list of dict
        ``dtype, fan_in, fan_out`` and microseconds per product: ``forward_tiles``,
        ``forward_blas``, ``gradient_tiles``, ``gradient_blas`` (tiles NaN where the
        layer is narrower than a half-width tile).
    """
    from fastnet.kernels import small

    tiles, blas, tiles_t, blas_t = _loops()
    rng = np.random.RandomState(0)
    results = []
    for name in dtypes:
        dtype = np.dtype(name)
        lanes = small.lanes(dtype.itemsize)
        for fan_in, fan_out in shapes:
            X = rng.randn(rows, fan_in).astype(dtype)
            W = rng.randn(fan_in, fan_out).astype(dtype)
            D = rng.randn(rows, fan_out).astype(dtype)
            Z = np.empty((rows, fan_out), dtype)
            dW = np.empty((fan_in, fan_out), dtype)
            repeats = max(1, int(work / (rows * fan_in * fan_out)))
            tiled = 2 * fan_out >= lanes  # the half-width tiles from half a tile's width
            nan = float("nan")
            results.append({
                "dtype": name, "fan_in": fan_in, "fan_out": fan_out,
                "forward_tiles": _best_us(tiles, (X, W, Z), repeats, samples) if tiled else nan,
                "forward_blas": _best_us(blas, (X, W, Z), repeats, samples),
                "gradient_tiles": (_best_us(tiles_t, (X, D, dW), repeats, samples)
                                   if tiled else nan),
                "gradient_blas": _best_us(blas_t, (X, D, dW), repeats, samples),
            })
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", default=SHAPES, help="comma-separated FAN_INxFAN_OUT")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--samples", type=int, default=5)
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    with threadpool_limits(1):
        rows = measure(shapes, args.dtypes.split(","), args.rows, args.samples)
    print("dtype    layer     forward: tiles   BLAS  (BLAS/tiles)   weight gradient: tiles   "
          "BLAS  (BLAS/tiles)")
    for r in rows:
        print(f"{r['dtype']:8s} {r['fan_in']:4d}x{r['fan_out']:<4d} "
              f"{r['forward_tiles']:9.2f} {r['forward_blas']:9.2f} "
              f"({r['forward_blas'] / r['forward_tiles']:.2f})     "
              f"{r['gradient_tiles']:9.2f} {r['gradient_blas']:9.2f} "
              f"({r['gradient_blas'] / r['gradient_tiles']:.2f})")
    return rows


if __name__ == "__main__":
    main()
