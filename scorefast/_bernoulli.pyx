"""Compiled kernels of the Bernoulli family.

Arrays arrive C-contiguous from the Python layer: logits (N,) flattened,
values (S, N) in the logits' dtype, weights (S, M) with N = M * D.
"""
from libc.stdlib cimport malloc, free

from scorefast._ckernels cimport *
from scorefast._common cimport real, check_status, draw_key, fill_uniform


def check(const real[::1] logits):
    """Raise ValueError if logits hold NaN or inf."""
    cdef sf_index bad = -1
    cdef int status
    with nogil:
        if real is double:
            status = sf_bern_check_d(logits.shape[0], &logits[0] if logits.shape[0] else NULL, &bad)
        else:
            status = sf_bern_check_f(logits.shape[0], &logits[0] if logits.shape[0] else NULL, &bad)
    if status != SF_OK:
        check_status(SF_ERR_INF if status == SF_ERR_POSINF else status,
                     f"logits (element {bad})")


def probs(const real[::1] logits, real[::1] out, int n_threads):
    if out.shape[0] != logits.shape[0]:
        raise ValueError("out: shape does not match logits")
    if logits.shape[0] == 0:
        return
    with nogil:
        if real is double:
            sf_bern_probs_d(logits.shape[0], &logits[0], &out[0], n_threads)
        else:
            sf_bern_probs_f(logits.shape[0], &logits[0], &out[0], n_threads)


def entropy(const real[::1] logits, real[::1] out, int n_threads):
    if out.shape[0] != logits.shape[0]:
        raise ValueError("out: shape does not match logits")
    if logits.shape[0] == 0:
        return
    with nogil:
        if real is double:
            sf_bern_entropy_d(logits.shape[0], &logits[0], &out[0], n_threads)
        else:
            sf_bern_entropy_f(logits.shape[0], &logits[0], &out[0], n_threads)


cdef inline int _check_block(Py_ssize_t S, Py_ssize_t N, object arr, str what) except -1:
    if arr.shape[0] != S or arr.shape[1] != N:
        raise ValueError(f"{what}: expected shape ({S}, {N}), got {tuple(arr.shape)}")
    return 0


def log_prob(const real[::1] logits, const real[:, ::1] value, real[:, ::1] out,
             int n_threads):
    cdef Py_ssize_t S = value.shape[0], N = logits.shape[0]
    cdef int status = SF_OK
    _check_block(S, N, value, "value")
    _check_block(S, N, out, "out")
    if S == 0 or N == 0:
        return
    with nogil:
        if real is double:
            status = sf_bern_log_prob_d(S, N, &logits[0], &value[0, 0], &out[0, 0], n_threads)
        else:
            status = sf_bern_log_prob_f(S, N, &logits[0], &value[0, 0], &out[0, 0], n_threads)
    if status != SF_OK:
        raise ValueError("value must hold only 0 and 1")


def score(const real[::1] logits, const real[:, ::1] value, real[:, ::1] out,
          int n_threads):
    cdef Py_ssize_t S = value.shape[0], N = logits.shape[0]
    cdef int status = SF_OK
    _check_block(S, N, value, "value")
    _check_block(S, N, out, "out")
    if S == 0 or N == 0:
        return
    with nogil:
        if real is double:
            status = sf_bern_score_d(S, N, &logits[0], &value[0, 0], &out[0, 0], n_threads)
        else:
            status = sf_bern_score_f(S, N, &logits[0], &value[0, 0], &out[0, 0], n_threads)
    if status != SF_OK:
        raise ValueError("value must hold only 0 and 1")


def reinforce(const real[::1] logits, const real[:, ::1] value,
              const real[:, ::1] rewards, int kind, double c, double eps, double ddof,
              double scale, real[::1] out, int n_threads):
    """out[m*D + d] += sum_s a[s, m] * (value[s, m*D + d] - sigmoid(logits)), a the
    advantages of rewards (S, M) under baseline kind (advantages.h) times
    scale.  Values are checked before out is written."""
    cdef Py_ssize_t S = value.shape[0], N = logits.shape[0]
    cdef Py_ssize_t M = rewards.shape[1]
    cdef Py_ssize_t D
    cdef int status = SF_OK
    _check_block(S, N, value, "value")
    if rewards.shape[0] != S:
        raise ValueError("rewards: sample count does not match value")
    if out.shape[0] != N:
        raise ValueError("out: shape does not match logits")
    if S == 0 or N == 0:
        return
    if M == 0 or N % M:
        raise ValueError("rewards: rows do not divide the parameters")
    D = N // M
    with nogil:
        if real is double:
            status = sf_bern_reinforce_d(S, M, D, &logits[0], &value[0, 0], &rewards[0, 0],
                                         kind, c, eps, ddof, scale, &out[0], n_threads)
        else:
            status = sf_bern_reinforce_f(S, M, D, &logits[0], &value[0, 0], &rewards[0, 0],
                                         kind, c, eps, ddof, scale, &out[0], n_threads)
    if status != SF_OK:
        raise ValueError("value must hold only 0 and 1")


def sample(const real[::1] logits, real[:, ::1] out, real[:, ::1] log_prob,
           object bit_generator, bint numpy_uniforms, int n_threads):
    """out[s, j] = 1 if u[s, j] < sigmoid(logits[j]) else 0.

    With numpy_uniforms, u are the uniforms bit_generator.random((S, N))
    would return; otherwise they come from a counter-based stream keyed by
    one draw of bit_generator.  With log_prob not None, also the
    log-probabilities of the draws."""
    cdef Py_ssize_t S = out.shape[0], N = logits.shape[0]
    cdef Py_ssize_t n = S * N
    cdef double *uniform = NULL
    cdef unsigned long long key = 0
    cdef real *lp = NULL
    _check_block(S, N, out, "out")
    if log_prob is not None:
        _check_block(S, N, log_prob, "log_prob")
        if n:
            lp = &log_prob[0, 0]
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
            if real is double:
                sf_bern_sample_d(S, N, &logits[0], uniform, key, &out[0, 0], lp, n_threads)
            else:
                sf_bern_sample_f(S, N, &logits[0], uniform, key, &out[0, 0], lp, n_threads)
    finally:
        free(uniform)
