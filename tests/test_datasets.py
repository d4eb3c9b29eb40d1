"""Tests for fastnet.datasets: the article's two toy examples.

The vending-machine checks recompute every figure the article quotes with
plain NumPy, so a dataset that does not reproduce the article fails here.
The table ships as ``fastnet/data/vending_machine.csv``, written once by
``tools/make_vending_machine_csv.py``; the loader only reads that file, and
regenerating it with the script must give the same table.
"""

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from fastnet.datasets import celsius_to_fahrenheit, load_vending_machine

REPO = Path(__file__).resolve().parents[1]
CSV_IN_TREE = REPO / "fastnet" / "data" / "vending_machine.csv"

# Figures quoted by the article (two decimals, as printed there).
ARTICLE_MSE = {0.49: 621.41, 0.50: 671.58, 0.51: 723.72}
ARTICLE_BEST_W = 0.24


def _visitors_only_mse(w, visitors, bottles):
    """MSE of the article's bias-free one-input neuron, sales = w * visitors."""
    return float(np.mean((w * visitors - bottles) ** 2))


@pytest.fixture(scope="module")
def vending():
    X, y = load_vending_machine(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def generator():
    """tools/make_vending_machine_csv.py, imported from the repository (not installed)."""
    path = REPO / "tools" / "make_vending_machine_csv.py"
    spec = importlib.util.spec_from_file_location("make_vending_machine_csv", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# celsius_to_fahrenheit
# ---------------------------------------------------------------------------


def test_celsius_shapes_dtypes_and_range():
    X, y = celsius_to_fahrenheit(37, low=-10.0, high=45.0)
    assert X.shape == (37, 1) and y.shape == (37,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.all(X >= -10.0) and np.all(X < 45.0)
    # Uniform draws, not a constant or a grid with repeats.
    assert np.unique(X).size == 37


def test_celsius_default_is_exact_conversion():
    X, y = celsius_to_fahrenheit()
    assert X.shape == (50, 1)
    assert np.all(X >= -40.0) and np.all(X < 100.0)
    np.testing.assert_array_equal(y, 1.8 * X[:, 0] + 32.0)
    # The line through two of the samples passes through the scale's known
    # points (-40 = -40, water freezes at 32 F and boils at 212 F).
    slope = (y[1] - y[0]) / (X[1, 0] - X[0, 0])
    at = y[0] + slope * (np.array([-40.0, 0.0, 100.0]) - X[0, 0])
    np.testing.assert_allclose(at, [-40.0, 32.0, 212.0], rtol=0, atol=1e-9)


def test_celsius_least_squares_recovers_the_neuron():
    X, y = celsius_to_fahrenheit(20, random_state=3)
    A = np.column_stack([X[:, 0], np.ones(len(X))])
    w, b = np.linalg.lstsq(A, y, rcond=None)[0]
    assert w == pytest.approx(1.8, abs=1e-10)
    assert b == pytest.approx(32.0, abs=1e-8)


def test_celsius_is_seeded():
    X1, y1 = celsius_to_fahrenheit(10, random_state=7)
    X2, y2 = celsius_to_fahrenheit(10, random_state=7)
    X3, _ = celsius_to_fahrenheit(10, random_state=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    # Same draws as numpy's seeded generator.
    expected = np.random.default_rng(7).uniform(-40.0, 100.0, size=(10, 1))
    np.testing.assert_array_equal(X1, expected)


def test_celsius_noise_is_seeded_and_leaves_inputs_alone():
    X0, y0 = celsius_to_fahrenheit(200, random_state=1)
    Xa, ya = celsius_to_fahrenheit(200, noise=2.0, random_state=1)
    Xb, yb = celsius_to_fahrenheit(200, noise=2.0, random_state=1)
    _, yc = celsius_to_fahrenheit(200, noise=2.0, random_state=2)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(Xa, X0)  # noise is drawn after the inputs
    assert not np.array_equal(ya, yc)
    residual = ya - (1.8 * Xa[:, 0] + 32.0)
    assert np.all(residual != 0.0)
    assert 1.6 < residual.std() < 2.4


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n_samples": 0}, ValueError),
        ({"n_samples": 2.5}, TypeError),
        ({"low": 5.0, "high": 5.0}, ValueError),
        ({"noise": -1.0}, ValueError),
    ],
)
def test_celsius_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        celsius_to_fahrenheit(**kwargs)


# ---------------------------------------------------------------------------
# load_vending_machine
# ---------------------------------------------------------------------------


def test_vending_shapes_and_dtypes(vending):
    X, y = vending
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (50, 2) and y.shape == (50,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


def test_vending_values_are_plausible(vending):
    X, y = vending
    visitors, temperature = X[:, 0], X[:, 1]
    # Whole visitors and bottles, temperatures with one decimal.
    np.testing.assert_array_equal(visitors, np.round(visitors))
    np.testing.assert_array_equal(y, np.round(y))
    np.testing.assert_allclose(temperature * 10, np.round(temperature * 10), atol=1e-9)
    assert np.all(visitors > 0) and np.all(y >= 0)
    assert np.all(temperature >= 10.0) and np.all(temperature <= 38.0)
    assert np.unique(temperature).size > 30  # weather varies from day to day


def test_vending_day_one_matches_article(vending):
    X, y = vending
    # The article's first prediction, 0.5 * 105 = 52.5, is off by 31.5 bottles.
    assert X[0, 0] == 105.0 and y[0] == 21.0
    # Its second quoted day: 90 visitors, 21 bottles.
    assert X[1, 0] == 90.0 and y[1] == 21.0


@pytest.mark.parametrize("w", sorted(ARTICLE_MSE))
def test_vending_mse_matches_article(vending, w):
    X, y = vending
    mse = _visitors_only_mse(w, X[:, 0], y)
    # Rounded the way the article prints it, the value is the same.
    assert round(mse, 2) == ARTICLE_MSE[w]


def test_vending_mse_parabola(vending):
    # MSE(w) is quadratic in w; the article's three points imply
    # mean(visitors**2) = (MSE(.51) + MSE(.49) - 2 MSE(.50)) / (2 * 0.01**2) ~ 9850.
    X, y = vending
    v = X[:, 0]
    assert np.mean(v * v) == pytest.approx(
        (ARTICLE_MSE[0.51] + ARTICLE_MSE[0.49] - 2 * ARTICLE_MSE[0.50]) / 2e-4, rel=0.01
    )
    # Lowering the weight from 0.5 helps, raising it hurts (the article's step).
    assert _visitors_only_mse(0.49, v, y) < _visitors_only_mse(0.5, v, y)
    assert _visitors_only_mse(0.51, v, y) > _visitors_only_mse(0.5, v, y)


def test_vending_best_weight_matches_article(vending):
    X, y = vending
    v = X[:, 0]
    w_star = float(v @ y / (v @ v))
    assert 0.235 <= w_star <= 0.245
    assert round(w_star, 2) == ARTICLE_BEST_W
    # w* is the minimum: stepping 0.01 either way raises the MSE.
    best = _visitors_only_mse(w_star, v, y)
    assert best < _visitors_only_mse(w_star - 0.01, v, y)
    assert best < _visitors_only_mse(w_star + 0.01, v, y)
    # The residual the article's numbers imply, about 7.4 bottles**2.
    assert 6.5 < best < 8.5


def test_vending_temperature_improves_least_squares(vending):
    X, y = vending
    v = X[:, :1]
    w_v = np.linalg.lstsq(v, y, rcond=None)[0]
    w_vt = np.linalg.lstsq(X, y, rcond=None)[0]  # sales = w0*visitors + w1*temperature
    mse_v = float(np.mean((v @ w_v - y) ** 2))
    mse_vt = float(np.mean((X @ w_vt - y) ** 2))
    assert mse_vt <= 0.7 * mse_v
    # Both inputs push sales up, as the article's charts show.
    assert w_vt[0] > 0 and w_vt[1] > 0
    assert np.corrcoef(X[:, 1], y)[0, 1] > 0.2


def test_vending_is_deterministic():
    a = load_vending_machine()
    b = load_vending_machine()
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.target, b.target)
    # Callers get fresh arrays, not a shared cache.
    a.data[0, 0] = -1.0
    assert load_vending_machine().data[0, 0] == 105.0


def test_vending_bunch(vending):
    bunch = load_vending_machine()
    X, y = vending
    np.testing.assert_array_equal(bunch.data, X)
    np.testing.assert_array_equal(bunch.target, y)
    assert bunch.feature_names == ["visitors", "temperature"]
    assert bunch.target_names == ["bottles"]
    assert bunch.frame is None
    assert bunch["data"] is bunch.data  # dict-like, as sklearn's Bunch
    descr = bunch.DESCR.lower()
    assert "synthetic" in descr
    for number in ("105", "21", "671.58", "723.72", "621.41", "0.24"):
        assert number in bunch.DESCR


def test_vending_as_frame(vending):
    pd = pytest.importorskip("pandas")
    X, y = vending
    bunch = load_vending_machine(as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert isinstance(bunch.target, pd.Series)
    assert list(bunch.data.columns) == ["visitors", "temperature"]
    assert bunch.target.name == "bottles"
    np.testing.assert_array_equal(bunch.data.to_numpy(), X)
    np.testing.assert_array_equal(bunch.target.to_numpy(), y)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert list(bunch.frame.columns) == ["visitors", "temperature", "bottles"]
    assert bunch.frame.shape == (50, 3)

    Xf, yf = load_vending_machine(as_frame=True, return_X_y=True)
    assert isinstance(Xf, pd.DataFrame) and isinstance(yf, pd.Series)
    np.testing.assert_array_equal(Xf.to_numpy(), X)


def test_vending_as_frame_without_pandas(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pandas"):
        load_vending_machine(as_frame=True)
    # Without as_frame, pandas is not needed.
    X, _ = load_vending_machine(return_X_y=True)
    assert X.shape == (50, 2)


def _read_csv_plainly(path):
    """The shipped file through the csv module, independently of the loader."""
    with open(path, newline="", encoding="ascii") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def test_vending_loader_returns_the_shipped_csv(vending):
    X, y = vending
    header, table = _read_csv_plainly(CSV_IN_TREE)
    assert header == ["visitors", "temperature", "bottles"]
    assert table.shape == (50, 3)
    np.testing.assert_array_equal(X, table[:, :2])
    np.testing.assert_array_equal(y, table[:, 2])


def test_vending_loader_only_reads_the_file(tmp_path, monkeypatch):
    """The loader reads fastnet/data/vending_machine.csv through importlib.resources
    and computes nothing: an edited file is what it returns, a damaged one is an error."""
    from importlib import resources

    text = CSV_IN_TREE.read_text(encoding="ascii")
    fake = tmp_path / "data"
    fake.mkdir()
    (fake / "vending_machine.csv").write_text(text.replace("105,10.1,21", "104,10.2,22", 1))
    real_files = resources.files
    monkeypatch.setattr(resources, "files",
                        lambda pkg: tmp_path if pkg == "fastnet" else real_files(pkg))
    X, y = load_vending_machine(return_X_y=True)
    assert X[0].tolist() == [104.0, 10.2] and y[0] == 22.0
    assert X[1].tolist() == [90.0, 19.3] and y[1] == 21.0

    (fake / "vending_machine.csv").write_text(text.replace("visitors", "visits", 1))
    with pytest.raises(OSError, match="vending_machine.csv is damaged"):
        load_vending_machine()
    (fake / "vending_machine.csv").write_text("\n".join(text.splitlines()[:-1]) + "\n")
    with pytest.raises(OSError, match="vending_machine.csv is damaged"):
        load_vending_machine()


def test_vending_csv_regenerates_identically(generator):
    """Re-running tools/make_vending_machine_csv.py gives the shipped table.

    Visitors and bottles are counts: compared exactly (any difference is a
    different table).  Temperatures are one-decimal values: NumPy's
    ``round(x, 1)`` and parsing the CSV's text may in principle land an ulp
    apart (~4e-15 at 38 degrees), while a real change is at least 0.1, so
    they are compared with atol 1e-9.  Should a NumPy release change the
    random stream of ``default_rng``, this fails: the shipped CSV stays the
    dataset; the script then needs a pinned stream, not a new table.
    """
    visitors, temperature, bottles = generator.vending_machine_arrays()
    _, table = _read_csv_plainly(CSV_IN_TREE)
    assert visitors.dtype == bottles.dtype == np.int64
    np.testing.assert_array_equal(visitors, table[:, 0])
    np.testing.assert_array_equal(bottles, table[:, 2])
    np.testing.assert_allclose(temperature, table[:, 1], rtol=0, atol=1e-9)
    # The text the script would write is what ships (so --check agrees).
    assert generator.to_csv(visitors, temperature, bottles) == CSV_IN_TREE.read_text("ascii")
    assert generator.CSV_PATH == CSV_IN_TREE


def test_vending_construction_does_not_rely_on_a_lucky_seed(generator):
    # The shipped table comes from one fixed seed, but the calibration must hit
    # the article's numbers from any seed (so regenerating after a change in
    # NumPy's random streams would still give a valid dataset).
    for seed in (0, 1, 2, 123, 2024):
        v, t, y = generator.vending_machine_arrays(seed)
        assert v[0] == 105 and y[0] == 21
        for w, expected in ARTICLE_MSE.items():
            assert round(float(np.mean((w * v - y) ** 2)), 2) == expected
        assert round(float(v @ y / (v @ v)), 2) == ARTICLE_BEST_W
        assert np.all((t >= 10.0) & (t <= 38.0))


def test_module_imports_no_sklearn_or_numba():
    import subprocess
    import sys

    import fastnet.datasets as mod

    code = (
        "import sys, importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('ds', {mod.__file__!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "bad = [k for k in ('sklearn', 'numba', 'pandas') if k in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
