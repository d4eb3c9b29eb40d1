"""The training loops: scikit-learn's stochastic and L-BFGS solvers, compiled inside.

Every rule here mirrors ``sklearn.neural_network._multilayer_perceptron``
(1.9): the order of random draws, the per-epoch loss, the no-improvement
counter, learning-rate schedules, early stopping with best-weight restore,
warnings and verbose lines.  What differs is where the work happens: one
compiled call per run of epochs (``Network._run_epochs``), one per L-BFGS
evaluation.  scikit-learn's callbacks (``set_callbacks``) are told of every
epoch and L-BFGS iteration through the hooks of ``fastnet._callbacks``.

The functions take the estimator and read its hyperparameters / write its
fitted attributes, as scikit-learn's private methods do; they never loop over
samples.
"""

import contextlib
import signal
import threading
import time
import warnings

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.optimize import _check_optimize_result

from . import _aligned
from .kernels import groups as _groups
from .optimizers import SGD, Adam

__all__ = ["fit_stochastic", "fit_lbfgs", "make_optimizer", "resolve_batch_size"]


def make_optimizer(est):
    """The optimizer an estimator's hyperparameters describe (sgd or adam)."""
    if est.solver == "sgd":
        return SGD(est.learning_rate_init, est.learning_rate, est.momentum,
                   est.nesterovs_momentum, est.power_t)
    return Adam(est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon)


def resolve_batch_size(batch_size, n_samples):
    """scikit-learn's batch size: 'auto' is min(200, n); others clipped to [1, n]."""
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than "
            "sample size. It is going to be clipped"
        )
    return int(np.clip(batch_size, 1, n_samples))


def _shuffled(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=rs)``, same draws."""
    perm = np.arange(sample_idx.shape[0])
    random_state.shuffle(perm)
    return sample_idx[perm]


def _kernel_array(a, dtype):
    return np.require(a, dtype=dtype, requirements=["C", "W", "A"])


def _split_for_early_stopping(est, X, y, sample_weight):
    """Validation split as scikit-learn draws it (stratified for single-output classifiers)."""
    should_stratify = is_classifier(est) and est.n_outputs_ == 1
    stratify = y if should_stratify else None
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    parts = train_test_split(*arrays, random_state=est._random_state,
                             test_size=est.validation_fraction, stratify=stratify)
    X_train, X_val, y_train, y_val = parts[:4]
    sw_train, sw_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    targets_val = y_val  # as the network sees them (indicators for classifiers)
    if is_classifier(est):
        y_val = est._label_binarizer.inverse_transform(y_val)
    return X_train, y_train, sw_train, X_val, y_val, sw_val, targets_val


def fit_stochastic(est, net, X, y, sample_weight, incremental, hooks=None):
    """Run sgd/adam epochs on ``net`` as scikit-learn's ``_fit_stochastic``.

    Parameters
    ----------
    est : fastnet MLP estimator
        Supplies hyperparameters; receives ``n_iter_``, ``t_``, ``loss_``,
        ``loss_curve_``, validation scores and the optimizer state.
    net : Network
        Trained in place.
    X : ndarray of shape (n_samples, n_features), net's dtype
    y : ndarray of shape (n_samples, n_outputs)
        Targets as scikit-learn keeps them (floats, or bool indicators).
    sample_weight : ndarray of shape (n_samples,) or None
    incremental : bool
        ``partial_fit``: one epoch, optimizer state kept.
    hooks : fastnet._callbacks._FitHooks or None
        The fit's callbacks: each epoch is a task, and a callback may stop
        training after it as the stopping rule does (the loop ends; early
        stopping's best weights are restored below).
    """
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = make_optimizer(est)
    optimizer = est._optimizer

    early_stopping = est.early_stopping
    if early_stopping:
        X_train, y_train, sw_train, X_val, y_val, sw_val, targets_val = (
            _split_for_early_stopping(est, X, y, sample_weight))
        val = _ValidationLoss(net, X_val, targets_val, sw_val)
        if (getattr(est, "validation_loss_curve_", None) is None
                and est.validation_scores_ is not None):
            # warm_start on a model saved before the curve existed: its epochs were not
            # recorded, so they are NaN, and the lists stay aligned.
            est.validation_loss_curve_ = [np.nan] * len(est.validation_scores_)
    else:
        X_train, y_train, sw_train = X, y, sample_weight
        X_val = y_val = sw_val = val = None

    dtype = net.dtype
    X_train = _kernel_array(X_train, dtype)
    Y_train = _kernel_array(y_train, dtype)
    has_sw = sw_train is not None
    sw_kernel = _kernel_array(sw_train, dtype) if has_sw else np.empty(0, dtype=dtype)
    alpha = dtype.type(est.alpha)

    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=np.int64)
    batch_size = resolve_batch_size(est.batch_size, n_samples)
    rng = est._random_state if est.shuffle else None
    run = _EpochRunner(net, _groups.Data(X_train, Y_train, sw_kernel, has_sw), sample_idx,
                       batch_size, optimizer, alpha, rng)

    try:
        est.n_iter_ = 0
        stopped = False
        with _deferred_interrupt() as interrupted:
            while not stopped and est.n_iter_ < est.max_iter:
                n_epochs = _epochs_per_call(est, optimizer, early_stopping, incremental, run,
                                            hooks)
                if hooks is not None:
                    hooks.begin_epoch(est, net)
                summed = run(n_epochs)
                for position, accumulated in enumerate(summed):
                    if hooks is not None and position:
                        # A run of epochs (only with callbacks that never read the model):
                        # the later epochs' tasks are replayed, in order.
                        hooks.begin_epoch(est, net)
                    stopped = _end_epoch(est, net, optimizer, accumulated / n_samples,
                                         n_samples, early_stopping, X_val, y_val, sw_val, val,
                                         incremental)
                    if hooks is not None:
                        stopped = hooks.end_epoch(est, net) or stopped
                    if stopped and position != n_epochs - 1:  # _epochs_per_call's promise
                        raise RuntimeError("fastnet: training ran past a stopping point")
                if interrupted():
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
    finally:
        run.close()
    if hooks is not None:
        hooks.end_unfinished_epoch(est)

    if early_stopping:
        net.params.flat[...] = est._best_params


class _ValidationLoss:
    """The training loss function on the validation split, for ``validation_loss_curve_``.

    The data term of the loss (no L2 penalty), sample-weighted where weights
    were given, of the whole network (no dropout), computed by the same
    compiled loss the training uses.
    """

    def __init__(self, net, X_val, targets_val, sw_val):
        dtype = net.dtype
        self.net = net
        self.X = _kernel_array(X_val, dtype)
        self.Y = _kernel_array(targets_val, dtype)
        self.sw = None if sw_val is None else _kernel_array(sw_val, dtype)

    def __call__(self):
        return self.net.data_loss(self.X, self.Y, self.sw)


# Longest a single compiled call should train: Ctrl-C is acted on between calls, and
# a call stops between mini-batches when an epoch is longer than this.
_SECONDS_PER_CALL = 0.1


@contextlib.contextmanager
def _deferred_interrupt():
    """Hold Ctrl-C until the epochs of the running compiled call are recorded.

    A SIGINT arriving while a kernel runs would otherwise raise at whatever
    bytecode comes next -- possibly after the weights moved but before the
    epochs were counted.  In the main thread, with Python's default handler
    installed, the handler is swapped for one that only takes note; the loop
    asks ``interrupted()`` after each call and raises KeyboardInterrupt itself.
    Elsewhere (other threads, custom handlers) nothing changes.

    Yields
    ------
    interrupted : callable
        Returns True once a SIGINT was received.
    """
    received = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: False
        return
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield lambda: bool(received)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _epochs_per_call(est, optimizer, early_stopping, incremental, run, hooks=None):
    """How many epochs the next compiled call may train without changing the result.

    scikit-learn decides between epochs: validation scores (early stopping)
    and 'invscaling' learning rates need every epoch's weights, so those run
    one epoch per call.  Otherwise the only decision is stopping (or, for
    'adaptive', a smaller learning rate), and it needs the no-improvement
    counter to exceed ``n_iter_no_change``: that cannot happen in fewer than
    ``n_iter_no_change + 1 - counter`` epochs, so a call of that many epochs
    never trains past it.  Until a call has been timed, and while an epoch
    is unfinished, one epoch.  Callbacks that may read each epoch's model or
    stop after it (``hooks.per_epoch``) also get one epoch per call.
    """
    if (incremental or early_stopping or not optimizer.constant_between_stops
            or run.seconds_per_batch is None or run.in_epoch
            or (hooks is not None and hooks.per_epoch)):
        return 1
    n = min(est.n_iter_no_change + 1 - est._no_improvement_count, est.max_iter - est.n_iter_)
    seconds_per_epoch = run.seconds_per_batch * run.batches_per_epoch
    return int(max(1, min(n, _SECONDS_PER_CALL / max(seconds_per_epoch, 1e-9))))


class _EpochRunner:
    """Calls ``Network._run_epochs`` and carries the shuffle's state and an unfinished epoch.

    With ``random_state`` given, the compiled call reshuffles the sample order
    before each epoch on a copy of the RandomState's MT19937 state, read once
    and written back by :meth:`close` (``get_state``/``set_state`` cost ~30 us
    each): the RandomState ends exactly where scikit-learn's
    ``shuffle(sample_idx, random_state=...)`` calls leave it.  Nothing else
    draws from it while the epochs run.  A RandomState on another bit
    generator is shuffled in Python, one epoch per call.

    A call trains at most :meth:`batches_per_call` mini-batches, so when one
    epoch takes longer than ``_SECONDS_PER_CALL`` the call returns inside the
    epoch (the kernel keeps where it stopped and the loss so far) and the loop
    gets to act on Ctrl-C between batches.  The first call trains one batch,
    to time it.
    """

    def __init__(self, net, data, order, batch_size, optimizer, alpha, random_state):
        self.net = net
        self.data = data
        self.order = order
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.alpha = alpha
        self.random_state = random_state
        n_samples = order.shape[0]
        self.batches_per_epoch = -(-n_samples // batch_size)
        self.seconds_per_batch = None
        self.compiled_shuffle = random_state is not None and _is_mt19937(random_state)
        self._state = None  # the RandomState's state dict, while the kernels hold it
        self._shuffle = _groups.no_shuffle(order)
        self._cursor = np.zeros(1, dtype=np.int64)  # where an unfinished epoch resumes
        self._partial = np.zeros(1)  # its loss so far

    @property
    def in_epoch(self):
        """Whether the last call stopped inside an epoch."""
        return bool(self._cursor[0])

    def _batch_budget(self, n_epochs):
        """The next call's batch limit: ~``_SECONDS_PER_CALL`` of work, at least 1 batch.

        Only a one-epoch call is limited: several epochs per call means that an
        epoch is shorter than the time slice (see :func:`_epochs_per_call`).
        """
        if self.seconds_per_batch is None:
            return 1
        if n_epochs > 1:
            return -1
        return int(max(1, _SECONDS_PER_CALL / max(self.seconds_per_batch, 1e-9)))

    def __call__(self, n_epochs):
        """Train up to ``n_epochs`` epochs, and ~``_SECONDS_PER_CALL`` of batches.

        Returns
        -------
        summed : ndarray of float64, shape (n_done,)
            Each completed epoch's sum of batch loss times batch length.
        """
        if self.random_state is not None and not self.compiled_shuffle:
            n_epochs = 1  # the next epoch's shuffle happens here, in Python
            if not self.in_epoch:
                self.order[...] = _shuffled(self.order, self.random_state)
        elif self.compiled_shuffle and self._state is None:
            self._state = self.random_state.get_state(legacy=False)
            inner = self._state["state"]
            self._shuffle = _groups.Shuffle(True, self.order,
                                            np.array(inner["key"], dtype=np.uint32),
                                            np.array([inner["pos"]], dtype=np.int64))
        start = time.perf_counter()
        batch_before = self._cursor[0] // self.batch_size
        plan = _groups.plan(n_epochs, self.batch_size, self._batch_budget(n_epochs),
                            self._cursor, self._partial)
        n_done = self.net._run_epochs(self.data, self.optimizer, self.alpha, self._shuffle, plan)
        batches = (n_done * self.batches_per_epoch - batch_before
                   + self._cursor[0] // self.batch_size)
        self.seconds_per_batch = (time.perf_counter() - start) / max(batches, 1)
        return plan.losses[:n_done]

    def close(self):
        """Write the advanced MT19937 state back into the RandomState (even after Ctrl-C)."""
        if self._state is not None:
            self._state["state"] = {"key": self._shuffle.key, "pos": int(self._shuffle.pos[0])}
            self.random_state.set_state(self._state)
            self._state = None


def _is_mt19937(random_state):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = random_state.get_state(legacy=False)
    return isinstance(state, dict) and state.get("bit_generator") == "MT19937"


def _end_epoch(est, net, optimizer, loss, n_samples, early_stopping, X_val, y_val, sw_val, val,
               incremental):
    """scikit-learn's bookkeeping after one epoch; True when training stops."""
    est.n_iter_ += 1
    est.loss_ = loss
    est.t_ += n_samples
    est.loss_curve_.append(est.loss_)
    if est.verbose:
        print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))

    _update_no_improvement_count(est, net, early_stopping, X_val, y_val, sw_val, val)
    optimizer.iteration_ends(est.t_)

    if est._no_improvement_count > est.n_iter_no_change:
        if early_stopping:
            msg = (
                "Validation score did not improve more than "
                "tol=%f for %d consecutive epochs." % (est.tol, est.n_iter_no_change)
            )
        else:
            msg = (
                "Training loss did not improve more than tol=%f"
                " for %d consecutive epochs." % (est.tol, est.n_iter_no_change)
            )
        if optimizer.trigger_stopping(msg, est.verbose):
            return True
        est._no_improvement_count = 0

    if incremental:
        return True
    if est.n_iter_ == est.max_iter:
        warnings.warn(
            "Stochastic Optimizer: Maximum iterations (%d) "
            "reached and the optimization hasn't converged yet." % est.max_iter,
            ConvergenceWarning,
        )
    return False


def _update_no_improvement_count(est, net, early_stopping, X_val, y_val, sw_val, val):
    if early_stopping:
        val_score = est._score(X_val, y_val, sample_weight=sw_val)
        est.validation_scores_.append(val_score)
        est.validation_loss_curve_.append(val())
        if est.verbose:
            print("Validation score: %f" % est.validation_scores_[-1])
        last_valid_score = est.validation_scores_[-1]
        if last_valid_score < (est.best_validation_score_ + est.tol):
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if last_valid_score > est.best_validation_score_:
            est.best_validation_score_ = last_valid_score
            est._best_params = net.params.flat.copy()
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]


def fit_lbfgs(est, net, X, y, sample_weight, hooks=None):
    """Minimize the full-batch loss with scipy's L-BFGS-B, as scikit-learn does.

    Each evaluation is one compiled call that computes the loss and the flat
    gradient over all samples; scipy sees the flat parameter vector directly.

    Parameters
    ----------
    est : fastnet MLP estimator
        Supplies ``max_iter``, ``max_fun``, ``tol``, ``alpha``, ``verbose``;
        receives ``n_iter_`` and ``loss_``.
    net : Network
        Its parameters are replaced by the solution.
    X : ndarray of shape (n_samples, n_features), net's dtype
    y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    hooks : fastnet._callbacks._FitHooks or None
        The fit's callbacks: each L-BFGS iteration is a task; a callback's stop
        ends the minimization at that iterate, like reaching ``max_iter`` there
        but without its ConvergenceWarning.
    """
    dtype = net.dtype
    X = _kernel_array(X, dtype)
    Y = _kernel_array(y, dtype)
    has_sw = sample_weight is not None
    sw = _kernel_array(sample_weight, dtype) if has_sw else np.empty(0, dtype=dtype)
    grad = _aligned.empty(net.params.flat.shape, dtype)

    def loss_grad(packed):
        net.params.flat[...] = packed
        loss = net._loss_and_grad(X, Y, sw, has_sw, est.alpha, grad)
        return loss, grad

    x0 = net.params.flat.copy()
    bridge = None if hooks is None else hooks.lbfgs(est, net, x0)
    iprint = 1 if (est.verbose is True or est.verbose >= 1) else -1
    try:
        opt_res = scipy.optimize.minimize(
            loss_grad if bridge is None else bridge.wrap(loss_grad),
            x0,
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol,
                     **_lbfgs_iprint_option(iprint)},
            callback=bridge,
        )
    except StopIteration:
        if bridge is None or not bridge.stopped:
            raise
        opt_res = bridge.result()  # scipy < 1.11 lets the callback's StopIteration through
    if bridge is not None:
        bridge.close()
    if bridge is not None and bridge.stopped and opt_res.nit < est.max_iter:
        est.n_iter_ = opt_res.nit  # a stop asked for, not a failure to converge
    else:
        est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
    est.loss_ = opt_res.fun
    net.params.flat[...] = opt_res.x


def _lbfgs_iprint_option(iprint):
    """``iprint`` where this scipy still takes it (removed in scipy 1.18)."""
    try:
        from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
    except ImportError:  # older scikit-learn: every supported scipy takes iprint
        return {"iprint": iprint}
    return _get_additional_lbfgs_options_dict("iprint", iprint)
