"""The kernels' vectorised exp against the C library's, over the whole range."""
import math

import numpy as np
import pytest

from scorefast import _categorical

from conftest import splitmix64, ulps32_sub


def _elementwise(kernel, dtype):
    """x -> kernel(x) as a new array, x taken as a contiguous array of dtype."""
    def apply(x):
        x = np.ascontiguousarray(x, dtype=dtype)
        out = np.empty_like(x)
        kernel(x, out)
        return out
    return apply


vexp = _elementwise(_categorical.exp_array, np.float64)


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


vexp_nonpos = _elementwise(_categorical.exp_nonpos_array, np.float64)


@pytest.mark.parametrize("lo, hi", [(-746.0, 0.0), (-1.0, 0.0), (-40.0, 0.0),
                                    (-745.2, -700.0), (-710.0, -706.0)])
def test_nonpositive_exp_within_two_ulp_of_libm(lo, hi):
    """The sampler's exp of l - max(l), subnormal results included."""
    x = np.random.default_rng(2).uniform(lo, hi, 200_000)
    want = np.array([math.exp(v) for v in x])
    assert ulps(vexp_nonpos(x), want).max() <= 2.0


def test_nonpositive_exp_special_values_and_lanes():
    x = np.array([-np.inf, 0.0, -0.0, -745.1, -745.2, -746.0, -1000.0, -1e-300,
                  -708.3964185322641, -708.4])
    want = [0.0, 1.0, 1.0, math.exp(-745.1), 0.0, 0.0, 0.0, 1.0,
            math.exp(-708.3964185322641), math.exp(-708.4)]
    np.testing.assert_array_equal(vexp_nonpos(x), want)
    assert np.isnan(vexp_nonpos(np.array([np.nan, -1.0, np.nan]))[[0, 2]]).all()
    for n in range(1, 40):
        x = np.linspace(-6, 0, n)
        assert ulps(vexp_nonpos(x), np.exp(x)).max() <= 2.0


def test_nonpositive_exp_is_zero_below_the_smallest_subnormal():
    """Below -745.2 exp rounds to 0, on both sides of the clamp at -753.45
    (where the scale becomes +0 so that no product underflows) and at the
    extremes: -1e9 and the most negative double (the masks users write for
    -inf), -inf itself."""
    clamp = -753.45
    x = np.concatenate([np.linspace(-760.0, -745.2, 20_001),
                        [np.nextafter(clamp, 0.0), clamp, np.nextafter(clamp, -np.inf),
                         -1e9, np.finfo(np.float64).min, -np.inf]])
    np.testing.assert_array_equal(vexp_nonpos(x), np.zeros_like(x))
    np.testing.assert_array_equal(vexp(x), np.zeros_like(x))      # the full-range exp too


vexpf_nonpos = _elementwise(_categorical.exp_nonpos_array, np.float32)


def ulps32(got, want):
    """|got - want| in units of the last place of float32 at want (want exact, in float64)."""
    return np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want).astype(np.float32))


@pytest.mark.parametrize("lo, hi", [(-87.0, 0.0), (-1.0, 0.0), (-1e-3, 0.0), (-20.0, 0.0),
                                    (-87.0, -80.0)])
def test_float_nonpositive_exp_within_one_ulp(lo, hi):
    """A float32 row's exp (in float) against exp of the same float32 inputs
    in double, which is the correctly rounded result to far below a float
    ulp: within one ulp wherever the result is a normal float."""
    x = np.random.default_rng(3).uniform(lo, hi, 400_000).astype(np.float32)
    want = np.exp(x.astype(np.float64))
    assert ulps32(vexpf_nonpos(x), want).max() <= 1.0


def test_float_nonpositive_exp_special_values_and_lanes():
    # below -87 exp leaves float's normal range: 0, never a subnormal
    x = np.array([-np.inf, 0.0, -0.0, -87.0, np.nextafter(np.float32(-87.0), np.float32(-100)),
                  -100.0, -1e30, -1e-30], np.float32)
    got = vexpf_nonpos(x)
    np.testing.assert_array_equal(got[[0, 1, 2, 4, 5, 6, 7]], [0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    assert ulps32(got[3:4], np.exp(np.array([-87.0]))).max() <= 1.0
    assert np.isnan(vexpf_nonpos(np.array([np.nan, -1.0, np.nan]))[[0, 2]]).all()
    for n in range(1, 40):
        x = np.linspace(-6, 0, n).astype(np.float32)
        assert ulps32(vexpf_nonpos(x), np.exp(x.astype(np.float64))).max() <= 1.0


def assert_nan_in_every_lane(f, lo, hi, ulps_of):
    """For float32 arrays of 2..39 points in [lo, hi], a NaN in the middle
    lane: f gives NaN there, and the other lanes within one ulp of exp."""
    for n in range(2, 40):
        x = np.linspace(lo, hi, n).astype(np.float32)
        x[n // 2] = np.nan
        got = f(x)
        assert np.isnan(got[n // 2])
        rest = np.arange(n) != n // 2
        assert ulps_of(got[rest], np.exp(x[rest].astype(np.float64))).max() <= 1.0


vexpf_sub = _elementwise(_categorical.expf_nonpos_sub_array, np.float32)


@pytest.mark.parametrize("lo, hi", [(-104.0, 0.0), (-87.0, 0.0), (-104.0, -87.0),
                                    (-89.0, -86.0), (-104.0, -100.0)])
def test_float_nonpositive_exp_with_subnormals_within_one_ulp(lo, hi):
    """The float32 Bernoulli kernels' exp(-|t|): within one ulp of exp in
    double of the same float32 inputs, the subnormal results below -87
    (ulp 2^-149) included; equal to sf_expf_nonpos's where that one's result
    is a normal float."""
    x = np.random.default_rng(5).uniform(lo, hi, 400_000).astype(np.float32)
    got = vexpf_sub(x)
    assert ulps32_sub(got, np.exp(x.astype(np.float64))).max() <= 1.0
    normal = x >= -87.0
    np.testing.assert_array_equal(got[normal], vexpf_nonpos(x[normal]))
    # subnormal, not flushed to 0, down to where exp rounds to 0 (-103.28)
    sub = (x < -87.5) & (x > -103.0)
    assert (got[sub] < np.finfo(np.float32).tiny).all() and (got[sub] > 0).all()


def test_float_nonpositive_exp_with_subnormals_special_values():
    x = np.array([-np.inf, 0.0, -0.0, -104.0, -104.5, -1e30, -103.27, -103.0,
                  np.float32(-87.0) - np.float32(0.5)], np.float32)
    got = vexpf_sub(x)
    np.testing.assert_array_equal(got[:6], [0.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    assert ulps32_sub(got[6:], np.exp(x[6:].astype(np.float64))).max() <= 1.0
    assert got[7] > 0
    assert_nan_in_every_lane(vexpf_sub, -103.0, 0.0, ulps32_sub)


vexpf = _elementwise(_categorical.expf_array, np.float32)


@pytest.mark.parametrize("lo, hi", [(-87.0, 87.0), (-1.0, 1.0), (0.0, 1e-3), (80.0, 87.0),
                                    (-87.0, -80.0)])
def test_float_exp_of_log_scales_within_one_ulp(lo, hi):
    """The float exp of float32 log scales (and of their negatives), on
    either side of 0, against exp in double of the same float32 inputs:
    within one ulp over [-87, 87], where every result is a normal float."""
    x = np.random.default_rng(4).uniform(lo, hi, 400_000).astype(np.float32)
    assert ulps32(vexpf(x), np.exp(x.astype(np.float64))).max() <= 1.0


def test_float_exp_special_values():
    """0 gives 1 exactly, the ends of the range are within an ulp, x beyond
    them is clamped to them (the exp of a validated log scale never gets
    there), and NaN propagates, in every lane position."""
    ends = np.array([-87.0, 87.0], np.float32)
    np.testing.assert_array_equal(vexpf(np.array([0.0, -0.0], np.float32)), [1.0, 1.0])
    assert ulps32(vexpf(ends), np.exp(ends.astype(np.float64))).max() <= 1.0
    np.testing.assert_array_equal(vexpf(np.array([-np.inf, -1e30, -88.0], np.float32)),
                                  vexpf(np.full(3, -87.0, np.float32)))
    np.testing.assert_array_equal(vexpf(np.array([np.inf, 1e30, 88.5], np.float32)),
                                  vexpf(np.full(3, 87.0, np.float32)))
    assert_nan_in_every_lane(vexpf, -5.0, 5.0, ulps32)


vlog = _elementwise(_categorical.log_array, np.float64)


def test_log_within_two_ulp_of_libm():
    rng = np.random.default_rng(1)
    x = np.exp(rng.uniform(-707, 709, 200_000))
    x = np.concatenate([x, 1 + rng.uniform(-1e-3, 1e-3, 50_000), [1.0, 2.0, 0.5,
                                                                   np.sqrt(0.5), np.sqrt(2.0)]])
    want = np.array([math.log(v) for v in x])
    got = vlog(x)
    assert got[-5] == 0.0
    assert ulps(got, want).max() <= 2.0


vlogf = _elementwise(_categorical.log_array, np.float32)


def test_float_log_within_one_ulp():
    """The float log (float32 scales) against log in double of the same
    float32 inputs: the whole normal range, around 1, subnormals."""
    rng = np.random.default_rng(4)
    x = np.concatenate([np.exp(rng.uniform(-87, 88, 400_000)), 1 + rng.uniform(-1e-2, 1e-2, 100_000),
                        rng.uniform(1e-45, 1.2e-38, 50_000),
                        [1.0, 2.0, 0.5, np.sqrt(0.5), np.sqrt(2.0), 3.4e38]]).astype(np.float32)
    want = np.log(x.astype(np.float64))
    got = vlogf(x)
    assert got[-6] == 0.0
    assert ulps32(got, want).max() <= 1.0


def test_counter_normals_are_standard_normal_and_regenerable():
    """The counter-based stream: draw j depends on (key, j) alone, so any
    block regenerates from its offset; the draws pass a KS test, and the
    quantile function matches scipy's ndtri in the far tails too."""
    stats = pytest.importorskip("scipy.stats")
    special = pytest.importorskip("scipy.special")
    z = np.empty(400_000)
    _categorical.normal_fill(12345, 0, z)
    block = np.empty(1000)
    _categorical.normal_fill(12345, 250_000, block)
    np.testing.assert_array_equal(block, z[250_000:251_000])
    assert stats.kstest(z, "norm").pvalue > 1e-3
    other = np.empty(1000)
    _categorical.normal_fill(12346, 0, other)
    assert not np.array_equal(other, z[:1000])
    assert np.isfinite(z).all() and np.abs(z).max() < 9.0
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)


def test_normal_quantile_matches_scipy():
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.random(100_000), 10.0 ** rng.uniform(-16, -1, 20_000),
                        [2.0**-53, 1 - 2.0**-53, 0.075, 0.925, 0.5, 0.0749999, 0.9250001,
                         np.exp(-25.0), np.exp(-25.0) * 1.0000001]])
    p = np.concatenate([p, 1 - p[100_000:120_000]])
    z = np.empty_like(p)
    _categorical.normal_quantile_array(p, z)
    want = special.ndtri(p)
    # AS 241 is accurate to about 1e-16 relative; allow a few ulp for the
    # vectorised log in the tails
    np.testing.assert_allclose(z, want, rtol=2e-15, atol=1e-300)
    assert np.all(z[p == 0.5] == 0.0)
    assert np.all(np.sign(z) == np.sign(p - 0.5))


# -- the float32 form of the counter stream ---------------------------------------
def _offsets32(key, n):
    """The float32 stream's offsets s for draws j < n (the low 32 bits of
    SplitMix64 output j // 2 for even j, its high 32 bits for odd j, less
    2^31), and each uniform's distance to the nearer end of (0, 1), k + 1/2
    for the integer k = min(s + 2^31, 2^31 - 1 - s), times 2^-32."""
    j = np.arange(n, dtype=np.uint64)
    out = splitmix64(key, j >> np.uint64(1))
    half = (out >> (np.uint64(32) * (j & np.uint64(1)))) & np.uint64(0xFFFFFFFF)
    s = half.astype(np.int64) - 2**31
    return s, np.where(s < 0, s + 2**31, 2**31 - 1 - s)


def _ppnd7(q, k_tail, dtype):
    """Wichura's AS 241 PPND7 in the given dtype: the central piece at
    q = u - 1/2, the tail piece at p = (k + 1/2) 2^-32 = min(u, 1 - u), with
    p, its log and its square root in dtype (float32: the kernel's float
    log, as the kernel takes it)."""
    f = np.dtype(dtype).type
    r = f(0.180625) - q * q
    num = ((f(59.109374720) * r + f(159.29113202)) * r + f(50.434271938)) * r + f(3.3871327179)
    den = ((f(67.187563600) * r + f(78.757757664)) * r + f(17.895169469)) * r + f(1.0)
    central = q * num / den
    p = (k_tail.astype(dtype) + f(0.5)) * f(2.0**-32)
    log_p = vlogf(p) if f is np.float32 else np.log(p)
    t = np.sqrt(-log_p) - f(1.6)
    num = ((f(0.17023821103) * t + f(1.3067284816)) * t + f(2.7568153900)) * t + f(1.4234372777)
    den = (f(0.12021132975) * t + f(0.73700164250)) * t + f(1.0)
    tail = np.where(q < 0, -(num / den), num / den)
    return np.where(np.abs(q) <= f(0.425), central, tail)


def test_float32_counter_normals_are_ppnd7_of_32_bit_halves():
    """Draw j of the float32 stream: s = (the low 32 bits of SplitMix64
    output j // 2 for even j, its high 32 bits for odd j) - 2^31, q = (s +
    1/2) 2^-32 in float32, and PPND7 in float32 arithmetic.
    Checked against that recipe in NumPy, bit for bit: the same float32
    operations, each rounded once, with the tail's log the kernel's float
    log (checked against the exact log in test_float_log_within_one_ulp)."""
    n, key = 400_000, 12345
    z = np.empty(n, np.float32)
    _categorical.normal_fill(key, 0, z)
    s, k_tail = _offsets32(key, n)
    q = (s.astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-32)
    want = _ppnd7(q, k_tail, np.float32)
    central = np.abs(q) <= np.float32(0.425)
    assert 0.1 < (~central).mean() < 0.2                # both pieces drawn
    np.testing.assert_array_equal(z, want)
    # a block regenerates from its offset, even or odd (starting at a high
    # half), as in the float64 stream
    for start in (250_000, 250_001):
        block = np.empty(1001, np.float32)
        _categorical.normal_fill(key, start, block)
        np.testing.assert_array_equal(block, z[start:start + 1001])


def test_float32_counter_normals_are_near_the_exact_quantile():
    """Against scipy's ndtri of the same uniform (s + 1/2) 2^-32 + 1/2: PPND7's
    own error (measured here, in double, on these uniforms; about 1e-7 as AS
    241 states) plus, for the float32 arithmetic, one rounding of at most
    2^-24 relative in each of the at most 18 operations from s to z (2 for
    q, 2 for r, 6 for each cubic, the product and the quotient; the tail
    piece has 17: 2 for p, its float log counted as 2, the square root, 1.6
    taken off, 6 and 4 for the polynomials, the quotient), to first order."""
    special = pytest.importorskip("scipy.special")
    stats = pytest.importorskip("scipy.stats")
    n, key = 1_000_000, 777
    z = np.empty(n, np.float32)
    _categorical.normal_fill(key, 0, z)
    s, k_tail = _offsets32(key, n)
    q = (s + 0.5) * 2.0**-32
    exact = special.ndtri(q + 0.5)
    ppnd7_error = np.abs(_ppnd7(q, k_tail, np.float64) / exact - 1).max()
    assert ppnd7_error < 2e-7
    rel = np.abs(z.astype(np.float64) / exact - 1)
    assert rel.max() <= ppnd7_error + 18 * 2.0**-24
    assert stats.kstest(z.astype(np.float64), "norm").pvalue > 1e-3
    assert abs(z.mean(dtype=np.float64)) < 5 / np.sqrt(n)


def test_float32_draws_of_one_output_are_independent():
    """Draws 2i and 2i + 1 of the float32 stream are the two halves of one
    SplitMix64 output: over 500,000 pairs their correlation, and that of
    their squares (a shared magnitude), are zero within 5 standard errors
    (1 / sqrt(n) for independent draws), as are those of draws 2i + 1 and
    2i + 2 (halves of consecutive outputs); and each half alone is normal
    (Kolmogorov-Smirnov)."""
    stats = pytest.importorskip("scipy.stats")
    n = 500_000
    z = np.empty(2 * n + 1, np.float32)
    _categorical.normal_fill(2024, 0, z)
    z = z.astype(np.float64)
    bound = 5 / np.sqrt(n)
    for a, b in ((z[0:-1:2], z[1::2]), (z[1::2], z[2::2])):
        assert abs(np.corrcoef(a, b)[0, 1]) < bound
        assert abs(np.corrcoef(a * a, b * b)[0, 1]) < bound
    for half in (z[0:-1:2], z[1::2]):
        assert stats.kstest(half, "norm").pvalue > 1e-3
