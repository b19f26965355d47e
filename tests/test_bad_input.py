"""Bad arguments raise ValueError or TypeError naming the argument, and
nothing crashes or leaves a half-done result behind."""
import numpy as np
import pytest

import scorefast as sf

B, K = 3, 4


@pytest.fixture
def dist(dtype):
    return sf.Categorical(np.zeros((B, K), dtype=dtype))


@pytest.fixture
def value():
    return np.array([[0, 1, 2], [3, 0, 1]])          # (S=2, B=3)


@pytest.fixture
def rewards():
    return np.array([[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]])


# -- logits -----------------------------------------------------------------------
@pytest.mark.parametrize("logits, exc", [
    pytest.param(np.float64(1.0), ValueError, id="0-d"),
    pytest.param(np.zeros((3, 0)), ValueError, id="K=0"),
    pytest.param(np.zeros(0), ValueError, id="K=0-1d"),
    pytest.param([[0.0, np.nan, 1.0]], ValueError, id="nan"),
    pytest.param([[0.0, 1.0], [np.inf, 0.0]], ValueError, id="+inf"),
    pytest.param([[0.0, 1.0], [-np.inf, -np.inf]], ValueError, id="all--inf-row"),
    pytest.param([-np.inf], ValueError, id="single-masked"),
    pytest.param(np.zeros((2, 3), dtype=complex), TypeError, id="complex"),
    pytest.param(np.zeros((2, 3), dtype=object), TypeError, id="object"),
    pytest.param(np.array([1.0, 2.0], dtype=object), TypeError, id="object-numbers"),
    pytest.param(["a", "b"], TypeError, id="str"),
])
@pytest.mark.parametrize("ldtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bad_logits(logits, exc, ldtype):
    arr = np.asarray(logits)
    if arr.dtype.kind == "f":
        arr = arr.astype(ldtype)
    with pytest.raises(exc, match="logits"):
        sf.Categorical(arr)


def test_bad_row_is_named():
    with pytest.raises(ValueError, match=r"logits \(batch row 2\) contains NaN"):
        sf.Categorical([[0.0, 1.0], [1.0, 2.0], [np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"logits.*row 1.*every class masked"):
        sf.Categorical([[0.0, -np.inf], [-np.inf, -np.inf]])


# -- value ------------------------------------------------------------------------
METHODS = ["log_prob", "score", "weighted_score", "reinforce_grad", "reinforce_grad_optimal"]


def call(method, dist, v):
    w = np.ones(np.shape(v))
    if method == "weighted_score":
        return dist.weighted_score(v, w)
    if method == "reinforce_grad":
        return sf.reinforce_grad(dist, v, w, baseline="none")
    if method == "reinforce_grad_optimal":
        return sf.reinforce_grad(dist, v, w, baseline="optimal")
    return getattr(dist, method)(v)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("vdtype", [np.float64, np.float32, np.bool_, complex, object])
def test_non_integer_value(dist, value, method, vdtype):
    with pytest.raises(TypeError, match="value"):
        call(method, dist, value.astype(vdtype))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [K, -1, K + 100, -(2 ** 62), 2 ** 62])
def test_value_out_of_range(dist, value, method, bad):
    v = value.copy()
    v[1, 2] = bad
    with pytest.raises(ValueError, match="value"):
        call(method, dist, v)


@pytest.mark.parametrize("method", METHODS)
def test_value_uint64_beyond_int64(dist, value, method):
    v = value.astype(np.uint64)
    v[0, 0] = np.uint64(2 ** 63 + 5)
    with pytest.raises(ValueError, match="value"):
        call(method, dist, v)


def test_value_of_wrong_shape(dist):
    with pytest.raises(ValueError):
        dist.log_prob(np.zeros((2, 5), dtype=int))
    with pytest.raises(ValueError, match="value"):
        dist.weighted_score(np.zeros((2, 5), dtype=int), 1.0)
    with pytest.raises(ValueError, match="value"):
        sf.reinforce_grad(dist, np.zeros((2, 5), dtype=int), np.ones((2, 5)))


# -- rewards, baselines, reduction --------------------------------------------------
@pytest.mark.parametrize("r_shape", [(3, 3), (2, 4), (2, 3, 2), (4,)], ids=str)
def test_rewards_shape_mismatch(dist, value, r_shape):
    with pytest.raises(ValueError, match="rewards"):
        sf.reinforce_grad(dist, value, np.ones(r_shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rewards_not_finite(dist, value, rewards, bad):
    rewards[1, 1] = bad
    with pytest.raises(ValueError, match="rewards"):
        sf.reinforce_grad(dist, value, rewards)
    with pytest.raises(ValueError, match="rewards"):
        sf.advantages(rewards, "mean")


def test_rewards_not_real(dist, value):
    with pytest.raises(TypeError, match="rewards"):
        sf.reinforce_grad(dist, value, np.full(value.shape, "a"))
    with pytest.raises(TypeError, match="rewards"):
        sf.advantages(np.ones(3, dtype=complex), "none")


@pytest.mark.parametrize("baseline", ["loo", "optimal"])
def test_single_sample_with_leave_one_out(dist, value, rewards, baseline):
    with pytest.raises(ValueError, match=baseline):
        sf.reinforce_grad(dist, value[:1], rewards[:1], baseline=baseline)


def test_loo_needs_two_samples_per_group(rewards):
    with pytest.raises(ValueError, match="loo"):
        sf.advantages(np.ones(4), "loo", groups=[0, 1, 1, 1])
    with pytest.raises(ValueError, match="loo"):
        sf.advantages(np.ones((1, 3)), "loo")


def test_no_samples(dist):
    with pytest.raises(ValueError, match="value"):
        sf.reinforce_grad(dist, np.zeros((0, B), dtype=int), np.zeros((0, B)))


@pytest.mark.parametrize("baseline", ["median", "Mean", "", "optimal-ish", None, True, [1.0]],
                         ids=repr)
def test_bad_baseline(dist, value, rewards, baseline):
    with pytest.raises((ValueError, TypeError), match="baseline"):
        sf.reinforce_grad(dist, value, rewards, baseline=baseline)
    with pytest.raises((ValueError, TypeError), match="baseline"):
        sf.advantages(rewards, baseline)


def test_optimal_is_not_an_advantage(rewards):
    with pytest.raises(ValueError, match="baseline"):
        sf.advantages(rewards, "optimal")


def test_optimal_takes_no_groups(dist, value, rewards):
    with pytest.raises(ValueError, match="groups"):
        sf.reinforce_grad(dist, value, rewards, baseline="optimal", groups=[0, 0])


@pytest.mark.parametrize("reduction", ["max", "MEAN", None, "none"])
def test_bad_reduction(dist, value, rewards, reduction):
    with pytest.raises(ValueError, match="reduction"):
        sf.reinforce_grad(dist, value, rewards, reduction=reduction)


@pytest.mark.parametrize("groups, exc", [
    ([0, 1, 0], ValueError), ([[0, 1], [1, 0]], ValueError), ([0.0, 1.0], TypeError),
    (["a", "b"], TypeError),
], ids=str)
def test_bad_groups(rewards, groups, exc):
    with pytest.raises(exc, match="groups"):
        sf.advantages(rewards, "mean", groups=groups)


def test_bad_axis(rewards):
    with pytest.raises(ValueError, match="axis"):
        sf.advantages(rewards, "mean", axis=2)
    with pytest.raises(ValueError, match="mean"):
        sf.advantages(1.0, "mean")


@pytest.mark.parametrize("decay, exc", [(1.0, ValueError), (-0.1, ValueError),
                                        (np.nan, ValueError), ("0.9", TypeError),
                                        (True, TypeError), (None, TypeError)], ids=str)
def test_bad_ema_decay(decay, exc):
    with pytest.raises(exc, match="decay"):
        sf.EMABaseline(decay)


def test_ema_empty_and_bad_rewards():
    ema = sf.EMABaseline(0.9)
    with pytest.raises(ValueError, match="rewards"):
        ema(np.zeros(0))
    with pytest.raises(ValueError, match="rewards"):
        ema([1.0, np.nan])
    assert ema.count == 0 and ema.value == 0.0   # a rejected batch leaves no trace


# -- rng and sample_shape ------------------------------------------------------------
@pytest.mark.parametrize("rng", ["abc", 1.5, np.random.RandomState(0), [1, 2], object()],
                         ids=["str", "float", "RandomState", "list", "object"])
def test_bad_rng(dist, rng):
    with pytest.raises(TypeError, match="rng"):
        dist.sample(3, rng=rng)


@pytest.mark.parametrize("shape", [-1, (-1,), (2, -1), (-3, 2)], ids=str)
def test_negative_sample_shape(dist, shape):
    with pytest.raises(ValueError, match="sample_shape"):
        dist.sample(shape)


@pytest.mark.parametrize("shape", [2.5, (2.0,), "3", True, (1, None)], ids=str)
def test_non_integer_sample_shape(dist, shape):
    with pytest.raises(TypeError, match="sample_shape"):
        dist.sample(shape)


# -- weights and out -----------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_not_finite(dist, value, bad):
    w = np.ones(value.shape)
    w[0, 1] = bad
    with pytest.raises(ValueError, match="weights"):
        dist.weighted_score(value, w)


def test_weights_bad_shape_or_dtype(dist, value):
    with pytest.raises(ValueError, match="weights"):
        dist.weighted_score(value, np.ones((2, 4)))
    with pytest.raises(ValueError, match="weights"):
        dist.weighted_score(value, np.ones((5, 2, 3)))
    with pytest.raises(TypeError, match="weights"):
        dist.weighted_score(value, np.ones(value.shape, dtype=complex))


def _bad_outs(dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    return {
        "shape": (np.zeros((B, K + 1), dtype), ValueError),
        "shape-transposed": (np.zeros((K, B), dtype), ValueError),
        "dtype": (np.zeros((B, K), other), TypeError),
        "int-dtype": (np.zeros((B, K), np.int64), TypeError),
        "non-contiguous": (np.zeros((B, 2 * K), dtype)[:, ::2], ValueError),
        "fortran": (np.asfortranarray(np.zeros((B, K), dtype)), ValueError),
        "read-only": (np.zeros((B, K), dtype), ValueError),
        "list": ([[0.0] * K] * B, TypeError),
    }


@pytest.mark.parametrize("which", list(_bad_outs(np.float64)))
@pytest.mark.parametrize("api", ["weighted_score", "reinforce_grad", "reinforce_grad_optimal"])
def test_bad_out(dist, value, rewards, dtype, which, api):
    out, exc = _bad_outs(dtype)[which]
    if which == "read-only":
        out.flags.writeable = False
    with pytest.raises(exc, match="out"):
        if api == "weighted_score":
            dist.weighted_score(value, rewards, out=out)
        else:
            baseline = "optimal" if api.endswith("optimal") else "loo"
            sf.reinforce_grad(dist, value, rewards, baseline=baseline, out=out)


def test_out_aliasing_an_input(dtype):
    x = np.zeros((B, K), dtype=dtype)
    d = sf.Categorical(x, copy=False)
    v = np.zeros((2, B), dtype=int)
    with pytest.raises(ValueError, match="out"):
        d.weighted_score(v, 1.0, out=x)                       # out is the logits
    with pytest.raises(ValueError, match="out"):
        d.weighted_score(v, 1.0, out=d.logits)                # read-only view of them
    out = np.zeros((B, K), dtype=dtype)
    with pytest.raises(ValueError, match="out"):
        d.weighted_score(v, out[:, :2].T, out=out)            # weights inside out
    np.testing.assert_array_equal(out, 0)


def test_failed_call_leaves_out_untouched(dtype):
    """An out-of-range value is reported after the kernel has already added
    the other rows' (and the bad row's partial) gradient into ``out``: a
    caller accumulating gradients and catching the error is left with a
    corrupted accumulator. A failed call must not modify ``out``."""
    d = sf.Categorical(np.zeros((2, 3), dtype=dtype))
    out = np.zeros((2, 3), dtype=dtype)
    with pytest.raises(ValueError, match="value"):
        d.weighted_score(np.array([[0, 5]]), np.ones((1, 2)), out=out)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="value"):
        sf.reinforce_grad(d, np.array([[0, 1], [1, 7]]), np.ones((2, 2)), baseline="none",
                          out=out)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))


# -- threads ---------------------------------------------------------------------------
@pytest.mark.parametrize("n, exc", [(0, ValueError), (-2, ValueError), ("2", TypeError),
                                    (2.0, TypeError), (True, TypeError)], ids=str)
def test_bad_num_threads(restore_threads, n, exc):
    before = sf.get_num_threads()
    with pytest.raises(exc, match="n must be"):
        sf.set_num_threads(n)
    assert sf.get_num_threads() == before


# -- validate=False never crashes ------------------------------------------------------
def test_unvalidated_bad_logits_do_not_crash():
    d = sf.Categorical([[np.nan, 0.0], [np.inf, 0.0], [-np.inf, -np.inf], [0.0, 1.0]],
                       validate=False)
    assert d.log_normalizer().shape == (4,)
    assert np.isnan(d.log_normalizer()[:3]).all()
    x = d.sample(100, rng=0)
    assert x.shape == (100, 4)
    assert np.isin(x[:, 3], [0, 1]).all()
    d.probs, d.entropy(), d.log_prob(np.zeros((2, 4), int)), d.score(np.zeros((2, 4), int))
    d.weighted_score(np.zeros((2, 4), int), np.ones((2, 4)))


@pytest.mark.parametrize("n", [1, 7, 8, 33, 1000])
def test_check_finite_agrees_with_numpy(dtype, n):
    """The compiled finiteness check of rewards and weights raises exactly
    when np.isfinite(x).all() is False, wherever the bad element sits (SIMD
    body or remainder), for NaN, +inf and -inf."""
    from scorefast._categorical import check_finite
    rng = np.random.default_rng(n)
    x = rng.normal(size=n).astype(dtype)
    check_finite(x, "rewards")
    for bad in (np.nan, np.inf, -np.inf):
        for j in {0, n // 2, n - 1}:
            y = x.copy()
            y[j] = bad
            assert not np.isfinite(y).all()
            with pytest.raises(ValueError, match="rewards contains NaN or inf"):
                check_finite(y, "rewards")
    big = np.full(n, np.finfo(dtype).max, dtype)
    check_finite(big, "weights")                       # the largest finite values pass
