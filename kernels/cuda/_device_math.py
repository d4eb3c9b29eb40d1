"""The shared scalar math (``kernels/scalar.py``) as CUDA device functions.

``scalar`` registers each function for numba-core's CPU target
(``register_jitable``, compiled as subroutines of the CPU kernels).  numba-cuda
(0.30, with numba 0.68) has IR classes of its own, and inlining numba-core IR
into its pipeline trips an ``AssertionError`` in ``_patch_var_dels``; rather
than depend on how the CPU side registers the math, the CUDA twins call the
*same code objects* -- the same math, operation for operation -- compiled with
``cuda.jit(device=True)``, in a copy of ``scalar``'s globals in which each scalar function's callees
(``xlogy`` in ``loss_term``, ``splitmix64`` in the dropout hash) are their
device twins too.  ``like`` keeps its generic ``@overload``, which CUDA
compiles as it is.

Under the simulator the device functions are the plain Python functions.
"""

import types

from numba import cuda
from numba.core import config

from .. import scalar
from ._compat import add_missing_ufunc_loops

__all__ = ["activate", "derivative", "softmax_row", "xlogy", "loss_term", "sgd_update",
           "adam_update", "splitmix64", "dropout_stream", "dropout_keeps"]

if not config.ENABLE_CUDASIM:
    add_missing_ufunc_loops()


def _device_twins(module, names):
    """``{name: device function}`` compiled from ``module``'s functions' code objects."""
    namespace = dict(vars(module))
    twins = {}
    for name in names:
        func = getattr(module, name)
        clone = types.FunctionType(func.__code__, namespace, name, func.__defaults__,
                                   func.__closure__)
        clone.__doc__ = func.__doc__
        twins[name] = cuda.jit(device=True)(clone)
    namespace.update(twins)  # globals are looked up when compiling: callees are twins too
    return twins


_TWINS = _device_twins(scalar, __all__)
activate = _TWINS["activate"]
derivative = _TWINS["derivative"]
softmax_row = _TWINS["softmax_row"]
xlogy = _TWINS["xlogy"]
loss_term = _TWINS["loss_term"]
sgd_update = _TWINS["sgd_update"]
adam_update = _TWINS["adam_update"]
splitmix64 = _TWINS["splitmix64"]
dropout_stream = _TWINS["dropout_stream"]
dropout_keeps = _TWINS["dropout_keeps"]
