"""Type stubs of scorefast._bernoulli: the compiled kernels of the Bernoulli family.

Private: called by the public modules with C-contiguous float32/float64
(int64 for class indices) arrays; outputs are written into the arrays passed.
"""
from typing import Any

from typing_extensions import disjoint_base

import numpy as np
from numpy.typing import NDArray

from scorefast._step import StepBase

def check(logits: NDArray[Any]) -> None: ...
def probs(logits: NDArray[Any], out: NDArray[Any], n_threads: int) -> None: ...
def entropy(logits: NDArray[Any], out: NDArray[Any], n_threads: int) -> None: ...
def log_prob(
    logits: NDArray[Any],
    value: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def score(
    logits: NDArray[Any],
    value: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def reinforce(
    logits: NDArray[Any],
    value: NDArray[Any],
    rewards: NDArray[Any],
    kind: int,
    c: float,
    eps: float,
    ddof: float,
    scale: float,
    out: NDArray[Any],
    n_threads: int,
    fresh: bool = ...,
) -> None: ...
def sample(
    logits: NDArray[Any],
    out: NDArray[Any],
    log_prob: NDArray[Any] | None,
    bit_generator: np.random.BitGenerator,
    numpy_uniforms: bool,
    n_threads: int,
) -> None: ...

@disjoint_base
class StepCore(StepBase):
    """The compiled core of scorefast.BernoulliStep."""
    def sample(self, logits: Any, rng: Any = None,
               out: tuple[NDArray[Any], NDArray[Any]] | None = None
               ) -> tuple[NDArray[Any], NDArray[Any]]: ...
    def grad(self, rewards: Any, out: NDArray[Any] | None = None) -> NDArray[Any]: ...
