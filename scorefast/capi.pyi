# The C API is for Cython (scorefast/capi.pxd); from Python only this.
from typing import Any

__pyx_capi__: dict[str, Any]

def kernel_names() -> list[str]: ...
