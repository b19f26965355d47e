"""Compiled kernels of the Gaussian families (Normal, DiagNormal).

Arrays arrive C-contiguous from the Python layer: loc and scale (M, D),
values and grad_f (S, M, D), weights (S, M).  Normal passes D = 1.
"""
from scorefast._ckernels cimport *
from scorefast._common cimport real, check_status, draw_key


def check(const real[:, ::1] loc, const real[:, ::1] scale):
    """Raise ValueError on NaN or inf in loc, or a scale not positive and finite."""
    cdef sf_index bad = -1
    cdef int which = -1, status = SF_OK
    cdef Py_ssize_t N = loc.shape[0] * loc.shape[1]
    _check_params(loc, scale)
    if N == 0:
        return
    with nogil:
        if real is double:
            status = sf_gauss_check_d(N, &loc[0, 0], &scale[0, 0], &bad, &which)
        else:
            status = sf_gauss_check_f(N, &loc[0, 0], &scale[0, 0], &bad, &which)
    if status != SF_OK:
        check_status(status, f"{'loc' if which == 0 else 'scale'} (element {bad})")


cdef inline int _check_params(object loc, object scale) except -1:
    if loc is None or scale is None:
        raise TypeError("loc and scale must be arrays, not None")
    if tuple(loc.shape) != tuple(scale.shape):
        raise ValueError("scale: shape does not match loc")
    return 0


cdef inline int _check_values(object arr, Py_ssize_t M, Py_ssize_t D, str what) except -1:
    if arr.shape[1] != M or arr.shape[2] != D:
        raise ValueError(f"{what}: expected shape (S, {M}, {D}), got {tuple(arr.shape)}")
    return 0


def affine(const real[:, ::1] loc, const real[:, ::1] scale, real[:, :, ::1] x,
           int n_threads):
    """x = loc + scale * x, in place (x holds standard normals on entry)."""
    cdef Py_ssize_t M = loc.shape[0], D = loc.shape[1], S = x.shape[0]
    _check_params(loc, scale)
    _check_values(x, M, D, "x")
    if S * M * D == 0:
        return
    with nogil:
        if real is double:
            sf_gauss_affine_d(S, M * D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0], n_threads)
        else:
            sf_gauss_affine_f(S, M * D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0], n_threads)


def sample(const real[:, ::1] loc, const real[:, ::1] scale, real[:, :, ::1] x,
           real[:, ::1] log_prob, object bit_generator, bint antithetic, int n_threads):
    """x = loc + scale * z with z from a counter-based stream keyed by one draw
    of bit_generator (mirrored halves with antithetic); with log_prob not
    None, also the log-density of each row of D."""
    cdef Py_ssize_t M = loc.shape[0], D = loc.shape[1], S = x.shape[0]
    cdef unsigned long long key
    cdef int status = SF_OK
    cdef real *lp = NULL
    _check_params(loc, scale)
    _check_values(x, M, D, "x")
    if antithetic and S % 2:
        raise ValueError("antithetic sampling needs an even number of samples")
    if log_prob is not None:
        if log_prob.shape[0] != S or log_prob.shape[1] != M:
            raise ValueError("log_prob: shape does not match x")
        if S * M:
            lp = &log_prob[0, 0]
    key = draw_key(bit_generator)
    if S * M * D == 0:
        return
    with nogil:
        if real is double:
            status = sf_gauss_sample_d(S, M, D, &loc[0, 0], &scale[0, 0], key, antithetic,
                                       &x[0, 0, 0], lp, n_threads)
        else:
            status = sf_gauss_sample_f(S, M, D, &loc[0, 0], &scale[0, 0], key, antithetic,
                                       &x[0, 0, 0], lp, n_threads)
    check_status(status, "x")


def log_prob(const real[:, ::1] loc, const real[:, ::1] scale, const real[:, :, ::1] x,
             real[:, ::1] out, int n_threads):
    """out[s, m] = sum_d log N(x[s, m, d]; loc[m, d], scale[m, d])."""
    cdef Py_ssize_t M = loc.shape[0], D = loc.shape[1], S = x.shape[0]
    _check_params(loc, scale)
    _check_values(x, M, D, "value")
    if out.shape[0] != S or out.shape[1] != M:
        raise ValueError("out: shape does not match value")
    if S * M == 0:
        return
    with nogil:
        if real is double:
            sf_gauss_log_prob_d(S, M, D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0], &out[0, 0], n_threads)
        else:
            sf_gauss_log_prob_f(S, M, D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0], &out[0, 0], n_threads)


def entropy(const real[:, ::1] scale, real[::1] out):
    cdef Py_ssize_t M = scale.shape[0], D = scale.shape[1]
    if out.shape[0] != M:
        raise ValueError("out: shape does not match scale")
    if M == 0:
        return
    with nogil:
        if real is double:
            sf_gauss_entropy_d(M, D, &scale[0, 0], &out[0])
        else:
            sf_gauss_entropy_f(M, D, &scale[0, 0], &out[0])


def score(const real[:, ::1] loc, const real[:, ::1] scale, const real[:, :, ::1] x,
          real[:, :, ::1] out_loc, real[:, :, ::1] out_log_scale, int n_threads):
    cdef Py_ssize_t M = loc.shape[0], D = loc.shape[1], S = x.shape[0]
    _check_params(loc, scale)
    _check_values(x, M, D, "value")
    _check_values(out_loc, M, D, "out_loc")
    _check_values(out_log_scale, M, D, "out_log_scale")
    if out_loc.shape[0] != S or out_log_scale.shape[0] != S:
        raise ValueError("out_loc, out_log_scale: sample dimension does not match value")
    if S * M * D == 0:
        return
    with nogil:
        if real is double:
            sf_gauss_score_d(S, M * D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0],
                             &out_loc[0, 0, 0], &out_log_scale[0, 0, 0], n_threads)
        else:
            sf_gauss_score_f(S, M * D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0],
                             &out_loc[0, 0, 0], &out_log_scale[0, 0, 0], n_threads)


def reinforce(const real[:, ::1] loc, const real[:, ::1] scale,
              const real[:, :, ::1] x, const real[:, ::1] rewards, int kind, double c,
              double eps, double ddof, double factor, real[:, ::1] out_loc,
              real[:, ::1] out_log_scale, int n_threads):
    """out_loc += sum_s a z / scale; out_log_scale += sum_s a (z^2 - 1), a the
    advantages of rewards (S, M) under baseline kind times factor."""
    cdef Py_ssize_t M = loc.shape[0], D = loc.shape[1], S = x.shape[0]
    cdef int status = SF_OK
    _check_params(loc, scale)
    _check_values(x, M, D, "value")
    if rewards.shape[0] != S or rewards.shape[1] != M:
        raise ValueError("rewards: shape does not match value")
    _check_params(loc, out_loc)
    _check_params(loc, out_log_scale)
    if S * M * D == 0:
        return
    with nogil:
        if real is double:
            status = sf_gauss_reinforce_d(S, M, D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0],
                                          &rewards[0, 0], kind, c, eps, ddof, factor,
                                          &out_loc[0, 0], &out_log_scale[0, 0], n_threads)
        else:
            status = sf_gauss_reinforce_f(S, M, D, &loc[0, 0], &scale[0, 0], &x[0, 0, 0],
                                          &rewards[0, 0], kind, c, eps, ddof, factor,
                                          &out_loc[0, 0], &out_log_scale[0, 0], n_threads)
    check_status(status, "value")


def pathwise(const real[:, ::1] loc, const real[:, :, ::1] x, const real[:, :, ::1] grad_f,
             real[:, ::1] out_loc, real[:, ::1] out_log_scale, int n_threads):
    """out_loc += sum_s grad_f; out_log_scale += sum_s grad_f * (x - loc)."""
    cdef Py_ssize_t M = loc.shape[0], D = loc.shape[1], S = x.shape[0]
    cdef int status = SF_OK
    _check_values(x, M, D, "value")
    _check_values(grad_f, M, D, "grad_f")
    if grad_f.shape[0] != S:
        raise ValueError("grad_f: shape does not match value")
    _check_params(loc, out_loc)
    _check_params(loc, out_log_scale)
    if S * M * D == 0:
        return
    with nogil:
        if real is double:
            status = sf_gauss_pathwise_d(S, M, D, &loc[0, 0], &x[0, 0, 0], &grad_f[0, 0, 0],
                                         &out_loc[0, 0], &out_log_scale[0, 0], n_threads)
        else:
            status = sf_gauss_pathwise_f(S, M, D, &loc[0, 0], &x[0, 0, 0], &grad_f[0, 0, 0],
                                         &out_loc[0, 0], &out_log_scale[0, 0], n_threads)
    check_status(status, "value")
