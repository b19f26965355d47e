r"""Streaming, mergeable accumulation of score-function gradients.

A :class:`GradientAccumulator` is fed chunks of ``(value, rewards)`` drawn
from one fixed distribution and keeps, per parameter coordinate :math:`j`
and with :math:`s = \nabla \log p(x)` the score,

.. math::
    n, \quad \sum f, \quad \sum f^2 \quad \text{(per batch element)},
    \qquad G_0 = \sum s_j, \quad G_1 = \sum f s_j,
    \qquad Q_0 = \sum s_j^2, \quad Q_1 = \sum f s_j^2, \quad Q_2 = \sum f^2 s_j^2,

which is everything the linear baselines need. For a baseline :math:`b` the
estimate is :math:`(G_1 - b G_0) / N` and the per-sample terms
:math:`u = (f - b) s` have :math:`\sum u^2 = Q_2 - 2 b Q_1 + b^2 Q_0`, which
gives the standard error. ``G_0`` and ``G_1`` come from the fused
``dist.weighted_score``; the second moments ``Q`` from ``dist.score`` on the
chunk, or for Categorical and Bernoulli (whose score is a 0/1 indicator minus
the probabilities) from one more ``weighted_score`` pass, with weights
:math:`f^2`. ``second_moments=False`` skips them: no standard error and no
``"optimal"`` baseline, but less work per chunk.

Memory: each running sum takes 8 bytes x (typically 4 to 8 limbs) per
parameter coordinate, and there are five of them (two without second
moments), so an accumulator holds some 200 bytes per parameter coordinate.

Exact merging
-------------
Accumulators built on different chunks (different processes, machines)
merge with :meth:`GradientAccumulator.merge`, and merging is associative
and commutative *bit for bit*: one pass over the chunks, any tree of
merges and any order give identical results. This is because every running
sum is an :class:`ExactSum`, which holds the *exact* real sum of the float64
partial sums added to it (as a fixed-point integer, see there) and rounds
only when read. What stays fixed is the chunking: each chunk's partial sums
are ordinary float64 sums, so results depend on how the samples were cut
into chunks (the ``chunk_size``), never on how the chunks were combined.

The chunked path
----------------
:func:`estimate` draws ``n_samples`` in chunks, chunk ``j`` from
:func:`scorefast.noise.block_rng` ``(seed, j)``, scores them with
``reward_fn`` and accumulates: memory is bounded by the chunk size whatever
``n_samples`` is, and the result is a function of ``(seed, chunk_size)``
alone, so :func:`scorefast.dask.estimate` reproduces it bit for bit from
chunks drawn on other machines.
"""
import math
import numbers
import sys
import time
import types
from typing import NamedTuple

import numpy as np

from scorefast.distributions import Bernoulli, Categorical
from scorefast.noise import block_rng

__all__ = ["ExactSum", "GradientAccumulator", "GradientEstimate", "estimate",
           "accumulate", "accumulate_chunks", "chunk_sizes", "default_chunk_size",
           "draw_chunk", "merge_all"]

#: The baselines a GradientAccumulator can form from running sums.
ACC_BASELINES = ("none", "mean", "loo", "optimal")


class ExactSum:
    r"""Exact sum of float64 arrays of a fixed shape, rounded once when read.

    Every finite double is an integer multiple of :math:`2^{-1074}` (the
    smallest subnormal), so element by element the sum of any number of
    doubles is an integer :math:`V` times :math:`2^{-1074}`. ``ExactSum``
    keeps :math:`V` exactly, in base :math:`2^{32}` digits ("limbs") stored
    in int64 with 31 bits of headroom, so additions are plain vectorised
    integer additions; carries are propagated lazily, before the headroom can
    run out. Only the range of limbs that the values added so far reach is
    stored (typically 4 to 8 limbs per element; 67 at the very most).

    Integer addition is exact, hence associative and commutative: the value
    read back, :math:`V 2^{-1074}` correctly rounded to the nearest double
    (ties to even), is the same for every order and grouping of the
    additions, unlike a float64 running sum or Kahan summation. This is the
    per-element equivalent of :func:`math.fsum`.

    Parameters
    ----------
    shape : tuple of int
        The shape of the arrays added.

    Notes
    -----
    NaN and infinities cannot be summed exactly and are rejected. A sum
    whose magnitude exceeds the largest double reads back as ``inf``.
    """

    _BITS = 32
    _MASK = (1 << 32) - 1
    # limbs change by less than 2**33 per addition: normalise before 2**29
    # additions so that no int64 limb ever exceeds 2**62 in magnitude
    _MAX_PENDING = 1 << 29

    def __init__(self, shape=()):
        self.shape = tuple(int(s) for s in (shape if isinstance(shape, tuple) else (shape,)))
        self.size = math.prod(self.shape)
        self._lo = 0                                   # limb index of row 0
        self._limbs = np.zeros((0, self.size), dtype=np.int64)
        self._pending = 0
        self._cache = None

    # -- state -----------------------------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = None
        return state

    def copy(self):
        """An independent copy.

        Returns
        -------
        ExactSum
        """
        new = ExactSum.__new__(ExactSum)
        new.__dict__.update(self.__dict__)
        new._limbs = self._limbs.copy()
        return new

    def __repr__(self):
        return f"ExactSum(shape={self.shape}, limbs={self._limbs.shape[0]})"

    @property
    def nbytes(self):
        """Bytes held by the limbs."""
        return self._limbs.nbytes

    def _reserve(self, lo, hi):
        """Grow the limb window to cover limb indices [lo, hi)."""
        L = self._limbs.shape[0]
        if L == 0:
            self._lo = lo
            self._limbs = np.zeros((hi - lo, self.size), dtype=np.int64)
            return
        new_lo, new_hi = min(self._lo, lo), max(self._lo + L, hi)
        if new_lo == self._lo and new_hi == self._lo + L:
            return
        limbs = np.zeros((new_hi - new_lo, self.size), dtype=np.int64)
        limbs[self._lo - new_lo:self._lo - new_lo + L] = self._limbs
        self._lo, self._limbs = new_lo, limbs

    def _normalize(self):
        """Propagate carries: every limb but the top one into [0, 2**32)."""
        limbs = self._limbs
        for i in range(limbs.shape[0] - 1):
            carry = limbs[i] >> self._BITS            # floor division by 2**32
            limbs[i] &= self._MASK
            limbs[i + 1] += carry
        self._pending = 1 if limbs.shape[0] else 0

    # -- arithmetic --------------------------------------------------------
    def add(self, x):
        """Add an array exactly.

        Parameters
        ----------
        x : array_like of shape ``shape``
            Finite real values (float32, and integers of at most 53 bits,
            convert to float64 exactly).

        Returns
        -------
        ExactSum
            ``self``.
        """
        x = np.asarray(x)
        if x.shape != self.shape:
            raise ValueError(f"ExactSum of shape {self.shape} cannot add an array of "
                             f"shape {x.shape}")
        x = x.astype(np.float64, copy=False).reshape(-1)
        if not np.isfinite(x).all():
            raise ValueError("ExactSum: values must be finite (NaN or inf found)")
        mant, expo = np.frexp(x)                      # x = mant * 2**expo, 0.5 <= |mant| < 1
        m = (mant * 9007199254740992.0).astype(np.int64)   # x = m * 2**(expo - 53), |m| < 2**53
        p = expo.astype(np.int64)
        p += 1074 - 53                                # x = m * 2**p * 2**-1074
        nz = m != 0
        if not nz.all():
            if not nz.any():
                return self
            p[~nz] = p[nz][0]                         # zeros add nothing: keep them in range
        low = p < 0                                   # subnormals: m has trailing zeros
        if low.any():
            m[low] >>= -p[low]
            p[low] = 0
        q, r = p >> 5, p & 31                         # limb index and bit offset in it
        qmin, qmax = int(q.min()), int(q.max())
        self._reserve(qmin, qmax + 4)                 # 3 limbs touched + 1 for carries
        # m * 2**r = c0 + c1 * 2**32 + c2 * 2**64 with c0 in [0, 2**32),
        # c1 in [0, 2**33), |c2| < 2**20 (two's complement: no sign handling)
        t0 = (m & self._MASK) << r                    # in [0, 2**63)
        t1 = (m >> self._BITS) << r                   # |t1| < 2**52
        c0 = t0 & self._MASK
        c1 = t0 >> self._BITS
        c1 += t1 & self._MASK
        c2 = t1 >> self._BITS
        limbs = self._limbs
        if qmax - qmin <= 2:
            # values within 96 binades of each other (the usual case): dense adds
            for qv in range(qmin, qmax + 1):
                row = qv - self._lo
                if qmin == qmax:
                    limbs[row] += c0
                    limbs[row + 1] += c1
                    limbs[row + 2] += c2
                    break
                sel = q == qv
                for k, c in enumerate((c0, c1, c2)):
                    np.add(limbs[row + k], c, out=limbs[row + k], where=sel)
        else:
            # scattered: one (limb, element) pair per element, no repeated index
            flat = limbs.reshape(-1)
            idx = (q - self._lo) * self.size + np.arange(self.size)
            flat[idx] += c0
            idx += self.size
            flat[idx] += c1
            idx += self.size
            flat[idx] += c2
        self._pending += 1
        self._cache = None
        if self._pending >= self._MAX_PENDING:
            self._normalize()
        return self

    def merge(self, other):
        """Add another ExactSum of the same shape into this one, exactly.

        Parameters
        ----------
        other : ExactSum
            Left unchanged.

        Returns
        -------
        ExactSum
            ``self``.
        """
        if not isinstance(other, ExactSum):
            raise TypeError(f"cannot merge an ExactSum with {type(other).__name__}")
        if other.shape != self.shape:
            raise ValueError(f"cannot merge ExactSums of shapes {self.shape} and {other.shape}")
        L = other._limbs.shape[0]
        if L == 0:
            return self
        if self._pending + other._pending >= self._MAX_PENDING:
            self._normalize()
            other = other.copy()
            other._normalize()
        self._reserve(other._lo, other._lo + L)
        off = other._lo - self._lo
        self._limbs[off:off + L] += other._limbs
        self._pending += other._pending
        self._cache = None
        return self

    def __iadd__(self, other):
        return self.merge(other) if isinstance(other, ExactSum) else self.add(other)

    # -- reading -----------------------------------------------------------
    def value(self):
        """The sum, correctly rounded to float64.

        Returns
        -------
        ndarray of shape ``shape``
            A new float64 array (ties round to even; beyond the largest
            double, ``inf``).
        """
        if self._cache is None:
            self._cache = self._read()
        return self._cache.copy()

    def _read(self):
        """Round ``V * 2**k`` to the nearest double, ties to even, for every
        element at once: take the top 64 bits of the magnitude, then the
        round bit and a sticky bit for everything below, as the hardware does."""
        out = np.zeros(self.size, dtype=np.float64)
        if self._limbs.shape[0] == 0:
            return out.reshape(self.shape)
        self._normalize()
        while np.abs(self._limbs[-1]).max() >= (1 << 31):
            # keep the signed top limb within 31 bits (over 2**31 additions)
            self._reserve(self._lo, self._lo + self._limbs.shape[0] + 1)
            self._normalize()
        limbs = self._limbs
        neg = limbs[-1] < 0
        if neg.any():
            # |V| = -V: negate, then carry again (every limb of -V is >= 0)
            mag = ExactSum.__new__(ExactSum)
            mag._limbs = np.where(neg, -limbs, limbs)
            mag._normalize()
            limbs = mag._limbs
        d = limbs.view(np.uint64)                      # every limb now in [0, 2**32)
        nonzero = d != 0
        L = d.shape[0]
        h = L - 1 - np.argmax(nonzero[::-1], axis=0)   # top nonzero limb of each element
        h[~nonzero.any(axis=0)] = -1                   # zero: stays 0.0
        hs = np.unique(h)
        zero = np.zeros(self.size if hs.size == 1 else 0, dtype=np.uint64)
        for hv in hs[hs >= 0]:
            # elements whose top nonzero limb is hv: usually all of them
            sel = slice(None) if hs.size == 1 else np.flatnonzero(h == hv)
            A = d[hv, sel]
            B = d[hv - 1, sel] if hv >= 1 else (zero if hs.size == 1 else np.zeros_like(A))
            C = d[hv - 2, sel] if hv >= 2 else (zero if hs.size == 1 else np.zeros_like(A))
            below = nonzero[:hv - 2, sel].any(axis=0) if hv >= 3 else False
            out[sel] = self._round(A, B, C, below, self._lo + int(hv), neg[sel])
        return out.reshape(self.shape)

    @classmethod
    def _round(cls, A, B, C, below, top_limb, neg):
        """Round (A 2**64 + B 2**32 + C + [below]) 2**(32 (top_limb - 2) - 1074),
        A > 0, to float64; ``below`` flags nonzero bits under C."""
        u = np.uint64
        # bit length of A (1..32) from the exponent of its exact float64 value
        nb = (A.astype(np.float64).view(u) >> u(52)) - u(1022)
        # top 64 bits of A * 2**64 + B * 2**32 + C (the three do not overlap)
        top = (A << (u(64) - nb)) | (B << (u(32) - nb)) | (C >> nb)
        lost = (C & ((u(1) << nb) - u(1))) != 0
        mant = top >> u(11)                                        # 53 bits, leading 1
        half = (top >> u(10)) & u(1)
        sticky = ((top & u(0x3FF)) != 0) | lost | below
        mant += half & (sticky | ((mant & u(1)) != 0)).astype(u)  # ties to even
        # value = mant * 2**e; mant == 2**53 after rounding up is exact in float64
        e = cls._BITS * (top_limb - 2) + nb.astype(np.int64) + 11 - 1074
        with np.errstate(over="ignore"):
            # exact below 2**-1022: such a sum is a multiple of 2**-1074 of at
            # most 52 bits, so nothing was rounded off and ldexp is exact too
            v = np.ldexp(mant.astype(np.float64), e)
        return np.where(neg, -v, v)

    def _read_slow(self):
        """The same as :meth:`value`, with Python integers (a test oracle)."""
        out = np.zeros(self.size, dtype=np.float64)
        if self._limbs.shape[0] == 0:
            return out.reshape(self.shape)
        limbs = [[int(v) for v in row] for row in self._limbs]
        for i in range(self.size):
            V = sum(row[i] << (self._BITS * j) for j, row in enumerate(limbs))
            k = self._BITS * self._lo - 1074
            try:
                # int -> float and int / int are correctly rounded in CPython
                out[i] = float(V << k) if k >= 0 else V / (1 << -k)
            except OverflowError:
                out[i] = math.copysign(math.inf, V)
        return out.reshape(self.shape)


# -- the accumulator ---------------------------------------------------------

def _params_equal(d1, d2):
    if d1 is d2:
        return True
    if type(d1) is not type(d2) or d1.dtype != d2.dtype:
        return False
    for name in d1._param_names:
        a, b = np.asarray(getattr(d1, name)), np.asarray(getattr(d2, name))
        if a.shape != b.shape or not np.array_equal(a, b):
            return False
    return True


def _probs64(dist):
    """A Categorical's or Bernoulli's probabilities in float64 (whatever its dtype)."""
    logits = np.asarray(dist.logits, dtype=np.float64)
    if isinstance(dist, Categorical):
        with np.errstate(invalid="ignore"):     # -inf - finite is fine; masked classes get 0
            return np.exp(logits - dist.log_normalizer()[..., None])
    e = np.exp(-np.abs(logits))
    return np.where(logits >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _as_float_rewards(rewards, target):
    f = np.asarray(rewards)
    if f.dtype.kind not in "biuf":
        raise TypeError(f"rewards must be a real-valued array, got dtype {f.dtype}")
    try:
        if f.ndim > len(target) or np.broadcast_shapes(f.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"rewards of shape {f.shape} do not broadcast to "
                         f"sample_shape + batch_shape = {target}") from None
    f = np.array(np.broadcast_to(f, target), dtype=np.float64, order="C")
    if f.size and not np.isfinite(f).all():
        raise ValueError("rewards contain NaN or inf")
    return f


class GradientAccumulator:
    r"""Running sums for score-function gradients of one distribution, mergeable exactly.

    Feed it chunks with :meth:`update`; read the estimate with :meth:`grad`
    and its standard error with :meth:`stderr`, for any of the baselines that
    running sums allow; combine accumulators built elsewhere with
    :meth:`merge` (associative and commutative bit for bit, see the module
    documentation). Accumulators pickle (with their distribution), so they
    can be sent between processes.

    Parameters
    ----------
    dist : Distribution
        Any scorefast distribution; every chunk must be drawn from it.
    second_moments : bool, default True
        Keep :math:`Q_0, Q_1, Q_2` (sums of :math:`s^2`, :math:`f s^2`,
        :math:`f^2 s^2`), needed by :meth:`stderr` and by
        ``baseline="optimal"``. They cost a ``dist.score`` per chunk
        (Gaussians) or one more ``weighted_score`` pass (Categorical,
        Bernoulli).
    shift : float, default 0.0
        A reference reward subtracted from every reward before summing and
        added back when reading. It changes no result mathematically; it
        avoids cancellation in :math:`G_1 - b G_0` and in the variance when
        rewards sit far from zero (e.g. around 1e6 with a spread of 1): pass
        a rough guess of the mean reward. Only accumulators with the same
        shift merge.

    Notes
    -----
    Baselines, with :math:`n` samples (per batch element):

    ``"none"`` or a float ``c``
        :math:`b = 0` or :math:`c`: unbiased.
    ``"mean"``
        :math:`b = \bar f`, the mean of all :math:`n` rewards: biased by the
        factor :math:`(n-1)/n` exactly, as for :func:`scorefast.reinforce_grad`.
    ``"loo"``
        Leave-one-out mean: the ``"mean"`` estimate times :math:`n/(n-1)`,
        exactly what ``reinforce_grad(..., baseline="loo")`` gives on all the
        samples at once. Unbiased. The default.
    ``"optimal"``
        Per coordinate :math:`b_j = Q_{1j} / Q_{0j}` from the final sums
        (the mean reward where :math:`Q_{0j} = 0`). Unlike
        ``reinforce_grad``'s ``"optimal"`` this is *not* leave-one-out (that
        needs every sample's score, not running sums): :math:`b_j` contains
        sample :math:`s` itself, which biases the estimate by
        :math:`O(1/n)` (the gap to the leave-one-out estimate shrinks as
        :math:`1/n`), far below its :math:`O(1/\sqrt{n})` standard error at
        the sample sizes accumulators are for. Use ``"loo"`` where exact
        unbiasedness matters.

    ``"group"`` and :class:`~scorefast.EMABaseline` are not linear in running
    sums and are not available.

    Standard errors treat :math:`b` as fixed (for ``"mean"``, ``"loo"`` and
    ``"optimal"`` the estimation of :math:`b` changes the error by a factor
    :math:`1 + O(1/n)`): they are the sample standard deviation (``ddof=1``)
    of the per-sample terms whose mean is the estimate, over
    :math:`\sqrt{n}`.

    Precision: for a float32 distribution ``weighted_score`` returns each
    chunk's fused sums (:math:`G_0, G_1`, and a Categorical's or Bernoulli's
    :math:`\sum f^2 s`) rounded to float32; everything else is float64.
    Results are float64.
    """

    # GradientAccumulator[Categorical] in annotations (the stub is generic
    # over the distribution, which fixes the type of grad and stderr)
    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(self, dist, *, second_moments=True, shift=0.0):
        if not hasattr(dist, "weighted_score") or not hasattr(dist, "_param_names"):
            raise TypeError(f"dist must be a scorefast distribution, got {type(dist).__name__}")
        if isinstance(shift, bool) or not isinstance(shift, numbers.Real) or \
                not math.isfinite(shift):
            raise ValueError(f"shift must be a finite real number, got {shift!r}")
        self.dist = dist
        self.second_moments = bool(second_moments)
        self.shift = float(shift)
        self.n = 0
        self._param_shape = tuple(dist._param_shape)
        self._batch_shape = tuple(dist.batch_shape)
        self._nparts = len(dist._param_names)
        names = ("g1", "g0", "q0", "q1", "q2") if self.second_moments else ("g1", "g0")
        self._sf = ExactSum(self._batch_shape)
        self._sff = ExactSum(self._batch_shape)
        self._p = None              # float64 probabilities (Categorical, Bernoulli)
        self._sums = [{k: ExactSum(self._param_shape) for k in names}
                      for _ in range(self._nparts)]

    def __repr__(self):
        return (f"GradientAccumulator({type(self.dist).__name__}, n={self.n}, "
                f"param_shape={self._param_shape}, second_moments={self.second_moments})")

    # -- feeding -----------------------------------------------------------
    def update(self, value, rewards):
        """Add a chunk of samples and their rewards.

        Parameters
        ----------
        value : array, shape ``sample_shape + batch_shape (+ event_shape)``
            Draws from ``dist`` (any number of sample dimensions).
        rewards : array, broadcastable to ``sample_shape + batch_shape``
            As for :func:`scorefast.reinforce_grad` (finite).

        Returns
        -------
        GradientAccumulator
            ``self``. On an error (bad rewards, overflow) nothing was added.
        """
        dist = self.dist
        value = np.asarray(value)
        sample_shape = dist._sample_dims(value.shape)
        S = math.prod(sample_shape)
        target = tuple(sample_shape) + self._batch_shape
        f = _as_float_rewards(rewards, target)
        if S == 0:
            return self
        if self.shift:
            f -= self.shift
        g1 = dist.weighted_score(value, f)
        g0 = dist.weighted_score(value, np.ones((1,), dtype=dist.dtype))
        g1 = g1 if isinstance(g1, tuple) else (g1,)
        g0 = g0 if isinstance(g0, tuple) else (g0,)
        f2 = f.reshape((S,) + self._batch_shape)
        sf, sff = f2.sum(axis=0), (f2 * f2).sum(axis=0)
        # every partial sum of the chunk first, so a failure leaves self untouched
        parts = [{"g1": g1[i], "g0": g0[i]} for i in range(self._nparts)]
        if self.second_moments and isinstance(dist, (Categorical, Bernoulli)):
            self._discrete_moments(parts[0], dist.weighted_score(value, f * f), S, sf, sff)
        elif self.second_moments:
            scores = dist.score(value)
            scores = scores if isinstance(scores, tuple) else (scores,)
            extra = len(self._param_shape) - len(self._batch_shape)
            fS = f.reshape((S,) + self._batch_shape + (1,) * extra)
            for part, score in zip(parts, scores):
                s = np.square(score, dtype=np.float64).reshape((S,) + self._param_shape)
                part["q0"] = s.sum(axis=0)
                s *= fS
                part["q1"] = s.sum(axis=0)
                s *= fS
                part["q2"] = s.sum(axis=0)
        for k in ("q2", "q1", "q0"):     # overflow to inf is caught before any sum changes
            for part in parts:
                if k in part and not np.isfinite(part[k]).all():
                    raise ValueError(f"a chunk's sum of {k} overflowed float64")
        if not (np.isfinite(sff).all() and np.isfinite(sf).all()):
            raise ValueError("a chunk's sum of squared rewards overflowed float64")
        for sums, part in zip(self._sums, parts):
            for k, v in part.items():
                sums[k].add(v)
        self._sf.add(sf)
        self._sff.add(sff)
        self.n += S
        return self

    def _discrete_moments(self, part, g2, S, sf, sff):
        r"""Second moments of a Categorical or Bernoulli chunk from fused sums.

        Their score is :math:`s = e - p` with :math:`e \in \{0, 1\}` (the
        one-hot class, or the draw itself), so :math:`s^2 = e (1 - 2p) + p^2`
        and, for weights :math:`w`, :math:`\sum w s^2 = C (1 - 2p) + p^2 W`
        with :math:`W = \sum w` and :math:`C = \sum w e = \sum w s + p W`:
        three ``weighted_score`` passes (weights 1, f, f^2) instead of
        materialising every per-sample score."""
        if self._p is None:
            self._p = _probs64(self.dist)
        p = self._p
        extra = len(self._param_shape) - len(self._batch_shape)
        for key, ws, W in (("q0", part["g0"], float(S)), ("q1", part["g1"], sf),
                           ("q2", g2, sff)):
            W = np.reshape(W, np.shape(W) + (1,) * extra) if np.ndim(W) else W
            C = np.asarray(ws, dtype=np.float64) + p * W
            part[key] = C * (1.0 - 2.0 * p) + p * p * W

    # -- merging -----------------------------------------------------------
    def _check_compatible(self, other):
        if not isinstance(other, GradientAccumulator):
            raise TypeError(f"cannot merge a GradientAccumulator with {type(other).__name__}")
        if other.second_moments != self.second_moments:
            raise ValueError("cannot merge accumulators with and without second moments")
        if other.shift != self.shift:
            raise ValueError(f"cannot merge accumulators with shifts {self.shift} "
                             f"and {other.shift}")
        if not _params_equal(self.dist, other.dist):
            raise ValueError("cannot merge accumulators of different distributions "
                             "(family, dtype or parameters differ)")

    def copy(self):
        """An independent copy (sharing the distribution, which is immutable).

        Returns
        -------
        GradientAccumulator
        """
        new = GradientAccumulator.__new__(GradientAccumulator)
        new.__dict__.update(self.__dict__)
        new._sf, new._sff = self._sf.copy(), self._sff.copy()
        new._sums = [{k: v.copy() for k, v in part.items()} for part in self._sums]
        return new

    def merge(self, *others):
        """A new accumulator holding the samples of this one and of ``others``.

        Exact: ``a.merge(b)``, ``b.merge(a)``, ``a.merge(b).merge(c)`` and
        ``a.merge(b.merge(c))`` give identical results, bit for bit.

        Parameters
        ----------
        *others : GradientAccumulator
            Accumulators of an equal distribution (same family, dtype and
            parameters), with the same ``second_moments`` and ``shift``.
            They are left unchanged, as is ``self``.

        Returns
        -------
        GradientAccumulator
        """
        for o in others:
            self._check_compatible(o)
        new = self.copy()
        for o in others:
            new._merge_in(o)
        return new

    def _merge_in(self, other):
        for mine, theirs in zip(self._sums, other._sums):
            for k in mine:
                mine[k].merge(theirs[k])
        self._sf.merge(other._sf)
        self._sff.merge(other._sff)
        self.n += other.n

    def __add__(self, other):
        return self.merge(other)

    # -- reading -----------------------------------------------------------
    def _wrap(self, parts):
        return tuple(parts) if self._nparts > 1 else parts[0]

    def _fbar(self):
        """Mean shifted reward per batch element, broadcastable to the parameters."""
        extra = len(self._param_shape) - len(self._batch_shape)
        return (self._sf.value() / self.n).reshape(self._batch_shape + (1,) * extra)

    def mean_reward(self):
        """Mean reward per batch element.

        Returns
        -------
        ndarray of shape ``batch_shape``
        """
        self._need(1)
        return self._sf.value() / self.n + self.shift

    def reward_variance(self):
        """Sample variance (``ddof=1``) of the rewards per batch element.

        Returns
        -------
        ndarray of shape ``batch_shape``
        """
        self._need(2)
        sf, sff = self._sf.value(), self._sff.value()
        return np.maximum((sff - sf * sf / self.n) / (self.n - 1), 0.0)

    def _need(self, k):
        if self.n < k:
            raise ValueError(f"needs at least {k} sample{'s' if k > 1 else ''}, "
                             f"the accumulator holds {self.n}")

    def _baseline_parts(self, baseline):
        """Per part: the shifted baseline b' (array or scalar) and the factor
        multiplying the per-sample terms."""
        if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
            if not math.isfinite(baseline):
                raise ValueError(f"baseline must be finite, got {baseline}")
            return [float(baseline) - self.shift] * self._nparts, 1.0
        if not isinstance(baseline, str) or baseline not in ACC_BASELINES:
            why = ""
            if isinstance(baseline, str) and baseline == "group":
                why = (" ('group' divides by the batch's standard deviation, which is "
                       "not linear in running sums)")
            elif not isinstance(baseline, str):
                why = " (an EMABaseline depends on batch order; pass its value as a float)"
            raise ValueError(f"baseline must be one of {ACC_BASELINES} or a float, got "
                             f"{baseline!r}{why}")
        self._need(2 if baseline == "loo" else 1)
        if baseline == "none":
            return [-self.shift] * self._nparts, 1.0
        fbar = self._fbar()
        if baseline == "mean":
            return [fbar] * self._nparts, 1.0
        if baseline == "loo":
            return [fbar] * self._nparts, self.n / (self.n - 1.0)
        if not self.second_moments:
            raise ValueError("baseline='optimal' needs second_moments=True")
        bs = []
        for sums in self._sums:
            q0, q1 = sums["q0"].value(), sums["q1"].value()
            pos = q0 > 0
            bs.append(np.where(pos, q1 / np.where(pos, q0, 1.0),
                               np.broadcast_to(fbar, q0.shape)))
        return bs, 1.0

    def baseline(self, baseline="loo"):
        """The baseline :math:`b` that ``grad(baseline)`` uses, per parameter coordinate.

        Parameters
        ----------
        baseline : {"none", "mean", "loo", "optimal"} or float

        Returns
        -------
        ndarray of the parameters' shape, or a pair for Gaussians
            For ``"loo"``: the full-sample mean that, with the factor
            :math:`n/(n-1)`, forms the leave-one-out estimate.
        """
        bs, _ = self._baseline_parts(baseline)
        return self._wrap([np.broadcast_to(b + self.shift, self._param_shape).copy()
                           for b in bs])

    def _norm(self, reduction):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        batch = math.prod(self._batch_shape)
        return float(self.n * batch) if reduction == "mean" and batch else 1.0

    def grad(self, baseline="loo", reduction="mean"):
        r"""The gradient estimate :math:`\frac{1}{N} \sum (f - b) \nabla \log p`
        over every sample accumulated.

        Parameters
        ----------
        baseline : {"none", "mean", "loo", "optimal"} or float, default "loo"
            See the class documentation.
        reduction : {"mean", "sum"}
            :math:`N` = samples x batch elements (``"mean"``, as
            :func:`scorefast.reinforce_grad`) or 1 (``"sum"``).

        Returns
        -------
        ndarray of the parameters' shape, or a pair for Gaussians
            float64.
        """
        norm = self._norm(reduction)
        bs, factor = self._baseline_parts(baseline)
        out = []
        for sums, b in zip(self._sums, bs):
            t1 = sums["g1"].value() - b * sums["g0"].value()
            out.append(t1 * (factor / norm))
        return self._wrap(out)

    def stderr(self, baseline="loo", reduction="mean"):
        r"""Standard error of :meth:`grad`, per coordinate.

        The sample standard deviation (``ddof=1``) of the per-sample terms
        :math:`(f - b) \nabla \log p` (scaled as the estimate is), times
        :math:`\sqrt{n}` over the normaliser. Needs ``second_moments=True``
        and at least 2 samples.

        Parameters
        ----------
        baseline : {"none", "mean", "loo", "optimal"} or float, default "loo"
        reduction : {"mean", "sum"}

        Returns
        -------
        ndarray of the parameters' shape, or a pair for Gaussians
        """
        if not self.second_moments:
            raise ValueError("stderr needs second_moments=True")
        self._need(2)
        norm = self._norm(reduction)
        bs, factor = self._baseline_parts(baseline)
        n = self.n
        out = []
        for sums, b in zip(self._sums, bs):
            g0, g1 = sums["g0"].value(), sums["g1"].value()
            q0, q1, q2 = sums["q0"].value(), sums["q1"].value(), sums["q2"].value()
            t1 = g1 - b * g0
            t2 = q2 - 2.0 * b * q1 + b * b * q0
            var = np.maximum((t2 - t1 * t1 / n) / (n - 1.0), 0.0)
            out.append(np.sqrt(var * n) * (factor / norm))
        return self._wrap(out)

    @property
    def nbytes(self):
        """Bytes held by the running sums (not counting the distribution)."""
        return sum(s.nbytes for part in self._sums for s in part.values()) + \
            self._sf.nbytes + self._sff.nbytes


def merge_all(accumulators):
    """Merge accumulators into a new one (any order and grouping give the same bits).

    Parameters
    ----------
    accumulators : iterable of GradientAccumulator
        At least one.

    Returns
    -------
    GradientAccumulator
    """
    accs = list(accumulators)
    if not accs:
        raise ValueError("merge_all needs at least one accumulator")
    return accs[0].merge(*accs[1:])


# -- the chunked path ----------------------------------------------------------

class GradientEstimate(NamedTuple):
    """What :func:`estimate` returns.

    Parameters
    ----------
    grad : ndarray or pair of ndarray
        The estimate (a pair for Gaussians).
    stderr : ndarray, pair of ndarray, or None
        Its standard error (None without second moments).
    n_samples : int
        Number of samples drawn.
    accumulator : GradientAccumulator
        The sums, for other baselines or for merging.
    """
    grad: object
    stderr: object
    n_samples: int
    accumulator: GradientAccumulator


def default_chunk_size(dist):
    """Samples per chunk when none is given.

    Parameters
    ----------
    dist : Distribution

    Returns
    -------
    int
        About 2**20 parameter-sized entries (8 MiB per float64 array of
        per-sample scores), at least 64.
    """
    return max(64, (1 << 20) // max(1, math.prod(dist._param_shape)))


def _check_counts(n_samples, chunk_size):
    for name, v in (("n_samples", n_samples), ("chunk_size", chunk_size)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    n_samples, chunk_size = int(n_samples), int(chunk_size)
    if n_samples < 0:
        raise ValueError(f"n_samples must be non-negative, got {n_samples}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    return n_samples, chunk_size


def chunk_sizes(n_samples, chunk_size):
    """Sizes of the chunks that ``n_samples`` is cut into.

    Parameters
    ----------
    n_samples : int >= 0
    chunk_size : int >= 1

    Returns
    -------
    list of int
        ``chunk_size`` each, the last one smaller when it does not divide
        ``n_samples``.
    """
    n_samples, chunk_size = _check_counts(n_samples, chunk_size)
    full, rest = divmod(n_samples, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def draw_chunk(dist, seed, j, size, antithetic=False):
    """Draw chunk ``j``: ``dist.sample(size, rng=block_rng(seed, j))``.

    Parameters
    ----------
    dist : Distribution
    seed : int >= 0 or numpy.random.SeedSequence
    j : int >= 0
        The chunk index.
    size : int
        Samples in the chunk.
    antithetic : bool
        Mirrored pairs (Gaussians; ``size`` must be even).

    Returns
    -------
    ndarray of shape ``(size,) + batch_shape (+ event_shape)``
    """
    rng = block_rng(seed, j)
    if antithetic:
        return dist.sample(size, rng=rng, antithetic=True)
    return dist.sample(size, rng=rng)


class _Progress:
    """tqdm where installed (after ``delay`` seconds), else a line on stderr
    at most once a second; nothing when disabled."""

    def __init__(self, total, progress, desc="scorefast"):
        self.bar = None
        self.fallback = False
        self.total = total
        self.done = 0
        if progress is False:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            # progress=None: only runs that last longer than 2 s show a bar
            self.bar = tqdm(total=total, unit="samples", unit_scale=True, desc=desc,
                            delay=0.0 if progress else 2.0, leave=bool(progress))
        elif progress:
            self.fallback = True
            self.t0 = self.last = time.perf_counter()

    def update(self, k):
        self.done += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.fallback:
            now = time.perf_counter()
            if now - self.last >= 1.0 or self.done >= self.total:
                self.last = now
                rate = self.done / max(now - self.t0, 1e-9)
                pct = 100.0 * self.done / self.total if self.total else 100.0
                sys.stderr.write(f"\rscorefast: {pct:5.1f}% ({self.done:.3g}/{self.total:.3g} "
                                 f"samples, {rate:.3g} samples/s)")
                sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.fallback:
            sys.stderr.write("\n")
            sys.stderr.flush()


def accumulate_chunks(dist, reward_fn, n_samples, chunk_size, seed, chunks=None, *,
                      second_moments=True, shift=0.0, antithetic=False, progress=False):
    """Accumulate some or all of the chunks of a chunked estimate.

    Chunk ``j`` is drawn by :func:`draw_chunk` and its rewards are
    ``reward_fn(values)``; only one chunk is in memory at a time. This is
    what each Dask task of :func:`scorefast.dask.estimate` runs.

    Parameters
    ----------
    dist, reward_fn, n_samples, chunk_size, seed :
        As for :func:`estimate` (``chunk_size`` required).
    chunks : iterable of int, optional
        Indices into the partition of ``n_samples`` by ``chunk_size``
        (:func:`chunk_sizes`); all of them by default.
    second_moments, shift, antithetic, progress :
        As for :func:`estimate` (no progress bar by default).

    Returns
    -------
    GradientAccumulator
    """
    sizes = chunk_sizes(n_samples, chunk_size)
    idx = range(len(sizes)) if chunks is None else chunks
    acc = GradientAccumulator(dist, second_moments=second_moments, shift=shift)
    todo = [int(j) for j in idx]
    for j in todo:
        if not 0 <= j < len(sizes):
            raise IndexError(f"chunk {j} out of range: {n_samples} samples make "
                             f"{len(sizes)} chunks of {chunk_size}")
    bar = _Progress(sum(sizes[j] for j in todo), progress)
    try:
        for j in todo:
            value = draw_chunk(dist, seed, j, sizes[j], antithetic)
            acc.update(value, reward_fn(value))
            del value
            bar.update(sizes[j])
    finally:
        bar.close()
    return acc


def accumulate(dist, reward_fn, n_samples, chunk_size=None, seed=0, *,
               second_moments=True, shift=0.0, antithetic=False, progress=None):
    """The accumulator of :func:`estimate`, without reading an estimate from it.

    Parameters
    ----------
    dist, reward_fn, n_samples, chunk_size, seed, second_moments, shift, antithetic, progress :
        As for :func:`estimate`.

    Returns
    -------
    GradientAccumulator
    """
    if chunk_size is None:
        chunk_size = default_chunk_size(dist)
    return accumulate_chunks(dist, reward_fn, n_samples, chunk_size, seed,
                             second_moments=second_moments, shift=shift,
                             antithetic=antithetic, progress=progress)


def estimate(dist, reward_fn, n_samples, chunk_size=None, seed=0, baseline="loo",
             reduction="mean", *, second_moments=True, shift=0.0, antithetic=False,
             progress=None):
    """Estimate the gradient of E[reward_fn(x)] from ``n_samples`` draws, in
    bounded memory.

    The samples are drawn in chunks of ``chunk_size``: chunk ``j`` is
    ``dist.sample(size_j, rng=scorefast.noise.block_rng(seed, j))``, so any
    chunk can be regenerated from ``(seed, j)`` alone and the result depends
    on ``(seed, chunk_size)`` only, not on where or in what order chunks are
    processed (:func:`scorefast.dask.estimate` gives the same bits).

    Parameters
    ----------
    dist : Distribution
    reward_fn : callable
        ``reward_fn(values) -> rewards``, with values of shape
        ``(size,) + batch_shape (+ event_shape)`` and rewards broadcastable to
        ``(size,) + batch_shape``.
    n_samples : int
    chunk_size : int, optional
        Default :func:`default_chunk_size` (about 8 MiB of scores a chunk).
    seed : int >= 0 or numpy.random.SeedSequence
    baseline : "none", "mean", "loo", "optimal" or a float
        See :class:`GradientAccumulator`.
    reduction : "mean" or "sum"
    second_moments : bool
        False skips the standard error (and "optimal") for speed.
    shift : float
        See :class:`GradientAccumulator`.
    antithetic : bool
        Mirrored pairs within each chunk (Gaussians; even chunk sizes).
    progress : None, bool
        None: a tqdm bar (where tqdm is installed) once the run has taken
        2 s; True: a bar from the start (a line on stderr without tqdm);
        False: none.

    Returns
    -------
    GradientEstimate
        ``(grad, stderr, n_samples, accumulator)``.
    """
    acc = accumulate(dist, reward_fn, n_samples, chunk_size, seed,
                     second_moments=second_moments, shift=shift, antithetic=antithetic,
                     progress=progress)
    return _result(acc, baseline, reduction)


def _result(acc, baseline, reduction):
    grad = acc.grad(baseline, reduction)
    se = acc.stderr(baseline, reduction) if acc.second_moments else None
    return GradientEstimate(grad, se, acc.n, acc)
