"""The input contract of every public function and method.

Each bad input either works (copied where needed, with the same result as a
clean input) or raises ValueError/TypeError naming the argument; nothing
crashes, reads out of bounds, or returns garbage silently. See the README's
"Guarantees" section for the table this file checks.
"""
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


@pytest.mark.xfail(strict=True, reason="bug: with eps=0 a group of equal rewards gets "
                   "0/0 = NaN advantages (estimators.advantages and "
                   "src_c/advantages_column.h), not the documented exact zeros")
def test_group_baseline_eps_zero_equal_rewards():
    with np.errstate(invalid="ignore"):
        a = sf.advantages(np.ones(4), "group", eps=0.0)
        d = sf.Categorical(np.zeros((3, 4)))
        g = sf.reinforce_grad(d, np.array([[0, 1, 2], [3, 0, 1]]), np.ones((2, 3)),
                              baseline="group", eps=0.0)
    np.testing.assert_array_equal(a, 0.0)
    np.testing.assert_array_equal(g, 0.0)
