"""asv benchmarks of a step's sample into new arrays and into the caller's
(``out=``, the buffers a training loop keeps from one iteration to the next),
on the workloads' inputs (``scorefast._workloads``): for a large batch the
difference is the page faults of new memory at every call, for a small one
the allocations."""
import numpy as np

import scorefast as sf
from scorefast import _workloads

#: (workload, size) pairs: a small batch and the large ones with big draws
CASES = ["C1-small", "B1-large", "G1-large", "P1-large"]


def _step_and_params(case, dtype):
    workload, size = case.split("-")
    if workload == "C1":
        d = _workloads.make_c1_inputs(size, dtype)
        return sf.CategoricalStep(d["S"], "loo"), (d["L"],)
    if workload == "B1":
        d = _workloads.make_b1_inputs(size, dtype)
        return sf.BernoulliStep(d["S"], "loo"), (d["L"],)
    if workload == "G1":
        d = _workloads.make_g1_inputs(size, dtype)
        return sf.DiagNormalStep(d["N"], "mean"), (d["mu"], np.exp(d["log_sigma"]))
    d = _workloads.make_p1_inputs(size, dtype)
    return sf.NormalStep(1, "none"), (d["loc"], np.exp(d["log_scale"]))


class StepSample:
    """``step.sample(params, rng)`` (new arrays) and ``step.sample(params,
    rng, out=buffers)`` (the same buffers at every call)."""

    params = [CASES, ["float64", "float32"], ["new", "out"]]
    param_names = ["case", "dtype", "into"]
    timeout = 300
    min_run_count = 2
    repeat = (3, 10, 20.0)

    def setup(self, case, dtype, into):
        self.step, self.params_ = _step_and_params(case, dtype)
        self.rng = np.random.default_rng(_workloads.SEED)
        value, log_prob = self.step.sample(*self.params_, self.rng)
        self.out = (np.empty_like(value), np.empty_like(log_prob)) if into == "out" else None
        self.step.sample(*self.params_, self.rng, out=self.out)

    def time_sample(self, case, dtype, into):
        self.step.sample(*self.params_, self.rng, out=self.out)
