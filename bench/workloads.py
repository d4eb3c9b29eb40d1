"""The benchmark workloads: one spec each, the hyperparameters it implies, its data.

A :class:`Workload` is the single source of truth for a comparison.  Every
library's settings are derived from it here and nowhere else:

* :func:`estimator_params` -- the keyword arguments of scikit-learn's and
  fastnet's ``MLPRegressor`` / ``MLPClassifier`` (the same dict for both);
* :func:`torch_config` -- the equivalent PyTorch training setup.

Training always runs a fixed number of epochs: ``max_iter=epochs``, ``tol=0``,
``n_iter_no_change=epochs + 1`` (the no-improvement counter can never exceed
it) and no early stopping, so every library does the same work.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Workload",
    "Dataset",
    "WORKLOADS",
    "SELECTIONS",
    "DTYPES",
    "get",
    "select",
    "estimator_params",
    "torch_config",
    "layer_units",
    "score_metric",
    "make_data",
]

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Workload:
    """One benchmark problem: data, architecture and training schedule.

    Parameters
    ----------
    name : str
        Short key, e.g. ``"tiny"``.
    task : {'regression', 'classification'}
        Picks ``MLPRegressor`` or ``MLPClassifier`` (and the loss in PyTorch).
    data : {'teacher', 'digits', 'vending'}
        ``teacher``: seeded synthetic regression (a random tanh teacher
        network plus noise) of ``n_samples`` x ``n_features``; ``digits``:
        scikit-learn's ``load_digits`` / 16, the training part of
        ``train_test_split(random_state=0)``; ``vending``: the article's
        vending machine, standardized.
    hidden_layer_sizes : tuple of int
    epochs : int
        Exactly this many passes over the data, for every library.
    n_samples, n_features : int or None
        Size of the ``teacher`` data (ignored by the bundled data sets).
    solver : {'adam', 'sgd'}, default='adam'
    batch_size : int, default=200
    activation : str, default='relu'
    learning_rate_init, alpha, beta_1, beta_2, epsilon, momentum, nesterovs_momentum, shuffle
        scikit-learn's meanings and defaults.
    random_state : int, default=0
        Seeds the initial weights and the shuffles.
    description : str
    cpu_libraries : tuple of str or None, default=None
        The CPU libraries that run it (None: all in the run).  The GPU-sized
        workload keeps only fastnet, the reference of fastnet-cuda's speedup.

    The speed targets of each workload are in :mod:`bench.goals`.
    """

    name: str
    task: str
    data: str
    hidden_layer_sizes: tuple
    epochs: int
    n_samples: int = None
    n_features: int = None
    solver: str = "adam"
    batch_size: int = 200
    activation: str = "relu"
    learning_rate_init: float = 1e-3
    alpha: float = 1e-4
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    momentum: float = 0.9
    nesterovs_momentum: bool = True
    shuffle: bool = True
    random_state: int = 0
    description: str = ""
    cpu_libraries: tuple = None

    def replace(self, **changes):
        """A copy with some fields changed (e.g. fewer epochs for a test)."""
        return dataclasses.replace(self, **changes)


WORKLOADS = {
    w.name: w
    for w in [
        Workload("tiny", "regression", "teacher", (16,), 200, n_samples=1000, n_features=10,
                 description="synthetic 1000x10, hidden (16,), 200 epochs"),
        Workload("small", "regression", "teacher", (100,), 20, n_samples=10000, n_features=20,
                 description="synthetic 10000x20, hidden (100,), 20 epochs"),
        Workload("mid", "regression", "teacher", (64, 64), 10, n_samples=50000, n_features=32,
                 description="synthetic 50000x32, hidden (64, 64), 10 epochs"),
        Workload("medium", "regression", "teacher", (256, 256), 5, n_samples=20000,
                 n_features=100, description="synthetic 20000x100, hidden (256, 256), 5 epochs"),
        Workload("large", "regression", "teacher", (1024, 1024), 2, n_samples=10000,
                 n_features=784, description="synthetic 10000x784, hidden (1024, 1024), 2 epochs"),
        Workload("digits", "classification", "digits", (100,), 200,
                 description="the article's digits: load_digits/16 (1347 training rows), "
                             "hidden (100,), 200 epochs"),
        Workload("vending", "regression", "vending", (8,), 2000, batch_size=50, activation="tanh",
                 learning_rate_init=0.01,
                 description="the article's vending machine (50 days, standardized), hidden (8,) "
                             "tanh, lr 0.01, full batch of 50, 2000 epochs"),
        Workload("large-batch", "regression", "teacher", (256, 256), 2, n_samples=1_000_000,
                 n_features=64, batch_size=4096, cpu_libraries=("fastnet",),
                 description="synthetic 1000000x64, hidden (256, 256), batches of 4096, "
                             "2 epochs (the GPU's workload; on the CPU only fastnet runs it)"),
        Workload("small-sgd", "regression", "teacher", (100,), 20, n_samples=10000, n_features=20,
                 solver="sgd", learning_rate_init=0.01,
                 description="synthetic 10000x20, hidden (100,), 20 epochs, SGD lr 0.01 "
                             "Nesterov momentum 0.9"),
    ]
}

# What each mode of ``python -m bench`` runs: (workloads, dtypes); the ``-cuda`` ones are
# ``--device cuda``'s (sized to finish in about 4 minutes on the lent GPU machine in quick mode).
SELECTIONS = {
    "quick": (("tiny", "small", "vending"), ("float64",)),
    "default": (("tiny", "small", "mid", "medium", "large", "digits", "vending"), DTYPES),
    "full": (tuple(w for w in WORKLOADS if w != "large-batch"), DTYPES),
    "quick-cuda": (("tiny", "small", "large", "large-batch"), ("float32",)),
    "default-cuda": (("tiny", "small", "mid", "medium", "large", "digits", "large-batch"),
                     DTYPES),
    "full-cuda": (tuple(WORKLOADS), DTYPES),
}


def get(name):
    """The workload called ``name`` (``KeyError`` listing the known names otherwise)."""
    try:
        return WORKLOADS[name]
    except KeyError:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}") from None


def select(mode, device="cpu"):
    """``(workloads, dtypes)`` of a mode ('quick', 'default' or 'full') on a device."""
    names, dtypes = SELECTIONS[mode if device == "cpu" else f"{mode}-{device}"]
    return [WORKLOADS[n] for n in names], list(dtypes)


def estimator_params(w):
    """Keyword arguments for scikit-learn's and fastnet's MLP estimators.

    The same dict serves both libraries, so they cannot differ.  Fixed epochs:
    ``tol=0`` and ``n_iter_no_change=epochs + 1`` never stop training early.

    Parameters
    ----------
    w : Workload

    Returns
    -------
    dict
    """
    return dict(
        hidden_layer_sizes=tuple(w.hidden_layer_sizes),
        activation=w.activation,
        solver=w.solver,
        alpha=w.alpha,
        batch_size=w.batch_size,
        learning_rate="constant",
        learning_rate_init=w.learning_rate_init,
        max_iter=w.epochs,
        shuffle=w.shuffle,
        random_state=w.random_state,
        tol=0.0,
        verbose=False,
        warm_start=False,
        momentum=w.momentum,
        nesterovs_momentum=w.nesterovs_momentum,
        early_stopping=False,
        beta_1=w.beta_1,
        beta_2=w.beta_2,
        epsilon=w.epsilon,
        n_iter_no_change=w.epochs + 1,
    )


def layer_units(w, n_features=None, n_outputs=None):
    """Widths of every layer, input first, e.g. ``[10, 16, 1]``.

    Parameters
    ----------
    w : Workload
    n_features, n_outputs : int, optional
        Taken from the data when it is not synthetic (digits: 64 and 10;
        vending: 2 and 1).

    Returns
    -------
    list of int
    """
    if n_features is None:
        n_features = {"digits": 64, "vending": 2}.get(w.data, w.n_features)
    if n_outputs is None:
        n_outputs = 10 if w.data == "digits" else 1
    return [int(n_features), *map(int, w.hidden_layer_sizes), int(n_outputs)]


def torch_config(w, n_samples, n_features=None, n_outputs=None):
    """The PyTorch training setup equivalent to :func:`estimator_params`.

    scikit-learn's loss per mini-batch is the data loss plus
    ``0.5 * alpha * sum(W**2) / batch_len`` over the weights (not the biases),
    i.e. an L2 gradient ``alpha / batch_len * W``: in PyTorch that is
    ``weight_decay = alpha / batch_len`` on a parameter group of the weights
    only (Adam's and SGD's ``weight_decay`` add ``wd * p`` to the gradient),
    updated when a batch is shorter.  Squared error is
    ``0.5 * sum((out - y)**2) / batch_len`` (scikit-learn's gradient
    convention), classification uses softmax cross-entropy (mean over the batch).

    Parameters
    ----------
    w : Workload
    n_samples : int
        Rows of the training data (the last batch may be shorter).
    n_features, n_outputs : int, optional
        See :func:`layer_units`.

    Returns
    -------
    dict
        ``layer_units``, ``activation``, ``loss``, ``optimizer``, ``lr``,
        ``betas``, ``eps`` (adam) or ``momentum``, ``nesterov`` (sgd),
        ``alpha``, ``weight_decay_per_batch`` (batch length -> weight decay, for
        the full and the last batch), ``batch_size``, ``epochs``, ``shuffle``,
        ``seed``, ``init``.
    """
    batch = int(np.clip(w.batch_size, 1, n_samples))
    lengths = {batch}
    if n_samples % batch:
        lengths.add(n_samples % batch)
    cfg = dict(
        layer_units=layer_units(w, n_features, n_outputs),
        activation=w.activation,
        loss="cross_entropy" if w.task == "classification" else "half_squared_error",
        optimizer=w.solver,
        lr=w.learning_rate_init,
        alpha=w.alpha,
        weight_decay_per_batch={n: w.alpha / n for n in sorted(lengths)},
        batch_size=batch,
        epochs=w.epochs,
        shuffle=w.shuffle,
        seed=w.random_state,
        # scikit-learn's Glorot-uniform draw, so every library starts from the same weights.
        init="sklearn_glorot_uniform",
    )
    if w.solver == "adam":
        cfg.update(betas=(w.beta_1, w.beta_2), eps=w.epsilon)
    else:
        cfg.update(momentum=w.momentum, nesterov=w.nesterovs_momentum)
    return cfg


def score_metric(w):
    """What a runner's ``score()`` measures on this workload, in words.

    Held-out rows where the data has them; the vending machine's 50 days are
    all training rows, so its score is on them.
    """
    held_out = w.data != "vending"
    metric = "accuracy" if w.task == "classification" else "R²"
    return (f"held-out {metric}" if held_out else
            f"training {metric} (no held-out rows: the training rows)")


@dataclass
class Dataset:
    """The arrays of one workload in one dtype.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs, C-contiguous, in ``dtype``.
    y : ndarray of shape (n_samples,)
        Targets: ``dtype`` floats (regression) or int class labels.
    X_test, y_test : ndarray
        Held-out rows for the score (the vending machine has none: its
        training rows are used).
    X_predict : ndarray of shape (10000, n_features)
        Rows for the predict benchmark.
    dtype : str
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_predict: np.ndarray
    dtype: str

    @property
    def nbytes(self):
        """Bytes of the training data (X and y)."""
        return int(self.X.nbytes + self.y.nbytes)


_CACHE = {}
N_PREDICT = 10000
N_TEST = 2000


def teacher_regression(n_samples, n_features, n_extra=0, random_state=0, n_hidden=32,
                       noise=0.1):
    """Seeded synthetic regression: a random one-hidden-layer tanh teacher plus noise.

    Parameters
    ----------
    n_samples, n_features : int
    n_extra : int, default=0
        Further rows from the same distribution (drawn after the first ones).
    random_state : int, default=0
    n_hidden : int, default=32
        Width of the teacher's hidden layer.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise on the targets.

    Returns
    -------
    X : ndarray of shape (n_samples + n_extra, n_features), float64
    y : ndarray of shape (n_samples + n_extra,), float64
    """
    rng = np.random.default_rng(random_state)
    w1 = rng.standard_normal((n_features, n_hidden)) / np.sqrt(n_features)
    b1 = 0.1 * rng.standard_normal(n_hidden)
    w2 = rng.standard_normal(n_hidden) / np.sqrt(n_hidden)
    n = n_samples + n_extra
    X = rng.standard_normal((n, n_features))
    y = np.tanh(X @ w1 + b1) @ w2 + noise * rng.standard_normal(n)
    return X, y


def _float64_data(w):
    """(X, y, X_test, y_test, X_predict) in float64, cached per data definition."""
    key = (w.data, w.n_samples, w.n_features, w.random_state)
    if key in _CACHE:
        return _CACHE[key]
    rng = np.random.RandomState(w.random_state)
    if w.data == "teacher":
        X, y = teacher_regression(w.n_samples, w.n_features, N_TEST + N_PREDICT, w.random_state)
        n = w.n_samples
        arrays = (X[:n], y[:n], X[n:n + N_TEST], y[n:n + N_TEST], X[n + N_TEST:])
    elif w.data == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0)
        X_predict = X_test[rng.randint(0, len(X_test), N_PREDICT)]
        arrays = (X_train, y_train, X_test, y_test, X_predict)
    elif w.data == "vending":
        from fastnet.datasets import load_vending_machine

        X, y = load_vending_machine(return_X_y=True)
        X = (X - X.mean(0)) / X.std(0)
        arrays = (X, y, X, y, X[rng.randint(0, len(X), N_PREDICT)])
    else:
        raise ValueError(f"unknown data {w.data!r}")
    arrays = tuple(np.ascontiguousarray(a) for a in arrays)
    _CACHE[key] = arrays
    return arrays


def make_data(w, dtype="float64"):
    """The workload's data in ``dtype`` (inputs and regression targets both cast).

    Parameters
    ----------
    w : Workload
    dtype : {'float64', 'float32'}

    Returns
    -------
    Dataset
    """
    dt = np.dtype(dtype)
    X, y, X_test, y_test, X_predict = _float64_data(w)
    if w.task == "regression":
        y, y_test = y.astype(dt), y_test.astype(dt)
    return Dataset(X.astype(dt), y, X_test.astype(dt), y_test, X_predict.astype(dt), dt.name)
