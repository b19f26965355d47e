import numpy as np
import numpy.typing as npt

__all__ = ["centered_ranks", "nes_utilities"]

def centered_ranks(f: npt.ArrayLike, axis: int = 0) -> npt.NDArray[np.float64]: ...
def nes_utilities(f: npt.ArrayLike, axis: int = 0) -> npt.NDArray[np.float64]: ...
