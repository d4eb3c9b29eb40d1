"""The benchmark harness in ``bench/`` measures what it claims to measure.

No timings are asserted.  What is checked: the FLOP counts against hand
computations; that every library in a comparison gets identical
hyperparameters and epochs (sklearn and fastnet from one dict, PyTorch's
setup derived from the same spec, and a PyTorch run that reproduces
scikit-learn's loss when shuffling is off); that fastnet and scikit-learn reach
the same final loss on a tiny workload; and that the quick path of
``python -m bench`` writes a markdown and JSON report with the expected keys.
"""

import json
import pathlib
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `bench` is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))

from bench import flops, goals, report, runners, scaling, startup, workloads  # noqa: E402
from bench.__main__ import main as bench_main  # noqa: E402


def _tiny(**changes):
    """The 'tiny' workload shrunk further: 300 rows (batches of 200 and 100), few epochs."""
    return workloads.get("tiny").replace(n_samples=300, **{"epochs": 5, **changes})


def _torch_or_skip():
    return pytest.importorskip("torch")


def _jax_or_skip():
    # jax and optax are in the 'test' extra: CI runs these; a bare install skips them.
    pytest.importorskip("jax")
    pytest.importorskip("optax")


# ------------------------------------------------------------------ FLOP counting
def test_flops_by_hand():
    # tiny: 10 -> 16 -> 1 is 10*16 + 16*1 = 176 multiply-adds per sample.
    assert flops.weight_terms([10, 16, 1]) == 176
    assert flops.train_flops([10, 16, 1], 1000, 200) == 6 * 1000 * 176 * 200 == 211_200_000
    # large: 784*1024 + 1024*1024 + 1024*1 = 802816 + 1048576 + 1024 = 1852416.
    assert flops.weight_terms([784, 1024, 1024, 1]) == 1_852_416
    assert flops.predict_flops([784, 1024, 1024, 1], 10000) == 37_048_320_000
    assert flops.train_flops([784, 1024, 1024, 1], 10000, 2) == 222_289_920_000
    assert flops.gflops(3e9, 1.5) == pytest.approx(2.0)
    assert flops.gflops(1e9, 0.0) is None
    with pytest.raises(ValueError):
        flops.weight_terms([5])


def test_train_flops_is_the_sum_over_batch_steps():
    # 6 * batch * sum(fan_in * fan_out) per step; 1050 rows in batches of 200 end with 50.
    units = [20, 100, 1]
    batches = [200] * 5 + [50]
    per_step = sum(6 * b * (20 * 100 + 100 * 1) for b in batches)
    assert flops.train_flops(units, 1050) == per_step == 13_230_000


def test_workload_layer_units_match_the_data():
    assert workloads.layer_units(workloads.get("medium")) == [100, 256, 256, 1]
    assert workloads.layer_units(workloads.get("digits")) == [64, 100, 10]
    assert workloads.layer_units(workloads.get("vending")) == [2, 8, 1]
    for name in ("digits", "vending", "tiny"):
        w = workloads.get(name)
        if w.n_samples:
            w = w.replace(n_samples=50)
        d = workloads.make_data(w)
        r = runners.FastnetRunner(w, d)
        assert r.layer_units == workloads.layer_units(w)
        assert d.X_predict.shape == (10000, d.X.shape[1])


@pytest.mark.parametrize("name, shape, hidden, epochs, batch", [
    ("tiny", (1000, 10), (16,), 200, 200), ("small", (10000, 20), (100,), 20, 200),
    ("mid", (50000, 32), (64, 64), 10, 200), ("medium", (20000, 100), (256, 256), 5, 200),
    ("large", (10000, 784), (1024, 1024), 2, 200), ("digits", (None, 64), (100,), 200, 200),
    ("large-batch", (1_000_000, 64), (256, 256), 2, 4096),
])
def test_the_targets_workloads_exist_as_stated(name, shape, hidden, epochs, batch):
    # README's Targets table names these workloads; the bench must run exactly them.
    w = workloads.get(name)
    assert (w.n_samples, workloads.layer_units(w)[0]) == shape
    assert (w.hidden_layer_sizes, w.epochs, w.batch_size, w.solver) == (hidden, epochs, batch,
                                                                          "adam")
    # Each has targets, and the default run measures it (large-batch: with --device cuda).
    assert goals.fit_goals(name, "float64", gpu=True)
    assert name in [x.name for x in workloads.select("default", "cuda")[0]]
    if name != "large-batch":
        assert name in [x.name for x in workloads.select("default")[0]]


# ------------------------------------------------------- identical hyperparameters
@pytest.mark.parametrize("name", list(workloads.WORKLOADS))
def test_sklearn_and_fastnet_get_identical_hyperparameters(name):
    w = workloads.get(name)
    sk = runners.SklearnRunner(w, None).make_estimator()
    fast = runners.FastnetRunner(w, None).make_estimator()
    assert type(sk).__name__ == type(fast).__name__
    sk_params, fast_params = sk.get_params(), fast.get_params()
    assert {k: fast_params[k] for k in sk_params} == sk_params
    # Fixed epochs: the spec's epochs, no tolerance, no early stop.
    assert sk_params["max_iter"] == w.epochs
    assert sk_params["tol"] == 0
    assert sk_params["n_iter_no_change"] > sk_params["max_iter"]
    assert sk_params["early_stopping"] is False
    assert sk_params["hidden_layer_sizes"] == w.hidden_layer_sizes
    assert (sk_params["solver"], sk_params["batch_size"]) == (w.solver, w.batch_size)
    assert sk_params["learning_rate_init"] == w.learning_rate_init


@pytest.mark.parametrize("name", list(workloads.WORKLOADS))
def test_torch_config_is_derived_from_the_same_spec(name):
    w = workloads.get(name)
    params = workloads.estimator_params(w)
    cfg = workloads.torch_config(w, n_samples=1050)
    batch = min(w.batch_size, 1050)
    assert cfg["layer_units"] == workloads.layer_units(w)
    assert cfg["activation"] == params["activation"]
    assert cfg["optimizer"] == params["solver"]
    assert cfg["lr"] == params["learning_rate_init"]
    assert (cfg["batch_size"], cfg["epochs"], cfg["shuffle"]) == (
        batch, params["max_iter"], params["shuffle"])
    # scikit-learn's 0.5 * alpha * ||W||^2 / batch_len: weight decay alpha / batch_len.
    expected_wd = {batch: params["alpha"] / batch}
    if 1050 % batch:
        expected_wd[1050 % batch] = params["alpha"] / (1050 % batch)
    assert cfg["weight_decay_per_batch"] == pytest.approx(expected_wd)
    if w.solver == "adam":
        assert cfg["betas"] == (params["beta_1"], params["beta_2"])
        assert cfg["eps"] == params["epsilon"]
    else:
        assert (cfg["momentum"], cfg["nesterov"]) == (params["momentum"],
                                                      params["nesterovs_momentum"])


def test_torch_module_and_optimizer_follow_the_config():
    torch = _torch_or_skip()
    from fastnet import Network

    w = _tiny()
    r = runners.TorchRunner(w, workloads.make_data(w))
    r.prepare()
    linears = [m for m in r.model if isinstance(m, torch.nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(10, 16), (16, 1)]
    assert [type(m).__name__ for m in r.model] == ["Linear", "ReLU", "Linear"]
    weights, biases = r.optimizer.param_groups
    assert [p is lin.weight for p, lin in zip(weights["params"], linears)] == [True, True]
    assert weights["weight_decay"] == pytest.approx(w.alpha / 200)
    assert biases["weight_decay"] == 0.0
    assert weights["lr"] == w.learning_rate_init
    assert weights["betas"] == (w.beta_1, w.beta_2) and weights["eps"] == w.epsilon
    # The same starting point as scikit-learn (fastnet's Network draws it identically).
    net = Network([10, 16, 1], activation="relu", random_state=w.random_state)
    for lin, coef, intercept in zip(linears, net.params.coefs, net.params.intercepts):
        # Copies of the same float64 draws: equal exactly, on every CPU.
        np.testing.assert_array_equal(lin.weight.detach().numpy().T, coef)
        np.testing.assert_array_equal(lin.bias.detach().numpy(), intercept)


@pytest.mark.parametrize("library", runners.CPU_LIBRARIES)
def test_every_library_runs_exactly_the_workloads_epochs(library):
    if library == "torch":
        _torch_or_skip()
    if library == "jax":
        _jax_or_skip()
    w = _tiny(epochs=3)
    r = runners.RUNNERS[library](w, workloads.make_data(w))
    r.prepare()
    r.fit()
    assert r.n_iter == 3
    assert np.isfinite(r.loss)


# ---------------------------------------------------------------------- fidelity
def test_fastnet_and_sklearn_reach_the_same_loss_on_tiny():
    w = _tiny()
    data = workloads.make_data(w, "float64")
    fast, sk = runners.FastnetRunner(w, data), runners.SklearnRunner(w, data)
    for r in (fast, sk):
        r.prepare()
        r.fit()
    assert fast.loss == pytest.approx(sk.loss, rel=1e-9)
    assert fast.loss != pytest.approx(float(np.mean(data.y ** 2)) / 2, rel=1e-3)  # it trained
    assert_allclose(fast.predict(data.X_test), sk.predict(data.X_test), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("library, solver, lr, rtol", [
    ("torch", "adam", 1e-3, 1e-6), ("torch", "sgd", 1e-2, 1e-9),
    ("jax", "adam", 1e-3, 1e-6), ("jax", "sgd", 1e-2, 1e-12),
])
def test_peer_reproduces_sklearn_loss_without_shuffling(library, solver, lr, rtol):
    # Same initial weights, same batches (200 then 100: the L2 term follows the batch length),
    # same optimizer settings => the same loss.  Measured: Adam 4e-9 apart for both peers (torch
    # and optax add eps after the bias correction, scikit-learn before it); SGD equal for torch,
    # 2e-16 for JAX.  Leaving the L2 term out moves the loss by 8e-6 of itself, weight decay
    # alpha instead of alpha / batch_len by 2e-3: both outside these tolerances.
    if library == "torch":
        _torch_or_skip()
    else:
        _jax_or_skip()
    w = _tiny(shuffle=False, solver=solver, learning_rate_init=lr)
    data = workloads.make_data(w, "float64")
    sk, peer = runners.SklearnRunner(w, data), runners.RUNNERS[library](w, data)
    for r in (sk, peer):
        r.prepare()
        r.fit()
    assert peer.n_iter == sk.n_iter == 5
    assert peer.loss == pytest.approx(sk.loss, rel=rtol)
    if library == "jax" and solver == "sgd":  # the same arithmetic, up to the order of sums
        assert_allclose(peer.predict(data.X_test), sk.predict(data.X_test), rtol=1e-9,
                        atol=1e-12)


# ------------------------------------------------------------------------ JAX
def test_jax_classification_matches_sklearn_loss():
    # Softmax cross-entropy over digits' 10 classes, 1347 rows (batches of 200, the last 147).
    # Measured 1.4e-5 apart: Adam's eps placement matters more here, where constant pixels give
    # gradients near eps.  Summing instead of averaging the batch, or a label misencoded, is off
    # by far more than 1e-4.
    _jax_or_skip()
    w = workloads.get("digits").replace(epochs=2, shuffle=False)
    data = workloads.make_data(w)
    sk, jx = runners.SklearnRunner(w, data), runners.JaxRunner(w, data)
    for r in (sk, jx):
        r.prepare()
        r.fit()
    assert jx.loss == pytest.approx(sk.loss, rel=1e-4)
    assert set(np.unique(jx.predict(data.X_test))) <= set(range(10))
    assert jx.score() == pytest.approx(sk.score(), abs=2 / len(data.y_test))


def test_jax_float32_stays_float32():
    # jax_enable_x64 is on (for the float64 runs): the float32 program must still compute in
    # float32.  Only optax's scalar bias corrections (1 - beta**t) are f64 scalars ("f64[]");
    # no f64 array may appear.
    _jax_or_skip()
    import re

    w = _tiny()
    jx = runners.JaxRunner(w, workloads.make_data(w, "float32"))
    jx.prepare()
    jx.fit()
    assert all(p.dtype == np.float32 for layer in jx.params for p in layer)
    assert not re.search(r"f64\[\d", jx.compiled_text())
    assert jx.compile_s > 0
    # And its loss is scikit-learn's float64 loss to float32 precision (measured 7e-8 with
    # shuffling off; float32's 1e-4 is the project's float32 agreement, tests/_compare.py).
    wf = _tiny(shuffle=False)
    sk = runners.SklearnRunner(wf, workloads.make_data(wf, "float64"))
    j32 = runners.JaxRunner(wf, workloads.make_data(wf, "float32"))
    for r in (sk, j32):
        r.prepare()
        r.fit()
    assert j32.loss == pytest.approx(sk.loss, rel=1e-4)


def test_jax_shuffles_every_epoch_like_the_others():
    # With shuffling the losses differ from scikit-learn's by the permutation only: close (the
    # report's 10% sanity band), but not equal (a runner that ignored `shuffle` would be).
    _jax_or_skip()
    w = _tiny()
    data = workloads.make_data(w)
    sk, jx = runners.SklearnRunner(w, data), runners.JaxRunner(w, data)
    for r in (sk, jx):
        r.prepare()
        r.fit()
    assert jx.loss == pytest.approx(sk.loss, rel=0.1)
    assert jx.loss != pytest.approx(sk.loss, rel=1e-6)


# --------------------------------------------------------------------- the report
def test_quick_path_writes_markdown_and_json(tmp_path, monkeypatch):
    # torch reported as not importable: the run must still work, its rows absent, with a note.
    monkeypatch.setattr(runners.TorchRunner, "available",
                        classmethod(lambda cls: (False, "torch not importable (simulated)")))
    out = tmp_path / "report"
    argv = ["--quick", "--out", str(out), "--workloads", "tiny", "--libraries",
            "fastnet,sklearn,torch", "--repeats", "1", "--epochs", "3", "--peak-size", "128",
            "--no-startup", "--no-memory", "--quiet"]
    assert bench_main(argv) == 0
    md = (out / "results.md").read_text()
    data = json.loads((out / "results.json").read_text())

    assert tuple(data) == report.JSON_KEYS
    assert data["meta"]["mode"] == "quick"
    env = data["environment"]
    for key in ("cpu_model", "logical_cpus", "threads_used", "OPENBLAS_CORETYPE", "blas"):
        assert key in env
    for lib in ("python", "numpy", "numba", "scikit-learn", "scipy"):
        assert lib in env["versions"]
    assert any(p["internal_api"] and "num_threads" in p and "architecture" in p
               for p in env["blas"])
    assert set(data["peak"]) == {"float64"} and data["peak"]["float64"]["gflops"] > 0

    fit = [r for r in data["comparisons"] if r["op"] == "fit"]
    assert len(fit) == 1
    row = fit[0]
    assert (row["workload"], row["dtype"]) == ("tiny", "float64")
    assert set(row["median_s"]) == {"fastnet", "sklearn"}
    assert set(row["speedup"]) == {"sklearn"}
    assert row["loss"]["fastnet"] == pytest.approx(row["loss"]["sklearn"], rel=1e-9)
    expected_flops = flops.train_flops([10, 16, 1], 1000, 3)
    fast_fit = next(m for m in data["measurements"]
                    if m["op"] == "fit" and m["library"] == "fastnet")
    assert fast_fit["flops"] == expected_flops and fast_fit["n_iter"] == 3
    assert row["gflops"] == pytest.approx(expected_flops / row["median_s"]["fastnet"] / 1e9)
    peak = data["peak"]["float64"]["gflops"]
    assert row["fraction_of_peak"] == pytest.approx(row["gflops"] / peak)
    assert {r["rows"] for r in data["comparisons"] if r["op"] == "predict"} == {1, 10000}
    assert data["startup"] == {"skipped": "--no-startup"}
    assert set(data["libraries"]) == {"fastnet", "sklearn"}
    assert any(n.startswith("torch:") and "absent" in n for n in data["notes"])
    assert "torch" not in {m["library"] for m in data["measurements"]}

    # The scaling sweeps (quick mode's points, --epochs applies): fastnet and sklearn only.
    sweeps = scaling.sweep_workloads("quick", epochs=3)
    for key, expected_x in (("samples", scaling.SAMPLE_SIZES["quick"]),
                            ("width", scaling.WIDTHS["quick"])):
        rows = data["scaling"][key]
        assert [r["x"] for r in rows] == list(expected_x)
        for r, (x, w) in zip(rows, sweeps[key]):
            assert set(r["median_s"]) == {"fastnet", "sklearn"}
            assert all(t > 0 for t in r["median_s"].values())
            med = r["median_s"]
            assert r["speedup"] == pytest.approx(med["sklearn"] / med["fastnet"])
            assert w.epochs == 3
            if key == "samples":
                assert w.n_samples == x and r["layer_units"] == [20, 100, 1]
            else:
                assert r["layer_units"] == [20, x, 1]
    assert data["scaling"]["epochs"] == 3

    for heading in ("## Fit", "## Predict", "## Startup", "## Peak memory", "## How fit time grows",
                    "## Environment"):
        assert heading in md
    assert "OPENBLAS_CORETYPE" in md and "tiny" in md
    for name in ("speedup.png", "scaling.png"):
        assert (out / name).exists() or any("matplotlib" in n for n in data["notes"])


def test_memory_growth_counts_the_fits_new_pages():
    # Before malloc_trim the warm-up's freed pages were reused unseen and 'peak RSS growth'
    # read 0-4 KiB for a fit that allocates ~0.5 MiB of workspaces (tracemalloc's peak).  The
    # pages the fit touches are at least a good part of what it allocates.
    res = startup._child_memory("small", "float64", "fastnet", 1)
    if "malloc_trim" not in res["rss_method"] or "VmHWM" not in res["rss_method"]:
        pytest.skip(f"no glibc malloc_trim or VmHWM reset here: {res['rss_method']}")
    assert res["traced_peak_bytes"] > 256 * 1024
    assert res["rss_growth_bytes"] >= res["traced_peak_bytes"] / 4


def test_memory_child_reports_peak_next_to_data_size():
    res = startup._child_memory("vending", "float64", "fastnet", 1)
    assert res["data_bytes"] == 50 * 2 * 8 + 50 * 8
    assert res["traced_peak_bytes"] > 0
    assert res["rss_peak_bytes"] >= res["rss_before_bytes"] - 1024 * 1024
    assert res["rss_growth_bytes"] >= 0


def test_first_fit_targets_are_judged_on_cpu_seconds():
    # Cold: 2.5 s of CPU (met, ≤3 s) though 9 s of wall on a loaded machine; warm: 0.5 s of
    # CPU (not met, ≤0.3 s) though 0.2 s of wall.  A child that failed is 'not measured'.
    cold = {"first_fit_s": 9.0, "first_fit_cpu_s": 2.5}
    warm = {"first_fit_s": 0.2, "first_fit_cpu_s": 0.5}
    res = startup.first_fit_goals(cold, warm)
    assert (res["cold"]["status"], res["warm"]["status"]) == ("met", "not met")
    assert res["cold"]["measured"] == 2.5 and "9.00 s wall" in res["cold"]["measured_text"]
    assert res["warm"]["text"] == "≤0.3 s beyond the imports (CPU time)"
    failed = startup.first_fit_goals({"error": "boom"}, warm)
    assert failed["cold"]["status"] == "not measured"


def test_import_time_is_measured_in_a_fresh_process():
    res = startup.run_child(["import"])
    assert "error" not in res, res
    assert res["total_s"] == pytest.approx(res["dependencies_s"] + res["fastnet_s"])
    assert res["fastnet_s"] > 0


_PIN_PROBE = """
import os, sys, json
sys.path.insert(0, sys.argv[1])
from bench import threads
before = sorted(os.sched_getaffinity(0))
pinned = threads.pin_cpus(1)
print(json.dumps({"before": before, "pinned": pinned,
                  "after": sorted(os.sched_getaffinity(0))}))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"),
                    reason="no CPU affinity on this platform (the bench then pins nothing)")
def test_pin_cpus_restricts_the_process_to_n_cpus():
    """``--threads 1`` pins the bench to one CPU, the only limit XLA's pool obeys; with no
    more CPUs than asked for it changes nothing.  Run in a child: pinning is for life."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", _PIN_PROBE, str(ROOT)], capture_output=True,
                         text=True, check=True).stdout
    got = json.loads(out)
    if len(got["before"]) > 1:
        assert got["pinned"] == got["before"][:1]
        assert got["after"] == got["before"][:1]
    else:
        assert got["pinned"] is None and got["after"] == got["before"]


def test_tiles_table_times_both_paths_of_a_layer():
    """``python -m bench.tiles`` (the measurement behind kernels/small.py's MAX_TERMS):
    a positive time for each path of each product (the half-width tiles from half a tile's
    width), and NaN tiles below that."""
    from bench import tiles
    from fastnet.kernels import small
    half = small.LANES // 2
    rows = tiles.measure([(4, 16), (4, half), (4, half - 1)], ["float64"], rows=9, samples=1,
                         work=1e3)
    wide, half_wide, narrow = rows
    assert (wide["fan_in"], wide["fan_out"]) == (4, 16)
    for key in ("forward_tiles", "forward_blas", "gradient_tiles", "gradient_blas"):
        assert wide[key] > 0 and half_wide[key] > 0
    assert np.isnan(narrow["forward_tiles"]) and narrow["forward_blas"] > 0
