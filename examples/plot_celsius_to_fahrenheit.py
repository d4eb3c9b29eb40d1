"""One neuron learns Celsius -> Fahrenheit: w and b found by gradient descent.

The article's first neuron is a linear transformation, fahrenheit = w * celsius
+ b, whose parameters we already know: w = 1.8, b = 32.  Here a single fastnet
neuron (``MLPRegressor(hidden_layer_sizes=())``: no hidden layer, one output)
is not told them and learns them from 50 samples of the conversion, one epoch
at a time, by plain gradient descent: the whole data set is one batch, so an
epoch is one step of the weights against the gradient of the error.

The neuron sees *standardized* Celsius, z = (celsius - mean) / std, as gradient
descent should: raw Celsius (-40..100) would make the weight's gradient
thousands of times larger than the bias's, and no single learning rate would
suit both.  Its w and b in degrees are recovered as w_z / std and
b_z - w_z * mean / std.

Run ``python examples/plot_celsius_to_fahrenheit.py OUTDIR``; it writes
``celsius_to_fahrenheit.png`` into OUTDIR.
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from fastnet import LossCurveDisplay, MLPRegressor
from fastnet.datasets import celsius_to_fahrenheit

N_EPOCHS = 50
LEARNING_RATE = 0.2


def train(X, y):
    """Train one neuron epoch by epoch, recording w and b in degrees after each.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 1)
        Celsius.
    y : ndarray of shape (n_samples,)
        Fahrenheit.

    Returns
    -------
    neuron : MLPRegressor
        The trained neuron (on standardized Celsius).
    w, b : ndarray of shape (N_EPOCHS,)
        The neuron's weight and bias in degrees after each epoch.
    mean, std : float
        The standardization of Celsius.
    """
    mean, std = float(X.mean()), float(X.std())
    Z = (X - mean) / std
    neuron = MLPRegressor(
        hidden_layer_sizes=(),       # no hidden layer: one neuron, input -> output
        solver="sgd", momentum=0.0,  # plain gradient descent ...
        batch_size=len(X),           # ... on the whole data set: one step per epoch
        learning_rate_init=LEARNING_RATE,
        alpha=0.0,                   # no L2 penalty: nothing pulls w away from 1.8
        shuffle=False, random_state=0,
    )
    w, b = [], []

    def record():
        wz, bz = neuron.coefs_[0][0, 0], neuron.intercepts_[0][0]
        w.append(wz / std)
        b.append(bz - wz * mean / std)

    # partial_fit trains exactly one epoch per call, so we can watch w and b move.
    for _ in range(N_EPOCHS):
        neuron.partial_fit(Z, y)
        record()
    return neuron, np.array(w), np.array(b), mean, std


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write the PNG into (created)")
    outdir = parser.parse_args(argv).outdir
    outdir.mkdir(parents=True, exist_ok=True)

    X, y = celsius_to_fahrenheit(50)   # X (50, 1) in degrees C, y = 1.8 X + 32 exactly
    neuron, w, b, mean, std = train(X, y)
    print(f"one neuron, {N_EPOCHS} epochs of gradient descent (learning rate {LEARNING_RATE})")
    for epoch in (1, 5, 10, 20, N_EPOCHS):
        # loss_curve_[i] is the loss measured during epoch i+1, before its step.
        print(f"  epoch {epoch:3d}: loss {neuron.loss_curve_[epoch - 1]:9.3g} -> "
              f"w = {w[epoch - 1]:.4f}, b = {b[epoch - 1]:8.4f}")
    print(f"learned: w = {w[-1]:.3f}, b = {b[-1]:.3f}   (the article: w = 1.8, b = 32)")
    print(f"100 C -> {neuron.predict([[(100.0 - mean) / std]])[0]:.2f} F (exactly: 212 F)")

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), layout="constrained")
    fig.suptitle("One neuron learns Celsius → Fahrenheit: fahrenheit = w · celsius + b")
    epochs = np.arange(1, N_EPOCHS + 1)

    ax = axes[0, 0]
    # Hollow markers: the last epoch's line lies exactly on the samples.
    ax.scatter(X[:, 0], y, s=22, facecolors="none", edgecolors="black", zorder=3,
               label="the 50 samples")
    grid = np.linspace(-40, 100, 2)
    shown = (1, 3, 8, N_EPOCHS)
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, len(shown)))
    for epoch, color in zip(shown, colors):
        ax.plot(grid, w[epoch - 1] * grid + b[epoch - 1], color=color,
                label=f"after epoch {epoch}: w = {w[epoch - 1]:.2f}, b = {b[epoch - 1]:.1f}")
    ax.set(xlabel="Celsius (°C)", ylabel="Fahrenheit (°F)",
           title="The neuron's line, epoch by epoch")
    ax.legend(fontsize="small", loc="upper left")

    ax = axes[0, 1]
    disp = LossCurveDisplay.from_estimator(neuron, ax=ax, name="one neuron")
    ax.set_yscale("log")  # the loss falls by a constant factor per epoch: a line on a log scale
    ax.set_title("Loss per epoch (log scale)")
    disp.legend_.set_loc("upper right")

    for ax, values, target, symbol, unit in ((axes[1, 0], w, 1.8, "w", "°F per °C"),
                                             (axes[1, 1], b, 32.0, "b", "°F")):
        ax.axhline(target, color="0.5", linestyle="--",
                   label=f"{symbol} = {target:g} (the formula)")
        ax.plot(epochs, values, marker="o", markersize=3, label=f"learned {symbol}")
        ax.annotate(f"{symbol} = {values[-1]:.3f}", (epochs[-1], values[-1]),
                    xytext=(-10, -28), textcoords="offset points", ha="right",
                    arrowprops=dict(arrowstyle="->", color="0.3"))
        what = "weight" if symbol == "w" else "bias"
        ax.set(xlabel="epoch", ylabel=f"{symbol} ({unit})", title=f"The {what} {symbol}")
        ax.legend(loc="lower right", fontsize="small")

    path = outdir / "celsius_to_fahrenheit.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
