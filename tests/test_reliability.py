"""Reliability: interrupted fits, threads, worker processes, Numba's on-disk cache.

* Ctrl-C during ``fit`` behaves as in scikit-learn: the fit returns with a
  ``UserWarning("Training interrupted by user.")`` and the weights of the last
  finished epoch.
* Threads: one fitted model predicts from 8 threads at once (nogil kernels),
  bit-identical to serial calls; 4 threads fitting 4 models at once give the
  serial weights.
* Processes: 4 fits on 2 joblib/loky workers, 4 fits on 2 ``fork`` workers,
  and ``GridSearchCV(n_jobs=2)`` finish (under timeouts) with the serial results.
* Numba cache, in 3 fresh subprocesses: ``FASTNET_DISABLE_CACHE=1`` writes
  nothing; with no writable cache location (``__pycache__`` blocked,
  ``NUMBA_CACHE_DIR`` and the user cache dir under ``/proc``) the package
  imports and fits without a cache, both from a directory and from a zip
  archive (zipimport).
"""

import faulthandler
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from fastnet import MLPClassifier, MLPRegressor
from fastnet import training
from fastnet.network import Network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def _deadline(seconds):
    """Turn a hang into a loud failure: dump every thread's stack and exit."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _data(seed=0, n=120, p=5):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    y = np.tanh(X @ rng.randn(p)) + 0.1 * rng.randn(n)
    return X, y


# ------------------------------------------------------------ KeyboardInterrupt
def self_in_epoch(run_epochs_args):
    """Whether a ``Network._run_epochs`` call's plan stands inside an unfinished epoch."""
    plan = run_epochs_args[-1]
    return bool(plan.cursor[0])


@pytest.mark.parametrize("make", [
    lambda: MLPRegressor(hidden_layer_sizes=(8,), random_state=0, batch_size=32),
    lambda: MLPRegressor(hidden_layer_sizes=(8,), random_state=0, batch_size=32,
                         solver="sgd", early_stopping=True, n_iter_no_change=50),
    lambda: MLPClassifier(hidden_layer_sizes=(8,), random_state=0, batch_size=32),
], ids=["regressor-adam", "regressor-sgd-early-stopping", "classifier"])
def test_keyboard_interrupt_keeps_the_last_finished_epoch(make, monkeypatch):
    X, y = _data()
    if isinstance(make(), MLPClassifier):
        y = np.digitize(y, [-0.3, 0.3])
    real_run_epochs = Network._run_epochs
    calls = []

    def run_epochs_then_interrupt(self, *args, **kwargs):
        # Each call trains a run of epochs or part of one (see training._epochs_per_call);
        # once two epochs are complete, the next call is interrupted before it starts, as
        # a Ctrl-C between compiled calls at an epoch's end would be.
        if sum(calls) >= 2 and not self_in_epoch(args):
            calls.append(0)
            raise KeyboardInterrupt
        n_done = real_run_epochs(self, *args, **kwargs)
        calls.append(n_done)
        return n_done

    monkeypatch.setattr(Network, "_run_epochs", run_epochs_then_interrupt)
    est = make().set_params(max_iter=50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returned = est.fit(X, y)
    monkeypatch.undo()

    assert returned is est
    assert calls[-1] == 0
    finished = sum(calls)
    assert 2 <= finished < 50
    messages = [(w.category, str(w.message)) for w in caught]
    assert (UserWarning, "Training interrupted by user.") in messages
    assert not any(issubclass(c, ConvergenceWarning) for c, _ in messages)
    assert est.n_iter_ == finished
    assert len(est.loss_curve_) == finished

    ref = make().set_params(max_iter=finished).fit(X, y)
    assert est.t_ == ref.t_
    assert est.loss_curve_ == ref.loss_curve_
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))
    # The interrupted model is a working model: it continues training.
    if est.early_stopping:
        est.set_params(warm_start=True, max_iter=1).fit(X, y)
    else:
        est.partial_fit(X, y)
    assert est.n_iter_ == 1 and np.isfinite(est.loss_)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_ctrl_c_inside_a_compiled_call_is_acted_on_after_its_epochs_are_recorded(monkeypatch):
    """A real SIGINT arriving while a run of epochs trains: the epochs it trained are
    counted (weights, n_iter_, loss_curve_ agree), then training stops with the warning."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    X, y = _data()
    real_run_epochs = Network._run_epochs
    calls = []

    def run_epochs_and_receive_sigint(self, *args, **kwargs):
        n_done = real_run_epochs(self, *args, **kwargs)
        calls.append(n_done)
        if sum(calls) >= 2 and not self_in_epoch(args):
            # Ctrl-C lands before the call has returned its losses
            os.kill(os.getpid(), signal.SIGINT)
        return n_done

    monkeypatch.setattr(Network, "_run_epochs", run_epochs_and_receive_sigint)
    monkeypatch.setattr(training, "_SECONDS_PER_CALL", 2e-4)  # short runs: stop well before the end
    params = dict(hidden_layer_sizes=(8,), random_state=0, batch_size=32, tol=0,
                  n_iter_no_change=1000)
    est = MLPRegressor(max_iter=400, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    monkeypatch.undo()

    finished = sum(calls)
    assert 2 <= finished < 400
    assert "Training interrupted by user." in [str(w.message) for w in caught]
    assert est.n_iter_ == finished and len(est.loss_curve_) == finished
    ref = MLPRegressor(max_iter=finished, **params).fit(X, y)
    assert est.loss_curve_ == ref.loss_curve_
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.tobytes() == b.tobytes()
    # Python's own handler is back: a later Ctrl-C raises as usual.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_ctrl_c_inside_a_long_epoch_stops_between_batches_as_sklearn(solver, monkeypatch):
    """An epoch longer than a time slice returns to Python between mini-batches: a real
    SIGINT during the epoch stops training after the batch in progress, and the model is
    scikit-learn's after a Ctrl-C at the same batch (weights of 3 batches, no epoch
    counted, no loss recorded)."""
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor

    X, y = _data(n=150)
    params = dict(hidden_layer_sizes=(8,), random_state=0, batch_size=10, solver=solver,
                  max_iter=5, learning_rate_init=0.01)  # 15 batches per epoch
    # A time slice this short gives every call a budget of one batch.
    monkeypatch.setattr(training, "_SECONDS_PER_CALL", 1e-9)
    real_run_epochs = Network._run_epochs
    calls = []

    def run_epochs_receiving_sigint(self, *args, **kwargs):
        calls.append(args[-1].max_batches)
        if len(calls) == 3:  # Ctrl-C arrives while the third batch trains
            os.kill(os.getpid(), signal.SIGINT)
        return real_run_epochs(self, *args, **kwargs)

    monkeypatch.setattr(Network, "_run_epochs", run_epochs_receiving_sigint)
    est = MLPRegressor(**params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    monkeypatch.undo()
    assert calls == [1, 1, 1]
    assert "Training interrupted by user." in [str(w.message) for w in caught]
    assert est.n_iter_ == 0 and est.loss_curve_ == [] and est.t_ == 0

    # scikit-learn, interrupted as its 4th batch begins: 3 batches of updates.
    sk = SkMLPRegressor(**params)
    real_backprop = type(sk)._backprop
    n_backprops = []

    def backprop_then_interrupt(self, *args, **kwargs):
        n_backprops.append(1)
        if len(n_backprops) == 4:
            raise KeyboardInterrupt
        return real_backprop(self, *args, **kwargs)

    monkeypatch.setattr(type(sk), "_backprop", backprop_then_interrupt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y)
    monkeypatch.undo()
    assert sk.n_iter_ == 0 and sk.loss_curve_ == []
    if solver == "adam":
        assert est._optimizer.t == sk._optimizer.t == 3
    # Three float64 batches of the same arithmetic; only BLAS rounding differs (1e-9).
    for a, b in zip(est.coefs_ + est.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # The interrupted model works and continues from where it stopped.
    assert np.isfinite(est.predict(X)).all()
    est.partial_fit(X, y)
    assert est.n_iter_ == 1 and np.isfinite(est.loss_)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_timed_sigint_during_a_multi_second_epoch_stops_inside_it(monkeypatch):
    """A SIGINT from a timer, 0.2 s into an epoch of 100 batches that takes seconds
    (200 x 1024 x 1024 products per batch), is acted on inside that epoch: the time
    slices of ~0.1 s end between batches, so training stops long before the epoch ends."""
    rng = np.random.RandomState(0)
    X = rng.randn(20000, 64)
    y = X[:, 0] - X[:, 1]
    real_run_epochs = Network._run_epochs
    timers = []

    def run_epochs_with_timer(self, *args, **kwargs):
        if not timers:  # start the clock when training starts (after validation)
            timers.append(threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)))
            timers[0].start()
        return real_run_epochs(self, *args, **kwargs)

    monkeypatch.setattr(Network, "_run_epochs", run_epochs_with_timer)
    est = MLPRegressor(hidden_layer_sizes=(1024, 1024), random_state=0, max_iter=3)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X, y)
    finally:
        timers[0].cancel()
        timers[0].join()
    assert "Training interrupted by user." in [str(w.message) for w in caught]
    # Stopped inside the first epoch: no epoch counted, fewer Adam steps than its batches.
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    assert 1 <= est._optimizer.t < 100


# -------------------------------------------------------------------- threads
N_THREADS = 8
REPEATS = 40


@pytest.mark.parametrize("route", ["fitted", "unpickled"])
def test_predict_from_8_threads_is_bit_identical(route):
    import pickle

    X, _ = _data()
    rng = np.random.RandomState(1)
    Y = np.c_[X[:, 0], np.sin(X[:, 1]), X[:, 2] * X[:, 3]]
    reg = MLPRegressor(hidden_layer_sizes=(32, 16), max_iter=15, random_state=0).fit(X, Y)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=15, random_state=0).fit(
        X, np.digitize(X[:, 0], [-0.5, 0.5]))
    inputs = [rng.randn(150 + 37 * i, X.shape[1]) for i in range(N_THREADS)]
    serial = [(reg.predict(x), clf.predict_proba(x), clf.predict(x)) for x in inputs]
    if route == "unpickled":
        # A model whose network is rebuilt lazily: the first predictions race to rebuild it.
        reg, clf = pickle.loads(pickle.dumps(reg)), pickle.loads(pickle.dumps(clf))
    barrier = threading.Barrier(N_THREADS)

    def work(i):
        barrier.wait()
        return [(reg.predict(inputs[i]), clf.predict_proba(inputs[i]), clf.predict(inputs[i]))
                for _ in range(REPEATS)]

    with _deadline(120), ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(work, range(N_THREADS)))
    assert len(results) == N_THREADS
    for i, per_thread in enumerate(results):
        assert len(per_thread) == REPEATS
        for got in per_thread:
            for a, b in zip(serial[i], got):
                assert a.dtype == b.dtype and a.shape == b.shape
                assert a.tobytes() == b.tobytes(), f"thread {i} differs"


def _fit_one(seed, dtype="float64"):
    """Fit one small model; returns its flat weights and predictions (picklable)."""
    import warnings as _w

    import fastnet as _fastnet

    X, y = _data(seed)
    X = X.astype(dtype)
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        est = _fastnet.MLPRegressor(hidden_layer_sizes=(8,), max_iter=15, random_state=seed,
                                    batch_size=32).fit(X, y)
    weights = np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])
    return weights, est.predict(X), os.getpid()


SEEDS = [0, 1, 2, 3]


@pytest.fixture(scope="module")
def serial_fits():
    return [_fit_one(s) for s in SEEDS]


def _assert_equal_fits(got, serial):
    assert len(got) == len(serial)
    for (w, p, _), (w0, p0, _) in zip(got, serial):
        assert w.tobytes() == w0.tobytes()
        assert p.tobytes() == p0.tobytes()


def test_fit_from_4_threads_equals_serial(serial_fits):
    with _deadline(120), ThreadPoolExecutor(len(SEEDS)) as pool:
        got = list(pool.map(_fit_one, SEEDS))
    _assert_equal_fits(got, serial_fits)


# ------------------------------------------------------------------ processes
N_WORKERS = 2


def test_joblib_loky_workers(serial_fits):
    with _deadline(240):
        got = Parallel(n_jobs=N_WORKERS, backend="loky", timeout=180)(
            delayed(_fit_one)(s) for s in SEEDS)
    _assert_equal_fits(got, serial_fits)
    pids = {pid for _, _, pid in got}
    assert os.getpid() not in pids and 1 <= len(pids) <= N_WORKERS


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_multiprocessing_fork_workers(serial_fits):
    ctx = multiprocessing.get_context("fork")
    with _deadline(240), ctx.Pool(N_WORKERS) as pool:
        got = pool.map_async(_fit_one, SEEDS).get(timeout=180)
    _assert_equal_fits(got, serial_fits)
    pids = {pid for _, _, pid in got}
    assert os.getpid() not in pids and 1 <= len(pids) <= N_WORKERS


def test_grid_search_with_two_jobs_equals_serial():
    X, y = _data(5, n=90)
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(4,), (8,)]}
    base = MLPRegressor(max_iter=10, random_state=0, batch_size=32)
    with _deadline(300):
        parallel = GridSearchCV(base, grid, cv=3, n_jobs=N_WORKERS, error_score="raise").fit(X, y)
    serial = GridSearchCV(base, grid, cv=3, n_jobs=1, error_score="raise").fit(X, y)
    for key in ["mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score"]:
        assert parallel.cv_results_[key].tobytes() == serial.cv_results_[key].tobytes(), key
    assert np.isfinite(parallel.cv_results_["mean_test_score"]).all()
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.predict(X), serial.predict(X))


# ---------------------------------------------------------------- Numba cache
_PROBE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import fastnet
from fastnet import kernels
from fastnet.kernels import _jit
from numba.core.registry import CPUDispatcher

dispatchers = {}
for mod in (kernels.activations, kernels.dense, kernels.epoch, kernels.losses,
            kernels.optimizers):
    for name, obj in vars(mod).items():
        if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__:
            cache = obj._cache
            locator = getattr(getattr(cache, "_impl", None), "locator", None)
            dispatchers[mod.__name__ + "." + name] = [type(cache).__name__,
                                                     type(locator).__name__]
rng = np.random.RandomState(0)
X = rng.randn(30, 3)
y = X @ np.array([1.0, -1.0, 0.5])
est = fastnet.MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5,
                           random_state=0).fit(X, y)
print("RESULT" + json.dumps({
    "fastnet_file": fastnet.__file__,
    "kernels_file": kernels.__file__,
    "cache_enabled": _jit.CACHE_ENABLED,
    "dispatchers": dispatchers,
    "predict": [float(v).hex() for v in est.predict(X[:5])],
}))
"""

_NO_CACHE = "/proc/fastnet-no-cache"  # not creatable, not even by root


def _probe_in_process():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = X @ np.array([1.0, -1.0, 0.5])
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5,
                       random_state=0).fit(X, y)
    return [float(v).hex() for v in est.predict(X[:5])]


def _copy_package(dest):
    """fastnet/ with kernels/ as fastnet/kernels, as the installed layout has it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "fastnet", dest / "fastnet", ignore=ignore)
    shutil.copytree(REPO / "kernels", dest / "fastnet" / "kernels", ignore=ignore)


@pytest.fixture(scope="module")
def cache_probes(tmp_path_factory):
    """Start the three subprocesses at once (each compiles for seconds); collect later."""
    root = tmp_path_factory.mktemp("numba-cache")
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("NUMBA_", "FASTNET_", "PYTHON"))}
    base_env["PYTHONDONTWRITEBYTECODE"] = "1"
    setups = {}

    # (a) caching switched off on purpose; a fresh, writable cache dir must stay empty.
    fresh = root / "fresh-cache"
    fresh.mkdir()
    setups["disabled"] = (dict(base_env, FASTNET_DISABLE_CACHE="1", NUMBA_CACHE_DIR=str(fresh)),
                          REPO)

    # (b) a directory install where no cache location works: __pycache__ is a file
    # (os.makedirs fails even for root), NUMBA_CACHE_DIR and the user-wide cache
    # dir (XDG_CACHE_HOME) lie under /proc.  Numba finds no locator at all.
    tree = root / "tree"
    _copy_package(tree)
    for pkg in (tree / "fastnet", tree / "fastnet" / "kernels"):
        (pkg / "__pycache__").write_text("not a directory")
    no_cache_env = dict(base_env, NUMBA_CACHE_DIR=_NO_CACHE,
                        XDG_CACHE_HOME=_NO_CACHE + "/xdg", HOME=_NO_CACHE + "/home")
    setups["no-locator"] = (dict(no_cache_env, PYTHONPATH=str(tree)), root)

    # (c) the same package imported from a zip archive (zipimport), same environment.
    archive = root / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tree / "fastnet").rglob("*.py")):
            zf.write(path, path.relative_to(tree).as_posix())
    setups["zip"] = (dict(no_cache_env, PYTHONPATH=str(archive)), root)

    procs = {
        name: subprocess.Popen([sys.executable, "-c", _PROBE], env=env, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (env, cwd) in setups.items()
    }
    info = {"fresh": fresh, "tree": tree, "archive": archive, "results": {}}

    def result(name):
        if name not in info["results"]:
            proc = procs[name]
            try:
                out, err = proc.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"{name}: subprocess hung; stderr:\n{err[-3000:]}")
            payload = None
            for line in out.splitlines():
                if line.startswith("RESULT"):
                    payload = json.loads(line[len("RESULT"):])
            info["results"][name] = (proc.returncode, payload, err)
        return info["results"][name]

    info["result"] = result
    yield info
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _assert_probe_ok(name, cache_probes):
    rc, payload, err = cache_probes["result"](name)
    assert rc == 0 and payload is not None, f"{name}: exit {rc}; stderr:\n{err[-4000:]}"
    assert payload["predict"] == _probe_in_process()  # same numbers as a cached process
    assert len(payload["dispatchers"]) >= 5
    return payload


def test_cache_disabled_by_environment(cache_probes):
    payload = _assert_probe_ok("disabled", cache_probes)
    assert payload["cache_enabled"] is False
    assert payload["fastnet_file"].startswith(str(REPO))
    assert {tuple(v) for v in payload["dispatchers"].values()} == {("NullCache", "NoneType")}
    assert list(cache_probes["fresh"].rglob("*")) == []  # nothing was written


def test_no_cache_locator_falls_back_to_no_cache(cache_probes):
    payload = _assert_probe_ok("no-locator", cache_probes)
    assert payload["fastnet_file"].startswith(str(cache_probes["tree"]))
    assert payload["kernels_file"].startswith(str(cache_probes["tree"] / "fastnet" / "kernels"))
    # Caching was wanted; the fallback, not the switch, turned it off.
    assert payload["cache_enabled"] is True
    assert {tuple(v) for v in payload["dispatchers"].values()} == {("NullCache", "NoneType")}


def test_zipped_package_without_writable_cache_dir(cache_probes):
    """Numba (>= 0.61) gives zipped modules a ZipCacheLocator without checking that
    its user-wide cache dir is writable; the write then fails at the first compile."""
    payload = _assert_probe_ok("zip", cache_probes)
    assert payload["fastnet_file"].startswith(str(cache_probes["archive"]))
    assert payload["cache_enabled"] is True


_STAMP_PROBE = """
import json, numpy as np
from fastnet.kernels import dense, groups
from fastnet._layout import Layout
layout = Layout([3, 4, 2])
params = np.linspace(-1, 1, layout.n_params)
X = np.ones((2, 3))
acts = np.empty(2 * layout.activation_size)
dense.dense_forward(params, layout.group, groups.Codes(3, 0, 0, 0, 0, 0), X, acts,
                    groups.NO_DROPOUT)
stats = dense.dense_forward.stats
print("RESULT" + json.dumps({"hits": sum(stats.cache_hits.values()),
                             "misses": sum(stats.cache_misses.values())}))
"""


def test_editing_a_callee_recompiles_its_cached_callers(tmp_path):
    """Numba checks a cached kernel against its own file only; fastnet stamps every kernel
    with the whole kernels package, so an edit to activations.py must not leave
    dense_forward (in dense.py) loading machine code with the old activation inlined."""
    tree = tmp_path / "tree"
    _copy_package(tree)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NUMBA_", "FASTNET_", "PYTHON"))}
    env.update(PYTHONPATH=str(tree), NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONDONTWRITEBYTECODE="1")

    def probe():
        proc = subprocess.run([sys.executable, "-c", _STAMP_PROBE], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        assert proc.returncode == 0 and lines, proc.stderr[-3000:]
        return json.loads(lines[-1][len("RESULT"):])

    assert probe() == {"hits": 0, "misses": 1}  # compiled and written
    assert probe() == {"hits": 1, "misses": 0}  # loaded from the cache
    activations = tree / "fastnet" / "kernels" / "activations.py"
    activations.write_text(activations.read_text() + "\n# an edit to a callee\n")
    assert probe() == {"hits": 0, "misses": 1}  # stale code refused, compiled again
