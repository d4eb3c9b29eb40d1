"""``MLPRegressor`` and ``MLPClassifier`` on a shared base: scikit-learn's face.

Parameters, defaults, validation, fitted attributes, warnings and errors are
scikit-learn's (1.9).  The estimators validate input and keep state; the
numbers are computed by a :class:`fastnet.Network` whose flat parameter
buffer ``coefs_`` and ``intercepts_`` are views of.
"""

import copy
import functools
from operator import is_

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPRegressor as _SkMLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metaestimators import available_if
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _callbacks, _device
from ._dropout import dropout_rates, dropout_seed
from .kernels import labels as _labels_kernels
from .kernels import registry as _registry
from .network import Network
from .training import fit_lbfgs, fit_stochastic

__all__ = ["MLPRegressor", "MLPClassifier"]

_STOCHASTIC_SOLVERS = ("sgd", "adam")
# Input dtypes the lean predict path takes as they are (see BaseMLP._lean_forward).
_LEAN_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


# The output activation each loss pairs with (the registry's canonical pairs, inverted).
_OUTPUT_OF_LOSS = {loss: name for name, loss in _registry.CANONICAL_LOSS.items()}


def _str_options(names, sklearn_constraints):
    """The constraint list for a string parameter whose options come from the registry.

    scikit-learn's own constraint object is reused when it names exactly the same
    options, so that the error message lists them in scikit-learn's order.
    """
    for constraint in sklearn_constraints:
        if isinstance(constraint, StrOptions) and constraint.options == set(names):
            return list(sklearn_constraints)
    return [StrOptions(set(names))]


def _dense(X):
    """Sparse input is accepted like scikit-learn, then densified for the kernels."""
    return X.toarray() if sp.issparse(X) else X


class BaseMLP(_callbacks.CallbackSupportMixin, BaseEstimator):
    """Shared machinery of fastnet's MLP estimators (not for direct use).

    ``set_callbacks`` takes scikit-learn's callbacks (``sklearn.callback``,
    scikit-learn >= 1.9): epochs and L-BFGS iterations are their tasks (see
    ``fastnet._callbacks``).
    """

    _parameter_constraints: dict = dict(_SkMLPRegressor._parameter_constraints)
    _parameter_constraints.pop("loss")
    _parameter_constraints["activation"] = _str_options(
        _registry.HIDDEN_ACTIVATIONS, _SkMLPRegressor._parameter_constraints["activation"])
    # Beyond scikit-learn: the length of a per-layer tuple is checked at fit.
    _parameter_constraints["dropout"] = [Interval(Real, 0, 1, closed="left"), tuple, list]
    _parameter_constraints["device"] = [StrOptions(set(_device.DEVICES))]

    # ------------------------------------------------------------ network
    def _network_for_attributes(self):
        """The Network behind ``coefs_`` / ``intercepts_``, rebuilt if they were replaced.

        ``coefs_[i]`` are views of the network's flat buffer.  If a user assigned
        new arrays, or pickling detached the views, the network is rebuilt from
        the public attributes so that they stay the single source of truth.
        """
        net = getattr(self, "_network", None)
        if net is not None and _are_the_networks(self.__dict__, net.params):
            return net
        net = Network.from_arrays(self.coefs_, self.intercepts_, self.activation,
                                  self.out_activation_, dropout=self._dropout_rates(),
                                  dropout_seed=getattr(self, "_dropout_seed", 0),
                                  dropout_step=getattr(self, "_dropout_step", 0))
        self._bind_network(net)
        return net

    def _bind_network(self, net):
        self._network = net
        # New lists of the same views: an array a user puts into coefs_[i] then
        # shows up as "not a view" instead of silently changing the network's list.
        self.coefs_ = list(net.params.coefs)
        self.intercepts_ = list(net.params.intercepts)

    def __getstate__(self):
        # coefs_/intercepts_ carry the weights; the network is rebuilt from them.  A copy:
        # outside sklearn's modules BaseEstimator returns the live __dict__ itself, and
        # popping from it would unbind the network of the estimator being pickled (or
        # copied, as sklearn.callback copies the estimator it hands to callbacks).
        state = dict(super().__getstate__())
        state.pop("_network", None)
        return state

    # ---------------------------------------------------------------- fit
    def _dropout_rates(self):
        """One dropout rate per hidden layer (validated; 0 for a model fitted before
        dropout existed -- its network never drops)."""
        n_hidden = self.n_layers_ - 2 if hasattr(self, "n_layers_") else None
        if n_hidden is None:
            hidden = self.hidden_layer_sizes
            n_hidden = len(hidden) if hasattr(hidden, "__iter__") else 1
        return dropout_rates(self.dropout, n_hidden)

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        # The masks' seed comes from the random_state parameter itself, before
        # anything draws from it (see fastnet._dropout).
        self._dropout_seed = dropout_seed(self.random_state)
        self._dropout_step = 0
        net = Network(layer_units, self.activation, self.out_activation_, dtype=dtype,
                      random_state=self._random_state, dropout=self._dropout_rates())
        net.dropout_seed = self._dropout_seed
        self._bind_network(net)
        self._best_params = net.params.flat.copy()
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _fit(self, X, y, sample_weight=None, incremental=False):
        """Validate, then train; on any error the estimator is put back as it was.

        scikit-learn can leave a half-updated model behind (e.g. NaN weights
        after a divergent epoch); here a failed call loses nothing.
        """
        self._require_device()
        snapshot = self._snapshot()
        try:
            return self._fit_unchecked(X, y, sample_weight, incremental)
        except Exception:
            self._restore(snapshot)
            raise

    def _require_device(self):
        """Refuse ``device='cuda'`` where CUDA can't run, before a fit touches anything.

        Raises
        ------
        ImportError
            numba-cuda (the ``cuda`` extra) is not installed.
        RuntimeError
            No usable NVIDIA driver or GPU.
        """
        if self.device != "cpu":
            _device.require_cuda()

    def _snapshot(self):
        """Everything a fit may change: fitted attributes, optimizer state, weights."""
        net = self._network_for_attributes() if hasattr(self, "coefs_") else None
        params = _param_names(type(self))
        fitted = {
            k: _copy_fitted(v) for k, v in self.__dict__.items()
            if k not in params and k not in ("_network", "coefs_", "intercepts_")
            and k not in _callbacks.STATE_ATTRIBUTES
        }
        flat = None if net is None else net.params.flat.copy()
        # A RandomState passed by the user is shared: a failed call must not use up draws.
        rng = self.random_state if isinstance(self.random_state, np.random.RandomState) else None
        rng_state = None if rng is None else rng.get_state()
        return dict(self.__dict__), fitted, net, flat, (rng, rng_state)

    def _restore(self, snapshot):
        attributes, fitted, net, flat, (rng, rng_state) = snapshot
        # The callbacks and their contexts stay as they are now: the teardown that
        # follows a failed fit needs the fit's context (see _callbacks.STATE_ATTRIBUTES).
        live = {k: self.__dict__[k] for k in _callbacks.STATE_ATTRIBUTES if k in self.__dict__}
        self.__dict__.clear()
        self.__dict__.update(attributes)
        self.__dict__.update(fitted)
        for k in _callbacks.STATE_ATTRIBUTES:
            self.__dict__.pop(k, None)
        self.__dict__.update(live)
        if rng is not None:
            rng.set_state(rng_state)
        if net is not None:
            net.params.flat[...] = flat
            net.dropout_step = getattr(self, "_dropout_step", 0)
            self._bind_network(net)

    def _fit_unchecked(self, X, y, sample_weight, incremental):
        given = (X, y, sample_weight)  # what callbacks see (labels, feature names and all)
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(
                "hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes
            )
        if self.early_stopping and incremental and self.solver in _STOCHASTIC_SOLVERS:
            raise ValueError("partial_fit does not support early_stopping=True")
        rates = dropout_rates(self.dropout, len(hidden_layer_sizes))
        if any(rates) and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                f"dropout={self.dropout!r} needs solver='sgd' or 'adam': with dropout the "
                f"training loss is a different random function at every step, which "
                f"L-BFGS's line search cannot minimize; use dropout=0.0 with solver='lbfgs'"
            )
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)

        X, y, class_sw = self._validate_input(X, y, incremental, reset=first_pass)
        X = _dense(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if class_sw is not None:  # class weights multiply the sample weights
            sample_weight = class_sw if sample_weight is None else sample_weight * class_sw
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        n_features = X.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [y.shape[1]]

        if not first_pass:
            net = self._network_for_attributes()
            if list(net.layer_units) != layer_units:
                raise ValueError(
                    f"warm_start/partial_fit needs the fitted layer sizes {list(net.layer_units)}"
                    f" (features, hidden..., outputs); this call implies {layer_units}. "
                    "Fit from scratch (warm_start=False) to change them."
                )
            # Keep the model's dtype: a second dtype would also compile the kernels again.
            X = X.astype(net.dtype, copy=False)
            if sample_weight is not None:
                sample_weight = sample_weight.astype(net.dtype, copy=False)

        self.n_outputs_ = y.shape[1]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        net = _on_device(self._network, self.device)
        if net is not self._network:
            self._bind_network(net)
        net.dropout = rates  # the current parameter, also for warm_start / partial_fit

        hooks = _callbacks.fit_hooks(self, *given, incremental)
        if self.solver in _STOCHASTIC_SOLVERS:
            fit_stochastic(self, net, X, y, sample_weight, incremental, hooks)
            self._dropout_step = net.dropout_step
        else:
            fit_lbfgs(self, net, X, y, sample_weight, hooks)

        if not np.isfinite(net.params.flat).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        if hooks is not None:
            hooks.end_fit(self)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data; float32 input is trained in float32 end to end.
            Sparse input is densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The trained model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # ------------------------------------------------------------ predict
    def _is_fitted(self):
        """check_is_fitted, without its scan of every attribute when the network is bound."""
        if "_network" not in self.__dict__:
            check_is_fitted(self)

    def _lean_forward(self, X, argmax_only=False, indices=False):
        """Output activations by the lean predict path, or None to take the full one.

        scikit-learn's ``validate_data`` costs tens of microseconds a call, far
        more than predicting a few rows.  For a plain 2-D float ndarray with the
        fitted number of columns, on a model fitted without feature names,
        validation would only check finiteness, and the compiled forward does
        that in the same call.  Anything else (lists, pandas, sparse, other
        dtypes, wrong shapes, NaN or infinity) returns None and takes the full
        path, which raises scikit-learn's errors and warnings.

        Parameters
        ----------
        X : object
            Whatever the user passed to predict.
        argmax_only : bool, default=False
            Only each row's largest output matters (a class): a softmax output
            layer is left out (``Network._forward``).
        indices : bool, default=False
            Return each row's index of its largest output instead
            (``Network._argmax_if_finite``): a multiclass model's classes.

        Returns
        -------
        out : ndarray of shape (n_samples, n_outputs) or None
            With ``indices``, of shape (n_samples,), integer.
        """
        attributes = self.__dict__
        net = attributes.get("_network")
        if (
            net is None
            or type(X) is not np.ndarray
            or X.ndim != 2
            or X.dtype not in _LEAN_DTYPES
            or X.shape[0] == 0
            or X.shape[1] != net.layout.n_features
            or "feature_names_in_" in attributes
        ):
            return None
        if not _are_the_networks(attributes, net.params):
            return None
        if indices:
            return net._argmax_if_finite(X)
        return net._forward_if_finite(X, argmax_only)

    def _forward_pass_fast(self, X, check_input=True, argmax_only=False):
        """Output-layer activations for X, shape (n_samples, n_outputs).

        ``argmax_only``: a softmax output layer's pre-activations instead (the
        same largest entry in each row), as :meth:`_lean_forward`.
        """
        if check_input:
            out = self._lean_forward(X, argmax_only)
            if out is not None:
                return out
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        net = self._network_for_attributes()
        X = np.require(_dense(X), dtype=net.dtype, requirements=["C", "W", "A"])
        return net._forward(X, argmax_only)

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Score without input validation (it would drop feature names)."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _on_device(net, device):
    """The network to train: ``net`` on ``device`` ('cpu' or 'cuda', usable).

    The one place where the estimators hand their ``device`` to the network.
    Weights are always drawn on the host (scikit-learn's draws), and
    ``coefs_`` / ``intercepts_`` stay NumPy views of the network's host
    buffer, so a model fitted on a GPU predicts, pickles and saves as one
    fitted on the CPU; a model rebuilt from its attributes (unpickled,
    loaded) is a CPU network until it trains again.

    Parameters
    ----------
    net : Network
    device : {'cpu', 'cuda'}

    Returns
    -------
    net : Network
        ``net`` itself when it already computes on ``device``.
    """
    if net.device != device:  # moves the network: device buffers dropped, weights kept
        net.device = device
    return net


@functools.lru_cache(maxsize=None)
def _param_names(cls):
    """``cls._get_param_names()``, which inspects the signature (~60 us) on every call."""
    return frozenset(cls._get_param_names())


def _copy_fitted(value):
    """A copy of a fitted attribute that a failed fit can't have changed.

    Lists of numbers (``loss_curve_``, ``validation_scores_``) are copied
    shallowly; a RandomState is kept as it is: a fit draws only from the one
    ``check_random_state`` gives it, a fresh object or the user's own, whose
    state ``_snapshot`` saves (a deep copy cost ~250 us per call).  Anything
    else is deep-copied.
    """
    if isinstance(value, np.random.RandomState):
        return value
    if type(value) is list and all(type(v) in (float, int, np.float64) for v in value):
        return list(value)
    return copy.deepcopy(value)


# From this many rows a multiclass predict takes each row's largest output by
# kernels/labels.py's loop (labels.row_argmax, which says why).
COMPILED_ARGMAX_ROWS = _labels_kernels.COMPILED_ARGMAX_ROWS


def _decode_labels(binarizer, y_pred):
    """``binarizer.inverse_transform(y_pred)``, without its checks for one label per row.

    The same arithmetic as scikit-learn's ``_inverse_binarize_multiclass``
    (argmax, then ``take``) and ``_inverse_binarize_thresholding`` (binary:
    threshold halfway between the labels); multilabel goes to the binarizer.

    Parameters
    ----------
    binarizer : LabelBinarizer
        Fitted, dense.
    y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Output activations.

    Returns
    -------
    labels : ndarray of shape (n_samples,) (multilabel: (n_samples, n_classes))
    """
    classes = binarizer.classes_
    if binarizer.y_type_ == "multiclass":
        index = _labels_kernels.row_argmax(y_pred)
        # scikit-learn takes with mode="clip"; argmax's indices are always in range, so plain
        # indexing gives the same labels with less work.
        return classes[index]
    if binarizer.y_type_ == "binary" and y_pred.ndim == 1 and len(classes) == 2:
        threshold = (binarizer.pos_label + binarizer.neg_label) / 2.0
        return classes[np.array(y_pred > threshold, dtype=int)]
    return binarizer.inverse_transform(y_pred)


def _regression_output(y_pred):
    """A regressor's predictions: (n_samples,) for one output, else as they are."""
    return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred


def _are_the_networks(attributes, params):
    """Whether the estimator's ``coefs_`` and ``intercepts_`` (in ``attributes``, its
    ``__dict__``) are exactly the network's views ``params.coefs`` and
    ``params.intercepts``, not replaced by the user."""
    # C-level loops (map of operator.is_): a one-row predict checks this on every call.
    coefs = attributes.get("coefs_", ())
    intercepts = attributes.get("intercepts_", ())
    views = params.coefs
    return (len(coefs) == len(views) == len(intercepts) and all(map(is_, coefs, views))
            and all(map(is_, intercepts, params.intercepts)))


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer Perceptron regressor: scikit-learn's, compiled with Numba.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`: the same
    parameters, defaults, fitted attributes and errors, and with the same
    ``random_state`` the same initial weights, shuffles and trained weights.
    Each epoch runs as one compiled call; float32 input trains in float32.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half squared error (identity output) or half Poisson deviance (exp
        output; y must be non-negative).
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Width of each hidden layer; ``()`` is a single layer of neurons.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
    alpha : float, default=0.0001
        L2 penalty, divided by the (weighted) batch size as in scikit-learn.
    batch_size : int or 'auto', default='auto'
        ``min(200, n_samples)`` when 'auto'; clipped (with a warning) above n.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule for ``solver='sgd'``.
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=200
        Epochs for sgd/adam, iterations for lbfgs.
    shuffle : bool, default=True
        Shuffle samples every epoch (sgd/adam).
    random_state : int, RandomState instance or None, default=None
        Weight init, validation split and shuffles, drawn as scikit-learn does.
    tol : float, default=1e-4
    verbose : bool, default=False
        Print scikit-learn's progress lines.
    warm_start : bool, default=False
        Keep the weights of the previous fit (the optimizer restarts).
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` and stop on its R^2; the best weights
        are restored.
    validation_fraction : float, default=0.1
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Maximum loss evaluations for lbfgs.
    dropout : float or tuple of float, default=0.0
        Beyond scikit-learn: inverted dropout of the hidden units while
        training (sgd/adam only; lbfgs refuses it).  A float applies to every
        hidden layer, a tuple gives one rate per hidden layer; each in [0, 1).
        At each mini-batch every hidden unit's output is zeroed with that
        probability and the survivors are scaled by ``1 / (1 - rate)``
        (PyTorch's and Keras's convention), so ``predict`` and the validation
        scores of early stopping use the whole network, unscaled.  The masks
        come from a counter-based generator (SplitMix64 of a seed, the batch
        number, the layer and the unit; see ``fastnet._dropout``) seeded from
        ``random_state`` without drawing from it: the same ``random_state``
        gives the same model, and scikit-learn's own draws (initial weights,
        split, shuffles) are unchanged.  0 (the default) draws nothing and
        trains exactly as scikit-learn.
    device : {'cpu', 'cuda'}, default='cpu'
        Beyond scikit-learn: where ``fit`` and ``partial_fit`` compute.
        'cuda' trains on an NVIDIA GPU through numba-cuda, which needs the
        optional ``cuda`` extra (``pip install "fastnet[cuda]"``) and a
        working driver; where either is missing, ``fit`` raises an
        ImportError or RuntimeError naming it, before anything changes (a
        fitted model stays as it was).  The initial weights, split and
        shuffles are drawn on the host exactly as on the CPU, and the fitted
        attributes (``coefs_``, ``intercepts_``, ...) are NumPy arrays on the
        host whatever the device: a model fitted on a GPU pickles, saves and,
        loaded on a machine without one, predicts on the CPU.  GPU arithmetic
        rounds differently from the CPU's BLAS (another summation order), so
        the weights agree with the CPU's within the rounding of the sums, not
        bit for bit.

    Attributes
    ----------
    loss_ : float
        With dropout, the training loss under the dropout masks (the mean over
        the last epoch's batches of the loss each masked network had), as
        PyTorch and Keras report it; not the loss of the whole network.
    best_loss_ : float or None
    loss_curve_ : list of float
    validation_scores_ : list of float or None
    validation_loss_curve_ : list of float or None
        Beyond scikit-learn (issue #18507): with ``early_stopping=True``, the
        training loss function (without the L2 term) on the validation split,
        sample-weighted where weights were given, after every epoch, computed
        with the whole network (no dropout); None otherwise.
    best_validation_score_ : float or None
    t_ : int
        Training samples seen.
    coefs_ : list of ndarray, coefs_[i] of shape (units[i], units[i + 1])
        Views of one flat parameter buffer (assigning new arrays works too).
    intercepts_ : list of ndarray, intercepts_[i] of shape (units[i + 1],)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_iter_ : int
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str

    Examples
    --------
    >>> import numpy as np
    >>> from fastnet import MLPRegressor
    >>> celsius = np.linspace(-40, 100, 50).reshape(-1, 1)
    >>> fahrenheit = 1.8 * celsius.ravel() + 32
    >>> neuron = MLPRegressor(hidden_layer_sizes=(), solver="lbfgs").fit(celsius, fahrenheit)
    >>> np.round([neuron.coefs_[0][0, 0], neuron.intercepts_[0][0]], 2)
    array([ 1.8, 32. ])
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": _str_options(_registry.losses_for("MLPRegressor"),
                             _SkMLPRegressor._parameter_constraints["loss"]),
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        device="cpu",
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.device = device

    def _output_activation(self):
        # The output activation whose canonical loss is ``loss`` (identity / exp).
        return _OUTPUT_OF_LOSS[self.loss]

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "loss='poisson' requires non-negative y (counts or rates); "
                f"got a minimum of {np.min(y)}."
            )
        return X, y, None

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        # The lean path first (None unless fitted and X a plain float array): a one-row
        # predict is a few microseconds, and each Python call level is a tenth of one.
        y_pred = self._lean_forward(X)
        if y_pred is None:
            self._is_fitted()
            y_pred = self._forward_pass_fast(X)
        return _regression_output(y_pred)

    def _predict(self, X, check_input=True):
        return _regression_output(self._forward_pass_fast(X, check_input=check_input))

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight=sample_weight,
                                         score_function=r2_score)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Poisson deviance needs y >= 0 (fastnet refuses negative y; sklearn
        # would train on NaN losses); the tag makes sklearn's checks respect it.
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    # scikit-learn's regressor tests the bound method (always truthy), so
    # partial_fit exists for every solver; lbfgs then runs its own solver.
    @available_if(lambda est: est._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer Perceptron classifier: scikit-learn's, compiled with Numba.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`: the same
    parameters, defaults, fitted attributes and errors, and with the same
    ``random_state`` the same weights.  Binary and multilabel targets use a
    logistic output with binary log-loss, multiclass targets a softmax output
    with log-loss; labels may be of any type scikit-learn accepts.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
    alpha : float, default=0.0001
    batch_size : int or 'auto', default='auto'
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
    shuffle : bool, default=True
    random_state : int, RandomState instance or None, default=None
    tol : float, default=1e-4
    verbose : bool, default=False
    warm_start : bool, default=False
        Keep the previous weights; ``y`` must have the same classes.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out a (stratified, for single-output targets) validation set and
        stop on its accuracy; the best weights are restored.
    validation_fraction : float, default=0.1
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
    dropout : float or tuple of float, default=0.0
        As in :class:`MLPRegressor`.
    class_weight : dict, 'balanced' or None, default=None
        Beyond scikit-learn's MLP: weights per class, with the meaning of
        scikit-learn's other classifiers (``compute_sample_weight``):
        'balanced' weighs each class by ``n_samples / (n_classes *
        count)``, a dict maps labels to weights (missing labels weigh 1).  The
        factors multiply ``sample_weight``.  Multilabel targets take 'balanced'
        (per label column) but not a dict; ``partial_fit`` takes a dict but not
        'balanced' (as ``SGDClassifier.partial_fit``).
    device : {'cpu', 'cuda'}, default='cpu'
        As in :class:`MLPRegressor`: where training computes; the fitted
        attributes stay NumPy arrays on the host.

    See :class:`MLPRegressor` for the meaning of the shared parameters.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.
    loss_, best_loss_, loss_curve_, validation_scores_, validation_loss_curve_,
    best_validation_score_ :
        As in :class:`MLPRegressor`; validation scores are accuracies, the
        validation loss is the log-loss.
    t_, coefs_, intercepts_, n_features_in_, feature_names_in_, n_iter_,
    n_layers_, n_outputs_ :
        As in :class:`MLPRegressor`.
    out_activation_ : {'logistic', 'softmax'}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fastnet import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(random_state=0, max_iter=50).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    # Fixed for classifiers (not a constructor parameter, as in scikit-learn).
    loss = "log_loss"

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        class_weight=None,
        device="cpu",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.class_weight = class_weight
        self.device = device

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # As scikit-learn: (re)define classes_ on a fresh fit; otherwise check
        # that y's labels are compatible with the fitted ones.
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        class_sw = self._class_sample_weight(y, incremental)
        # bool, not float: the indicator columns take the network's dtype later.
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y, class_sw

    def _class_sample_weight(self, y, incremental):
        """The per-sample factors ``class_weight`` gives labels ``y`` (None without it).

        scikit-learn's meaning: ``compute_sample_weight(class_weight, y)`` for a
        fit ("balanced": ``n_samples / (n_classes * bincount(y))``, per column
        for multilabel targets); partial_fit weighs by a dict over ``classes_``
        and refuses "balanced", as ``SGDClassifier.partial_fit`` does (one batch's
        frequencies are not the data's).
        """
        class_weight = self.class_weight
        if class_weight is None:
            return None
        multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
        if isinstance(class_weight, dict) and multilabel:
            raise ValueError(
                "class_weight as a dict is not supported for multilabel targets (each "
                "column is its own binary output); use class_weight='balanced' or "
                "sample_weight"
            )
        if not incremental:
            return compute_sample_weight(class_weight, y)
        if class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order to use "
                "'balanced' weights, use compute_class_weight('balanced', classes=classes, "
                "y=y). In place of y you can use a large enough sample of the full training "
                "set target to properly estimate the class frequency distributions. Pass the "
                "resulting weights as the class_weight parameter."
            )
        per_class = compute_class_weight(class_weight, classes=self.classes_, y=y)
        return per_class[np.searchsorted(self.classes_, y)]

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        # As MLPRegressor.predict: the lean path first.  The labels need only each row's
        # largest output, so a softmax is left out (Network._forward); a multiclass
        # model's are the classes at each row's argmax, which the lean path finds in its
        # compiled call (as _decode_labels: scikit-learn's take of the classes).
        binarizer = self.__dict__.get("_label_binarizer")
        if binarizer is not None and binarizer.y_type_ == "multiclass":
            index = self._lean_forward(X, indices=True)
            if index is not None:
                return binarizer.classes_[index]
        y_pred = self._lean_forward(X, argmax_only=True)
        if y_pred is None:
            self._is_fitted()
            y_pred = self._forward_pass_fast(X, argmax_only=True)
        return self._labels(y_pred)

    def _predict(self, X, check_input=True):
        return self._labels(self._forward_pass_fast(X, check_input=check_input,
                                                    argmax_only=True))

    def _labels(self, y_pred):
        """The class labels of output activations ``y_pred`` (n_samples, n_outputs)."""
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return _decode_labels(self._label_binarizer, y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight=sample_weight,
                                         score_function=accuracy_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first
            call, optional afterwards.  ``y`` need not contain all of them.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        self._require_device()
        # The first call sets classes_ before training: roll that back too on failure.
        snapshot = self._snapshot()
        try:
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            return self._fit_unchecked(X, y, sample_weight, incremental=True)
        except Exception:
            self._restore(snapshot)
            raise

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, classes ordered as in ``classes_``.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The probability of each class, ordered as in ``classes_``;
            ``[1 - p, p]`` for binary targets.
        """
        self._is_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
