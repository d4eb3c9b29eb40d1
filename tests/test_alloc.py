"""kernels/alloc.py: a vector allocated in a kernel, returned to Python, owned and freed.

Ownership is checked through Numba's runtime counters (``rtsys``): the vector's
block must be freed when Python drops its last reference, not before (values
intact after other allocations) and not never (a leak).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from numba.core.errors import TypingError

from fastnet.kernels.alloc import new_vector, stack_vector


@njit
def _filled(like, n):
    v = new_vector(like, n)
    for i in range(n):
        v[i] = i
    return v


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_new_vector_has_the_dtype_length_and_alignment_of_np_empty(dtype):
    like = np.zeros(3, dtype=dtype)
    for n in (0, 1, 5, 1000):
        v = _filled(like, n)
        assert v.dtype == np.dtype(dtype) and v.shape == (n,) and v.flags.c_contiguous
        assert v.flags.writeable and v.flags.owndata is False  # owned by Numba's meminfo
        np.testing.assert_array_equal(v, np.arange(n, dtype=dtype))
        if n:
            assert v.ctypes.data % 32 == 0


_OWNERSHIP_PROBE = """
import gc, json
import numpy as np
from numba import njit
from numba.core.runtime import rtsys
from numba.core.errors import TypingError

from fastnet.kernels.alloc import new_vector, stack_vector

@njit
def filled(like, n):
    v = new_vector(like, n)
    for i in range(n):
        v[i] = i
    return v

like = np.zeros(1)
filled(like, 1)  # compile first: compiling allocates too
gc.collect()
before = rtsys.get_allocation_stats()
v = filled(like, 100)
others = [filled(like, 100) for _ in range(5)]  # blocks allocated after it
for other in others:
    other[:] = -1.0
intact = bool((v == np.arange(100.0)).all())  # its block was not reused
del others, other, v
gc.collect()
after = rtsys.get_allocation_stats()
print("RESULT" + json.dumps({"intact": intact, "alloc": after.alloc - before.alloc,
                             "free": after.free - before.free}))
"""


def test_new_vector_is_freed_with_its_last_reference_and_not_before():
    # Numba counts its runtime's allocations only when NUMBA_NRT_STATS is set at import.
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    run = subprocess.run([sys.executable, "-c", _OWNERSHIP_PROBE], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    line = [x for x in run.stdout.splitlines() if x.startswith("RESULT")][-1]
    result = json.loads(line[len("RESULT"):])
    assert result["intact"]
    # Numba's runtime counts its allocations per meminfo and data (np.empty's: the same).
    assert result["alloc"] >= 6 and result["free"] == result["alloc"]  # none leaked


@njit
def _stack_sums(like):
    """Fill two stack vectors (dtype of an array, of a scalar) and read them back."""
    a = stack_vector(like, 5)
    b = stack_vector(like[0], 3)
    for i in range(5):
        a[i] = i + 1
    for i in range(3):
        b[i] = 10 * (i + 1)
    return a.size, b.size, a.sum(), b.sum(), a[4], b[2]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_stack_vector_holds_what_is_written(dtype):
    like = np.zeros(2, dtype=dtype)
    assert _stack_sums(like) == (5, 3, 15, 60, 5, 30)


def test_stack_vector_needs_a_compile_time_length():
    @njit
    def runtime_length(like, n):
        return stack_vector(like, n).size

    with pytest.raises(TypingError):
        runtime_length(np.zeros(1), 4)
