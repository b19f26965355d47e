"""The base of the compiled step cores (see _step.pxd): the configuration a
step is made with, the bit generator it draws from, and the thread count."""
cimport cython
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New
from numpy.random cimport bitgen_t
from numpy.random import Generator as _Generator
from scorefast._common cimport get_bitgen

cnp.import_array()

cdef extern from *:
    """
    #include "output_cache.h"
    /* numpy's allocator interface (NEP 49) over the output cache */
    static PyDataMem_Handler sf_cache_handler = {
        "scorefast_output_cache", 1,
        {NULL, sf_cache_malloc, sf_cache_calloc, sf_cache_realloc, sf_cache_free}};
    """
    cnp.PyDataMem_Handler sf_cache_handler
    size_t SF_CACHE_MIN_BYTES
    void sf_cache_set_limit(size_t bytes) nogil
    void sf_cache_state(size_t *limit, size_t *held, size_t *blocks) nogil
    void sf_cache_hold_lock(double seconds) nogil

#: numpy's handle on the output cache: a capsule of the static handler, which
#: every array allocated through it keeps a reference to
cdef object _cache_handler = PyCapsule_New(<void *> &sf_cache_handler, "mem_handler", NULL)
#: whether the cache may hold blocks (its limit is not 0), read without its lock
cdef bint _cache_on = False


def _set_output_cache(size_t max_bytes):
    """Set the most bytes of freed outputs the cache holds (0: none, and
    frees what it holds); scorefast._config keeps it."""
    global _cache_on
    sf_cache_set_limit(max_bytes)
    _cache_on = max_bytes > 0


def _output_cache_state():
    """The cache's limit, the bytes it holds and the number of blocks."""
    cdef size_t limit, held, blocks
    sf_cache_state(&limit, &held, &blocks)
    return limit, held, blocks


def _hold_output_cache_lock(double seconds):
    """Hold the cache's lock for that long, the GIL released (the tests' way
    to fork while another thread holds it)."""
    with nogil:
        sf_cache_hold_lock(seconds)


cdef object _cached(int nd, cnp.npy_intp *dims, int t, bint zeros):
    """A new C-contiguous array allocated through the output cache (zeroed by
    its calloc with zeros)."""
    previous = cnp.PyDataMem_SetHandler(_cache_handler)
    try:
        return cnp.PyArray_ZEROS(nd, dims, t, 0) if zeros else cnp.PyArray_EMPTY(nd, dims, t, 0)
    finally:
        cnp.PyDataMem_SetHandler(previous)


cdef object new_output(int nd, cnp.npy_intp *dims, int t):
    """A new C-contiguous array of nd dimensions dims and type t, its memory
    uninitialised: taken from the output cache (or new, and given back to the
    cache when the array is freed) for SF_CACHE_MIN_BYTES or more while the
    cache is on, else numpy's own."""
    cdef cnp.npy_intp n = cnp.PyArray_MultiplyList(dims, nd)
    if not _cache_on or <size_t> n * 8 < SF_CACHE_MIN_BYTES:
        return cnp.PyArray_EMPTY(nd, dims, t, 0)
    cdef cnp.dtype descr = cnp.PyArray_DescrFromType(t)
    if <size_t> n * <size_t> descr.itemsize < SF_CACHE_MIN_BYTES:
        return cnp.PyArray_EMPTY(nd, dims, t, 0)
    return _cached(nd, dims, t, False)


def _new_output(shape, dtype, bint zeros=False):
    """new_output for a shape and dtype (what the Python layer allocates its
    outputs with), or with zeros an array zeroed through the cache's calloc
    (the tests' way in)."""
    cdef cnp.dtype descr = cnp.dtype(dtype)
    cdef tuple dims_t = tuple(shape)
    cdef cnp.npy_intp dims[32]
    if len(dims_t) > 32:
        raise ValueError("at most 32 dimensions")
    for j in range(len(dims_t)):
        dims[j] = dims_t[j]
    if zeros:
        return _cached(len(dims_t), dims, descr.type_num, True)
    return new_output(len(dims_t), dims, descr.type_num)


#: the kernels' thread count for the steps, kept equal to
#: scorefast.get_num_threads() by scorefast._config
cdef int _threads = 1


def _set_step_threads(int n):
    """Set the thread count the steps pass to the kernels."""
    global _threads
    _threads = n


cdef int step_threads() noexcept nogil:
    return _threads


cdef inline bint _takes(object a, int nd, cnp.npy_intp *dims, int t):
    """Whether a can take an output of nd dimensions dims and type t as it is:
    an ndarray of that shape, of type t in native byte order, writeable,
    aligned and C-contiguous."""
    if not cnp.PyArray_Check(a):
        return False
    cdef cnp.ndarray arr = <cnp.ndarray> a
    return (cnp.PyArray_NDIM(arr) == nd and
            cnp.PyArray_CompareLists(cnp.PyArray_DIMS(arr), dims, nd) and
            cnp.PyArray_TYPE(arr) == t and cnp.PyArray_ISNOTSWAPPED(arr) and
            cnp.PyArray_ISCARRAY(arr))


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b):
    """Whether two C-contiguous arrays share a byte of memory."""
    cdef char *pa = <char *> cnp.PyArray_DATA(a)
    cdef char *pb = <char *> cnp.PyArray_DATA(b)
    cdef Py_ssize_t na = cnp.PyArray_NBYTES(a), nb = cnp.PyArray_NBYTES(b)
    return na > 0 and nb > 0 and pa < pb + nb and pb < pa + na


@cython.auto_pickle(False)
cdef class StepBase:
    """What every step core has: its configuration (n_samples, the baseline's
    code and constant, eps and ddof, the reduction, validation), set once by
    the Python class, and ``support``, the module whose functions convert
    arguments off the fast path."""

    def _configure(self, Py_ssize_t n_samples, int kind, double c, double eps, double ddof,
                   bint mean, bint validate, support):
        self._S = n_samples
        self._kind = kind
        self._c = c
        self._eps = eps
        self._ddof = ddof
        self._mean = mean
        self._validate = validate
        self._support = support

    cdef object _source(self, object rng, bitgen_t **bitgen):
        """The bit generator of rng, its C interface in *bitgen (valid while the
        caller holds the returned reference), kept for the next call when rng
        is a Generator, which is the same source then.  The cached fields are
        read, and written, with no Python code in between, so a step shared
        between threads never pairs one generator's pointer with another."""
        if rng is self._generator and rng is not None:
            bitgen[0] = self._bitgen
            return self._bit_generator
        bit_generator = self._support.bit_generator(rng)
        bitgen[0] = get_bitgen(bit_generator)
        self._bitgen = bitgen[0]
        self._bit_generator = bit_generator
        self._generator = rng if type(rng) is _Generator else None
        return bit_generator

    cdef object _grad_out(self, object out, cnp.ndarray like, bint pair, tuple inputs):
        """out, the array (with pair, the tuple of two) a gradient of like's
        shape and type is added into, after checking that it takes one as it
        is and shares memory with none of the inputs nor, with pair, with its
        other array: here in C for C-contiguous inputs, else (and to say why
        not) by support.check_out, whose Python checks cost a small batch's
        gradient twice its own time."""
        cdef int nd = cnp.PyArray_NDIM(like), t = cnp.PyArray_TYPE(like)
        cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(like)
        cdef tuple outs
        cdef bint ok
        if pair:
            ok = (isinstance(out, tuple) and len(<tuple> out) == 2 and
                  _takes((<tuple> out)[0], nd, dims, t) and _takes((<tuple> out)[1], nd, dims, t))
            ok = ok and not _overlap(<cnp.ndarray> (<tuple> out)[0],
                                     <cnp.ndarray> (<tuple> out)[1])
            outs = <tuple> out if ok else ()
        else:
            ok = _takes(out, nd, dims, t)
            outs = (out,)
        for x in inputs:
            if not ok:
                break
            ok = cnp.PyArray_Check(x) and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> x)
            for o in outs:
                ok = ok and not _overlap(<cnp.ndarray> o, <cnp.ndarray> x)
        if not ok:
            return self._support.check_out(out, "out", like, inputs, pair)
        return out

    cdef tuple _sample_out(self, object out, int nd, cnp.npy_intp *dims, int t_value,
                           int nd_log_prob, int t_log_prob, tuple inputs):
        """The arrays a sample is written into: new ones when out is None (the
        draws of nd dimensions dims and type t_value, their log-probabilities
        of the first nd_log_prob of them and type t_log_prob), else out's two
        after checking that they take those shapes and types as they are and
        share memory with none of the inputs (C-contiguous arrays) nor with
        each other; support.check_sample_out says why they do not."""
        if out is None:
            return (new_output(nd, dims, t_value), new_output(nd_log_prob, dims, t_log_prob))
        cdef bint ok = (isinstance(out, tuple) and len(<tuple> out) == 2 and
                        _takes((<tuple> out)[0], nd, dims, t_value) and
                        _takes((<tuple> out)[1], nd_log_prob, dims, t_log_prob))
        if ok:
            value, log_prob = <tuple> out
            ok = not _overlap(<cnp.ndarray> value, <cnp.ndarray> log_prob)
            for x in inputs:
                ok = ok and not (_overlap(<cnp.ndarray> value, <cnp.ndarray> x) or
                                 _overlap(<cnp.ndarray> log_prob, <cnp.ndarray> x))
        if not ok:
            value_shape = tuple([dims[j] for j in range(nd)])
            self._support.check_sample_out(out, value_shape, cnp.PyArray_DescrFromType(t_value),
                                           value_shape[:nd_log_prob],
                                           cnp.PyArray_DescrFromType(t_log_prob), inputs)
        return <tuple> out
