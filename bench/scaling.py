"""How fit time grows: with the number of samples, and with the hidden layer's width.

Two sweeps around one base problem (synthetic regression, 20 features, Adam,
batches of 200, a fixed number of epochs, float64):

* samples: hidden (100,), ``n_samples`` from :data:`SAMPLE_SIZES`;
* width: ``n_samples`` fixed, one hidden layer of each width in :data:`WIDTHS`.

Each point is an ordinary :class:`bench.workloads.Workload` timed by
:func:`bench.compare.run_workload` (warm-up outside the timed region, median
of the repeats), for fastnet and scikit-learn.  Linear growth in ``n`` is
expected for both; what the sweep shows is where fastnet's fixed costs stop
mattering (small n, narrow layers: overhead-bound) and where both become
matrix-product-bound (wide layers), i.e. where the speedup comes from.
"""

from . import compare
from . import workloads as _wl

__all__ = ["SAMPLE_SIZES", "WIDTHS", "LIBRARIES", "sweep_workloads", "run_scaling"]

# Per mode of ``python -m bench``: the points of each sweep and the base epochs.
SAMPLE_SIZES = {"quick": (500, 2000), "default": (1000, 3000, 10000, 30000),
                "full": (1000, 3000, 10000, 30000, 100000)}
WIDTHS = {"quick": (16, 128), "default": (16, 64, 256, 1024),
          "full": (16, 64, 256, 1024, 2048)}
WIDTH_SWEEP_SAMPLES = {"quick": 1000, "default": 5000, "full": 5000}
EPOCHS = {"quick": 2, "default": 5, "full": 5}
LIBRARIES = ("fastnet", "sklearn")

_BASE = _wl.Workload("scaling", "regression", "teacher", (100,), 5, n_samples=1000,
                     n_features=20, description="scaling sweep base: synthetic, 20 features")


def sweep_workloads(mode, epochs=None):
    """The workloads of both sweeps for a mode.

    Parameters
    ----------
    mode : {'quick', 'default', 'full'}
    epochs : int, optional
        Instead of the mode's :data:`EPOCHS`.

    Returns
    -------
    dict
        ``{"samples": [(n, Workload), ...], "width": [(width, Workload), ...]}``.
    """
    base = _BASE.replace(epochs=epochs or EPOCHS[mode])
    return {
        "samples": [(n, base.replace(name=f"n={n}", n_samples=n))
                    for n in SAMPLE_SIZES[mode]],
        "width": [(h, base.replace(name=f"width={h}", hidden_layer_sizes=(h,),
                                   n_samples=WIDTH_SWEEP_SAMPLES[mode]))
                  for h in WIDTHS[mode]],
    }


def run_scaling(mode, libraries, repeats, dtype="float64", log=None, epochs=None):
    """Time every point of both sweeps.

    Parameters
    ----------
    mode : {'quick', 'default', 'full'}
    libraries : sequence of str
        Those of :data:`LIBRARIES` that are in the run are timed.
    repeats : int
        Timed fits per point and library (the median is reported).
    dtype : str, default='float64'
    log : callable, optional
    epochs : int, optional
        Overrides the mode's epochs (``python -m bench --epochs``).

    Returns
    -------
    dict
        ``{"dtype": ..., "epochs": ..., "width_sweep_samples": ...,
        "samples": [...], "width": [...]}`` where each list holds one dict per
        point: ``x`` (n or width), ``layer_units``, ``median_s`` (library ->
        seconds) and ``speedup`` (sklearn time / fastnet time, or None).
    """
    libs = [lib for lib in LIBRARIES if lib in libraries]
    epochs = epochs or EPOCHS[mode]
    out = {"dtype": dtype, "epochs": epochs, "width_sweep_samples": WIDTH_SWEEP_SAMPLES[mode]}
    for sweep, points in sweep_workloads(mode, epochs).items():
        rows = []
        for x, w in points:
            records = compare.run_workload(w, dtype, libs, repeats=repeats, predict=False,
                                           log=log, label=f"scaling {w.name}")
            medians = {r["library"]: r["median_s"] for r in records}
            fast, sk = medians.get("fastnet"), medians.get("sklearn")
            rows.append({"x": x, "layer_units": records[0]["layer_units"], "median_s": medians,
                         "speedup": sk / fast if fast and sk else None})
        out[sweep] = rows
    return out
