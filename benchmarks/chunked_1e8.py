"""A chunked estimate from 10**8 samples in bounded memory (not an asv
benchmark: run it as a script, e.g. under ``/usr/bin/time -v``).

    python benchmarks/chunked_1e8.py [normal|categorical] [n_samples]

normal:      Normal(0.5, 1.0), reward x**2; exact gradient (1, 2).
categorical: Categorical over 4 actions (uniform), rewards 0..3; exact
             gradient [-0.375, -0.125, 0.125, 0.375].

Prints the estimate, its standard error, the time, and the peak resident
memory (``resource.getrusage``).
"""
import resource
import sys
import time

import numpy as np

import scorefast as sf
from scorefast.accumulate import estimate


def main(case="normal", n_samples=10**8):
    if case == "normal":
        dist, reward, exact = sf.Normal(0.5, 1.0), np.square, "(1, 2)"
    else:
        table = np.array([0.0, 1.0, 2.0, 3.0])
        dist, exact = sf.Categorical(np.zeros(4)), "[-0.375 -0.125 0.125 0.375]"

        def reward(a):
            return table[a]
    t0 = time.perf_counter()
    res = estimate(dist, reward, n_samples, seed=0, progress=True)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{case}: {n_samples:.0e} samples in chunks of the default size, "
          f"{elapsed:.1f} s ({n_samples / elapsed:.3g} samples/s), peak RSS {peak:.0f} MiB")
    print(f"grad   {res.grad}  (exact {exact})")
    print(f"stderr {res.stderr}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "normal",
         int(float(sys.argv[2])) if len(sys.argv) > 2 else 10**8)
