"""kernels/packed.py: Layout and Codes through one int64 vector and back, field for field,
against the groups themselves (the oracle), for networks of one to four layers."""

import numpy as np
import pytest
from numba import njit

from fastnet.kernels import groups as kg
from fastnet.kernels import packed as kpacked


@njit
def _round_trip(packed):
    layout, codes = kpacked.unpack(packed)
    return (layout.units.copy(), layout.coef_off.copy(), layout.icpt_off.copy(),
            layout.act_off.copy(), layout.n_coef, codes)


@pytest.mark.parametrize("units", [(3, 1), (10, 16, 1), (64, 100, 10), (5, 9, 7, 3, 2)])
def test_unpack_gives_back_the_groups_that_were_packed(units):
    layout = kg.layout_of(units)
    codes = kg.Codes(3, 0, 2, 16384, 4096, 32)
    packed = kpacked.pack(layout, codes)
    assert packed.dtype == np.int64 and packed.shape == (4 * (len(units) - 1) + 9,)
    got_units, coef_off, icpt_off, act_off, n_coef, got_codes = _round_trip(packed)
    np.testing.assert_array_equal(got_units, layout.units)
    np.testing.assert_array_equal(coef_off, layout.coef_off)
    np.testing.assert_array_equal(icpt_off, layout.icpt_off)
    np.testing.assert_array_equal(act_off, layout.act_off)
    assert n_coef == layout.n_coef
    assert tuple(got_codes) == tuple(codes)
