"""Fitting and predicting never start Numba's threading layer (README, 'Reliability').

The kernels are serial Numba functions (no ``parallel=True``, no ``prange``),
so Numba's threading layer -- OpenMP, TBB or workqueue, with OpenMP's
abort-after-fork and workqueue's abort on concurrent use -- must never be
launched.  Numba launches it lazily, on the first call of a parallel
function (or of ``numba.get_num_threads`` / ``set_num_threads``), in
``numba.np.ufunc.parallel._launch_threads``; until then that module's
``_is_initialized`` is False and ``numba.threading_layer()`` raises
``ValueError("Threading layer is not initialized.")``.

The check runs in a fresh interpreter: anything else in the pytest process
(another test, a plugin) may have started the layer already, and once
started it stays started.  The same interpreter then calls a tiny
``@njit(parallel=True)`` function and must see the layer start, so the probe
cannot pass vacuously (for instance if a Numba release renamed the flag or
started the layer differently): a kernel compiled with ``parallel=True`` on
the fit or predict path would flip exactly what is checked.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_PROBE = r"""
import json, warnings
import numpy as np
import numba
from numba.np.ufunc import parallel as numba_parallel

def layer_state():
    try:
        layer = numba.threading_layer()
    except ValueError as exc:
        layer = "ValueError: " + str(exc)
    return {"initialized": bool(numba_parallel._is_initialized), "layer": layer}

import fastnet
from sklearn.exceptions import ConvergenceWarning
warnings.simplefilter("ignore", ConvergenceWarning)

rng = np.random.RandomState(0)
X = rng.randn(120, 4)
y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.randn(120)
labels = np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])
X_many = rng.randn(3000, 4)  # many rows: the layer-by-layer NumPy predict path
runs = []
states = {"after_import": layer_state()}
for cls, target in ((fastnet.MLPRegressor, y), (fastnet.MLPClassifier, labels)):
    for solver in ("sgd", "adam", "lbfgs"):
        for dtype in (np.float64, np.float32):
            est = cls(hidden_layer_sizes=(5, 3), solver=solver, max_iter=5, batch_size=32,
                      random_state=0)
            Xd = X.astype(dtype)
            est.fit(Xd, target)
            est.predict(Xd[:1])
            est.predict(X_many.astype(dtype))
            if hasattr(est, "predict_proba"):
                est.predict_proba(Xd)
            if solver != "lbfgs":
                est.partial_fit(Xd, target)
                early = cls(hidden_layer_sizes=(4,), solver=solver, max_iter=5,
                            early_stopping=True, random_state=0).fit(Xd, target)
                early.predict(Xd)
            runs.append(f"{cls.__name__}-{solver}-{np.dtype(dtype).name}")
states["after_fits"] = layer_state()

# Positive control: a parallel function in this same interpreter starts the layer.
@numba.njit(parallel=True, cache=False)
def parallel_sum(a):
    total = 0.0
    for i in numba.prange(a.shape[0]):
        total += a[i]
    return total

assert parallel_sum(np.ones(1000)) == 1000.0
states["after_parallel_call"] = layer_state()
print("RESULT" + json.dumps({"runs": runs, "states": states}))
"""


@pytest.fixture(scope="module")
def probe():
    # NUMBA_CACHE_DIR (and everything else) is inherited: a warm cache makes the
    # child quick, a cold one only slower; neither changes what is checked.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"probe failed:\n{proc.stderr[-4000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert len(lines) == 1, proc.stdout[-2000:]
    return json.loads(lines[0][len("RESULT"):])


def test_every_fit_and_predict_ran(probe):
    expected = {f"{est}-{solver}-{dtype}" for est in ("MLPRegressor", "MLPClassifier")
                for solver in ("sgd", "adam", "lbfgs") for dtype in ("float64", "float32")}
    assert set(probe["runs"]) == expected and len(probe["runs"]) == len(expected)


@pytest.mark.parametrize("moment", ["after_import", "after_fits"])
def test_threading_layer_is_never_started(probe, moment):
    state = probe["states"][moment]
    assert state["initialized"] is False, f"threading layer started ({moment}): {state}"
    assert state["layer"] == "ValueError: Threading layer is not initialized.", state


def test_positive_control_a_parallel_function_starts_the_layer(probe):
    """The same probe sees the layer start once a parallel=True function runs,
    so the check above would fail if a kernel on the fit path were parallel."""
    state = probe["states"]["after_parallel_call"]
    assert state["initialized"] is True, state
    assert state["layer"] in {"omp", "tbb", "workqueue"}, state
