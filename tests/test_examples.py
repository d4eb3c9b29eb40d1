"""Every script in examples/ runs, as a user would run it, and shows what it says.

Each example runs in a fresh interpreter on matplotlib's Agg backend, writing
into a temporary folder; the test checks that the pictures are real PNGs of a
sensible size with something drawn on them, that nothing warned, and that the
numbers printed are the ones the article states (its numbers are the oracle:
671.58 / 723.72 / 621.41, the minimum near 0.24, w = 1.8 and b = 32).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")  # matplotlib depends on pillow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _floats(pattern, text):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the output:\n{text}"
    return [float(g) for g in match.groups()]


def check_celsius(out):
    w, b = _floats(r"learned: w = ([\d.]+), b = ([\d.]+)", out)
    assert abs(w - 1.8) < 0.005 and abs(b - 32.0) < 0.01
    assert "100 C -> 212.00 F" in out


def check_vending(out):
    # The article's numbers, to the two decimals it gives.
    assert "MSE at w = 0.50: 671.58" in out
    assert "MSE at w = 0.51: 723.72" in out
    assert "MSE at w = 0.49: 621.41" in out
    assert "at w = 0.5 the neuron predicts 52.5" in out
    (w_min,) = _floats(r"minimum w = ([\d.]+)", out)
    assert w_min == 0.24
    one, two = _floats(r"training MSE: visitors only ([\d.]+), visitors \+ temperature ([\d.]+)",
                       out)
    assert two < 0.5 * one  # the temperature helps, clearly
    # Learning rates: the smallest runs out of epochs, the largest makes the loss grow.
    epochs, first, last = _floats(r"learning rate 0.003: (\d+) epochs, loss ([\d.]+) -> ([\d.e+]+)",
                                  out)
    assert epochs == 300 and last < first
    _, first, last = _floats(r"learning rate 2.1: (\d+) epochs, loss ([\d.]+) -> ([\d.e+]+)", out)
    assert last > first


def check_activations(out):
    assert "tanh     f(0) = 0.00, f'(0) = 1.00" in out
    assert "sigmoid  f(0) = 0.50, f'(0) = 0.25" in out
    (linear,) = _floats(r"one neuron \(no hidden layer\)\s+training MSE ([\d.]+)", out)
    for act in ("tanh", "sigmoid", "ReLU"):
        (mse,) = _floats(rf"16 hidden {act} neurons\s+training MSE ([\d.]+)", out)
        assert mse < 0.05 < linear  # a hidden layer follows the curve, one neuron cannot


def check_digits(out):
    (fast,) = _floats(r"fastnet\s*: test accuracy ([\d.]+)", out)
    (sk,) = _floats(r"scikit-learn: test accuracy ([\d.]+)", out)
    assert fast == sk and fast > 0.95
    assert "same predictions on every test image: True" in out
    (n_wrong,) = _floats(r"misclassified by fastnet: (\d+)", out)
    assert n_wrong == round((1 - fast) * 450)


# script -> (PNGs it must write, extra arguments, check of its output)
CASES = {
    "plot_celsius_to_fahrenheit.py": (["celsius_to_fahrenheit.png"], [], check_celsius),
    "plot_vending_machine.py": (
        ["vending_data.png", "vending_mse.png", "vending_predictions.png",
         "vending_learning_rates.png"], [], check_vending),
    "plot_activations.py": (["activations.png", "activations_fit.png"], [], check_activations),
    # One timed fit per library instead of the best of 3: the test checks the
    # results, not the times (about 1 s saved).
    "plot_digits.py": (["digits_confusion.png", "digits_misclassified.png",
                        "digits_loss_curves.png"], ["--repeats", "1"], check_digits),
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example(script, tmp_path):
    pngs, extra, check = CASES[script]
    outdir = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg",
               # One BLAS thread: on a busy 2-core machine two spinning OpenBLAS
               # threads made a 0.1 s fit take seconds; results are the same.
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    # Run from the temporary folder: nothing may be written beside the scripts.
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), str(outdir), *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    check(proc.stdout)

    assert sorted(p.name for p in outdir.iterdir()) == sorted(pngs)
    for name in pngs:
        path = outdir / name
        assert f"wrote {path}" in proc.stdout
        with Image.open(path) as im:
            assert im.format == "PNG"
            width, height = im.size
            pixels = np.asarray(im.convert("L"), dtype=float)
        assert 600 <= width <= 2000 and 300 <= height <= 1500, (name, im.size)
        # Something is drawn: a good share of the picture is not background.
        assert np.mean(pixels < 250) > 0.02, name
