"""asv benchmarks of workload C1 (categorical group REINFORCE, leave-one-out
baseline), timed for every peer: scorefast, NumPy, torch, torch without
autograd, JAX, Numba (serial and parallel), and the floor (one exp pass plus
the uniforms).

Sizes, inputs and the peers' code are those of ``scorefast._workloads``, which
``python -m scorefast bench`` also runs; nothing is duplicated here (see
``_suite.py``). A peer whose modules do not import is skipped.
"""
from ._suite import _WorkloadBench, params as _params


class C1(_WorkloadBench):
    """C1 in float64."""

    workload = "C1"
    params = _params("C1")


class C1Float32(C1):
    """C1 in float32 (inputs: the float64 ones rounded)."""

    dtype = "float32"
