"""The element functions the kernels' loops call are inlined in every built
module: a copy left out of line (GCC stops inlining plain ``static inline``
functions once a source file grows past its limits) leaves each loop that
calls it scalar, with a libm call for every fused multiply-add, and no
result changes to show it. The functions are marked SF_INLINE in src_c; the
modules' symbol tables must hold none of them."""
import importlib
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = ["scorefast._bernoulli", "scorefast._categorical", "scorefast._gaussian",
           "scorefast._step", "scorefast.capi"]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("nm") is None
    or not (ROOT / "src_c").is_dir(),
    reason="needs Linux, nm and the C sources")


def _inlined_names():
    """The names of the functions marked SF_INLINE in src_c, those written
    once over the element type (SF_FN(name)) with both suffixes."""
    names = set()
    for path in (ROOT / "src_c").glob("*.h"):
        for generic, plain in re.findall(
                r"^SF_INLINE\s+[\w ]+?\**\s*(?:SF_FN\((\w+)\)|(\w+))\s*\(",
                path.read_text(), re.M):
            if generic:
                names.update((generic + "_d", generic + "_f"))
            else:
                names.add(plain)
    return names


def test_the_marked_functions_are_found():
    names = _inlined_names()
    for name in ("sf_exp", "sf_exp_nonpos", "sf_expf", "sf_log", "sf_logf", "sf_sigmoid",
                 "sf_splitmix_output", "sf_normal_quantile_central", "row_exp_d",
                 "inv_of_log_f"):
        assert name in names


@pytest.mark.parametrize("module", MODULES)
def test_no_element_function_is_left_out_of_line(module):
    path = importlib.import_module(module).__file__
    symbols = subprocess.run(["nm", path], capture_output=True, text=True,
                             check=True).stdout.split("\n")
    # "sf_exp", "sf_exp.constprop.0", "row_exp_d.arch_x86_64_v4": a copy of
    # the function, specialised or cloned or not
    defined = {line.split()[-1].split(".")[0] for line in symbols
               if len(line.split()) == 3 and line.split()[1] in "tT"}
    assert not sorted(defined & _inlined_names())
