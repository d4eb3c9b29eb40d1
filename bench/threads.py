"""One thread count for every library: BLAS, Numba, PyTorch and JAX.

:func:`limit` sets them together for the duration of a ``with`` block and
restores them afterwards, so the libraries in a comparison always run with
the same number of threads.  XLA (JAX's CPU backend) has no thread setting
of its own -- its pool is as large as the CPUs the process may run on when
the backend starts -- so :func:`pin_cpus` restricts the process to ``n``
CPUs first, before JAX starts.
"""

import contextlib
import os
import sys

__all__ = ["available_cores", "pin_cpus", "limit"]


def available_cores():
    """Cores this process may run on (its CPU affinity), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def pin_cpus(n_threads):
    """Restrict this process (and the processes it starts) to its first ``n_threads`` CPUs.

    The only thread limit that reaches XLA: with ``--xla_cpu_multi_thread_eigen=false``
    or ``intra_op_parallelism_threads=1`` in ``XLA_FLAGS`` JAX 0.10 still ran a 1024 x
    1024 product on two threads here (CPU time / wall time 1.96); restricted to one CPU
    it ran on one (1.00).  Call it before JAX's backend starts (``jax.devices()``).

    Parameters
    ----------
    n_threads : int

    Returns
    -------
    cpus : list of int or None
        The CPUs the process now runs on; None where it runs on all it had (already
        ``n_threads`` or fewer) or the platform has no CPU affinity.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    n = max(1, int(n_threads))
    if len(cpus) <= n:
        return None
    os.sched_setaffinity(0, cpus[:n])
    return cpus[:n]


@contextlib.contextmanager
def limit(n_threads):
    """Run the block with ``n_threads`` threads in BLAS/OpenMP, Numba and PyTorch.

    BLAS and OpenMP pools go through threadpoolctl (every library loaded at
    entry, so import PyTorch before entering when it takes part); Numba's
    parallel pool through ``numba.set_num_threads`` (clipped to
    ``NUMBA_NUM_THREADS``); PyTorch's intra-op pool through
    ``torch.set_num_threads`` when torch is imported.

    Parameters
    ----------
    n_threads : int

    Yields
    ------
    dict
        The counts applied: ``{"blas": n, "numba": n, "torch": n or None}``.
    """
    import numba
    from threadpoolctl import threadpool_limits

    n = max(1, int(n_threads))
    old_numba = numba.get_num_threads()
    n_numba = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n_numba)
    torch = sys.modules.get("torch")
    old_torch = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield {"blas": n, "numba": n_numba, "torch": n if torch is not None else None}
    finally:
        numba.set_num_threads(old_numba)
        if torch is not None:
            torch.set_num_threads(old_torch)
