"""Compiled kernels of the Gaussian families (Normal, DiagNormal).

Arrays arrive C-contiguous from the Python layer: loc and scale (M, D) in
float32 or float64, values and grad_f (S, M, D), weights (S, M), all in
loc's dtype.  Normal passes D = 1.  Every array is checked (type, dtype,
layout, shape; see _common.pxd) before the GIL is released and the C kernel
called.
"""
cimport numpy as cnp
from scorefast._ckernels cimport *
from scorefast._common cimport (check_status, draw_key, as_array, real_type, data1, data2,
                                opt_data2, data3)

cdef enum:
    F64 = cnp.NPY_DOUBLE


cdef inline cnp.ndarray _loc(object loc):
    return as_array(loc, 2, False, "loc")


def check(loc, scale):
    """Raise ValueError on NaN or inf in loc, or a scale not positive and finite."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1], N = M * D
    cdef const void *sc = data2(scale, t, M, D, False, "scale")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef sf_index bad = -1
    cdef int which = -1, status = SF_OK
    if N == 0:
        return
    with nogil:
        if t == F64:
            status = sf_gauss_check_d(N, <const double *> l, <const double *> sc, &bad, &which)
        else:
            status = sf_gauss_check_f(N, <const float *> l, <const float *> sc, &bad, &which)
    if status != SF_OK:
        check_status(status, f"{'loc' if which == 0 else 'scale'} (element {bad})")


def affine(loc, scale, x, int n_threads):
    """x = loc + scale * x, in place (x holds standard normals on entry)."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1]
    cdef const void *sc = data2(scale, t, M, D, False, "scale")
    cdef void *xs = data3(x, t, -1, M, D, True, "x")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> x, 0)
    cdef const void *l = cnp.PyArray_DATA(L)
    if S * M * D == 0:
        return
    with nogil:
        if t == F64:
            sf_gauss_affine_d(S, M * D, <const double *> l, <const double *> sc,
                              <double *> xs, n_threads)
        else:
            sf_gauss_affine_f(S, M * D, <const float *> l, <const float *> sc,
                              <float *> xs, n_threads)


def sample(loc, scale, x, log_prob, object bit_generator, bint antithetic, int n_threads):
    """x = loc + scale * z with z from a counter-based stream keyed by one draw
    of bit_generator (mirrored halves with antithetic); with log_prob not
    None, also the log-density of each row of D."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1]
    cdef const void *sc = data2(scale, t, M, D, False, "scale")
    cdef void *xs = data3(x, t, -1, M, D, True, "x")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> x, 0)
    cdef void *lp = opt_data2(log_prob, t, S, M, True, "log_prob")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef unsigned long long key
    cdef int status = SF_OK
    if antithetic and S % 2:
        raise ValueError("antithetic sampling needs an even number of samples")
    key = draw_key(bit_generator)
    if S * M * D == 0:
        return
    with nogil:
        if t == F64:
            status = sf_gauss_sample_d(S, M, D, <const double *> l, <const double *> sc, key,
                                       antithetic, <double *> xs, <double *> lp, n_threads)
        else:
            status = sf_gauss_sample_f(S, M, D, <const float *> l, <const float *> sc, key,
                                       antithetic, <float *> xs, <float *> lp, n_threads)
    check_status(status, "x")


def log_prob(loc, scale, x, out, int n_threads):
    """out[s, m] = sum_d log N(x[s, m, d]; loc[m, d], scale[m, d])."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1]
    cdef const void *sc = data2(scale, t, M, D, False, "scale")
    cdef const void *xs = data3(x, t, -1, M, D, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> x, 0)
    cdef void *o = data2(out, t, S, M, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    if S * M == 0:
        return
    with nogil:
        if t == F64:
            sf_gauss_log_prob_d(S, M, D, <const double *> l, <const double *> sc,
                                <const double *> xs, <double *> o, n_threads)
        else:
            sf_gauss_log_prob_f(S, M, D, <const float *> l, <const float *> sc,
                                <const float *> xs, <float *> o, n_threads)


def entropy(scale, out):
    """out[m] = sum_d the entropy of N(., scale[m, d])."""
    cdef cnp.ndarray SC = as_array(scale, 2, False, "scale")
    cdef int t = real_type(SC, "scale")
    cdef Py_ssize_t M = SC.shape[0], D = SC.shape[1]
    cdef void *o = data1(out, t, M, True, "out")
    cdef const void *sc = cnp.PyArray_DATA(SC)
    if M == 0:
        return
    with nogil:
        if t == F64:
            sf_gauss_entropy_d(M, D, <const double *> sc, <double *> o)
        else:
            sf_gauss_entropy_f(M, D, <const float *> sc, <float *> o)


def score(loc, scale, x, out_loc, out_log_scale, int n_threads):
    """out_loc = (x - loc) / scale^2, out_log_scale = ((x - loc) / scale)^2 - 1."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1]
    cdef const void *sc = data2(scale, t, M, D, False, "scale")
    cdef const void *xs = data3(x, t, -1, M, D, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> x, 0)
    cdef void *ol = data3(out_loc, t, S, M, D, True, "out_loc")
    cdef void *os = data3(out_log_scale, t, S, M, D, True, "out_log_scale")
    cdef const void *l = cnp.PyArray_DATA(L)
    if S * M * D == 0:
        return
    with nogil:
        if t == F64:
            sf_gauss_score_d(S, M * D, <const double *> l, <const double *> sc,
                             <const double *> xs, <double *> ol, <double *> os, n_threads)
        else:
            sf_gauss_score_f(S, M * D, <const float *> l, <const float *> sc,
                             <const float *> xs, <float *> ol, <float *> os, n_threads)


def reinforce(loc, scale, x, rewards, int kind, double c, double eps, double ddof,
              double factor, out_loc, out_log_scale, int n_threads):
    """out_loc += sum_s a z / scale; out_log_scale += sum_s a (z^2 - 1), a the
    advantages of rewards (S, M) under baseline kind times factor."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1]
    cdef const void *sc = data2(scale, t, M, D, False, "scale")
    cdef const void *xs = data3(x, t, -1, M, D, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> x, 0)
    cdef const void *r = data2(rewards, t, S, M, False, "rewards")
    cdef void *ol = data2(out_loc, t, M, D, True, "out_loc")
    cdef void *os = data2(out_log_scale, t, M, D, True, "out_log_scale")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S * M * D == 0:
        return
    with nogil:
        if t == F64:
            status = sf_gauss_reinforce_d(S, M, D, <const double *> l, <const double *> sc,
                                          <const double *> xs, <const double *> r, kind, c,
                                          eps, ddof, factor, <double *> ol, <double *> os,
                                          n_threads)
        else:
            status = sf_gauss_reinforce_f(S, M, D, <const float *> l, <const float *> sc,
                                          <const float *> xs, <const float *> r, kind, c,
                                          eps, ddof, factor, <float *> ol, <float *> os,
                                          n_threads)
    check_status(status, "value")


def pathwise(loc, x, grad_f, out_loc, out_log_scale, int n_threads):
    """out_loc += sum_s grad_f; out_log_scale += sum_s grad_f * (x - loc)."""
    cdef cnp.ndarray L = _loc(loc)
    cdef int t = real_type(L, "loc")
    cdef Py_ssize_t M = L.shape[0], D = L.shape[1]
    cdef const void *xs = data3(x, t, -1, M, D, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> x, 0)
    cdef const void *gf = data3(grad_f, t, S, M, D, False, "grad_f")
    cdef void *ol = data2(out_loc, t, M, D, True, "out_loc")
    cdef void *os = data2(out_log_scale, t, M, D, True, "out_log_scale")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S * M * D == 0:
        return
    with nogil:
        if t == F64:
            status = sf_gauss_pathwise_d(S, M, D, <const double *> l, <const double *> xs,
                                         <const double *> gf, <double *> ol, <double *> os,
                                         n_threads)
        else:
            status = sf_gauss_pathwise_f(S, M, D, <const float *> l, <const float *> xs,
                                         <const float *> gf, <float *> ol, <float *> os,
                                         n_threads)
    check_status(status, "value")
