# Helpers shared by the compiled modules: status codes to exceptions, and
# numpy's bit generators reached through their C interface.
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from numpy.random cimport bitgen_t

from scorefast._ckernels cimport (SF_OK, SF_ERR_NOMEM, SF_ERR_NAN, SF_ERR_POSINF,
                                  SF_ERR_ALL_MASKED, SF_ERR_VALUE, SF_ERR_INF,
                                  SF_ERR_SCALE, sf_check_finite_d, sf_check_finite_f)

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
    return fill_uniform_locked(get_bitgen(bit_generator), bit_generator.lock, out, n)


# Below this many elements of work a kernel of the steps (and the draws
# behind them) runs with the GIL held: releasing and taking it back costs
# more than such a kernel, as numpy's own loops judge for small arrays.
# release_gil(cond) releases it when cond holds, restore_gil takes it back;
# between the two only C runs.
cdef enum:
    NOGIL_MIN_WORK = 8192

cdef extern from "Python.h":
    ctypedef struct PyThreadState:
        pass
    PyThreadState *PyEval_SaveThread()
    void PyEval_RestoreThread(PyThreadState *state)


cdef inline PyThreadState *release_gil(bint release):
    return PyEval_SaveThread() if release else NULL


cdef inline void restore_gil(PyThreadState *state):
    if state != NULL:
        PyEval_RestoreThread(state)


cdef inline int fill_uniform_locked(bitgen_t *rng, object lock, double *out,
                                    Py_ssize_t n) except -1:
    """fill_uniform from the C interface of a bit generator and its lock
    (the GIL released for n >= NOGIL_MIN_WORK)."""
    cdef Py_ssize_t j
    cdef PyThreadState *gil
    lock.acquire()
    gil = release_gil(n >= NOGIL_MIN_WORK)
    for j in range(n):
        out[j] = rng.next_double(rng.state)
    restore_gil(gil)
    lock.release()
    return 0


cdef inline unsigned long long draw_key(object bit_generator) except? 0:
    """One 64-bit draw from the bit generator (under its lock): the key of a
    counter-based stream, so that every call gets fresh draws."""
    return draw_key_locked(get_bitgen(bit_generator), bit_generator.lock)


cdef inline unsigned long long draw_key_locked(bitgen_t *rng, object lock) except? 0:
    """draw_key from the C interface of a bit generator and its lock."""
    cdef unsigned long long key
    lock.acquire()
    key = rng.next_uint64(rng.state)
    lock.release()
    return key


# -- arrays reached without typed memoryviews ------------------------------------------------
# A typed memoryview costs a buffer acquisition per argument and a fused
# signature a dispatch per call (together several microseconds, the whole
# budget of a small batch); the hot entry points take plain arrays instead
# and check them here, with the same guarantees: an aligned, native-order,
# C-contiguous ndarray of the expected dtype and number of dimensions,
# writeable where written.
cimport numpy as cnp


cdef inline cnp.ndarray as_array(object a, int ndim, bint write, str name):
    """a as an ndarray of ndim dimensions laid out for the kernels (any dtype)."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray> a
    if cnp.PyArray_NDIM(arr) != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got {cnp.PyArray_NDIM(arr)}")
    if not cnp.PyArray_ISCARRAY_RO(arr):
        if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
            raise ValueError(f"{name} must be C-contiguous")
        if not cnp.PyArray_ISALIGNED(arr):
            raise ValueError(f"{name} must be aligned")
        raise ValueError(f"{name} must be in native byte order")
    if write and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} must be writeable")
    return arr


cdef inline int real_type(cnp.ndarray a, str name) except -1:
    """NPY_FLOAT or NPY_DOUBLE: the element type of a kernel's real array."""
    cdef int t = cnp.PyArray_TYPE(a)
    if t != cnp.NPY_FLOAT and t != cnp.NPY_DOUBLE:
        raise TypeError(f"{name} must be float32 or float64, got {(<object> a).dtype}")
    return t


cdef inline void *data_of(object a, int typenum, int ndim, Py_ssize_t d0, Py_ssize_t d1,
                          Py_ssize_t d2, bint write, str name) except? NULL:
    """The data of a, checked as by as_array, to hold typenum elements and to
    have shape (d0, d1, d2)[:ndim] (a negative size: any)."""
    cdef cnp.ndarray arr = as_array(a, ndim, write, name)
    cdef Py_ssize_t want[3]
    cdef int i
    if not cnp.PyArray_EquivTypenums(cnp.PyArray_TYPE(arr), typenum):
        raise TypeError(f"{name} must have dtype {cnp.PyArray_DescrFromType(typenum)}, "
                        f"got {a.dtype}")
    want[0] = d0
    want[1] = d1
    want[2] = d2
    for i in range(ndim):
        if want[i] >= 0 and cnp.PyArray_DIM(arr, i) != want[i]:
            expected = [want[j] if want[j] >= 0 else "any" for j in range(ndim)]
            raise ValueError(f"{name}: expected shape {tuple(expected)}, got {a.shape}")
    return cnp.PyArray_DATA(arr)


cdef inline void *data1(object a, int typenum, Py_ssize_t d0, bint write, str name) except? NULL:
    return data_of(a, typenum, 1, d0, -1, -1, write, name)


cdef inline void *data2(object a, int typenum, Py_ssize_t d0, Py_ssize_t d1, bint write,
                        str name) except? NULL:
    return data_of(a, typenum, 2, d0, d1, -1, write, name)


cdef inline void *opt_data2(object a, int typenum, Py_ssize_t d0, Py_ssize_t d1, bint write,
                            str name) except? NULL:
    """data2, or NULL for None."""
    if a is None:
        return NULL
    return data_of(a, typenum, 2, d0, d1, -1, write, name)


cdef inline void *data3(object a, int typenum, Py_ssize_t d0, Py_ssize_t d1, Py_ssize_t d2,
                        bint write, str name) except? NULL:
    return data_of(a, typenum, 3, d0, d1, d2, write, name)


cdef inline bint is_block(object a, int typenum, cnp.ndarray like, int nd):
    """Whether a is already an array the kernels take as it is: an ndarray of
    typenum laid out as as_array requires, of shape like.shape[:nd]."""
    if not (cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray> a) == typenum and
            cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> a) and
            cnp.PyArray_NDIM(<cnp.ndarray> a) == nd):
        return False
    cdef int j
    for j in range(nd):
        if cnp.PyArray_DIM(<cnp.ndarray> a, j) != cnp.PyArray_DIM(like, j):
            return False
    return True


cdef inline bint broadcasts(cnp.ndarray a, int na, cnp.ndarray like, int nd):
    """Whether a.shape[:na] broadcasts to like.shape[:nd]."""
    cdef int j
    cdef cnp.npy_intp n
    if na > nd:
        return False
    for j in range(1, na + 1):
        n = cnp.PyArray_DIM(a, na - j)
        if n != 1 and n != cnp.PyArray_DIM(like, nd - j):
            return False
    return True


cdef inline object as_block(object a, int typenum, cnp.ndarray like, int nd,
                            object support):
    """a as an array the kernels take (see is_block): a itself when it is
    one; a real ndarray that broadcasts to like.shape[:nd] (a reward per row
    repeated over the row, say), copied into a new block in C; anything else
    through support.as_rewards, which converts it or raises naming it."""
    if is_block(a, typenum, like, nd):
        return a
    cdef cnp.ndarray arr, block
    if cnp.PyArray_Check(a):
        arr = <cnp.ndarray> a
        if ((cnp.PyArray_ISFLOAT(arr) or cnp.PyArray_ISINTEGER(arr) or cnp.PyArray_ISBOOL(arr))
                and broadcasts(arr, cnp.PyArray_NDIM(arr), like, nd)):
            block = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(like), typenum, 0)
            cnp.PyArray_CopyInto(block, arr)
            return block
    return support.as_rewards(a, (<object> like).shape[:nd], cnp.PyArray_DescrFromType(typenum))


cdef inline bint shared_along_last(object rewards, cnp.ndarray x, int nd):
    """Whether rewards is an ndarray of shape (..., 1) whose other axes
    broadcast to x.shape[:nd - 1], x's last axis (of those nd) being longer
    than 1: one reward per row, shared by the row's coordinates, which the
    kernels take as a block of x.shape[:nd - 1] without expanding it."""
    if nd < 2 or cnp.PyArray_DIM(x, nd - 1) < 2 or not cnp.PyArray_Check(rewards):
        return False
    cdef cnp.ndarray r = <cnp.ndarray> rewards
    cdef int nr = cnp.PyArray_NDIM(r)
    return nr >= 1 and cnp.PyArray_DIM(r, nr - 1) == 1 and broadcasts(r, nr - 1, x, nd - 1)


cdef inline int check_finite_data(int typenum, const void *p, Py_ssize_t n,
                                  str name) except -1:
    """Raise ValueError if the n reals at p (float64 for NPY_DOUBLE, else
    float32) hold NaN or inf (the GIL released for n >= NOGIL_MIN_WORK)."""
    cdef int status = SF_OK
    cdef PyThreadState *gil
    if n == 0:
        return 0
    gil = release_gil(n >= NOGIL_MIN_WORK)
    if typenum == cnp.NPY_DOUBLE:
        status = sf_check_finite_d(n, <const double *> p)
    else:
        status = sf_check_finite_f(n, <const float *> p)
    restore_gil(gil)
    if status != SF_OK:
        raise ValueError(f"{name} contains NaN or inf")
    return 0
