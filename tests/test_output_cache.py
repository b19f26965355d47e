"""The output cache: large new outputs are allocated through it, their memory
kept when they are freed (up to a limit and 16 blocks) and handed to the
next output of about their size; the arrays are ordinary ndarrays and the
results do not depend on it."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import scorefast as sf
from scorefast import _step

MIB = 1 << 20


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts from an empty cache at the default limit, and leaves
    the default behind."""
    sf.set_output_cache(0)
    sf.set_output_cache(None)
    yield
    sf.set_output_cache(0)
    sf.set_output_cache(None)


def held():
    """(bytes, blocks) the cache holds."""
    _, nbytes, blocks = _step._output_cache_state()
    return nbytes, blocks


try:                                             # numpy 2
    from numpy._core.multiarray import get_handler_name as handler_name
except ImportError:                              # numpy 1.26
    from numpy.core.multiarray import get_handler_name as handler_name


def test_a_freed_output_is_handed_to_the_next_of_its_size():
    a = _step._new_output((2 * MIB // 8,), np.float64)
    where = a.ctypes.data
    assert handler_name(a) == "scorefast_output_cache"
    assert held() == (0, 0)
    del a
    assert held() == (2 * MIB, 1)
    b = _step._new_output((2 * MIB // 8,), np.float64)
    assert b.ctypes.data == where
    assert held() == (0, 0)


def test_small_outputs_are_numpys_own():
    a = _step._new_output((MIB // 8 - 1,), np.float64)
    assert handler_name(a) != "scorefast_output_cache"
    del a
    assert held() == (0, 0)


def test_a_small_request_does_not_take_a_large_block():
    """A held block is handed out only to a request it exceeds by at most a
    quarter."""
    big = _step._new_output((8 * MIB,), np.uint8)
    del big
    small = _step._new_output((2 * MIB,), np.uint8)
    assert held() == (8 * MIB, 1)
    close = _step._new_output((7 * MIB,), np.uint8)          # 8 <= 7 * 5 / 4
    assert held() == (0, 0)
    assert close.nbytes == 7 * MIB and small.nbytes == 2 * MIB


def test_the_cache_keeps_at_most_its_limit_and_sixteen_blocks():
    sf.set_output_cache(5 * MIB)
    arrays = [_step._new_output((MIB,), np.uint8) for _ in range(8)]
    del arrays
    assert held() == (5 * MIB, 5)
    sf.set_output_cache(64 * MIB)
    arrays = [_step._new_output((MIB,), np.uint8) for _ in range(20)]
    del arrays
    assert held() == (16 * MIB, 16)
    # a smaller limit gives back the oldest blocks down to it
    sf.set_output_cache(3 * MIB)
    assert held() == (3 * MIB, 3)
    # a block larger than the limit is freed, not kept
    _step._new_output((4 * MIB,), np.uint8)                # made and dropped at once
    assert held() == (3 * MIB, 3)
    sf.set_output_cache(0)
    assert held() == (0, 0)
    _step._new_output((2 * MIB,), np.uint8)
    assert held() == (0, 0)


def test_the_oldest_block_goes_first():
    sf.set_output_cache(3 * MIB)
    first = _step._new_output((MIB,), np.uint8)
    second = _step._new_output((MIB,), np.uint8)
    third = _step._new_output((MIB,), np.uint8)
    fourth = _step._new_output((MIB,), np.uint8)
    kept = [second.ctypes.data, third.ctypes.data, fourth.ctypes.data]
    del first, second, third, fourth                       # the first freed is dropped
    assert held() == (3 * MIB, 3)
    again = [_step._new_output((MIB,), np.uint8) for _ in range(3)]
    assert sorted(a.ctypes.data for a in again) == sorted(kept)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_outputs_are_ordinary_arrays(dtype):
    a = _step._new_output((300, 1000), dtype)
    assert a.shape == (300, 1000) and a.dtype == dtype
    assert a.flags.c_contiguous and a.flags.writeable and a.flags.owndata and a.base is None
    assert a.ctypes.data % 64 == 0
    a[...] = np.arange(a.size, dtype=dtype).reshape(a.shape)
    # growing in place goes through the cache's realloc, keeping the values
    a.resize((600, 1000), refcheck=False)
    np.testing.assert_array_equal(a[:300].ravel(), np.arange(300 * 1000, dtype=dtype))
    # shrinking keeps the block
    a.resize((250, 1000), refcheck=False)
    np.testing.assert_array_equal(a.ravel(), np.arange(250 * 1000, dtype=dtype))
    b = np.frombuffer(a.tobytes(), dtype).reshape(a.shape)
    np.testing.assert_array_equal(a, b)


def _vm_flags(address):
    """The VmFlags of the mapping holding address (/proc/self/smaps), or None."""
    try:
        with open("/proc/self/smaps") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    inside = False
    for line in lines:
        head = line.split()[0]
        if "-" in head and all(c in "0123456789abcdef-" for c in head):
            lo, hi = (int(v, 16) for v in head.split("-"))
            inside = lo <= address < hi
        elif inside and line.startswith("VmFlags:"):
            return line.split()[1:]
    return None


@pytest.mark.skipif(not os.path.exists("/sys/kernel/mm/transparent_hugepage"),
                    reason="Linux with transparent huge pages")
def test_large_blocks_ask_for_huge_pages():
    """A new block of 4 MiB or more is advised MADV_HUGEPAGE, as numpy advises
    its own large arrays ("hg" among the mapping's flags)."""
    a = _step._new_output((8 * MIB,), np.uint8)
    flags = _vm_flags(a.ctypes.data + 4 * MIB)
    if flags is None:
        pytest.skip("no /proc/self/smaps")
    assert "hg" in flags, flags


def test_zeros_through_the_cache_are_zero_over_reused_memory():
    a = _step._new_output((3 * MIB // 8,), np.float64)
    a.fill(np.nan)
    where = a.ctypes.data
    del a
    z = _step._new_output((3 * MIB // 8,), np.float64, zeros=True)
    assert z.ctypes.data == where
    assert not z.any()


def _steps_large():
    """A step of each family and outputs of several MiB, with its arguments."""
    rng = np.random.default_rng(3)
    L = rng.standard_normal((512, 640))
    loc = rng.standard_normal((16384, 16))
    log_scale = rng.uniform(-1, 0.5, (16384, 16))
    return [
        (sf.CategoricalStep(4, "loo"), (L,), {}, lambda a: L.take(a % 7)),
        (sf.BernoulliStep(4, "loo"), (L,), {}, lambda x: x.sum(-1, keepdims=True)),
        (sf.NormalStep(1, "none"), (loc,), {"log_scale": log_scale},
         lambda x: x[..., :1] ** 2),
        (sf.DiagNormalStep(64, "mean"), (loc[0].repeat(512),), {"log_scale": log_scale[0].repeat(512)},
         lambda x: -np.square(x).sum(-1)),
    ]


def _run(step, args, kwargs, reward, seed):
    value, log_prob = step.sample(*args, rng=np.random.default_rng(seed), **kwargs)
    g = step.grad(reward(value))
    return [np.array(v, copy=True) for v in (value, log_prob) + (g if isinstance(g, tuple) else (g,))]


@pytest.mark.parametrize("threads", [1, 2])
def test_steps_give_the_same_bits_with_the_cache_on_and_off(threads):
    """Over memory that held NaN: the outputs written into reused blocks
    have the bits of those written into new memory."""
    previous = sf.set_num_threads(threads)
    try:
        for step, args, kwargs, reward in _steps_large():
            sf.set_output_cache(0)
            want = _run(step, args, kwargs, reward, 11)
            sf.set_output_cache(None)
            for _ in range(3):                       # the cache fills, then is reused
                value, log_prob = step.sample(*args, rng=np.random.default_rng(5), **kwargs)
                g = step.grad(reward(value))
                for a in (value, log_prob) + (g if isinstance(g, tuple) else (g,)):
                    if a.dtype.kind == "f":
                        a.fill(np.nan)
                del value, log_prob, g, a
            assert held()[1] > 0
            got = _run(step, args, kwargs, reward, 11)
            for w, x in zip(want, got):
                np.testing.assert_array_equal(w, x)
    finally:
        sf.set_num_threads(previous)


def _distributions_large():
    """A distribution of each family with outputs of several MiB, and rewards."""
    rng = np.random.default_rng(4)
    L = rng.standard_normal((512, 640))
    loc, scale = rng.standard_normal((4096, 64)), rng.uniform(0.5, 2, (4096, 64))
    return [(sf.Categorical(L), lambda a: L.take(a % 7)),
            (sf.Bernoulli(L), lambda x: x.sum(-1, keepdims=True)),
            (sf.Normal(loc, scale), lambda x: x ** 2),
            (sf.DiagNormal(loc, scale), lambda x: -np.square(x).sum(-1))]


def test_distributions_outputs_go_through_the_cache_with_the_same_bits():
    """A distribution's large draws, log-probabilities and new gradients are
    the cache's (its small ones numpy's), with the bits of the cache off."""
    for d, reward in _distributions_large():
        sf.set_output_cache(0)
        x0, lp0 = d.sample_and_log_prob(4, rng=7)
        g0 = sf.reinforce_grad(d, x0, reward(x0), baseline="loo")
        sf.set_output_cache(None)
        x1, lp1 = d.sample_and_log_prob(4, rng=7)
        g1 = sf.reinforce_grad(d, x1, reward(x1), baseline="loo")
        pairs = list(zip((x0, lp0) + (g0 if isinstance(g0, tuple) else (g0,)),
                         (x1, lp1) + (g1 if isinstance(g1, tuple) else (g1,))))
        assert len(pairs) in (3, 4)
        for a, b in pairs:
            np.testing.assert_array_equal(a, b)
            assert (handler_name(b) == "scorefast_output_cache") == (b.nbytes >= MIB)


def test_many_threads_never_share_a_block():
    """Threads that allocate, fill with their own pattern, check and free
    outputs of several sizes at once: no block is handed to two of them."""
    errors = []
    barrier = threading.Barrier(8)

    def work(t):
        rng = np.random.default_rng(t)
        barrier.wait()
        for _ in range(150):
            n = int(rng.integers(1, 5)) * MIB // 8
            a = _step._new_output((n,), np.float64)
            a.fill(t)
            b = _step._new_output((n,), np.float64)
            b.fill(-t)
            if not ((a == t).all() and (b == -t).all()):
                errors.append(t)
            del a, b

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    nbytes, blocks = held()
    assert nbytes <= sf.get_output_cache() and blocks <= 16


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# the child runs no JAX (imported by other tests) and ends with os._exit
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_child_forked_while_another_thread_holds_the_cache_can_use_it():
    """fork() while another thread holds the cache's lock waits for it (the
    lock is taken around fork), so the child's lock is free: the child
    allocates and frees outputs through the cache and exits. Without that, the
    child would inherit a lock held by a thread it does not have, and hang."""
    holder = threading.Thread(target=_step._hold_output_cache_lock, args=(0.5,))
    holder.start()
    time.sleep(0.1)                                  # the holder has the lock now
    pid = os.fork()
    if pid == 0:                                     # the child
        code = 1
        try:
            b = _step._new_output((2 * MIB // 8,), np.float64)
            b.fill(1.0)
            code = int(b.sum() != b.size)
            del b
        finally:
            os._exit(code)
    holder.join()
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung on the output cache's lock")
        time.sleep(0.01)


def test_set_output_cache_arguments():
    assert sf.get_output_cache() == 256 * MIB
    assert sf.set_output_cache(10 * MIB) == 256 * MIB
    assert sf.get_output_cache() == 10 * MIB
    assert sf.set_output_cache(np.int64(0)) == 10 * MIB
    assert sf.set_output_cache(None) == 0
    assert sf.get_output_cache() == 256 * MIB
    for bad in (True, 1.5, "1"):
        with pytest.raises(TypeError, match="max_bytes"):
            sf.set_output_cache(bad)
    with pytest.raises(ValueError, match="max_bytes"):
        sf.set_output_cache(-1)
    assert sf.get_output_cache() == 256 * MIB


@pytest.mark.parametrize("value, expect", [("0", "0"), ("16", str(16 * MIB)),
                                           ("-1", "ValueError"), ("lots", "ValueError")])
def test_the_environment_sets_the_default(value, expect):
    code = ("import scorefast as sf\nfrom scorefast import _step\n"
            "print(sf.get_output_cache(), _step._output_cache_state()[0])")
    env = dict(os.environ, SCOREFAST_OUTPUT_CACHE_MB=value)
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if expect == "ValueError":
        assert run.returncode != 0 and "SCOREFAST_OUTPUT_CACHE_MB" in run.stderr
    else:
        assert run.stdout.split() == [expect, expect]
