"""README.md's "Measured speed" table, regenerated from a report's ``results.json``.

    python -m bench.readme_table bench-results/results.json

prints the markdown to paste under "### On this machine": one line saying
what was run, where and when, then the fit table (the report's "Fit" table
condensed: times, fastnet's ratios, % of the matmul rate) and the verdicts of
the report's "Speed targets" table counted.  Standard library only.
"""

import json
import sys

__all__ = ["readme_lines", "main"]

_PEERS = ("sklearn", "torch", "jax")


def _sec(t):
    return "—" if t is None else f"{t:.3g} s" if t >= 1 else f"{t * 1e3:.3g} ms"


def _ratio(v):
    return "—" if v is None else f"{v:.1f}×" if v < 100 else f"{v:.0f}×"


def _blas(env):
    kernels = sorted({f"{p.get('internal_api')} {p.get('architecture')}"
                      for p in env.get("blas", []) if p.get("user_api") == "blas"})
    return ", ".join(kernels) or "unknown"


def readme_lines(results):
    """The README block for one run's ``results`` (the parsed ``results.json``).

    Returns
    -------
    list of str
    """
    meta, env = results["meta"], results["environment"]
    libs = results["libraries"]
    peers = [lib for lib in _PEERS if lib in libs]
    rates = results.get("peak") or {}
    load = [env.get("load_average_at_start"), meta.get("load_average_at_end")]
    lines = [
        f"`{meta['command']}` on {meta['started'][:10]} ({meta['duration_s']:.0f} s): "
        f"{env.get('cpu_model')}, {meta.get('threads')} thread"
        f"{'s' if meta.get('threads') != 1 else ''} for every library, BLAS "
        f"kernel {_blas(env)} (threadpoolctl), `OPENBLAS_CORETYPE` "
        f"{env.get('OPENBLAS_CORETYPE') or 'unset'}; "
        + ", ".join(f"{k} {v}" for k, v in libs.items())
        + f"; 1-minute load average {load[0][0] if load[0] else '?'} at the start, "
        f"{load[1][0] if load[1] else '?'} at the end. Matmul rate (median of the samples "
        "taken after every round, range): "
        + "; ".join(f"{d} {r['median']:.1f} GFLOP/s ({r['min']:.1f}–{r['max']:.1f})"
                    for d, r in rates.items()) + ".",
        "",
        "| workload | dtype | fastnet | " + " | ".join(peers) + " | "
        + " | ".join(f"× vs {p}" for p in peers) + " | % of matmul rate | targets |",
        "|" + "---|" * (5 + 2 * len(peers)),
    ]
    for r in results["comparisons"]:
        if r["op"] != "fit":
            continue
        frac = r.get("fraction_of_peak")
        targets = "; ".join(f"{g['text']}: {g['status']}" for g in r.get("goals", [])
                            if not g["goal"].get("of", "fastnet").endswith("-cuda"))
        lines.append(
            f"| {r['workload']} | {r['dtype']} | {_sec(r['median_s'].get('fastnet'))} | "
            + " | ".join(_sec(r["median_s"].get(p)) for p in peers) + " | "
            + " | ".join(_ratio(r["speedup"].get(p)) for p in peers)
            + f" | {'—' if frac is None else f'{frac:.0%}'} | {targets} |")
    statuses = [g["status"] for r in results["comparisons"] for g in r.get("goals", [])]
    first = (results.get("startup") or {}).get("first_fit", []) if isinstance(
        results.get("startup"), dict) else []
    statuses += [g["status"] for ff in first for g in (ff.get("goals") or {}).values()]
    counts = {k: statuses.count(k) for k in sorted(set(statuses))}
    lines += ["", "Targets in this run (the report's 'Speed targets' table): "
              + ", ".join(f"{n} {k}" for k, n in counts.items()) + "."]
    return lines


def main(argv=None):
    """``python -m bench.readme_table RESULTS_JSON``: print the README block."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bench.readme_table bench-results/results.json", file=sys.stderr)
        return 2
    with open(argv[0]) as fh:
        print("\n".join(readme_lines(json.load(fh))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
