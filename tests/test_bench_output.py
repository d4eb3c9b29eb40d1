"""What ``python -m bench`` tells the person running it, and what its report points at.

No timings are asserted.  Checked: times come in human units with three
significant digits; the run says at the start what it will skip and why
(no torch, no matplotlib) before measuring anything; every measurement gets
a line as it starts and one with its result, each after the elapsed time;
the terminal ends with a short summary (not the report) whose last line
names the report's file; and ``results.md`` names a PNG only when this run
wrote it.
"""

import contextlib
import io
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `bench` is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))

from bench import report, runners  # noqa: E402
from bench.__main__ import main as bench_main  # noqa: E402

ARGV = ["--quick", "--workloads", "tiny", "--libraries", "fastnet,sklearn,torch",
        "--repeats", "2", "--epochs", "3", "--peak-size", "128", "--no-startup", "--no-memory"]
_STAMP = re.compile(r"^\[ *\d+:\d\d\] ")
_TIME = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?) (µs|ms|s)\b")


@pytest.mark.parametrize("seconds, text", [
    (None, "—"), (6.2e-6, "6.20 µs"), (5e-7, "0.500 µs"), (819731.0e-6, "820 ms"),
    (0.0172, "17.2 ms"), (2.3865e-3, "2.39 ms"), (1.0, "1.00 s"), (9.996, "10.0 s"),
    (312.4, "312 s"), (0.99996e-3, "1.00 ms"), (0.9996, "1.00 s"), (-0.5, "-500 ms"),
])
def test_fmt_time_three_significant_digits(seconds, text):
    assert report.fmt_time(seconds) == text


def test_fmt_duration():
    assert report.fmt_duration(48.4) == "48 s"
    assert report.fmt_duration(312) == "5 min 12 s"


def _run(out, matplotlib):
    """Run ``python -m bench`` (small) with torch reported missing; (stderr, stdout) lines."""
    err, stdout = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runners.TorchRunner, "available",
                   classmethod(lambda cls: (False, "torch not importable (simulated)")))
        if not matplotlib:
            mp.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdout):
            assert bench_main(ARGV + ["--out", str(out)]) == 0
    return err.getvalue().splitlines(), stdout.getvalue().splitlines()


@pytest.fixture(scope="module")
def without_matplotlib(tmp_path_factory):
    """One run as on a machine without torch and matplotlib: (out dir, stderr, stdout)."""
    out = tmp_path_factory.mktemp("bench-output") / "report"
    return (out, *_run(out, matplotlib=False))


def test_progress_says_what_it_skips_first_then_each_measurement(without_matplotlib):
    out, err, stdout = without_matplotlib
    assert err and all(_STAMP.match(line) for line in err), err
    err = [_STAMP.sub("", line) for line in err]
    first_measurement = next(i for i, line in enumerate(err) if " fit: " in line)
    head = err[:first_measurement]
    assert any("torch" in line and "skipping" in line for line in head), head
    assert any("matplotlib is not installed" in line and "PNG" in line for line in head), head

    # One line as each measurement starts, one with its result, in that order.
    for start, end in [("tiny float64 fit: fastnet, sklearn;", "tiny float64 fit: median "),
                       ("tiny float64 predict 1 row: fastnet, sklearn",
                        "tiny float64 predict 1 row: median per call fastnet "),
                       ("tiny float64 predict 10000 rows: fastnet, sklearn",
                        "tiny float64 predict 10000 rows: median per call fastnet "),
                       ("scaling n=500 float64 fit: fastnet, sklearn;",
                        "scaling n=500 float64 fit: median ")]:
        i = next(i for i, line in enumerate(err) if line.startswith(start))
        j = next(j for j, line in enumerate(err) if line.startswith(end))
        assert i < j, (start, end)

    # Human units only: no raw microsecond figures, three significant digits everywhere.
    text = "\n".join(err + stdout[1:])  # (stdout[0] has the run's duration: '48 s')
    assert not re.search(r"\d us\b", text)
    for number, _unit in _TIME.findall(text):
        digits = number.replace(".", "").lstrip("0")
        assert len(digits) == 3 or ("." not in number and len(digits) >= 3), number

    # A short summary, not the report; its last line says where the report is.
    assert len(stdout) <= 10, stdout
    assert not any(line.startswith("#") or line.startswith("|") for line in stdout)
    assert any(line.lstrip().startswith("tiny") and "fastnet" in line for line in stdout)
    assert stdout[-1] == f"Report: {out / 'results.md'} (beside it: results.json)"


def test_report_names_no_png_that_was_not_written(without_matplotlib):
    out = without_matplotlib[0]
    md = (out / "results.md").read_text()
    assert not (out / "scaling.png").exists() and not (out / "speedup.png").exists()
    assert not (out / "partial.json").exists()  # written after each workload, gone at the end
    assert "scaling.png" not in md and "speedup.png" not in md
    assert "## How fit time grows" in md and "No plot was written" in md
    assert "matplotlib is not installed" in md  # the note says why


def test_report_names_the_pngs_it_wrote(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    _, stdout = _run(out, matplotlib=True)
    md = (out / "results.md").read_text()
    assert (out / "scaling.png").exists() and (out / "speedup.png").exists()
    assert "Plot: `scaling.png`." in md
    assert stdout[-1] == (f"Report: {out / 'results.md'} "
                          "(beside it: results.json, speedup.png, scaling.png)")


# ------------------------------------------------- goals and the report, from synthetic records
from bench import compare, goals, peaks, workloads  # noqa: E402


def _rates(cpu=None, cublas=None):
    """Rate summaries as bench.peaks makes them, from lists of GFLOP/s samples per dtype."""
    return {which: {dt: dict(peaks.summarize_samples([{"gflops": g} for g in samples]), n=64)
                    for dt, samples in (given or {}).items()}
            for which, given in (("cpu", cpu), ("cublas", cublas))}


def _fit(workload, lib, times, dtype="float32", loss=0.5, units=(10, 16, 1), n=1000, epochs=1):
    from bench import flops

    work = flops.train_flops(units, n, epochs)
    med = sorted(times)[len(times) // 2]
    return dict(workload=workload, dtype=dtype, op="fit", rows=n, library=lib, times_s=times,
                median_s=med, loss=loss, score=0.9, n_iter=epochs, n_samples=n,
                layer_units=list(units), flops=work, gflops=flops.gflops(work, med),
                compile_s=None)


def _row(records, rates=None, gpu=False):
    rows = compare.summarize(records, rates or _rates(), gpu=gpu)
    assert len(rows) == 1
    return rows[0]


def _status(row, text):
    return next(g["status"] for g in row["goals"] if g["text"] == text)


def test_speedup_goal_is_met_not_met_or_borderline_by_its_rounds():
    # tiny: ≥25× sklearn.  Rounds are paired: round i of fastnet with round i of sklearn.
    met = _row([_fit("tiny", "fastnet", [1.0, 1.0, 1.0]), _fit("tiny", "sklearn", [26, 30, 28])])
    assert met["speedup"]["sklearn"] == pytest.approx(28.0)
    assert _status(met, "≥25× sklearn") == "met"
    missed = _row([_fit("tiny", "fastnet", [1.0, 1.0, 1.0]),
                   _fit("tiny", "sklearn", [20, 22, 24])])
    assert _status(missed, "≥25× sklearn") == "not met"
    # The median ratio 26 meets it, but one round measured 20: another run may not.
    border = _row([_fit("tiny", "fastnet", [1.0, 1.0, 1.0]),
                   _fit("tiny", "sklearn", [20, 26, 30])])
    assert _status(border, "≥25× sklearn") == "borderline"
    # JAX absent: its goal is listed, unjudged.
    assert _status(met, "≥5× jax") == "not measured"


def test_rate_goal_uses_the_median_rate_and_its_spread():
    # large, float32: ≥85% of the matmul rate.  fastnet: 6 * 1000 * 176 flops in 1 ms.
    g = 6 * 1000 * 176 / 1e-3 / 1e9  # 1.056 GFLOP/s
    rec = [_fit("large", "fastnet", [1e-3] * 3)]
    steady = _row(rec, _rates(cpu={"float32": [g / 0.9, g / 0.9, g / 0.9]}))
    assert steady["fraction_of_peak"] == pytest.approx(0.9)
    assert _status(steady, "≥85% of the matmul rate") == "met"
    # The same fit against a rate that swung between samples: median 0.9, range 0.8-1.0.
    swung = _row(rec, _rates(cpu={"float32": [g / 0.8, g / 0.9, g / 1.0]}))
    assert swung["fraction_of_peak"] == pytest.approx(0.9)
    assert _status(swung, "≥85% of the matmul rate") == "borderline"
    # Above the measured rate: the rate measurement was disturbed, no verdict.
    above = _row(rec, _rates(cpu={"float32": [g / 1.5] * 3}))
    assert _status(above, "≥85% of the matmul rate") == "invalid"


def test_digits_goal_is_judged_on_the_float64_rate_in_float64_only():
    units, n = (64, 100, 10), 1347
    g = goals.fit_goals("digits", "float32")
    assert g == []
    [goal] = goals.fit_goals("digits", "float64")
    assert goals.goal_text(goal) == "≥60% of the float64 matmul rate"
    rec = [_fit("digits", "fastnet", [0.1] * 3, dtype="float64", units=units, n=n)]
    gf = rec[0]["gflops"]
    row = _row(rec, _rates(cpu={"float64": [gf / 0.5] * 3, "float32": [gf / 0.7] * 3}))
    assert _status(row, "≥60% of the float64 matmul rate") == "not met"


def test_predict_goals_depend_on_the_layer_widths():
    assert goals.predict_goals(10000, (100,)) == [goals.PREDICT_NARROW]
    assert goals.predict_goals(10000, (1024, 1024)) == [goals.PREDICT_WIDE]
    assert goals.predict_goals(1, (16,)) == [goals.PREDICT_ONE_ROW]
    assert goals.goal_text(goals.PREDICT_WIDE) == "≥1× sklearn"


def test_gpu_rows_ratios_and_goals():
    # fastnet-cuda 0.01 s, torch-cuda 0.2 s (20×), fastnet on the CPU 0.5 s (50×).
    rec = [_fit("tiny", "fastnet", [0.5] * 3), _fit("tiny", "fastnet-cuda", [0.01] * 3),
           _fit("tiny", "torch-cuda", [0.2] * 3), _fit("tiny", "sklearn", [5.0] * 3)]
    row = _row(rec, _rates(cpu={"float32": [100.0] * 3}, cublas={"float32": [1e4] * 3}),
               gpu=True)
    assert row["gpu_speedup"] == pytest.approx({"torch-cuda": 20.0, "fastnet": 50.0})
    assert row["speedup"] == pytest.approx({"sklearn": 10.0})
    assert _status(row, "fastnet-cuda ≥10× torch-cuda") == "met"
    assert row["cuda_fraction_of_cublas"] == pytest.approx(row["gflops_by_library"]
                                                           ["fastnet-cuda"] / 1e4)
    # Without --device cuda the GPU goals are not part of the row.
    cpu_only = _row(rec)
    assert not any(g["goal"]["of"] == "fastnet-cuda" for g in cpu_only["goals"])


def _results(rows_records, rates, libraries, device="cpu"):
    names = {r["workload"] for r in rows_records}
    return {
        "meta": {"mode": "quick", "command": "python -m bench (synthetic)", "started": "now",
                 "duration_s": 1.0, "repeats": 3, "threads": 2, "dtypes": ["float32"],
                 "device": device, "load_average_at_end": [0.1, 0.1, 0.1]},
        "environment": {"cpu_model": "test CPU", "versions": {}, "blas": []},
        "libraries": {lib: "0" for lib in libraries},
        "peak": rates["cpu"], "gpu_peak": rates["cublas"],
        "workloads": {n: {"score_metric": workloads.score_metric(workloads.get(n))}
                      for n in names},
        "measurements": rows_records,
        "comparisons": compare.summarize(rows_records, rates, gpu=device == "cuda"),
        "startup": {"skipped": "test"}, "memory": {"skipped": "test"},
        "scaling": {"skipped": "test"}, "notes": [],
    }


def test_markdown_has_a_gpu_table_only_with_gpu_columns():
    rates = _rates(cpu={"float32": [90.0, 100.0, 110.0]}, cublas={"float32": [9e3, 1e4, 1.1e4]})
    rec = [_fit("tiny", "fastnet", [0.5] * 3), _fit("tiny", "fastnet-cuda", [0.01] * 3),
           _fit("tiny", "torch-cuda", [0.2] * 3), _fit("tiny", "jax", [1.0] * 3, loss=0.51)]
    md = report.to_markdown(_results(rec, rates, ["fastnet", "jax", "fastnet-cuda",
                                                  "torch-cuda"], device="cuda"))
    gpu = md[md.index("## GPU fit"):].split("\n\n")[2].splitlines()
    assert gpu[0].startswith("| workload | dtype | fastnet CPU (s) | fastnet-cuda (s) | "
                             "torch-cuda (s) | fastnet-cuda × vs torch-cuda | "
                             "fastnet-cuda × vs fastnet |")
    assert "| tiny | float32 | 0.5000 | 0.0100 | 0.2000 | 20.0× | 50.0× |" in gpu[2]
    assert "fastnet-cuda ≥10× torch-cuda: met" in gpu[2]
    cpu = md[md.index("## Fit"):md.index("## GPU fit")]
    assert "× vs jax" in cpu and "2.0×" in cpu and "torch-cuda" not in cpu
    assert "within 2.0% of fastnet" in cpu  # the losses' sanity column (no sklearn here)
    # The rate table: median, range and spread of the samples.
    assert "| float32 | 64² | 100.0 | 90.0–110.0 | 20% | 3 |" in md
    assert "| float32 | 64² | 10000.0 | 9000.0–11000.0 | 20% | 3 |" in md
    assert "## Speed targets" in md and "| tiny | float32 | fit | ≥5× jax | 2.00×" in md

    cpu_rates = _rates(cpu={"float32": [90.0, 100.0, 110.0]})
    cpu_md = report.to_markdown(_results(rec[:1] + rec[3:], cpu_rates, ["fastnet", "jax"]))
    assert "## GPU fit" not in cpu_md and "cuBLAS" not in cpu_md


def test_loss_check_flags_a_library_that_trains_something_else():
    ok = compare.loss_check({"fastnet": 0.50, "sklearn": 0.50, "jax": 0.52})
    assert ok["reference"] == "sklearn" and ok["outliers"] == []
    bad = compare.loss_check({"fastnet": 0.50, "sklearn": 0.50, "jax": 0.9})
    assert bad["outliers"] == ["jax"]
    rates = _rates(cpu={"float32": [100.0] * 3})
    rec = [_fit("tiny", "fastnet", [1.0] * 3), _fit("tiny", "sklearn", [2.0] * 3),
           _fit("tiny", "jax", [2.0] * 3, loss=0.9)]
    md = report.to_markdown(_results(rec, rates, ["fastnet", "sklearn", "jax"]))
    assert "differs: jax 1.8×" in md


def test_quality_table_says_which_rows_a_score_is_on():
    rec = [_fit("vending", "fastnet", [1.0] * 3, units=(2, 8, 1), n=50),
           _fit("tiny", "fastnet", [1.0] * 3)]
    md = report.to_markdown(_results(rec, _rates(cpu={"float32": [10.0]}), ["fastnet"]))
    quality = md[md.index("## Quality"):md.index("## Startup")]
    assert "| vending | float32 | training R² (no held-out rows: the training rows) |" in quality
    assert "| tiny | float32 | held-out R² |" in quality


def test_readme_states_every_target_the_report_cites():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Measured speed"):readme.index("## Benchmarks")]
    table = section[section.index("### Targets"):]
    for text in goals.all_goal_texts():
        assert text in table, text
    for limit in (goals.FIRST_FIT_COLD_S, goals.FIRST_FIT_WARM_S):
        assert f"≤{limit:g} s" in table
    assert goals.SOURCE == "README.md, Measured speed → Targets"


def test_device_cuda_says_what_is_missing_and_still_reports(tmp_path):
    # On a machine without a GPU (this one, CI) every GPU column is skipped with its reason
    # before anything is measured, and the CPU report is written; where a GPU library does
    # work, it is measured instead.  Either way each GPU library is accounted for.
    from bench import runners as _runners

    out = tmp_path / "report"
    err, stdout = io.StringIO(), io.StringIO()
    argv = ["--device", "cuda", "--quick", "--workloads", "tiny", "--libraries",
            "fastnet," + ",".join(_runners.GPU_LIBRARIES), "--repeats", "1", "--epochs", "2",
            "--peak-size", "64", "--no-startup", "--no-memory", "--no-scaling", "--no-plot",
            "--no-predict", "--out", str(out)]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdout):
        assert bench_main(argv) == 0
    lines = [_STAMP.sub("", line) for line in err.getvalue().splitlines()]
    head = lines[:next(i for i, line in enumerate(lines) if " fit: " in line)]
    import json

    data = json.loads((out / "results.json").read_text())
    md = (out / "results.md").read_text()
    assert data["meta"]["device"] == "cuda"
    for lib in _runners.GPU_LIBRARIES:
        ok, reason = _runners.RUNNERS[lib].available()
        if ok:
            assert lib in data["libraries"]
        else:
            assert f"skipping the {lib} columns: {reason}" in head, head
            assert any(n.startswith(f"{lib}: {reason}") for n in data["notes"])
            assert lib not in data["libraries"]
    backend, reason = peaks.cublas_backend()
    if backend is None:
        assert any(line.startswith("skipping the GPU GEMM rate") for line in head), head
        assert data["gpu_peak"] == {}
    if not any(lib in data["libraries"] for lib in _runners.GPU_LIBRARIES):
        assert "## GPU fit" not in md
    assert "## Fit" in md and "tiny" in md  # the CPU report stands


def test_gpu_unavailable_reasons_name_the_missing_piece():
    from bench import runners as _runners

    for lib, words in (("torch-cuda", ("CPU build", "no CUDA", "not importable")),
                       ("jax-cuda", ("no gpu device", "not importable")),
                       ("fastnet-cuda", ("numba-cuda", "CUDA driver", "device parameter",
                                         "device='cuda'"))):
        ok, reason = _runners.RUNNERS[lib].available()
        if not ok:
            assert any(w in reason for w in words), (lib, reason)


def test_rate_log_keeps_every_sample_and_survives_a_gpu_failure():
    # A 64² product: 2 * 64**3 flops per sample; the summary is over all samples of a dtype.
    log = peaks.RateLog(n=64, gpu_n=64, gpu_backend="torch")
    for i in range(3):
        assert log.sample("float64", after=f"round {i}") > 0
    summary = log.summary()
    cpu = summary["cpu"]["float64"]
    values = sorted(s["gflops"] for s in cpu["samples"])
    assert cpu["n_samples"] == 3 and cpu["median"] == values[1]
    assert (cpu["min"], cpu["max"]) == (values[0], values[2])
    assert [s["after"] for s in cpu["samples"]] == ["round 0", "round 1", "round 2"]
    for s in cpu["samples"]:
        assert s["gflops"] == pytest.approx(2 * 64 ** 3 / s["seconds"] / 1e9)
    if log.gpu_error is None:  # a CUDA torch on a GPU machine: the GPU rate was sampled too
        assert summary["cublas"]["float64"]["n_samples"] == 3
    else:  # no GPU: the GPU rate stops, the CPU rate and the run go on
        assert summary["cublas"] == {}
