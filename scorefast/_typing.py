"""Type aliases shared by scorefast's stubs (``*.pyi``) and annotated modules."""
from typing import Any, Union

import numpy as np
import numpy.typing as npt

__all__ = ["RNGLike", "ShapeLike", "FloatArray", "IntArray"]

#: What ``rng=`` accepts: None (fresh entropy), a seed, or numpy's generators.
RNGLike = Union[None, int, np.integer[Any], np.random.SeedSequence, np.random.BitGenerator,
                np.random.Generator]
#: A sample shape: an int or a tuple of ints.
ShapeLike = Union[int, np.integer[Any], tuple[int, ...]]
#: A float32 or float64 array.
FloatArray = npt.NDArray[np.floating[Any]]
#: An int64 array (class indices).
IntArray = npt.NDArray[np.int64]
