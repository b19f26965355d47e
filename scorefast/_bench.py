"""``python -m scorefast bench``: every workload against its peers, in one run.

Workloads, sizes, inputs and peers come from :mod:`scorefast._workloads` (the
asv suite in ``benchmarks/`` uses the same definitions). For each workload,
size and dtype the available peers are timed in interleaved rounds (each
round times every peer once, in a rotating order), so that the ratios, which
are what the project reports, are measured under the same machine load.

A peer's time is the median over the rounds of its mean call time within a
round; a round calls it ``number`` times, ``number`` chosen as timeit's
autorange does so that one round lasts at least ``min_time``.
"""
import datetime
import gc
import math
import os
import platform
import sys
import time

import numpy as np

from scorefast import _workloads

__all__ = ["run_bench", "time_peers"]

#: Shortest timed stretch of one peer in one round (s).
MIN_TIME = 0.02
#: Rounds per cell by default: REPEAT, fewer when a round is slow (see _rounds).
REPEAT = 7
#: Interquartile range over median above which a row is flagged as noisy.
NOISY_SPREAD = 0.5


def _autorange(call, min_time):
    """Calls per round so that a round lasts at least ``min_time`` (timeit's rule)."""
    number = 1
    while True:
        for n in (1, 2, 5):
            k = number * n
            t0 = time.perf_counter()
            for _ in range(k):
                call()
            dt = time.perf_counter() - t0
            if dt >= min_time:
                return k, dt / k
        number *= 10


def _rounds(round_time, repeat):
    """Rounds for a cell whose every-peer round lasts ``round_time`` seconds."""
    if repeat is not None:
        return max(1, int(repeat))
    if round_time > 2.0:
        return 3
    if round_time > 0.5:
        return 5
    return REPEAT


def time_peers(calls, repeat=None, min_time=MIN_TIME, warmup=1):
    """Median seconds per call of each ``calls[name]()`` (a dict), interleaved.

    Returns ``{name: {"median", "q1", "q3", "number", "rounds"}}``.
    """
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    numbers, estimate = {}, {}
    for name in names:
        numbers[name], estimate[name] = _autorange(calls[name], min_time)
    round_time = sum(numbers[n] * estimate[n] for n in names)
    rounds = _rounds(round_time, repeat)
    samples = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                call, number = calls[name], numbers[name]
                t0 = time.perf_counter()
                for _ in range(number):
                    call()
                samples[name].append((time.perf_counter() - t0) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    out = {}
    for name in names:
        s = np.asarray(samples[name])
        out[name] = {"median": float(np.median(s)), "q1": float(np.percentile(s, 25)),
                     "q3": float(np.percentile(s, 75)), "number": numbers[name],
                     "rounds": rounds}
    return out


def _fmt_time(t):
    if t is None or not math.isfinite(t):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if float(f"{t / scale:.3g}") >= 1.0 or unit == "ns":
            return f"{t / scale:#.3g}".rstrip(".") + f" {unit}"


def _fmt_ratio(x):
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.0f}" if x >= 100 else f"{x:#.3g}"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_simd():
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # pragma: no cover - numpy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as feats
        except ImportError:
            return "?"
    have = [f for f in ("AVX512F", "AVX2", "FMA3", "ASIMD") if feats.get(f)]
    return ",".join(have) or "none of AVX2/AVX512F"


def _header(threads_sf, threads_torch):
    import scorefast
    from scorefast import _categorical
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        ncpu = os.cpu_count()
    lines = [
        f"scorefast bench  {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC",
        f"machine: {platform.node()}  {_cpu_model()}  {ncpu} usable cpus "
        f"(of {os.cpu_count()})  {platform.system()} {platform.release()}",
        f"python {platform.python_version()}  numpy {np.__version__} (SIMD {_numpy_simd()})  "
        f"scorefast {scorefast.__version__} "
        f"(OpenMP {'yes' if _categorical.have_openmp() else 'no'})",
    ]
    torch_text = "torch: not installed (torch peers skipped)"
    if threads_torch is not None:
        import torch
        torch_text = f"torch {torch.__version__}, {threads_torch} threads"
    lines.append(f"threads: scorefast {threads_sf}; {torch_text}; numpy peers 1 thread")
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        lines.append(f"load average before the run: {load} (a busy machine widens the spread)")
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        pass
    env = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS",
                                             "SCOREFAST_NUM_THREADS") if k in os.environ]
    if env:
        lines.append("environment: " + " ".join(env))
    lines.append("time: median over rounds of the mean call time; spread: interquartile "
                 "range / median")
    lines.append("sf/peer: scorefast's time over the peer's (<1: scorefast faster); "
                 "/floor: the peer's time over the floor's")
    return lines


def _select(workload, size):
    if workload is None:
        workloads = list(_workloads.WORKLOADS.values())
    else:
        try:
            workloads = [_workloads.get_workload(workload)]
        except ValueError as exc:
            raise SystemExit(f"python -m scorefast bench: error: {exc}") from None
    cells = []
    for w in workloads:
        sizes = list(w.sizes)
        if size is not None:
            if size not in w.sizes:
                if workload is not None:
                    raise SystemExit(f"python -m scorefast bench: error: unknown size "
                                     f"{size!r} for {w.name}; sizes: {', '.join(w.sizes)}")
                continue
            sizes = [size]
        cells.extend((w, s) for s in sizes)
    if not cells:
        raise SystemExit(f"python -m scorefast bench: error: no workload has size {size!r}")
    return cells


def run_bench(workload=None, size=None, threads=None, repeat=None, dtypes=None,
              min_time=MIN_TIME, file=None):
    """Time every available peer on every selected (workload, size, dtype).

    Parameters
    ----------
    workload : str, optional
        A workload name (``"C1"``); all defined workloads by default.
    size : str, optional
        One size (``"medium"``); every size by default.
    threads : int, optional
        Threads for scorefast's kernels (``scorefast.set_num_threads``) and for
        torch (``torch.set_num_threads``); their defaults otherwise.
    repeat : int, optional
        Timed rounds per cell; by default 7, or 5 or 3 for slow cells.
    dtypes : sequence of str, optional
        ``("float64", "float32")`` by default.
    min_time : float
        Shortest timed stretch of one peer in one round, in seconds.
    file : text stream, default sys.stdout

    Returns
    -------
    list of dict, one per (workload, size, dtype, peer) timed.
    """
    import scorefast

    file = sys.stdout if file is None else file
    dtypes = tuple(dtypes) if dtypes is not None else _workloads.DTYPES
    cells = _select(workload, size)

    torch = None
    if any(p.available() and "torch" in p.requires
           for w, _ in cells for p in w.peers.values()):
        import torch
    previous_sf = scorefast.set_num_threads(threads) if threads is not None else None
    previous_torch = None
    if torch is not None and threads is not None:
        previous_torch = torch.get_num_threads()
        torch.set_num_threads(threads)
    try:
        threads_torch = torch.get_num_threads() if torch is not None else None
        for line in _header(scorefast.get_num_threads(), threads_torch):
            print(line, file=file)
        print(file=file)
        cols = ("workload", "dtype", "size", "B x K x S", "peer", "time", "spread",
                "sf/peer", "/floor")
        widths = (8, 7, 6, 16, 12, 9, 7, 7, 8)
        fmt = "  ".join(f"{{:<{w}}}" if i < 5 else f"{{:>{w}}}"
                        for i, w in enumerate(widths))
        print(fmt.format(*cols), file=file)
        print("  ".join("-" * w for w in widths), file=file, flush=True)
        results = []
        n_noisy = 0
        t_start = time.perf_counter()
        for w, sz in cells:
            peers = w.available_peers()
            for dtype in dtypes:
                inputs = w.make_inputs(sz, dtype)
                calls = {}
                for name in peers:
                    # each peer its own copy of the inputs and its own generator
                    step = w.peers[name].step
                    L, R, S = inputs["L"].copy(), inputs["R"].copy(), inputs["S"]
                    rng = np.random.default_rng(_workloads.SEED)
                    calls[name] = (lambda step=step, L=L, R=R, S=S, rng=rng:
                                   step(L, R, S, rng))
                timing = time_peers(calls, repeat=repeat, min_time=min_time)
                del calls
                t_sf = timing.get("scorefast", {}).get("median")
                t_floor = timing.get("floor", {}).get("median")
                dims = " x ".join(str(x) for x in w.sizes[sz])
                for name in peers:
                    t = timing[name]["median"]
                    spread = (timing[name]["q3"] - timing[name]["q1"]) / t if t > 0 else 0.0
                    sf_ratio = t_sf / t if t_sf is not None and t > 0 else None
                    floor_ratio = t / t_floor if t_floor else None
                    noisy = spread > NOISY_SPREAD
                    n_noisy += noisy
                    print(fmt.format(w.name, dtype, sz, dims, name, _fmt_time(t),
                                     f"{100 * spread:.0f}%" + ("*" if noisy else ""),
                                     _fmt_ratio(sf_ratio),
                                     _fmt_ratio(floor_ratio)), file=file, flush=True)
                    results.append({"workload": w.name, "size": sz, "dtype": dtype,
                                    "peer": name, "time": t, "q1": timing[name]["q1"],
                                    "q3": timing[name]["q3"],
                                    "number": timing[name]["number"],
                                    "rounds": timing[name]["rounds"],
                                    "sf_over_peer": sf_ratio, "over_floor": floor_ratio})
        if n_noisy:
            print(f"\n* {n_noisy} row(s) with a spread over {100 * NOISY_SPREAD:.0f}%: the "
                  "machine was busy while they ran (multi-threaded peers suffer most); "
                  "rerun them, or compare with --threads 1", file=file)
        skipped = sorted({p.name for w, _ in cells for p in w.peers.values()
                          if not p.available()})
        if skipped:
            print(f"\nskipped (not installed): {', '.join(skipped)}", file=file)
        print(f"\ntotal {time.perf_counter() - t_start:.1f} s", file=file, flush=True)
        return results
    finally:
        if previous_sf is not None:
            scorefast.set_num_threads(previous_sf)
        if previous_torch is not None:
            torch.set_num_threads(previous_torch)
