"""fastnet's stated speed targets, one table, and how a report judges a measurement against them.

The targets are the ones README.md states in "Measured speed" -> "Targets"
(from issues 15 and 11 and DESIGN.md's "Where we are going"); a test checks
that every target here appears in that README table, so the report's goal
column never cites a number the repository does not state.

A goal is a small dict:

``{"kind": "speedup", "of": "fastnet", "vs": "sklearn", "min": 25}``
    ``vs``'s median time over ``of``'s, measured in the same run.
``{"kind": "fraction_of_rate", "of": "fastnet", "rate": "cpu", "rate_dtype": None, "min": 0.85}``
    ``of``'s achieved GFLOP/s over the matmul rate measured in the same run
    (``rate``: 'cpu' is numpy's matmul, 'cublas' the GPU's GEMM;
    ``rate_dtype`` None means the row's own dtype).
``{"kind": "max_seconds", "of": "fastnet", "max": 5e-6}``
    ``of``'s median time at most this.

:func:`evaluate` gives a status, never a bare yes/no: ``met``, ``not met``,
``borderline`` (the target lies inside the range the run measured: the
rounds' ratios, or the spread of the matmul rate, so another run on this
noisy machine may land on either side), ``not measured`` (a library or
rate is missing), ``not applicable`` (the run changed the workloads'
epochs) or ``invalid`` (a fraction above 100% of the measured
rate: the rate measurement was disturbed).
"""

__all__ = ["SOURCE", "FIT_GOALS", "GPU_FIT_GOALS", "PREDICT_ONE_ROW", "PREDICT_NARROW",
           "PREDICT_WIDE", "FIRST_FIT_COLD_S", "FIRST_FIT_WARM_S", "MATMUL_BOUND", "fit_goals",
           "predict_goals", "goal_text", "all_goal_texts", "evaluate"]

SOURCE = "README.md, Measured speed → Targets"


def _speedup(vs, minimum, of="fastnet"):
    return {"kind": "speedup", "of": of, "vs": vs, "min": minimum}


def _rate(minimum, rate="cpu", rate_dtype=None, of="fastnet", dtypes=None):
    goal = {"kind": "fraction_of_rate", "of": of, "rate": rate, "rate_dtype": rate_dtype,
            "min": minimum}
    if dtypes:
        goal["dtypes"] = tuple(dtypes)
    return goal


# Workloads whose time is in the matrix products (every hidden layer >= 256 wide): the README
# says both fastnet and scikit-learn spend it in the same BLAS calls there.
MATMUL_BOUND = ("medium", "large")

# CPU fit targets, per workload (issue 15; ratios in one run, same machine, same dtype).
FIT_GOALS = {
    "tiny": (_speedup("sklearn", 25), _speedup("jax", 5)),
    "small": (_speedup("sklearn", 8), _speedup("jax", 2.5)),
    "mid": (_speedup("sklearn", 6), _speedup("jax", 2)),
    "medium": (_speedup("sklearn", 2.5), _speedup("jax", 1.3), _rate(0.85)),
    "large": (_rate(0.85),),
    # The article's digits are float64: its target is a fraction of the float64 rate.
    "digits": (_rate(0.60, rate_dtype="float64", dtypes=("float64",)),),
}

# GPU fit targets on the lent H200 (issue 11, item 7).
GPU_FIT_GOALS = {
    "tiny": (_speedup("torch-cuda", 10, of="fastnet-cuda"),),
    "small": (_speedup("torch-cuda", 10, of="fastnet-cuda"),),
    "large": (_rate(0.70, rate="cublas", of="fastnet-cuda"),
              _speedup("fastnet", 20, of="fastnet-cuda")),
    "large-batch": (_speedup("fastnet", 20, of="fastnet-cuda"),),
}

# Predict targets: one row through the estimator; 10 000 rows against scikit-learn.
PREDICT_ONE_ROW = {"kind": "max_seconds", "of": "fastnet", "max": 5e-6}
PREDICT_NARROW = _speedup("sklearn", 2)   # every layer narrower than 256
PREDICT_WIDE = _speedup("sklearn", 1)     # wider layers: never slower
PREDICT_NARROW_WIDTH = 256

# First fit in a fresh process, one dtype (CPU seconds of the fit, imports apart).
FIRST_FIT_COLD_S = 3.0
FIRST_FIT_WARM_S = 0.3


def fit_goals(workload, dtype, gpu=False):
    """The fit goals of a workload in a dtype (CPU ones, plus the GPU ones when ``gpu``).

    Parameters
    ----------
    workload : str
    dtype : str
    gpu : bool, default=False

    Returns
    -------
    list of dict
    """
    goals = list(FIT_GOALS.get(workload, ()))
    if gpu:
        goals += GPU_FIT_GOALS.get(workload, ())
    return [g for g in goals if dtype in g.get("dtypes", (dtype,))]


def predict_goals(rows, hidden_layer_sizes):
    """The predict goals for ``rows`` rows of a network with these hidden layers."""
    if rows == 1:
        return [PREDICT_ONE_ROW]
    if rows == 10000:
        narrow = max(hidden_layer_sizes) < PREDICT_NARROW_WIDTH
        return [PREDICT_NARROW if narrow else PREDICT_WIDE]
    return []


def goal_text(goal):
    """A goal in words: '≥25× sklearn', '≥85% of the float64 matmul rate', '≤5 µs'."""
    of = "" if goal.get("of", "fastnet") == "fastnet" else f"{goal['of']} "
    if goal["kind"] == "speedup":
        return f"{of}≥{goal['min']:g}× {goal['vs']}"
    if goal["kind"] == "fraction_of_rate":
        which = "cuBLAS GEMM" if goal["rate"] == "cublas" else "matmul"
        dt = f"{goal['rate_dtype']} " if goal.get("rate_dtype") else ""
        return f"{of}≥{goal['min']:.0%} of the {dt}{which} rate"
    if goal["kind"] == "max_seconds":
        return f"{of}≤{goal['max'] * 1e6:g} µs"
    raise ValueError(f"unknown goal kind {goal['kind']!r}")


def all_goal_texts():
    """Every target's words, for the README check (CPU, GPU, predict; first fit apart)."""
    goals = [g for gs in (*FIT_GOALS.values(), *GPU_FIT_GOALS.values()) for g in gs]
    goals += [PREDICT_ONE_ROW, PREDICT_NARROW, PREDICT_WIDE]
    return sorted({goal_text(g) for g in goals})


def _status(value, low, high, target, at_least=True):
    """met / not met / borderline for ``value`` whose run-to-run range is [low, high]."""
    if value is None:
        return "not measured"
    ok = value >= target if at_least else value <= target
    if low is not None and high is not None and min(low, high) < target < max(low, high):
        return "borderline"
    return "met" if ok else "not met"


def evaluate(goal, row, rates):
    """Judge one comparison row against one goal.

    Parameters
    ----------
    goal : dict
    row : dict
        A row of :func:`bench.compare.summarize`: ``median_s`` and ``times_s``
        (library -> seconds), ``gflops_by_library``, ``dtype``.
    rates : dict
        ``{"cpu": {dtype: summary}, "cublas": {dtype: summary}}``; a summary
        has ``median``, ``min``, ``max`` GFLOP/s (see :mod:`bench.peaks`).

    Returns
    -------
    dict
        ``text``, ``status``, ``measured`` (a number or None),
        ``measured_text`` and ``source``.
    """
    out = {"goal": goal, "text": goal_text(goal), "source": SOURCE, "measured": None,
           "measured_text": "—"}
    of = goal.get("of", "fastnet")
    if goal["kind"] == "speedup":
        t_of, t_vs = row["median_s"].get(of), row["median_s"].get(goal["vs"])
        if not t_of or not t_vs:
            out["status"] = "not measured"
            return out
        value = t_vs / t_of
        per_round = [b / a for a, b in zip(row.get("times_s", {}).get(of, []),
                                            row.get("times_s", {}).get(goal["vs"], []))
                     if a and b]
        low, high = (min(per_round), max(per_round)) if len(per_round) > 1 else (None, None)
        out.update(measured=value, status=_status(value, low, high, goal["min"]),
                   measured_text=f"{value:.2f}×" + (f" (by round {low:.2f}–{high:.2f})"
                                                     if low is not None else ""))
        return out
    if goal["kind"] == "fraction_of_rate":
        g = (row.get("gflops_by_library") or {}).get(of)
        rate = ((rates or {}).get(goal["rate"]) or {}).get(goal.get("rate_dtype") or row["dtype"])
        if not g or not rate or not rate.get("median"):
            out["status"] = "not measured"
            return out
        value = g / rate["median"]
        low, high = g / rate["max"], g / rate["min"]
        out.update(measured=value,
                   measured_text=f"{value:.0%} (against the rate's range {low:.0%}–{high:.0%})")
        if value > 1.0:
            out["status"] = "invalid"
            out["measured_text"] += ": above the measured rate, which was disturbed"
        else:
            out["status"] = _status(value, low, high, goal["min"])
        return out
    if goal["kind"] == "max_seconds":
        t = row["median_s"].get(of)
        samples = row.get("times_s", {}).get(of) or []
        low, high = (min(samples), max(samples)) if len(samples) > 1 else (None, None)
        out.update(measured=t, status=_status(t, low, high, goal["max"], at_least=False),
                   measured_text="—" if t is None else f"{t * 1e6:.2f} µs")
        return out
    raise ValueError(f"unknown goal kind {goal['kind']!r}")

