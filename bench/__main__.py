"""``python -m bench``: fastnet next to scikit-learn, PyTorch and JAX, one report.

Modes (run from the repository root)::

    python -m bench --quick     # ~1 min smoke run: tiny, small, vending in float64
    python -m bench             # the selection: seven workloads, float64 and float32
    python -m bench --full      # everything: + SGD workload, more repeats, memory of 'large'
    python -m bench --device cuda --quick   # + the GPU columns (sized for ~4 min on the H200)

``--device cuda`` adds fastnet on the GPU (``device="cuda"``), PyTorch on the
GPU (eager, fused Adam) and JAX on the GPU, a large-batch workload, and the
cuBLAS GEMM rate sampled through the run; where a piece is missing (no CUDA
driver, no numba-cuda, a CPU build of torch, JAX without a GPU) it says so at
the start, names the columns it skips, and the CPU report is still written.

Options narrow or change a run (``--workloads``, ``--dtypes``, ``--libraries``,
``--repeats``, ``--threads``, ``--epochs``, ``--no-startup``, ``--no-memory``,
``--no-scaling``, ``--no-plot``); ``--out DIR`` names the output folder
(default ``bench-results/``), which receives ``results.md``, ``results.json``,
``speedup.png`` and ``scaling.png`` (the PNGs need matplotlib, the ``bench`` extra).

What it prints: first what it will measure and what it will skip, and why
(no PyTorch columns without torch, no PNGs without matplotlib); then, on
stderr, one line as each measurement starts and one with its result, each
after the time elapsed; last, on stdout, a short summary whose final line
says where the report is.
"""

import argparse
import dataclasses
import datetime
import importlib.util
import sys
import time
import warnings

__all__ = ["MODES", "parse_args", "run", "main"]

# Per mode: repeats of each fit, import-time repeats, first-fit dtypes, memory workloads and
# libraries (None: all in the run).
MODES = {
    "quick": dict(repeats=3, import_repeats=1, first_fit_dtypes=("float64",),
                  memory_workloads=("small",), memory_libraries=("fastnet",)),
    "default": dict(repeats=3, import_repeats=3, first_fit_dtypes=("float64", "float32"),
                    memory_workloads=("medium",), memory_libraries=None),
    "full": dict(repeats=5, import_repeats=5, first_fit_dtypes=("float64", "float32"),
                 memory_workloads=("medium", "large"), memory_libraries=None),
}
# The cuBLAS product's size: 8192^3 products run ~20 ms each on an H200.
GPU_PEAK_SIZE = 8192


def _csv(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv=None):
    """The command line of ``python -m bench`` (see the module docstring)."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="fastnet next to scikit-learn, PyTorch and JAX (CPU; GPU with --device "
                    "cuda): fit and predict times, speedups, losses, GFLOP/s against the matmul "
                    "rate measured in the same run, the stated speed targets, startup, memory.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="smoke run: tiny, small, vending in float64 (about a minute)")
    mode.add_argument("--full", action="store_true", help="every workload, more repeats")
    p.add_argument("--out", default="bench-results", help="output folder (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for every library (default: all available cores)")
    p.add_argument("--repeats", type=int, default=None, help="timed fits per library")
    p.add_argument("--workloads", type=_csv, default=None,
                   help="comma-separated workload names (default: the mode's selection)")
    p.add_argument("--dtypes", type=_csv, default=None, help="float64,float32")
    p.add_argument("--libraries", type=_csv, default=None,
                   help="fastnet,sklearn,torch,jax (with --device cuda also fastnet-cuda, "
                        "torch-cuda, jax-cuda; default: all available)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: add the GPU columns and the cuBLAS rate (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=None,
                   help="override every workload's epochs (smoke tests; goals then do not apply)")
    p.add_argument("--peak-size", type=int, default=2048,
                   help="size of the numpy product whose rate is sampled after every round")
    p.add_argument("--no-predict", action="store_true", help="skip the predict timings")
    p.add_argument("--no-startup", action="store_true",
                   help="skip the fresh-process import / first-fit measurements")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    p.add_argument("--no-scaling", action="store_true",
                   help="skip the time-vs-samples and time-vs-width sweeps")
    p.add_argument("--no-plot", action="store_true", help="do not write speedup.png")
    p.add_argument("--quiet", action="store_true", help="no progress lines, no printed summary")
    args = p.parse_args(argv)
    args.mode = "quick" if args.quick else "full" if args.full else "default"
    return args


def run(args, argv=None):
    """Run the benchmarks ``args`` describe and write the report.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`.
    argv : list of str, optional
        Recorded as the command in the report.

    Returns
    -------
    results : dict
        With the keys :data:`bench.report.JSON_KEYS`.
    paths : dict
        Where the markdown, JSON and PNG were written.
    """
    started = time.perf_counter()
    started_at = datetime.datetime.now().astimezone().isoformat(timespec="seconds")

    def log(text):
        if not args.quiet:  # progress on stderr, each line after the time elapsed
            elapsed = int(time.perf_counter() - started)
            print(f"[{elapsed // 60:2d}:{elapsed % 60:02d}] {text}", file=sys.stderr, flush=True)

    from . import threads as _threads
    from . import workloads as _wl

    log(f"python -m bench ({args.mode}{', cuda' if args.device == 'cuda' else ''}): "
        "importing the libraries")
    from . import compare, env, peaks, report, runners, scaling, startup

    settings = MODES[args.mode]
    repeats = args.repeats or settings["repeats"]
    n_threads = args.threads or _threads.available_cores()
    notes = []

    selected, dtypes = _wl.select(args.mode, args.device)
    if args.workloads:
        selected = [_wl.get(n) for n in args.workloads]
    if args.dtypes:
        dtypes = args.dtypes
    if args.epochs:
        selected = [w.replace(epochs=args.epochs) for w in selected]
        notes.append(f"--epochs {args.epochs}: every workload's epochs were overridden; "
                     "the speed goals refer to the standard epochs.")

    cores = _threads.available_cores()
    # Before the libraries start (JAX's XLA sizes its pool by the CPUs it may use).
    pinned = _threads.pin_cpus(n_threads) if args.threads else None
    libraries, libs, missing = _libraries(args, runners)
    for lib, reason in missing.items():
        notes.append(f"{lib}: {reason}; its columns are absent.")
    gpu_backend = None
    if args.device == "cuda":
        gpu_backend, info = peaks.cublas_backend()
        if gpu_backend is None:
            missing["cuBLAS rate"] = info
            notes.append(f"cuBLAS rate: {info}; no GPU rate, so no '% of cuBLAS' figures.")
        else:
            libs[f"{gpu_backend} (cuBLAS rate)"] = info

    log(f"measuring {', '.join(w.name for w in selected)} in {', '.join(dtypes)} with "
        + ", ".join(f"{lib} {libs[lib]}" for lib in libraries)
        + f"; {n_threads} threads, {repeats} timed fits per library")
    for line in _skipped(args, missing):
        log(line)
    log(f"writing the report to {args.out}/ at the end")

    rates = peaks.RateLog(args.peak_size, GPU_PEAK_SIZE if gpu_backend else None, gpu_backend)
    with _threads.limit(n_threads) as applied:
        environment = env.environment(n_threads, libraries=libs)
        environment["threads_applied"] = dict(applied, cpus=pinned or "all")
        measurements = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for w in selected:
                here = [lib for lib in libraries
                        if w.cpu_libraries is None or lib in w.cpu_libraries
                        or lib in runners.GPU_LIBRARIES]
                if len(here) < len(libraries):
                    notes.append(f"{w.name}: run by {', '.join(here)} only "
                                 f"({w.description}).")
                for dtype in dtypes:
                    measurements += compare.run_workload(
                        w, dtype, here, repeats=repeats, predict=not args.no_predict,
                        log=log, rates=rates)
                    # A long run that dies later still leaves what it measured.
                    report.write_partial(measurements, rates.summary(), args.out)
        for dtype in dtypes:  # and once at the end, after the last workload
            rates.sample(dtype, after="end of the workloads")
        rate_summary = rates.summary()
        rates.release()
        if rates.gpu_error:
            notes.append(f"cuBLAS rate: sampling failed ({rates.gpu_error}); the GPU rate "
                         "covers the samples before the failure only.")
        for dtype, r in rate_summary["cpu"].items():
            log(f"matmul rate {dtype}: median {r['median']:.1f} GFLOP/s of {r['n_samples']} "
                f"samples between the rounds (range {r['min']:.1f}–{r['max']:.1f})")

        if args.no_scaling:
            scaling_res = {"skipped": "--no-scaling"}
        else:
            log("scaling: fit time against samples and hidden width (fastnet, sklearn)")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                scaling_res = scaling.run_scaling(args.mode, libraries, repeats, log=log,
                                                  epochs=args.epochs)

    if args.no_startup:
        startup_res = {"skipped": "--no-startup"}
    else:
        startup_res = {
            "imports": startup.measure_imports(settings["import_repeats"], log=log),
            "first_fit": [startup.measure_first_fit("tiny", d, n_threads, log=log)
                          for d in ([d for d in settings["first_fit_dtypes"] if d in dtypes]
                                    or dtypes[:1])],
        }
    if args.no_memory:
        memory = {"skipped": "--no-memory"}
    else:
        memory_libs = [lib for lib in libraries
                       if settings["memory_libraries"] is None
                       or lib in settings["memory_libraries"]]
        memory = [startup.measure_memory(lib, name, "float64", n_threads, log=log)
                  for name in settings["memory_workloads"] for lib in memory_libs]

    if any(lib.startswith(("torch", "jax")) for lib in libraries):
        notes.append("torch's and optax's Adam add eps after the bias correction of the second "
                     "moment (scikit-learn and fastnet before it): updates differ in about the "
                     "sixth digit; the work is the same. torch and JAX shuffle with their own "
                     "generators, so their losses differ from scikit-learn's by the shuffle.")
    if any(lib.startswith("jax") for lib in libraries):
        notes.append("JAX: one jitted call per epoch (lax.scan over the mini-batches, optax), "
                     "data and parameters on the device before the timed region, the compile "
                     "ahead of time and untimed (its seconds are in the fit table's notes); "
                     "XLA's CPU thread pool has no setting of its own: it has as many threads "
                     "as the process has CPUs" + (
                         f", so the process was restricted to {n_threads} of its {cores} "
                         f"CPUs (CPUs {pinned}) for every library." if pinned else
                         f" ({cores} here, as for the other libraries)." if n_threads >= cores
                         else f" (all {cores}: restricting the process failed)."))
    results = {
        "meta": {
            "mode": args.mode,
            "command": "python -m bench" + ("" if not argv else " " + " ".join(argv)),
            "started": started_at,
            "duration_s": time.perf_counter() - started,
            "load_average_at_end": env.load_average(),
            "repeats": repeats,
            "threads": n_threads,
            "dtypes": list(dtypes),
            "device": args.device,
        },
        "environment": environment,
        "libraries": libs,
        "peak": rate_summary["cpu"],
        "gpu_peak": rate_summary["cublas"],
        "workloads": {w.name: dict(dataclasses.asdict(w),
                                   layer_units=_wl.layer_units(w),
                                   estimator_params=_wl.estimator_params(w),
                                   score_metric=_wl.score_metric(w))
                      for w in selected},
        "measurements": measurements,
        "comparisons": compare.summarize(measurements, rate_summary,
                                         {w.name: w for w in selected},
                                         gpu=args.device == "cuda",
                                         goals_apply=not args.epochs),
        "startup": startup_res,
        "memory": memory,
        "scaling": scaling_res,
        "notes": notes,
    }
    if args.no_plot:
        notes.append("--no-plot: no PNGs written.")
    results["meta"]["duration_s"] = time.perf_counter() - started
    paths = report.write_all(results, args.out, plot=not args.no_plot)
    return results, paths


def _libraries(args, runners):
    """The libraries of this run, their versions, and why the others can't run.

    Parameters
    ----------
    args : argparse.Namespace
    runners : module
        :mod:`bench.runners`.

    Returns
    -------
    libraries : list of str
        Those that run, fastnet first.
    versions : dict
        library -> version (or a description) of those.
    missing : dict
        library -> reason, for the wanted ones that can't run here.
    """
    default = list(runners.CPU_LIBRARIES)
    if args.device == "cuda":
        default += runners.GPU_LIBRARIES
    wanted = args.libraries or default
    unknown = [lib for lib in wanted if lib not in runners.RUNNERS]
    if unknown:
        raise SystemExit(f"python -m bench: unknown libraries {', '.join(unknown)}; "
                         f"known: {', '.join(runners.RUNNERS)}")
    if "fastnet" not in wanted:
        wanted = ["fastnet", *wanted]
    libs, missing = runners.available(wanted)
    return [lib for lib in wanted if lib in libs], libs, missing


def _skipped(args, missing):
    """Lines saying, before any measurement, what this run will leave out and why.

    Parameters
    ----------
    args : argparse.Namespace
    missing : dict
        library -> reason, from :func:`bench.runners.available`.

    Returns
    -------
    list of str
    """
    hints = {"torch": " (pip install torch==2.13.0, the CPU wheel, adds them)",
             "jax": " (pip install jax optax adds them)"}
    lines = []
    for lib, reason in missing.items():
        what = "the GPU GEMM rate ('% of cuBLAS')" if lib == "cuBLAS rate" else \
            f"the {lib} columns"
        lines.append(f"skipping {what}: {reason}{hints.get(lib, '')}")
    if args.no_plot:
        lines.append("skipping the PNG plots: --no-plot")
    elif importlib.util.find_spec("matplotlib") is None:
        lines.append("skipping the PNG plots (speedup.png, scaling.png): matplotlib is not "
                     "installed (pip install matplotlib, or the 'bench' extra)")
    for flag, what in (("no_predict", "the predict timings"),
                       ("no_startup", "the fresh-process import and first-fit timings"),
                       ("no_memory", "the peak-memory measurement"),
                       ("no_scaling", "the scaling sweeps")):
        if getattr(args, flag):
            lines.append(f"skipping {what}: --{flag.replace('_', '-')}")
    return lines


def main(argv=None):
    """Entry point of ``python -m bench``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    results, paths = run(args, argv)
    if not args.quiet:
        from .report import summary_lines

        print("\n".join(summary_lines(results, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
