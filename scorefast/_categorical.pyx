"""Compiled kernels of the Categorical family.

Each function takes C-contiguous arrays already shaped by the Python layer:
logits (B, K), the row normalisers norm (B, 2) in float64 (the row maximum and
log sum exp(logits - maximum), see categorical.h), values and
weights (S, B).  It checks that the shapes agree, releases the GIL and calls
the C kernel; outputs are written into the arrays passed in.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

from scorefast._ckernels cimport *
from scorefast._common cimport real, check_status, fill_uniform


cdef inline int _check_rows(Py_ssize_t got, Py_ssize_t want, str what) except -1:
    if got != want:
        raise ValueError(f"{what}: expected {want} batch rows, got {got}")
    return 0


cdef inline int _check_norm(object norm, Py_ssize_t B) except -1:
    if norm.shape[0] != B or norm.shape[1] != 2:
        raise ValueError(f"norm: expected shape ({B}, 2), got {tuple(norm.shape)}")
    return 0


def prepare(const real[:, ::1] logits, real[:, ::1] copy, double[:, ::1] norm,
            bint check, int n_threads):
    """norm[i] = (max of logits[i], NaN): the validating pass of a new
    distribution, without exp.  With copy not None, logits are copied into it
    in the same pass.  With check, raises ValueError on NaN, +inf or a row
    with every entry -inf; without, such rows get NaN."""
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1]
    cdef sf_index bad_row = -1
    cdef int status = SF_OK
    cdef real *dst = NULL
    _check_norm(norm, B)
    if copy is not None:
        if copy.shape[0] != B or copy.shape[1] != K:
            raise ValueError("copy: shape does not match logits")
        if B:
            dst = &copy[0, 0]
    if B == 0:
        return
    with nogil:
        if real is double:
            status = sf_cat_prepare_d(B, K, &logits[0, 0], dst, &norm[0, 0], &bad_row, n_threads)
        else:
            status = sf_cat_prepare_f(B, K, &logits[0, 0], dst, &norm[0, 0], &bad_row, n_threads)
    if check and status != SF_OK:
        check_status(status, f"logits (batch row {bad_row})")


def log_normalizer(const real[:, ::1] logits, double[:, ::1] norm, int n_threads):
    """norm[i, 1] = log sum exp(logits[i] - norm[i, 0]) for the valid rows."""
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1]
    cdef int status = SF_OK
    _check_norm(norm, B)
    if B == 0:
        return
    with nogil:
        if real is double:
            status = sf_cat_log_normalizer_d(B, K, &logits[0, 0], &norm[0, 0], n_threads)
        else:
            status = sf_cat_log_normalizer_f(B, K, &logits[0, 0], &norm[0, 0], n_threads)
    check_status(status, "logits")


def entropy(const real[:, ::1] logits, const double[:, ::1] norm, real[::1] out, int n_threads):
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1]
    _check_norm(norm, B)
    _check_rows(out.shape[0], B, "out")
    if B == 0:
        return
    with nogil:
        if real is double:
            sf_cat_entropy_d(B, K, &logits[0, 0], &norm[0, 0], &out[0], n_threads)
        else:
            sf_cat_entropy_f(B, K, &logits[0, 0], &norm[0, 0], &out[0], n_threads)


def probs(const real[:, ::1] logits, const double[:, ::1] norm, real[:, ::1] out, int n_threads):
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1]
    _check_norm(norm, B)
    _check_rows(out.shape[0], B, "out")
    if out.shape[1] != K:
        raise ValueError(f"out: expected {K} classes, got {out.shape[1]}")
    if B == 0 or K == 0:
        return
    with nogil:
        if real is double:
            sf_cat_probs_d(B, K, &logits[0, 0], &norm[0, 0], &out[0, 0], n_threads)
        else:
            sf_cat_probs_f(B, K, &logits[0, 0], &norm[0, 0], &out[0, 0], n_threads)


def log_prob(const real[:, ::1] logits, const double[:, ::1] norm,
             const int64_t[:, ::1] value, real[:, ::1] out, int n_threads):
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1], S = value.shape[0]
    cdef int status = SF_OK
    _check_norm(norm, B)
    _check_rows(value.shape[1], B, "value")
    if out.shape[0] != S or out.shape[1] != B:
        raise ValueError("out: shape does not match value")
    if S == 0 or B == 0:
        return
    with nogil:
        if real is double:
            status = sf_cat_log_prob_d(S, B, K, &logits[0, 0], &norm[0, 0], &value[0, 0],
                                       &out[0, 0], n_threads)
        else:
            status = sf_cat_log_prob_f(S, B, K, &logits[0, 0], &norm[0, 0], &value[0, 0],
                                       &out[0, 0], n_threads)
    check_status(status, "value")


def score(const real[:, ::1] logits, const double[:, ::1] norm,
          const int64_t[:, ::1] value, real[:, :, ::1] out, int n_threads):
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1], S = value.shape[0]
    cdef int status = SF_OK
    _check_norm(norm, B)
    _check_rows(value.shape[1], B, "value")
    if out.shape[0] != S or out.shape[1] != B or out.shape[2] != K:
        raise ValueError("out: shape does not match value and logits")
    if S == 0 or B == 0:
        return
    with nogil:
        if real is double:
            status = sf_cat_score_d(S, B, K, &logits[0, 0], &norm[0, 0], &value[0, 0],
                                    &out[0, 0, 0], n_threads)
        else:
            status = sf_cat_score_f(S, B, K, &logits[0, 0], &norm[0, 0], &value[0, 0],
                                    &out[0, 0, 0], n_threads)
    check_status(status, "value")


def reinforce(const real[:, ::1] logits, const double[:, ::1] norm,
              const int64_t[:, ::1] value, const real[:, ::1] rewards, int kind,
              double c, double eps, double ddof, double scale, real[:, ::1] out,
              int n_threads):
    """out[i] += sum_s a[s, i] * score(value[s, i]), a the advantages of
    rewards under baseline kind (advantages.h) times scale; kind NONE with
    scale 1 is the plain weighted score.  Values are checked before out is
    written."""
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1], S = value.shape[0]
    cdef int status = SF_OK
    _check_norm(norm, B)
    _check_rows(value.shape[1], B, "value")
    if rewards.shape[0] != S or rewards.shape[1] != B:
        raise ValueError("rewards: shape does not match value")
    if out.shape[0] != B or out.shape[1] != K:
        raise ValueError("out: shape does not match logits")
    if S == 0 or B == 0:
        return
    with nogil:
        if real is double:
            status = sf_cat_reinforce_d(S, B, K, &logits[0, 0], &norm[0, 0], &value[0, 0],
                                        &rewards[0, 0], kind, c, eps, ddof, scale,
                                        &out[0, 0], n_threads)
        else:
            status = sf_cat_reinforce_f(S, B, K, &logits[0, 0], &norm[0, 0], &value[0, 0],
                                        &rewards[0, 0], kind, c, eps, ddof, scale,
                                        &out[0, 0], n_threads)
    check_status(status, "value")


def advantages(const real[:, ::1] rewards, int kind, double c, double eps, double ddof,
               double scale, real[:, ::1] out):
    """out = scale * (rewards - baseline) along axis 0 (advantages.h)."""
    cdef Py_ssize_t S = rewards.shape[0], M = rewards.shape[1]
    cdef int status = SF_OK
    if out.shape[0] != S or out.shape[1] != M:
        raise ValueError("out: shape does not match rewards")
    if S == 0 or M == 0:
        return
    with nogil:
        if real is double:
            status = sf_advantages_d(S, M, &rewards[0, 0], kind, c, eps, ddof, scale, &out[0, 0])
        else:
            status = sf_advantages_f(S, M, &rewards[0, 0], kind, c, eps, ddof, scale, &out[0, 0])
    check_status(status, "rewards")


BASELINE_KINDS = {"none": SF_BASE_NONE, "constant": SF_BASE_CONST, "mean": SF_BASE_MEAN,
                  "loo": SF_BASE_LOO, "group": SF_BASE_GROUP}


def sample(const real[:, ::1] logits, double[:, ::1] norm, bint fill_norm,
           int64_t[:, ::1] out, real[:, ::1] log_prob, object bit_generator,
           int n_threads):
    """out[s, i] ~ Categorical(softmax(logits[i])), by inverse CDF from the
    uniforms bit_generator.random((S, B)) would return; with fill_norm, the
    log-sums norm[:, 1] are computed in the same pass; with log_prob not
    None, also the log-probabilities of the draws."""
    cdef Py_ssize_t B = logits.shape[0], K = logits.shape[1], S = out.shape[0]
    cdef Py_ssize_t n = S * B
    cdef int status = SF_OK
    cdef double *uniform
    cdef real *lp = NULL
    _check_rows(out.shape[1], B, "out")
    _check_norm(norm, B)
    if K == 0 and n:
        raise ValueError("logits must have at least one class (K >= 1)")
    if log_prob is not None:
        if log_prob.shape[0] != S or log_prob.shape[1] != B:
            raise ValueError("log_prob: shape does not match out")
        if n:
            lp = &log_prob[0, 0]
    if n == 0:
        if fill_norm:
            log_normalizer(logits, norm, n_threads)
        return
    uniform = <double *> malloc(<size_t> n * sizeof(double))
    if uniform == NULL:
        raise MemoryError("scorefast: could not allocate the uniform draws")
    try:
        fill_uniform(bit_generator, uniform, n)
        with nogil:
            if real is double:
                status = sf_cat_sample_d(S, B, K, &logits[0, 0], &norm[0, 0], fill_norm,
                                         uniform, &out[0, 0], lp, n_threads)
            else:
                status = sf_cat_sample_f(S, B, K, &logits[0, 0], &norm[0, 0], fill_norm,
                                         uniform, &out[0, 0], lp, n_threads)
    finally:
        free(uniform)
    check_status(status, "logits")


def exp_array(const double[::1] x, double[::1] out):
    """out = exp(x) by the kernels' vectorised exp (for tests and benchmarks)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        sf_exp_array(x.shape[0], &x[0], &out[0])


def log_array(const double[::1] x, double[::1] out):
    """out = log(x) by the kernels' vectorised log (for tests)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        sf_log_array(x.shape[0], &x[0], &out[0])


def normal_fill(unsigned long long key, unsigned long long offset, double[::1] out):
    """out[j] = standard normal draw offset + j of the counter stream keyed by key."""
    if out.shape[0] == 0:
        return
    with nogil:
        sf_normal_fill(out.shape[0], key, offset, &out[0])


def normal_quantile_array(const double[::1] p, double[::1] out):
    """out = Phi^-1(p) by the samplers' vectorised quantile (for tests)."""
    if out.shape[0] != p.shape[0]:
        raise ValueError("out: shape does not match p")
    if p.shape[0] == 0:
        return
    with nogil:
        sf_normal_quantile_array(p.shape[0], &p[0], &out[0])


def max_threads():
    """Threads OpenMP uses by default (1 when built without OpenMP)."""
    return sf_max_threads()


def have_openmp():
    """Whether the kernels were compiled with OpenMP."""
    return bool(sf_have_openmp())
