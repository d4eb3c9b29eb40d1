"""The CUDA kernels' tests, under Numba's CUDA simulator, in their own pytest process.

Run them as ``NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests_cuda`` (this file
sets the variable when it is unset, but only before Numba is imported: a
process that has imported Numba without the simulator can't switch to it, and
is refused).  The simulator runs one Python thread per CUDA thread, so the
sizes here are tiny: a few rows, widths <= 8, 1-3 epochs.

On a machine with a GPU the same tests run on the device itself with
``FASTNET_CUDA_TESTS=gpu python -m pytest -q tests_cuda`` (the simulator must
be off then); they are small, so what they cost there is compiling the kernels.
"""

import os
import sys
from pathlib import Path

import pytest

ON_GPU = os.environ.get("FASTNET_CUDA_TESTS", "") == "gpu"

if (not ON_GPU and os.environ.get("NUMBA_ENABLE_CUDASIM", "") in ("", "0")
        and "numba" not in sys.modules):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

from numba.core import config  # noqa: E402

if ON_GPU and config.ENABLE_CUDASIM:
    pytest.exit("FASTNET_CUDA_TESTS=gpu runs on the GPU: unset NUMBA_ENABLE_CUDASIM", returncode=4)
if not ON_GPU and not config.ENABLE_CUDASIM:
    pytest.exit("tests_cuda runs under Numba's CUDA simulator (or FASTNET_CUDA_TESTS=gpu on a "
                "GPU): set NUMBA_ENABLE_CUDASIM=1 before Numba is imported (run it in its own "
                "pytest process)", returncode=4)

# The project's tolerance helpers (tests/_compare.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# The simulator's block manager polls its threads while holding the GIL: a shorter
# switch interval lets the simulated threads reach each syncthreads() sooner.
sys.setswitchinterval(0.001)
