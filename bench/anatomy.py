"""Where a workload's time goes: the measurements behind README's "what the unmet targets
would take" and the numbers quoted in the kernels' comments.

Each subcommand times one part on one thread (run it pinned, e.g. ``taskset -c 0``, with
``OPENBLAS_NUM_THREADS=1``) and prints medians of several samples::

    python -m bench.anatomy products medium     # OpenBLAS alone at a batch's shapes
    python -m bench.anatomy solvers medium      # Adam's update against SGD's, per batch
    python -m bench.anatomy passes              # the elementwise passes and small kernels
    python -m bench.anatomy refcounts tiny      # Numba's reference-count changes per batch
    python -m bench.anatomy pause tiny          # a fit back to back vs after the bench's pause
    python -m bench.anatomy align small         # a fit by where its buffers start in memory
    python -m bench.anatomy predict digits      # predict's parts against scikit-learn's
    python -m bench.anatomy chunks large        # many-row predict by chunk size
    python -m bench.anatomy policy small        # fit and predict by tile policy (small.py)
    python -m bench.anatomy overhead tiny       # a fit's time outside the compiled epochs
    python -m bench.anatomy firstfit tiny       # cold / warm first fits and their compilation

``--dtypes`` picks float64, float32 or both (the default).  Nothing here asserts a
speed; ``tests/test_bench_anatomy.py`` runs every subcommand on small sizes and checks
what it prints, and that a training batch makes no atomic reference-count changes.
"""

import argparse
import ctypes
import sys
import time
import warnings

import numpy as np

from . import workloads as W
from .timing import SETTLE_S, time_calls

__all__ = ["main"]

SAMPLES = 7


def _median_us(fn, calls, samples=SAMPLES):
    """Median over ``samples`` of the mean time of ``calls`` calls of ``fn``, in microseconds."""
    fn()
    return float(np.median(time_calls(fn, samples, calls))) * 1e6


def _estimator(w):
    import fastnet

    return fastnet.MLPClassifier if w.task == "classification" else fastnet.MLPRegressor


def _warm(w, data):
    """Compile (or load) the workload's kernels with a short fit."""
    _estimator(w)(**dict(W.estimator_params(w), max_iter=1)).fit(data.X[:500], data.y[:500])


def _fit_ms(w, data, params, repeats, pause=0.0):
    """Median wall time of ``repeats`` fits, in milliseconds (``pause`` s of sleep before each)."""
    est = _estimator(w)
    times = []
    for _ in range(repeats):
        model = est(**params)
        if pause:
            time.sleep(pause)
        t0 = time.perf_counter()
        model.fit(data.X, data.y)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def _batches(w, data, epochs):
    return epochs * -(-data.X.shape[0] // w.batch_size)


def products(w, dtypes, rows, square=2048):
    """OpenBLAS alone on one batch's five kinds of products, against fastnet's whole batch."""
    from numba import njit

    from fastnet.network import Network

    @njit
    def dots(A, B, C, repeats):
        for _ in range(repeats):
            np.dot(A, B, C)

    rng = np.random.default_rng(0)

    def blas_us(n, m, k, dtype, a_transposed=False, b_transposed=False):
        A = rng.random((m, n) if a_transposed else (n, m)).astype(dtype)
        B = rng.random((k, m) if b_transposed else (m, k)).astype(dtype)
        C = np.empty((n, k), dtype)
        a = A.T if a_transposed else A
        b = B.T if b_transposed else B
        us = _median_us(lambda: dots(a, b, C, 50), 1) / 50
        return us, 2.0 * n * m * k / us / 1e3

    units = W.layer_units(w)
    print(f"{w.name} {units}, batches of {rows} rows, one thread; GFLOP/s in brackets")
    for dtype in dtypes:
        peak_us, peak = blas_us(square, square, square, dtype)
        net = Network(units, dtype=dtype, random_state=0)
        X = rng.random((rows, units[0])).astype(dtype)
        y = rng.random((rows, units[-1])).astype(dtype)
        batch_us = _median_us(lambda: net.loss_and_grad(X, y), 100)
        forward, backward, parts = 0.0, 0.0, []
        for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
            us, rate = blas_us(rows, fan_in, fan_out, dtype)
            forward += us
            parts.append(f"X@W {rows}x{fan_in}x{fan_out} {us:.1f} ({rate:.0f})")
            us, rate = blas_us(fan_in, rows, fan_out, dtype, a_transposed=True)
            backward += us
            parts.append(f"A.T@D {fan_in}x{rows}x{fan_out} {us:.1f} ({rate:.0f})")
            if i > 0:
                us, rate = blas_us(rows, fan_out, fan_in, dtype, b_transposed=True)
                backward += us
                parts.append(f"D@W.T {rows}x{fan_out}x{fan_in} {us:.1f} ({rate:.0f})")
        print(f"  {dtype}: fastnet loss_and_grad {batch_us:.0f} us a batch; BLAS alone: "
              f"forward {forward:.0f} us, backward {backward:.0f} us; {square}^2 rate "
              f"{peak:.0f} GFLOP/s")
        print("    " + "; ".join(parts))


def solvers(w, dtypes, repeats):
    """A fit's time per batch with Adam and with SGD (same batches), interleaved."""
    for dtype in dtypes:
        data = W.make_data(w, dtype)
        _warm(w, data)
        params = W.estimator_params(w)
        n = _batches(w, data, w.epochs)
        result = {"adam": [], "sgd": []}
        for _ in range(2):
            for solver in result:
                result[solver].append(_fit_ms(w, data, dict(params, solver=solver), repeats))
        print(f"{w.name} {dtype}: " + "; ".join(
            f"{s} {min(v):.0f} ms ({min(v) / n * 1e3:.0f} us a batch)" for s, v in result.items()))


def pause(w, dtypes, repeats):
    """Fits back to back against fits after the bench's settle pause (``SETTLE_S``)."""
    for dtype in dtypes:
        data = W.make_data(w, dtype)
        _warm(w, data)
        params = W.estimator_params(w)
        result = {"back to back": [], f"after {SETTLE_S} s": []}
        for _ in range(2):
            result["back to back"].append(_fit_ms(w, data, params, repeats))
            result[f"after {SETTLE_S} s"].append(_fit_ms(w, data, params, repeats, SETTLE_S))
        print(f"{w.name} {dtype}: " + "; ".join(
            f"{k} {' / '.join(f'{x:.2f}' for x in v)} ms" for k, v in result.items()))


def _count_refcounts():
    """Make Numba's NRT_incref / NRT_decref count their non-null calls; returns the counters.

    Must run before Numba builds its runtime (before the first compiled call).
    """
    from llvmlite import ir
    from numba.core.runtime import nrtdynmod, rtsys

    if getattr(rtsys, "_init", False):
        raise RuntimeError("refcounts: Numba's runtime is already built in this process")
    counters = (ctypes.c_int64 * 2)()
    i64 = ir.IntType(64)

    def counting(define, name, slot):
        def wrapped(module, atomic):
            define(module, atomic)
            fn = module.get_global(name)
            builder = ir.IRBuilder(fn.blocks[0])
            builder.position_at_start(fn.blocks[0])
            where = ir.Constant(i64, ctypes.addressof(counters) + 8 * slot).inttoptr(
                i64.as_pointer())
            ptr = fn.args[0]
            live = builder.zext(builder.icmp_unsigned("!=", ptr, ir.Constant(ptr.type, None)),
                                i64)
            builder.store(builder.add(builder.load(where), live), where)

        return wrapped

    nrtdynmod._define_nrt_incref = counting(nrtdynmod._define_nrt_incref, "NRT_incref", 0)
    nrtdynmod._define_nrt_decref = counting(nrtdynmod._define_nrt_decref, "NRT_decref", 1)
    return counters


def refcounts(w, dtypes, epochs):
    """Reference-count changes of live arrays (the atomic ones) per batch of a fit."""
    counters = _count_refcounts()
    for dtype in dtypes:
        data = W.make_data(w, dtype)
        _warm(w, data)
        counters[0] = counters[1] = 0
        _estimator(w)(**dict(W.estimator_params(w), max_iter=epochs)).fit(data.X, data.y)
        n = _batches(w, data, epochs)
        print(f"{w.name} {dtype}: {counters[0] / n:.2f} increments and {counters[1] / n:.2f} "
              f"decrements a batch ({n} batches)")


def predict(w, dtypes, rows):
    """predict of ``rows`` rows: fastnet, scikit-learn, and fastnet's parts."""
    import sklearn.neural_network as sk

    from fastnet.kernels.labels import argmax_rows

    rng = np.random.default_rng(0)
    for dtype in dtypes:
        data = W.make_data(w, dtype)
        params = dict(W.estimator_params(w), max_iter=2)
        fitted = _estimator(w)(**params).fit(data.X[:300], data.y[:300])
        theirs_cls = sk.MLPClassifier if w.task == "classification" else sk.MLPRegressor
        theirs = theirs_cls(**params).fit(data.X[:300], data.y[:300])
        X = rng.standard_normal((rows, data.X.shape[1])).astype(dtype)
        net = fitted._network
        W0 = fitted.coefs_[0].astype(dtype)
        calls = max(1, 20000 // rows)
        r = {
            "fastnet predict": _median_us(lambda: fitted.predict(X), calls),
            "scikit-learn predict": _median_us(lambda: theirs.predict(X), calls),
            "forward pass": _median_us(lambda: net._forward_if_finite(X), calls),
            "np.isfinite(X).all()": _median_us(lambda: np.isfinite(X).all(), calls),
            f"X @ W0 ({rows}x{W0.shape[0]}x{W0.shape[1]}, NumPy)": _median_us(lambda: X @ W0,
                                                                                 calls),
        }
        if net.output_activation == "softmax":  # what the classifier's predict runs
            r["forward pass without the softmax"] = _median_us(
                lambda: net._forward_if_finite(X, argmax_only=True), calls)
            # Each row's largest output, NumPy's and kernels/labels.py's (see
            # estimators.COMPILED_ARGMAX_ROWS).
            Z = net._forward_if_finite(X, argmax_only=True)
            r["argmax, NumPy"] = _median_us(lambda: Z.argmax(axis=1), calls)
            r["(compiled)"] = _median_us(lambda: argmax_rows(Z), calls)
        print(f"{w.name} {dtype}, {rows} rows (chunks of {net._chunk}): " + "; ".join(
            f"{k} {v:.0f} us" for k, v in r.items())
            + f"; scikit-learn / fastnet {r['scikit-learn predict'] / r['fastnet predict']:.2f}")


def chunks(w, dtypes, rows, sizes):
    """Many-row predict by the rows a chunk takes (``Network._chunk``), interleaved."""
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        data = W.make_data(w, dtype)
        fitted = _estimator(w)(**dict(W.estimator_params(w), max_iter=2)).fit(
            data.X[:300], data.y[:300])
        net = fitted._network
        default = net._chunk
        X = rng.standard_normal((rows, data.X.shape[1])).astype(dtype)
        result = {size: [] for size in sizes}
        calls = max(1, 20000 // rows)
        for _ in range(2):
            for size in sizes:
                net._chunk = size
                result[size].append(
                    _median_us(lambda: net._forward_rows(X, net._codes, True), calls, 3))
        net._chunk = default
        print(f"{w.name} {dtype}, {rows} rows (default chunk {default}): " + "; ".join(
            f"{size} {min(v) / 1e3:.2f} ms" for size, v in result.items()))


def overhead(w, dtypes, repeats):
    """A fit's time in the compiled epochs against its whole time; a one-row, one-epoch fit."""
    import fastnet.network as network

    kernel = network._epoch.run_epochs
    inside = []

    def timed_run_epochs(*args):
        t0 = time.perf_counter()
        try:
            return kernel(*args)
        finally:
            inside[-1] += time.perf_counter() - t0

    class _Epochs:  # the module as the network sees it, with run_epochs timed
        def __getattr__(self, name):
            return timed_run_epochs if name == "run_epochs" else getattr(network._epoch, name)

    module = network._epoch
    try:
        for dtype in dtypes:
            data = W.make_data(w, dtype)
            _warm(w, data)
            params = W.estimator_params(w)
            network._epoch = _Epochs()
            totals = []
            inside.clear()
            for _ in range(max(repeats, 5)):
                inside.append(0.0)
                model = _estimator(w)(**params)
                t0 = time.perf_counter()
                model.fit(data.X, data.y)
                totals.append(time.perf_counter() - t0)
            network._epoch = module
            est = _estimator(w)
            one = dict(params, max_iter=1)
            X1, y1 = data.X[:2], data.y[:2]
            fixed = _median_us(lambda: est(**one).fit(X1, y1), 20)
            total = float(np.median(totals)) * 1e3
            compiled = float(np.median(inside)) * 1e3
            print(f"{w.name} {dtype}: fit {total:.2f} ms, of it in run_epochs {compiled:.2f} ms "
                  f"and outside {total - compiled:.2f} ms ({w.epochs} epochs' bookkeeping and "
                  f"the fit's setup); a fit of 2 rows, 1 epoch: {fixed / 1e3:.2f} ms")
    finally:
        network._epoch = module


POLICIES = {"forward tiles, backward BLAS": (128 * 128, 0, 0), "all BLAS": (0, 0, 0),
            "all tiles": (128 * 128, 128 * 128, 0),
            "backward tiles from 32 inputs": (128 * 128, 128 * 128, 32)}


def policy(w, dtypes, repeats, rows, policies=None):
    """Fit and many-row predict under each tile policy (``small.tile_limits``), interleaved.

    The limits are runtime values of a network's ``Codes``, so one set of compiled
    kernels serves them all; the policy is swapped for networks built meanwhile.
    ``policies`` maps names to ``(forward, backward, backward_from)`` limits
    (default :data:`POLICIES`).
    """
    policies = policies or POLICIES
    from fastnet.kernels import small

    default = small.tile_limits
    rng = np.random.default_rng(0)
    try:
        for dtype in dtypes:
            data = W.make_data(w, dtype)
            _warm(w, data)
            params = W.estimator_params(w)
            X = rng.standard_normal((rows, data.X.shape[1])).astype(dtype)
            fits = {name: [] for name in policies}
            predicts = {name: [] for name in policies}
            applied = {}
            for _ in range(2):
                for name, limits in policies.items():
                    small.tile_limits = lambda limits=limits: limits
                    fits[name].append(_fit_ms(w, data, params, repeats))
                    model = _estimator(w)(**dict(params, max_iter=2)).fit(data.X[:300],
                                                                          data.y[:300])
                    predicts[name].append(_median_us(lambda: model.predict(X), 5, 3))
                    codes = model._network._codes  # what the kernels were given
                    applied[name] = (codes.tiles_forward, codes.tiles_backward,
                                     codes.tiles_backward_from)
            print(f"{w.name} {dtype} (this CPU's policy: {default()}): " + "; ".join(
                f"{name} {applied[name]}: fit {min(fits[name]):.1f} ms, predict {rows} rows "
                f"{min(predicts[name]):.0f} us" for name in policies))
    finally:
        small.tile_limits = default


def passes(dtypes, rows):
    """The elementwise passes and small kernels of a batch, each in a compiled loop."""
    from numba import njit

    import collections

    from fastnet.kernels import dense, epoch, groups, losses, mt19937, small
    from fastnet.kernels.activations import activation_backward, bias_activation_forward
    from fastnet.kernels.registry import LOSS_CODES, RELU, SOFTMAX
    from fastnet.kernels.vtanh import tanh_inplace

    @njit
    def column_sums(D, out, repeats):
        for _ in range(repeats):
            dense.column_sums(D, out)

    @njit
    def column_sums_in_memory(D, out, repeats):  # the row-by-row loop, for comparison
        n, k = D.shape
        for _ in range(repeats):
            for c in range(k):
                out[c] = 0
            for r in range(n):
                for c in range(k):
                    out[c] += D[r, c]

    @njit
    def log_loss(code, P, batch, col, repeats):
        total = 0.0
        for _ in range(repeats):
            total += losses.loss_value(code, P, batch, col)
        return total

    @njit
    def outer_delta(D, Wt, scratch, Dp, Ap, repeats):
        for _ in range(repeats):
            small.input_delta(D, Wt, scratch, Dp, Ap, RELU, 0)

    @njit
    def bias_relu(Z, b, repeats):
        for _ in range(repeats):
            bias_activation_forward(Z, b, RELU)

    @njit
    def relu_backward(A, D, repeats):
        for _ in range(repeats):
            activation_backward(A, D, RELU)

    @njit
    def softmax(Z, b, repeats):
        for _ in range(repeats):
            bias_activation_forward(Z, b, SOFTMAX)

    def numpy_tanh(H, repeats):
        for _ in range(repeats):
            np.tanh(H, out=H)

    def vector_tanh(H, repeats):
        for _ in range(repeats):
            tanh_inplace(H)

    @njit
    def finite_flat(X, repeats):
        ok = True
        for _ in range(repeats):
            ok &= dense.all_finite(X.reshape(X.size), 0, X.size)
        return ok

    @njit
    def finite_rows(X, repeats):  # the same test over rows and columns, for comparison
        ok = True
        for _ in range(repeats):
            n, m = X.shape
            for r in range(n):
                for c in range(m):
                    v = X[r, c]
                    ok &= (v - v) == 0
        return ok

    @njit
    def gather(data, order, rows, work, repeats):  # a batch's rows copied into the workspace
        for _ in range(repeats):
            epoch._gather(data, order, 0, rows, work)

    @njit
    def output_delta(out, batch, D, repeats):
        for _ in range(repeats):
            losses.output_delta(out, batch, D)

    @njit
    def shuffle(order, key, pos, repeats):
        for _ in range(repeats):
            mt19937.shuffle(order, key, pos)

    workspace = collections.namedtuple("workspace", "x y sw")
    rng = np.random.default_rng(0)
    reps = 200
    for dtype in dtypes:
        out = []

        def timed(label, loop, *args, repeats=reps):
            out.append(f"{label} {_median_us(lambda: loop(*args, repeats), 1) / repeats:.2f}")

        for k in (16, 256):
            D = rng.standard_normal((rows, k)).astype(dtype)
            s = np.empty(k, dtype)
            timed(f"column sums {rows}x{k}", column_sums, D, s)
            timed("(row by row in memory)", column_sums_in_memory, D, s)
        P = rng.random((rows, 10)).astype(dtype)
        P /= P.sum(axis=1, keepdims=True)
        Y = np.zeros((rows, 10), dtype)
        Y[np.arange(rows), rng.integers(0, 10, rows)] = 1
        batch = groups.Data(np.empty((rows, 1), dtype), Y, np.empty(0, dtype), False)
        timed(f"log-loss value {rows}x10", log_loss, LOSS_CODES["log_loss"], P, batch,
              np.empty(10, dtype))
        for m in (16, 256):
            Dk = rng.standard_normal((rows, 1)).astype(dtype)
            Wk = rng.standard_normal((m, 1)).astype(dtype)
            A = np.maximum(rng.standard_normal((rows, m)), 0).astype(dtype)
            timed(f"input delta of a 1-wide layer {rows}x{m}", outer_delta, Dk, Wk,
                  np.empty_like(Wk), np.empty_like(A), A)
            Z = rng.standard_normal((rows, m)).astype(dtype)
            timed(f"bias+relu {rows}x{m}", bias_relu, Z, rng.standard_normal(m).astype(dtype))
            timed(f"relu' {rows}x{m}", relu_backward, A, Z)
        Z = (rng.standard_normal((10000, 10)) * 0.01).astype(dtype)
        timed("softmax 10000x10", softmax, Z, np.zeros(10, dtype))
        # tanh of a 10 000-row predict's (10000, 8) hidden block: NumPy's ufunc (what
        # scikit-learn's predict runs) against the compiled vector loop of kernels/vtanh.
        H = rng.standard_normal(80_000).astype(dtype)
        timed("tanh 10000x8, NumPy", numpy_tanh, H, repeats=10)
        timed("(vtanh)", vector_tanh, H, repeats=10)
        X = rng.standard_normal((3855, 10)).astype(dtype)
        timed("finite check 3855x10, flat", finite_flat, X)
        timed("(row by row)", finite_rows, X)
        # The tiny workload's batch: `rows` shuffled rows of 1000 x 10 and a 1-wide target.
        n_samples = max(1000, rows)
        data = groups.Data(rng.standard_normal((n_samples, 10)).astype(dtype),
                           rng.standard_normal((n_samples, 1)).astype(dtype),
                           np.empty(0, dtype), False)
        order = rng.permutation(n_samples).astype(np.int64)
        work = workspace(np.empty(rows * 10, dtype), np.empty(rows, dtype), np.empty(rows, dtype))
        timed(f"gather {rows} rows of {n_samples}x10 and a 1-wide target", gather, data, order,
              rows, work)
        D1 = rng.standard_normal((rows, 1)).astype(dtype)
        timed(f"output delta {rows}x1", output_delta, D1,
              groups.Data(D1, D1.copy(), np.empty(0, dtype), False), np.empty_like(D1))
        timed(f"column sum {rows}x1", column_sums, D1, np.empty(1, dtype))
        print(f"{dtype}, us: " + "; ".join(out))
    # The epoch's reshuffle (scikit-learn's RandomState.shuffle, compiled; no dtype).
    state = np.random.RandomState(0).get_state()
    key, pos = state[1].copy(), np.array([state[2]], np.int64)
    times = []
    for n in (1000, 50_000):
        order = np.arange(n, dtype=np.int64)
        repeats = max(2, 200_000 // n)
        median = _median_us(lambda: shuffle(order, key, pos, repeats), 1) / repeats
        times.append(f"{n} rows {median:.2f}")
    print("shuffle, us: " + "; ".join(times))


def firstfit(w, dtypes, repeats):
    """First fits in fresh processes (``bench.startup``): cold cache, then warm, ``repeats``
    times; for the cold one, where the compilation went (typing, lowering, LLVM within it,
    and the dispatchers Numba compiled as units of their own)."""
    from .startup import measure_first_fit

    for dtype in dtypes:
        for _ in range(repeats):
            run = measure_first_fit(w.name, dtype)
            cold, warm = run["cold"], run["warm"]
            if "error" in cold or "error" in warm:
                print(f"{w.name} {dtype}: failed: {cold.get('error') or warm.get('error')}")
                continue
            kernels = cold["compile"]["kernels"]
            other = cold["compile"]["other"]
            parts = "; ".join(
                f"{name} {k['s']:.2f} s (typing {k['typing_s']:.2f}, lowering "
                f"{k['lowering_s']:.2f}, of it LLVM {k['llvm_s']:.2f})"
                for name, k in sorted(kernels.items()))
            others = ", ".join(f"{name} {t:.2f}" for name, t in
                               sorted(other.items(), key=lambda kv: -kv[1]))
            print(f"{w.name} {dtype}: cold first fit {cold['first_fit_cpu_s']:.2f} s CPU: "
                  f"{parts}; other dispatchers {sum(other.values()):.2f} s ({others or 'none'}); "
                  f"warm first fit {1e3 * warm['first_fit_cpu_s']:.1f} ms CPU")


# Where align() places a fit's buffers: on a cache line (fastnet's own allocation), and
# 16 or 32 bytes past one (where NumPy's allocations may land).
ALIGN_OFFSETS = (0, 16, 32)


def _shifted(array, offset):
    """A copy of ``array`` whose data starts ``offset`` bytes past a 64-byte boundary."""
    from fastnet import _aligned

    raw = _aligned.empty(array.nbytes + offset, np.uint8)
    out = raw[offset:offset + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    return out


def align(w, dtypes, repeats):
    """Fits with the workspace's buffers (the gathered batch, activations, deltas, gradient)
    starting ``offset`` bytes past a cache line (:data:`ALIGN_OFFSETS`), interleaved: what
    ``fastnet._aligned`` buys."""
    from fastnet import network

    build = network._workspace
    est = _estimator(w)
    try:
        for dtype in dtypes:
            data = W.make_data(w, dtype)
            _warm(w, data)
            params = W.estimator_params(w)
            result = {offset: [] for offset in ALIGN_OFFSETS}
            for _ in range(2):
                for offset in ALIGN_OFFSETS:
                    def workspace(*args, offset=offset, **kwargs):
                        work = build(*args, **kwargs)
                        return work._replace(**{name: _shifted(getattr(work, name), offset)
                                                for name in ("x", "y", "acts", "deltas", "grad")})

                    network._workspace = workspace
                    for _ in range(repeats):
                        model = est(**params)
                        t0 = time.perf_counter()
                        model.fit(data.X, data.y)
                        result[offset].append((time.perf_counter() - t0) * 1e3)
            print(f"{w.name} {dtype}, fit ms by the buffers' start past a cache line: " + "; ".join(
                f"{offset} bytes {np.median(v):.1f} (min {min(v):.1f})"
                for offset, v in result.items()))
    finally:
        network._workspace = build


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["products", "solvers", "passes", "refcounts", "pause",
                                    "predict", "chunks", "policy", "overhead", "firstfit", "align"])
    p.add_argument("workload", nargs="?", default="tiny", help="a workload of bench.workloads")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--rows", type=int, default=None,
                   help="batch rows (products, passes: 200) or predict rows (10 000)")
    p.add_argument("--repeats", type=int, default=3,
                   help="fits per sample (solvers, pause, align); cold/warm rounds (firstfit)")
    p.add_argument("--epochs", type=int, default=20, help="epochs of the counted fit (refcounts)")
    p.add_argument("--square", type=int, default=2048,
                   help="side of the square product whose rate is the reference (products)")
    p.add_argument("--policies", default=None,
                   help="policy: tile limits to compare, 'F,B,M;F,B,M' (default: four named)")
    p.add_argument("--sizes", default="512,1024,2048,4096",
                   help="chunk sizes (chunks), comma-separated")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    dtypes = args.dtypes.split(",")
    w = W.get(args.workload)
    if args.what == "refcounts":
        refcounts(w, dtypes, args.epochs)
    elif args.what == "products":
        products(w, dtypes, args.rows or w.batch_size, args.square)
    elif args.what == "solvers":
        solvers(w, dtypes, args.repeats)
    elif args.what == "pause":
        pause(w, dtypes, args.repeats)
    elif args.what == "align":
        align(w, dtypes, args.repeats)
    elif args.what == "predict":
        predict(w, dtypes, args.rows or 10000)
    elif args.what == "overhead":
        overhead(w, dtypes, args.repeats)
    elif args.what == "firstfit":
        firstfit(w, dtypes, args.repeats)
    elif args.what == "policy":
        policies = None
        if args.policies:
            policies = {f"limits {triple}": tuple(int(v) for v in triple.split(","))
                        for triple in args.policies.split(";")}
        policy(w, dtypes, args.repeats, args.rows or 10000, policies)
    elif args.what == "chunks":
        chunks(w, dtypes, args.rows or 10000, [int(s) for s in args.sizes.split(",")])
    else:
        passes(dtypes, args.rows or 200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
