"""Categorical: every formula against the NumPy oracle (scorefast.reference)
and against closed forms computed here with scipy, across dtypes and shapes."""
import math

import numpy as np
import pytest
from scipy import special

import scorefast as sf
from scorefast import reference as ref

from conftest import (BATCH_SHAPES, DTYPES, assert_close, closed_entropy, closed_log_prob,
                      closed_log_probs, closed_probs, closed_score, random_logits)

KS = [1, 2, 7]


def make(rng, batch_shape, K, dtype):
    logits = random_logits(rng, tuple(batch_shape) + (K,), dtype)
    return logits, sf.Categorical(logits), ref.Categorical(logits)


def values_for(rng, shape, K):
    return rng.integers(0, K, size=shape)


# -- dtypes ---------------------------------------------------------------------
@pytest.mark.parametrize("in_dtype, out_dtype", [
    (np.float32, np.float32), (np.float64, np.float64), (np.int32, np.float64),
    (np.int64, np.float64), (np.uint8, np.float64), (np.float16, np.float64),
    (np.bool_, np.float64),
])
def test_output_dtype_follows_logits(in_dtype, out_dtype):
    logits = np.array([[1, 0, 2], [0, 1, 1]], dtype=in_dtype)
    d = sf.Categorical(logits)
    v = np.array([[0, 2], [1, 1]])
    assert d.dtype == out_dtype
    for arr in (d.probs, d.entropy(), d.log_prob(v), d.score(v),
                d.weighted_score(v, np.ones(v.shape))):
        assert arr.dtype == out_dtype
    assert d.log_normalizer().dtype == np.float64
    assert d.sample(3, rng=0).dtype == np.int64


def test_python_list_logits_are_float64():
    d = sf.Categorical([[0.0, 1.0], [2.0, -1.0]])
    assert d.dtype == np.float64
    assert d.batch_shape == (2,) and d.num_classes == 2


# -- formulas against closed forms and the oracle ---------------------------------
@pytest.mark.parametrize("K", KS)
@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
class TestFormulas:
    def test_shapes(self, rng, batch_shape, K, dtype):
        _, d, _ = make(rng, batch_shape, K, dtype)
        assert d.batch_shape == batch_shape
        assert d.num_classes == K
        assert d.probs.shape == batch_shape + (K,)
        assert d.entropy().shape == batch_shape
        assert d.log_normalizer().shape == batch_shape

    def test_probs(self, rng, batch_shape, K, dtype):
        logits, d, r = make(rng, batch_shape, K, dtype)
        p = d.probs
        assert_close(p, closed_probs(logits), dtype)
        assert_close(p, r.probs, dtype)
        assert_close(p.sum(-1, dtype=np.float64), np.ones(batch_shape), dtype, scale=K)

    def test_log_normalizer(self, rng, batch_shape, K, dtype):
        logits, d, _ = make(rng, batch_shape, K, dtype)
        x = logits.astype(np.float64)
        expected = special.logsumexp(x, axis=-1)
        if dtype == np.float64:
            np.testing.assert_allclose(d.log_normalizer(), expected, rtol=1e-13, atol=1e-13)
            return
        # float32: each exp(l - m) within one float32 ulp (2^-23 relative) of
        # that of l - m rounded to float32 (off by |l - m| 2^-24 at most), so
        # the log-sum is off by 2^-23 + 2^-24 E_p|l - m| at most
        d_max = x - x.max(axis=-1, keepdims=True)
        mean_gap = (special.softmax(x, axis=-1) * -d_max).sum(axis=-1)
        bound = 2.0 ** -23 + 2.0 ** -24 * mean_gap + 1e-13
        assert np.all(np.abs(d.log_normalizer() - expected) <= bound)

    def test_entropy(self, rng, batch_shape, K, dtype):
        logits, d, r = make(rng, batch_shape, K, dtype)
        h = d.entropy()
        assert_close(h, closed_entropy(logits), dtype)
        assert_close(h, r.entropy(), dtype)
        assert np.all(h >= -1e-6) and np.all(h <= np.log(K) + 1e-5)

    @pytest.mark.parametrize("sample_shape", [(), (6,), (2, 3)], ids=str)
    def test_log_prob(self, rng, batch_shape, K, dtype, sample_shape):
        logits, d, r = make(rng, batch_shape, K, dtype)
        v = values_for(rng, sample_shape + batch_shape, K)
        lp = d.log_prob(v)
        assert lp.shape == v.shape and lp.dtype == dtype
        assert_close(lp, closed_log_prob(logits, v), dtype)
        assert_close(lp, r.log_prob(v), dtype)

    @pytest.mark.parametrize("sample_shape", [(), (6,), (2, 3)], ids=str)
    def test_score(self, rng, batch_shape, K, dtype, sample_shape):
        logits, d, r = make(rng, batch_shape, K, dtype)
        v = values_for(rng, sample_shape + batch_shape, K)
        s = d.score(v)
        assert s.shape == v.shape + (K,) and s.dtype == dtype
        assert_close(s, closed_score(logits, v), dtype)
        assert_close(s, r.score(v), dtype)
        # a score sums to zero over the classes: onehot sums to 1, p sums to 1
        assert_close(s.sum(-1, dtype=np.float64), np.zeros(v.shape), dtype, scale=K)

    @pytest.mark.parametrize("sample_shape", [(), (6,), (2, 3)], ids=str)
    def test_weighted_score(self, rng, batch_shape, K, dtype, sample_shape):
        logits, d, r = make(rng, batch_shape, K, dtype)
        v = values_for(rng, sample_shape + batch_shape, K)
        w = rng.standard_normal(v.shape).astype(dtype)
        g = d.weighted_score(v, w)
        assert g.shape == batch_shape + (K,) and g.dtype == dtype
        sample_axes = tuple(range(len(sample_shape)))
        expected = (w.astype(np.float64)[..., None] * closed_score(logits, v)).sum(sample_axes)
        scale = max(1.0, float(np.abs(w).sum()))
        assert_close(g, expected, dtype, scale=scale)
        assert_close(g, r.weighted_score(v, w), dtype, scale=scale)
        # the same as summing the library's own per-sample scores
        assert_close(g, (w[..., None] * d.score(v)).sum(sample_axes, dtype=np.float64),
                     dtype, scale=scale)


@pytest.mark.parametrize("w_shape", [(), (1,), (6, 1), (6, 5)], ids=str)
def test_weighted_score_broadcasts_weights(rng, dtype, w_shape):
    logits, d, _ = make(rng, (5,), 3, dtype)
    v = values_for(rng, (6, 5), 3)
    w = rng.standard_normal(w_shape).astype(dtype)
    g = d.weighted_score(v, w)
    wb = np.broadcast_to(w, v.shape).astype(np.float64)
    expected = (wb[..., None] * closed_score(logits, v)).sum(0)
    assert_close(g, expected, dtype, scale=float(np.abs(wb).sum()))


def test_weighted_score_out_accumulates(rng, dtype):
    logits, d, _ = make(rng, (3, 4), 5, dtype)
    v = values_for(rng, (7, 3, 4), 5)
    w = rng.standard_normal(v.shape)
    once = d.weighted_score(v, w)
    out = np.zeros((3, 4, 5), dtype=dtype)
    res = d.weighted_score(v, w, out=out)
    assert res is out
    np.testing.assert_array_equal(out, once)
    d.weighted_score(v, w, out=out)
    assert_close(out, 2 * once.astype(np.float64), dtype, scale=float(np.abs(w).sum()))
    # accumulating onto arbitrary content adds
    start = rng.standard_normal(out.shape).astype(dtype)
    out2 = start.copy()
    d.weighted_score(v, w, out=out2)
    assert_close(out2, start.astype(np.float64) + once, dtype, scale=float(np.abs(w).sum()))


def test_k_equals_one(dtype):
    d = sf.Categorical(np.array([[3.0], [-2.0]], dtype=dtype))
    np.testing.assert_array_equal(d.probs, np.ones((2, 1)))
    np.testing.assert_array_equal(d.entropy(), np.zeros(2))
    np.testing.assert_array_equal(d.log_prob(np.zeros((4, 2), int)), np.zeros((4, 2)))
    np.testing.assert_array_equal(d.score(np.zeros((4, 2), int)), np.zeros((4, 2, 1)))
    np.testing.assert_array_equal(d.sample((5,), rng=1), np.zeros((5, 2), int))


# -- empty batch ------------------------------------------------------------------
@pytest.mark.parametrize("K", [1, 4])
def test_empty_batch(dtype, K):
    d = sf.Categorical(np.zeros((0, K), dtype=dtype))
    assert d.batch_shape == (0,)
    assert d.probs.shape == (0, K) and d.probs.dtype == dtype
    assert d.entropy().shape == (0,)
    assert d.log_normalizer().shape == (0,)
    v = np.zeros((3, 0), dtype=np.int64)
    assert d.sample(3, rng=0).shape == (3, 0)
    assert d.sample((), rng=0).shape == (0,)
    assert d.log_prob(v).shape == (3, 0)
    assert d.score(v).shape == (3, 0, K)
    g = d.weighted_score(v, np.zeros((3, 0)))
    assert g.shape == (0, K) and g.dtype == dtype
    out = np.zeros((0, K), dtype=dtype)
    assert d.weighted_score(v, 1.0, out=out) is out


# -- broadcasting value against the batch shape -------------------------------------
@pytest.mark.parametrize("value_shape, batch_shape", [
    ((6, 1), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (3, 4)),
    ((), (3, 4)),
    ((2, 5), (1,)),
    ((5,), (1,)),
    ((3, 1, 4), (2, 1)),
    ((2, 3, 4), (3, 4)),
], ids=str)
def test_value_broadcasts_against_batch(rng, dtype, value_shape, batch_shape):
    K = 3
    logits, d, r = make(rng, batch_shape, K, dtype)
    v = values_for(rng, value_shape, K)
    shape = np.broadcast_shapes(value_shape, batch_shape)
    lp = d.log_prob(v)
    assert lp.shape == shape
    assert_close(lp, closed_log_prob(logits, v), dtype)
    assert_close(lp, r.log_prob(v), dtype)
    s = d.score(v)
    assert s.shape == shape + (K,)
    assert_close(s, closed_score(logits, v), dtype)
    assert_close(s, r.score(v), dtype)


# -- extreme logits ----------------------------------------------------------------
EXTREME_ROWS = [
    [1e4, -1e4, 0.0],
    [-1e4, 1e4, -1e4],
    [1e4, 1e4, 1e4],
    [-1e4, -1e4, -1e4],
    [0.0, -690.0, -700.0],     # probabilities ~1e-300
    [-690.0, 0.0, -1e4],
]


def test_extreme_logits_are_finite_and_exact(dtype):
    logits = np.array(EXTREME_ROWS, dtype=dtype)
    d = sf.Categorical(logits)
    r = ref.Categorical(logits)
    v = np.array([[0, 1, 2, 0, 1, 2], [2, 0, 1, 1, 2, 0]])
    outputs = {"probs": d.probs, "entropy": d.entropy(), "lse": d.log_normalizer(),
               "log_prob": d.log_prob(v), "score": d.score(v),
               "weighted_score": d.weighted_score(v, np.ones(v.shape))}
    for name, arr in outputs.items():
        assert np.all(np.isfinite(arr)), name
    assert_close(d.probs, closed_probs(logits), dtype)
    assert_close(d.entropy(), closed_entropy(logits), dtype)
    assert_close(d.entropy(), r.entropy(), dtype)
    assert_close(d.log_prob(v), closed_log_prob(logits, v), dtype)
    assert_close(d.score(v), closed_score(logits, v), dtype)
    assert_close(d.weighted_score(v, np.ones(v.shape)),
                 closed_score(logits, v).sum(0), dtype, scale=2)
    np.testing.assert_allclose(d.log_normalizer(),
                               special.logsumexp(logits.astype(np.float64), axis=-1),
                               rtol=1e-15, atol=1e-12)
    # a probability of e^-690 ~ 2e-300 is representable in float64 and kept there
    if dtype == np.float64:
        assert d.probs[4, 1] == pytest.approx(np.exp(-690.0), rel=1e-12)
        assert d.entropy()[4] > 0
    samples = d.sample(2000, rng=0)
    assert samples[:, 0].max() == 0 and np.all(samples[:, 1] == 1)
    assert np.all(samples[:, 4] == 0)


@pytest.mark.parametrize("shift", [-1e4, 1e4])
def test_log_prob_of_huge_logits_is_shift_invariant(shift):
    # float64 only: the shifted logits hold the small offsets exactly
    base = np.array([0.0, 0.5, -1.25, 2.0])
    d0 = sf.Categorical(base)
    d1 = sf.Categorical(base + shift)
    np.testing.assert_allclose(d1.probs, d0.probs, rtol=1e-12)
    np.testing.assert_allclose(d1.log_prob(np.arange(4)), d0.log_prob(np.arange(4)),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype_, magnitude", [
    (np.float64, 1e17), (np.float64, 1e300), (np.float32, 1e20), (np.float32, 3e38),
], ids=["f64-1e17", "f64-1e300", "f32-1e20", "f32-3e38"])
def test_huge_equal_logits_are_normalised(dtype_, magnitude):
    """Logits are any finite reals; a row of K equal logits is uniform
    whatever their size. The kernels form exp(l - lse) with lse = m + log(s)
    rounded to a double: once |m| * 2^-53 exceeds log(s), lse == m and every
    class gets probability 1 (log_prob 0, entropy 0), so probabilities no
    longer sum to 1. Computing exp((l - m) - log(s)) keeps them exact."""
    K = 3
    logits = np.full((2, K), magnitude, dtype=dtype_)
    logits[1] *= -1
    d = sf.Categorical(logits)
    assert_close(d.probs, np.full((2, K), 1 / K), dtype_)
    assert_close(d.log_prob(np.array([0, 2])), np.full(2, -np.log(K)), dtype_)
    assert_close(d.entropy(), np.full(2, np.log(K)), dtype_)
    assert_close(d.score(np.array([0, 2])).sum(-1), np.zeros(2), dtype_)


# -- masked classes (-inf) ----------------------------------------------------------
MASKED = np.array([
    [-np.inf, 0.5, 1.0, -0.5],
    [0.5, -np.inf, -np.inf, 2.0],
    [0.0, 1.0, 0.3, -np.inf],
    [-np.inf, -np.inf, 4.0, -np.inf],
])


def test_masked_classes(dtype):
    logits = MASKED.astype(dtype)
    mask = np.isneginf(MASKED)
    d = sf.Categorical(logits)
    p = d.probs
    assert np.all(p[mask] == 0)
    assert np.all(p[~mask] > 0)
    assert_close(p, closed_probs(logits), dtype)
    h = d.entropy()
    assert np.all(np.isfinite(h))
    # entropy of the unmasked classes alone
    for i in range(len(MASKED)):
        assert_close(h[i], closed_entropy(logits[i][~mask[i]]), dtype)
    assert h[3] == 0
    # log_prob of a masked class is -inf, of the others finite
    lp = d.log_prob(np.array([0, 1, 3, 0]))
    assert np.all(np.isneginf(lp))
    assert np.all(np.isfinite(d.log_prob(np.array([1, 0, 1, 2]))))
    # the score's masked coordinates are exactly 0 (-p with p = 0)
    v = d.sample((50,), rng=3)
    s = d.score(v)
    assert np.all(s[:, mask] == 0)
    w = np.random.default_rng(4).standard_normal(v.shape)
    g = d.weighted_score(v, w)
    assert np.all(g[mask] == 0)
    assert np.all(np.isfinite(g))
    assert_close(g, (w[..., None] * closed_score(logits, v)).sum(0), dtype,
                 scale=float(np.abs(w).sum()))


def test_masked_classes_are_never_sampled(dtype):
    d = sf.Categorical(MASKED.astype(dtype))
    mask = np.isneginf(MASKED)
    v = d.sample(20000, rng=11)
    hit = mask[np.arange(len(MASKED)), v]
    assert not hit.any()
    assert np.all(v[:, 3] == 2)


# -- sampling: shapes, seeding, agreement with the oracle -------------------------------
@pytest.mark.parametrize("sample_shape, expected_prefix", [
    ((), ()), (3, (3,)), ((3,), (3,)), ((2, 3), (2, 3)), ((0,), (0,)), ((4, 0), (4, 0)),
    (np.int64(2), (2,)),
], ids=str)
@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
def test_sample_shape_and_dtype(rng, dtype, batch_shape, sample_shape, expected_prefix):
    _, d, _ = make(rng, batch_shape, 4, dtype)
    x = d.sample(sample_shape, rng=0)
    assert isinstance(x, np.ndarray)
    assert x.shape == expected_prefix + batch_shape
    assert x.dtype == np.int64
    assert np.all((x >= 0) & (x < 4))


@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
def test_same_seed_same_draws(rng, dtype, batch_shape):
    _, d, _ = make(rng, batch_shape, 6, dtype)
    a = d.sample((50,), rng=123)
    b = d.sample((50,), rng=123)
    np.testing.assert_array_equal(a, b)
    c = d.sample((50,), rng=np.random.default_rng(123))
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, d.sample((50,), rng=124))


def test_generator_is_advanced(rng, dtype):
    _, d, _ = make(rng, (8,), 6, dtype)
    g = np.random.default_rng(5)
    a = d.sample((50,), rng=g)
    b = d.sample((50,), rng=g)
    assert not np.array_equal(a, b)
    # together they are the draws of one call of twice the size
    np.testing.assert_array_equal(np.concatenate([a, b]),
                                  d.sample((100,), rng=np.random.default_rng(5)))


@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3), (0,)], ids=str)
@pytest.mark.parametrize("batch_shape", [(), (1,), (5,), (3, 4), (0,)], ids=str)
def test_sample_consumes_exactly_rng_random(rng, batch_shape, sample_shape):
    """sample() uses the uniforms rng.random(sample_shape + batch_shape) would
    return, no more and no fewer: the generators end in the same state."""
    _, d, _ = make(rng, batch_shape, 5, np.float64)
    g1 = np.random.default_rng(99)
    g2 = np.random.default_rng(99)
    d.sample(sample_shape, rng=g1)
    g2.random(sample_shape + batch_shape)
    assert g1.bit_generator.state == g2.bit_generator.state


@pytest.mark.parametrize("K", [1, 2, 7, 50])
@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
def test_sample_matches_reference_draw_for_draw(rng, dtype, batch_shape, K):
    logits, d, r = make(rng, batch_shape, K, dtype)
    for seed in (0, 1, 2):
        a = d.sample((200,), rng=seed)
        b = r.sample((200,), rng=seed)
        np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(d.sample((3, 5), rng=g1), r.sample((3, 5), rng=g2))
    np.testing.assert_array_equal(d.sample((4,), rng=g1), r.sample((4,), rng=g2))


def test_sample_matches_reference_with_masks_and_extremes(dtype):
    logits = np.concatenate([MASKED, np.array(EXTREME_ROWS)[:, [0, 1, 2, 2]]]).astype(dtype)
    d, r = sf.Categorical(logits), ref.Categorical(logits)
    np.testing.assert_array_equal(d.sample((500,), rng=8), r.sample((500,), rng=8))


def test_sample_accepts_seed_sequence_and_bit_generator():
    d = sf.Categorical(np.zeros(5))
    a = d.sample(20, rng=np.random.SeedSequence(3))
    b = d.sample(20, rng=np.random.PCG64(np.random.SeedSequence(3)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, d.sample(20, rng=3))


# -- the distribution owns its parameters ---------------------------------------------
def test_logits_argument_is_not_frozen():
    """Building a Categorical must not make the caller's array read-only: the
    usual training loop `dist = Categorical(theta); ...; theta += lr * grad`
    must keep working."""
    x = np.zeros((2, 3))
    sf.Categorical(x)
    assert x.flags.writeable, "Categorical made the caller's logits read-only"
    x += 1.0


def test_logits_argument_is_not_aliased():
    """The distribution caches its log-normaliser at construction, so it must
    not keep reading memory the caller can still write (here through the base
    of the view passed in): its probabilities must stay softmax(logits)."""
    base = np.zeros(6)
    d = sf.Categorical(base.reshape(2, 3))
    base[0] += 5.0
    np.testing.assert_allclose(d.probs, np.full((2, 3), 1 / 3), rtol=1e-12)
    np.testing.assert_allclose(d.probs.sum(-1), 1.0, rtol=1e-12)


def test_logits_property_is_read_only_and_equal(rng, dtype):
    logits = random_logits(rng, (3, 4), dtype)
    d = sf.Categorical(logits.copy())
    assert not d.logits.flags.writeable
    np.testing.assert_array_equal(d.logits, logits)
    assert repr(d) == f"Categorical(batch_shape=(3,), num_classes=4, dtype={np.dtype(dtype)})"


def test_validate_false_skips_checks_without_crashing():
    d = sf.Categorical([[0.0, np.nan], [0.0, 1.0]], validate=False)
    assert np.isnan(d.log_normalizer()[0])
    assert np.isfinite(d.log_normalizer()[1])
    np.testing.assert_allclose(d.probs[1], closed_probs([0.0, 1.0]), rtol=1e-12)
    g = d.weighted_score(np.array([[0, 1]]), [[np.nan, 1.0]])
    assert np.all(np.isfinite(g[1]))
    # the sample of a valid row is still a valid class
    assert np.all(np.isin(d.sample(10, rng=0)[:, 1], [0, 1]))


def test_value_dtypes_are_accepted(dtype):
    d = sf.Categorical(np.array([[0.0, 1.0, 2.0]], dtype=dtype))
    expected = d.log_prob(np.array([[0], [2]], dtype=np.int64))
    for vt in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64):
        np.testing.assert_array_equal(d.log_prob(np.array([[0], [2]], dtype=vt)), expected)
    np.testing.assert_array_equal(d.log_prob([[0], [2]]), expected)


def test_non_contiguous_inputs(rng, dtype):
    """Strided and Fortran-ordered logits, values and weights give the results
    of their contiguous copies."""
    big = random_logits(rng, (6, 8, 2), dtype)
    logits = big[::2, :, 0]                              # (3, 8), strided
    d, dc = sf.Categorical(logits), sf.Categorical(np.ascontiguousarray(logits))
    df = sf.Categorical(np.asfortranarray(logits))
    v = rng.integers(0, 8, size=(10, 3, 2))[:, :, 1]     # (10, 3), strided
    w = rng.standard_normal((3, 10)).T                   # (10, 3), Fortran order
    vc, wc = np.ascontiguousarray(v), np.ascontiguousarray(w)
    for dd in (d, df):
        np.testing.assert_array_equal(dd.probs, dc.probs)
        np.testing.assert_array_equal(dd.log_prob(v), dc.log_prob(vc))
        np.testing.assert_array_equal(dd.score(v), dc.score(vc))
        np.testing.assert_array_equal(dd.weighted_score(v, w), dc.weighted_score(vc, wc))
        np.testing.assert_array_equal(dd.sample(5, rng=1), dc.sample(5, rng=1))


def test_copy_false_does_not_freeze_the_callers_array(dtype):
    x = np.zeros((2, 3), dtype=dtype)
    d = sf.Categorical(x, copy=False)
    assert x.flags.writeable
    assert not d.logits.flags.writeable
    np.testing.assert_allclose(d.probs, np.full((2, 3), 1 / 3), rtol=1e-6)


@pytest.mark.parametrize("K", [8, 9, 63, 64, 65, 511, 512, 513, 4097, 40000, 600000])
def test_sample_matches_reference_across_the_search_levels(dtype, K):
    """The sampler searches running totals kept per 8 classes and per 512
    classes (a count over up to 64 of them, a binary search beyond): at the
    edges of those levels, with masked classes among them, it draws what
    the reference's cumulative sum draws."""
    rng = np.random.default_rng(K)
    logits = rng.normal(scale=2.0, size=(3, K)).astype(dtype)
    logits[1, rng.random(K) < 0.3] = -np.inf
    logits[1, 0] = 0.0
    logits[2, :] = 0.0                                 # uniform: every class equally likely
    d, r = sf.Categorical(logits), ref.Categorical(logits)
    np.testing.assert_array_equal(d.sample(400, rng=5), r.sample(400, rng=5))
    assert np.isfinite(logits[1, d.sample(400, rng=6)[:, 1]]).all()


def _c_sample(logits, uniform, mask_counts=True):
    """The C sampler (sf_cat_sample_d, exported by the compiled module) on
    uniforms of our choosing: (S, B) classes for (B, K) float64 logits. With
    mask_counts False, the draws of rows of one super-block are counted by
    the portable loop even where the AVX-512 mask counts would run, and the
    sub-block sums taken by the portable loop, not the AVX-512 tree (draws
    on the class boundaries tell a sum added in another order)."""
    import ctypes
    from scorefast import _categorical
    lib = ctypes.CDLL(_categorical.__file__)
    if not mask_counts:
        lib.sf_cat_set_mask_counts(0)
        try:
            return _c_sample(logits, uniform)
        finally:
            lib.sf_cat_set_mask_counts(1)
    ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    idx, i32 = ctypes.c_ssize_t, ctypes.c_int
    lib.sf_cat_prepare_d.argtypes = [idx, idx, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_void_p, ctypes.c_void_p, i32]
    lib.sf_cat_sample_d.argtypes = [idx, idx, idx, ctypes.c_void_p, ctypes.c_void_p, i32,
                                    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, i32]
    logits = np.ascontiguousarray(logits, dtype=np.float64)
    uniform = np.ascontiguousarray(uniform, dtype=np.float64)
    (B, K), S = logits.shape, uniform.shape[0]
    norm = np.empty((B, 2))
    bad = np.zeros(1, dtype=np.intp)
    assert lib.sf_cat_prepare_d(B, K, ptr(logits), None, ptr(norm), ptr(bad), 1) == 0
    value = np.empty((S, B), dtype=np.int64)
    assert lib.sf_cat_sample_d(S, B, K, ptr(logits), ptr(norm), 1, ptr(uniform),
                               ptr(value), None, 1) == 0
    return value


def test_rows_without_classes_draw_alike_in_lanes_and_one_by_one():
    """The C kernel given rows of no classes (K = 0, which the Python API
    refuses) and normalisers of its caller's: 20 rows (a group of sixteen in
    vector lanes and four one by one) draw what 4 rows do, class 0, reading
    nothing outside the rows (the sanitizer job would report it)."""
    import ctypes
    from scorefast import _categorical
    lib = ctypes.CDLL(_categorical.__file__)
    idx, i32, vp = ctypes.c_ssize_t, ctypes.c_int, ctypes.c_void_p
    lib.sf_cat_sample_d.argtypes = [idx, idx, idx, vp, vp, i32, vp, vp, vp, i32]
    ptr = lambda a: a.ctypes.data_as(vp)

    def draw(B):
        logits = np.empty((B, 0))
        norm = np.zeros((B, 2))
        uniform = np.full((3, B), 0.5)
        value = np.full((3, B), 7, dtype=np.int64)
        assert lib.sf_cat_sample_d(3, B, 0, ptr(logits), ptr(norm), 0, ptr(uniform),
                                   ptr(value), None, 1) == 0
        return value

    np.testing.assert_array_equal(draw(20), np.zeros((3, 20), dtype=np.int64))
    np.testing.assert_array_equal(draw(4), np.zeros((3, 4), dtype=np.int64))


@pytest.mark.parametrize("K", [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 100, 300, 511, 512])
def test_sample_at_the_cumulative_boundaries(K):
    """Rows of at most 512 classes are drawn by branch-free counts, over
    running sums formed once for the row when the draws are many (S * 8 >= K)
    or once per draw when they are few; longer rows, by row_invert's search;
    rows of at most 8 classes, sixteen at a time when there are as many.
    With AVX-512, the counts over running sums formed for the row are mask
    counts for rows of at least eight sub-blocks (57 classes or more), else
    the portable loop's; the two ways must draw the same.
    A row padded with masked classes past 512 has the same running sums, so
    on the same uniforms all of these must draw the same classes, including
    uniforms on and one ulp either side of every class boundary (where the
    summation order decides) and the extremes 0 and 1 - 2**-53, where the
    rare fallbacks run. No masked class is ever drawn."""
    rng = np.random.default_rng(K)
    logits = rng.normal(scale=3.0, size=(4, K))
    logits[1, rng.random(K) < 0.4] = -np.inf
    logits[1, 0] = 0.0
    logits[2, :] = 0.0
    logits[3, K // 2:] = -np.inf                       # masked classes at the end
    logits[3, 0] = 0.0
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    edges = np.cumsum(p, axis=1) / p.sum(axis=1, keepdims=True)    # (B, K)
    u = np.concatenate([edges.T, np.nextafter(edges.T, 0.0), np.nextafter(edges.T, 1.0),
                        np.full((1, 4), 0.0), np.full((1, 4), 1 - 2.0**-53),
                        rng.random((50, 4))])
    u = np.clip(u, 0.0, 1 - 2.0**-53)
    padded = np.concatenate([logits, np.full((4, 600), -np.inf)], axis=1)
    short, long = _c_sample(logits, u), _c_sample(padded, u)
    np.testing.assert_array_equal(short, long)
    np.testing.assert_array_equal(_c_sample(logits, u, mask_counts=False), short)
    # the padded rows (drawn alone, in chunks of 512 classes) sum alike too
    np.testing.assert_array_equal(_c_sample(padded, u, mask_counts=False), short)
    one_at_a_time = np.concatenate([_c_sample(logits, u[j:j + 1]) for j in range(len(u))])
    np.testing.assert_array_equal(one_at_a_time, short)
    # rows of at most 8 classes go sixteen at a time, one to a vector lane,
    # and the rows left over one by one: 20 copies of the rows draw the same
    many = _c_sample(np.tile(logits, (5, 1)), np.tile(u, (1, 5)))
    np.testing.assert_array_equal(many, np.tile(short, (1, 5)))
    rows = np.broadcast_to(np.arange(4), short.shape)
    assert np.isfinite(logits[rows, short]).all()
    # away from the boundaries, the class whose interval holds u
    inner = rng.random((200, 4))
    want = np.array([np.searchsorted(edges[i], inner[:, i], side="right")
                     for i in range(4)]).T
    got = _c_sample(logits, inner)
    cols = np.arange(4)
    upper = edges[cols, np.minimum(got, K - 1)]
    lower = np.where(got > 0, edges[cols, np.maximum(got - 1, 0)], 0.0)
    on_edge = np.minimum(np.abs(upper - inner), np.abs(lower - inner)) < 1e-12
    assert ((got == np.minimum(want, K - 1)) | on_edge).all()
