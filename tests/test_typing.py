"""Typing: ``mypy --strict`` accepts examples that use the whole public API,
and the stubs (``*.pyi``) agree with the runtime modules (mypy's stubtest).

Skipped when mypy is not installed (``pip install -e ".[typing]"``).
"""
import ast
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
# modules with a stub, checked against their runtime by stubtest (scorefast
# itself is checked below: stubtest on the package would walk every submodule)
STUBBED = ["scorefast.distributions", "scorefast.gaussian", "scorefast.estimators",
           "scorefast.es", "scorefast._config", "scorefast.demo", "scorefast.capi",
           "scorefast._categorical", "scorefast._bernoulli", "scorefast._gaussian",
           "scorefast._step", "scorefast.steps"]
# Cython adds a __test__ dict to every compiled module
ALLOWLIST = r"scorefast\..*\.__test__"


def _env():
    """mypy finds an installed scorefast in site-packages by itself; an
    editable install (an import hook mypy cannot follow) through MYPYPATH."""
    env = dict(os.environ)
    root = str(PACKAGE.parent)
    packages = set(site.getsitepackages() + [site.getusersitepackages()])
    if root not in packages:
        env["MYPYPATH"] = root
    return env


def _mypy(args, cwd, request):
    cache = request.config.cache.mkdir("mypy") if request.config.cache else cwd / ".mypy_cache"
    cmd = [sys.executable, "-m", "mypy", "--cache-dir", str(cache)] + args
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=600)


def test_typed_package_markers():
    assert (PACKAGE / "py.typed").is_file()
    for name in ["__init__", "distributions", "gaussian", "estimators", "es", "_config",
                 "demo", "capi", "_categorical", "_bernoulli", "_gaussian"]:
        assert (PACKAGE / f"{name}.pyi").is_file(), name


def test_mypy_strict_on_the_public_api(tmp_path, request):
    proc = _mypy(["--strict", str(HERE / "typing_example.py")], tmp_path, request)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_the_torch_bridge(tmp_path, request):
    pytest.importorskip("torch")
    proc = _mypy(["--strict", str(HERE / "typing_example_torch.py")], tmp_path, request)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stubs_match_runtime(tmp_path):
    allow = tmp_path / "allowlist.txt"
    allow.write_text(ALLOWLIST + "\n")
    proc = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--concise",
                           "--allowlist", str(allow)] + STUBBED,
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        "a stub (scorefast/*.pyi) no longer matches its module; update the stub:\n"
        + proc.stdout + proc.stderr)


def test_top_level_stub_exports_what_the_package_does():
    tree = ast.parse((PACKAGE / "__init__.pyi").read_text())
    exported = next(ast.literal_eval(node.value) for node in tree.body
                    if isinstance(node, ast.Assign) and node.targets[0].id == "__all__")
    assert sorted(exported) == sorted(scorefast.__all__), \
        "scorefast/__init__.pyi's __all__ differs from scorefast.__all__: update the stub"
