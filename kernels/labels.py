"""Each row's largest output, for ``MLPClassifier.predict``.

NumPy's ``argmax(axis=1)`` over rows a few classes wide pays its per-row
overhead on every row: for the 10 000 x 10 outputs of the digits classifier
it took 201-215 us of a 2.4-4.5 ms predict, this compiled loop 69 us
(``python -m bench.anatomy predict digits``).  A predict of a few rows runs it
inside the forward pass's own call (``dense.dense_argmax_if_finite``).
"""

import numpy as np

from ._jit import jit

__all__ = ["COMPILED_ARGMAX_ROWS", "row_argmax", "argmax_rows", "argmax_rows_into"]

# From this many rows row_argmax takes the compiled loop: the two take the same time at
# about 128 rows of 10 classes (``python -m bench.anatomy predict digits --rows 128``); at
# 10 000, 69 against 201-215 us.
COMPILED_ARGMAX_ROWS = 128


def row_argmax(Z):
    """``np.argmax(Z, axis=1)`` by whichever is faster for its rows (plain Python).

    NumPy's argmax over narrow rows pays a per-row cost, the compiled loop
    (:func:`argmax_rows`) one call's.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_classes), float32 or float64

    Returns
    -------
    index : ndarray of shape (n_samples,), intp
    """
    return argmax_rows(Z) if Z.shape[0] >= COMPILED_ARGMAX_ROWS else Z.argmax(axis=1)


@jit
def argmax_rows(Z):
    """``np.argmax(Z, axis=1)``: the first largest entry of each row; a NaN counts as the
    largest (its first one is taken), as in NumPy.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_classes), float32 or float64, ``n_classes >= 1``

    Returns
    -------
    index : ndarray of shape (n_samples,), intp
    """
    index = np.empty(Z.shape[0], dtype=np.intp)
    argmax_rows_into(Z, index)
    return index


@jit
def argmax_rows_into(Z, index):
    """:func:`argmax_rows` into ``index`` (n_samples,), an integer vector (written)."""
    n, k = Z.shape
    for r in range(n):
        best = 0
        top = Z[r, 0]
        if top == top:
            for c in range(1, k):
                v = Z[r, c]
                if v != v:  # NaN: NumPy's argmax stops at the first one
                    best = c
                    break
                if v > top:
                    top = v
                    best = c
        index[r] = best
