"""Handwritten digits: fastnet next to scikit-learn, with the time each took.

The article's example of what one neuron cannot do and a network can:
recognizing handwritten digits.  scikit-learn's ``load_digits`` (1797 images of
8x8 pixels) is split into 75% training and 25% test images; fastnet's and
scikit-learn's ``MLPClassifier`` train the same network (one hidden layer of
100 ReLU neurons, Adam) with the same seed, stopping early when the accuracy
on a held-out 10% of the training images stops improving.  Same seed, same
draws: both learn the same weights, so they make the same predictions -- the
difference is the time.

Writes

1. ``digits_confusion.png`` -- which digit is taken for which, on the test
   images, for both libraries, with the fit times;
2. ``digits_misclassified.png`` -- the test images fastnet gets wrong;
3. ``digits_loss_curves.png`` -- both libraries' training loss and validation
   accuracy per epoch (``fastnet.LossCurveDisplay``): one curve on the other.

Run ``python examples/plot_digits.py OUTDIR``.  Times are the best of
``--repeats`` fits (default 3) in this process, after one warm-up fit that
loads (or, the first time on a machine, compiles) fastnet's kernels; that
first fit's time is printed on its own.
"""

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from fastnet import LossCurveDisplay, MLPClassifier

PARAMS = dict(hidden_layer_sizes=(100,), learning_rate_init=0.01, early_stopping=True,
              random_state=0)


def best_time(make, X, y, repeats):
    """Best-of-``repeats`` fit time in seconds, and the last fitted model."""
    best = np.inf
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best, model


def plot_confusion(results, X_test, y_test, path):
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
    fig.suptitle(f"Handwritten digits: which digit is taken for which ({len(y_test)} test images)")
    for ax, (name, (seconds, model)) in zip(axes, results.items()):
        ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, ax=ax, colorbar=False,
                                              cmap="Blues")
        ax.set_title(f"{name}: accuracy {model.score(X_test, y_test):.4f}, "
                     f"fit {seconds * 1e3:.0f} ms ({model.n_iter_} epochs)")
        ax.set(xlabel="predicted digit", ylabel="true digit")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_misclassified(model, images_test, X_test, y_test, path, n_max=12):
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test)
    wrong = np.flatnonzero(pred != y_test)[:n_max]
    n_cols = 6
    n_rows = max(1, -(-len(wrong) // n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.8 * n_cols, 2.1 * n_rows + 0.5),
                             layout="constrained", squeeze=False)
    fig.suptitle(f"The {np.count_nonzero(pred != y_test)} test digits fastnet gets wrong"
                 + (f" (the first {len(wrong)})" if len(wrong) < np.count_nonzero(pred != y_test)
                    else ""))
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images_test[i], cmap="gray_r", interpolation="nearest")
        ax.set_title(f"true {y_test[i]}, predicted {pred[i]}\n"
                     f"({proba[i, pred[i]]:.0%} sure)", fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return wrong


def plot_loss_curves(fast, sk, path):
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    # fastnet wide and pale underneath, scikit-learn thin on top: where they
    # agree (everywhere) both stay visible.
    LossCurveDisplay.from_estimator(fast, name="fastnet", ax=ax, linewidth=6, alpha=0.4)
    disp = LossCurveDisplay.from_estimator(sk, name="scikit-learn", ax=ax, linewidth=1.5)
    disp.score_ax_.set_ylim(0.0, 1.0)
    ax.set_title("Per epoch, fastnet (wide) under scikit-learn (thin): the same curves")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write the PNGs into (created)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fits per library; the best time counts (default 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.outdir.mkdir(parents=True, exist_ok=True)

    digits = load_digits()
    X = digits.data / 16.0   # pixel intensities 0..16 -> 0..1
    X_train, X_test, y_train, y_test, _, images_test = train_test_split(
        X, digits.target, digits.images, random_state=0)

    start = time.perf_counter()
    MLPClassifier(**PARAMS).fit(X_train, y_train)
    first = time.perf_counter() - start
    results = {
        "fastnet": best_time(lambda: MLPClassifier(**PARAMS), X_train, y_train, args.repeats),
        "scikit-learn": best_time(lambda: SkMLPClassifier(**PARAMS), X_train, y_train,
                                  args.repeats),
    }
    (t_fast, fast), (t_sk, sk) = results["fastnet"], results["scikit-learn"]
    print(f"{len(X_train)} training and {len(X_test)} test images of 8x8 pixels")
    for name, (seconds, model) in results.items():
        print(f"{name:12s}: test accuracy {model.score(X_test, y_test):.4f}, "
              f"{model.n_iter_} epochs, fit {seconds * 1e3:.0f} ms (best of {args.repeats})")
    print(f"scikit-learn took {t_sk / t_fast:.1f}x as long as fastnet; fastnet's first fit in "
          f"this process took {first * 1e3:.0f} ms (loading or compiling its kernels)")
    same = bool(np.array_equal(fast.predict(X_test), sk.predict(X_test)))
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(fast.coefs_, sk.coefs_))
    print(f"same predictions on every test image: {same}; "
          f"largest weight difference {gap:.1e}")

    plot_confusion(results, X_test, y_test, args.outdir / "digits_confusion.png")
    wrong = plot_misclassified(fast, images_test, X_test, y_test,
                               args.outdir / "digits_misclassified.png")
    print(f"misclassified by fastnet: {np.count_nonzero(fast.predict(X_test) != y_test)} "
          f"(shown: {len(wrong)})")
    plot_loss_curves(fast, sk, args.outdir / "digits_loss_curves.png")
    for name in ("digits_confusion", "digits_misclassified", "digits_loss_curves"):
        print(f"wrote {args.outdir / (name + '.png')}")


if __name__ == "__main__":
    main()
