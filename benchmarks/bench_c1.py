"""asv benchmarks of workload C1 (categorical group REINFORCE, leave-one-out
baseline), timed for every peer: scorefast, NumPy, torch, torch without
autograd, JAX, Numba (serial and parallel), and the floor (one exp pass plus
the uniforms).

Sizes, inputs and the peers' code are those of ``scorefast._workloads``, which
``python -m scorefast bench`` also runs; nothing is duplicated here (see
``_suite.py``). A peer whose modules do not import is skipped.

C1Masked times scorefast's step alone on logits with masked classes.
"""
import numpy as np

from ._suite import _WorkloadBench, params as _params


class C1(_WorkloadBench):
    """C1 in float64."""

    workload = "C1"
    params = _params("C1")


class C1Float32(C1):
    """C1 in float32 (inputs: the float64 ones rounded)."""

    dtype = "float32"


class C1Masked:
    """scorefast's C1 step (a CategoricalStep's sample and gradient) on logits
    with a share of the classes masked, logit -inf, as action masks and
    top-k sampling make them: a masked class should cost no more than an
    ordinary one (its exponential, 0, is selected rather than computed)."""

    params = [["medium", "vocab"], [0.0, 0.05, 0.5]]
    param_names = ["size", "masked"]

    def setup(self, size, masked):
        import scorefast as sf
        from scorefast import _workloads
        inputs = _workloads.make_c1_inputs(size)
        logits = inputs["L"].copy()
        drop = np.random.default_rng(0).random(logits.shape) < masked
        drop[:, 0] = False                                  # every row keeps a class
        logits[drop] = -np.inf
        self.logits, self.table = logits, inputs["R"]
        self.rewards = _workloads._c1_rewards
        self.step = sf.CategoricalStep(inputs["S"], "loo")
        self.rng = np.random.default_rng(_workloads.SEED)

    def time_step(self, size, masked):
        actions, _ = self.step.sample(self.logits, self.rng)
        self.step.grad(self.rewards(self.table, actions))
