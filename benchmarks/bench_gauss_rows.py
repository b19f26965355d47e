"""asv benchmarks of a Gaussian step's gradient by the length of its rows:
2^20 draws of a batch of states of D coordinates, one action per state
(NormalStep(1), one advantage per state, as P1) or eight (DiagNormalStep(8),
a leave-one-out baseline per state). Rows shorter than a vector of float
(D < 16) go through the kernel as runs of rows; this tracks that a short
row costs about what a long one does per element."""
import numpy as np

import scorefast as sf

DRAWS = 1 << 20


class GaussRowsGrad:
    """``step.grad(rewards, out=buffers)`` after one ``sample``, one thread."""

    params = [["one action", "eight actions"], [1, 4, 8, 16, 64], ["float64", "float32"]]
    param_names = ["per_state", "D", "dtype"]
    timeout = 300
    repeat = (3, 10, 20.0)

    def setup(self, per_state, D, dtype):
        self.previous = sf.set_num_threads(1)
        S = 1 if per_state == "one action" else 8
        B = DRAWS // (S * D)
        gen = np.random.default_rng(0)
        loc = gen.standard_normal((B, D)).astype(dtype)
        log_scale = gen.uniform(-1.5, 0.5, (B, D)).astype(dtype)
        if S == 1:
            self.step = sf.NormalStep(1, "none")
            self.rewards = gen.standard_normal((1, B, 1)).astype(dtype)
        else:
            self.step = sf.DiagNormalStep(S, "loo")
            self.rewards = gen.standard_normal((S, B)).astype(dtype)
        self.step.sample(loc, rng=1, log_scale=log_scale)
        self.out = (np.zeros_like(loc), np.zeros_like(loc))

    def teardown(self, per_state, D, dtype):
        sf.set_num_threads(self.previous)

    def time_grad(self, per_state, D, dtype):
        self.step.grad(self.rewards, out=self.out)
