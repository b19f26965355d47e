from typing import Final, Literal, overload

import numpy.typing as npt

from scorefast._typing import FloatArray
from scorefast.distributions import Bernoulli, Categorical, Distribution
from scorefast.gaussian import _Gaussian

__all__ = ["advantages", "EMABaseline", "reinforce_grad", "BASELINES"]

BASELINES: Final[tuple[str, ...]]

class EMABaseline:
    decay: float
    debias: bool
    value: float
    count: int
    def __init__(self, decay: float, debias: bool = True) -> None: ...
    def reset(self) -> None: ...
    def update(self, rewards: npt.ArrayLike) -> float: ...
    def __call__(self, rewards: npt.ArrayLike) -> FloatArray: ...

def advantages(rewards: npt.ArrayLike,
               baseline: Literal["none", "mean", "loo", "group"] | float | EMABaseline = "loo",
               axis: int = 0, groups: npt.ArrayLike | None = None, *, eps: float = 1e-8,
               ddof: int = 0) -> FloatArray: ...

@overload
def reinforce_grad(dist: _Gaussian, value: npt.ArrayLike, rewards: npt.ArrayLike,
                   baseline: str | float | EMABaseline = "loo",
                   reduction: Literal["mean", "sum"] = "mean", *,
                   groups: npt.ArrayLike | None = None, eps: float = 1e-8, ddof: int = 0,
                   out: tuple[FloatArray, FloatArray] | None = None
                   ) -> tuple[FloatArray, FloatArray]: ...
@overload
def reinforce_grad(dist: Categorical | Bernoulli, value: npt.ArrayLike, rewards: npt.ArrayLike,
                   baseline: str | float | EMABaseline = "loo",
                   reduction: Literal["mean", "sum"] = "mean", *,
                   groups: npt.ArrayLike | None = None, eps: float = 1e-8, ddof: int = 0,
                   out: FloatArray | None = None) -> FloatArray: ...
@overload
def reinforce_grad(dist: Distribution, value: npt.ArrayLike, rewards: npt.ArrayLike,
                   baseline: str | float | EMABaseline = "loo",
                   reduction: Literal["mean", "sum"] = "mean", *,
                   groups: npt.ArrayLike | None = None, eps: float = 1e-8, ddof: int = 0,
                   out: FloatArray | tuple[FloatArray, FloatArray] | None = None
                   ) -> FloatArray | tuple[FloatArray, FloatArray]: ...
