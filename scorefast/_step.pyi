"""Type stubs of scorefast._step: the base of the compiled step cores.

Private: the step classes of scorefast.steps derive from it through their
compiled cores.
"""
from typing import Any

from typing_extensions import disjoint_base

#: the C functions other compiled modules cimport (step_threads, new_output)
__pyx_capi__: dict[str, Any]

def _set_step_threads(n: int) -> None: ...
def _set_output_cache(max_bytes: int) -> None: ...
def _output_cache_state() -> tuple[int, int, int]: ...
def _hold_output_cache_lock(seconds: float) -> None: ...
def _new_output(shape: tuple[int, ...], dtype: Any, zeros: bool = ...) -> Any: ...

@disjoint_base
class StepBase:
    """The configuration and bit generator every step core has."""
    def _configure(self, n_samples: int, kind: int, c: float, eps: float, ddof: float,
                   mean: bool, validate: bool, support: Any) -> None: ...
