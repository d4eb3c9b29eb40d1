"""The report of a ``python -m bench`` run: markdown, JSON and a PNG plot.

All three are written from one ``results`` dict (see :mod:`bench.__main__`):
``results.md``, ``results.json`` (everything, raw samples
included) and ``speedup.png`` (fastnet's speedup over each library per
workload; skipped with a printed note when matplotlib is not installed).
"""

import json
import math
import os

__all__ = ["fmt_time", "fmt_duration", "side_by_side", "summary_lines", "to_markdown",
           "write_json", "write_partial",
           "write_png", "write_scaling_png", "write_all", "JSON_KEYS"]

# Top-level keys of results.json (the harness test checks them).
JSON_KEYS = ("meta", "environment", "libraries", "peak", "gpu_peak", "workloads",
             "measurements", "comparisons", "startup", "memory", "scaling", "notes")

# fastnet's CPU peers (the fit table's ratio columns, the PNG's bars) and its GPU ones.
_OTHERS = ("sklearn", "torch", "jax")
_GPU = ("fastnet-cuda", "torch-cuda", "jax-cuda")
_GPU_PEERS = ("torch-cuda", "jax-cuda", "fastnet")


def fmt_time(seconds):
    """Seconds in a readable unit, 3 significant digits: '6.20 µs', '45.6 ms', '1.23 s', '312 s'.

    ``None`` gives '—'.  A value that rounds up to 1000 of its unit moves to the next
    unit ('1.00 ms', not '1000 µs').
    """
    if seconds is None:
        return "—"
    value, unit = abs(seconds), "s"
    for scale, name in ((1e-6, "µs"), (1e-3, "ms")):
        if value < 1000 * scale:
            value, unit = value / scale, name
            break
    text = _three_digits(value)
    if unit != "s" and float(text) >= 1000:
        return fmt_time(math.copysign(1000 * (1e-6 if unit == "µs" else 1e-3), seconds))
    return f"{'-' if seconds < 0 else ''}{text} {unit}"


def _three_digits(value):
    """``value`` with 3 significant digits and no exponent ('6.20', '45.6', '312', '1234')."""
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    # Rounding may add a digit (9.996 -> '10.00'): drop the extra decimal.
    if decimals and len(text.replace(".", "").lstrip("0")) > 3:
        text = f"{value:.{decimals - 1}f}"
    return text


def fmt_duration(seconds):
    """A run's wall time for people: '48 s', '5 min 12 s'."""
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def side_by_side(medians):
    """'fastnet 17.2 ms, sklearn 460 ms (26.7×)': each library's time and fastnet's speedup.

    Parameters
    ----------
    medians : dict
        library -> seconds (None for none), fastnet first.
    """
    fast = medians.get("fastnet")
    parts = []
    for lib, t in medians.items():
        ratio = f" ({t / fast:.3g}×)" if lib != "fastnet" and fast and t else ""
        parts.append(f"{lib} {fmt_time(t)}{ratio}")
    return ", ".join(parts)


def _fmt_bytes(n):
    if n is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def _speedup(value):
    return "—" if value is None else f"{value:.1f}×" if value < 100 else f"{value:.0f}×"


def _goal_cell(row, gpu=False):
    """The goals of a row in brief: '≥25× sklearn: not met; ≥5× jax: met'."""
    parts = [f"{g['text']}: {g['status']}" for g in row.get("goals", [])
             if g["goal"].get("of", "fastnet").endswith("-cuda") == gpu]
    return "; ".join(parts)


def _rate_cell(fraction, rate):
    """'72% (65–80%)': a fraction of the run's median rate and of its range."""
    if fraction is None or not rate:
        return "—"
    g = fraction * rate["median"]
    return f"{fraction:.0%} ({g / rate['max']:.0%}–{g / rate['min']:.0%})"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def _rates_lines(rates, what, where):
    """The table of a run's sampled matmul rates (median, range, spread, samples)."""
    if not rates:
        return [f"No {what} rate was measured."]
    backend = next(iter(rates.values())).get("backend") or ""
    threads = ", the comparison's threads" if where == "the CPU" else ""
    lines = [f"Matmul rate of {where} ({what}{', via ' + backend if backend else ''}{threads}), "
             "sampled after every round of fits and once at the end; the "
             "'% of rate' columns use the median, the range in brackets the slowest and "
             "fastest samples:", ""]
    lines += _table(["dtype", "size", "median GFLOP/s", "range", "spread", "samples"],
                    [[d, f"{r['n']}²", f"{r['median']:.1f}", f"{r['min']:.1f}–{r['max']:.1f}",
                      f"{r['spread']:.0%}" if r.get("spread") is not None else "—",
                      r["n_samples"]] for d, r in rates.items()])
    return lines


def _environment_lines(env, peak, gpu_peak=None):
    v = env.get("versions", {})
    lines = [
        "## Environment",
        "",
        f"- CPU: {env.get('cpu_model')} ({env.get('machine')}); logical CPUs "
        f"{env.get('logical_cpus')}, available to this process {env.get('available_cores')}; "
        f"**threads used by every library: {env.get('threads_used')}** (BLAS via threadpoolctl, "
        "numba.set_num_threads, torch.set_num_threads; JAX's XLA pool by the CPUs the process "
        f"may use: {(env.get('threads_applied') or {}).get('cpus', 'all')})",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "- OPENBLAS_CORETYPE: "
        + (f"`{env['OPENBLAS_CORETYPE']}` (forces OpenBLAS's kernel; recorded, not changed)"
           if env.get("OPENBLAS_CORETYPE") else "unset (OpenBLAS picks the kernel for this CPU)"),
        f"- load average (1, 5, 15 min) at start {env.get('load_average_at_start')}, at end "
        f"{env.get('load_average_at_end')} (a 1-minute load near or above the core count means "
        "other processes shared the machine: read the ratios as indicative)",
        f"- platform: {env.get('platform')}",
        "",
        "BLAS and OpenMP pools (threadpoolctl, after importing scipy.linalg):",
        "",
    ]
    lines += _table(
        ["shipped by", "library", "user_api", "internal_api", "architecture", "num_threads",
         "version"],
        [[p.get("owner"), os.path.basename(p.get("filepath") or ""), p.get("user_api"),
          p.get("internal_api"), p.get("architecture"), p.get("num_threads"), p.get("version")]
         for p in env.get("blas", [])],
    )
    lines += [""] + _rates_lines(peak, "numpy matmul", "the CPU")
    if gpu_peak:
        lines += [""] + _rates_lines(gpu_peak, "cuBLAS GEMM", "the GPU")
    return lines


def _loss_check_cell(row):
    check = row.get("loss_check") or {}
    if not check.get("reference"):
        return "—"
    if check["outliers"]:
        return "differs: " + ", ".join(f"{lib} {check['ratios'][lib]:.3g}×"
                                       for lib in check["outliers"])
    spread = [abs(r - 1) for r in check["ratios"].values()]
    return f"within {max(spread, default=0):.1%} of {check['reference']}"


def _fit_lines(rows, libraries, repeats, rates):
    libs = [lib for lib in libraries if lib not in _GPU]
    others = [lib for lib in _OTHERS if lib in libs]
    header = (["workload", "dtype"] + [f"{lib} (s)" for lib in libs]
              + [f"× vs {lib}" for lib in others]
              + [f"loss {lib}" for lib in libs]
              + ["losses agree?", "fastnet GFLOP/s", "% of matmul rate", "goals"])
    body = []
    for r in rows:
        body.append(
            [r["workload"], r["dtype"]]
            + [_fmt(r["median_s"].get(lib), ".4f") for lib in libs]
            + [_speedup(r["speedup"].get(lib)) for lib in others]
            + [_fmt(r["loss"].get(lib), ".6g") for lib in libs]
            + [_loss_check_cell(r), _fmt(r["gflops"], ".2f"),
               _rate_cell(r["fraction_of_peak"], (rates or {}).get(r["dtype"])), _goal_cell(r)]
        )
    lines = [f"## Fit: median of {repeats} timed fits, fixed epochs", "",
             "× vs X: X's median time over fastnet's. 'losses agree?': every library's final "
             "training loss within 10% of scikit-learn's (same problem, same start; torch and "
             "JAX shuffle with their own generators). '% of matmul rate': fastnet's GFLOP/s "
             "over the median numpy matmul rate of this run (Environment), in brackets over "
             "its fastest and slowest samples.", ""]
    lines += _table(header, body)
    compiled = [(r["workload"], r["dtype"], lib, t) for r in rows
                for lib, t in (r.get("compile_s") or {}).items()]
    if compiled:
        lines += ["", "Compiled ahead of the timed region (JAX's jit of one epoch, first "
                  "prepare; not in the times above): "
                  + ", ".join(f"{w} {d} {lib} {fmt_time(t)}" for w, d, lib, t in compiled) + "."]
    return lines


def _gpu_lines(rows, libraries, repeats, rates):
    libs = [lib for lib in _GPU if lib in libraries]
    if not libs:
        return []
    peers = [lib for lib in _GPU_PEERS if lib in libraries]
    header = (["workload", "dtype", "fastnet CPU (s)"] + [f"{lib} (s)" for lib in libs]
              + [f"fastnet-cuda × vs {lib}" for lib in peers]
              + [f"loss {lib}" for lib in libs]
              + ["fastnet-cuda GFLOP/s", "% of cuBLAS rate", "GPU goals"])
    body = []
    for r in rows:
        body.append(
            [r["workload"], r["dtype"], _fmt(r["median_s"].get("fastnet"), ".4f")]
            + [_fmt(r["median_s"].get(lib), ".4f") for lib in libs]
            + [_speedup(r["gpu_speedup"].get(lib)) for lib in peers]
            + [_fmt(r["loss"].get(lib), ".6g") for lib in libs]
            + [_fmt(r["gflops_by_library"].get("fastnet-cuda"), ".1f"),
               _rate_cell(r.get("cuda_fraction_of_cublas"), (rates or {}).get(r["dtype"])),
               _goal_cell(r, gpu=True)])
    return ([f"## GPU fit: median of {repeats} timed fits (every fit waits for the device)", "",
             "fastnet-cuda × vs X: X's median time over fastnet-cuda's (fastnet: fastnet on "
             "the CPU of the same machine). '% of cuBLAS rate': fastnet-cuda's GFLOP/s over "
             "the median cuBLAS GEMM rate sampled in this run (Environment).", ""]
            + _table(header, body))


def _predict_lines(rows, libraries, rates):
    libs = list(libraries)
    others = [lib for lib in _OTHERS if lib in libs]
    header = (["workload", "dtype", "rows"] + libs
              + [f"× vs {lib}" for lib in others]
              + ["fastnet GFLOP/s", "% of matmul rate", "goal"])
    body = []
    for r in rows:
        body.append(
            [r["workload"], r["dtype"], r["rows"]]
            + [fmt_time(r["median_s"].get(lib)) for lib in libs]
            + [_speedup(r["speedup"].get(lib)) for lib in others]
            + [_fmt(r["gflops"], ".2f"),
               _rate_cell(r["fraction_of_peak"], (rates or {}).get(r["dtype"])), _goal_cell(r)]
        )
    return (["## Predict: median time per call", "",
             "fastnet and scikit-learn through the estimator's predict (validation included), "
             "torch through its module, JAX through its jitted forward pass (compiled per input "
             "shape before timing); each returns a NumPy array. The libraries take turns "
             "within each timed sample.", ""]
            + _table(header, body))


def _goals_lines(rows, startup):
    """Every stated target this run measured, one line each, with its verdict."""
    body = []
    for r in rows:
        what = "fit" if r["op"] == "fit" else f"predict {r['rows']} row{'s' * (r['rows'] > 1)}"
        for g in r.get("goals", []):
            body.append([r["workload"], r["dtype"], what, g["text"], g["measured_text"],
                         g["status"]])
    for ff in (startup or {}).get("first_fit", []) if isinstance(startup, dict) else []:
        for which in ("cold", "warm"):
            goal = (ff.get("goals") or {}).get(which)
            if goal:
                body.append([ff["workload"], ff["dtype"], f"first fit, {which} Numba cache",
                             goal["text"], goal["measured_text"], goal["status"]])
    if not body:
        return []
    counts = {}
    for line in body:
        counts[line[-1]] = counts.get(line[-1], 0) + 1
    lines = ["## Speed targets", "",
             "The targets README.md states (section 'Measured speed', table 'Targets'; from "
             "issues 15 and 11 and DESIGN.md), judged on this run: "
             + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + ". "
             "'borderline': the target lies inside the range this run measured (the rounds' "
             "ratios, or the matmul rate's spread), so another run may land on either side; "
             "'invalid': above 100% of a rate whose measurement was disturbed; 'not measured': "
             "a library or rate this run lacks. Reported, never asserted.", ""]
    return lines + _table(["workload", "dtype", "what", "target", "measured", "status"], body)


def _quality_lines(rows, libraries, workloads):
    body = []
    for r in rows:
        metric = (workloads.get(r["workload"]) or {}).get("score_metric", "score")
        body.append([r["workload"], r["dtype"], metric]
                    + [_fmt(r["score"].get(lib), ".4f") for lib in libraries])
    return (["## Quality after the last timed fit", "",
             "The training loss is in the fit table; here the score of each fitted model, on "
             "held-out rows where the workload has them (the metric column says which).", ""]
            + _table(["workload", "dtype", "metric"] + list(libraries), body))


def _startup_lines(startup):
    if not startup or startup.get("skipped"):
        reason = (startup or {}).get("skipped", "not measured")
        return ["## Startup (fresh processes)", "", f"Skipped: {reason}."]
    body = []
    imp = startup.get("imports") or {}
    if "error" in imp:
        body.append(["import", f"error: {imp['error'][:200]}"])
    elif imp:
        body.append(["import numpy, scipy, scikit-learn, numba", fmt_time(imp["dependencies_s"])])
        body.append(["import fastnet on top of them", fmt_time(imp["fastnet_s"])])
        body.append(["import fastnet in total (median of "
                     f"{len(imp.get('samples', []))})", fmt_time(imp["total_s"])])
    for ff in startup.get("first_fit", []):
        label = f"{ff['workload']} {ff['dtype']}"
        for which, words in (("cold", "cold Numba cache (compiles)"), ("warm", "warm Numba cache")):
            res = ff.get(which) or {}
            if "error" in res:
                body.append([f"first fit {label}, {words}", f"error: {res['error'][:200]}"])
                continue
            g = (ff.get("goals") or {}).get(which)
            goal = f"; target {g['text']}: {g['status']}" if g else ""
            cpu = res.get("first_fit_cpu_s")
            body.append([
                f"first fit {label}, {words}",
                f"{fmt_time(res['first_fit_s'])} after the imports"
                + (f", {fmt_time(cpu)} CPU" if cpu is not None else "")
                + f" (steady fit {fmt_time(res['steady_fit_s'])}, so "
                f"{fmt_time(res['first_fit_overhead_s'])} extra; import "
                f"{fmt_time(res['import_s'])}){goal}",
            ])
            body.append([
                f"first 1-row predict {label}, {words}",
                f"{fmt_time(res['first_predict_s'])} (steady {fmt_time(res['steady_predict_s'])})",
            ])
    lines = ["## Startup (fresh processes)", ""] + _table(["measurement", "time"], body)
    lines += ["", "Each first fit runs in a new process with `NUMBA_CACHE_DIR` at a new, empty "
              "directory (cold: fastnet's kernels compile) and then again with the same directory "
              "(warm: they load from the cache). Both targets are judged on the first fit's "
              "CPU seconds (wall seconds beside them: other processes inflate those)."]
    return lines


def _memory_lines(memory):
    if not memory or (isinstance(memory, dict) and memory.get("skipped")):
        reason = (memory or {}).get("skipped", "not measured") if isinstance(memory, dict) else ""
        return ["## Peak memory of one fit (fresh process)", "", f"Skipped: {reason}."]
    body = []
    for m in memory:
        if "error" in m:
            body.append([m["library"], m["workload"], m["dtype"], "error", m["error"][:120],
                         "", ""])
            continue
        body.append([m["library"], m["workload"], m["dtype"], _fmt_bytes(m["data_bytes"]),
                     _fmt_bytes(m["traced_peak_bytes"]), _fmt_bytes(m["rss_growth_bytes"]),
                     _fmt_bytes(m["rss_peak_bytes"])])
    lines = ["## Peak memory of one fit (fresh process)", ""]
    lines += _table(["library", "workload", "dtype", "data (X + y)", "tracemalloc peak",
                     "peak RSS growth", "peak RSS"], body)
    method = next((m.get("rss_method") for m in memory if m.get("rss_method")), None)
    lines += ["", "tracemalloc counts Python and numpy allocations (not Numba's internal ones, "
              "PyTorch tensors or JAX buffers); peak RSS growth is the process's peak resident "
              f"memory during the fit above its resident memory just before it ({method}): the "
              "new pages the fit touched. The data and the model exist before the fit and are "
              "not in it."]
    return lines


def to_markdown(results):
    """The whole report as markdown text.

    Parameters
    ----------
    results : dict
        With the keys in :data:`JSON_KEYS`.

    Returns
    -------
    str
    """
    meta = results["meta"]
    libraries = list(results["libraries"])
    rows = results["comparisons"]
    fit_rows = [r for r in rows if r["op"] == "fit"]
    pred_rows = [r for r in rows if r["op"] == "predict"]
    rates, gpu_rates = results.get("peak") or {}, results.get("gpu_peak") or {}
    device = meta.get("device", "cpu")
    lines = [
        f"# fastnet benchmark ({meta['mode']}{', ' + device if device != 'cpu' else ''})",
        "",
        f"`{meta['command']}` — {meta['started']}, {meta['duration_s']:.0f} s, "
        f"libraries: {', '.join(f'{k} {v}' for k, v in results['libraries'].items())}.",
        "",
        "Every library trains the same architecture with the same hyperparameters, initial "
        "weights (scikit-learn's draw), batch size, dtype, threads and fixed number of epochs "
        "(tol=0, no early stopping); JIT compilation and warm-up are outside the timed region; "
        "the libraries take turns in every round; speedups are (other library's median time) / "
        "(fastnet's), measured in this run. GFLOP/s count 6·n·Σ fan_in·fan_out per epoch for "
        "training, 2·n·Σ for predict; '% of matmul rate' compares with the same-dtype numpy "
        "matmul rate sampled after every round of this run (median; its spread is in "
        "Environment). The goal columns and 'Speed targets' cite the targets README.md states "
        "(Measured speed → Targets): reported, never asserted.",
        "",
    ]
    lines += _fit_lines(fit_rows, libraries, meta.get("repeats"), rates) + [""]
    gpu = _gpu_lines(fit_rows, libraries, meta.get("repeats"), gpu_rates)
    if gpu:
        lines += gpu + [""]
    if pred_rows:
        lines += _predict_lines(pred_rows, libraries, rates) + [""]
    goals = _goals_lines(rows, results.get("startup"))
    if goals:
        lines += goals + [""]
    lines += _quality_lines(fit_rows, libraries, results.get("workloads", {})) + [""]
    lines += _startup_lines(results.get("startup")) + [""]
    lines += _memory_lines(results.get("memory")) + [""]
    lines += _scaling_lines(results.get("scaling"),
                            (meta.get("files") or {}).get("scaling_png")) + [""]
    env = dict(results["environment"], load_average_at_end=meta.get("load_average_at_end"))
    lines += _environment_lines(env, rates, gpu_rates) + [""]
    if results.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in results["notes"]] + [""]
    return "\n".join(lines)


def _scaling_lines(scaling, plot=None):
    lines = ["## How fit time grows (fastnet and scikit-learn)", ""]
    if not scaling or "skipped" in scaling:
        return lines + [f"Skipped ({(scaling or {}).get('skipped', 'not measured')})."]
    # Name the plot only when this run wrote it (no matplotlib: no PNG, see the notes).
    where = f" Plot: `{plot}`." if plot else " No plot was written (see the notes)."
    lines += [
        f"Synthetic regression, 20 features, Adam, batches of 200, {scaling['epochs']} epochs, "
        f"{scaling['dtype']}; median fit time.{where}",
        "",
    ]
    sweeps = (("samples", "samples (hidden (100,))", lambda x: f"{x}"),
              ("width", f"hidden width ({scaling['width_sweep_samples']} samples)",
               lambda x: f"({x},)"))
    for key, title, label in sweeps:
        rows = scaling.get(key) or []
        if not rows:
            continue
        libs = list(rows[0]["median_s"])
        header = [title] + libs + (["× vs sklearn"] if "sklearn" in libs else [])
        table = []
        for r in rows:
            cells = [label(r["x"])] + [fmt_time(r["median_s"].get(lib)) for lib in libs]
            if "sklearn" in libs:
                cells.append(_speedup(r["speedup"]))
            table.append(cells)
        lines += _table(header, table) + [""]
    return lines


def summary_lines(results, paths):
    """The few lines ``python -m bench`` ends with: the results at a glance, then where the
    report is (the last line).

    Parameters
    ----------
    results : dict
        With the keys in :data:`JSON_KEYS`.
    paths : dict
        From :func:`write_all`.

    Returns
    -------
    list of str
    """
    meta, env = results["meta"], results.get("environment", {})
    load = [(env.get("load_average_at_start") or [None])[0],
            (meta.get("load_average_at_end") or [None])[0]]
    lines = [f"fastnet benchmark ({meta['mode']}): {fmt_duration(meta['duration_s'])} on "
             f"{env.get('cpu_model')}, {meta.get('threads')} thread"
             f"{'s' if meta.get('threads') != 1 else ''}, 1-minute load average "
             f"{load[0]} at the start and {load[1]} at the end.",
             "Median times; (N×): how many times longer the other library took than fastnet."]
    rows = results.get("comparisons", [])
    predict_1 = {(r["workload"], r["dtype"]): r for r in rows
                 if r["op"] == "predict" and r["rows"] == 1}
    width = max([len(r["workload"]) for r in rows] or [0])
    for r in rows:
        if r["op"] != "fit":
            continue
        line = f"  {r['workload']:<{width}} {r['dtype']}  fit: {side_by_side(r['median_s'])}"
        pred = predict_1.get((r["workload"], r["dtype"]))
        if pred:
            line += f"; predict 1 row: {side_by_side(pred['median_s'])}"
        lines.append(line)
    startup = results.get("startup") or {}
    first = [ff for ff in startup.get("first_fit", [])
             if "error" not in (ff.get("cold") or {}) and "error" not in (ff.get("warm") or {})]
    if first:
        lines.append("First fit in a fresh process, after the imports: "
                     + "; ".join(f"{ff['workload']} {ff['dtype']} "
                                 f"{fmt_time(ff['warm']['first_fit_s'])} with a warm Numba "
                                 f"cache, {fmt_time(ff['cold']['first_fit_s'])} cold"
                                 + _cpu_words(ff) for ff in first) + ".")
    statuses = [g["status"] for r in rows for g in r.get("goals", [])]
    statuses += [g["status"] for ff in first for g in (ff.get("goals") or {}).values()]
    if statuses:
        counts = {k: statuses.count(k) for k in sorted(set(statuses))}
        lines.append("Speed targets (README): " + ", ".join(f"{n} {k}" for k, n in
                                                            counts.items())
                     + " (the report's 'Speed targets' table says which).")
    skipped = [n for n in results.get("notes", [])
               if "absent" in n or "PNG" in n or n.startswith("--") or "no GPU rate" in n]
    lines += [f"Note: {n}" for n in skipped]
    written = [os.path.basename(p) for k, p in paths.items() if p and k != "md"]
    lines.append(f"Report: {paths['md']}" + (f" (beside it: {', '.join(written)})"
                                             if written else ""))
    return lines


def _cpu_words(ff):
    """' (CPU 0.42 s warm, 13.6 s cold)' for a first-fit result that has CPU times."""
    warm, cold = ff["warm"].get("first_fit_cpu_s"), ff["cold"].get("first_fit_cpu_s")
    if warm is None or cold is None:
        return ""
    return f" (CPU {fmt_time(warm)} warm, {fmt_time(cold)} cold)"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(results, path):
    """Write ``results`` as indented JSON (numpy scalars converted, NaN as null)."""
    with open(path, "w") as fh:
        json.dump(_jsonable(results), fh, indent=2)
        fh.write("\n")


def write_partial(measurements, rates, out_dir):
    """Write ``partial.json`` (the measurements so far and the rate samples) into ``out_dir``;
    :func:`write_all` removes it when the report is complete."""
    os.makedirs(out_dir, exist_ok=True)
    write_json({"measurements": measurements, "rates": rates},
               os.path.join(out_dir, "partial.json"))


def write_png(results, path):
    """Bar chart of fastnet's speedup over each library per workload and dtype.

    Returns
    -------
    str or None
        ``None`` when written, else a note saying why not (matplotlib missing,
        nothing to compare).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    except ImportError:
        return ("matplotlib is not installed, so no PNG was written "
                "(pip install matplotlib, or the 'bench' extra)")
    libraries = [lib for lib in _OTHERS if lib in results["libraries"]]
    rows = results["comparisons"]
    panels = [("fit", [r for r in rows if r["op"] == "fit"])]
    for n in sorted({r["rows"] for r in rows if r["op"] == "predict"}):
        panels.append((f"predict {n} row{'s' if n > 1 else ''}",
                       [r for r in rows if r["op"] == "predict" and r["rows"] == n]))
    panels = [(t, rs) for t, rs in panels if rs]
    if not libraries or not panels:
        return "no other library to compare with, so no PNG was written"
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6, 0.9 * len(panels[0][1]) + 3),
                                                      3.2 * len(panels)), squeeze=False)
    width = 0.8 / len(libraries)
    for ax, (title, rs) in zip(axes[:, 0], panels):
        labels = [f"{r['workload']}\n{r['dtype']}" for r in rs]
        for i, lib in enumerate(libraries):
            vals = [r["speedup"].get(lib) or 0.0 for r in rs]
            xs = [j + (i - (len(libraries) - 1) / 2) * width for j in range(len(rs))]
            bars = ax.bar(xs, vals, width, label=f"vs {lib}")
            for bar, v in zip(bars, vals):
                if v:
                    ax.annotate(f"{v:.1f}×", (bar.get_x() + bar.get_width() / 2, v),
                                ha="center", va="bottom", fontsize=7)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        positive = [v for r in rs for v in r["speedup"].values() if v]
        if positive:
            ax.set_ylim(min(0.8, min(positive) / 1.5), max(1.25, max(positive) * 1.6))
        ax.set_xticks(range(len(rs)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylabel("fastnet speedup (×)")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(f"fastnet speedup, {results['environment'].get('cpu_model')}, "
                 f"{results['environment'].get('threads_used')} threads", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write_scaling_png(results, path):
    """Log-log plot of fit time vs samples and vs hidden width, one line per library.

    Returns
    -------
    str or None
        ``None`` when written, else a note saying why not.
    """
    scaling = results.get("scaling") or {}
    sweeps = [(key, scaling.get(key)) for key in ("samples", "width") if scaling.get(key)]
    if not sweeps:
        return None  # not measured: nothing to say beyond the report's "Skipped"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ("matplotlib is not installed, so no scaling PNG was written "
                "(pip install matplotlib, or the 'bench' extra)")
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 3.8), squeeze=False)
    titles = {"samples": ("samples", "hidden (100,)"),
              "width": ("hidden width", f"{scaling.get('width_sweep_samples')} samples")}
    for ax, (key, rows) in zip(axes[0], sweeps):
        xs = [r["x"] for r in rows]
        for lib in rows[0]["median_s"]:
            ax.plot(xs, [r["median_s"].get(lib) for r in rows], marker="o", label=lib)
        for r in rows:
            if r["speedup"]:
                ax.annotate(f"{r['speedup']:.1f}×", (r["x"], r["median_s"]["fastnet"]),
                            textcoords="offset points", xytext=(0, -12), ha="center",
                            fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        xlabel, context = titles[key]
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fit time (s)")
        ax.set_title(f"fit time vs {xlabel} ({context}, {scaling['epochs']} epochs)",
                     fontsize=9)
        ax.grid(True, which="both", linewidth=0.3)
        ax.margins(y=0.15)  # room for the speedup labels under the lowest points
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write_all(results, out_dir, plot=True):
    """Write results.md, results.json, speedup.png and scaling.png into ``out_dir``.

    A note about a missing PNG is appended to ``results['notes']`` before the
    markdown and JSON are written.

    Parameters
    ----------
    results : dict
    out_dir : str
    plot : bool, default=True
        Write the PNG (needs matplotlib).

    Returns
    -------
    dict
        ``{"md": path, "json": path, "png": path or None, "scaling_png": path or None}``.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {k: os.path.join(out_dir, name) for k, name in
             (("md", "results.md"), ("json", "results.json"), ("png", "speedup.png"),
              ("scaling_png", "scaling.png"))}
    for key, writer in (("png", write_png), ("scaling_png", write_scaling_png)):
        if os.path.exists(paths[key]):
            os.remove(paths[key])  # never leave an earlier run's plot next to this report
        note = writer(results, paths[key]) if plot else "plot not requested"
        if note and plot:
            results.setdefault("notes", []).append(note)
        if note or not os.path.exists(paths[key]):
            paths[key] = None
    # What the markdown may point at: the files of this run only.
    results["meta"]["files"] = {k: os.path.basename(p) for k, p in paths.items() if p}
    with open(paths["md"], "w") as fh:
        fh.write(to_markdown(results))
    write_json(results, paths["json"])
    partial = os.path.join(out_dir, "partial.json")
    if os.path.exists(partial):
        os.remove(partial)
    return paths
