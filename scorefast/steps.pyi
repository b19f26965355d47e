from types import ModuleType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from scorefast._typing import FloatArray, IntArray, RNGLike

__all__ = ["CategoricalStep", "BernoulliStep", "NormalStep", "DiagNormalStep"]

_StepBaseline = Literal["none", "mean", "loo", "group"] | float

def bit_generator(rng: RNGLike) -> np.random.BitGenerator: ...
def as_rewards(rewards: npt.ArrayLike, shape: tuple[int, ...],
               dtype: npt.DTypeLike) -> FloatArray: ...
def check_out(out: Any, name: str, like: FloatArray, inputs: tuple[Any, ...],
              pair: bool) -> Any: ...
def check_sample_out(out: Any, value_shape: tuple[int, ...], value_dtype: np.dtype[Any],
                     log_prob_shape: tuple[int, ...], log_prob_dtype: np.dtype[Any],
                     inputs: tuple[Any, ...]) -> None: ...
def gaussian_params(loc: npt.ArrayLike, scale: npt.ArrayLike,
                    scale_name: str = "scale") -> tuple[FloatArray, FloatArray]: ...

_SUPPORT: ModuleType

class _Step:
    def __init__(self, n_samples: int, baseline: _StepBaseline = "loo",
                 reduction: Literal["mean", "sum"] = "mean", *, eps: float = 1e-8,
                 ddof: float = 0, validate: bool = True) -> None: ...
    @property
    def n_samples(self) -> int: ...
    @property
    def baseline(self) -> _StepBaseline: ...
    @property
    def reduction(self) -> Literal["mean", "sum"]: ...

class CategoricalStep(_Step):
    def sample(self, logits: npt.ArrayLike, rng: RNGLike = None,
               out: tuple[IntArray, FloatArray] | None = None
               ) -> tuple[IntArray, FloatArray]: ...
    def grad(self, rewards: npt.ArrayLike, out: FloatArray | None = None) -> FloatArray: ...

class BernoulliStep(_Step):
    def sample(self, logits: npt.ArrayLike, rng: RNGLike = None,
               out: tuple[FloatArray, FloatArray] | None = None
               ) -> tuple[FloatArray, FloatArray]: ...
    def grad(self, rewards: npt.ArrayLike, out: FloatArray | None = None) -> FloatArray: ...

class _GaussianStep(_Step):
    def __init__(self, n_samples: int, baseline: _StepBaseline = "mean",
                 reduction: Literal["mean", "sum"] = "mean", *, antithetic: bool = False,
                 eps: float = 1e-8, ddof: float = 0, validate: bool = True) -> None: ...
    def sample(self, loc: npt.ArrayLike, scale: npt.ArrayLike | None = None,
               rng: RNGLike = None, out: tuple[FloatArray, FloatArray] | None = None, *,
               log_scale: npt.ArrayLike | None = None) -> tuple[FloatArray, FloatArray]: ...
    def grad(self, rewards: npt.ArrayLike,
             out: tuple[FloatArray, FloatArray] | None = None
             ) -> tuple[FloatArray, FloatArray]: ...

class NormalStep(_GaussianStep): ...
class DiagNormalStep(_GaussianStep): ...
