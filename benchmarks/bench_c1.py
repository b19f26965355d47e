"""asv benchmarks of workload C1 (categorical group REINFORCE, leave-one-out
baseline), timed for every peer: scorefast, NumPy, torch, torch without
autograd, and the floor (one exp pass plus the uniforms).

Sizes, inputs and the peers' code are those of ``scorefast._workloads``, which
``python -m scorefast bench`` also runs; nothing is duplicated here. A peer
whose modules do not import is skipped (``NotImplementedError`` in setup).
Threads: scorefast's default (``SCOREFAST_NUM_THREADS``, else all cores) and
torch's default.
"""
import numpy as np

from scorefast import _workloads


class C1:
    """C1 in float64."""

    params = [list(_workloads.C1_SIZES), list(_workloads.PEERS)]
    param_names = ["size", "peer"]
    dtype = "float64"
    timeout = 300
    # bounded repetition: the large size takes up to ~0.5 s a call
    min_run_count = 2
    repeat = (3, 10, 20.0)

    def setup(self, size, peer):
        # NotImplementedError skips a peer that is not installed
        self.step = _workloads.get_peer("C1", peer)
        inputs = _workloads.make_inputs("C1", size, self.dtype)
        self.L, self.R, self.S = inputs["L"], inputs["R"], inputs["S"]
        self.rng = np.random.default_rng(_workloads.SEED)
        self.step(self.L, self.R, self.S, self.rng)       # warm-up (lazy imports)

    def time_step(self, size, peer):
        self.step(self.L, self.R, self.S, self.rng)

    def peakmem_step(self, size, peer):
        self.step(self.L, self.R, self.S, self.rng)


class C1Float32(C1):
    """C1 in float32 (inputs: the float64 ones rounded)."""

    dtype = "float32"
