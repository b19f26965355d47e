"""Shared fixtures and helpers for the scorefast test suite.

Tolerances depend on the dtype under test only: every kernel accumulates in
float64 and rounds once to the output dtype, so float64 results agree with a
float64 closed form to ~1e-12 and float32 results to float32 rounding.
"""
import numpy as np
import pytest
from scipy import special

import scorefast as sf

DTYPES = (np.float32, np.float64)

# (rtol, atol) per floating dtype.
TOLERANCES = {
    np.dtype(np.float32): (1e-5, 1e-6),
    np.dtype(np.float64): (1e-12, 1e-12),
}

BATCH_SHAPES = [(), (1,), (5,), (3, 4)]


def tol(dtype):
    """dict(rtol=..., atol=...) for results of ``dtype``."""
    rtol, atol = TOLERANCES[np.dtype(dtype)]
    return {"rtol": rtol, "atol": atol}


def assert_close(actual, expected, dtype, scale=1.0):
    """allclose with the dtype's tolerances; ``scale`` multiplies atol (for sums
    whose rounding error grows with the magnitude of their terms)."""
    t = tol(dtype)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64),
                               rtol=t["rtol"], atol=t["atol"] * scale)


@pytest.fixture(params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


@pytest.fixture
def restore_threads():
    """Restores the kernel thread count whatever a test sets it to."""
    previous = sf.get_num_threads()
    yield
    sf.set_num_threads(previous)


def free_nan_memory(shape, dtype):
    """Arrays of shape full of NaN, freed at once: the next arrays of that size
    are handed their memory (by the C library or scorefast's output cache),
    so that a new output shows whatever its kernel failed to write."""
    junk = [np.full(shape, np.nan, dtype) for _ in range(4)]
    del junk


def random_logits(rng, shape, dtype=np.float64, scale=2.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


# -- closed forms, computed in float64 from the logits actually passed --------
def as64(logits):
    return np.asarray(logits).astype(np.float64)


def closed_log_probs(logits):
    """log softmax over the last axis (float64)."""
    return special.log_softmax(as64(logits), axis=-1)


def closed_probs(logits):
    return special.softmax(as64(logits), axis=-1)


def closed_entropy(logits):
    logp = closed_log_probs(logits)
    p = np.exp(logp)
    return -np.where(p > 0, p * np.where(p > 0, logp, 0.0), 0.0).sum(-1)


def closed_score(logits, value):
    """onehot(value) - p, with value broadcast against the batch shape."""
    logits = as64(logits)
    K = logits.shape[-1]
    shape = np.broadcast_shapes(np.shape(value), logits.shape[:-1])
    onehot = np.arange(K) == np.broadcast_to(value, shape)[..., None]
    return onehot - np.broadcast_to(closed_probs(logits), shape + (K,))


def closed_log_prob(logits, value):
    logits = as64(logits)
    K = logits.shape[-1]
    shape = np.broadcast_shapes(np.shape(value), logits.shape[:-1])
    logp = np.broadcast_to(closed_log_probs(logits), shape + (K,))
    v = np.broadcast_to(value, shape)[..., None]
    return np.take_along_axis(logp, v, axis=-1)[..., 0]


def chisquare_pooled(counts, expected):
    """Chi-square goodness of fit after pooling every cell whose expected count
    is below 5 into one cell (and that cell into the smallest other cell when
    its own expected count is still below 5). Returns the p-value."""
    from scipy import stats

    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    small = expected < 5
    obs = list(counts[~small])
    exp = list(expected[~small])
    if small.any():
        o, e = counts[small].sum(), expected[small].sum()
        if e >= 5 or not exp:
            obs.append(o)
            exp.append(e)
        else:
            j = int(np.argmin(exp))
            obs[j] += o
            exp[j] += e
    obs, exp = np.array(obs), np.array(exp)
    if len(obs) < 2:
        return 1.0
    # identical totals up to rounding of the expected counts
    exp *= obs.sum() / exp.sum()
    return float(stats.chisquare(obs, exp).pvalue)


def splitmix64(key, j):
    """Output j of a SplitMix64 generator seeded with key, for the integer
    array j: the kernels' counter stream (sf_counter_u64), in numpy."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (j.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def ulps32_sub(got, want):
    """|got - want| in float32 ulp at want (want exact, in float64), the
    ulp of a subnormal float, 2^-149, at the least."""
    spacing = np.maximum(np.spacing(np.abs(want).astype(np.float32)), np.float32(2.0 ** -149))
    return np.abs(np.asarray(got, np.float64) - want) / spacing.astype(np.float64)
