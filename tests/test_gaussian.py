"""Normal, DiagNormal and pathwise_grad: validation, sampling (bit for bit
against numpy's Generator, goodness of fit, antithetic pairs), formulas
against scipy.stats.norm, the NumPy oracle and finite differences, and
unbiasedness of the score-function and pathwise estimators against closed
forms within standard errors."""
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

import scorefast as sf
from scorefast import reference as ref

from conftest import assert_close

FAMILIES = {"Normal": (sf.Normal, ref.Normal), "DiagNormal": (sf.DiagNormal, ref.DiagNormal)}
PARAM_SHAPES = [(1,), (5,), (3, 4)]
SAMPLE_SHAPES = [(), (6,), (2, 3)]


@pytest.fixture(params=list(FAMILIES), ids=str)
def family(request):
    return request.param


def params(rng, shape, dtype):
    loc = rng.standard_normal(shape).astype(dtype)
    scale = (0.5 + rng.random(shape)).astype(dtype)
    return loc, scale


def make(rng, family, shape, dtype):
    loc, scale = params(rng, shape, dtype)
    cls, rcls = FAMILIES[family]
    return loc, scale, cls(loc, scale), rcls(loc, scale)


def event_sum(family, x):
    return x.sum(-1) if family == "DiagNormal" else x


def closed_log_prob(family, loc, scale, x):
    lp = stats.norm.logpdf(np.asarray(x, np.float64), np.asarray(loc, np.float64),
                           np.asarray(scale, np.float64))
    return event_sum(family, lp)


def closed_score(loc, scale, x):
    loc, scale = np.asarray(loc, np.float64), np.asarray(scale, np.float64)
    z = (np.asarray(x, np.float64) - loc) / scale
    return z / scale, z * z - 1


# -- validation ----------------------------------------------------------------------
@pytest.mark.parametrize("bad_scale", [0.0, -1.0, np.nan, np.inf], ids=str)
def test_bad_scale_is_rejected(family, dtype, bad_scale):
    cls = FAMILIES[family][0]
    with pytest.raises(ValueError, match="scale"):
        cls(np.zeros(3, dtype), np.array([1.0, bad_scale, 1.0], dtype))


@pytest.mark.parametrize("bad_loc", [np.nan, np.inf, -np.inf], ids=str)
def test_bad_loc_is_rejected(family, dtype, bad_loc):
    cls = FAMILIES[family][0]
    with pytest.raises(ValueError, match="loc"):
        cls(np.array([0.0, bad_loc], dtype), np.ones(2, dtype))


@pytest.mark.parametrize("loc_shape, scale_shape", [((3,), (2,)), ((2, 3), (3, 2)),
                                                    ((4, 2), (4,))], ids=str)
def test_shape_mismatch_is_rejected(family, loc_shape, scale_shape):
    cls = FAMILIES[family][0]
    with pytest.raises(ValueError):
        cls(np.zeros(loc_shape), np.ones(scale_shape))


def test_diag_normal_needs_an_event_axis():
    """Documented: loc and scale broadcast to at least one dimension. A scalar
    must not be silently read as an event of size 1."""
    for copy in (True, False):
        with pytest.raises(ValueError):
            sf.DiagNormal(0.0, 1.0, copy=copy)
        with pytest.raises(ValueError):
            sf.DiagNormal(np.float64(0.0), np.array(1.0), copy=copy)


@pytest.mark.parametrize("copy", [True, False])
def test_scalar_parameters_give_scalar_batch(dtype, copy):
    """Normal(0., 1.) has batch_shape () (as torch and the oracle), so its
    draws have shape sample_shape."""
    loc, scale = np.array(0.5, dtype), np.array(2.0, dtype)
    d = sf.Normal(loc, scale, copy=copy)
    r = ref.Normal(loc, scale)
    assert d.batch_shape == () and d.event_shape == ()
    x = d.sample(5, rng=0, method="numpy")
    assert x.shape == (5,)
    np.testing.assert_array_equal(x, r.sample(5, rng=0))
    assert d.sample(5, rng=0).shape == (5,)
    assert d.log_prob(x).shape == (5,)
    assert d.entropy().shape == ()
    g = sf.reinforce_grad(d, x, x ** 2, baseline="none")
    assert g[0].shape == () and g[1].shape == ()


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("loc_shape, scale_shape", [((2, 3), (3,)), ((3,), (2, 3)),
                                                    ((4, 2, 3), (2, 1)), ((2, 3), ())],
                         ids=str)
def test_parameters_broadcast_against_each_other(rng, family, dtype, copy, loc_shape,
                                                 scale_shape):
    """loc and scale of different but broadcastable shapes: the same
    distribution as with both broadcast explicitly."""
    cls = FAMILIES[family][0]
    loc = rng.standard_normal(loc_shape).astype(dtype)
    scale = (0.5 + rng.random(scale_shape)).astype(dtype)
    shape = np.broadcast_shapes(loc_shape, scale_shape)
    d = cls(loc, scale, copy=copy)
    full = cls(np.broadcast_to(loc, shape).copy(), np.broadcast_to(scale, shape).copy())
    np.testing.assert_array_equal(d.loc, full.loc)
    np.testing.assert_array_equal(d.scale, full.scale)
    x = d.sample(4, rng=1)
    np.testing.assert_array_equal(x, full.sample(4, rng=1))
    np.testing.assert_array_equal(d.sample(4, rng=1, method="numpy"),
                                  full.sample(4, rng=1, method="numpy"))
    np.testing.assert_array_equal(d.log_prob(x), full.log_prob(x))
    w = rng.standard_normal((4,) + full.batch_shape)
    for a, b in zip(d.weighted_score(x, w), full.weighted_score(x, w)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sample_shape", [(), (3,), (5, 2)], ids=str)
def test_antithetic_needs_even_leading_sample_dim(family, sample_shape):
    cls = FAMILIES[family][0]
    d = cls(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="antithetic"):
        d.sample(sample_shape, rng=0, antithetic=True)


def test_dtype_promotion():
    f32 = np.ones(3, np.float32)
    assert sf.Normal(f32, f32).dtype == np.float32
    assert sf.Normal(f32, 2.0).dtype == np.float32
    assert sf.Normal(f32, np.ones(3)).dtype == np.float64
    assert sf.Normal([0.0, 1.0], 1.0).dtype == np.float64


def test_loc_and_scale_broadcast(family):
    cls = FAMILIES[family][0]
    d = cls(np.zeros((3, 4)), 2.0)
    assert d.loc.shape == d.scale.shape == (3, 4)
    np.testing.assert_array_equal(d.scale, np.full((3, 4), 2.0))
    assert d.batch_shape == ((3, 4) if family == "Normal" else (3,))
    assert d.event_shape == (() if family == "Normal" else (4,))


# -- sampling -------------------------------------------------------------------------
@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3), (0,)], ids=str)
@pytest.mark.parametrize("shape", PARAM_SHAPES, ids=str)
def test_sample_is_loc_plus_scale_times_standard_normal(rng, family, dtype, shape,
                                                        sample_shape):
    """method="numpy", bit for bit: loc + scale * rng.standard_normal(sample_shape + shape, dtype)."""
    loc, scale, d, r = make(rng, family, shape, dtype)
    x = d.sample(sample_shape, rng=42, method="numpy")
    assert x.shape == sample_shape + shape and x.dtype == dtype
    eps = np.random.default_rng(42).standard_normal(sample_shape + shape, dtype=dtype)
    np.testing.assert_array_equal(x, loc + scale * eps)
    np.testing.assert_array_equal(x, r.sample(sample_shape, rng=42))
    if dtype == np.float64:  # the documented form, without a dtype argument
        np.testing.assert_array_equal(
            x, loc + scale * np.random.default_rng(42).standard_normal(sample_shape + shape))


def test_sample_bit_for_bit_on_many_draws(rng, dtype):
    loc, scale, d, _ = make(rng, "DiagNormal", (16, 8), dtype)
    x = d.sample(500, rng=7, method="numpy")
    eps = np.random.default_rng(7).standard_normal((500, 16, 8), dtype=dtype)
    np.testing.assert_array_equal(x, loc + scale * eps)


@pytest.mark.parametrize("method", ["fast", "numpy"])
def test_same_seed_same_draws_and_generator_advances(rng, family, dtype, method):
    _, _, d, _ = make(rng, family, (3, 4), dtype)
    a = d.sample(10, rng=5, method=method)
    np.testing.assert_array_equal(a, d.sample(10, rng=5, method=method))
    assert not np.array_equal(a, d.sample(10, rng=6, method=method))
    g = np.random.default_rng(5)
    b1, b2 = d.sample(4, rng=g, method=method), d.sample(6, rng=g, method=method)
    assert not np.array_equal(b1, b2[:4])            # the Generator was advanced
    if method == "numpy":                            # numpy's stream, continued
        np.testing.assert_array_equal(np.concatenate([b1, b2]), a)


def test_fast_method_draws_one_key_from_the_generator(rng, family, dtype):
    """method="fast" advances the Generator by exactly one 64-bit draw, and
    its draws are a function of that key alone."""
    _, _, d, _ = make(rng, family, (3, 4), dtype)
    g1, g2 = np.random.default_rng(21), np.random.default_rng(21)
    d.sample(50, rng=g1)
    g2.bit_generator.random_raw()
    assert g1.bit_generator.state == g2.bit_generator.state


@pytest.mark.parametrize("method", ["fast", "numpy"])
def test_sample_goodness_of_fit(rng, family, dtype, method):
    """Kolmogorov-Smirnov of the standardised draws against N(0, 1)."""
    loc, scale, d, _ = make(rng, family, (3, 4), dtype)
    x = d.sample(2000, rng=11, method=method)
    z = ((x.astype(np.float64) - loc) / scale).ravel()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # and per parameter element (each has its own loc and scale)
    for i in range(3):
        for j in range(4):
            zi = (x[:, i, j].astype(np.float64) - loc[i, j]) / scale[i, j]
            assert stats.kstest(zi, "norm").pvalue > 1e-4


@pytest.mark.parametrize("method", ["fast", "numpy"])
@pytest.mark.parametrize("sample_shape", [(2,), (10,), (4, 3)], ids=str)
def test_antithetic_pairs(rng, family, dtype, sample_shape, method):
    loc, scale, d, r = make(rng, family, (3, 4), dtype)
    x = d.sample(sample_shape, rng=13, antithetic=True, method=method)
    assert x.shape == sample_shape + (3, 4) and x.dtype == dtype
    h = sample_shape[0] // 2
    if method == "numpy":
        eps = np.random.default_rng(13).standard_normal((h,) + x.shape[1:], dtype=dtype)
        # exact: the two halves are loc + scale * eps and loc - scale * eps
        np.testing.assert_array_equal(x[:h], loc + scale * eps)
        np.testing.assert_array_equal(x[h:], loc - scale * eps)
        np.testing.assert_array_equal(x, r.sample(sample_shape, rng=13, antithetic=True))
    # mirrored around loc: each half's offset from loc is the other's negated,
    # and each pair's mean is loc, up to the one rounding of loc +- scale * eps
    # to the dtype (half an ulp of each x); checked in exact rational arithmetic
    x1, x2 = x[:h].reshape(h, -1), x[h:].reshape(h, -1)
    ulp1, ulp2 = np.spacing(np.abs(x1)), np.spacing(np.abs(x2))
    for s_ in range(h):
        for j, l in enumerate(loc.ravel()):
            a = Fraction(float(x1[s_, j])) - Fraction(float(l))
            b = Fraction(float(x2[s_, j])) - Fraction(float(l))
            bound = (Fraction(float(ulp1[s_, j])) + Fraction(float(ulp2[s_, j]))) / 2
            assert abs(a + b) <= bound                # x1 - loc == -(x2 - loc)
            assert abs((a + b) / 2) <= bound / 2      # (x1 + x2) / 2 == loc


def test_antithetic_pairs_mirror_exactly_around_zero_loc(dtype):
    d = sf.DiagNormal(np.zeros((2, 3), dtype), np.array([0.5, 1.0, 3.0], dtype))
    for method in ("fast", "numpy"):
        x = d.sample(8, rng=3, antithetic=True, method=method)
        np.testing.assert_array_equal(x[:4], -x[4:])
    x = d.sample(8, rng=3, antithetic=True)
    np.testing.assert_array_equal(x[:4], -x[4:])
    np.testing.assert_array_equal(x[:4] + x[4:], 0.0)


# -- formulas ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", PARAM_SHAPES, ids=str)
class TestFormulas:
    def test_properties(self, rng, family, dtype, shape):
        loc, scale, d, _ = make(rng, family, shape, dtype)
        np.testing.assert_array_equal(d.mean, loc)
        np.testing.assert_array_equal(d.stddev, scale)
        assert_close(d.variance, scale.astype(np.float64) ** 2, dtype)
        assert not d.loc.flags.writeable and not d.scale.flags.writeable

    def test_entropy(self, rng, family, dtype, shape):
        loc, scale, d, r = make(rng, family, shape, dtype)
        h = d.entropy()
        assert h.shape == d.batch_shape and h.dtype == dtype
        expected = event_sum(family, stats.norm.entropy(loc.astype(np.float64),
                                                        scale.astype(np.float64)))
        assert_close(h, expected, dtype, scale=shape[-1])
        assert_close(h, r.entropy(), dtype, scale=shape[-1])

    @pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
    def test_log_prob(self, rng, family, dtype, shape, sample_shape):
        loc, scale, d, r = make(rng, family, shape, dtype)
        x = d.sample(sample_shape, rng=1)
        lp = d.log_prob(x)
        assert lp.shape == sample_shape + d.batch_shape and lp.dtype == dtype
        expected = closed_log_prob(family, loc, scale, x)
        s = shape[-1] * 10
        assert_close(lp, expected, dtype, scale=s)
        assert_close(lp, r.log_prob(x), dtype, scale=s)

    @pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
    def test_score(self, rng, family, dtype, shape, sample_shape):
        loc, scale, d, r = make(rng, family, shape, dtype)
        x = d.sample(sample_shape, rng=2)
        s_loc, s_ls = d.score(x)
        for s in (s_loc, s_ls):
            assert s.shape == x.shape and s.dtype == dtype
        e_loc, e_ls = closed_score(loc, scale, x)
        assert_close(s_loc, e_loc, dtype, scale=10)
        assert_close(s_ls, e_ls, dtype, scale=10)
        r_loc, r_ls = r.score(x)
        assert_close(s_loc, r_loc, dtype, scale=10)
        assert_close(s_ls, r_ls, dtype, scale=10)

    @pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
    def test_weighted_score(self, rng, family, dtype, shape, sample_shape):
        loc, scale, d, r = make(rng, family, shape, dtype)
        x = d.sample(sample_shape, rng=3)
        w = rng.standard_normal(sample_shape + d.batch_shape).astype(dtype)
        g_loc, g_ls = d.weighted_score(x, w)
        for g in (g_loc, g_ls):
            assert g.shape == shape and g.dtype == dtype
        wx = w.astype(np.float64)
        if family == "DiagNormal":
            wx = wx[..., None]
        axes = tuple(range(len(sample_shape)))
        e_loc, e_ls = closed_score(loc, scale, x)
        sc = 10 * max(1.0, float(np.abs(w).sum()))
        assert_close(g_loc, (wx * e_loc).sum(axes), dtype, scale=sc)
        assert_close(g_ls, (wx * e_ls).sum(axes), dtype, scale=sc)
        r_loc, r_ls = r.weighted_score(x, w)
        assert_close(g_loc, r_loc, dtype, scale=sc)
        assert_close(g_ls, r_ls, dtype, scale=sc)


@pytest.mark.parametrize("shape", [(5,), (3, 4)], ids=str)
def test_score_is_the_derivative_of_log_prob(rng, family, dtype, shape):
    """Central differences of log_prob (float64) with respect to each
    coordinate of loc and of log(scale) (the other coordinates fixed)."""
    loc, scale, d, _ = make(rng, family, shape, dtype)
    x = d.sample(4, rng=9)
    s_loc, s_ls = d.score(x)
    cls = FAMILIES[family][0]
    L, Sc, X = loc.astype(np.float64), scale.astype(np.float64), x.astype(np.float64)
    h = 1e-5
    fd_loc = np.empty(X.shape)
    fd_ls = np.empty(X.shape)
    for idx in np.ndindex(shape):
        e = np.zeros(shape)
        e[idx] = h
        dl = (cls(L + e, Sc).log_prob(X) - cls(L - e, Sc).log_prob(X)) / (2 * h)
        ds = (cls(L, Sc * np.exp(e)).log_prob(X) - cls(L, Sc * np.exp(-e)).log_prob(X)) / (2 * h)
        if family == "DiagNormal":  # log_prob sums over the event: pick the coordinate's term
            fd_loc[(slice(None),) + idx] = dl[(slice(None),) + idx[:-1]]
            fd_ls[(slice(None),) + idx] = ds[(slice(None),) + idx[:-1]]
        else:
            fd_loc[(slice(None),) + idx] = dl[(slice(None),) + idx]
            fd_ls[(slice(None),) + idx] = ds[(slice(None),) + idx]
    # truncation error O(h^2 |f'''|) ~ 1e-9 and cancellation ~ eps |log p| / h ~ 1e-10
    fd_tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s_loc, fd_loc, **fd_tol)
    np.testing.assert_allclose(s_ls, fd_ls, **fd_tol)


@pytest.mark.parametrize("w_shape", ["full", "row"], ids=str)
def test_normal_weighted_score_row_weights(rng, dtype, w_shape):
    loc, scale, d, _ = make(rng, "Normal", (3, 4), dtype)
    x = d.sample(6, rng=4)
    w = rng.standard_normal((6, 3, 4) if w_shape == "full" else (6, 3, 1)).astype(dtype)
    g_loc, g_ls = d.weighted_score(x, w)
    e_loc, e_ls = closed_score(loc, scale, x)
    sc = 10 * float(np.abs(np.broadcast_to(w, x.shape)).sum())
    assert_close(g_loc, (w * e_loc).sum(0), dtype, scale=sc)
    assert_close(g_ls, (w * e_ls).sum(0), dtype, scale=sc)


@pytest.mark.parametrize("kind, w_shape", [("Normal", (2, 300, 16)), ("Normal", (2, 300, 1)),
                                           ("DiagNormal", (2, 300))], ids=str)
def test_one_sample_weighted_score_is_the_general_path(rng, kind, dtype, w_shape):
    """One sample (a policy's batch of states, one action each) takes the
    kernel's single-term path: bit for bit what the sums over samples give
    for that sample followed by one of weight zero, and the closed form."""
    loc, scale, d, _ = make(rng, kind, (300, 16), dtype)
    x = d.sample(2, rng=6)
    w = rng.standard_normal(w_shape).astype(dtype)
    w[1] = 0
    one = d.weighted_score(x[:1], w[:1])
    two = d.weighted_score(x, w)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    e_loc, e_ls = closed_score(loc, scale, x[:1])
    w1 = w[:1, :, None] if kind == "DiagNormal" else w[:1]
    sc = 10 * float(np.abs(np.broadcast_to(w1, x[:1].shape)).sum())
    assert_close(one[0], (w1 * e_loc).sum(0), dtype, scale=sc)
    assert_close(one[1], (w1 * e_ls).sum(0), dtype, scale=sc)


def test_weighted_score_out_accumulates(rng, family, dtype):
    loc, scale, d, _ = make(rng, family, (3, 4), dtype)
    x = d.sample(7, rng=5)
    w = rng.standard_normal((7,) + d.batch_shape)
    sc = 10 * float(np.abs(w).sum())
    once = d.weighted_score(x, w)
    out = (np.zeros((3, 4), dtype), np.zeros((3, 4), dtype))
    res = d.weighted_score(x, w, out=out)
    assert res[0] is out[0] and res[1] is out[1]
    np.testing.assert_array_equal(out[0], once[0])
    np.testing.assert_array_equal(out[1], once[1])
    d.weighted_score(x, w, out=out)
    start = (rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype))
    out2 = (start[0].copy(), start[1].copy())
    d.weighted_score(x, w, out=out2)
    for k in range(2):
        assert_close(out[k], 2 * once[k].astype(np.float64), dtype, scale=sc)
        assert_close(out2[k], start[k].astype(np.float64) + once[k], dtype, scale=sc)
    with pytest.raises(TypeError):
        d.weighted_score(x, w, out=np.zeros((3, 4), dtype))


# -- estimators against the oracle -----------------------------------------------------
@pytest.mark.parametrize("baseline", ["none", "mean", "loo", "group", "optimal", 0.5], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reinforce_grad_matches_reference(rng, family, dtype, baseline, reduction):
    loc, scale, d, r = make(rng, family, (3, 4), dtype)
    x = d.sample(8, rng=6)
    f = rng.standard_normal((8,) + d.batch_shape).astype(dtype)
    g = sf.reinforce_grad(d, x, f, baseline=baseline, reduction=reduction)
    e = ref.reinforce_grad(r, x, f, baseline=baseline, reduction=reduction)
    sc = 10 * max(1.0, float(np.abs(f).sum()))
    for k in range(2):
        assert g[k].shape == (3, 4) and g[k].dtype == dtype
        assert_close(g[k], e[k], dtype, scale=sc)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_pathwise_grad_matches_reference(rng, family, dtype, reduction):
    loc, scale, d, r = make(rng, family, (3, 4), dtype)
    x = d.sample((5, 2), rng=8)
    gf = rng.standard_normal(x.shape).astype(dtype)
    g = sf.pathwise_grad(d, x, gf, reduction=reduction)
    e = ref.pathwise_grad(r, x, gf, reduction=reduction)
    axes = (0, 1)
    n = 10 * np.prod(d.batch_shape) if reduction == "mean" else 1
    closed = (gf.astype(np.float64).sum(axes) / n,
              (gf.astype(np.float64) * (x.astype(np.float64) - loc)).sum(axes) / n)
    sc = 10 * float(np.abs(gf).sum())
    for k in range(2):
        assert g[k].shape == (3, 4) and g[k].dtype == dtype
        assert_close(g[k], e[k], dtype, scale=sc)
        assert_close(g[k], closed[k], dtype, scale=sc)


def test_pathwise_grad_rejects_bad_arguments(rng):
    _, _, d, _ = make(rng, "Normal", (3,), np.float64)
    x = d.sample(4, rng=0)
    with pytest.raises(ValueError):
        sf.pathwise_grad(d, x, np.zeros((4, 2)))
    with pytest.raises(ValueError):
        sf.pathwise_grad(d, x, np.zeros(x.shape), reduction="max")
    with pytest.raises(TypeError):
        sf.pathwise_grad(sf.Bernoulli(np.zeros(3)), np.zeros((4, 3)), np.zeros((4, 3)))


# -- unbiasedness against closed forms ----------------------------------------------------
# z ~ N(mu, sigma^2), f(z) = (z - c)^2: E f = (mu - c)^2 + sigma^2, so
# d/dmu E f = 2 (mu - c) and d/dlog(sigma) E f = sigma d/dsigma E f = 2 sigma^2.
# M independent S-sample estimates come from one call on a batch of M tiled
# parameter copies (baselines are computed per batch element), reduction="sum"
# divided by S; their mean must lie within 5 standard errors (estimated from
# the M estimates) of the closed form.
S, M = 4, 20_000
N_SE = 5.0
UNBIASED = ["none", "loo", "optimal", 1.0]


def check_within_se(est, target, what):
    est = np.asarray(est, dtype=np.float64)
    mean = est.mean(0)
    se = est.std(0, ddof=1) / np.sqrt(est.shape[0])
    assert np.all(se > 0), what
    z = np.abs(mean - target) / se
    assert np.all(z < N_SE), f"{what}: max |z| = {np.max(z):.2f}, mean {mean}, target {target}"


def normal_batch(mu, sigma, dtype, m=M):
    return sf.Normal(np.full(m, mu, dtype), np.full(m, sigma, dtype))


def exact_params(mu, sigma, dtype):
    """The parameters as the dtype holds them, in float64."""
    return float(np.asarray(mu, dtype)), float(np.asarray(sigma, dtype))


MU, SIGMA, C = 0.7, 1.3, -0.4


@pytest.mark.parametrize("baseline", UNBIASED, ids=str)
def test_normal_reinforce_is_unbiased(dtype, baseline):
    d = normal_batch(MU, SIGMA, dtype)
    z = d.sample(S, rng=101)                                       # (S, M)
    f = (z - dtype(C)) ** 2
    g_loc, g_ls = sf.reinforce_grad(d, z, f, baseline=baseline, reduction="sum")
    assert g_loc.shape == (M,) and g_loc.dtype == dtype
    mu, sigma = exact_params(MU, SIGMA, dtype)
    check_within_se(g_loc / S, 2 * (mu - C), f"d/dmu, baseline {baseline!r}")
    check_within_se(g_ls / S, 2 * sigma ** 2, f"d/dlog sigma, baseline {baseline!r}")


def test_normal_pathwise_is_unbiased(dtype):
    d = normal_batch(MU, SIGMA, dtype)
    z = d.sample(S, rng=102)
    g_loc, g_ls = sf.pathwise_grad(d, z, 2 * (z - dtype(C)), reduction="sum")
    mu, sigma = exact_params(MU, SIGMA, dtype)
    check_within_se(g_loc / S, 2 * (mu - C), "pathwise d/dmu")
    check_within_se(g_ls / S, 2 * sigma ** 2, "pathwise d/dlog sigma")


def test_unbiasedness_test_detects_bias(dtype):
    """Power check: the 'mean' baseline's (S-1)/S shrinkage is rejected."""
    d = normal_batch(MU, SIGMA, dtype)
    z = d.sample(S, rng=103)
    g_loc, _ = sf.reinforce_grad(d, z, (z - dtype(C)) ** 2, baseline="mean", reduction="sum")
    est = g_loc.astype(np.float64) / S
    mu, _ = exact_params(MU, SIGMA, dtype)
    se = est.std(ddof=1) / np.sqrt(M)
    assert abs(est.mean() - 2 * (mu - C)) / se > N_SE
    check_within_se(est, (S - 1) / S * 2 * (mu - C), "'mean' scaled by (S-1)/S")


DIAG_MU = np.array([0.5, -1.0, 0.0, 2.0, -0.3])
DIAG_SIGMA = np.array([1.0, 0.5, 2.0, 0.8, 1.5])
DIAG_C = np.array([0.0, 1.0, -1.0, 1.5, 0.2])
M_DIAG = 10_000


def diag_batch(dtype):
    return sf.DiagNormal(np.broadcast_to(DIAG_MU.astype(dtype), (M_DIAG, 5)),
                         np.broadcast_to(DIAG_SIGMA.astype(dtype), (M_DIAG, 5)))


@pytest.mark.parametrize("baseline", UNBIASED, ids=str)
def test_diag_normal_reinforce_is_unbiased(dtype, baseline):
    """f(z) = sum_d (z_d - c_d)^2, one reward per 5-dimensional draw."""
    d = diag_batch(dtype)
    z = d.sample(S, rng=111)                                       # (S, M, 5)
    f = ((z - DIAG_C.astype(dtype)) ** 2).sum(-1)                  # (S, M)
    g_loc, g_ls = sf.reinforce_grad(d, z, f, baseline=baseline, reduction="sum")
    assert g_loc.shape == (M_DIAG, 5) and g_ls.dtype == dtype
    mu = DIAG_MU.astype(dtype).astype(np.float64)
    sigma = DIAG_SIGMA.astype(dtype).astype(np.float64)
    check_within_se(g_loc / S, 2 * (mu - DIAG_C), f"d/dmu, baseline {baseline!r}")
    check_within_se(g_ls / S, 2 * sigma ** 2, f"d/dlog sigma, baseline {baseline!r}")


def test_diag_normal_pathwise_is_unbiased(dtype):
    d = diag_batch(dtype)
    z = d.sample(S, rng=112)
    g_loc, g_ls = sf.pathwise_grad(d, z, 2 * (z - DIAG_C.astype(dtype)), reduction="sum")
    mu = DIAG_MU.astype(dtype).astype(np.float64)
    sigma = DIAG_SIGMA.astype(dtype).astype(np.float64)
    check_within_se(g_loc / S, 2 * (mu - DIAG_C), "pathwise d/dmu")
    check_within_se(g_ls / S, 2 * sigma ** 2, "pathwise d/dlog sigma")


@pytest.mark.parametrize("D", [1, 3, 700])
@pytest.mark.parametrize("antithetic", [False, True])
def test_fast_sampler_in_chunks_of_rows(D, antithetic):
    """The fast sampler works through a sample's rows in chunks (about 512
    draws, whole rows): with row counts that do not divide into chunks, the
    log-densities are those of log_prob, mirrored pairs are exact, and the
    draws are the same bits for 1 and 2 threads and for one sample drawn
    alone (a draw depends only on its index)."""
    rng = np.random.default_rng(D)
    M = 1001
    loc = rng.normal(size=(M, D))
    scale = rng.uniform(0.5, 2.0, size=(M, D))
    d = sf.DiagNormal(loc, scale)
    prev = sf.set_num_threads(1)
    try:
        x1, lp1 = d.sample_and_log_prob(4, rng=9, antithetic=antithetic)
        sf.set_num_threads(2)
        x2, lp2 = d.sample_and_log_prob(4, rng=9, antithetic=antithetic)
    finally:
        sf.set_num_threads(prev)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(lp1, lp2)
    np.testing.assert_allclose(lp1, d.log_prob(x1), rtol=1e-12, atol=1e-9 * D)
    if antithetic:
        np.testing.assert_allclose(x1[:2] + x1[2:], np.broadcast_to(2 * loc, (2, M, D)),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(lp1[:2], lp1[2:])
    else:
        # the first sample's draws do not depend on how many samples follow
        x_one = d.sample(1, rng=9)
        np.testing.assert_array_equal(x_one[0], x1[0])


@pytest.mark.parametrize("shape", [(1, 5000), (37, 3), (1, 1)])
def test_fast_sampler_draws_the_counter_stream(shape, dtype):
    """The fast sampler evaluates the quantile's tail only where needed; its
    standard normals are still, bit for bit, draws 0, 1, 2, ... of the
    counter stream keyed by one raw draw of the Generator (what
    sf_counter_normal gives for each index, or sf_counter_normal_f, the
    float32 stream, for float32 parameters), central and tail alike."""
    from scorefast import _categorical
    d = sf.DiagNormal(np.zeros(shape, dtype), np.ones(shape, dtype))
    x = d.sample(3, rng=np.random.default_rng(21))
    key = int(np.random.default_rng(21).bit_generator.random_raw())
    z = np.empty(x.size, dtype)
    _categorical.normal_fill(key, 0, z)
    np.testing.assert_array_equal(x.ravel(), z)
    assert (np.abs(z) > 1.44).mean() > 0.1 or z.size < 100     # tails were drawn


@pytest.mark.parametrize("portable", [False, True], ids=["this-cpu", "portable"])
def test_the_tail_draws_are_listed_in_order(portable):
    """The sampler lists the draws that need the quantile's tail piece (their
    marks are 1) as np.flatnonzero does, by each of its two ways (AVX-512
    compression where the CPU has it, 64-mark words on any CPU), at every
    length around its blocks of 16 marks and words of 64 and at densities
    from none to all."""
    from scorefast import _gaussian
    rng = np.random.default_rng(31)
    for n in list(range(70)) + [127, 128, 129, 511, 512, 513, 1000]:
        for density in (0.0, 0.15, 0.5, 1.0):
            marks = (rng.random(n) < density).astype(np.uint8)
            np.testing.assert_array_equal(_gaussian.marked_indices(marks, portable),
                                          np.flatnonzero(marks))
