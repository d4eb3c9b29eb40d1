"""pytest options and fixtures of the pytest-benchmark suite (``python -m pytest bench/``).

Not loaded by the README's ``python -m pytest -q`` (its testpaths is ``tests/``).

Options::

    --bench-mode {quick,default,full}   the selection of bench.workloads.SELECTIONS (quick)
    --bench-workloads tiny,small        override the workloads
    --bench-dtypes float64              override the dtypes
    --bench-libraries fastnet,sklearn   override the libraries (default: all three)
    --bench-threads N                   threads for every library (default: all cores)
    --bench-rounds N                    timed fits per benchmark (default 3)
"""

import pytest

from bench import runners
from bench import threads as _threads
from bench import workloads as _wl


def pytest_addoption(parser):
    group = parser.getgroup("fastnet-bench", "fastnet benchmark selection")
    group.addoption("--bench-mode", choices=sorted(_wl.SELECTIONS), default="quick")
    group.addoption("--bench-workloads", default=None)
    group.addoption("--bench-dtypes", default=None)
    group.addoption("--bench-libraries", default=None)
    group.addoption("--bench-threads", type=int, default=None)
    group.addoption("--bench-rounds", type=int, default=3)


def _csv(value):
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def pytest_generate_tests(metafunc):
    """Parametrize library x workload x dtype from the options."""
    opt = metafunc.config.getoption
    workloads, dtypes = _wl.SELECTIONS[opt("--bench-mode")]
    workloads = _csv(opt("--bench-workloads")) or list(workloads)
    dtypes = _csv(opt("--bench-dtypes")) or list(dtypes)
    libraries = _csv(opt("--bench-libraries")) or list(runners.LIBRARIES)
    if "workload_name" in metafunc.fixturenames:
        metafunc.parametrize("workload_name", workloads)
    if "dtype" in metafunc.fixturenames:
        metafunc.parametrize("dtype", dtypes)
    if "library" in metafunc.fixturenames:
        metafunc.parametrize("library", libraries)


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what the numbers depend on in pytest-benchmark's JSON too (see bench.env)."""
    from bench import env

    n = config.getoption("--bench-threads") or _threads.available_cores()
    machine_info["fastnet_bench"] = env.environment(n)


@pytest.fixture(scope="session", autouse=True)
def bench_threads(request):
    """Every library runs with the same thread count for the whole session."""
    n = request.config.getoption("--bench-threads") or _threads.available_cores()
    if "torch" in (_csv(request.config.getoption("--bench-libraries")) or runners.LIBRARIES):
        try:
            import torch  # noqa: F401  (loaded before the limits so its pools are set too)
        except ImportError:
            pass
    with _threads.limit(n):
        yield n


@pytest.fixture
def rounds(request):
    return request.config.getoption("--bench-rounds")


@pytest.fixture
def runner(library, workload_name, dtype):
    """A warmed-up runner of ``library`` on the workload's data (skipped if not importable)."""
    ok, reason = runners.RUNNERS[library].available()
    if not ok:
        pytest.skip(reason)
    w = _wl.get(workload_name)
    r = runners.RUNNERS[library](w, _wl.make_data(w, dtype))
    r.warm_up()
    return r
