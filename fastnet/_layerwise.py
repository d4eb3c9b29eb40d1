"""Forward pass for many rows when an activation needs ``exp`` or ``tanh``.

Inside a Numba kernel ``np.exp`` and ``np.tanh`` compile to scalar libm calls
(pip's llvmlite has no SVML), about 10 ns a value; NumPy's own ufuncs use
SIMD implementations several times faster.  Predicting 10,000 rows of the
vending machine's tanh network took 0.95 ms through the fused kernel against
scikit-learn's 0.32 ms, all of it in ``tanh``.

So for batches of at least :data:`MIN_ROWS` rows, a network with such an
activation is evaluated layer by layer from Python (a few microseconds per
layer, nothing next to the work): each layer's product and bias by the
compiled ``rows_forward_product`` (the register tiles -- half-width ones
too -- with the bias fused into their stores where the layer is narrow, else
BLAS and a bias pass), which
for ``relu``/``identity`` layers also applies the activation; for
``logistic``/``exp``/``softmax`` layers the activation then runs as NumPy
ufuncs, for ``tanh`` as the compiled vector loop of ``kernels/vtanh.py``
(NumPy's float64 ``tanh`` is scalar libm code on machines without AVX-512:
14 ns a value on an AVX2 AMD EPYC, where it was nearly all of that predict),
or as NumPy's where its loop is AVX-512 code (faster there: ``registry``).
The formulas are the kernels' (``logistic`` is ``1 / (1 + exp(-z))``, softmax
subtracts the row maximum); only the ``exp``/``tanh`` implementations differ
from the fused kernel's, by an ulp or so -- NumPy's ``exp`` is the one
scikit-learn's predictions use, vtanh's ``tanh`` is within 1.3 ulps of the
true value.
"""

import numpy as np

from .kernels import registry as _registry
from .kernels import small as _small

__all__ = ["MIN_ROWS", "worthwhile", "forward"]

# Below this many rows the single compiled call wins (no per-layer Python).
MIN_ROWS = 64

# The activations with a vectorized many-row forward pass in the registry.
_VECTOR_ACTIVATIONS = {name: a.rows_forward for name, a in _registry.ACTIVATIONS.items()
                       if a.rows_forward is not None}


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
    return n_rows >= MIN_ROWS and net.activation in _VECTOR_ACTIVATIONS


def forward(net, X, output_code=None):
    """The network's output for ``X``, one layer at a time.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_features), the network's dtype
    output_code : int, optional
        The output layer's activation code, when not the network's own (identity
        instead of softmax: see ``Network._forward``'s ``argmax_only``).

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
    """
    A = X
    last = net.layout.n_layers - 1
    limit = net._codes.tiles_forward
    for i, (W, b) in enumerate(zip(net.params.coefs, net.params.intercepts)):
        if i == last and output_code is not None:
            name = _registry.ACTIVATION_NAMES[output_code]
        else:
            name = net.output_activation if i == last else net.activation
        activate = _VECTOR_ACTIVATIONS.get(name)
        code = _registry.IDENTITY if activate is not None else _registry.ACTIVATION_CODES[name]
        Z = np.empty((A.shape[0], W.shape[1]), dtype=A.dtype)
        _small.rows_forward_product(A, W, b, code, Z, limit)
        if activate is not None:
            activate(Z)
        A = Z
    return A
