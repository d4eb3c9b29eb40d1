"""Optimizer steps over the whole flat parameter buffer in one loop.

The arithmetic follows scikit-learn's ``_stochastic_optimizers`` operation
for operation, so that the same gradients give the same parameters.
"""

import numpy as np

from ._jit import jit


@jit
def sgd_step(params, grad, velocity, learning_rate, momentum, nesterov):
    """One SGD step with (Nesterov) momentum.

    ``v = momentum * v - lr * g``; the update is ``v`` (plain momentum) or
    ``momentum * v - lr * g`` computed with the new ``v`` (Nesterov).

    Parameters
    ----------
    params, grad, velocity : ndarray of shape (n_params,)
        Parameters and velocity are updated in place.
    learning_rate, momentum : float of params' dtype
    nesterov : bool
    """
    for k in range(params.shape[0]):
        g = grad[k]
        v = momentum * velocity[k] - learning_rate * g
        velocity[k] = v
        if nesterov:
            params[k] += momentum * v - learning_rate * g
        else:
            params[k] += v


@jit
def adam_step(params, grad, m, v, learning_rate, beta_1, one_minus_beta_1, beta_2,
              one_minus_beta_2, epsilon):
    """One Adam step (Kingma & Ba), epsilon outside the bias correction.

    ``learning_rate`` is the bias-corrected rate of this step,
    ``lr_init * sqrt(1 - beta_2**t) / (1 - beta_1**t)``, computed by the caller
    in float64 as scikit-learn does.  ``1 - beta`` are passed in, computed in
    float64 before the cast, again as scikit-learn does.

    Parameters
    ----------
    params, grad, m, v : ndarray of shape (n_params,)
        Parameters and both moments are updated in place.
    learning_rate, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon :
        float of params' dtype
    """
    for k in range(params.shape[0]):
        g = grad[k]
        mk = beta_1 * m[k] + one_minus_beta_1 * g
        vk = beta_2 * v[k] + one_minus_beta_2 * (g * g)
        m[k] = mk
        v[k] = vk
        params[k] += -learning_rate * mk / (np.sqrt(vk) + epsilon)
