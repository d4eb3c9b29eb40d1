"""Toy datasets from the article that ``fastnet`` grew from.

The article introduces artificial neurons with two running examples, and this
module ships both so the documentation, examples and tests can replay them:

* :func:`celsius_to_fahrenheit` -- a single neuron with weight ``w = 1.8`` and
  bias ``b = 32`` converts Celsius to Fahrenheit exactly.  The dataset samples
  that function (optionally with Gaussian noise), so a one-neuron regressor
  should recover ``w`` and ``b``.
* :func:`load_vending_machine` -- 50 days of a museum's visitors, the
  temperature, and the bottles of water its vending machine sold.  The
  article's own table is only an image, so the data here is **synthetic**:
  it was generated once from a fixed seed, calibrated so that every number
  the article quotes comes out the same, and ships as the package data file
  ``fastnet/data/vending_machine.csv`` (see the function's docstring).

Both functions use NumPy only; ``scikit-learn`` (for ``Bunch``) and
``pandas`` (for ``as_frame=True``) are imported lazily inside
:func:`load_vending_machine`.
"""

import numpy as np

__all__ = ["celsius_to_fahrenheit", "load_vending_machine"]


def celsius_to_fahrenheit(n_samples=50, *, low=-40.0, high=100.0, noise=0.0, random_state=0):
    """Sample the Celsius-to-Fahrenheit conversion, the article's first neuron.

    A single neuron with weight ``w = 1.8`` and bias ``b = 32`` computes
    ``fahrenheit = 1.8 * celsius + 32``.  This draws Celsius temperatures
    uniformly from ``[low, high)`` and returns them with the Fahrenheit
    values, so a linear model fitted on them should recover ``w`` and ``b``.

    Parameters
    ----------
    n_samples : int, default=50
        Number of samples to draw. Must be at least 1.
    low, high : float, default=-40.0, 100.0
        Bounds of the uniform distribution the Celsius values come from.
        ``low`` must be smaller than ``high``.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the Fahrenheit
        values. ``0.0`` (the default) gives the exact conversion.
    random_state : int, numpy.random.Generator or None, default=0
        Seed passed to :func:`numpy.random.default_rng`. The same seed gives
        the same data. The Celsius values are drawn before the noise, so
        they do not depend on ``noise``.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float64
        Temperatures in degrees Celsius.
    y : ndarray of shape (n_samples,), dtype float64
        Temperatures in degrees Fahrenheit, ``1.8 * X[:, 0] + 32``, plus
        the noise if ``noise > 0``.

    Examples
    --------
    >>> X, y = celsius_to_fahrenheit(5)
    >>> X.shape, y.shape
    ((5, 1), (5,))
    >>> bool(np.all(y == 1.8 * X[:, 0] + 32.0))
    True
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an integer, got {n_samples!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    low, high, noise = float(low), float(high), float(noise)
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    if not noise >= 0.0:  # also rejects NaN
        raise ValueError(f"noise must be non-negative, got {noise}")

    rng = np.random.default_rng(random_state)
    X = rng.uniform(low, high, size=(int(n_samples), 1))
    y = 1.8 * X[:, 0] + 32.0
    if noise > 0.0:
        y = y + rng.normal(0.0, noise, size=y.shape)
    return X, y


# ---------------------------------------------------------------------------
# Vending machine
# ---------------------------------------------------------------------------

# The table is package data, written once by tools/make_vending_machine_csv.py
# (kept in the repository, not installed).  Reading a file instead of
# re-running the calibration keeps the data identical on every install: NumPy
# promises the same random stream only for the same build and machine.
_VENDING_CSV = "vending_machine.csv"  # in fastnet/data/
_VENDING_COLUMNS = ("visitors", "temperature", "bottles")

_VENDING_DESCR = """\
Museum vending machine dataset (SYNTHETIC)
------------------------------------------

**This data is synthetic.** The article fastnet grew from trains a single
artificial neuron on 50 days of a museum's visitors, the temperature, and the
bottles of water its vending machine sold, but it shows that table only as an
image. So that the article's example can be replayed, this table was generated
once from a fixed seed (visitors with a weekly rhythm, seasonal temperatures,
bottles = a * visitors + b * temperature + noise, rounded) and nudged by a few
single bottles/visitors so that it reproduces every number the article states:
day one has 105 visitors and 21 bottles (day two 90 visitors and 21 bottles);
a visitors-only neuron without bias (sales = w * visitors) has mean squared
errors of 671.58 at w = 0.5, 723.72 at w = 0.51 and 621.41 at w = 0.49, and its
best weight is w = 0.24. As in the article, adding the temperature as a second
input (sales = w0 * visitors + w1 * temperature) fits clearly better. Any other
property of the data is an artefact of the generator, not a real measurement.
It ships with fastnet as a CSV file (fastnet/data/vending_machine.csv).

:Number of instances: 50 (one per day)
:Number of attributes: 2 numeric inputs, 1 numeric target
:Attribute information:
    - visitors     number of people who visited the museum that day (integer)
    - temperature  air temperature that day, degrees Celsius (one decimal)
:Target:
    - bottles      bottles of water sold by the vending machine (integer)
"""


def _read_vending_csv():
    """Read the shipped table.

    Returns
    -------
    table : ndarray of shape (50, 3), dtype float64
        Columns ``visitors``, ``temperature``, ``bottles``.
    """
    from importlib import resources

    # importlib.resources (not a path beside __file__) also works from a
    # zipped or otherwise non-filesystem install.
    text = resources.files("fastnet").joinpath("data", _VENDING_CSV).read_text("ascii")
    header, _, body = text.partition("\n")
    if tuple(header.strip().split(",")) != _VENDING_COLUMNS:
        raise OSError(f"fastnet's {_VENDING_CSV} is damaged (header {header!r})")
    table = np.loadtxt(body.splitlines(), delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape != (50, len(_VENDING_COLUMNS)):
        raise OSError(f"fastnet's {_VENDING_CSV} is damaged (shape {table.shape})")
    return table


def load_vending_machine(*, as_frame=False, return_X_y=False):
    """Load the (synthetic) museum vending-machine dataset from the article.

    50 days of the number of museum visitors and the temperature (inputs),
    and the bottles of water the museum's vending machine sold (target).

    .. warning::
       The data is **synthetic**. The article shows its table only as an
       image, so this table was generated once (fixed seed, by
       ``tools/make_vending_machine_csv.py`` in the repository), calibrated
       to reproduce the article's numbers, and is read from the package
       data file ``fastnet/data/vending_machine.csv``:

       * day one: 105 visitors, 21 bottles sold;
       * a visitors-only neuron without bias, ``sales = w * visitors``, has
         mean squared error 671.58 at ``w = 0.5``, 723.72 at ``w = 0.51``
         and 621.41 at ``w = 0.49`` (rounded to two decimals), and its
         least-squares weight ``sum(v*y) / sum(v*v)`` rounds to 0.24;
       * adding the temperature, ``sales = w0 * visitors + w1 * temperature``
         (still without bias), lowers the least-squares error clearly.

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame and ``target`` a pandas
        Series, and the Bunch also has ``frame``, a DataFrame with both.
        Requires pandas.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (50, 2), dtype float64, or DataFrame
            Columns ``visitors`` (integer-valued) and ``temperature``
            (degrees Celsius, one decimal).
        target : ndarray of shape (50,), dtype float64, or Series
            Bottles sold (integer-valued).
        frame : DataFrame of shape (50, 3) or None
            ``data`` and ``target`` together when ``as_frame=True``,
            otherwise None.
        feature_names : list of str
            ``["visitors", "temperature"]``.
        target_names : list of str
            ``["bottles"]``.
        DESCR : str
            Description of the dataset, stating that it is synthetic.
    (data, target) : tuple if ``return_X_y`` is True
        ``data`` of shape (50, 2) and ``target`` of shape (50,), as ndarrays
        or, with ``as_frame=True``, as a DataFrame and a Series.

    Raises
    ------
    ImportError
        If ``as_frame=True`` and pandas is not installed.

    Examples
    --------
    >>> X, y = load_vending_machine(return_X_y=True)
    >>> X.shape, y.shape
    ((50, 2), (50,))
    >>> X[0].tolist(), float(y[0])
    ([105.0, 10.1], 21.0)
    """
    table = _read_vending_csv()
    feature_names = ["visitors", "temperature"]
    target_names = ["bottles"]
    data = np.ascontiguousarray(table[:, :2])
    target = table[:, 2].copy()

    frame = None
    if as_frame:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "load_vending_machine(as_frame=True) requires pandas; install it "
                "with `pip install pandas` or call it with as_frame=False."
            ) from exc
        data = pd.DataFrame(data, columns=feature_names)
        target = pd.Series(target, name=target_names[0])
        frame = pd.concat([data, target], axis=1)

    if return_X_y:
        return data, target

    from sklearn.utils import Bunch

    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=target_names,
        DESCR=_VENDING_DESCR,
    )
