"""Thread count used by the compiled kernels.

Results never depend on it: every kernel splits work by batch rows, and each
row is computed in a fixed order by one thread.
"""
import os

from scorefast import _categorical, _step

__all__ = ["get_num_threads", "set_num_threads"]


def _default_threads():
    env = os.environ.get("SCOREFAST_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(
                f"SCOREFAST_NUM_THREADS must be a positive integer, got {env!r}") from None
        if not 1 <= n <= 1024:
            raise ValueError("SCOREFAST_NUM_THREADS must be an integer from 1 to 1024, "
                             f"got {env!r}")
        return n
    return max(1, _categorical.max_threads())


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
