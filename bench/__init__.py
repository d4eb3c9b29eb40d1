"""fastnet's benchmark suite: fastnet next to scikit-learn, PyTorch and JAX, on the same work.

Two ways in, both run only on request (the README's ``python -m pytest -q``
collects ``tests/`` alone):

``python -m bench [--quick | --full] [--device cuda] [--out DIR]``
    The side-by-side report: median fit and predict times per library,
    fastnet's speedups measured in the same run, final losses and a check
    that they agree (the same problem is trained), achieved GFLOP/s against
    the matmul rate sampled after every round of the same run, the targets
    README.md states judged met / not met / borderline, import / compile /
    first-fit times and peak memory from fresh subprocesses, and the
    environment (CPU, versions, BLAS kernel, ``OPENBLAS_CORETYPE``); with
    ``--device cuda`` also fastnet, PyTorch and JAX on the GPU and the cuBLAS
    rate.  Written to ``results.md``, ``results.json`` and ``speedup.png`` in
    the output folder (default ``bench-results/``);
    ``python -m bench.readme_table results.json`` condenses it for README.md.

``python -m pytest bench/``
    The same fits and predictions as a pytest-benchmark suite, parametrized
    by library x workload x dtype.

Modules, one job each: :mod:`bench.workloads` (specs, hyperparameters, data),
:mod:`bench.runners` (one runner per library; :mod:`bench.jax_runner` the
JAX one), :mod:`bench.goals` (the stated targets and their verdicts),
:mod:`bench.peaks` (the sampled matmul rates), :mod:`bench.flops`,
:mod:`bench.threads`, :mod:`bench.timing`, :mod:`bench.env`,
:mod:`bench.compare` (the in-process comparisons), :mod:`bench.startup`
(fresh-process measurements), :mod:`bench.report` (markdown, JSON, PNG),
:mod:`bench.readme_table` and :mod:`bench.__main__` (the command line).

This file imports nothing heavy on purpose: the startup measurements run
``python -m bench.startup`` in a fresh process and time ``import fastnet``
themselves.
"""
