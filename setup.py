"""Build of scorefast's compiled core.

The C kernels in src_c/ are compiled into each Cython extension that calls
them.  One build_ext subclass decides the compiler flags and whether OpenMP
is available; without it the kernels build single-threaded.

Environment variables:
  SCOREFAST_DEBUG=1        bounds checks on, -O0 -g
  SCOREFAST_NO_OPENMP=1    build without OpenMP
  SCOREFAST_REQUIRE_OPENMP=1  fail instead of falling back when OpenMP is missing
"""
import os
import runpy
import shutil
import subprocess
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_C = "src_c"
DEBUG = os.environ.get("SCOREFAST_DEBUG") == "1"

OPENMP_PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+ : n)
    n += 1;
    printf("%d\n", n);
    return n > 0 ? 0 : 1;
}
"""


def openmp_works(compiler_cmd):
    """Compile and run a tiny OpenMP program with -fopenmp."""
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        cmd = list(compiler_cmd) + ["-fopenmp", src, "-o", exe]
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            return False
        return subprocess.run([exe], capture_output=True).returncode == 0
    except OSError:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    """The one place that chooses flags per compiler and probes OpenMP."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        compile_args, link_args = [], []
        if ctype == "unix":
            compile_args += ["-O0", "-g"] if DEBUG else ["-O3"]
            # no FMA contraction: loc + scale * eps must round as numpy does.
            # -fno-trapping-math lets the vectoriser evaluate both sides of a
            # branch-free select (the kernels never read the FP exception
            # flags); without it the AVX2 and baseline clones of the exp loops
            # stay scalar. Results, NaN and inf included, are unchanged.
            compile_args += ["-Wall", "-fno-math-errno", "-fno-trapping-math",
                             "-ffp-contract=off", "-fopenmp-simd"]
            use_omp = os.environ.get("SCOREFAST_NO_OPENMP") != "1"
            if use_omp and openmp_works(self.compiler.compiler_so[:1]):
                compile_args.append("-fopenmp")
                link_args.append("-fopenmp")
            else:
                if os.environ.get("SCOREFAST_REQUIRE_OPENMP") == "1":
                    raise RuntimeError("OpenMP is required but the probe failed")
                compile_args.append("-Wno-unknown-pragmas")
                print("scorefast: building without OpenMP (kernels run on one thread)",
                      file=sys.stderr)
        elif ctype == "msvc":
            compile_args += ["/O2", "/openmp"]
        for ext in self.extensions:
            ext.extra_compile_args = compile_args + list(ext.extra_compile_args)
            ext.extra_link_args = link_args + list(ext.extra_link_args)
        super().build_extensions()


class BuildPy(build_py):
    """Also copies the C headers of src_c/ into the built package
    (scorefast/include), where scorefast.get_include() finds them once
    installed; in a source checkout it returns src_c/ itself."""

    def run(self):
        super().run()
        dest = os.path.join(self.build_lib, "scorefast", "include")
        self.mkpath(dest)
        for h in sorted(os.listdir(os.path.join(HERE, SRC_C))):
            if h.endswith(".h"):
                self.copy_file(os.path.join(SRC_C, h), os.path.join(dest, h))


C_SOURCES = {
    "_categorical": ["categorical.c", "threads.c", "sf_math.c", "advantages.c"],
    "_bernoulli": ["bernoulli.c", "advantages.c"],
    "_gaussian": ["gaussian.c", "advantages.c"],
    "_step": ["output_cache.c"],
}
# The cimportable C API: scorefast/capi.pxd and capi.pyx, generated from
# _ckernels.pxd (every kernel as a cdef function), built over every C source.
runpy.run_path(os.path.join(HERE, "tools", "gen_capi.py"))["main"]()
C_SOURCES["capi"] = sorted({c for sources in C_SOURCES.values() for c in sources})

extensions = [
    Extension(
        f"scorefast.{name}",
        [f"scorefast/{name}.pyx"] + [os.path.join(SRC_C, c) for c in sources],
        include_dirs=[SRC_C, numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
        depends=[os.path.join(SRC_C, h) for h in os.listdir(os.path.join(HERE, SRC_C))
                 if h.endswith(".h")],
    )
    for name, sources in C_SOURCES.items()
]

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "embedsignature": True,
}

setup(
    ext_modules=cythonize(extensions, compiler_directives=directives),
    cmdclass={"build_ext": BuildExt, "build_py": BuildPy},
)
