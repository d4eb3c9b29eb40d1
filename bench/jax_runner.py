"""JAX as a peer: the whole epoch compiled (``jax.jit`` over ``lax.scan`` of the mini-batches).

The strongest CPU peer measured for fastnet (issue 15): one compiled call per
epoch, no Python between mini-batches.  What it trains is the workload's spec,
as every other runner does (:func:`bench.workloads.torch_config` gives the
derived settings):

* the same layer sizes, activation and initial weights (scikit-learn's draw,
  :func:`bench.runners.sklearn_init`), cast to the run's dtype;
* mini-batches of ``batch_size`` in a fresh permutation each epoch (JAX's own
  PRNG, seeded with the workload's ``random_state``), the last batch shorter
  when the rows do not divide: the full batches go through ``lax.scan``, the
  rest through one more step;
* scikit-learn's loss per batch -- half squared error (regression) or
  cross-entropy (classification) plus ``0.5 * alpha * sum(W**2) / batch_len``
  over the weights -- and its epoch loss, the batch losses weighted by batch
  length with the weights before each step;
* optax Adam (``b1``, ``b2``, ``eps`` of the spec; optax, like PyTorch, adds
  ``eps`` after the bias correction) or SGD with Nesterov momentum.

Data and parameters are put on the device in :meth:`JaxRunner.prepare`,
which also compiles the epoch ahead of time (``jit(...).lower(...).compile()``,
cached per shape and setting, its time recorded as ``compile_s``); the timed
:meth:`JaxRunner.fit` only calls the compiled epoch and waits for the result
(``block_until_ready``).  float64 needs ``jax_enable_x64``, switched on when
this module first imports JAX; float32 arrays stay float32 under it (the
tests check the compiled program has no f64 value in it).
"""

import time

import numpy as np

from . import workloads as _wl
from .runners import Runner, sklearn_init

__all__ = ["JaxRunner", "JaxCudaRunner", "jax_modules"]


def jax_modules():
    """``(jax, jax.numpy, optax)`` with float64 enabled (raises ImportError without them)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    return jax, jnp, optax


def _activation(jax, jnp, name):
    return {"relu": jax.nn.relu, "tanh": jnp.tanh, "logistic": jax.nn.sigmoid,
            "identity": lambda x: x}[name]


def _data_loss(optax, jnp, kind):
    """The data term of scikit-learn's loss, as a function of (output, targets)."""
    if kind == "squared":  # scikit-learn: ((y - p) ** 2).mean() / 2
        return lambda out, yb: 0.5 * jnp.mean(jnp.square(out - yb))
    if kind == "binary":
        return lambda out, yb: jnp.mean(optax.sigmoid_binary_cross_entropy(out, yb))
    return lambda out, yb: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(out, yb))


def make_epoch(cfg, loss_kind, n_samples, optimizer):
    """The epoch function: ``(params, opt_state, key, X, Y) -> (params, opt_state, key, loss)``.

    Parameters
    ----------
    cfg : dict
        From :func:`bench.workloads.torch_config`.
    loss_kind : {'squared', 'binary', 'multiclass'}
    n_samples : int
    optimizer : optax.GradientTransformation

    Returns
    -------
    callable
        To be jitted; ``loss`` is scikit-learn's loss of the epoch.
    """
    jax, jnp, optax = jax_modules()
    act = _activation(jax, jnp, cfg["activation"])
    data_loss = _data_loss(optax, jnp, loss_kind)
    alpha, batch, shuffle = cfg["alpha"], cfg["batch_size"], cfg["shuffle"]
    n_full = n_samples // batch
    rest = n_samples - n_full * batch

    def forward(params, x):
        for i, (W, b) in enumerate(params):
            x = x @ W + b
            if i < len(params) - 1:
                x = act(x)
        return x

    def batch_loss(params, xb, yb):
        l2 = sum(jnp.sum(jnp.square(W)) for W, _ in params)
        return data_loss(forward(params, xb), yb) + 0.5 * alpha * l2 / xb.shape[0]

    def epoch(params, opt_state, key, X, Y):
        def step(carry, idx):
            p, s = carry
            loss, grads = jax.value_and_grad(batch_loss)(p, X[idx], Y[idx])
            updates, s = optimizer.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), loss * idx.shape[0]

        key, sub = jax.random.split(key)
        order = jax.random.permutation(sub, n_samples) if shuffle else jnp.arange(n_samples)
        carry, losses = jax.lax.scan(step, (params, opt_state),
                                     order[:n_full * batch].reshape(n_full, batch))
        total = jnp.sum(losses)
        if rest:
            carry, last = step(carry, order[n_full * batch:])
            total = total + last
        return carry[0], carry[1], key, total / n_samples

    return epoch, forward


class JaxRunner(Runner):
    """The workload trained by a jitted ``lax.scan`` epoch and optax, on JAX's CPU device."""

    library = "jax"
    platform = "cpu"
    # (settings, shapes, dtype, device) -> (compiled epoch, forward, seconds it took to compile)
    _compiled = {}

    @classmethod
    def available(cls):
        try:
            jax, _, optax = jax_modules()
        except ImportError as exc:
            return False, f"jax or optax not importable ({exc}; pip install jax optax)"
        try:
            jax.devices(cls.platform)
        except RuntimeError as exc:
            return False, f"JAX {jax.__version__} has no {cls.platform} device ({exc})"
        return True, f"{jax.__version__} (optax {optax.__version__})"

    def _device(self):
        jax, _, _ = jax_modules()
        return jax.devices(self.platform)[0]

    def _loss_kind(self):
        if self.workload.task != "classification":
            return "squared"
        return "binary" if self.n_outputs == 1 else "multiclass"

    def _optimizer(self, cfg):
        _, _, optax = jax_modules()
        if cfg["optimizer"] == "adam":
            return optax.adam(cfg["lr"], b1=cfg["betas"][0], b2=cfg["betas"][1], eps=cfg["eps"])
        return optax.sgd(cfg["lr"], momentum=cfg["momentum"], nesterov=cfg["nesterov"])

    def _targets(self):
        d = self.data
        if self.workload.task != "classification":
            return np.ascontiguousarray(d.y.reshape(-1, 1))
        self.classes = np.unique(d.y)
        index = np.searchsorted(self.classes, d.y)
        if len(self.classes) == 2:
            return index.astype(d.dtype).reshape(-1, 1)
        return index.astype(np.int32)

    def prepare(self):
        """Parameters, optimizer state and data on the device; the epoch compiled (cached)."""
        jax, jnp, _ = jax_modules()
        w, d = self.workload, self.data
        n_samples, n_features = d.X.shape
        self.config = cfg = _wl.torch_config(w, n_samples, n_features, self.n_outputs)
        device = self._device()
        coefs, intercepts = sklearn_init(cfg["layer_units"], w.activation, cfg["seed"])
        put = lambda a: jax.device_put(np.asarray(a, dtype=d.dtype), device)  # noqa: E731
        self.params = [(put(c), put(b)) for c, b in zip(coefs, intercepts)]
        optimizer = self._optimizer(cfg)
        self.opt_state = jax.device_put(optimizer.init(self.params), device)
        self.key = jax.device_put(jax.random.PRNGKey(cfg["seed"]), device)
        self.X = jax.device_put(d.X, device)
        self.Y = jax.device_put(self._targets(), device)
        key = (repr(sorted((k, repr(v)) for k, v in cfg.items())), self._loss_kind(),
               d.X.shape, d.dtype, str(device))
        if key not in self._compiled:
            start = time.perf_counter()
            epoch, forward = make_epoch(cfg, self._loss_kind(), n_samples, optimizer)
            compiled = jax.jit(epoch).lower(self.params, self.opt_state, self.key, self.X,
                                            self.Y).compile()
            self._compiled[key] = (compiled, jax.jit(forward), time.perf_counter() - start)
        self._epoch, self._forward, self.compile_s = self._compiled[key]
        jax.block_until_ready((self.params, self.opt_state, self.X, self.Y))
        self.loss = None
        self.n_iter = 0

    def compiled_text(self):
        """The compiled epoch as text (HLO), for checking its dtypes."""
        return self._epoch.as_text()

    def _run_epochs(self, epochs):
        jax, _, _ = jax_modules()
        params, state, key = self.params, self.opt_state, self.key
        loss = None
        for _ in range(epochs):
            params, state, key, loss = self._epoch(params, state, key, self.X, self.Y)
        jax.block_until_ready((params, loss))
        self.params, self.opt_state, self.key = params, state, key
        self.n_iter += epochs
        self.loss = None if loss is None else float(loss)

    def fit(self):
        """The timed region: the workload's epochs, one compiled call each, then a sync."""
        self._run_epochs(self.config["epochs"])

    def warm_up(self, n_rows=None):
        """Compile for the real shapes (in :meth:`prepare`), run one epoch and predict."""
        self.prepare()
        self._run_epochs(1)
        self.predict(self.data.X_predict[:1])
        self.predict(self.data.X_predict[:n_rows or 2 * self.workload.batch_size])

    def predict(self, X):
        jax, _, _ = jax_modules()
        x = jax.device_put(np.ascontiguousarray(X, dtype=self.data.dtype), self._device())
        out = np.asarray(self._forward(self.params, x))
        if self.workload.task == "classification":
            if len(self.classes) == 2:
                return self.classes[(out[:, 0] > 0).astype(int)]
            return self.classes[out.argmax(1)]
        return out.ravel()


class JaxCudaRunner(JaxRunner):
    """The same jitted epoch on JAX's GPU device (``jax.devices('gpu')``)."""

    library = "jax-cuda"
    platform = "gpu"
    device = "cuda"
