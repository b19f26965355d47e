"""Numerical range: logits of +-1e300 (float64) and +-1e30 (float32),
all-equal logits, one dominant class, masked classes, K up to 1e6, and
Gaussian scales from 1e-300 to 1e300.  Every output stays finite where the
exact answer is, and agrees with an oracle computed in higher precision
(mpmath at 60 digits, or np.longdouble with math.fsum for K = 1e6)."""
import math

import mpmath
import numpy as np
import pytest

import scorefast as sf
from scorefast import reference as ref

mpmath.mp.dps = 60

# relative accuracy asked of each output dtype, in units of its epsilon
ULPS = 64


def rtol(dtype):
    return ULPS * float(np.finfo(dtype).eps)


# -- oracles in high precision -------------------------------------------------------------
def mp_log_softmax(row):
    """log p_k of one row of logits (floats, -inf allowed) as mpmath numbers,
    as (x - max) - log sum exp(x - max): max + log sum would round the sum
    away at |logits| of 1e300 even with 60 digits."""
    xs = [mpmath.mpf(float(x)) if np.isfinite(x) else None for x in row]
    m = max(x for x in xs if x is not None)
    c = mpmath.log(mpmath.fsum(mpmath.exp(x - m) for x in xs if x is not None))
    return [(x - m) - c if x is not None else None for x in xs]


def oracle_grad(logits, x, r, baseline):
    """reinforce_grad of scorefast.reference, fed logits shifted by their row
    maxima (the same distribution): the reference forms log p = l - lse, which
    loses every digit of log p at |logits| >> 1e16 (for four equal logits of
    1e300 it returns probabilities of 1)."""
    l = np.asarray(logits, dtype=np.float64)
    m = np.max(np.where(np.isfinite(l), l, -np.inf), axis=-1, keepdims=True)
    return ref.reinforce_grad(ref.Categorical(l - m), x, r, baseline=baseline)


def mp_entropy(row):
    h = mpmath.mpf(0)
    for lp in mp_log_softmax(row):
        if lp is not None:
            h -= mpmath.exp(lp) * lp
    return h


def assert_rel(actual, exact, dtype, what, floor=1.0):
    """|actual - exact| <= rtol * max(|exact|, floor), with exact an mpf (or
    None for -inf)."""
    actual = float(actual)
    if exact is None:
        assert actual == -math.inf, f"{what}: {actual} for a masked class"
        return
    assert math.isfinite(actual), f"{what}: {actual}"
    err = abs(mpmath.mpf(actual) - exact)
    assert err <= rtol(dtype) * max(abs(exact), floor), \
        f"{what}: {actual!r} vs exact {mpmath.nstr(exact, 20)}"


# -- Categorical over the whole range ----------------------------------------------------------
def _rows(big):
    """Rows of logits that stress the normaliser, with -inf as the mask."""
    inf = math.inf
    return {
        "+-big": [big, -big, 0.0, 1.0],
        "two-big": [big, big, -big, -big],
        "all-minus-big": [-big, -big, -big, -big],
        "all-equal": [3.0, 3.0, 3.0, 3.0],
        "all-equal-big": [big, big, big, big],
        "dominant": [50.0, 0.0, -1.0, 2.0],
        "dominant-big": [big, big / 2, big / 4, 0.0],
        "close-big": [big, big * (1 - 2 ** -40), big * (1 - 2 ** -20), -big],
        "masked": [0.0, -inf, 1.0, -inf],
        "masked-big": [-big, -inf, -big, big],
        "one-left": [-inf, -inf, -big, -inf],
        "tiny-diffs": [1e-300, -1e-300, 0.0, 5e-324],
    }


BIG = {np.float64: 1e300, np.float32: 1e30}
ROW_NAMES = list(_rows(1.0))


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def fdtype(request):
    return request.param


@pytest.mark.parametrize("name", ROW_NAMES)
def test_categorical_extreme_logits(fdtype, name):
    row = np.array(_rows(BIG[fdtype])[name], dtype=fdtype)
    logits = np.stack([row, row[::-1]])            # two rows, masks in different places
    d = sf.Categorical(logits)
    exact = [mp_log_softmax(r) for r in logits]
    K = logits.shape[1]
    # log_prob of every class, entropy and probabilities against mpmath
    lp = d.log_prob(np.arange(K)[:, None])        # (K, 2)
    for i in range(2):
        for k in range(K):
            assert_rel(lp[k, i], exact[i][k], fdtype, f"log_prob row {i} class {k}")
        assert_rel(d.entropy()[i], mp_entropy(logits[i]), fdtype, f"entropy row {i}")
        for k in range(K):
            e = mpmath.exp(exact[i][k]) if exact[i][k] is not None else mpmath.mpf(0)
            assert abs(float(d.probs[i, k]) - e) <= rtol(fdtype) * max(e, 1e-300) + 1e-300 \
                or (e < np.finfo(fdtype).tiny and d.probs[i, k] < 2 * np.finfo(fdtype).tiny)
    masked = ~np.isfinite(logits)
    # sampling: never a masked or zero-probability class; frequencies match
    p = np.array([[float(mpmath.exp(x)) if x is not None else 0.0 for x in r] for r in exact])
    n = 20000
    x, lpx = d.sample_and_log_prob(n, rng=1)
    assert (x >= 0).all() and (x < K).all()
    assert not masked[np.arange(2), x].any()
    assert (p[np.arange(2), x] > 0).all()
    np.testing.assert_array_equal(lpx, d.log_prob(x))
    for i in range(2):
        freq = np.bincount(x[:, i], minlength=K) / n
        assert np.all(np.abs(freq - p[i]) <= 5 * np.sqrt(p[i] * (1 - p[i]) / n) + 1e-12)
    # scores and gradients: finite, exactly zero on masked classes, and what
    # the float64 oracle computes from the same draws
    s = d.score(x[:50])
    assert np.isfinite(s).all()
    assert (s[:, masked] == 0).all()
    r = np.random.default_rng(2).standard_normal((50, 2)).astype(fdtype)
    for baseline in ("none", "mean", "loo", "group", "optimal", 0.5):
        g = sf.reinforce_grad(d, x[:50], r, baseline=baseline)
        assert g.dtype == fdtype and np.isfinite(g).all(), baseline
        assert (g[masked] == 0).all(), baseline
        expected = oracle_grad(logits, x[:50], r.astype(np.float64), baseline)
        np.testing.assert_allclose(g, expected, rtol=rtol(fdtype), atol=rtol(fdtype),
                                   err_msg=str(baseline))
    ws = d.weighted_score(x[:50], r)
    assert (ws[masked] == 0).all() and np.isfinite(ws).all()


def test_categorical_one_class():
    d = sf.Categorical(np.array([[7.0], [-1e300]]))
    assert (d.sample(100, rng=0) == 0).all()
    np.testing.assert_array_equal(d.log_prob(np.zeros(2, int)), 0.0)
    np.testing.assert_array_equal(d.entropy(), 0.0)
    np.testing.assert_array_equal(sf.reinforce_grad(d, np.zeros((4, 2), int), np.ones((4, 2))), 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_categorical_a_million_classes(dtype):
    """K = 1e6: the normaliser, entropy, sampling and gradients against a
    long-double oracle summed with math.fsum."""
    K = 10 ** 6
    rng = np.random.default_rng(11)
    row = (4.0 * rng.standard_normal(K)).astype(dtype)
    row[rng.choice(K, K // 10, replace=False)] = -np.inf      # 10% of the actions masked
    row[12345] = 40.0                                          # and one dominant class
    logits = np.stack([row, np.full(K, 1.5, dtype)])
    d = sf.Categorical(logits)
    ld = row.astype(np.longdouble)
    finite = np.isfinite(ld)
    m = ld[finite].max()
    w = np.exp(ld[finite] - m)
    lse = m + np.log(np.longdouble(math.fsum(w.astype(np.float64))))
    np.testing.assert_allclose(d.log_normalizer(), [float(lse), 1.5 + math.log(K)], rtol=1e-14)
    logp = ld[finite] - lse
    exact_h = -float(np.sum(np.exp(logp) * logp))
    # a sum of 1e6 terms in double: rounding grows with K
    np.testing.assert_allclose(d.entropy(), [exact_h, math.log(K)],
                               rtol=max(rtol(dtype), 1e-10), atol=max(rtol(dtype), 1e-12))
    probs = d.probs
    assert (probs[0][~finite] == 0).all()
    np.testing.assert_allclose(probs.sum(axis=1, dtype=np.float64), 1.0, rtol=K * np.finfo(dtype).eps)
    x = d.sample(2000, rng=3)
    assert np.isfinite(row[x[:, 0]]).all()
    np.testing.assert_allclose(np.mean(x[:, 0] == 12345), float(np.exp(logp[np.flatnonzero(finite) == 12345][0])), atol=0.05)
    lp = d.log_prob(x[:5])
    # the log-sum of 1e6 terms carries an absolute rounding of ~1e-14
    np.testing.assert_allclose(lp[:, 0], (ld[x[:5, 0]] - lse).astype(np.float64),
                               rtol=rtol(dtype), atol=max(rtol(dtype), 1e-12))
    r = rng.standard_normal((2000, 2)).astype(dtype)
    g = sf.reinforce_grad(d, x, r, baseline="loo")
    assert g.shape == (2, K) and np.isfinite(g).all()
    assert (g[0][~finite] == 0).all()
    # the oracle: sum_s a_s (onehot(x_s) - p) with a the loo advantages and p
    # from the float64 probabilities (the scores are never materialised)
    a = ref.advantages(r.astype(np.float64), "loo") / r.size
    p = np.exp(logits.astype(np.float64) - d.log_normalizer()[:, None])
    expected = -a.sum(0)[:, None] * p
    for i in range(2):
        np.add.at(expected[i], x[:, i], a[:, i])
    # rounding relative to the size of the terms summed, sum_s |a_s|
    np.testing.assert_allclose(g, expected, rtol=rtol(dtype),
                               atol=rtol(dtype) * np.abs(a).sum(0).max())


def test_float32_categorical_gradient_is_accumulated_in_double():
    S, K = 10 ** 6, 2
    rng = np.random.default_rng(0)
    v = rng.integers(0, K, S)
    r = rng.random(S).astype(np.float32)
    d32 = sf.Categorical(np.zeros(K, np.float32))
    d64 = sf.Categorical(np.zeros(K, np.float64))
    g32 = sf.reinforce_grad(d32, v, r, baseline="none")
    g64 = sf.reinforce_grad(d64, v, r.astype(np.float64), baseline="none")
    # one rounding to float32 of terms of size <= mean|r| * p ~ 0.25
    np.testing.assert_allclose(g32, g64, rtol=0, atol=16 * np.finfo(np.float32).eps * 0.25)


# -- Bernoulli -----------------------------------------------------------------------------
def mp_log_sigmoid(t):
    t = mpmath.mpf(float(t))
    return -mpmath.log1p(mpmath.exp(-t)) if t > -1000 else t - mpmath.log1p(mpmath.exp(t))


def mp_bernoulli_entropy(t):
    # q = 1 - p formed as sigmoid(-t), not by cancellation: for |t| beyond
    # the working precision 1 - p would round to 0
    p, q = mpmath.exp(mp_log_sigmoid(t)), mpmath.exp(mp_log_sigmoid(-t))
    return -(p * mp_log_sigmoid(t) + q * mp_log_sigmoid(-t))


def test_bernoulli_entropy_relative_accuracy():
    t = np.array([40.0, -50.0, 200.0, -600.0])
    h = sf.Bernoulli(t).entropy()
    for j in range(4):
        e = mp_bernoulli_entropy(t[j])
        assert abs(h[j] - e) <= rtol(np.float64) * e, (t[j], h[j], e)


@pytest.mark.parametrize("scale", [1e300, 1e30, 1e10, 50.0, 1.0, 1e-10, 1e-300])
def test_bernoulli_extreme_logits(fdtype, scale):
    if scale > float(np.finfo(fdtype).max) or scale < float(np.finfo(fdtype).tiny):
        pytest.skip("not representable in this dtype")
    logits = np.array([scale, -scale, 0.0], dtype=fdtype)
    d = sf.Bernoulli(logits)
    lp1, lp0 = d.log_prob(np.ones(3)), d.log_prob(np.zeros(3))
    for j, t in enumerate(logits):
        assert_rel(lp1[j], mp_log_sigmoid(t), fdtype, f"log p(1) at {t}", floor=1e-300)
        assert_rel(lp0[j], mp_log_sigmoid(-t), fdtype, f"log p(0) at {t}", floor=1e-300)
        # entropy (relative accuracy: test_bernoulli_entropy_relative_accuracy)
        assert_rel(d.entropy()[j], mp_bernoulli_entropy(t), fdtype, f"entropy at {t}")
    x, lpx = d.sample_and_log_prob(4000, rng=0)
    np.testing.assert_array_equal(lpx, d.log_prob(x))
    assert np.isfinite(lpx).all()
    if scale >= 50:                                  # p = 1 - 2e-22 or less from 0/1
        assert (x[:, 0] == 1).all() and (x[:, 1] == 0).all()
    x = x[:200]
    r = np.random.default_rng(1).standard_normal((200, 3)).astype(fdtype)
    for baseline in ("none", "loo", "group", "optimal"):
        g = sf.reinforce_grad(d, x, r, baseline=baseline)
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, ref.reinforce_grad(ref.Bernoulli(logits), x, r,
                                                         baseline=baseline),
                                   rtol=rtol(fdtype), atol=rtol(fdtype))


# -- Gaussians: scales from 1e-300 to 1e300 --------------------------------------------------
SCALES = [1e-300, 1e-200, 1e-100, 1e-10, 1.0, 1e10, 1e100, 1e200, 1e300]


def mp_normal(x, mu, sigma):
    """(log p, d/dloc, d/dlog scale) in mpmath."""
    x, mu, sigma = (mpmath.mpf(float(a)) for a in (x, mu, sigma))
    z = (x - mu) / sigma
    return (-z * z / 2 - mpmath.log(sigma) - mpmath.log(2 * mpmath.pi) / 2, z / sigma, z * z - 1)


# baseline="optimal" squares scores of 1e300 (d/dloc at scale 1e-300): numpy warns of
# the overflow, and the baseline falls back to the leave-one-out mean there
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("family", ["Normal", "DiagNormal"])
def test_gaussian_scales_over_the_whole_range(family):
    scale = np.array(SCALES)
    loc = scale * np.array([0.0, 1.0, -3.0, 2.5, -1.0, 0.5, 7.0, -2.0, 1.0])
    cls = getattr(sf, family)
    d = cls(loc, scale)
    x, lpx = d.sample_and_log_prob(6, rng=0, antithetic=True)
    assert np.isfinite(x).all() and np.isfinite(lpx).all()
    lp = d.log_prob(x)
    np.testing.assert_allclose(lpx, lp, rtol=1e-12)
    g_loc, g_ls = d.score(x)
    for s in range(6):
        total = mpmath.mpf(0)
        for j in range(len(SCALES)):
            e_lp, e_gloc, e_gls = mp_normal(x[s, j], loc[j], scale[j])
            total += e_lp
            assert_rel(g_loc[s, j], e_gloc, np.float64, "d/dloc", floor=1e-300)
            assert_rel(g_ls[s, j], e_gls, np.float64, "d/dlog scale")
            if family == "Normal":
                assert_rel(lp[s, j], e_lp, np.float64, "log_prob")
        if family == "DiagNormal":
            assert_rel(lp[s], total, np.float64, "log_prob", floor=1e3)
    ent = d.entropy()
    exact = [mpmath.mpf(0.5) + mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(mpmath.mpf(sc))
             for sc in SCALES]
    if family == "Normal":
        for j, e in enumerate(exact):
            assert_rel(ent[j], e, np.float64, "entropy")
    else:
        assert_rel(ent, mpmath.fsum(exact), np.float64, "entropy", floor=1e3)
    r = np.arange(6.0).reshape(6, 1) if family == "Normal" else np.arange(6.0)
    for baseline in ("none", "loo", "group", "optimal"):
        for part in sf.reinforce_grad(d, x, r, baseline=baseline):
            assert np.isfinite(part).all(), baseline
    for part in sf.pathwise_grad(d, x, np.ones_like(x)):
        assert np.isfinite(part).all()


def test_float32_gaussian_scales():
    scale = np.array([1e-30, 1e-10, 1.0, 1e10, 1e30], np.float32)
    d = sf.Normal(np.zeros(5, np.float32), scale)
    x, lpx = d.sample_and_log_prob(8, rng=0)
    assert x.dtype == np.float32 and np.isfinite(x).all() and np.isfinite(lpx).all()
    np.testing.assert_allclose(lpx, d.log_prob(x), rtol=1e-6)
    for s in range(8):
        for j in range(5):
            e_lp, e_gloc, e_gls = mp_normal(x[s, j], 0.0, scale[j])
            assert_rel(d.log_prob(x)[s, j], e_lp, np.float32, "log_prob")
            assert_rel(d.score(x)[0][s, j], e_gloc, np.float32, "d/dloc", floor=1e-30)
    for part in sf.reinforce_grad(d, x, np.arange(8.0).reshape(8, 1), baseline="loo"):
        assert np.isfinite(part).all()


def test_subnormal_scale_sample_and_log_prob():
    d = sf.Normal(0.0, 1e-310)
    x, lpx = d.sample_and_log_prob(3, rng=0)
    np.testing.assert_allclose(lpx, d.log_prob(x), rtol=1e-12)
