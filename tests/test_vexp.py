"""The kernels' vectorised exp against the C library's, over the whole range."""
import math

import numpy as np
import pytest

from scorefast import _categorical


def vexp(x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _categorical.exp_array(x, out)
    return out


def _libm_exp(v):
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def ulps(got, want):
    """|got - want| in units of the last place of want (subnormal spacing below)."""
    spacing = np.spacing(np.abs(want))
    spacing = np.maximum(spacing, np.finfo(np.float64).smallest_subnormal)
    return np.abs(got - want) / spacing


@pytest.mark.parametrize("lo, hi", [(-746.0, 710.0), (-1.0, 1.0), (-40.0, 40.0),
                                    (-745.2, -700.0), (700.0, 709.8)])
def test_within_two_ulp_of_libm(lo, hi):
    x = np.random.default_rng(0).uniform(lo, hi, 200_000)
    want = np.array([_libm_exp(v) for v in x])
    got = vexp(x)
    finite = np.isfinite(want)
    assert np.all(np.isinf(got[~finite]))
    assert ulps(got[finite], want[finite]).max() <= 2.0


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.78, 709.79, -745.1, -745.2,
                  -1000.0, 1000.0, 1e-300, -1e-300])
    got = vexp(x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [np.inf, 0.0, 1.0, 1.0, math.exp(709.78), np.inf,
                                            math.exp(-745.1), 0.0, 0.0, np.inf, 1.0, 1.0])


def test_every_simd_lane_and_tail():
    # lengths that leave every possible remainder after the vector loop
    for n in range(1, 40):
        x = np.linspace(-3, 3, n)
        assert ulps(vexp(x), np.exp(x)).max() <= 2.0
