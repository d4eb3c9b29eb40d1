"""Where a network computes: ``device="cpu"`` (always) or ``device="cuda"``.

``import fastnet`` never imports ``numba.cuda``: the checks here import it
only when ``device="cuda"`` is asked for.  The CUDA path needs the optional
``cuda`` extra (``pip install "fastnet[cuda]"``: numba-cuda with the CUDA 13
wheels) and an NVIDIA driver -- or Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1`` set before Numba is imported), which runs the same
kernels on the CPU, one Python thread per CUDA thread, for tests.
"""

import importlib.metadata
import importlib.util
import os
import sys

__all__ = ["DEVICES", "check_device", "cuda_problem", "require_cuda", "simulating"]

DEVICES = ("cpu", "cuda")

INSTALL_HINT = 'pip install "fastnet[cuda]"'


def check_device(device):
    """``device`` validated: 'cpu' or 'cuda' (str).

    Raises
    ------
    TypeError
        ``device`` is not a str.
    ValueError
        ``device`` is another string.
    """
    if not isinstance(device, str):
        raise TypeError(f"device must be a str, 'cpu' or 'cuda'; got {type(device).__name__}")
    if device not in DEVICES:
        raise ValueError(f"device must be 'cpu' or 'cuda'; got {device!r}")
    return device


def simulating():
    """True when Numba's CUDA simulator is switched on (``NUMBA_ENABLE_CUDASIM``)."""
    if "numba" in sys.modules:
        from numba.core import config

        return bool(config.ENABLE_CUDASIM)
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _numba_cuda_installed():
    try:
        importlib.metadata.version("numba-cuda")
    except importlib.metadata.PackageNotFoundError:
        return False
    return importlib.util.find_spec("numba_cuda") is not None


def cuda_problem():
    """Why ``device='cuda'`` can't be used here, or None when it can.

    Checks, in order: the ``numba-cuda`` package (the ``cuda`` extra), then
    -- unless the simulator is on -- a usable NVIDIA driver and GPU.

    Returns
    -------
    problem : (exception class, str) or None
        ImportError for the missing package, RuntimeError for the driver.
    """
    if not _numba_cuda_installed():
        return ImportError, (f"device='cuda' needs the optional package numba-cuda, which is "
                             f"not installed; install the cuda extra: {INSTALL_HINT}")
    if simulating():
        return None
    from numba import cuda

    if not cuda.is_available():
        try:
            cuda.current_context()
        except Exception as exc:  # CudaSupportError and friends: name what the driver said
            detail = " ".join(str(exc).split())
        else:  # pragma: no cover - is_available() False but a context came up
            detail = "numba.cuda.is_available() is False"
        return RuntimeError, f"device='cuda' needs an NVIDIA GPU with a working driver: {detail}"
    return None


def require_cuda():
    """Raise a clear error when ``device='cuda'`` can't be used here.

    Raises
    ------
    ImportError
        numba-cuda (the ``cuda`` extra) is not installed.
    RuntimeError
        No usable NVIDIA driver or GPU (and the simulator is off).
    """
    problem = cuda_problem()
    if problem is not None:
        error, message = problem
        raise error(message)
