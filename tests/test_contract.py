"""The input contract of every public function and method.

Each bad input either works (copied where needed, with the same result as a
clean input) or raises ValueError/TypeError naming the argument; nothing
crashes, reads out of bounds, or returns garbage silently. See the README's
"Guarantees" section for the table this file checks.
"""
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import scorefast as sf


def run_isolated(code, timeout=120):
    """Run ``code`` in a fresh interpreter: a crash there (a segfault) is a
    failed test here, not a dead test run."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


# -- out= aliasing an input ---------------------------------------------------------
ALIAS_CASES = {
    # value is an int64 view of out's own buffer: the kernel wrote the gradient
    # of row 0 into out, then read those float bits back as class indices and
    # scattered into g[v] far out of bounds (a segfault)
    "categorical-weighted_score": """
        out = np.zeros((2, 4)); value = out.view(np.int64).reshape(4, 2)
        d = sf.Categorical(np.zeros((2, 4)))
        d.weighted_score(value, np.ones((4, 2)), out=out)
    """,
    "categorical-reinforce_grad": """
        out = np.zeros((2, 4)); value = out.view(np.int64).reshape(4, 2)
        d = sf.Categorical(np.zeros((2, 4)))
        sf.reinforce_grad(d, value, np.ones((4, 2)), baseline="none", out=out)
    """,
    "categorical-reinforce_grad-optimal": """
        out = np.zeros((2, 4)); value = out.view(np.int64).reshape(4, 2)
        d = sf.Categorical(np.zeros((2, 4)))
        sf.reinforce_grad(d, value, np.arange(8.0).reshape(4, 2), baseline="optimal", out=out)
    """,
    "bernoulli-weighted_score": """
        out = np.zeros((2, 4)); value = out.reshape(1, 2, 4)
        d = sf.Bernoulli(np.zeros((2, 4)))
        d.weighted_score(value, np.ones((1, 2, 4)), out=out)
    """,
    "bernoulli-reinforce_grad": """
        out = np.zeros((2, 4)); value = out.reshape(1, 2, 4)
        d = sf.Bernoulli(np.zeros((2, 4)))
        sf.reinforce_grad(d, value, np.ones((1, 2, 4)), baseline="none", out=out)
    """,
    "normal-reinforce_grad": """
        g = np.zeros((2, 2, 3)); out = (g[0], g[1])
        d = sf.Normal(np.zeros((2, 3)), 1.0)
        sf.reinforce_grad(d, g, np.ones((2, 2, 3)), baseline="none", out=out)
    """,
}


@pytest.mark.parametrize("case", list(ALIAS_CASES))
def test_out_aliasing_value_is_an_error(case):
    code = ("import numpy as np, scorefast as sf\ntry:\n"
            + textwrap.indent(textwrap.dedent(ALIAS_CASES[case]), "    ")
            + "\nexcept ValueError as e:\n    print('VALUEERROR', e)\n")
    rc, output = run_isolated(code)
    assert rc == 0, f"crashed (exit {rc}): {output}"
    assert "VALUEERROR" in output and "out" in output, output


# -- a constant baseline is a reward: NaN and inf are errors ----------------------------
@pytest.mark.parametrize("c", [np.nan, np.inf, -np.inf, np.float32(np.nan)], ids=repr)
def test_non_finite_constant_baseline(c):
    d = sf.Categorical(np.zeros((3, 4)))
    v = np.array([[0, 1, 2], [3, 0, 1]])
    with pytest.raises(ValueError, match="baseline"):
        sf.reinforce_grad(d, v, np.ones((2, 3)), baseline=c)
    with pytest.raises(ValueError, match="baseline"):
        sf.reinforce_grad(d, v, np.ones((2, 3)), baseline=c, groups=[0, 1])
    with pytest.raises(ValueError, match="baseline"):
        sf.advantages(np.ones(3), c)


# -- empty events and batches -----------------------------------------------------------
@pytest.mark.parametrize("loc_shape", [(0,), (3, 0), (2, 3, 0)], ids=str)
def test_diag_normal_empty_event_is_an_error(loc_shape):
    """An empty event axis (D = 0) is rejected at construction, as K = 0 is
    for a Categorical; it used to fail later in log_prob and entropy with
    numpy's unnamed "cannot reshape array" error."""
    with pytest.raises(ValueError, match="event axis"):
        sf.DiagNormal(np.zeros(loc_shape), 1.0)
    with pytest.raises(ValueError, match="event axis"):
        sf.DiagNormal(0.0, np.ones(loc_shape))


# -- eps and ddof of the group baseline ---------------------------------------------------
@pytest.mark.parametrize("kw, exc", [
    ({"eps": np.nan}, ValueError), ({"eps": np.inf}, ValueError), ({"eps": -1e-3}, ValueError),
    ({"eps": "1e-8"}, TypeError), ({"eps": None}, TypeError), ({"ddof": np.nan}, ValueError),
    ({"ddof": np.inf}, ValueError), ({"ddof": 1j}, TypeError), ({"ddof": True}, TypeError),
], ids=str)
def test_bad_eps_ddof(kw, exc):
    name = next(iter(kw))
    d = sf.Categorical(np.zeros((3, 4)))
    v = np.array([[0, 1, 2], [3, 0, 1]])
    r = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]])
    with pytest.raises(exc, match=name):
        sf.advantages(r, "group", **kw)
    with pytest.raises(exc, match=name):
        sf.reinforce_grad(d, v, r, baseline="group", **kw)
    with pytest.raises(exc, match=name):
        sf.reinforce_grad(d, v, r, baseline="group", groups=[0, 0], **kw)


def test_group_baseline_eps_zero_equal_rewards():
    with np.errstate(invalid="ignore"):
        a = sf.advantages(np.ones(4), "group", eps=0.0)
        d = sf.Categorical(np.zeros((3, 4)))
        g = sf.reinforce_grad(d, np.array([[0, 1, 2], [3, 0, 1]]), np.ones((2, 3)),
                              baseline="group", eps=0.0)
    np.testing.assert_array_equal(a, 0.0)
    np.testing.assert_array_equal(g, 0.0)


# -- memory layouts: every array argument works in any layout ------------------------------
def _unaligned(a):
    """A C-contiguous copy of a whose data starts one byte past an aligned
    address, as np.frombuffer at an odd offset (or a transport) gives."""
    a = np.asarray(a)
    buf = np.zeros(a.nbytes + a.itemsize + 1, np.uint8)
    start = (-buf.ctypes.data) % a.itemsize + 1
    out = np.frombuffer(buf.data, a.dtype, a.size, start).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned or a.itemsize == 1
    return out


def _layouts(a):
    """a in every layout a caller may pass, each equal to a in value."""
    a = np.asarray(a)
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    ro = a.copy()
    ro.flags.writeable = False
    return {
        "negative-stride": a[::-1].copy()[::-1],
        "strided": big[..., ::2],
        "fortran": np.asfortranarray(a),
        "read-only": ro,
        "big-endian": a.astype(a.dtype.newbyteorder(">")),
        "broadcast-view": np.broadcast_to(a[None], (2,) + a.shape)[1],
        "unaligned": _unaligned(a),
    }


def _same(x, y):
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    x, y = np.asarray(x), np.asarray(y)
    return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)


def _layout_cases(dt):
    rng = np.random.default_rng(7)
    L = rng.normal(size=(3, 4)).astype(dt)
    S = (0.5 + rng.random((3, 4))).astype(dt)
    vc = rng.integers(0, 4, size=(5, 3))
    vb = (rng.random((5, 3, 4)) < 0.5).astype(dt)
    x = rng.normal(size=(5, 3, 4)).astype(dt)
    w = rng.normal(size=(5, 3)).astype(dt)
    wb = rng.normal(size=(5, 3, 4)).astype(dt)
    cat, ber = sf.Categorical(L), sf.Bernoulli(L)
    nor, dia = sf.Normal(L, S), sf.DiagNormal(L, S)
    return {
        "Categorical(logits)": (L, lambda a: (
            sf.Categorical(a).probs, sf.Categorical(a).log_prob(vc),
            sf.Categorical(a).sample(3, rng=1), sf.Categorical(a, copy=False).entropy(),
            sf.Categorical(a, copy=False).sample_and_log_prob(2, rng=1))),
        "Categorical value": (vc, lambda a: (
            cat.log_prob(a), cat.score(a), cat.weighted_score(a, w),
            sf.reinforce_grad(cat, a, w), sf.reinforce_grad(cat, a, w, baseline="optimal"))),
        "Categorical weights/rewards": (w, lambda a: (
            cat.weighted_score(vc, a), sf.reinforce_grad(cat, vc, a, baseline="group"),
            sf.reinforce_grad(cat, vc, a, groups=[0, 0, 1, 1, 1]))),
        "Bernoulli(logits)": (L, lambda a: (
            sf.Bernoulli(a).probs, sf.Bernoulli(a).log_prob(vb), sf.Bernoulli(a).entropy(),
            sf.Bernoulli(a, copy=False).sample(3, rng=1),
            sf.Bernoulli(a).sample_and_log_prob(3, rng=1, method="numpy"))),
        "Bernoulli value": (vb, lambda a: (
            ber.log_prob(a), ber.score(a), ber.weighted_score(a, wb),
            sf.reinforce_grad(ber, a, wb), sf.reinforce_grad(ber, a, wb, baseline="optimal"))),
        "Bernoulli weights/rewards": (wb, lambda a: (
            ber.weighted_score(vb, a), sf.reinforce_grad(ber, vb, a, baseline="mean"))),
        "Normal(loc)": (L, lambda a: (
            sf.Normal(a, S).log_prob(x), sf.Normal(a, S, copy=False).sample(2, rng=3),
            sf.Normal(a, S).sample(2, rng=3, method="numpy"),
            sf.reinforce_grad(sf.Normal(a, S), x, wb))),
        "Normal(scale)": (S, lambda a: (
            sf.Normal(L, a).log_prob(x), sf.Normal(L, a).entropy(),
            sf.Normal(L, a, copy=False).sample_and_log_prob(2, rng=3))),
        "Normal value": (x, lambda a: (
            nor.log_prob(a), nor.score(a), nor.weighted_score(a, wb),
            sf.pathwise_grad(nor, a, x), sf.reinforce_grad(nor, a, wb, baseline="loo"))),
        "DiagNormal(loc, scale)": (S, lambda a: (
            sf.DiagNormal(a, a).log_prob(x), sf.DiagNormal(L, a).sample(4, rng=2, antithetic=True))),
        "DiagNormal value": (x, lambda a: (
            dia.log_prob(a), dia.score(a), dia.weighted_score(a, w),
            sf.reinforce_grad(dia, a, w, baseline=0.3), sf.pathwise_grad(dia, x, a))),
        "DiagNormal weights/rewards": (w, lambda a: (
            dia.weighted_score(x, a), sf.reinforce_grad(dia, x, a, baseline="group"))),
        "advantages/shaping": (wb, lambda a: (
            sf.advantages(a, "loo"), sf.advantages(a, "group", axis=1),
            sf.advantages(a, "mean", groups=[0, 1, 0, 1, 1]), sf.centered_ranks(a),
            sf.nes_utilities(a, axis=2), sf.EMABaseline(0.5)(a))),
    }


LAYOUTS = list(_layouts(np.zeros((2, 2))))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", list(_layout_cases(np.float64)))
def test_any_layout_gives_the_same_result(dtype, case, layout):
    """Non-contiguous, negative-stride, Fortran, read-only, big-endian and
    broadcast arrays are copied where needed: the results, dtype included,
    are those of a plain C-contiguous native array (big-endian float32 stays
    float32)."""
    arr, fn = _layout_cases(dtype)[case]
    if layout == "unaligned" and arr.dtype.itemsize == 1:
        pytest.skip("a one-byte dtype is always aligned")
    expected = fn(arr)
    got = fn(_layouts(arr)[layout])
    assert _same(expected, got)


def test_inputs_are_not_modified(dtype):
    """No function writes into its inputs (read-only inputs are accepted)."""
    cases = _layout_cases(dtype)
    for case, (arr, fn) in cases.items():
        ro = arr.copy()
        ro.flags.writeable = False
        before = ro.copy()
        fn(ro)
        np.testing.assert_array_equal(ro, before, err_msg=case)


# -- the families and one valid call of every method ------------------------------------------
def _families(dt=np.float64):
    """name -> (distribution, a valid value with sample_shape (2,), weights)."""
    rng = np.random.default_rng(3)
    L = rng.normal(size=(3, 4)).astype(dt)
    S = (0.5 + rng.random((3, 4))).astype(dt)
    return {
        "Categorical": (sf.Categorical(L), rng.integers(0, 4, (2, 3)), np.ones((2, 3), dt)),
        "Bernoulli": (sf.Bernoulli(L), (rng.random((2, 3, 4)) < 0.5).astype(dt),
                      np.ones((2, 3, 4), dt)),
        "Normal": (sf.Normal(L, S), rng.normal(size=(2, 3, 4)).astype(dt), np.ones((2, 3, 4), dt)),
        "DiagNormal": (sf.DiagNormal(L, S), rng.normal(size=(2, 3, 4)).astype(dt),
                       np.ones((2, 3), dt)),
    }


FAMILIES = list(_families())


def _methods(d, v, w):
    """Every method that takes a value (and weights), by name."""
    calls = {
        "log_prob": lambda v=v: d.log_prob(v),
        "score": lambda v=v: d.score(v),
        "weighted_score": lambda v=v, w=w: d.weighted_score(v, w),
    }
    for b in ("none", "loo", "group", "optimal", 0.5):
        calls[f"reinforce_grad[{b}]"] = lambda v=v, w=w, b=b: sf.reinforce_grad(d, v, w, baseline=b)
    calls["reinforce_grad[groups]"] = lambda v=v, w=w: sf.reinforce_grad(
        d, v, w, baseline="mean", groups=[0, 1])
    calls["reinforce_grad[EMA]"] = lambda v=v, w=w: sf.reinforce_grad(
        d, v, w, baseline=sf.EMABaseline(0.9))
    if isinstance(d, (sf.Normal, sf.DiagNormal)):
        calls["pathwise_grad"] = lambda v=v: sf.pathwise_grad(d, v, np.ones(np.shape(v)))
    return calls


CALLS = [pytest.param(f, m, id=f"{f}-{m}") for f, fam in _families().items()
         for m in _methods(*fam)]
WEIGHTED_CALLS = [p for p in CALLS if p.values[1] not in ("log_prob", "score")]


def _call(family, method, value=None, weights=None):
    d, v, w = _families()[family]
    calls = _methods(d, v if value is None else value, w if weights is None else weights)
    return calls[method]()


# -- dtypes -------------------------------------------------------------------------------------
NON_REAL = {
    "complex": lambda s: np.zeros(s, complex),
    "object": lambda s: np.zeros(s, object),
    "str": lambda s: np.full(s, "a"),
    "bytes": lambda s: np.full(s, b"a"),
    "datetime": lambda s: np.zeros(s, "M8[s]"),
    "timedelta": lambda s: np.zeros(s, "m8[s]"),
    "void": lambda s: np.zeros(s, "V8"),
    "structured": lambda s: np.zeros(s, [("a", "f8")]),
}


@pytest.mark.parametrize("kind", list(NON_REAL))
def test_non_real_parameters_are_type_errors(kind):
    bad = NON_REAL[kind]
    for name, make in [("logits", lambda: sf.Categorical(bad((3, 4)))),
                       ("logits", lambda: sf.Bernoulli(bad((3, 4)))),
                       ("loc", lambda: sf.Normal(bad((3, 4)), 1.0)),
                       ("scale", lambda: sf.Normal(0.0, bad((3, 4)))),
                       ("loc", lambda: sf.DiagNormal(bad((3, 4)), 1.0)),
                       ("scale", lambda: sf.DiagNormal(0.0, bad((3, 4))))]:
        with pytest.raises(TypeError, match=name):
            make()


@pytest.mark.parametrize("kind", list(NON_REAL))
@pytest.mark.parametrize("family, method", CALLS)
def test_non_real_values_are_type_errors(family, method, kind):
    d, v, w = _families()[family]
    with pytest.raises(TypeError, match="value"):
        _call(family, method, value=NON_REAL[kind](np.shape(v)))


@pytest.mark.parametrize("dt", [np.float64, np.float32, np.bool_], ids=str)
@pytest.mark.parametrize("family, method", [p for p in CALLS if p.values[0] == "Categorical"])
def test_categorical_values_must_be_integers(family, method, dt):
    d, v, w = _families()[family]
    with pytest.raises(TypeError, match="value"):
        _call(family, method, value=v.astype(dt))


@pytest.mark.parametrize("kind", list(NON_REAL))
@pytest.mark.parametrize("family, method", WEIGHTED_CALLS)
def test_non_real_weights_are_type_errors(family, method, kind):
    d, v, w = _families()[family]
    name = "grad_f" if method == "pathwise_grad" else \
        "weights" if method == "weighted_score" else "rewards"
    if method == "pathwise_grad":
        with pytest.raises(TypeError, match=name):
            sf.pathwise_grad(d, v, NON_REAL[kind](np.shape(v)))
        return
    with pytest.raises(TypeError, match=name):
        _call(family, method, weights=NON_REAL[kind](np.shape(w)))


@pytest.mark.parametrize("kind", list(NON_REAL))
def test_non_real_rewards_and_fitness_are_type_errors(kind):
    bad = NON_REAL[kind]((4, 3))
    for name, fn in [("rewards", lambda: sf.advantages(bad, "loo")),
                     ("rewards", lambda: sf.advantages(bad, 1.0)),
                     ("rewards", lambda: sf.EMABaseline(0.9)(bad)),
                     ("rewards", lambda: sf.EMABaseline(0.9).update(bad)),
                     ("f", lambda: sf.centered_ranks(bad)),
                     ("f", lambda: sf.nes_utilities(bad))]:
        with pytest.raises(TypeError, match=name):
            fn()


def test_other_real_dtypes_work():
    """Integer, bool, float16 and long double inputs are converted: float32 is
    kept, everything else computes in float64."""
    for x in (np.arange(4, dtype=np.int8), np.arange(4, dtype=np.uint64),
              np.array([True, False, True, False]), np.arange(4, dtype=np.float16),
              np.arange(4, dtype=np.longdouble)):
        assert sf.Categorical(x).dtype == np.float64
        assert sf.Bernoulli(x).dtype == np.float64
        assert sf.Normal(x, 1.0 + x).dtype == np.float64
        np.testing.assert_array_equal(sf.Categorical(x).probs,
                                      sf.Categorical(x.astype(np.float64)).probs)
    v = np.array([[0, 1, 2], [3, 0, 1]])
    d = sf.Categorical(np.zeros((3, 4)))
    for vd in (np.int8, np.uint8, np.int16, np.uint32, np.int32, np.uint64, ">i8"):
        np.testing.assert_array_equal(d.log_prob(v.astype(vd)), d.log_prob(v))
        np.testing.assert_array_equal(sf.reinforce_grad(d, v.astype(vd), np.ones((2, 3))),
                                      sf.reinforce_grad(d, v, np.ones((2, 3))))


# -- NaN and inf: an error by default, propagated (never a crash) with validate=False --------
NONFINITE = [np.nan, np.inf, -np.inf]


def _with(arr, bad, where=(0, 1)):
    arr = np.array(arr, dtype=np.float64, copy=True)
    arr[where] = bad
    return arr


@pytest.mark.parametrize("bad", NONFINITE, ids=str)
def test_non_finite_parameters_are_value_errors(dtype, bad):
    L = np.zeros((3, 4), dtype)
    cases = [("logits", lambda a: sf.Bernoulli(a)), ("loc", lambda a: sf.Normal(a, 1.0)),
             ("scale", lambda a: sf.Normal(0.0, a)), ("loc", lambda a: sf.DiagNormal(a, 1.0)),
             ("scale", lambda a: sf.DiagNormal(0.0, a))]
    if bad != -np.inf:
        cases.append(("logits", lambda a: sf.Categorical(a)))     # -inf masks a class
    for name, make in cases:
        a = (L + 1).astype(dtype)
        a[1, 2] = bad
        with pytest.raises(ValueError, match=name):
            make(a)


@pytest.mark.parametrize("bad", [0.0, -1.0, -0.0, 5e-324 * 0], ids=str)
def test_non_positive_scale_is_a_value_error(bad):
    with pytest.raises(ValueError, match="scale"):
        sf.Normal(np.zeros(3), _with(np.ones(3), bad, 1))


@pytest.mark.parametrize("bad", NONFINITE, ids=str)
@pytest.mark.parametrize("family, method", WEIGHTED_CALLS)
def test_non_finite_weights_and_rewards_are_value_errors(family, method, bad):
    d, v, w = _families()[family]
    if method == "pathwise_grad":
        with pytest.raises(ValueError, match="grad_f"):
            sf.pathwise_grad(d, v, _with(np.ones(np.shape(v)), bad, (1, 2)))
        return
    name = "weights" if method == "weighted_score" else "rewards"
    with pytest.raises(ValueError, match=name):
        _call(family, method, weights=_with(w, bad, (1, 2)))


@pytest.mark.parametrize("bad", NONFINITE, ids=str)
@pytest.mark.parametrize("family, method", [p for p in CALLS if p.values[0] in ("Normal", "DiagNormal")])
def test_non_finite_gaussian_values_are_value_errors(family, method, bad):
    d, v, w = _families()[family]
    with pytest.raises(ValueError, match="value"):
        _call(family, method, value=_with(v, bad, (1, 2)))


@pytest.mark.parametrize("bad", NONFINITE, ids=str)
def test_non_finite_rewards_elsewhere(bad):
    r = _with(np.ones((4, 3)), bad, (2, 1))
    for fn in (lambda: sf.advantages(r, "none"), lambda: sf.advantages(r, 0.5),
               lambda: sf.advantages(r, "group", groups=[0, 0, 1, 1]),
               lambda: sf.EMABaseline(0.5)(r), lambda: sf.EMABaseline(0.5).update(r)):
        with pytest.raises(ValueError, match="rewards"):
            fn()
    # fitness shaping ranks: inf is a fitness like any other, NaN has no rank
    if np.isnan(bad):
        for fn in (sf.centered_ranks, sf.nes_utilities):
            with pytest.raises(ValueError, match="NaN"):
                fn(r)
    else:
        assert np.isfinite(sf.centered_ranks(r)).all() and np.isfinite(sf.nes_utilities(r)).all()


def _unvalidated(dt):
    """Each family built with validate=False from parameters holding NaN and inf."""
    L = np.array([[0.0, np.nan, 1.0, 2.0], [np.inf, 0.0, 1.0, -np.inf],
                  [-np.inf, -np.inf, -np.inf, -np.inf]], dt)
    S = np.array([[1.0, np.nan, 0.0, -1.0], [np.inf, 1.0, 1.0, 1.0], [1.0] * 4], dt)
    return {"Categorical": sf.Categorical(L, validate=False),
            "Bernoulli": sf.Bernoulli(L, validate=False),
            "Normal": sf.Normal(L, S, validate=False),
            "DiagNormal": sf.DiagNormal(L, S, validate=False)}


@pytest.mark.parametrize("family", FAMILIES)
def test_validate_false_propagates_nan_and_never_crashes(dtype, family):
    """validate=False skips the checks; every method then runs to completion
    on NaN/inf parameters, weights and values, and the bad rows come out NaN
    (or, for a Categorical, as draws of -1 that every method rejects)."""
    d = _unvalidated(dtype)[family]
    x = d.sample(3, rng=0)
    x2, lp = d.sample_and_log_prob(3, rng=0)
    if family == "Categorical":
        assert (x[:, 2] == -1).all() and (x[:, 0] == -1).all() and (x[:, 1] == -1).all()
        assert np.isnan(lp[:, :3]).all()
        x = np.zeros((3, 3), int)
    else:
        assert x.shape == x2.shape
    h = d.entropy()
    if family == "Categorical":            # every row is invalid: NaN, +inf, all masked
        assert np.isnan(h).all()
    elif family == "Bernoulli":
        assert np.isnan(h[0, 1]) and np.isfinite(h[0, [0, 2, 3]]).all()
    else:
        assert np.isnan(h).any()
    lp = d.log_prob(x)
    assert np.isnan(lp).any()
    d.score(x)
    w = np.full(x.shape[:2] if family in ("Categorical", "DiagNormal") else x.shape, np.nan,
                dtype)
    g = d.weighted_score(x, w)
    assert all(np.isnan(part).all() for part in (g if isinstance(g, tuple) else (g,)))
    if family in ("Normal", "DiagNormal"):
        xv = np.full(x.shape, np.nan, dtype)
        assert np.isnan(d.log_prob(xv)).all()
        sf.pathwise_grad(d, x, np.ones(x.shape))
        d.sample(4, rng=0, antithetic=True, method="numpy")
    else:
        d.probs
    for b in ("none", "loo", "group", "optimal"):
        sf.reinforce_grad(d, x, np.ones(w.shape), baseline=b)


# -- -inf masks a class ---------------------------------------------------------------------
def test_masked_classes(dtype):
    """A masked class has probability zero, is never drawn, adds zero to the
    entropy; log-probs of the other classes, entropy and gradients stay
    finite, and the masked coordinates of every gradient are exactly zero."""
    rng = np.random.default_rng(0)
    L = rng.normal(size=(50, 6)).astype(dtype)
    mask = rng.random((50, 6)) < 0.5
    mask[np.arange(50), rng.integers(0, 6, 50)] = False        # one class left per row at least
    L[mask] = -np.inf
    d = sf.Categorical(L)
    assert (d.probs[mask] == 0).all()
    assert np.isfinite(d.entropy()).all()
    x, lp = d.sample_and_log_prob(400, rng=1)
    assert not mask[np.arange(50), x].any()
    assert np.isfinite(lp).all()
    all_classes = np.broadcast_to(np.arange(6)[:, None], (6, 50))
    logp = d.log_prob(all_classes).T                               # (50, 6)
    assert (logp[mask] == -np.inf).all() and np.isfinite(logp[~mask]).all()
    s = d.score(x)
    assert np.isfinite(s).all() and (s[:, mask] == 0).all()
    r = rng.normal(size=(400, 50)).astype(dtype)
    grads = [d.weighted_score(x, r)] + [sf.reinforce_grad(d, x, r, baseline=b) for b in
                                        ("none", "mean", "loo", "group", "optimal", 1.5)]
    grads.append(sf.reinforce_grad(d, x, r, baseline="mean", groups=np.arange(400) % 3))
    for g in grads:
        assert np.isfinite(g).all()
        assert (g[mask] == 0).all()


@pytest.mark.parametrize("copy", [True, False])
def test_every_class_masked_is_an_error(dtype, copy):
    L = np.zeros((3, 4), dtype)
    L[1] = -np.inf
    with pytest.raises(ValueError, match=r"logits \(batch row 1\).*every class masked"):
        sf.Categorical(L, copy=copy)


# -- values outside the support -------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, 4, 10 ** 6, -(2 ** 63), 2 ** 63 - 1], ids=str)
@pytest.mark.parametrize("family, method", [p for p in CALLS if p.values[0] == "Categorical"])
def test_class_index_out_of_range(family, method, bad):
    d, v, w = _families()[family]
    v = v.copy()
    v[1, 2] = bad
    with pytest.raises(ValueError, match="value"):
        _call(family, method, value=v)
    with pytest.raises(ValueError, match="value"):                 # broadcast against the batch
        d.log_prob(np.array(bad))


@pytest.mark.parametrize("bad", [0.5, 2.0, -1.0, 1e-300, np.nan, np.inf, -np.inf], ids=str)
@pytest.mark.parametrize("family, method", [p for p in CALLS if p.values[0] == "Bernoulli"])
def test_bernoulli_value_not_binary(dtype, family, method, bad):
    d, v, w = _families()[family]
    v = v.copy()
    v[1, 2, 3] = bad
    with pytest.raises(ValueError, match="value"):
        _call(family, method, value=v)
    if np.float32(bad) not in (0, 1):
        with pytest.raises(ValueError, match="value"):
            _call(family, method, value=v.astype(np.float32))
    with pytest.raises(ValueError, match="value"):
        sf.Bernoulli(np.zeros(4, dtype), validate=False).log_prob(np.array([0, 1, 2, 1]))


def test_bernoulli_bool_and_int_values_work():
    d, v, w = _families()["Bernoulli"]
    for vd in (bool, np.int8, np.uint64, np.float32):
        np.testing.assert_array_equal(d.log_prob(v.astype(vd)), d.log_prob(v))
        np.testing.assert_array_equal(d.weighted_score(v.astype(vd), w), d.weighted_score(v, w))


# -- out= buffers -------------------------------------------------------------------------------
def _outs_for(family, dt):
    """(out, exception) for each kind of bad out= of a family's gradient."""
    d, v, w = _families(dt)[family]
    shape = d.logits.shape if family in ("Categorical", "Bernoulli") else d.loc.shape
    other = np.float32 if dt == np.float64 else np.float64
    ro = np.zeros(shape, dt)
    ro.flags.writeable = False

    def pair(a, b=None):
        return (a, np.zeros(shape, dt) if b is None else b) if family in ("Normal", "DiagNormal") else a
    both = np.zeros((2,) + shape, dt)
    bad = {
        "shape": (pair(np.zeros(shape[:-1] + (shape[-1] + 1,), dt)), ValueError),
        "transposed": (pair(np.zeros(shape[::-1], dt)), ValueError),
        "dtype": (pair(np.zeros(shape, other)), TypeError),
        "int": (pair(np.zeros(shape, np.int64)), TypeError),
        "strided": (pair(np.zeros(shape[:-1] + (2 * shape[-1],), dt)[..., ::2]), ValueError),
        "fortran": (pair(np.asfortranarray(np.zeros(shape, dt))), ValueError),
        "read-only": (pair(ro), ValueError),
        "unaligned": (pair(_unaligned(np.zeros(shape, dt))), ValueError),
        "list": (pair(np.zeros(shape, dt).tolist()), TypeError),
        "aliases-params": (pair(d.logits if family in ("Categorical", "Bernoulli") else d.loc), ValueError),
    }
    if family in ("Normal", "DiagNormal"):
        same = np.zeros(shape, dt)
        bad.update({
            "not-a-tuple": (np.zeros(shape, dt), TypeError),
            "three": ((np.zeros(shape, dt),) * 3, TypeError),
            "list-of-two": ([np.zeros(shape, dt), np.zeros(shape, dt)], TypeError),
            "same-array-twice": ((same, same), ValueError),
            "overlapping-pair": ((both[0], both.reshape(-1)[3:3 + both[0].size].reshape(shape)), ValueError),
            "aliases-scale": ((np.zeros(shape, dt), d.scale), ValueError),
        })
    return d, v, w, bad


OUT_KINDS = {f: list(_outs_for(f, np.float64)[3]) for f in FAMILIES}


@pytest.mark.parametrize("family, kind", [(f, k) for f in FAMILIES for k in OUT_KINDS[f]])
@pytest.mark.parametrize("api", ["weighted_score", "reinforce_grad", "reinforce_grad[optimal]",
                                 "reinforce_grad[groups]"])
def test_bad_out(dtype, family, kind, api):
    d, v, w, bad = _outs_for(family, dtype)
    out, exc = bad[kind]
    with pytest.raises(exc, match="out"):
        if api == "weighted_score":
            d.weighted_score(v, w, out=out)
        elif api == "reinforce_grad":
            sf.reinforce_grad(d, v, w, out=out)
        elif api == "reinforce_grad[optimal]":
            sf.reinforce_grad(d, v, w, baseline="optimal", out=out)
        else:
            sf.reinforce_grad(d, v, w, baseline="mean", groups=[0, 0], out=out)


@pytest.mark.parametrize("family", FAMILIES)
def test_out_accumulates_and_a_failed_call_leaves_it_untouched(dtype, family):
    d, v, w = _families(dtype)[family]
    g = d.weighted_score(v, w)
    out = tuple(np.zeros_like(p) for p in g) if isinstance(g, tuple) else np.zeros_like(g)
    d.weighted_score(v, w, out=out)
    d.weighted_score(v, w, out=out)
    for o, p in zip(*((out, g) if isinstance(g, tuple) else ((out,), (g,)))):
        np.testing.assert_allclose(o, 2 * p, rtol=1e-6)
    before = [np.copy(o) for o in (out if isinstance(out, tuple) else (out,))]
    bad_w = np.array(w, dtype=np.float64)
    bad_w[0, 0] = np.nan
    with pytest.raises(ValueError):
        d.weighted_score(v, bad_w, out=out)
    with pytest.raises(ValueError):
        sf.reinforce_grad(d, v, bad_w, out=out)
    if family in ("Categorical", "Bernoulli"):
        bad_v = np.array(v)
        bad_v.reshape(-1)[-1] = 7
        with pytest.raises(ValueError, match="value"):
            sf.reinforce_grad(d, bad_v, w, baseline="none", out=out)
    for o, b in zip(out if isinstance(out, tuple) else (out,), before):
        np.testing.assert_array_equal(o, b)


# -- shapes that do not broadcast, wrong numbers of dimensions --------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_value_of_the_wrong_shape(family):
    d, v, w = _families()[family]
    v = np.asarray(v)
    wrong = [v[..., :-1], v.reshape(v.shape + (1,)), np.moveaxis(v, 0, -1)]
    if family == "DiagNormal":
        wrong.append(v[:, :2])
    for bad in wrong:
        fns = [lambda x: d.weighted_score(x, 1.0),
               lambda x: sf.reinforce_grad(d, x, 1.0, baseline="none"),
               lambda x: sf.reinforce_grad(d, x, np.ones(x.shape[:1]), baseline="optimal")]
        if not (family == "Categorical" and bad.shape == v.shape + (1,)):
            fns += [d.log_prob, d.score]       # values broadcast against the batch there
        for fn in fns:
            with pytest.raises(ValueError, match="value"):
                fn(bad)


@pytest.mark.parametrize("family, method", WEIGHTED_CALLS)
def test_weights_of_the_wrong_shape(family, method):
    d, v, w = _families()[family]
    if method == "pathwise_grad":
        for bad in (np.ones(np.shape(v)[:-1] + (5,)), np.ones((3,) + np.shape(v))):
            with pytest.raises(ValueError, match="grad_f"):
                sf.pathwise_grad(d, v, bad)
        return
    name = "weights" if method == "weighted_score" else "rewards"
    for bad in (np.ones(np.shape(w)[:-1] + (7,)), np.ones((5,) + np.shape(w)), np.ones((3, 2))):
        with pytest.raises(ValueError, match=name + "|groups"):
            _call(family, method, weights=bad)


def test_parameters_that_do_not_broadcast():
    with pytest.raises(ValueError, match="loc.*scale.*broadcast"):
        sf.Normal(np.zeros((3, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="loc.*scale.*broadcast"):
        sf.DiagNormal(np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match="logits"):
        sf.Categorical(np.float64(0.0))
    with pytest.raises(ValueError, match="loc"):
        sf.DiagNormal(0.0, 1.0)


def test_broadcasting_parameters_work():
    d = sf.Normal(np.zeros((3, 1)), np.ones((1, 4)))
    assert d.batch_shape == (3, 4) and d.loc.flags.c_contiguous
    x = d.sample(2, rng=0)
    np.testing.assert_array_equal(d.log_prob(x), sf.Normal(np.zeros((3, 4)), np.ones((3, 4))).log_prob(x))


# -- empty batches, K = 0, no samples ----------------------------------------------------------
EMPTY = {
    "Categorical B=0": (lambda: sf.Categorical(np.zeros((0, 4))), (3, 0), (3, 0)),
    "Categorical (2,0,K)": (lambda: sf.Categorical(np.zeros((2, 0, 4))), (3, 2, 0), (3, 2, 0)),
    "Bernoulli N=0": (lambda: sf.Bernoulli(np.zeros(0)), (3, 0), (3, 0)),
    "Bernoulli (0,5)": (lambda: sf.Bernoulli(np.zeros((0, 5))), (3, 0, 5), (3, 0, 5)),
    "Normal 0": (lambda: sf.Normal(np.zeros(0), 1.0), (3, 0), (3, 0)),
    "DiagNormal (0,5)": (lambda: sf.DiagNormal(np.zeros((0, 5)), 1.0), (3, 0, 5), (3, 0)),
}


@pytest.mark.parametrize("case", list(EMPTY))
def test_empty_batches_work(case):
    make, vshape, wshape = EMPTY[case]
    d = make()
    vdt = np.int64 if isinstance(d, sf.Categorical) else np.float64
    v, w = np.zeros(vshape, vdt), np.zeros(wshape)
    assert d.sample(3, rng=0).shape == vshape
    assert d.sample(0, rng=0).shape[0] == 0
    x, lp = d.sample_and_log_prob((2, 0), rng=0)
    assert x.size == 0 and lp.size == 0
    assert d.log_prob(v).size == 0 and d.entropy().size == 0
    for part in (d.score(v) if isinstance(d.score(v), tuple) else (d.score(v),)):
        assert part.size == 0
    pshape = d.logits.shape if hasattr(d, "logits") else d.loc.shape
    for g in [d.weighted_score(v, w)] + [sf.reinforce_grad(d, v, w, baseline=b)
                                         for b in ("none", "loo", "group", "optimal", 0.5)]:
        for part in (g if isinstance(g, tuple) else (g,)):
            assert part.shape == pshape
    if isinstance(d, (sf.Normal, sf.DiagNormal)):
        assert sf.pathwise_grad(d, v, v)[0].shape == pshape


def test_no_samples():
    """An empty sample axis: log-probs and scores are empty, weighted_score is
    zero, reinforce_grad is an error (there is nothing to average)."""
    for d, v, w in _families().values():
        v0 = np.zeros((0,) + np.shape(v)[1:], np.asarray(v).dtype)
        w0 = np.zeros((0,) + np.shape(w)[1:])
        assert d.log_prob(v0).shape[0] == 0
        g = d.weighted_score(v0, w0)
        assert all((part == 0).all() for part in (g if isinstance(g, tuple) else (g,)))
        with pytest.raises(ValueError, match="value"):
            sf.reinforce_grad(d, v0, w0)
    assert sf.advantages(np.zeros((0, 3)), "loo").shape == (0, 3)
    assert sf.centered_ranks(np.zeros((0, 3))).shape == (0, 3)
    assert sf.nes_utilities(np.zeros((0, 3))).shape == (0, 3)
    with pytest.raises(ValueError, match="rewards"):
        sf.EMABaseline(0.5)(np.zeros(0))


@pytest.mark.parametrize("make", [lambda: sf.Categorical(np.zeros((3, 0))),
                                  lambda: sf.Categorical(np.zeros(0)),
                                  lambda: sf.Categorical(np.zeros((0, 0)))], ids=["3x0", "0", "0x0"])
def test_no_classes_is_an_error(make):
    with pytest.raises(ValueError, match="K >= 1"):
        make()


# -- sample_shape, rng and method of every family ------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_bad_sampling_arguments(family):
    d = _families()[family][0]
    samplers = [d.sample, d.sample_and_log_prob]
    for sample in samplers:
        for shape in (-1, (2, -1)):
            with pytest.raises(ValueError, match="sample_shape"):
                sample(shape, rng=0)
        for shape in (2.5, "3", True, (1, None), [[2]]):
            with pytest.raises(TypeError, match="sample_shape"):
                sample(shape, rng=0)
        for rng in ("abc", 1.5, np.random.RandomState(0), object()):
            with pytest.raises(TypeError, match="rng"):
                sample(2, rng=rng)
        if family != "Categorical":
            with pytest.raises(ValueError, match="method"):
                sample(2, rng=0, method="ziggurat")
    if family in ("Normal", "DiagNormal"):
        for shape in (3, (), (3, 2)):
            with pytest.raises(ValueError, match="antithetic"):
                d.sample(shape, rng=0, antithetic=True)


def test_rng_kinds_work():
    d = sf.Categorical(np.zeros(5))
    ref = d.sample(10, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(d.sample(10, rng=4), ref)
    np.testing.assert_array_equal(d.sample(10, rng=np.int64(4)), ref)
    np.testing.assert_array_equal(d.sample(10, rng=np.random.PCG64(4)), ref)
    np.testing.assert_array_equal(d.sample(10, rng=np.random.SeedSequence(4)), ref)
    np.testing.assert_array_equal(d.sample(np.int32(10), rng=4), ref)
    assert d.sample(10, rng=np.random.Generator(np.random.MT19937(0))).shape == (10,)


@pytest.mark.parametrize("dist", ["categorical", "normal"])
def test_pathwise_grad_arguments(dist):
    d = sf.Categorical(np.zeros(3)) if dist == "categorical" else sf.Normal(np.zeros(3), 1.0)
    if dist == "categorical":
        with pytest.raises(TypeError, match="dist"):
            sf.pathwise_grad(d, np.zeros((2, 3), int), np.zeros((2, 3)))
        return
    with pytest.raises(ValueError, match="reduction"):
        sf.pathwise_grad(d, np.zeros((2, 3)), np.zeros((2, 3)), reduction="max")
    with pytest.raises(ValueError, match="grad_f"):
        sf.pathwise_grad(d, np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="value"):
        sf.pathwise_grad(d, np.zeros((2, 4)), np.zeros((2, 4)))


def test_fitness_shaping_arguments():
    f = np.arange(12.0).reshape(4, 3)
    for fn in (sf.centered_ranks, sf.nes_utilities):
        with pytest.raises(ValueError, match="axis"):
            fn(f, axis=2)
        with pytest.raises(TypeError):
            fn(f, axis=1.5)
        np.testing.assert_array_equal(fn(f[::-1], axis=0)[::-1], fn(f, axis=0))
        np.testing.assert_array_equal(fn(f, axis=-1), fn(f, axis=1))


# -- sizes beyond 2**31: no int32 anywhere, and no 16 GB surprise --------------------------------
HUGE_CALLS = """
import os, resource, numpy as np, scorefast as sf
if "libasan" not in os.environ.get("LD_PRELOAD", ""):        # ASan maps terabytes of shadow
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # at most 6 GiB mapped
HUGE = 2 ** 31 + 1                                                # over int32 in one dimension
cat, ber, nor = sf.Categorical(np.zeros(4)), sf.Bernoulli(np.zeros(3)), sf.Normal(0.0, 1.0)
zeros = lambda *shape: np.broadcast_to(0.0, shape)
calls = {
    "Categorical(B > 2**31)": lambda: sf.Categorical(np.broadcast_to(np.zeros(4), (HUGE, 4))),
    "Categorical(K > 2**31)": lambda: sf.Categorical(zeros(HUGE), copy=False),
    "Categorical.log_prob": lambda: cat.log_prob(np.broadcast_to(np.int64(0), (HUGE,))),
    "Categorical.weighted_score": lambda: cat.weighted_score(np.broadcast_to(np.int64(0), (HUGE,)), 1.0),
    "Categorical.sample": lambda: cat.sample(HUGE),
    "Categorical.sample(2**62)": lambda: cat.sample(2 ** 62),
    "Categorical.sample(2**40 x 2**40)": lambda: cat.sample((2 ** 40, 2 ** 40)),
    "Bernoulli(N > 2**31)": lambda: sf.Bernoulli(zeros(HUGE)),
    "Bernoulli.log_prob": lambda: ber.log_prob(zeros(HUGE, 3)),
    "Bernoulli.sample": lambda: ber.sample((HUGE, 2)),
    "Normal(N > 2**31)": lambda: sf.Normal(zeros(HUGE), 1.0, copy=False),
    "Normal.sample": lambda: nor.sample(HUGE),
    "DiagNormal(D > 2**31)": lambda: sf.DiagNormal(zeros(HUGE), 1.0),
    "centered_ranks": lambda: sf.centered_ranks(zeros(HUGE)),
}
for name, call in calls.items():
    try:
        call()
        print(name, "RETURNED")
    except (MemoryError, ValueError) as e:
        print(name, "raised", type(e).__name__)
"""


def test_sizes_beyond_int32_raise_instead_of_overflowing():
    """Arrays of more than 2**31 elements in one dimension, made as broadcast
    views of a few bytes: each call must copy them (and run out of memory
    cleanly, under a 6 GiB address-space limit) or raise, never overflow an
    index into a wrong result or a crash.  Every size in src_c and the .pyx
    is a ptrdiff_t (sf_index) or Py_ssize_t; the kernels never see an int."""
    rc, output = run_isolated(HUGE_CALLS, timeout=300)
    assert rc == 0, output
    lines = [ln for ln in output.splitlines() if " raised " in ln or ln.endswith("RETURNED")]
    assert len(lines) == 14, output
    assert all("raised" in line for line in lines), output


def test_no_int_sizes_or_indices_in_the_compiled_code():
    """Sizes and indices are sf_index (ptrdiff_t) in src_c and Py_ssize_t in
    the .pyx: no loop counts with an int up to a runtime bound, and no
    size-like Cython variable is declared int."""
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[1]
    loop = re.compile(r"for\s*\(\s*(?:unsigned\s+)?(?:int|long|short|int32_t|uint32_t)\s+(\w+)"
                      r"\s*=[^;]*;\s*\1\s*[<>]=?\s*([^;]+);")
    bad = []
    for path in sorted((root / "src_c").glob("*.[ch]")):
        for m in loop.finditer(path.read_text()):
            if not m.group(2).strip().isdigit():             # a literal bound is fine
                bad.append(f"{path.name}: {m.group(0)}")
    sizes = r"(?:n|N|S|B|K|M|D|i|j|k|s|m|d|size|count|rows|cols)"
    decl = re.compile(r"cdef\s+(?:unsigned\s+)?(?:int|long|short)\s+(?:" + sizes + r")\b")
    for path in sorted((root / "scorefast").glob("*.pyx")):
        bad += [f"{path.name}: {m.group(0)}" for m in decl.finditer(path.read_text())]
    assert not bad, bad


# -- the group baseline over the whole range of rewards ------------------------------------
def _group_exact(r, eps=1e-8):
    """(r - mean) / (std + eps), std over n, in 60-digit arithmetic."""
    import mpmath
    with mpmath.workdps(60):
        xs = [mpmath.mpf(float(x)) for x in r]
        mean = mpmath.fsum(xs) / len(xs)
        sd = mpmath.sqrt(mpmath.fsum((x - mean) ** 2 for x in xs) / len(xs))
        if sd == 0:
            return np.zeros(len(xs))
        return np.array([float((x - mean) / (sd + mpmath.mpf(eps))) for x in xs])


GROUP_RANGE = {
    "huge": [1e200, -1e200, 0.0, 3e199],
    "tiny": [1e-200, -1e-200, 0.0, 3e-201],
    "tiny-deviations": [1.0e-170, 1.5e-170, 1.0e-170, 0.0],
    "large-float32": [1e20, -1e20, 0.0, 3e19],
}


@pytest.mark.parametrize("case", list(GROUP_RANGE))
@pytest.mark.parametrize("eps", [1e-8, 0.0], ids=["eps=1e-8", "eps=0"])
def test_group_baseline_over_the_whole_range_python(case, eps):
    """scorefast.advantages: deviations whose squares overflow (> 1e154, or
    1e19 in float32) or underflow (< 1e-162) got advantages of 0, or d
    itself, instead of (r - mean) / (std + eps)."""
    dt = np.float32 if case == "large-float32" else np.float64
    r = np.array(GROUP_RANGE[case], dt)
    expected = _group_exact(r.astype(np.float64), eps)
    got = sf.advantages(r, "group", eps=eps)
    np.testing.assert_allclose(got, expected, rtol=64 * np.finfo(dt).eps, atol=0)


@pytest.mark.parametrize("case", [c for c in GROUP_RANGE if c != "large-float32"])
def test_group_baseline_over_the_whole_range_kernels(case):
    r = np.array(GROUP_RANGE[case])
    expected = _group_exact(r)
    d = sf.Normal(0.0, 1.0)
    x = np.array([0.5, -1.0, 2.0, 0.25])
    g = sf.reinforce_grad(d, x, r, baseline="group", reduction="sum")
    from scorefast import _categorical
    out = np.empty((4, 1))
    _categorical.advantages(r[:, None], _categorical.BASELINE_KINDS["group"], 0.0, 1e-8, 0.0,
                            1.0, out)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-13, atol=0)
    z = x
    np.testing.assert_allclose(g[0], (expected * z).sum(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_state_unpickled_into_unaligned_read_only_buffers(dtype, family):
    """A transport may unpickle a distribution's arrays into unaligned,
    read-only buffers (dask did); the distribution copies what the kernels
    cannot take and gives the same results."""
    d, v, w = _families(dtype)[family]
    state = {}
    for name, value in vars(d).items():
        if isinstance(value, np.ndarray):
            value = _unaligned(value)
            value.flags.writeable = False
        state[name] = value
    e = object.__new__(type(d))
    e.__setstate__(state)
    for method in ("sample", "log_prob", "weighted_score", "entropy"):
        args = {"sample": (3, 5), "log_prob": (v,), "weighted_score": (v, w), "entropy": ()}[method]
        assert _same(getattr(d, method)(*args), getattr(e, method)(*args)), method
