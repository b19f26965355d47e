"""The estimators are (un)biased exactly as documented.

Setting: B independent categorical rows with K classes and a reward table R
of shape (B, K); a sample a of row i earns R[i, a]. The expected reward of
row i is sum_k p_ik R_ik, whose exact gradient with respect to the logits is

    g_ik = p_ik (R_ik - sum_j p_ij R_ij).

M independent S-sample estimates are computed in one call by tiling the
logits to a (M, B, K) batch: reinforce_grad computes baselines separately
for every batch element along the sample axis, so with reduction="sum"
element (m, i) holds sum_s (f_s - b_s) score_s of repetition m, row i.
Means are compared with the exact gradient within 5 standard errors, the
standard error estimated from the M repetitions.
"""
import numpy as np
import pytest

import scorefast as sf

B, K, S, M = 3, 4, 4, 20_000
N_SE = 5.0


def _setup(seed, offset=0.0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((B, K))
    R = offset + rng.random((B, K))
    return logits, R


def exact_gradient(logits, R):
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return p * (R - (p * R).sum(-1, keepdims=True))


def estimates(logits, R, baseline, dtype, seed, reps=M):
    """(reps, B, K) independent S-sample estimates of the gradient."""
    d = sf.Categorical(np.broadcast_to(logits.astype(dtype), (reps, B, K)))
    a = d.sample(S, rng=seed)                                 # (S, reps, B)
    f = R[np.arange(B), a].astype(dtype)
    g = sf.reinforce_grad(d, a, f, baseline=baseline, reduction="sum")
    assert g.shape == (reps, B, K) and g.dtype == dtype
    return g.astype(np.float64) / S


def mean_and_se(g):
    n = g.shape[0]
    return g.mean(0), g.std(0, ddof=1) / np.sqrt(n)


def assert_within_se(mean, se, target, what):
    z = np.abs(mean - target) / se
    assert np.all(se > 0), f"{what}: a coordinate without variance"
    assert np.all(z < N_SE), f"{what}: max |z| = {z.max():.2f}\nmean {mean}\ntarget {target}"


UNBIASED = ["none", "loo", "optimal", 0.5, -3.0]


@pytest.mark.parametrize("baseline", UNBIASED, ids=str)
@pytest.mark.parametrize("seed", [0, 1])
def test_unbiased_baselines(dtype, baseline, seed):
    logits, R = _setup(seed)
    g = estimates(logits, R, baseline, dtype, seed=100 + seed)
    mean, se = mean_and_se(g)
    assert_within_se(mean, se, exact_gradient(logits, R), f"baseline {baseline!r}")


class _PeekingEMA(sf.EMABaseline):
    """A wrong EMA baseline that folds the current batch in *before*
    subtracting: biased, since each sample's baseline then contains its own
    reward. Used to check that the EMA test can tell."""

    def __call__(self, rewards):
        r = np.asarray(rewards, dtype=np.float64)
        self.update(r)
        return r - self.value


def ema_estimates(logits, R, ema, dtype, seed, reps):
    """reps S-sample estimates from reps consecutive calls sharing ``ema``:
    each call's baseline comes from the earlier calls only. The estimates are
    martingale differences around the exact gradient (unbiased given the
    past), hence uncorrelated, and the usual standard error applies."""
    d = sf.Categorical(logits.astype(dtype))
    gen = np.random.default_rng(seed)
    rows = np.arange(B)
    out = np.empty((reps, B, K))
    for m in range(reps):
        a = d.sample(S, rng=gen)
        out[m] = sf.reinforce_grad(d, a, R[rows, a].astype(dtype), baseline=ema,
                                   reduction="sum")
    return out / S


M_EMA = 4000


@pytest.mark.parametrize("decay", [0.0, 0.8])
def test_ema_baseline_is_unbiased(dtype, decay):
    """Rewards 5 + U(0, 1): the EMA value (about 5.5) is far from 0, so the
    advantages really depend on it."""
    logits, R = _setup(3, offset=5.0)
    ema = sf.EMABaseline(decay)
    g = ema_estimates(logits, R, ema, dtype, seed=200, reps=M_EMA)
    assert ema.count == M_EMA
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert abs(ema.value - (p * R).sum(-1).mean()) < 0.5
    mean, se = mean_and_se(g)
    assert_within_se(mean, se, exact_gradient(logits, R), f"EMABaseline({decay})")


def test_ema_test_detects_a_baseline_using_the_current_batch():
    """Power check of the test above: with decay 0, a baseline that includes
    the current batch contains each sample's own reward with weight 1/(S*B),
    shrinking the gradient by 1/12: many standard errors at M_EMA."""
    logits, R = _setup(3, offset=5.0)
    g = ema_estimates(logits, R, _PeekingEMA(0.0), np.float64, seed=200, reps=M_EMA)
    mean, se = mean_and_se(g)
    assert np.max(np.abs(mean - exact_gradient(logits, R)) / se) > N_SE


def test_mean_baseline_shrinks_by_s_minus_1_over_s(dtype):
    logits, R = _setup(4)
    g = estimates(logits, R, "mean", dtype, seed=300)
    mean, se = mean_and_se(g)
    exact = exact_gradient(logits, R)
    assert_within_se(mean, se, (S - 1) / S * exact, "'mean' scaled by (S-1)/S")
    # and the test can tell: the unscaled exact gradient is rejected
    assert np.max(np.abs(mean - exact) / se) > N_SE


def test_mean_rescaled_is_loo(dtype):
    """Documented: "mean" rescaled by S/(S-1) is "loo" (sample by sample)."""
    logits, R = _setup(5)
    d = sf.Categorical(np.broadcast_to(logits.astype(dtype), (50, B, K)))
    a = d.sample(S, rng=9)
    f = R[np.arange(B), a]
    g_mean = sf.reinforce_grad(d, a, f, baseline="mean", reduction="sum")
    g_loo = sf.reinforce_grad(d, a, f, baseline="loo", reduction="sum")
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(g_mean * (S / (S - 1)), g_loo, rtol=rtol, atol=rtol * S)


def test_loo_has_lower_variance_with_reward_offset(dtype):
    """With rewards 10 + U(0, 1) the no-baseline estimate's variance is
    dominated by the offset (~ 100 Var(score) / S), which the leave-one-out
    baseline removes. The variance ratio of two independent sets of M
    estimates has an F(M-1, M-1) distribution around the true ratio, whose
    spread (~ 2/sqrt(M) ~ 0.014) is far below the margin used."""
    logits, R = _setup(6, offset=10.0)
    var_none = estimates(logits, R, "none", dtype, seed=400).var(0, ddof=1)
    var_loo = estimates(logits, R, "loo", dtype, seed=401).var(0, ddof=1)
    ratio = var_loo / var_none
    assert np.all(ratio < 0.5), ratio
    # the (leave-one-out) optimal baseline removes the offset as well
    var_opt = estimates(logits, R, "optimal", dtype, seed=402).var(0, ddof=1)
    assert np.all(var_opt / var_none < 0.5)


def test_group_baseline_is_not_the_gradient(dtype):
    """"group" normalises by the standard deviation: documented as biased
    (a direction, not the gradient's size). With rewards in [0, 1) and S=4
    its mean is far from the exact gradient."""
    logits, R = _setup(7)
    g = estimates(logits, R, "group", dtype, seed=500)
    mean, se = mean_and_se(g)
    assert np.max(np.abs(mean - exact_gradient(logits, R)) / se) > N_SE
