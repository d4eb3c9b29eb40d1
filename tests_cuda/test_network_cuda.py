"""``Network(device="cuda")`` end to end under the simulator, and scikit-learn as the oracle."""

import pickle
import warnings

import numpy as np
import pytest
from _cases import data, k_forward, k_grad, k_loss, k_train, network
from _compare import assert_close, assert_same_fit
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import fastnet
import fastnet.estimators
import fastnet.network
from fastnet import Adam, Network
from fastnet import _device
from fastnet.kernels import cuda as twins
from fastnet.kernels import dropout as cpu_dropout
from fastnet.kernels import scalar
from fastnet.kernels.cuda import wide


def _cuda(net):
    net.device = "cuda"
    return net


def test_train_epoch_loss_and_grad_data_loss_match_cpu():
    """The public Network methods of a cuda network give the CPU network's numbers."""
    X, Y, sw = data(8, "identity", 2, np.float64)
    cpu, gpu = (network("tanh", "identity", 2, np.float64, dropout=0.2) for _ in range(2))
    gpu = _cuda(gpu)
    for net in (cpu, gpu):
        opt = Adam(0.01)
        net.losses = [net.train_epoch(X, Y, opt, batch_size=3, sample_weight=sw, alpha=0.01)
                      for _ in range(2)]
    steps = 6
    assert gpu.dropout_step == cpu.dropout_step == steps
    assert_close(gpu.params.flat, cpu.params.flat, k=k_train(cpu, steps, 3))
    assert_close(gpu.losses, cpu.losses, k=k_loss(cpu, 3) + 8 + steps)
    loss_c, grad_c = cpu.loss_and_grad(X, Y, sw, alpha=0.1, dropout_step=3)
    loss_g, grad_g = gpu.loss_and_grad(X, Y, sw, alpha=0.1, dropout_step=3)
    assert_close(grad_g.flat, grad_c.flat, k=k_grad(cpu, 8))
    assert_close(loss_g, loss_c, k=k_loss(cpu, 8))
    assert_close(gpu.data_loss(X, Y, sw), cpu.data_loss(X, Y, sw), k=k_loss(cpu, 8))


def test_training_data_is_uploaded_once_per_fit():
    """The network's device cache keeps X, Y and the weights between kernel calls."""
    X, Y, sw = data(6, "identity", 1, np.float64)
    net = _cuda(network("relu", "identity", 1, np.float64))
    opt = Adam(0.01)
    net.train_epoch(X, Y, opt, batch_size=3, sample_weight=sw)
    cache = net._cuda_cache()
    uploads = cache.uploads
    assert uploads == 7  # X, Y, the weights and the layout's 4 tables
    net.train_epoch(X, Y, opt, batch_size=3, sample_weight=sw)  # the same arrays again
    net._loss_and_grad(X, Y, sw, True, 0.0, np.empty_like(net.params.flat))
    assert cache.uploads == uploads
    X[0, 0] += 1.0  # edited in place: uploaded again
    net._loss_and_grad(X, Y, sw, True, 0.0, np.empty_like(net.params.flat))
    assert cache.uploads == uploads + 1
    net.release_device_memory()
    assert net._device_cache is None
    net._loss_and_grad(X, Y, sw, True, 0.0, np.empty_like(net.params.flat))
    assert net._cuda_cache().uploads == 7


def test_pickle_keeps_device_drops_buffers():
    X, Y, _ = data(5, "identity", 1, np.float64)
    net = _cuda(network("relu", "identity", 1, np.float64))
    net.train_epoch(X, Y, Adam(0.01), batch_size=5)
    assert len(net._cuda_cache()) > 0
    copy = pickle.loads(pickle.dumps(net))
    assert copy.device == "cuda" and copy._device_cache is None
    np.testing.assert_array_equal(copy.params.flat, net.params.flat)


def test_large_predicts_run_on_the_gpu(monkeypatch):
    """From CUDA_PREDICT_MIN_ROWS rows on the GPU forward runs; below it the CPU's."""
    net = _cuda(network("logistic", "softmax", 3, np.float32))
    X, _, _ = data(6, "softmax", 3, np.float32)
    calls = []
    real = twins.dense_forward
    monkeypatch.setattr(twins, "dense_forward",
                        lambda *a, **kw: calls.append(a[3].shape[0]) or real(*a, **kw))
    monkeypatch.setattr(fastnet.network, "CUDA_PREDICT_MIN_ROWS", 4)
    cpu_net = network("logistic", "softmax", 3, np.float32)
    expected = cpu_net.forward(X)
    assert_close(net.forward(X), expected, k=k_forward(net))
    assert_close(net._forward_if_finite(X), expected, k=k_forward(net))
    assert calls == [6, 6]
    net.forward(X[:3])
    assert calls == [6, 6]  # 3 rows: the CPU
    bad = X.copy()
    bad[1, 1] = np.nan
    assert net._forward_if_finite(bad) is None and calls == [6, 6]


def test_cuda_unusable(monkeypatch):
    """No GPU: creating a cuda network raises the clear error, training raises it, a cuda
    network made elsewhere (loaded from a file) still predicts, on the CPU."""
    net = _cuda(network("tanh", "identity", 1, np.float64))
    X, Y, _ = data(5, "identity", 1, np.float64)
    message = "device='cuda' needs an NVIDIA GPU with a working driver: no driver"
    monkeypatch.setattr(_device, "cuda_problem", lambda: (RuntimeError, message))
    monkeypatch.setattr(fastnet.network, "CUDA_PREDICT_MIN_ROWS", 1)
    with pytest.raises(RuntimeError, match="NVIDIA GPU"):
        Network([3, 2, 1], device="cuda")
    expected = network("tanh", "identity", 1, np.float64).forward(X)
    np.testing.assert_array_equal(net.forward(X), expected)  # the CPU's, exactly
    before = net.params.flat.copy()
    with pytest.raises(RuntimeError, match="NVIDIA GPU"):
        net.train_epoch(X, Y, Adam(0.01))
    np.testing.assert_array_equal(net.params.flat, before)
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        net.device = "gpu"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_masks_equal_the_cpu(dtype):
    """The wide path's bias+activation pass draws the CPU's masks (identity on ones)."""
    from numba import cuda

    n, k, rate = 6, 5, 0.4
    with np.errstate(over="ignore"):
        key = np.uint64(scalar.dropout_stream(np.uint64(12345), np.int64(3), 1))
    expected = np.ones((n, k), dtype=dtype)
    cpu_dropout.dropout_forward(expected, key, rate)
    Z = cuda.to_device(np.ones((n, k), dtype=dtype))
    with twins.launching():
        wide.bias_activation[1, 32](Z, cuda.to_device(np.zeros(k, dtype=dtype)), 0, rate, key)
    got = Z.copy_to_host()
    np.testing.assert_array_equal(got == 0, expected == 0)
    assert 0 < (got == 0).sum() < n * k
    assert_close(got, expected, k=1)


# ----------------------------------------------------- scikit-learn as the oracle
FITS = [
    (fastnet.MLPRegressor, SkMLPRegressor,
     dict(hidden_layer_sizes=(4,), activation="tanh", solver="adam", batch_size=4,
          max_iter=2, random_state=0, alpha=0.01), "regression"),
    (fastnet.MLPClassifier, SkMLPClassifier,
     dict(hidden_layer_sizes=(3,), activation="relu", solver="sgd", momentum=0.9,
          nesterovs_momentum=True, batch_size=5, max_iter=2, random_state=1),
     "multiclass"),
    (fastnet.MLPClassifier, SkMLPClassifier,
     dict(hidden_layer_sizes=(3,), activation="logistic", solver="lbfgs", max_iter=3,
          random_state=2), "binary"),
]


@pytest.mark.parametrize("path", ["fused", "wide"])
@pytest.mark.parametrize("fast_cls,sk_cls,params,target", FITS, ids=["adam", "sgd", "lbfgs"])
def test_fit_matches_scikit_learn(monkeypatch, fast_cls, sk_cls, params,
                                  target, path):
    """Same random_state, same initial weights and shuffles: the fit on the CUDA twins is
    scikit-learn's, to the rounding of sums added in another order."""
    if path == "wide":  # every layer wider than the bound: the cuBLAS path
        monkeypatch.setattr(twins, "FUSED_MAX_WIDTH", 0)
    wide_calls = []
    for name in ("train", "loss_and_grad"):
        real = getattr(wide, name)
        monkeypatch.setattr(wide, name, lambda *a, _real=real, **kw: wide_calls.append(1)
                            or _real(*a, **kw))
    rng = np.random.RandomState(0)
    n = 9
    X = rng.randn(n, 3)
    if target == "regression":
        y = X @ rng.randn(3) + 0.1 * rng.randn(n)
    elif target == "multiclass":
        y = np.arange(n) % 3
    else:
        y = (X[:, 0] > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fn = fast_cls(device="cuda", **params).fit(X, y, sample_weight=sw)
        sk = sk_cls(**params).fit(X, y, sample_weight=sw)
    assert fn._network.device == "cuda"
    assert bool(wide_calls) == (path == "wide")
    assert_same_fit(fn, sk, n_samples=n)


def test_import_fastnet_does_not_import_numba_cuda():
    """A fresh process: importing fastnet and using a CPU network loads no CUDA module."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, fastnet\n"
            "net = fastnet.Network([2, 3, 1]); net.forward(np.zeros((1, 2)))\n"
            "print(sorted(m for m in sys.modules if m.startswith(('numba.cuda', 'numba_cuda',"
            " 'fastnet.kernels.cuda'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"
