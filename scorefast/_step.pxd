# The base of the compiled step cores (_categorical, _bernoulli and
# _gaussian .StepCore): the configuration every step has, the cached bit
# generator, and the thread count the steps pass to the kernels.
cimport numpy as cnp
from numpy.random cimport bitgen_t


cdef class StepBase:
    cdef Py_ssize_t _S
    cdef int _kind
    cdef double _c, _eps, _ddof
    cdef bint _mean, _validate
    cdef object _support
    # the bit generator of the last rng and its C interface; the last rng
    # itself when it is a Generator, which gives the same source again (a
    # seed or None gives a new one at every call)
    cdef object _generator, _bit_generator
    cdef bitgen_t *_bitgen

    cdef object _source(self, object rng, bitgen_t **bitgen)
    cdef object _grad_out(self, object out, cnp.ndarray like, bint pair, tuple inputs)
    cdef tuple _sample_out(self, object out, int nd, cnp.npy_intp *dims, int t_value,
                           int nd_log_prob, int t_log_prob, tuple inputs)


cdef int step_threads() noexcept nogil
cdef object new_output(int nd, cnp.npy_intp *dims, int t)
