"""asv benchmarks of workloads G1 and G1-antithetic (Gaussian search
gradient, mean baseline; the second with N/2 noise rows mirrored) for every
peer; sizes, inputs and peers from ``scorefast._workloads``."""
from ._suite import _WorkloadBench, params as _params


class G1(_WorkloadBench):
    """G1 in float64."""

    workload = "G1"
    params = _params("G1")


class G1Float32(G1):
    """G1 in float32."""

    dtype = "float32"


class G1Antithetic(_WorkloadBench):
    """G1-antithetic in float64."""

    workload = "G1-antithetic"
    params = _params("G1-antithetic")


class G1AntitheticFloat32(G1Antithetic):
    """G1-antithetic in float32."""

    dtype = "float32"
