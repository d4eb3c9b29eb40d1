"""fastnet's compiled core: Numba kernels that trust their inputs.

Imported only as ``fastnet.kernels``.  The Python layer above validates and
normalizes every array (C-contiguous, writable, one float dtype) before it
reaches a kernel; kernels never allocate inside the mini-batch loop.

``registry`` is the one table of activations and losses, ``scalar`` the
per-element math written once for every target, ``groups`` the typed
argument groups the kernels take.
"""

from . import activations, dense, epoch, groups, losses, optimizers, registry, scalar
from ._jit import CACHE_ENABLED

__all__ = ["activations", "dense", "epoch", "groups", "losses", "optimizers", "registry",
           "scalar", "CACHE_ENABLED"]
