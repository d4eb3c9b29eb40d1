"""Write ``fastnet/data/vending_machine.csv``, the synthetic vending-machine table.

Run once; the CSV it wrote is the dataset. ``fastnet.load_vending_machine()``
only reads that file, as scikit-learn's loaders read ``sklearn/datasets/data``:
NumPy promises the same random stream only for the same build and machine, so
re-running this calibration on every load could change the data between
installs.  Do not regenerate unless the dataset is meant to change (then say so
in the changelog: fitted examples and tests depend on the exact rows).

Usage (from the repository root)::

    python tools/make_vending_machine_csv.py           # (re)write the CSV
    python tools/make_vending_machine_csv.py --check   # compare, write nothing

``tests/test_datasets.py`` imports this file to check that regenerating gives
the shipped table and that the calibration works from other seeds.

How the table is made: the article fastnet grew from shows its 50-day table
only as an image, so visitors (a weekly rhythm), temperatures (seasonal, plus
weather) and bottles (a * visitors + b * temperature + noise, rounded) are
drawn from a fixed seed, then nudged by single visitors / bottles until every
number the article quotes comes out exactly (see the constants below).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

CSV_PATH = Path(__file__).resolve().parents[1] / "fastnet" / "data" / "vending_machine.csv"
COLUMNS = ("visitors", "temperature", "bottles")

# Seed of the shipped table. Changing it changes the data.
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


def vending_machine_arrays(seed=_VENDING_SEED):
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


def to_csv(visitors, temperature, bottles):
    """The CSV text of the table: a header, then integers and one-decimal temperatures.

    Parameters
    ----------
    visitors, bottles : ndarray of shape (n_days,), dtype int64
    temperature : ndarray of shape (n_days,), dtype float64

    Returns
    -------
    text : str
        ``"visitors,temperature,bottles\\n105,10.1,21\\n..."``.  Every
        temperature is a multiple of 0.1 rounded by NumPy, so ``%.1f`` writes it
        without loss: parsing the text gives back the same doubles.
    """
    lines = [",".join(COLUMNS)]
    for v, t, y in zip(visitors.tolist(), temperature.tolist(), bottles.tolist()):
        if float(f"{t:.1f}") != t:
            raise ValueError(f"temperature {t!r} is not a one-decimal value")
        lines.append(f"{int(v)},{t:.1f},{int(y)}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the shipped CSV instead of writing it")
    args = parser.parse_args(argv)
    text = to_csv(*vending_machine_arrays())
    if args.check:
        same = CSV_PATH.read_text(encoding="ascii") == text
        print(f"{CSV_PATH}: {'same as regenerated' if same else 'DIFFERS from regenerated'}")
        return 0 if same else 1
    CSV_PATH.parent.mkdir(parents=True, exist_ok=True)
    CSV_PATH.write_text(text, encoding="ascii", newline="\n")
    print(f"wrote {CSV_PATH} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
