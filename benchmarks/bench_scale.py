"""asv benchmarks of streaming accumulation (scorefast.accumulate): exact
sums, accumulator updates beside a plain reinforce_grad of the same chunk,
merges, and the chunked estimate's throughput in samples per second.

The Dask throughput against the number of worker processes needs a cluster
and is not an asv benchmark; run ``scorefast.dask.throughput()``.
"""
import numpy as np

import scorefast as sf
from scorefast import accumulate as acc


class ExactSum:
    """Adding a float64 array to an ExactSum, and reading it back."""

    params = [[100, 10_000, 1_000_000]]
    param_names = ["size"]

    def setup(self, size):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(size) * 1e3
        self.s = acc.ExactSum((size,))
        for _ in range(4):
            self.s.add(self.x)

    def time_add(self, size):
        self.s.add(self.x)

    def time_value(self, size):
        self.s._cache = None
        self.s.value()

    def time_numpy_add_peer(self, size):
        # what a float64 running sum costs (not exact, not order-independent)
        self.x + self.x


def _case(family):
    rng = np.random.default_rng(1)
    if family == "categorical":
        dist = sf.Categorical(rng.normal(size=(16, 8)))
        table = rng.normal(size=(16, 8))
        return dist, lambda v: np.take_along_axis(table, v.T, 1).T
    dist = sf.DiagNormal(np.zeros(100), 1.0)
    return dist, lambda x: -np.sum((x - 1.0) ** 2, axis=-1)


class AccumulatorUpdate:
    """One chunk of 2**13 samples into a GradientAccumulator, beside
    reinforce_grad(..., "loo") of the same chunk (the in-memory peer)."""

    params = [["categorical", "diagnormal"], [True, False]]
    param_names = ["family", "second_moments"]

    def setup(self, family, second_moments):
        self.dist, fn = _case(family)
        self.value = self.dist.sample(2**13, rng=0)
        self.rewards = fn(self.value)
        self.acc = acc.GradientAccumulator(self.dist, second_moments=second_moments)
        self.acc.update(self.value, self.rewards)

    def time_update(self, family, second_moments):
        self.acc.update(self.value, self.rewards)

    def time_reinforce_grad_peer(self, family, second_moments):
        sf.reinforce_grad(self.dist, self.value, self.rewards, baseline="loo")

    def time_merge(self, family, second_moments):
        self.acc.merge(self.acc)

    def time_read(self, family, second_moments):
        fresh = self.acc.merge(self.acc)      # no cached readouts
        fresh.grad("loo")
        if second_moments:
            fresh.stderr("loo")


class ChunkedEstimate:
    """estimate(): 10**6 samples in chunks of the default size (2**20 scores:
    8192 samples for a Categorical 16 x 8 table, 5242 for a DiagNormal(100)
    sphere)."""

    params = [["categorical", "diagnormal"]]
    param_names = ["family"]
    n_samples = 10**6
    timeout = 300
    repeat = (2, 5, 30.0)

    def setup(self, family):
        self.dist, self.fn = _case(family)

    def _run(self):
        return acc.estimate(self.dist, self.fn, self.n_samples, seed=0, progress=False)

    def time_estimate(self, family):
        self._run()

    def peakmem_estimate(self, family):
        self._run()

    def track_samples_per_second(self, family):
        import time
        t0 = time.perf_counter()
        self._run()
        return self.n_samples / (time.perf_counter() - t0)

    track_samples_per_second.unit = "samples/s"
