from typing import Any, SupportsIndex

import numpy as np
import numpy.typing as npt

__all__ = ["block_seed", "block_rng", "block_normal"]

_Seed = int | np.integer[Any] | np.random.SeedSequence
_Block = int | np.integer[Any] | tuple[int | np.integer[Any], ...]

def block_seed(seed: _Seed, block: _Block) -> np.random.SeedSequence: ...
def block_rng(seed: _Seed, block: _Block,
              bit_generator: type[np.random.BitGenerator] = ...) -> np.random.Generator: ...
def block_normal(seed: _Seed, block: _Block, shape: SupportsIndex | tuple[SupportsIndex, ...],
                 dtype: npt.DTypeLike = ...) -> npt.NDArray[np.floating[Any]]: ...
