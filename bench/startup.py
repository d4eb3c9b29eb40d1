"""Measurements that need a fresh process: import time, compile cost, first fit, peak memory.

The parent side (:func:`measure_imports`, :func:`measure_first_fit`,
:func:`measure_memory`) starts ``python -m bench.startup <mode> ...`` with
:data:`sys.executable` from the repository root; the child prints one JSON
line.  This module imports only the standard library at the top, so the
child can time ``import fastnet`` itself.

* ``import``: seconds to import fastnet's dependencies (numpy, scipy,
  scikit-learn, numba), then fastnet on top of them.
* ``first-fit``: import fastnet, then the first fit of a workload (which
  compiles fastnet's kernels or loads them from Numba's cache), the first
  one-row predict, and a second fit and predict for the steady-state cost.
  The parent runs it twice with ``NUMBA_CACHE_DIR`` pointing at a new,
  empty directory: a cold cache (compile cost) and then a warm one.  The
  first fit's CPU time (``time.process_time``) is recorded beside its wall
  time, and both targets are judged on CPU seconds, which other processes on
  a shared machine do not inflate (measured under a load of 11 on 2 cores:
  a warm first fit of 4.2 s wall was 0.44 s of CPU).
* ``memory``: after a warm-up, the peak memory of one fit, two ways:
  tracemalloc's peak of traced allocations (Python objects and numpy arrays;
  not Numba's internal allocations nor PyTorch's tensors) and the growth of
  the process's peak resident set size (``VmHWM``, reset just before the fit
  where Linux allows, else ``ru_maxrss``), next to the size of the data.
  Before the reset, glibc's ``malloc_trim(0)`` hands the memory the warm-up
  freed back to the system: without it the fit reuses those resident pages
  and its growth reads as a few KiB whatever it allocates.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

__all__ = ["measure_imports", "measure_first_fit", "measure_memory", "run_child", "main",
           "first_fit_goals"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- parent side
def run_child(args, env=None, timeout=600):
    """Run ``python -m bench.startup *args`` in a fresh process; its JSON result.

    Parameters
    ----------
    args : list of str
    env : dict, optional
        Extra environment variables.  ``FASTNET_DISABLE_CACHE`` is removed
        (the cache is what is being measured).
    timeout : float, default=600

    Returns
    -------
    dict
        The child's result, or ``{"error": ...}`` when it failed.
    """
    full_env = dict(os.environ)
    full_env.pop("FASTNET_DISABLE_CACHE", None)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (REPO_ROOT, full_env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "bench.startup", *map(str, args)]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=full_env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s: {' '.join(cmd)}"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-2000:]}"}
    return json.loads(lines[-1])


def _fmt_time(seconds):
    from .report import fmt_time  # (bench.report imports only the standard library)

    return fmt_time(seconds)


def _quiet(*_):
    pass


def measure_imports(repeats=3, log=None):
    """Import times in fresh processes, median of ``repeats``.

    Parameters
    ----------
    repeats : int, default=3
    log : callable, optional
        Gets a line as the measurement starts and one with its result.

    Returns
    -------
    dict
        ``dependencies_s`` (numpy, scipy, scikit-learn, numba),
        ``fastnet_s`` (fastnet on top of them), ``total_s``, ``samples``.
    """
    log = log or _quiet
    log(f"startup: import fastnet in {repeats} fresh process{'es' if repeats > 1 else ''}")
    samples = [run_child(["import"]) for _ in range(repeats)]
    good = [s for s in samples if "error" not in s]
    if not good:
        log(f"startup: import failed: {samples[0].get('error', '')[:200]}")
        return {"error": samples[0].get("error"), "samples": samples}

    def med(key):
        vals = sorted(s[key] for s in good)
        return vals[len(vals) // 2]

    res = {"dependencies_s": med("dependencies_s"), "fastnet_s": med("fastnet_s"),
           "total_s": med("total_s"), "samples": samples}
    log(f"startup: import fastnet {_fmt_time(res['total_s'])} in all (fastnet itself "
        f"{_fmt_time(res['fastnet_s'])} on top of numpy, scipy, scikit-learn, numba)")
    return res


def measure_first_fit(workload="tiny", dtype="float64", threads=1, log=None):
    """First fit in a fresh process with a cold and then a warm Numba cache.

    Parameters
    ----------
    workload : str, default='tiny'
    dtype : {'float64', 'float32'}
    threads : int
    log : callable, optional
        Gets a line as each of the two runs starts and one with its result.

    Returns
    -------
    dict
        ``cold`` and ``warm`` child results (``import_s``, ``first_fit_s``,
        ``steady_fit_s``, ``first_fit_overhead_s`` = first - steady,
        ``first_predict_s``, ``steady_predict_s``, ``first_fit_cpu_s``), plus
        ``workload``, ``dtype`` and ``goals`` (see :func:`first_fit_goals`).
    """
    log = log or _quiet
    args = ["first-fit", workload, dtype, "--threads", threads]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="fastnet-bench-numba-") as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        for which, words in (("cold", "cold Numba cache (the kernels compile: seconds)"),
                             ("warm", "warm Numba cache")):
            log(f"startup: first fit {workload} {dtype} in a fresh process, {words}")
            res = runs[which] = run_child(args, env)
            log(f"startup: first fit {workload} {dtype}, {which} cache: "
                + (f"failed: {res['error'][:200]}" if "error" in res else
                   f"{_fmt_time(res['first_fit_s'])} after the imports (a steady fit "
                   f"{_fmt_time(res['steady_fit_s'])})"))
    return {"workload": workload, "dtype": dtype, "cold": runs["cold"], "warm": runs["warm"],
            "goals": first_fit_goals(runs["cold"], runs["warm"])}


def first_fit_goals(cold, warm):
    """The first-fit targets of :mod:`bench.goals` judged on a cold and a warm child result.

    The first fit's CPU seconds (imports apart) at most ``FIRST_FIT_COLD_S``
    with a cold cache and ``FIRST_FIT_WARM_S`` with a warm one; the wall
    seconds are shown beside them.

    Returns
    -------
    dict
        ``{"cold": goal, "warm": goal}``, each with ``text``, ``measured``,
        ``measured_text``, ``status``, ``source``.
    """
    from . import goals as _goals  # (standard library only at the top of this module)

    out = {}
    for which, res, limit in (
            ("cold", cold, _goals.FIRST_FIT_COLD_S),
            ("warm", warm, _goals.FIRST_FIT_WARM_S)):
        value = None if "error" in res else res.get("first_fit_cpu_s")
        status = ("not measured" if value is None else "met" if value <= limit else "not met")
        text = f"≤{limit:g} s beyond the imports (CPU time)"
        measured = ("—" if value is None else
                    f"{_fmt_time(value)} CPU ({_fmt_time(res['first_fit_s'])} wall)")
        out[which] = {"text": text, "measured": value, "measured_text": measured,
                      "status": status, "source": _goals.SOURCE}
    return out


def measure_memory(library, workload, dtype="float64", threads=1, log=None):
    """Peak memory of one fit in a fresh process (see the module docstring).

    Parameters
    ----------
    library, workload, dtype : str
    threads : int, default=1
    log : callable, optional
        Gets a line as the measurement starts and one with its result.

    Returns
    -------
    dict
        ``library``, ``workload``, ``dtype``, ``data_bytes``,
        ``traced_peak_bytes``, ``rss_before_bytes``, ``rss_peak_bytes``,
        ``rss_growth_bytes``, ``rss_method``; or ``error``.
    """
    log = log or _quiet
    log(f"memory: one fit of {workload} {dtype} by {library} in a fresh process")
    res = run_child(["memory", workload, dtype, "--library", library, "--threads", threads])
    res.update(library=library, workload=workload, dtype=dtype)
    if "error" in res:
        log(f"memory: {library} {workload} {dtype} failed: {res['error'][:200]}")
    else:
        mib = 1024.0 ** 2
        log(f"memory: {library} {workload} {dtype}: peak {res['traced_peak_bytes'] / mib:.1f} MiB "
            f"traced, resident +{res['rss_growth_bytes'] / mib:.1f} MiB, for "
            f"{res['data_bytes'] / mib:.1f} MiB of data")
    return res


# ----------------------------------------------------------------- child side
def _child_import():
    start = time.perf_counter()
    import numba  # noqa: F401
    import numpy  # noqa: F401
    import scipy  # noqa: F401
    import sklearn  # noqa: F401
    mid = time.perf_counter()
    import fastnet  # noqa: F401
    end = time.perf_counter()
    return {"dependencies_s": mid - start, "fastnet_s": end - mid, "total_s": end - start}


def _child_first_fit(workload, dtype, threads):
    start = time.perf_counter()
    import fastnet  # noqa: F401
    import_s = time.perf_counter() - start

    from . import threads as _threads
    from . import timing
    from . import workloads as _wl
    from .runners import FastnetRunner

    from numba.core import event

    runner = FastnetRunner(_wl.get(workload), _wl.make_data(_wl.get(workload), dtype))
    one_row = runner.data.X_predict[:1]
    with _threads.limit(threads):
        runner.prepare()
        with event.install_recorder("numba:compile") as compiles:
            cpu_start = time.process_time()
            first_fit = timing.time_once(runner.fit)
            first_fit_cpu = time.process_time() - cpu_start
        first_predict = timing.time_once(lambda: runner.predict(one_row))
        steady_fit = timing.time_once(runner.fit, setup=runner.prepare)
        steady_predict = min(timing.time_calls(lambda: runner.predict(one_row), 5, 20))
    return {
        "import_s": import_s,
        "first_fit_s": first_fit,
        "steady_fit_s": steady_fit,
        "first_fit_overhead_s": first_fit - steady_fit,
        "first_fit_cpu_s": first_fit_cpu,
        "first_predict_s": first_predict,
        "steady_predict_s": steady_predict,
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR"),
        "compile": _compile_anatomy(compiles.buffer),
    }


def _compile_anatomy(events):
    """Where the first fit's compilation went, from Numba's ``numba:compile`` events.

    Returns ``{"kernels": {name: {"s", "typing_s", "lowering_s", "llvm_s"}}, "other":
    {name: s}}``: each fastnet kernel the fit compiled (wall seconds, and from
    Numba's metadata its pipeline's type-inference and lowering seconds and the
    LLVM seconds among them), and the seconds of every other dispatcher compiled
    as a unit of its own (Numba's ``@overload`` implementations,
    ``register_jitable`` functions), wherever it was called from; a dispatcher
    compiled while another non-kernel one compiles counts in that one's.
    """
    from fastnet.kernels._jit import Kernel

    kernels, other, started, nested = {}, {}, {}, 0
    compiled_kernels = set()
    for stamp, ev in events:
        dispatcher = ev.data["dispatcher"]
        is_kernel = isinstance(dispatcher, Kernel)
        key = (id(dispatcher), str(ev.data["args"]))
        if ev.is_start:
            started[key] = (stamp, nested)
            nested += not is_kernel
            continue
        nested -= not is_kernel
        begin, level = started.pop(key)
        name = dispatcher.py_func.__qualname__
        if is_kernel:
            compiled_kernels.add(dispatcher)
            entry = kernels.setdefault(name, {"s": 0.0})
            entry["s"] += stamp - begin
        elif level == 0:
            other[name] = other.get(name, 0.0) + stamp - begin
    for dispatcher in compiled_kernels:
        entry = kernels[dispatcher.py_func.__qualname__]
        entry.update(typing_s=0.0, lowering_s=0.0, llvm_s=0.0)
        for overload in dispatcher.overloads.values():
            meta = overload.metadata or {}
            entry["llvm_s"] += meta.get("timers", {}).get("llvm_lock", 0.0)
            for times in meta.get("pipeline_times", {}).values():
                for pass_name, t in times.items():
                    if pass_name.endswith("nopython_type_inference"):
                        entry["typing_s"] += t.run
                    elif pass_name.endswith("native_lowering"):
                        entry["lowering_s"] += t.run
    return {"kernels": kernels, "other": other}


def _rss_status(field):
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status in bytes (None elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); True when it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    hwm, rss = _rss_status("VmHWM"), _rss_status("VmRSS")
    return hwm is not None and rss is not None and hwm <= rss + 1024 * 1024


def _trim_heap():
    """Return freed heap memory to the system (glibc's ``malloc_trim``); True when it ran."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): growth may be understated
        return False
    return True


def _maxrss_bytes():
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, KiB on Linux


def _child_memory(workload, dtype, library, threads):
    import gc
    import tracemalloc

    from . import threads as _threads
    from . import workloads as _wl
    from .runners import RUNNERS

    w = _wl.get(workload)
    data = _wl.make_data(w, dtype)
    runner = RUNNERS[library](w, data)
    with _threads.limit(threads):
        runner.warm_up()
        runner.prepare()
        gc.collect()
        trimmed = _trim_heap()
        if _reset_peak_rss():
            method = "VmHWM reset before the fit" + (
                ", after malloc_trim(0)" if trimmed else
                "; no malloc_trim here, so pages freed by the warm-up are reused unseen")
            before = _rss_status("VmRSS")
            peak_fn = lambda: _rss_status("VmHWM")  # noqa: E731
        else:
            method = "ru_maxrss (peak of the whole process; growth may be understated)"
            before = _maxrss_bytes()
            peak_fn = _maxrss_bytes
        tracemalloc.start()
        runner.fit()
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peak = peak_fn()
    return {
        "data_bytes": data.nbytes,
        "traced_peak_bytes": traced_peak,
        "rss_before_bytes": before,
        "rss_peak_bytes": peak,
        "rss_growth_bytes": max(0, peak - before),
        "rss_method": method,
    }


def main(argv=None):
    """Child entry point: ``python -m bench.startup {import|first-fit|memory} ...``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("mode", choices=["import", "first-fit", "memory"])
    parser.add_argument("workload", nargs="?", default="tiny")
    parser.add_argument("dtype", nargs="?", default="float64")
    parser.add_argument("--library", default="fastnet")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.mode == "import":
        result = _child_import()
    elif args.mode == "first-fit":
        result = _child_first_fit(args.workload, args.dtype, args.threads)
    else:
        result = _child_memory(args.workload, args.dtype, args.library, args.threads)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
