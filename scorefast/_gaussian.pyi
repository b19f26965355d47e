"""Type stubs of scorefast._gaussian: the compiled kernels of the Normal and DiagNormal family.

Private: called by the public modules with C-contiguous float32/float64
(int64 for class indices) arrays; outputs are written into the arrays passed.
"""
from typing import Any

from typing_extensions import disjoint_base

import numpy as np
from numpy.typing import NDArray

from scorefast._step import StepBase

def check(loc: NDArray[Any], scale: NDArray[Any]) -> None: ...
def marked_indices(marks: NDArray[np.uint8], portable: bool) -> NDArray[np.int64]: ...
def affine(
    loc: NDArray[Any],
    scale: NDArray[Any],
    x: NDArray[Any],
    n_threads: int,
) -> None: ...
def sample(
    loc: NDArray[Any],
    scale: NDArray[Any],
    x: NDArray[Any],
    log_prob: NDArray[Any] | None,
    bit_generator: np.random.BitGenerator,
    antithetic: bool,
    n_threads: int,
) -> None: ...
def log_prob(
    loc: NDArray[Any],
    scale: NDArray[Any],
    x: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def entropy(scale: NDArray[Any], out: NDArray[Any]) -> None: ...
def score(
    loc: NDArray[Any],
    scale: NDArray[Any],
    x: NDArray[Any],
    out_loc: NDArray[Any],
    out_log_scale: NDArray[Any],
    n_threads: int,
) -> None: ...
def reinforce(
    loc: NDArray[Any],
    scale: NDArray[Any],
    x: NDArray[Any],
    rewards: NDArray[Any],
    kind: int,
    c: float,
    eps: float,
    ddof: float,
    factor: float,
    out_loc: NDArray[Any],
    out_log_scale: NDArray[Any],
    n_threads: int,
    fresh: bool = ...,
) -> None: ...
def pathwise(
    loc: NDArray[Any],
    x: NDArray[Any],
    grad_f: NDArray[Any],
    out_loc: NDArray[Any],
    out_log_scale: NDArray[Any],
    n_threads: int,
) -> None: ...

@disjoint_base
class StepCore(StepBase):
    """The compiled core of scorefast.NormalStep and DiagNormalStep."""
    def _configure_draws(self, event: bool, antithetic: bool) -> None: ...
    def sample(self, loc: Any, scale: Any = None, rng: Any = None,
               out: tuple[NDArray[Any], NDArray[Any]] | None = None, *,
               log_scale: Any = None) -> tuple[NDArray[Any], NDArray[Any]]: ...
    def grad(self, rewards: Any,
             out: tuple[NDArray[Any], NDArray[Any]] | None = None
             ) -> tuple[NDArray[Any], NDArray[Any]]: ...
