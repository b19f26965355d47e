"""Bernoulli: sampling, log-probabilities, entropy, scores and REINFORCE
gradients against the NumPy oracle (scorefast.reference), scipy.stats, stable
closed forms computed here, and exact gradients obtained by enumerating the
outcomes."""
import itertools

import numpy as np
import pytest
from scipy import stats

import scorefast as sf
from scorefast import reference as ref

from conftest import BATCH_SHAPES, assert_close, random_logits, splitmix64, ulps32_sub

SAMPLE_SHAPES = [(), (6,), (2, 3)]


def make(rng, batch_shape, dtype, scale=2.0):
    logits = random_logits(rng, batch_shape, dtype, scale=scale)
    return logits, sf.Bernoulli(logits), ref.Bernoulli(logits)


def binary(rng, shape, dtype):
    return rng.integers(0, 2, size=shape).astype(dtype)


# -- closed forms in float64, written stably -------------------------------------
def log_sigmoid(l):
    """log sigmoid(l) = -softplus(-l)."""
    return -np.logaddexp(0.0, -np.asarray(l, dtype=np.float64))


def closed_log_prob(logits, value):
    l = np.asarray(logits, dtype=np.float64)
    x = np.asarray(value, dtype=np.float64)
    return np.where(x == 1, log_sigmoid(l), log_sigmoid(-l))


def closed_probs(logits):
    return np.exp(log_sigmoid(logits))


def closed_entropy(logits):
    l = np.asarray(logits, dtype=np.float64)
    p, q = np.exp(log_sigmoid(l)), np.exp(log_sigmoid(-l))
    return -p * log_sigmoid(l) - q * log_sigmoid(-l)


def closed_score(logits, value):
    return np.asarray(value, dtype=np.float64) - closed_probs(logits)


# -- formulas ----------------------------------------------------------------------
@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
class TestFormulas:
    def test_shapes_and_dtypes(self, rng, batch_shape, dtype):
        _, d, _ = make(rng, batch_shape, dtype)
        assert d.batch_shape == batch_shape and d.dtype == dtype
        for arr in (d.probs, d.entropy(), d.mean):
            assert arr.shape == batch_shape and arr.dtype == dtype

    def test_probs(self, rng, batch_shape, dtype):
        logits, d, r = make(rng, batch_shape, dtype)
        assert_close(d.probs, closed_probs(logits), dtype)
        assert_close(d.probs, r.probs, dtype)
        assert_close(d.probs, stats.logistic.cdf(logits.astype(np.float64)), dtype)

    def test_entropy(self, rng, batch_shape, dtype):
        logits, d, r = make(rng, batch_shape, dtype)
        h = d.entropy()
        assert_close(h, closed_entropy(logits), dtype)
        assert_close(h, r.entropy(), dtype)
        assert_close(h, stats.bernoulli.entropy(closed_probs(logits)), dtype)
        assert np.all(h >= 0) and np.all(h <= np.log(2) + 1e-6)

    @pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
    def test_log_prob(self, rng, batch_shape, dtype, sample_shape):
        logits, d, r = make(rng, batch_shape, dtype)
        v = binary(rng, sample_shape + batch_shape, dtype)
        lp = d.log_prob(v)
        assert lp.shape == v.shape and lp.dtype == dtype
        assert_close(lp, closed_log_prob(logits, v), dtype)
        assert_close(lp, r.log_prob(v), dtype)
        assert_close(lp, stats.bernoulli.logpmf(v, closed_probs(logits)), dtype)

    @pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
    def test_score(self, rng, batch_shape, dtype, sample_shape):
        logits, d, r = make(rng, batch_shape, dtype)
        v = binary(rng, sample_shape + batch_shape, dtype)
        s = d.score(v)
        assert s.shape == v.shape and s.dtype == dtype
        assert_close(s, closed_score(logits, v), dtype)
        assert_close(s, r.score(v), dtype)

    @pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
    def test_weighted_score(self, rng, batch_shape, dtype, sample_shape):
        logits, d, r = make(rng, batch_shape, dtype)
        v = binary(rng, sample_shape + batch_shape, dtype)
        w = rng.standard_normal(v.shape).astype(dtype)
        g = d.weighted_score(v, w)
        assert g.shape == batch_shape and g.dtype == dtype
        axes = tuple(range(len(sample_shape)))
        expected = (w.astype(np.float64) * closed_score(logits, v)).sum(axes)
        scale = max(1.0, float(np.abs(w).sum()))
        assert_close(g, expected, dtype, scale=scale)
        assert_close(g, r.weighted_score(v, w), dtype, scale=scale)
        assert_close(g, (w * d.score(v)).sum(axes, dtype=np.float64), dtype, scale=scale)


def test_log_prob_matches_scipy_on_a_grid(dtype):
    """Moderate logits, both values, against scipy.stats.bernoulli."""
    logits = np.linspace(-8, 8, 33).astype(dtype)
    d = sf.Bernoulli(logits)
    p = closed_probs(logits)
    for x in (0, 1):
        v = np.full(logits.shape, x, dtype=dtype)
        assert_close(d.log_prob(v), stats.bernoulli.logpmf(x, p), dtype)
    assert_close(d.entropy(), stats.bernoulli.entropy(p), dtype)


@pytest.mark.parametrize("w_shape", [(), (1,), (5,), (6, 1), (6, 5)], ids=str)
def test_weighted_score_broadcasts_weights(rng, dtype, w_shape):
    logits, d, _ = make(rng, (5,), dtype)
    v = binary(rng, (6, 5), dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    g = d.weighted_score(v, w)
    wb = np.broadcast_to(w, v.shape).astype(np.float64)
    assert_close(g, (wb * closed_score(logits, v)).sum(0), dtype, scale=float(np.abs(wb).sum()))


@pytest.mark.parametrize("sample_shape", [(7,), (2, 3)], ids=str)
def test_weighted_score_row_weights(rng, dtype, sample_shape):
    """One reward per row of a multivariate draw: values (S, B, D), weights (S, B, 1)."""
    B, D = 4, 3
    logits, d, r = make(rng, (B, D), dtype)
    v = binary(rng, sample_shape + (B, D), dtype)
    w = rng.standard_normal(sample_shape + (B, 1)).astype(dtype)
    g = d.weighted_score(v, w)
    assert g.shape == (B, D) and g.dtype == dtype
    axes = tuple(range(len(sample_shape)))
    expected = (w.astype(np.float64) * closed_score(logits, v)).sum(axes)
    scale = max(1.0, float(np.abs(w).sum()))
    assert_close(g, expected, dtype, scale=scale)
    assert_close(g, r.weighted_score(v, w), dtype, scale=scale)
    # the same as expanding the weights explicitly
    assert_close(g, d.weighted_score(v, np.broadcast_to(w, v.shape).copy()), dtype, scale=scale)


def test_weighted_score_out_accumulates(rng, dtype):
    logits, d, _ = make(rng, (3, 4), dtype)
    v = binary(rng, (7, 3, 4), dtype)
    w = rng.standard_normal(v.shape)
    scale = float(np.abs(w).sum())
    once = d.weighted_score(v, w)
    out = np.zeros((3, 4), dtype=dtype)
    res = d.weighted_score(v, w, out=out)
    assert res is out
    np.testing.assert_array_equal(out, once)
    d.weighted_score(v, w, out=out)
    assert_close(out, 2 * once.astype(np.float64), dtype, scale=scale)
    start = rng.standard_normal(out.shape).astype(dtype)
    out2 = start.copy()
    d.weighted_score(v, w, out=out2)
    assert_close(out2, start.astype(np.float64) + once, dtype, scale=scale)
    # row weights accumulate too
    wr = rng.standard_normal((7, 3, 1))
    out3 = start.copy()
    d.weighted_score(v, wr, out=out3)
    assert_close(out3, start.astype(np.float64) + d.weighted_score(v, wr), dtype, scale=scale)


# -- numerical stability -------------------------------------------------------------
EXTREME = [1e4, -1e4, 700.0, -700.0, 30.0, -30.0, 88.0, -88.0, 40.0, -40.0, 0.0, 1e-3]


def test_extreme_logits_are_finite_and_exact(dtype):
    logits = np.array(EXTREME, dtype=dtype)
    d = sf.Bernoulli(logits)
    r = ref.Bernoulli(logits)
    l64 = logits.astype(np.float64)
    ones = np.ones(logits.shape, dtype=dtype)
    zeros = np.zeros(logits.shape, dtype=dtype)
    lp1, lp0 = d.log_prob(ones), d.log_prob(zeros)
    outputs = {"log_prob(1)": lp1, "log_prob(0)": lp0, "probs": d.probs,
               "entropy": d.entropy(), "score(1)": d.score(ones), "score(0)": d.score(zeros),
               "weighted_score": d.weighted_score(np.stack([ones, zeros]), 1.0)}
    for name, arr in outputs.items():
        assert np.all(np.isfinite(arr)), name
    # log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l):
    # in float64, rounded once (exact); in float32, computed in float,
    # within the few ulp of float arithmetic (test_float32_in_float),
    # the subnormal at l = -88 included: accurate, not just finite
    if dtype == np.float64:
        np.testing.assert_array_equal(lp1, -np.logaddexp(0.0, -l64))
        np.testing.assert_array_equal(lp0, -np.logaddexp(0.0, l64))
    else:
        assert ulps32_sub(lp1, -np.logaddexp(0.0, -l64)).max() <= FLOAT32_ULPS
        assert ulps32_sub(lp0, -np.logaddexp(0.0, l64)).max() <= FLOAT32_ULPS
    assert_close(lp1, r.log_prob(ones), dtype)
    assert_close(lp0, r.log_prob(zeros), dtype)
    assert_close(d.probs, closed_probs(logits), dtype)
    assert_close(d.entropy(), closed_entropy(logits), dtype)
    assert_close(d.entropy(), r.entropy(), dtype)
    assert_close(d.score(ones), closed_score(logits, ones), dtype)
    assert_close(d.score(zeros), closed_score(logits, zeros), dtype)
    assert np.all(d.entropy() >= 0)
    # log_prob(1) of l = -1e4 is -1e4 itself (not -inf from log(0))
    assert lp1[1] == -1e4 and lp0[0] == -1e4
    # draws of saturated logits are deterministic
    x = d.sample(500, rng=0)
    assert np.all(x[:, [0, 2, 4]] == 1) and np.all(x[:, [1, 3, 5]] == 0)


#: the float32 kernels' probabilities and log-probabilities are computed in
#: float (sigmoid and softplus from one float exp, log and division), within
#: this many float32 ulp of the exact value (measured: 2.7 and 1.95 over the
#: grid of test_float32_in_float)
FLOAT32_ULPS = 3.0


def test_float32_in_float():
    """float32 probabilities and log-probabilities over logits in [-110, 110]
    (|l| > 87: subnormal probabilities and log-probabilities, |l| > 104:
    0), against the closed forms in float64: within FLOAT32_ULPS; the
    sampler's log-probabilities are log_prob's bits, the draws those of its
    uniforms against those probabilities, the score and the gradient formed
    from the same probabilities."""
    rng = np.random.default_rng(7)
    l = np.concatenate([rng.standard_normal(200_000) * 4, rng.uniform(-110, 110, 200_000),
                        np.linspace(-110, 110, 100_001)]).astype(np.float32)
    d = sf.Bernoulli(l)
    l64 = l.astype(np.float64)
    ones, zeros = np.ones_like(l), np.zeros_like(l)
    p = d.probs
    assert ulps32_sub(p, closed_probs(l64)).max() <= FLOAT32_ULPS
    assert ulps32_sub(d.log_prob(ones), log_sigmoid(l64)).max() <= FLOAT32_ULPS
    assert ulps32_sub(d.log_prob(zeros), log_sigmoid(-l64)).max() <= FLOAT32_ULPS
    # subnormal, not flushed to 0: p below l = -88, log p(0) above l = 88
    sub = (np.abs(l) > 88) & (np.abs(l) < 103)
    assert (p[sub & (l < 0)] > 0).all() and (d.log_prob(zeros)[sub & (l > 0)] < 0).all()
    np.testing.assert_array_equal(d.score(ones), (1 - p.astype(np.float64)).astype(np.float32))
    x, lp = d.sample_and_log_prob(3, rng=11)
    np.testing.assert_array_equal(lp, d.log_prob(x))
    # the draws: uniform draw s N + j of the stream keyed by the Generator's
    # next 64 bits, (top 52 bits + 1/2) 2^-52, below p[j] in double
    key = np.random.default_rng(11).bit_generator.random_raw()
    bits = splitmix64(key, np.arange(x.size)) >> np.uint64(12)
    u = (bits.astype(np.float64) + 0.5) * 2.0 ** -52
    np.testing.assert_array_equal(x.ravel(), (u < np.tile(p.astype(np.float64), 3)))
    # the gradient: sum_s (x_s - p), summed in double and rounded once
    g = sf.reinforce_grad(d, x, np.ones((3,) + l.shape, np.float32), baseline="none",
                          reduction="sum")
    want = (x.astype(np.float64) - p.astype(np.float64)).sum(axis=0)
    np.testing.assert_array_equal(g, want.astype(np.float32))


def test_tiny_probabilities_are_kept_in_float64():
    d = sf.Bernoulli(np.array([-700.0, 700.0]))
    assert d.probs[0] == pytest.approx(np.exp(-700.0), rel=1e-12)
    assert d.log_prob(np.array([0.0, 0.0]))[1] == -700.0
    assert d.log_prob(np.array([0.0, 1.0]))[1] == pytest.approx(-np.exp(-700.0), rel=1e-12)
    assert d.entropy()[0] > 0


# -- validation --------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_are_rejected(dtype, bad):
    with pytest.raises(ValueError, match="logits"):
        sf.Bernoulli(np.array([0.0, bad], dtype=dtype))


def test_values_other_than_0_and_1_are_rejected(dtype):
    d = sf.Bernoulli(np.zeros(3, dtype=dtype))
    for f in (d.log_prob, d.score):
        with pytest.raises(ValueError):
            f(np.array([0.0, 0.5, 1.0]))
        with pytest.raises(ValueError):
            f(np.array([0, 2, 1]))
    with pytest.raises(ValueError):
        d.weighted_score(np.array([[0.0, -1.0, 1.0]]), 1.0)


def test_integer_and_bool_values_are_accepted(rng, dtype):
    logits, d, _ = make(rng, (4,), dtype)
    v = binary(rng, (5, 4), dtype)
    expected = d.log_prob(v)
    for vt in (np.int8, np.int64, np.uint8, np.bool_):
        np.testing.assert_array_equal(d.log_prob(v.astype(vt)), expected)
        np.testing.assert_array_equal(d.score(v.astype(vt)), d.score(v))


# -- sampling ---------------------------------------------------------------------
@pytest.mark.parametrize("sample_shape, prefix", [((), ()), (3, (3,)), ((2, 3), (2, 3)),
                                                  ((0,), (0,))], ids=str)
@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
def test_sample_shape_values_and_dtype(rng, dtype, batch_shape, sample_shape, prefix):
    _, d, _ = make(rng, batch_shape, dtype)
    x = d.sample(sample_shape, rng=0)
    assert isinstance(x, np.ndarray)
    assert x.shape == prefix + batch_shape and x.dtype == dtype
    assert np.all((x == 0) | (x == 1))


@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
def test_same_seed_same_draws_and_reference(rng, dtype, batch_shape):
    _, d, r = make(rng, batch_shape, dtype)
    a = d.sample((200,), rng=123)
    np.testing.assert_array_equal(a, d.sample((200,), rng=123))
    np.testing.assert_array_equal(a, d.sample((200,), rng=np.random.default_rng(123)))
    for seed in (0, 1, 123):
        ra = r.sample((200,), rng=seed)
        assert ra.dtype == dtype
        np.testing.assert_array_equal(d.sample((200,), rng=seed, method="numpy"), ra)
    if batch_shape and np.prod(batch_shape) > 1:
        assert not np.array_equal(a, d.sample((200,), rng=124))


def test_fast_sample_draws_one_key_and_matches_frequencies(rng, dtype):
    """method="fast" advances the Generator by one 64-bit draw; its draws
    have frequencies sigmoid(logits) within 5 standard errors."""
    _, d, _ = make(rng, (3, 4), dtype)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    x, lp = d.sample_and_log_prob(20000, rng=g1)
    g2.bit_generator.random_raw()
    assert g1.bit_generator.state == g2.bit_generator.state
    np.testing.assert_array_equal(lp, d.log_prob(x))
    p = closed_probs(d.logits).astype(np.float64)
    se = np.sqrt(p * (1 - p) / x.shape[0])
    assert np.all(np.abs(x.mean(0) - p) <= 5 * se + 1e-12)


def test_sample_consumes_exactly_rng_random(rng, dtype):
    _, d, _ = make(rng, (3, 4), dtype)
    g1, g2 = np.random.default_rng(99), np.random.default_rng(99)
    a = d.sample((5, 2), rng=g1, method="numpy")
    u = g2.random((5, 2, 3, 4))
    assert g1.bit_generator.state == g2.bit_generator.state
    np.testing.assert_array_equal(a, (u < closed_probs(d.logits)).astype(dtype))


def test_sample_frequencies(dtype):
    """Frequencies within 5 binomial standard errors of sigmoid(logits)."""
    logits = np.array([-3.0, -1.0, 0.0, 0.5, 2.0], dtype=dtype)
    n = 20_000
    x = sf.Bernoulli(logits).sample(n, rng=17)
    p = closed_probs(logits)
    se = np.sqrt(p * (1 - p) / n)
    z = np.abs(x.mean(0, dtype=np.float64) - p) / se
    assert np.all(z < 5), z


# -- reinforce_grad against the oracle ------------------------------------------------
BASELINES = ["none", "mean", "loo", "group", "optimal", 0.25, -2.0]


@pytest.mark.parametrize("baseline", BASELINES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reinforce_grad_matches_reference(rng, dtype, baseline, reduction):
    logits, d, r = make(rng, (4, 3), dtype)
    x = d.sample(8, rng=3)
    f = rng.standard_normal((8, 4, 3)).astype(dtype)
    g = sf.reinforce_grad(d, x, f, baseline=baseline, reduction=reduction)
    assert g.shape == (4, 3) and g.dtype == dtype
    expected = ref.reinforce_grad(r, x, f, baseline=baseline, reduction=reduction)
    scale = float(np.abs(f).sum()) * (1.0 if reduction == "sum" else 1 / f.size)
    assert_close(g, expected, dtype, scale=max(scale, 1.0))


@pytest.mark.parametrize("baseline", BASELINES, ids=str)
def test_reinforce_grad_row_rewards_match_reference(rng, dtype, baseline):
    """Rewards (S, B, 1) shared along the D coordinates of a row."""
    logits, d, r = make(rng, (5, 3), dtype)
    x = d.sample(6, rng=4)
    f = rng.standard_normal((6, 5, 1)).astype(dtype)
    g = sf.reinforce_grad(d, x, f, baseline=baseline, reduction="sum")
    assert g.shape == (5, 3)
    expected = ref.reinforce_grad(r, x, f, baseline=baseline, reduction="sum")
    assert_close(g, expected, dtype, scale=max(1.0, float(np.abs(f).sum())))
    # identical to passing the rewards expanded
    g_full = sf.reinforce_grad(d, x, np.broadcast_to(f, x.shape).copy(), baseline=baseline,
                               reduction="sum")
    assert_close(g, g_full, dtype, scale=max(1.0, float(np.abs(f).sum())))


# -- unbiasedness by enumeration ---------------------------------------------------
D, S_UNB, M_UNB = 3, 4, 20_000
OUTCOMES = np.array(list(itertools.product([0, 1], repeat=D)), dtype=np.float64)  # (8, D)
N_SE = 5.0


def exact_gradient(logits, table):
    """d/dl_d E[f(x)] = sum_x p(x) f(x) (x_d - p_d), by enumerating {0,1}^D."""
    p = closed_probs(logits)
    px = np.prod(np.where(OUTCOMES == 1, p, 1 - p), axis=1)          # (8,)
    return (px[:, None] * table[:, None] * (OUTCOMES - p)).sum(0)


def outcome_index(x):
    """Row index into OUTCOMES of each draw x in {0,1}^D (last axis)."""
    return (x.astype(np.int64) * (2 ** np.arange(D - 1, -1, -1))).sum(-1)


@pytest.mark.parametrize("baseline", ["none", "loo", "optimal", 1.5], ids=str)
def test_reinforce_grad_is_unbiased(dtype, baseline):
    """M independent S-sample estimates in one call: the logits tiled to a
    (M, D) batch, S draws per row, one reward per draw shared by the row's D
    coordinates (rewards (S, M, 1)); their mean lies within 5 standard errors
    (estimated from the M estimates) of the gradient computed by enumeration."""
    gen = np.random.default_rng(31)
    logits = np.array([0.4, -0.8, 1.1])
    table = gen.uniform(-1.0, 2.0, size=2 ** D)
    d = sf.Bernoulli(np.broadcast_to(logits.astype(dtype), (M_UNB, D)))
    x = d.sample(S_UNB, rng=32)                                       # (S, M, D)
    f = table[outcome_index(x)][..., None].astype(dtype)              # (S, M, 1)
    g = sf.reinforce_grad(d, x, f, baseline=baseline, reduction="sum")
    assert g.shape == (M_UNB, D) and g.dtype == dtype
    est = g.astype(np.float64) / S_UNB
    mean, se = est.mean(0), est.std(0, ddof=1) / np.sqrt(M_UNB)
    target = exact_gradient(logits.astype(dtype).astype(np.float64), table.astype(dtype))
    assert np.all(se > 0)
    z = np.abs(mean - target) / se
    assert np.all(z < N_SE), f"max |z| = {z.max():.2f}, mean {mean}, exact {target}"


def test_enumeration_test_detects_bias(dtype):
    """Power check: the 'mean' baseline shrinks the gradient by (S-1)/S,
    which the test above rejects, while the rescaled target is accepted."""
    gen = np.random.default_rng(31)
    logits = np.array([0.4, -0.8, 1.1])
    table = gen.uniform(-1.0, 2.0, size=2 ** D)
    d = sf.Bernoulli(np.broadcast_to(logits.astype(dtype), (M_UNB, D)))
    x = d.sample(S_UNB, rng=33)
    f = table[outcome_index(x)][..., None].astype(dtype)
    est = sf.reinforce_grad(d, x, f, baseline="mean", reduction="sum").astype(np.float64) / S_UNB
    mean, se = est.mean(0), est.std(0, ddof=1) / np.sqrt(M_UNB)
    target = exact_gradient(logits.astype(dtype).astype(np.float64), table.astype(dtype))
    assert np.max(np.abs(mean - target) / se) > N_SE
    assert np.all(np.abs(mean - (S_UNB - 1) / S_UNB * target) / se < N_SE)


# -- parameters ---------------------------------------------------------------------
def test_logits_are_copied_and_read_only(rng, dtype):
    logits = random_logits(rng, (3, 2), dtype)
    x = logits.copy()
    d = sf.Bernoulli(x)
    assert x.flags.writeable
    x += 100.0
    np.testing.assert_array_equal(d.logits, logits)
    assert not d.logits.flags.writeable
    assert repr(d) == f"Bernoulli(batch_shape=(3, 2), dtype={np.dtype(dtype)})"


@pytest.mark.parametrize("copy", [True, False])
def test_scalar_logits_give_scalar_batch(dtype, copy):
    d = sf.Bernoulli(np.array(0.3, dtype), copy=copy)
    assert d.batch_shape == () and d.probs.shape == ()
    x = d.sample(5, rng=0)
    assert x.shape == (5,)
    np.testing.assert_array_equal(d.sample(5, rng=0, method="numpy"),
                                  ref.Bernoulli(np.array(0.3, dtype)).sample(5, rng=0))
