"""The one-line notice while a process compiles the kernels (fastnet._compile_notice).

A cold first fit compiles for seconds; the user is told once, as it starts, on
the ``fastnet.compile`` logger (stderr without any logging setup).  A process
whose kernels all come from Numba's on-disk cache says nothing.

The same two processes show what a first fit compiles and loads: a warm one
runs no Numba extension entry points, a cold one compiles no dispatcher for
``np.dot``, ``like`` or the other library calls the kernels make.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from numba import njit
from numba.core import event

from fastnet import _compile_notice
from fastnet.kernels import dense

REPO = Path(__file__).resolve().parents[1]
NOTICE = "fastnet: compiling kernels for this machine"

# Markers around the fit show that the notice comes while the fit compiles, not after.
# On stdout, one JSON line: whether Numba ran the extension entry points, and every
# dispatcher the fit and predict compiled (Numba's "numba:compile" events).
_PROBE = r"""
import json, sys, warnings
import numpy as np
from numba.core import entrypoints, event
from sklearn.exceptions import ConvergenceWarning
import fastnet
from fastnet.kernels._jit import Kernel
warnings.simplefilter("ignore", ConvergenceWarning)
rng = np.random.RandomState(0)
X = rng.randn(40, 3)
y = X @ np.array([1.0, -1.0, 0.5])
with event.install_recorder("numba:compile") as compiles:
    print("BEFORE-FIT", file=sys.stderr, flush=True)
    est = fastnet.MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    print("AFTER-FIT", file=sys.stderr, flush=True)
    est.predict(X[:1])
print("DONE", file=sys.stderr, flush=True)
compiled = sorted({(isinstance(e.data["dispatcher"], Kernel),
                    e.data["dispatcher"].py_func.__module__,
                    e.data["dispatcher"].py_func.__qualname__)
                   for _, e in compiles.buffer if e.is_start})
print(json.dumps({"entry_points_ran": entrypoints._already_initialized,
                  "compiled": compiled}))
"""


def _run(env):
    proc = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stderr.splitlines(), json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """(stderr lines, probe report) of a first process on an empty cache and of a second
    on that cache, and the cache."""
    cache = tmp_path_factory.mktemp("notice-cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "FASTNET_"))}
    env.update(NUMBA_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    cold = _run(env)
    warm = _run(env)
    return cold, warm, cache


@pytest.fixture(scope="module")
def cold_then_warm(processes):
    """stderr lines of a first process on an empty cache, then of a second on that cache."""
    (cold, _), (warm, _), cache = processes
    return cold, warm, cache


def test_a_cold_first_fit_says_once_while_it_compiles(cold_then_warm):
    cold, _, cache = cold_then_warm
    notices = [i for i, line in enumerate(cold) if line.startswith(NOTICE)]
    assert len(notices) == 1, cold
    # During the fit (which compiled), and nothing more when predict compiled too.
    assert cold.index("BEFORE-FIT") < notices[0] < cold.index("AFTER-FIT"), cold
    assert str(cache) in cold[notices[0]]  # says where the compiled code is kept


def test_a_process_on_a_warm_cache_says_nothing(cold_then_warm):
    _, warm, _ = cold_then_warm
    assert warm == ["BEFORE-FIT", "AFTER-FIT", "DONE"]


def test_a_warm_process_runs_no_numba_extension_entry_points(processes):
    """Loading machine code needs no extension types; running the entry points imports
    every package that registers one (pydata sparse: ~80 ms of a warm first fit).
    The cold process compiled, so it ran them first, as Numba does."""
    (_, cold), (_, warm), _ = processes
    assert cold["entry_points_ran"] is True
    assert warm["entry_points_ran"] is False
    assert warm["compiled"] == []


def test_a_cold_fit_compiles_no_dispatchers_for_library_calls(processes):
    """Every dispatcher a cold fit and predict compile is a fastnet kernel or one of the
    scalar functions (register_jitable, kernels/scalar.py): np.dot (kernels/blas.py),
    ``like``, np.finfo, np.empty and the builtins min/max compile into the kernels that
    call them, or are gone."""
    (_, cold), _, _ = processes
    compiled = [tuple(c) for c in cold["compiled"]]
    kernels = {name for is_kernel, _, name in compiled if is_kernel}
    assert {"run_epochs", "dense_forward_if_finite"} <= kernels
    others = [(module, name) for is_kernel, module, name in compiled if not is_kernel]
    scalar = [name for module, name in others if module == "fastnet.kernels.scalar"]
    assert "activate" in scalar and "loss_term" in scalar
    library = [(module, name) for module, name in others if module != "fastnet.kernels.scalar"]
    assert library == []


def _compile_event(dispatcher):
    return event.Event("numba:compile", event.EventStatus.START,
                       data={"dispatcher": dispatcher, "args": (), "return_type": None})


def test_only_fastnet_kernels_trigger_it_and_only_once(caplog):
    listener = _compile_notice._Notice()

    @njit
    def not_a_kernel(x):
        return x

    with caplog.at_level(logging.WARNING, logger=_compile_notice.LOGGER_NAME):
        listener.on_start(_compile_event(not_a_kernel))
        assert caplog.records == []
        listener.on_start(_compile_event(dense.dense_forward))
        listener.on_start(_compile_event(dense.dense_backward))
    assert [r.getMessage().startswith(NOTICE) for r in caplog.records] == [True]
    assert caplog.records[0].name == "fastnet.compile"


def test_the_logger_level_silences_it(caplog):
    listener = _compile_notice._Notice()
    logger = logging.getLogger(_compile_notice.LOGGER_NAME)
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with caplog.at_level(logging.DEBUG):
            listener.on_start(_compile_event(dense.dense_forward))
    finally:
        logger.setLevel(old)
    assert not [r for r in caplog.records if r.name == _compile_notice.LOGGER_NAME]
