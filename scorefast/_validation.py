"""Argument checks shared by every public function, so that a bad argument
gets the same message wherever it is passed."""
import numbers
import operator

import numpy as np

from scorefast._categorical import check_finite

__all__ = ["as_params", "as_value", "as_weights", "as_generator", "as_sample_shape",
           "aligned"]


def aligned(arr):
    """arr, or an aligned copy of it: arrays made from a byte buffer at an odd
    offset (np.frombuffer, some transports' unpickling) can be unaligned,
    and the kernels refuse those."""
    return arr if arr.flags.aligned else arr.copy()


_INT64 = np.dtype(np.int64)
#: the parameter dtypes used as they are (native byte order only)
_REAL = (np.dtype(np.float64), np.dtype(np.float32))


def as_params(x, name, copy=True, dtype=None):
    """A C-contiguous float32 or float64 array (float32 kept, the rest float64).

    With ``copy`` the result never shares memory with ``x``: a distribution
    caches quantities derived from its parameters, which must not change
    under it."""
    if not copy and dtype is None and type(x) is np.ndarray and x.dtype in _REAL:
        flags = x.flags
        if flags.c_contiguous and flags.aligned:
            return x                                    # the common case, fast
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real-valued array, got dtype {arr.dtype}")
    if dtype is None:
        dtype = np.float32 if is_float32(arr.dtype) else np.float64
    if copy:
        return np.array(arr, dtype=dtype, order="C", copy=True)
    # not np.ascontiguousarray, which turns a 0-d array into shape (1,)
    return aligned(np.asarray(arr, dtype=dtype, order="C"))


def is_float32(dtype):
    """Whether dtype is float32 in either byte order (big-endian float32 is
    float32 too, converted to native order by the copy every input gets)."""
    return dtype.kind == "f" and dtype.itemsize == 4




def as_value(value, name="value"):
    """An integer array of class indices, as int64."""
    if type(value) is np.ndarray and value.dtype is _INT64 and value.flags.aligned:
        return value                                    # the common case, fast
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} is outside the support of the distribution")
    return aligned(arr.astype(np.int64, copy=False))


def as_weights(x, name, dtype, validate=True):
    """A real array in the distribution's dtype, finite when validating."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real-valued array, got dtype {arr.dtype}")
    arr = aligned(arr.astype(dtype, copy=False))       # a view stays a view (out= aliasing checks)
    if validate:
        check_finite(arr if arr.flags.c_contiguous else np.ascontiguousarray(arr), name)
    return arr


def as_generator(rng):
    """rng as a numpy Generator: None (fresh entropy), a seed, or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.BitGenerator):
        return np.random.Generator(rng)
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def as_sample_shape(sample_shape):
    """sample_shape as a tuple of non-negative ints."""
    if type(sample_shape) is int and sample_shape >= 0:       # the common case, fast
        return (sample_shape,)
    if type(sample_shape) is tuple and all(type(s) is int and s >= 0 for s in sample_shape):
        return sample_shape
    if isinstance(sample_shape, (numbers.Integral, np.integer)):
        sample_shape = (sample_shape,)
    try:
        shape = tuple(_index(s) for s in sample_shape)
    except TypeError:
        raise TypeError(f"sample_shape must be an int or a tuple of ints, got {sample_shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"sample_shape must not be negative, got {shape}")
    return shape


def _index(s):
    if isinstance(s, (bool, np.bool_)):
        raise TypeError("a bool is not a size")
    return operator.index(s)
