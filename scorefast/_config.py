"""Thread count used by the compiled kernels, and the output cache.

Results never depend on the thread count: every kernel splits work by batch
rows, and each row is computed in a fixed order by one thread.
"""
import os

from scorefast import _categorical, _step

__all__ = ["get_num_threads", "set_num_threads", "get_output_cache", "set_output_cache"]


def _env_int(name, lo, hi, what):
    """The integer the environment variable ``name`` holds (None when it is
    unset or empty); a ValueError naming it unless it is an integer in
    [lo, hi], ``what`` saying which."""
    env = os.environ.get(name)
    if not env:
        return None
    try:
        n = int(env)
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi:
        raise ValueError(f"{name} must be {what}, got {env!r}")
    return n


def _default_threads():
    n = _env_int("SCOREFAST_NUM_THREADS", 1, 1024, "an integer from 1 to 1024")
    return n if n is not None else max(1, _categorical.max_threads())


#: the most threads the kernels may be asked for: OpenMP aborts the process
#: when it cannot create the threads it is told to, so absurd counts are refused
MAX_THREADS = 1024

_num_threads = _default_threads()
_HAVE_OPENMP = _categorical.have_openmp()


def _publish():
    """Give the compiled steps the current count (they read it without a
    Python call)."""
    n = get_num_threads()
    _step._set_step_threads(n)


def get_num_threads():
    """Number of threads the kernels use (1 where built without OpenMP).

    Returns
    -------
    int
        The count set by :func:`set_num_threads`, else the default read
        when scorefast was imported: the ``SCOREFAST_NUM_THREADS``
        environment variable, else OpenMP's ``omp_get_max_threads()``. Always 1 where scorefast was built without
        OpenMP. Results never depend on it.
    """
    return _num_threads if _HAVE_OPENMP else 1


def set_num_threads(n):
    """Set the number of threads the kernels use; returns the previous value.

    Parameters
    ----------
    n : int or None
        A positive integer up to ``MAX_THREADS`` (1024) (any object with
        ``__index__``; a bool is a ``TypeError``, a value outside 1..1024 a
        ``ValueError``). ``None`` restores
        the default: the ``SCOREFAST_NUM_THREADS`` environment variable, else
        OpenMP's default.

    Returns
    -------
    int
        The count set before this call. Where scorefast was built without
        OpenMP it is recorded all the same, but :func:`get_num_threads`
        returns 1.
    """
    global _num_threads
    previous = _num_threads
    if n is None:
        _num_threads = _default_threads()
    else:
        if isinstance(n, bool) or not isinstance(n, (int,)) and not hasattr(n, "__index__"):
            raise TypeError(f"n must be a positive integer, got {type(n).__name__}")
        n = int(n)
        if not 1 <= n <= MAX_THREADS:
            raise ValueError(f"n must be an integer from 1 to {MAX_THREADS}, got {n}")
        _num_threads = n
    _publish()
    return previous


_publish()


#: the output cache's limit when neither set_output_cache nor the environment
#: says otherwise
DEFAULT_OUTPUT_CACHE = 256 << 20


def _default_output_cache():
    mb = _env_int("SCOREFAST_OUTPUT_CACHE_MB", 0, 1 << 40, "a non-negative integer")
    return mb << 20 if mb is not None else DEFAULT_OUTPUT_CACHE


def get_output_cache():
    """The most bytes of freed outputs scorefast keeps for reuse (0: none).

    Returns
    -------
    int
        The limit set by :func:`set_output_cache`, else the default read when
        scorefast was imported: ``SCOREFAST_OUTPUT_CACHE_MB`` megabytes, else
        ``DEFAULT_OUTPUT_CACHE`` (256 MiB).
    """
    return _step._output_cache_state()[0]


def set_output_cache(max_bytes):
    """Set the most bytes of freed outputs kept for reuse; returns the previous limit.

    The new arrays of 1 MiB or more that scorefast returns (the draws and
    log-probabilities of a step or a distribution, a new gradient) are
    allocated through its output cache. When such an array is freed, its memory is kept, up to
    this many bytes (at most 16 blocks, the oldest given back first), and
    the next output of about its size reuses it: memory the process already
    has is written without the page faults and the zeroing of new memory,
    which for tens of megabytes cost as much as the kernels. The arrays are
    ordinary ndarrays. Nothing is kept while an output is alive.

    Parameters
    ----------
    max_bytes : int or None
        A non-negative integer; 0 turns the cache off and frees what it holds,
        a smaller limit frees the oldest blocks down to it. ``None`` restores
        the default (``SCOREFAST_OUTPUT_CACHE_MB``, else 256 MiB).

    Returns
    -------
    int
        The limit before this call.
    """
    previous = get_output_cache()
    if max_bytes is None:
        n = _default_output_cache()
    else:
        if isinstance(max_bytes, bool) or not hasattr(max_bytes, "__index__"):
            raise TypeError(f"max_bytes must be a non-negative integer, got "
                            f"{type(max_bytes).__name__}")
        n = int(max_bytes.__index__())
        if n < 0:
            raise ValueError(f"max_bytes must be a non-negative integer, got {n}")
    _step._set_output_cache(n)
    return previous


_step._set_output_cache(_default_output_cache())

#: ``new_output(shape, dtype)``: a new uninitialised array for an output, as
#: ``np.empty`` makes it, through the output cache when it takes 1 MiB or more
#: and the cache is on (the compiled steps' own allocation, as cheap as np.empty)
new_output = _step._new_output
