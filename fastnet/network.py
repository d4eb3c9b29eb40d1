"""The low-level model: a dense network on one flat parameter buffer.

Use it without any estimator around it::

    import numpy as np
    from fastnet import Network, Adam

    net = Network([2, 8, 1], activation="tanh", random_state=0)
    opt = Adam(learning_rate_init=0.01)
    for epoch in range(100):
        loss = net.train_epoch(X, y, opt, batch_size=32)
    y_hat = net.forward(X)

``net.params.flat`` is the whole model as one array; ``net.params.coefs[i]``
and ``net.params.intercepts[i]`` are views into it.

``Network(..., device="cuda")`` trains and evaluates with the CUDA twins of
the kernels (``fastnet.kernels.cuda``, imported on first use); the
parameters stay NumPy arrays on the host.  Its predict runs on the GPU from
:data:`CUDA_PREDICT_MIN_ROWS` rows on, on the CPU below -- and on the CPU
wherever CUDA is unusable, so a GPU-trained network predicts anywhere.
"""

import numpy as np
from sklearn.utils import check_random_state

from . import _aligned, _compile_notice, _device, _layerwise
from ._dropout import dropout_rates, dropout_seed
from ._layout import LayeredArray, Layout
from .kernels import dense as _dense
from .kernels import epoch as _epoch
from .kernels import groups as _groups
from .kernels import labels as _labels
from .kernels import losses as _losses
from .kernels import packed as _packed
from .kernels import registry as _registry
from .kernels import small as _small
from .kernels._jit import bind

__all__ = ["Network", "CANONICAL_LOSS", "CUDA_PREDICT_MIN_ROWS"]

# A device="cuda" network predicts on the GPU from this many rows on.  A GPU predict
# pays a fixed ~30-50 us (parameter and input uploads, the launch, the download and
# its synchronization over PCIe) that the CPU's compiled forward, at ~0.05-1 us a row
# for the networks the fused kernels take, spends at roughly a thousand rows.  Not
# measured here (no GPU on the development machine): the GPU benchmark script
# measures the crossover; this is the one place to change it.
CUDA_PREDICT_MIN_ROWS = 1024
# The attributes holding the predict kernels' bound entry points (Network._bind).
_BOUND_ENTRIES = ("_predict_entry", "_rows_entry", "_argmax_entry")

_compile_notice.install()  # one line on stderr when a process compiles the kernels

# The loss each output activation pairs with; the pair makes dLoss/dZ = out - y.
CANONICAL_LOSS = _registry.CANONICAL_LOSS


def _cuda_twins():
    """``fastnet.kernels.cuda``, after checking that CUDA is usable here.

    Raises
    ------
    ImportError
        numba-cuda (the ``cuda`` extra) is not installed.
    RuntimeError
        No usable NVIDIA driver or GPU.
    """
    _device.require_cuda()
    from .kernels import cuda as twins

    return twins


def _argmax_codes(codes):
    """The codes of a forward pass whose outputs only need their row-wise argmax.

    A softmax output layer becomes identity: ``exp`` is increasing and each row
    is divided by one positive total, so the largest pre-activation is where
    the largest probability is (up to probabilities that round equal, which
    pick the first of them: a tie at rounding level).  Predict of a 10 000-row
    digits classifier spends ~10% of its time in the softmax (``python -m
    bench.anatomy passes``: softmax 10000x10).  Other outputs are kept.

    Parameters
    ----------
    codes : Codes

    Returns
    -------
    Codes
    """
    if codes.output != _registry.SOFTMAX:
        return codes
    return codes._replace(output=_registry.IDENTITY)


def _workspace(layout, rows, n_outputs, dtype, gather=True, grad=None):
    """The kernels' ``Work`` group: per-batch buffers for ``rows`` rows.

    ``gather=False`` leaves out the gather buffers (empty): a whole-data batch
    (``loss_and_grad``, L-BFGS) reads X, Y and the weights where they are.
    ``grad`` replaces the freshly allocated gradient buffer.
    """
    gathered = rows if gather else 0
    return _groups.Work(
        x=_aligned.empty(gathered * layout.n_features, dtype),
        y=_aligned.empty(gathered * n_outputs, dtype),
        sw=_aligned.empty(gathered, dtype),
        acts=_aligned.empty(rows * layout.activation_size, dtype),
        deltas=_aligned.empty(rows * layout.activation_size, dtype),
        col_sum=np.empty(n_outputs, dtype=dtype),
        grad=_aligned.empty(layout.n_params, dtype) if grad is None else grad,
    )


class Network:
    """A multi-layer perceptron stored in one flat parameter buffer.

    Parameters
    ----------
    layer_units : sequence of int
        Widths of every layer, input first and output last, e.g. ``[2, 8, 1]``.
        ``[n_in, n_out]`` is a single layer of neurons (no hidden layer).
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    output_activation : {'identity', 'exp', 'logistic', 'softmax'}, default='identity'
        Activation of the output layer.
    loss : str, default=None
        The loss; ``None`` picks the canonical one for the output activation
        (identity: 'squared_error', exp: 'poisson', softmax: 'log_loss',
        logistic: 'binary_log_loss').  Only canonical pairs are supported.
    dtype : {np.float64, np.float32}, default=np.float64
        The dtype of the parameters and of all computation.
    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot-uniform initialization, drawn exactly as
        scikit-learn's MLP draws it, and (without drawing from it) the dropout
        masks.
    dropout : float or tuple of float, default=0.0
        Inverted dropout while training (:meth:`train_epoch`): each hidden
        unit's output is zeroed with this probability and the survivors scaled
        by ``1 / (1 - rate)``; one rate for every hidden layer or one per hidden
        layer, each in [0, 1).  :meth:`forward` never drops.
    device : {'cpu', 'cuda'}, default='cpu'
        Where training and large predicts compute (see the module docstring).
        'cuda' needs numba-cuda (the ``cuda`` extra) and a GPU: creating the
        network raises ImportError / RuntimeError saying which is missing.

    Attributes
    ----------
    params : LayeredArray
        ``params.flat`` (n_params,), with per-layer views ``params.coefs`` and
        ``params.intercepts``.
    layout : Layout
        The offsets table.
    dropout : tuple of float
        One rate per hidden layer.
    dropout_seed : int
        The 64-bit seed of the dropout masks (see ``fastnet._dropout``), derived
        from ``random_state`` when the network is created with dropout (0 otherwise;
        set it to seed dropout switched on later).
    dropout_step : int
        Mini-batches trained so far with dropout: the masks of the next batch
        are those of this step.
    device : str
        'cpu' or 'cuda'.  Assigning it validates the name only (a model file
        of a GPU-trained network loads anywhere); training on 'cuda' then
        checks that CUDA is usable.
    """

    def __init__(self, layer_units, activation="relu", output_activation="identity", loss=None,
                 dtype=np.float64, random_state=None, dropout=0.0, device="cpu"):
        self._setup(layer_units, activation, output_activation, loss, dtype, dropout, device)
        # Before initialize draws from random_state; hashed only when there is dropout
        # (a RandomState's 624 words cost ~0.1 ms, a tiny fit ~10 ms).
        self.dropout_seed = dropout_seed(random_state) if any(self.dropout) else 0
        self.initialize(random_state)

    @classmethod
    def from_arrays(cls, coefs, intercepts, activation="relu", output_activation="identity",
                    loss=None, dtype=None, dropout=0.0, dropout_seed=0, dropout_step=0,
                    device="cpu"):
        """A network holding copies of given per-layer weights and intercepts.

        Parameters
        ----------
        coefs : list of array-like, each of shape (fan_in, fan_out)
        intercepts : list of array-like, each of shape (fan_out,)
        activation, output_activation, loss : str
            As in :class:`Network`.
        dtype : {np.float64, np.float32}, default=None
            ``None`` keeps float32 when every array is float32, else float64.
        dropout : float or tuple of float, default=0.0
        dropout_seed, dropout_step : int, default=0
            Where the dropout masks continue from (see :class:`Network`).
        device : {'cpu', 'cuda'}, default='cpu'

        Returns
        -------
        network : Network
        """
        coefs = [np.asarray(c) for c in coefs]
        intercepts = [np.asarray(b) for b in intercepts]
        if not coefs or len(coefs) != len(intercepts):
            raise ValueError(
                f"need as many intercept vectors as weight matrices (at least one); "
                f"got {len(coefs)} and {len(intercepts)}"
            )
        units = [coefs[0].shape[0] if coefs[0].ndim == 2 else -1]
        for i, (c, b) in enumerate(zip(coefs, intercepts)):
            if c.ndim != 2 or c.shape[0] != units[-1] or b.shape != (c.shape[1],):
                raise ValueError(
                    f"layer {i}: weights of shape {c.shape} and intercepts of shape {b.shape} "
                    f"do not chain (expected ({units[-1]}, k) and (k,))"
                )
            units.append(c.shape[1])
        if dtype is None:
            all32 = all(a.dtype == np.float32 for a in coefs + intercepts)
            dtype = np.float32 if all32 else np.float64
        net = cls.__new__(cls)
        net._setup(units, activation, output_activation, loss, dtype, dropout, device)
        net.dropout_seed = int(dropout_seed)
        net.dropout_step = int(dropout_step)
        for dst, src in zip(net.params.coefs + net.params.intercepts, coefs + intercepts):
            dst[...] = src
        return net

    def _setup(self, layer_units, activation, output_activation, loss, dtype, dropout=0.0,
               device="cpu"):
        self.device = device
        if self.device == "cuda":
            _device.require_cuda()
        units = [int(u) for u in layer_units]
        if len(units) < 2 or min(units) < 1:
            raise ValueError(
                f"layer_units needs at least an input and an output width, all >= 1; got {units}"
            )
        if activation not in _registry.HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {_registry.HIDDEN_ACTIVATIONS}; got {activation!r}"
            )
        if output_activation not in CANONICAL_LOSS:
            raise ValueError(
                f"output_activation must be one of {tuple(CANONICAL_LOSS)}; "
                f"got {output_activation!r}"
            )
        if loss is None:
            loss = CANONICAL_LOSS[output_activation]
        if CANONICAL_LOSS[output_activation] != loss:
            raise ValueError(
                f"loss {loss!r} does not pair with output_activation {output_activation!r}; "
                f"use {CANONICAL_LOSS[output_activation]!r}"
            )
        if output_activation == "softmax" and units[-1] < 2:
            raise ValueError(
                "output_activation='softmax' needs at least 2 output units (one per class); "
                "use 'logistic' for a single probability"
            )
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64; got {dtype}")
        self.dropout = dropout_rates(dropout, len(units) - 2)
        self.dropout_step = 0
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.dtype = dtype
        self.layout = Layout(units)
        self._chunk = _dense.chunk_rows(units)  # rows a many-row forward pass takes at once
        self.params = LayeredArray(self.layout, _aligned.zeros(self.layout.n_params, dtype))
        self._workspace = None
        self._device_cache = None
        self._codes = _groups.Codes(_registry.ACTIVATION_CODES[activation],
                                    _registry.ACTIVATION_CODES[output_activation],
                                    _registry.LOSS_CODES[loss], *_small.tile_limits())
        self._derive_from_codes()

    def _derive_from_codes(self):
        """What is derived from ``_codes`` (set wherever it is: __init__, __setstate__):
        the codes of an argmax-only forward, and both packed with the layout for the
        predict entry points (``kernels.packed``)."""
        self._argmax_codes = _argmax_codes(self._codes)
        group = self.layout.group
        self._packed = _packed.pack(group, self._codes)
        self._argmax_packed = _packed.pack(group, self._argmax_codes)

    # ------------------------------------------------------------------ state
    @property
    def device(self):
        """Where the network trains: 'cpu' or 'cuda' (str)."""
        return self._device_name

    @device.setter
    def device(self, device):
        self._device_name = _device.check_device(device)
        self._device_cache = None

    def _cuda_cache(self):
        """The device copies of this network's training arrays (kept between kernel calls)."""
        if self._device_cache is None:
            self._device_cache = _cuda_twins().DeviceCache()
        return self._device_cache

    def release_device_memory(self):
        """Drop the device copies of training data this network keeps (device='cuda').

        They are dropped anyway with the network, when ``device`` is assigned
        and when it is pickled; call this after editing a training array in
        place between fits (see ``fastnet.kernels.cuda.DeviceCache``).
        """
        self._device_cache = None

    @property
    def layer_units(self):
        """Widths of every layer, input first (tuple of int)."""
        return tuple(int(u) for u in self.layout.units)

    @property
    def n_features(self):
        return int(self.layout.units[0])

    @property
    def n_outputs(self):
        return int(self.layout.units[-1])

    def initialize(self, random_state=None):
        """Draw new weights: U(-b, b), b = sqrt(f / (fan_in + fan_out)).

        ``f`` is the hidden activation's ``init_factor`` in the registry (2 for
        logistic, 6 otherwise, as scikit-learn's), biases too; per
        layer the weights are drawn first, then the intercepts, in float64 and
        then cast, exactly as scikit-learn's ``_init_coef``.

        Parameters
        ----------
        random_state : int, RandomState instance or None
        """
        rng = check_random_state(random_state)
        factor = _registry.ACTIVATIONS[self.activation].init_factor
        for coef, intercept in zip(self.params.coefs, self.params.intercepts):
            fan_in, fan_out = coef.shape
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef[...] = rng.uniform(-bound, bound, (fan_in, fan_out))
            intercept[...] = rng.uniform(-bound, bound, fan_out)
        return self

    def set_flat(self, flat):
        """Replace the parameters by a copy of ``flat`` (n_params,)."""
        flat = np.asarray(flat)
        if flat.shape != (self.layout.n_params,):
            raise ValueError(f"expected shape ({self.layout.n_params},), got {flat.shape}")
        self.params.flat[...] = flat

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_workspace"] = None
        state["_device_cache"] = None  # device buffers never travel: made again on use
        for name in _BOUND_ENTRIES:  # compiled code: bound again after unpickling
            state.pop(name, None)
        state["params"] = self.params.flat  # views are rebuilt on load
        return state

    def __setstate__(self, state):
        flat = state.pop("params")
        # A network pickled before dropout existed: none, and its masks would start at 0.
        n_hidden = len(state["layout"].units) - 2
        state.setdefault("dropout", (0.0,) * n_hidden)
        state.setdefault("dropout_seed", 0)
        state.setdefault("dropout_step", 0)
        state.setdefault("_device_name", "cpu")  # pickled before devices existed
        state.setdefault("_device_cache", None)
        state.setdefault("_chunk", _dense.chunk_rows(state["layout"].units))
        # The tile policy is this CPU's, not the one of the machine that saved the network.
        forward, backward, backward_from = _small.tile_limits()
        state["_codes"] = state["_codes"]._replace(tiles_forward=forward, tiles_backward=backward,
                                                   tiles_backward_from=backward_from)
        self.__dict__.update(state)
        self._derive_from_codes()
        self.params = LayeredArray(self.layout, _aligned.aligned_copy(flat))  # pickles lose it

    # -------------------------------------------------------------- kernels
    def _workspace_for(self, batch_size):
        """A ``Work`` group for batches of up to ``batch_size`` rows (kept between calls)."""
        ws = self._workspace
        if ws is None or ws.sw.shape[0] < batch_size or ws.sw.dtype != self.dtype:
            ws = _workspace(self.layout, batch_size, self.n_outputs, self.dtype)
            self._workspace = ws
        return ws

    def _as_input(self, X):
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features}); got {X.shape}"
            )
        if X.shape[0] < 1:
            raise ValueError("X has 0 samples; at least 1 is required")
        # One dtype and one layout: every variant would compile the kernels again.
        return np.require(X, dtype=self.dtype, requirements=["C", "W", "A"])

    def _as_target(self, y, n_samples):
        Y = np.asarray(y, dtype=self.dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.shape != (n_samples, self.n_outputs):
            raise ValueError(
                f"y must have shape ({n_samples}, {self.n_outputs}) or ({n_samples},); "
                f"got {np.shape(y)}"
            )
        return np.require(Y, requirements=["C", "W", "A"])

    def _as_weights(self, sample_weight, n_samples):
        if sample_weight is None:
            return np.empty(0, dtype=self.dtype), False
        sw = np.asarray(sample_weight, dtype=self.dtype)
        if sw.shape != (n_samples,):
            raise ValueError(f"sample_weight must have shape ({n_samples},); got {sw.shape}")
        return np.require(sw, requirements=["C", "W", "A"]), True

    def forward(self, X):
        """Predict: the output layer's activations.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        out : ndarray of shape (n_samples, n_outputs)
        """
        X = self._as_input(X)
        return self._forward(X)

    def _forward(self, X, argmax_only=False):
        """:meth:`forward` for an input already of the right dtype and layout.

        ``argmax_only``: the caller needs only each row's largest output (a
        class), so a softmax output layer is left out -- its pre-activations
        have their largest entry where the probabilities do.
        """
        codes = self._argmax_codes if argmax_only else self._codes
        if self._device_name == "cuda":  # one comparison on the CPU networks' path
            out = self._cuda_forward(X, codes=codes)
            if out is not None:
                return out
        if _layerwise.worthwhile(self, X.shape[0]):
            return _layerwise.forward(self, X, codes.output)
        if X.shape[0] > self._chunk:
            return self._forward_rows(X, codes, check=False)
        acts = np.empty(X.shape[0] * self.layout.activation_size, dtype=self.dtype)
        result = _dense.predict_forward(self.params.flat, self.layout.group, codes, X, acts)
        return result if self.layout.n_layers == 1 else result.copy()

    def _forward_rows(self, X, codes, check):
        """The forward pass of more rows than one chunk (``dense_forward_rows``), or None
        when ``check`` finds NaN or infinity in ``X``."""
        acts = _aligned.empty(self._chunk * self.layout.activation_size, self.dtype)
        out = np.empty((X.shape[0], self.n_outputs), dtype=self.dtype)
        args = (self.params.flat, self.layout.group, codes, X, acts, out, check)
        entry = self.__dict__.get("_rows_entry") or self._bind("_rows_entry",
                                                                 _dense.dense_forward_rows, args)
        return out if entry(*args) else None

    def _bind(self, name, kernel, args):
        """``kernel``'s entry point for ``args``' types (``kernels._jit.bind``), kept as
        attribute ``name`` (one of ``_BOUND_ENTRIES``): the predict paths' kernels, whose
        argument types never change for a network (one dtype and layout), skip typing them
        on every call.  Callers read the attribute first: ``self.__dict__.get(name) or
        self._bind(...)``, no call of this method once bound."""
        entry = bind(kernel, args)
        setattr(self, name, entry)
        return entry

    def _kernel_input(self, X):
        """``X`` in the network's dtype, C-contiguous, writeable and aligned: one dtype and
        one layout, since every variant would compile the kernels again (and the bound
        entry points take exactly this one)."""
        flags = X.flags
        if X.dtype != self.dtype or not (flags.c_contiguous and flags.writeable and flags.aligned):
            X = np.require(X, dtype=self.dtype, requirements=["C", "W", "A"])
        return X

    def _forward_if_finite(self, X, argmax_only=False):
        """:meth:`forward` of a 2-D float ndarray with ``n_features`` columns, or None.

        The estimators' lean predict path: no validation beyond what the
        caller checked, the finiteness check inside the compiled call.  Up to
        one chunk of rows (``kernels.dense.chunk_rows``) goes through the
        network in one piece; more rows go a chunk at a time, so that the
        activations stay in cache.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32 or float64
        argmax_only : bool, default=False
            As :meth:`_forward`: a softmax output layer's pre-activations.

        Returns
        -------
        out : ndarray of shape (n_samples, n_outputs) or None
            None when ``X`` holds NaN or infinity (nothing was computed).
        """
        codes = self._argmax_codes if argmax_only else self._codes
        X = self._kernel_input(X)
        if self._device_name == "cuda":
            out = self._cuda_forward(X, finite_only=True, codes=codes)
            if out is not None:
                return out if out.shape[0] == X.shape[0] else None
        n_rows = X.shape[0]
        # Few rows (below both thresholds) go straight to the one-chunk kernel.
        if n_rows >= _layerwise.MIN_ROWS and _layerwise.worthwhile(self, n_rows):
            # The compiled check over X's flat memory: no boolean temporary (10 000 x 2
            # float64 5.4 -> 2.9 us, float32 3.8 -> 1.3 against np.isfinite(X).all()).
            finite = _dense.all_finite(X.reshape(X.size), 0, X.size)
            return _layerwise.forward(self, X, codes.output) if finite else None
        if n_rows > self._chunk:
            return self._forward_rows(X, codes, check=True)
        args = (self.params.flat, self._argmax_packed if argmax_only else self._packed, X)
        entry = self.__dict__.get("_predict_entry") or self._bind(
            "_predict_entry", _dense.dense_forward_if_finite, args)
        result = entry(*args)
        if result.shape[0] != n_rows:
            return None
        # A view keeps the whole activation buffer alive: worth a copy only when it is big.
        small = n_rows <= _layerwise.MIN_ROWS
        return result if small or self.layout.n_layers == 1 else result.copy()

    def _argmax_if_finite(self, X):
        """Each row's index of its largest output (a multiclass model's class), or None.

        :meth:`_forward_if_finite` with ``argmax_only``, then ``np.argmax(out, axis=1)``
        (``kernels.labels.row_argmax``).
        Fewer than ``_layerwise.MIN_ROWS`` rows in the network's dtype and layout
        (:meth:`_kernel_input`) take one compiled call for both
        (``dense_argmax_if_finite``; on a GPU network too, which predicts so few rows
        on the CPU: ``CUDA_PREDICT_MIN_ROWS``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32 or float64

        Returns
        -------
        index : ndarray of shape (n_samples,), integer, or None
            None when ``X`` holds NaN or infinity.
        """
        flags = X.flags  # _kernel_input's test, here without a call: a one-row predict's path
        if (X.shape[0] >= _layerwise.MIN_ROWS or X.dtype != self.dtype
                or not (flags.c_contiguous and flags.writeable and flags.aligned)):
            out = self._forward_if_finite(X, argmax_only=True)
            return None if out is None else _labels.row_argmax(out)
        args = (self.params.flat, self._argmax_packed, X)
        entry = self.__dict__.get("_argmax_entry") or self._bind(
            "_argmax_entry", _dense.dense_argmax_if_finite, args)
        index = entry(*args)
        return index if index.shape[0] == X.shape[0] else None

    def _cuda_forward(self, X, finite_only=False, codes=None):
        """The GPU's forward of a normalized ``X``, or None: the CPU's turn.

        None below :data:`CUDA_PREDICT_MIN_ROWS` rows and where CUDA is
        unusable -- a GPU-trained network loaded on a machine without one still
        predicts, on the CPU; training there raises ``require_cuda``'s error.
        With ``finite_only``, an ``X`` holding NaN or infinity gives an empty
        (0, n_outputs) array, as ``dense_forward_if_finite`` does.  ``codes``:
        the network's own (None) or its ``_argmax_codes``.
        """
        if X.shape[0] < CUDA_PREDICT_MIN_ROWS or _device.cuda_problem() is not None:
            return None
        if finite_only and not np.isfinite(X).all():
            return np.empty((0, self.n_outputs), dtype=self.dtype)
        codes = self._codes if codes is None else codes
        return _cuda_twins().dense_forward(self.params.flat, self.layout.group, codes, X,
                                           cache=self._cuda_cache())

    def loss_and_grad(self, X, y, sample_weight=None, alpha=0.0, dropout_step=None):
        """Loss and gradient on the whole of ``X`` as one batch.

        The loss is scikit-learn's: the (sample-weighted) mean data loss plus
        ``0.5 * alpha * sum(W**2) / sum(sample_weight)``.  The gradient is
        scikit-learn's too, which for squared error with k > 1 outputs is k times
        the gradient of that loss (scikit-learn averages the loss over outputs
        but not the gradient; scikit-learn issue #8349).  Training uses it as is,
        so fastnet's weights stay identical to scikit-learn's.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (0/1 indicator columns for the log-losses).
        sample_weight : array-like of shape (n_samples,), default=None
        alpha : float, default=0.0
            L2 penalty strength.
        dropout_step : int, default=None
            None: the whole network (no dropout).  An int: the loss and gradient
            under the dropout masks of that training step -- a fixed,
            reproducible mask, so the result is a deterministic function of the
            parameters (the gradient of that masked network).

        Returns
        -------
        loss : float
        grad : LayeredArray
            ``grad.flat`` (n_params,) with views ``grad.coefs`` and
            ``grad.intercepts`` shaped like the parameters.
        """
        X = self._as_input(X)
        Y = self._as_target(y, X.shape[0])
        sw, has_sw = self._as_weights(sample_weight, X.shape[0])
        grad = _aligned.empty(self.params.flat.shape, self.dtype)
        drop = _groups.NO_DROPOUT
        if dropout_step is not None:
            drop = self._dropout_group(np.array([int(dropout_step)], dtype=np.int64))
        loss = self._loss_and_grad(X, Y, sw, has_sw, alpha, grad, drop)
        return loss, LayeredArray(self.layout, grad)

    def _loss_and_grad(self, X, Y, sw, has_sw, alpha, grad, drop=_groups.NO_DROPOUT):
        """:meth:`loss_and_grad` on normalized arrays, writing into ``grad``."""
        if self._device_name == "cuda":
            loss = _cuda_twins().batch_loss_and_grad(
                self.params.flat, grad, self.layout.group, self._codes,
                _groups.Data(X, Y, sw, has_sw), None, self.dtype.type(alpha), drop,
                cache=self._cuda_cache())
            return float(loss)
        work = _workspace(self.layout, X.shape[0], self.n_outputs, self.dtype, gather=False,
                          grad=grad)
        loss = _epoch.batch_loss_and_grad(self.params.flat, grad, self.layout.group, self._codes,
                                          _groups.Data(X, Y, sw, has_sw), work,
                                          self.dtype.type(alpha), drop)
        return float(loss)

    def data_loss(self, X, y, sample_weight=None):
        """The loss's data term of the whole network (no dropout, no L2 penalty).

        scikit-learn's ``LOSS_FUNCTIONS[loss](y, forward(X), sample_weight)``,
        computed by the compiled loss the training uses.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        loss : float
        """
        X = self._as_input(X)
        Y = self._as_target(y, X.shape[0])
        sw, has_sw = self._as_weights(sample_weight, X.shape[0])
        out = np.ascontiguousarray(self._forward(X))
        col_sum = np.empty(self.n_outputs, dtype=self.dtype)
        return float(_losses.loss_value(self._codes.loss, out, _groups.Data(X, Y, sw, has_sw),
                                        col_sum))

    def _dropout_group(self, step):
        """The kernels' ``Dropout`` group at batch counter ``step`` (int64 (1,)), or
        ``NO_DROPOUT`` (None) when every rate is 0."""
        return _groups.dropout(self.dropout + (0.0,), self.dropout_seed, step)

    def train_epoch(self, X, y, optimizer, *, batch_size=200, sample_weight=None, alpha=0.0,
                    order=None):
        """One pass over the data in mini-batches, one compiled call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        optimizer : fastnet.SGD or fastnet.Adam
            Holds the optimizer state; reuse it across epochs.
        batch_size : int, default=200
            Clipped to [1, n_samples].
        sample_weight : array-like of shape (n_samples,), default=None
        alpha : float, default=0.0
            L2 penalty strength.
        order : array-like of int, shape (n_samples,), default=None
            The sample order of this epoch (e.g. a permutation); ``None``
            keeps the data order.

        Returns
        -------
        loss : float
            Mean of the batch losses weighted by batch length.
        """
        X = self._as_input(X)
        n = X.shape[0]
        Y = self._as_target(y, n)
        sw, has_sw = self._as_weights(sample_weight, n)
        if order is None:
            order = np.arange(n, dtype=np.int64)
        else:
            order = np.asarray(order, dtype=np.int64)
            if order.shape != (n,) or (n and (order.min() < 0 or order.max() >= n)):
                raise ValueError(f"order must hold {n} sample indices in [0, {n})")
            order = np.ascontiguousarray(order)
        batch_size = int(np.clip(batch_size, 1, n))
        plan = _groups.plan(1, batch_size)
        self._run_epochs(_groups.Data(X, Y, sw, has_sw), optimizer, alpha,
                         _groups.no_shuffle(order), plan)
        return plan.losses[0] / n

    def _run_epochs(self, data, optimizer, alpha, shuffle, plan):
        """One compiled call of the epoch kernel, on normalized arrays.

        Parameters
        ----------
        data : fastnet.kernels.groups.Data
            C-contiguous, writable, in the network's dtype.
        optimizer : SGD or Adam
            Its state and step count are advanced.
        alpha : float
            L2 strength.
        shuffle : fastnet.kernels.groups.Shuffle
            The sample order, reshuffled in place before each epoch when enabled.
        plan : fastnet.kernels.groups.Plan
            How much to train; receives the completed epochs' summed losses and
            where an unfinished epoch resumes.

        Returns
        -------
        n_done : int
            Epochs completed by this call (``plan.losses[:n_done]``).
        """
        opt = optimizer.group(self.layout.n_params, self.dtype, alpha)
        step = np.array([self.dropout_step], dtype=np.int64)
        if self._device_name == "cuda":
            n_done = _cuda_twins().run_epochs(self.params.flat, self.layout.group, self._codes,
                                              data, None, opt, shuffle, plan,
                                              self._dropout_group(step),
                                              cache=self._cuda_cache())
        else:
            ws = self._workspace_for(plan.batch_size)
            n_done = _epoch.run_epochs(self.params.flat, self.layout.group, self._codes, data,
                                       ws, opt, shuffle, plan, self._dropout_group(step))
        optimizer.after_epoch(int(opt.step[0]))
        self.dropout_step = int(step[0])
        return int(n_done)
