"""Categorical.sample draws from softmax(logits): chi-square goodness of fit.

Each case fixes its seed; with a correct sampler each p-value is uniform on
(0, 1), so the threshold 1e-3 fails a correct sampler for one seed in a
thousand and an incorrect one (wrong class order, off-by-one in the inverse
CDF, masked classes drawn) at p-values of essentially zero.
"""
import numpy as np
import pytest

import scorefast as sf

from conftest import chisquare_pooled, closed_probs

P_MIN = 1e-3


def _logits_from_probs(p):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(p, dtype=np.float64))


def _random_1000(seed=0):
    return 2.0 * np.random.default_rng(seed).standard_normal(1000)


CASES = {
    "tiny-first": _logits_from_probs([1e-12, 0.5, 0.5 - 1e-12]),
    "tiny-last": _logits_from_probs([0.5, 0.5 - 1e-12, 1e-12]),
    "tiny-middle": _logits_from_probs([0.3, 1e-15, 0.7 - 1e-15]),
    "uniform-2": np.zeros(2),
    "uniform-13": np.zeros(13),
    "skewed": np.array([6.0, 0.0, -1.0, 2.5, -4.0]),
    "random-1000": _random_1000(),
    "masked": np.array([-np.inf, 0.3, -np.inf, 1.0, -0.2, -np.inf]),
    "masked-ends": np.array([-np.inf, 0.0, 0.5, 1.0, -np.inf]),
    "one-open": np.array([-np.inf, -np.inf, 2.0, -np.inf]),
}


def _check_row(draws, logits, n_draws):
    """Chi-square test of one row's draws against softmax of its logits (as
    the distribution sees them, i.e. after the cast to its dtype)."""
    K = logits.shape[-1]
    p = closed_probs(logits)
    counts = np.bincount(draws, minlength=K)
    assert counts.shape == (K,), "a draw outside [0, K)"
    assert counts.sum() == n_draws
    # classes of probability zero are never drawn
    assert np.all(counts[p == 0] == 0)
    pvalue = chisquare_pooled(counts[p > 0], n_draws * p[p > 0])
    assert pvalue > P_MIN, f"chi-square p-value {pvalue:.2e}"


@pytest.mark.parametrize("case", list(CASES))
def test_chisquare_single_row(dtype, case):
    logits = CASES[case].astype(dtype)
    n = 200_000 if logits.shape[-1] >= 100 else 50_000
    seed = 1000 + list(CASES).index(case)
    draws = sf.Categorical(logits).sample(n, rng=seed)
    assert draws.shape == (n,)
    _check_row(draws, logits, n)


def test_chisquare_batched_rows(dtype):
    """Every row of a (2, 3, K) batch follows its own distribution."""
    rng = np.random.default_rng(42)
    logits = (1.5 * rng.standard_normal((2, 3, 9))).astype(dtype)
    logits[0, 1, [2, 5]] = -np.inf
    logits[1, 2, 0] = 30.0        # one dominant class
    n = 30_000
    draws = sf.Categorical(logits).sample(n, rng=43)
    assert draws.shape == (n, 2, 3)
    for idx in np.ndindex(2, 3):
        _check_row(draws[(slice(None),) + idx], logits[idx], n)


def test_chisquare_across_calls_with_one_generator(dtype):
    """Draws from successive calls on one Generator are jointly distributed
    right (the generator is advanced, not restarted)."""
    logits = np.array([0.0, 1.0, -0.5, 0.25], dtype=dtype)
    d = sf.Categorical(logits)
    g = np.random.default_rng(77)
    draws = np.concatenate([d.sample(1000, rng=g) for _ in range(40)])
    _check_row(draws, logits, draws.size)


def test_probability_1e_300_is_never_drawn(dtype):
    # e^-690 ~ 2e-300: drawing it even once in 1e5 draws has chance ~1e-295
    d = sf.Categorical(np.array([[0.0, -690.0], [-690.0, 0.0]], dtype=dtype))
    draws = d.sample(100_000, rng=5)
    assert np.all(draws[:, 0] == 0)
    assert np.all(draws[:, 1] == 1)


def test_chisquare_detects_a_wrong_distribution():
    """The test has power: draws from softmax(logits) are rejected against a
    slightly different distribution."""
    logits = np.array([0.0, 0.1, -0.1, 0.05])
    n = 200_000
    draws = sf.Categorical(logits).sample(n, rng=1)
    counts = np.bincount(draws, minlength=4)
    wrong = closed_probs(logits[::-1])
    assert chisquare_pooled(counts, n * wrong) < 1e-6
