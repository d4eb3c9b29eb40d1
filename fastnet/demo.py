"""A short tour of the article's examples, fastnet next to scikit-learn.

Run ``python -m fastnet.demo``.  Each model is trained by both libraries with
the same settings and seed; the demo prints what was learned, the fit times
(fastnet's first call, which includes Numba compilation or loading its cache,
is reported on its own) and how far apart the two results are.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import MLPClassifier, MLPRegressor
from .datasets import celsius_to_fahrenheit, load_vending_machine

__all__ = ["main"]


def _timed_fit(make, X, y, repeats=3):
    """Best-of-``repeats`` fit time in seconds, and the last fitted model."""
    best = np.inf
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best, model


def _compare(title, fastnet_cls, sklearn_cls, params, X, y, describe, repeats=3):
    print(f"\n== {title}")
    start = time.perf_counter()
    fastnet_cls(**params).fit(X, y)
    first = time.perf_counter() - start
    t_fast, fast = _timed_fit(lambda: fastnet_cls(**params), X, y, repeats)
    t_sk, sk = _timed_fit(lambda: sklearn_cls(**params), X, y, repeats)
    print(f"   fastnet : {describe(fast)}")
    print(f"   sklearn : {describe(sk)}")
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(fast.coefs_, sk.coefs_))
    print(
        f"   fit time: fastnet {t_fast * 1e3:8.2f} ms, sklearn {t_sk * 1e3:8.2f} ms "
        f"-> {t_sk / t_fast:5.1f}x   "
        f"(fastnet's first fit {first * 1e3:.0f} ms incl. JIT/cache load)"
    )
    print(f"   largest weight difference fastnet vs sklearn: {gap:.1e}")
    return fast, sk


def main():
    """Train the article's three examples with fastnet and scikit-learn, print both."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor

    warnings.simplefilter("ignore", ConvergenceWarning)
    # Say up front why the first fits are slow: a silent pause of seconds on a new machine
    # looks like a hang.
    print("The article's examples, each trained by fastnet and by scikit-learn with the same "
          "settings and seed.\nfastnet's first fit of each kind compiles its kernels (seconds, "
          "once per machine: Numba caches them on disk).", flush=True)

    X, y = celsius_to_fahrenheit(50)
    _compare(
        "1. One neuron: Celsius -> Fahrenheit (hidden_layer_sizes=(), lbfgs)",
        MLPRegressor, SkMLPRegressor,
        dict(hidden_layer_sizes=(), solver="lbfgs", tol=1e-10, random_state=0),
        X, y,
        lambda m: f"w = {m.coefs_[0][0, 0]:.4f}, b = {m.intercepts_[0][0]:.4f} "
                  f"(article: w = 1.8, b = 32); 100 C -> {m.predict([[100.0]])[0]:.2f} F",
    )

    vend = load_vending_machine()
    visitors = vend.data[:, :1]
    mean, std = vend.data.mean(0), vend.data.std(0)
    Xs = (vend.data - mean) / std

    def mse(m, X):
        return float(np.mean((m.predict(X) - vend.target) ** 2))

    _compare(
        "2. The vending machine (synthetic, 50 days): bottles from visitors alone",
        MLPRegressor, SkMLPRegressor,
        dict(hidden_layer_sizes=(), solver="lbfgs", random_state=0),
        visitors, vend.target,
        lambda m: f"bottles = {m.coefs_[0][0, 0]:.3f} * visitors + {m.intercepts_[0][0]:.2f}; "
                  f"MSE {mse(m, visitors):.2f}",
    )
    for activation in ("tanh", "logistic", "relu"):
        _compare(
            f"   ... visitors + temperature (standardized), one hidden layer of 8 {activation}",
            MLPRegressor, SkMLPRegressor,
            dict(hidden_layer_sizes=(8,), activation=activation, solver="adam",
                 learning_rate_init=0.01, max_iter=2000, random_state=0),
            Xs, vend.target,
            lambda m: f"training MSE {mse(m, Xs):.2f} after {m.n_iter_} epochs",
        )

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, random_state=0)
    fast, sk = _compare(
        "3. Handwritten digits (load_digits, 8x8), MLPClassifier(hidden_layer_sizes=(100,))",
        MLPClassifier, SkMLPClassifier,
        dict(hidden_layer_sizes=(100,), random_state=0),
        X_train, y_train,
        lambda m: f"test accuracy {m.score(X_test, y_test):.4f} after {m.n_iter_} epochs",
        repeats=1,
    )


if __name__ == "__main__":
    main()
