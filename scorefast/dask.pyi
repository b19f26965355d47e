from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from dask.delayed import Delayed

from scorefast.accumulate import GradientAccumulator, GradientEstimate, _Baseline, _Reduction
from scorefast.distributions import Distribution

__all__ = ["estimate", "accumulate", "accumulate_delayed", "throughput"]

_D = TypeVar("_D", bound=Distribution)
_Seed = int | np.integer[Any] | np.random.SeedSequence

def accumulate_delayed(dist: Distribution, reward_fn: Callable[[Any], npt.ArrayLike],
                       n_samples: int, chunk_size: int | None = None, seed: _Seed = 0, *,
                       chunks_per_task: int | None = None, split_every: int = 8,
                       second_moments: bool = True, shift: float = 0.0,
                       antithetic: bool = False, num_threads: int | None = None) -> Delayed: ...
def accumulate(dist: _D, reward_fn: Callable[[Any], npt.ArrayLike], n_samples: int,
               chunk_size: int | None = None, seed: _Seed = 0, *, client: Any = None,
               chunks_per_task: int | None = None, split_every: int = 8,
               second_moments: bool = True, shift: float = 0.0, antithetic: bool = False,
               num_threads: int | None = None) -> GradientAccumulator[_D]: ...
def estimate(dist: Distribution, reward_fn: Callable[[Any], npt.ArrayLike], n_samples: int,
             chunk_size: int | None = None, seed: _Seed = 0, baseline: _Baseline = "loo",
             reduction: _Reduction = "mean", *, client: Any = None,
             chunks_per_task: int | None = None, split_every: int = 8,
             second_moments: bool = True, shift: float = 0.0, antithetic: bool = False,
             num_threads: int | None = None) -> GradientEstimate: ...
def throughput(workers: Sequence[int] = (1, 2), n_samples: int = 2_000_000,
               chunk_size: int = 50_000, dim: int = 50, repeat: int = 3,
               verbose: bool = True) -> dict[int, float]: ...
