"""Distributions: sampling, log-probabilities and scores over compiled kernels.

Names follow ``torch.distributions``: a distribution has a ``batch_shape``
(independent distributions side by side) and values of shape
``sample_shape + batch_shape`` (+ ``event_shape``), sample dimensions first.
"""
import math

import numpy as np

from scorefast import _categorical
from scorefast._config import get_num_threads
from scorefast._validation import as_generator, as_params, as_sample_shape, as_value, as_weights

__all__ = ["Distribution", "Categorical"]


class Distribution:
    """Shape bookkeeping shared by every family."""

    batch_shape = ()
    event_shape = ()

    def _sample_dims(self, shape, name="value"):
        """The sample shape of an array of ``shape``: what precedes the batch and event dims."""
        tail = tuple(self.batch_shape) + tuple(self.event_shape)
        n = len(shape) - len(tail)
        if n < 0 or tuple(shape[n:]) != tail:
            raise ValueError(
                f"{name} must have shape sample_shape + {tail}, got {tuple(shape)}")
        return tuple(shape[:n])


class Categorical(Distribution):
    r"""Categorical distribution over the last axis of ``logits``.

    .. math:: p(k) = \exp(\ell_k - \operatorname{logsumexp}(\ell)), \quad k = 0, \dots, K-1

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Unnormalised log-probabilities. float32 is kept; other real dtypes
        become float64. ``-inf`` masks a class (probability zero); NaN,
        ``+inf`` and a row with every class masked are errors.
    validate : bool, default True
        Check ``logits`` and the arguments of later calls for NaN and inf.
        With ``False`` the checks are skipped and NaN propagates.

    Notes
    -----
    The log-normaliser of every row is computed once, here; every method
    works from it, so probabilities are never formed unless ``probs`` is read.
    """

    def __init__(self, logits, validate=True):
        logits = as_params(logits, "logits")
        if logits.ndim == 0:
            raise ValueError("logits must have shape (..., K) with at least one dimension")
        if logits.shape[-1] == 0:
            raise ValueError("logits must have at least one class (K >= 1)")
        self._logits = logits
        self._logits.flags.writeable = False
        self._rows = logits.reshape(-1, logits.shape[-1])
        self._lse = np.empty(self._rows.shape[0], dtype=np.float64)
        self.validate = bool(validate)
        _categorical.log_normalizer(self._rows, self._lse, self.validate, get_num_threads())

    # -- parameters -----------------------------------------------------
    @property
    def logits(self):
        """The logits as given (read-only), shape ``batch_shape + (K,)``."""
        return self._logits

    @property
    def dtype(self):
        """float32 or float64: the dtype of every floating-point output."""
        return self._logits.dtype

    @property
    def batch_shape(self):
        return self._logits.shape[:-1]

    @property
    def num_classes(self):
        return self._logits.shape[-1]

    @property
    def probs(self):
        """softmax(logits) over the last axis, shape ``batch_shape + (K,)``."""
        out = np.empty_like(self._rows)
        _categorical.probs(self._rows, self._lse, out, get_num_threads())
        return out.reshape(self._logits.shape)

    def log_normalizer(self):
        """logsumexp(logits) over the last axis (float64), shape ``batch_shape``."""
        return self._lse.reshape(self.batch_shape).copy()

    def __repr__(self):
        return (f"Categorical(batch_shape={self.batch_shape}, "
                f"num_classes={self.num_classes}, dtype={self.dtype})")

    # -- values as (S, B) blocks ------------------------------------------
    def _blocks(self, value):
        """value as an (S, B) int64 block against rows (B, K) and their lse.

        value broadcasts against batch_shape; when it broadcasts the batch
        dimensions themselves, the rows are broadcast to match."""
        value = as_value(value)
        batch = self.batch_shape
        shape = np.broadcast_shapes(value.shape, batch)
        nb = len(batch)
        if shape[len(shape) - nb:] == batch:
            rows, lse = self._rows, self._lse
        else:
            K = self.num_classes
            rows = np.ascontiguousarray(
                np.broadcast_to(self._logits, shape + (K,)).reshape(-1, K))
            lse = np.ascontiguousarray(np.broadcast_to(
                self._lse.reshape(batch), shape).reshape(-1))
        B = rows.shape[0]
        S = math.prod(shape) // B if B else 0
        block = np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(S, B)
        return block, rows, lse, shape

    # -- the distribution ------------------------------------------------
    def sample(self, sample_shape=(), rng=None):
        """Draw ``sample_shape + batch_shape`` class indices (int64).

        Parameters
        ----------
        sample_shape : int or tuple of int
        rng : None, int or numpy.random.Generator
            A Generator is advanced; a seed makes the draws reproducible.

        Notes
        -----
        Inverse-CDF sampling from the uniforms ``rng.random(sample_shape +
        batch_shape)`` would return: draw ``s`` of row ``i`` is the first class
        ``k`` whose cumulative weight exceeds ``u[s, i]`` times the row total.
        """
        sample_shape = as_sample_shape(sample_shape)
        gen = as_generator(rng)
        out = np.empty(sample_shape + self.batch_shape, dtype=np.int64)
        B = self._rows.shape[0]
        _categorical.sample(self._rows, out.reshape(-1, B) if B else out.reshape(0, 0),
                            gen.bit_generator, get_num_threads())
        return out

    def log_prob(self, value):
        """``logits[value] - logsumexp(logits)``, value broadcast against batch_shape."""
        block, rows, lse, shape = self._blocks(value)
        out = np.empty(block.shape, dtype=self.dtype)
        _categorical.log_prob(rows, lse, block, out, get_num_threads())
        return out.reshape(shape)

    def entropy(self):
        """``-sum_k p_k log p_k``, shape ``batch_shape`` (masked classes add 0)."""
        out = np.empty(self._rows.shape[0], dtype=self.dtype)
        _categorical.entropy(self._rows, self._lse, out, get_num_threads())
        return out.reshape(self.batch_shape)

    def score(self, value):
        r"""Gradient of ``log_prob(value)`` with respect to the logits.

        .. math:: \partial \log p(x) / \partial \ell_k = [x = k] - p_k

        Returns an array of shape ``value.shape + (K,)`` (value broadcast
        against ``batch_shape``).
        """
        block, rows, lse, shape = self._blocks(value)
        out = np.empty(block.shape + (self.num_classes,), dtype=self.dtype)
        _categorical.score(rows, lse, block, out, get_num_threads())
        return out.reshape(shape + (self.num_classes,))

    def weighted_score(self, value, weights, out=None):
        r"""``sum_s weights[s] * score(value[s])`` over the sample dimensions.

        .. math:: G_{ik} = \sum_s w_{si} ([x_{si} = k] - p_{ik})

        computed in one pass per row, without forming per-sample scores.

        Parameters
        ----------
        value : int array, shape ``sample_shape + batch_shape``
        weights : array, broadcastable to ``value.shape``
        out : ndarray, shape ``batch_shape + (K,)``, optional
            The result is *added* into ``out`` (gradient accumulation across
            calls); it must have the distribution's dtype and be C-contiguous.

        Returns
        -------
        ndarray of shape ``batch_shape + (K,)``: ``out`` if given.
        """
        value = as_value(value)
        weights = as_weights(weights, "weights", self.dtype, self.validate)
        try:
            shape = np.broadcast_shapes(value.shape, weights.shape)
        except ValueError:
            raise ValueError(f"weights of shape {weights.shape} do not broadcast "
                             f"against value of shape {value.shape}") from None
        self._sample_dims(shape)
        B = self._rows.shape[0]
        S = math.prod(shape) // B if B else 0
        block = np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(S, B)
        w = np.ascontiguousarray(np.broadcast_to(weights, shape)).reshape(S, B)
        out = self._grad_out(out, "out", (weights,))
        _categorical.weighted_score(self._rows, self._lse, block, w,
                                    out.reshape(B, self.num_classes), get_num_threads())
        return out

    def _grad_out(self, out, name, inputs):
        """A zeroed result, or ``out`` after checking it can take one."""
        shape = self._logits.shape
        if out is None:
            return np.zeros(shape, dtype=self.dtype)
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(out).__name__}")
        if out.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {out.shape}")
        if out.dtype != self.dtype:
            raise TypeError(f"{name} must have dtype {self.dtype}, got {out.dtype}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"{name} must be a writeable C-contiguous array")
        for x in (self._logits,) + tuple(inputs):
            if np.shares_memory(out, x):
                raise ValueError(f"{name} must not share memory with an input")
        return out
