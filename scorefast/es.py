r"""Fitness shaping for evolution strategies (search gradients).

Higher fitness is better. Both transforms depend only on the order of the
fitness values, which makes the search gradient invariant to monotone
transformations of the objective and robust to outliers.

Ties: tied fitness values get the average of the ranks (or utilities) that
they span, so equal fitness always gets equal weight, the result does not
depend on the order of the samples, and the sums stated below still hold.
"""
import numpy as np

__all__ = ["centered_ranks", "nes_utilities"]


def _as_fitness(f):
    f = np.asarray(f)
    if f.dtype.kind not in "biuf":
        raise TypeError(f"f must be a real-valued array, got dtype {f.dtype}")
    f = f.astype(np.float64)
    if f.size and np.isnan(f).any():
        raise ValueError("f contains NaN")
    return f


def _tie_average(f, values_by_rank):
    """Assign values_by_rank[k] to the element of rank k (0 = lowest fitness)
    along axis 0, averaging over runs of tied fitness."""
    n = f.shape[0]
    order = np.argsort(f, axis=0, kind="stable")
    sorted_f = np.take_along_axis(f, order, axis=0)
    v = np.broadcast_to(values_by_rank.reshape((n,) + (1,) * (f.ndim - 1)), f.shape)
    # runs of equal fitness along the sorted axis: average v over each run
    new_run = np.ones(f.shape, dtype=bool)
    new_run[1:] = sorted_f[1:] != sorted_f[:-1]
    run_id = np.cumsum(new_run, axis=0) - 1
    flat_cols = f.reshape(n, -1).shape[1]
    ids = (run_id.reshape(n, -1) + np.arange(flat_cols) * n).ravel()
    sums = np.bincount(ids, weights=np.ascontiguousarray(v).reshape(n, -1).ravel(),
                       minlength=n * flat_cols)
    counts = np.bincount(ids, minlength=n * flat_cols)
    averaged = (sums / np.maximum(counts, 1))[ids].reshape(f.shape)
    out = np.empty(f.shape)
    np.put_along_axis(out, order, averaged, axis=0)
    return out


def centered_ranks(f, axis=0):
    """Ranks along ``axis`` scaled to [-0.5, 0.5]: the lowest fitness gets
    -0.5, the highest 0.5, and they sum to zero (a single sample gets 0).

    Parameters
    ----------
    f : array_like of fitness values (NaN is an error)
    axis : int

    Returns
    -------
    float64 array of the shape of ``f``.
    """
    f = np.moveaxis(_as_fitness(f), axis, 0)
    n = f.shape[0]
    if n == 0:
        return np.moveaxis(f.copy(), 0, axis)
    ranks = np.arange(n, dtype=np.float64) / max(n - 1, 1) - (0.5 if n > 1 else 0.0)
    return np.moveaxis(_tie_average(f, ranks), 0, axis)


def nes_utilities(f, axis=0):
    r"""The rank-based utilities of natural evolution strategies.

    For :math:`n` samples with rank :math:`k = 1` for the best,

    .. math:: u_k = \frac{\max(0, \log(n/2 + 1) - \log k)}{\sum_j \max(0, \log(n/2 + 1) - \log j)} - \frac{1}{n},

    so the utilities sum to zero, do not increase with :math:`k`, and the
    :math:`\lfloor n/2 \rfloor` worst samples (:math:`k \ge n/2 + 1`) share
    the same negative utility :math:`-1/n`. Tied fitness values get the
    average of the utilities their ranks span; a single sample gets 0.

    Parameters
    ----------
    f : array_like
        Fitness values (higher is better), any real dtype; NaN is an error.
    axis : int, default 0
        The sample axis along which samples are ranked; every other axis
        is ranked independently.

    Returns
    -------
    ndarray
        Each sample's utility :math:`u_k` for its rank along ``axis``:
        float64, the shape of ``f``.
    """
    f = np.moveaxis(_as_fitness(f), axis, 0)
    n = f.shape[0]
    if n == 0:
        return np.moveaxis(f.copy(), 0, axis)
    k = np.arange(1, n + 1, dtype=np.float64)          # 1 = best
    raw = np.maximum(0.0, np.log(n / 2 + 1) - np.log(k))
    u_best_first = raw / raw.sum() - 1.0 / n
    # _tie_average expects values by ascending fitness (rank 0 = lowest)
    return np.moveaxis(_tie_average(f, u_best_first[::-1].copy()), 0, axis)
