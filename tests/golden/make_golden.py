"""Write the golden model files of the current format version, with their predictions.

Run once per format version; do not regenerate unless the format changes.
The files in ``tests/golden/v<N>/`` are what fastnet of format version ``N``
wrote, and ``tests/test_persistence.py`` checks that every later fastnet
still loads them and predicts what was recorded here.  Rewriting them with a
newer fastnet would test nothing: when the format changes, bump
``FORMAT_VERSION`` and run this script, which writes a new ``v<N+1>/`` beside
the old folders and leaves those alone.

Usage (from the repository root)::

    python tests/golden/make_golden.py            # writes tests/golden/v<FORMAT_VERSION>/
    python tests/golden/make_golden.py --force    # overwrite that folder (same version only)

Each model is small (30 rows, 3 features, hidden (3,), a few iterations:
a couple of KB a file) and covers one solver, estimator and label type, so
that every kind of array member, optimizer entry and output activation of
the format occurs in some file.  ``expected.json`` records the inputs, each
model's training targets, parameters, ``n_iter_``, ``loss_curve_`` and its ``predict`` (and
``predict_proba``) on those inputs, as computed right after the fit.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

import fastnet
from fastnet.persistence import FORMAT_VERSION

HERE = Path(__file__).resolve().parent
COLUMNS = ["visitors", "temperature", "rain"]
SMALL = dict(hidden_layer_sizes=(3,), random_state=0, batch_size=10)


def make_data():
    """X (30, 3) and the targets of every model, from one seeded stream."""
    rng = np.random.RandomState(20240601)
    X = np.round(rng.randn(30, 3), 6)  # short decimals: exact in JSON and easy to read
    y_reg = X @ np.array([1.5, -2.0, 0.5]) + 0.1 * np.round(rng.randn(30), 6)
    return X, {
        "reg": y_reg,
        "poisson": np.round(np.exp(0.5 * X[:, 0]) * 2.0),
        "str3": np.array(["cat", "dog", "emu"])[np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])],
        "binary": (X[:, 0] + X[:, 1] > 0).astype(int),
        "multilabel": np.c_[X[:, 0] > 0, X[:, 1] > 0.3, X[:, 0] + X[:, 2] < 0].astype(int),
    }


# name -> (estimator factory, target key, input dtype, fit on a DataFrame)
MODELS = {
    "reg-adam": (lambda: fastnet.MLPRegressor(**SMALL, max_iter=6, early_stopping=True,
                                              validation_fraction=0.2, n_iter_no_change=3),
                 "reg", "float64", False),
    "reg-sgd": (lambda: fastnet.MLPRegressor(**SMALL, solver="sgd", max_iter=5,
                                             learning_rate="invscaling", learning_rate_init=0.05,
                                             momentum=0.8),
                "reg", "float64", True),
    "reg-lbfgs": (lambda: fastnet.MLPRegressor(**SMALL, solver="lbfgs", max_iter=8,
                                               loss="poisson", activation="tanh"),
                  "poisson", "float64", False),
    "reg-adam-float32": (lambda: fastnet.MLPRegressor(**SMALL, max_iter=5),
                         "reg", "float32", False),
    "clf-adam": (lambda: fastnet.MLPClassifier(**SMALL, max_iter=6, activation="tanh",
                                               learning_rate_init=0.01),
                 "str3", "float64", False),
    "clf-sgd": (lambda: fastnet.MLPClassifier(**SMALL, solver="sgd", max_iter=5,
                                              activation="logistic", learning_rate="adaptive",
                                              learning_rate_init=0.1),
                "binary", "float64", False),
    "clf-lbfgs": (lambda: fastnet.MLPClassifier(**SMALL, solver="lbfgs", max_iter=8),
                  "multilabel", "float64", False),
    # Format 2 (dropout, class_weight, validation_loss_curve_, the masks' seed and step).
    "reg-adam-dropout": (lambda: fastnet.MLPRegressor(**SMALL, max_iter=6, dropout=(0.3,),
                                                      early_stopping=True,
                                                      validation_fraction=0.2,
                                                      n_iter_no_change=3),
                         "reg", "float64", False),
    "clf-adam-class-weight": (lambda: fastnet.MLPClassifier(**SMALL, max_iter=6,
                                                            class_weight={"cat": 2.0, "emu": 0.5},
                                                            dropout=0.2),
                              "str3", "float64", False),
    # Format 3 (device).  Fitted here on the CPU, then given device='cuda' as a model
    # fitted on a GPU has it: the file is the same whatever device trained the weights,
    # and it must load and predict on a machine without CUDA.
    "reg-adam-device-cuda": (lambda: fastnet.MLPRegressor(**SMALL, max_iter=5),
                             "reg", "float32", False),
    "clf-lbfgs-device-cuda": (lambda: fastnet.MLPClassifier(**SMALL, solver="lbfgs",
                                                            max_iter=8),
                              "str3", "float64", True),
}
# Parameters set after the fit, before saving (what the fit itself could not use here).
SET_AFTER_FIT = {"reg-adam-device-cuda": {"device": "cuda"},
                 "clf-lbfgs-device-cuda": {"device": "cuda"}}


def decision_margin(proba):
    """Smallest distance of any decision from a tie: labels may be compared exactly
    only when no row is within rounding of flipping."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] > 2 and np.allclose(proba.sum(axis=1), 1.0):  # softmax
        top2 = np.sort(proba, axis=1)[:, -2:]
        return float(np.min(top2[:, 1] - top2[:, 0]))
    return float(np.min(np.abs(proba - 0.5)))  # binary / multilabel: the 0.5 threshold


def _json_params(est):
    return json.loads(json.dumps(est.get_params(), default=list))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite this version's folder")
    args = parser.parse_args(argv)
    out = HERE / f"v{FORMAT_VERSION}"
    if out.exists() and not args.force:
        sys.exit(f"{out} exists: golden files are written once per format version "
                 "(use --force only to rewrite files of the version being developed)")
    out.mkdir(exist_ok=True)
    X, targets = make_data()
    expected = {
        "written_by": "tests/golden/make_golden.py",
        "fastnet_version": fastnet.__version__,
        "format_version": FORMAT_VERSION,
        "numpy_version": np.__version__,
        "columns": COLUMNS,
        "X": X.tolist(),
        "models": {},
    }
    for name, (factory, target, dtype, as_frame) in MODELS.items():
        Xd = X.astype(dtype)
        if as_frame:
            Xd = pd.DataFrame(Xd, columns=COLUMNS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = factory().fit(Xd, targets[target])
        est.set_params(**SET_AFTER_FIT.get(name, {}))
        path = out / f"{name}.fnet"
        fastnet.save(est, path)
        record = {
            "file": path.name,
            "estimator": type(est).__name__,
            "dtype": dtype,
            "dataframe": as_frame,
            "params": _json_params(est),
            "y": targets[target].tolist(),  # the training targets, to continue training
            "n_iter_": int(est.n_iter_),
            "loss_curve_": [float(v) for v in getattr(est, "loss_curve_", [])],
            "predict": est.predict(Xd).tolist(),
        }
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(Xd)
            record["predict_proba"] = proba.tolist()
            margin = decision_margin(proba)
            if margin < 1e-6:
                sys.exit(f"{name}: a decision is within {margin:.1e} of a tie; change the data")
            record["decision_margin"] = margin
        expected["models"][name] = record
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {out / 'expected.json'}")


if __name__ == "__main__":
    main()
