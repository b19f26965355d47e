"""Compiled kernels of the Categorical family.

Each function takes C-contiguous arrays already shaped by the Python layer:
logits (B, K) in float32 or float64, the row normalisers norm (B, 2) in
float64 (the row maximum and log sum exp(logits - maximum), see
categorical.h), values (S, B) in int64 and weights (S, B) in the logits'
dtype.  It checks every array (type, dtype, layout, shape; see
_common.pxd), releases the GIL and calls the C kernel; outputs are written
into the arrays passed in.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

cimport cython
cimport numpy as cnp
from scorefast._ckernels cimport *
from scorefast._step cimport StepBase, new_output, step_threads
from numpy.random cimport bitgen_t
from scorefast._common cimport (check_status, fill_uniform_locked, get_bitgen, as_array,
                                real_type, data_of, data1, data2, opt_data2, NOGIL_MIN_WORK,
                                PyThreadState, release_gil, restore_gil, as_block,
                                check_finite_data)

cdef extern from "advantages.h" nogil:
    int sf_baseline_is_centred(int kind)     # an inline helper, not part of the C API

cdef enum:
    F64 = cnp.NPY_DOUBLE
    I64 = cnp.NPY_INT64


cdef inline cnp.ndarray _logits(object logits):
    return as_array(logits, 2, False, "logits")


def prepare(logits, copy, norm, bint check, int n_threads):
    """norm[i] = (max of logits[i], NaN): the validating pass of a new
    distribution, without exp.  With copy not None, logits are copied into it
    in the same pass.  With check, raises ValueError on NaN, +inf or a row
    with every entry -inf; without, such rows get NaN."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef double *nm = <double *> data2(norm, F64, B, 2, True, "norm")
    cdef void *dst = opt_data2(copy, t, B, K, True, "copy")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef sf_index bad_row = -1
    cdef int status = SF_OK
    if B == 0:
        return
    with nogil:
        if t == F64:
            status = sf_cat_prepare_d(B, K, <const double *> l, <double *> dst, nm, &bad_row,
                                      n_threads)
        else:
            status = sf_cat_prepare_f(B, K, <const float *> l, <float *> dst, nm, &bad_row,
                                      n_threads)
    if check and status != SF_OK:
        check_status(status, f"logits (batch row {bad_row})")


def log_normalizer(logits, norm, int n_threads):
    """norm[i, 1] = log sum exp(logits[i] - norm[i, 0]) for the valid rows."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef double *nm = <double *> data2(norm, F64, B, 2, True, "norm")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if B == 0:
        return
    with nogil:
        if t == F64:
            status = sf_cat_log_normalizer_d(B, K, <const double *> l, nm, n_threads)
        else:
            status = sf_cat_log_normalizer_f(B, K, <const float *> l, nm, n_threads)
    check_status(status, "logits")


def entropy(logits, norm, out, int n_threads):
    """out[i] = the entropy of row i."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef const double *nm = <const double *> data2(norm, F64, B, 2, False, "norm")
    cdef void *o = data1(out, t, B, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    if B == 0:
        return
    with nogil:
        if t == F64:
            sf_cat_entropy_d(B, K, <const double *> l, nm, <double *> o, n_threads)
        else:
            sf_cat_entropy_f(B, K, <const float *> l, nm, <float *> o, n_threads)


def probs(logits, norm, out, int n_threads):
    """out = softmax(logits) row by row."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef const double *nm = <const double *> data2(norm, F64, B, 2, False, "norm")
    cdef void *o = data2(out, t, B, K, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    if B == 0 or K == 0:
        return
    with nogil:
        if t == F64:
            sf_cat_probs_d(B, K, <const double *> l, nm, <double *> o, n_threads)
        else:
            sf_cat_probs_f(B, K, <const float *> l, nm, <float *> o, n_threads)


def log_prob(logits, norm, value, out, int n_threads):
    """out[s, i] = log p_{i, value[s, i]}."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef const double *nm = <const double *> data2(norm, F64, B, 2, False, "norm")
    cdef const int64_t *v = <const int64_t *> data2(value, I64, -1, B, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> value, 0)
    cdef void *o = data2(out, t, S, B, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S == 0 or B == 0:
        return
    with nogil:
        if t == F64:
            status = sf_cat_log_prob_d(S, B, K, <const double *> l, nm, v, <double *> o,
                                       n_threads)
        else:
            status = sf_cat_log_prob_f(S, B, K, <const float *> l, nm, v, <float *> o,
                                       n_threads)
    check_status(status, "value")


def score(logits, norm, value, out, int n_threads):
    """out[s, i] = onehot(value[s, i]) - p_i: one score row per value."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef const double *nm = <const double *> data2(norm, F64, B, 2, False, "norm")
    cdef const int64_t *v = <const int64_t *> data2(value, I64, -1, B, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> value, 0)
    cdef void *o = data_of(out, t, 3, S, B, K, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S == 0 or B == 0:
        return
    with nogil:
        if t == F64:
            status = sf_cat_score_d(S, B, K, <const double *> l, nm, v, <double *> o, n_threads)
        else:
            status = sf_cat_score_f(S, B, K, <const float *> l, nm, v, <float *> o, n_threads)
    check_status(status, "value")


cdef int cat_reinforce(int t, bint fresh, sf_index S, sf_index B, sf_index K, const void *l,
                       const double *nm, const int64_t *v, const void *r, int kind, double c,
                       double eps, double ddof, double scale, void *g,
                       int n_threads) noexcept nogil:
    """The reinforce kernel for the dtype t, into a new gradient (fresh) or
    added to."""
    if t == F64 and fresh:
        return sf_cat_reinforce_fresh_d(S, B, K, <const double *> l, nm, v, <const double *> r,
                                        kind, c, eps, ddof, scale, <double *> g, n_threads)
    if t == F64:
        return sf_cat_reinforce_d(S, B, K, <const double *> l, nm, v, <const double *> r,
                                  kind, c, eps, ddof, scale, <double *> g, n_threads)
    if fresh:
        return sf_cat_reinforce_fresh_f(S, B, K, <const float *> l, nm, v, <const float *> r,
                                        kind, c, eps, ddof, scale, <float *> g, n_threads)
    return sf_cat_reinforce_f(S, B, K, <const float *> l, nm, v, <const float *> r,
                              kind, c, eps, ddof, scale, <float *> g, n_threads)


def reinforce(logits, norm, value, rewards, int kind, double c, double eps, double ddof,
              double scale, out, int n_threads, bint fresh=False):
    """out[i] += sum_s a[s, i] * score(value[s, i]), a the advantages of
    rewards under baseline kind (advantages.h) times scale; kind NONE with
    scale 1 is the plain weighted score.  With fresh, out is written, its
    contents never read (a new array).  Values are checked before out is
    written.  Arrays: logits (B, K) float32 or float64, norm (B, 2) float64,
    value (S, B) int64, rewards (S, B) and out (B, K) in the logits' dtype."""
    cdef cnp.ndarray L = as_array(logits, 2, False, "logits")
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef const double *nm = <const double *> data2(norm, F64, B, 2, False, "norm")
    cdef const int64_t *v = <const int64_t *> data2(value, I64, -1, B, False, "value")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> value, 0)
    cdef const void *r = data2(rewards, t, S, B, False, "rewards")
    cdef void *g = data2(out, t, B, K, True, "out")
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef int status = SF_OK
    if S == 0 or B == 0:
        if fresh:
            (<cnp.ndarray> out).fill(0)
        return
    with nogil:
        status = cat_reinforce(t, fresh, S, B, K, l, nm, v, r, kind, c, eps, ddof, scale, g,
                               n_threads)
    check_status(status, "value")


def advantages(rewards, int kind, double c, double eps, double ddof, double scale, out):
    """out = scale * (rewards - baseline) along axis 0 (advantages.h)."""
    cdef cnp.ndarray R = as_array(rewards, 2, False, "rewards")
    cdef int t = real_type(R, "rewards")
    cdef Py_ssize_t S = R.shape[0], M = R.shape[1]
    cdef void *o = data2(out, t, S, M, True, "out")
    cdef const void *r = cnp.PyArray_DATA(R)
    cdef int status = SF_OK
    if S == 0 or M == 0:
        return
    with nogil:
        if t == F64:
            status = sf_advantages_d(S, M, <const double *> r, kind, c, eps, ddof, scale,
                                     <double *> o)
        else:
            status = sf_advantages_f(S, M, <const float *> r, kind, c, eps, ddof, scale,
                                     <float *> o)
    check_status(status, "rewards")


def check_finite(x, str name):
    """Raise ValueError if the C-contiguous float32/float64 array x holds NaN
    or inf (the check of rewards and weights; no temporary array)."""
    if not cnp.PyArray_Check(x):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    cdef cnp.ndarray X = as_array(x, cnp.PyArray_NDIM(<cnp.ndarray> x), False, name)
    cdef int t = real_type(X, name)
    check_finite_data(t, cnp.PyArray_DATA(X), cnp.PyArray_SIZE(X), name)


BASELINE_KINDS = {"none": SF_BASE_NONE, "constant": SF_BASE_CONST, "mean": SF_BASE_MEAN,
                  "loo": SF_BASE_LOO, "group": SF_BASE_GROUP}


cdef int draw(cnp.ndarray L, int t, Py_ssize_t S, Py_ssize_t B, Py_ssize_t K, double *nm,
              int fill_norm, int64_t *v, void *lp, bitgen_t *rng, object lock,
              int n_threads, void *zero=NULL) except -1:
    """The S draws of each of the B rows of L (and their log-probabilities if
    lp is not NULL) from S * B uniforms of the bit generator rng (whose lock
    is lock), fill_norm as for sf_cat_sample; see sample.  Returns the
    kernel's status (MemoryError raised here)."""
    cdef Py_ssize_t n = S * B
    cdef int status = SF_OK
    cdef const void *l = cnp.PyArray_DATA(L)
    cdef PyThreadState *gil
    cdef double *uniform = <double *> malloc(<size_t> n * sizeof(double))
    if uniform == NULL:
        raise MemoryError("scorefast: could not allocate the uniform draws")
    try:
        fill_uniform_locked(rng, lock, uniform, n)
        gil = release_gil(n * K >= NOGIL_MIN_WORK)
        if t == F64:
            status = sf_cat_sample_zero_d(S, B, K, <const double *> l, nm, fill_norm, uniform,
                                          v, <double *> lp, <double *> zero, n_threads)
        else:
            status = sf_cat_sample_zero_f(S, B, K, <const float *> l, nm, fill_norm, uniform,
                                          v, <float *> lp, <float *> zero, n_threads)
        restore_gil(gil)
    finally:
        free(uniform)
    if status == SF_ERR_NOMEM:
        check_status(status, "logits")
    return status


def sample(logits, norm, bint fill_norm, out, log_prob, object bit_generator, int n_threads):
    """out[s, i] ~ Categorical(softmax(logits[i])), by inverse CDF from the
    uniforms bit_generator.random((S, B)) would return; with fill_norm, the
    log-sums norm[:, 1] are computed in the same pass; with log_prob not
    None, also the log-probabilities of the draws."""
    cdef cnp.ndarray L = _logits(logits)
    cdef int t = real_type(L, "logits")
    cdef Py_ssize_t B = L.shape[0], K = L.shape[1]
    cdef double *nm = <double *> data2(norm, F64, B, 2, True, "norm")
    cdef int64_t *v = <int64_t *> data2(out, I64, -1, B, True, "out")
    cdef Py_ssize_t S = cnp.PyArray_DIM(<cnp.ndarray> out, 0)
    cdef void *lp = opt_data2(log_prob, t, S, B, True, "log_prob")
    if K == 0 and S * B:
        raise ValueError("logits must have at least one class (K >= 1)")
    if S * B == 0:
        if fill_norm:
            log_normalizer(logits, norm, n_threads)
        return
    check_status(draw(L, t, S, B, K, nm, SF_CAT_NORM_LOGSUM if fill_norm else SF_CAT_NORM_READY,
                      v, lp, get_bitgen(bit_generator), bit_generator.lock, n_threads),
                 "logits")


def exp_array(const double[::1] x, double[::1] out):
    """out = exp(x) by the kernels' vectorised exp (for tests and benchmarks)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        sf_exp_array(x.shape[0], &x[0], &out[0])


def expf_array(const float[::1] x, float[::1] out):
    """out = exp(x) for float32 x in [-87, 87] by the float exp of float32
    log scales (for tests)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        sf_expf_array(x.shape[0], &x[0], &out[0])


def exp_nonpos_array(const cython.floating[::1] x, cython.floating[::1] out):
    """out = exp(x) for x in [-inf, 0] by the sampler's exp: the double one,
    or a float32 row's float one for float32 arrays (for tests)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        if cython.floating is double:
            sf_exp_nonpos_array(x.shape[0], &x[0], &out[0])
        else:
            sf_expf_nonpos_array(x.shape[0], &x[0], &out[0])


def expf_nonpos_sub_array(const float[::1] x, float[::1] out):
    """out = exp(x) for float32 x in [-inf, 0] by the float exp of the
    Bernoulli's float32 kernels, subnormal results kept (for tests)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        sf_expf_nonpos_sub_array(x.shape[0], &x[0], &out[0])


def log_array(const cython.floating[::1] x, cython.floating[::1] out):
    """out = log(x) by the kernels' vectorised log: in double, or in float for
    float32 arrays (for tests)."""
    if out.shape[0] != x.shape[0]:
        raise ValueError("out: shape does not match x")
    if x.shape[0] == 0:
        return
    with nogil:
        if cython.floating is double:
            sf_log_array(x.shape[0], &x[0], &out[0])
        else:
            sf_logf_array(x.shape[0], &x[0], &out[0])


def normal_fill(unsigned long long key, unsigned long long offset, cython.floating[::1] out):
    """out[j] = standard normal draw offset + j of the counter stream keyed by
    key: the float64 stream, or the float32 one for a float32 out."""
    if out.shape[0] == 0:
        return
    with nogil:
        if cython.floating is double:
            sf_normal_fill(out.shape[0], key, offset, &out[0])
        else:
            sf_normal_fill_f(out.shape[0], key, offset, &out[0])


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


# -- the prepared REINFORCE step -----------------------------------------------------------
@cython.auto_pickle(False)
cdef class StepCore(StepBase):
    """The compiled core of scorefast.CategoricalStep (scorefast/steps.py, which
    documents it): a sample and the gradient of a REINFORCE step, each in
    one call that converts and checks its arguments, releases the GIL and
    runs the kernels.  The configuration, the bit generator and the thread
    count are StepBase's (_step.pyx).  sample keeps the logits, their row
    normalisers and the draws for grad."""
    cdef object _rows, _norm, _value      # (B, K) logits, (B, 2) norm, (S, B) int64
    # the next new gradient (the logits' shape and type), zeroed by the
    # sampler (sf_cat_zero_in_sampler), or None
    cdef object _next_grad

    def sample(self, logits, rng=None, out=None):
        """Draw ``n_samples`` actions per batch element, with their log-probabilities.

        Parameters
        ----------
        logits : array_like, shape (..., K)
            float32 is kept, other real dtypes become float64; used in place
            when C-contiguous, and kept for ``grad``.
        rng : None, int or numpy.random.Generator
            A Generator is advanced; a seed makes the draws reproducible.
        out : tuple of two ndarray, optional
            The arrays to write the actions and their log-probabilities into
            (the shapes and dtypes returned, C-contiguous, writeable), returned;
            the actions are kept for ``grad``.

        Returns
        -------
        actions : ndarray
            int64, shape ``(n_samples,) + logits.shape[:-1]``.
        log_prob : ndarray
            The logits' dtype, the same shape.
        """
        cdef cnp.ndarray L
        if not (cnp.PyArray_Check(logits) and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> logits)
                and (cnp.PyArray_TYPE(<cnp.ndarray> logits) == F64 or
                     cnp.PyArray_TYPE(<cnp.ndarray> logits) == cnp.NPY_FLOAT)):
            logits = self._support.as_params(logits, "logits", copy=False)
        L = <cnp.ndarray> logits
        cdef int t = cnp.PyArray_TYPE(L), nd = cnp.PyArray_NDIM(L), j
        if nd == 0:
            raise ValueError("logits must have shape (..., K) with at least one dimension")
        cdef Py_ssize_t K = cnp.PyArray_DIM(L, nd - 1), B = 1, S = self._S
        if K == 0:
            raise ValueError("logits must have at least one class (K >= 1)")
        cdef cnp.npy_intp dims[33]
        dims[0] = S
        for j in range(nd - 1):
            dims[j + 1] = cnp.PyArray_DIM(L, j)
            B *= dims[j + 1]
        value, log_prob = self._sample_out(out, nd, dims, I64, nd, t, (L,))
        cdef bitgen_t *bitgen
        bit_generator = self._source(rng, &bitgen)
        cdef int n_threads = step_threads()
        cdef cnp.npy_intp ndims[2]
        ndims[0] = B
        ndims[1] = 2
        cdef cnp.ndarray norm = cnp.PyArray_EMPTY(2, ndims, F64, 0)
        cdef double *nm = <double *> cnp.PyArray_DATA(norm)
        cdef const void *l = cnp.PyArray_DATA(L)
        cdef sf_index bad_row = -1
        cdef int status = SF_OK
        # long rows: the sampler zeroes the next gradient's rows as it draws
        # from them, a store beside each exponential, where a new gradient's
        # zeroing in grad is a pass of its own (one thread: C1 vocab's step
        # 0.84-0.89x the time, C1 large float32's 0.81x); kept until grad
        # takes it, or a sample of other logits (a gradient left zeroed is
        # not zeroed again)
        cdef void *zero = NULL
        cdef cnp.ndarray G = <cnp.ndarray> self._next_grad
        if not (B and sf_cat_zero_in_sampler(B, K, cnp.PyArray_ITEMSIZE(L))):
            self._next_grad = None
        elif G is None or cnp.PyArray_TYPE(G) != t or not cnp.PyArray_SAMESHAPE(G, L):
            self._next_grad = None
            G = <cnp.ndarray> new_output(nd, cnp.PyArray_DIMS(L), t)
            zero = cnp.PyArray_DATA(G)
        if B:
            # one pass over each row: its maximum and validation, the log-sum,
            # the draws (the logits read once from memory, not twice); the
            # uniforms come first, so invalid logits leave the Generator advanced
            status = draw(L, t, S, B, K, nm, SF_CAT_NORM_ALL,
                          <int64_t *> cnp.PyArray_DATA(<cnp.ndarray> value),
                          cnp.PyArray_DATA(<cnp.ndarray> log_prob), bitgen, bit_generator.lock,
                          n_threads, zero)
            if self._validate and status != SF_OK:
                # the kernel reports the status only: the row from the validating pass
                if t == F64:
                    status = sf_cat_prepare_d(B, K, <const double *> l, NULL, nm, &bad_row, 1)
                else:
                    status = sf_cat_prepare_f(B, K, <const float *> l, NULL, nm, &bad_row, 1)
                check_status(status, f"logits (batch row {bad_row})")
        if zero != NULL:
            self._next_grad = G
        self._rows = L
        self._norm = norm
        self._value = value
        return value, log_prob

    def grad(self, rewards, out=None):
        """The REINFORCE gradient with respect to the logits of the last sample.

        Parameters
        ----------
        rewards : array_like
            One reward per action, broadcastable to the actions' shape.
        out : ndarray, optional
            Accumulate into ``out`` (the logits' shape and dtype).

        Returns
        -------
        ndarray
            The logits' shape and dtype (``out`` when given).
        """
        if self._value is None:
            raise RuntimeError("grad needs a sample: call sample(logits, rng) first")
        # the state of the last sample, read at once (a step shared between
        # threads may sample again while this call runs Python code)
        cdef cnp.ndarray L = <cnp.ndarray> self._rows, V = <cnp.ndarray> self._value
        cdef cnp.ndarray NM = <cnp.ndarray> self._norm
        cdef int t = cnp.PyArray_TYPE(L), nd = cnp.PyArray_NDIM(V)
        cdef Py_ssize_t S = self._S, K = cnp.PyArray_DIM(L, cnp.PyArray_NDIM(L) - 1)
        cdef Py_ssize_t B = cnp.PyArray_SIZE(V) // S if S else 0
        cdef cnp.ndarray R = <cnp.ndarray> as_block(rewards, t, V, nd, self._support)
        cdef const void *r = cnp.PyArray_DATA(R)
        cdef int status = SF_OK
        cdef PyThreadState *gil
        if self._validate:
            check_finite_data(t, r, S * B, "rewards")
        # a new gradient is the one the sampler zeroed, added to; else written
        # by the kernel, each row zeroed in cache as it is reached, rather
        # than zeroed whole beforehand and added to
        cdef bint fresh = out is None and S * B > 0
        if fresh and self._next_grad is not None:
            out = self._next_grad
            self._next_grad = None
            fresh = False
        elif fresh:
            out = new_output(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t)
        elif out is None:
            out = cnp.PyArray_ZEROS(cnp.PyArray_NDIM(L), cnp.PyArray_DIMS(L), t, 0)
        else:
            self._grad_out(out, L, False, (L, R, V))
        cdef double scale = 1.0 / (S * B) if self._mean and S * B else 1.0
        cdef void *g = cnp.PyArray_DATA(<cnp.ndarray> out)
        cdef const void *l = cnp.PyArray_DATA(L)
        cdef const double *nm = <const double *> cnp.PyArray_DATA(NM)
        cdef const int64_t *v = <const int64_t *> cnp.PyArray_DATA(V)
        cdef int n_threads = step_threads()
        # a centred baseline never reads the probabilities (see sf_cat_reinforce)
        cdef Py_ssize_t work = S * B * (1 if sf_baseline_is_centred(self._kind) else K)
        if fresh:
            work += B * K
        if S * B:
            gil = release_gil(work >= NOGIL_MIN_WORK)
            status = cat_reinforce(t, fresh, S, B, K, l, nm, v, r, self._kind, self._c,
                                   self._eps, self._ddof, scale, g, n_threads)
            restore_gil(gil)
            check_status(status, "the sampled actions (a row of logits was invalid)")
        return out
