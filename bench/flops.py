"""Floating-point operation counts of dense-network training and prediction.

The convention is the usual one for matrix products: a ``(b, k) @ (k, m)``
product costs ``2 * b * k * m`` operations (one multiply and one add per
term).  A dense layer with ``fan_in`` inputs and ``fan_out`` outputs then costs,
per sample,

* forward: ``2 * fan_in * fan_out``;
* backward: ``2 * fan_in * fan_out`` for the weight gradient and the same
  again for the gradient with respect to the layer's input,

so a training step costs ``6 * batch * sum(fan_in * fan_out)`` and prediction
``2 * n * sum(fan_in * fan_out)``.  Biases, activations, the loss and the
optimizer step are lower-order terms and are not counted.  (The first layer
needs no input gradient, so the training count overstates its work by
``2 * batch * n_features * n_hidden``; every library is measured against the
same count, and the convention is the one GFLOP/s figures are usually quoted in.)
"""

__all__ = ["weight_terms", "train_flops", "predict_flops", "gflops"]


def weight_terms(layer_units):
    """``sum(fan_in * fan_out)`` over the layers: multiply-adds per sample and pass.

    Parameters
    ----------
    layer_units : sequence of int
        Widths of every layer, input first and output last, e.g. ``[10, 16, 1]``.

    Returns
    -------
    int
    """
    units = [int(u) for u in layer_units]
    if len(units) < 2:
        raise ValueError(f"need at least an input and an output width; got {units}")
    return sum(a * b for a, b in zip(units[:-1], units[1:]))


def train_flops(layer_units, n_samples, epochs=1):
    """Operations of ``epochs`` passes of mini-batch training over ``n_samples`` rows.

    ``6 * n_samples * sum(fan_in * fan_out)`` per epoch, whatever the batch
    size (the batches partition the samples).

    Parameters
    ----------
    layer_units : sequence of int
    n_samples : int
    epochs : int, default=1

    Returns
    -------
    int
    """
    return 6 * int(n_samples) * weight_terms(layer_units) * int(epochs)


def predict_flops(layer_units, n_samples):
    """Operations of one forward pass over ``n_samples`` rows: ``2 * n * sum(fan_in * fan_out)``.

    Parameters
    ----------
    layer_units : sequence of int
    n_samples : int

    Returns
    -------
    int
    """
    return 2 * int(n_samples) * weight_terms(layer_units)


def gflops(flops, seconds):
    """Achieved rate in GFLOP/s (``None`` when the time is missing or zero).

    Parameters
    ----------
    flops : int or float
    seconds : float or None

    Returns
    -------
    float or None
    """
    if not seconds or seconds <= 0:
        return None
    return flops / seconds / 1e9
