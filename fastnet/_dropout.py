"""Dropout's Python side: the rates a user gives, and the seed of the masks.

The masks themselves come from a counter-based generator inside the kernels
(``fastnet.kernels.scalar.dropout_stream`` / ``dropout_keeps``: SplitMix64 of
``seed``, the batch step, the layer and the unit's position), so they need no
state beyond a 64-bit seed and a batch counter.  The seed is derived from
``random_state`` *without drawing from it*: scikit-learn's stream of draws
(initial weights, validation split, shuffles) is exactly what it would be
without dropout, and ``dropout=0`` draws nothing at all.
"""

import hashlib
from numbers import Integral, Real

import numpy as np

__all__ = ["dropout_rates", "dropout_seed"]

# Domain separation: the dropout seed of random_state=0 is not any other use of 0.
_TAG = 0x64726F70  # "drop"


def dropout_rates(dropout, n_hidden):
    """Validate ``dropout`` and return one rate per hidden layer.

    Parameters
    ----------
    dropout : float or sequence of float
        One rate for every hidden layer, or one per hidden layer; each in [0, 1).
    n_hidden : int
        Number of hidden layers.

    Returns
    -------
    rates : tuple of float, length n_hidden

    Raises
    ------
    TypeError, ValueError
        A rate that is not a real number, outside [0, 1), or a sequence of the
        wrong length.
    """
    if isinstance(dropout, (Real, np.floating, np.integer)) and not isinstance(dropout, bool):
        rates = (float(dropout),) * n_hidden
        given = dropout
    elif isinstance(dropout, (tuple, list, np.ndarray)):
        given = list(dropout)
        if len(given) != n_hidden:
            raise ValueError(
                f"dropout has {len(given)} rates but the network has {n_hidden} hidden "
                f"layer(s) (hidden_layer_sizes); give one rate per hidden layer or a single "
                f"float"
            )
        for rate in given:
            if isinstance(rate, bool) or not isinstance(rate, (Real, np.floating, np.integer)):
                raise TypeError(f"dropout rates must be real numbers; got {rate!r}")
        rates = tuple(float(r) for r in given)
    else:
        raise TypeError(
            f"dropout must be a float in [0, 1) or a tuple of such floats, one per hidden "
            f"layer; got {dropout!r}"
        )
    for rate in rates:
        if not (0.0 <= rate < 1.0):  # also refuses NaN
            raise ValueError(f"dropout rates must be in [0, 1); got {given!r}")
    return rates


def dropout_seed(random_state):
    """The 64-bit seed of the dropout masks, derived from ``random_state`` without drawing.

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState
        An int gives the same seed on every machine (``numpy.random.SeedSequence``
        is a documented, portable hash).  A RandomState gives a seed hashed from
        its current state, which it leaves untouched.  None gives fresh entropy.

    Returns
    -------
    seed : int in [0, 2**64)
    """
    if random_state is None:
        entropy = np.random.SeedSequence().entropy
    elif isinstance(random_state, Integral):
        entropy = [int(random_state)]
    elif isinstance(random_state, np.random.RandomState):
        # The state's integers (MT19937: 624 words and a position), digested first:
        # SeedSequence takes them directly too, but at ~1 us a word.
        text = repr(list(_integers(random_state.get_state(legacy=False)))).encode()
        entropy = int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "little")
    else:
        raise TypeError(f"random_state must be None, an int or a RandomState; got "
                        f"{random_state!r}")
    words = np.random.SeedSequence(entropy, spawn_key=(_TAG,)).generate_state(2, np.uint32)
    return (int(words[0]) << 32) | int(words[1])


def _integers(obj):
    """Every non-negative integer in a bit generator's state dict (MT19937 key and
    position, PCG64 state and increment, ...), in a fixed order."""
    if isinstance(obj, dict):
        for key in sorted(obj):
            yield from _integers(obj[key])
    elif isinstance(obj, np.ndarray):
        yield from obj.ravel().tolist()  # Python ints already
    elif isinstance(obj, (Integral, np.integer)) and not isinstance(obj, bool) and obj >= 0:
        yield int(obj)
