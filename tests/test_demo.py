"""The demo trains a softmax policy to (near) perfect accuracy, in-process
and from the command line."""
import os
import subprocess
import sys

import numpy as np
import pytest

from scorefast.demo import run_demo


def test_run_demo_learns():
    result = run_demo(verbose=False)
    assert result["accuracy"] >= 0.95
    assert result["greedy_accuracy"] == 1.0
    assert len(result["history"]) == 300
    # the policy improves: late rewards beat early ones
    h = np.asarray(result["history"])
    assert h[-50:].mean() > h[:10].mean()


def test_run_demo_is_reproducible():
    a = run_demo(steps=40, seed=3, verbose=False)
    b = run_demo(steps=40, seed=3, verbose=False)
    assert a["history"] == b["history"]
    np.testing.assert_array_equal(a["weight"], b["weight"])


def test_run_demo_verbose_prints(capsys):
    run_demo(steps=25, verbose=True)
    out = capsys.readouterr().out
    assert "step    1" in out and "learned accuracy" in out


def _run_cli(*args):
    env = dict(os.environ)
    env.setdefault("SCOREFAST_NUM_THREADS", "1")
    return subprocess.run([sys.executable, "-m", "scorefast", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_cli_demo_quiet_exits_zero():
    proc = _run_cli("demo", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "step" not in proc.stdout


def test_cli_demo_fails_when_not_learning():
    # one step of training cannot reach 95% accuracy: the exit status says so
    proc = _run_cli("demo", "--quiet", "--steps", "1")
    assert proc.returncode == 1, proc.stderr


@pytest.mark.parametrize("args", [[], ["nope"], ["demo", "--steps", "x"]])
def test_cli_usage_errors(args):
    proc = _run_cli(*args)
    assert proc.returncode == 2
    assert "usage" in proc.stderr
