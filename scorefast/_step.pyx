"""The base of the compiled step cores (see _step.pxd): the configuration a
step is made with, the bit generator it draws from, and the thread count."""
cimport cython
from numpy.random cimport bitgen_t
from numpy.random import Generator as _Generator
from scorefast._common cimport get_bitgen

#: the kernels' thread count for the steps, kept equal to
#: scorefast.get_num_threads() by scorefast._config
cdef int _threads = 1


def _set_step_threads(int n):
    """Set the thread count the steps pass to the kernels."""
    global _threads
    _threads = n


cdef int step_threads() noexcept nogil:
    return _threads


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
