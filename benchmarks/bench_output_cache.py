"""asv benchmarks of the output cache: the scorefast step of each large
workload (C1, B1, G1, P1 large, float64) with the cache at its default and
turned off (``scorefast.set_output_cache(0)``), on one thread and two. Each
timed call's outputs are dropped before the next, as a training loop drops
the last step's; with the cache on their memory is reused, off it is new
memory (page faults and the kernel's zeroing) at every call."""
import numpy as np

import scorefast as sf
from scorefast import _workloads


class OutputCache:
    params = [["C1", "B1", "G1", "P1"], ["on", "off"], [1, 2]]
    param_names = ["workload", "cache", "threads"]
    timeout = 300
    repeat = (3, 10, 20.0)

    def setup(self, workload, cache, threads):
        self.previous = sf.set_num_threads(threads)
        self.previous_cache = sf.set_output_cache(None if cache == "on" else 0)
        w = _workloads.get_workload(workload)
        self.step = w.peers["scorefast"].step
        self.args = w.call_args(_workloads.make_inputs(workload, "large"))
        self.rng = np.random.default_rng(0)

    def teardown(self, workload, cache, threads):
        sf.set_output_cache(self.previous_cache)
        sf.set_num_threads(self.previous)

    def time_step(self, workload, cache, threads):
        self.step(*self.args, self.rng)
