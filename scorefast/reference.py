"""The scorefast API in plain NumPy: the tests' oracle and the NumPy peer of
the benchmarks.

Everything here is vectorised NumPy, written for clarity first and speed
second, and shares no code with the compiled kernels. ``Categorical.sample``
consumes the same uniforms as the compiled sampler (``rng.random(shape)``)
and inverts the same cumulative distribution, so for one seed the two agree
draw for draw (up to a uniform landing on a rounding boundary of the
cumulative sum, a chance of order 1e-16 per draw).
"""
import math

import numpy as np

__all__ = ["Categorical", "Bernoulli", "Normal", "DiagNormal", "advantages", "EMABaseline",
           "reinforce_grad", "pathwise_grad", "logsumexp", "centered_ranks", "nes_utilities"]


def logsumexp(x, axis=-1):
    """log(sum(exp(x))) along axis, shifted by the maximum; -inf entries allowed."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


class Categorical:
    """Categorical over the last axis of ``logits`` (computed in float64)."""

    event_shape = ()

    def __init__(self, logits):
        self.logits = np.asarray(logits)
        self.dtype = np.float32 if self.logits.dtype == np.float32 else np.float64
        self._l = self.logits.astype(np.float64)
        self._lse = logsumexp(self._l)

    @property
    def batch_shape(self):
        return self.logits.shape[:-1]

    @property
    def num_classes(self):
        return self.logits.shape[-1]

    @property
    def probs(self):
        return np.exp(self._l - self._lse[..., None]).astype(self.dtype)

    def log_prob(self, value):
        value = np.asarray(value)
        shape = np.broadcast_shapes(value.shape, self.batch_shape)
        logp = self._l - self._lse[..., None]
        logp = np.broadcast_to(logp, shape + (self.num_classes,))
        v = np.broadcast_to(value, shape)[..., None]
        return np.take_along_axis(logp, v, axis=-1)[..., 0].astype(self.dtype)

    def entropy(self):
        logp = self._l - self._lse[..., None]
        p = np.exp(logp)
        terms = np.where(p > 0, -p * np.where(p > 0, logp, 0.0), 0.0)
        return terms.sum(-1).astype(self.dtype)

    def score(self, value):
        value = np.asarray(value)
        shape = np.broadcast_shapes(value.shape, self.batch_shape)
        p = np.exp(self._l - self._lse[..., None])
        onehot = np.arange(self.num_classes) == np.broadcast_to(value, shape)[..., None]
        return (onehot - p).astype(self.dtype)

    def weighted_score(self, value, weights):
        """sum over sample dims of weights * score, as a skilled NumPy user
        writes it: a scatter-add of the weights minus their total times p."""
        value = np.asarray(value)
        K = self.num_classes
        B = math.prod(self.batch_shape)
        shape = np.broadcast_shapes(value.shape, np.shape(weights))
        v = np.broadcast_to(value, shape).reshape(-1, B)
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), shape).reshape(-1, B)
        p = np.exp(self._l - self._lse[..., None]).reshape(B, K)
        rows = np.arange(B) * K
        counts = np.bincount((v + rows).ravel(), weights=w.ravel(), minlength=B * K)
        g = counts.reshape(B, K) - w.sum(0)[:, None] * p
        return g.reshape(self.batch_shape + (K,)).astype(self.dtype)

    def sample(self, sample_shape=(), rng=None):
        """Inverse-CDF draws from ``rng.random(sample_shape + batch_shape)``."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        sample_shape = (sample_shape,) if np.ndim(sample_shape) == 0 else tuple(sample_shape)
        K = self.num_classes
        B = math.prod(self.batch_shape)
        u = rng.random(sample_shape + self.batch_shape).reshape(-1, B)
        l = self._l.reshape(B, K)
        w = np.exp(l - l.max(-1, keepdims=True))
        cdf = np.cumsum(w, axis=-1)
        cdf /= cdf[:, -1:]
        # One sorted array for all rows: row i's cumulative distribution,
        # normalised to (0, 1], shifted by i.
        offsets = np.arange(B, dtype=np.float64)
        flat = (cdf + offsets[:, None]).ravel()
        idx = np.searchsorted(flat, u + offsets, side="right") - np.arange(B) * K
        last = K - 1 - np.argmax(w[:, ::-1] > 0, axis=-1)
        idx = np.clip(idx, 0, last)
        return idx.reshape(sample_shape + self.batch_shape).astype(np.int64)


def advantages(rewards, baseline="loo", axis=0, groups=None, *, eps=1e-8, ddof=0):
    """Rewards minus a baseline along ``axis``, group by group (see
    scorefast.advantages): a direct transcription of the definitions."""
    r = np.moveaxis(np.asarray(rewards, dtype=np.float64), axis, 0)
    n = r.shape[0]
    if isinstance(baseline, EMABaseline):
        return np.moveaxis(baseline(r), 0, axis)
    if not isinstance(baseline, str):
        return np.moveaxis(r - float(baseline), 0, axis)
    ids = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups)
    out = np.empty_like(r)
    for g in np.unique(ids):
        members = np.flatnonzero(ids == g)
        x = r[members]
        m = len(members)
        if baseline == "none":
            out[members] = x
        elif baseline == "mean":
            out[members] = x - x.mean(axis=0)
        elif baseline == "loo":
            out[members] = x - (x.sum(axis=0) - x) / (m - 1)
        elif baseline == "group":
            dev = x - x.mean(axis=0)
            std = np.sqrt((dev ** 2).sum(axis=0) / (m - ddof)) if m > ddof else 0.0
            out[members] = dev / (std + eps)
        else:
            raise ValueError(f"unknown baseline {baseline!r}")
    return np.moveaxis(out, 0, axis)


class EMABaseline:
    """Decaying average of earlier batches' mean reward (see scorefast.EMABaseline):
    the textbook form m_t = decay m_{t-1} + (1 - decay) mean_t, divided by
    1 - decay**t when debiasing."""

    def __init__(self, decay, debias=True):
        self.decay, self.debias = decay, debias
        self.avg, self.count = 0.0, 0

    @property
    def value(self):
        if self.count == 0:
            return 0.0
        return self.avg / (1 - self.decay ** self.count) if self.debias else self.avg

    def __call__(self, rewards):
        adv = np.asarray(rewards, dtype=np.float64) - self.value
        self.avg = self.decay * self.avg + (1 - self.decay) * float(np.mean(rewards))
        self.count += 1
        return adv


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _dtype_of(*xs):
    arrays = [x for x in xs if isinstance(x, (np.ndarray, np.generic))]
    ok = arrays and all(np.asarray(a).dtype == np.float32 for a in arrays)
    return np.float32 if ok else np.float64


class Bernoulli:
    """Independent Bernoulli variables over logits (computed in float64)."""

    event_shape = ()

    def __init__(self, logits):
        self.logits = np.asarray(logits)
        self.dtype = np.float32 if self.logits.dtype == np.float32 else np.float64
        self._l = self.logits.astype(np.float64)

    @property
    def batch_shape(self):
        return self.logits.shape

    @property
    def probs(self):
        return _sigmoid(self._l).astype(self.dtype)

    def log_prob(self, value):
        x = np.asarray(value, dtype=np.float64)
        return (x * self._l - np.logaddexp(0.0, self._l)).astype(self.dtype)

    def entropy(self):
        p = _sigmoid(self._l)
        return (np.logaddexp(0.0, self._l) - p * self._l).astype(self.dtype)

    def score(self, value):
        return (np.asarray(value, dtype=np.float64) - _sigmoid(self._l)).astype(self.dtype)

    def weighted_score(self, value, weights):
        x = np.asarray(value, dtype=np.float64)
        nb = len(self.batch_shape)
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), x.shape)
        axes = tuple(range(x.ndim - nb))
        g = (w * x).sum(axes) - w.sum(axes) * _sigmoid(self._l)
        return g.astype(self.dtype)

    def sample(self, sample_shape=(), rng=None):
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        sample_shape = (sample_shape,) if np.ndim(sample_shape) == 0 else tuple(sample_shape)
        u = rng.random(sample_shape + self.batch_shape)
        return (u < _sigmoid(self._l)).astype(self.dtype)


class Normal:
    """Elementwise normal over loc and scale; scores with respect to (loc, log scale)."""

    event_ndim = 0

    def __init__(self, loc, scale):
        self.dtype = _dtype_of(loc, scale)
        self.loc, self.scale = np.broadcast_arrays(np.asarray(loc, dtype=self.dtype),
                                                   np.asarray(scale, dtype=self.dtype))

    @property
    def batch_shape(self):
        return self.loc.shape[:self.loc.ndim - self.event_ndim]

    @property
    def event_shape(self):
        return self.loc.shape[self.loc.ndim - self.event_ndim:]

    def _event_sum(self, x):
        return x.sum(-1) if self.event_ndim else x

    def sample(self, sample_shape=(), rng=None, antithetic=False):
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        sample_shape = (sample_shape,) if np.ndim(sample_shape) == 0 else tuple(sample_shape)
        shape = sample_shape + self.loc.shape
        if antithetic:
            eps = rng.standard_normal((shape[0] // 2,) + shape[1:], dtype=self.dtype)
            eps = np.concatenate([eps, -eps])
        else:
            eps = rng.standard_normal(shape, dtype=self.dtype)
        return self.loc + self.scale * eps

    def _z(self, value):
        loc, scale = self.loc.astype(np.float64), self.scale.astype(np.float64)
        return (np.asarray(value, dtype=np.float64) - loc) / scale, scale

    def log_prob(self, value):
        z, scale = self._z(value)
        lp = -0.5 * z ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)
        return self._event_sum(lp).astype(self.dtype)

    def entropy(self):
        h = 0.5 + 0.5 * np.log(2 * np.pi) + np.log(self.scale.astype(np.float64))
        return self._event_sum(h).astype(self.dtype)

    def score(self, value):
        z, scale = self._z(value)
        return (z / scale).astype(self.dtype), (z ** 2 - 1).astype(self.dtype)

    def weighted_score(self, value, weights):
        s_loc, s_ls = self.score(value)
        w = np.asarray(weights, dtype=np.float64)
        w = w.reshape(w.shape + (1,) * self.event_ndim)
        axes = tuple(range(s_loc.ndim - self.loc.ndim))
        return ((w * s_loc).sum(axes).astype(self.dtype),
                (w * s_ls).sum(axes).astype(self.dtype))


class DiagNormal(Normal):
    """Diagonal Gaussian over the last axis: log_prob and entropy sum over it."""

    event_ndim = 1


def pathwise_grad(dist, value, grad_f, reduction="mean"):
    """(sum f'(x), sum f'(x) (x - loc)) over samples, divided by the number of
    sample x batch elements for "mean"."""
    x = np.asarray(value, dtype=np.float64)
    gf = np.asarray(grad_f, dtype=np.float64)
    axes = tuple(range(x.ndim - dist.loc.ndim))
    g_loc = gf.sum(axes)
    g_ls = (gf * (x - dist.loc)).sum(axes)
    if reduction == "mean":
        n = math.prod(x.shape[:len(axes)]) * math.prod(dist.batch_shape)
        g_loc, g_ls = g_loc / n, g_ls / n
    return g_loc.astype(dist.dtype), g_ls.astype(dist.dtype)


def reinforce_grad(dist, value, rewards, baseline="loo", reduction="mean", *,
                   groups=None, eps=1e-8, ddof=0):
    """sum (f - b) * score over sample x batch elements (see scorefast.reinforce_grad),
    from materialised per-sample scores; a tuple of gradients for Gaussians."""
    value = np.asarray(value)
    tail = len(dist.batch_shape) + len(getattr(dist, "event_shape", ()))
    sample_shape = value.shape[:value.ndim - tail]
    S = math.prod(sample_shape)
    f = np.broadcast_to(np.asarray(rewards, dtype=np.float64),
                        sample_shape + tuple(dist.batch_shape))
    f = f.reshape((S,) + tuple(dist.batch_shape))
    scores = dist.score(value)
    parts = scores if isinstance(scores, tuple) else (scores,)
    grads = []
    for score in parts:
        score = score.astype(np.float64)
        score = score.reshape((S,) + score.shape[len(sample_shape):])
        fe = f.reshape(f.shape + (1,) * (score.ndim - f.ndim))
        if baseline == "optimal":
            total = np.zeros(score.shape[1:])
            for s in range(S):
                others = np.arange(S) != s
                s2 = score[others] ** 2
                num = (fe[others] * s2).sum(0)
                den = s2.sum(0)
                fallback = fe[others].mean(0)
                b = np.where(den > 0, num / np.where(den > 0, den, 1), fallback)
                total += (fe[s] - b) * score[s]
            grad = total
        else:
            adv = advantages(f, baseline, axis=0, groups=groups, eps=eps, ddof=ddof)
            grad = (adv.reshape(fe.shape) * score).sum(0)
        if reduction == "mean":
            grad = grad / (S * math.prod(dist.batch_shape))
        grads.append(grad.astype(dist.dtype))
    return tuple(grads) if isinstance(scores, tuple) else grads[0]


def centered_ranks(f, axis=0):
    """Ranks scaled to [-0.5, 0.5], ties averaged: by counting, O(n^2)."""
    f = np.moveaxis(np.asarray(f, dtype=np.float64), axis, 0)
    n = f.shape[0]
    below = (f[None, :] < f[:, None]).sum(1)
    equal = (f[None, :] == f[:, None]).sum(1)
    rank = below + (equal - 1) / 2.0
    out = rank / (n - 1) - 0.5 if n > 1 else np.zeros_like(f)
    return np.moveaxis(out, 0, axis)


def nes_utilities(f, axis=0):
    """NES utilities by rank (1 = best), ties averaged: by counting, O(n^2)."""
    f = np.moveaxis(np.asarray(f, dtype=np.float64), axis, 0)
    n = f.shape[0]
    k = np.arange(1, n + 1)
    raw = np.maximum(0.0, np.log(n / 2 + 1) - np.log(k))
    u = raw / raw.sum() - 1.0 / n
    better = (f[None, :] > f[:, None]).sum(1)
    equal = (f[None, :] == f[:, None]).sum(1)
    out = np.zeros_like(f)
    for idx in np.ndindex(f.shape):
        b, e = better[idx], equal[idx]
        out[idx] = u[b:b + e].mean()
    return np.moveaxis(out, 0, axis)
