"""The machine a report was measured on, and its matrix-multiply peak.

:func:`environment` records what the numbers depend on: CPU model, cores,
threads used, library versions, the BLAS kernels threadpoolctl reports for
numpy and scipy (``internal_api``, ``architecture``, ``num_threads``) and
``OPENBLAS_CORETYPE`` -- the machines here may set it to ``Haswell``, which
roughly halves matmul speed on newer CPUs.  It is recorded, never changed.

The reference matmul rates are sampled through a run by :mod:`bench.peaks`.
"""

import importlib.metadata
import os
import platform
import sys

import numpy as np

from .threads import available_cores

__all__ = ["cpu_model", "versions", "blas_info", "load_average", "environment"]

# Optional peers whose versions a report names when they took part (distribution names).
_OPTIONAL = {"torch": ("torch",), "jax": ("jax", "jaxlib", "optax"),
             "cupy": ("cupy-cuda13x", "cupy-cuda12x", "cupy"), "numba-cuda": ("numba-cuda",)}


def cpu_model():
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :mod:`platform`)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def versions(include=("torch",)):
    """Versions of python, the core libraries and the optional ones named in ``include``.

    Parameters
    ----------
    include : sequence of str, default=('torch',)
        Keys of the optional peers ('torch', 'jax', 'cupy', 'numba-cuda'); each
        is reported when installed (its package metadata; nothing is imported).

    Returns
    -------
    dict
        name -> version string; a library that is not installed is absent.
    """
    import numba
    import scipy
    import sklearn

    import fastnet

    out = {
        "python": platform.python_version(),
        "fastnet": fastnet.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
    }
    try:
        import threadpoolctl

        out["threadpoolctl"] = threadpoolctl.__version__
    except ImportError:  # pragma: no cover - a scikit-learn dependency
        pass
    for key in include:
        for dist in _OPTIONAL.get(key, ()):
            try:
                out[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
    return out


def _owner(filepath):
    """Which package shipped a native library, judged from its path."""
    path = (filepath or "").replace("\\", "/").lower()
    for marker, name in (("/numpy.libs/", "numpy"), ("/numpy/", "numpy"),
                         ("/scipy.libs/", "scipy"), ("/scipy/", "scipy"),
                         ("/scikit_learn.libs/", "scikit-learn"), ("/sklearn/", "scikit-learn"),
                         ("/torch/", "torch"), ("/torch.libs/", "torch"),
                         ("/numba/", "numba")):
        if marker in path:
            return name
    if path.startswith(("/usr/", "/lib")):
        return "system"
    return "other"


def blas_info():
    """The thread pools threadpoolctl sees, tagged with the package that loaded them.

    ``scipy.linalg`` is imported first so that scipy's own BLAS is loaded
    (scipy wheels ship a separate OpenBLAS from numpy's).

    Returns
    -------
    list of dict
        ``owner``, ``user_api``, ``internal_api``, ``architecture``,
        ``num_threads``, ``version``, ``filepath`` per pool.
    """
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS)
    from threadpoolctl import threadpool_info

    pools = []
    for pool in threadpool_info():
        pools.append({
            "owner": _owner(pool.get("filepath")),
            "user_api": pool.get("user_api"),
            "internal_api": pool.get("internal_api"),
            "architecture": pool.get("architecture"),
            "num_threads": pool.get("num_threads"),
            "version": pool.get("version"),
            "filepath": pool.get("filepath"),
        })
    return pools


def load_average():
    """The 1, 5 and 15 minute load averages (``None`` where the OS has none).

    Other processes on a 2-core machine make timings noisy: a load near or above
    the core count at the start or end of a run says its numbers are indicative.
    """
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def environment(threads, libraries=("torch",)):
    """Everything a report's numbers depend on.

    Parameters
    ----------
    threads : int
        The thread count every library ran with.
    libraries : iterable of str, default=('torch',)
        The run's libraries (e.g. 'torch', 'jax-cuda'): the optional ones
        among them get their versions reported.

    Returns
    -------
    dict
    """
    include = {lib.split("-")[0] for lib in libraries}
    if any(lib.endswith("-cuda") for lib in libraries):
        include |= {"cupy", "numba-cuda"}
    return {
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "logical_cpus": os.cpu_count(),
        "available_cores": available_cores(),
        "threads_used": int(threads),
        "versions": versions(sorted(include)),
        "blas": blas_info(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average_at_start": load_average(),
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR"),
        "python_executable": sys.executable,
    }
