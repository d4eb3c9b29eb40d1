"""scikit-learn's callback API (``sklearn.callback``, 1.9) in fastnet's training loops.

scikit-learn 1.9 wires its experimental callbacks into LogisticRegression,
Pipeline and the searches; fastnet's estimators take part in the same task
tree (``doc/developers/callback_support.rst`` of scikit-learn, and
``sklearn/linear_model/_logistic.py`` for an iterative solver):

- the root task is one ``fit`` (or ``partial_fit``) call; inside a
  meta-estimator it is merged with the meta-estimator's leaf task, so
  ``ProgressBar`` and ``ScoringMonitor`` set on a Pipeline or a search see the
  epochs of the MLP inside;
- its subtasks are the epochs (sgd/adam, task name ``"epoch"``, at most
  ``max_iter``; one for ``partial_fit``) or the L-BFGS iterations
  (``"lbfgs-iter"``, at most ``max_iter``);
- every task's hooks get the data ``fit`` was given (``X``, ``y`` as passed, and
  ``sample_weight`` in ``metadata``), and at the end of an epoch or iteration a
  ``fitted_estimator``: a copy of the model exactly as a stop at that point
  leaves it (see below), built only when a callback asks for it.

A callback's ``on_fit_task_end`` returning True at an epoch or iteration
stops training there, as scikit-learn's stopping rule stops it: no further
epochs, no ConvergenceWarning (unless the stop fell on ``max_iter``, which
warns as always), ``n_iter_``, ``loss_curve_`` and the weights those of a fit
that ended at that epoch, and with ``early_stopping=True`` the best validated
weights restored, as after every end of training.  (scikit-learn 1.9's
LogisticRegression reports iterations but does not yet act on the request:
its scipy bridge has a TODO for 1.10; fastnet acts on it for both solvers.)

The cost is nothing without callbacks: no context is created and the loops
take their usual paths, several epochs per compiled call.  With callbacks,
each epoch is its own compiled call, so that every epoch's model can be read
and a stop lands on the epoch that asked for it -- except when every callback
is one known never to read the model nor stop (scikit-learn's own
``ProgressBar``): then the usual runs of epochs stay, and the epochs' hooks
are replayed after each run, a tenth of a second at most behind.

With a scikit-learn older than 1.9, ``set_callbacks`` raises ImportError.
"""

import copy

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin as _SkCallbackSupportMixin
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    _SkCallbackSupportMixin = None

__all__ = ["CallbackSupportMixin", "STATE_ATTRIBUTES", "fit_hooks"]

SUPPORTED = _SkCallbackSupportMixin is not None

# What scikit-learn's callback machinery keeps on an estimator: the callbacks set
# (``set_callbacks``), the fit's root context and the callbacks to tear down (both
# between ``_init_callback_context`` and the end of fit), and the meta-estimator's
# context (during a meta-estimator's fit).  A fit's rollback snapshot must neither
# copy these (deep copies of callbacks and context trees) nor put them back: they
# belong to whoever set them, and the teardown at the end of fit needs them.
STATE_ATTRIBUTES = ("_skl_callbacks", "_callback_fit_ctx", "_skl_callbacks_to_teardown",
                    "_parent_callback_ctx")


class _CallbackSupportUnavailable:
    """Stands in for ``sklearn.callback.CallbackSupportMixin`` before scikit-learn 1.9."""

    def set_callbacks(self, *callbacks):
        """Set callbacks for the estimator (needs scikit-learn >= 1.9).

        Parameters
        ----------
        *callbacks : callback instances

        Raises
        ------
        ImportError
            Always: this scikit-learn has no ``sklearn.callback``.
        """
        import sklearn

        raise ImportError(
            f"set_callbacks needs scikit-learn >= 1.9 (its sklearn.callback API); this is "
            f"scikit-learn {sklearn.__version__}. Upgrade it: pip install 'scikit-learn>=1.9'"
        )


CallbackSupportMixin = _SkCallbackSupportMixin if SUPPORTED else _CallbackSupportUnavailable


def fit_hooks(est, X, y, sample_weight, incremental):
    """Open the root task of a fit, or None when no callback can be listening.

    Called once per ``fit`` / ``partial_fit`` after the input was validated;
    ``sklearn.base._fit_context`` tears the callbacks down when the call ends,
    whatever way it ends.

    Parameters
    ----------
    est : fastnet MLP estimator
    X, y : array-like
        The data as ``fit`` was given them: what the hooks receive (a scorer
        then sees the labels and the feature names the model was fitted with).
    sample_weight : array-like of shape (n_samples,) or None
        As given; the hooks receive it as ``metadata={"sample_weight": ...}``.
    incremental : bool
        ``partial_fit``: one epoch.

    Returns
    -------
    hooks : _FitHooks or None
    """
    if not SUPPORTED or not (hasattr(est, "_skl_callbacks")
                             or hasattr(est, "_parent_callback_ctx")):
        return None
    if est.solver == "lbfgs":
        max_subtasks = est.max_iter
    else:
        max_subtasks = 1 if incremental else est.max_iter
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    ctx = est._init_callback_context(max_subtasks=max_subtasks)
    ctx.call_on_fit_task_begin(estimator=est, X=X, y=y, metadata=metadata)
    return _FitHooks(est, ctx, X, y, metadata)


def _is_passive(callback):
    """Whether ``callback`` is known to neither read the model nor ask to stop.

    Only scikit-learn's ``ProgressBar`` as it ships (a subclass that overrides a
    hook may do either).
    """
    from sklearn.callback import ProgressBar

    return isinstance(callback, ProgressBar) and all(
        getattr(type(callback), hook) is getattr(ProgressBar, hook)
        for hook in ("on_fit_task_begin", "on_fit_task_end"))


class _FitHooks:
    """The callback side of one fit: its root task, the open epoch, the L-BFGS bridge.

    Parameters
    ----------
    est : fastnet MLP estimator
    ctx : sklearn.callback.CallbackContext
        The fit's root context.
    X, y, metadata :
        What every hook receives.

    Attributes
    ----------
    per_epoch : bool
        Whether each epoch must be its own compiled call (a callback may read
        the model or stop).
    """

    def __init__(self, est, ctx, X, y, metadata):
        self.ctx = ctx
        self.data = dict(X=X, y=y, metadata=metadata)
        callbacks = getattr(est, "_skl_callbacks", [])
        # Without callbacks of its own (a meta-estimator's context only), no subtask
        # would reach anyone: don't create them.
        self.has_subtasks = bool(callbacks)
        self.per_epoch = not all(_is_passive(cb) for cb in callbacks)
        self._epoch = None  # the open epoch's context

    # ------------------------------------------------------------- sgd / adam
    def begin_epoch(self, est, net):
        """Open the next epoch's task, unless one is open (a call left it unfinished)."""
        if not self.has_subtasks or self._epoch is not None:
            return
        self._epoch = self.ctx.subcontext(task_name="epoch")
        self._epoch.call_on_fit_task_begin(
            estimator=est, **self.data,
            reconstruction_attributes=lambda: _stochastic_model(est, net))

    def end_epoch(self, est, net):
        """Close the open epoch after scikit-learn's bookkeeping of it.

        Returns
        -------
        stop : bool
            Whether a callback asked to stop training here.
        """
        if self._epoch is None:
            return False
        ctx, self._epoch = self._epoch, None
        return ctx.call_on_fit_task_end(
            estimator=est, **self.data,
            reconstruction_attributes=lambda: _stochastic_model(est, net))

    def end_unfinished_epoch(self, est):
        """End an epoch that training left unfinished (Ctrl-C) as an empty task.

        Every ``on_fit_task_begin`` gets its ``on_fit_task_end``; without data,
        as scikit-learn ends the L-BFGS iteration that never ran.
        """
        if self._epoch is not None:
            ctx, self._epoch = self._epoch, None
            ctx.call_on_fit_task_end(estimator=est)

    # ----------------------------------------------------------------- lbfgs
    def lbfgs(self, est, net, x0):
        """The bridge to scipy's L-BFGS-B, or None when no callback listens."""
        return _LbfgsBridge(self, est, net, x0) if self.has_subtasks else None

    # ------------------------------------------------------------------ root
    def end_fit(self, est):
        """Close the root task: ``fitted_estimator`` is the fitted estimator itself."""
        self.ctx.call_on_fit_task_end(estimator=est, **self.data, reconstruction_attributes={})


class _LbfgsBridge:
    """scipy's per-iteration callback as tasks: one ``"lbfgs-iter"`` per iteration.

    scipy calls the callback at the end of each iteration; an iteration's task
    begins at the first loss evaluation after the previous one ended (the
    wrapper from :meth:`wrap`), so an iteration scipy never starts has no task
    and the root's subtasks number ``n_iter_``.  A stop raises StopIteration in
    the callback, which scipy (>= 1.11) turns into a halt at that iterate.
    """

    def __init__(self, hooks, est, net, x0):
        self.hooks = hooks
        self.est = est
        self.net = net
        self.x = x0.copy()  # the last iterate (x0 before the first)
        self.fun = None
        self.nit = 0
        self.stopped = False
        self._last_loss = None
        self._iter = None

    def _model(self):
        attrs = _network_attributes(self.net, self.x)
        attrs["n_iter_"] = self.nit
        if self.fun is not None:
            attrs["loss_"] = self.fun
        return attrs

    def wrap(self, loss_grad):
        """``loss_grad`` that first opens the iteration's task if none is open."""
        def evaluate(packed):
            if self._iter is None:
                self._iter = self.hooks.ctx.subcontext(task_name="lbfgs-iter")
                self._iter.call_on_fit_task_begin(estimator=self.est, **self.hooks.data,
                                                  reconstruction_attributes=self._model)
            loss, grad = loss_grad(packed)
            self._last_loss = loss
            return loss, grad
        return evaluate

    def __call__(self, intermediate_result):
        """scipy's callback: the iteration ended at ``intermediate_result.x``."""
        # scipy < 1.11 passes the iterate itself; its loss is the last evaluation's.
        self.x = getattr(intermediate_result, "x", intermediate_result).copy()
        self.fun = float(getattr(intermediate_result, "fun", self._last_loss))
        self.nit += 1
        ctx, self._iter = self._iter, None
        if ctx.call_on_fit_task_end(estimator=self.est, **self.hooks.data,
                                    reconstruction_attributes=self._model):
            self.stopped = True
            raise StopIteration

    def result(self):
        """The halted optimization, where scipy let the StopIteration through (< 1.11)."""
        import scipy.optimize

        return scipy.optimize.OptimizeResult(
            x=self.x, fun=self.fun, nit=self.nit, status=2, success=False,
            message="STOP: CALLBACK REQUESTED HALT")

    def close(self):
        """End an iteration scipy began but did not finish, as an empty task."""
        if self._iter is not None:
            ctx, self._iter = self._iter, None
            ctx.call_on_fit_task_end(estimator=self.est)


# Fitted attributes an epoch changes, besides the weights (see fastnet.training).
_EPOCH_ATTRIBUTES = ("n_iter_", "t_", "loss_", "best_loss_", "loss_curve_", "validation_scores_",
                     "validation_loss_curve_", "best_validation_score_", "_no_improvement_count",
                     "_best_params", "_optimizer")


def _stochastic_model(est, net):
    """Reconstruction attributes of the model a stop after the last finished epoch leaves.

    Copies, so that the model a callback keeps does not move on with training
    (nor, if it is trained further, move training): the weights -- with
    early stopping, the best validated ones, which the end of training
    restores --, the optimizer and the per-epoch bookkeeping.
    """
    flat = est._best_params if est.early_stopping else net.params.flat
    attrs = _network_attributes(net, flat)
    for name in _EPOCH_ATTRIBUTES:
        if name in est.__dict__:
            value = est.__dict__[name]
            attrs[name] = list(value) if type(value) is list else copy.deepcopy(value)
    attrs["_dropout_step"] = net.dropout_step
    return attrs


def _network_attributes(net, flat):
    """A network of its own holding ``flat``, with ``coefs_`` / ``intercepts_`` its views."""
    frozen = copy.deepcopy(net)
    frozen.params.flat[...] = flat
    return {"_network": frozen, "coefs_": list(frozen.params.coefs),
            "intercepts_": list(frozen.params.intercepts)}
