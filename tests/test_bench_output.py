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
