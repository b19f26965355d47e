"""A downstream Cython extension built against the installed scorefast.

As numpy's ``random/tests/test_extending.py`` does: a small consumer module
that cimports ``scorefast.capi`` is written to a temporary directory, built
there with Cython and the C compiler (no link against scorefast), imported,
and its results are compared with scorefast's Python API.
"""
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import numpy as np
import pytest

import scorefast as sf

pytest.importorskip("Cython")

CONSUMER = textwrap.dedent('''
    # cython: language_level=3, boundscheck=False, wraparound=False
    """A consumer of scorefast's C API: kernels called without the GIL."""
    import numpy as np
    from libc.stdint cimport int64_t
    from scorefast.capi cimport (sf_index, SF_OK, status_message, sf_sigmoid, sf_softplus,
                                 cat_prepare_d, cat_log_normalizer_d, cat_log_prob_d, cat_weighted_score_d,
                                 cat_prepare_f, cat_log_normalizer_f, cat_weighted_score_f,
                                 gauss_weighted_score_d, gauss_pathwise_d, exp_array)


    cdef int _raise(int status) except -1:
        if status != SF_OK:
            raise ValueError(status_message(status).decode())
        return 0


    def cat_log_prob(const double[:, ::1] logits, const int64_t[:, ::1] value):
        cdef sf_index B = logits.shape[0], K = logits.shape[1], S = value.shape[0]
        cdef sf_index bad = -1
        cdef int status
        norm = np.empty((B, 2))
        out = np.empty((S, B))
        cdef double[:, ::1] n = norm, o = out
        with nogil:
            status = cat_prepare_d(B, K, &logits[0, 0], NULL, &n[0, 0], &bad, 1)
            if status == SF_OK:
                status = cat_log_normalizer_d(B, K, &logits[0, 0], &n[0, 0], 1)
            if status == SF_OK:
                status = cat_log_prob_d(S, B, K, &logits[0, 0], &n[0, 0], &value[0, 0],
                                        &o[0, 0], 2)
        _raise(status)
        return out


    def cat_grad(const double[:, ::1] logits, const int64_t[:, ::1] value,
                 const double[:, ::1] weights):
        """sum_s weights[s, i] * score(value[s, i]): the fused REINFORCE sum."""
        cdef sf_index B = logits.shape[0], K = logits.shape[1], S = value.shape[0]
        cdef sf_index bad = -1
        cdef int status
        norm = np.empty((B, 2))
        grad = np.zeros((B, K))
        cdef double[:, ::1] n = norm, g = grad
        with nogil:
            status = cat_prepare_d(B, K, &logits[0, 0], NULL, &n[0, 0], &bad, 1)
            if status == SF_OK:
                status = cat_log_normalizer_d(B, K, &logits[0, 0], &n[0, 0], 1)
            if status == SF_OK:
                status = cat_weighted_score_d(S, B, K, &logits[0, 0], &n[0, 0], &value[0, 0],
                                              &weights[0, 0], &g[0, 0], 2)
        _raise(status)
        return grad


    def cat_grad_f(const float[:, ::1] logits, const int64_t[:, ::1] value,
                   const float[:, ::1] weights):
        cdef sf_index B = logits.shape[0], K = logits.shape[1], S = value.shape[0]
        cdef sf_index bad = -1
        cdef int status
        norm = np.empty((B, 2))
        grad = np.zeros((B, K), dtype=np.float32)
        cdef double[:, ::1] n = norm
        cdef float[:, ::1] g = grad
        with nogil:
            status = cat_prepare_f(B, K, &logits[0, 0], NULL, &n[0, 0], &bad, 1)
            if status == SF_OK:
                status = cat_log_normalizer_f(B, K, &logits[0, 0], &n[0, 0], 1)
            if status == SF_OK:
                status = cat_weighted_score_f(S, B, K, &logits[0, 0], &n[0, 0], &value[0, 0],
                                              &weights[0, 0], &g[0, 0], 1)
        _raise(status)
        return grad


    def gauss_grads(const double[::1] loc, const double[::1] scale, const double[:, ::1] x,
                    const double[:, ::1] weights, const double[:, ::1] grad_f):
        """Score-function sums and pathwise sums of a Normal (D = 1)."""
        cdef sf_index S = x.shape[0], M = loc.shape[0]
        cdef int status
        out = np.zeros((4, M))
        cdef double[:, ::1] o = out
        with nogil:
            status = gauss_weighted_score_d(S, M, 1, &loc[0], &scale[0], &x[0, 0],
                                            &weights[0, 0], &o[0, 0], &o[1, 0], 1)
            if status == SF_OK:
                status = gauss_pathwise_d(S, M, 1, &loc[0], &x[0, 0], &grad_f[0, 0],
                                          &o[2, 0], &o[3, 0], 1)
        _raise(status)
        return out


    def scalars(const double[::1] t):
        """exp (array kernel), sigmoid and softplus (header-only inline functions)."""
        cdef sf_index j, n = t.shape[0]
        out = np.empty((3, n))
        cdef double[:, ::1] o = out
        with nogil:
            exp_array(n, &t[0], &o[0, 0])
            for j in range(n):
                o[1, j] = sf_sigmoid(t[j])
                o[2, j] = sf_softplus(t[j])
        return out
''')

SETUP = textwrap.dedent('''
    import sys
    from Cython.Build import cythonize
    from setuptools import Extension, setup

    pxd_root, include = sys.argv.pop(1), sys.argv.pop(1)
    ext = Extension("sf_consumer", ["sf_consumer.pyx"], include_dirs=[include])
    setup(name="sf_consumer", ext_modules=cythonize([ext], include_path=[pxd_root], quiet=True))
''')


def _have_compiler():
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(shlex.split(cc)[0]) is not None


@pytest.fixture(scope="module")
def consumer(tmp_path_factory):
    if not _have_compiler():
        pytest.skip("no C compiler")
    tmp = tmp_path_factory.mktemp("sf_consumer")
    (tmp / "sf_consumer.pyx").write_text(CONSUMER)
    (tmp / "setup.py").write_text(SETUP)
    # the directory that holds the scorefast package: where Cython finds
    # scorefast/capi.pxd (site-packages for a regular install)
    pxd_root = os.path.dirname(os.path.dirname(os.path.abspath(sf.__file__)))
    proc = subprocess.run(
        [sys.executable, "setup.py", pxd_root, sf.get_include(), "build_ext", "--inplace"],
        cwd=tmp, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = [p for p in tmp.iterdir() if p.name.startswith("sf_consumer") and
             p.suffix in (".so", ".pyd")]
    assert len(built) == 1, list(tmp.iterdir())
    spec = importlib.util.spec_from_file_location("sf_consumer", built[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_get_include_has_headers():
    include = sf.get_include()
    for h in ("sf_common.h", "sf_math.h", "categorical.h", "bernoulli.h", "gaussian.h"):
        assert os.path.isfile(os.path.join(include, h)), h


def test_pxd_next_to_the_package():
    package = os.path.dirname(os.path.abspath(sf.__file__))
    assert os.path.isfile(os.path.join(package, "capi.pxd"))


def test_every_kernel_exported():
    """Every kernel the package's own modules declare (_ckernels.pxd) is
    exported, under its name without the sf_ prefix, and declared in capi.pxd."""
    import re

    import scorefast.capi as capi

    names = set(capi.kernel_names())
    package = os.path.dirname(os.path.abspath(capi.__file__))
    with open(os.path.join(package, "_ckernels.pxd")) as f:
        kernels = set(re.findall(r"\bsf_(\w+)\s*\(", f.read()))
    assert kernels and kernels <= names, sorted(kernels - names)
    assert "status_message" in names
    with open(os.path.join(package, "capi.pxd")) as f:
        pxd = f.read()
    for name in names:
        assert re.search(rf"[\s*]{name}\(", pxd), name


def test_categorical_log_prob(consumer):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(7, 5)) * 3
    value = rng.integers(0, 5, size=(4, 7))
    expected = sf.Categorical(logits).log_prob(value)
    np.testing.assert_allclose(consumer.cat_log_prob(logits, value), expected,
                               rtol=1e-13, atol=1e-13)


def test_categorical_grad_matches_reinforce_grad(consumer):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(6, 4))
    dist = sf.Categorical(logits)
    value = dist.sample(8, rng=rng)
    rewards = rng.normal(size=(8, 6))
    adv = sf.advantages(rewards, "loo")
    # reinforce_grad(reduction="sum") is the weighted score sum with the advantages
    expected = sf.reinforce_grad(dist, value, rewards, baseline="loo", reduction="sum")
    got = consumer.cat_grad(logits, value, np.ascontiguousarray(adv))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_categorical_float32(consumer):
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    value = rng.integers(0, 3, size=(6, 5))
    weights = rng.normal(size=(6, 5)).astype(np.float32)
    expected = sf.Categorical(logits).weighted_score(value, weights)
    got = consumer.cat_grad_f(logits, value, weights)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_status_codes_become_errors(consumer):
    logits = np.zeros((2, 3))
    logits[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        consumer.cat_grad(logits, np.zeros((1, 2), dtype=np.int64), np.ones((1, 2)))
    with pytest.raises(ValueError, match="outside the support"):
        consumer.cat_log_prob(np.zeros((2, 3)), np.full((1, 2), 3, dtype=np.int64))


def test_gaussian_score_and_pathwise(consumer):
    rng = np.random.default_rng(4)
    loc, scale = rng.normal(size=5), np.exp(rng.normal(size=5))
    dist = sf.Normal(loc, scale)
    x = dist.sample(6, rng=rng)
    w = rng.normal(size=(6, 5))
    grad_f = 2 * x
    out = consumer.gauss_grads(loc, scale, x, w, grad_f)
    g_loc, g_ls = dist.weighted_score(x, w)
    p_loc, p_ls = sf.pathwise_grad(dist, x, grad_f, reduction="sum")
    for got, expected in zip(out, (g_loc, g_ls, p_loc, p_ls)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_inline_scalar_functions(consumer):
    t = np.linspace(-40.0, 40.0, 81)
    exp_, sigmoid, softplus = consumer.scalars(t)
    np.testing.assert_allclose(exp_, np.exp(t), rtol=1e-15)
    np.testing.assert_allclose(sigmoid, 1.0 / (1.0 + np.exp(-t)), rtol=1e-14)
    np.testing.assert_allclose(softplus, np.logaddexp(0.0, t), rtol=1e-14)
    np.testing.assert_allclose(sigmoid, sf.Bernoulli(t).probs, rtol=1e-15)
