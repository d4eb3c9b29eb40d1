"""A plain NumPy reference of fastnet's math, written from scikit-learn's definitions.

Nothing here imports numba or fastnet: it is the oracle the kernels are tested
against.  Each function follows the scikit-learn source it names
(``sklearn/neural_network/_base.py``, ``_multilayer_perceptron.py`` and
``_stochastic_optimizers.py``) operation for operation, and computes in the
dtype of its inputs (NumPy 2 keeps ``float32 op python-float`` in float32), so
float32 inputs give float32 work as scikit-learn's would.

Shapes: ``X`` is (n, fan_in); ``W[i]`` is (fan_in_i, fan_out_i); ``b[i]`` is
(fan_out_i,); ``Y`` and the output are (n, n_outputs); sample weights are (n,).
"""

import numpy as np

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
OUTPUT_ACTIVATIONS = ("identity", "exp", "softmax", "logistic")
ALL_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "exp", "softmax")
# The canonical (output activation, loss) pairs: dLoss/dZ_out = out - y.
LOSS_OF_OUTPUT = {
    "identity": "squared_error",
    "exp": "poisson",
    "softmax": "log_loss",
    "logistic": "binary_log_loss",
}


# --------------------------------------------------------------- activations
def activation(Z, name):
    """Apply an activation to pre-activations (a new array, ``Z`` untouched).

    Parameters
    ----------
    Z : ndarray of shape (n, units)
    name : {'identity', 'logistic', 'tanh', 'relu', 'exp', 'softmax'}

    Returns
    -------
    A : ndarray of shape (n, units), Z's dtype
    """
    Z = np.asarray(Z)
    one = Z.dtype.type(1)
    if name == "identity":
        return Z.copy()
    if name == "logistic":
        with np.errstate(over="ignore"):
            return one / (one + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, Z.dtype.type(0))
    if name == "exp":
        return np.exp(Z)
    if name == "softmax":
        # Row-max subtraction: exp never overflows, the result is unchanged.
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(A, D, name):
    """Multiply an error by the activation's derivative, from the OUTPUTS ``A``.

    As scikit-learn's ``DERIVATIVES``: logistic a(1-a), tanh 1-a^2,
    relu 1[a != 0], identity 1.

    Parameters
    ----------
    A : ndarray of shape (n, units)
        The layer's outputs.
    D : ndarray of shape (n, units)
        dLoss/dA.

    Returns
    -------
    D_out : ndarray of shape (n, units)
        dLoss/dZ (a new array).
    """
    D = np.array(D, copy=True)
    if name == "identity":
        return D
    if name == "logistic":
        D *= A
        D *= 1 - A
        return D
    if name == "tanh":
        D *= 1 - A**2
        return D
    if name == "relu":
        D[A == 0] = 0
        return D
    raise ValueError(f"no derivative for activation {name!r}")


# -------------------------------------------------------------------- layout
def pack(coefs, intercepts):
    """Flatten as scikit-learn's ``_pack``: all weights (row-major), then all intercepts.

    Parameters
    ----------
    coefs : list of ndarray, each (fan_in, fan_out)
    intercepts : list of ndarray, each (fan_out,)

    Returns
    -------
    flat : ndarray of shape (n_params,)
    """
    return np.concatenate([np.ravel(c) for c in coefs] + [np.ravel(b) for b in intercepts])


def unpack(flat, layer_units):
    """Inverse of :func:`pack` (copies).

    Parameters
    ----------
    flat : ndarray of shape (n_params,)
    layer_units : sequence of int, input width first

    Returns
    -------
    coefs : list of ndarray, each (units[i], units[i + 1])
    intercepts : list of ndarray, each (units[i + 1],)
    """
    units = [int(u) for u in layer_units]
    coefs, intercepts = [], []
    pos = 0
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        coefs.append(np.array(flat[pos : pos + fan_in * fan_out]).reshape(fan_in, fan_out))
        pos += fan_in * fan_out
    for fan_out in units[1:]:
        intercepts.append(np.array(flat[pos : pos + fan_out]))
        pos += fan_out
    assert pos == len(flat), "flat buffer does not match the layer units"
    return coefs, intercepts


# ------------------------------------------------------------------- forward
def forward(X, coefs, intercepts, hidden, output, return_pre=False):
    """Forward pass through the dense stack.

    Parameters
    ----------
    X : ndarray of shape (n, units[0])
    coefs : list of ndarray, ``coefs[i]`` of shape (units[i], units[i + 1])
    intercepts : list of ndarray, ``intercepts[i]`` of shape (units[i + 1],)
    hidden, output : str
        Activations of the hidden layers and of the output layer.
    return_pre : bool
        Also return the pre-activations.

    Returns
    -------
    activations : list of ndarray
        ``[X, A_1, ..., A_out]``; ``A_i`` of shape (n, units[i]).
    pre : list of ndarray
        Only when ``return_pre``: ``Z_i = A_{i-1} @ W + b`` of each layer.
    """
    acts = [X]
    pre = []
    n_layers = len(coefs)
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = acts[-1] @ W + b
        pre.append(Z)
        acts.append(activation(Z, output if i == n_layers - 1 else hidden))
    return (acts, pre) if return_pre else acts


# --------------------------------------------------------------------- losses
def _xlogy(x, y):
    """x * log(y), 0 where x == 0 (scipy.special.xlogy), in NumPy."""
    x = np.asarray(x)
    y = np.asarray(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(y)
    return np.where(x == 0, np.zeros_like(out), out)


def loss(name, y_true, y_pred, sample_weight=None):
    """The data term of a loss, as scikit-learn's ``LOSS_FUNCTIONS[name]``.

    Parameters
    ----------
    name : {'squared_error', 'poisson', 'log_loss', 'binary_log_loss'}
    y_true : ndarray of shape (n, n_outputs)
    y_pred : ndarray of shape (n, n_outputs)
        Network output (after the output activation).
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    loss : scalar of y_pred's dtype
    """
    if name == "squared_error":
        return 0.5 * np.average((y_true - y_pred) ** 2, weights=sample_weight, axis=0).mean()
    if name == "poisson":
        return np.average(
            _xlogy(y_true, y_true / y_pred) - y_true + y_pred, weights=sample_weight, axis=0
        ).sum()
    eps = np.finfo(y_pred.dtype).eps
    y_prob = np.clip(y_pred, eps, 1 - eps)
    if name == "log_loss":
        if y_prob.shape[1] == 1:
            y_prob = np.append(1 - y_prob, y_prob, axis=1)
        if y_true.shape[1] == 1:
            y_true = np.append(1 - y_true, y_true, axis=1)
        return -np.average(_xlogy(y_true, y_prob), weights=sample_weight, axis=0).sum()
    if name == "binary_log_loss":
        return -np.average(
            _xlogy(y_true, y_prob) + _xlogy(1 - y_true, 1 - y_prob),
            weights=sample_weight,
            axis=0,
        ).sum()
    raise ValueError(f"unknown loss {name!r}")


def sw_total(n, sample_weight=None):
    """sum(sample_weight), or n when unweighted (scikit-learn's ``sw_sum``)."""
    return n if sample_weight is None else sample_weight.sum()


def l2_term(coefs, alpha, sw_sum):
    """scikit-learn's per-batch L2 term: ``0.5 * alpha * sum(W**2) / sw_sum``.

    Parameters
    ----------
    coefs : list of ndarray
    alpha : float
    sw_sum : float
        sum(sample_weight), n when unweighted.
    """
    values = 0
    for s in coefs:
        s = s.ravel()
        values += np.dot(s, s)
    return (0.5 * alpha) * values / sw_sum


# ----------------------------------------------------------------- backprop
def output_delta(out, Y, sample_weight=None):
    """dLoss/dZ of the output for a canonical pair: ``(out - Y) * sw``.

    Returns
    -------
    D : ndarray of shape (n, n_outputs)
    """
    D = out - Y
    if sample_weight is not None:
        D *= sample_weight.reshape(-1, 1)
    return D


def backprop(activations, coefs, delta_out, hidden, alpha, sw_sum):
    """Per-layer gradients from the output delta (scikit-learn's ``_backprop`` loop).

    Parameters
    ----------
    activations : list of ndarray
        ``[X, A_1, ..., A_out]`` from :func:`forward`.
    coefs : list of ndarray
    delta_out : ndarray of shape (n, n_outputs)
        dLoss/dZ of the output layer (already sample weighted).
    hidden : str
    alpha : float
    sw_sum : float

    Returns
    -------
    coef_grads : list of ndarray, shapes of ``coefs``
        ``(A_prev.T @ D + alpha * W) / sw_sum``.
    intercept_grads : list of ndarray
        ``D.sum(0) / sw_sum``.
    """
    n_layers = len(coefs)
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    D = delta_out
    for i in range(n_layers - 1, -1, -1):
        g = activations[i].T @ D
        g += alpha * coefs[i]
        g /= sw_sum
        coef_grads[i] = g
        intercept_grads[i] = np.sum(D, axis=0) / sw_sum
        if i > 0:
            D = activation_derivative(activations[i], D @ coefs[i].T, hidden)
    return coef_grads, intercept_grads


def loss_and_grad(X, Y, coefs, intercepts, hidden, output, alpha=0.0, sample_weight=None):
    """Loss (data term + L2) and gradients of one batch, as scikit-learn's ``_backprop``.

    Parameters
    ----------
    X : ndarray of shape (n, units[0])
    Y : ndarray of shape (n, units[-1])
    coefs, intercepts : lists of ndarray
    hidden, output : str
        The loss is the canonical one of ``output``.
    alpha : float
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    loss : scalar
    coef_grads, intercept_grads : lists of ndarray
    """
    acts = forward(X, coefs, intercepts, hidden, output)
    sw_sum = sw_total(X.shape[0], sample_weight)
    value = loss(LOSS_OF_OUTPUT[output], Y, acts[-1], sample_weight)
    value += l2_term(coefs, alpha, sw_sum)
    delta = output_delta(acts[-1], Y, sample_weight)
    dW, db = backprop(acts, coefs, delta, hidden, alpha, sw_sum)
    return value, dW, db


# --------------------------------------------------------------- optimizers
def sgd_step(params, grads, velocities, learning_rate, momentum, nesterov):
    """One step of scikit-learn's ``SGDOptimizer`` (in place).

    Parameters
    ----------
    params, grads, velocities : lists of ndarray (same shapes)
        ``params`` and ``velocities`` are updated in place.
    learning_rate, momentum : float
    nesterov : bool
    """
    updates = [momentum * v - learning_rate * g for v, g in zip(velocities, grads)]
    for v, u in zip(velocities, updates):
        v[...] = u
    if nesterov:
        updates = [momentum * v - learning_rate * g for v, g in zip(velocities, grads)]
    for p, u in zip(params, updates):
        p += u


class AdamState:
    """scikit-learn's ``AdamOptimizer`` state for a list of parameter arrays.

    Parameters
    ----------
    params : list of ndarray
    learning_rate_init, beta_1, beta_2, epsilon : float
    """

    def __init__(self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        """One Adam step (in place on ``params``), epsilon outside the bias correction."""
        self.t += 1
        self.ms = [self.beta_1 * m + (1 - self.beta_1) * g for m, g in zip(self.ms, grads)]
        self.vs = [self.beta_2 * v + (1 - self.beta_2) * (g**2) for v, g in zip(self.vs, grads)]
        self.learning_rate = (
            self.learning_rate_init * np.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        )
        updates = [
            -self.learning_rate * m / (np.sqrt(v) + self.epsilon) for m, v in zip(self.ms, self.vs)
        ]
        for p, u in zip(params, updates):
            p += u


class SGDState:
    """scikit-learn's ``SGDOptimizer`` state (constant learning rate).

    Parameters
    ----------
    params : list of ndarray
    learning_rate, momentum : float
    nesterov : bool
    """

    def __init__(self, params, learning_rate=0.1, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        sgd_step(params, grads, self.velocities, self.learning_rate, self.momentum,
                 self.nesterov)


def run_epoch(X, Y, coefs, intercepts, hidden, output, optimizer, order, batch_size,
              alpha=0.0, sample_weight=None):
    """One epoch of mini-batch training, as scikit-learn's ``_fit_stochastic`` inner loop.

    Parameters
    ----------
    X : ndarray of shape (n, units[0]); Y : ndarray of shape (n, units[-1])
    coefs, intercepts : lists of ndarray, updated in place
    hidden, output : str
    optimizer : SGDState or AdamState
    order : ndarray of int, shape (n,)
        Sample order of the epoch; batches are consecutive slices of it, the
        last one taking what is left.
    batch_size : int
    alpha : float
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    accumulated_loss : float
        Sum over batches of batch loss times batch length.
    """
    n = X.shape[0]
    params = list(coefs) + list(intercepts)
    accumulated = 0.0
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        sw = None if sample_weight is None else sample_weight[idx]
        value, dW, db = loss_and_grad(X[idx], Y[idx], coefs, intercepts, hidden, output,
                                      alpha, sw)
        accumulated += float(value) * len(idx)
        optimizer.step(params, dW + db)
    return accumulated


# ------------------------------------------------------------------- dropout
_MASK64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15


def _splitmix64(z):
    """SplitMix64's output function (Steele, Lea & Flood 2014), on Python ints."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def dropout_key(seed, step, layer):
    """The key of one hidden layer's masks at one step: splitmix64(seed + gamma * (64 step +
    layer + 1)), an int in [0, 2**64)."""
    return _splitmix64(seed + _GAMMA * (step * 64 + layer + 1))


def dropout_mask(seed, step, layer, n, width, rate):
    """fastnet's documented dropout mask of one hidden layer, computed from its definition.

    Unit ``j`` of row ``r`` is kept when ``u >= rate``, ``u = (h >> 11) * 2**-53``,
    ``h = splitmix64(key + gamma * (r * width + j + 1))`` and
    ``key = splitmix64(seed + gamma * (step * 64 + layer + 1))``.

    Returns
    -------
    keep : ndarray of bool, shape (n, width)
    """
    key = dropout_key(seed, step, layer)
    keep = np.empty((n, width), dtype=bool)
    for r in range(n):
        for j in range(width):
            h = _splitmix64(key + _GAMMA * (r * width + j + 1))
            keep[r, j] = (h >> 11) * 2.0**-53 >= rate
    return keep


def forward_with_dropout(X, coefs, intercepts, hidden, output, masks, rates):
    """:func:`forward` with inverted dropout on the hidden layers' outputs.

    ``masks[i]`` (n, units) bool and ``rates[i]`` for hidden layer ``i``:
    ``A = act(Z) * mask / (1 - rate)``.  Returns the list of activations.
    """
    acts = [X]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        last = i == len(coefs) - 1
        A = activation(acts[-1] @ W + b, output if last else hidden)
        if not last and rates[i] > 0:
            A = A * masks[i] * A.dtype.type(1.0 / (1.0 - rates[i]))
        acts.append(A)
    return acts
