"""The reference matmul rates of a run, sampled between the workloads' rounds.

On a shared 2-core machine the rate of one large numpy product swung from
30 to 66 GFLOP/s between two runs, so a rate measured once at the start
made "% of peak" read 157% in one report.  :class:`RateLog` therefore takes
one sample of the rate after every round of fits (the same moments the
libraries were timed in) and the report uses the median of all samples,
with their range beside it.

Two rates: ``cpu`` -- ``numpy.matmul`` of two ``(n, n)`` matrices in the
comparison's dtype and thread count; ``cublas`` -- the GPU's GEMM through
CuPy's ``cupy.matmul`` (or ``torch.matmul`` on CUDA tensors when CuPy is
missing), timed between stream synchronizations.
"""

import statistics
import time

import numpy as np

__all__ = ["RateLog", "summarize_samples", "cublas_backend"]


def summarize_samples(samples):
    """Median, min, max and relative spread of GFLOP/s samples.

    Parameters
    ----------
    samples : list of dict
        Each with ``gflops`` (and ``after``: what ran just before it).

    Returns
    -------
    dict
        ``median``, ``min``, ``max``, ``spread`` ((max - min) / median),
        ``n_samples``, ``samples``; the median is also under ``gflops``.
    """
    values = [s["gflops"] for s in samples]
    med = statistics.median(values)
    return {"gflops": med, "median": med, "min": min(values), "max": max(values),
            "spread": (max(values) - min(values)) / med if med else None,
            "n_samples": len(values), "samples": list(samples)}


def cublas_backend():
    """``("cupy", version)`` or ``("torch", version)`` for the GPU GEMM rate, else
    ``(None, reason)``."""
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return "cupy", cupy.__version__
        reason = "CuPy sees no GPU"
    except Exception as exc:  # ImportError, or CUDARuntimeError without a driver
        reason = f"CuPy not usable ({type(exc).__name__}: {exc})"
    try:
        import torch

        if torch.cuda.is_available():
            return "torch", torch.__version__
        reason += "; torch has no CUDA device"
    except ImportError:
        reason += "; torch not importable"
    return None, reason


class _CpuProduct:
    """``numpy.matmul`` of two (n, n) matrices, one timed product per call."""

    def __init__(self, dtype, n):
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((n, n)).astype(dtype)
        self.b = rng.standard_normal((n, n)).astype(dtype)
        self.out = np.empty((n, n), dtype=dtype)
        self.flops = 2.0 * n ** 3
        np.matmul(self.a, self.b, out=self.out)  # warm-up: thread pool start, page faults

    def seconds(self):
        start = time.perf_counter()
        np.matmul(self.a, self.b, out=self.out)
        return time.perf_counter() - start


class _GpuProduct:
    """cuBLAS GEMM of two (n, n) matrices, ``calls`` products between synchronizations."""

    def __init__(self, dtype, n, backend, calls=5):
        self.calls, self.flops = calls, 2.0 * n ** 3 * calls
        if backend == "cupy":
            import cupy as xp

            self.a = xp.random.standard_normal((n, n), dtype=np.float64).astype(dtype)
            self.b = xp.random.standard_normal((n, n), dtype=np.float64).astype(dtype)
            self.out = xp.empty((n, n), dtype=dtype)
            self._mm = lambda: xp.matmul(self.a, self.b, out=self.out)
            self._sync = lambda: xp.cuda.Stream.null.synchronize()
        else:
            import torch

            tdtype = getattr(torch, np.dtype(dtype).name)
            gen = torch.Generator(device="cuda").manual_seed(0)
            self.a = torch.randn((n, n), generator=gen, device="cuda", dtype=tdtype)
            self.b = torch.randn((n, n), generator=gen, device="cuda", dtype=tdtype)
            self.out = torch.empty((n, n), device="cuda", dtype=tdtype)
            self._mm = lambda: torch.matmul(self.a, self.b, out=self.out)
            self._sync = torch.cuda.synchronize
        self._mm()
        self._sync()

    def seconds(self):
        self._sync()
        start = time.perf_counter()
        for _ in range(self.calls):
            self._mm()
        self._sync()
        return time.perf_counter() - start


class RateLog:
    """Samples of the matmul rates taken through a run; :meth:`summary` for the report.

    Parameters
    ----------
    n : int, default=2048
        Size of the numpy product.
    gpu_n : int or None, default=None
        Size of the cuBLAS product; None: no GPU rate.
    gpu_backend : {'cupy', 'torch'}, optional
        From :func:`cublas_backend`.
    """

    def __init__(self, n=2048, gpu_n=None, gpu_backend=None):
        self.n, self.gpu_n, self.gpu_backend = n, gpu_n, gpu_backend
        self._gpu_n0 = gpu_n
        self._products = {}
        self._samples = {"cpu": {}, "cublas": {}}
        self.gpu_error = None  # why the GPU rate stopped being sampled, if it did

    def _product(self, which, dtype):
        key = (which, dtype)
        if key not in self._products:
            self._products[key] = (_CpuProduct(dtype, self.n) if which == "cpu" else
                                   _GpuProduct(dtype, self.gpu_n, self.gpu_backend))
        return self._products[key]

    def sample(self, dtype, after=""):
        """Take one sample of each rate in ``dtype``; returns the CPU sample's GFLOP/s.

        Parameters
        ----------
        dtype : {'float64', 'float32'}
        after : str
            What ran just before (recorded with the sample).
        """
        kinds = ["cpu"] + (["cublas"] if self.gpu_n else [])
        for which in kinds:
            try:
                product = self._product(which, dtype)
                seconds = product.seconds()
            except Exception as exc:  # a GPU failure loses the GPU rate, not the whole run
                if which == "cpu":
                    raise
                self.gpu_error = f"{type(exc).__name__}: {exc}"
                self.gpu_n = None
                continue
            self._samples[which].setdefault(dtype, []).append(
                {"gflops": product.flops / seconds / 1e9, "seconds": seconds, "after": after})
        return self._samples["cpu"][dtype][-1]["gflops"]

    def release(self):
        """Free the matrices (the GPU's especially) once the run is over."""
        self._products.clear()

    def summary(self):
        """``{"cpu": {dtype: summary}, "cublas": {dtype: summary}}`` (see
        :func:`summarize_samples`), with the product sizes under ``n``."""
        out = {}
        for which, by_dtype in self._samples.items():
            size = self.n if which == "cpu" else (self.gpu_n or self._gpu_n0)
            out[which] = {dt: dict(summarize_samples(s), n=size,
                                   backend="numpy" if which == "cpu" else self.gpu_backend)
                          for dt, s in by_dtype.items() if s}
        return out
