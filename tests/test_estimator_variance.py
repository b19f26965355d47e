r"""Variances of the single-sample Gaussian gradient estimators against closed
forms, and the indicator reward, where the pathwise estimator sees nothing.

For :math:`x = \mu + \sigma\epsilon`, :math:`\epsilon \sim N(0, 1)`,
:math:`f(x) = (x - c)^2` and :math:`\delta = \mu - c`, one sample and no
baseline:

score function, d/dmu:         g = f(x) eps / sigma,
    E g = 2 delta,        Var g = delta^4 / sigma^2 + 14 delta^2 + 15 sigma^2
score function, d/dlog sigma:  g = f(x) (eps^2 - 1),
    E g = 2 sigma^2,      Var g = 2 delta^4 + 60 delta^2 sigma^2 + 74 sigma^4
pathwise, d/dmu:               g = f'(x) = 2 (delta + sigma eps),
    E g = 2 delta,        Var g = 4 sigma^2
pathwise, d/dlog sigma:        g = f'(x) (x - mu) = 2 (delta + sigma eps) sigma eps,
    E g = 2 sigma^2,      Var g = 4 delta^2 sigma^2 + 8 sigma^4

(expanding (delta + sigma eps)^k and using E eps^(2j) = (2j - 1)!!). The
closed forms are first checked against Gauss-Hermite quadrature, which is
exact for these polynomials, then against variances measured from many
independent single-sample estimates, within 5 standard errors of the sample
variance, SE = sqrt((m4 - var^2) / n) with m4 the sample fourth central
moment.
"""
import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy import stats

import scorefast as sf

N_SE = 5.0
CASES = [(0.7, 1.3, -0.4), (2.0, 0.5, 1.0), (0.0, 1.0, 0.0), (-1.0, 2.0, 3.0)]


def closed_forms(mu, sigma, c):
    """{estimator: (mean, variance)} for f(x) = (x - c)^2."""
    d = mu - c
    return {
        "score_loc": (2 * d, d ** 4 / sigma ** 2 + 14 * d ** 2 + 15 * sigma ** 2),
        "score_log_scale": (2 * sigma ** 2,
                            2 * d ** 4 + 60 * d ** 2 * sigma ** 2 + 74 * sigma ** 4),
        "pathwise_loc": (2 * d, 4 * sigma ** 2),
        "pathwise_log_scale": (2 * sigma ** 2, 4 * d ** 2 * sigma ** 2 + 8 * sigma ** 4),
    }


def estimator_values(mu, sigma, c, eps):
    """The four single-sample estimators at the standard normals eps."""
    x = mu + sigma * eps
    f = (x - c) ** 2
    return {
        "score_loc": f * eps / sigma,
        "score_log_scale": f * (eps ** 2 - 1),
        "pathwise_loc": 2 * (x - c),
        "pathwise_log_scale": 2 * (x - c) * (x - mu),
    }


@pytest.mark.parametrize("mu, sigma, c", CASES, ids=str)
def test_closed_forms_by_quadrature(mu, sigma, c):
    """Gauss-Hermite with 60 nodes integrates polynomials of degree < 120
    against N(0, 1) exactly (the squared estimators have degree <= 8)."""
    nodes, weights = hermegauss(60)
    weights = weights / np.sqrt(2 * np.pi)
    assert weights.sum() == pytest.approx(1.0, rel=1e-14)
    values = estimator_values(mu, sigma, c, nodes)
    for name, (mean, var) in closed_forms(mu, sigma, c).items():
        g = values[name]
        q_mean = (weights * g).sum()
        q_var = (weights * (g - q_mean) ** 2).sum()
        assert q_mean == pytest.approx(mean, rel=1e-12, abs=1e-12), name
        assert q_var == pytest.approx(var, rel=1e-12, abs=1e-12), name


def quadrature_fourth_moment(mu, sigma, c, name):
    nodes, weights = hermegauss(60)
    weights = weights / np.sqrt(2 * np.pi)
    g = estimator_values(mu, sigma, c, nodes)[name]
    m = (weights * g).sum()
    return (weights * (g - m) ** 4).sum()


# -- measured variances --------------------------------------------------------------
N = 400_000


def single_sample_estimates(mu, sigma, c, dtype, seed):
    """N independent single-sample estimates of each estimator: a Normal with
    batch (N,) of tiled parameters, one draw each, reduction="sum"."""
    d = sf.Normal(np.full(N, mu, dtype), np.full(N, sigma, dtype))
    x = d.sample(1, rng=seed)                                       # (1, N)
    f = (x - dtype(c)) ** 2
    s_loc, s_ls = sf.reinforce_grad(d, x, f, baseline="none", reduction="sum")
    p_loc, p_ls = sf.pathwise_grad(d, x, 2 * (x - dtype(c)), reduction="sum")
    for g in (s_loc, s_ls, p_loc, p_ls):
        assert g.shape == (N,) and g.dtype == dtype
    return {"score_loc": s_loc, "score_log_scale": s_ls,
            "pathwise_loc": p_loc, "pathwise_log_scale": p_ls}


def var_and_se(g):
    g = np.asarray(g, dtype=np.float64)
    n = g.size
    dev = g - g.mean()
    var = (dev ** 2).sum() / (n - 1)
    m4 = (dev ** 4).mean()
    return var, np.sqrt(max(m4 - var ** 2, 0.0) / n)


@pytest.mark.parametrize("mu, sigma, c", CASES[:2], ids=str)
def test_measured_variances_match_closed_forms(dtype, mu, sigma, c):
    mu_, sigma_ = float(dtype(mu)), float(dtype(sigma))      # as the dtype holds them
    expected = closed_forms(mu_, sigma_, c)
    estimates = single_sample_estimates(mu, sigma, c, dtype, seed=7)
    for name, g in estimates.items():
        mean, var_exact = expected[name]
        var, se = var_and_se(g)
        exact_se = np.sqrt((quadrature_fourth_moment(mu_, sigma_, c, name) - var_exact ** 2) / N)
        assert se > 0
        z = abs(var - var_exact) / se
        assert z < N_SE, (f"{name}: measured variance {var:.5g}, closed form {var_exact:.5g}, "
                          f"|z| = {z:.2f} (SE {se:.3g}; from the exact m4: {exact_se:.3g})")
        # and the mean, within 5 standard errors of the sample mean
        g64 = np.asarray(g, dtype=np.float64)
        se_mean = g64.std(ddof=1) / np.sqrt(N)
        assert abs(g64.mean() - mean) < N_SE * se_mean, name


def test_variance_test_detects_a_wrong_formula(dtype):
    """Power check: the stated formula with 14 delta^2 replaced by 18 delta^2
    (the second moment's coefficient, i.e. forgetting to subtract the squared
    mean) is rejected by the same test."""
    mu, sigma, c = 0.7, 1.3, -0.4
    g = single_sample_estimates(mu, sigma, c, dtype, seed=8)["score_loc"]
    var, se = var_and_se(g)
    d, s = float(dtype(mu)) - c, float(dtype(sigma))
    wrong = d ** 4 / s ** 2 + 18 * d ** 2 + 15 * s ** 2
    assert abs(var - wrong) / se > N_SE
    right = d ** 4 / s ** 2 + 14 * d ** 2 + 15 * s ** 2
    assert abs(var - right) / se < N_SE


def test_pathwise_has_lower_variance_here(dtype):
    """For this smooth f the pathwise estimator's variance, 4 sigma^2, is far
    below the score function's (ratio >= 15/4 for any delta)."""
    est = single_sample_estimates(0.7, 1.3, -0.4, dtype, seed=9)
    v_score, se_score = var_and_se(est["score_loc"])
    v_path, se_path = var_and_se(est["pathwise_loc"])
    assert v_score - N_SE * se_score > 3 * (v_path + N_SE * se_path)


# -- the indicator reward ---------------------------------------------------------------
# f(x) = 1{x > a}: E f = P(x > a) = 1 - Phi((a - mu) / sigma), so
# d/dmu E f = phi((a - mu) / sigma) / sigma, which the score function
# estimates without bias, while f' = 0 almost everywhere: the pathwise
# estimator returns exactly 0.
A, MU_I, SIGMA_I = 0.5, 0.2, 0.8
S_I, M_I = 4, 50_000


@pytest.mark.parametrize("baseline", ["none", "loo", "optimal", 0.5], ids=str)
def test_indicator_score_function_is_unbiased(dtype, baseline):
    d = sf.Normal(np.full(M_I, MU_I, dtype), np.full(M_I, SIGMA_I, dtype))
    x = d.sample(S_I, rng=21)
    f = (x > dtype(A)).astype(dtype)
    g_loc, _ = sf.reinforce_grad(d, x, f, baseline=baseline, reduction="sum")
    est = g_loc.astype(np.float64) / S_I
    mu, sigma = float(dtype(MU_I)), float(dtype(SIGMA_I))
    exact = stats.norm.pdf((A - mu) / sigma) / sigma
    se = est.std(ddof=1) / np.sqrt(M_I)
    assert se > 0
    z = abs(est.mean() - exact) / se
    assert z < N_SE, (est.mean(), exact, z)


def test_indicator_pathwise_is_exactly_zero(dtype):
    d = sf.Normal(np.full(M_I, MU_I, dtype), np.full(M_I, SIGMA_I, dtype))
    x = d.sample(S_I, rng=22)
    for reduction in ("mean", "sum"):
        g_loc, g_ls = sf.pathwise_grad(d, x, np.zeros_like(x), reduction=reduction)
        assert g_loc.dtype == dtype and g_ls.dtype == dtype
        assert np.all(g_loc == 0) and np.all(g_ls == 0)
    # while the true gradient is far from 0, and the score-function estimate
    # on the same draws tells it from 0 by many standard errors
    exact = stats.norm.pdf((A - MU_I) / SIGMA_I) / SIGMA_I
    assert exact > 0.4
    g_loc, _ = sf.reinforce_grad(d, x, (x > dtype(A)).astype(dtype), baseline="loo",
                                 reduction="sum")
    est = g_loc.astype(np.float64) / S_I
    se = est.std(ddof=1) / np.sqrt(M_I)
    assert est.mean() / se > 10 * N_SE
    assert abs(est.mean() - exact) / se < N_SE
