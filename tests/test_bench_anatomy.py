"""``python -m bench.anatomy`` runs every subcommand and reports what it says it measures.

No timing is asserted.  What is: every subcommand runs on small sizes and prints
its fields with numbers in them; and the one measurement that is a count, not a
time -- the atomic reference-count changes a training batch makes -- is zero for
the batch loop of ``run_epochs`` (``kernels/borrow.py``), where a tiny network's
batch used to make 128 increments (a wrong or missing borrow shows up here).
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `bench` is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))

from bench.anatomy import main as anatomy  # noqa: E402

NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def _run(capsys, *argv):
    assert anatomy(list(argv)) == 0
    return capsys.readouterr().out


def test_refcounts_of_a_training_batch_are_zero():
    # A fresh process: the counting runtime must be built before anything compiles.
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "bench.anatomy", "refcounts", "tiny",
                           "--epochs", "4"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = re.findall(rf"tiny (float64|float32): ({NUMBER}) increments and ({NUMBER}) "
                       rf"decrements a batch \(20 batches\)", proc.stdout)
    assert [dtype for dtype, _, _ in lines] == ["float64", "float32"], proc.stdout
    for _, increments, _ in lines:
        # (Releases happen once per call, outside the batch loop: not counted against it.)
        assert float(increments) == 0.0


def test_refcounts_refuses_a_runtime_already_built():
    from bench.anatomy import _count_refcounts
    from numba.core.runtime import rtsys

    import fastnet  # noqa: F401  (any compiled call builds Numba's runtime)
    from fastnet import MLPRegressor

    MLPRegressor(hidden_layer_sizes=(3,), max_iter=1).fit([[0.0], [1.0]], [0.0, 1.0])
    assert rtsys._init
    with pytest.raises(RuntimeError, match="already built"):
        _count_refcounts()


@pytest.mark.parametrize("what, argv, pattern", [
    ("products", ["tiny", "--rows", "20", "--square", "64", "--dtypes", "float32"],
     rf"float32: fastnet loss_and_grad {NUMBER} us a batch; BLAS alone: forward {NUMBER} us, "
     rf"backward {NUMBER} us; 64\^2 rate {NUMBER} GFLOP/s\n    X@W 20x10x16 {NUMBER} "),
    ("solvers", ["tiny", "--repeats", "1", "--dtypes", "float32"],
     rf"tiny float32: adam {NUMBER} ms \({NUMBER} us a batch\); sgd {NUMBER} ms"),
    ("pause", ["tiny", "--repeats", "1", "--dtypes", "float64"],
     rf"tiny float64: back to back {NUMBER} / {NUMBER} ms; after 0\.15 s {NUMBER} / {NUMBER}"),
    ("align", ["tiny", "--repeats", "1", "--dtypes", "float32"],
     rf"tiny float32, fit ms by the buffers' start past a cache line: 0 bytes {NUMBER} "
     rf"\(min {NUMBER}\); 16 bytes {NUMBER} \(min {NUMBER}\); 32 bytes {NUMBER} \(min {NUMBER}\)"),
    ("predict", ["digits", "--rows", "300", "--dtypes", "float32"],
     rf"digits float32, 300 rows \(chunks of [0-9]+\): fastnet predict {NUMBER} us; "
     rf"scikit-learn predict {NUMBER} us; forward pass {NUMBER} us"),
    ("chunks", ["tiny", "--rows", "700", "--sizes", "512,1024", "--dtypes", "float64"],
     rf"tiny float64, 700 rows \(default chunk [0-9]+\): 512 {NUMBER} ms; 1024 {NUMBER} ms"),
    ("policy", ["tiny", "--repeats", "1", "--rows", "300", "--dtypes", "float32"],
     # The limits printed are the ones the fitted networks' kernels were given.
     rf"tiny float32 \(this CPU's policy: \([0-9]+, [0-9]+, [0-9]+\)\): forward tiles, "
     rf"backward BLAS \(16384, 0, 0\): fit {NUMBER} ms, predict 300 rows {NUMBER} us; all BLAS "
     rf"\(0, 0, 0\): fit {NUMBER} ms, predict 300 rows {NUMBER} us; all tiles "
     rf"\(16384, 16384, 0\): fit {NUMBER} ms, predict 300 rows {NUMBER} us; backward tiles "
     rf"from 32 inputs \(16384, 16384, 32\): fit"),
    ("overhead", ["tiny", "--dtypes", "float64"],
     rf"tiny float64: fit {NUMBER} ms, of it in run_epochs {NUMBER} ms and outside -?{NUMBER} ms "
     rf"\(200 epochs' bookkeeping and the fit's setup\); a fit of 2 rows, 1 epoch: {NUMBER} ms"),
    ("firstfit", ["tiny", "--repeats", "1", "--dtypes", "float32"],
     # A cold process compiles run_epochs (nothing else of fastnet's for a fit).
     rf"tiny float32: cold first fit {NUMBER} s CPU: run_epochs {NUMBER} s \(typing {NUMBER}, "
     rf"lowering {NUMBER}, of it LLVM {NUMBER}\); other dispatchers {NUMBER} s \(.*\); warm "
     rf"first fit {NUMBER} ms CPU"),
    ("passes", ["--rows", "20", "--dtypes", "float64"],
     rf"float64, us: column sums 20x16 {NUMBER}; \(row by row in memory\) {NUMBER}; .*"
     rf"tanh 10000x8, NumPy {NUMBER}; \(vtanh\) {NUMBER}; .*gather 20 rows of 1000x10 and a "
     rf"1-wide target {NUMBER}; output delta 20x1 {NUMBER}; column sum 20x1 {NUMBER}\n"
     rf"shuffle, us: 1000 rows {NUMBER}; 50000 rows {NUMBER}"),
])
def test_subcommand_prints_its_measurements(capsys, what, argv, pattern):
    out = _run(capsys, what, *argv)
    assert re.search(pattern, out), out
