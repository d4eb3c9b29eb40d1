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
  it is generated deterministically and calibrated so that every number the
  article quotes comes out the same (see the function's docstring).

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

# Seed of the synthetic vending-machine table. Changing it changes the data.
_VENDING_SEED = 46

# Integer sums that reproduce the article's figures. With ``v`` the visitors
# and ``y`` the bottles (integers), the visitors-only neuron without bias has
#     MSE(w) = (w**2 * sum(v*v) - 2*w*sum(v*y) + sum(y*y)) / 50,
# a parabola in ``w``. The article's three values fix it:
#     MSE(0.51) + MSE(0.49) - 2*MSE(0.50) = 0.0002 * sum(v*v) / 50  -> mean(v*v) ~ 9850
#     MSE(0.51) - MSE(0.49) = 0.02 * (sum(v*v) - 2*sum(v*y)) / 50   -> mean(v*y) ~ 2367.25
#     MSE(0.50)                                                      -> mean(y*y) ~ 576.33
# giving w* = sum(v*y) / sum(v*v) ~ 0.2403 and a residual MSE of ~7.4 at w*.
# With integer data the sums are integers; these choices give
# MSE(0.49), MSE(0.50), MSE(0.51) within 0.002 of 621.41, 671.58, 723.72.
_SUM_VV = 492_500  # sum(visitors**2), mean 9850
_SUM_VY_RANGE = (118_358, 118_366)  # allowed sum(visitors * bottles)
_SUM_YY_MINUS_VY = -89_546  # sum(bottles**2) - sum(visitors * bottles)

# Day one (105 visitors, 21 bottles) and day two (90 visitors, 21 bottles),
# the two rows the article quotes.
_FIXED_VISITORS = (105, 90)
_FIXED_BOTTLES = (21, 21)

_VENDING_DESCR = """\
Museum vending machine dataset (SYNTHETIC)
------------------------------------------

**This data is synthetic.** The article fastnet grew from trains a single
artificial neuron on 50 days of a museum's visitors, the temperature, and the
bottles of water its vending machine sold, but it shows that table only as an
image. So that the article's example can be replayed, this table is generated
deterministically from a fixed seed (visitors with a weekly rhythm, seasonal
temperatures, bottles = a * visitors + b * temperature + noise, rounded) and
then nudged by a few single bottles/visitors so that it reproduces every
number the article states: day one has 105 visitors and 21 bottles (day two
90 visitors and 21 bottles); a visitors-only neuron without bias
(sales = w * visitors) has mean squared errors of 671.58 at w = 0.5, 723.72 at
w = 0.51 and 621.41 at w = 0.49, and its best weight is w = 0.24. As in the
article, adding the temperature as a second input
(sales = w0 * visitors + w1 * temperature) fits clearly better. Any other
property of the data is an artefact of the generator, not a real measurement.

:Number of instances: 50 (one per day)
:Number of attributes: 2 numeric inputs, 1 numeric target
:Attribute information:
    - visitors     number of people who visited the museum that day (integer)
    - temperature  air temperature that day, degrees Celsius (one decimal)
:Target:
    - bottles      bottles of water sold by the vending machine (integer)
"""


def _nudge_visitors(v, target_sum_sq, start):
    """Change ``v[start:]`` by +-1 steps until ``sum(v**2) == target_sum_sq``.

    Parameters
    ----------
    v : ndarray of shape (n_days,), dtype int64
        Visitors; a modified copy is returned.
    target_sum_sq : int
        Required value of ``sum(v**2)``.
    start : int
        Rows before ``start`` are left untouched.

    Returns
    -------
    v : ndarray of shape (n_days,), dtype int64
    """
    v = v.copy()
    free = np.arange(start, v.size)
    gap = target_sum_sq - int(v @ v)
    if gap % 2:
        # One +-1 step changes sum(v**2) by 2*v*s + 1, an odd amount; take the
        # step closest to the gap so that the rest is even.
        s = 1 if gap > 0 else -1
        k = int(np.argmin(np.abs(gap - (2 * s * v[free] + 1))))
        v[free[k]] += s
    while True:
        gap = target_sum_sq - int(v @ v)
        if gap == 0:
            return v
        # v[i] += 1 and v[j] -= 1 together change sum(v**2) by 2*(v[i]-v[j]) + 2.
        vf = v[free]
        delta = (2 * (vf[:, None] - vf[None, :]) + 2).astype(np.float64)
        np.fill_diagonal(delta, np.inf)
        miss = np.abs(gap - delta)
        i, j = np.unravel_index(int(np.argmin(miss)), miss.shape)
        if miss[i, j] >= abs(gap):
            raise RuntimeError("could not calibrate the synthetic visitors")
        v[free[i]] += 1
        v[free[j]] -= 1


def _nudge_bottles(v, y, vy_range, yy_minus_vy, start):
    """Change ``y[start:]`` by +-1 steps until the article's sums hold.

    A move adds 1 to the bottles of one day and/or subtracts 1 from another
    day. Greedy descent applies the move that brings ``sum(v*y)`` into
    ``vy_range`` and ``sum(y*y) - sum(v*y)`` to ``yy_minus_vy`` fastest; when
    no single move helps any more, an exact pair of moves on four distinct
    days is looked up.

    Parameters
    ----------
    v : ndarray of shape (n_days,), dtype int64
        Visitors (not modified).
    y : ndarray of shape (n_days,), dtype int64
        Bottles; a modified copy is returned.
    vy_range : tuple of int
        Inclusive bounds for ``sum(v*y)``.
    yy_minus_vy : int
        Required value of ``sum(y*y) - sum(v*y)``.
    start : int
        Rows before ``start`` are left untouched.

    Returns
    -------
    y : ndarray of shape (n_days,), dtype int64
    """
    lo, hi = vy_range
    y = y.copy()
    free = np.arange(start, y.size)
    m = free.size

    def cost(svy, d):
        outside = np.maximum(lo - svy, 0) + np.maximum(svy - hi, 0)
        return outside**2 + (d - yy_minus_vy) ** 2

    def moves():
        # Move (i, j): y[free[i]] += 1 unless i == m, y[free[j]] -= 1 unless
        # j == m. Its effect on (sum(v*y), sum(y*y) - sum(v*y)) is additive.
        vf, yf = v[free], y[free]
        up_vy = np.append(vf, 0)
        up_d = np.append(2 * yf + 1 - vf, 0)
        down_vy = np.append(-vf, 0)
        down_d = np.append(-2 * yf + 1 + vf, 0)
        dvy = up_vy[:, None] + down_vy[None, :]
        dd = up_d[:, None] + down_d[None, :]
        valid = ~np.eye(m + 1, dtype=bool)  # i == j is a no-op
        valid[m, m] = False
        return dvy, dd, valid

    def apply(i, j):
        if i < m:
            y[free[i]] += 1
        if j < m:
            y[free[j]] -= 1

    while True:  # greedy descent
        svy = int(v @ y)
        d = int(y @ y) - svy
        now = cost(svy, d)
        if now == 0:
            return y
        dvy, dd, valid = moves()
        c = np.where(valid, cost(svy + dvy, d + dd), np.iinfo(np.int64).max)
        i, j = np.unravel_index(int(np.argmin(c)), c.shape)
        if c[i, j] >= now:
            break
        apply(i, j)

    # Exact finish: two moves on distinct days whose effects add up to the gap.
    dvy, dd, valid = moves()
    lookup = {}
    for i, j in zip(*np.nonzero(valid)):
        lookup.setdefault((int(dvy[i, j]), int(dd[i, j])), []).append((int(i), int(j)))
    gap_d = yy_minus_vy - d
    for i1, j1 in zip(*np.nonzero(valid)):
        used = {int(i1), int(j1)} - {m}
        for target in range(lo, hi + 1):
            need = (target - svy - int(dvy[i1, j1]), gap_d - int(dd[i1, j1]))
            for i2, j2 in lookup.get(need, ()):
                if not used & ({i2, j2} - {m}):
                    apply(i1, j1)
                    apply(i2, j2)
                    return y
    raise RuntimeError("could not calibrate the synthetic bottle counts")


def _vending_machine_arrays(seed=_VENDING_SEED):
    """Generate the synthetic vending-machine table.

    Parameters
    ----------
    seed : int, default=_VENDING_SEED
        Seed of the generator. Any seed satisfies the article's numbers;
        the shipped table uses the default.

    Returns
    -------
    visitors : ndarray of shape (50,), dtype int64
    temperature : ndarray of shape (50,), dtype float64
        Degrees Celsius, one decimal, within [10, 38].
    bottles : ndarray of shape (50,), dtype int64
    """
    n_days, n_fixed = 50, len(_FIXED_VISITORS)
    rng = np.random.default_rng(seed)
    day = np.arange(n_days)

    # Seasonal temperatures with day-to-day weather.
    temperature = 24.0 + 6.0 * np.sin(2.0 * np.pi * (day - 10) / n_days)
    temperature += rng.normal(0.0, 4.0, n_days)
    temperature = np.clip(np.round(temperature, 1), 10.0, 38.0)

    # Visitors: busier weekends, scaled so that sum(visitors**2) is close to
    # _SUM_VV, then nudged onto it exactly.
    raw = 85.0 + 30.0 * ((day % 7) >= 5) + rng.normal(0.0, 18.0, n_days)
    visitors = np.empty(n_days, dtype=np.int64)
    visitors[:n_fixed] = _FIXED_VISITORS
    rest = _SUM_VV - int(visitors[:n_fixed] @ visitors[:n_fixed])
    raw = raw[n_fixed:]
    visitors[n_fixed:] = np.round(raw * np.sqrt(rest / (raw @ raw)))
    visitors = _nudge_visitors(visitors, _SUM_VV, n_fixed)

    # Bottles = a * visitors + b * (temperature + weather noise). Solve a and b
    # (closed form) so that the sums match the article, round, then nudge.
    q = temperature + rng.normal(0.0, 4.0, n_days)
    v, q = visitors[n_fixed:].astype(np.float64), q[n_fixed:]
    fixed_v = np.asarray(_FIXED_VISITORS, dtype=np.float64)
    fixed_y = np.asarray(_FIXED_BOTTLES, dtype=np.float64)
    sum_vy = sum(_SUM_VY_RANGE) / 2.0  # all 50 days
    s_vv = v @ v  # the free days only, from here on
    s_vy = sum_vy - fixed_v @ fixed_y
    s_yy = sum_vy + _SUM_YY_MINUS_VY - fixed_y @ fixed_y
    s_yy -= v.size / 12.0  # rounding to integers adds ~1/12 per day
    b = np.sqrt((s_yy - s_vy**2 / s_vv) / (q @ q - (v @ q) ** 2 / s_vv))
    a = (s_vy - b * (v @ q)) / s_vv
    bottles = np.empty(n_days, dtype=np.int64)
    bottles[:n_fixed] = _FIXED_BOTTLES
    bottles[n_fixed:] = np.round(a * v + b * q)
    bottles = _nudge_bottles(visitors, bottles, _SUM_VY_RANGE, _SUM_YY_MINUS_VY, n_fixed)

    # Give the two quoted days the temperature the model implies for them.
    temperature[:n_fixed] = np.clip(np.round((fixed_y - a * fixed_v) / b, 1), 10.0, 38.0)
    return visitors, temperature, bottles


def load_vending_machine(*, as_frame=False, return_X_y=False):
    """Load the (synthetic) museum vending-machine dataset from the article.

    50 days of the number of museum visitors and the temperature (inputs),
    and the bottles of water the museum's vending machine sold (target).

    .. warning::
       The data is **synthetic**. The article shows its table only as an
       image, so this table is generated deterministically (fixed seed, no
       data file) and calibrated to reproduce the article's numbers:

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
    visitors, temperature, bottles = _vending_machine_arrays()
    feature_names = ["visitors", "temperature"]
    target_names = ["bottles"]
    data = np.column_stack([visitors.astype(np.float64), temperature])
    target = bottles.astype(np.float64)

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
