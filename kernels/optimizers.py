"""Optimizer steps over the whole flat parameter buffer, gradient scaling fused in.

The arithmetic follows scikit-learn's ``_stochastic_optimizers`` operation
for operation, so that the same gradients give the same parameters.

The steps take the *raw* gradient sums of the backward pass (``A.T @ D`` and
``D.sum(0)``) and finish scikit-learn's gradient on the fly, element by
element: ``(raw + alpha * W) / sw_sum`` for the first ``n_coef`` entries (the
weights), ``raw / sw_sum`` for the intercepts.  The result is the same
number scikit-learn computes, but the gradient buffer is read once per step
instead of being rewritten by a separate pass first (on the large benchmark
network that pass moved 44 MB per batch).  ``n_coef=0, alpha=0, sw_sum=1``
steps on ``grad`` as it is.
"""

import numpy as np

from ._jit import jit


@jit(inline=True)
def _sgd_update(params, velocity, k, g, learning_rate, momentum, nesterov):
    v = momentum * velocity[k] - learning_rate * g
    velocity[k] = v
    if nesterov:
        params[k] += momentum * v - learning_rate * g
    else:
        params[k] += v


@jit
def sgd_step(params, grad, velocity, n_coef, alpha, sw_sum, learning_rate, momentum, nesterov):
    """One SGD step with (Nesterov) momentum.

    ``v = momentum * v - lr * g``; the update is ``v`` (plain momentum) or
    ``momentum * v - lr * g`` computed with the new ``v`` (Nesterov).

    Parameters
    ----------
    params, grad, velocity : ndarray of shape (n_params,)
        Parameters and velocity are updated in place; ``grad`` holds the raw
        gradient sums (see the module docstring).
    n_coef : int
        Number of weights (they come first).
    alpha, sw_sum : float of params' dtype
        L2 strength and the batch's total sample weight.
    learning_rate, momentum : float of params' dtype
    nesterov : bool
    """
    for k in range(n_coef):
        g = (grad[k] + alpha * params[k]) / sw_sum
        _sgd_update(params, velocity, k, g, learning_rate, momentum, nesterov)
    for k in range(n_coef, params.shape[0]):
        _sgd_update(params, velocity, k, grad[k] / sw_sum, learning_rate, momentum, nesterov)


@jit(inline=True)
def _adam_update(params, m, v, k, g, learning_rate, beta_1, one_minus_beta_1, beta_2,
                 one_minus_beta_2, epsilon):
    mk = beta_1 * m[k] + one_minus_beta_1 * g
    vk = beta_2 * v[k] + one_minus_beta_2 * (g * g)
    m[k] = mk
    v[k] = vk
    params[k] += -learning_rate * mk / (np.sqrt(vk) + epsilon)


@jit
def adam_step(params, grad, m, v, n_coef, alpha, sw_sum, learning_rate, beta_1,
              one_minus_beta_1, beta_2, one_minus_beta_2, epsilon):
    """One Adam step (Kingma & Ba), epsilon outside the bias correction.

    ``learning_rate`` is the bias-corrected rate of this step,
    ``lr_init * sqrt(1 - beta_2**t) / (1 - beta_1**t)``, computed by the caller
    in float64 as scikit-learn does.  ``1 - beta`` are passed in, computed in
    float64 before the cast, again as scikit-learn does.

    Parameters
    ----------
    params, grad, m, v : ndarray of shape (n_params,)
        Parameters and both moments are updated in place; ``grad`` holds the
        raw gradient sums (see the module docstring).
    n_coef : int
        Number of weights (they come first).
    alpha, sw_sum : float of params' dtype
        L2 strength and the batch's total sample weight.
    learning_rate, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon :
        float of params' dtype
    """
    for k in range(n_coef):
        g = (grad[k] + alpha * params[k]) / sw_sum
        _adam_update(params, m, v, k, g, learning_rate, beta_1, one_minus_beta_1, beta_2,
                     one_minus_beta_2, epsilon)
    for k in range(n_coef, params.shape[0]):
        _adam_update(params, m, v, k, grad[k] / sw_sum, learning_rate, beta_1,
                     one_minus_beta_1, beta_2, one_minus_beta_2, epsilon)
