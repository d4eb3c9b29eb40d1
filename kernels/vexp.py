"""``exp`` that LLVM can vectorize, for the CPU kernels' long ``exp`` passes.

Inside a Numba kernel ``np.exp`` compiles to a call of libm's scalar ``exp``
(pip's llvmlite has no SVML): about 5 ns a value here, where NumPy's own
ufunc runs SIMD code several times faster.  A softmax over 10 000 x 10
float64 outputs took 514 us in the kernel, 229 us as ``np.exp`` alone (issue
15); with this module's exp it takes 300-330 us (``python -m bench.anatomy
passes``).  :func:`exp` is plain arithmetic -- range
reduction, a polynomial, a power of two built from its bits -- so a loop of
it vectorizes like any other.

Accuracy: ``x = n ln2 + r`` with ``n = round(x / ln2)`` and ``|r| <= ln2 / 2``,
``r`` by Cody and Waite's two-constant reduction (fdlibm's ``ln2_hi`` has
trailing zero bits, so ``n * ln2_hi`` is exact for ``|n| < 2**11``); ``exp(r)``
by its Taylor polynomial to degree 13 (truncation below ``0.35**14 / 14! ~
4e-18``, far under an ulp), in Horner's form; the result within about 1 ulp
of the true value (``tests/test_vexp.py`` bounds it by 2 ulps against
NumPy's ``exp`` over the whole range).  ``2**n`` is applied as two factors,
so that results down to the smallest subnormal and up to the largest float
come out right; beyond those ends ``0`` and ``inf``, NaN stays NaN -- as
``np.exp``.  float32 inputs are computed in float64 and rounded once.
"""

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._jit import jit

__all__ = ["exp", "exp_inplace"]

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# exp(x) overflows above this and underflows to 0 below the other.
_OVERFLOW = 709.782712893384
_UNDERFLOW = -745.1332191019412
# Inputs are clamped into this range before the reduction, so that the exponent
# arithmetic stays in range (the results outside come from the end selects).
_CLAMP = 746.0


@intrinsic
def _to_int32(typingctx, x):
    """A float's value truncated to an int32 (LLVM's ``fptosi``; it must be in range).

    ``np.int64(x)`` is right too, but AVX2 has no vector conversion to 64-bit
    integers: LLVM converts such a loop's lanes one at a time.  To 32 bits it
    is one instruction for all of them (``vcvttpd2dq`` / ``vcvttps2dq``).
    """
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return builder.fptosi(args[0], ir.IntType(32))

    return types.int32(x), codegen


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits`` (a bitcast: vectorizes)."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the low 32 of the integer ``bits`` (vectorizes).

    Numba widens integer arithmetic to int64, hence the truncation here.
    """
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(32)) if bits.bitwidth > 32 else args[0]
        return builder.bitcast(low, ir.FloatType())

    return types.float32(bits), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (``llvm.fma``: one instruction with FMA, vectorizes)."""
    if not (a == b == c == types.float64):
        return None

    def codegen(context, builder, signature, args):
        f64 = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f64, [f64] * 3),
                                            "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@jit(inline=True)
def _pow2(k):
    """``2.0 ** k`` for an integer ``k`` in [-1022, 1023] (a normal float64)."""
    return _float_from_bits((k + 1023) << 52)


@jit(inline=True)
def _taylor(r, degree):
    """``sum(r**i / i!, i <= degree)`` (``degree`` 13 or 7) by Horner's rule, each step
    one fused multiply-add."""
    p = 0.0
    if degree == 13:
        p = 1.0 / 6227020800.0
        p = _fma(p, r, 1.0 / 479001600.0)
        p = _fma(p, r, 1.0 / 39916800.0)
        p = _fma(p, r, 1.0 / 3628800.0)
        p = _fma(p, r, 1.0 / 362880.0)
        p = _fma(p, r, 1.0 / 40320.0)
        p = _fma(p, r, 1.0 / 5040.0)
    else:
        p = 1.0 / 5040.0
    p = _fma(p, r, 1.0 / 720.0)
    p = _fma(p, r, 1.0 / 120.0)
    p = _fma(p, r, 1.0 / 24.0)
    p = _fma(p, r, 1.0 / 6.0)
    p = _fma(p, r, 0.5)
    p = _fma(p, r, 1.0)
    return _fma(p, r, 1.0)


@jit(inline=True)
def _exp(x, degree):
    """``e ** x`` as float64, with a Taylor polynomial of ``degree`` for ``e ** r``."""
    v = np.float64(x)
    c = v if v == v else 0.0  # NaN: the result is replaced below; the reduction sees 0
    # Clamped by comparisons, not min(max(...)): each builtin compiled a dispatcher of its own.
    if c < -_CLAMP:
        c = -_CLAMP
    if c > _CLAMP:
        c = _CLAMP
    n = np.floor(c * _LOG2E + 0.5)
    r = (c - n * _LN2_HI) - n * _LN2_LO
    p = _taylor(r, degree)
    k = np.int64(_to_int32(n))  # in [-1077, 1077]
    half = k >> 1  # floor(k / 2): both factors normal floats
    y = p * _pow2(half) * _pow2(k - half)
    if v > _OVERFLOW:
        y = np.inf
    if v < _UNDERFLOW:
        y = 0.0
    if v != v:
        y = v
    return y


@jit(inline=True)
def exp(x):
    """``e ** x`` of a float64, within about an ulp.

    Parameters
    ----------
    x : float

    Returns
    -------
    float64
    """
    return _exp(x, 13)


@jit(inline=True)
def exp_inplace(values):
    """``values[:] = exp(values)`` over a flat array, in its own dtype (one vector loop).

    Parameters
    ----------
    values : ndarray of shape (n,), float64 or float32
    """
    if values.itemsize == 4:
        # float32 needs 24 bits: degree 7 leaves 0.35**8 / 8! ~ 5e-9, under a tenth of
        # its ulp, and the result is rounded once to float32.
        for i in range(values.shape[0]):
            values[i] = _exp(values[i], 7)
    else:
        for i in range(values.shape[0]):
            values[i] = _exp(values[i], 13)
