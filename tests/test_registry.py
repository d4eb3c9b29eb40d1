"""The registry of activations and losses: one table, and everything derived from it.

The oracles are independent of the registry: scikit-learn's own constraint
tables and ``_init_coef`` rule, and the NumPy reference in ``reference.py``
(written from scikit-learn's definitions, not from fastnet's code).
"""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils._param_validation import StrOptions

import reference as R
from fastnet import MLPClassifier, MLPRegressor, Network
from fastnet.kernels import registry, scalar


def _options(constraints):
    (options,) = [c.options for c in constraints if isinstance(c, StrOptions)]
    return options


def test_registry_names_match_the_reference_and_scikit_learn():
    assert set(registry.HIDDEN_ACTIVATIONS) == set(R.HIDDEN_ACTIVATIONS)
    assert set(registry.OUTPUT_ACTIVATIONS) == set(R.OUTPUT_ACTIVATIONS)
    assert set(registry.ACTIVATIONS) == set(R.ALL_ACTIVATIONS)
    assert registry.CANONICAL_LOSS == R.LOSS_OF_OUTPUT
    sk_hidden = _options(SkMLPRegressor._parameter_constraints["activation"])
    assert set(registry.HIDDEN_ACTIVATIONS) == sk_hidden
    assert set(registry.losses_for("MLPRegressor")) == _options(
        SkMLPRegressor._parameter_constraints["loss"])
    assert set(registry.output_activations_for("MLPClassifier")) == {"logistic", "softmax"}
    assert set(registry.output_activations_for("MLPRegressor")) == {"identity", "exp"}


@pytest.mark.parametrize("est_cls, sk_cls", [(MLPRegressor, SkMLPRegressor),
                                             (MLPClassifier, SkMLPClassifier)])
def test_estimator_constraints_derive_from_the_registry(est_cls, sk_cls):
    ours = est_cls._parameter_constraints
    assert _options(ours["activation"]) == set(registry.HIDDEN_ACTIVATIONS)
    if est_cls is MLPRegressor:
        assert _options(ours["loss"]) == set(registry.losses_for("MLPRegressor"))
    # Every other constraint is scikit-learn's own, plus fastnet's additions.
    extra = {"dropout", "device"} | ({"class_weight"} if est_cls is MLPClassifier else set())
    assert set(ours) == set(sk_cls._parameter_constraints) | extra
    for name in set(sk_cls._parameter_constraints) - {"activation", "loss"}:
        assert ours[name] == sk_cls._parameter_constraints[name], name
    with pytest.raises(ValueError, match="activation"):
        est_cls(activation="softmax").fit(np.ones((4, 2)), [0, 1, 0, 1])


def test_network_accepts_exactly_the_registry_activations():
    for name in registry.HIDDEN_ACTIVATIONS:
        Network([2, 3, 1], activation=name)
    for name in set(registry.ACTIVATIONS) - set(registry.HIDDEN_ACTIVATIONS):
        with pytest.raises(ValueError, match="activation must be one of"):
            Network([2, 3, 1], activation=name)
    for name in registry.OUTPUT_ACTIVATIONS:
        net = Network([2, 3, 2], output_activation=name)
        assert net.loss == registry.CANONICAL_LOSS[name]
    with pytest.raises(ValueError, match="output_activation must be one of"):
        Network([2, 3, 1], output_activation="tanh")


@pytest.mark.parametrize("activation", R.HIDDEN_ACTIVATIONS)
def test_init_factor_is_scikit_learns(activation):
    """scikit-learn's _init_coef: bound sqrt(f / (fan_in + fan_out)), f = 2 for logistic."""
    net = Network([5, 7, 3], activation=activation, random_state=0)
    rng = np.random.RandomState(0)
    factor = 2.0 if activation == "logistic" else 6.0
    for coef, intercept in zip(net.params.coefs, net.params.intercepts):
        bound = np.sqrt(factor / sum(coef.shape))
        np.testing.assert_array_equal(coef, rng.uniform(-bound, bound, coef.shape))
        np.testing.assert_array_equal(intercept, rng.uniform(-bound, bound, coef.shape[1]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", [n for n, a in registry.ACTIVATIONS.items()
                                  if a.rows_forward is not None])
def test_rows_forward_equals_the_reference(dtype, name):
    rng = np.random.RandomState(3)
    Z = (3 * rng.randn(50, 4)).astype(dtype)
    b = rng.randn(4).astype(dtype)
    got = Z + b
    registry.ACTIVATIONS[name].rows_forward(got)
    # The same formula through the same ufuncs, or (tanh) vtanh's within 1.3 ulps of the
    # truth against NumPy's within about one: a few ulps at most (softmax: a sum of 4).
    rtol = 8 * np.finfo(dtype).eps
    np.testing.assert_allclose(got, R.activation(Z + b, name), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("numpy_tanh", [True, False])
def test_many_row_tanh_is_numpys_or_vtanhs_as_the_machine_decides(monkeypatch, dtype,
                                                                  numpy_tanh):
    """Where NumPy's tanh loop is AVX-512 code, many-row tanh is NumPy's (bit for bit, the
    values scikit-learn's predict computes); elsewhere vtanh's vector loop, bit for bit."""
    from fastnet.kernels.vtanh import tanh_inplace

    monkeypatch.setitem(registry._NUMPY_TANH, np.dtype(dtype), numpy_tanh)
    Z = (3 * np.random.RandomState(4).randn(70, 8)).astype(dtype)
    got = Z.copy()
    registry.ACTIVATIONS["tanh"].rows_forward(got)
    assert got.dtype == dtype
    numpys, vtanhs = np.tanh(Z), Z.copy()
    tanh_inplace(vtanhs.reshape(-1))
    want, other = (numpys, vtanhs) if numpy_tanh else (vtanhs, numpys)
    np.testing.assert_array_equal(got, want)
    # The two differ somewhere on these 560 values (vtanh is not NumPy's tanh), so the
    # comparison above tells them apart.
    assert not np.array_equal(other, want)


@pytest.mark.parametrize("current, expected", [("X86_V4", True), ("AVX512_SKX", True),
                                               ("AVX512_SPR", True), ("X86_V3", False),
                                               ("AVX2", False), ("baseline(X86_V2)", False)])
def test_numpy_avx512_reads_numpys_dispatch_record(monkeypatch, current, expected):
    from numpy._core import _multiarray_umath

    record = {"tanh": {"dd": {"current": current, "available": current},
                       "ff": {"current": "X86_V3", "available": "X86_V3"}}}
    monkeypatch.setattr(_multiarray_umath, "__cpu_targets_info__", record, raising=False)
    assert registry._numpy_avx512("tanh", np.float64) is expected
    assert registry._numpy_avx512("tanh", np.float32) is False
    assert registry._numpy_avx512("exp", np.float64) is False  # no record of the ufunc


def test_numpy_avx512_without_numpys_record(monkeypatch):
    from numpy._core import _multiarray_umath

    monkeypatch.delattr(_multiarray_umath, "__cpu_targets_info__", raising=False)
    assert registry._numpy_avx512("tanh", np.float64) is False


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_row_equals_the_reference_and_the_cpu_kernel(dtype):
    """``scalar.softmax_row`` (the CUDA twins' softmax), in Python on a flat buffer at an
    offset, against the NumPy reference (a sum of 6 terms and one division: 8 eps) and
    against the CPU kernel, which does the same operations in the same order (equal up
    to vexp's exp against NumPy's: 2 ulps of each term)."""
    from fastnet.kernels.activations import bias_activation_forward

    rng = np.random.RandomState(6)
    Z = (4 * rng.randn(5, 6)).astype(dtype)
    flat = np.concatenate([np.full(3, 7, dtype), Z.ravel()])
    for r in range(5):
        scalar.softmax_row(flat, 3 + 6 * r, 6)
    got = flat[3:].reshape(5, 6)
    assert got.dtype == dtype and np.all(flat[:3] == 7)  # nothing before the rows touched
    rtol = 8 * np.finfo(dtype).eps
    np.testing.assert_allclose(got, R.activation(Z, "softmax"), rtol=rtol, atol=rtol)
    cpu = Z.copy()
    bias_activation_forward(cpu, np.zeros(6, dtype), registry.SOFTMAX)
    np.testing.assert_allclose(got, cpu, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_math_in_python_equals_the_reference(dtype):
    """The elementwise functions are plain Python too: called on NumPy scalars they give
    the reference's values (same formulas; exp/tanh of NumPy scalars vs arrays may differ
    by an ulp on SIMD builds, hence 4 eps)."""
    rng = np.random.RandomState(5)
    z = (2 * rng.randn(40)).astype(dtype)
    z[:3] = 0
    d = rng.randn(40).astype(dtype)
    tol = dict(rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps)
    for name in set(registry.ACTIVATIONS) - {"softmax"}:
        code = registry.ACTIVATION_CODES[name]
        got = np.array([scalar.activate(code, v) for v in z])
        assert got.dtype == dtype
        np.testing.assert_allclose(got, R.activation(z[None], name)[0], **tol)
        if registry.ACTIVATIONS[name].hidden:
            a = R.activation(z[None], name)[0]
            got = np.array([scalar.derivative(code, ai, di) for ai, di in zip(a, d)])
            expected = R.activation_derivative(a[None], d[None], name)[0]
            np.testing.assert_allclose(got, expected, **tol)
    p = rng.uniform(0.05, 0.95, 40).astype(dtype)
    y = (rng.rand(40) < 0.5).astype(dtype)
    eps = dtype(np.finfo(dtype).eps)
    for loss in ("squared_error", "binary_log_loss", "poisson"):
        terms = np.array([scalar.loss_term(registry.LOSS_CODES[loss], pi, yi, eps)
                          for pi, yi in zip(p, y)])
        value = terms.mean()
        if loss == "squared_error":
            value = value / 2
        elif loss == "binary_log_loss":
            value = -value
        np.testing.assert_allclose(value, R.loss(loss, y[:, None], p[:, None]),
                                   rtol=40 * np.finfo(dtype).eps)  # a sum of 40 terms
