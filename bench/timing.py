"""Wall-clock timing helpers: untimed setup, several repeats, medians.

Nothing here asserts anything about speed; callers report what it measures.
"""

import statistics
import time

__all__ = ["time_once", "time_calls", "calls_per_sample", "median", "settle", "SETTLE_S"]

# OpenBLAS worker threads keep spinning for about 2**28 cycles (~0.1 s) after a call, and
# OpenMP workers spin briefly too; on a 2-core machine a library that starts while another
# one's threads still spin loses a core.  A short pause before each library's timed region
# gives every library the same, quiet start.
SETTLE_S = 0.15


def time_once(fn, setup=None):
    """Seconds taken by one ``fn()``, after an untimed ``setup()``.

    Parameters
    ----------
    fn : callable
    setup : callable, optional

    Returns
    -------
    float
    """
    if setup is not None:
        setup()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calls_per_sample(fn, target_s=0.02, max_calls=100000, probes=3):
    """How many back-to-back calls of ``fn`` take about ``target_s`` (at least 1).

    Short calls (predicting one row takes microseconds) are timed in loops so
    that the timer's resolution and overhead do not dominate.  The per-call
    time is estimated as the fastest of ``probes`` short loops, so that one
    call interrupted by the scheduler does not shrink the loop to a single call.

    Parameters
    ----------
    fn : callable
    target_s : float, default=0.02
    max_calls : int, default=100000
    probes : int, default=3

    Returns
    -------
    int
    """
    number, best = 1, float("inf")
    while True:
        for _ in range(probes):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best = min(best, (time.perf_counter() - start) / number)
        if best * number >= 1e-3 or number >= max_calls:  # long enough to trust the clock
            break
        number *= 10
    if best <= 0:
        return max_calls
    return max(1, min(max_calls, int(round(target_s / best))))


def time_calls(fn, repeats, number=1):
    """Per-call seconds of ``repeats`` samples, each ``number`` calls long.

    Parameters
    ----------
    fn : callable
    repeats : int
    number : int, default=1

    Returns
    -------
    list of float
    """
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return samples


def median(values):
    """Median of a non-empty sequence, ``None`` for an empty one."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def settle(seconds=SETTLE_S):
    """Sleep briefly so the previous library's spinning worker threads go idle (see SETTLE_S)."""
    if seconds > 0:
        time.sleep(seconds)
