"""The one table of fastnet's activations and losses: every other table derives from it.

Each activation has an int code (what the kernels switch on), the Glorot
factor its layers are initialized with, where it may be used (hidden layers,
output layer), how its derivative is taken from the layer's *outputs* (as
scikit-learn's ``DERIVATIVES``), the in-place vectorized function that
many-row predict uses (``fastnet._layerwise``), and -- for output
activations -- its canonical loss: the loss whose derivative with respect to
the output pre-activation is ``out - y``.  Each loss has an int code and the
estimators that accept it.

Adding an activation touches this table, its scalar math
(``kernels/scalar.py``: ``activate`` and ``derivative``) and the NumPy
reference in ``tests/reference.py`` -- nothing else: the estimators'
parameter constraints, :class:`fastnet.Network`'s checks, the layer-wise
predict path and persistence all read these dicts.

Nothing here is compiled (tanh's many-row pass is a kernel of ``vtanh``,
compiled on first use); the int constants are read by the kernels as
globals (Numba freezes them at compile time).
"""

from collections import namedtuple

import numpy as np

from .vtanh import tanh_inplace

__all__ = [
    "Activation", "Loss", "ACTIVATIONS", "LOSSES", "ACTIVATION_CODES", "ACTIVATION_NAMES",
    "LOSS_CODES",
    "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "CANONICAL_LOSS", "losses_for",
    "output_activations_for",
]

Activation = namedtuple(
    "Activation",
    ["name", "code", "init_factor", "hidden", "output", "derivative", "rows_forward",
     "canonical_loss"],
)
Activation.__doc__ = """One activation function.

Fields
------
name : str
code : int
    The value the kernels switch on.
init_factor : float
    ``f`` of the uniform initialization ``U(-b, b)``, ``b = sqrt(f / (fan_in +
    fan_out))``; scikit-learn's ``_init_coef`` uses 2 for logistic, 6 otherwise.
hidden, output : bool
    Whether it may be the activation of the hidden layers / of the output layer.
derivative : str or None
    dA/dZ written in terms of the output ``a`` (None: never back-propagated
    through, i.e. output-only activations, whose delta comes from the loss).
rows_forward : callable or None
    ``f(Z)``: applies the activation in place to the (n, units) C-contiguous
    pre-activation ``Z`` (bias already added) with vector code -- NumPy's SIMD
    ufuncs, or for tanh, where NumPy's loop is not AVX-512 code, the compiled vector
    loop of ``vtanh`` (NumPy's float64 tanh is scalar libm code without AVX-512);
    None where the fused kernel's pass is as fast (relu, identity).
canonical_loss : str or None
    For output activations, the loss it pairs with (dLoss/dZ = out - y).
"""

Loss = namedtuple("Loss", ["name", "code", "estimators"])
Loss.__doc__ = """One loss function.

Fields
------
name : str
code : int
estimators : tuple of str
    The estimators whose ``loss`` (or implied loss) it can be.
"""


def _numpy_avx512(ufunc, dtype):
    """Whether NumPy runs ``ufunc``'s loop for ``dtype`` with its AVX-512 code here.

    Read off NumPy's own record of the SIMD target each loop dispatched to at
    import (``__cpu_targets_info__``, NumPy 2); False where NumPy has no such
    record.

    Parameters
    ----------
    ufunc : str
        The ufunc's name, e.g. ``"tanh"``.
    dtype : numpy dtype
        float64 or float32.

    Returns
    -------
    bool
    """
    char = np.dtype(dtype).char
    try:
        from numpy._core import _multiarray_umath
        current = str(_multiarray_umath.__cpu_targets_info__[ufunc][char + char]["current"])
    except (ImportError, AttributeError, KeyError, TypeError):
        return False
    # "AVX512_SKX" and the like (NumPy 2.0-2.3), "X86_V4" (2.4: AVX-512 F/CD/VL/DQ/BW).
    return current.startswith("AVX512") or current == "X86_V4"


# In-place vectorized forward passes for many-row predict (``fastnet._layerwise``): the
# formulas are the kernels' (logistic is 1 / (1 + exp(-z)), softmax subtracts the
# row maximum); NumPy's exp is SIMD; Numba's exp and tanh compile to scalar libm calls.
# tanh is NumPy's where NumPy runs its AVX-512 loop, else vtanh's vector loop:
# ``python -m bench.anatomy passes``, 10 000 x 8 values, NumPy / vtanh, on an AVX2 AMD
# EPYC float64 1116 / 430 us (NumPy's is scalar libm code there), float32 210 / 158; on an
# AVX-512 Intel Xeon (Emerald Rapids) float64 116-130 / 209-223, float32 26-28 / 78-80.  The bias
# is added before, by the compiled product (NumPy's `Z += b` broadcasts a row of a few
# values at a time: 49 us for 10 000 x 8 float64, the compiled pass 17).
_NUMPY_TANH = {np.dtype(d): _numpy_avx512("tanh", d) for d in (np.float64, np.float32)}


def _tanh_vector(Z):
    if _NUMPY_TANH.get(Z.dtype, False):
        np.tanh(Z, out=Z)
    else:
        tanh_inplace(Z.reshape(Z.size))


def _logistic_numpy(Z):
    np.negative(Z, out=Z)
    np.exp(Z, out=Z)
    Z += 1
    np.reciprocal(Z, out=Z)


def _exp_numpy(Z):
    np.exp(Z, out=Z)


def _softmax_numpy(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)


IDENTITY = 0
LOGISTIC = 1
TANH = 2
RELU = 3
EXP = 4  # output only: poisson regression
SOFTMAX = 5  # output only, row-wise: multiclass classification

SQUARED_ERROR = 0
POISSON = 1
LOG_LOSS = 2  # softmax output, multiclass
BINARY_LOG_LOSS = 3  # logistic output, binary and multilabel

_A = Activation
ACTIVATIONS = {a.name: a for a in (
    _A("identity", IDENTITY, 6.0, True, True, "1", None, "squared_error"),
    _A("logistic", LOGISTIC, 2.0, True, True, "a * (1 - a)", _logistic_numpy,
       "binary_log_loss"),
    _A("tanh", TANH, 6.0, True, False, "1 - a**2", _tanh_vector, None),
    _A("relu", RELU, 6.0, True, False, "a != 0", None, None),
    _A("exp", EXP, 6.0, False, True, None, _exp_numpy, "poisson"),
    _A("softmax", SOFTMAX, 6.0, False, True, None, _softmax_numpy, "log_loss"),
)}
LOSSES = {loss.name: loss for loss in (
    Loss("squared_error", SQUARED_ERROR, ("MLPRegressor",)),
    Loss("poisson", POISSON, ("MLPRegressor",)),
    Loss("log_loss", LOG_LOSS, ("MLPClassifier",)),
    Loss("binary_log_loss", BINARY_LOG_LOSS, ("MLPClassifier",)),
)}

ACTIVATION_CODES = {name: a.code for name, a in ACTIVATIONS.items()}
ACTIVATION_NAMES = {a.code: name for name, a in ACTIVATIONS.items()}
LOSS_CODES = {name: loss.code for name, loss in LOSSES.items()}
HIDDEN_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if a.hidden)
OUTPUT_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if a.output)
CANONICAL_LOSS = {name: a.canonical_loss for name, a in ACTIVATIONS.items() if a.output}


def losses_for(estimator):
    """Names of the losses an estimator (class name) trains with.

    Parameters
    ----------
    estimator : {'MLPRegressor', 'MLPClassifier'}

    Returns
    -------
    names : tuple of str
    """
    return tuple(name for name, loss in LOSSES.items() if estimator in loss.estimators)


def output_activations_for(estimator):
    """Names of the output activations whose canonical loss the estimator trains with.

    Parameters
    ----------
    estimator : {'MLPRegressor', 'MLPClassifier'}

    Returns
    -------
    names : tuple of str
    """
    losses = losses_for(estimator)
    return tuple(name for name, loss in CANONICAL_LOSS.items() if loss in losses)


def _check():
    """The table's own invariants, checked at import: codes unique, pairs resolvable."""
    for table in (ACTIVATION_CODES, LOSS_CODES):
        if len(set(table.values())) != len(table):
            raise AssertionError(f"duplicate codes in {table}")
    for name, loss in CANONICAL_LOSS.items():
        if loss not in LOSSES:
            raise AssertionError(f"{name}: unknown canonical loss {loss!r}")
    for name, a in ACTIVATIONS.items():
        if a.hidden and a.derivative is None:
            raise AssertionError(f"{name}: a hidden activation needs a derivative")


_check()
