"""Helpers shared by the bad-input tests of both estimators (regressor and classifier)."""

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError

# Hyperparameter values both estimators must refuse like scikit-learn: (name, value,
# exception).  Each test file adds its own (the regressor's ``loss``, the solvers).
HYPER_COMMON = [
    ("hidden_layer_sizes", (0,), ValueError),
    ("hidden_layer_sizes", (-1,), ValueError),
    ("hidden_layer_sizes", (5, 0), ValueError),
    ("hidden_layer_sizes", [4, -2], ValueError),
    ("hidden_layer_sizes", 0, InvalidParameterError),
    ("hidden_layer_sizes", -3, InvalidParameterError),
    ("hidden_layer_sizes", "abc", InvalidParameterError),
    ("activation", "softmax", InvalidParameterError),
    ("learning_rate", "foo", InvalidParameterError),
    ("alpha", -1, InvalidParameterError),
    ("learning_rate_init", 0, InvalidParameterError),
    ("learning_rate_init", -0.1, InvalidParameterError),
    ("momentum", 1.5, InvalidParameterError),
    ("momentum", -0.1, InvalidParameterError),
    ("beta_1", 1, InvalidParameterError),
    ("beta_2", -0.1, InvalidParameterError),
    ("beta_2", 1.0, InvalidParameterError),
    ("epsilon", 0, InvalidParameterError),
    ("validation_fraction", 1, InvalidParameterError),
    ("validation_fraction", -0.1, InvalidParameterError),
    ("max_iter", 0, InvalidParameterError),
    ("max_iter", 1.5, InvalidParameterError),
    ("batch_size", 0, InvalidParameterError),
    ("batch_size", "big", InvalidParameterError),
    ("n_iter_no_change", 0, InvalidParameterError),
    ("tol", -1, InvalidParameterError),
    ("power_t", -1, InvalidParameterError),
    ("max_fun", 0, InvalidParameterError),
    ("shuffle", "yes", InvalidParameterError),
    ("nesterovs_momentum", "yes", InvalidParameterError),
    ("early_stopping", "x", InvalidParameterError),
    ("warm_start", "x", InvalidParameterError),
    ("verbose", "loud", InvalidParameterError),
    ("random_state", "abc", InvalidParameterError),
]


def put(a, index, value):
    """A float64 copy of ``a`` with ``a[index] = value``."""
    a = np.array(a, dtype=np.float64, copy=True)
    a[index] = value
    return a


def sparsified(X):
    """``X`` with its small entries zeroed (dense), for building sparse inputs."""
    return np.where(np.abs(X) > 0.5, X, 0.0)


def sparse_with_nan(X):
    """A CSR version of :func:`sparsified` ``X`` with one stored NaN."""
    Xs = sp.csr_matrix(sparsified(X))
    Xs.data[0] = np.nan
    return Xs


def readonly(a):
    """A read-only copy of ``a``."""
    a = a.copy()
    a.flags.writeable = False
    return a


def public_state(est):
    """Deep copies of every public fitted attribute (``name_``)."""
    return {
        k: copy.deepcopy(v) for k, v in vars(est).items()
        if k.endswith("_") and not k.startswith("_")
    }


def assert_same_state(before, after):
    """Two :func:`public_state` snapshots are equal: same keys, types, dtypes and values."""
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        if isinstance(old, list) and old and isinstance(old[0], np.ndarray):
            assert len(old) == len(new), key
            for a, b in zip(old, new):
                assert a.dtype == b.dtype, key
                np.testing.assert_array_equal(a, b, err_msg=key)
        elif isinstance(old, np.ndarray):
            assert isinstance(new, np.ndarray) and new.dtype == old.dtype, key
            np.testing.assert_array_equal(old, new, err_msg=key)
        else:
            assert type(new) is type(old), key
            np.testing.assert_array_equal(np.asarray(old, dtype=object),
                                          np.asarray(new, dtype=object), err_msg=key)
