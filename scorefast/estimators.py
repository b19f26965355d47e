r"""Score-function (REINFORCE) gradient estimators and their baselines.

For samples :math:`x_1, \dots, x_S \sim p_\theta` and rewards :math:`f_s = f(x_s)`,

.. math:: \nabla_\theta \mathbb{E}[f(x)] \approx \frac{1}{S} \sum_s (f_s - b_s)\, \nabla_\theta \log p_\theta(x_s)

is unbiased whenever the baseline :math:`b_s` is independent of :math:`x_s`
given the other samples, because :math:`\mathbb{E}[\nabla_\theta \log p_\theta(x)] = 0`.

Baselines and their bias
------------------------
``"none"``
    :math:`b = 0`. Unbiased, highest variance.
float constant ``c``
    :math:`b = c`. Unbiased: ``c`` does not depend on the samples.
``"loo"``
    Leave-one-out mean :math:`b_s = \frac{1}{S-1}\sum_{t \ne s} f_t`. Unbiased:
    :math:`b_s` uses only the other, independent samples. Needs :math:`S \ge 2`.
``"mean"``
    Batch mean :math:`b = \frac{1}{S}\sum_t f_t`. Biased: :math:`b` contains
    :math:`f_s` itself, which shrinks the expected gradient by exactly
    :math:`(S-1)/S`. Rescaled by :math:`S/(S-1)` it is ``"loo"``.
``"group"``
    GRPO-style :math:`(f_s - \bar f) / (\mathrm{std}(f) + \epsilon)`. Biased:
    both the mean and the standard deviation depend on :math:`f_s`; it
    estimates a direction, not the gradient's size.
``"optimal"`` (``reinforce_grad`` only)
    Per-coordinate variance-minimising :math:`b_j = \sum f s_j^2 / \sum s_j^2`,
    where :math:`s = \nabla \log p(x)`, computed leave-one-out (sample
    :math:`s`'s baseline uses the other samples only). Unbiased; needs
    :math:`S \ge 2`.
:class:`EMABaseline`
    Decaying average of the rewards of *earlier* batches. Unbiased: it does
    not depend on the current batch.

The leave-one-out baselines (``"loo"``, ``"optimal"``) are unbiased for
independent samples. With antithetic (mirrored) draws a sample's mirror is
among the others and depends on it, so they are biased there; ``"none"`` or
a constant is not.

With ``groups``, every baseline is computed within each group of samples
sharing an id, and the same statements hold group by group.
"""
import math
import numbers

import numpy as np

from scorefast._categorical import BASELINE_KINDS as _KERNEL_BASELINES
from scorefast._validation import as_weights, is_float32

__all__ = ["advantages", "EMABaseline", "reinforce_grad", "BASELINES"]

BASELINES = ("none", "mean", "loo", "group", "optimal")


def _as_rewards(rewards, name="rewards"):
    r = np.asarray(rewards)
    dtype = np.float32 if is_float32(r.dtype) else np.float64
    return as_weights(r, name, dtype, validate=True)


class EMABaseline:
    r"""Exponentially decaying average of earlier batches' mean reward.

    Calling it on a batch returns the advantages ``rewards - value`` (with
    the average of *earlier* batches only, so the estimate stays unbiased)
    and then folds the batch's mean reward into the average:

    .. math:: m_t = m_{t-1} + w_t (\bar f_t - m_{t-1}), \quad
              w_t = \frac{1 - \beta}{1 - \beta^t} \text{ (debias) or } 1 - \beta

    With ``debias=True`` (the recursive form of Adam's bias correction),
    :math:`w_1 = 1`, so a constant reward ``c`` gives the baseline ``c``
    exactly from the second batch on. Before any batch the baseline is 0.

    Parameters
    ----------
    decay : float in [0, 1)
    debias : bool, default True
    """

    def __init__(self, decay, debias=True):
        if isinstance(decay, bool) or not isinstance(decay, numbers.Real):
            raise TypeError(f"decay must be a real number in [0, 1), got {decay!r}")
        decay = float(decay)
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.debias = bool(debias)
        self.reset()

    def reset(self):
        """Forget every batch seen."""
        self.value = 0.0
        self.count = 0
        self._decay_power = 1.0

    def update(self, rewards):
        r"""Fold a batch's mean reward into the average; returns the new value.

        With :math:`\bar f_t` the mean of ``rewards`` over all their
        elements (taken in float64) and :math:`t` the new ``count``,

        .. math:: m_t = m_{t-1} + w_t (\bar f_t - m_{t-1}), \quad
                  w_t = \frac{1 - \beta}{1 - \beta^t} \text{ (debias) or } 1 - \beta

        for :math:`\beta` = ``decay``. Increments ``count``.

        Parameters
        ----------
        rewards : array_like
            The batch's rewards, any shape, real dtype; must be non-empty
            and finite (NaN or inf is a ``ValueError``).

        Returns
        -------
        float
            The updated average :math:`m_t`, also stored as ``value``.
        """
        r = _as_rewards(rewards)
        if r.size == 0:
            raise ValueError("rewards must not be empty")
        mean = float(np.mean(r, dtype=np.float64))
        self.count += 1
        self._decay_power *= self.decay
        if self.debias:
            weight = (1.0 - self.decay) / (1.0 - self._decay_power)
        else:
            weight = 1.0 - self.decay
        self.value = self.value + weight * (mean - self.value)
        return self.value

    def __call__(self, rewards):
        """Advantages ``rewards - value`` from earlier batches, then update.

        The advantages use ``value`` as it stands before this batch (0 before
        the first), so they do not depend on the batch's own rewards; the
        batch's mean is then folded in with :meth:`update`.

        Parameters
        ----------
        rewards : array_like
            The batch's rewards, any shape, real dtype; must be non-empty
            and finite. float32 is kept, other dtypes become float64.

        Returns
        -------
        ndarray
            ``rewards - value``, the shape of ``rewards``, float32 for
            float32 rewards and float64 otherwise.
        """
        r = _as_rewards(rewards)
        adv = r - r.dtype.type(self.value)
        self.update(r)
        return adv

    def __repr__(self):
        return (f"EMABaseline(decay={self.decay}, debias={self.debias}, "
                f"value={self.value}, count={self.count})")


def _group_index(groups, n):
    """Sort order, group start offsets (in sorted order) and group sizes."""
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"groups must be a 1-D array with one id per sample ({n}), "
                         f"got shape {g.shape}")
    if g.dtype.kind not in "iub":
        raise TypeError(f"groups must be an integer array, got dtype {g.dtype}")
    order = np.argsort(g, kind="stable")
    gs = g[order]
    starts = np.flatnonzero(np.concatenate(([True], gs[1:] != gs[:-1]))) if n else np.zeros(0, np.intp)
    sizes = np.diff(np.append(starts, n))
    return order, starts, sizes


def _centered(r, starts, sizes):
    """r minus its group means (groups are contiguous runs along axis 0).

    Each group is shifted by its first element before averaging, so a group
    of equal rewards is centred to exactly zero."""
    expand = (slice(None),) + (None,) * (r.ndim - 1)
    shift = np.repeat(r[starts], sizes, axis=0)
    dev = r - shift
    mean_dev = np.add.reduceat(dev, starts, axis=0) / sizes[expand].astype(r.dtype)
    return dev - np.repeat(mean_dev, sizes, axis=0)


def advantages(rewards, baseline="loo", axis=0, groups=None, *, eps=1e-8, ddof=0):
    """Rewards minus a baseline computed along the sample axis.

    Parameters
    ----------
    rewards : array_like
        float32 is kept; other real dtypes become float64.
    baseline : {"none", "mean", "loo", "group"}, float, or EMABaseline
        See the module documentation for what each does and whether the
        resulting gradient estimate is unbiased.
    axis : int
        The sample axis.
    groups : 1-D integer array, optional
        One id per sample along ``axis``; baselines are computed within each
        group (interleaved and unequal sizes allowed).
    eps, ddof :
        For ``"group"``: advantages are ``(r - mean) / (std + eps)`` with the
        standard deviation over ``n - ddof``. A group with ``n <= ddof``, or
        whose rewards are all equal, gets advantages of exactly zero.

    Returns
    -------
    ndarray, the shape and dtype of ``rewards``.
    """
    r = _as_rewards(rewards)
    _check_eps_ddof(eps, ddof)
    if isinstance(baseline, EMABaseline):
        return baseline(r)
    if _is_constant(baseline):
        return r - r.dtype.type(baseline)
    if not isinstance(baseline, str) or baseline not in BASELINES[:4]:
        raise ValueError(f"baseline must be one of 'none', 'mean', 'loo', 'group', a float "
                         f"or an EMABaseline, got {baseline!r}")
    if baseline == "none":
        return r.copy()
    if r.ndim == 0:
        raise ValueError("rewards must have a sample axis for baseline "
                         f"{baseline!r}")
    try:
        r0 = np.moveaxis(r, axis, 0)
    except np.exceptions.AxisError:
        raise ValueError(f"axis {axis} is out of range for rewards of shape {r.shape}") from None
    n = r0.shape[0]
    if groups is None:
        starts = np.zeros(1 if n else 0, dtype=np.intp)
        sizes = np.array([n] if n else [], dtype=np.intp)
        order = None
    else:
        order, starts, sizes = _group_index(groups, n)
        r0 = r0[order]
    if n == 0:
        return r.copy()
    expand = (slice(None),) + (None,) * (r0.ndim - 1)
    d = _centered(r0, starts, sizes)
    if baseline == "loo":
        if sizes.min() < 2:
            where = "in every group" if groups is not None else f"along axis {axis}"
            raise ValueError(f"baseline='loo' needs at least 2 samples {where}")
        d *= np.repeat((sizes / (sizes - 1.0)).astype(r.dtype)[expand], sizes, axis=0)
    elif baseline == "group":
        dof = sizes - ddof
        # the standard deviation of d / a, a the group's largest |d|, times a:
        # squares of deviations beyond 1e154 (1e19 in float32) would overflow
        # and below 1e-162 underflow, turning the advantages into 0 or d
        a = np.maximum.reduceat(np.abs(d), starts, axis=0)
        u = d / np.repeat(np.where(a > 0, a, 1), sizes, axis=0)
        ss = np.add.reduceat(u * u, starts, axis=0)
        with np.errstate(over="ignore", invalid="ignore"):      # a = 0 with dof <= 0: 0 * inf
            sd = a * np.sqrt(np.where(dof[expand] > 0, ss / np.maximum(dof, 1)[expand], np.inf))
        # a group of equal rewards (a = 0) has d = 0 exactly: keep it 0 for
        # any eps, eps = 0 included, instead of forming 0 / 0
        denom = np.where(a > 0, sd + eps, 1.0)
        d = d / np.repeat(denom.astype(r.dtype), sizes, axis=0)
    if order is not None:
        out = np.empty_like(d)
        out[order] = d
        d = out
    return np.moveaxis(d, 0, axis)


def _flat_parts(score):
    """The score as a tuple of arrays (one per parameter)."""
    return score if isinstance(score, tuple) else (score,)


def _optimal_grad(dist, value, rewards_2d, sample_shape):
    """sum_s (f_s - b_sj) score_sj with the leave-one-out optimal baseline b_sj."""
    S = rewards_2d.shape[0]
    if S < 2:
        raise ValueError("baseline='optimal' needs at least 2 samples")
    parts = []
    for s in _flat_parts(dist.score(value)):
        sc = s.reshape((S,) + s.shape[len(sample_shape):]).astype(np.float64)
        f = rewards_2d.reshape((S,) + rewards_2d.shape[1:] + (1,) * (sc.ndim - rewards_2d.ndim))
        s2 = sc * sc
        num = (f * s2).sum(axis=0) - f * s2
        den = s2.sum(axis=0) - s2
        # Where the other samples carry no information on coordinate j, fall
        # back to their mean reward (still independent of sample s).
        loo_mean = (f.sum(axis=0) - f) / (S - 1)
        b = np.where(den > 0, num / np.where(den > 0, den, 1.0), loo_mean)
        parts.append(((f - b) * sc).sum(axis=0).astype(dist.dtype))
    return parts[0] if len(parts) == 1 else tuple(parts)


def _rewards_block(r, sample_shape, batch_shape):
    """Rewards as (S,) + tail, tail broadcastable to batch_shape: one reward
    per sample, possibly shared along batch axes of size 1."""
    target = tuple(sample_shape) + tuple(batch_shape)
    try:
        if r.ndim > len(target) or np.broadcast_shapes(r.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"rewards of shape {r.shape} do not broadcast to "
                         f"sample_shape + batch_shape = {target}") from None
    r = r.reshape((1,) * (len(target) - r.ndim) + r.shape)
    ns = len(sample_shape)
    if r.shape[:ns] != tuple(sample_shape):
        r = np.broadcast_to(r, tuple(sample_shape) + r.shape[ns:])
    return r.reshape((math.prod(sample_shape),) + r.shape[ns:])


def _kernel_baseline(baseline):
    """The kernels' code for a baseline they compute themselves, else None."""
    if isinstance(baseline, str):
        return _KERNEL_BASELINES.get(baseline)
    if _is_constant(baseline):
        return _KERNEL_BASELINES["constant"]
    return None


def _check_eps_ddof(eps, ddof):
    """eps a finite number >= 0 and ddof a finite number: a NaN or negative
    eps turns the group baseline's advantages into NaN or inf."""
    if type(eps) is float and type(ddof) is int and 0.0 <= eps < math.inf:
        return                                          # the common case, fast
    for name, x in (("eps", eps), ("ddof", ddof)):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {x!r}")
        if not math.isfinite(x):
            raise ValueError(f"{name} must be finite, got {x!r}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")


def _is_constant(baseline):
    """Whether baseline is a constant (a real number, not a bool); a constant
    that is NaN or infinite is an error, as such a reward would be."""
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        if not math.isfinite(baseline):
            raise ValueError(f"baseline must be finite, got {baseline!r}")
        return True
    return False


def _fused_grad(dist, value, rewards, kind, baseline, reduction, eps, ddof, out):
    """reinforce_grad in one kernel call: baseline, advantages and the
    weighted score per row, without an advantages array; for a centred
    baseline (mean, loo, group) the advantages sum to zero, so the kernels
    skip the term that sum multiplies (for a categorical, every exp)."""
    value = dist._value(value)
    sample_shape = dist._sample_dims(value.shape)
    S = math.prod(sample_shape)
    if S == 0:
        raise ValueError("value holds no samples (its sample dimensions are empty)")
    if baseline == "loo" and S < 2:
        raise ValueError("baseline='loo' needs at least 2 samples along the sample axis")
    r = as_weights(rewards, "rewards", dist.dtype, True)
    block = dist._weights_block(r, sample_shape, name="rewards")
    c = float(baseline) if kind == _KERNEL_BASELINES["constant"] else 0.0
    batch_size = math.prod(dist.batch_shape)
    scale = 1.0 / (S * batch_size) if reduction == "mean" and batch_size else 1.0
    if out is not None:
        out = dist._grad_out(out, "out", (r, value))
    return dist._accumulate(value, block, (kind, c, float(eps), float(ddof), scale), out)


def reinforce_grad(dist, value, rewards, baseline="loo", reduction="mean", *,
                   groups=None, eps=1e-8, ddof=0, out=None):
    r"""Score-function estimate of the gradient of :math:`\mathbb{E}[f]`.

    .. math:: g = \frac{1}{N} \sum_{s, i} (f_{si} - b_{si})\, \nabla \log p(x_{si})

    with respect to the distribution's parameters (the logits for a
    categorical), :math:`N` the number of sample x batch elements for
    ``reduction="mean"`` and 1 for ``"sum"``. With ``"mean"`` this is the
    gradient of ``(adv * log_prob).mean()`` (minus that of torch's usual
    surrogate loss ``-(adv * log_prob).mean()``).

    Parameters
    ----------
    dist : Distribution
    value : array, shape ``sample_shape + batch_shape + event_shape``
        The samples, e.g. ``dist.sample(sample_shape, rng)``.
    rewards : array, broadcastable to ``sample_shape + batch_shape``
        :math:`f(x)` at each sample (one per event: a DiagNormal draw gets one
        reward). A trailing batch axis of size 1 shares a reward along it,
        e.g. rewards ``(S, B, 1)`` for Bernoulli values ``(S, B, D)``.
    baseline : str, float or EMABaseline
        ``"none"``, ``"mean"``, ``"loo"``, ``"group"``, ``"optimal"``, a
        constant, or an :class:`EMABaseline`; computed along the flattened
        sample dimensions, separately for each batch element. See the module
        documentation for which are unbiased.
    reduction : {"mean", "sum"}
    groups, eps, ddof :
        Passed to :func:`advantages`.
    out : ndarray, optional
        Accumulate into ``out`` (as ``weighted_score`` does).

    Returns
    -------
    ndarray of the parameters' shape (for a categorical ``batch_shape + (K,)``),
    or for a Gaussian the pair ``(d/dloc, d/dlog_scale)``.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    _check_eps_ddof(eps, ddof)
    kind = _kernel_baseline(baseline)
    if kind is not None and groups is None and hasattr(dist, "_accumulate"):
        return _fused_grad(dist, value, rewards, kind, baseline, reduction, eps, ddof, out)
    value = np.asarray(value)
    sample_shape = dist._sample_dims(value.shape)
    S = math.prod(sample_shape)
    if S == 0:
        raise ValueError("value holds no samples (its sample dimensions are empty)")
    r2 = _rewards_block(_as_rewards(rewards), sample_shape, dist.batch_shape)
    batch_size = math.prod(dist.batch_shape)
    scale = 1.0 / (S * batch_size) if reduction == "mean" and batch_size else 1.0
    if isinstance(baseline, str) and baseline == "optimal":
        if groups is not None:
            raise ValueError("baseline='optimal' does not take groups")
        grad = _optimal_grad(dist, value, r2, sample_shape)
        parts = _flat_parts(grad)
        for g in parts:
            g *= g.dtype.type(scale)
        if out is None:
            return grad
        outs = _flat_parts(dist._grad_out(out, "out", (value, r2)))
        for o, g in zip(outs, parts):
            o += g
        return out
    adv = advantages(r2, baseline, axis=0, groups=groups, eps=eps, ddof=ddof)
    if scale != 1.0:
        adv *= adv.dtype.type(scale)
    return dist.weighted_score(value, adv.reshape(sample_shape + adv.shape[1:]), out=out)
