"""Distributions: sampling, log-probabilities and scores over compiled kernels.

Names follow ``torch.distributions``: a distribution has a ``batch_shape``
(independent distributions side by side) and values of shape
``sample_shape + batch_shape`` (+ ``event_shape``), sample dimensions first.
"""
import math

import numpy as np

from scorefast import _bernoulli, _categorical
from scorefast._config import get_num_threads, new_output
from scorefast._validation import aligned, as_generator, as_params, as_sample_shape, as_value, as_weights

__all__ = ["Distribution", "Categorical", "Bernoulli"]

#: the baseline arguments of the kernels for plain weights: no baseline, scale 1
NO_BASELINE = (_categorical.BASELINE_KINDS["none"], 0.0, 0.0, 0.0, 1.0)
#: baselines whose advantages sum to zero (src_c/advantages.h)
_CENTRED = {_categorical.BASELINE_KINDS[k] for k in ("mean", "loo", "group")}


def _broadcast_value(shape, batch):
    """The shape of a value of ``shape`` broadcast against ``batch``."""
    try:
        return np.broadcast_shapes(shape, batch)
    except ValueError:
        raise ValueError(f"value of shape {tuple(shape)} does not broadcast against "
                         f"batch_shape = {tuple(batch)}") from None


def check_out_array(o, name, shape, dtype, inputs):
    """o after checking that results of shape and dtype can be written into
    it: a writeable, aligned, C-contiguous numpy array sharing memory with
    none of the inputs."""
    if not isinstance(o, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(o).__name__}")
    if o.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {o.shape}")
    if o.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype}, got {o.dtype}")
    if not (o.flags.c_contiguous and o.flags.writeable and o.flags.aligned):
        raise ValueError(f"{name} must be a writeable, aligned, C-contiguous array")
    for x in inputs:
        if np.shares_memory(o, x):
            raise ValueError(f"{name} must not share memory with an input")
    return o


def check_grad_out(out, name, shape, dtype, param_names, inputs):
    """out after checking that it can take a gradient: one array per name in
    param_names (a tuple of them when there are several), each of shape and
    dtype (check_out_array), sharing memory with none of the inputs nor with
    one another."""
    n = len(param_names)
    outs = out if n > 1 else (out,)
    if n > 1 and (not isinstance(out, tuple) or len(out) != n):
        raise TypeError(f"{name} must be a tuple of {n} arrays ({', '.join(param_names)})")
    for o in outs:
        check_out_array(o, name, shape, dtype, inputs)
    if n > 1 and np.shares_memory(outs[0], outs[1]):
        raise ValueError(f"{name}: the arrays must not share memory")
    return out


class Distribution:
    """Shape bookkeeping shared by every family.

    Subclasses set ``batch_shape``, ``event_shape`` and ``dtype``, and name
    their parameters in ``_param_names`` (gradients come back as one array
    per parameter, a tuple when there are several).
    """

    batch_shape = ()
    event_shape = ()
    _param_names = ()

    @property
    def _param_shape(self):
        """Shape of each parameter, and so of each gradient."""
        return tuple(self.batch_shape) + tuple(self.event_shape)

    def _sample_dims(self, shape, name="value"):
        """The sample shape of an array of ``shape``: what precedes the batch and event dims."""
        tail = self.batch_shape + self.event_shape
        n = len(shape) - len(tail)
        if n < 0 or shape[n:] != tail:
            raise ValueError(
                f"{name} must have shape sample_shape + {tail}, got {tuple(shape)}")
        return tuple(shape[:n])

    #: whether weights may be shared along the last batch axis (see _weights_block)
    _row_weights = True

    def _weights_block(self, weights, sample_shape, name="weights"):
        """weights as an (S, M) block: one weight per sample and parameter row.

        weights broadcast against ``sample_shape + batch_shape``. When they are
        constant along the last batch axis (a trailing 1) and the family
        allows it (``_row_weights``), that axis joins the row
        (M = prod(batch_shape[:-1])) instead of being materialised; otherwise
        M = prod(batch_shape)."""
        target = tuple(sample_shape) + tuple(self.batch_shape)
        if weights.shape == target:
            # one weight per sample and batch element, as given: no broadcasting
            if len(sample_shape) == 1 and weights.ndim == 2 and weights.flags.c_contiguous:
                return weights                          # already (S, M)
            return np.ascontiguousarray(weights).reshape(
                math.prod(sample_shape), math.prod(self.batch_shape))
        if weights.ndim > len(target) or not all(
                a == b or a == 1 for a, b in zip(weights.shape[::-1], target[::-1])):
            raise ValueError(f"{name} of shape {weights.shape} do not broadcast to "
                             f"sample_shape + batch_shape = {target}")
        weights = weights.reshape((1,) * (len(target) - weights.ndim) + weights.shape)
        batch = tuple(self.batch_shape)
        S = math.prod(sample_shape)
        if self._row_weights and batch and batch[-1] > 1 and weights.shape[-1] == 1:
            shape = target[:-1] + (1,)
            M = math.prod(batch[:-1])
        else:
            shape = target
            M = math.prod(batch)
        if weights.shape != shape:
            weights = np.broadcast_to(weights, shape)
        return np.ascontiguousarray(weights).reshape(S, M)

    def _grad_out(self, out, name, inputs):
        """Zeroed gradient arrays (one per parameter), or ``out`` after
        checking it can take them; a tuple when there are several."""
        shape = self._param_shape
        n = len(self._param_names)
        if out is None and n == 1:
            return np.zeros(shape, dtype=self.dtype)
        if out is None and n == 2:
            return np.zeros(shape, dtype=self.dtype), np.zeros(shape, dtype=self.dtype)
        if out is None:
            arrays = tuple(np.zeros(shape, dtype=self.dtype) for _ in range(n))
            return arrays if n > 1 else arrays[0]
        return check_grad_out(out, name, shape, self.dtype, self._param_names,
                              self._params() + tuple(inputs))

    def _params(self):
        return tuple(getattr(self, p) for p in self._param_names)

    def __setstate__(self, state):
        # a transport may unpickle arrays into unaligned (or read-only)
        # buffers; the kernels need them aligned, and the cached normalisers
        # writeable, so such arrays are copied (read-only views stay read-only)
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                written = name in self._written_state
                if not value.flags.aligned or (written and not value.flags.writeable):
                    copy = value.copy()
                    copy.flags.writeable = written or value.flags.writeable
                    state[name] = copy
        self.__dict__.update(state)

    #: the arrays of a distribution's state that its methods write to (caches)
    _written_state = frozenset({"_norm_all"})


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
    copy : bool, default True
        Copy ``logits``. With ``False`` a C-contiguous array of the right
        dtype is used in place (saving a pass over it); the caller must then
        not modify it while the distribution is in use.

    Notes
    -----
    Construction makes one pass over the logits without exp: it validates
    them and finds each row's maximum. The log-sum of each row is computed
    once, when first needed (by the sampling pass itself if ``sample`` comes
    first); probabilities are never formed as an array unless ``probs`` is
    read, and ``reinforce_grad`` with a centred baseline (``"mean"``,
    ``"loo"``, ``"group"``) never needs them.

    With float32 logits the exponentials behind the log-sums and the
    sampler's inverse CDF are computed in float (within one float32 ulp,
    sixteen to a 512-bit vector), then summed in double: log-sums and
    log-probabilities are accurate to float32's precision, as the logits are.
    """

    def __init__(self, logits, validate=True, copy=True):
        given = as_params(logits, "logits", copy=False)
        if given.ndim == 0:
            raise ValueError("logits must have shape (..., K) with at least one dimension")
        K = given.shape[-1]
        if K == 0:
            raise ValueError("logits must have at least one class (K >= 1)")
        # the copy, when asked for, is written by the normaliser's own pass
        logits = np.empty_like(given) if copy else given
        rows = given if given.ndim == 2 else given.reshape(-1, K)
        self._rows = rows if not copy else logits.reshape(-1, K)
        # per row (max, log sum exp(logits - max)), see src_c/categorical.h:
        # the maxima now, in the validating pass; the log-sums when first
        # needed, by the sampling pass if that comes first (one exp pass saved)
        self._norm_all = np.empty((rows.shape[0], 2), dtype=np.float64)
        self._norm_ready = False
        self.validate = bool(validate)
        _categorical.prepare(rows, self._rows if copy else None, self._norm_all, self.validate,
                             get_num_threads())
        self._logits = logits.view()
        self._logits.flags.writeable = False

    _param_names = ("logits",)

    # -- parameters -----------------------------------------------------
    @property
    def _norm(self):
        """The rows' (max, log-sum) pairs, the log-sums computed on first use."""
        if not self._norm_ready:
            _categorical.log_normalizer(self._rows, self._norm_all, get_num_threads())
            self._norm_ready = True
        return self._norm_all

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
        """The shape of the batch of independent distributions, ``logits.shape[:-1]``."""
        return self._logits.shape[:-1]

    @property
    def _param_shape(self):
        return self._logits.shape

    @property
    def num_classes(self):
        """The number of classes K, ``logits.shape[-1]``."""
        return self._logits.shape[-1]

    @property
    def probs(self):
        """softmax(logits) over the last axis, shape ``batch_shape + (K,)``."""
        out = np.empty_like(self._rows)
        _categorical.probs(self._rows, self._norm, out, get_num_threads())
        return out.reshape(self._logits.shape)

    def log_normalizer(self):
        r"""logsumexp(logits) over the last axis (float64), shape ``batch_shape``.

        .. math:: \log \sum_k e^{\ell_k} = m + \log \sum_k e^{\ell_k - m}, \quad m = \max_k \ell_k

        The maxima are found at construction; the log-sums are computed on
        first use (or by the first ``sample``) and cached.

        Returns
        -------
        ndarray
            The log-normalisers: float64 whatever the logits' dtype (to
            float32's precision for float32 logits, see the class's Notes),
            shape ``batch_shape``.
        """
        return self._norm.sum(axis=1).reshape(self.batch_shape)

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
        shape = _broadcast_value(value.shape, batch)
        nb = len(batch)
        if shape[len(shape) - nb:] == batch:
            rows, norm = self._rows, self._norm
        else:
            K = self.num_classes
            rows = np.ascontiguousarray(
                np.broadcast_to(self._logits, shape + (K,)).reshape(-1, K))
            norm = np.ascontiguousarray(np.broadcast_to(
                self._norm.reshape(batch + (2,)), shape + (2,)).reshape(-1, 2))
        B = rows.shape[0]
        S = math.prod(shape) // B if B else 0
        block = np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(S, B)
        return block, rows, norm, shape

    # -- the distribution ------------------------------------------------
    def sample(self, sample_shape=(), rng=None):
        """Draw ``sample_shape + batch_shape`` class indices (int64).

        Parameters
        ----------
        sample_shape : int or tuple of int
            The sample dimensions, placed before ``batch_shape``; an int
            ``n`` means ``(n,)``.
        rng : None, int or numpy.random.Generator
            A Generator is advanced; a seed makes the draws reproducible.

        Returns
        -------
        ndarray
            Class indices in ``[0, K)``, int64, shape ``sample_shape +
            batch_shape``.

        Notes
        -----
        Inverse-CDF sampling from the uniforms ``rng.random(sample_shape +
        batch_shape)`` would return: draw ``s`` of row ``i`` is the first class
        ``k`` whose cumulative weight exceeds ``u[s, i]`` times the row total.
        """
        return self._sample(sample_shape, rng, False)[0]

    def sample_and_log_prob(self, sample_shape=(), rng=None):
        """Draw a sample and its log-probabilities in one pass over the logits.

        Returns ``(value, log_prob(value))`` for ``value = sample(sample_shape,
        rng)``: the draws are those ``sample`` makes.

        Parameters
        ----------
        sample_shape : int or tuple of int
            As for :meth:`sample`.
        rng : None, int or numpy.random.Generator
            As for :meth:`sample`.

        Returns
        -------
        value : ndarray
            The draws ``sample`` would return for the same ``rng``: int64,
            shape ``sample_shape + batch_shape``.
        log_prob : ndarray
            ``log_prob(value)``, the distribution's dtype, the same shape.
        """
        return self._sample(sample_shape, rng, True)

    def _sample(self, sample_shape, rng, with_log_prob):
        sample_shape = as_sample_shape(sample_shape)
        gen = as_generator(rng)
        shape = sample_shape + self.batch_shape
        out = new_output(shape, np.int64)
        logp = new_output(shape, self.dtype) if with_log_prob else None
        if len(sample_shape) == 1 and len(shape) == 2:
            out2, logp2 = out, logp                     # already (S, B)
        else:
            S, B = math.prod(sample_shape), self._rows.shape[0]
            out2 = out.reshape(S, B)
            logp2 = logp.reshape(S, B) if with_log_prob else None
        _categorical.sample(self._rows, self._norm_all, not self._norm_ready, out2, logp2,
                            gen.bit_generator, get_num_threads())
        self._norm_ready = True
        return out, logp

    def log_prob(self, value):
        r"""``logits[value] - logsumexp(logits)``, value broadcast against batch_shape.

        .. math:: \log p(k) = (\ell_k - m) - \log \sum_j e^{\ell_j - m}, \quad m = \max_j \ell_j

        (``-inf`` for a masked class).

        Parameters
        ----------
        value : array_like of int
            Class indices in ``[0, K)`` (any integer dtype; others are a
            ``TypeError``, an index outside the range a ``ValueError``),
            broadcastable against ``batch_shape``.

        Returns
        -------
        ndarray
            The distribution's dtype, shape ``broadcast(value.shape,
            batch_shape)``.
        """
        block, rows, norm, shape = self._blocks(value)
        out = np.empty(block.shape, dtype=self.dtype)
        _categorical.log_prob(rows, norm, block, out, get_num_threads())
        return out.reshape(shape)

    def entropy(self):
        r"""``-sum_k p_k log p_k``, shape ``batch_shape`` (masked classes add 0).

        .. math:: H = -\sum_k p_k \log p_k, \quad \log p_k = \ell_k - \operatorname{logsumexp}(\ell)

        Returns
        -------
        ndarray
            The distribution's dtype (summed in float64), shape ``batch_shape``.
        """
        out = np.empty(self._rows.shape[0], dtype=self.dtype)
        _categorical.entropy(self._rows, self._norm, out, get_num_threads())
        return out.reshape(self.batch_shape)

    def score(self, value):
        r"""Gradient of ``log_prob(value)`` with respect to the logits.

        .. math:: \partial \log p(x) / \partial \ell_k = [x = k] - p_k

        Parameters
        ----------
        value : array_like of int
            Class indices in ``[0, K)``, broadcastable against
            ``batch_shape``, as for :meth:`log_prob`.

        Returns
        -------
        ndarray
            The distribution's dtype, shape ``broadcast(value.shape,
            batch_shape) + (K,)``: one score row per value.
        """
        block, rows, norm, shape = self._blocks(value)
        out = np.empty(block.shape + (self.num_classes,), dtype=self.dtype)
        _categorical.score(rows, norm, block, out, get_num_threads())
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
        sample_shape = self._sample_dims(value.shape)
        weights = as_weights(weights, "weights", self.dtype, self.validate)
        w = self._weights_block(weights, sample_shape)
        if out is not None:
            out = self._grad_out(out, "out", (weights, value))
        return self._accumulate(value, w, NO_BASELINE, out)

    _row_weights = False
    _value = staticmethod(as_value)

    def _accumulate(self, value, block, baseline, out):
        """out += sum_s a[s] * score(value[s]), a the advantages of the (S, B)
        block under ``baseline`` = (kind, c, eps, ddof, scale); with out None,
        a new gradient, written by the kernel rather than zeroed beforehand
        and added to (the same bits; the zeroing shared by its threads)."""
        B, K = self._rows.shape
        S = block.shape[0]
        fresh = out is None
        if fresh:
            out = new_output(self._param_shape, self.dtype)
        v = value if value.shape == (S, B) and value.flags.c_contiguous else \
            np.ascontiguousarray(value).reshape(S, B)
        # a centred baseline never reads the log-sums (no probability term)
        norm = self._norm_all if baseline[0] in _CENTRED else self._norm
        _categorical.reinforce(self._rows, norm, v, block, *baseline,
                               out if out.ndim == 2 else out.reshape(B, K), get_num_threads(),
                               fresh)
        return out

def _as_binary(value, dtype):
    """Bernoulli values as an array of the distribution's dtype."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"value must be a real, integer or bool array, got dtype {arr.dtype}")
    return aligned(arr.astype(dtype, copy=False))


class Bernoulli(Distribution):
    r"""Independent Bernoulli variables over ``logits``, elementwise.

    .. math:: p(x) = \sigma(\ell)^x (1 - \sigma(\ell))^{1 - x}, \quad x \in \{0, 1\}

    Parameters
    ----------
    logits : array_like
        Log-odds; float32 is kept, other real dtypes become float64. Every
        value must be finite (checked unless ``validate=False``).
    validate : bool, default True
    copy : bool, default True
        As for :class:`Categorical`.

    Notes
    -----
    Log-probabilities use :math:`\log \sigma(\ell) = -\operatorname{softplus}(-\ell)`,
    never ``log(sigmoid)``, so they are exact for logits of any size. Values
    are returned, and accepted, in the logits' dtype (as in torch); integer
    and bool values are accepted too. Anything but 0 and 1 is an error.

    With float32 logits the probabilities and log-probabilities are computed
    in float (sixteen to a 512-bit vector), within 3 float32 ulp of the exact
    values, subnormal ones included; with float64, in double. Every method
    forms them alike: the sampler's log-probabilities are
    ``log_prob``'s, its draws compare uniforms with ``probs``, the score and
    the gradient subtract ``probs``.
    """

    def __init__(self, logits, validate=True, copy=True):
        logits = as_params(logits, "logits", copy)
        self._logits = logits.view()
        self._logits.flags.writeable = False
        self._flat = logits.reshape(-1)
        self._param_names = ("logits",)
        self.validate = bool(validate)
        if self.validate:
            _bernoulli.check(self._flat)

    @property
    def logits(self):
        """The logits as given (read-only), shape ``batch_shape``."""
        return self._logits

    @property
    def dtype(self):
        """float32 or float64: the logits' dtype, that of values and of every output."""
        return self._logits.dtype

    @property
    def batch_shape(self):
        """The shape of the batch of independent variables, ``logits.shape``."""
        return self._logits.shape

    @property
    def probs(self):
        """sigmoid(logits)."""
        out = np.empty_like(self._flat)
        _bernoulli.probs(self._flat, out, get_num_threads())
        return out.reshape(self.batch_shape)

    @property
    def mean(self):
        """The mean, ``probs`` = sigmoid(logits)."""
        return self.probs

    def __repr__(self):
        return f"Bernoulli(batch_shape={self.batch_shape}, dtype={self.dtype})"

    def _blocks(self, value):
        """value as an (S, N) block against flat logits (N,), broadcasting
        the logits when value broadcasts the batch dimensions."""
        value = _as_binary(value, self.dtype)
        batch = self.batch_shape
        shape = _broadcast_value(value.shape, batch)
        if shape[len(shape) - len(batch):] == batch:
            flat = self._flat
        else:
            flat = np.ascontiguousarray(np.broadcast_to(self._logits, shape)).reshape(-1)
        N = flat.shape[0]
        S = math.prod(shape) // N if N else 0
        block = np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(S, N)
        return block, flat, shape

    def sample(self, sample_shape=(), rng=None, method="fast"):
        """Draw ``sample_shape + batch_shape`` values in {0, 1} (the logits' dtype).

        Draw ``j`` is ``u_j < sigmoid(logits_j)`` for uniforms ``u``: with
        ``method="numpy"`` those ``rng.random(sample_shape + batch_shape)``
        would return (reproducible with numpy alone); with ``"fast"`` (the
        default) a counter-based stream keyed by one 64-bit draw from ``rng``,
        vectorised and independent of the thread count.

        Parameters
        ----------
        sample_shape : int or tuple of int
            The sample dimensions, placed before ``batch_shape``; an int
            ``n`` means ``(n,)``.
        rng : None, int or numpy.random.Generator
            A Generator is advanced; a seed makes the draws reproducible.
        method : {"fast", "numpy"}
            ``"fast"`` (the default): ``u`` from a counter-based stream
            (SplitMix64 outputs mapped to the open interval (0, 1)), keyed
            by one 64-bit draw of ``rng``; uniform ``s * N + j`` of the
            stream for element ``j`` of sample ``s`` (``N`` the number of
            logits), so the draws do not depend on the thread count, but
            differ from numpy's. ``"numpy"``: ``u`` are,
            bit for bit, what ``rng.random(sample_shape + batch_shape)``
            returns, so the draws can be reproduced with numpy alone.

        Returns
        -------
        ndarray
            0 and 1 in the logits' dtype, shape ``sample_shape + batch_shape``.
        """
        return self._sample(sample_shape, rng, method, False)[0]

    def sample_and_log_prob(self, sample_shape=(), rng=None, method="fast"):
        """``(value, log_prob(value))`` for the draws ``sample`` makes, in one pass.

        The probabilities and both log-probabilities of each element are
        computed once and serve every sample.

        Parameters
        ----------
        sample_shape : int or tuple of int
            As for :meth:`sample`.
        rng : None, int or numpy.random.Generator
            As for :meth:`sample`.
        method : {"fast", "numpy"}
            As for :meth:`sample`: the draws are those ``sample`` makes with
            the same arguments.

        Returns
        -------
        value : ndarray
            0 and 1 in the logits' dtype, shape ``sample_shape + batch_shape``.
        log_prob : ndarray
            ``log_prob(value)``, the same dtype and shape.
        """
        return self._sample(sample_shape, rng, method, True)

    def _sample(self, sample_shape, rng, method, with_log_prob):
        if method not in ("fast", "numpy"):
            raise ValueError(f"method must be 'fast' or 'numpy', got {method!r}")
        sample_shape = as_sample_shape(sample_shape)
        gen = as_generator(rng)
        shape = sample_shape + self.batch_shape
        out = new_output(shape, self.dtype)
        lp = new_output(shape, self.dtype) if with_log_prob else None
        N = self._flat.shape[0]
        S = math.prod(sample_shape)
        _bernoulli.sample(self._flat, out.reshape(S, N),
                          lp.reshape(S, N) if with_log_prob else None,
                          gen.bit_generator, method == "numpy", get_num_threads())
        return out, lp

    def log_prob(self, value):
        r"""``x * logits - softplus(logits)``, value broadcast against batch_shape.

        .. math:: \log p(1) = -\operatorname{softplus}(-\ell), \qquad
                  \log p(0) = -\operatorname{softplus}(\ell)

        with :math:`\operatorname{softplus}(t) = \max(t, 0) + \log(1 + e^{-|t|})`,
        exact for logits of any size.

        Parameters
        ----------
        value : array_like
            0 and 1 (real, integer or bool dtype, converted to the logits'
            dtype; any other value is a ``ValueError``), broadcastable
            against ``batch_shape``.

        Returns
        -------
        ndarray
            The logits' dtype, shape ``broadcast(value.shape, batch_shape)``.
        """
        block, flat, shape = self._blocks(value)
        out = np.empty(block.shape, dtype=self.dtype)
        _bernoulli.log_prob(flat, block, out, get_num_threads())
        return out.reshape(shape)

    def entropy(self):
        r"""``-p log p - (1 - p) log(1 - p)``, shape ``batch_shape``.

        .. math:: H = -p \log p - (1 - p) \log(1 - p)
                    = p \operatorname{softplus}(-\ell) + (1 - p) \operatorname{softplus}(\ell),
                  \quad p = \sigma(\ell)

        (the second form is the one computed).

        Returns
        -------
        ndarray
            The logits' dtype, shape ``batch_shape``.
        """
        out = np.empty_like(self._flat)
        _bernoulli.entropy(self._flat, out, get_num_threads())
        return out.reshape(self.batch_shape)

    def score(self, value):
        r"""Gradient of ``log_prob(value)`` with respect to the logits: ``value - sigmoid(logits)``.

        .. math:: \partial \log p(x) / \partial \ell = x - \sigma(\ell)

        Parameters
        ----------
        value : array_like
            0 and 1, broadcastable against ``batch_shape``, as for
            :meth:`log_prob`.

        Returns
        -------
        ndarray
            The logits' dtype, shape ``broadcast(value.shape, batch_shape)``.
        """
        block, flat, shape = self._blocks(value)
        out = np.empty(block.shape, dtype=self.dtype)
        _bernoulli.score(flat, block, out, get_num_threads())
        return out.reshape(shape)

    def weighted_score(self, value, weights, out=None):
        r"""``sum_s weights[s] * (value[s] - sigmoid(logits))`` over the sample dimensions.

        .. math:: G_j = \sum_s w_{sj} (x_{sj} - \sigma(\ell_j))

        computed in one pass without forming per-sample scores.
        ``weights`` broadcast against ``value``; weights constant along the
        last axis (shape ``(..., 1)``, one reward per row of a multivariate
        sample) are used without being expanded. ``out`` accumulates as in
        :meth:`Categorical.weighted_score`. Returns ``batch_shape``.

        Parameters
        ----------
        value : array_like, shape ``sample_shape + batch_shape``
            0 and 1 (real, integer or bool dtype), e.g. ``sample(sample_shape)``.
        weights : array_like, broadcastable to ``sample_shape + batch_shape``
            One weight per sample and element (finite unless
            ``validate=False``), converted to the logits' dtype.
        out : ndarray, shape ``batch_shape``, optional
            The result is *added* into ``out``; it must have the logits'
            dtype, be writeable and C-contiguous, and share no memory with
            the inputs.

        Returns
        -------
        ndarray
            The logits' dtype, shape ``batch_shape``: ``out`` if given.
        """
        value = _as_binary(value, self.dtype)
        sample_shape = self._sample_dims(value.shape)
        weights = as_weights(weights, "weights", self.dtype, self.validate)
        w = self._weights_block(weights, sample_shape)
        if out is not None:
            out = self._grad_out(out, "out", (weights, value))
        return self._accumulate(value, w, NO_BASELINE, out)

    def _value(self, value):
        return _as_binary(value, self.dtype)

    def _accumulate(self, value, block, baseline, out):
        """out += sum_s a[s] * score(value[s]), a the advantages of the (S, M)
        block under ``baseline`` = (kind, c, eps, ddof, scale); with out None,
        a new gradient, written by the kernel (not zeroed first, then added to)."""
        fresh = out is None
        if fresh:
            out = new_output(self._param_shape, self.dtype)
        N = self._flat.shape[0]
        v = np.ascontiguousarray(value).reshape(block.shape[0], N)
        _bernoulli.reinforce(self._flat, v, block, *baseline, out.reshape(-1),
                             get_num_threads(), fresh)
        return out
