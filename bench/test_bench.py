"""pytest-benchmark suite: fit and predict, parametrized by library x workload x dtype.

Run on request only (the README's test command collects ``tests/``)::

    python -m pytest bench/                                 # quick selection
    python -m pytest bench/ --bench-mode default --benchmark-columns=median,min,max
    python -m pytest bench/ --bench-workloads tiny --bench-libraries fastnet,sklearn

Benchmarks of one workload, dtype and operation share a group, so
pytest-benchmark's table shows the libraries side by side.  ``extra_info``
carries the final loss, the FLOP count and the achieved GFLOP/s.  The
``python -m bench`` report adds speedups, the matmul peak, startup and memory.
"""

import pytest

from bench import flops as _flops
from bench import runners, timing

PREDICT_ROWS = (1, 10000)


def test_fit(benchmark, runner, rounds):
    """Training for the workload's fixed epochs; a fresh model per round (built untimed)."""
    w, d = runner.workload, runner.data
    benchmark.group = f"fit {w.name} {d.dtype}"

    def setup():  # untimed: a fresh model, then a pause for other libraries' spinning threads
        runner.prepare()
        timing.settle()

    benchmark.pedantic(runner.fit, setup=setup, rounds=rounds, iterations=1)
    work = _flops.train_flops(runner.layer_units, d.X.shape[0], runner.n_iter)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(
        library=runner.library, workload=w.name, dtype=d.dtype, epochs=runner.n_iter,
        loss=runner.loss, flops=work, gflops=_flops.gflops(work, median),
    )
    assert runner.n_iter == w.epochs


@pytest.mark.parametrize("rows", PREDICT_ROWS)
def test_predict(benchmark, library, workload_name, dtype, rows):
    """Prediction through the estimator of a model trained for one epoch (speed does not
    depend on how long it trained)."""
    from bench import workloads as _wl

    ok, reason = runners.RUNNERS[library].available()
    if not ok:
        pytest.skip(reason)
    w = _wl.get(workload_name).replace(epochs=1)
    runner = runners.RUNNERS[library](w, _wl.make_data(w, dtype))
    runner.prepare()
    runner.fit()
    X = runner.data.X_predict[:rows]
    runner.predict(X)
    timing.settle()
    benchmark.group = f"predict {rows} {workload_name} {dtype}"
    benchmark(runner.predict, X)
    work = _flops.predict_flops(runner.layer_units, rows)
    benchmark.extra_info.update(
        library=library, workload=workload_name, dtype=dtype, rows=rows, flops=work,
        gflops=_flops.gflops(work, benchmark.stats.stats.median),
    )
