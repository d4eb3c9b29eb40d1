"""Where each layer's weights and intercepts sit in a flat parameter buffer."""

from .kernels.groups import layout_of

__all__ = ["Layout", "LayeredArray"]


class Layout:
    """The offsets table of a dense stack, in scikit-learn's ``_pack`` order.

    All weights come first (layer by layer, each row-major with shape
    (fan_in, fan_out)), then all intercepts.  The L2 penalty therefore covers
    exactly ``flat[:n_coef]``.

    Parameters
    ----------
    layer_units : sequence of int
        Widths of every layer, input first, output last; length n_layers + 1.

    Attributes
    ----------
    units : ndarray of int64, shape (n_layers + 1,)
    coef_offsets, intercept_offsets : ndarray of int64, shape (n_layers,)
    n_coef : int
        Number of weights.
    n_params : int
        Weights plus intercepts.
    group : fastnet.kernels.groups.Layout
        The same table as the kernels' typed ``Layout`` argument group.
    n_layers : int
        Number of weight layers (hidden layers + 1).
    n_features : int
        Input width, ``units[0]``.
    activation_size : int
        Activation workspace elements needed per sample row, ``sum(units[1:])``.
    """

    def __init__(self, layer_units):
        # The kernels' Layout group, built once: every kernel call passes it as is.
        self.group = layout_of(layer_units)
        self.units = self.group.units
        self.coef_offsets = self.group.coef_off
        self.intercept_offsets = self.group.icpt_off
        self.n_coef = self.group.n_coef
        # Plain attributes, not properties: the lean predict path reads them per call.
        self.n_params = self.n_coef + int(self.units[1:].sum())
        self.n_layers = len(self.units) - 1  # weight layers (hidden layers + 1)
        self.n_features = int(self.units[0])
        self.activation_size = int(self.units[1:].sum())  # workspace elements per sample row

    def shapes(self):
        """Yield ``(coef_shape, intercept_shape)`` for each layer."""
        for i in range(self.n_layers):
            yield (int(self.units[i]), int(self.units[i + 1])), (int(self.units[i + 1]),)

    def views(self, flat):
        """Per-layer views into a flat buffer.

        Parameters
        ----------
        flat : ndarray of shape (n_params,)

        Returns
        -------
        coefs : list of ndarray, each (fan_in, fan_out), views of ``flat``
        intercepts : list of ndarray, each (fan_out,), views of ``flat``
        """
        coefs, intercepts = [], []
        for i, (coef_shape, (width,)) in enumerate(self.shapes()):
            start = self.coef_offsets[i]
            coefs.append(flat[start : start + coef_shape[0] * coef_shape[1]].reshape(coef_shape))
            start = self.intercept_offsets[i]
            intercepts.append(flat[start : start + width])
        return coefs, intercepts


class LayeredArray:
    """A flat buffer with per-layer views: parameters or a gradient.

    Parameters
    ----------
    layout : Layout
    flat : ndarray of shape (layout.n_params,)

    Attributes
    ----------
    flat : ndarray of shape (n_params,)
        The whole buffer: an optimizer step, a copy or a file is one array.
    coefs : list of ndarray
        ``coefs[i]`` has shape (units[i], units[i + 1]); a view of ``flat``.
    intercepts : list of ndarray
        ``intercepts[i]`` has shape (units[i + 1],); a view of ``flat``.
    """

    def __init__(self, layout, flat):
        if flat.shape != (layout.n_params,):
            raise ValueError(
                f"flat buffer has shape {flat.shape}, the layout needs ({layout.n_params},)"
            )
        self.layout = layout
        self.flat = flat
        self.coefs, self.intercepts = layout.views(flat)

    def __repr__(self):
        shapes = [c.shape for c in self.coefs]
        return (f"LayeredArray(n_params={self.flat.size}, coef shapes={shapes}, "
                f"dtype={self.flat.dtype})")
