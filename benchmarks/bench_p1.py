"""asv benchmarks of workload P1 (Gaussian policy batch, advantages given)
for every peer; sizes, inputs and peers from ``scorefast._workloads``."""
from ._suite import _WorkloadBench, params as _params


class P1(_WorkloadBench):
    """P1 in float64."""

    workload = "P1"
    params = _params("P1")


class P1Float32(P1):
    """P1 in float32."""

    dtype = "float32"
