"""Concurrency and determinism of every family (tests/test_threads.py covers
the Categorical in depth): the kernels release the GIL; 8 Python threads on
separate Generators get the results of a sequential run; threads sharing one
Generator never corrupt it; one seed gives the same bits for any kernel
thread count and on every run."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import scorefast as sf

N_THREADS = 8


def _workload(family, dtype, seed, size=1):
    """Every method's output for one family and seed (kernels big enough to
    go parallel when size is large)."""
    rng = np.random.default_rng(seed)
    if family == "Categorical":
        d = sf.Categorical(rng.normal(size=(40 * size, 50)).astype(dtype))
        x, lp = d.sample_and_log_prob(6, rng=seed)
        extra = {"probs": d.probs}
    elif family == "Bernoulli":
        d = sf.Bernoulli(rng.normal(size=(40 * size, 50)).astype(dtype))
        x, lp = d.sample_and_log_prob(6, rng=seed)
        extra = {"numpy": d.sample(6, rng=seed, method="numpy")}
    else:
        cls = getattr(sf, family)
        d = cls(rng.normal(size=(40 * size, 50)).astype(dtype),
                (0.5 + rng.random((40 * size, 50))).astype(dtype))
        x, lp = d.sample_and_log_prob(6, rng=seed, antithetic=True)
        extra = {"numpy": d.sample(6, rng=seed, method="numpy"),
                 "pathwise": sf.pathwise_grad(d, x, np.cos(x))}
    shape = x.shape[:2] if family in ("Categorical", "DiagNormal") else x.shape
    r = rng.normal(size=shape)
    out = {"x": x, "lp": lp, "log_prob": d.log_prob(x), "entropy": d.entropy(),
           "score": d.score(x), "ws": d.weighted_score(x, r), **extra}
    for b in ("none", "loo", "group", "optimal", 0.25):
        out[f"grad {b}"] = sf.reinforce_grad(d, x, r, baseline=b)
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        for x, y in zip(*((a[k], b[k]) if isinstance(a[k], tuple) else ((a[k],), (b[k],)))):
            assert x.dtype == y.dtype, k
            np.testing.assert_array_equal(x, y, err_msg=k)


FAMILIES = ["Categorical", "Bernoulli", "Normal", "DiagNormal"]


@pytest.mark.parametrize("family", FAMILIES)
def test_eight_python_threads_match_a_sequential_run(dtype, family):
    seeds = list(range(100, 100 + N_THREADS))
    sequential = [_workload(family, dtype, s) for s in seeds]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        for _ in range(3):
            concurrent = list(pool.map(lambda s: _workload(family, dtype, s), seeds))
            for a, b in zip(sequential, concurrent):
                _assert_same(a, b)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", ["fast", "numpy"])
def test_threads_sharing_one_generator(family, method):
    """8 threads drawing from one Generator: each call takes its own block of
    the stream under the bit generator's lock, so the draws are those of 8
    sequential calls in some order, and the Generator ends where 8
    sequential calls leave it."""
    if family == "Categorical" and method == "numpy":
        pytest.skip("the Categorical sampler has one method")
    rng = np.random.default_rng(1)
    params = rng.normal(size=(30, 20))
    d = sf.Categorical(params) if family == "Categorical" else \
        sf.Bernoulli(params) if family == "Bernoulli" else getattr(sf, family)(params, 1.5)
    kw = {} if family == "Categorical" else {"method": method}
    seq_gen = np.random.default_rng(77)
    sequential = [d.sample(50, rng=seq_gen, **kw) for _ in range(4 * N_THREADS)]
    shared = np.random.default_rng(77)
    barrier = threading.Barrier(N_THREADS)

    def draw(_):
        barrier.wait()
        return [d.sample(50, rng=shared, **kw) for _ in range(4)]

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        concurrent = [x for xs in pool.map(draw, range(N_THREADS)) for x in xs]
    assert sorted(a.tobytes() for a in sequential) == sorted(a.tobytes() for a in concurrent)
    assert shared.bit_generator.state == seq_gen.bit_generator.state


def _small_step(kind):
    """A prepared step at a size whose draws run with the GIL held, and its
    sample on fixed parameters."""
    params = np.random.default_rng(3).normal(size=(4, 8))
    if kind == "categorical":
        step = sf.CategoricalStep(4, "loo")
        return lambda rng: step.sample(params, rng)
    if kind == "bernoulli":
        step = sf.BernoulliStep(4, "loo")
        return lambda rng: step.sample(params, rng)
    step = sf.DiagNormalStep(4, "loo")
    return lambda rng: step.sample(params, np.full_like(params, 0.5), rng)


@pytest.mark.parametrize("kind", ["categorical", "bernoulli", "diagnormal"])
def test_small_steps_sharing_one_generator(kind):
    """Steps in 8 threads drawing from one Generator at a size whose draws
    hold the GIL (the bit generator's lock taken without releasing it): each
    call gets a block of the stream of its own, so the draws are those of
    sequential calls in some order, and the Generator ends where they leave it."""
    calls = 25
    seq_gen = np.random.default_rng(11)
    seq_sample = _small_step(kind)
    sequential = [seq_sample(seq_gen) for _ in range(N_THREADS * calls)]
    shared = np.random.default_rng(11)
    barrier = threading.Barrier(N_THREADS)

    def run(_):
        sample = _small_step(kind)      # a step per thread, as a training loop has
        barrier.wait()
        return [sample(shared) for _ in range(calls)]

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        concurrent = [x for xs in pool.map(run, range(N_THREADS)) for x in xs]
    key = lambda out: b"".join(a.tobytes() for a in out)
    assert sorted(map(key, sequential)) == sorted(map(key, concurrent))
    assert shared.bit_generator.state == seq_gen.bit_generator.state


def test_small_and_large_draws_share_one_generator():
    """Calls that hold the GIL while they take the bit generator's lock
    (small steps) and calls that release it while they hold the lock (large
    samples) on one Generator from 8 threads: none waits on the other for
    ever, and the Generator ends where the same calls in sequence leave it."""
    big = sf.Categorical(np.random.default_rng(4).normal(size=(64, 50)))
    kinds = ["categorical", "bernoulli", "diagnormal"]

    def calls(j, rng, sample):
        for c in range(30):
            if c % 5 == j % 5:
                big.sample((300,), rng=rng)        # 19200 uniforms, GIL released
            else:
                sample(rng)

    seq_gen = np.random.default_rng(12)
    for j in range(N_THREADS):
        calls(j, seq_gen, _small_step(kinds[j % 3]))
    shared = np.random.default_rng(12)
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        futures = [pool.submit(calls, j, shared, _small_step(kinds[j % 3]))
                   for j in range(N_THREADS)]
        for f in futures:
            f.result(timeout=60)
    assert shared.bit_generator.state == seq_gen.bit_generator.state


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_bits_for_any_thread_count(restore_threads, family):
    """Kernel thread counts 1, 2, 3 and 8 (the workload is big enough to go
    parallel) and repeated runs give identical outputs."""
    results = []
    for n in (1, 2, 3, 8, 1):
        sf.set_num_threads(n)
        results.append(_workload(family, np.float64, 5, size=40))
    for r in results[1:]:
        _assert_same(results[0], r)


def _gil_free_fraction(call):
    """The fraction of a call's duration during which another Python thread
    could run: a counter thread increments while the call runs in the main
    thread; with the GIL held throughout it could not advance."""
    stop = threading.Event()
    counts = []

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 64 == 0:
                counts.append(time.perf_counter())

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    call()
    end = time.perf_counter()
    stop.set()
    t.join()
    ticks = np.array([c for c in counts if start <= c <= end])
    if ticks.size < 2:
        return 0.0
    # the longest stretch of the call in which the counter never ran
    gaps = np.diff(np.concatenate(([start], ticks, [end])))
    return 1.0 - gaps.max() / (end - start)


@pytest.mark.parametrize("kernel", ["Categorical.sample", "Categorical.weighted_score",
                                    "Bernoulli.log_prob", "Normal.sample",
                                    "DiagNormal.reinforce_grad"])
def test_kernels_release_the_gil(restore_threads, kernel):
    sf.set_num_threads(1)
    rng = np.random.default_rng(0)
    if kernel.startswith("Categorical"):
        d = sf.Categorical(rng.normal(size=(2000, 1000)))
        x = d.sample(20, rng=0)
        w = rng.normal(size=x.shape)
        call = (lambda: d.sample(20, rng=1)) if kernel.endswith("sample") else \
            (lambda: d.weighted_score(x, w))
    elif kernel.startswith("Bernoulli"):
        d = sf.Bernoulli(rng.normal(size=(1000, 1000)))
        x = d.sample(30, rng=0)
        call = lambda: d.log_prob(x)                                 # noqa: E731
    elif kernel.startswith("Normal"):
        d = sf.Normal(np.zeros(1000000), 1.0)
        call = lambda: d.sample(20, rng=0)                           # noqa: E731
    else:
        d = sf.DiagNormal(np.zeros((100, 10000)), 1.0)
        x = d.sample(30, rng=0)
        r = rng.normal(size=(30, 100))
        call = lambda: sf.reinforce_grad(d, x, r, baseline="none")   # noqa: E731
    # the best of up to ten calls: on a loaded machine the counter thread can
    # go unscheduled for a whole call (CI once saw 0% in three); a kernel that
    # held the GIL would give about 0% every time
    best = 0.0
    for _ in range(10):
        best = max(best, _gil_free_fraction(call))
        if best > 0.5:
            break
    # the Python layer around the kernel holds the GIL for a small part
    assert best > 0.5, f"another thread ran for only {best:.0%} of {kernel}"
