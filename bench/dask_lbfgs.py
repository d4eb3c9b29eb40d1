"""Time per distributed L-BFGS evaluation against one machine (README, "Scale out on Dask").

    python -m bench.dask_lbfgs                           # 1e5, 3e5, 1e6 rows; ~2-3 min
    python -m bench.dask_lbfgs --rows 100000 --repeats 3

For each size, one evaluation of the loss and gradient of the same network
on the same rows (``Network.loss_and_grad``, float64, alpha=1e-4):

* single machine: one process, one compiled call over all rows, BLAS with
  one thread and with every core (2 here; on a machine shared with other
  jobs OpenBLAS's threads are erratic, so both are shown);
* ``fastnet.dask.DistributedLossGrad`` on a ``LocalCluster`` of 1 and of 2
  worker processes with 1 thread each (Dask's nanny sets the workers' BLAS to
  1 thread), the rows in 2 blocks per worker, kept on the workers.

The evaluation is what ``fastnet.dask.fit_lbfgs`` runs once per L-BFGS step
(plus the line search's extra steps).  The fixed overhead per evaluation --
parameters out, the tasks scheduled, one gradient per block back, the sum -- is
measured on blocks of one row each.  Medians of ``--repeats`` evaluations after
one warm-up; the first distributed evaluation also pays for loading the kernels
in the workers and is not counted.  The data are made on the client and sent to
the workers once (not timed).  Every timing is checked against the single
machine's loss (relative difference printed).
"""

import argparse
import os
import time
import warnings

import numpy as np

__all__ = ["main"]

N_FEATURES = 20
HIDDEN = 64
BLOCKS_PER_WORKER = 2


def _data(n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, N_FEATURES))
    y = np.tanh(X[:, :4] @ rng.standard_normal(4)) + 0.1 * rng.standard_normal(n)
    return X, y


def _median_seconds(fn, repeats):
    fn()  # warm-up: compile or load kernels, first transfers
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _single_machine(net, X, y, repeats, threads):
    from threadpoolctl import threadpool_limits

    result = {}

    def run():
        result["loss"] = net.loss_and_grad(X, y, alpha=1e-4)[0]

    with threadpool_limits(threads):
        return _median_seconds(run, repeats), result["loss"]


def _distributed(client, net, X, y, blocks, repeats):
    import dask.array as da

    import fastnet.dask as fdask

    chunk = -(-X.shape[0] // blocks)
    dX = da.from_array(X, chunks=(chunk, N_FEATURES))
    dy = da.from_array(y, chunks=chunk)
    start = time.perf_counter()
    with fdask.DistributedLossGrad(net, dX, dy, alpha=1e-4, client=client) as f:
        setup = time.perf_counter() - start
        result = {}

        def run():
            result["loss"] = f(net.params.flat)[0]

        seconds = _median_seconds(run, repeats)
        holders = len(set(f._workers))
    return seconds, result["loss"], setup, holders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    import distributed

    from fastnet import Network

    from .env import cpu_model, load_average, versions

    load_before = load_average()
    net = Network([N_FEATURES, HIDDEN, 1], activation="tanh", random_state=0)
    n_params = net.layout.n_params
    datasets = {n: _data(n) for n in args.rows}
    cores = os.cpu_count()
    single = {(n, t): _single_machine(net, X, y, args.repeats, t)
              for n, (X, y) in datasets.items() for t in sorted({1, cores})}
    dist, overhead = {}, {}
    for n_workers in args.workers:
        cluster = distributed.LocalCluster(n_workers=n_workers, processes=True,
                                           threads_per_worker=1, host="127.0.0.1",
                                           dashboard_address="127.0.0.1:0")
        with cluster, distributed.Client(cluster) as client:
            blocks = BLOCKS_PER_WORKER * n_workers
            tiny_X, tiny_y = _data(blocks, seed=1)
            overhead[n_workers] = _distributed(client, net, tiny_X, tiny_y, blocks,
                                               args.repeats)[0]
            for n, (X, y) in datasets.items():
                dist[n, n_workers] = _distributed(client, net, X, y, blocks, args.repeats)

    import dask

    lib = dict(versions(include=()), dask=dask.__version__,
               distributed=distributed.__version__)
    print(f"# fastnet.dask: one L-BFGS evaluation (loss + gradient), float64, network "
          f"[{N_FEATURES}, {HIDDEN}, 1] tanh ({n_params} parameters)")
    shown = ("python", "numpy", "numba", "dask", "distributed")
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} logical cores; load average "
          f"{load_before} before, {load_average()} after; "
          + ", ".join(f"{k} {lib[k]}" for k in shown))
    print(f"# single machine: 1 process, BLAS with 1 thread and with {cores}; distributed: "
          f"LocalCluster, 1-thread workers, {BLOCKS_PER_WORKER} blocks per worker; medians "
          f"of {args.repeats}; speedup = single machine, 1 thread / distributed")
    print()
    threads = sorted({1, cores})
    header = ("| rows | " + " | ".join(f"single, {t} thread{'s' * (t > 1)}" for t in threads)
              + " | " + " | ".join(f"{w} worker{'s' * (w > 1)}" for w in args.workers)
              + " | " + " | ".join(f"speedup {w}w" for w in args.workers) + " |")
    print(header)
    print("|" + "---|" * (1 + len(threads) + 2 * len(args.workers)))
    for n in args.rows:
        base, loss = single[n, 1]
        cells = [f"{n:,}"] + [f"{single[n, t][0] * 1e3:.1f} ms" for t in threads]
        ratios = []
        for w in args.workers:
            d, dloss, _, _ = dist[n, w]
            assert abs(dloss - loss) <= 1e-12 * abs(loss), (n, w, dloss, loss)
            cells.append(f"{d * 1e3:.1f} ms")
            ratios.append(f"{base / d:.2f}x")
        print("| " + " | ".join(cells + ratios) + " |")
    print()
    for w in args.workers:
        blocks = BLOCKS_PER_WORKER * w
        print(f"- fixed overhead per evaluation, {w} worker(s), {blocks} blocks of 1 row: "
              f"{overhead[w] * 1e3:.1f} ms; traffic per evaluation {blocks} x {n_params * 8:,} "
              f"B of parameters out (inside the tasks), {blocks} x {n_params * 8:,} B of "
              f"gradients back")
    for n in args.rows:
        setups = ", ".join(f"{w} worker(s) {dist[n, w][2]:.1f} s" for w in args.workers)
        print(f"- placing {n:,} rows on the workers (once per fit, not timed above): {setups}")


if __name__ == "__main__":
    main()
