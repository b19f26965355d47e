"""advantages, EMABaseline and reinforce_grad against hand formulas and the
NumPy oracle (scorefast.reference)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import scorefast as sf
from scorefast import reference as ref

from conftest import assert_close, closed_score, free_nan_memory, random_logits

STRING_BASELINES = ["none", "mean", "loo", "group"]


# -- hand formulas ------------------------------------------------------------------
def hand_advantages(r, baseline, groups=None, eps=1e-8, ddof=0):
    """Advantages along axis 0, written out group by group."""
    r = np.asarray(r, dtype=np.float64)
    ids = np.zeros(len(r), int) if groups is None else np.asarray(groups)
    out = np.empty_like(r)
    for g in set(ids.tolist()):
        m = ids == g
        x = r[m]
        n = len(x)
        if baseline == "none":
            out[m] = x
        elif baseline == "mean":
            out[m] = x - x.sum(0) / n
        elif baseline == "loo":
            out[m] = np.stack([x[i] - (x.sum(0) - x[i]) / (n - 1) for i in range(n)])
        elif baseline == "group":
            dev = x - x.mean(0)
            std = np.std(x, axis=0, ddof=ddof) if n > ddof else 0.0
            out[m] = dev / (std + eps)
        else:
            out[m] = x - float(baseline)
    return out


def _atol_for(r):
    """Rounding scale of an advantage: the magnitude of the rewards."""
    return max(1.0, float(np.abs(r).max()))


# -- advantages ---------------------------------------------------------------------
@pytest.mark.parametrize("baseline", STRING_BASELINES + [0.75, -2])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_advantages_hand_formula_and_reference(rng, dtype, baseline, axis):
    r = rng.standard_normal((6, 5)).astype(dtype)
    a = sf.advantages(r, baseline, axis=axis)
    assert a.shape == r.shape and a.dtype == dtype
    r0 = np.moveaxis(r, axis, 0)
    expected = np.moveaxis(hand_advantages(r0, baseline), 0, axis)
    assert_close(a, expected, dtype, scale=_atol_for(r))
    assert_close(a, ref.advantages(r, baseline, axis=axis), dtype,
                 scale=_atol_for(r))


@pytest.mark.parametrize("baseline", STRING_BASELINES)
@pytest.mark.parametrize("shape, axis", [((9,), 0), ((9, 3), 0), ((2, 9), 1), ((2, 9, 3), 1)],
                         ids=str)
def test_advantages_with_groups(rng, dtype, baseline, shape, axis):
    # interleaved ids, unequal group sizes (4, 3, 2), ids not 0..G-1
    groups = np.array([7, 3, 7, -1, 3, 7, -1, 3, 7])
    r = rng.standard_normal(shape).astype(dtype)
    a = sf.advantages(r, baseline, axis=axis, groups=groups)
    assert a.shape == r.shape and a.dtype == dtype
    expected = np.moveaxis(hand_advantages(np.moveaxis(r, axis, 0), baseline, groups), 0, axis)
    assert_close(a, expected, dtype, scale=4)
    assert_close(a, ref.advantages(r, baseline, axis=axis, groups=groups), dtype, scale=4)
    # each group on its own gives the same advantages
    r0, a0 = np.moveaxis(r, axis, 0), np.moveaxis(a, axis, 0)
    for g in np.unique(groups):
        m = groups == g
        assert_close(a0[m], sf.advantages(r0[m], baseline, axis=0), dtype, scale=4)


@pytest.mark.parametrize("eps", [1e-8, 0.5])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_advantages_group_eps_ddof(rng, dtype, eps, ddof):
    groups = np.array([0, 1, 0, 1, 1, 0, 2, 2, 2, 0])     # sizes 4, 3, 3: all > ddof
    r = rng.standard_normal((10, 2)).astype(dtype)
    a = sf.advantages(r, "group", groups=groups, eps=eps, ddof=ddof)
    expected = hand_advantages(r, "group", groups, eps=eps, ddof=ddof)
    assert_close(a, expected, dtype, scale=4)
    assert_close(a, ref.advantages(r, "group", groups=groups, eps=eps, ddof=ddof), dtype,
                 scale=4)
    # within every group the advantages have standard deviation (over
    # n - ddof) std / (std + eps)
    for g in range(3):
        x, y = a[groups == g].astype(np.float64), r[groups == g].astype(np.float64)
        sd = np.std(y, axis=0, ddof=ddof)
        assert_close(np.std(x, axis=0, ddof=ddof), sd / (sd + eps), dtype, scale=10)


@pytest.mark.parametrize("baseline", ["mean", "loo", "group"])
def test_all_equal_rewards_give_exactly_zero(dtype, baseline):
    # 0.1 * 7 / 7 != 0.1 in floating point: a naive mean would leave residues
    for n in (3, 7):
        a = sf.advantages(np.full(n, 0.1, dtype=dtype), baseline)
        assert np.all(a == 0), a
        a2 = sf.advantages(np.full((n, 4), 0.1, dtype=dtype), baseline, axis=0)
        assert np.all(a2 == 0)
        a3 = sf.advantages(np.full((4, n), 0.1, dtype=dtype), baseline, axis=1)
        assert np.all(a3 == 0)
    # within groups: groups 0 and 1 are 0.1 repeated 3 and 7 times, interleaved
    # with a group 2 of distinct rewards
    groups = np.array([0, 1, 2, 1, 0, 1, 2, 1, 1, 0, 1, 2, 1])
    r = np.where(groups == 2, np.arange(13) + 1.0, 0.1)
    r = r.astype(dtype)
    assert (groups == 0).sum() == 3 and (groups == 1).sum() == 7
    a = sf.advantages(r, baseline, groups=groups)
    assert np.all(a[groups != 2] == 0)
    assert np.all(a[groups == 2] != 0)


@pytest.mark.parametrize("ddof", [1, 2, 3])
def test_group_with_n_le_ddof_gives_exactly_zero(dtype, ddof):
    """Documented: "A group with n <= ddof [...] gets advantages of exactly
    zero" -- not deviations divided by eps."""
    groups = np.array([0, 1, 0, 1, 1, 1, 2])        # sizes 2, 4, 1
    r = np.array([0.0, 1.0, 1.0, 2.0, 4.0, 8.0, 3.0], dtype=dtype)
    a = sf.advantages(r, "group", groups=groups, ddof=ddof)
    small = np.isin(groups, [g for g, n in ((0, 2), (1, 4), (2, 1)) if n <= ddof])
    assert np.all(a[small] == 0), a
    assert np.all(np.isfinite(a))
    assert np.all(np.abs(a[~small]) < 10)


def test_advantages_int_rewards_become_float64():
    a = sf.advantages(np.array([1, 2, 3, 6]), "mean")
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, [-2.0, -1.0, 0.0, 3.0])
    np.testing.assert_array_equal(sf.advantages([1, 2, 3], "none"), [1.0, 2.0, 3.0])


def test_advantages_do_not_modify_rewards(rng, dtype):
    r = rng.standard_normal((5, 3)).astype(dtype)
    r0 = r.copy()
    for b in STRING_BASELINES + [1.0]:
        a = sf.advantages(r, b)
        assert not np.shares_memory(a, r)
    np.testing.assert_array_equal(r, r0)


@settings(max_examples=60, deadline=None)
@given(r=hnp.arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(1, 3)),
                    elements=st.floats(-1e3, 1e3)),
       baseline=st.sampled_from(["none", "mean", "loo"]),
       data=st.data())
def test_advantages_match_reference_property(r, baseline, data):
    groups = data.draw(hnp.arrays(np.int64, r.shape[0], elements=st.integers(0, 2)))
    sizes = np.bincount(groups)
    if baseline == "loo" and sizes[sizes > 0].min() < 2:
        groups = None                     # loo needs two samples in every group
    a = sf.advantages(r, baseline, groups=groups)
    np.testing.assert_allclose(a, ref.advantages(r, baseline, groups=groups),
                               rtol=1e-10, atol=1e-9)
    # mean and loo advantages sum to zero within every group
    if baseline != "none":
        ids = np.zeros(len(r), int) if groups is None else groups
        for g in np.unique(ids):
            assert np.all(np.abs(a[ids == g].sum(0)) <= 1e-9 * max(1, np.abs(r).max()) * len(r))


# -- EMABaseline --------------------------------------------------------------------
def test_ema_first_call_returns_rewards(dtype):
    ema = sf.EMABaseline(0.9)
    r = np.array([0.5, 1.5, -2.0], dtype=dtype)
    a = ema(r)
    np.testing.assert_array_equal(a, r)
    assert a.dtype == dtype
    assert ema.count == 1


@pytest.mark.parametrize("decay", [0.0, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("c", [0.1, 3.7, -1.3])
def test_ema_constant_reward_is_exact_from_second_batch(dtype, decay, c):
    ema = sf.EMABaseline(decay, debias=True)
    r = np.full(5, c, dtype=dtype)
    np.testing.assert_array_equal(ema(r), r)
    for _ in range(6):
        assert ema.value == float(dtype(c))
        a = ema(r)
        assert np.all(a == 0)


def test_ema_uses_only_earlier_batches(rng):
    ema = sf.EMABaseline(0.8)
    for t in range(6):
        r = rng.standard_normal(4 + t) + t
        before = ema.value
        a = ema(r)
        np.testing.assert_array_equal(a, r - before)
        assert ema.value != before


@pytest.mark.parametrize("debias", [True, False])
@pytest.mark.parametrize("decay", [0.0, 0.3, 0.9, 0.99])
def test_ema_matches_reference(rng, dtype, decay, debias):
    ours, theirs = sf.EMABaseline(decay, debias=debias), ref.EMABaseline(decay, debias=debias)
    for t in range(8):
        r = (rng.standard_normal(3 + 2 * t) + 0.5 * t).astype(dtype)
        a, b = ours(r), theirs(r)
        assert a.dtype == dtype
        assert_close(a, b, dtype, scale=4)
        assert_close(ours.value, theirs.value, dtype)
    assert ours.count == 8


def test_ema_without_debias_starts_from_zero():
    ema = sf.EMABaseline(0.75, debias=False)
    ema(np.array([4.0, 4.0]))
    assert ema.value == pytest.approx(0.25 * 4.0, rel=1e-15)
    ema(np.array([4.0]))
    assert ema.value == pytest.approx((0.75 * 0.25 + 0.25) * 4.0, rel=1e-15)


def test_ema_reset_and_update():
    ema = sf.EMABaseline(0.5)
    assert ema.update([2.0, 4.0]) == 3.0
    ema.reset()
    assert ema.value == 0.0 and ema.count == 0
    np.testing.assert_array_equal(ema([1.0, 2.0]), [1.0, 2.0])
    assert "EMABaseline(decay=0.5" in repr(ema)


def test_advantages_pass_ema_through(rng):
    ema1, ema2 = sf.EMABaseline(0.9), sf.EMABaseline(0.9)
    for _ in range(3):
        r = rng.standard_normal((4, 2))
        np.testing.assert_array_equal(sf.advantages(r, ema1), ema2(r))


# -- reinforce_grad -------------------------------------------------------------------
ALL_BASELINES = ["none", "mean", "loo", "group", "optimal", 0.6]


def _problem(rng, dtype, batch_shape, sample_shape, K=4):
    logits = random_logits(rng, batch_shape + (K,), dtype)
    d = sf.Categorical(logits)
    v = d.sample(sample_shape, rng=rng)
    R = rng.standard_normal(batch_shape + (K,))
    # reward of a sample: a table lookup by row and class, plus noise
    f = np.take_along_axis(np.broadcast_to(R, sample_shape + R.shape), v[..., None], -1)[..., 0]
    f = (f + 0.1 * rng.standard_normal(v.shape)).astype(dtype)
    return logits, d, v, f


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("baseline", ALL_BASELINES, ids=str)
@pytest.mark.parametrize("batch_shape, sample_shape", [
    ((5,), (6,)), ((3, 4), (2, 3)), ((), (7,)), ((1,), (2,)),
], ids=str)
def test_reinforce_grad_matches_reference(rng, dtype, baseline, reduction, batch_shape,
                                          sample_shape):
    logits, d, v, f = _problem(rng, dtype, batch_shape, sample_shape)
    g = sf.reinforce_grad(d, v, f, baseline=baseline, reduction=reduction)
    assert g.shape == batch_shape + (4,) and g.dtype == dtype
    expected = ref.reinforce_grad(ref.Categorical(logits), v, f, baseline=baseline,
                                  reduction=reduction)
    S = math.prod(sample_shape)
    scale = (4.0 * S) if reduction == "sum" else 4.0
    assert_close(g, expected, dtype, scale=scale)


@pytest.mark.parametrize("baseline", ["none", "mean", "loo", "group", 0.6])
def test_reinforce_grad_hand_formula(rng, dtype, baseline):
    """sum_s adv_s * (onehot(x_s) - p) / (S * B), advantages per batch row."""
    logits, d, v, f = _problem(rng, dtype, (5,), (6,))
    adv = hand_advantages(f, baseline)
    expected = (adv[..., None] * closed_score(logits, v)).sum(0) / (6 * 5)
    g = sf.reinforce_grad(d, v, f, baseline=baseline)
    assert_close(g, expected, dtype, scale=4)


@pytest.mark.parametrize("baseline", ["none", "mean", "loo", "group"])
def test_reinforce_grad_with_groups(rng, dtype, baseline):
    logits, d, v, f = _problem(rng, dtype, (3,), (9,))
    groups = np.array([0, 1, 0, 2, 1, 0, 2, 1, 0])
    g = sf.reinforce_grad(d, v, f, baseline=baseline, groups=groups, reduction="sum")
    expected = ref.reinforce_grad(ref.Categorical(logits), v, f, baseline=baseline,
                                  groups=groups, reduction="sum")
    assert_close(g, expected, dtype, scale=40)
    adv = hand_advantages(f, baseline, groups)
    assert_close(g, (adv[..., None] * closed_score(logits, v)).sum(0), dtype, scale=40)


@pytest.mark.parametrize("baseline", ALL_BASELINES, ids=str)
def test_reduction_mean_is_sum_over_s_times_b(rng, dtype, baseline):
    logits, d, v, f = _problem(rng, dtype, (3, 4), (2, 5))
    g_sum = sf.reinforce_grad(d, v, f, baseline=baseline, reduction="sum")
    g_mean = sf.reinforce_grad(d, v, f, baseline=baseline, reduction="mean")
    assert_close(g_mean, g_sum.astype(np.float64) / (10 * 12), dtype, scale=4)


@pytest.mark.parametrize("baseline", ALL_BASELINES, ids=str)
def test_reinforce_grad_out_accumulates(rng, dtype, baseline):
    logits, d, v, f = _problem(rng, dtype, (5,), (6,))
    g = sf.reinforce_grad(d, v, f, baseline=baseline)
    out = np.zeros((5, 4), dtype=dtype)
    res = sf.reinforce_grad(d, v, f, baseline=baseline, out=out)
    assert res is out
    assert_close(out, g, dtype)
    sf.reinforce_grad(d, v, f, baseline=baseline, out=out)
    assert_close(out, 2 * g.astype(np.float64), dtype, scale=2)


def test_reinforce_grad_with_ema_baseline(rng, dtype):
    ours, theirs = sf.EMABaseline(0.9), ref.EMABaseline(0.9)
    for t in range(5):
        logits, d, v, f = _problem(rng, dtype, (5,), (6,))
        g = sf.reinforce_grad(d, v, f, baseline=ours, reduction="sum")
        h = ref.reinforce_grad(ref.Categorical(logits), v, f, baseline=theirs, reduction="sum")
        assert_close(g, h, dtype, scale=40)
        np.testing.assert_allclose(ours.value, theirs.value, rtol=1e-6)
    assert ours.count == 5


@pytest.mark.parametrize("baseline", ALL_BASELINES, ids=str)
@pytest.mark.parametrize("r_slice", ["per-sample", "per-row"])
def test_reinforce_grad_broadcasts_rewards(rng, dtype, baseline, r_slice):
    """Rewards broadcastable to sample_shape + batch_shape give the result of
    the broadcast rewards: (S, 1) shares one reward along the batch, (B,)
    repeats one reward per row along the samples."""
    logits, d, v, f = _problem(rng, dtype, (5,), (6,))
    r = f[:, :1] if r_slice == "per-sample" else f[0]
    full = np.broadcast_to(r, v.shape).copy()
    g = sf.reinforce_grad(d, v, r, baseline=baseline, reduction="sum")
    h = sf.reinforce_grad(d, v, full, baseline=baseline, reduction="sum")
    assert_close(g, h, dtype, scale=10)
    if r_slice == "per-row" and baseline == "group":
        # every row's rewards are all equal: exactly 0 here, while the
        # oracle's naive mean leaves residues of 1e-16 that 1/eps magnifies
        assert np.all(g == 0)
        return
    e = ref.reinforce_grad(ref.Categorical(logits), v, full, baseline=baseline,
                           reduction="sum")
    assert_close(g, e, dtype, scale=10)


def test_reinforce_grad_optimal_handles_uninformative_coordinates(dtype):
    """K=1: every score is 0, so the optimal baseline falls back to the
    leave-one-out mean and the gradient is exactly 0."""
    d = sf.Categorical(np.zeros((3, 1), dtype=dtype))
    v = np.zeros((4, 3), dtype=np.int64)
    f = np.arange(12.0).reshape(4, 3)
    g = sf.reinforce_grad(d, v, f, baseline="optimal")
    assert np.all(g == 0) and g.dtype == dtype


def test_reinforce_grad_empty_batch(dtype):
    d = sf.Categorical(np.zeros((0, 3), dtype=dtype))
    v = np.zeros((4, 0), dtype=np.int64)
    for b in ALL_BASELINES:
        g = sf.reinforce_grad(d, v, np.zeros((4, 0)), baseline=b)
        assert g.shape == (0, 3) and g.dtype == dtype


# -- new gradients ------------------------------------------------------------------
def _family(name, dtype):
    """A distribution of each family with 300 x 130 parameters (above the
    kernels' threshold for going parallel), three samples of it and rewards
    (one per sample and batch row)."""
    rng = np.random.default_rng(50)
    if name == "Categorical":
        d = sf.Categorical(random_logits(rng, (300, 130), dtype))
    elif name == "Bernoulli":
        d = sf.Bernoulli(rng.normal(size=(300, 130)).astype(dtype))
    else:
        d = getattr(sf, name)(rng.normal(size=(300, 130)).astype(dtype),
                              rng.uniform(0.5, 2.0, size=(300, 130)).astype(dtype))
    v = d.sample(3, rng=51)
    shape = v.shape[:2] if name in ("Categorical", "DiagNormal") else v.shape
    return d, v, rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("family", ["Categorical", "Bernoulli", "Normal", "DiagNormal"])
@pytest.mark.parametrize("baseline", ["none", "loo", "group", 0.5])
def test_a_new_gradient_is_written_over_whatever_its_memory_held(restore_threads, dtype,
                                                                  threads, family, baseline):
    """reinforce_grad and weighted_score without out= have the kernel write a
    new gradient (each row zeroed as it is reached): memory that held NaN
    just before must not show through, and the bits are those of the same
    call adding into zeros (out=)."""
    sf.set_num_threads(threads)
    d, v, r = _family(family, dtype)
    shape = (d.logits if family in ("Categorical", "Bernoulli") else d.loc).shape
    zeros = lambda: (np.zeros(shape, dtype) if family in ("Categorical", "Bernoulli")
                     else (np.zeros(shape, dtype), np.zeros(shape, dtype)))
    parts = lambda g: g if isinstance(g, tuple) else (g,)
    for _ in range(2):
        for call in (lambda **kw: sf.reinforce_grad(d, v, r, baseline=baseline, **kw),
                     lambda **kw: d.weighted_score(v, r, **kw)):
            free_nan_memory(shape, dtype)
            g = call()
            for a, b in zip(parts(g), parts(call(out=zeros()))):
                assert not np.isnan(a).any()
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("family", ["Categorical", "Bernoulli", "Normal", "DiagNormal"])
def test_a_new_gradient_of_no_samples_is_zero(family):
    d, v, _ = _family(family, np.float64)
    shape = (d.logits if family in ("Categorical", "Bernoulli") else d.loc).shape
    none = v[:0]
    for _ in range(3):
        free_nan_memory(shape, np.float64)
        g = d.weighted_score(none, np.zeros(none.shape[:2] if family in ("Categorical",
                                                                           "DiagNormal")
                                            else none.shape))
        for part in (g if isinstance(g, tuple) else (g,)):
            np.testing.assert_array_equal(part, np.zeros(shape))

