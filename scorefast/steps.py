r"""Prepared REINFORCE steps: draw, then the gradient, one compiled call each.

A step object is made once for a family, a number of samples per batch
element and a baseline, and then used at every iteration of a training
loop::

    step = sf.CategoricalStep(n_samples=8, baseline="loo")
    for it in range(n_iterations):
        actions, logp = step.sample(logits, rng)        # (8,) + batch_shape each
        rewards = environment(actions)                  # the same shape
        grad = step.grad(rewards)                       # the logits' shape
        logits += lr * grad

``sample(params, rng)`` returns what ``Family(params).sample_and_log_prob(
n_samples, rng)`` returns, draw for draw, and ``grad(rewards)`` what
``reinforce_grad(Family(params), value, rewards, baseline, reduction)``
returns for those draws, bit for bit; the step saves the per-call work
of that path (a distribution object, the checks of the value it drew
itself), which is most of the cost for a small batch. Every output is a
new array unless ``out=`` is given (one of 1 MiB or more reuses the memory
of earlier outputs the caller has dropped: scorefast.set_output_cache):
``sample(..., out=(value, log_prob))`` writes into the caller's two arrays
(of the shapes and dtypes it returns), which a training loop can keep from
one iteration to the next, saving a large batch the page faults of new
memory at every call; ``grad(..., out=)`` accumulates into the caller's
array.

A step keeps the parameters it sampled from, the draws and the row
normalisers until the next ``sample``; ``grad`` reads them, so the
parameters (and draws written into ``out``) must not be changed in place in
between. A ``CategoricalStep`` over rows of more than 256 classes also
keeps the array of its next new gradient, which its sampler zeroes as it
draws from each row (where the stores cost little beside the
exponentials), until ``grad`` returns it. A step is not meant to
be shared between threads (each thread makes its own); the kernels it calls
release the GIL and run on :func:`scorefast.set_num_threads` threads.
"""
import numbers
import sys

import numpy as np

from scorefast import _bernoulli, _categorical, _gaussian
from scorefast._validation import aligned, as_generator, as_params
from scorefast.distributions import check_grad_out, check_out_array
from scorefast.estimators import _check_eps_ddof, _is_constant, _KERNEL_BASELINES
from scorefast.gaussian import _param_dtype

__all__ = ["CategoricalStep", "BernoulliStep", "NormalStep", "DiagNormalStep"]


# -- what the compiled cores call off their fast paths (this module is their support) ------
def bit_generator(rng):
    """The bit generator of rng (None, a seed or a Generator)."""
    return as_generator(rng).bit_generator


def as_rewards(rewards, shape, dtype):
    """rewards broadcast to shape, as a C-contiguous array of dtype."""
    r = np.asarray(rewards)
    if r.dtype.kind not in "biuf":
        raise TypeError(f"rewards must be a real-valued array, got dtype {r.dtype}")
    try:
        r = np.broadcast_to(r, shape)
    except ValueError:
        raise ValueError(f"rewards of shape {r.shape} do not broadcast to "
                         f"sample_shape + batch_shape = {tuple(shape)}") from None
    return aligned(np.ascontiguousarray(r, dtype=dtype))


def check_out(out, name, like, inputs, pair):
    """out (one array, or with pair a tuple of two, one per parameter) after
    checking that it can take a gradient of like's shape and dtype and
    shares no memory with the inputs."""
    return check_grad_out(out, name, like.shape, like.dtype,
                          ("loc", "log_scale") if pair else ("logits",), inputs)


def check_sample_out(out, value_shape, value_dtype, log_prob_shape, log_prob_dtype, inputs):
    """Raise the error that says why out cannot take a sample: a tuple of two
    arrays (the draws, their log-probabilities) of the shapes and dtypes
    given, each writeable, aligned and C-contiguous, sharing memory with none
    of the inputs nor with each other (the compiled cores' fast check of the
    same conditions failed)."""
    if not isinstance(out, tuple) or len(out) != 2:
        got = f"a tuple of {len(out)}" if isinstance(out, tuple) else type(out).__name__
        raise TypeError(f"out must be a tuple of two arrays (the draws, log_prob), got {got}")
    check_out_array(out[0], "out[0] (the draws)", value_shape, value_dtype, inputs)
    check_out_array(out[1], "out[1] (log_prob)", log_prob_shape, log_prob_dtype, inputs)
    if np.shares_memory(out[0], out[1]):
        raise ValueError("out: the draws and log_prob must not share memory")
    raise ValueError("out cannot take the sample")


def gaussian_params(loc, scale, scale_name="scale"):
    """loc and scale (or a log scale, named ``scale_name`` in messages)
    broadcast against each other, C-contiguous, in one dtype (float32 when
    both are float32 arrays, else float64)."""
    dtype = _param_dtype(loc, scale)
    loc = as_params(loc, "loc", False, dtype)
    scale = as_params(scale, scale_name, False, dtype)
    if loc.shape != scale.shape:
        try:
            loc, scale = np.broadcast_arrays(loc, scale)
        except ValueError:
            raise ValueError(f"loc of shape {loc.shape} and {scale_name} of shape {scale.shape} "
                             "do not broadcast") from None
        loc, scale = np.ascontiguousarray(loc), np.ascontiguousarray(scale)
    return loc, scale


# -- configuration ---------------------------------------------------------------------------
def _configuration(n_samples, baseline, reduction, eps, ddof):
    """(n_samples, kernel baseline code, constant, eps, ddof, mean?) checked."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__}")
    n_samples = int(n_samples)
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    _check_eps_ddof(eps, ddof)
    if isinstance(baseline, str) and baseline in _KERNEL_BASELINES and baseline != "constant":
        kind, c = _KERNEL_BASELINES[baseline], 0.0
    elif _is_constant(baseline):
        kind, c = _KERNEL_BASELINES["constant"], float(baseline)
    else:
        raise ValueError("a step takes baseline 'none', 'mean', 'loo', 'group' or a constant, "
                         f"got {baseline!r} (reinforce_grad takes 'optimal' and EMABaseline)")
    if baseline == "loo" and n_samples < 2:
        raise ValueError("baseline='loo' needs at least 2 samples (n_samples >= 2)")
    return n_samples, kind, c, float(eps), float(ddof), reduction == "mean"


class _Step:
    """The configuration every step is made with (checked, given to the
    compiled core) and shows (read-only)."""

    def __init__(self, n_samples, baseline="loo", reduction="mean", *, eps=1e-8, ddof=0,
                 validate=True):
        n, kind, c, eps, ddof, mean = _configuration(n_samples, baseline, reduction, eps, ddof)
        self._configure(n, kind, c, eps, ddof, mean, bool(validate), _SUPPORT)
        self._config = (n, baseline, reduction)

    n_samples = property(lambda self: self._config[0], doc="Samples per batch element.")
    baseline = property(lambda self: self._config[1], doc="The baseline, as given.")
    reduction = property(lambda self: self._config[2], doc="``'mean'`` or ``'sum'``.")

    def __repr__(self):
        n, baseline, reduction = self._config
        return (f"{type(self).__name__}(n_samples={n}, baseline={baseline!r}, "
                f"reduction={reduction!r})")


#: the module the compiled cores call back (bit_generator, as_rewards, ...)
_SUPPORT = sys.modules[__name__]


class CategoricalStep(_Step, _categorical.StepCore):
    r"""A REINFORCE step for categorical actions over logits.

    ``sample(logits, rng)`` draws ``n_samples`` actions per batch element
    and returns ``(actions, log_prob)``, each of shape ``(n_samples,) +
    logits.shape[:-1]`` (int64 and the logits' dtype): the draws and
    log-probabilities of ``Categorical(logits).sample_and_log_prob(n_samples,
    rng)``; ``sample(logits, rng, out=(actions, log_prob))`` writes them into
    the caller's arrays. ``grad(rewards, out=None)`` takes the rewards of those actions
    (broadcastable to their shape) and returns the score-function gradient
    with respect to the logits,

    .. math:: g = \frac{1}{N} \sum_{s, i} (f_{si} - b_{si})\,
              (\mathrm{onehot}(a_{si}) - \mathrm{softmax}(\ell_i)),

    as :func:`scorefast.reinforce_grad` computes it for the same draws;
    ``out=`` accumulates into an array of the logits' shape and dtype.

    Parameters
    ----------
    n_samples : int
        Actions drawn per batch element at each ``sample``.
    baseline : {"loo", "mean", "group", "none"} or float
        As for :func:`scorefast.reinforce_grad` (``"optimal"`` and
        :class:`scorefast.EMABaseline` are not offered here).
    reduction : {"mean", "sum"}
    eps, ddof : float
        The ``"group"`` baseline's, as for :func:`scorefast.advantages`.
    validate : bool, default True
        Check the logits (NaN, ``+inf``, a row of ``-inf``) and the rewards
        (NaN, inf) at every call; without, NaN propagates.

    Notes
    -----
    The logits are used in place (float32 kept, C-contiguous float arrays
    without a copy) and must not change between ``sample`` and ``grad``.
    ``sample`` reads them once: each row is validated, normalised and drawn
    from in one pass, after the uniforms are drawn, so invalid logits raise
    with the Generator advanced as by a successful call.
    """


class BernoulliStep(_Step, _bernoulli.StepCore):
    r"""A REINFORCE step for independent binary actions over logits.

    ``sample(logits, rng)`` draws ``n_samples`` values per element and
    returns ``(x, log_prob)``, each of shape ``(n_samples,) + logits.shape``
    in the logits' dtype: the draws and log-probabilities of
    ``Bernoulli(logits).sample_and_log_prob(n_samples, rng)`` (the
    counter-based sampler, ``method="fast"``), into the caller's arrays with
    ``out=(x, log_prob)``. ``grad(rewards, out=None)``
    takes one reward per value (broadcastable to their shape; a last axis
    of size 1 shares a reward along the logits' last axis, one per row of
    a multi-binary action) and returns the score-function gradient with
    respect to the logits,

    .. math:: g = \frac{1}{N} \sum_{s, j} (f_{sj} - b_{sj})\,
              (x_{sj} - \sigma(\ell_j)),

    as :func:`scorefast.reinforce_grad` computes it for the same draws;
    ``out=`` accumulates into an array of the logits' shape and dtype.

    Parameters
    ----------
    n_samples : int
        Values drawn per element at each ``sample``.
    baseline : {"loo", "mean", "group", "none"} or float
        As for :func:`scorefast.reinforce_grad`, over the samples of each
        reward's element (or row).
    reduction : {"mean", "sum"}
    eps, ddof : float
        The ``"group"`` baseline's, as for :func:`scorefast.advantages`.
    validate : bool, default True
        Check the logits (NaN, inf) and the rewards (NaN, inf) at every
        call; without, NaN propagates.

    Notes
    -----
    The logits are used in place (float32 kept, C-contiguous float arrays
    without a copy) and must not change between ``sample`` and ``grad``.
    """


class _GaussianStep(_Step, _gaussian.StepCore):
    _event_axis = None

    def __init__(self, n_samples, baseline="mean", reduction="mean", *, antithetic=False,
                 eps=1e-8, ddof=0, validate=True):
        super().__init__(n_samples, baseline, reduction, eps=eps, ddof=ddof, validate=validate)
        if antithetic and self.n_samples % 2:
            raise ValueError(f"antithetic sampling needs an even n_samples, got {self.n_samples}")
        self._configure_draws(self._event_axis, bool(antithetic))


class NormalStep(_GaussianStep):
    r"""A REINFORCE step for elementwise normal actions (``Normal(loc, scale)``).

    ``sample(loc, scale, rng)`` returns ``(x, log_prob)``, each of shape
    ``(n_samples,) + loc.shape``: the draws and log-densities of
    ``Normal(loc, scale).sample_and_log_prob(n_samples, rng)`` (the
    counter-based sampler, ``method="fast"``), into the caller's arrays with
    ``out=(x, log_prob)``. ``grad(rewards, out=None)``
    takes one reward per element (broadcastable to that shape) and returns
    the pair ``(d/dloc, d/dlog_scale)``, each of ``loc``'s shape, as
    :func:`scorefast.reinforce_grad` computes it for the same draws
    (``out=`` a pair to accumulate into). Rewards of shape ``(..., 1)``,
    one per row of ``loc`` shared by its coordinates (a policy's advantage
    per state), are summed row by row, without repeating them per element.

    A policy that holds log scales gives them as they are,
    ``sample(loc, rng=rng, log_scale=log_std)``: the kernels take their exp
    (no ``np.exp`` pass before the call), the log-densities use them as given,
    and ``grad`` is the same pair. They must lie in [-708, 708] (float64) or
    [-87, 87] (float32)::

        step = sf.NormalStep(n_samples=1, baseline="none")
        actions, logp = step.sample(mean, rng=rng, log_scale=log_std)   # (1, B, D)
        g_mean, g_log_std = step.grad(advantages[None, :, None])

    Parameters
    ----------
    n_samples : int
    baseline : {"mean", "loo", "group", "none"} or float
    reduction : {"mean", "sum"}
    antithetic : bool, default False
        Mirrored draws, as ``sample(..., antithetic=True)``: the second half
        of the samples negates the first's noise (``n_samples`` even).
    eps, ddof, validate :
        As for :class:`CategoricalStep` (``validate`` checks ``loc`` and
        ``scale`` for NaN and inf and ``scale > 0``).
    """

    _event_axis = False


class DiagNormalStep(_GaussianStep):
    r"""A REINFORCE step for diagonal Gaussian actions (``DiagNormal(loc, scale)``).

    The last axis of ``loc`` and ``scale`` is the event: ``sample(loc,
    scale, rng)`` returns ``x`` of shape ``(n_samples,) + loc.shape`` and
    its log-densities of shape ``(n_samples,) + loc.shape[:-1]``, those of
    ``DiagNormal(loc, scale).sample_and_log_prob(n_samples, rng)`` (into
    the caller's arrays with ``out=(x, log_prob)``);
    ``grad(rewards)`` takes one reward per draw (shape ``(n_samples,) +
    loc.shape[:-1]``) and returns ``(d/dloc, d/dlog_scale)``. This is the
    evolution-strategies search gradient::

        step = sf.DiagNormalStep(n_samples=64, baseline="mean", antithetic=True)
        x, logp = step.sample(mu, rng=rng, log_scale=log_sigma)   # (64, D), (64,)
        g_mu, g_log_sigma = step.grad(fitness(x))

    (``sample(mu, np.exp(log_sigma), rng)`` is the same step given scales.)

    Parameters are those of :class:`NormalStep`.
    """

    _event_axis = True
