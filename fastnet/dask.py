"""Scale-out on Dask (``dask.distributed``): data that stays on the workers.

fastnet runs on Dask in three ways (README, "Scale out on Dask"):

1. **Searches on a cluster** need nothing from this module: scikit-learn's
   ``GridSearchCV`` / ``RandomizedSearchCV`` / ``cross_validate`` under
   ``joblib.parallel_backend("dask")``, and dask-ml's ``HyperbandSearchCV`` /
   ``IncrementalSearchCV``, drive fastnet estimators as they drive
   scikit-learn's (they are picklable, and ``partial_fit`` continues exactly).
2. **Streaming** with ``dask_ml.wrappers.Incremental`` (``partial_fit`` block
   by block) and ``ParallelPostFit``; :func:`predict` here is the blockwise
   predict for every output shape (``ParallelPostFit`` drops the second axis of
   multi-output predictions).
3. **Distributed L-BFGS**, :func:`fit_lbfgs`: the chunks of a ``dask.array``
   are validated and kept on the workers where they are; each L-BFGS
   evaluation sends the parameter vector to the workers, computes every
   chunk's loss and gradient where the chunk lives with the compiled kernel,
   and brings one gradient per chunk back (or one in all, summed on the
   workers: ``split_every``); scipy's L-BFGS-B runs on the client.  This is
   the design of Spark MLlib's multilayer perceptron (``treeAggregate`` of the
   gradient, L-BFGS on the driver).  :class:`DistributedLossGrad` is that
   evaluation on its own.

:func:`worker_cache_info` reports, run on each worker with ``client.run``,
where the worker's kernels came from (Numba's on-disk cache or a compile).

Needs the ``dask`` extra: ``pip install "fastnet[dask]"`` (``dask[distributed]``,
``dask-ml``).  ``import fastnet`` never imports this module or Dask.
"""

import copy
import os
import threading
import uuid
import warnings
import weakref

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, check_X_y

from ._dropout import dropout_rates
from .estimators import BaseMLP
from .network import Network
from .training import _lbfgs_iprint_option

_INSTALL_HINT = 'pip install "fastnet[dask]"'

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as exc:  # tests/test_dask.py hides dask to check this message
    raise ImportError(
        f"fastnet.dask needs dask[distributed], which is not installed: {_INSTALL_HINT}"
    ) from exc

__all__ = ["fit_lbfgs", "DistributedLossGrad", "predict", "worker_cache_info"]


# --------------------------------------------------------------- input checks
def _client(client):
    """The client to use: the one given, else Dask's current/default client."""
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise TypeError(f"client must be a distributed.Client; got {type(client).__name__}")
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise ValueError(
            "fastnet.dask needs a running distributed.Client, e.g. "
            "Client(LocalCluster()) or Client('tcp://scheduler:8786'); none was found"
        ) from None


def _as_dask(name, a):
    if not isinstance(a, da.Array):
        hint = ""
        if hasattr(a, "to_dask_array"):
            hint = f"; convert a dask DataFrame with {name}.to_dask_array(lengths=True)"
        elif isinstance(a, np.ndarray) or hasattr(a, "__array__"):
            hint = (f"; wrap in-memory data with dask.array.from_array({name}, chunks=...) or "
                    f"use the estimator's own fit")
        raise TypeError(f"{name} must be a dask.array.Array; got {type(a).__name__}{hint}")
    return a


def _check_chunked(X, y, sample_weight):
    """Validate the dask inputs' types, shapes and row chunks.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : dask.array.Array of shape (n_samples,) or None

    Returns
    -------
    X, y, sample_weight : dask.array.Array
        X (and a 2-D y) in one chunk along the columns: a block is a set of
        whole rows.
    """
    X = _as_dask("X", X)
    y = _as_dask("y", y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got {X.ndim} dimension(s)")
    if np.isnan(X.shape[1]):
        raise ValueError("X has an unknown number of columns; compute its chunk sizes first")
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D; got {y.ndim} dimensions")
    arrays = {"y": y}
    if sample_weight is not None:
        sample_weight = _as_dask("sample_weight", sample_weight)
        if sample_weight.ndim != 1:
            raise ValueError(
                f"sample_weight must be 1-D (n_samples,); got {sample_weight.ndim} dimensions"
            )
        arrays["sample_weight"] = sample_weight
    for name, a in arrays.items():
        known = not (np.isnan(X.shape[0]) or np.isnan(a.shape[0]))
        if known and a.shape[0] != X.shape[0]:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"X has {X.shape[0]}, {name} has {a.shape[0]}"
            )
        # Unknown (NaN) sizes are compared on the workers, block by block.
        same = len(a.chunks[0]) == len(X.chunks[0]) and all(
            np.isnan(p) or np.isnan(q) or p == q for p, q in zip(a.chunks[0], X.chunks[0]))
        if not same:
            raise ValueError(
                f"X and {name} must be chunked alike along the rows (each L-BFGS task "
                f"takes whole rows of both); got X.chunks[0]={X.chunks[0]} and "
                f"{name}.chunks[0]={a.chunks[0]}. Rechunk one of them, e.g. "
                f"{name}.rechunk({{0: X.chunks[0]}})"
            )
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    if y.ndim == 2 and y.numblocks[1] > 1:
        y = y.rechunk({1: -1})
    return X, y, sample_weight


def _hidden_layer_sizes(est):
    """``hidden_layer_sizes`` as a list, checked as the estimators' fit checks it."""
    sizes = est.hidden_layer_sizes
    if not hasattr(sizes, "__iter__"):
        sizes = [sizes]
    sizes = list(sizes)
    if np.any(np.array(sizes) <= 0):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
    return sizes


# ------------------------------------------------------------- worker side
class _RawBlock:
    """One validated row block on a worker, before its targets are encoded.

    Attributes
    ----------
    X : ndarray of shape (n, n_features), C-contiguous, the network's dtype
    y : ndarray of shape (n,) or (n, k)
        Validated targets as given (labels for a classifier).
    sw : ndarray of shape (n,) or None
    summary : dict
        What the client needs to know: rows, and per target column the
        distinct values with their counts (classifiers) or the minimum (regressors).
    """

    __slots__ = ("X", "y", "sw", "summary")


def _validate_block(X, y, sw, dtype, kind):
    """Validate one row block where it lives, as the estimators' ``fit`` validates data.

    Parameters
    ----------
    X : array-like of shape (n, n_features)
    y : array-like of shape (n,) or (n, k)
    sw : array-like of shape (n,) or None
    dtype : numpy dtype
        The network's dtype.
    kind : {'regressor', 'classifier', 'targets'}
        'targets': ``y`` is already in the network's form (numbers, one column
        per output), as :class:`DistributedLossGrad` takes it.

    Returns
    -------
    block : _RawBlock
    """
    block = _RawBlock()
    n = X.shape[0]
    if n == 0:  # dask arrays may have empty blocks (e.g. after filtering): nothing to check
        block.X = np.empty((0, X.shape[1]), dtype=dtype)
        block.y, block.sw = np.asarray(y), None
        block.summary = {"n": 0}
        return block
    X, y = check_X_y(X, y, accept_sparse=["csr", "csc"], multi_output=True,
                     y_numeric=kind != "classifier", dtype=(np.float64, np.float32))
    if sp.issparse(X):
        X = X.toarray()
    if sw is not None:
        sw = _check_sample_weight(sw, X)
    block.X = np.require(X, dtype=dtype, requirements=["C", "W", "A"])
    block.y, block.sw = y, sw
    summary = {"n": n}
    if kind == "classifier":
        summary["y_type"] = type_of_target(y)
        columns = y.reshape(n, -1).T
        summary["values"] = [np.unique(c, return_counts=True) for c in columns]
        if y.ndim == 2:
            summary["head"] = y[:1]
    else:
        summary["min"] = float(np.min(y))
        summary["width"] = 1 if y.ndim == 1 else y.shape[1]
    block.summary = summary
    return block


def _summary_of(block):
    return block.summary


class _Encoder:
    """How a worker turns validated targets into the network's targets and weights.

    Parameters
    ----------
    dtype : numpy dtype
    binarizer : LabelBinarizer or None
        The classifier's (fitted on the labels of all blocks); None for numbers.
    class_weights : list of (ndarray, ndarray) or None
        Per target column, the sorted distinct values and each one's weight:
        the factors ``compute_sample_weight`` gives, from the counts of all blocks.
    """

    def __init__(self, dtype, binarizer=None, class_weights=None):
        self.dtype = np.dtype(dtype)
        self.binarizer = binarizer
        self.class_weights = class_weights


class _Chunk:
    """One row block as the L-BFGS evaluations use it.

    Attributes
    ----------
    parts : list of (X, Y, sw, weight)
        ``X`` (m, n_features), ``Y`` (m, n_outputs), ``sw`` (m,) or None, in the
        network's dtype, views of the block's arrays of at most
        ``_ROWS_PER_CALL`` rows; ``weight`` the part's total sample weight
        exactly as the kernel sums it (in the dtype, row by row), or m.  Rows
        whose weights sum to 0 are split by sign (the kernel divides by the
        sum); an empty or all-zero-weight block has no parts.
    weight : float
        The block's total sample weight.
    """

    __slots__ = ("parts", "weight")


def _sequential_sum(a):
    """``sum(a)`` in a's dtype, added in row order: exactly the kernel's weight total."""
    return np.cumsum(a, dtype=a.dtype)[-1]


def _encode_block(block, encoder):
    """The targets, sample weights and weight totals of one block, in the network's form."""
    dtype = encoder.dtype
    chunk = _Chunk()
    chunk.parts, chunk.weight = [], 0.0
    n = block.X.shape[0]
    if n == 0:
        return chunk
    y, sw = block.y, block.sw
    if encoder.binarizer is not None:
        if encoder.class_weights is not None:
            columns = y.reshape(n, -1).T
            factors = [w[np.searchsorted(v, c)] for (v, w), c in zip(encoder.class_weights,
                                                                      columns)]
            # As compute_sample_weight: the product over columns, in float64.
            class_sw = np.prod(factors, axis=0, dtype=np.float64)
            sw = class_sw if sw is None else sw * class_sw
        # bool first, as the estimators do: the indicators then take the dtype.
        Y = encoder.binarizer.transform(y).astype(bool)
    else:
        Y = y
    Y = np.require(np.asarray(Y, dtype=dtype).reshape(n, -1), requirements=["C", "W", "A"])
    if sw is not None:
        sw = np.require(sw, dtype=dtype, requirements=["C", "W", "A"])
    for start in range(0, n, _ROWS_PER_CALL):
        rows = slice(start, start + _ROWS_PER_CALL)  # views: no copy of the block
        chunk.parts.extend(_parts(block.X[rows], Y[rows], None if sw is None else sw[rows]))
    chunk.weight = float(sum(float(p[3]) for p in chunk.parts))
    return chunk


# Rows per kernel call inside a block: the call's activation workspaces (rows x
# the units of every layer, twice) stay ~10-100 MiB however big a block is, so a
# worker's memory holds the data, not a copy of it per layer.
_ROWS_PER_CALL = 1 << 14


def _parts(X, Y, sw):
    """``(X, Y, sw, weight)`` pieces of some rows, each with a nonzero weight total.

    The kernel normalizes by the rows' weight total, and ``_chunk_pieces``
    multiplies it back: rows whose weights sum to exactly 0 (they may be of
    both signs) are split by sign; rows of weight 0 contribute nothing.
    """
    if sw is None:
        return [(X, Y, None, X.shape[0])]
    total = _sequential_sum(sw)
    if total != 0:
        return [(X, Y, sw, total)]
    parts = []
    for rows in (sw > 0, sw < 0):
        if rows.any():
            part_sw = np.ascontiguousarray(sw[rows])
            parts.append((np.ascontiguousarray(X[rows]), np.ascontiguousarray(Y[rows]),
                          part_sw, _sequential_sum(part_sw)))
    return parts


_LOCAL = threading.local()


def _worker_network(template):
    """This thread's own copy of the template network (a worker may run threads).

    Kept while the template lives on the worker (released after the fit), so
    that an evaluation does not copy the network again.
    """
    nets = getattr(_LOCAL, "nets", None)
    if nets is None:
        nets = _LOCAL.nets = weakref.WeakKeyDictionary()
    net = nets.get(template)
    if net is None:
        net = nets[template] = copy.deepcopy(template)
    return net


def _chunk_pieces(chunk, template, params):
    """One block's summed loss and gradient at ``params`` (computed where it lives).

    ``Network.loss_and_grad`` returns the loss and gradient *averaged* over
    the block's weight total ``W`` (alpha=0: no L2 term); multiplying by
    ``W`` gives back the sums, which add up over blocks.

    Returns
    -------
    loss_sum : float
        Sum over rows of (weighted) loss terms, as scaled by the loss (e.g.
        half squared error, averaged over outputs).
    grad_sum : ndarray of float64, shape (n_params,)
        The data term's raw gradient sums.
    weight : float
        The block's weight total.
    """
    net = _worker_network(template)
    net.set_flat(params)
    loss_sum = 0.0
    grad_sum = np.zeros(net.layout.n_params, dtype=np.float64)
    for X, Y, sw, weight in chunk.parts:
        loss, grad = net.loss_and_grad(X, Y, sw, alpha=0.0)
        w = float(weight)
        loss_sum += loss * w
        grad_sum += grad.flat.astype(np.float64) * w
    return loss_sum, grad_sum, chunk.weight


def _sum_pieces(*pieces):
    """Add ``(loss_sum, grad_sum, weight)`` triples, in the order given."""
    loss, grad, weight = pieces[0]
    grad = grad.copy()
    for piece in pieces[1:]:
        loss += piece[0]
        grad += piece[1]
        weight += piece[2]
    return loss, grad, weight


# ------------------------------------------------------------- the objective
def _place_blocks(client, X, y, sample_weight, dtype, kind):
    """Compute and validate every row block on the cluster; keep them there.

    Returns
    -------
    blocks : list of Future
        One ``_RawBlock`` per row block, in block order.
    summaries : list of dict
    """
    token = dask.base.tokenize(X, y, sample_weight, np.dtype(dtype).str, kind)
    xs = X.to_delayed().ravel()
    ys = y.to_delayed().ravel()
    sws = sample_weight.to_delayed().ravel() if sample_weight is not None else [None] * len(xs)
    validate = dask.delayed(_validate_block, pure=True)
    delayed = [validate(xb, yb, swb, np.dtype(dtype), kind,
                        dask_key_name=f"fastnet-block-{token}-{i}")
               for i, (xb, yb, swb) in enumerate(zip(xs, ys, sws))]
    blocks = client.compute(delayed)
    pending = client.map(_summary_of, blocks, pure=False)
    try:
        summaries = client.gather(pending)
    except BaseException:  # a block failed validation: raise its error, keep nothing
        _release(blocks)
        raise
    finally:
        _release(pending)
    return blocks, summaries


# Parameters go out inside the tasks while all copies together stay this small;
# above, they are scattered once to each worker that holds blocks (one more round
# trip, but one copy per worker instead of one per task).
_EMBED_BYTES = 1 << 20
# How often an evaluation that is still running checks that its workers are alive.
_POLL_SECONDS = 5.0


def _release(futures):
    for future in futures:
        future.release()


class DistributedLossGrad:
    """A network's full-batch loss and gradient over a chunked ``dask.array``.

    The blocks are validated once and stay on the workers; each call sends
    the parameters to the workers that hold blocks, computes every block's
    summed loss and gradient there with the compiled kernel
    (``Network.loss_and_grad``), and adds them up in block order, so the
    result is deterministic whichever worker computed what.  The L2 term is
    added once, with the total weight::

        loss = (sum_blocks loss_sum + 0.5 * alpha * ||W||^2) / sum_blocks weight
        grad = (sum_blocks grad_sum + alpha * W) / sum_blocks weight   (bias: no alpha term)

    which is ``Network.loss_and_grad(X, y, sample_weight, alpha)`` on all
    rows at once up to the rounding of the changed summation order.

    Parameters
    ----------
    network : fastnet.Network
        Its structure (layers, activations, loss, dtype) is used; its
        parameters are not read or changed.
    X : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
        Targets as the network takes them (numbers; 0/1 indicator columns for
        the log-losses), chunked along the rows as X.
    sample_weight : dask.array.Array of shape (n_samples,), default=None
    alpha : float, default=0.0
        L2 penalty strength.
    client : distributed.Client, default=None
        None: Dask's current client.
    split_every : int >= 2, default=None
        None: every block's gradient comes to the client, which adds them in
        block order.  An int: the gradients are added on the workers, in block
        order, ``split_every`` at a time (a tree), and one gradient comes to
        the client -- for many blocks or big networks.

    Attributes
    ----------
    split_every : int or None
        As the parameter; may be changed between calls.
    n_blocks : int
        Row blocks that hold data.
    n_evaluations : int
    weight_total : float
        Total sample weight (n_samples when unweighted).

    Examples
    --------
    >>> with DistributedLossGrad(net, dX, dy, alpha=1e-4) as f:   # doctest: +SKIP
    ...     loss, grad = f(net.params.flat)
    """

    def __init__(self, network, X, y, sample_weight=None, *, alpha=0.0, client=None,
                 split_every=None):
        if not isinstance(network, Network):
            raise TypeError(f"network must be a fastnet.Network; got {type(network).__name__}")
        client = _client(client)
        X, y, sample_weight = _check_chunked(X, y, sample_weight)
        if X.shape[1] != network.n_features:
            raise ValueError(f"X has {X.shape[1]} features; the network takes "
                             f"{network.n_features}")
        width = 1 if y.ndim == 1 else y.shape[1]
        if width != network.n_outputs:
            raise ValueError(f"y has {width} column(s); the network has {network.n_outputs} "
                             f"output(s)")
        blocks, summaries = _place_blocks(client, X, y, sample_weight, network.dtype, "targets")
        try:
            chunks = client.map(_encode_block, blocks, encoder=_Encoder(network.dtype),
                                pure=False)
        finally:
            _release(blocks)
        self._setup(client, network, chunks, summaries, alpha, split_every)

    @classmethod
    def _from_chunks(cls, client, network, chunks, summaries, alpha, split_every):
        self = cls.__new__(cls)
        self._setup(client, network, chunks, summaries, alpha, split_every)
        return self

    def _setup(self, client, network, chunks, summaries, alpha, split_every):
        self._chunks = self._template = None
        try:
            self._place(client, network, chunks, summaries, alpha, split_every)
        except BaseException:
            _release(chunks)
            self._chunks = None
            raise

    def _place(self, client, network, chunks, summaries, alpha, split_every):
        if split_every is not None and (not isinstance(split_every, (int, np.integer))
                                        or split_every < 2):
            raise ValueError(f"split_every must be None or an int >= 2; got {split_every!r}")
        self.client = client
        self.split_every = split_every
        self.alpha = float(alpha)
        self.dtype = network.dtype
        self.n_params = network.layout.n_params
        self.n_coef = network.layout.n_coef
        # Blocks without rows would cost a task per evaluation and add nothing.
        keep = [s["n"] > 0 for s in summaries]
        _release([c for c, k in zip(chunks, keep) if not k])
        self._chunks = [c for c, k in zip(chunks, keep) if k]
        if not self._chunks:
            raise ValueError("Found array with 0 sample(s) (shape=(0, ...)) while a minimum "
                             "of 1 is required.")
        pending = client.map(_weight_of, self._chunks, pure=False)
        try:
            weights = client.gather(pending)
        finally:
            _release(pending)
        self.weight_total = float(np.sum(weights))
        if self.weight_total == 0:
            raise ValueError("The sample weights sum to 0: the loss (a weighted mean) is "
                             "undefined")
        self.n_blocks = len(self._chunks)
        self.n_evaluations = 0
        self._template_network = Network.from_arrays(
            network.params.coefs, network.params.intercepts, network.activation,
            network.output_activation, network.loss, dtype=network.dtype)
        self._locate()

    def _locate(self):
        """Find the worker of every block; send the network's structure to those workers.

        Each evaluation's tasks are pinned to the worker that holds their block,
        so that no block is ever copied (Dask would otherwise let an idle
        worker steal a task and fetch its block).  After a worker is lost, the
        scheduler recomputes its blocks elsewhere from their lineage, and this
        runs again.
        """
        client = self.client
        distributed.wait(self._chunks)
        who_has = client.who_has(self._chunks)
        self._workers = [sorted(who_has[c.key])[0] for c in self._chunks]
        self._holders = sorted(set(self._workers))
        if self._template is not None:
            self._template.release()
        # A clean copy (no compiled predict entry, no workspaces), once per worker.
        self._template = client.scatter(self._template_network, workers=self._holders,
                                        broadcast=True, hash=False)

    def _finished(self, futures):
        """Wait for an evaluation's tasks; False if a worker they are pinned to left."""
        while True:
            try:
                distributed.wait(futures, timeout=_POLL_SECONDS)
                return True
            except TimeoutError:
                alive = set(self.client.scheduler_info()["workers"])
                if not set(self._holders) <= alive:
                    return False

    def __call__(self, params):
        """Loss and gradient at ``params``.

        Parameters
        ----------
        params : array-like of shape (n_params,)
            Flat parameters (``Network.params.flat`` layout); cast to the
            network's dtype, as single-machine L-BFGS does.

        Returns
        -------
        loss : float
        grad : ndarray of float64, shape (n_params,)
        """
        if self._chunks is None:
            raise RuntimeError("this DistributedLossGrad was closed")
        params = np.array(params, dtype=self.dtype)  # a copy in the kernels' dtype
        if params.shape != (self.n_params,):
            raise ValueError(f"expected params of shape ({self.n_params},); got {params.shape}")
        while True:
            result = self._evaluate(params)
            if result is not None:
                break
            self._locate()  # a worker left: its blocks were recomputed elsewhere
        loss_sum, grad, weight = result
        self.n_evaluations += 1
        coefs = params[: self.n_coef].astype(np.float64)
        alpha = self.alpha
        loss = loss_sum / weight + (0.5 * alpha) * np.dot(coefs, coefs) / weight
        grad[: self.n_coef] += alpha * coefs
        grad /= weight
        return float(loss), grad

    def _evaluate(self, params):
        """``(loss_sum, grad_sum, weight)`` over all blocks, or None if a worker left."""
        client = self.client
        if params.nbytes * len(self._chunks) <= _EMBED_BYTES:
            down = None  # inside each task: no extra round trip
        else:
            down = client.scatter(params, workers=self._holders, broadcast=True, hash=False)
        uid = uuid.uuid4().hex
        futures = [client.submit(_chunk_pieces, chunk, self._template,
                                 params if down is None else down, workers=[worker],
                                 allow_other_workers=False, key=f"fastnet-lossgrad-{uid}-{i}")
                   for i, (chunk, worker) in enumerate(zip(self._chunks, self._workers))]
        try:
            level, depth = list(futures), 0
            if self.split_every is not None:
                # A tree of sums over block order, on the workers (not pinned: they
                # move gradients only).
                k = self.split_every
                while len(level) > 1:
                    depth += 1
                    level = [client.submit(_sum_pieces, *level[i:i + k],
                                           key=f"fastnet-sum-{uid}-{depth}-{i}")
                             for i in range(0, len(level), k)]
                    futures.extend(level)
            if not self._finished(futures):
                return None
            return _sum_pieces(*client.gather(level))
        finally:
            _release(futures)
            if down is not None:
                down.release()

    def close(self):
        """Release the blocks and the network on the workers."""
        if self._chunks is not None:
            _release(self._chunks)
            self._chunks = None
        if self._template is not None:
            self._template.release()
            self._template = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown, client gone: the scheduler cleans up
            pass


def _weight_of(chunk):
    return chunk.weight


# ------------------------------------------------------------- fit_lbfgs
def _classifier_targets(est, summaries, classes, first_pass):
    """The label binarizer and class-weight table for a classifier's blocks.

    Mirrors ``MLPClassifier._validate_input`` / ``_class_sample_weight`` on
    all the data, from the blocks' distinct labels and counts.
    """
    filled = [s for s in summaries if s["n"] > 0]
    types = {s["y_type"] for s in filled}
    two_d = "head" in filled[0]
    if two_d and types != {"multilabel-indicator"}:
        raise ValueError("Multioutput target data is not supported with label binarization")
    n_columns = len(filled[0]["values"])
    merged = []
    for k in range(n_columns):
        values = np.unique(np.concatenate([s["values"][k][0] for s in filled]))
        counts = np.zeros(len(values), dtype=np.int64)
        for s in filled:
            v, c = s["values"][k]
            counts[np.searchsorted(values, v)] += c
        merged.append((values, counts))
    labels = merged[0][0]

    if not first_pass:
        binarizer = est._label_binarizer
        if not two_d and set(labels) != set(est.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same "
                "classes as in the previous call to fit. Previously "
                f"got {est.classes_}, `y` has {labels}"
            )
    elif two_d:
        binarizer = LabelBinarizer().fit(filled[0]["head"])
    elif classes is not None:
        binarizer = LabelBinarizer().fit(np.asarray(classes))
        if len(np.setdiff1d(labels, binarizer.classes_)):
            raise ValueError(
                "`y` has classes not in `classes`. "
                f"`classes` has {binarizer.classes_}. 'y' has {labels}."
            )
    else:
        binarizer = LabelBinarizer().fit(labels)

    class_weight = est.class_weight
    if class_weight is None:
        return binarizer, None
    if isinstance(class_weight, dict) and two_d:
        raise ValueError(
            "class_weight as a dict is not supported for multilabel targets (each "
            "column is its own binary output); use class_weight='balanced' or "
            "sample_weight"
        )
    n = sum(s["n"] for s in filled)
    table = []
    for values, counts in merged:
        if class_weight == "balanced":
            # compute_class_weight('balanced') over the labels present in y: the same
            # expression, on the counts of all blocks.
            weights = n / (len(values) * counts.astype(np.float64))
        else:
            weights = compute_class_weight(class_weight, classes=values, y=values)
        table.append((values, weights))
    return binarizer, table


def fit_lbfgs(estimator, X, y, sample_weight=None, *, classes=None, client=None,
              split_every=None):
    """Fit a fastnet estimator with L-BFGS on data that stays on a Dask cluster.

    The same fit as ``estimator.fit(X, y, sample_weight)`` with
    ``solver='lbfgs'`` -- the same validation, initial weights (same
    ``random_state``), objective (scikit-learn's loss with its L2 term),
    scipy L-BFGS-B options (``max_iter``, ``max_fun``, ``tol``, ``verbose``)
    and fitted attributes -- but each evaluation of the loss and gradient runs
    on the workers, block by block where the blocks live; only the parameter
    vector goes out and one gradient per block (or, with ``split_every``, one
    in all) comes back.  The result equals single-machine L-BFGS up to the
    rounding of the changed summation order, amplified by the line search
    over the iterations.

    Afterwards the estimator is an ordinary fitted fastnet estimator
    (predict, ``fastnet.save``/``load``, pickle, ONNX).  On failure it is left
    as it was.

    Parameters
    ----------
    estimator : fastnet.MLPRegressor or fastnet.MLPClassifier
        With ``solver='lbfgs'``; fitted in place.  ``warm_start=True``
        continues from its weights, as ``fit`` does.
    X : dask.array.Array of shape (n_samples, n_features)
        float32 data trains in float32, anything else in float64.
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
        Targets (class labels for a classifier), chunked along the rows as X.
    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Chunked as X.  The classifier's ``class_weight`` multiplies it, with
        the class frequencies of all blocks.
    classes : array-like, default=None
        Classifier only: all class labels.  None takes those found in y (one
        pass over y, needed anyway to validate it).
    client : distributed.Client, default=None
        None: Dask's current client.
    split_every : int >= 2, default=None
        Add the blocks' gradients on the workers, this many at a time, so that
        one gradient reaches the client per evaluation (see
        :class:`DistributedLossGrad`).

    Returns
    -------
    estimator : the fitted estimator

    Examples
    --------
    >>> import dask.array as da                                      # doctest: +SKIP
    >>> from distributed import Client, LocalCluster
    >>> client = Client(LocalCluster(n_workers=2))
    >>> X = da.random.random((1_000_000, 20), chunks=(100_000, 20))
    >>> y = X.sum(axis=1)
    >>> model = MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=100)
    >>> fastnet.dask.fit_lbfgs(model, X, y).predict(X[:5].compute())
    """
    est = estimator
    if not isinstance(est, BaseMLP):
        raise TypeError(
            f"fit_lbfgs fits fastnet.MLPRegressor or fastnet.MLPClassifier; got "
            f"{type(est).__name__}"
        )
    if est.solver != "lbfgs":
        raise ValueError(
            f"fit_lbfgs needs solver='lbfgs'; got solver={est.solver!r}. Stochastic solvers "
            f"stream blocks through partial_fit instead: dask_ml.wrappers.Incremental"
        )
    if classes is not None and not is_classifier(est):
        raise ValueError("classes= is for classifiers; a regressor takes no classes")
    est._validate_params()
    hidden = _hidden_layer_sizes(est)
    rates = dropout_rates(est.dropout, len(hidden))
    if any(rates):
        raise ValueError(
            f"dropout={est.dropout!r} needs solver='sgd' or 'adam': with dropout the "
            f"training loss is a different random function at every step, which "
            f"L-BFGS's line search cannot minimize; use dropout=0.0 with solver='lbfgs'"
        )
    X, y, sample_weight = _check_chunked(X, y, sample_weight)
    client = _client(client)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change "
            "the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        y = y[:, 0]

    snapshot = est._snapshot()
    try:
        _fit_lbfgs(est, client, X, y, sample_weight, classes, hidden, rates, split_every)
    except BaseException:
        est._restore(snapshot)
        raise
    return est


def _fit_lbfgs(est, client, X, y, sample_weight, classes, hidden, rates, split_every):
    first_pass = not hasattr(est, "coefs_") or not est.warm_start
    if first_pass:
        dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
    else:
        dtype = est._network_for_attributes().dtype
    classifier = is_classifier(est)
    blocks, summaries = _place_blocks(client, X, y, sample_weight, dtype,
                                      "classifier" if classifier else "regressor")
    chunks = []
    try:
        if sum(s["n"] for s in summaries) == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape=(0, {X.shape[1]})) while "
                             f"a minimum of 1 is required.")
        if classifier:
            binarizer, table = _classifier_targets(est, summaries, classes, first_pass)
            encoder = _Encoder(dtype, binarizer, table)
            if binarizer.y_type_ == "binary":
                n_outputs = 1
            else:
                n_outputs = len(binarizer.classes_)
        else:
            filled = [s for s in summaries if s["n"] > 0]
            if est.loss == "poisson" and min(s["min"] for s in filled) < 0:
                raise ValueError(
                    "loss='poisson' requires non-negative y (counts or rates); "
                    f"got a minimum of {min(s['min'] for s in filled)}."
                )
            encoder = _Encoder(dtype)
            n_outputs = filled[0]["width"]
        n_features = int(X.shape[1])
        layer_units = [n_features] + hidden + [n_outputs]
        if not first_pass:
            net = est._network_for_attributes()
            if list(net.layer_units) != layer_units:
                raise ValueError(
                    f"warm_start needs the fitted layer sizes {list(net.layer_units)}"
                    f" (features, hidden..., outputs); this call implies {layer_units}. "
                    "Fit from scratch (warm_start=False) to change them."
                )
        else:
            # What validate_data(reset=True) records for arrays without column names.
            est.n_features_in_ = n_features
            est.__dict__.pop("feature_names_in_", None)
            if classifier:
                est._label_binarizer = binarizer
                est.classes_ = binarizer.classes_
        chunks = client.map(_encode_block, blocks, encoder=encoder, pure=False)
    finally:
        _release(blocks)

    try:
        est.n_outputs_ = n_outputs
        est._random_state = check_random_state(est.random_state)
        if first_pass:
            est._initialize(np.empty((0, n_outputs)), layer_units, dtype)
        net = est._network
        net.dropout = rates
    except BaseException:
        _release(chunks)
        raise
    objective = DistributedLossGrad._from_chunks(client, net, chunks, summaries, est.alpha,
                                                 split_every)
    with objective:
        iprint = 1 if (est.verbose is True or est.verbose >= 1) else -1
        opt_res = scipy.optimize.minimize(
            objective,
            net.params.flat.copy(),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol,
                     **_lbfgs_iprint_option(iprint)},
        )
    est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
    est.loss_ = opt_res.fun
    net.params.flat[...] = opt_res.x
    if not np.isfinite(net.params.flat).all():
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may"
            " contain large values and need to be preprocessed."
        )


# ------------------------------------------------------------- predict
def predict(estimator, X, method="predict"):
    """Blockwise prediction of a fitted estimator over a dask array or dataframe.

    Like ``dask_ml.wrappers.ParallelPostFit(estimator).predict(X)``, for
    every output shape: one row per input row, and the outputs' columns for
    multi-output regressors, multilabel classifiers and ``predict_proba``
    (ParallelPostFit drops the second axis of a 2-D ``predict``).

    Parameters
    ----------
    estimator : fitted estimator
        Any estimator with ``method``; fastnet's or scikit-learn's.
    X : dask.array.Array of shape (n_samples, n_features), dask DataFrame, or in-memory data
        A dataframe's partitions reach ``method`` as pandas frames (feature
        names are kept); in-memory data is predicted directly.
    method : {'predict', 'predict_proba', 'predict_log_proba'}, default='predict'

    Returns
    -------
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
        Lazy; ``.compute()`` it (an ndarray for in-memory X).
    """
    check_is_fitted(estimator)
    fn = getattr(estimator, method)
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got {X.ndim} dimension(s)")
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        sample = fn(np.zeros((1, X.shape[1]), dtype=X.dtype))
        meta = np.empty((0,) + sample.shape[1:], dtype=sample.dtype)
        if sample.ndim == 1:
            return X.map_blocks(fn, drop_axis=1, meta=meta)
        return X.map_blocks(fn, chunks=(X.chunks[0], sample.shape[1:]), meta=meta)
    if hasattr(X, "map_partitions"):
        sample = fn(X._meta_nonempty.iloc[:1])
        meta = np.empty((0,) + sample.shape[1:], dtype=sample.dtype)
        return X.map_partitions(fn, meta=meta)
    return fn(X)


# ------------------------------------------------------------- workers
def worker_cache_info():
    """Where this process's fastnet kernels come from; run it on workers.

    ``client.run(fastnet.dask.worker_cache_info)`` gives one report per
    worker.  A worker loads the kernels from Numba's on-disk cache (the
    package's ``__pycache__`` or ``NUMBA_CACHE_DIR``, shared by every process
    on a machine) when it is writable and warm; otherwise it compiles them
    once, at its first use (and keeps them for every later task), or runs
    without a cache when no cache directory is writable (read-only install).

    Returns
    -------
    info : dict
        ``pid``, ``fastnet_file``, ``cache_enabled`` (FASTNET_DISABLE_CACHE),
        ``numba_cache_dir`` (NUMBA_CACHE_DIR or ''), ``threading_layer_started``
        (fastnet never starts Numba's threading layer), and per kernel
        ``dispatchers[name] = {'cache': cache class ('NullCache': no disk
        cache), 'locator': cache locator class, 'path': cache directory,
        'loaded': signatures loaded from the disk cache, 'compiled':
        signatures compiled in this process}``.
    """
    import numba
    from numba.core.registry import CPUDispatcher
    from numba.np.ufunc import parallel as numba_parallel

    import fastnet

    from . import kernels
    from .kernels import _jit

    dispatchers = {}
    for module in (kernels.activations, kernels.dense, kernels.epoch, kernels.losses,
                   kernels.optimizers):
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                cache = obj._cache
                impl = getattr(cache, "_impl", None)
                locator = getattr(impl, "locator", None)
                dispatchers[f"{module.__name__}.{name}"] = {
                    "cache": type(cache).__name__,
                    "locator": type(locator).__name__,
                    "path": getattr(cache, "cache_path", None),
                    "loaded": int(sum(obj._cache_hits.values())),
                    "compiled": int(sum(obj._cache_misses.values())),
                }
    return {
        "pid": os.getpid(),
        "fastnet_file": fastnet.__file__,
        "cache_enabled": bool(_jit.CACHE_ENABLED),
        "numba_cache_dir": numba.config.CACHE_DIR,
        "threading_layer_started": bool(numba_parallel._is_initialized),
        "dispatchers": dispatchers,
    }
