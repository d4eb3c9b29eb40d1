"""NumPy's legacy ``RandomState.shuffle``, compiled, on the generator's own state.

scikit-learn reshuffles the sample order before every epoch with
``RandomState.shuffle``.  Doing that in Python costs ~11 us per epoch for
1000 samples -- as much as training a tiny network for an epoch -- and forces
a return to Python between epochs.  These kernels reproduce the same draws
bit for bit, so several epochs can run in one compiled call:

* ``_next`` is MT19937 with tempering, as ``mt19937_next`` in
  ``numpy/random/src/mt19937/mt19937.h``;
* :func:`random_interval` is ``random_interval`` from
  ``numpy/random/src/distributions/distributions.c`` (mask, then rejection);
* :func:`shuffle` is ``_shuffle_raw``: for ``i`` from ``n - 1`` down to 1,
  swap ``a[i]`` with ``a[random_interval(i)]`` (drawing from a block of
  words tempered in one pass, the same values ``_next`` gives one by one).

The state is the ``(key, pos)`` pair of ``RandomState.get_state()``: ``key``
a uint32 array of 624 words, ``pos`` kept in a one-element int64 array so the
kernels can update it in place.  ``fastnet.training`` reads the state with
``get_state`` and writes it back with ``set_state``, so the RandomState ends
exactly where scikit-learn's would.
"""

import numpy as np

from ._jit import jit
from .alloc import stack_vector

N = 624
M = 397
_MATRIX_A = np.uint32(0x9908B0DF)
_UPPER_MASK = np.uint32(0x80000000)
_LOWER_MASK = np.uint32(0x7FFFFFFF)


@jit
def _twist(key):
    """Regenerate all 624 words in place (``mt19937_gen``)."""
    one = np.uint32(1)
    zero = np.uint32(0)
    for i in range(N - M):
        y = (key[i] & _UPPER_MASK) | (key[i + 1] & _LOWER_MASK)
        key[i] = key[i + M] ^ (y >> one) ^ (_MATRIX_A if (y & one) else zero)
    for i in range(N - M, N - 1):
        y = (key[i] & _UPPER_MASK) | (key[i + 1] & _LOWER_MASK)
        key[i] = key[i + M - N] ^ (y >> one) ^ (_MATRIX_A if (y & one) else zero)
    y = (key[N - 1] & _UPPER_MASK) | (key[0] & _LOWER_MASK)
    key[N - 1] = key[M - 1] ^ (y >> one) ^ (_MATRIX_A if (y & one) else zero)


@jit(inline=True)
def _next(key, p):
    """``(output, new position)``: the next tempered 32-bit word from position ``p``."""
    if p >= N:
        _twist(key)
        p = 0
    y = key[p]
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    return y, p + 1


@jit(inline=True)
def _smear(top):
    """The smallest all-ones bit mask >= ``top`` (uint64), as ``random_interval`` builds it."""
    mask = top
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    return mask


@jit(inline=True)
def _interval(key, p, max_value):
    """``(value, new position)``: uniform in ``[0, max_value]`` (masked rejection)."""
    if max_value == 0:
        return np.int64(0), p
    top = np.uint64(max_value)
    mask = _smear(top)
    if top <= np.uint64(0xFFFFFFFF):
        while True:
            y, p = _next(key, p)
            value = np.uint64(y) & mask
            if value <= top:
                return np.int64(value), p
    while True:
        # next_uint64 of a 32-bit generator: high word first.
        hi, p = _next(key, p)
        lo, p = _next(key, p)
        value = ((np.uint64(hi) << np.uint64(32)) | np.uint64(lo)) & mask
        if value <= top:
            return np.int64(value), p


@jit
def random_interval(key, pos, max_value):
    """A uniform integer in ``[0, max_value]``, as NumPy's ``random_interval``.

    Parameters
    ----------
    key : ndarray of uint32, shape (624,)
        The generator's words; regenerated in place when used up.
    pos : ndarray of int64, shape (1,)
        Index of the next word; updated in place.
    max_value : int
        Inclusive upper bound, >= 0.

    Returns
    -------
    value : int
    """
    value, pos[0] = _interval(key, pos[0], max_value)
    return value


@jit
def _temper_block(key, out):
    """Every word of the current block, tempered (the outputs of ``_next``), into ``out``.

    One vectorizable pass per 624 draws instead of tempering inside the
    draw loop: the shuffle runs about twice as fast (12 -> 6 us for 1000 rows).
    """
    for i in range(N):
        y = key[i]
        y ^= y >> np.uint32(11)
        y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
        y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
        y ^= y >> np.uint32(18)
        out[i] = y


@jit
def shuffle(a, key, pos):
    """Shuffle the 1-D array ``a`` in place, as ``RandomState.shuffle(a)`` does.

    Parameters
    ----------
    a : ndarray of shape (n,)
    key, pos : ndarray
        The generator state (see :func:`random_interval`), advanced in place.
    """
    p = pos[0]
    i = a.shape[0] - 1
    # Bounds above 2**32 - 1 take two words per draw (a 4-billion-row order).
    while i > 0xFFFFFFFF:
        j, p = _interval(key, p, i)
        tmp = a[i]
        a[i] = a[j]
        a[j] = tmp
        i -= 1
    # The block of tempered words on the stack (``alloc.stack_vector``): np.empty would be
    # a heap allocation per epoch and dispatchers of its own to compile.
    words = stack_vector(key, N)
    _temper_block(key, words)
    # One draw a step, without a branch on its outcome: a rejected draw swaps a[i] with
    # itself and leaves i as it is (random_interval's retry); an accepted one swaps and
    # moves on.  Whether a draw is rejected is a coin toss the CPU cannot predict, and a
    # branch on it cost a misprediction every few draws.  The mask is the same for every
    # i of a run (mask >> 1, mask], so it is made once a run, and the only chain from one
    # step to the next is i's compare and subtract.  1000 rows 7.15-7.19 -> 2.66-2.67 us,
    # 50 000 rows 397-411 -> 134-143 us (`python -m bench.anatomy passes`, AVX-512 Intel
    # Xeon; the same draws and order).
    while i > 0:
        mask = np.uint32(_smear(np.uint64(np.uint32(i))))
        low = np.intp(mask >> np.uint32(1))
        while i > low:
            if p >= N:
                _twist(key)
                _temper_block(key, words)
                p = 0
            value = words[p] & mask
            p += 1
            accepted = value <= np.uint32(i)
            j = np.intp(value) if accepted else i
            tmp = a[i]
            a[i] = a[j]
            a[j] = tmp
            i -= np.intp(accepted)
    pos[0] = p
