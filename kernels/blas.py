"""BLAS products for the kernels: ``np.dot``'s own code, without its compiled wrappers.

Inside a kernel, ``np.dot(X, Y, out)`` is a Numba ``@overload``: each argument
layout compiles a dispatcher of its own -- typing, LLVM optimization and
machine code -- before the kernel calling it links it in (0.47-0.66 s of a
cold tiny fit on the 2-vCPU AMD EPYC: ``python -m bench.anatomy firstfit
tiny`` with ``np.dot`` in the kernels).  These intrinsics emit the very same code
(``numba.np.linalg``'s ``dot_3_mm`` and ``dot_2_vv``: the shape checks, the gemv/dot
special cases and the call to BLAS through SciPy's ``cython_blas``) straight into the
calling kernel, so the products and their rounding are ``np.dot``'s.
"""

from numba import types
from numba.core.typing import signature
from numba.extending import intrinsic
from numba.np.linalg import dot_2_vv, dot_3_mm, ensure_blas

__all__ = ["matmul_into", "vdot"]


def _blas_dtype(*arrays):
    return (all(isinstance(a, types.Array) for a in arrays)
            and len({a.dtype for a in arrays}) == 1
            and arrays[0].dtype in (types.float32, types.float64))


@intrinsic
def matmul_into(typingctx, X, Y, out):
    """``np.dot(X, Y, out)`` for 2-D ``X`` (n, m), ``Y`` (m, k) and C-contiguous ``out`` (n, k).

    ``X`` and ``Y`` C- or F-contiguous (a transpose is F).  Returns ``out``, as
    ``np.dot`` does (a new reference, which a caller that drops it releases).
    """
    if not (_blas_dtype(X, Y, out) and X.ndim == Y.ndim == out.ndim == 2
            and X.layout in "CF" and Y.layout in "CF" and out.layout == "C"):
        return None

    def codegen(context, builder, sig, args):
        ensure_blas()
        return dot_3_mm(context, builder, sig, args)

    return signature(out, X, Y, out), codegen


@intrinsic
def vdot(typingctx, x, y):
    """``np.dot(x, y)`` of two contiguous 1-D arrays of one dtype: a scalar of that dtype."""
    if not (_blas_dtype(x, y) and x.ndim == y.ndim == 1 and x.layout == y.layout == "C"):
        return None

    def codegen(context, builder, sig, args):
        ensure_blas()
        return dot_2_vv(context, builder, sig, args)

    return signature(x.dtype, x, y), codegen
