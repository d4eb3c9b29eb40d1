"""``tanh`` that LLVM can vectorize, for many-row predict of tanh networks.

NumPy's float64 ``tanh`` is a scalar libm call on machines without AVX-512:
14 ns a value on the 2-vCPU AVX2 AMD EPYC of issue 15 (``python -m
bench.anatomy passes``), nearly all of a 10 000-row predict of the vending
machine's (2, 8, 1) network, which was no faster than scikit-learn's.  Here
``tanh`` is plain arithmetic without branches -- both halves of Cephes'
``tanh`` / ``tanhf`` computed and one selected -- so a loop of it vectorizes
(4 float64 or 8 float32 lanes with AVX2).

The formulas are Cephes' (Moshier), in the input's own precision:

* ``|x| < 0.625``: ``x + x * z * P(z) / Q(z)`` with ``z = x * x`` (float64, a
  rational function of degree 2/3) or ``x + x * z * P(z)`` (float32, degree 4):
  no cancellation near 0, ``tanh(x) = x`` for tiny and subnormal ``x``.
* from there: ``1 - 2 / (exp(2|x|) + 1)``, ``exp`` of ``vexp`` (float64) or
  Cephes' ``expf`` (float32), the sign of ``x`` restored; ``|x|`` is clamped
  where ``tanh`` has rounded to 1 (22 in float64, 10 in float32), so ``exp``
  never overflows and infinities give +-1.

NaN stays NaN, ``tanh(-0.0)`` is ``-0.0``.  Measured error against ``tanh`` in
extended precision: at most 1.31 ulps (float64) and 1.29 ulps (float32)
(``tests/test_vtanh.py``); libm's and NumPy's are within about an ulp, so a
prediction differs from scikit-learn's by ulps of its hidden activations.
"""

import math

import numpy as np

from ._jit import jit
from .vexp import _float32_from_bits, _to_int32, exp

__all__ = ["tanh64", "tanh32", "tanh_inplace"]

# Cephes tanh.c: tanh(x) = x + x**3 P(x**2) / Q(x**2) for |x| < 0.625 (Q monic).
_P0, _P1, _P2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
_Q0, _Q1, _Q2 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3
_SMALL = 0.625
# tanh(x) rounds to 1 from here: 1 - tanh(22) ~ 1.6e-19 (float64), 1 - tanh(10) ~ 4e-9
# (float32), each under half an ulp of 1.
_ONE_F64 = 22.0
_ONE_F32 = 10.0


@jit(inline=True)
def tanh64(v):
    """``tanh(v)`` of a float64, within 1.3 ulps; no branches.

    Parameters
    ----------
    v : float64

    Returns
    -------
    float64
    """
    a = math.fabs(v)
    z = a * a
    small = a + a * (z * ((_P0 * z + _P1) * z + _P2) / (((z + _Q0) * z + _Q1) * z + _Q2))
    c = a if a < _ONE_F64 else _ONE_F64  # NaN takes the clamp too: replaced below
    large = 1.0 - 2.0 / (exp(c + c) + 1.0)
    t = math.copysign(small if a < _SMALL else large, v)
    return t if v == v else v


@jit(inline=True)
def _expf(x):
    """Cephes' ``expf`` of a float32 in [0, 20] (within an ulp; no range checks)."""
    n = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
    # ln 2 in two parts, the first with 9 significant bits: n * C1 is exact.
    r = x - n * np.float32(0.693359375) - n * np.float32(-2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    e = p * (r * r) + r + np.float32(1.0)
    return e * _float32_from_bits((_to_int32(n) + 127) << 23)  # times 2**n, n in [0, 29]


@jit(inline=True)
def tanh32(v):
    """``tanh(v)`` of a float32, in float32 arithmetic, within 1.3 ulps; no branches.

    Parameters
    ----------
    v : float32

    Returns
    -------
    float32
    """
    a = math.fabs(v)
    z = a * a
    p = np.float32(-5.70498872745e-3)
    p = p * z + np.float32(2.06390887954e-2)
    p = p * z - np.float32(5.37397155531e-2)
    p = p * z + np.float32(1.33314422036e-1)
    p = p * z - np.float32(3.33332819422e-1)
    small = p * z * a + a
    c = a if a < np.float32(_ONE_F32) else np.float32(_ONE_F32)
    large = np.float32(1.0) - np.float32(2.0) / (_expf(c + c) + np.float32(1.0))
    t = math.copysign(small if a < np.float32(_SMALL) else large, v)
    return t if v == v else v


@jit
def tanh_inplace(values):
    """``values[:] = tanh(values)`` over a flat array, in its own dtype (one vector loop).

    A kernel of its own, called from Python by many-row predict (the tanh
    entry of ``registry``), compiled on first use for each dtype.

    Parameters
    ----------
    values : ndarray of shape (n,), float64 or float32
    """
    if values.itemsize == 4:
        for i in range(values.shape[0]):
            values[i] = tanh32(np.float32(values[i]))
    else:
        for i in range(values.shape[0]):
            values[i] = tanh64(np.float64(values[i]))
