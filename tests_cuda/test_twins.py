"""The CUDA twins against the CPU kernels, on both CUDA paths, both dtypes."""

import numpy as np
import pytest
from _cases import (DTYPES, NETS, PATHS, data, k_forward, k_grad, k_loss, k_train, network)
from _compare import assert_close

from fastnet import SGD, Adam
from fastnet.kernels import cuda as twins
from fastnet.kernels import dense, epoch, groups


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden,output,k", NETS)
def test_forward(hidden, output, k, dtype, path):
    net = network(hidden, output, k, dtype)
    X, _, _ = data(7, output, k, dtype)
    acts = np.empty(7 * net.layout.activation_size, dtype=dtype)
    expected = dense.dense_forward(net.params.flat, net.layout.group, net._codes, X, acts, None)
    got = twins.dense_forward(net.params.flat, net.layout.group, net._codes, X,
                              fused_max_width=PATHS[path])
    assert got.shape == (7, k) and got.dtype == dtype
    assert_close(got, expected, k=k_forward(net))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden,output,k", NETS)
def test_loss_and_grad(hidden, output, k, dtype, path):
    """L-BFGS's evaluation: sample weights, L2, and dropout masks at a given step."""
    net = network(hidden, output, k, dtype, dropout=0.3)
    n = 6
    X, Y, sw = data(n, output, k, dtype)
    drop = net._dropout_group(np.array([4], dtype=np.int64))
    batch = groups.Data(X, Y, sw, True)
    alpha = dtype(0.05)
    work = groups.Work(np.empty(0, dtype), np.empty(0, dtype), np.empty(0, dtype),
                       np.empty(n * net.layout.activation_size, dtype),
                       np.empty(n * net.layout.activation_size, dtype), np.empty(k, dtype),
                       np.empty(net.layout.n_params, dtype))
    expected_grad = np.empty(net.layout.n_params, dtype=dtype)
    expected = epoch.batch_loss_and_grad(net.params.flat, expected_grad, net.layout.group,
                                         net._codes, batch, work, alpha, drop)
    grad = np.full(net.layout.n_params, np.nan, dtype=dtype)
    loss = twins.batch_loss_and_grad(net.params.flat, grad, net.layout.group, net._codes, batch,
                                     None, alpha, drop, fused_max_width=PATHS[path])
    assert np.asarray(loss).dtype == dtype
    assert_close(grad, expected_grad, k=k_grad(net, n), err_msg="gradient")
    assert_close(loss, expected, k=k_loss(net, n), err_msg="loss")
    assert drop.step[0] == 4  # an evaluation does not advance the masks


def _train(run, net, X, Y, sw, make_opt, dropout_step, n_epochs, batch_size, max_batches,
           calls=1, **kwargs):
    """``calls`` runs of ``run`` (the CPU or CUDA run_epochs); everything they leave."""
    dtype = net.dtype
    params = net.params.flat.copy()
    opt = make_opt()
    og = opt.group(net.layout.n_params, dtype, 0.02)
    rs = np.random.RandomState(7)
    _, key, pos, _, _ = rs.get_state()
    shuf = groups.Shuffle(True, np.arange(X.shape[0], dtype=np.int64),
                          np.array(key, dtype=np.uint32), np.array([pos], dtype=np.int64))
    cursor, partial = np.zeros(1, dtype=np.int64), np.zeros(1)
    drop = net._dropout_group(np.array([dropout_step], dtype=np.int64))
    data_group = groups.Data(X, Y, sw, sw.shape[0] > 0)
    work = net._workspace_for(batch_size)
    done, losses = [], []
    for _ in range(calls):
        plan = groups.plan(n_epochs, batch_size, max_batches, cursor, partial)
        done.append(int(run(params, net.layout.group, net._codes, data_group, work, og, shuf,
                            plan, drop, **kwargs)))
        losses.append(plan.losses[:done[-1]].copy())
    return dict(done=done, params=params, state=og.state, step=int(og.step[0]),
                order=shuf.order, key=shuf.key, pos=int(shuf.pos[0]), cursor=int(cursor[0]),
                partial=float(partial[0]), losses=np.concatenate(losses),
                drop_step=None if drop is None else int(drop.step[0]))


OPTIMIZERS = {
    "adam": lambda: Adam(0.01),
    "sgd-nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "sgd-momentum": lambda: SGD(0.05, momentum=0.5, nesterov=False),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt_name,hidden,output,k,dropout,weighted", [
    ("adam", "tanh", "softmax", 3, 0.25, True),
    ("sgd-nesterov", "relu", "identity", 2, 0.0, False),
    ("sgd-momentum", "logistic", "logistic", 1, 0.25, False),
])
def test_run_epochs(opt_name, hidden, output, k, dropout, weighted, dtype, path):
    """A run of epochs, reshuffled per epoch, cut by a batch budget inside an epoch and
    resumed by a second call: every group the CPU kernel advances, advanced alike."""
    n, batch = 7, 3
    net = network(hidden, output, k, dtype, dropout=dropout)
    X, Y, sw = data(n, output, k, dtype)
    if not weighted:
        sw = np.empty(0, dtype=dtype)
    args = (net, X, Y, sw, OPTIMIZERS[opt_name], 2, 3, batch, 4)
    cpu = _train(epoch.run_epochs, *args, calls=2)
    gpu = _train(twins.run_epochs, *args, calls=2, fused_max_width=PATHS[path])
    # 7 rows in batches of 3, 3 and 1; 2 calls x 4 batches: the first stops after row 3
    # of epoch 2, the second finishes it and stops after row 6 of epoch 3.
    assert cpu["done"] == [1, 1] and cpu["cursor"] == 6
    for name in ("done", "step", "cursor", "drop_step", "pos"):
        assert gpu[name] == cpu[name], name
    np.testing.assert_array_equal(gpu["order"], cpu["order"])
    np.testing.assert_array_equal(gpu["key"], cpu["key"])
    steps = 8
    kt = k_train(net, steps, batch)
    assert_close(gpu["params"], cpu["params"], k=kt, err_msg="parameters")
    assert_close(gpu["state"], cpu["state"], k=kt, err_msg="optimizer state")
    # An epoch's loss: a sum over its batches of losses (k_loss each) times n rows.
    # (float64 sums of losses computed in the network's dtype: that dtype's eps.)
    kl = k_loss(net, batch) + n + steps
    assert_close(gpu["losses"], cpu["losses"], k=kl, dtype=dtype, err_msg="epoch losses")
    assert_close(gpu["partial"], cpu["partial"], k=kl, dtype=dtype,
                 err_msg="partial epoch loss")


def test_zero_budget_trains_nothing():
    net = network("relu", "identity", 1, np.float64)
    X, Y, _ = data(5, "identity", 1, np.float64)
    before = net.params.flat.copy()
    got = _train(twins.run_epochs, net, X, Y, np.empty(0), OPTIMIZERS["adam"], 0, 2, 2, 0)
    assert got["done"] == [0] and got["step"] == 0
    np.testing.assert_array_equal(got["params"], before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True)])
def test_tiled_matmul(trans_a, trans_b, dtype):
    """The stand-in for cuBLAS on a GPU without CuPy: op(A) @ op(B), tiles past the edges."""
    from numba import cuda

    from fastnet.kernels.cuda import wide

    rng = np.random.default_rng(1)
    n, inner, m = 17, 19, 3  # not multiples of the 16-wide tiles
    A = rng.normal(size=(inner, n) if trans_a else (n, inner)).astype(dtype)
    B = rng.normal(size=(m, inner) if trans_b else (inner, m)).astype(dtype)
    out = cuda.to_device(np.full((n, m), np.nan, dtype=dtype))
    wide.launch_tiled_matmul(cuda.to_device(A), cuda.to_device(B), out, trans_a, trans_b)
    expected = (A.T if trans_a else A) @ (B.T if trans_b else B)
    # One sum of length `inner`, in another order: k = inner.
    assert_close(out.copy_to_host(), expected, k=inner)


def test_loss_and_grad_columns_at_least_threads():
    """One row through a 32-wide layer: a 32-thread block, so that layer's bias gradient
    takes the thread-per-column branch of the fused column sums (the others, the tree)."""
    from fastnet import Network

    net = Network([1, 32, 1], activation="tanh", random_state=3)
    assert twins.fused.threads_for(net.layout.units, 1) == 32
    X, Y = np.array([[0.7]]), np.array([[0.2]])
    batch = groups.Data(X, Y, np.empty(0), False)
    work = groups.Work(np.empty(0), np.empty(0), np.empty(0), np.empty(33), np.empty(33),
                       np.empty(1), np.empty(net.layout.n_params))
    expected_grad = np.empty(net.layout.n_params)
    expected = epoch.batch_loss_and_grad(net.params.flat, expected_grad, net.layout.group,
                                         net._codes, batch, work, 0.0, None)
    grad = np.full(net.layout.n_params, np.nan)
    loss = twins.batch_loss_and_grad(net.params.flat, grad, net.layout.group, net._codes, batch,
                                     None, 0.0, None)
    assert_close(grad, expected_grad, k=k_grad(net, 1))
    assert_close(loss, expected, k=k_loss(net, 1))
