"""``Layout`` and ``Codes`` packed into one int64 vector, for the predict entry points.

Numba's call wrapper unboxes every argument on every call from Python: the two
groups are four arrays, an int and six ints, each array with an allocation of
its own, a measurable part of a one-row predict.  Packed, they are one array;
the kernel unpacks views of it (:func:`unpack`), of the same types as the
groups' fields, so the code behind the entry point is the same.

Layout of the vector, for ``L`` layers: ``[L, n_coef, units (L + 1), coef_off (L),
icpt_off (L), act_off (L), codes (6)]``.
"""

import numpy as np

from ._jit import jit
from .groups import Codes, Layout

__all__ = ["pack", "unpack"]


def pack(layout, codes):
    """``layout`` and ``codes`` as one int64 vector (plain Python).

    Parameters
    ----------
    layout : Layout
    codes : Codes

    Returns
    -------
    ndarray of shape (4 * n_layers + 9,), int64
    """
    n_layers = len(layout.units) - 1
    return np.concatenate([[n_layers, layout.n_coef], layout.units, layout.coef_off,
                           layout.icpt_off, layout.act_off, list(codes)]).astype(np.int64)


@jit(inline=True)
def unpack(packed):
    """The ``(layout, codes)`` that :func:`pack` put into ``packed`` (inside kernels).

    Returns
    -------
    layout : Layout
        Views of ``packed``.
    codes : Codes
    """
    n_layers = packed[0]
    units = packed[2 : 3 + n_layers]
    coef_off = packed[3 + n_layers : 3 + 2 * n_layers]
    icpt_off = packed[3 + 2 * n_layers : 3 + 3 * n_layers]
    act_off = packed[3 + 3 * n_layers : 3 + 4 * n_layers]
    c = 3 + 4 * n_layers
    codes = Codes(packed[c], packed[c + 1], packed[c + 2], packed[c + 3], packed[c + 4],
                  packed[c + 5])
    return Layout(units, coef_off, icpt_off, act_off, packed[1]), codes
