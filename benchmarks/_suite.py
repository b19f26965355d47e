"""The asv benchmark class every workload's suite derives from.

A suite times one workload of ``scorefast._workloads`` (the same sizes,
inputs and peer code as ``python -m scorefast bench``), one benchmark per
(size, peer): ``time_step`` (a whole step: draws, log-probabilities,
baseline, gradient) and ``peakmem_step``. A peer whose modules do not import
is skipped (``NotImplementedError`` in setup). Threads: every library's
default (scorefast: ``SCOREFAST_NUM_THREADS``, else all cores).

The name starts with an underscore so that asv does not collect this base
class itself.
"""
import numpy as np

from scorefast import _workloads


class _WorkloadBench:
    workload = None
    dtype = "float64"
    param_names = ["size", "peer"]
    timeout = 300
    # bounded repetition: the large sizes take up to ~0.5 s a call in the slow peers
    min_run_count = 2
    repeat = (3, 10, 20.0)

    def setup(self, size, peer):
        # NotImplementedError skips a peer that is not installed
        self.step = _workloads.get_peer(self.workload, peer)
        w = _workloads.get_workload(self.workload)
        self.args = w.call_args(w.make_inputs(size, self.dtype), peer)
        self.rng = np.random.default_rng(_workloads.SEED)
        self.step(*self.args, self.rng)          # warm-up (lazy imports, JIT compilation)

    def time_step(self, size, peer):
        self.step(*self.args, self.rng)

    def peakmem_step(self, size, peer):
        self.step(*self.args, self.rng)


def params(workload):
    """[sizes, peers] of a workload, for asv's ``params``."""
    return [list(_workloads.get_workload(workload).sizes), list(_workloads.PEER_ORDER)]
