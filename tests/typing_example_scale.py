"""Uses scorefast.accumulate, scorefast.noise and scorefast.dask with full
annotations; ``mypy --strict`` must accept it (tests/test_scale_typing.py
runs it). Also runs as a script (without a cluster: Dask's synchronous
scheduler)."""
from __future__ import annotations

import dask
import numpy as np
import numpy.typing as npt

import scorefast as sf
import scorefast.dask
from scorefast.accumulate import (ExactSum, GradientAccumulator, GradientEstimate, chunk_sizes,
                                  default_chunk_size, draw_chunk, estimate, merge_all)
from scorefast.noise import block_normal, block_rng, block_seed

F64 = npt.NDArray[np.float64]


def reward(x: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    return np.asarray(-np.sum((x - 1.0) ** 2, axis=-1), dtype=np.float64)


def main() -> None:
    rng: np.random.Generator = block_rng(3, (0, 1))
    ss: np.random.SeedSequence = block_seed(3, 2)
    eps = block_normal(ss, 0, (4, 2), dtype=np.float32)

    cat = sf.Categorical(rng.normal(size=(2, 3)))
    acc_c: GradientAccumulator[sf.Categorical] = GradientAccumulator(cat)
    a = cat.sample(50, rng=rng)
    acc_c.update(a, a.astype(np.float64)).update(a, np.ones(a.shape))
    g: F64 = acc_c.grad("loo")
    se: F64 = acc_c.stderr("optimal", "sum")
    b: F64 = acc_c.baseline(0.5)

    normal = sf.Normal(np.zeros(2), 1.0)
    acc_n = GradientAccumulator(normal, second_moments=True, shift=1.0)
    x = normal.sample(20, rng=rng)
    acc_n.update(x, x ** 2)
    g_loc, g_ls = acc_n.grad("mean")
    merged: GradientAccumulator[sf.Normal] = merge_all([acc_n, acc_n.copy()]) + acc_n
    n: int = merged.n
    mean: F64 = merged.mean_reward()

    s = ExactSum((3,))
    s.add(np.ones(3)).merge(ExactSum((3,)))
    total: F64 = s.value()

    diag = sf.DiagNormal(np.zeros(4), 0.5)
    res: GradientEstimate = estimate(diag, reward, 1000, chunk_size=100, seed=1,
                                     baseline="none", progress=False)
    sizes: list[int] = chunk_sizes(1000, 300)
    size: int = default_chunk_size(diag)
    chunk = draw_chunk(diag, 1, 0, 10, antithetic=True)
    with dask.config.set(scheduler="synchronous"):
        dres = scorefast.dask.estimate(diag, reward, 1000, chunk_size=100, seed=1,
                                       baseline="none", chunks_per_task=2)
    print(eps.shape, g.shape, se.shape, b.shape, g_loc.shape, g_ls.shape, n, mean, total,
          res.n_samples, dres.n_samples, sizes, size, chunk.shape)


if __name__ == "__main__":
    main()
