"""Device copies of host arrays, and the launches' simulator hygiene.

:class:`DeviceCache` keeps the device copy of each training array for as
long as the same host array comes back (a fit calls the kernels many times on
the same X, Y, sample weights and layout tables): X is uploaded once per fit,
not once per call.  Parameters and optimizer state are *not* cached: every
call uploads them and downloads them at the end (3 x n_params values), so the
host arrays stay the truth the rest of fastnet reads and writes in place --
the CPU kernels' contract -- and a Ctrl-C between calls loses nothing.
"""

import contextlib
import warnings
from collections import OrderedDict

import numpy as np
from numba import cuda
from numba.core import config

__all__ = ["DeviceCache", "launching", "to_device"]

# Values compared to tell an in-place change of a cached host array (see DeviceCache).
_FINGERPRINT_SAMPLES = 1024


def _fingerprint(host):
    """Shape, dtype, address and up to ~1024 evenly spaced values of ``host``."""
    flat = host.reshape(-1)
    stride = max(1, flat.shape[0] // _FINGERPRINT_SAMPLES)
    return (host.shape, host.dtype.str, host.__array_interface__["data"][0],
            flat[::stride].tobytes(), flat[-1:].tobytes())


class DeviceCache:
    """Device copies of host arrays, keyed on the host array's identity.

    An entry holds a reference to its host array (so its ``id`` can't be
    reused while cached) and a fingerprint -- shape, dtype, address and ~1024
    evenly spaced values -- checked on every hit, so an array changed in place
    between two fits (a warm start on edited data) is uploaded again.  An
    edit that leaves every sampled value alone goes unseen: call
    :meth:`clear` after editing training data in place.  At most
    ``capacity`` entries, least recently used out first.

    Parameters
    ----------
    capacity : int, default=16
    """

    def __init__(self, capacity=16):
        self.capacity = capacity
        self._entries = OrderedDict()
        self.uploads = 0  # how many arrays were copied to the device (for tests)

    def get(self, host):
        """The device copy of the ndarray ``host`` (uploaded on a miss)."""
        key = id(host)
        print_ = _fingerprint(host)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is host and entry[1] == print_:
            self._entries.move_to_end(key)
            return entry[2]
        device = to_device(host)
        self.uploads += 1
        self._entries[key] = (host, print_, device)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return device

    def clear(self):
        """Drop every device copy."""
        self._entries.clear()

    def __len__(self):
        return len(self._entries)


def to_device(host):
    """``cuda.to_device`` of a C-contiguous copy; a 0-length array becomes 1 long.

    (An unweighted fit passes an empty sample-weight array the kernels never read.)
    """
    host = np.ascontiguousarray(host)
    if host.size == 0:
        host = np.zeros((1,) * max(host.ndim, 1), dtype=host.dtype)
    return cuda.to_device(host)


@contextlib.contextmanager
def launching():
    """Around every launch: under the simulator, silence NumPy's uint64 overflow warnings.

    The dropout hash multiplies 64-bit words modulo 2**64 (wrap-around is its
    point); compiled code does so silently, the simulator computes it with
    NumPy scalars, which warn.  The simulator's threads read the global
    warning filters, which this sets for the launch.
    """
    if not config.ENABLE_CUDASIM:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning)
        with np.errstate(over="ignore"):
            yield
