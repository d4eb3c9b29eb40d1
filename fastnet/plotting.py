"""Plots of a fitted network's training: :class:`LossCurveDisplay`.

The display follows scikit-learn's visualization API (its developer guide,
"Developing with the Plotting API"): the data live in ``__init__``,
:meth:`LossCurveDisplay.plot` draws them and keeps the matplotlib artists as
attributes, and :meth:`LossCurveDisplay.from_estimator` reads them off fitted
estimators.

matplotlib (the ``plot`` extra) is imported only inside ``plot``, so
``import fastnet`` and ``fastnet.LossCurveDisplay`` cost nothing without it.
"""

import numbers
import weakref

import numpy as np

__all__ = ["LossCurveDisplay"]

_PLOT_EXTRA = 'pip install "fastnet[plot]"'

# What ``loss_curve_`` holds per epoch, as scikit-learn's MLPs compute it
# (``sklearn.neural_network._base``): half the mean squared error, half the
# Poisson deviance, the log-loss -- each plus the L2 penalty when alpha > 0.
_LOSS_NAMES = {
    "squared_error": "half squared error",
    "poisson": "half Poisson deviance",
    "log_loss": "log-loss",
}


def _import_pyplot(caller):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed; install it "
            f"with `{_PLOT_EXTRA}` (or `pip install matplotlib`)."
        ) from exc
    return plt


def _as_curve(values, what):
    """One curve as a 1-d float array, or a ValueError naming ``what``."""
    try:
        curve = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a sequence of numbers, got {values!r}") from exc
    if curve.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {curve.shape}")
    if curve.size == 0:
        raise ValueError(f"{what} is empty: there is no epoch to plot")
    return curve


def _is_single_curve(values):
    """True for one curve (a sequence of numbers), False for a list of curves."""
    if isinstance(values, np.ndarray):
        return values.ndim <= 1
    if isinstance(values, (list, tuple)):
        if len(values) == 0:
            return True  # rejected as empty by _as_curve
        return isinstance(values[0], numbers.Real) and not isinstance(values[0], bool)
    return True  # let _as_curve name what is wrong with it


def _as_curves(values, what, n_curves=None, optional=False):
    """Normalize one curve or a list of curves to a list of arrays (or Nones).

    Parameters
    ----------
    values : array-like of shape (n_epochs,), list of such, or None
    what : str
        The parameter's name, for error messages.
    n_curves : int or None
        The number of curves ``values`` must match (None: any).
    optional : bool
        Whether ``values`` (or one entry of the list) may be None.

    Returns
    -------
    curves : list of (ndarray of shape (n_epochs_i,) or None)
    """
    if values is None:
        if not optional:
            raise ValueError(f"{what} is required")
        return [None] * (1 if n_curves is None else n_curves)
    if isinstance(values, np.ndarray) and values.ndim == 2:
        values = list(values)
    if _is_single_curve(values):
        values = [values]
    curves = []
    for i, v in enumerate(values):
        label = what if len(values) == 1 else f"{what}[{i}]"
        if v is None and optional:
            curves.append(None)
        elif v is None:
            raise ValueError(f"{label} is None; a loss curve is required for every curve")
        else:
            curves.append(_as_curve(v, label))
    if n_curves is not None and len(curves) != n_curves:
        if len(curves) == 1 and curves[0] is None:
            return [None] * n_curves
        raise ValueError(
            f"{what} has {len(curves)} curves but loss_curve has {n_curves}; "
            "give one entry (or None) per curve"
        )
    return curves


def _as_names(name, n_curves, what="name"):
    """``name`` as a list of n_curves labels (or Nones)."""
    if name is None:
        return [None] * n_curves
    if isinstance(name, str):
        # One name for several curves would label them all alike; number them.
        if n_curves == 1:
            return [name]
        return [f"{name} {i + 1}" for i in range(n_curves)]
    names = list(name)
    if len(names) != n_curves:
        raise ValueError(f"{what} has {len(names)} entries for {n_curves} curves")
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"{what} must be a str or a list of str, got {n!r}")
    return names


def _final_step(estimator):
    """The estimator whose curves to read: a Pipeline's last step, else itself."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps and hasattr(estimator, "__getitem__"):
        return estimator[-1]
    return estimator


def _curves_of(estimator):
    """Read the per-epoch curves of one fitted MLP.

    Returns
    -------
    loss_curve : list of float, length n_epochs
    validation_scores : list of float or None
    validation_loss_curve : list of float or None
    """
    from sklearn.utils.validation import check_is_fitted

    est = _final_step(estimator)
    kind = type(est).__name__
    if not (hasattr(est, "get_params") and hasattr(est, "fit")
            and "solver" in est.get_params(deep=False)):
        raise TypeError(
            "LossCurveDisplay.from_estimator expects a fitted MLPRegressor or "
            f"MLPClassifier (fastnet's or scikit-learn's), got {kind}"
        )
    check_is_fitted(est)  # NotFittedError (a ValueError) naming the estimator
    solver = est.get_params(deep=False)["solver"]
    loss_curve = getattr(est, "loss_curve_", None)
    # A refit with lbfgs leaves an earlier adam/sgd fit's loss_curve_ behind
    # (scikit-learn only resets it for the stochastic solvers): never plot it.
    if solver == "lbfgs" or loss_curve is None:
        raise ValueError(
            f"This {kind} uses solver={solver!r}, which records no loss per epoch "
            "(L-BFGS keeps only the final loss_); fit it with solver='adam' or 'sgd' "
            "to plot a loss curve."
        )
    validation_scores = getattr(est, "validation_scores_", None)
    # validation_loss_curve_ is newer than this display; older fits lack it.
    validation_loss = getattr(est, "validation_loss_curve_", None)
    return loss_curve, validation_scores, validation_loss


def _loss_name(est):
    from sklearn.base import is_classifier

    params = est.get_params()
    loss = "log_loss" if is_classifier(est) else params.get("loss", "squared_error")
    name = _LOSS_NAMES.get(loss)
    if name is not None and params.get("alpha", 0) > 0:
        name += " + L2 penalty"
    return name


def _score_name(est):
    from sklearn.base import is_classifier

    # MLPClassifier.score is accuracy, MLPRegressor.score is R^2 (the early
    # stopping rule uses .score on the validation split).
    return "accuracy" if is_classifier(est) else "R²"


def _default_names(estimators):
    """Legend names that tell several estimators apart.

    One estimator: its class name.  Several: the library when both fastnet's
    and scikit-learn's are given, the class when the classes differ, and the
    constructor parameters in which they differ (``learning_rate_init=0.01``).
    """
    classes = [type(e) for e in estimators]
    if len(estimators) == 1:
        return [classes[0].__name__]
    libraries = [c.__module__.split(".")[0] for c in classes]
    show_library = len(set(libraries)) > 1
    show_class = len({c.__name__ for c in classes}) > 1
    params = [e.get_params(deep=False) for e in estimators]
    # Parameters every estimator has: fastnet's own additions (dropout, ...) are no
    # difference from a scikit-learn estimator that lacks them.
    keys = sorted(set.intersection(*(set(p) for p in params)))
    differing = [k for k in keys if len({repr(p[k]) for p in params}) > 1]
    names = []
    for lib, cls, p in zip(libraries, classes, params):
        parts = [lib] if show_library else []
        parts += [cls.__name__] if show_class else []
        parts += [", ".join(f"{k}={p.get(k)!r}" for k in differing)] if differing else []
        names.append(" ".join(parts))
    if len(set(names)) < len(names):  # e.g. identical estimators: number them
        names = [f"{n} ({i + 1})".strip() for i, n in enumerate(names)]
    return names


def _common(values):
    """The value all entries share, or None."""
    values = set(values)
    return values.pop() if len(values) == 1 else None


# loss axes -> the validation-score twin a display made for it.  Plotting a
# second display onto ``disp.ax_`` must reuse that twin: a new ``twinx`` would
# stack a second, differently scaled score axis on the first.  Weak keys: a
# closed figure's axes are not kept alive by this table.
_SCORE_AXES = weakref.WeakKeyDictionary()


# loss axes -> the curves every display drew onto it, for the legend: a list
# of (name, {kind of line: its Line2D}), kinds being "training loss",
# "validation score (accuracy)", ...  Entries whose lines are gone from the
# axes (ax.clear(), line.remove()) are left out of the next legend.
_LEGEND_KEYS = weakref.WeakKeyDictionary()
_BEST = "best validation score (weights kept)"


def _draw_legend(ax, score_ax, key, Line2D):
    """One compact legend for both axes: a color per curve, a line style per quantity.

    Listing "name: quantity" for every line gets long fast; instead each
    curve's name appears once in its color, and a grey key says which line
    style is which quantity (left out when every line is a training loss).
    A single curve gets the key in its own color and its name as the
    legend's title.

    Returns
    -------
    legend : matplotlib Legend or None
    """
    for a in (ax, score_ax):
        if a is not None and a.get_legend() is not None:
            a.get_legend().remove()
    drawn = list(ax.lines) + (list(score_ax.lines) if score_ax is not None else [])
    key[:] = [(nm, lines) for nm, lines in key if lines["training loss"] in drawn]
    if not key:
        return None
    kinds = {}  # kind -> the look of its key entry, in the order first drawn
    for _, lines in key:
        for kind, line in lines.items():
            kinds.setdefault(kind, {"linestyle": line.get_linestyle(),
                                    "marker": line.get_marker()})
    single = len(key) == 1
    key_color = key[0][1]["training loss"].get_color() if single else "0.35"
    handles = [] if single else [
        # The curve's entry looks like its loss line (thick and pale stays so).
        Line2D([], [], label=nm if nm is not None else f"curve {i + 1}",
               color=lines["training loss"].get_color(),
               linewidth=lines["training loss"].get_linewidth(),
               alpha=lines["training loss"].get_alpha())
        for i, (nm, lines) in enumerate(key)
    ]
    if single or len(kinds) > 1:  # several curves of training loss only need no key
        handles += [Line2D([], [], color=key_color, label=kind, **look)
                    for kind, look in kinds.items()]
    title = key[0][0] if single else None
    # On the top (score) axes, so that no score line is drawn over it; where
    # both axes have lines, "center right" is where a falling loss and a
    # rising, levelling score usually leave room, "best" looks only at the
    # axes the legend is on.
    legend_ax, loc = (score_ax, "center right") if score_ax is not None else (ax, "best")
    return legend_ax.legend(handles=handles, title=title, loc=loc, fontsize="small",
                            title_fontsize="small")


def _twin_of(ax):
    """The validation-score twin an earlier display made for ``ax``, or None."""
    twin = _SCORE_AXES.get(ax)
    if twin is not None and twin in ax.figure.axes:
        return twin
    return None


class LossCurveDisplay:
    """Training loss per epoch, and the validation score when early stopping ran.

    The loss of every epoch (``loss_curve_``) is drawn on the left axis; the
    validation score of every epoch (``validation_scores_``: accuracy for
    a classifier, R² for a regressor) on a second axis at the right, with
    its best epoch marked -- with early stopping, the model keeps the
    weights of that epoch. A validation loss per epoch, when given, shares
    the left axis. Several curves (e.g. different solvers or learning rates)
    can be drawn on one axes for comparison.

    It is recommended to create the display with :meth:`from_estimator`.
    All parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,) or list of such
        Training loss after each epoch, one sequence per curve.
    validation_scores : array-like of shape (n_epochs,), list of such (or of None), or None
        Validation score after each epoch, per curve; None where early
        stopping was off.
    validation_loss_curve : array-like of shape (n_epochs,), list of such (or of None), or None
        Loss on the validation split after each epoch, per curve; None where
        not recorded.
    name : str, list of str or None, default=None
        Legend name of each curve. None: the lines are labelled by what they
        show only ("training loss").
    score_name : str or None, default=None
        What the validation score is ("accuracy", "R²"), for the right
        axis's label.
    loss_name : str or None, default=None
        What the loss is ("log-loss", "half squared error"), for the left
        axis's label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the loss curves (x: epoch, y: loss).
    score_ax_ : matplotlib Axes or None
        The right-hand twin of ``ax_`` with the validation scores; None when
        no curve has validation scores.
    figure_ : matplotlib Figure
        Figure containing the axes.
    loss_lines_ : list of matplotlib Line2D
        One training-loss line per curve.
    validation_loss_lines_ : list of (matplotlib Line2D or None)
        One validation-loss line per curve, None where there is none.
    score_lines_ : list of (matplotlib Line2D or None)
        One validation-score line per curve, on ``score_ax_``; None where
        there are no validation scores.
    best_markers_ : list of (matplotlib Line2D or None)
        The marker at each curve's best validation score (its first
        maximum, the epoch whose weights early stopping keeps); None where
        there are no validation scores or ``mark_best=False``.
    legend_ : matplotlib Legend or None
        The legend (on ``score_ax_`` when there is one, else on ``ax_``):
        each curve's name in its color and a key of the line styles; it
        lists every curve drawn onto these axes, by earlier displays too.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against training set size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from fastnet import LossCurveDisplay, MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(early_stopping=True, random_state=0).fit(X / 16, y)
    >>> disp = LossCurveDisplay.from_estimator(clf)
    >>> len(disp.loss_lines_[0].get_ydata()) == clf.n_iter_
    True
    """

    def __init__(self, *, loss_curve, validation_scores=None, validation_loss_curve=None,
                 name=None, score_name=None, loss_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.validation_loss_curve = validation_loss_curve
        self.name = name
        self.score_name = score_name
        self.loss_name = loss_name

    def plot(self, ax=None, *, name=None, mark_best=True, loss_kw=None,
             validation_loss_kw=None, score_kw=None, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw the losses on; None makes a new figure. Passing the
            ``ax_`` of an earlier display adds these curves to it (and reuses
            its validation-score axis).
        name : str, list of str or None, default=None
            Overrides the ``name`` given at construction.
        mark_best : bool, default=True
            Mark each curve's best validation score.
        loss_kw, validation_loss_kw, score_kw : dict, default=None
            Keyword arguments for matplotlib's ``Axes.plot`` of the training
            loss, validation loss and validation score lines; they take
            precedence over ``**kwargs`` and the defaults (each curve's own
            color; solid training loss, dotted validation loss, dashed
            validation score).
        **kwargs : dict
            Keyword arguments for every line's ``Axes.plot`` (e.g. ``lw=1``).

        Returns
        -------
        display : LossCurveDisplay
            The display, with the artists stored as attributes.
        """
        plt = _import_pyplot("LossCurveDisplay.plot")
        from matplotlib.cbook import normalize_kwargs
        from matplotlib.lines import Line2D

        losses = _as_curves(self.loss_curve, "loss_curve")
        n = len(losses)
        scores = _as_curves(self.validation_scores, "validation_scores", n, optional=True)
        val_losses = _as_curves(self.validation_loss_curve, "validation_loss_curve", n,
                                optional=True)
        names = _as_names(self.name if name is None else name, n)

        def style(defaults, specific):
            # Aliases (lw/linewidth, c/color) normalized first, so that a
            # user's "ls" replaces the default "linestyle" instead of clashing.
            merged = normalize_kwargs(defaults, Line2D)
            merged.update(normalize_kwargs(kwargs, Line2D))
            merged.update(normalize_kwargs(specific or {}, Line2D))
            return merged

        def label(nm, what):
            return what if nm is None else f"{nm}: {what}"

        if ax is None:
            # constrained layout keeps the right-hand score label inside the figure
            _, ax = plt.subplots(layout="constrained")
        score_ax = _twin_of(ax)
        if score_ax is None and any(s is not None for s in scores):
            score_ax = ax.twinx()
            _SCORE_AXES[ax] = score_ax
        key = _LEGEND_KEYS.setdefault(ax, [])

        score_label = (f"validation score ({self.score_name})" if self.score_name
                       else "validation score")
        self.loss_lines_, self.validation_loss_lines_ = [], []
        self.score_lines_, self.best_markers_ = [], []
        for loss, score, val_loss, nm in zip(losses, scores, val_losses, names):
            (line,) = ax.plot(np.arange(1, loss.size + 1), loss,
                              **style({"label": label(nm, "training loss")}, loss_kw))
            self.loss_lines_.append(line)
            # The curve's other lines share its color: a curve reads as one
            # color, and the line style says which quantity a line is.
            color = line.get_color()
            lines = {"training loss": line}
            key.append((nm, lines))
            if val_loss is None:
                self.validation_loss_lines_.append(None)
            else:
                (vline,) = ax.plot(
                    np.arange(1, val_loss.size + 1), val_loss,
                    **style({"color": color, "linestyle": ":",
                             "label": label(nm, "validation loss")}, validation_loss_kw))
                self.validation_loss_lines_.append(vline)
                lines["validation loss"] = vline
            if score is None:
                self.score_lines_.append(None)
                self.best_markers_.append(None)
                continue
            epochs = np.arange(1, score.size + 1)
            (sline,) = score_ax.plot(
                epochs, score,
                **style({"color": color, "linestyle": "--",
                         "label": label(nm, score_label)}, score_kw))
            self.score_lines_.append(sline)
            lines[score_label] = sline
            if mark_best:
                best = int(np.argmax(score))  # first maximum, as the stopping rule's ">"
                (marker,) = score_ax.plot(
                    [epochs[best]], [score[best]], linestyle="none", marker="o",
                    markersize=6, color=sline.get_color(),
                    label=label(nm, "best validation score"))
                self.best_markers_.append(marker)
                lines[_BEST] = marker
            else:
                self.best_markers_.append(None)

        ax.set_xlabel("epoch")
        ax.set_ylabel(f"loss ({self.loss_name})" if self.loss_name else "loss")
        if score_ax is not None:
            score_ax.set_ylabel(score_label)
        self.legend_ = _draw_legend(ax, score_ax, key, Line2D)
        self.ax_, self.score_ax_, self.figure_ = ax, score_ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, name=None, ax=None, mark_best=True, loss_kw=None,
                       validation_loss_kw=None, score_kw=None, **kwargs):
        """Plot the curves of one or several fitted estimators.

        Parameters
        ----------
        estimator : estimator or list of estimators
            Fitted ``MLPRegressor`` / ``MLPClassifier`` with solver 'sgd' or
            'adam' (fastnet's or scikit-learn's; a Pipeline ending in one),
            or a list of them to compare on one axes.
        name : str, list of str or None, default=None
            Legend names. None: the class name for one estimator; for several,
            the parameters in which they differ (e.g.
            ``learning_rate_init=0.01``), and the library when both fastnet's
            and scikit-learn's are given.
        ax, mark_best, loss_kw, validation_loss_kw, score_kw, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If an estimator is not fitted (a ValueError).
        ValueError
            If an estimator was fitted with solver='lbfgs', which records no
            loss curve.
        TypeError
            If an estimator is not an MLP estimator.
        """
        _import_pyplot("LossCurveDisplay.from_estimator")
        single = not isinstance(estimator, (list, tuple))
        estimators = [estimator] if single else list(estimator)
        if not estimators:
            raise ValueError("from_estimator needs at least one estimator, got an empty list")
        curves = [_curves_of(e) for e in estimators]
        finals = [_final_step(e) for e in estimators]
        names = _default_names(finals) if name is None else _as_names(name, len(finals))
        disp = cls(
            loss_curve=[c[0] for c in curves],
            validation_scores=[c[1] for c in curves],
            validation_loss_curve=[c[2] for c in curves],
            name=names,
            score_name=_common(_score_name(e) for e in finals),
            loss_name=_common(_loss_name(e) for e in finals),
        )
        return disp.plot(ax=ax, mark_best=mark_best, loss_kw=loss_kw,
                         validation_loss_kw=validation_loss_kw, score_kw=score_kw, **kwargs)
