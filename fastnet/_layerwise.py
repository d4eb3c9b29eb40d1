"""Forward pass for many rows when an activation needs ``exp`` or ``tanh``.

Inside a Numba kernel ``np.exp`` and ``np.tanh`` compile to scalar libm calls
(pip's llvmlite has no SVML), about 10 ns a value; NumPy's own ufuncs use
SIMD implementations several times faster.  Predicting 10,000 rows of the
vending machine's tanh network took 0.95 ms through the fused kernel against
scikit-learn's 0.32 ms, all of it in ``tanh``.

So for batches of at least :data:`MIN_ROWS` rows, a network with such an
activation is evaluated layer by layer from Python (a few microseconds per
layer, nothing next to the work): each layer's product and bias by the
compiled ``forward_product`` (the register tiles with the bias fused into
their stores where the layer is narrow, else BLAS and a bias pass), which
for ``relu``/``identity`` layers also applies the activation; for
``tanh``/``logistic``/``exp``/``softmax`` layers the activation then runs as
NumPy ufuncs.  The formulas are the kernels' (``logistic``
is ``1 / (1 + exp(-z))``, softmax subtracts the row maximum); only the
``exp``/``tanh`` implementations differ, by an ulp or so -- they are the ones
scikit-learn's predictions use.
"""

import numpy as np

from .kernels import registry as _registry
from .kernels import small as _small

__all__ = ["MIN_ROWS", "worthwhile", "forward"]

# Below this many rows the single compiled call wins (no per-layer Python).
MIN_ROWS = 64

# The activations with a NumPy (ufunc) forward pass in the registry.
_UFUNC_ACTIVATIONS = {name: a.numpy_forward for name, a in _registry.ACTIVATIONS.items()
                      if a.numpy_forward is not None}


def worthwhile(net, n_rows):
    """Whether :func:`forward` beats the fused kernel for ``n_rows`` rows of ``net``.

    Parameters
    ----------
    net : Network
    n_rows : int

    Returns
    -------
    bool
    """
    # The hidden layers decide: an output layer is usually a few columns wide, and
    # NumPy's row reductions for softmax over ~10 columns cost more than they save.
    return n_rows >= MIN_ROWS and net.activation in _UFUNC_ACTIVATIONS


def forward(net, X):
    """The network's output for ``X``, one layer at a time.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_features), the network's dtype

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
    """
    A = X
    last = net.layout.n_layers - 1
    limit = net._codes.tiles_forward
    for i, (W, b) in enumerate(zip(net.params.coefs, net.params.intercepts)):
        name = net.output_activation if i == last else net.activation
        activate = _UFUNC_ACTIVATIONS.get(name)
        code = _registry.IDENTITY if activate is not None else _registry.ACTIVATION_CODES[name]
        Z = np.empty((A.shape[0], W.shape[1]), dtype=A.dtype)
        _small.forward_product(A, W, b, code, Z, limit)
        if activate is not None:
            activate(Z)
        A = Z
    return A
