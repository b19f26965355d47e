"""Streamed outputs: past SF_STREAM_MIN_BYTES of output, the Bernoulli and
Gaussian samplers and a new Categorical gradient form each tile or row in
cache and copy it out with non-temporal stores (src_c/sf_stream.h). The threshold is lowered to
zero here, through the modules' test setters, so that small outputs take the
streamed path: every bit must be that of the ordinary path, on one thread
and two, whatever the alignment of the destination."""
import ctypes

import numpy as np
import pytest

import scorefast as sf
from scorefast import _bernoulli, _categorical, _gaussian
from scorefast.steps import BernoulliStep, CategoricalStep, DiagNormalStep, NormalStep

from conftest import DTYPES, free_nan_memory


def _setter(module, name):
    fn = getattr(ctypes.CDLL(module.__file__), name)
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_size_t
    return fn


_STREAM_MIN = {"bernoulli": _setter(_bernoulli, "sf_bern_set_stream_min"),
               "categorical": _setter(_categorical, "sf_cat_set_stream_min"),
               "gaussian": _setter(_gaussian, "sf_gauss_set_stream_min")}


def _streamed(family, call):
    """call() with every output of the family's kernels streamed."""
    previous = _STREAM_MIN[family](0)
    try:
        return call()
    finally:
        _STREAM_MIN[family](previous)


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def _offset_out(shape, dtype, offset):
    """A C-contiguous array of shape whose data starts `offset` bytes past a
    64-byte boundary, so that the streamed copy has unaligned ends."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.zeros(n + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    return raw[start:start + n].view(dtype).reshape(shape)


@pytest.fixture
def threads(request):
    previous = sf.set_num_threads(request.param)
    yield request.param
    sf.set_num_threads(previous)


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(300, 130), (7, 3), (1, 1001)])
def test_streamed_bernoulli_draws_are_the_ordinary_ones(threads, dtype, shape):
    logits = np.random.default_rng(1).normal(size=shape).astype(dtype)
    step = BernoulliStep(3, "loo")
    x, logp = step.sample(logits, 7)
    xs, logps = _streamed("bernoulli", lambda: step.sample(logits, 7))
    _same(xs, x)
    _same(logps, logp)
    d = sf.Bernoulli(logits)
    _same(_streamed("bernoulli", lambda: d.sample(3, rng=7)), d.sample(3, rng=7))
    # into arrays whose starts are off the 16-byte grid of the streaming stores
    for offset in (0, 4, 8) if dtype == np.float32 else (0, 8):
        out = (_offset_out(x.shape, dtype, offset), _offset_out(x.shape, dtype, offset))
        got = _streamed("bernoulli", lambda: step.sample(logits, 7, out=out))
        _same(got[0], x)
        _same(got[1], logp)


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("K", [3, 16, 130, 1027])
@pytest.mark.parametrize("baseline", ["loo", "none"])
def test_streamed_categorical_gradient_is_the_ordinary_one(threads, dtype, K, baseline):
    """A new gradient, streamed row by row (a centred baseline scatters the
    advantages only; "none" also adds -W p to every class), over memory
    that held NaN: the bits of the gradient added into zeros."""
    rng = np.random.default_rng(K)
    logits = rng.normal(size=(301, K)).astype(dtype)
    step = CategoricalStep(4, baseline)
    a, _ = step.sample(logits, 11)
    r = rng.normal(size=a.shape).astype(dtype)
    into_zeros = sf.reinforce_grad(sf.Categorical(logits), a, r, baseline,
                                   out=np.zeros_like(logits))
    for _ in range(2):
        free_nan_memory(logits.shape, dtype)
        g = _streamed("categorical", lambda: step.grad(r))
        _same(g, into_zeros)
        g = _streamed("categorical",
                      lambda: sf.reinforce_grad(sf.Categorical(logits), a, r, baseline))
        _same(g, into_zeros)


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("antithetic", [False, True])
@pytest.mark.parametrize("D", [3, 700])
def test_streamed_gaussian_draws_are_the_ordinary_ones(threads, dtype, antithetic, D):
    """A search distribution's samples (mirrored or not: the mirror is
    streamed too) and a policy batch's, with log scales and scales."""
    rng = np.random.default_rng(D)
    mu, log_sigma = rng.normal(size=D).astype(dtype), rng.normal(size=D).astype(dtype) / 4
    step = DiagNormalStep(10, "mean", antithetic=antithetic)
    x, logp = step.sample(mu, rng=3, log_scale=log_sigma)
    xs, logps = _streamed("gaussian", lambda: step.sample(mu, rng=3, log_scale=log_sigma))
    _same(xs, x)
    _same(logps, logp)
    for offset in (0, 4, 8) if dtype == np.float32 else (0, 8):
        out = (_offset_out(x.shape, dtype, offset), _offset_out(logp.shape, dtype, offset))
        got = _streamed("gaussian",
                        lambda: step.sample(mu, rng=3, log_scale=log_sigma, out=out))
        _same(got[0], x)
        _same(got[1], logp)
    loc = rng.normal(size=(257, D)).astype(dtype)
    scale = rng.uniform(0.5, 2.0, size=(257, D)).astype(dtype)
    policy = NormalStep(1, "none")
    x, logp = policy.sample(loc, scale, 4)
    xs, logps = _streamed("gaussian", lambda: policy.sample(loc, scale, 4))
    _same(xs, x)
    _same(logps, logp)


def test_the_default_threshold_streams_only_large_outputs():
    """The setters return the threshold in force: 64 MiB unless changed."""
    for family in _STREAM_MIN:
        previous = _STREAM_MIN[family](1)
        assert previous == 64 << 20
        assert _STREAM_MIN[family](previous) == 1
