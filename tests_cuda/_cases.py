"""Small networks and data for the CUDA tests, and the tolerances their rounding allows.

Tolerances (``tests/_compare.py``'s rule ``|a - b| <= rtol |b| + k eps scale``):
the GPU computes every element with the CPU's scalar functions in the CPU's
order, except the sums -- the matrix products, the L2 term's sum of squares --
which it adds in another order, as another BLAS would.  A sum of length n in
two orders differs by at most ``n eps`` times the sum of its absolute terms
(Higham, sec. 3.1); chained through a network's layers the first-order errors
add, so

* a forward pass: ``k = sum(units[:-1])`` (every layer's fan-in);
* a batch's gradient: the forward's, the backward products' (fan-outs) and the
  n-row gradient sums: ``k = n + sum(units)``; its loss adds the L2 term's
  ``n_coef``-long sum of squares;
* trained parameters: ``k = T + max(batch, widest layer)`` (``_compare.k_fit``'s
  argument: T updates, each rounded once, built from sums of that length),
  with the project's ``rtol`` for the feedback through the training dynamics.
"""

import numpy as np

from fastnet import Network

# (hidden activation, output activation, outputs): every hidden activation, every
# output type -- identity/squared error, logistic and softmax/log-loss.
NETS = [("identity", "identity", 2), ("logistic", "softmax", 3), ("tanh", "logistic", 1),
        ("relu", "identity", 1)]
UNITS_HIDDEN = (5, 4)
N_FEATURES = 3
DTYPES = [np.float64, np.float32]
# The two CUDA paths: the fused kernels (widths <= 128 take them) and, forced by a
# width bound of 0, the wide path (cuBLAS products; NumPy under the simulator).
PATHS = {"fused": None, "wide": 0}


def network(hidden, output, k, dtype, dropout=0.0, seed=0):
    return Network([N_FEATURES, *UNITS_HIDDEN, k], activation=hidden, output_activation=output,
                   dtype=dtype, random_state=seed, dropout=dropout)


def data(n, output, k, dtype, seed=0):
    """X (n, N_FEATURES), targets of the output's kind, sample weights (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES)).astype(dtype)
    if output == "softmax":
        Y = np.eye(k, dtype=dtype)[rng.integers(0, k, n)]
    elif output == "logistic":
        Y = rng.integers(0, 2, (n, k)).astype(dtype)
    else:
        Y = rng.normal(size=(n, k)).astype(dtype)
    sw = rng.uniform(0.2, 3.0, n).astype(dtype)
    return X, Y, sw


def k_forward(net):
    return int(np.sum(net.layout.units[:-1]))


def k_grad(net, n):
    return n + int(np.sum(net.layout.units))


def k_loss(net, n):
    return k_grad(net, n) + int(net.layout.n_coef)


def k_train(net, steps, batch):
    return steps + max(batch, int(np.max(net.layout.units)))
