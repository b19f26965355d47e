"""Compiled kernels of the Bernoulli family.

Arrays arrive C-contiguous from the Python layer: logits (N,) flattened in
float32 or float64, values (S, N) and weights (S, M) with N = M * D, both in
the logits' dtype.  Every array is checked (type, dtype, layout, shape; see
_common.pxd) before the GIL is released and the C kernel called.
"""
from libc.stdlib cimport malloc, free

cimport numpy as cnp
from scorefast._ckernels cimport *
from scorefast._common cimport (check_status, draw_key, fill_uniform, as_array, real_type,
                                data1, data2, opt_data2)

cdef enum:
    F64 = cnp.NPY_DOUBLE


cdef inline cnp.ndarray _logits(object logits):
    return as_array(logits, 1, False, "logits")


def check(logits):
    """Raise ValueError if logits hold NaN or inf."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef const void *l = cnp.PyArray_DATA(L) if N else NULL
    cdef sf_index bad = -1
    cdef int status
    with nogil:
        if t == F64:
            status = sf_bern_check_d(N, <const double *> l, &bad)
        else:
            status = sf_bern_check_f(N, <const float *> l, &bad)
    if status != SF_OK:
        check_status(SF_ERR_INF if status == SF_ERR_POSINF else status,
                     f"logits (element {bad})")


def probs(logits, out, int n_threads):
    """out = sigmoid(logits)."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef void *o = data1(out, t, N, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    if N == 0:
        return
    with nogil:
        if t == F64:
            sf_bern_probs_d(N, <const double *> l, <double *> o, n_threads)
        else:
            sf_bern_probs_f(N, <const float *> l, <float *> o, n_threads)


def entropy(logits, out, int n_threads):
    """out = the entropy of each variable."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef void *o = data1(out, t, N, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    if N == 0:
        return
    with nogil:
        if t == F64:
            sf_bern_entropy_d(N, <const double *> l, <double *> o, n_threads)
        else:
            sf_bern_entropy_f(N, <const float *> l, <float *> o, n_threads)


def log_prob(logits, value, out, int n_threads):
    """out[s, j] = log p(value[s, j]) under logits[j]."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef const void *v = data2(value, t, -1, N, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> value, 0)
    cdef void *o = data2(out, t, S, N, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S == 0 or N == 0:
        return
    with nogil:
        if t == F64:
            status = sf_bern_log_prob_d(S, N, <const double *> l, <const double *> v,
                                        <double *> o, n_threads)
        else:
            status = sf_bern_log_prob_f(S, N, <const float *> l, <const float *> v,
                                        <float *> o, n_threads)
    if status != SF_OK:
        raise ValueError("value must hold only 0 and 1")


def score(logits, value, out, int n_threads):
    """out[s, j] = value[s, j] - sigmoid(logits[j])."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef const void *v = data2(value, t, -1, N, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> value, 0)
    cdef void *o = data2(out, t, S, N, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S == 0 or N == 0:
        return
    with nogil:
        if t == F64:
            status = sf_bern_score_d(S, N, <const double *> l, <const double *> v,
                                     <double *> o, n_threads)
        else:
            status = sf_bern_score_f(S, N, <const float *> l, <const float *> v,
                                     <float *> o, n_threads)
    if status != SF_OK:
        raise ValueError("value must hold only 0 and 1")


def reinforce(logits, value, rewards, int kind, double c, double eps, double ddof,
              double scale, out, int n_threads):
    """out[m*D + d] += sum_s a[s, m] * (value[s, m*D + d] - sigmoid(logits)), a the
    advantages of rewards (S, M) under baseline kind (advantages.h) times
    scale.  Values are checked before out is written."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef const void *v = data2(value, t, -1, N, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> value, 0)
    cdef const void *r = data2(rewards, t, S, -1, False, "rewards")
    cdef Py_ssize_t M = cnp.PyArray_DIM(<cnp.ndarray> rewards, 1)
    cdef void *o = data1(out, t, N, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef Py_ssize_t D
    cdef int status = SF_OK
    if S == 0 or N == 0:
        return
    if M == 0 or N % M:
        raise ValueError("rewards: rows do not divide the parameters")
    D = N // M
    with nogil:
        if t == F64:
            status = sf_bern_reinforce_d(S, M, D, <const double *> l, <const double *> v,
                                         <const double *> r, kind, c, eps, ddof, scale,
                                         <double *> o, n_threads)
        else:
            status = sf_bern_reinforce_f(S, M, D, <const float *> l, <const float *> v,
                                         <const float *> r, kind, c, eps, ddof, scale,
                                         <float *> o, n_threads)
    if status != SF_OK:
        raise ValueError("value must hold only 0 and 1")


def sample(logits, out, log_prob, object bit_generator, bint numpy_uniforms, int n_threads):
    """out[s, j] = 1 if u[s, j] < sigmoid(logits[j]) else 0.

    With numpy_uniforms, u are the uniforms bit_generator.random((S, N))
    would return; otherwise they come from a counter-based stream keyed by
    one draw of bit_generator.  With log_prob not None, also the
    log-probabilities of the draws."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t N = L.shape[0]
    cdef void *o = data2(out, t, -1, N, True, "out")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> out, 0)
    cdef void *lp = opt_data2(log_prob, t, S, N, True, "log_prob")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef Py_ssize_t n = S * N
    cdef double *uniform = NULL
    cdef unsigned long long key = 0
    if not numpy_uniforms:
        key = draw_key(bit_generator)
    if n == 0:
        return
    if numpy_uniforms:
        uniform = <double *> malloc(<size_t> n * sizeof(double))
        if uniform == NULL:
            raise MemoryError("scorefast: could not allocate the uniform draws")
    try:
        if numpy_uniforms:
            fill_uniform(bit_generator, uniform, n)
        with nogil:
            if t == F64:
                sf_bern_sample_d(S, N, <const double *> l, uniform, key, <double *> o,
                                 <double *> lp, n_threads)
            else:
                sf_bern_sample_f(S, N, <const float *> l, uniform, key, <float *> o,
                                 <float *> lp, n_threads)
    finally:
        free(uniform)
