r"""Gaussian families over ``loc`` and ``scale``, and the pathwise estimator.

Scores and gradients are taken with respect to ``loc`` and ``log(scale)``:
with :math:`z = (x - \mu) / \sigma`,

.. math:: \partial_\mu \log p = z / \sigma, \qquad \partial_{\log\sigma} \log p = z^2 - 1.

Every method that returns a gradient returns the pair ``(d/dloc, d/dlog_scale)``.
"""
import math

import numpy as np

from scorefast import _gaussian
from scorefast._config import get_num_threads, new_output
from scorefast._categorical import check_finite
from scorefast._validation import (aligned, as_generator, as_params, as_sample_shape, as_weights,
                                   is_float32)
from scorefast.distributions import NO_BASELINE, Distribution

__all__ = ["Normal", "DiagNormal", "pathwise_grad"]


def _param_dtype(*xs):
    """float32 when every array among xs is float32 (Python scalars follow
    the arrays, as in numpy's promotion), else float64."""
    if all(type(x) is np.ndarray for x in xs):                  # the common case, fast
        return np.float32 if all(is_float32(x.dtype) for x in xs) else np.float64
    arrays = [x for x in xs if isinstance(x, (np.ndarray, np.generic))]
    if arrays and all(is_float32(np.asarray(a).dtype) for a in arrays):
        return np.float32
    return np.float64


class _Gaussian(Distribution):
    """What Normal and DiagNormal share: parameters viewed as (M, D) rows,
    where D is the event size (1 for Normal)."""

    _param_names = ("loc", "scale")

    def __init__(self, loc, scale, validate=True, copy=True):
        dtype = _param_dtype(loc, scale)
        loc = as_params(loc, "loc", False, dtype)
        scale = as_params(scale, "scale", False, dtype)
        try:
            shape = loc.shape if loc.shape == scale.shape else \
                np.broadcast_shapes(loc.shape, scale.shape)
        except ValueError:
            raise ValueError(f"loc of shape {loc.shape} and scale of shape {scale.shape} "
                             "do not broadcast") from None
        # order="C": a copy of a broadcast view keeps its memory order by
        # default (order="K"), which is not C-contiguous for a parameter
        # broadcast along a leading axis
        self._loc = np.array(np.broadcast_to(loc, shape), order="C", copy=True) if copy or \
            loc.shape != shape else loc
        self._scale = np.array(np.broadcast_to(scale, shape), order="C", copy=True) if copy or \
            scale.shape != shape else scale
        self._set_shapes(shape)
        D = math.prod(self.event_shape)
        self._loc2 = self._loc.reshape(-1, D) if D else self._loc.reshape(0, 0)
        self._scale2 = self._scale.reshape(-1, D) if D else self._scale.reshape(0, 0)
        self._loc = self._loc.view()
        self._scale = self._scale.view()
        self._loc.flags.writeable = False
        self._scale.flags.writeable = False
        self.validate = bool(validate)
        if self.validate:
            _gaussian.check(self._loc2, self._scale2)

    # -- parameters -----------------------------------------------------
    @property
    def loc(self):
        """The location ``loc`` (read-only), broadcast to ``batch_shape + event_shape``."""
        return self._loc

    @property
    def scale(self):
        """The scale ``scale`` (read-only), broadcast to ``batch_shape + event_shape``."""
        return self._scale

    @property
    def dtype(self):
        """float32 or float64: the parameters' dtype, that of values and of every output."""
        return self._loc.dtype

    @property
    def mean(self):
        """The mean, ``loc``."""
        return self._loc

    @property
    def stddev(self):
        """The standard deviation, ``scale``."""
        return self._scale

    @property
    def variance(self):
        """The variance, ``scale ** 2`` (a new array)."""
        return self._scale ** 2

    def __repr__(self):
        return (f"{type(self).__name__}(batch_shape={self.batch_shape}, "
                f"event_shape={self.event_shape}, dtype={self.dtype})")

    # -- values as (S, M, D) blocks ---------------------------------------
    def _as_value(self, value, name="value"):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real-valued array, got dtype {arr.dtype}")
        arr = aligned(arr.astype(self.dtype, copy=False))  # a view stays a view (out= aliasing)
        if self.validate:
            check_finite(arr if arr.flags.c_contiguous else np.ascontiguousarray(arr), name)
        return arr

    def _blocks(self, value):
        """value as an (S, M, D) block against (M, D) parameters; when value
        broadcasts the batch dimensions the parameters are broadcast too."""
        value = self._as_value(value)
        pshape = self._param_shape
        try:
            shape = np.broadcast_shapes(value.shape, pshape)
        except ValueError:
            raise ValueError(f"value of shape {value.shape} does not broadcast against "
                             f"batch_shape + event_shape = {pshape}") from None
        D = math.prod(self.event_shape)
        if shape[len(shape) - len(pshape):] == pshape:
            loc, scale = self._loc2, self._scale2
        else:
            loc = np.ascontiguousarray(np.broadcast_to(self._loc, shape)).reshape(-1, D)
            scale = np.ascontiguousarray(np.broadcast_to(self._scale, shape)).reshape(-1, D)
        M = loc.shape[0]
        S = math.prod(shape) // (M * D) if M * D else 0
        block = np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(S, M, D)
        return block, loc, scale, shape

    # -- the distribution ------------------------------------------------
    def sample(self, sample_shape=(), rng=None, antithetic=False, method="fast"):
        r"""Draw ``loc + scale * eps`` of shape ``sample_shape + batch_shape + event_shape``.

        Parameters
        ----------
        sample_shape : int or tuple of int
            The sample dimensions, placed before ``batch_shape +
            event_shape``; an int ``n`` means ``(n,)``.
        rng : None, int or numpy.random.Generator
            A Generator is advanced; a seed makes the draws reproducible.
        antithetic : bool
            Draw mirrored pairs: the first half along the leading sample
            dimension (which must be even) is ``loc + scale * eps``, the second
            ``loc - scale * eps`` with the same ``eps``.
        method : {"fast", "numpy"}
            ``"fast"``: ``eps`` from a counter-based stream (SplitMix64 outputs
            through Wichura's AS 241 normal quantile), keyed by one 64-bit
            draw from ``rng`` and vectorised; the draws do not depend on the
            thread count, but differ from numpy's. float64 parameters use the
            top 52 bits of each output and the double-precision quantile
            (PPND16, about 1e-16 relative); float32 ones 32 bits each, two
            draws to an output (its low half, then its high half), and the
            single-precision quantile (PPND7) in float32 arithmetic, within
            about 4e-7 relative of the exact quantile and nearly twice as
            fast, so their draws are not the float64 draws rounded.
            ``"numpy"``: ``eps`` are what ``rng.standard_normal(shape, dtype)``
            returns, so the draws reproduce ``loc + scale *
            rng.standard_normal(shape)`` bit for bit for a Generator seeded
            the same way (slower: numpy's ziggurat).
            With ``antithetic``, numpy draws the first half and the second
            is its negation.

        Returns
        -------
        ndarray
            The distribution's dtype, shape ``sample_shape + batch_shape +
            event_shape``.
        """
        return self._sample(sample_shape, rng, antithetic, method, False)[0]

    def sample_and_log_prob(self, sample_shape=(), rng=None, antithetic=False,
                            method="fast"):
        r"""``(value, log_prob(value))`` for the draws ``sample`` makes, the
        log-densities computed from the standardised draws in the same pass
        (``method="fast"``).

        With ``method="fast"`` the log-density of each draw is
        :math:`\sum_d -\epsilon_d^2/2 - \log \sigma_d - \log(2\pi)/2`, from
        the standard normals :math:`\epsilon` themselves (so it may differ
        from ``log_prob(value)`` in the last bits), and a mirrored antithetic
        draw gets the same value as its pair; with ``"numpy"`` it is
        ``log_prob(value)``, computed after sampling.

        Parameters
        ----------
        sample_shape : int or tuple of int
            As for :meth:`sample`.
        rng : None, int or numpy.random.Generator
            As for :meth:`sample`.
        antithetic : bool
            As for :meth:`sample`.
        method : {"fast", "numpy"}
            As for :meth:`sample`: the draws are those ``sample`` makes with
            the same arguments.

        Returns
        -------
        value : ndarray
            The distribution's dtype, shape ``sample_shape + batch_shape +
            event_shape``.
        log_prob : ndarray
            The distribution's dtype, shape ``sample_shape + batch_shape``
            (summed over the event).
        """
        return self._sample(sample_shape, rng, antithetic, method, True)

    def _sample(self, sample_shape, rng, antithetic, method, with_log_prob):
        sample_shape = as_sample_shape(sample_shape)
        gen = as_generator(rng)
        if method not in ("fast", "numpy"):
            raise ValueError(f"method must be 'fast' or 'numpy', got {method!r}")
        shape = sample_shape + self._param_shape
        if antithetic and (not sample_shape or sample_shape[0] % 2):
            raise ValueError("antithetic sampling needs an even leading sample "
                             f"dimension, got sample_shape={sample_shape}")
        M, D = self._loc2.shape
        S = math.prod(sample_shape)
        if method == "fast":
            x = new_output(shape, self.dtype)
            lp = new_output(sample_shape + self.batch_shape, self.dtype) \
                if with_log_prob else None
            # rows s and s + S/2 of the flattened samples are mirrored: with
            # sample_shape (S0, ...), exactly the halves of the leading dimension
            _gaussian.sample(self._loc2, self._scale2, x.reshape(S, M, D),
                             lp.reshape(S, M) if with_log_prob else None,
                             gen.bit_generator, antithetic, get_num_threads())
            return x, lp
        if antithetic:
            half = (sample_shape[0] // 2,) + shape[1:]
            x = np.empty(shape, dtype=self.dtype)
            gen.standard_normal(size=half, dtype=self.dtype, out=x[:half[0]])
            np.negative(x[:half[0]], out=x[half[0]:])
        else:
            x = gen.standard_normal(size=shape, dtype=self.dtype)
        _gaussian.affine(self._loc2, self._scale2, x.reshape(S, M, D), get_num_threads())
        return x, (self.log_prob(x) if with_log_prob else None)

    def log_prob(self, value):
        r"""Log-density of ``value``, summed over the event.

        .. math:: \log p(x) = \sum_d -\frac{z_d^2}{2} - \log \sigma_d - \frac{\log(2\pi)}{2},
                  \qquad z = (x - \mu) / \sigma

        with the sum over the event axis (:class:`DiagNormal`) or a single
        term (:class:`Normal`), computed in float64, but for the log of a
        float32 scale, taken in float32 arithmetic (within one float32 ulp,
        as precise as the scale itself); the sampler's log-densities the same.

        Parameters
        ----------
        value : array_like
            Real values (converted to the distribution's dtype; NaN or inf is
            a ``ValueError`` unless ``validate=False``), broadcastable against
            ``batch_shape + event_shape``.

        Returns
        -------
        ndarray
            The distribution's dtype, shape ``broadcast(value.shape,
            batch_shape + event_shape)`` without the event dimensions.
        """
        block, loc, scale, shape = self._blocks(value)
        out = np.empty(block.shape[:2], dtype=self.dtype)
        _gaussian.log_prob(loc, scale, block, out, get_num_threads())
        return out.reshape(shape[:len(shape) - len(self.event_shape)])

    def entropy(self):
        r"""``sum over the event of 1/2 + log(2 pi)/2 + log(scale)``, shape ``batch_shape``.

        .. math:: H = \sum_d \frac{1}{2} + \frac{\log(2\pi)}{2} + \log \sigma_d

        Returns
        -------
        ndarray
            The distribution's dtype, shape ``batch_shape``.
        """
        out = np.empty(self._scale2.shape[0], dtype=self.dtype)
        _gaussian.entropy(self._scale2, out)
        return out.reshape(self.batch_shape)

    def score(self, value):
        r"""``(z / scale, z**2 - 1)``: the gradients of ``log_prob(value)``
        with respect to loc and log(scale), each of value's shape.

        .. math:: \frac{\partial \log p}{\partial \mu_d} = \frac{z_d}{\sigma_d}, \qquad
                  \frac{\partial \log p}{\partial \log \sigma_d} = z_d^2 - 1, \qquad
                  z = (x - \mu) / \sigma

        one pair of entries per coordinate (a :class:`DiagNormal`'s event is
        not summed over: coordinate ``d`` of the event has its own gradient).

        Parameters
        ----------
        value : array_like
            Real values, broadcastable against ``batch_shape +
            event_shape``, as for :meth:`log_prob`.

        Returns
        -------
        score_loc : ndarray
            :math:`z / \sigma`, the distribution's dtype, shape
            ``broadcast(value.shape, batch_shape + event_shape)``.
        score_log_scale : ndarray
            :math:`z^2 - 1`, the same dtype and shape.
        """
        block, loc, scale, shape = self._blocks(value)
        g_loc = np.empty_like(block)
        g_ls = np.empty_like(block)
        _gaussian.score(loc, scale, block, g_loc, g_ls, get_num_threads())
        return g_loc.reshape(shape), g_ls.reshape(shape)

    def weighted_score(self, value, weights, out=None):
        r"""``sum_s weights[s] * score(value[s])`` over the sample dimensions.

        .. math:: g_\mu = \sum_s w_s z_s / \sigma, \qquad g_{\log\sigma} = \sum_s w_s (z_s^2 - 1)

        computed in one pass without forming per-sample scores. ``weights``
        broadcast against ``sample_shape + batch_shape`` (one weight per
        sample of the event). ``out``, a pair of arrays, accumulates.
        Returns the pair ``(g_loc, g_log_scale)`` of the parameters' shape.

        Parameters
        ----------
        value : array_like, shape ``sample_shape + batch_shape + event_shape``
            Real values, e.g. ``sample(sample_shape)``.
        weights : array_like, broadcastable to ``sample_shape + batch_shape``
            One weight per sample and batch element, shared by the
            coordinates of a :class:`DiagNormal`'s event (finite unless
            ``validate=False``), converted to the distribution's dtype.
        out : tuple of two ndarray, optional
            ``(g_loc, g_log_scale)``, each of shape ``batch_shape +
            event_shape`` and the distribution's dtype, writeable,
            C-contiguous, sharing no memory with each other or the inputs:
            the result is *added* into them.

        Returns
        -------
        g_loc : ndarray
            :math:`\sum_s w_s z_s / \sigma`, the distribution's dtype, shape
            ``batch_shape + event_shape``: ``out[0]`` if given.
        g_log_scale : ndarray
            :math:`\sum_s w_s (z_s^2 - 1)`, the same dtype and shape:
            ``out[1]`` if given.
        """
        value = self._as_value(value)
        sample_shape = self._sample_dims(value.shape)
        weights = as_weights(weights, "weights", self.dtype, self.validate)
        w = self._weights_block(weights, sample_shape)
        if out is not None:
            out = self._grad_out(out, "out", (weights, value))
        return self._accumulate(value, w, NO_BASELINE, out)

    def _value(self, value):
        return self._as_value(value)

    def _accumulate(self, value, block, baseline, out):
        """out += sum_s a[s] * score(value[s]) (the pair), a the advantages of
        the (S, M) block under ``baseline`` = (kind, c, eps, ddof, scale); with
        out None, a new pair, written by the kernel (not zeroed first, then
        added to)."""
        fresh = out is None
        if fresh:
            out = (new_output(self._param_shape, self.dtype),
                   new_output(self._param_shape, self.dtype))
        S, M = block.shape
        loc, scale = self._loc2, self._scale2
        if loc.shape[0] != M:                           # rewards shared along the last batch axis
            D = self._loc.size // M if M else 0
            loc, scale = loc.reshape(M, D), scale.reshape(M, D)
        shape = loc.shape
        g_loc, g_ls = out
        _gaussian.reinforce(loc, scale, np.ascontiguousarray(value).reshape((S,) + shape), block,
                            *baseline, g_loc.reshape(shape), g_ls.reshape(shape),
                            get_num_threads(), fresh)
        return out


class Normal(_Gaussian):
    r"""Independent normal variables, elementwise (torch's ``Normal``).

    .. math:: p(x) = \frac{1}{\sigma\sqrt{2\pi}} \exp\left(-\frac{(x - \mu)^2}{2\sigma^2}\right)

    Parameters
    ----------
    loc, scale : array_like, broadcastable against each other
        ``scale > 0`` (checked, with NaN and inf, unless ``validate=False``).
        The dtype is float32 when the arrays given are float32, else float64.
    validate, copy : bool
        As for :class:`Categorical`.
    """

    def _set_shapes(self, shape):
        self.batch_shape = shape
        self.event_shape = ()


class DiagNormal(_Gaussian):
    r"""A Gaussian with diagonal covariance over the last axis (torch's
    ``Independent(Normal(loc, scale), 1)``): ``log_prob`` and ``entropy``
    sum over the event axis.

    .. math:: p(x) = \prod_{d=1}^{D} \frac{1}{\sigma_d\sqrt{2\pi}}
              \exp\left(-\frac{(x_d - \mu_d)^2}{2\sigma_d^2}\right)

    Parameters
    ----------
    loc, scale : array_like, broadcastable against each other
        As for :class:`Normal`; they must broadcast to a shape of at least
        one dimension, ``batch_shape + (D,)`` with ``D >= 1`` (the last axis
        is the event).
    validate, copy : bool
        As for :class:`Categorical`.
    """

    def _set_shapes(self, shape):
        if len(shape) == 0:
            raise ValueError("loc must have at least one dimension (the event axis) "
                             "for DiagNormal")
        if shape[-1] == 0:
            raise ValueError("loc and scale must have a non-empty event axis (D >= 1) "
                             f"for DiagNormal, got shape {shape}")
        self.batch_shape = shape[:-1]
        self.event_shape = shape[-1:]


def pathwise_grad(dist, value, grad_f, reduction="mean"):
    r"""Reparameterisation (pathwise) estimate of the gradient of :math:`\mathbb{E}[f]`.

    With :math:`x = \mu + \sigma \epsilon`,

    .. math:: \partial_\mu \mathbb{E}[f] \approx \frac{1}{N} \sum f'(x), \qquad
              \partial_{\log\sigma} \mathbb{E}[f] \approx \frac{1}{N} \sum f'(x)(x - \mu)

    for :math:`N` the number of sample x batch elements (``"mean"``) or 1
    (``"sum"``), as in :func:`scorefast.reinforce_grad`, so both estimators
    can be compared on the same draws. Unbiased for differentiable ``f``;
    it sees nothing of a step (for ``f = 1{x > a}`` it returns 0).

    Parameters
    ----------
    dist : Normal or DiagNormal
    value : array, shape ``sample_shape + batch_shape + event_shape``
        Draws from ``dist``.
    grad_f : array, the shape of ``value``
        :math:`\partial f / \partial x` at each draw.
    reduction : {"mean", "sum"}

    Returns
    -------
    (g_loc, g_log_scale), each of the parameters' shape.
    """
    if not isinstance(dist, _Gaussian):
        raise TypeError(f"dist must be a Normal or DiagNormal, got {type(dist).__name__}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    value = dist._as_value(value)
    sample_shape = dist._sample_dims(value.shape)
    grad_f = dist._as_value(grad_f, "grad_f")
    if grad_f.shape != value.shape:
        try:
            grad_f = np.broadcast_to(grad_f, value.shape)
        except ValueError:
            raise ValueError(f"grad_f of shape {grad_f.shape} does not match value of "
                             f"shape {value.shape}") from None
    S = math.prod(sample_shape)
    M, D = dist._loc2.shape
    g_loc, g_ls = dist._grad_out(None, "out", ())
    _gaussian.pathwise(dist._loc2, np.ascontiguousarray(value).reshape(S, M, D),
                       np.ascontiguousarray(grad_f).reshape(S, M, D),
                       g_loc.reshape(M, D), g_ls.reshape(M, D), get_num_threads())
    n = S * math.prod(dist.batch_shape)
    if reduction == "mean" and n:
        g_loc *= g_loc.dtype.type(1.0 / n)
        g_ls *= g_ls.dtype.type(1.0 / n)
    return g_loc, g_ls
