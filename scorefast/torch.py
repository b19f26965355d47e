r"""PyTorch bridge: scorefast's estimators inside a PyTorch training loop.

This module needs torch (an optional dependency: ``import scorefast`` never
imports it). It converts CPU tensors to numpy and back without copying, and
computes the score-function gradient of a policy's logits with scorefast,
then hands it to autograd, so that a policy-gradient loop swaps its
surrogate loss for one call:

.. code-block:: python

    logits = policy(obs)                                  # (B, K), requires grad
    actions = torch.distributions.Categorical(logits=logits).sample((S,))  # (S, B)
    rewards = reward_fn(obs, actions)                     # (S, B)
    # plain PyTorch:
    #   logp = torch.distributions.Categorical(logits=logits).log_prob(actions)
    #   adv = rewards - (rewards.sum(0) - rewards) / (S - 1)
    #   (-(adv * logp).mean()).backward()
    # with scorefast, the same gradients in one call:
    scorefast.torch.reinforce_backward(logits, actions, rewards, baseline="loo")
    optimizer.step()

The gradient fed to autograd is minus :func:`scorefast.reinforce_grad` with
``reduction="mean"``: the gradient of the surrogate loss
``-(adv * log_prob).mean()`` with respect to the logits, computed in one
fused pass without materialising per-sample scores. Gradients then flow
through the network as from any ``backward`` call (they accumulate in
``.grad``).

Inside scorefast, ``import torch`` is an absolute import: it names the real
PyTorch package, never this module.
"""
from __future__ import annotations

from typing import Any, Literal, Union

import numpy as np
import numpy.typing as npt

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised without torch installed
    raise ImportError("scorefast.torch needs PyTorch: pip install torch") from exc

from scorefast.distributions import Bernoulli, Categorical
from scorefast.estimators import EMABaseline
from scorefast.estimators import reinforce_grad as _reinforce_grad

__all__ = ["to_numpy", "from_numpy", "reinforce_grad", "reinforce_backward"]

ArrayOrTensor = Union[torch.Tensor, npt.ArrayLike]
Baseline = Union[str, float, EMABaseline]

_KEPT = (torch.float32, torch.float64)


def to_numpy(tensor: torch.Tensor) -> npt.NDArray[Any]:
    """A numpy view of a CPU tensor's data, without copying.

    Parameters
    ----------
    tensor : torch.Tensor
        On the CPU; it is detached first (the view carries no autograd
        history). Lazy negation and conjugation bits are resolved (a copy
        only where one is set).

    Returns
    -------
    numpy.ndarray
        Shares memory with ``tensor``: writing to one changes the other.

    Raises
    ------
    ValueError
        If the tensor is not on the CPU (move it with ``.cpu()`` first: that
        copy is explicit).
    """
    if tensor.device.type != "cpu":
        raise ValueError(f"to_numpy needs a CPU tensor, got one on {tensor.device}; "
                         "move it with .cpu() first")
    return tensor.detach().resolve_neg().resolve_conj().numpy()


def from_numpy(array: npt.ArrayLike) -> torch.Tensor:
    """A CPU tensor over a numpy array's data, without copying.

    Parameters
    ----------
    array : array_like
        A writeable numpy array is shared (``torch.from_numpy``); anything
        else (a read-only array, a list) is copied first.

    Returns
    -------
    torch.Tensor
    """
    arr = np.asarray(array)
    if not arr.flags.writeable:
        arr = arr.copy()
    return torch.from_numpy(arr)


def _as_array(x: ArrayOrTensor) -> npt.NDArray[Any]:
    if isinstance(x, torch.Tensor):
        return to_numpy(x.cpu() if x.device.type != "cpu" else x)
    return np.asarray(x)


def reinforce_grad(logits: torch.Tensor, actions: ArrayOrTensor, rewards: ArrayOrTensor,
                   baseline: Baseline = "loo", *,
                   distribution: Literal["categorical", "bernoulli"] = "categorical",
                   reduction: Literal["mean", "sum"] = "mean",
                   groups: npt.ArrayLike | None = None, eps: float = 1e-8, ddof: int = 0,
                   validate: bool = True) -> torch.Tensor:
    r"""Score-function estimate of the gradient of :math:`\mathbb{E}[f]` with respect to logits.

    .. math:: g = \frac{1}{N} \sum_{s, i} (f_{si} - b_{si})\, \nabla_\ell \log p_\ell(a_{si})

    :func:`scorefast.reinforce_grad` for a distribution over ``logits``
    (read without copying when they are a float32 or float64 CPU tensor),
    returned as a tensor of the logits' shape, dtype and device. It is an
    ascent direction for the expected reward, the gradient of
    ``(adv * log_prob).mean()``; autograd is not involved.

    Parameters
    ----------
    logits : torch.Tensor, shape ``batch_shape + (K,)`` (Bernoulli: ``batch_shape``)
        Its data only is read (any autograd history is ignored here).
    actions : tensor or array, shape ``sample_shape + batch_shape``
        Class indices (integers) for a categorical, 0/1 for a Bernoulli.
    rewards : tensor or array, broadcastable to ``sample_shape + batch_shape``
    baseline : str, float or EMABaseline, default "loo"
        Computed along the sample dimensions, separately for each batch
        element; ``"none"``, ``"loo"``, a constant and an ``EMABaseline``
        keep the estimate unbiased, ``"mean"`` and ``"group"`` do not (see
        :mod:`scorefast.estimators`).
    distribution : {"categorical", "bernoulli"}
    reduction : {"mean", "sum"}
    groups, eps, ddof :
        As for :func:`scorefast.advantages`.
    validate : bool, default True
        Check the logits and rewards for NaN and inf.

    Returns
    -------
    torch.Tensor
        The estimate, of the logits' shape, dtype and device.

    Notes
    -----
    The estimator is unbiased for the unbiased baselines; its variance falls
    as :math:`1/S` in the number of samples per batch element, and a
    baseline close to :math:`\mathbb{E}[f]` lowers it further. Half
    precision logits are computed in float32 and the result cast back.
    """
    data = logits.detach()
    if data.device.type != "cpu":
        data = data.cpu()
    if data.dtype not in _KEPT:
        data = data.to(torch.float32)
    arr = np.ascontiguousarray(to_numpy(data))
    if distribution == "categorical":
        dist: Categorical | Bernoulli = Categorical(arr, validate=validate, copy=False)
    elif distribution == "bernoulli":
        dist = Bernoulli(arr, validate=validate, copy=False)
    else:
        raise ValueError(f"distribution must be 'categorical' or 'bernoulli', "
                         f"got {distribution!r}")
    value = _as_array(actions)
    if distribution == "bernoulli":
        value = value.astype(arr.dtype, copy=False)
    grad = _reinforce_grad(dist, value, _as_array(rewards), baseline, reduction,
                           groups=groups, eps=eps, ddof=ddof)
    out = torch.from_numpy(np.asarray(grad))
    return out.to(device=logits.device, dtype=logits.dtype)


def reinforce_backward(logits: torch.Tensor, actions: ArrayOrTensor, rewards: ArrayOrTensor,
                       baseline: Baseline = "loo", *,
                       distribution: Literal["categorical", "bernoulli"] = "categorical",
                       reduction: Literal["mean", "sum"] = "mean",
                       groups: npt.ArrayLike | None = None, eps: float = 1e-8, ddof: int = 0,
                       validate: bool = True, retain_graph: bool | None = None) -> torch.Tensor:
    r"""Backpropagate the REINFORCE surrogate loss through ``logits``, computed by scorefast.

    Equivalent to building ``loss = -(adv * log_prob).mean()`` over the
    same actions and calling ``loss.backward()``: feeds
    ``-reinforce_grad(logits, actions, rewards, baseline, ...)`` into
    autograd as ``logits.backward(gradient)``, so every parameter upstream of
    ``logits`` gets its gradient in ``.grad`` (added to what is there, as
    with any ``backward``), ready for ``optimizer.step()``.

    Parameters
    ----------
    logits : torch.Tensor
        The policy's output, requiring grad (a non-leaf tensor of the
        network's graph, or a leaf with ``requires_grad=True``).
    actions, rewards, baseline, distribution, reduction, groups, eps, ddof, validate :
        As for :func:`reinforce_grad`.
    retain_graph : bool, optional
        Passed to ``Tensor.backward``: ``True`` keeps the graph for a
        further backward pass through it (an entropy bonus, a value loss).

    Returns
    -------
    torch.Tensor
        The gradient fed to autograd: of the surrogate loss with respect to
        ``logits`` (minus the ascent direction).

    Raises
    ------
    RuntimeError
        If ``logits`` does not require grad.

    Notes
    -----
    Mathematically the gradient of ``-(adv * log_prob).mean()`` with respect
    to logit :math:`\ell_{ik}` is :math:`-\frac{1}{N}\sum_s \mathrm{adv}_{si}
    ([a_{si} = k] - p_{ik})`: scorefast sums this in one pass per row,
    without forming ``log_prob`` or per-sample scores, and without autograd
    recording any of it.
    """
    if not logits.requires_grad:
        raise RuntimeError("reinforce_backward: logits do not require grad "
                           "(compute them from parameters that do)")
    grad = reinforce_grad(logits, actions, rewards, baseline, distribution=distribution,
                          reduction=reduction, groups=groups, eps=eps, ddof=ddof,
                          validate=validate)
    grad.neg_()
    torch.autograd.backward(logits, grad, retain_graph=retain_graph)
    return grad
