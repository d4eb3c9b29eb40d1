"""fastnet's compiled core: Numba kernels that trust their inputs.

Imported only as ``fastnet.kernels``.  The Python layer above validates and
normalizes every array (C-contiguous, writable, one float dtype) before it
reaches a kernel; kernels never allocate inside the mini-batch loop.
"""

from . import activations, dense, epoch, losses, optimizers
from ._jit import CACHE_ENABLED

__all__ = ["activations", "dense", "epoch", "losses", "optimizers", "CACHE_ENABLED"]
