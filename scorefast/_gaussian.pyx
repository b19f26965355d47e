"""Compiled kernels of the Gaussian families (Normal, DiagNormal).

Arrays arrive C-contiguous from the Python layer: loc and scale (M, D) in
float32 or float64, values and grad_f (S, M, D), weights (S, M), all in
loc's dtype.  Normal passes D = 1.  Every array is checked (type, dtype,
layout, shape; see _common.pxd) before the GIL is released and the C kernel
called.
"""
cimport cython
cimport numpy as cnp
import numpy as np
from scorefast._ckernels cimport *
from scorefast._step cimport StepBase, new_output, step_threads
from numpy.random cimport bitgen_t
from scorefast._common cimport (check_status, draw_key, draw_key_locked, as_array,
                                real_type, data1, data2, opt_data2, data3, NOGIL_MIN_WORK,
                                PyThreadState, release_gil, restore_gil, as_block,
                                shared_along_last, check_finite_data)

cdef extern from "gaussian.h" nogil:
    # a helper for tests, not part of the C API
    sf_index sf_marked_indices(sf_index n, unsigned char *mark, sf_index *idx, int portable)

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
    # the parameters' own statuses are the distribution's to check (at its
    # construction, unless made with validate=False)
    if status == SF_ERR_NOMEM:
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
              double factor, out_loc, out_log_scale, int n_threads, bint fresh=False):
    """out_loc += sum_s a z / scale; out_log_scale += sum_s a (z^2 - 1), a the
    advantages of rewards (S, M) under baseline kind times factor; with
    fresh, the outputs are written, their contents never read (new arrays)."""
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
        if fresh:
            (<cnp.ndarray> out_loc).fill(0)
            (<cnp.ndarray> out_log_scale).fill(0)
        return
    with nogil:
        status = gauss_reinforce(t, fresh, False, S, M, D, l, sc, xs, r, kind, c, eps, ddof,
                                 factor, ol, os, n_threads)
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


def marked_indices(const unsigned char[::1] marks, bint portable):
    """The indices of the marks that are 1 (int64, increasing; each mark 0 or
    1), as the sampler lists its tail draws: by AVX-512 compression where the
    CPU has it, or with portable as on any CPU.  For tests."""
    cdef Py_ssize_t n = marks.shape[0], j, m
    cdef cnp.npy_intp room = n + 64
    cdef cnp.ndarray work = cnp.PyArray_ZEROS(1, &room, cnp.NPY_UINT8, 0)
    cdef cnp.ndarray idx = cnp.PyArray_EMPTY(1, &room, cnp.NPY_INTP, 0)
    cdef unsigned char *w = <unsigned char *> cnp.PyArray_DATA(work)
    for j in range(n):
        w[j] = marks[j]
    with nogil:
        m = sf_marked_indices(n, w, <sf_index *> cnp.PyArray_DATA(idx), portable)
    return idx[:m].astype(np.int64)


cdef int gauss_reinforce(int t, bint fresh, bint is_log, sf_index S, sf_index M, sf_index D,
                         const void *l, const void *sc, const void *xs, const void *r,
                         int kind, double c, double eps, double ddof, double factor,
                         void *gl, void *gs, int n_threads) noexcept nogil:
    """The reinforce kernel for the dtype t, into new gradients (fresh) or
    added to, with sc holding scales or log scales (is_log)."""
    if t == F64:
        if is_log and fresh:
            return sf_gauss_reinforce_fresh_log_scale_d(
                S, M, D, <const double *> l, <const double *> sc, <const double *> xs,
                <const double *> r, kind, c, eps, ddof, factor, <double *> gl, <double *> gs,
                n_threads)
        if is_log:
            return sf_gauss_reinforce_log_scale_d(
                S, M, D, <const double *> l, <const double *> sc, <const double *> xs,
                <const double *> r, kind, c, eps, ddof, factor, <double *> gl, <double *> gs,
                n_threads)
        if fresh:
            return sf_gauss_reinforce_fresh_d(
                S, M, D, <const double *> l, <const double *> sc, <const double *> xs,
                <const double *> r, kind, c, eps, ddof, factor, <double *> gl, <double *> gs,
                n_threads)
        return sf_gauss_reinforce_d(
            S, M, D, <const double *> l, <const double *> sc, <const double *> xs,
            <const double *> r, kind, c, eps, ddof, factor, <double *> gl, <double *> gs,
            n_threads)
    if is_log and fresh:
        return sf_gauss_reinforce_fresh_log_scale_f(
            S, M, D, <const float *> l, <const float *> sc, <const float *> xs,
            <const float *> r, kind, c, eps, ddof, factor, <float *> gl, <float *> gs,
            n_threads)
    if is_log:
        return sf_gauss_reinforce_log_scale_f(
            S, M, D, <const float *> l, <const float *> sc, <const float *> xs,
            <const float *> r, kind, c, eps, ddof, factor, <float *> gl, <float *> gs,
            n_threads)
    if fresh:
        return sf_gauss_reinforce_fresh_f(
            S, M, D, <const float *> l, <const float *> sc, <const float *> xs,
            <const float *> r, kind, c, eps, ddof, factor, <float *> gl, <float *> gs,
            n_threads)
    return sf_gauss_reinforce_f(
        S, M, D, <const float *> l, <const float *> sc, <const float *> xs,
        <const float *> r, kind, c, eps, ddof, factor, <float *> gl, <float *> gs,
        n_threads)


# -- the prepared REINFORCE step -----------------------------------------------------------
@cython.auto_pickle(False)
cdef class StepCore(StepBase):
    """The compiled core of scorefast.NormalStep and DiagNormalStep
    (scorefast/steps.py, which documents them): a sample and the gradient
    of a REINFORCE step, each in one call that converts and checks its
    arguments, releases the GIL and runs the kernels.  The configuration, the
    bit generator and the thread count are StepBase's (_step.pyx), and
    _configure_draws adds the Gaussian's own (event: the last axis of the
    parameters is one event, as for DiagNormal; else every element is one,
    as for Normal).  sample keeps the parameters and the draws for grad."""
    cdef bint _event, _antithetic
    cdef object _loc, _scale, _x        # parameters and draws of the last sample
    cdef bint _is_log                   # whether _scale holds log scales
    cdef Py_ssize_t _M, _D

    def _configure_draws(self, bint event, bint antithetic):
        """The Gaussian's own configuration, after _configure: whether the last
        axis is one event (DiagNormal) and whether the draws are mirrored."""
        self._event = event
        self._antithetic = antithetic

    def sample(self, loc, scale=None, rng=None, out=None, *, log_scale=None):
        """Draw ``n_samples`` samples of the distribution, with their log-densities.

        Parameters
        ----------
        loc, scale : array_like
            Broadcast against each other; float32 when both are float32,
            else float64; used in place when they are C-contiguous arrays of
            the same shape and dtype, and kept for ``grad``.
        rng : None, int or numpy.random.Generator
            A Generator is advanced (one 64-bit draw keys the counter-based
            normals); a seed makes the draws reproducible.
        out : tuple of two ndarray, optional
            The arrays to write x and the log-densities into (the shapes and
            dtype returned, C-contiguous, writeable), returned; x is kept for
            ``grad``.
        log_scale : array_like, optional
            ``log(scale)``, given instead of ``scale`` (keyword only), as
            ``scale`` is taken: the parameters a policy or a search holds,
            without an ``np.exp`` pass over them before the call. The draws
            are those of the scale ``exp(log_scale)`` in the dtype (for
            float32, by a float exp within one ulp), and the log-densities
            use ``log_scale`` as given. It must lie in [-708, 708] for
            float64 and [-87, 87] for float32, where the scale and its
            inverse are normal numbers of the dtype.

        Returns
        -------
        x : ndarray
            Shape ``(n_samples,) + loc.shape``.
        log_prob : ndarray
            One per event: shape ``(n_samples,) + loc.shape[:-1]`` for
            DiagNormalStep, ``(n_samples,) + loc.shape`` for NormalStep.
        """
        cdef cnp.ndarray L, SC
        cdef bint is_log = log_scale is not None
        if is_log:
            if scale is not None:
                raise TypeError("sample takes scale or log_scale, not both")
            scale = log_scale
        elif scale is None:
            raise TypeError("sample needs scale (or log_scale=)")
        cdef bint fast = (cnp.PyArray_Check(loc) and cnp.PyArray_Check(scale) and
                          cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> loc) and
                          cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> scale) and
                          (cnp.PyArray_TYPE(<cnp.ndarray> loc) == F64 or
                           cnp.PyArray_TYPE(<cnp.ndarray> loc) == cnp.NPY_FLOAT) and
                          cnp.PyArray_TYPE(<cnp.ndarray> scale) ==
                          cnp.PyArray_TYPE(<cnp.ndarray> loc) and
                          cnp.PyArray_SAMESHAPE(<cnp.ndarray> loc, <cnp.ndarray> scale))
        if not fast:
            loc, scale = self._support.gaussian_params(loc, scale,
                                                       "log_scale" if is_log else "scale")
        L = <cnp.ndarray> loc
        SC = <cnp.ndarray> scale
        cdef int t = cnp.PyArray_TYPE(L), nd = cnp.PyArray_NDIM(L), j
        cdef Py_ssize_t S = self._S, N = cnp.PyArray_SIZE(L), M, D = 1
        if self._event:
            if nd == 0:
                raise ValueError("loc must have at least one dimension (the event axis) "
                                 "for DiagNormal")
            D = cnp.PyArray_DIM(L, nd - 1)
            if D == 0:
                raise ValueError("loc and scale must have a non-empty event axis (D >= 1) "
                                 f"for DiagNormal, got shape {(<object> L).shape}")
        M = N // D
        cdef cnp.npy_intp dims[33]
        dims[0] = S
        for j in range(nd):
            dims[j + 1] = cnp.PyArray_DIM(L, j)
        cdef const void *l = cnp.PyArray_DATA(L)
        cdef const void *sc = cnp.PyArray_DATA(SC)
        cdef sf_index bad = -1
        cdef int which = -1, status = SF_OK
        cdef PyThreadState *gil
        x, log_prob = self._sample_out(out, nd + 1, dims, t, nd if self._event else nd + 1, t,
                                       (L, SC))
        cdef bitgen_t *bitgen
        bit_generator = self._source(rng, &bitgen)
        cdef int n_threads = step_threads()
        cdef void *xs = cnp.PyArray_DATA(<cnp.ndarray> x)
        cdef void *lp = cnp.PyArray_DATA(<cnp.ndarray> log_prob)
        cdef unsigned long long key = draw_key_locked(bitgen, bit_generator.lock)
        cdef bint anti = self._antithetic
        if S * N:
            gil = release_gil(S * N >= NOGIL_MIN_WORK)
            if t == F64 and is_log:
                status = sf_gauss_sample_log_scale_d(S, M, D, <const double *> l,
                                                     <const double *> sc, key, anti,
                                                     <double *> xs, <double *> lp, n_threads)
            elif t == F64:
                status = sf_gauss_sample_d(S, M, D, <const double *> l, <const double *> sc,
                                           key, anti, <double *> xs, <double *> lp,
                                           n_threads)
            elif is_log:
                status = sf_gauss_sample_log_scale_f(S, M, D, <const float *> l,
                                                     <const float *> sc, key, anti,
                                                     <float *> xs, <float *> lp, n_threads)
            else:
                status = sf_gauss_sample_f(S, M, D, <const float *> l, <const float *> sc,
                                           key, anti, <float *> xs, <float *> lp,
                                           n_threads)
            restore_gil(gil)
            if status == SF_ERR_NOMEM:
                check_status(status, "x")
            if status != SF_OK and self._validate:
                # the kernel checks the parameters as it reads them and gives
                # the status of an invalid one: the first, named by this pass
                gil = release_gil(N >= NOGIL_MIN_WORK)
                if t == F64 and is_log:
                    status = sf_gauss_check_log_scale_d(N, <const double *> l,
                                                        <const double *> sc, &bad, &which)
                elif t == F64:
                    status = sf_gauss_check_d(N, <const double *> l, <const double *> sc, &bad,
                                              &which)
                elif is_log:
                    status = sf_gauss_check_log_scale_f(N, <const float *> l,
                                                        <const float *> sc, &bad, &which)
                else:
                    status = sf_gauss_check_f(N, <const float *> l, <const float *> sc, &bad,
                                              &which)
                restore_gil(gil)
                if which == 1 and is_log:
                    raise ValueError(
                        f"log_scale (element {bad}) must be in "
                        f"{'[-708, 708] for float64' if t == F64 else '[-87, 87] for float32'}"
                        f" (exp(log_scale) a positive finite scale), got "
                        f"{(<object> SC).flat[bad]!r}")
                check_status(status, f"{'loc' if which == 0 else 'scale'} (element {bad})")
        self._loc = L
        self._scale = SC
        self._is_log = is_log
        self._x = x
        self._M = M
        self._D = D
        return x, log_prob

    def grad(self, rewards, out=None):
        """The REINFORCE gradient with respect to (loc, log scale) of the last sample.

        Parameters
        ----------
        rewards : array_like
            One reward per event, broadcastable to the log-densities' shape.
        out : tuple of two ndarrays, optional
            Accumulate into ``out`` (each of loc's shape and dtype).

        Returns
        -------
        tuple of two ndarrays
            ``(d/dloc, d/dlog_scale)``, each of loc's shape (``out`` when given).
        """
        if self._x is None:
            raise RuntimeError("grad needs a sample: call sample(loc, scale, rng) first")
        # the state of the last sample, read at once (a step shared between
        # threads may sample again while this call runs Python code)
        cdef cnp.ndarray L = <cnp.ndarray> self._loc, X = <cnp.ndarray> self._x
        cdef cnp.ndarray SC = <cnp.ndarray> self._scale
        cdef bint is_log = self._is_log
        cdef int t = cnp.PyArray_TYPE(L), nd = cnp.PyArray_NDIM(X) - self._event
        cdef Py_ssize_t S = self._S, M = self._M, D = self._D, n = S * M
        # a Normal's rewards shared along the last axis (shape (..., 1), one
        # per row of a policy's actions): the rows are the kernel's items, as
        # DiagNormal's events are, one advantage per row and sample instead
        # of one per coordinate; every coordinate gets the same terms
        if not self._event and shared_along_last(rewards, X, nd):
            D = cnp.PyArray_DIM(X, nd - 1)
            M //= D
            nd -= 1
            rewards = rewards[..., 0]
        cdef cnp.ndarray R = <cnp.ndarray> as_block(rewards, t, X, nd, self._support)
        cdef const void *r = cnp.PyArray_DATA(R)
        cdef int status = SF_OK
        cdef PyThreadState *gil
        if self._validate:
            check_finite_data(t, r, S * M, "rewards")
        # gradients made here are written by the kernel, not added to zeros
        # (with no samples they are the zeros of an empty sum)
        cdef bint fresh = out is None and S * M * D > 0
        if fresh:
            g_loc = new_output(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t)
            g_log_scale = new_output(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t)
            out = (g_loc, g_log_scale)
        elif out is None:
            g_loc = cnp.PyArray_ZEROS(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t, 0)
            g_log_scale = cnp.PyArray_ZEROS(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t, 0)
            out = (g_loc, g_log_scale)
        else:
            g_loc, g_log_scale = self._grad_out(out, L, True, (L, SC, R, X))
        cdef double factor = 1.0 / n if self._mean and n else 1.0
        cdef void *gl = cnp.PyArray_DATA(<cnp.ndarray> g_loc)
        cdef void *gs = cnp.PyArray_DATA(<cnp.ndarray> g_log_scale)
        cdef const void *l = cnp.PyArray_DATA(L)
        cdef const void *sc = cnp.PyArray_DATA(SC)
        cdef const void *xs = cnp.PyArray_DATA(X)
        cdef int n_threads = step_threads()
        if S * M * D:
            gil = release_gil(S * M * D >= NOGIL_MIN_WORK)
            status = gauss_reinforce(t, fresh, is_log, S, M, D, l, sc, xs, r, self._kind,
                                     self._c, self._eps, self._ddof, factor, gl, gs,
                                     n_threads)
            restore_gil(gil)
            check_status(status, "value")
        return out
