"""The in-process comparison: every library fits and predicts one workload in one dtype.

Protocol, the same for every library:

1. ``warm_up()`` -- one epoch on a slice and a predict, untimed (fastnet's
   kernels compile or load from Numba's cache here; thread pools start);
2. ``repeats`` rounds; in each, every library in turn builds a fresh model
   (untimed), pauses briefly (:func:`bench.timing.settle`: the previous
   library's BLAS/OpenMP threads stop spinning) and fits it (timed).
   Interleaving the libraries spreads slow spells of a busy machine over all
   of them;
3. predicting 1 row and 10 000 rows with the last fitted model, each timed in
   loops long enough for the clock (:func:`bench.timing.calls_per_sample`),
   several samples, median.

:func:`summarize` turns the raw records into one row per workload, dtype and
operation with fastnet's speedups, the final losses, fastnet's GFLOP/s and
its fraction of the measured matmul peak, and fastnet's speed goal if it has one.
"""

from . import flops as _flops
from . import timing
from . import workloads as _wl
from .report import fmt_time, side_by_side
from .runners import RUNNERS

__all__ = ["PREDICT_ROWS", "PREDICT_GOAL", "run_workload", "summarize", "goal_text"]

PREDICT_ROWS = (1, 10000)
# fastnet's goal: predicting one row through the estimator in at most 5 microseconds.
PREDICT_GOAL = {"max_seconds": 5e-6}


# A round of fits (one per library) that takes longer than this gets its own progress line,
# so that slow workloads say which libraries ran while the user waits.
ROUND_LINE_S = 1.0


def run_workload(w, dtype, libraries, repeats=3, predict_repeats=5, predict=True, log=None,
                 label=None):
    """Time fit (and predict) of one workload in one dtype for each library.

    Parameters
    ----------
    w : bench.workloads.Workload
    dtype : {'float64', 'float32'}
    libraries : sequence of str
        Keys of :data:`bench.runners.RUNNERS`, all importable.
    repeats : int, default=3
        Timed fits per library.
    predict_repeats : int, default=5
        Timed samples per predict size.
    predict : bool, default=True
    log : callable, optional
        Progress lines go here (e.g. ``print``): one as the fits start, one per slow
        round, one with the results; the same for the predictions.
    label : str, optional
        The workload's name in those lines (default ``w.name``).

    Returns
    -------
    list of dict
        One record per library and operation: ``workload``, ``dtype``, ``op``
        ('fit' or 'predict'), ``rows`` (predict), ``library``, ``times_s``,
        ``median_s``, ``flops``, ``gflops``; fit records add ``loss``,
        ``score``, ``n_iter``, ``n_samples``, ``layer_units``.
    """
    log = log or (lambda *_: None)
    name = f"{label or w.name} {dtype}"
    log(f"{name} fit: {', '.join(libraries)}; a warm-up each, then {repeats} timed "
        f"fit{'s' if repeats > 1 else ''} each, in turns")
    data = _wl.make_data(w, dtype)
    runners = {lib: RUNNERS[lib](w, data) for lib in libraries}
    for runner in runners.values():
        runner.warm_up()
    times = {lib: [] for lib in runners}
    for i in range(repeats):
        for lib, runner in runners.items():
            runner.prepare()
            timing.settle()
            times[lib].append(timing.time_once(runner.fit))
        if repeats > 1 and sum(t[-1] for t in times.values()) >= ROUND_LINE_S:
            log(f"{name} fit: round {i + 1}/{repeats}: "
                + ", ".join(f"{lib} {fmt_time(t[-1])}" for lib, t in times.items()))
    records = []
    for lib, runner in runners.items():
        units = runner.layer_units
        n = data.X.shape[0]
        work = _flops.train_flops(units, n, runner.n_iter)
        med = timing.median(times[lib])
        records.append(dict(
            workload=w.name, dtype=dtype, op="fit", rows=n, library=lib, times_s=times[lib],
            median_s=med, loss=runner.loss, score=runner.score(), n_iter=runner.n_iter,
            n_samples=n, layer_units=units, flops=work, gflops=_flops.gflops(work, med),
        ))
    fits = [r for r in records if r["op"] == "fit"]
    log(f"{name} fit: median " + side_by_side({r["library"]: r["median_s"] for r in fits})
        + "; final loss " + ", ".join(f"{r['loss']:.6g}" for r in fits))
    if predict:
        for rows in PREDICT_ROWS:
            log(f"{name} predict {rows} row{'s' if rows > 1 else ''}: {', '.join(libraries)}")
            X = data.X_predict[:rows]
            for lib, runner in runners.items():
                fn = lambda runner=runner, X=X: runner.predict(X)  # noqa: E731
                fn()
                timing.settle()
                number = timing.calls_per_sample(fn, target_s=0.02)
                samples = timing.time_calls(fn, predict_repeats, number)
                med = timing.median(samples)
                work = _flops.predict_flops(runner.layer_units, len(X))
                records.append(dict(
                    workload=w.name, dtype=dtype, op="predict", rows=len(X), library=lib,
                    times_s=samples, median_s=med, calls_per_sample=number, flops=work,
                    gflops=_flops.gflops(work, med),
                ))
            log(f"{name} predict {rows} row{'s' if rows > 1 else ''}: median per call "
                + side_by_side({r["library"]: r["median_s"] for r in records
                                 if r["op"] == "predict" and r["rows"] == rows}))
    return records


def goal_text(goal):
    """A speed goal in words, e.g. '≥20× sklearn' (empty for none)."""
    if not goal:
        return ""
    if "speedup" in goal:
        return f"≥{goal['speedup']:g}× {goal['vs']}"
    if "fraction_of_peak" in goal:
        return f"≥{goal['fraction_of_peak']:.0%} of matmul peak"
    if "max_seconds" in goal:
        return f"≤{goal['max_seconds'] * 1e6:g} µs"
    return str(goal)


def _goal_met(goal, row):
    if not goal:
        return None
    if "speedup" in goal:
        s = row["speedup"].get(goal["vs"])
        return None if s is None else bool(s >= goal["speedup"])
    if "fraction_of_peak" in goal:
        f = row["fraction_of_peak"]
        return None if f is None else bool(f >= goal["fraction_of_peak"])
    if "max_seconds" in goal:
        t = row["median_s"].get("fastnet")
        return None if t is None else bool(t <= goal["max_seconds"])
    return None


def summarize(records, peaks, workloads=None):
    """One row per (workload, dtype, op, rows): the side-by-side view of the records.

    Parameters
    ----------
    records : list of dict
        From :func:`run_workload`.
    peaks : dict
        dtype -> :func:`bench.env.matmul_peak` result (``gflops`` used).
    workloads : dict, optional
        name -> Workload, for the goals (default :data:`bench.workloads.WORKLOADS`).

    Returns
    -------
    list of dict
        ``workload``, ``dtype``, ``op``, ``rows``, ``median_s`` (library ->
        seconds), ``speedup`` (library -> its time / fastnet's, for the other
        libraries), ``loss`` and ``score`` (library -> value, fit only),
        ``gflops`` (fastnet's), ``peak_gflops``, ``fraction_of_peak``,
        ``goal``, ``goal_text``, ``goal_met``.
    """
    workloads = workloads or _wl.WORKLOADS
    rows, index = [], {}
    for rec in records:
        key = (rec["workload"], rec["dtype"], rec["op"], rec["rows"])
        if key not in index:
            index[key] = dict(workload=key[0], dtype=key[1], op=key[2], rows=key[3],
                              median_s={}, loss={}, score={}, gflops_by_library={})
            rows.append(index[key])
        row = index[key]
        row["median_s"][rec["library"]] = rec["median_s"]
        row["gflops_by_library"][rec["library"]] = rec["gflops"]
        if rec["op"] == "fit":
            row["loss"][rec["library"]] = rec["loss"]
            row["score"][rec["library"]] = rec["score"]
    for row in rows:
        t_fast = row["median_s"].get("fastnet")
        row["speedup"] = {
            lib: (t / t_fast if t_fast and t else None)
            for lib, t in row["median_s"].items() if lib != "fastnet"
        }
        row["gflops"] = row["gflops_by_library"].get("fastnet")
        peak = (peaks.get(row["dtype"]) or {}).get("gflops")
        row["peak_gflops"] = peak
        row["fraction_of_peak"] = row["gflops"] / peak if row["gflops"] and peak else None
        if row["op"] == "fit":
            w = workloads.get(row["workload"])
            goal = w.goal if w is not None else None
        else:
            goal = PREDICT_GOAL if row["rows"] == 1 else None
        row["goal"] = goal
        row["goal_text"] = goal_text(goal)
        row["goal_met"] = _goal_met(goal, row)
    return rows
