"""asv benchmarks of streamed outputs (src_c/sf_stream.h): the scorefast step
of the large workloads whose outputs pass the streaming threshold in
float64 (C1's new gradient, B1's draws and log-probabilities, G1's and
G1-antithetic's draws: 64 MB each) with the threshold at its default and
raised past any output (ordinary stores), on one thread and two."""
import ctypes

import numpy as np

import scorefast as sf
from scorefast import _bernoulli, _categorical, _gaussian, _workloads

_MODULE = {"C1": _categorical, "B1": _bernoulli, "G1": _gaussian, "G1-antithetic": _gaussian}
_SETTER = {_categorical: "sf_cat_set_stream_min", _bernoulli: "sf_bern_set_stream_min",
           _gaussian: "sf_gauss_set_stream_min"}


def _stream_min_setter(workload):
    module = _MODULE[workload]
    fn = getattr(ctypes.CDLL(module.__file__), _SETTER[module])
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_size_t
    return fn


class Streaming:
    params = [["C1", "B1", "G1", "G1-antithetic"], ["streamed", "ordinary"], [1, 2]]
    param_names = ["workload", "stores", "threads"]
    timeout = 300
    repeat = (3, 10, 20.0)

    def setup(self, workload, stores, threads):
        self.previous = sf.set_num_threads(threads)
        self.set_min = _stream_min_setter(workload)
        self.default = self.set_min(0)
        # "streamed": the default threshold, as a user has it; "ordinary": one
        # that no output reaches
        self.set_min(self.default if stores == "streamed" else ctypes.c_size_t(-1).value)
        w = _workloads.get_workload(workload)
        self.step = w.peers["scorefast"].step
        self.args = w.call_args(_workloads.make_inputs(workload, "large"))
        self.rng = np.random.default_rng(0)

    def teardown(self, workload, stores, threads):
        self.set_min(self.default)
        sf.set_num_threads(self.previous)

    def time_step(self, workload, stores, threads):
        self.step(*self.args, self.rng)
