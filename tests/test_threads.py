"""Results never depend on threading: neither on the kernels' OpenMP thread
count nor on Python threads calling the library concurrently."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import scorefast as sf
from scorefast import reference
from scorefast import _categorical

from conftest import random_logits

# B * K = 128000 and S * B * K = 1e6: above the kernels' threshold for going
# parallel (32768 units of work), so with 2 threads OpenMP really splits rows.
B, K, S = 500, 256, 8


def _everything(d, seed):
    """Every kernel's output for one distribution and seed."""
    v = d.sample((S,), rng=seed)
    w = np.random.default_rng(seed + 1).standard_normal(v.shape)
    return {
        "sample": v,
        "probs": d.probs,
        "entropy": d.entropy(),
        "lse": d.log_normalizer(),
        "log_prob": d.log_prob(v),
        "score": d.score(v),
        "weighted_score": d.weighted_score(v, w),
        "reinforce_loo": sf.reinforce_grad(d, v, w, baseline="loo"),
        "reinforce_optimal": sf.reinforce_grad(d, v, w, baseline="optimal"),
    }


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_set_num_threads_returns_previous(restore_threads):
    sf.set_num_threads(3)
    assert sf.set_num_threads(1) == 3
    assert sf.get_num_threads() == 1
    sf.set_num_threads(np.int64(2))
    assert sf.get_num_threads() == (2 if _categorical.have_openmp() else 1)
    sf.set_num_threads(None)
    assert sf.get_num_threads() >= 1


@pytest.mark.parametrize("seed", [0, 1])
def test_one_and_two_threads_agree(restore_threads, dtype, seed):
    logits = random_logits(np.random.default_rng(seed), (B, K), dtype)
    logits[::7, ::5] = -np.inf                         # masked classes on some rows
    sf.set_num_threads(1)
    d1 = sf.Categorical(logits)
    one = _everything(d1, seed)
    sf.set_num_threads(2)
    d2 = sf.Categorical(logits)
    two = _everything(d2, seed)
    _assert_same(one, two)
    # and one distribution built under one setting, used under the other
    _assert_same(_everything(d1, seed), two)


def test_threads_do_not_change_the_distribution(restore_threads):
    """Sanity of the comparison above: both settings sample what the oracle
    samples draw for draw."""
    from scorefast import reference as ref
    logits = random_logits(np.random.default_rng(9), (B, K))
    expected = ref.Categorical(logits).sample((S,), rng=4)
    for n in (1, 2):
        sf.set_num_threads(n)
        np.testing.assert_array_equal(sf.Categorical(logits).sample((S,), rng=4), expected)


N_TASKS = 8


def _task(args):
    logits, seed = args
    return _everything(sf.Categorical(logits), seed)


@pytest.mark.parametrize("threads", [1, 2])
def test_python_threads_match_sequential(restore_threads, dtype, threads):
    sf.set_num_threads(threads)
    rng = np.random.default_rng(123)
    jobs = [(random_logits(rng, (120, 300), dtype), 1000 + i) for i in range(N_TASKS)]
    sequential = [_task(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=N_TASKS) as pool:
        for _ in range(2):
            concurrent = list(pool.map(_task, jobs))
            for a, b in zip(sequential, concurrent):
                _assert_same(a, b)


def test_python_threads_share_one_distribution(restore_threads, dtype):
    """One Categorical used from 8 threads at once, each with its own
    Generator: each thread gets the results it gets alone."""
    d = sf.Categorical(random_logits(np.random.default_rng(5), (120, 300), dtype))
    seeds = list(range(50, 50 + N_TASKS))
    sequential = [_everything(d, s) for s in seeds]
    with ThreadPoolExecutor(max_workers=N_TASKS) as pool:
        concurrent = list(pool.map(lambda s: _everything(d, s), seeds))
    for a, b in zip(sequential, concurrent):
        _assert_same(a, b)


def test_python_threads_share_one_generator():
    """A Generator shared by 8 threads is drawn under its lock: every call
    takes a contiguous block of uniforms, so the draws are those of 8
    sequential calls, in some order."""
    d = sf.Categorical(random_logits(np.random.default_rng(6), (64, 50)))
    sequential_gen = np.random.default_rng(77)
    sequential = [d.sample((200,), rng=sequential_gen) for _ in range(N_TASKS)]
    shared = np.random.default_rng(77)
    with ThreadPoolExecutor(max_workers=N_TASKS) as pool:
        concurrent = list(pool.map(lambda _: d.sample((200,), rng=shared), range(N_TASKS)))
    key = lambda a: a.tobytes()
    assert sorted(map(key, sequential)) == sorted(map(key, concurrent))
    # and the generator ends where the sequential one does
    assert shared.bit_generator.state == sequential_gen.bit_generator.state


def _family_outputs(family, dtype, seed, method="fast"):
    """Draws, log-probs and gradients of a Bernoulli or Gaussian workload big
    enough for the kernels to go parallel."""
    rng = np.random.default_rng(seed)
    if family == "Bernoulli":
        d = sf.Bernoulli(rng.standard_normal((256, 128)).astype(dtype))
        x, lp = d.sample_and_log_prob(8, rng=seed, method=method)
        r = rng.standard_normal((8, 256, 1))
    else:
        cls = sf.DiagNormal if family == "DiagNormal" else sf.Normal
        d = cls(rng.standard_normal((64, 128)).astype(dtype),
                (0.5 + rng.random((64, 128))).astype(dtype))
        x, lp = d.sample_and_log_prob(16, rng=seed, method=method, antithetic=True)
        r = rng.standard_normal((16, 64) if family == "DiagNormal" else (16, 64, 128))
    out = {"sample": x, "log_prob": lp}
    for baseline in ("none", "loo", "mean", "group", 0.5):
        g = sf.reinforce_grad(d, x, r, baseline=baseline)
        for i, part in enumerate(g if isinstance(g, tuple) else (g,)):
            out[f"grad {baseline} {i}"] = part
    return out


@pytest.mark.parametrize("family", ["Bernoulli", "Normal", "DiagNormal"])
@pytest.mark.parametrize("method", ["fast", "numpy"])
def test_families_one_and_two_threads_agree(restore_threads, dtype, family, method):
    """The counter-based samplers and the fused reinforce kernels give the same
    bits for any thread count: draw j depends on (key, j) alone, and every sum
    runs over one row in a fixed order."""
    sf.set_num_threads(1)
    one = _family_outputs(family, dtype, 3, method)
    sf.set_num_threads(2)
    two = _family_outputs(family, dtype, 3, method)
    _assert_same(one, two)


@pytest.mark.parametrize("D", [1000, 4096 + 37])
def test_gaussian_reinforce_tile_width_changes_nothing(restore_threads, dtype, D):
    """The Gaussian reinforce kernel reads a row in tiles as wide as the thread
    count allows (one tile of a 1000-coordinate row on one thread, eight of
    128 on two; rows wider than the widest tile are split on one thread
    too): every coordinate's sum over samples runs in the same order, so
    the bits are the same, and they are the reference's to round-off."""
    rng = np.random.default_rng(21)
    d = sf.DiagNormal(rng.standard_normal(D).astype(dtype),
                      (0.5 + rng.random(D)).astype(dtype))
    x = d.sample(40, rng=rng)
    f = rng.standard_normal(40).astype(dtype)
    grads = []
    for n in (1, 2):
        sf.set_num_threads(n)
        grads.append(sf.reinforce_grad(d, x, f, baseline="mean"))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    want = reference.reinforce_grad(d, x, f, baseline="mean")
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    for got, ref in zip(grads[0], want):
        scale = np.abs(ref).max()
        np.testing.assert_allclose(got, ref, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("where", [0, 100_000, -1], ids=["first", "middle", "last"])
def test_bernoulli_values_are_checked_in_every_block(restore_threads, threads, where):
    """A value that is neither 0 nor 1 anywhere in a block of draws checked
    over the threads is an error, and the gradient given as ``out`` is left
    as it was."""
    sf.set_num_threads(threads)
    d = sf.Bernoulli(np.zeros((64, 128)))
    x = d.sample(20, rng=1)
    x.reshape(-1)[where] = 0.5
    out = np.full((64, 128), 7.0)
    with pytest.raises(ValueError):
        d.weighted_score(x, 1.0, out=out)
    np.testing.assert_array_equal(out, 7.0)
