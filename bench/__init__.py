"""fastnet's benchmark suite: fastnet next to scikit-learn and PyTorch, on the same work.

Two ways in, both run only on request (the README's ``python -m pytest -q``
collects ``tests/`` alone):

``python -m bench [--quick | --full] [--out DIR]``
    The side-by-side report: median fit and predict times per library,
    fastnet's speedups measured in the same run, final losses (equal quality
    is visible), achieved GFLOP/s against this machine's measured matmul peak,
    import / compile / first-fit times and peak memory from fresh
    subprocesses, and the environment (CPU, versions, BLAS kernel,
    ``OPENBLAS_CORETYPE``).  Written to ``results.md``, ``results.json`` and
    ``speedup.png`` in the output folder (default ``bench-results/``).

``python -m pytest bench/``
    The same fits and predictions as a pytest-benchmark suite, parametrized
    by library x workload x dtype.

Modules, one job each: :mod:`bench.workloads` (specs, hyperparameters, data),
:mod:`bench.runners` (one runner per library), :mod:`bench.flops`,
:mod:`bench.threads`, :mod:`bench.timing`, :mod:`bench.env`,
:mod:`bench.compare` (the in-process comparisons), :mod:`bench.startup`
(fresh-process measurements), :mod:`bench.report` (markdown, JSON, PNG) and
:mod:`bench.__main__` (the command line).

This file imports nothing heavy on purpose: the startup measurements run
``python -m bench.startup`` in a fresh process and time ``import fastnet``
themselves.
"""
