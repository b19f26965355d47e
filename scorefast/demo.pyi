from typing import Any

def run_demo(steps: int = 300, seed: int = 0, batch: int = 64, samples: int = 8,
             lr: float = 2.0, verbose: bool = True) -> dict[str, Any]: ...
def variance_table(mu: float = 1.0, c: float = 0.0, sigma: float = 1.0, samples: int = 8,
                   repeats: int = 20000, seed: int = 0,
                   verbose: bool = True) -> list[dict[str, Any]]: ...
