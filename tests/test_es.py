"""Fitness shaping for evolution strategies: centered_ranks and nes_utilities
against their definitions and the NumPy oracle, and an end-to-end search
gradient run on a shifted sphere."""
import numpy as np
import pytest

import scorefast as sf
from scorefast import reference as ref

SIZES = [2, 3, 10, 101]


def fitness(rng, n, ties=False):
    f = rng.standard_normal(n)
    if ties:
        f = np.round(f * 2) / 2          # many repeated values
    return f


# -- centered_ranks ----------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
def test_centered_ranks_definition(rng, n):
    f = fitness(rng, n)
    r = sf.centered_ranks(f)
    assert r.shape == (n,) and r.dtype == np.float64
    assert r.min() == -0.5 and r.max() == 0.5
    assert np.all((r >= -0.5) & (r <= 0.5))
    assert abs(r.sum()) < 1e-12 * n
    # order-preserving: r sorted in the order of f is increasing
    order = np.argsort(f)
    assert np.all(np.diff(r[order]) > 0)
    assert r[np.argmin(f)] == -0.5 and r[np.argmax(f)] == 0.5
    # rank k (0 = lowest) maps to k / (n - 1) - 1/2
    expected = np.empty(n)
    expected[order] = np.arange(n) / (n - 1) - 0.5
    np.testing.assert_allclose(r, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r, ref.centered_ranks(f), rtol=0, atol=1e-15)


@pytest.mark.parametrize("n", SIZES)
def test_centered_ranks_ties_are_averaged(rng, n):
    f = fitness(rng, n, ties=True)
    r = sf.centered_ranks(f)
    np.testing.assert_allclose(r, ref.centered_ranks(f), rtol=0, atol=1e-15)
    for v in np.unique(f):
        same = f == v
        assert np.ptp(r[same]) == 0          # equal fitness, equal value
    assert abs(r.sum()) < 1e-12 * n
    assert np.all((r >= -0.5) & (r <= 0.5))
    # non-decreasing in f, strictly increasing between distinct values
    order = np.argsort(f, kind="stable")
    assert np.all((np.diff(r[order]) > 0) == (np.diff(f[order]) > 0))


def test_centered_ranks_tie_values():
    r = sf.centered_ranks(np.array([3.0, 1.0, 3.0, 2.0, 1.0]))
    # sorted ranks 0..4 -> k/4 - 1/2; 1.0 spans ranks 0,1, 2.0 rank 2, 3.0 ranks 3,4
    np.testing.assert_array_equal(r, [0.375, -0.375, 0.375, 0.0, -0.375])
    # all tied: the average of ranks symmetric around 0 (zero up to rounding)
    np.testing.assert_allclose(sf.centered_ranks(np.full(4, 7.0)), np.zeros(4), atol=1e-15)


def test_centered_ranks_axis(rng):
    f = rng.standard_normal((4, 9))
    r1 = sf.centered_ranks(f, axis=1)
    assert r1.shape == f.shape
    for i in range(4):
        np.testing.assert_array_equal(r1[i], sf.centered_ranks(f[i]))
    np.testing.assert_allclose(r1, ref.centered_ranks(f, axis=1), rtol=0, atol=1e-15)
    r0 = sf.centered_ranks(f, axis=0)
    for j in range(9):
        np.testing.assert_array_equal(r0[:, j], sf.centered_ranks(f[:, j]))
    np.testing.assert_array_equal(sf.centered_ranks(f, axis=-1), r1)


def test_centered_ranks_invariant_under_monotone_transforms(rng):
    f = rng.standard_normal(50)
    r = sf.centered_ranks(f)
    np.testing.assert_array_equal(sf.centered_ranks(np.exp(f)), r)
    np.testing.assert_array_equal(sf.centered_ranks(3 * f + 100), r)
    np.testing.assert_array_equal(sf.centered_ranks(np.arctan(f) ** 3), r)
    # reversing the order mirrors the ranks (k/(n-1) - 1/2 is antisymmetric up to rounding)
    np.testing.assert_allclose(sf.centered_ranks(-f), -r, rtol=0, atol=1e-15)
    # outliers change nothing
    g = f.copy()
    g[np.argmax(g)] = 1e300
    np.testing.assert_array_equal(sf.centered_ranks(g), r)


def test_centered_ranks_small_inputs():
    np.testing.assert_array_equal(sf.centered_ranks(np.array([5.0])), [0.0])
    np.testing.assert_array_equal(sf.centered_ranks(np.array([2.0, 1.0])), [0.5, -0.5])
    assert sf.centered_ranks(np.zeros(0)).shape == (0,)
    # integer fitness is accepted
    np.testing.assert_array_equal(sf.centered_ranks([3, 1, 2]), [0.5, -0.5, 0.0])


# -- nes_utilities -----------------------------------------------------------------------
def nes_closed(n):
    """u_k for k = 1 (best) .. n, from the NES paper's formula."""
    k = np.arange(1, n + 1)
    raw = np.maximum(0.0, np.log(n / 2 + 1) - np.log(k))
    return raw / raw.sum() - 1.0 / n


@pytest.mark.parametrize("n", SIZES)
def test_nes_utilities_definition(rng, n):
    f = fitness(rng, n)
    u = sf.nes_utilities(f)
    assert u.shape == (n,) and u.dtype == np.float64
    assert abs(u.sum()) < 1e-12
    # rank 1 = best: u sorted from the best sample down is non-increasing
    best_first = np.argsort(-f)
    np.testing.assert_allclose(u[best_first], nes_closed(n), rtol=0, atol=1e-15)
    assert np.all(np.diff(u[best_first]) <= 0)
    assert u[np.argmax(f)] == u.max() and u[np.argmax(f)] > 0
    # the worse half (ranks k >= n/2 + 1) all get -1/n
    worse = best_first[np.arange(1, n + 1) >= n / 2 + 1]
    assert len(worse) >= (n - 1) // 2
    np.testing.assert_allclose(u[worse], -1.0 / n, rtol=1e-14)
    np.testing.assert_allclose(u, ref.nes_utilities(f), rtol=0, atol=1e-15)


@pytest.mark.parametrize("n", SIZES)
def test_nes_utilities_ties_are_averaged(rng, n):
    f = fitness(rng, n, ties=True)
    u = sf.nes_utilities(f)
    np.testing.assert_allclose(u, ref.nes_utilities(f), rtol=0, atol=1e-15)
    for v in np.unique(f):
        assert np.ptp(u[f == v]) < 1e-15
    assert abs(u.sum()) < 1e-12


def test_nes_utilities_tie_values():
    f = np.array([1.0, 3.0, 3.0, 0.0])
    u = sf.nes_utilities(f)
    c = nes_closed(4)            # by rank: 3.0, 3.0 share ranks 1, 2
    np.testing.assert_allclose(u, [c[2], (c[0] + c[1]) / 2, (c[0] + c[1]) / 2, c[3]],
                               rtol=0, atol=1e-15)


def test_nes_utilities_axis_and_monotone_invariance(rng):
    f = rng.standard_normal((3, 12))
    u1 = sf.nes_utilities(f, axis=1)
    for i in range(3):
        np.testing.assert_array_equal(u1[i], sf.nes_utilities(f[i]))
    np.testing.assert_allclose(u1, ref.nes_utilities(f, axis=1), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(sf.nes_utilities(np.exp(f), axis=1), u1)
    np.testing.assert_array_equal(sf.nes_utilities(f[0]), sf.nes_utilities(np.exp(f[0])))


def test_nes_utilities_single_sample():
    np.testing.assert_allclose(sf.nes_utilities(np.array([4.0])), [0.0], atol=1e-15)


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("func", [sf.centered_ranks, sf.nes_utilities])
def test_nan_fitness_is_rejected(func):
    with pytest.raises(ValueError, match="f"):
        func(np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="f"):
        func(np.array([[1.0, 2.0], [np.nan, 0.0]]), axis=1)


@pytest.mark.parametrize("func", [sf.centered_ranks, sf.nes_utilities])
def test_infinite_fitness_is_ranked(func):
    f = np.array([1.0, np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(func(f), func(np.array([1.0, 9.0, -9.0, 0.0])))


@pytest.mark.parametrize("func", [sf.centered_ranks, sf.nes_utilities])
def test_non_real_fitness_is_rejected(func):
    with pytest.raises(TypeError):
        func(np.array(["a", "b"]))


# -- end to end ---------------------------------------------------------------------------
# NES utilities are smaller in total than centered ranks (sum |u| ~ 1.2
# against sum |r| ~ 12.8 for n = 50) but concentrated on the best samples,
# which makes the mean step about 4 times shorter: hence the larger rate
@pytest.mark.parametrize("shaping, lr", [(sf.centered_ranks, 1.0), (sf.nes_utilities, 4.0)],
                         ids=["centered_ranks", "nes_utilities"])
def test_es_on_shifted_sphere(dtype, shaping, lr):
    """20 steps of an evolution strategy on f(x) = -sum (x - 1)^2 in 10
    dimensions: antithetic DiagNormal draws, fitness shaped by ranks,
    reinforce_grad(baseline='none') as the search gradient, gradient ascent
    on loc. The distance of loc to the optimum must shrink by more than half."""
    D, n, sigma, steps = 10, 50, 0.5, 20
    optimum = np.ones(D)
    loc = np.zeros(D, dtype)
    scale = np.full(D, sigma, dtype)
    gen = np.random.default_rng(2024)
    start = np.linalg.norm(loc - optimum)
    for _ in range(steps):
        d = sf.DiagNormal(loc, scale)
        x = d.sample(n, rng=gen, antithetic=True)           # (n, D)
        f = -((x.astype(np.float64) - optimum) ** 2).sum(-1)
        w = shaping(f).astype(dtype)
        g_loc, g_ls = sf.reinforce_grad(d, x, w, baseline="none")
        assert g_loc.shape == (D,) and g_loc.dtype == dtype
        # E[w * eps / sigma] ~ ascent direction; sigma^2 makes it a step in x units
        loc = (loc + dtype(lr * 4 * sigma ** 2) * g_loc).astype(dtype)
    end = np.linalg.norm(loc.astype(np.float64) - optimum)
    assert end < 0.5 * start, (start, end)
