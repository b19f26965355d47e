"""Streaming, mergeable accumulation: ExactSum, GradientAccumulator, estimate."""
import functools
import math
import pickle
import random
import sys
import tracemalloc

import numpy as np
import pytest

import scorefast as sf
from scorefast import accumulate as acc_mod
from scorefast.accumulate import ExactSum, GradientAccumulator, estimate, merge_all
from scorefast.noise import block_rng


# -- ExactSum -------------------------------------------------------------------

def _awkward_rows(rng, n, k):
    """Rows of doubles over the whole exponent range: subnormals, huge values,
    zeros, exact cancellations and round-half-even ties."""
    x = np.ldexp(rng.integers(-2**40, 2**40, size=(n, k)).astype(np.float64),
                 rng.integers(-1074, 960, size=(n, k)))
    x[rng.random((n, k)) < 0.1] = 0.0
    x[rng.random((n, k)) < 0.1] = 5e-324 * rng.integers(-3, 4)
    big = np.ldexp(rng.integers(2**52, 2**53, size=k).astype(np.float64),
                   rng.integers(-1000, 900, size=k))
    tie = np.vstack([big, np.spacing(big) / 2 * rng.choice([-1.0, 1.0], size=k)])
    return np.vstack([x, tie, -x[: n // 2]])


def _fsum_cols(x):
    return np.array([math.fsum(x[:, i]) for i in range(x.shape[1])])


@pytest.mark.parametrize("trial", range(30))
def test_exactsum_is_fsum(trial):
    rng = np.random.default_rng(trial)
    x = _awkward_rows(rng, int(rng.integers(1, 30)), 5)
    e = ExactSum((5,))
    for row in x:
        e.add(row)
    np.testing.assert_array_equal(e.value(), _fsum_cols(x))
    np.testing.assert_array_equal(e._read_slow(), _fsum_cols(x))


def test_exactsum_any_order_and_tree():
    rng = np.random.default_rng(1)
    x = _awkward_rows(rng, 40, 4)
    want = _fsum_cols(x)
    rnd = random.Random(0)
    for _ in range(10):
        parts = [ExactSum((4,)).add(row) for row in x]
        rnd.shuffle(parts)
        while len(parts) > 1:
            a, b = parts.pop(rnd.randrange(len(parts))), parts.pop(rnd.randrange(len(parts)))
            parts.append(a.merge(b) if rnd.random() < 0.5 else b.merge(a))
        np.testing.assert_array_equal(parts[0].value(), want)


def test_exactsum_lazy_carries(monkeypatch):
    """Forcing a carry pass after every other addition changes nothing."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 3)) * 1e10
    lazy = ExactSum((3,))
    for row in x:
        lazy.add(row)
    monkeypatch.setattr(ExactSum, "_MAX_PENDING", 2)
    eager = ExactSum((3,))
    for row in x:
        eager.add(row)
    np.testing.assert_array_equal(eager.value(), lazy.value())
    np.testing.assert_array_equal(eager.value(), _fsum_cols(x))


def test_exactsum_edges():
    e = ExactSum(())
    assert e.value() == 0.0 and e.value().shape == ()
    for v in (1e300, 1.0, -1e300):
        e.add(np.float64(v))
    assert e.value() == 1.0                       # a float64 running sum gives 0.0
    big = ExactSum(())
    for _ in range(3):
        big.add(np.float64(1.5e308))
    assert big.value() == np.inf
    big.add(np.float64(-1.5e308)).add(np.float64(-1.5e308))
    assert big.value() == 1.5e308                 # no intermediate overflow
    neg = ExactSum((2,)).add(np.array([-1e308, -5e-324])).add(np.array([-1e308, -5e-324]))
    np.testing.assert_array_equal(neg.value(), [-np.inf, -1e-323])
    zeros = ExactSum((3,)).add(np.zeros(3))
    np.testing.assert_array_equal(zeros.value(), np.zeros(3))
    f32 = ExactSum((2,)).add(np.array([0.1, 3], dtype=np.float32))
    np.testing.assert_array_equal(f32.value(), np.array([0.1, 3], dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        ExactSum((2,)).add(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="shape"):
        ExactSum((2,)).add(np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        ExactSum((2,)).merge(ExactSum((3,)))
    with pytest.raises(TypeError):
        ExactSum((2,)).merge(np.ones(2))


def test_exactsum_pickles():
    rng = np.random.default_rng(3)
    e = ExactSum((2, 3))
    for _ in range(5):
        e.add(rng.standard_normal((2, 3)))
    e.value()
    f = pickle.loads(pickle.dumps(e))
    np.testing.assert_array_equal(f.value(), e.value())
    row = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(f.add(row).value(), e.add(row).value())


# -- GradientAccumulator -------------------------------------------------------

def _cases():
    rng = np.random.default_rng(10)
    table = rng.normal(size=(3, 5))
    return {
        "categorical": (sf.Categorical(rng.normal(size=(3, 5))),
                        lambda v: np.take_along_axis(table, v.T, 1).T + 0.5),
        "categorical32": (sf.Categorical(rng.normal(size=(4,)).astype(np.float32)),
                          lambda v: (v == 1) * 2.0 - 0.3 * v),
        "bernoulli": (sf.Bernoulli(rng.normal(size=(2, 4))),
                      lambda v: v.sum(-1, keepdims=True) - 1.5),      # shared along the last axis
        "normal": (sf.Normal(rng.normal(size=3), np.exp(rng.normal(size=3))),
                   lambda v: v ** 2),
        "diagnormal": (sf.DiagNormal(rng.normal(size=(2, 4)), 0.7),
                       lambda v: -np.sum((v - 1.0) ** 2, axis=-1)),
    }


CASES = _cases()


@pytest.fixture(params=list(CASES))
def case(request):
    dist, fn = CASES[request.param]
    rng = np.random.default_rng(100 + list(CASES).index(request.param))
    sizes = [7, 30, 1, 55, 12, 40]
    chunks = [dist.sample(s, rng=rng) for s in sizes]
    rewards = [fn(c) for c in chunks]
    return dist, chunks, rewards


def _parts(g):
    return g if isinstance(g, tuple) else (g,)


def _outputs(acc):
    """Every number an accumulator reports."""
    out = []
    for b in ("none", "mean", "loo", "optimal", -0.25):
        for red in ("mean", "sum"):
            out += _parts(acc.grad(b, red)) + _parts(acc.stderr(b, red))
    return out + [acc.mean_reward(), acc.reward_variance(), np.array(acc.n)]


def _assert_identical(a, b):
    for x, y in zip(_outputs(a), _outputs(b), strict=True):
        np.testing.assert_array_equal(x, y)


def _tree(accs, shape, rnd=None):
    if shape == "left":
        return functools.reduce(lambda a, b: a.merge(b), accs)
    if shape == "right":
        return functools.reduce(lambda a, b: b.merge(a), reversed(accs))
    if shape == "balanced":
        while len(accs) > 1:
            accs = [accs[i].merge(*accs[i + 1:i + 2]) for i in range(0, len(accs), 2)]
        return accs[0]
    accs = list(accs)
    while len(accs) > 1:
        a, b = accs.pop(rnd.randrange(len(accs))), accs.pop(rnd.randrange(len(accs)))
        accs.append(a + b)
    return accs[0]


def test_one_pass_equals_every_tree(case):
    dist, chunks, rewards = case
    one = GradientAccumulator(dist)
    for c, r in zip(chunks, rewards):
        one.update(c, r)
    leaves = [GradientAccumulator(dist).update(c, r) for c, r in zip(chunks, rewards)]
    for shape in ("left", "right", "balanced"):
        _assert_identical(_tree(leaves, shape), one)
    rnd = random.Random(5)
    for _ in range(3):
        shuffled = leaves[:]
        rnd.shuffle(shuffled)
        _assert_identical(_tree(shuffled, "random", rnd), one)
    _assert_identical(merge_all(reversed(leaves)), one)
    # merging leaves the operands as they were
    _assert_identical(leaves[0], GradientAccumulator(dist).update(chunks[0], rewards[0]))


def test_pickle_round_trip(case):
    dist, chunks, rewards = case
    acc = GradientAccumulator(dist)
    for c, r in zip(chunks[:3], rewards[:3]):
        acc.update(c, r)
    back = pickle.loads(pickle.dumps(acc))
    _assert_identical(back, acc)
    # the copy keeps accumulating, and merges with the original's peers
    for c, r in zip(chunks[3:], rewards[3:]):
        back.update(c, r)
        acc.update(c, r)
    _assert_identical(back, acc)
    _assert_identical(back.merge(acc), acc.merge(pickle.loads(pickle.dumps(acc))))


@pytest.mark.parametrize("baseline", ["none", "mean", "loo", 0.7])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_grad_equals_reinforce_grad(case, baseline, reduction):
    dist, chunks, rewards = case
    acc = GradientAccumulator(dist)
    for c, r in zip(chunks, rewards):
        acc.update(c, r)
    value, r = np.concatenate(chunks), np.concatenate(rewards)
    expected = sf.reinforce_grad(dist, value, r, baseline=baseline, reduction=reduction)
    rtol = 1e-5 if dist.dtype == np.float32 else 1e-10
    for got, want in zip(_parts(acc.grad(baseline, reduction)), _parts(expected), strict=True):
        assert got.dtype == np.float64 and got.shape == want.shape
        scale = np.max(np.abs(want))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def _per_sample_terms(dist, value, rewards, b):
    """(f - b) * score per sample, from materialised scores (NumPy)."""
    S = value.shape[0]
    f = np.broadcast_to(rewards, (S,) + tuple(dist.batch_shape)).astype(np.float64)
    terms = []
    for s, bb in zip(_parts(dist.score(value)), _parts(b)):
        s = s.astype(np.float64)
        fe = f.reshape(f.shape + (1,) * (s.ndim - f.ndim))
        terms.append((fe - bb) * s)
    return terms


@pytest.mark.parametrize("baseline", ["none", "mean", "optimal", 2.5])
def test_stderr_is_sample_std_over_sqrt_n(case, baseline):
    dist, chunks, rewards = case
    acc = GradientAccumulator(dist)
    for c, r in zip(chunks, rewards):
        acc.update(c, r)
    value, r = np.concatenate(chunks), np.concatenate(rewards)
    N, B = value.shape[0], math.prod(dist.batch_shape)
    terms = _per_sample_terms(dist, value, r, acc.baseline(baseline))
    # float32: each chunk's fused sum of f * score comes back rounded to float32
    rtol = 1e-5 if dist.dtype == np.float32 else 1e-8
    for se, t, g in zip(_parts(acc.stderr(baseline)), terms, _parts(acc.grad(baseline))):
        want_se, want_g = t.std(axis=0, ddof=1) / np.sqrt(N) / B, t.mean(axis=0) / B
        np.testing.assert_allclose(se, want_se, rtol=rtol, atol=rtol * want_se.max())
        np.testing.assert_allclose(g, want_g, rtol=rtol, atol=rtol * np.abs(want_g).max())
    # "sum": the same terms, summed
    for se, t in zip(_parts(acc.stderr(baseline, "sum")), terms):
        want_se = t.std(axis=0, ddof=1) * np.sqrt(N)
        np.testing.assert_allclose(se, want_se, rtol=rtol, atol=rtol * want_se.max())


def test_loo_terms_are_rescaled_mean_terms(case):
    dist, chunks, rewards = case
    acc = GradientAccumulator(dist)
    for c, r in zip(chunks, rewards):
        acc.update(c, r)
    n = acc.n
    for lo, me in zip(_parts(acc.stderr("loo")), _parts(acc.stderr("mean"))):
        np.testing.assert_allclose(lo, me * n / (n - 1), rtol=1e-14)


def test_optimal_from_sums_matches_numpy(case):
    dist, chunks, rewards = case
    acc = GradientAccumulator(dist)
    for c, r in zip(chunks, rewards):
        acc.update(c, r)
    value, r = np.concatenate(chunks), np.concatenate(rewards)
    S, B = value.shape[0], math.prod(dist.batch_shape)
    f = np.broadcast_to(r, (S,) + tuple(dist.batch_shape)).astype(np.float64)
    for got_b, got_g, s in zip(_parts(acc.baseline("optimal")), _parts(acc.grad("optimal")),
                               _parts(dist.score(value))):
        s = s.astype(np.float64)
        fe = f.reshape(f.shape + (1,) * (s.ndim - f.ndim))
        den = (s * s).sum(0)
        b = np.where(den > 0, (fe * s * s).sum(0) / np.where(den > 0, den, 1.0),
                     np.broadcast_to(fe.mean(0), den.shape))
        # float32: the oracle's scores are rounded to float32
        rtol = 1e-5 if dist.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(got_b, b, rtol=rtol / 10)
        want = ((fe - b) * s).sum(0) / (S * B)
        np.testing.assert_allclose(got_g, want, rtol=rtol, atol=rtol * np.abs(want).max())


def test_optimal_bias_is_order_one_over_n():
    """The full-sample optimal baseline differs from scorefast's leave-one-out
    one by O(1/N): N times the gap stays put as N grows tenfold, and the gap is
    far below the standard error."""
    rng = np.random.default_rng(3)
    dist = sf.Categorical(rng.normal(size=(2, 4)))
    table = rng.normal(size=(2, 4)) + 3.0
    scaled = []
    for N in (10**4, 10**5):
        v = dist.sample(N, rng=rng)
        r = np.take_along_axis(table, v.T, 1).T
        acc = GradientAccumulator(dist).update(v, r)
        gap = np.abs(acc.grad("optimal") - sf.reinforce_grad(dist, v, r, baseline="optimal"))
        assert np.all(gap < 0.3 * acc.stderr("optimal"))
        scaled.append(N * gap.max())
    assert 0.3 < scaled[1] / scaled[0] < 3.0


def test_shift_changes_nothing_but_round_off():
    rng = np.random.default_rng(4)
    dist = sf.Normal(np.zeros(3), 1.0)
    v = dist.sample(5000, rng=rng)
    r = 1e6 + v ** 2                                  # rewards far from zero
    plain = GradientAccumulator(dist).update(v, r)
    shifted = GradientAccumulator(dist, shift=1e6).update(v[:2000], r[:2000])
    shifted = shifted.merge(GradientAccumulator(dist, shift=1e6).update(v[2000:], r[2000:]))
    centred = sf.reinforce_grad(dist, v, r - 1e6, baseline="mean")
    for got, want in zip(shifted.grad("mean"), centred):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    for b in ("none", "loo", "optimal", 3.0):
        for a, c in zip(plain.grad(b), shifted.grad(b)):
            np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-6 * np.abs(c).max())
        for a, c in zip(plain.stderr(b), shifted.stderr(b)):
            np.testing.assert_allclose(a, c, rtol=1e-3)
    np.testing.assert_allclose(shifted.mean_reward(), r.mean(0), rtol=1e-14)
    np.testing.assert_allclose(shifted.reward_variance(), r.var(0, ddof=1), rtol=1e-9)


def test_multidimensional_sample_shape():
    rng = np.random.default_rng(5)
    dist = sf.Categorical(rng.normal(size=(2, 3)))
    v = dist.sample((4, 6), rng=rng)
    r = rng.normal(size=(4, 6, 2))
    a = GradientAccumulator(dist).update(v, r)
    b = GradientAccumulator(dist).update(v.reshape(24, 2), r.reshape(24, 2))
    _assert_identical(a, b)
    np.testing.assert_allclose(a.grad("mean"), sf.reinforce_grad(dist, v, r, "mean"),
                               rtol=1e-10, atol=1e-14)


def test_without_second_moments_same_grad():
    dist, fn = CASES["diagnormal"]
    v = dist.sample(100, rng=1)
    full = GradientAccumulator(dist).update(v, fn(v))
    light = GradientAccumulator(dist, second_moments=False).update(v, fn(v))
    for b in ("none", "mean", "loo"):
        for x, y in zip(full.grad(b), light.grad(b)):
            np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="second_moments"):
        light.stderr()
    with pytest.raises(ValueError, match="second_moments"):
        light.grad("optimal")
    with pytest.raises(ValueError, match="second moments"):
        full.merge(light)
    assert light.nbytes < full.nbytes


def test_errors_leave_accumulator_untouched():
    dist, fn = CASES["categorical"]
    v = dist.sample(10, rng=2)
    acc = GradientAccumulator(dist).update(v, fn(v))
    before = _outputs(acc)
    bad = fn(v).astype(np.float64)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        acc.update(v, bad)
    with pytest.raises(ValueError, match="broadcast"):
        acc.update(v, np.ones((10, 4)))
    with pytest.raises(TypeError):
        acc.update(v, np.array(["a"] * 10))
    acc.update(v[:0], fn(v)[:0])                     # an empty chunk adds nothing
    for x, y in zip(_outputs(acc), before, strict=True):
        np.testing.assert_array_equal(x, y)


def test_bad_baselines_and_merges():
    dist, fn = CASES["normal"]
    v = dist.sample(10, rng=3)
    acc = GradientAccumulator(dist).update(v, fn(v))
    with pytest.raises(ValueError, match="not linear"):
        acc.grad("group")
    with pytest.raises(ValueError, match="EMABaseline"):
        acc.grad(sf.EMABaseline(0.9))
    with pytest.raises(ValueError):
        acc.grad("median")
    with pytest.raises(ValueError, match="finite"):
        acc.grad(float("nan"))
    with pytest.raises(ValueError, match="reduction"):
        acc.grad("none", "max")
    other = sf.Normal(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="different distributions"):
        acc.merge(GradientAccumulator(other))
    with pytest.raises(ValueError, match="different distributions"):
        acc.merge(GradientAccumulator(sf.DiagNormal(np.zeros(3), 1.0)))
    with pytest.raises(ValueError, match="shift"):
        acc.merge(GradientAccumulator(dist, shift=1.0))
    with pytest.raises(TypeError):
        acc.merge(3)
    with pytest.raises(ValueError):
        GradientAccumulator(dist, shift=float("inf"))
    with pytest.raises(TypeError):
        GradientAccumulator(object())
    # an equal distribution (not the same object) merges
    same = sf.Normal(dist.loc.copy(), dist.scale.copy())
    acc.merge(GradientAccumulator(same).update(v, fn(v)))
    empty = GradientAccumulator(dist)
    with pytest.raises(ValueError, match="at least 1"):
        empty.grad("none")
    one = GradientAccumulator(dist).update(v[:1], fn(v[:1]))
    one.grad("mean")
    with pytest.raises(ValueError, match="at least 2"):
        one.grad("loo")
    with pytest.raises(ValueError, match="at least 2"):
        one.stderr("none")
    with pytest.raises(ValueError):
        merge_all([])


# -- the chunked path ------------------------------------------------------------

def test_estimate_is_the_chunks_accumulated():
    """estimate draws chunk j from block_rng(seed, j); the last chunk is short."""
    dist = sf.Categorical(np.log([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    fn = CASES["categorical32"][1]
    res = estimate(dist, fn, 1003, chunk_size=100, seed=9, baseline="mean", progress=False)
    manual = GradientAccumulator(dist)
    for j, size in enumerate([100] * 10 + [3]):
        v = dist.sample(size, rng=block_rng(9, j))
        manual.update(v, fn(v))
    _assert_identical(res.accumulator, manual)
    assert res.n_samples == 1003
    np.testing.assert_array_equal(res.grad, manual.grad("mean"))
    np.testing.assert_array_equal(res.stderr, manual.stderr("mean"))
    assert acc_mod.chunk_sizes(1003, 100) == [100] * 10 + [3]
    assert acc_mod.chunk_sizes(0, 100) == []


def test_estimate_million_samples_against_closed_form():
    """N = 10^6 through chunks: for f = x^2 under Normal(mu, sigma),
    d/dmu E f = 2 mu and d/dlog sigma E f = 2 sigma^2. Within 5 standard errors."""
    mu, sigma = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3, 1.5])
    dist = sf.Normal(mu, sigma)
    seen = []

    def reward(x):
        seen.append(x.shape[0])
        return x ** 2

    res = estimate(dist, reward, 10**6, chunk_size=2**16, seed=2024, baseline="loo",
                   reduction="sum", progress=False)
    assert sum(seen) == 10**6 and max(seen) == 2**16
    g_loc, g_ls = (g / 10**6 for g in res.grad)
    se_loc, se_ls = (s / 10**6 for s in res.stderr)
    assert np.all(np.abs(g_loc - 2 * mu) < 5 * se_loc)
    assert np.all(np.abs(g_ls - 2 * sigma ** 2) < 5 * se_ls)
    # the standard error shrinks as 1/sqrt(N) ("mean" also divides by the batch size 3)
    small = estimate(dist, lambda x: x ** 2, 10**4, chunk_size=2**16, seed=7,
                     baseline="loo", reduction="mean", progress=False)
    ratio = small.stderr[0] / (res.stderr[0] / 10**6 / 3)
    assert np.all(np.abs(ratio / 10 - 1) < 0.15)


def test_estimate_categorical_unbiased():
    """Leave-one-out and no baseline both unbiased: against the exact gradient
    p * (r - E r) / B, within 5 standard errors."""
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(3, 4))
    table = rng.normal(size=(3, 4)) + 2.0
    dist = sf.Categorical(logits)
    p = dist.probs
    exact = p * (table - (p * table).sum(-1, keepdims=True)) / 3

    def reward(v):
        return np.take_along_axis(table, v.T, 1).T

    res = estimate(dist, reward, 300_000, chunk_size=50_000, seed=1, progress=False)
    acc = res.accumulator
    for b in ("loo", "none"):
        assert np.all(np.abs(acc.grad(b) - exact) < 5 * acc.stderr(b))
    assert np.all(acc.stderr("loo") < acc.stderr("none"))
    assert np.all(acc.stderr("optimal") <= acc.stderr("loo") * 1.01)


def test_estimate_antithetic_and_defaults():
    dist = sf.DiagNormal(np.zeros(5), 1.0)
    fn = CASES["diagnormal"][1]
    res = estimate(dist, fn, 2000, chunk_size=500, seed=3, antithetic=True, progress=False)
    manual = GradientAccumulator(dist)
    for j in range(4):
        v = dist.sample(500, rng=block_rng(3, j), antithetic=True)
        np.testing.assert_array_equal(v[:250], -v[250:])
        manual.update(v, fn(v))
    _assert_identical(res.accumulator, manual)
    assert acc_mod.default_chunk_size(dist) == (1 << 20) // 5
    assert acc_mod.default_chunk_size(sf.Categorical(np.zeros((10**4, 1000)))) == 64
    default = estimate(dist, fn, 1000, progress=False)         # one default-size chunk
    one = GradientAccumulator(dist)
    v = dist.sample(1000, rng=block_rng(0, 0))
    _assert_identical(default.accumulator, one.update(v, fn(v)))
    light = estimate(dist, fn, 1000, progress=False, second_moments=False)
    assert light.stderr is None
    for x, y in zip(light.grad, default.grad):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="chunk_size"):
        estimate(dist, fn, 10, chunk_size=0)
    with pytest.raises(TypeError):
        estimate(dist, fn, 10.0)
    with pytest.raises(IndexError):
        acc_mod.accumulate_chunks(dist, fn, 1000, 500, 0, chunks=[2])


def test_estimate_memory_is_bounded():
    """3 10^5 samples of a 4-vector in chunks of 10^4: peak traced memory stays
    near a few chunks (one value array of the whole run would be 9.6 MB)."""
    dist = sf.Normal(np.zeros(4), 1.0)
    estimate(dist, lambda x: x, 10**4, chunk_size=10**4, progress=False)   # warm-up
    tracemalloc.start()
    try:
        estimate(dist, lambda x: np.sin(x), 3 * 10**5, chunk_size=10**4, seed=5,
                 progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, peak


def test_progress_fallback_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    dist = sf.Normal(0.0, 1.0)
    estimate(dist, lambda x: x, 1000, chunk_size=100, progress=True)
    err = capsys.readouterr().err
    assert "100.0%" in err and "samples/s" in err
    estimate(dist, lambda x: x, 1000, chunk_size=100, progress=None)
    estimate(dist, lambda x: x, 1000, chunk_size=100, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    dist = sf.Normal(0.0, 1.0)
    estimate(dist, lambda x: x, 1000, chunk_size=100, progress=True)
    assert "1.00k/1.00k" in capsys.readouterr().err
    estimate(dist, lambda x: x, 1000, chunk_size=100, progress=None)   # short: no bar
    assert capsys.readouterr().err == ""
