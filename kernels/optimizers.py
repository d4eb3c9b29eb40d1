"""Optimizer steps over the whole flat parameter buffer, gradient scaling fused in.

The arithmetic follows scikit-learn's ``_stochastic_optimizers`` operation
for operation (``scalar.sgd_update`` / ``scalar.adam_update``), so that the
same gradients give the same parameters.

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

from ._jit import jit, like
from .groups import H_BETA_1, H_BETA_2, H_EPSILON, H_LEARNING_RATE, H_MOMENTUM, H_NESTEROV
from .scalar import adam_update, sgd_update


@jit
def sgd_step(params, grad, opt, n_coef, sw_sum, learning_rate):
    """One SGD step with (Nesterov) momentum on every parameter.

    Parameters
    ----------
    params, grad : ndarray of shape (n_params,)
        Parameters are updated in place; ``grad`` holds the raw gradient sums
        (see the module docstring).
    opt : Optimizer
        ``opt.state[0]`` is the velocity (updated in place); momentum and
        nesterov come from ``opt.hyper``, the L2 strength from ``opt.alpha``.
    n_coef : int
        Number of weights (they come first).
    sw_sum : float of params' dtype
        The batch's total sample weight.
    learning_rate : float of params' dtype
    """
    velocity = opt.state[0]
    alpha = opt.alpha
    momentum = like(params, opt.hyper[H_MOMENTUM])
    nesterov = opt.hyper[H_NESTEROV] != 0.0
    for k in range(n_coef):
        g = (grad[k] + alpha * params[k]) / sw_sum
        params[k], velocity[k] = sgd_update(params[k], velocity[k], g, learning_rate, momentum,
                                            nesterov)
    for k in range(n_coef, params.shape[0]):
        params[k], velocity[k] = sgd_update(params[k], velocity[k], grad[k] / sw_sum,
                                            learning_rate, momentum, nesterov)


@jit
def adam_step(params, grad, opt, n_coef, sw_sum, learning_rate):
    """One Adam step (Kingma & Ba) on every parameter, epsilon outside the bias correction.

    ``learning_rate`` is the bias-corrected rate of this step,
    ``lr_init * sqrt(1 - beta_2**t) / (1 - beta_1**t)``, computed by the caller
    in float64 as scikit-learn does; ``1 - beta`` are computed here in float64
    before the cast, again as scikit-learn does.

    Parameters
    ----------
    params, grad : ndarray of shape (n_params,)
        Parameters are updated in place; ``grad`` holds the raw gradient sums
        (see the module docstring).
    opt : Optimizer
        ``opt.state`` rows are the first and second moments (updated in place);
        betas and epsilon come from ``opt.hyper``, the L2 strength from
        ``opt.alpha``.
    n_coef : int
        Number of weights (they come first).
    sw_sum : float of params' dtype
        The batch's total sample weight.
    learning_rate : float of params' dtype
    """
    m = opt.state[0]
    v = opt.state[1]
    alpha = opt.alpha
    beta_1 = opt.hyper[H_BETA_1]
    beta_2 = opt.hyper[H_BETA_2]
    b1 = like(params, beta_1)
    b2 = like(params, beta_2)
    one_minus_b1 = like(params, 1.0 - beta_1)
    one_minus_b2 = like(params, 1.0 - beta_2)
    epsilon = like(params, opt.hyper[H_EPSILON])
    for k in range(n_coef):
        g = (grad[k] + alpha * params[k]) / sw_sum
        params[k], m[k], v[k] = adam_update(params[k], m[k], v[k], g, learning_rate, b1,
                                            one_minus_b1, b2, one_minus_b2, epsilon)
    for k in range(n_coef, params.shape[0]):
        params[k], m[k], v[k] = adam_update(params[k], m[k], v[k], grad[k] / sw_sum,
                                            learning_rate, b1, one_minus_b1, b2, one_minus_b2,
                                            epsilon)


@jit(inline=True)
def adam_learning_rate(opt, t):
    """Adam's bias-corrected rate of step ``t`` (float64, as scikit-learn computes it).

    Parameters
    ----------
    opt : Optimizer
    t : int
        The step number, from 1.

    Returns
    -------
    learning_rate : float64
    """
    lr_init = opt.hyper[H_LEARNING_RATE]
    beta_1 = opt.hyper[H_BETA_1]
    beta_2 = opt.hyper[H_BETA_2]
    # float exponent: C pow(), as Python's float ** int does.
    return lr_init * np.sqrt(1.0 - beta_2 ** float(t)) / (1.0 - beta_1 ** float(t))
