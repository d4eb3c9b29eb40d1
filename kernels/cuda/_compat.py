"""Fill gaps in numba-cuda's CUDA ufunc table that the shared scalar math needs.

``kernels/scalar.py`` writes the activations and Adam with ``np.exp`` and
``np.sqrt`` on scalars.  numba-cuda 0.30's table of CUDA ufunc loops
(``numba.cuda.ufuncs.ufunc_db``) has ``np.log`` and ``np.tanh`` but no
``np.exp`` and no ``np.sqrt``: typing succeeds and lowering fails with
``KeyError: <ufunc 'exp'>``.  :func:`add_missing_ufunc_loops` adds the two
float loops, lowered to the same libdevice functions ``math.exp`` /
``math.sqrt`` use (``expf``/``exp``, ``sqrtf``/``sqrt``), so the scalar math
compiles unchanged for both devices.  It only adds what is missing: a
numba-cuda that has the loops keeps its own.
"""

import math

import numpy as np

__all__ = ["add_missing_ufunc_loops"]


def add_missing_ufunc_loops():
    """Add float32/float64 loops for ``np.exp`` and ``np.sqrt`` where numba-cuda lacks them."""
    from numba.cuda import ufuncs
    from numba.cuda.mathimpl import get_unary_impl_for_fn_and_ty

    db = ufuncs.ufunc_db()
    for ufunc, fn in ((np.exp, math.exp), (np.sqrt, math.sqrt)):
        if ufunc in db:
            continue

        def lower(context, builder, sig, args, fn=fn):
            return get_unary_impl_for_fn_and_ty(fn, sig.args[0])(context, builder, sig, args)

        db[ufunc] = {"f->f": lower, "d->d": lower}
