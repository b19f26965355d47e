"""Prepared REINFORCE steps (scorefast.steps).

A step is the distribution path in two calls: ``step.sample(params, rng)``
must return exactly what ``Family(params).sample_and_log_prob(n, rng)``
returns for the same seed, and ``step.grad(rewards)`` exactly what
``reinforce_grad(Family(params), value, rewards, baseline, reduction)``
returns for those draws (bit for bit: the same kernels in the same order).
On top of that equality, the estimator itself is checked against the exact
gradient (enumeration for the categorical, the closed form for the Gaussian
search gradient), its bad arguments raise errors that name them, and its
results do not depend on the thread count.
"""
import numpy as np
import pytest

import scorefast as sf
from scorefast.steps import BernoulliStep, CategoricalStep, DiagNormalStep, NormalStep

from conftest import DTYPES, assert_close, free_nan_memory

BASELINES = ["loo", "mean", "none", "group", 0.25]


def _same(a, b):
    """Arrays (or tuples of arrays) equal in shape, dtype and every bit."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


# -- the step is the distribution path ------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(6,), (5, 7), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("baseline", BASELINES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_categorical_step_is_the_distribution_path(dtype, shape, baseline, reduction):
    logits = np.random.default_rng(1).normal(size=shape).astype(dtype)
    step = CategoricalStep(4, baseline, reduction)
    a, logp = step.sample(logits, np.random.default_rng(2))
    d = sf.Categorical(logits)
    a2, logp2 = d.sample_and_log_prob(4, np.random.default_rng(2))
    _same(a, a2)
    _same(logp, logp2)
    rewards = np.random.default_rng(3).normal(size=a.shape).astype(dtype)
    _same(step.grad(rewards), sf.reinforce_grad(d, a, rewards, baseline, reduction))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (6,), (5, 7), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("baseline", BASELINES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shared", [False, True], ids=["per-value", "per-row"])
def test_bernoulli_step_is_the_distribution_path(dtype, shape, baseline, reduction, shared):
    logits = np.random.default_rng(1).normal(size=shape).astype(dtype)
    step = BernoulliStep(4, baseline, reduction)
    x, logp = step.sample(logits, np.random.default_rng(2))
    d = sf.Bernoulli(logits)
    x2, logp2 = d.sample_and_log_prob(4, np.random.default_rng(2))
    _same(x, x2)
    _same(logp, logp2)
    rshape = x.shape[:-1] + (1,) if shared and shape else x.shape
    rewards = np.random.default_rng(3).normal(size=rshape).astype(dtype)
    _same(step.grad(rewards), sf.reinforce_grad(d, x, rewards, baseline, reduction))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("family,step_class,shape", [
    (sf.DiagNormal, DiagNormalStep, (8,)),
    (sf.DiagNormal, DiagNormalStep, (3, 5)),
    (sf.Normal, NormalStep, ()),
    (sf.Normal, NormalStep, (3, 5)),
], ids=["diag-8", "diag-3x5", "normal-scalar", "normal-3x5"])
@pytest.mark.parametrize("baseline", BASELINES, ids=str)
@pytest.mark.parametrize("antithetic", [False, True], ids=["plain", "antithetic"])
def test_gaussian_step_is_the_distribution_path(dtype, family, step_class, shape, baseline,
                                                antithetic):
    rng = np.random.default_rng(4)
    loc = rng.normal(size=shape).astype(dtype)
    scale = rng.uniform(0.5, 2.0, size=shape).astype(dtype)
    step = step_class(6, baseline, antithetic=antithetic)
    x, logp = step.sample(loc, scale, np.random.default_rng(5))
    d = family(loc, scale)
    x2, logp2 = d.sample_and_log_prob(6, np.random.default_rng(5), antithetic=antithetic)
    _same(x, x2)
    _same(logp, logp2)
    rewards = np.random.default_rng(6).normal(size=logp.shape).astype(dtype)
    _same(step.grad(rewards), sf.reinforce_grad(d, x, rewards, baseline))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", ["categorical-none", "categorical-loo", "bernoulli-none",
                                  "bernoulli-loo", "normal-policy", "normal-policy-constant",
                                  "diag-search", "normal-wide"])
def test_a_new_gradient_is_written_over_whatever_its_memory_held(dtype, threads, case):
    """A gradient the step makes is written by the kernel, not added to zeros:
    memory that held NaN just before (freed, then handed out again) must not
    show through, and the result has the bits of the accumulating kernel
    (reinforce_grad, into zeros).  On 1 thread and 2; one sample per row (a
    policy batch) and several; rows of coordinates and single coordinates."""
    rng = np.random.default_rng(40)
    if case.startswith("categorical"):
        # "none" adds -W p to every class of a row, "loo" (centred) only
        # scatters the advantages into the drawn classes
        step = CategoricalStep(3, case.split("-")[1])
        params = (rng.normal(size=(300, 130)).astype(dtype),)
        d = sf.Categorical(*params)
    elif case.startswith("bernoulli"):
        step = BernoulliStep(3, case.split("-")[1])
        params = (rng.normal(size=(300, 130)).astype(dtype),)
        d = sf.Bernoulli(*params)
    elif case.startswith("normal"):
        shape = (5000, 16) if case != "normal-wide" else (2, 3000)
        step = NormalStep(1 if case != "normal-wide" else 4,
                          0.5 if case.endswith("constant") else "none")
        params = (rng.normal(size=shape).astype(dtype),
                  rng.uniform(0.5, 2.0, size=shape).astype(dtype))
        d = sf.Normal(*params)
    else:
        step = DiagNormalStep(64)
        params = (rng.normal(size=700).astype(dtype), rng.uniform(0.5, 2.0, size=700).astype(dtype))
        d = sf.DiagNormal(*params)
    previous = sf.set_num_threads(threads)
    try:
        x, logp = step.sample(*params, 41)
        rewards = rng.normal(size=logp.shape).astype(dtype)
        for _ in range(3):
            free_nan_memory(params[0].shape, dtype)
            g = step.grad(rewards)
            for part in g if isinstance(g, tuple) else (g,):
                assert not np.isnan(part).any()
            _same(g, sf.reinforce_grad(d, x, rewards, step.baseline))
    finally:
        sf.set_num_threads(previous)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("K", [1, 3, 8, 16, 17])
@pytest.mark.parametrize("baseline", ["loo", "mean", "group", "none"])
def test_a_new_gradient_of_short_rows_has_the_bits_of_adding_into_zeros(dtype, threads, K,
                                                                        baseline):
    """Rows of at most 16 classes with a centred baseline write a new
    gradient's row in one pass from the drawn classes' sums (not scattered
    into a zeroed row): over memory that held NaN, the bits of the same
    gradient added into zeros, with six draws per row repeating classes."""
    rng = np.random.default_rng(K)
    logits = rng.normal(size=(2000, K)).astype(dtype)
    step = CategoricalStep(6, baseline)
    previous = sf.set_num_threads(threads)
    try:
        a, _ = step.sample(logits, 43)
        rewards = rng.normal(size=a.shape).astype(dtype)
        into_zeros = sf.reinforce_grad(sf.Categorical(logits), a, rewards, baseline,
                                       out=np.zeros_like(logits))
        for _ in range(2):
            free_nan_memory(logits.shape, dtype)
            g = step.grad(rewards)
            assert not np.isnan(g).any()
            _same(g, into_zeros)
    finally:
        sf.set_num_threads(previous)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("K", [257, 600, 1100])
@pytest.mark.parametrize("baseline", ["loo", "none"])
def test_a_gradient_zeroed_by_the_sampler_is_a_new_gradient(dtype, threads, K, baseline):
    """Rows of over 256 classes (drawn one at a time): the sampler zeroes the
    next new gradient as it draws and grad adds into it.  Over memory that
    held NaN, with each gradient returned filled with NaN by its caller
    before the next sample, every gradient has the bits of reinforce_grad
    into zeros; a sample with no grad after it, a grad into ``out=``, a
    sample of logits of another shape, and a sample with an invalid row
    (validate=False, its row drawing -1) in between change nothing."""
    rng = np.random.default_rng(K)
    step = CategoricalStep(5, baseline, validate=False)
    previous = sf.set_num_threads(threads)

    def check(logits, seed, out=None):
        a, _ = step.sample(logits, seed)
        rewards = rng.normal(size=a.shape).astype(dtype)
        into_zeros = sf.reinforce_grad(sf.Categorical(logits), a, rewards, baseline,
                                       out=np.zeros_like(logits))
        g = step.grad(rewards, out=out)
        assert not np.isnan(g).any()
        _same(g, into_zeros)
        g[...] = np.nan

    try:
        for it in range(3):
            free_nan_memory((60, K), dtype)
            check(rng.normal(size=(60, K)).astype(dtype), it)
        step.sample(rng.normal(size=(60, K)).astype(dtype), 5)
        check(rng.normal(size=(60, K)).astype(dtype), 6)
        check(rng.normal(size=(60, K)).astype(dtype), 7, out=np.zeros((60, K), dtype))
        check(rng.normal(size=(60, K)).astype(dtype), 8)
        check(rng.normal(size=(7, K + 3)).astype(dtype), 9)
        bad = rng.normal(size=(60, K)).astype(dtype)
        bad[17, K // 2] = np.nan
        free_nan_memory((60, K), dtype)
        value, _ = step.sample(bad, 10)
        assert (value[:, 17] == -1).all()
        check(rng.normal(size=(60, K)).astype(dtype), 11)
    finally:
        sf.set_num_threads(previous)


def test_grad_reads_the_last_sample_and_can_be_repeated():
    logits = np.random.default_rng(7).normal(size=(4, 5))
    step = CategoricalStep(3, "none")
    step.sample(np.zeros((2, 9)), 0)
    a, _ = step.sample(logits, 8)
    d = sf.Categorical(logits)
    for seed in (9, 10):
        r = np.random.default_rng(seed).normal(size=a.shape)
        _same(step.grad(r), sf.reinforce_grad(d, a, r, "none"))


def test_out_accumulates():
    logits = np.random.default_rng(11).normal(size=(4, 5))
    step = CategoricalStep(3, "loo")
    a, _ = step.sample(logits, 12)
    r = np.random.default_rng(13).normal(size=a.shape)
    g = step.grad(r)
    out = np.ones_like(logits)
    assert step.grad(r, out=out) is out
    np.testing.assert_array_equal(out, 1.0 + g)

    bstep = BernoulliStep(3, "mean")
    x, _ = bstep.sample(logits, 12)
    g = bstep.grad(x.sum(-1, keepdims=True))
    out = np.full_like(logits, 0.5)
    assert bstep.grad(x.sum(-1, keepdims=True), out=out) is out
    np.testing.assert_array_equal(out, 0.5 + g)

    loc, scale = np.zeros(3), np.ones(3)
    gstep = DiagNormalStep(4)
    x, _ = gstep.sample(loc, scale, 14)
    f = -np.sum(x ** 2, axis=-1)
    g_loc, g_ls = gstep.grad(f)
    out = (np.full(3, 2.0), np.full(3, -1.0))
    assert gstep.grad(f, out=out) is out
    np.testing.assert_array_equal(out[0], 2.0 + g_loc)
    np.testing.assert_array_equal(out[1], -1.0 + g_ls)


def _sample_cases(dtype):
    """(step, params) of each family: categorical and Bernoulli logits, a
    Normal policy batch and a DiagNormal search (plain and mirrored)."""
    rng = np.random.default_rng(20)
    logits = rng.normal(size=(6, 5)).astype(dtype)
    loc = rng.normal(size=(3, 4)).astype(dtype)
    scale = rng.uniform(0.5, 2.0, size=(3, 4)).astype(dtype)
    return [(CategoricalStep(4, "loo"), (logits,)), (BernoulliStep(3, "loo"), (logits,)),
            (NormalStep(2, "none"), (loc, scale)), (DiagNormalStep(4), (loc, scale)),
            (DiagNormalStep(4, antithetic=True), (loc, scale))]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", range(5), ids=["categorical", "bernoulli", "normal", "diag",
                                                "diag-antithetic"])
def test_sample_into_out_is_the_new_sample(dtype, threads, case):
    """sample(..., out=(value, log_prob)) returns out's two arrays, holding
    the bits a sample into new arrays holds for the same seed, whatever they
    held before (NaN, or the previous sample's draws when reused); grad then
    reads the draws from out as it reads its own."""
    step, params = _sample_cases(dtype)[case]
    previous = sf.set_num_threads(threads)
    try:
        value, log_prob = step.sample(*params, 21)
        rewards = np.random.default_rng(22).normal(size=log_prob.shape).astype(dtype)
        g = step.grad(rewards)
        out = (np.empty_like(value), np.full_like(log_prob, np.nan))
        if value.dtype.kind == "f":
            out[0].fill(np.nan)
        for seed in (23, 21):
            got = step.sample(*params, seed, out=out)
            assert got[0] is out[0] and got[1] is out[1]
        _same(out, (value, log_prob))
        _same(step.grad(rewards), g)
    finally:
        sf.set_num_threads(previous)


def test_sample_into_out_checks_out_before_drawing():
    """A bad out raises naming out (and the array at fault) before the
    Generator is advanced; the step keeps its last sample."""
    logits = np.random.default_rng(24).normal(size=(4, 5))
    step = CategoricalStep(3, "none")
    a, logp = step.sample(logits, 25)
    r = np.ones(a.shape)
    g = step.grad(r)
    good = (np.empty((3, 4), np.int64), np.empty((3, 4)))
    strided = np.empty((3, 8))[:, ::2]
    read_only = np.empty((3, 4))
    read_only.flags.writeable = False
    swapped = np.empty((3, 4), ">f8")
    cases = [
        (good[0], TypeError, "tuple of two arrays"),
        ([good[0], good[1]], TypeError, "tuple of two arrays"),
        ((good[0],), TypeError, "got a tuple of 1"),
        ((good[0], good[1], good[1]), TypeError, "got a tuple of 3"),
        ((good[0], [[0.0] * 4] * 3), TypeError, r"out\[1\] \(log_prob\) must be a numpy array"),
        ((good[0].astype(np.int32), good[1]), TypeError, r"out\[0\] .*dtype int64"),
        ((good[0], good[1].astype(np.float32)), TypeError, r"out\[1\] .*dtype float64"),
        ((good[0], swapped), TypeError, r"out\[1\] .*dtype float64"),
        ((good[0][:2], good[1]), ValueError, r"out\[0\] .*shape \(3, 4\)"),
        ((good[0], good[1].reshape(4, 3)), ValueError, r"out\[1\] .*shape \(3, 4\)"),
        ((good[0], strided), ValueError, r"out\[1\] .*C-contiguous"),
        ((good[0], read_only), ValueError, r"out\[1\] .*writeable"),
        ((good[0], logits[:3, :4].copy()), None, None),
    ]
    gen = np.random.default_rng(26)
    for out, error, match in cases:
        state = gen.bit_generator.state
        if error is None:
            step.sample(logits, gen, out=out)          # a good out, for contrast
            continue
        with pytest.raises(error, match=match):
            step.sample(logits, gen, out=out)
        assert gen.bit_generator.state == state
    # the draws may not share memory with the logits nor with each other
    flat = np.empty(24)
    with pytest.raises(ValueError, match=r"out\[1\] .*must not share memory with an input"):
        step.sample(logits, gen, out=(good[0], logits.reshape(-1)[:12].reshape(3, 4)))
    with pytest.raises(ValueError, match="the draws and log_prob must not share memory"):
        step.sample(logits, gen, out=(flat.view(np.int64)[8:20].reshape(3, 4),
                                      flat[:12].reshape(3, 4)))
    step.sample(logits, gen, out=(flat.view(np.int64)[12:].reshape(3, 4),
                                  flat[:12].reshape(3, 4)))     # adjacent, not shared
    # a failed call keeps the last good sample for grad
    step.sample(logits, 25)
    with pytest.raises(TypeError):
        step.sample(logits, gen, out=(good[1], good[1]))
    _same(step.grad(r), g)

    # a Gaussian step's inputs are loc and scale
    gstep = DiagNormalStep(2)
    buffer = np.ones(6)
    loc, scale = np.zeros(3), buffer[:3]
    with pytest.raises(ValueError, match=r"out\[0\] \(the draws\) must not share memory"):
        gstep.sample(loc, scale, 0, out=(buffer.reshape(2, 3), np.empty(2)))


def test_inputs_off_the_fast_path_are_converted():
    """Lists, integers, strided arrays, seeds and broadcast rewards give what
    the same values as C-contiguous float64 arrays give."""
    logits = np.random.default_rng(15).normal(size=(3, 8))
    step = CategoricalStep(5, "loo")
    a, logp = step.sample(logits, 16)
    g = step.grad(np.broadcast_to(np.arange(3.0), (5, 3)).copy())
    strided = np.repeat(logits, 2, axis=1)[:, ::2]        # a non-contiguous view
    for given in (logits.tolist(), np.asfortranarray(logits), strided):
        a2, logp2 = step.sample(given, np.random.default_rng(16))
        _same(a2, a)
        _same(logp2, logp)
        _same(step.grad(np.arange(3)), g)               # int rewards broadcast over samples
    ints = np.arange(12).reshape(3, 4) % 3
    _same(step.sample(ints, 17)[0], step.sample(ints.astype(np.float64), 17)[0])

    gstep = DiagNormalStep(4, "loo")
    x, _ = gstep.sample([0.0, 1.0], 2.0, 18)             # scale broadcast against loc
    x2, _ = gstep.sample(np.array([0.0, 1.0]), np.array([2.0, 2.0]), 18)
    _same(x, x2)
    assert x.dtype == np.float64


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("rshape", [(1, 4, 1), (4, 1), (1,), (), (2, 4, 1), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("baseline", ["none", "loo", 0.5])
def test_broadcast_rewards_are_the_full_block(dtype, rshape, baseline):
    """Rewards that broadcast to the draws' shape (one per state shared by its
    coordinates, one per sample, a scalar) give what their full block gives,
    bit for bit: a Normal's rewards of shape (..., 1) are summed row by row,
    each coordinate with the same terms as its own reward would give."""
    rng = np.random.default_rng(30)
    loc = rng.normal(size=(4, 3)).astype(dtype)
    scale = rng.uniform(0.5, 2.0, (4, 3)).astype(dtype)
    step = NormalStep(2, baseline)
    x, _ = step.sample(loc, scale, 31)
    r = rng.normal(size=rshape).astype(dtype)
    full = np.ascontiguousarray(np.broadcast_to(r, x.shape))
    want = step.grad(full)
    _same(step.grad(r), want)
    _same(step.grad(r.astype(np.float64 if dtype == np.float32 else np.float32)),
          step.grad(np.ascontiguousarray(np.broadcast_to(
              r.astype(np.float64 if dtype == np.float32 else np.float32), x.shape))))
    _same(want, sf.reinforce_grad(sf.Normal(loc, scale), x, full, baseline))

    step = CategoricalStep(2, baseline)
    a, _ = step.sample(loc, 32)
    for cshape in [(4,), (1, 4), (2, 1), ()]:                  # per state, per sample, one
        r = rng.normal(size=cshape).astype(dtype)
        _same(step.grad(r), step.grad(np.ascontiguousarray(np.broadcast_to(r, a.shape))))
    _same(step.grad(np.ones(4, bool)), step.grad(np.ones(a.shape, dtype)))
    r = rng.normal(size=(2, 8))
    for odd in (r[:, ::2], r[:, ::2].astype(">f8"), np.asfortranarray(r[:, :4])):
        _same(step.grad(odd), step.grad(np.ascontiguousarray(odd, dtype)))
    _same(step.grad(np.arange(4)), step.grad(np.broadcast_to(np.arange(4.0), a.shape)
                                             .astype(dtype)))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("D", [1, 3, 4, 8, 15, 16, 17, 40])
@pytest.mark.parametrize("by_log", [False, True], ids=["scale", "log_scale"])
def test_a_policy_batch_gradient_in_rows_short_and_long(dtype, D, by_log, restore_threads):
    """One action per state (NormalStep(1)), one advantage A per state shared
    by its D coordinates: rows shorter than a vector of float go through the
    kernel as one loop over the batch's elements, longer ones a loop per row.
    Either way the gradient is the formula's, d/dloc = A z / sigma and
    d/dlog_scale = A (z^2 - 1) over B D, to round-off; the per-state
    advantages give the bits of their full block, accumulating into zeros
    the bits of a new gradient, and 1 and 2 threads the same bits."""
    rng = np.random.default_rng(60 + D)
    B = 40000 // D + 3                  # past the threads' threshold; rows per item do not divide it
    loc = rng.normal(size=(B, D)).astype(dtype)
    log_scale = rng.uniform(-1.5, 0.5, (B, D)).astype(dtype)
    scale = np.exp(log_scale)
    adv = rng.normal(size=B).astype(dtype)
    per_state = adv[None, :, None]
    runs = []
    for threads in (1, 2):
        sf.set_num_threads(threads)
        step = NormalStep(1, "none")
        if by_log:
            x, _ = step.sample(loc, rng=61, log_scale=log_scale)
        else:
            x, _ = step.sample(loc, scale, 61)
        g = step.grad(per_state)
        _same(g, step.grad(np.ascontiguousarray(np.broadcast_to(per_state, x.shape))))
        _same(step.grad(per_state, out=(np.zeros_like(loc), np.zeros_like(loc))), g)
        runs.append((x, g))
    _same(runs[0], runs[1])
    x, (g_loc, g_log_scale) = runs[0]
    sigma = np.exp(log_scale.astype(np.float64)) if by_log else scale.astype(np.float64)
    z = (x[0].astype(np.float64) - loc) / sigma
    a = adv.astype(np.float64)[:, None]
    assert_close(g_loc * (B * D), a * z / sigma, dtype)
    assert_close(g_log_scale * (B * D), a * (z * z - 1.0), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("D", [1, 3, 8, 15, 16, 40])
@pytest.mark.parametrize("n_samples", [2, 5, 8])
def test_a_gradient_of_several_samples_in_rows_short_and_long(dtype, D, n_samples,
                                                              restore_threads):
    """DiagNormalStep(S) over a batch of states of D coordinates, one reward
    per sample and state: rows shorter than a vector of float go through the
    kernel as runs of rows (their advantages formed across the rows), longer
    ones row by row. Either way the gradient is the reference estimator's
    for every baseline, a state whose rewards are all equal included (its
    group-normalised advantages are 0), and 1 and 2 threads give the same
    bits."""
    from scorefast import reference as ref
    rng = np.random.default_rng(70 + D + n_samples)
    B = 40000 // (n_samples * D) + 5    # past the threads' threshold, rows per item not dividing it
    loc = rng.normal(size=(B, D)).astype(dtype)
    scale = rng.uniform(0.5, 2.0, (B, D)).astype(dtype)
    f = rng.normal(size=(n_samples, B)).astype(dtype)
    f[:, 7] = f[0, 7]
    for baseline in ["none", "mean", "loo", "group", 0.5]:
        runs = []
        for threads in (1, 2):
            sf.set_num_threads(threads)
            step = DiagNormalStep(n_samples, baseline)
            x, _ = step.sample(loc, scale, 71)
            runs.append((x, step.grad(f)))
        _same(runs[0], runs[1])
        x, g = runs[0]
        want = ref.reinforce_grad(ref.DiagNormal(loc, scale), x, f, baseline=baseline)
        # the reference divides state 7's rounding residues by eps
        rows = np.arange(B) != 7 if baseline == "group" else slice(None)
        for k in range(2):
            assert_close(g[k][rows] * (n_samples * B), want[k][rows] * (n_samples * B), dtype,
                         scale=10 * n_samples)
        if baseline == "group":
            np.testing.assert_array_equal(g[0][7], 0)
            np.testing.assert_array_equal(g[1][7], 0)


def test_broadcast_rewards_are_checked():
    step = NormalStep(2)
    step.sample(np.zeros((4, 3)), np.ones((4, 3)), 0)
    for rewards, error, match in [
        (np.zeros((3, 1)), ValueError, r"rewards of shape \(3, 1\) .* = \(2, 4, 3\)"),
        (np.zeros((2, 4, 2)), ValueError, "rewards of shape"),
        (np.zeros((1, 2, 4, 3)), ValueError, "rewards of shape"),
        (np.array([[np.nan], [0.0], [0.0], [0.0]]), ValueError, "rewards contains NaN"),
        (np.full((4, 1), 1j), TypeError, "rewards"),
    ]:
        with pytest.raises(error, match=match):
            step.grad(rewards)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_dtype_is_kept(dtype):
    step = CategoricalStep(2)
    a, logp = step.sample(np.zeros((3, 4), dtype), 0)
    assert a.dtype == np.int64 and logp.dtype == dtype
    assert step.grad(np.ones((2, 3), dtype)).dtype == dtype
    x, logp = NormalStep(2).sample(np.zeros(3, dtype), np.ones(3, dtype), 0)
    assert x.dtype == dtype and logp.dtype == dtype
    bstep = BernoulliStep(2)
    x, logp = bstep.sample(np.zeros((3, 4), dtype), 0)
    assert x.dtype == dtype and logp.dtype == dtype
    assert bstep.grad(np.ones((2, 3, 1), dtype)).dtype == dtype


# -- the estimator is unbiased ---------------------------------------------------------------
def test_categorical_step_is_unbiased_against_enumeration():
    """The mean of M independent loo-baseline steps is the exact gradient of
    E[R[i, a]] within 5 standard errors (the standard error estimated from
    the M steps themselves)."""
    rng = np.random.default_rng(19)
    B, K, S, M = 3, 4, 4, 20_000
    logits = rng.standard_normal((B, K))
    R = rng.random((B, K))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    exact = p * (R - (p * R).sum(-1, keepdims=True))     # d/dlogits sum_k p_k R_k
    step = CategoricalStep(S, "loo", "sum")
    tiled = np.ascontiguousarray(np.broadcast_to(logits, (M, B, K)))
    a, _ = step.sample(tiled, 20)
    g = step.grad(R[np.arange(B), a]) / S                # (M, B, K): M estimates
    mean, se = g.mean(0), g.std(0, ddof=1) / np.sqrt(M)
    assert np.all(np.abs(mean - exact) < 5 * se)


@pytest.mark.parametrize("shared", [False, True], ids=["per-value", "per-row"])
def test_bernoulli_step_is_unbiased_against_enumeration(shared):
    """f(x) = sum_d c_d x_d (one reward per row, shared by its D values) or
    c_d x_d per value: d/dlogit_d E f = c_d p_d (1 - p_d) either way, since
    the other coordinates are independent of x_d. The mean of M loo steps is
    within 5 standard errors (estimated from the M steps) of it."""
    rng = np.random.default_rng(40)
    D, S, M = 4, 4, 20_000
    logits = rng.standard_normal(D)
    c = rng.normal(size=D)
    p = 1.0 / (1.0 + np.exp(-logits))
    exact = c * p * (1 - p)
    step = BernoulliStep(S, "loo", "sum")
    x, _ = step.sample(np.ascontiguousarray(np.broadcast_to(logits, (M, D))), 41)
    f = (x @ c)[..., None] if shared else x * c
    g = step.grad(f) / S                                 # (M, D): M estimates
    mean, se = g.mean(0), g.std(0, ddof=1) / np.sqrt(M)
    assert np.all(np.abs(mean - exact) < 5 * se)


@pytest.mark.parametrize("antithetic,baseline", [(False, "loo"), (True, "none")],
                         ids=["plain-loo", "antithetic-none"])
def test_gaussian_search_step_is_unbiased_against_the_closed_form(antithetic, baseline):
    """f(x) = -|x - 1|^2 under N(mu, diag(sigma^2)): E f = -|mu - 1|^2 -
    sum sigma^2, so d/dmu = -2 (mu - 1) and d/dlog sigma = -2 sigma^2.
    (Mirrored pairs are not independent, so the leave-one-out mean is not
    an unbiased baseline for them; no baseline is.)"""
    rng = np.random.default_rng(21)
    D, S, M = 3, 8, 20_000
    mu = rng.normal(size=D)
    sigma = rng.uniform(0.5, 1.5, size=D)
    step = DiagNormalStep(S, baseline, antithetic=antithetic)
    x, _ = step.sample(np.broadcast_to(mu, (M, D)), np.broadcast_to(sigma, (M, D)), 22)
    f = -np.sum((x - 1.0) ** 2, axis=-1)                 # (S, M)
    g_mu, g_ls = (g * M for g in step.grad(f))          # M estimates of the mean gradient
    for g, exact in ((g_mu, -2 * (mu - 1)), (g_ls, -2 * sigma ** 2)):
        mean, se = g.mean(0), g.std(0, ddof=1) / np.sqrt(M)
        assert np.all(np.abs(mean - exact) < 5 * se)


# -- log scales -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("step_class,shape", [
    (DiagNormalStep, (8,)), (DiagNormalStep, (3, 5)), (NormalStep, ()), (NormalStep, (3, 5)),
    (NormalStep, (700, 16)),
], ids=["diag-8", "diag-3x5", "normal-scalar", "normal-3x5", "normal-700x16"])
@pytest.mark.parametrize("n_samples,antithetic", [(1, False), (6, False), (6, True)],
                         ids=["one", "six", "six-antithetic"])
@pytest.mark.parametrize("baseline", ["none", "mean", "group"])
def test_a_log_scale_step_is_the_step_of_its_scale(dtype, step_class, shape, n_samples,
                                                   antithetic, baseline):
    """sample(loc, log_scale=ls) is sample(loc, exp(ls)): the same normals of
    the same stream, the scale exp(ls) (the kernel's exp against numpy's, each
    within an ulp or so), log-densities from ls itself (against the log of
    exp(ls)), and grad the same gradient, new or added to out; all within
    round-off of the scale step's."""
    if antithetic and n_samples % 2:
        pytest.skip("antithetic needs an even n_samples")
    rng = np.random.default_rng(50)
    loc = rng.normal(size=shape).astype(dtype)
    log_scale = rng.uniform(-2.0, 1.0, size=shape).astype(dtype)
    by_scale = step_class(n_samples, baseline, antithetic=antithetic)
    by_log = step_class(n_samples, baseline, antithetic=antithetic)
    x, logp = by_scale.sample(loc, np.exp(log_scale), 51)
    x_log, logp_log = by_log.sample(loc, rng=51, log_scale=log_scale)
    assert x_log.dtype == logp_log.dtype == dtype
    assert x_log.shape == x.shape and logp_log.shape == logp.shape
    assert_close(x_log, x, dtype)
    # a log-density sums D terms of about |ls| + z^2 / 2 + 1 each
    assert_close(logp_log, logp, dtype, scale=1.0 + np.abs(logp).max())
    rewards = rng.normal(size=logp.shape).astype(dtype)
    g = by_scale.grad(rewards)
    g_log = by_log.grad(rewards)
    start = tuple(rng.normal(size=loc.shape).astype(dtype) for _ in range(2))
    added = by_log.grad(rewards, out=tuple(a.copy() for a in start))
    for part, part_log, part_added, part_start in zip(g, g_log, added, start):
        assert part_log.dtype == dtype and part_log.shape == loc.shape
        size = 1.0 + np.abs(part).max()
        assert_close(part_log, part, dtype, scale=size)
        assert_close(part_added, part_start + part, dtype, scale=size + np.abs(part_start).max())


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_log_scales_at_the_ends_of_their_range(dtype):
    """[-87, 87] for float32 and [-708, 708] for float64 are taken, and give
    finite draws and gradients whose scale is exp(log_scale) (z = (x - loc) /
    scale is a standard normal draw: |z| < 10 for these few); one step
    further is an error naming log_scale and its range."""
    end = 87.0 if dtype == np.float32 else 708.0
    log_scale = np.array([-end, end, 0.0] * 4, dtype)
    loc = np.zeros_like(log_scale)
    step = NormalStep(2, "none")
    x, logp = step.sample(loc, rng=3, log_scale=log_scale)
    z = x.astype(np.float64) / np.exp(log_scale.astype(np.float64))
    assert np.isfinite(x).all() and np.isfinite(logp).all()
    assert (np.abs(z) < 10).all() and (np.abs(z) > 0).any()
    g_loc, g_ls = step.grad(np.ones_like(logp))
    assert np.isfinite(g_ls).all() and np.isfinite(g_loc[log_scale >= 0]).all()
    for bad in (np.nextafter(dtype(end), dtype(np.inf)), np.nextafter(dtype(-end), dtype(-np.inf)),
                np.nan, np.inf, -np.inf):
        ls = log_scale.copy()
        ls[5] = bad
        with pytest.raises(ValueError, match=rf"log_scale \(element 5\) must be in \[-{end:.0f}"):
            step.sample(loc, rng=3, log_scale=ls)


def test_bad_log_scale_arguments():
    step = NormalStep(2)
    with pytest.raises(TypeError, match="scale or log_scale, not both"):
        step.sample(np.zeros(3), np.ones(3), 0, log_scale=np.zeros(3))
    with pytest.raises(TypeError, match="needs scale"):
        step.sample(np.zeros(3), rng=0)
    with pytest.raises(ValueError, match=r"loc of shape \(3,\) and log_scale of shape \(2,\)"):
        step.sample(np.zeros(3), rng=0, log_scale=np.zeros(2))
    with pytest.raises(TypeError, match="log_scale"):
        step.sample(np.zeros(3), rng=0, log_scale=np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"loc \(element 1\) contains NaN"):
        step.sample(np.array([0.0, np.nan]), rng=0, log_scale=np.zeros(2))
    # broadcast and converted as scale is: a list, a scalar log scale, ints
    x, _ = step.sample(np.zeros((2, 3)), rng=0, log_scale=0)
    x2, _ = step.sample(np.zeros((2, 3)), np.ones((2, 3)), 0)
    np.testing.assert_array_equal(x, x2)                 # exp(0) = 1 exactly
    x, _ = step.sample([0.0, 0.0], rng=0, log_scale=[0, 0])
    assert x.dtype == np.float64


@pytest.mark.parametrize("antithetic,baseline", [(False, "loo"), (True, "none")],
                         ids=["plain-loo", "antithetic-none"])
def test_a_log_scale_search_step_is_unbiased_against_the_closed_form(antithetic, baseline):
    """The search gradient of test_gaussian_search_step_is_unbiased_against_
    the_closed_form, its parameters given as log scales: the mean of M
    estimates within 5 standard errors of d/dmu = -2 (mu - 1) and d/dlog sigma
    = -2 sigma^2."""
    rng = np.random.default_rng(52)
    D, S, M = 3, 8, 20_000
    mu = rng.normal(size=D)
    log_sigma = rng.uniform(-0.7, 0.4, size=D)
    step = DiagNormalStep(S, baseline, antithetic=antithetic)
    x, _ = step.sample(np.broadcast_to(mu, (M, D)), rng=53,
                       log_scale=np.broadcast_to(log_sigma, (M, D)))
    f = -np.sum((x - 1.0) ** 2, axis=-1)
    g_mu, g_ls = (g * M for g in step.grad(f))
    for g, exact in ((g_mu, -2 * (mu - 1)), (g_ls, -2 * np.exp(2 * log_sigma))):
        mean, se = g.mean(0), g.std(0, ddof=1) / np.sqrt(M)
        assert np.all(np.abs(mean - exact) < 5 * se)


# -- threads ---------------------------------------------------------------------------------
def test_results_do_not_depend_on_the_thread_count():
    logits = np.random.default_rng(23).normal(size=(600, 256))
    loc = np.random.default_rng(24).normal(size=(64, 600))
    runs = []
    previous = sf.get_num_threads()
    try:
        for n in (1, 2):
            sf.set_num_threads(n)
            step = CategoricalStep(8, "none")
            a, logp = step.sample(logits, 25)
            g = step.grad(np.cos(a))
            gstep = DiagNormalStep(16, "mean", antithetic=True)
            x, xlp = gstep.sample(loc, np.ones_like(loc), 26)
            bstep = BernoulliStep(8, "loo")
            b, blp = bstep.sample(logits, 27)
            pstep = NormalStep(1, "none")                  # a policy, log scales given
            px, plp = pstep.sample(logits, rng=28, log_scale=np.tanh(logits))
            runs.append((a, logp, g, x, xlp) + gstep.grad(x.sum(-1)) +
                        (b, blp, bstep.grad(b.sum(-1, keepdims=True)), bstep.grad(np.cos(b))) +
                        (px, plp) + pstep.grad(np.cos(px[..., :1])))
    finally:
        sf.set_num_threads(previous)
    for u, v in zip(*runs):
        _same(u, v)


# -- bad arguments ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,error,match", [
    ({"n_samples": 0}, ValueError, "n_samples"),
    ({"n_samples": 2.0}, TypeError, "n_samples"),
    ({"n_samples": True}, TypeError, "n_samples"),
    ({"n_samples": 1, "baseline": "loo"}, ValueError, "loo"),
    ({"n_samples": 4, "baseline": "optimal"}, ValueError, "baseline"),
    ({"n_samples": 4, "baseline": sf.EMABaseline(0.9)}, ValueError, "baseline"),
    ({"n_samples": 4, "baseline": float("nan")}, ValueError, "baseline"),
    ({"n_samples": 4, "reduction": "max"}, ValueError, "reduction"),
    ({"n_samples": 4, "eps": -1.0}, ValueError, "eps"),
])
def test_bad_configuration(kwargs, error, match):
    with pytest.raises(error, match=match):
        CategoricalStep(**kwargs)


def test_bad_categorical_arguments():
    step = CategoricalStep(3)
    with pytest.raises(RuntimeError, match="sample"):
        step.grad(np.zeros((3, 2)))
    for logits, error, match in [
        (np.array([[0.0, np.nan]]), ValueError, r"logits \(batch row 0\) contains NaN"),
        (np.array([[0.0, 1.0], [np.inf, 0.0]]), ValueError, r"row 1\) contains \+inf"),
        (np.array([[-np.inf, -np.inf]]), ValueError, "every class masked"),
        (np.zeros((2, 0)), ValueError, "at least one class"),
        (np.float64(1.0), ValueError, "at least one dimension"),
        (np.array(["a", "b"]), TypeError, "logits"),
    ]:
        with pytest.raises(error, match=match):
            step.sample(logits, 0)
    with pytest.raises(TypeError, match="rng"):
        step.sample(np.zeros((2, 3)), rng="seed")
    step.sample(np.zeros((2, 3)), 0)
    for rewards, error, match in [
        (np.zeros((3, 3)), ValueError, "rewards of shape"),
        (np.full((3, 2), np.nan), ValueError, "rewards contains NaN"),
        (np.array([["x"] * 2] * 3), TypeError, "rewards"),
    ]:
        with pytest.raises(error, match=match):
            step.grad(rewards)
    r = np.zeros((3, 2))
    for out, error, match in [
        (np.zeros((2, 4)), ValueError, "out must have shape"),
        (np.zeros((2, 3), np.float32), TypeError, "out must have dtype"),
        (np.zeros((3, 2)).T, ValueError, "C-contiguous"),
        ([[0.0] * 3] * 2, TypeError, "out must be a numpy array"),
    ]:
        with pytest.raises(error, match=match):
            step.grad(r, out=out)
    logits = np.zeros((2, 3))
    step.sample(logits, 0)
    with pytest.raises(ValueError, match="share memory"):
        step.grad(r, out=logits)


@pytest.mark.parametrize("family", ["categorical", "bernoulli", "normal"])
def test_grad_out_next_to_the_rewards_is_taken_and_overlapping_refused(family):
    """grad(..., out=) checks out in C (shape, dtype, layout, and no byte in
    common with the logits, the rewards or the draws): outs followed by the
    rewards in one buffer are added into, giving a fresh call's gradient;
    rewards starting one element earlier, on the last out's last element,
    are refused, as the Python check refuses them."""
    rng = np.random.default_rng(3)
    shape = (2, 4)
    if family == "categorical":
        step, params = CategoricalStep(3), (rng.normal(size=shape),)
    elif family == "bernoulli":
        step, params = BernoulliStep(3), (rng.normal(size=shape),)
    else:
        step, params = NormalStep(3), (rng.normal(size=shape), np.ones(shape))
    x, _ = step.sample(*params, 5)
    k = 2 if family == "normal" else 1                 # gradient arrays
    n = int(np.prod(shape))
    buf = np.zeros(k * n + x.size)
    outs = tuple(buf[j * n:(j + 1) * n].reshape(shape) for j in range(k))
    out = outs if k == 2 else outs[0]
    r = buf[k * n:].reshape(x.shape)
    r[...] = rng.normal(size=x.shape)
    want = step.grad(r.copy())
    assert step.grad(r, out=out) is out
    for got, w in zip(outs, want if k == 2 else (want,)):
        np.testing.assert_array_equal(got, w)
    with pytest.raises(ValueError, match="share memory"):
        step.grad(buf[k * n - 1:-1].reshape(x.shape), out=out)


def test_bad_gaussian_arguments():
    with pytest.raises(ValueError, match="even"):
        DiagNormalStep(3, antithetic=True)
    step = DiagNormalStep(2)
    with pytest.raises(RuntimeError, match="sample"):
        step.grad(np.zeros(2))
    for loc, scale, error, match in [
        (np.zeros(2), np.array([1.0, 0.0]), ValueError, r"scale \(element 1\) must be positive"),
        (np.zeros(2), np.array([1.0, -1.0]), ValueError, "scale"),
        (np.array([np.nan, 0.0]), np.ones(2), ValueError, r"loc \(element 0\) contains NaN"),
        (np.zeros(2), np.zeros(3), ValueError, "do not broadcast"),
        (np.float64(0.0), np.float64(1.0), ValueError, "event axis"),
        (np.zeros((2, 0)), np.ones((2, 0)), ValueError, "non-empty event axis"),
    ]:
        with pytest.raises(error, match=match):
            step.sample(loc, scale, 0)
    step.sample(np.zeros((3, 2)), np.ones((3, 2)), 0)
    with pytest.raises(ValueError, match="rewards of shape"):
        step.grad(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="rewards contains NaN or inf"):
        step.grad(np.array([[0.0, 1.0, np.inf]] * 2))
    with pytest.raises(TypeError, match="tuple of 2"):
        step.grad(np.zeros((2, 3)), out=np.zeros((3, 2)))
    same = np.zeros((3, 2))
    with pytest.raises(ValueError, match="must not share memory"):
        step.grad(np.zeros((2, 3)), out=(same, same))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_samples", [1, 4])
@pytest.mark.parametrize("given", ["scale", "log_scale"])
def test_the_sampler_finds_an_invalid_parameter_anywhere(threads, n_samples, given):
    """The sampler checks the parameters as it reads them, item by item on
    every thread (one sample), or once (several): a bad value at the start,
    in the middle or at the end of a large batch is named with its element;
    with validate=False the step draws from it without a word (NaN stays in
    its own element)."""
    shape = (5000, 16)
    loc = np.zeros(shape)
    scale = np.ones(shape) if given == "scale" else np.zeros(shape)
    bad_scale = -1.0 if given == "scale" else 1000.0
    previous = sf.set_num_threads(threads)
    try:
        for flat in (0, 40_000, loc.size - 1):
            for which, value, match in (("loc", np.nan, "contains NaN"),
                                        ("loc", -np.inf, "contains inf"),
                                        (given, bad_scale, "must be")):
                arrays = {"loc": loc.copy(), given: scale.copy()}
                arrays[which].reshape(-1)[flat] = value
                step = NormalStep(n_samples, "none")
                with pytest.raises(ValueError, match=rf"{which} \(element {flat}\) {match}"):
                    step.sample(arrays["loc"], rng=0, **{given: arrays[given]})
        arrays = {"loc": loc.copy(), given: scale.copy()}
        arrays["loc"].reshape(-1)[40_000] = np.nan
        x, _ = NormalStep(n_samples, "none", validate=False).sample(
            arrays["loc"], rng=0, **{given: arrays[given]})
        assert np.isnan(x.reshape(n_samples, -1)[:, 40_000]).all()
        assert np.isfinite(np.delete(x.reshape(n_samples, -1), 40_000, axis=1)).all()
    finally:
        sf.set_num_threads(previous)


def test_bad_bernoulli_arguments():
    step = BernoulliStep(3)
    with pytest.raises(RuntimeError, match="sample"):
        step.grad(np.zeros((3, 2)))
    for logits, error, match in [
        (np.array([0.0, np.nan]), ValueError, r"logits \(element 1\) contains NaN"),
        (np.array([[0.0, 1.0], [np.inf, 0.0]]), ValueError, r"logits \(element 2\) contains inf"),
        (np.array([0.0, -np.inf]), ValueError, r"logits \(element 1\) contains inf"),
        (np.array(["a", "b"]), TypeError, "logits"),
    ]:
        with pytest.raises(error, match=match):
            step.sample(logits, 0)
    with pytest.raises(TypeError, match="rng"):
        step.sample(np.zeros((2, 3)), rng="seed")
    x, _ = step.sample(np.zeros((2, 3)), 0)
    for rewards, error, match in [
        (np.zeros((3, 3)), ValueError, "rewards of shape"),
        (np.zeros((3, 2, 2)), ValueError, "rewards of shape"),
        (np.zeros((3, 5, 1)), ValueError, r"rewards of shape \(3, 5, 1\) .* = \(3, 2, 3\)"),
        (np.full((3, 2, 3), np.nan), ValueError, "rewards contains NaN"),
        (np.full((3, 2, 1), np.inf), ValueError, "rewards contains NaN or inf"),
        (np.array([["x"] * 3] * 2), TypeError, "rewards"),
    ]:
        with pytest.raises(error, match=match):
            step.grad(rewards)
    r = np.zeros((3, 2, 3))
    for out, error, match in [
        (np.zeros((2, 4)), ValueError, "out must have shape"),
        (np.zeros((2, 3), np.float32), TypeError, "out must have dtype"),
        (np.zeros((3, 2)).T, ValueError, "C-contiguous"),
    ]:
        with pytest.raises(error, match=match):
            step.grad(r, out=out)
    x[0, 0, 0] = 0.5                                    # the draws changed since sample
    with pytest.raises(ValueError, match="values of the last sample"):
        step.grad(r)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("where", [(0, 0, 0), (3, 99, 200), (1, 40, 77), (2, 70, 255)])
@pytest.mark.parametrize("bad_value", [0.5, -1.0, 2.0, np.nan])
def test_bernoulli_grad_finds_a_changed_value_in_either_pass(threads, where, bad_value):
    """A value changed since the sample (neither 0 nor 1) raises, wherever it
    is and on 1 thread or 2: a gradient the step makes checks the values as
    it sums them, one given by out= checks them first and is left as it was."""
    step = BernoulliStep(4)
    previous = sf.set_num_threads(threads)
    try:
        x, _ = step.sample(np.random.default_rng(30).normal(size=(100, 256)), 31)
        r = np.random.default_rng(32).normal(size=(4, 100, 1))
        x[where] = bad_value
        with pytest.raises(ValueError, match="values of the last sample"):
            step.grad(r)
        out = np.full((100, 256), 7.0)
        with pytest.raises(ValueError, match="values of the last sample"):
            step.grad(r, out=out)
        assert (out == 7.0).all()
        x[where] = 1.0                                  # a value again: both passes agree
        np.testing.assert_array_equal(step.grad(r), step.grad(r, out=np.zeros((100, 256))))
    finally:
        sf.set_num_threads(previous)


def test_validate_false_skips_the_checks():
    step = DiagNormalStep(2, validate=False)
    x, _ = step.sample(np.array([np.nan, 0.0]), np.ones(2), 0)
    assert np.isnan(x[:, 0]).all() and np.isfinite(x[:, 1]).all()
    g_loc, _ = step.grad(np.array([np.nan, 1.0]))
    assert np.isnan(g_loc).all()


def test_repr_and_configuration():
    step = DiagNormalStep(4, "loo", "sum", antithetic=True)
    assert (step.n_samples, step.baseline, step.reduction) == (4, "loo", "sum")
    assert repr(step) == "DiagNormalStep(n_samples=4, baseline='loo', reduction='sum')"
    assert sf.CategoricalStep is CategoricalStep and sf.BernoulliStep is BernoulliStep
    assert repr(BernoulliStep(2)) == "BernoulliStep(n_samples=2, baseline='loo', reduction='mean')"


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("K", [1100, 600, 128, 8, 3])
def test_categorical_step_validates_in_the_sampling_pass(threads, K):
    """The step finds each row's maximum and checks it in the pass that draws
    (the logits read once): the lowest invalid row is the one named, with 1
    thread or 2 (rows large enough to split), for rows drawn one at a time
    (K = 600 and 1100, whose maxima are found in the previous row's pass,
    in chunks of 512), several at a time (K = 128) and sixteen at a time;
    without validation an invalid row draws -1 with NaN log-probabilities
    and the others are unaffected."""
    logits = np.random.default_rng(27).normal(size=(400, K))
    bad = logits.copy()
    bad[300, min(5, K - 1)] = np.nan
    bad[350, 0] = np.inf
    previous = sf.set_num_threads(threads)
    try:
        with pytest.raises(ValueError, match=r"logits \(batch row 300\) contains NaN"):
            CategoricalStep(4).sample(bad, 28)
        a, logp = CategoricalStep(4, validate=False).sample(bad, 28)
        a_ok, logp_ok = CategoricalStep(4).sample(logits, 28)
    finally:
        sf.set_num_threads(previous)
    invalid = np.zeros(400, bool)
    invalid[[300, 350]] = True
    assert (a[:, invalid] == -1).all() and np.isnan(logp[:, invalid]).all()
    np.testing.assert_array_equal(a[:, ~invalid], a_ok[:, ~invalid])
    np.testing.assert_array_equal(logp[:, ~invalid], logp_ok[:, ~invalid])


def test_a_step_shared_between_threads_stays_memory_safe():
    """One step used by several threads at once is a misuse (documented: one
    step per thread), but it must not crash: each call reads the state of the
    last sample at once and holds its own references, so a sample of another
    shape in another thread makes grad raise (rewards of the wrong shape) or
    use one consistent sample, never a mix (for each of the three families'
    steps). Sizes above the GIL threshold, so the kernels run with the GIL
    released; seeds, so every call makes a new bit generator."""
    from concurrent.futures import ThreadPoolExecutor
    cstep = CategoricalStep(4, "none")
    gstep = DiagNormalStep(4, "none")
    bstep = BernoulliStep(4, "none")
    shapes = [(200, 64), (300, 80), (50, 400)]

    def work(i):
        rng = np.random.default_rng(i)
        for j in range(30):
            shape = shapes[(i + j) % 3]
            logits = rng.normal(size=shape)
            a, logp = cstep.sample(logits, i * 100 + j)
            assert a.shape == (4, shape[0]) and logp.shape == a.shape
            try:
                g = cstep.grad(np.ones(a.shape))
                assert g.ndim == 2 and np.isfinite(g).all()
            except ValueError as e:
                assert "rewards" in str(e)
            x, _ = gstep.sample(logits, np.ones(shape), None)
            assert x.shape == (4,) + shape
            try:
                g_loc, g_ls = gstep.grad(np.ones(x.shape[:2]))
                assert np.isfinite(g_loc).all() and np.isfinite(g_ls).all()
            except ValueError as e:
                assert "rewards" in str(e)
            b, _ = bstep.sample(logits, None)
            assert b.shape == (4,) + shape
            try:
                g = bstep.grad(np.ones(b.shape[:2] + (1,)))
                assert g.ndim == 2 and np.isfinite(g).all()
            except ValueError as e:
                assert "rewards" in str(e)
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(8)))
