"""Optimizer state for the fused epoch kernel: SGD (momentum, Nesterov) and Adam.

These mirror scikit-learn's ``SGDOptimizer`` / ``AdamOptimizer``: the same
hyperparameters, the same learning-rate schedules (``iteration_ends``) and the
same stopping decisions (``trigger_stopping``).  The per-parameter state is one
(2, n_params) array, updated in place by the kernels.
"""

import numpy as np

from . import _aligned
from .kernels import groups as _groups

__all__ = ["SGD", "Adam"]


class _Optimizer:
    code = -1

    def __init__(self, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.state = None
        self.t = 0

    def bind(self, n_params, dtype):
        """Allocate (or keep) the per-parameter state for a flat buffer.

        Parameters
        ----------
        n_params : int
        dtype : numpy dtype
            The parameters' dtype.

        Returns
        -------
        state : ndarray of shape (2, n_params)
        """
        if self.state is None or self.state.shape != (2, n_params) or self.state.dtype != dtype:
            self.state = _aligned.zeros((2, n_params), dtype)
        return self.state

    # Whether the learning rate stays put from one epoch to the next, except
    # where trigger_stopping changes it (training may then run several epochs
    # per compiled call).
    constant_between_stops = True

    def hyper(self):
        """The float64 hyperparameter vector the epoch kernel reads."""
        h = np.zeros(_groups.N_HYPER)
        h[_groups.H_LEARNING_RATE] = self.learning_rate
        return h

    def group(self, n_params, dtype, alpha):
        """The kernels' ``Optimizer`` group over this optimizer's state.

        Parameters
        ----------
        n_params : int
        dtype : numpy dtype
            The parameters' dtype.
        alpha : float
            L2 strength (cast to ``dtype``).

        Returns
        -------
        opt : fastnet.kernels.groups.Optimizer
            Its ``state`` is this optimizer's (updated in place by the kernels);
            ``step`` a fresh one-element copy of :attr:`t` -- pass it to
            :meth:`after_epoch` after the call.
        """
        return _groups.Optimizer(self.code, self.bind(n_params, dtype), self.hyper(),
                                 np.dtype(dtype).type(alpha), np.array([self.t], dtype=np.int64))

    def after_epoch(self, t):
        """Record the step count the epoch kernel returned.

        Parameters
        ----------
        t : int
        """
        self.t = t

    def iteration_ends(self, time_step):
        """Update the learning rate at the end of an epoch (no-op by default).

        Parameters
        ----------
        time_step : int
            Number of training samples seen so far (scikit-learn's ``t_``).
        """

    def trigger_stopping(self, msg, verbose):
        """Decide whether training stops once no improvement was seen.

        Parameters
        ----------
        msg : str
            The reason, printed when ``verbose``.
        verbose : bool

        Returns
        -------
        stop : bool
        """
        if verbose:
            print(msg + " Stopping.")
        return True


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum.

    Parameters
    ----------
    learning_rate_init : float, default=0.1
    lr_schedule : {'constant', 'adaptive', 'invscaling'}, default='constant'
        'invscaling' sets ``lr = lr_init / (t + 1) ** power_t`` after each
        epoch; 'adaptive' divides ``lr`` by 5 when training stalls and stops
        below 1e-6.
    momentum : float, default=0.9
    nesterov : bool, default=True
    power_t : float, default=0.5
    """

    code = _groups.SGD

    def __init__(self, learning_rate_init=0.1, lr_schedule="constant", momentum=0.9,
                 nesterov=True, power_t=0.5):
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t

    @property
    def constant_between_stops(self):
        return self.lr_schedule != "invscaling"

    def hyper(self):
        h = super().hyper()
        h[_groups.H_MOMENTUM] = self.momentum
        h[_groups.H_NESTEROV] = float(bool(self.nesterov))
        return h

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2014), epsilon outside the bias correction.

    Parameters
    ----------
    learning_rate_init : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8

    Attributes
    ----------
    t : int
        Number of steps taken (one per mini-batch).
    learning_rate : float
        The bias-corrected rate of the last step.
    """

    code = _groups.ADAM

    def __init__(self, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def hyper(self):
        h = super().hyper()
        h[_groups.H_LEARNING_RATE] = self.learning_rate_init
        h[_groups.H_BETA_1] = self.beta_1
        h[_groups.H_BETA_2] = self.beta_2
        h[_groups.H_EPSILON] = self.epsilon
        return h

    def after_epoch(self, t):
        """Record the kernel's step count and the last bias-corrected rate."""
        super().after_epoch(t)
        if t:
            self.learning_rate = (
                self.learning_rate_init * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
            )
