"""Compiled kernels of the Bernoulli family.

Arrays arrive C-contiguous from the Python layer: logits (N,) flattened in
float32 or float64, values (S, N) and weights (S, M) with N = M * D, both in
the logits' dtype.  Every array is checked (type, dtype, layout, shape; see
_common.pxd) before the GIL is released and the C kernel called.
"""
from libc.stdlib cimport malloc, free

cimport cython
cimport numpy as cnp
from numpy.random cimport bitgen_t
from scorefast._ckernels cimport *
from scorefast._step cimport StepBase, new_output, step_threads
from scorefast._common cimport (check_status, draw_key, draw_key_locked, fill_uniform,
                                as_array, real_type, data1, data2, opt_data2,
                                NOGIL_MIN_WORK, PyThreadState, release_gil, restore_gil,
                                as_block, shared_along_last, check_finite_data)

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


cdef int bern_reinforce(int t, bint fresh, sf_index S, sf_index M, sf_index D, const void *l,
                        const void *v, const void *r, int kind, double c, double eps,
                        double ddof, double scale, void *g, int n_threads) noexcept nogil:
    """The reinforce kernel for the dtype t, into a new gradient (fresh) or
    added to."""
    if t == F64 and fresh:
        return sf_bern_reinforce_fresh_d(S, M, D, <const double *> l, <const double *> v,
                                         <const double *> r, kind, c, eps, ddof, scale,
                                         <double *> g, n_threads)
    if t == F64:
        return sf_bern_reinforce_d(S, M, D, <const double *> l, <const double *> v,
                                   <const double *> r, kind, c, eps, ddof, scale,
                                   <double *> g, n_threads)
    if fresh:
        return sf_bern_reinforce_fresh_f(S, M, D, <const float *> l, <const float *> v,
                                         <const float *> r, kind, c, eps, ddof, scale,
                                         <float *> g, n_threads)
    return sf_bern_reinforce_f(S, M, D, <const float *> l, <const float *> v,
                               <const float *> r, kind, c, eps, ddof, scale, <float *> g,
                               n_threads)


def reinforce(logits, value, rewards, int kind, double c, double eps, double ddof,
              double scale, out, int n_threads, bint fresh=False):
    """out[m*D + d] += sum_s a[s, m] * (value[s, m*D + d] - sigmoid(logits)), a the
    advantages of rewards (S, M) under baseline kind (advantages.h) times
    scale.  Values are checked before out is written; with fresh, out is
    written, its contents never read (a new array, dropped on an error)."""
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
        if fresh:
            (<cnp.ndarray> out).fill(0)
        return
    if M == 0 or N % M:
        raise ValueError("rewards: rows do not divide the parameters")
    D = N // M
    with nogil:
        status = bern_reinforce(t, fresh, S, M, D, l, v, r, kind, c, eps, ddof, scale, o,
                                n_threads)
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


# -- the prepared REINFORCE step -----------------------------------------------------------
@cython.auto_pickle(False)
cdef class StepCore(StepBase):
    """The compiled core of scorefast.BernoulliStep (scorefast/steps.py, which
    documents it): a sample and the gradient of a REINFORCE step, each in
    one call that converts and checks its arguments, releases the GIL and
    runs the kernels, as the categorical step's core does; the
    configuration, the bit generator and the thread count are StepBase's
    (_step.pyx).  sample keeps the logits and the draws for grad."""
    cdef object _logits, _x             # the logits and draws of the last sample

    def sample(self, logits, rng=None, out=None):
        """Draw ``n_samples`` values per element, with their log-probabilities.

        Parameters
        ----------
        logits : array_like
            float32 is kept, other real dtypes become float64; used in place
            when C-contiguous, and kept for ``grad``.
        rng : None, int or numpy.random.Generator
            A Generator is advanced (one 64-bit draw keys the counter-based
            uniforms); a seed makes the draws reproducible.
        out : tuple of two ndarray, optional
            The arrays to write the values and their log-probabilities into
            (the shapes and dtype returned, C-contiguous, writeable), returned;
            the values are kept for ``grad``.

        Returns
        -------
        x : ndarray
            0 and 1 in the logits' dtype, shape ``(n_samples,) + logits.shape``.
        log_prob : ndarray
            The same dtype and shape.
        """
        cdef cnp.ndarray L
        if not (cnp.PyArray_Check(logits) and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> logits)
                and (cnp.PyArray_TYPE(<cnp.ndarray> logits) == F64 or
                     cnp.PyArray_TYPE(<cnp.ndarray> logits) == cnp.NPY_FLOAT)):
            logits = self._support.as_params(logits, "logits", copy=False)
        L = <cnp.ndarray> logits
        cdef int t = cnp.PyArray_TYPE(L), nd = cnp.PyArray_NDIM(L), j
        cdef Py_ssize_t S = self._S, N = cnp.PyArray_SIZE(L)
        cdef const void *l = cnp.PyArray_DATA(L)
        cdef sf_index bad = -1
        cdef int status = SF_OK
        cdef PyThreadState *gil
        if self._validate and N:
            gil = release_gil(N >= NOGIL_MIN_WORK)
            if t == F64:
                status = sf_bern_check_d(N, <const double *> l, &bad)
            else:
                status = sf_bern_check_f(N, <const float *> l, &bad)
            restore_gil(gil)
            if status != SF_OK:
                check_status(SF_ERR_INF if status == SF_ERR_POSINF else status,
                             f"logits (element {bad})")
        cdef cnp.npy_intp dims[33]
        dims[0] = S
        for j in range(nd):
            dims[j + 1] = cnp.PyArray_DIM(L, j)
        x, log_prob = self._sample_out(out, nd + 1, dims, t, nd + 1, t, (L,))
        cdef bitgen_t *bitgen
        bit_generator = self._source(rng, &bitgen)
        cdef int n_threads = step_threads()
        cdef void *xs = cnp.PyArray_DATA(<cnp.ndarray> x)
        cdef void *lp = cnp.PyArray_DATA(<cnp.ndarray> log_prob)
        cdef unsigned long long key = draw_key_locked(bitgen, bit_generator.lock)
        if S * N:
            gil = release_gil(S * N >= NOGIL_MIN_WORK)
            if t == F64:
                sf_bern_sample_d(S, N, <const double *> l, NULL, key, <double *> xs,
                                 <double *> lp, n_threads)
            else:
                sf_bern_sample_f(S, N, <const float *> l, NULL, key, <float *> xs,
                                 <float *> lp, n_threads)
            restore_gil(gil)
        self._logits = L
        self._x = x
        return x, log_prob

    def grad(self, rewards, out=None):
        """The REINFORCE gradient with respect to the logits of the last sample.

        Parameters
        ----------
        rewards : array_like
            One reward per value, broadcastable to the values' shape; a last
            axis of size 1 shares a reward along the logits' last axis.
        out : ndarray, optional
            Accumulate into ``out`` (the logits' shape and dtype).

        Returns
        -------
        ndarray
            The logits' shape and dtype (``out`` when given).
        """
        if self._x is None:
            raise RuntimeError("grad needs a sample: call sample(logits, rng) first")
        # the state of the last sample, read at once (a step shared between
        # threads may sample again while this call runs Python code)
        cdef cnp.ndarray L = <cnp.ndarray> self._logits, X = <cnp.ndarray> self._x
        cdef int t = cnp.PyArray_TYPE(L), nd = cnp.PyArray_NDIM(X)
        cdef Py_ssize_t S = self._S, N = cnp.PyArray_SIZE(L), M = N, D = 1
        # rewards shared along the last axis (shape (..., 1)): one advantage
        # per row and sample, as Bernoulli's reinforce_grad takes them
        if shared_along_last(rewards, X, nd):
            D = cnp.PyArray_DIM(X, nd - 1)
            M = N // D
            nd -= 1
            rewards = rewards[..., 0]
        cdef cnp.ndarray R = <cnp.ndarray> as_block(rewards, t, X, nd, self._support)
        cdef const void *r = cnp.PyArray_DATA(R)
        cdef int status = SF_OK
        cdef PyThreadState *gil
        if self._validate:
            check_finite_data(t, r, S * M, "rewards")
        # a gradient made here is written by the kernel, not added to zeros,
        # and dropped on an error, so the values may be checked as they are
        # summed (one pass over them; with no samples it is the zeros of an
        # empty sum); out= is left untouched by a failed call, so its values
        # are checked first
        cdef bint fresh = out is None and S * N > 0
        if fresh:
            out = new_output(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t)
        elif out is None:
            out = cnp.PyArray_ZEROS(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t, 0)
        else:
            self._grad_out(out, L, False, (L, R, X))
        cdef double scale = 1.0 / (S * N) if self._mean and S * N else 1.0
        cdef void *g = cnp.PyArray_DATA(<cnp.ndarray> out)
        cdef const void *l = cnp.PyArray_DATA(L)
        cdef const void *xs = cnp.PyArray_DATA(X)
        cdef int n_threads = step_threads()
        if S * N:
            gil = release_gil(S * N >= NOGIL_MIN_WORK)
            status = bern_reinforce(t, fresh, S, M, D, l, xs, r, self._kind, self._c, self._eps,
                                    self._ddof, scale, g, n_threads)
            restore_gil(gil)
            check_status(status, "the values of the last sample")
        return out
