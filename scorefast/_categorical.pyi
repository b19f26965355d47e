"""Type stubs of scorefast._categorical: the compiled kernels of the Categorical family.

Private: called by the public modules with C-contiguous float32/float64
(int64 for class indices) arrays; outputs are written into the arrays passed.
"""
from typing import Any

from typing_extensions import disjoint_base

import numpy as np
from numpy.typing import NDArray

from scorefast._step import StepBase

BASELINE_KINDS: dict[str, int]

def prepare(
    logits: NDArray[Any],
    copy: NDArray[Any] | None,
    norm: NDArray[Any],
    check: bool,
    n_threads: int,
) -> None: ...
def log_normalizer(logits: NDArray[Any], norm: NDArray[Any], n_threads: int) -> None: ...
def entropy(
    logits: NDArray[Any],
    norm: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def probs(
    logits: NDArray[Any],
    norm: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def log_prob(
    logits: NDArray[Any],
    norm: NDArray[Any],
    value: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def score(
    logits: NDArray[Any],
    norm: NDArray[Any],
    value: NDArray[Any],
    out: NDArray[Any],
    n_threads: int,
) -> None: ...
def reinforce(
    logits: NDArray[Any],
    norm: NDArray[Any],
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
def check_finite(x: NDArray[Any], name: str) -> None: ...
def advantages(
    rewards: NDArray[Any],
    kind: int,
    c: float,
    eps: float,
    ddof: float,
    scale: float,
    out: NDArray[Any],
) -> None: ...
def sample(
    logits: NDArray[Any],
    norm: NDArray[Any],
    fill_norm: bool,
    out: NDArray[Any],
    log_prob: NDArray[Any] | None,
    bit_generator: np.random.BitGenerator,
    n_threads: int,
) -> None: ...
def exp_array(x: NDArray[Any], out: NDArray[Any]) -> None: ...
def expf_array(x: NDArray[Any], out: NDArray[Any]) -> None: ...
def exp_nonpos_array(x: NDArray[Any], out: NDArray[Any]) -> None: ...
def expf_nonpos_sub_array(x: NDArray[Any], out: NDArray[Any]) -> None: ...
def log_array(x: NDArray[Any], out: NDArray[Any]) -> None: ...
def normal_fill(key: int, offset: int, out: NDArray[Any]) -> None: ...
def normal_quantile_array(p: NDArray[Any], out: NDArray[Any]) -> None: ...
def max_threads() -> int: ...
def have_openmp() -> bool: ...

@disjoint_base
class StepCore(StepBase):
    """The compiled core of scorefast.CategoricalStep."""
    def sample(self, logits: Any, rng: Any = None,
               out: tuple[NDArray[np.int64], NDArray[Any]] | None = None
               ) -> tuple[NDArray[np.int64], NDArray[Any]]: ...
    def grad(self, rewards: Any, out: NDArray[Any] | None = None) -> NDArray[Any]: ...
