"""fastnet/_aligned.py: the buffers the kernels stream through start on a cache line.

Alignment is a speed property (``python -m bench.anatomy align``), so these tests
check what it rests on: every allocation's start, for sizes that leave NumPy's
own allocations at any 16-byte offset; that a fitted, pickled or loaded network's
buffers are aligned; and that where a buffer starts changes no result (the same
weights bit for bit from buffers 16 bytes past a cache line).
"""

import pickle

import numpy as np
import pytest

import fastnet
from fastnet import _aligned, network, persistence


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_empty_and_zeros_start_on_a_cache_line(dtype):
    # Many sizes, one after another: NumPy's allocator hands out 16-byte-aligned blocks at
    # every offset mod 64 among these, so an allocation that only passed on through luck
    # would fail some of them.
    keep = []  # alive, so that the allocator does not hand back the same blocks
    for count in range(1, 200):
        for make in (_aligned.empty, _aligned.zeros):
            a = make(count, dtype)
            keep.append(a)
            assert a.ctypes.data % 64 == 0
            assert a.shape == (count,) and a.dtype == dtype and a.flags.c_contiguous
            assert a.flags.writeable
        np.testing.assert_array_equal(keep[-1], np.zeros(count, dtype))
    shaped = _aligned.zeros((2, 7), dtype)
    assert shaped.shape == (2, 7) and shaped.flags.c_contiguous and _aligned.is_aligned(shaped)
    np.testing.assert_array_equal(shaped, np.zeros((2, 7), dtype))


def test_an_empty_buffer_and_is_aligned():
    assert _aligned.empty(0, np.float64).shape == (0,)
    assert _aligned.is_aligned(_aligned.empty(0, np.float64))  # nothing to load: always
    raw = _aligned.empty(64, np.uint8)
    assert _aligned.is_aligned(raw) and not _aligned.is_aligned(raw[16:])


def test_aligned_copy_keeps_values_shape_and_dtype():
    rng = np.random.default_rng(0)
    source = rng.standard_normal((3, 5)).astype(np.float32)[:, 1:]  # a strided view
    copy = _aligned.aligned_copy(source)
    assert _aligned.is_aligned(copy) and copy.flags.c_contiguous
    assert copy.dtype == source.dtype
    np.testing.assert_array_equal(copy, source)
    copy[0, 0] = 7.0
    assert source[0, 0] != 7.0  # a copy, not a view


@pytest.fixture(scope="module")
def fitted(regression_data):
    X, y, _ = regression_data
    model = fastnet.MLPRegressor(hidden_layer_sizes=(13,), max_iter=3, batch_size=50,
                                 random_state=0)
    with pytest.warns(Warning):  # 3 epochs do not converge
        model.fit(X, y)
    return model, X


def test_a_fitted_networks_buffers_are_aligned(fitted):
    model, _ = fitted
    net = model._network
    assert _aligned.is_aligned(net.params.flat)
    work = net._workspace
    for name in ("x", "y", "sw", "acts", "deltas", "grad"):
        assert _aligned.is_aligned(getattr(work, name)), name
    assert _aligned.is_aligned(model._optimizer.state)


def test_pickled_and_loaded_networks_are_aligned_and_predict_the_same(fitted, tmp_path):
    model, X = fitted
    expected = model.predict(X)
    # The estimator pickles its public attributes and rebuilds the network on use; a
    # Network pickles its flat buffer, which comes back from pickle at NumPy's alignment.
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), expected)
    assert _aligned.is_aligned(again._network.params.flat)
    nets = [pickle.loads(pickle.dumps(model._network)) for _ in range(8)]  # not one by luck
    assert all(_aligned.is_aligned(net.params.flat) for net in nets)
    np.testing.assert_array_equal(nets[0].params.flat, model._network.params.flat)
    path = tmp_path / "model.npz"
    persistence.save(model, path)
    loaded = persistence.load(path)
    np.testing.assert_array_equal(loaded.predict(X), expected)
    assert _aligned.is_aligned(loaded._network.params.flat)


def _shifted(array, offset):
    raw = _aligned.empty(array.nbytes + offset, np.uint8)
    return raw[offset:offset + array.nbytes].view(array.dtype).reshape(array.shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_where_the_buffers_start_changes_no_weight(regression_data, monkeypatch, dtype):
    # The tiles' unaligned vector loads read the same values wherever a row starts.
    X, y, _ = regression_data
    X = X.astype(dtype)
    params = dict(hidden_layer_sizes=(24, 9), max_iter=4, batch_size=40, random_state=1,
                  tol=0.0)

    def fit():
        with pytest.warns(Warning):  # 4 epochs do not converge
            return fastnet.MLPRegressor(**params).fit(X, y)

    aligned = fit()
    build = network._workspace

    def off_line(*args, **kwargs):
        work = build(*args, **kwargs)
        shifted = {name: _shifted(getattr(work, name), 16)
                   for name in ("x", "y", "acts", "deltas", "grad")}
        assert not any(_aligned.is_aligned(a) for a in shifted.values() if a.size)
        return work._replace(**shifted)

    monkeypatch.setattr(network, "_workspace", off_line)
    shifted = fit()
    for a, b in zip(aligned.coefs_ + aligned.intercepts_, shifted.coefs_ + shifted.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(aligned.loss_curve_, shifted.loss_curve_)
