"""No leaks: every entry point called many times keeps tracemalloc and the
resident set flat, and leaves the reference counts of its inputs as they
were.  Error paths (a kernel reporting a bad value after its scratch is
allocated) are called as often as the successful ones.

Two regimes per entry point, both in CI:

* tiny inputs, many calls: Python objects leaked per call show up in
  tracemalloc and in reference counts;
* inputs that make every kernel allocate megabytes of scratch (large K, S
  and D), fewer calls: a scratch buffer leaked per call grows the resident
  set by gigabytes.

SCOREFAST_MEMORY_CALLS (default 2000) sets the tiny-input call count;
``SCOREFAST_MEMORY_CALLS=100000 pytest tests/test_memory.py`` is the
10^5-call run of every entry point (test_hundred_thousand_calls, skipped
otherwise).
"""
import ctypes
import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import scorefast as sf

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    """Resident set size in bytes (Linux /proc; psutil where available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:                                            # pragma: no cover
        import psutil
        return psutil.Process().memory_info().rss


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]


def _heap_in_use_fn():
    """glibc's count of bytes malloc has handed out and not had back (sees
    every C allocation, which tracemalloc does not); None elsewhere."""
    try:
        libc = ctypes.CDLL(None)
        f = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    f.restype = _Mallinfo2
    return lambda: f().uordblks + f().hblkhd


heap_in_use = _heap_in_use_fn()


def _entry_points(size):
    """name -> (callable, inputs whose reference counts must not change).
    size "tiny" or "big" (inputs that make the kernels allocate scratch)."""
    big = size == "big"
    rng = np.random.default_rng(0)
    B, K, S = (4, 20000, 64) if big else (2, 3, 4)
    M, D = (4, 50000) if big else (2, 3)
    gen = np.random.default_rng(1)
    L = rng.normal(size=(B, K))
    cat = sf.Categorical(L)
    cat32 = sf.Categorical(L.astype(np.float32))
    v = cat.sample(S, rng=0)
    w = rng.normal(size=(S, B))
    out = np.zeros((B, K))
    bad_v = v.copy()
    bad_v[-1, -1] = K                          # reported by the kernel, after its scratch
    LB = rng.normal(size=(M, D))
    ber = sf.Bernoulli(LB)
    xb = ber.sample(S if not big else 8, rng=0)
    wb = rng.normal(size=xb.shape)
    bad_xb = xb.copy()
    bad_xb[-1, -1, -1] = 0.5
    loc, scale = rng.normal(size=(M, D)), 0.5 + rng.random((M, D))
    nor, dia = sf.Normal(loc, scale), sf.DiagNormal(loc, scale)
    xg = dia.sample(S if not big else 8, rng=0)
    wg = rng.normal(size=xg.shape[:2])
    rewards = rng.normal(size=(S, B))
    groups = np.arange(S) % 2
    ema = sf.EMABaseline(0.9)
    nan_logits = L.copy()
    nan_logits[0, 0] = np.nan
    outs = (np.zeros((M, D)), np.zeros((M, D)))
    cstep, gstep = sf.CategoricalStep(S), sf.DiagNormalStep(2, antithetic=True)
    bstep, nstep = sf.BernoulliStep(2), sf.NormalStep(2, "mean")
    rg = rng.normal(size=(2, M))
    per_row = rng.normal(size=(2, M, 1))                # one reward per row, shared
    per_state = rng.normal(size=(M, D))                 # broadcast over the samples
    cstep.sample(L, gen)
    gstep.sample(loc, scale, gen)
    bstep.sample(LB, gen)
    nstep.sample(loc, scale, gen)

    def step_round(step, params, rewards, out=None):
        step.sample(*params, gen)
        step.grad(rewards, out=out)
    E = {
        "Categorical()": (lambda: sf.Categorical(L), (L,)),
        "Categorical(copy=False)": (lambda: sf.Categorical(L, copy=False), (L,)),
        "Categorical(NaN) -> error": (lambda: sf.Categorical(nan_logits), (nan_logits,)),
        "Categorical.sample": (lambda: cat.sample(S, rng=gen), (gen,)),
        "Categorical.sample(seed)": (lambda: cat.sample(S, rng=3), ()),
        "Categorical.sample_and_log_prob": (lambda: cat32.sample_and_log_prob(S, rng=gen), (gen,)),
        "Categorical.log_prob": (lambda: cat.log_prob(v), (v,)),
        "Categorical.log_prob(bad) -> error": (lambda: cat.log_prob(bad_v), (bad_v,)),
        "Categorical.entropy": (lambda: cat.entropy(), ()),
        "Categorical.probs": (lambda: cat.probs, ()),
        "Categorical.log_normalizer": (lambda: cat.log_normalizer(), ()),
        "Categorical.score": (lambda: cat.score(v[:2]), (v,)),
        "Categorical.weighted_score": (lambda: cat.weighted_score(v, w), (v, w)),
        "Categorical.weighted_score(out)": (lambda: cat.weighted_score(v, w, out=out), (v, w, out)),
        "reinforce_grad(cat, loo)": (lambda: sf.reinforce_grad(cat, v, rewards), (v, rewards)),
        "reinforce_grad(cat, none)": (lambda: sf.reinforce_grad(cat, v, rewards, baseline="none"), (v, rewards)),
        "reinforce_grad(cat, group)": (lambda: sf.reinforce_grad(cat, v, rewards, baseline="group"), (v, rewards)),
        "reinforce_grad(cat, 0.5)": (lambda: sf.reinforce_grad(cat, v, rewards, baseline=0.5), (v, rewards)),
        "reinforce_grad(cat, optimal)": (lambda: sf.reinforce_grad(cat, v[:4], rewards[:4], baseline="optimal"), (v, rewards)),
        "reinforce_grad(cat, groups)": (lambda: sf.reinforce_grad(cat, v, rewards, baseline="mean", groups=groups), (v, rewards, groups)),
        "reinforce_grad(cat, EMA)": (lambda: sf.reinforce_grad(cat, v, rewards, baseline=ema), (v, rewards, ema)),
        "reinforce_grad(cat, bad) -> error": (lambda: sf.reinforce_grad(cat, bad_v, rewards, baseline="none"), (bad_v, rewards)),
        "Bernoulli()": (lambda: sf.Bernoulli(LB), (LB,)),
        "Bernoulli.sample": (lambda: ber.sample(2, rng=gen), (gen,)),
        "Bernoulli.sample(numpy)": (lambda: ber.sample(2, rng=gen, method="numpy"), (gen,)),
        "Bernoulli.sample_and_log_prob": (lambda: ber.sample_and_log_prob(2, rng=gen), (gen,)),
        "Bernoulli.log_prob": (lambda: ber.log_prob(xb), (xb,)),
        "Bernoulli.log_prob(bad) -> error": (lambda: ber.log_prob(bad_xb), (bad_xb,)),
        "Bernoulli.entropy": (lambda: ber.entropy(), ()),
        "Bernoulli.probs": (lambda: ber.probs, ()),
        "Bernoulli.score": (lambda: ber.score(xb), (xb,)),
        "Bernoulli.weighted_score": (lambda: ber.weighted_score(xb, wb), (xb, wb)),
        "reinforce_grad(ber, loo)": (lambda: sf.reinforce_grad(ber, xb, wb), (xb, wb)),
        "reinforce_grad(ber, bad) -> error": (lambda: sf.reinforce_grad(ber, bad_xb, wb), (bad_xb, wb)),
        "Normal()": (lambda: sf.Normal(loc, scale), (loc, scale)),
        "DiagNormal()": (lambda: sf.DiagNormal(loc, scale), (loc, scale)),
        "Normal.sample": (lambda: nor.sample(2, rng=gen), (gen,)),
        "Normal.sample(numpy, antithetic)": (lambda: nor.sample(2, rng=gen, method="numpy", antithetic=True), (gen,)),
        "DiagNormal.sample_and_log_prob": (lambda: dia.sample_and_log_prob(2, rng=gen), (gen,)),
        "DiagNormal.log_prob": (lambda: dia.log_prob(xg), (xg,)),
        "Normal.entropy": (lambda: nor.entropy(), ()),
        "DiagNormal.score": (lambda: dia.score(xg), (xg,)),
        "DiagNormal.weighted_score(out)": (lambda: dia.weighted_score(xg, wg, out=outs), (xg, wg) + outs),
        "reinforce_grad(diag, loo)": (lambda: sf.reinforce_grad(dia, xg, wg), (xg, wg)),
        "reinforce_grad(diag, optimal)": (lambda: sf.reinforce_grad(dia, xg[:3], wg[:3], baseline="optimal"), (xg, wg)),
        "pathwise_grad": (lambda: sf.pathwise_grad(dia, xg, xg), (xg,)),
        "advantages(loo)": (lambda: sf.advantages(rewards, "loo"), (rewards,)),
        "advantages(group, groups)": (lambda: sf.advantages(rewards, "group", groups=groups), (rewards, groups)),
        "advantages(NaN) -> error": (lambda: sf.advantages(nan_logits, "mean"), (nan_logits,)),
        "CategoricalStep.sample+grad": (lambda: step_round(cstep, (L,), rewards), (L, rewards, gen)),
        "CategoricalStep.grad(out)": (lambda: cstep.grad(rewards, out=out), (rewards, out)),
        "CategoricalStep.sample(seed)": (lambda: cstep.sample(L, 3), (L,)),
        "CategoricalStep.grad(NaN) -> error": (lambda: cstep.grad(rewards * np.nan), (rewards,)),
        "DiagNormalStep.sample+grad": (lambda: step_round(gstep, (loc, scale), rg, outs), (loc, scale, rg, gen) + outs),
        "CategoricalStep.grad(broadcast)": (lambda: cstep.grad(rewards[:1]), (rewards,)),
        "BernoulliStep.sample+grad(per row)": (lambda: step_round(bstep, (LB,), per_row), (LB, per_row, gen)),
        "BernoulliStep.grad(broadcast)": (lambda: bstep.grad(per_state), (per_state,)),
        "BernoulliStep.grad(NaN) -> error": (lambda: bstep.grad(per_row * np.nan), (per_row,)),
        "NormalStep.sample+grad(per row)": (lambda: step_round(nstep, (loc, scale), per_row), (loc, scale, per_row, gen)),
        "NormalStep.grad(broadcast)": (lambda: nstep.grad(per_state), (per_state,)),
        "EMABaseline()": (lambda: sf.EMABaseline(0.5), ()),
        "EMABaseline.__call__": (lambda: ema(rewards), (rewards,)),
        "centered_ranks": (lambda: sf.centered_ranks(rewards), (rewards,)),
        "nes_utilities": (lambda: sf.nes_utilities(rewards), (rewards,)),
    }
    return E


NAMES = list(_entry_points("tiny"))


def _call(fn):
    try:
        fn()
    except (ValueError, TypeError):
        pass


def _refcounts(objs):
    # (not the builtin dtypes': numpy 2.4's np.empty/np.zeros without a dtype
    # leak a reference to float64's descriptor on every call, harmlessly, as
    # builtin descriptors are static; es.py calls them so)
    return [sys.getrefcount(o) for o in objs]


def _check_flat(name, size, calls, max_tracemalloc, max_rss, max_heap):
    fn, inputs = _entry_points(size)[name]
    for _ in range(50):                                     # warm caches and pools
        _call(fn)
    gc.collect()
    before_refs = _refcounts(inputs)
    tracemalloc.start()
    try:
        for _ in range(50):
            _call(fn)
        gc.collect()
        t0 = tracemalloc.get_traced_memory()[0]
        r0 = rss()
        h0 = heap_in_use() if heap_in_use else 0
        for _ in range(calls):
            _call(fn)
        gc.collect()
        t1 = tracemalloc.get_traced_memory()[0]
        r1 = rss()
        h1 = heap_in_use() if heap_in_use else 0
    finally:
        tracemalloc.stop()
    after_refs = _refcounts(inputs)
    assert after_refs == before_refs, f"{name}: reference counts {before_refs} -> {after_refs}"
    assert t1 - t0 <= max_tracemalloc, f"{name}: tracemalloc grew by {t1 - t0} bytes in {calls} calls"
    assert r1 - r0 <= max_rss, f"{name}: RSS grew by {(r1 - r0) / 2**20:.1f} MiB in {calls} calls"
    assert h1 - h0 <= max_heap, f"{name}: malloc'd bytes in use grew by {h1 - h0} in {calls} calls"
    return t1 - t0, r1 - r0, h1 - h0


CALLS = int(os.environ.get("SCOREFAST_MEMORY_CALLS", "2000"))


@pytest.mark.parametrize("name", NAMES)
def test_tiny_inputs_many_calls(name):
    """A Python object leaked per call: at least 16 bytes each, over 2000
    calls 32 KB of tracemalloc (which sees every Python allocation)."""
    _check_flat(name, "tiny", CALLS, max_tracemalloc=16 * 1024, max_rss=4 << 20,
                max_heap=32 * 1024)


@pytest.mark.parametrize("name", NAMES)
def test_big_scratch_few_calls(name):
    """Inputs for which each call's scratch (uniforms, per-thread rows of K
    or D doubles, advantages of S) is 0.1 to 10 MB: 60 calls leaking it
    would grow the resident set by far more than the 32 MB allowed."""
    _check_flat(name, "big", 60, max_tracemalloc=256 * 1024, max_rss=32 << 20,
                max_heap=256 * 1024)


@pytest.mark.skipif(CALLS < 100000, reason="SCOREFAST_MEMORY_CALLS=100000 runs 10^5 calls "
                    "of every entry point (about 25 minutes on 2 cores)")
def test_hundred_thousand_calls():
    for name in NAMES:
        _check_flat(name, "tiny", CALLS, max_tracemalloc=16 * 1024, max_rss=8 << 20,
                    max_heap=64 * 1024)
