# Helpers shared by the compiled modules: status codes to exceptions, and
# numpy's bit generators reached through their C interface.
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from numpy.random cimport bitgen_t

from scorefast._ckernels cimport (SF_OK, SF_ERR_NOMEM, SF_ERR_NAN, SF_ERR_POSINF,
                                  SF_ERR_ALL_MASKED, SF_ERR_VALUE, SF_ERR_INF,
                                  SF_ERR_SCALE)

ctypedef fused real:
    float
    double


cdef inline int check_status(int status, str arg) except -1:
    """Raise the exception that a kernel's status code stands for."""
    if status == SF_OK:
        return 0
    if status == SF_ERR_NOMEM:
        raise MemoryError("scorefast: could not allocate kernel scratch")
    if status == SF_ERR_NAN:
        raise ValueError(f"{arg} contains NaN")
    if status == SF_ERR_POSINF:
        raise ValueError(f"{arg} contains +inf")
    if status == SF_ERR_ALL_MASKED:
        raise ValueError(f"{arg} has a row in which every entry is -inf "
                         "(every class masked)")
    if status == SF_ERR_INF:
        raise ValueError(f"{arg} contains inf")
    if status == SF_ERR_SCALE:
        raise ValueError(f"{arg} must be positive and finite")
    if status == SF_ERR_VALUE:
        raise ValueError(f"{arg} is outside the support of the distribution")
    raise RuntimeError(f"scorefast: kernel failed with status {status}")


cdef inline bitgen_t *get_bitgen(object bit_generator) except NULL:
    """The C interface of a numpy BitGenerator."""
    capsule = bit_generator.capsule
    if not PyCapsule_IsValid(capsule, b"BitGenerator"):
        raise TypeError("rng: the bit generator exposes no valid 'BitGenerator' capsule")
    return <bitgen_t *> PyCapsule_GetPointer(capsule, b"BitGenerator")


cdef inline int fill_uniform(object bit_generator, double *out, Py_ssize_t n) except -1:
    """out[j] = next_double(), j < n: the doubles Generator.random(n) returns.

    Draws holding the bit generator's lock, with the GIL released."""
    cdef bitgen_t *rng = get_bitgen(bit_generator)
    cdef Py_ssize_t j
    with bit_generator.lock, nogil:
        for j in range(n):
            out[j] = rng.next_double(rng.state)
    return 0


cdef inline unsigned long long draw_key(object bit_generator) except? 0:
    """One 64-bit draw from the bit generator (under its lock): the key of a
    counter-based stream, so that every call gets fresh draws."""
    cdef bitgen_t *rng = get_bitgen(bit_generator)
    cdef unsigned long long key
    with bit_generator.lock, nogil:
        key = rng.next_uint64(rng.state)
    return key
