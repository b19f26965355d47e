"""asv benchmarks of a new gradient: ``reinforce_grad`` without ``out=``,
whose kernel writes a new array (each row zeroed as it is reached), beside
the same call adding into zeros made for it (``out=np.zeros(...)``, what a
new gradient used to cost), on the inputs of C1 large, B1 large and P1
large, float64, on one thread and two. The gap is the zeroing pass and,
on two threads, page faults taken by both threads in a zeroed array."""
import numpy as np

import scorefast as sf
from scorefast import _workloads


def _inputs(family):
    """A distribution, its draws and rewards, with the workload's sizes."""
    if family == "categorical":
        inp = _workloads.make_c1_inputs("large")
        d = sf.Categorical(inp["L"])
        value = d.sample(inp["S"], rng=0)
        return d, value, _workloads._c1_rewards(inp["R"], value), "loo"
    if family == "bernoulli":
        inp = _workloads.make_b1_inputs("large")
        d = sf.Bernoulli(inp["L"])
        value = d.sample(inp["S"], rng=0)
        return d, value, _workloads._b1_rewards(inp["R"], value)[..., None], "loo"
    inp = _workloads.make_p1_inputs("large")
    d = sf.Normal(inp["loc"], np.exp(inp["log_scale"]))
    value = d.sample(1, rng=0)
    return d, value, np.random.default_rng(1).standard_normal(value.shape), "none"


class NewGradient:
    params = [["categorical", "bernoulli", "normal"], ["new", "into zeros"], [1, 2]]
    param_names = ["family", "out", "threads"]
    timeout = 300
    repeat = (3, 10, 20.0)

    def setup(self, family, out, threads):
        self.previous = sf.set_num_threads(threads)
        self.d, self.value, self.rewards, self.baseline = _inputs(family)
        shape = self.value.shape[1:] if family != "categorical" else self.d.logits.shape
        pair = family == "normal"
        self.zeros = ((lambda: (np.zeros(shape), np.zeros(shape))) if pair
                      else (lambda: np.zeros(shape)))

    def teardown(self, family, out, threads):
        sf.set_num_threads(self.previous)

    def time_reinforce_grad(self, family, out, threads):
        if out == "new":
            sf.reinforce_grad(self.d, self.value, self.rewards, baseline=self.baseline)
        else:
            sf.reinforce_grad(self.d, self.value, self.rewards, baseline=self.baseline,
                              out=self.zeros())
