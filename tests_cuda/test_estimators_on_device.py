"""The estimators with ``device='cuda'`` against ``device='cpu'``: the same model, within rounding.

Runs in a pytest process of its own, on one of two devices:

* Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set before Numba is
  imported: ``.ci/run`` and the README's test command), which runs the CUDA
  kernels on the CPU, one Python thread per CUDA thread -- tiny sizes;
* a real GPU, with ``FASTNET_CUDA_TESTS=gpu`` (``bash bench/gpu_check.sh``) --
  sizes that fill more than one block.

The oracle is the same estimator on the CPU, fitted from the same
``random_state``: the initial weights, the validation split and the shuffles
are drawn on the host, so both start alike, and the GPU's sums differ from the
CPU's BLAS only in their order (and FMA), the case ``tests/_compare.py``'s
tolerances are derived for (two implementations of the same sums, each within
Higham's bound).  Fitted attributes must be host NumPy arrays: a model trained
on the device pickles and predicts on the CPU.
"""

import os
import pathlib
import pickle
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the project's tolerance helper

from _compare import assert_same_fit, assert_same_predictions, quiet_fit  # noqa: E402

from fastnet import MLPClassifier, MLPRegressor, _device  # noqa: E402

# As tests_cuda/conftest.py reads it (which switches the simulator on otherwise).
REAL = os.environ.get("FASTNET_CUDA_TESTS", "") == "gpu"

# The simulator runs a CUDA thread as a Python thread: tiny there, a few blocks on a GPU.
N, P, HIDDEN, BATCH = (2000, 20, (64,), 200) if REAL else (40, 3, (4,), 10)
_RNG = np.random.RandomState(11)
X = _RNG.randn(N, P)
Y_REG = X[:, :3] @ np.array([1.0, -0.5, 0.25]) + 0.1 * _RNG.randn(N)
Y_CLF = np.array(["a", "b", "c"])[np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5])]

# id -> (estimator class, parameters, target, input dtype).  max_iter stays below
# n_iter_no_change: the epochs run are fixed, so n_iter_ compares exactly.
CASES = {
    "reg-adam-relu-float64": (MLPRegressor, dict(), Y_REG, np.float64),
    "reg-adam-tanh-float32": (MLPRegressor, dict(activation="tanh"), Y_REG, np.float32),
    "clf-sgd-logistic-multiclass": (MLPClassifier, dict(solver="sgd", activation="logistic",
                                                        learning_rate_init=0.1), Y_CLF,
                                    np.float64),
    "clf-adam-binary-float32": (MLPClassifier, dict(), Y_CLF == "a", np.float32),
}


def _params(extra):
    return dict(hidden_layer_sizes=HIDDEN, batch_size=BATCH, max_iter=4, random_state=0,
                **extra)


def test_the_device_is_the_one_this_run_asked_for():
    """A real-GPU run must not quietly run the simulator, nor a simulator run a GPU."""
    if REAL:
        assert not _device.simulating(), (
            "FASTNET_CUDA_TESTS=gpu but Numba's CUDA simulator is on: unset "
            "NUMBA_ENABLE_CUDASIM")
        _device.require_cuda()  # numba-cuda and a working driver, or a clear error
        from numba import cuda

        assert cuda.is_available()
        print("device:", cuda.get_current_device().name)
    else:
        assert _device.simulating(), (
            "tests_cuda runs under Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1) or, on a "
            "GPU, with FASTNET_CUDA_TESTS=gpu")
        _device.require_cuda()  # the simulator counts as a usable device


@pytest.mark.parametrize("case", list(CASES))
def test_a_cuda_fit_is_the_cpu_fit_within_rounding(case):
    cls, extra, y, dtype = CASES[case]
    Xd = X.astype(dtype)
    on_gpu = quiet_fit(cls(**_params(extra), device="cuda"), Xd, y)
    on_cpu = quiet_fit(cls(**_params(extra)), Xd, y)
    assert on_gpu.device == "cuda"
    assert all(type(a) is np.ndarray and a.dtype == dtype
               for a in on_gpu.coefs_ + on_gpu.intercepts_)
    assert_same_fit(on_gpu, on_cpu)
    assert_same_predictions(on_gpu, on_cpu, Xd)


@pytest.mark.parametrize("case", ["reg-adam-relu-float64", "clf-sgd-logistic-multiclass"])
def test_training_continues_on_the_device_as_on_the_cpu(case):
    cls, extra, y, dtype = CASES[case]
    on_gpu = quiet_fit(cls(**_params(extra), device="cuda"), X, y)
    on_cpu = quiet_fit(cls(**_params(extra)), X, y)
    for est in (on_gpu, on_cpu):
        est.partial_fit(X, y)
        quiet_fit(est.set_params(warm_start=True, max_iter=2), X, y)
    assert_same_fit(on_gpu, on_cpu)


@pytest.mark.parametrize("case", ["reg-adam-tanh-float32", "clf-adam-binary-float32"])
def test_a_model_trained_on_the_device_predicts_on_the_cpu_after_pickling(case):
    cls, extra, y, dtype = CASES[case]
    Xd = X.astype(dtype)
    on_gpu = quiet_fit(cls(**_params(extra), device="cuda"), Xd, y)
    twin = pickle.loads(pickle.dumps(on_gpu))
    assert twin.device == "cuda"
    # The twin's network is rebuilt from the host arrays: a CPU network until it trains.
    twin_net = twin._network_for_attributes()
    assert getattr(twin_net, "device", "cpu") == "cpu"
    assert_same_predictions(twin, on_gpu, Xd)
