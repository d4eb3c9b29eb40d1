"""The in-process comparison: every library fits and predicts one workload in one dtype.

Protocol, the same for every library:

1. ``warm_up()`` -- one epoch on a slice and a predict, untimed (fastnet's
   kernels compile or load from Numba's cache here; thread pools start);
2. ``repeats`` rounds; in each, every library in turn builds a fresh model
   (untimed), pauses briefly (:func:`bench.timing.settle`: the previous
   library's BLAS/OpenMP threads stop spinning) and fits it (timed).
   Interleaving the libraries spreads slow spells of a busy machine over all
   of them;
   After each round, one sample of the matmul rate (:class:`bench.peaks.RateLog`),
   so the reference rate is measured under the same load as the fits;
3. predicting 1 row and 10 000 rows with the last fitted model, each timed in
   loops long enough for the clock (:func:`bench.timing.calls_per_sample`),
   several samples, the libraries in turns within each sample, median.

:func:`summarize` turns the raw records into one row per workload, dtype and
operation with fastnet's speedups (CPU peers, and on the GPU fastnet-cuda's
over torch-cuda, jax-cuda and fastnet on the CPU), the final losses, the
achieved GFLOP/s as a fraction of the run's median matmul rate, and the
goals of :mod:`bench.goals` judged by :func:`bench.goals.evaluate`.
"""

from . import flops as _flops
from . import goals as _goals
from . import timing
from . import workloads as _wl
from .report import fmt_time, side_by_side
from .runners import RUNNERS

__all__ = ["PREDICT_ROWS", "CPU_PEERS", "GPU_PEERS", "run_workload", "summarize",
           "loss_check"]

PREDICT_ROWS = (1, 10000)
# Whose speedup a row reports: fastnet (CPU) over these ...
CPU_PEERS = ("sklearn", "torch", "jax")
# ... and fastnet on the GPU over these.
GPU_PEERS = ("torch-cuda", "jax-cuda", "fastnet")

# A round of fits (one per library) that takes longer than this gets its own progress line,
# so that slow workloads say which libraries ran while the user waits.
ROUND_LINE_S = 1.0


def run_workload(w, dtype, libraries, repeats=3, predict_repeats=5, predict=True, log=None,
                 label=None, rates=None):
    """Time fit (and predict) of one workload in one dtype for each library.

    Parameters
    ----------
    w : bench.workloads.Workload
    dtype : {'float64', 'float32'}
    libraries : sequence of str
        Keys of :data:`bench.runners.RUNNERS`, all available.
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
    rates : bench.peaks.RateLog, optional
        Takes one sample of the matmul rate(s) in ``dtype`` after every round of fits.

    Returns
    -------
    list of dict
        One record per library and operation: ``workload``, ``dtype``, ``op``
        ('fit' or 'predict'), ``rows`` (predict), ``library``, ``times_s`` (in
        round order: the libraries took turns), ``median_s``, ``flops``,
        ``gflops``; fit records add ``loss``, ``score``, ``n_iter``,
        ``n_samples``, ``layer_units`` and ``compile_s`` (JAX's ahead-of-time
        compile, untimed; None for the others).
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
        if rates is not None:
            timing.settle()
            rates.sample(dtype, after=f"{name} round {i + 1}")
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
            compile_s=getattr(runner, "compile_s", None),
        ))
    fits = [r for r in records if r["op"] == "fit"]
    log(f"{name} fit: median " + side_by_side({r["library"]: r["median_s"] for r in fits})
        + "; final loss " + ", ".join(f"{r['loss']:.6g}" for r in fits))
    if predict:
        for rows in PREDICT_ROWS:
            records += _time_predict(name, runners, data.X_predict[:rows], predict_repeats, log)
    return records


def _time_predict(name, runners, X, repeats, log):
    """Predict records of every runner on ``X``: samples taken in turns, one library after
    another in each, so a slow spell of the machine hits them all alike."""
    rows = len(X)
    words = f"{name} predict {rows} row{'s' if rows > 1 else ''}"
    log(f"{words}: {', '.join(runners)}")
    calls, numbers, samples = {}, {}, {lib: [] for lib in runners}
    for lib, runner in runners.items():
        calls[lib] = fn = lambda runner=runner: runner.predict(X)  # noqa: E731
        fn()
        timing.settle()
        numbers[lib] = timing.calls_per_sample(fn, target_s=0.02)
    for _ in range(repeats):
        for lib in runners:
            samples[lib] += timing.time_calls(calls[lib], 1, numbers[lib])
    records = []
    for lib, runner in runners.items():
        med = timing.median(samples[lib])
        work = _flops.predict_flops(runner.layer_units, rows)
        records.append(dict(
            workload=runner.workload.name, dtype=runner.data.dtype, op="predict", rows=rows,
            library=lib, times_s=samples[lib], median_s=med, calls_per_sample=numbers[lib],
            flops=work, gflops=_flops.gflops(work, med),
        ))
    log(f"{words}: median per call "
        + side_by_side({r["library"]: r["median_s"] for r in records}))
    return records


def loss_check(losses, reference="sklearn", rtol=0.1):
    """Whether every library's final training loss is within ``rtol`` of the reference's.

    Every library trains the same problem from the same weights for the same
    epochs; their losses differ by the shuffles (torch and JAX draw their own)
    and rounding, not by more.  A loss far off says a runner trains something
    else (a wrong loss scale, a missing L2 term, a wrong learning rate).

    Parameters
    ----------
    losses : dict
        library -> final loss.
    reference : str, default='sklearn'
        The library to compare with (fastnet when it is absent).
    rtol : float, default=0.1
        Measured: torch's and JAX's losses land within 1% of scikit-learn's
        on every workload in a quiet run; 10% leaves room for the shuffles.

    Returns
    -------
    dict
        ``reference``, ``ratios`` (library -> loss / reference loss) and
        ``outliers`` (libraries outside the band).
    """
    ref_lib = reference if losses.get(reference) else "fastnet"
    ref = losses.get(ref_lib)
    if not ref:
        return {"reference": None, "ratios": {}, "outliers": []}
    ratios = {lib: v / ref for lib, v in losses.items() if v is not None and lib != ref_lib}
    return {"reference": ref_lib, "ratios": ratios,
            "outliers": [lib for lib, r in ratios.items() if abs(r - 1) > rtol]}


def summarize(records, rates, workloads=None, gpu=False, goals_apply=True):
    """One row per (workload, dtype, op, rows): the side-by-side view of the records.

    Parameters
    ----------
    records : list of dict
        From :func:`run_workload`.
    rates : dict
        ``{"cpu": {dtype: summary}, "cublas": {dtype: summary}}`` from
        :meth:`bench.peaks.RateLog.summary`.
    workloads : dict, optional
        name -> Workload (default :data:`bench.workloads.WORKLOADS`), for the
        hidden widths the predict goals depend on.
    gpu : bool, default=False
        The run asked for the GPU (``--device cuda``): the GPU goals apply.
    goals_apply : bool, default=True
        False when the workloads were changed (``--epochs``): every goal is
        then listed as 'not applicable'.

    Returns
    -------
    list of dict
        ``workload``, ``dtype``, ``op``, ``rows``, ``median_s`` and ``times_s``
        (library -> seconds), ``speedup`` (CPU peer -> its time / fastnet's),
        ``gpu_speedup`` (peer -> its time / fastnet-cuda's), ``loss`` and
        ``score`` (fit only), ``loss_check`` (fit only), ``gflops`` (fastnet's),
        ``gflops_by_library``, ``peak_gflops`` (the run's median CPU rate),
        ``fraction_of_peak``, ``cuda_fraction_of_cublas``, ``goals`` (a list of
        :func:`bench.goals.evaluate` results).
    """
    workloads = workloads or _wl.WORKLOADS
    rows, index = [], {}
    for rec in records:
        key = (rec["workload"], rec["dtype"], rec["op"], rec["rows"])
        if key not in index:
            index[key] = dict(workload=key[0], dtype=key[1], op=key[2], rows=key[3],
                              median_s={}, times_s={}, loss={}, score={},
                              gflops_by_library={}, compile_s={})
            rows.append(index[key])
        row = index[key]
        row["median_s"][rec["library"]] = rec["median_s"]
        row["times_s"][rec["library"]] = rec["times_s"]
        row["gflops_by_library"][rec["library"]] = rec["gflops"]
        if rec["op"] == "fit":
            row["loss"][rec["library"]] = rec["loss"]
            row["score"][rec["library"]] = rec["score"]
            if rec.get("compile_s") is not None:
                row["compile_s"][rec["library"]] = rec["compile_s"]
    cpu_rates, gpu_rates = (rates or {}).get("cpu", {}), (rates or {}).get("cublas", {})
    for row in rows:
        med = row["median_s"]
        row["speedup"] = _ratios(med, "fastnet", CPU_PEERS)
        row["gpu_speedup"] = _ratios(med, "fastnet-cuda", GPU_PEERS)
        row["gflops"] = row["gflops_by_library"].get("fastnet")
        peak = (cpu_rates.get(row["dtype"]) or {}).get("median")
        row["peak_gflops"] = peak
        row["fraction_of_peak"] = row["gflops"] / peak if row["gflops"] and peak else None
        cuda_g = row["gflops_by_library"].get("fastnet-cuda")
        cublas = (gpu_rates.get(row["dtype"]) or {}).get("median")
        row["cuda_fraction_of_cublas"] = cuda_g / cublas if cuda_g and cublas else None
        w = workloads.get(row["workload"])
        if row["op"] == "fit":
            goals = _goals.fit_goals(row["workload"], row["dtype"], gpu=gpu)
            row["loss_check"] = loss_check(row["loss"])
        else:
            goals = _goals.predict_goals(row["rows"], w.hidden_layer_sizes if w else (0,))
        # A goal about a library this run lacks stays, as "not measured": visibly unjudged.
        row["goals"] = [_goals.evaluate(g, row, rates) for g in goals]
        if not goals_apply:
            for g in row["goals"]:
                g["status"] = "not applicable (--epochs changed the workload)"
    return rows


def _ratios(medians, of, peers):
    """peer -> its median time / ``of``'s, for the peers measured (None when one is zero)."""
    t_of = medians.get(of)
    if t_of is None:
        return {}
    return {lib: (medians[lib] / t_of if t_of and medians[lib] else None)
            for lib in peers if lib in medians and lib != of}
