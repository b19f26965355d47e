"""asv benchmarks of workload B1 (Bernoulli group REINFORCE, leave-one-out
baseline) for every peer; sizes, inputs and peers from ``scorefast._workloads``."""
from ._suite import _WorkloadBench, params as _params


class B1(_WorkloadBench):
    """B1 in float64."""

    workload = "B1"
    params = _params("B1")


class B1Float32(B1):
    """B1 in float32."""

    dtype = "float32"
