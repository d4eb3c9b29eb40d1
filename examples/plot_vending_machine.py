"""The museum's vending machine: predict bottles sold from visitors and temperature.

The article's second story, replayed on ``fastnet.datasets.load_vending_machine()``
(50 days; **synthetic** data calibrated to reproduce every number the article
states, because the article shows its table only as an image):

1. ``vending_data.png`` -- the data: both the visitors and the temperature
   drive sales.
2. ``vending_mse.png`` -- the mean squared error of the article's bias-free
   neuron, sales = w * visitors, as a function of its single weight: 671.58 at
   the starting weight 0.5, 723.72 at 0.51, 621.41 at 0.49, so the weight
   should go down; stepping it by the learning rate 0.01 while the error
   falls ends at the minimum, w = 0.24.
3. ``vending_predictions.png`` -- fastnet neurons fitted to visitors alone and
   to visitors + temperature: the second input makes the predictions much
   better.
4. ``vending_learning_rates.png`` -- the same neuron trained by gradient
   descent with four learning rates: too small crawls, too large overshoots.

Run ``python examples/plot_vending_machine.py OUTDIR``.
"""

import argparse
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastnet import LossCurveDisplay, MLPRegressor
from fastnet.datasets import load_vending_machine

# The article's learning rate for its step search: the weight moves by 0.01.
STEP = 0.01
LEARNING_RATES = (0.003, 0.03, 0.3, 2.1)


def mse_of_weight(w, visitors, bottles):
    """MSE of the bias-free neuron ``sales = w * visitors``.

    Parameters
    ----------
    w : float or ndarray of shape (n_weights,)
    visitors, bottles : ndarray of shape (n_days,)

    Returns
    -------
    mse : float or ndarray of shape (n_weights,)
    """
    w = np.asarray(w, dtype=float)
    errors = w[..., None] * visitors - bottles
    return np.mean(errors ** 2, axis=-1)


def step_search(visitors, bottles, start=0.5):
    """The article's learning rule: move w by STEP in whichever direction lowers the MSE.

    Stops when neither direction lowers it.  Weights are kept as whole
    multiples of STEP (integers k, w = k * STEP) so that 0.5 - 26 steps is
    0.24 exactly, not 0.24000000000000002.

    Returns
    -------
    path : ndarray of shape (n_steps + 1,)
        The weights visited, from ``start`` to the minimum.
    """
    k = round(start / STEP)
    path = [k]
    while True:
        here, down, up = mse_of_weight(np.array([k, k - 1, k + 1]) * STEP, visitors, bottles)
        if min(down, up) >= here:
            return np.array(path) * STEP
        k = k - 1 if down < up else k + 1
        path.append(k)


def plot_data(X, y, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    fig.suptitle("50 days at the museum's vending machine (synthetic data)")
    points = left.scatter(X[:, 0], y, c=X[:, 1], cmap="coolwarm", s=30, edgecolors="0.3")
    fig.colorbar(points, ax=left, label="temperature (°C)")
    left.annotate(f"day 1: {X[0, 0]:.0f} visitors, {y[0]:.0f} bottles", (X[0, 0], y[0]),
                  xytext=(10, -32), textcoords="offset points",
                  arrowprops=dict(arrowstyle="->", color="0.3"))
    left.set(xlabel="visitors", ylabel="bottles sold", title="More visitors, more bottles ...")
    right.scatter(X[:, 1], y, color="tab:red", s=30, edgecolors="0.3")
    right.set(xlabel="temperature (°C)", ylabel="bottles sold",
              title="... and more on hot days")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_mse(visitors, y, search, path):
    w_min = search[-1]
    grid = np.linspace(0.0, 0.6, 601)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    fig.suptitle("One weight, one error: sales = w · visitors (no bias)")

    left.plot(grid, mse_of_weight(grid, visitors, y), color="tab:blue", label="MSE(w)")
    left.plot(search, mse_of_weight(search, visitors, y), "o", color="tab:orange", markersize=4,
              label=f"the article's steps of {STEP} ({len(search) - 1} steps)")
    left.annotate(f"start: w = {search[0]:.2f}\nMSE = {mse_of_weight(search[0], visitors, y):.2f}",
                  (search[0], mse_of_weight(search[0], visitors, y)), xytext=(15, -5),
                  textcoords="offset points", va="top",
                  arrowprops=dict(arrowstyle="->", color="0.3"))
    left.annotate(f"minimum: w = {w_min:.2f}\nMSE = {mse_of_weight(w_min, visitors, y):.2f}",
                  (w_min, mse_of_weight(w_min, visitors, y)), xytext=(-10, 70),
                  textcoords="offset points", ha="center",
                  arrowprops=dict(arrowstyle="->", color="0.3"))
    left.set(xlabel="weight w", ylabel="mean squared error (bottles²)",
             title="Gradient descent walks down to the minimum")
    left.set_ylim(bottom=-50)
    left.legend(loc="upper left")

    # Zoom on the article's first move: which direction lowers the error?
    zoom = np.linspace(0.485, 0.515, 61)
    right.plot(zoom, mse_of_weight(zoom, visitors, y), color="tab:blue")
    for w, color, note, offset, ha in (
            (0.49, "tab:green", "lower: go this way", (14, -6), "left"),
            (0.50, "black", "the starting weight", (14, -6), "left"),
            (0.51, "tab:red", "higher", (-14, 0), "right")):
        mse = mse_of_weight(w, visitors, y)
        right.plot([w], [mse], "o", color=color, markersize=8)
        right.annotate(f"w = {w:.2f}: MSE {mse:.2f}\n({note})", (w, mse), xytext=offset,
                       textcoords="offset points", ha=ha, va="top", color=color)
    right.set(xlabel="weight w", ylabel="mean squared error (bottles²)",
              title=f"The first step: try w ± {STEP}", xlim=(0.484, 0.516))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_predictions(X, y, w_article, one, two, path):
    visitors = X[:, :1]
    mse_one = float(np.mean((one.predict(visitors) - y) ** 2))
    mse_two = float(np.mean((two.predict(X) - y) ** 2))
    mse_article = float(mse_of_weight(w_article, X[:, 0], y))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    fig.suptitle("Adding the temperature as a second input")

    grid = np.linspace(0, X[:, 0].max() * 1.05, 2)
    left.scatter(X[:, 0], y, color="0.2", s=20, label="observed")
    left.plot(grid, w_article * grid, "--", color="0.5",
              label=f"the article: {w_article:.2f} · visitors (MSE {mse_article:.2f})")
    w, b = one.coefs_[0][0, 0], one.intercepts_[0][0]
    left.plot(grid, one.predict(grid[:, None]), color="tab:blue",
              label=f"fastnet neuron: {w:.3f} · visitors + {b:.2f} (MSE {mse_one:.2f})")
    left.set(xlabel="visitors", ylabel="bottles sold",
             title="Visitors only: a line through the data",
             xlim=(0, grid[-1]), ylim=(0, y.max() * 1.25))
    left.legend(loc="upper left", fontsize="small")

    lo, hi = y.min() - 3, y.max() + 3
    right.plot([lo, hi], [lo, hi], color="0.6", linewidth=1, label="perfect prediction")
    right.scatter(y, one.predict(visitors), s=24, color="tab:blue", alpha=0.8,
                  label=f"visitors only (MSE {mse_one:.2f})")
    right.scatter(y, two.predict(X), s=24, color="tab:red", marker="s", alpha=0.8,
                  label=f"visitors + temperature (MSE {mse_two:.2f})")
    right.set(xlabel="bottles sold (observed)", ylabel="bottles sold (predicted)",
              title="Predicted vs observed, per day", xlim=(lo, hi), ylim=(lo, hi),
              aspect="equal")
    right.legend(loc="upper left", fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return mse_one, mse_two


def plot_learning_rates(X, y, path):
    Z = (X - X.mean(0)) / X.std(0)  # gradient descent wants inputs on one scale
    neurons = []
    with warnings.catch_warnings():
        # The smallest rate is meant to run out of epochs before it gets there:
        # that is the point of the picture, so its "did not converge" warning
        # is expected and silenced here (and nowhere else).
        warnings.simplefilter("ignore", ConvergenceWarning)
        for lr in LEARNING_RATES:
            neurons.append(MLPRegressor(
                hidden_layer_sizes=(), solver="sgd", momentum=0.0, batch_size=len(X),
                learning_rate_init=lr, alpha=0.0, max_iter=300, random_state=0).fit(Z, y))
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    names = []
    for lr, neuron in zip(LEARNING_RATES, neurons):
        verdict = ("too small: still far off after 300 epochs" if neuron.n_iter_ == 300
                   else "too large: overshoots, the loss grows" if
                   neuron.loss_curve_[-1] > neuron.loss_curve_[0]
                   else f"converged in {neuron.n_iter_} epochs")
        names.append(f"learning rate {lr:g} ({verdict})")
    LossCurveDisplay.from_estimator(neurons, name=names, ax=ax)
    ax.set_yscale("log")
    ax.set_title("Visitors + temperature, one neuron, gradient descent: the learning rate")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return neurons


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write the PNGs into (created)")
    outdir = parser.parse_args(argv).outdir
    outdir.mkdir(parents=True, exist_ok=True)

    X, y = load_vending_machine(return_X_y=True)   # X: visitors, temperature; y: bottles
    visitors = X[:, 0]
    print(f"day 1: {visitors[0]:.0f} visitors, {y[0]:.0f} bottles; "
          f"at w = 0.5 the neuron predicts {0.5 * visitors[0]:.1f}")
    for w in (0.5, 0.51, 0.49):
        print(f"MSE at w = {w:.2f}: {mse_of_weight(w, visitors, y):.2f}")
    search = step_search(visitors, y)
    w_lsq = float(visitors @ y / (visitors @ visitors))
    print(f"step search from w = 0.50 by {STEP}: {len(search) - 1} steps down to the minimum "
          f"w = {search[-1]:.2f} (MSE {mse_of_weight(search[-1], visitors, y):.2f}; "
          f"least squares: w = {w_lsq:.4f})")

    # One fastnet neuron per model. Unlike the article's, it also learns a
    # bias; L-BFGS solves these tiny least-squares problems in a few steps.
    kw = dict(hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, random_state=0)
    one = MLPRegressor(**kw).fit(X[:, :1], y)
    two = MLPRegressor(**kw).fit(X, y)
    print(f"fastnet, visitors only:         bottles = {one.coefs_[0][0, 0]:.4f} * visitors "
          f"+ {one.intercepts_[0][0]:.3f}")
    print(f"fastnet, visitors + temperature: bottles = {two.coefs_[0][0, 0]:.4f} * visitors "
          f"+ {two.coefs_[0][1, 0]:.4f} * temperature + {two.intercepts_[0][0]:.3f}")

    plot_data(X, y, outdir / "vending_data.png")
    plot_mse(visitors, y, search, outdir / "vending_mse.png")
    mse_one, mse_two = plot_predictions(X, y, search[-1], one, two,
                                        outdir / "vending_predictions.png")
    print(f"training MSE: visitors only {mse_one:.2f}, visitors + temperature {mse_two:.2f}")
    neurons = plot_learning_rates(X, y, outdir / "vending_learning_rates.png")
    for lr, neuron in zip(LEARNING_RATES, neurons):
        print(f"learning rate {lr:g}: {neuron.n_iter_} epochs, loss {neuron.loss_curve_[0]:.1f} "
              f"-> {neuron.loss_curve_[-1]:.3g}")
    for name in ("vending_data", "vending_mse", "vending_predictions", "vending_learning_rates"):
        print(f"wrote {outdir / (name + '.png')}")


if __name__ == "__main__":
    main()
