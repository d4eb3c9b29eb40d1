"""The typed argument groups every kernel takes: a handful of named tuples, not 30 positions.

Numba types a namedtuple field by field (arrays keep their dtype and layout),
so a kernel that takes ``layout, codes, data, work, opt`` compiles exactly as
if each field were its own argument -- but a caller can no longer pass two
int codes or two float buffers in the wrong order, and the CUDA twin and
dropout extend a group instead of copying a positional order.  Named tuples
(unlike ``jitclass``) keep ``cache=True`` working.

Groups
------
``Layout(units, coef_off, icpt_off, act_off, n_coef)``
    Where each layer lives: ``units`` int64 (n_layers + 1,) layer widths, input
    first; ``coef_off`` / ``icpt_off`` int64 (n_layers,) offsets of each
    layer's weights (row-major (fan_in, fan_out)) and intercepts in the flat
    parameter buffer (scikit-learn's ``_pack`` order: all weights, then all
    intercepts); ``act_off`` int64 (n_layers,) start of each layer's block in
    an activation workspace, in rows-times-width units (a batch of ``n`` rows
    puts layer ``i`` at ``n * act_off[i]``); ``n_coef`` the number of weights.
``Codes(hidden, output, loss, tiles_forward, tiles_backward, tiles_backward_from)``
    Activation codes of the hidden layers and of the output layer, the loss
    code (``registry``), and the most weights (``fan_in * fan_out``) a layer
    may have for its forward product, and for the products of its backward
    pass, to take the register tiles instead of BLAS, and the fewest inputs
    (``fan_in``) a layer needs for its backward products to take them
    (``small.tile_limits()``: the measured policy for this CPU; a most of 0
    sends every such product to BLAS).
``Data(X, Y, sw, has_sw)``
    Inputs (n, n_features), targets (n, n_outputs), sample weights (n,) --
    any length when ``has_sw`` is False -- C-contiguous, in the parameters'
    dtype.  The whole training set, or one gathered batch.
``Work(x, y, sw, acts, deltas, col_sum, grad)``
    Workspaces allocated once per fit for the largest batch: gathered
    inputs/targets/weights, activations and deltas (``rows *
    sum(units[1:])``), the loss's per-column sums (n_outputs,), the flat
    gradient (n_params,).
``Optimizer(code, state, hyper, alpha, step)``
    ``code`` SGD or ADAM; ``state`` (2, n_params) velocity (SGD) or first and
    second moments (Adam), updated in place; ``hyper`` float64 (N_HYPER,)
    learning rate (Adam: the initial one), momentum, nesterov (0/1), beta_1,
    beta_2, epsilon; ``alpha`` the L2 strength in the parameters' dtype;
    ``step`` int64 (1,) Adam's step count, advanced in place.
``Shuffle(enabled, order, key, pos)``
    ``order`` int64 (n_samples,) the sample order, carried from epoch to epoch;
    with ``enabled`` it is reshuffled before each epoch as
    ``RandomState.shuffle`` would, on the MT19937 state ``key`` uint32 (624,)
    and ``pos`` int64 (1,), advanced in place.
``Dropout(rates, seed, step)``
    Inverted dropout of the hidden units while training: ``rates`` float64
    (n_layers,) the drop probability of each layer's outputs (the output
    layer's is 0); ``seed`` uint64 and ``step`` int64 (1,) -- batches trained
    so far, advanced in place by the epoch kernel -- select the masks of the
    counter-based generator (``scalar.dropout_stream``).  No dropout (predict,
    and every model without it) is ``None`` (:data:`NO_DROPOUT`): the kernels
    test ``drop is not None``, which Numba decides while compiling, so the
    kernels compiled without dropout contain none of its code (the dropout
    variant compiles only when a model uses it).
``Plan(n_epochs, max_batches, batch_size, cursor, partial, losses)``
    What one call trains: at most ``n_epochs`` epochs and at most
    ``max_batches`` mini-batches (-1: no limit) of ``batch_size`` rows;
    ``cursor`` int64 (1,) the row where the epoch in progress resumes (0: the
    next epoch starts, with its shuffle) and ``partial`` float64 (1,) that
    epoch's loss so far, both carried between calls; ``losses`` float64
    (n_epochs,) receives each completed epoch's sum of batch loss times batch
    length.
"""

from collections import namedtuple

import numpy as np

__all__ = ["Layout", "Codes", "Data", "Work", "Optimizer", "Shuffle", "Plan", "SGD", "ADAM",
           "H_LEARNING_RATE", "H_MOMENTUM", "H_NESTEROV", "H_BETA_1", "H_BETA_2",
           "H_EPSILON", "N_HYPER", "layout_of", "no_shuffle", "plan", "Dropout", "NO_DROPOUT",
           "dropout"]

Layout = namedtuple("Layout", ["units", "coef_off", "icpt_off", "act_off", "n_coef"])
# tiles_backward_from defaults to 0: a network pickled before it existed unpickles
# (its policy is then replaced by this CPU's: Network.__setstate__).
Codes = namedtuple("Codes", ["hidden", "output", "loss", "tiles_forward",
                             "tiles_backward", "tiles_backward_from"], defaults=(0,))
Data = namedtuple("Data", ["X", "Y", "sw", "has_sw"])
Work = namedtuple("Work", ["x", "y", "sw", "acts", "deltas", "col_sum", "grad"])
Optimizer = namedtuple("Optimizer", ["code", "state", "hyper", "alpha", "step"])
Shuffle = namedtuple("Shuffle", ["enabled", "order", "key", "pos"])
Plan = namedtuple("Plan", ["n_epochs", "max_batches", "batch_size", "cursor", "partial",
                           "losses"])
Dropout = namedtuple("Dropout", ["rates", "seed", "step"])

SGD = 0
ADAM = 1

# Positions in ``Optimizer.hyper``.
H_LEARNING_RATE = 0
H_MOMENTUM = 1
H_NESTEROV = 2
H_BETA_1 = 3
H_BETA_2 = 4
H_EPSILON = 5
N_HYPER = 6


def layout_of(layer_units):
    """The :class:`Layout` group of a dense stack.

    Parameters
    ----------
    layer_units : sequence of int
        Widths of every layer, input first, output last.

    Returns
    -------
    layout : Layout
    """
    units = np.asarray(layer_units, dtype=np.int64)
    fan_in, fan_out = units[:-1], units[1:]
    coef_sizes = fan_in * fan_out
    n_coef = int(coef_sizes.sum())
    coef_off = np.concatenate([[0], np.cumsum(coef_sizes)[:-1]]).astype(np.int64)
    icpt_off = (n_coef + np.concatenate([[0], np.cumsum(fan_out)[:-1]])).astype(np.int64)
    act_off = np.concatenate([[0], np.cumsum(fan_out)[:-1]]).astype(np.int64)
    return Layout(units, coef_off, icpt_off, act_off, n_coef)


def no_shuffle(order):
    """A :class:`Shuffle` that keeps ``order`` as it is (placeholder state, same types)."""
    return Shuffle(False, order, np.zeros(624, dtype=np.uint32), np.zeros(1, dtype=np.int64))


def plan(n_epochs, batch_size, max_batches=-1, cursor=None, partial=None):
    """A :class:`Plan` for one call, with fresh counters unless given.

    Parameters
    ----------
    n_epochs, batch_size : int
    max_batches : int, default=-1
        -1 for no limit.
    cursor : ndarray of int64, shape (1,), optional
    partial : ndarray of float64, shape (1,), optional

    Returns
    -------
    plan : Plan
    """
    cursor = np.zeros(1, dtype=np.int64) if cursor is None else cursor
    partial = np.zeros(1) if partial is None else partial
    return Plan(int(n_epochs), int(max_batches), int(batch_size), cursor, partial,
                np.zeros(n_epochs))


def dropout(rates, seed, step):
    """A :class:`Dropout` group, or :data:`NO_DROPOUT` when every rate is 0.

    Parameters
    ----------
    rates : sequence of float, length n_layers
        Drop probability of each layer's outputs (0 for the output layer).
    seed : int
        Any 64-bit value.
    step : ndarray of int64, shape (1,)
        The batch counter, advanced in place by training.

    Returns
    -------
    drop : Dropout or None
    """
    rates = np.ascontiguousarray(rates, dtype=np.float64)
    if not np.any(rates > 0):
        return NO_DROPOUT
    return Dropout(rates, np.uint64(int(seed) % 2**64), step)


# No dropout: predict and every model without it.  None, so that the kernels' ``drop is
# not None`` branches are pruned at compile time (see the Dropout group above).
NO_DROPOUT = None
