"""Typing of scorefast.accumulate, scorefast.noise and scorefast.dask: their
stubs agree with the modules (mypy's stubtest), and ``mypy --strict`` accepts
an example that uses them (tests/typing_example_scale.py).

Skipped when mypy is not installed (``pip install -e ".[typing]"``); the
Dask parts also when Dask is not.
"""
import importlib.util
import os
import pathlib
import site
import subprocess
import sys

import pytest

import scorefast

pytest.importorskip("mypy")

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE = pathlib.Path(scorefast.__file__).resolve().parent
HAVE_DASK = importlib.util.find_spec("dask") is not None


def _env():
    """As in test_typing.py: an editable install is found through MYPYPATH."""
    env = dict(os.environ)
    root = str(PACKAGE.parent)
    if root not in set(site.getsitepackages() + [site.getusersitepackages()]):
        env["MYPYPATH"] = root
    return env


def test_scale_stubs_exist():
    for name in ("accumulate", "noise", "dask"):
        assert (PACKAGE / f"{name}.pyi").is_file(), name


def test_scale_stubs_match_runtime(tmp_path):
    modules = ["scorefast.accumulate", "scorefast.noise"]
    if HAVE_DASK:
        modules.append("scorefast.dask")
    allow = tmp_path / "allowlist.txt"
    # Generic in the stub is __class_getitem__ at runtime
    allow.write_text(r"scorefast\..*\.__test__" + "\n"
                     + r"scorefast\.accumulate\.GradientAccumulator\.__class_getitem__" + "\n")
    proc = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--concise",
                           "--ignore-unused-allowlist", "--allowlist", str(allow)] + modules,
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        "a stub (scorefast/accumulate.pyi, noise.pyi, dask.pyi) no longer matches its "
        "module; update the stub:\n" + proc.stdout + proc.stderr)


@pytest.mark.skipif(not HAVE_DASK, reason="the example uses scorefast.dask")
def test_mypy_strict_on_the_scale_api(tmp_path, request):
    cache = request.config.cache.mkdir("mypy") if request.config.cache else tmp_path / ".c"
    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--strict",
                           str(HERE / "typing_example_scale.py")],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
