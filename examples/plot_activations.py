"""tanh, sigmoid and ReLU: the activation functions of hidden layers, and what they buy.

The article stacks neurons into layers and notes one small difference: a hidden
neuron passes its linear transformation through an *activation function*
before handing it on.  Without one, layers of linear neurons are still one
linear function.  This script draws

1. ``activations.png`` -- the three popular activations and their
   derivatives (what backpropagation multiplies by): tanh, the logistic
   sigmoid (fastnet's and scikit-learn's ``activation="logistic"``) and ReLU.
2. ``activations_fit.png`` -- a curve that no single neuron can follow, fitted
   by one neuron and by networks with one hidden layer of 16 tanh, sigmoid or
   ReLU neurons.  tanh and sigmoid networks bend smoothly; a ReLU network is
   piecewise linear, one kink per neuron at most.  (With only 8 neurons, ReLU
   fits depend much on the random start: some neurons end up never active.)

Run ``python examples/plot_activations.py OUTDIR``.
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from fastnet import MLPRegressor

# name in fastnet -> (label, f(z), f'(z)).  The derivatives are written in
# terms of z here; fastnet's kernels compute the same ones from the layer's
# output a = f(z) (tanh: 1 - a^2, logistic: a (1 - a), relu: 1 where a > 0).
ACTIVATIONS = {
    "tanh": ("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "logistic": ("sigmoid", lambda z: 1.0 / (1.0 + np.exp(-z)),
                 lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
    "relu": ("ReLU", lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
}
FORMULAS = {
    "tanh": ("tanh(z)", "1 − tanh²(z)"),
    "logistic": ("σ(z) = 1 / (1 + e⁻ᶻ)", "σ(z) · (1 − σ(z))"),
    "relu": ("max(0, z)", "0 for z < 0, 1 for z > 0"),
}


def plot_functions(path):
    z = np.linspace(-5, 5, 1001)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained", sharey=True)
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    for ax, (name, (label, f, df)) in zip(axes, ACTIVATIONS.items()):
        formula, derivative = FORMULAS[name]
        ax.axhline(0, color="0.8", linewidth=0.8)
        ax.axvline(0, color="0.8", linewidth=0.8)
        ax.plot(z, f(z), color="tab:blue", linewidth=2, label=formula)
        d = df(z)
        if name == "relu":
            d[np.abs(z) < 1e-12] = np.nan  # no vertical line at the jump
        ax.plot(z, d, color="tab:orange", linestyle="--", linewidth=2, label=derivative)
        peak = np.nanargmax(d)
        if name != "relu":
            ax.annotate(f"steepest at 0: slope {d[peak]:.2g}", (z[peak], d[peak]),
                        xytext=(12, 30), textcoords="offset points", fontsize="small",
                        arrowprops=dict(arrowstyle="->", color="0.4"))
        if name == "relu":
            ax.annotate("no upper limit", (1.55, 1.55), xytext=(2.2, 1.3), fontsize="small",
                        va="center", arrowprops=dict(arrowstyle="->", color="0.4"))
        ax.set(title=label, xlabel="z (the neuron's linear output)", ylim=(-1.25, 1.6))
        ax.legend(loc="upper left", fontsize="small")
    axes[0].set_ylabel("activation")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def fit_curve():
    """One neuron and three one-hidden-layer networks on the same wavy curve.

    Returns
    -------
    x : ndarray of shape (80, 1)
    y : ndarray of shape (80,)
    models : dict of str -> MLPRegressor
    """
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-3, 3, 80))[:, None]
    y = np.sin(2 * x[:, 0]) + 0.3 * x[:, 0] + rng.normal(0, 0.08, 80)
    models = {"one neuron (no hidden layer)": MLPRegressor(hidden_layer_sizes=())}
    for name, (label, _, _) in ACTIVATIONS.items():
        models[f"16 hidden {label} neurons"] = MLPRegressor(hidden_layer_sizes=(16,),
                                                             activation=name)
    for model in models.values():
        # L-BFGS: exact full-batch optimization, converged well within max_iter
        model.set_params(solver="lbfgs", alpha=1e-4, max_iter=5000, random_state=1)
        model.fit(x, y)
    return x, y, models


def plot_fits(x, y, models, path):
    grid = np.linspace(-3.2, 3.2, 400)[:, None]
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    ax.scatter(x[:, 0], y, s=14, color="0.2", zorder=3, label="the data")
    styles = ["--", "-", "-", "-"]
    for (name, model), style in zip(models.items(), styles):
        mse = float(np.mean((model.predict(x) - y) ** 2))
        ax.plot(grid[:, 0], model.predict(grid), style, linewidth=2,
                label=f"{name}: MSE {mse:.3f}")
    ax.set(xlabel="x", ylabel="y", title="One neuron draws a line; a hidden layer bends it")
    ax.legend(loc="upper left", fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write the PNGs into (created)")
    outdir = parser.parse_args(argv).outdir
    outdir.mkdir(parents=True, exist_ok=True)

    ranges = {"tanh": "(-1, 1)", "logistic": "(0, 1)", "relu": "[0, inf)"}
    for name, (label, f, df) in ACTIVATIONS.items():
        # ReLU has no derivative at 0; like scikit-learn, fastnet uses 0 there.
        print(f"{label:8s} f(0) = {f(np.array(0.0)):.2f}, f'(0) = {df(np.array(0.0)):.2f}, "
              f"range {ranges[name]}")
    plot_functions(outdir / "activations.png")

    x, y, models = fit_curve()
    for name, model in models.items():
        mse = float(np.mean((model.predict(x) - y) ** 2))
        print(f"{name:30s} training MSE {mse:.4f} ({model.n_iter_} L-BFGS iterations)")
    plot_fits(x, y, models, outdir / "activations_fit.png")
    print(f"wrote {outdir / 'activations.png'}")
    print(f"wrote {outdir / 'activations_fit.png'}")


if __name__ == "__main__":
    main()
