"""Property tests (Hypothesis) over shapes, dtypes, values and baselines.

Properties checked for every family:

1. no exception but the documented ValueError/TypeError, whatever the
   arguments (hostile dtypes, shapes and values included);
2. outputs are finite wherever the inputs are;
3. weighted_score(value, w) == sum over samples of w * score(value);
4. the score has expectation zero, exactly: by enumeration of the classes
   (Categorical) or of {0, 1} (Bernoulli), by Gauss-Hermite quadrature,
   exact for the quadratic scores, for the Gaussians;
5. log_prob, probs and entropy agree with each other (enumeration);
6. reinforce_grad under each kernel baseline equals weighted_score of the
   advantages that scorefast.advantages computes, and "mean" reduction is
   "sum" over the number of terms;
7. draws lie in the support; sample_and_log_prob's log-probs are log_prob's.

Deadlines are off and example counts moderate, so the file runs in well
under a minute; set HYPOTHESIS_PROFILE=long for a deeper run.
"""
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scorefast as sf

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FLOATS = st.sampled_from([np.float32, np.float64])
BATCH = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4)
SAMPLE = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)
BASELINES = st.one_of(st.sampled_from(["none", "mean", "loo", "group"]),
                      st.floats(-10, 10, allow_nan=False))


def eps(dtype):
    return float(np.finfo(dtype).eps)


def finite(dtype, bound):
    bound = float(np.dtype(dtype).type(bound))  # representable in the dtype
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False,
                     width=32 if dtype == np.float32 else 64)


@st.composite
def categoricals(draw, masked=True):
    dtype = draw(FLOATS)
    batch = draw(BATCH)
    K = draw(st.integers(1, 6))
    big = draw(st.sampled_from([5.0, 50.0, 1e30 if dtype == np.float32 else 1e300]))
    logits = draw(hnp.arrays(dtype, batch + (K,), elements=finite(dtype, big)))
    if masked and K > 1:
        mask = draw(hnp.arrays(np.bool_, batch + (K,)))
        mask[..., draw(st.integers(0, K - 1))] = False       # one class left per row
        logits = np.where(mask, -np.inf, logits).astype(dtype)
    return sf.Categorical(logits)


@st.composite
def bernoullis(draw):
    dtype = draw(FLOATS)
    big = draw(st.sampled_from([5.0, 50.0, 1e30 if dtype == np.float32 else 1e300]))
    return sf.Bernoulli(draw(hnp.arrays(dtype, draw(BATCH), elements=finite(dtype, big))))


@st.composite
def gaussians(draw):
    dtype = draw(FLOATS)
    diag = draw(st.booleans())
    shape = draw(hnp.array_shapes(min_dims=1 if diag else 0, max_dims=2, min_side=1, max_side=4))
    loc = draw(hnp.arrays(dtype, shape, elements=finite(dtype, 1e3)))
    log_scale = draw(hnp.arrays(np.float64, shape, elements=st.floats(-8, 8)))
    return (sf.DiagNormal if diag else sf.Normal)(loc, np.exp(log_scale).astype(dtype))


def subnormal(dtype):
    """Two of the dtype's smallest subnormals: the absolute precision of
    probabilities that underflow into the subnormal range."""
    return 2 * float(np.finfo(dtype).smallest_subnormal)


def weights_for(draw, d, sample_shape):
    """Weights of either sign, 0 or of magnitude in [1e-100, 100]: squares of
    weights (the group baseline's variance) stay normal doubles; see
    test_contract.py for rewards near the limits of the range."""
    shape = tuple(sample_shape) + tuple(d.batch_shape)
    width = 32 if d.dtype == np.float32 else 64
    low = float(np.float32(1e-30)) if width == 32 else 1e-100
    magnitude = st.one_of(st.just(0.0), st.floats(low, 100.0, width=width))
    elements = st.builds(lambda m, sign: sign * m, magnitude, st.sampled_from([1.0, -1.0]))
    return draw(hnp.arrays(d.dtype, shape, elements=elements))


def parts(g):
    return g if isinstance(g, tuple) else (g,)


def as64(g):
    return tuple(np.asarray(p, dtype=np.float64) for p in parts(g))


# -- 3, 6, 7: identities between the methods, on drawn values ----------------------------------
def assert_within(got, expected, tol, what=""):
    """|got - expected| <= tol elementwise (tol an array or a number)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    err = np.abs(got - expected)
    bad = ~(err <= tol)
    assert not bad.any(), f"{what}: max error {err[bad].max()} over tolerance; got {got[bad][:4]}, expected {expected[bad][:4]}"


def check_weighted_identities(d, x, w, baseline):
    n_sample = x.ndim - len(d.batch_shape) - len(d.event_shape)
    sample_axes = tuple(range(n_sample))
    S = math.prod(x.shape[:n_sample])
    # 2: finite in, finite out
    for out in (d.log_prob(x), d.entropy(), *parts(d.score(x))):
        assert np.isfinite(out).all()
    # 3: weighted_score == sum_s w_s score_s
    score = as64(d.score(x))
    wide = np.asarray(w, np.float64).reshape(w.shape + (1,) * (score[0].ndim - w.ndim))
    # tolerance: recursive summation of S terms, each bounded by |w| (|score| + 2)
    # (the kernels sum w * onehot and W * p, w * z^2 and W, ... separately)
    def tol(weights, s):
        terms = (np.abs(weights) * (np.abs(s) + 2)).sum(axis=sample_axes)
        return 4 * (S + 2) * (eps(d.dtype) * terms + float(np.finfo(d.dtype).tiny))

    for got, s in zip(as64(d.weighted_score(x, w)), score):
        assert_within(got, (wide * s).sum(axis=sample_axes), tol(wide, s), "weighted_score")
    # 6: reinforce_grad == weighted_score of the advantages, "mean" == "sum" / n
    flat = np.asarray(w, np.float64).reshape((S,) + tuple(d.batch_shape))
    if baseline == "loo" and S < 2:
        with pytest.raises(ValueError, match="loo"):
            sf.reinforce_grad(d, x, w, baseline=baseline)
        return
    adv = sf.advantages(flat, baseline, axis=0).reshape(w.shape)
    wide_adv = adv.reshape(wide.shape)
    got_sum = as64(sf.reinforce_grad(d, x, w, baseline=baseline, reduction="sum"))
    got_mean = as64(sf.reinforce_grad(d, x, w, baseline=baseline, reduction="mean"))
    n = S * math.prod(d.batch_shape)
    # plus the advantages' own rounding, relative to the rewards and baseline
    size = np.abs(flat).max(initial=0) + (abs(baseline) if isinstance(baseline, float) else 0)
    size = np.broadcast_to(size, wide_adv.shape)
    for gs, gm, s in zip(got_sum, got_mean, score):
        expected = (wide_adv * s).sum(axis=sample_axes)
        t = 4 * tol(wide_adv, s) + 4 * tol(size, s)
        assert np.isfinite(gs).all() and np.isfinite(gm).all()
        assert_within(gs, expected, t, f"reinforce_grad {baseline!r} sum")
        if n:
            assert_within(gm, gs / n, t / n, "mean vs sum")


@given(categoricals(), SAMPLE, BASELINES, st.data())
def test_categorical_identities(d, sample_shape, baseline, data):
    x, lp = d.sample_and_log_prob(sample_shape, rng=data.draw(st.integers(0, 2 ** 32)))
    K = d.num_classes
    assert x.shape == tuple(sample_shape) + d.batch_shape and x.dtype == np.int64
    assert ((x >= 0) & (x < K)).all()
    logits = np.broadcast_to(d.logits, x.shape + (K,))
    assert np.isfinite(np.take_along_axis(logits, x[..., None], -1)).all()   # never masked
    np.testing.assert_array_equal(lp, d.log_prob(x))
    check_weighted_identities(d, x, weights_for(data.draw, d, sample_shape), baseline)


@given(bernoullis(), SAMPLE, BASELINES, st.data())
def test_bernoulli_identities(d, sample_shape, baseline, data):
    x, lp = d.sample_and_log_prob(sample_shape, rng=data.draw(st.integers(0, 2 ** 32)),
                                  method=data.draw(st.sampled_from(["fast", "numpy"])))
    assert np.isin(x, [0, 1]).all() and x.dtype == d.dtype
    np.testing.assert_array_equal(lp, d.log_prob(x))
    check_weighted_identities(d, x, weights_for(data.draw, d, sample_shape), baseline)


@given(gaussians(), SAMPLE, BASELINES, st.data())
def test_gaussian_identities(d, sample_shape, baseline, data):
    antithetic = data.draw(st.booleans()) and sample_shape[0] % 2 == 0
    x, lp = d.sample_and_log_prob(sample_shape, rng=data.draw(st.integers(0, 2 ** 32)),
                                  antithetic=antithetic)
    assert np.isfinite(x).all() and np.isfinite(lp).all()
    # sample_and_log_prob gives the log-density of the draw before it is
    # rounded to the dtype; log_prob that of the rounded x: they differ by up
    # to |z| dz + dz^2 / 2, with dz = ulp(x) / 2 / scale the rounding of x in z
    x64 = x.astype(np.float64)
    z = (x64 - d.loc) / d.scale.astype(np.float64)
    dz = np.abs(x64) / d.scale.astype(np.float64) * eps(d.dtype)
    slack = np.abs(z) * dz + dz * dz
    slack = slack.sum(-1) if d.event_shape else slack
    assert_within(lp, d.log_prob(x), 64 * eps(d.dtype) * (1 + np.abs(lp)) + slack,
                  "sample_and_log_prob")
    check_weighted_identities(d, x, weights_for(data.draw, d, sample_shape), baseline)


# -- 4, 5: the score has expectation zero, checked exactly -------------------------------------
@given(categoricals())
def test_categorical_score_has_mean_zero_by_enumeration(d):
    K = d.num_classes
    classes = np.arange(K).reshape((K,) + (1,) * len(d.batch_shape))
    p = np.moveaxis(np.asarray(d.probs, np.float64), -1, 0)            # (K,) + batch
    lp = np.asarray(d.log_prob(classes), np.float64)                  # (K,) + batch
    # 5: log_prob, probs and entropy agree
    np.testing.assert_allclose(np.exp(lp), p, rtol=64 * eps(d.dtype), atol=subnormal(d.dtype))
    np.testing.assert_allclose(p.sum(0), 1.0, rtol=0, atol=K * 4 * eps(d.dtype))
    h = -np.where(p > 0, p * np.where(p > 0, lp, 0), 0).sum(0)
    np.testing.assert_allclose(d.entropy(), h, rtol=64 * eps(d.dtype), atol=64 * eps(d.dtype))
    # 4: sum_k p_k score(k) = 0, from materialised scores and from the fused kernel
    score = np.asarray(d.score(classes), np.float64)                  # (K,) + batch + (K,)
    mean = (p[..., None] * score).sum(0)
    np.testing.assert_allclose(mean, 0.0, atol=8 * K * eps(d.dtype))
    fused = d.weighted_score(np.broadcast_to(classes, (K,) + d.batch_shape),
                             p.astype(d.dtype))
    np.testing.assert_allclose(fused, 0.0, atol=8 * K * eps(d.dtype))


@given(bernoullis())
def test_bernoulli_score_has_mean_zero_by_enumeration(d):
    ones, zeros = np.ones(d.batch_shape, d.dtype), np.zeros(d.batch_shape, d.dtype)
    lp1, lp0 = (np.asarray(d.log_prob(v), np.float64) for v in (ones, zeros))
    p = np.asarray(d.probs, np.float64)
    np.testing.assert_allclose(np.exp(lp1), p, rtol=64 * eps(d.dtype), atol=subnormal(d.dtype))
    np.testing.assert_allclose(np.exp(lp0) + np.exp(lp1), 1.0, atol=4 * eps(d.dtype))
    h = -(np.exp(lp1) * lp1 + np.exp(lp0) * lp0)
    np.testing.assert_allclose(d.entropy(), h, rtol=64 * eps(d.dtype), atol=64 * eps(d.dtype))
    mean = p * d.score(ones) + (1 - p) * d.score(zeros)
    np.testing.assert_allclose(mean, 0.0, atol=4 * eps(d.dtype))
    fused = d.weighted_score(np.stack([ones, zeros]),
                             np.stack([p, 1 - p]).astype(d.dtype))
    np.testing.assert_allclose(fused, 0.0, atol=4 * eps(d.dtype))


@given(gaussians())
def test_gaussian_score_has_mean_zero_by_quadrature(d):
    """E[score] = 0 by 4-point Gauss-Hermite quadrature: the scores z/sigma
    and z^2 - 1 are polynomials of degree <= 2 in x, integrated exactly."""
    t, wq = np.polynomial.hermite.hermgauss(4)
    shape = (4,) + (1,) * (d.loc.ndim)
    z = (np.sqrt(2.0) * t).reshape(shape)
    x = (d.loc.astype(np.float64) + d.scale.astype(np.float64) * z).astype(d.dtype)
    q = (wq / np.sqrt(np.pi)).reshape(shape)
    g_loc, g_ls = as64(d.score(x))
    zz = (x.astype(np.float64) - d.loc) / d.scale          # the nodes after rounding x
    tol = 64 * eps(d.dtype) * (1 + np.abs(d.loc) / d.scale.astype(np.float64))
    np.testing.assert_allclose((q * g_loc).sum(0) * d.scale, 0.0, atol=tol.max() * 4)
    np.testing.assert_allclose((q * g_ls).sum(0), 0.0, atol=(tol * (1 + np.abs(zz).max())).max() * 4)
    # entropy against the closed form, log_prob integrates the normalising constant
    D = math.prod(d.event_shape)
    h = (0.5 + 0.5 * math.log(2 * math.pi) + np.log(d.scale.astype(np.float64)))
    h = h.sum(-1) if D and d.event_shape else h
    np.testing.assert_allclose(d.entropy(), h, rtol=64 * eps(d.dtype), atol=64 * eps(d.dtype) * 10)


# -- 1: hostile arguments get ValueError or TypeError, nothing else ------------------------------
ANY_DTYPE = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint64,
                             np.bool_, np.complex128, object, "U1", "M8[s]", ">f8", ">f4",
                             ">i8"])


@st.composite
def hostile_arrays(draw):
    dtype = np.dtype(draw(ANY_DTYPE))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    if dtype.kind in "fc":
        elements = st.one_of(st.floats(width=min(64, dtype.itemsize * 8) if dtype.kind == "f"
                                       else 64),
                             st.sampled_from([0.0, 1.0, -np.inf, np.nan, 1e300, -1e300]))
        a = draw(hnp.arrays(dtype if dtype.kind == "f" else np.float64, shape,
                            elements=elements)).astype(dtype)
    elif dtype.kind in "iub":
        a = draw(hnp.arrays(dtype, shape))
    elif dtype.kind == "O":
        a = np.empty(shape, dtype=object)
        a.fill(draw(st.sampled_from([None, 1.5, "x", (1, 2)])))
    else:
        a = np.zeros(shape, dtype)
    layout = draw(st.sampled_from(["c", "reversed", "fortran", "readonly", "list", "scalar"]))
    if layout == "reversed" and a.ndim:
        a = a[::-1]
    elif layout == "fortran":
        a = np.asfortranarray(a)
    elif layout == "readonly":
        a = a.copy()
        a.flags.writeable = False
    elif layout == "list" and dtype.kind in "biuf":
        return a.tolist()
    elif layout == "scalar" and a.size:
        return a.reshape(-1)[0]
    return a


DOCUMENTED = (ValueError, TypeError)


def _small(sample_shape):
    """False for an integer sample_shape asking for more than 1e5 draws: a
    legitimate request for gigabytes (the hostile arrays' random integers
    would otherwise have the machine allocate and fill them)."""
    try:
        arr = np.asarray(sample_shape)
    except ValueError:
        return True
    if arr.dtype.kind not in "iu":
        return True
    try:
        return int(np.prod(np.abs(arr.astype(np.float64)))) <= 10 ** 5
    except (OverflowError, ValueError):
        return False


def _calls(a, b, c):
    """Every public entry point, called with hostile arguments."""
    def dist_calls(make):
        def run():
            d = make()
            out = []
            for name, fn in [("log_prob", lambda: d.log_prob(b)), ("score", lambda: d.score(b)),
                             ("entropy", d.entropy),
                             ("sample", lambda: d.sample(c if _small(c) else 2, rng=0)),
                             ("salp", lambda: d.sample_and_log_prob(2, rng=0)),
                             ("weighted_score", lambda: d.weighted_score(b, c)),
                             ("weighted_score-out", lambda: d.weighted_score(b, 1.0, out=c)),
                             ("reinforce_grad", lambda: sf.reinforce_grad(d, b, c)),
                             ("reinforce_grad-opt", lambda: sf.reinforce_grad(d, b, c, baseline="optimal")),
                             ("reinforce_grad-groups", lambda: sf.reinforce_grad(d, b, 1.0, baseline="mean", groups=c))]:
                try:
                    out.append(fn())
                except DOCUMENTED:
                    pass
            return out
        return run
    calls = [dist_calls(lambda: sf.Categorical(a)), dist_calls(lambda: sf.Bernoulli(a)),
             dist_calls(lambda: sf.Normal(a, 1.0)), dist_calls(lambda: sf.Normal(0.0, a)),
             dist_calls(lambda: sf.DiagNormal(a, b)),
             dist_calls(lambda: sf.Categorical(np.zeros((2, 3)))),
             dist_calls(lambda: sf.Bernoulli(np.zeros((2, 3)))),
             dist_calls(lambda: sf.DiagNormal(np.zeros((2, 3)), 1.0)),
             lambda: sf.pathwise_grad(sf.Normal(np.zeros(3), 1.0), a, b),
             lambda: sf.advantages(a, "group", axis=0, groups=b),
             lambda: sf.advantages(a, c),
             lambda: sf.EMABaseline(0.5)(a),
             lambda: sf.centered_ranks(a, axis=0),
             lambda: sf.nes_utilities(a, axis=-1)]
    return calls


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning",
                            "ignore:overflow encountered:RuntimeWarning",
                            "ignore:divide by zero:RuntimeWarning")
@given(hostile_arrays(), hostile_arrays(), hostile_arrays())
@settings(max_examples=int(os.environ.get("SCOREFAST_HOSTILE_EXAMPLES", "1000")))
def test_hostile_arguments_raise_only_documented_errors(a, b, c):
    for call in _calls(a, b, c):
        try:
            call()
        except DOCUMENTED:
            pass
        except MemoryError:                       # a legitimately impossible size
            pass
