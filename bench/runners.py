"""One runner per library: the same workload trained and served by fastnet, scikit-learn, PyTorch,
JAX -- on the CPU, and (``--device cuda``) fastnet, PyTorch and JAX on the GPU.

Every runner has the same small interface, so the comparison code and the
pytest-benchmark suite treat the libraries alike:

``prepare()``
    Untimed: a fresh, untrained model (and, for PyTorch, tensors and optimizer).
``fit()``
    The timed region: training for the workload's fixed number of epochs.
``predict(X)``
    Through the estimator (fastnet, scikit-learn) or the module (PyTorch).
``loss``, ``n_iter``, ``score()``
    Quality after ``fit``: the final epoch's training loss as scikit-learn
    defines it (data loss plus its L2 term), epochs run, and the held-out
    R^2 (regression) or accuracy (classification).
``warm_up()``
    One epoch on a slice of the data plus a predict: compiles fastnet's
    kernels (or loads them from Numba's cache) and starts every library's
    thread pools outside the timed region.

Library keys: ``fastnet``, ``sklearn``, ``torch``, ``jax`` (CPU) and
``fastnet-cuda``, ``torch-cuda``, ``jax-cuda`` (GPU).  A GPU runner's ``fit``
and ``predict`` return only after the device has finished (``torch.cuda.synchronize``,
``numba.cuda.synchronize``, ``block_until_ready``).

Hyperparameters come only from :mod:`bench.workloads`.
"""

import warnings

import numpy as np

from . import workloads as _wl

__all__ = [
    "Runner",
    "FastnetRunner",
    "SklearnRunner",
    "TorchRunner",
    "FastnetCudaRunner",
    "TorchCudaRunner",
    "RUNNERS",
    "LIBRARIES",
    "CPU_LIBRARIES",
    "GPU_LIBRARIES",
    "available",
    "sklearn_init",
]


class Runner:
    """Base class: a workload, its data in one dtype, and a model to train on it.

    Parameters
    ----------
    workload : bench.workloads.Workload
    data : bench.workloads.Dataset
    """

    library = None
    device = "cpu"

    def __init__(self, workload, data):
        self.workload = workload
        self.data = data
        self.model = None

    @classmethod
    def available(cls):
        """``(True, version)`` when the library imports, else ``(False, reason)``."""
        return True, ""

    @property
    def n_outputs(self):
        if self.workload.task == "classification":
            n_classes = len(np.unique(self.data.y))
            return 1 if n_classes == 2 else n_classes
        return 1

    @property
    def layer_units(self):
        """Widths of every layer for this data, input first."""
        return _wl.layer_units(self.workload, self.data.X.shape[1], self.n_outputs)

    def prepare(self):
        raise NotImplementedError

    def fit(self):
        raise NotImplementedError

    def predict(self, X):
        raise NotImplementedError

    def score(self):
        """Held-out R^2 (regression) or accuracy (classification) of the fitted model."""
        pred = self.predict(self.data.X_test)
        if self.workload.task == "classification":
            return float(np.mean(pred == self.data.y_test))
        from sklearn.metrics import r2_score

        return float(r2_score(self.data.y_test, pred))

    def warm_up(self, n_rows=None):
        """Fit one epoch on the first rows and predict, on a throwaway model.

        Parameters
        ----------
        n_rows : int, optional
            Rows to train on; default two batches.
        """
        d = self.data
        n = n_rows or min(len(d.X), 2 * self.workload.batch_size)
        sliced = _wl.Dataset(d.X[:n], d.y[:n], d.X_test[:n], d.y_test[:n], d.X_predict[:n],
                             d.dtype)
        other = type(self)(self.workload.replace(epochs=1), sliced)
        other.prepare()
        other.fit()
        other.predict(d.X_predict[:1])
        other.predict(d.X_predict[:n])


class _EstimatorRunner(Runner):
    """Shared code of the two scikit-learn-style estimators (same kwargs for both)."""

    def _estimator_classes(self):
        """``(regressor_class, classifier_class)``."""
        raise NotImplementedError

    def make_estimator(self):
        """An unfitted estimator with :func:`bench.workloads.estimator_params`."""
        regressor, classifier = self._estimator_classes()
        cls = classifier if self.workload.task == "classification" else regressor
        return cls(**_wl.estimator_params(self.workload))

    def prepare(self):
        self.model = self.make_estimator()

    def fit(self):
        from sklearn.exceptions import ConvergenceWarning

        # Fixed epochs always end at max_iter, which both libraries warn about.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(self.data.X, self.data.y)

    def predict(self, X):
        return self.model.predict(X)

    @property
    def loss(self):
        return float(self.model.loss_)

    @property
    def n_iter(self):
        return int(self.model.n_iter_)


class FastnetRunner(_EstimatorRunner):
    """fastnet's ``MLPRegressor`` / ``MLPClassifier``."""

    library = "fastnet"

    @classmethod
    def available(cls):
        import fastnet

        return True, fastnet.__version__

    def _estimator_classes(self):
        from fastnet import MLPClassifier, MLPRegressor

        return MLPRegressor, MLPClassifier


def _numba_cuda_problem():
    """Why Numba can't reach a GPU here (None when it can)."""
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install \"fastnet[cuda]\")"
    try:
        from numba import cuda

        if not cuda.is_available():
            return ("numba-cuda finds no usable CUDA driver or GPU "
                    "(numba.cuda.is_available() is False)")
    except Exception as exc:  # a broken driver install raises here rather than answering
        return f"numba.cuda not usable ({type(exc).__name__}: {exc})"
    return None


class FastnetCudaRunner(FastnetRunner):
    """fastnet's estimators with ``device="cuda"``; ``fit`` ends with ``cuda.synchronize()``."""

    library = "fastnet-cuda"
    device = "cuda"

    @classmethod
    def available(cls):
        import fastnet

        if "device" not in fastnet.MLPRegressor().get_params():
            return False, "this fastnet's estimators take no device parameter"
        problem = _numba_cuda_problem()
        if problem:
            return False, problem
        try:  # the estimator may still refuse (e.g. no CUDA network in this checkout)
            from sklearn.exceptions import ConvergenceWarning

            X = np.random.default_rng(0).standard_normal((20, 3))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fastnet.MLPRegressor((4,), max_iter=1, device="cuda").fit(X, X[:, 0])
        except Exception as exc:
            return False, f"MLPRegressor(device='cuda') failed a 20-row fit ({exc})"
        return True, fastnet.__version__

    def make_estimator(self):
        return super().make_estimator().set_params(device="cuda")

    def fit(self):
        from numba import cuda

        super().fit()
        cuda.synchronize()

    def predict(self, X):
        from numba import cuda

        out = super().predict(X)
        cuda.synchronize()
        return out


class SklearnRunner(_EstimatorRunner):
    """``sklearn.neural_network.MLPRegressor`` / ``MLPClassifier``."""

    library = "sklearn"

    @classmethod
    def available(cls):
        import sklearn

        return True, sklearn.__version__

    def _estimator_classes(self):
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        return MLPRegressor, MLPClassifier


def sklearn_init(layer_units, activation, random_state, dtype=np.float64):
    """scikit-learn's initial weights, drawn as its MLP draws them.

    Per layer: ``U(-b, b)`` weights of shape (fan_in, fan_out), then
    intercepts, ``b = sqrt(f / (fan_in + fan_out))`` with ``f = 2`` for
    logistic and 6 otherwise, from ``RandomState(random_state)``.

    Parameters
    ----------
    layer_units : sequence of int
    activation : str
    random_state : int
    dtype : dtype, default=np.float64

    Returns
    -------
    coefs : list of ndarray, each (fan_in, fan_out)
    intercepts : list of ndarray, each (fan_out,)
    """
    rng = np.random.RandomState(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
        intercepts.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return coefs, intercepts


class TorchRunner(Runner):
    """An equivalent ``torch.nn.Sequential`` trained by a plain PyTorch loop on the CPU.

    Same layer sizes, activation, initial weights (scikit-learn's draw), batch
    size, epochs, shuffling each epoch (torch's own generator), optimizer and
    settings; scikit-learn's per-batch L2 term becomes ``weight_decay =
    alpha / batch_len`` on the weights only (see
    :func:`bench.workloads.torch_config`).  One known difference: torch's Adam
    adds ``eps`` after the bias correction of the second moment, scikit-learn
    (and fastnet) before it; with ``eps=1e-8`` the updates differ in about the
    sixth significant digit, which does not change the work done.

    Only the training loop is timed: building the module, the tensors and the
    optimizer happen in :meth:`prepare`.
    """

    library = "torch"
    # The optimizer's extra arguments (the CUDA runner asks for the fused kernel).
    adam_options = {}

    @classmethod
    def available(cls):
        try:
            import torch
        except ImportError as exc:
            return False, f"torch not importable ({exc})"
        return True, torch.__version__

    def prepare(self):
        import torch
        from torch import nn

        w, d = self.workload, self.data
        n_samples, n_features = d.X.shape
        self.config = cfg = _wl.torch_config(w, n_samples, n_features, self.n_outputs)
        tdtype = {"float64": torch.float64, "float32": torch.float32}[d.dtype]
        activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid,
                       "identity": nn.Identity}
        units = cfg["layer_units"]
        coefs, intercepts = sklearn_init(units, w.activation, cfg["seed"])
        layers, linears = [], []
        for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
            linear = nn.Linear(coef.shape[0], coef.shape[1], dtype=tdtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(coef.T.copy()))
                linear.bias.copy_(torch.from_numpy(intercept))
            linears.append(linear)
            layers.append(linear)
            if i < len(coefs) - 1:
                layers.append(activations[cfg["activation"]]())
        dev = torch.device(self.device)
        self.model = nn.Sequential(*layers).to(dev)
        linears = [m for m in self.model if isinstance(m, nn.Linear)]
        self.weights = [lin.weight for lin in linears]
        groups = [
            {"params": self.weights,
             "weight_decay": cfg["weight_decay_per_batch"][cfg["batch_size"]]},
            {"params": [lin.bias for lin in linears], "weight_decay": 0.0},
        ]
        if cfg["optimizer"] == "adam":
            self.optimizer = torch.optim.Adam(groups, lr=cfg["lr"], betas=cfg["betas"],
                                              eps=cfg["eps"], **self.adam_options)
        else:
            self.optimizer = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"],
                                             nesterov=cfg["nesterov"])
        self.X_t = torch.from_numpy(d.X).to(dev)
        if w.task == "classification":
            self.classes = np.unique(d.y)
            index = np.searchsorted(self.classes, d.y)
            if len(self.classes) == 2:
                self.Y_t = torch.from_numpy(index.astype(d.dtype).reshape(-1, 1))
            else:
                self.Y_t = torch.from_numpy(index.astype(np.int64))
        else:
            self.Y_t = torch.from_numpy(np.ascontiguousarray(d.y.reshape(-1, 1)))
        self.Y_t = self.Y_t.to(dev)
        self.generator = torch.Generator(device=dev).manual_seed(cfg["seed"])
        self._sync()
        self.loss = None
        self.n_iter = 0

    def _loss_fn(self):
        import torch.nn.functional as F

        cfg = self.config
        if cfg["loss"] == "half_squared_error":
            return lambda out, yb, n: 0.5 * (out - yb).square().sum() / n
        if self.Y_t.dtype.is_floating_point:  # binary: one logit column
            return lambda out, yb, n: F.binary_cross_entropy_with_logits(out, yb)
        return lambda out, yb, n: F.cross_entropy(out, yb)

    def fit(self):
        import torch

        cfg = self.config
        X, Y = self.X_t, self.Y_t
        n = X.shape[0]
        batch, epochs, alpha = cfg["batch_size"], cfg["epochs"], cfg["alpha"]
        model, opt, weights = self.model, self.optimizer, self.weights
        weight_group = opt.param_groups[0]
        loss_fn = self._loss_fn()
        current_len = batch
        total = None
        for epoch in range(epochs):
            last = epoch == epochs - 1
            order = (torch.randperm(n, generator=self.generator, device=X.device)
                     if cfg["shuffle"] else None)
            if last:
                total = torch.zeros((), dtype=torch.float64, device=X.device)
            for start in range(0, n, batch):
                stop = min(start + batch, n)
                blen = stop - start
                if order is None:
                    xb, yb = X[start:stop], Y[start:stop]
                else:
                    idx = order[start:stop]
                    xb, yb = X[idx], Y[idx]
                if blen != current_len:  # scikit-learn's L2 term is divided by the batch length
                    weight_group["weight_decay"] = alpha / blen
                    current_len = blen
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb, blen)
                if last:  # scikit-learn's epoch loss, with the weights before the step
                    with torch.no_grad():
                        l2 = sum(wt.square().sum() for wt in weights)
                        total += loss.detach() * blen + 0.5 * alpha * l2
                loss.backward()
                opt.step()
            self.n_iter += 1
        self._sync()
        self.loss = float(total) / n if total is not None else None

    def _sync(self):
        """Wait for the device (a no-op on the CPU, where torch runs synchronously)."""
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()

    def predict(self, X):
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(X, dtype=self.data.dtype))
            out = self.model(x.to(self.device)).cpu()  # .cpu() waits for the device
        if self.workload.task == "classification":
            if len(self.classes) == 2:
                return self.classes[(out[:, 0] > 0).numpy().astype(int)]
            return self.classes[out.argmax(1).numpy()]
        return out.numpy().ravel()


class TorchCudaRunner(TorchRunner):
    """The same PyTorch loop on the GPU, eager, with ``torch.optim.Adam(fused=True)``."""

    library = "torch-cuda"
    device = "cuda"
    adam_options = {"fused": True}

    @classmethod
    def available(cls):
        ok, info = TorchRunner.available()
        if not ok:
            return ok, info
        import torch

        if torch.version.cuda is None:
            return False, f"torch {torch.__version__} is a CPU build (torch.version.cuda is None)"
        if not torch.cuda.is_available():
            return False, (f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no CUDA "
                           "driver or GPU")
        return True, f"{torch.__version__} (CUDA {torch.version.cuda})"


from .jax_runner import JaxCudaRunner, JaxRunner  # noqa: E402  (it builds on Runner above)

CPU_LIBRARIES = ("fastnet", "sklearn", "torch", "jax")
GPU_LIBRARIES = ("fastnet-cuda", "torch-cuda", "jax-cuda")
RUNNERS = {r.library: r for r in (FastnetRunner, SklearnRunner, TorchRunner, JaxRunner,
                                  FastnetCudaRunner, TorchCudaRunner, JaxCudaRunner)}
LIBRARIES = CPU_LIBRARIES


def available(libraries=CPU_LIBRARIES):
    """Which libraries can run here.

    Parameters
    ----------
    libraries : sequence of str

    Returns
    -------
    ok : dict
        library -> version, for those that import.
    missing : dict
        library -> reason, for those that do not.
    """
    ok, missing = {}, {}
    for lib in libraries:
        is_ok, info = RUNNERS[lib].available()
        (ok if is_ok else missing)[lib] = info
    return ok, missing
