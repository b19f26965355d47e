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
import importlib.util
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
#: Seconds of timed calls a slow peer gets in one cell (its rounds are capped to fit).
PEER_BUDGET = 0.3
#: Fewest rounds of a slow peer (unless the cell has fewer).
MIN_ROUNDS = 3


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


def _peer_rounds(rounds, peer_round_time, repeat):
    """Rounds for one peer: all of the cell's, unless the peer is slow (a
    round of it over PEER_BUDGET / rounds seconds), then as many as fit in
    PEER_BUDGET, at least MIN_ROUNDS. An explicit ``repeat`` is kept."""
    if repeat is not None or peer_round_time <= 0:
        return rounds
    fit = int(PEER_BUDGET / peer_round_time)
    return max(min(MIN_ROUNDS, rounds), min(rounds, fit))


def time_peers(calls, repeat=None, min_time=MIN_TIME, warmup=1):
    """Median seconds per call of each ``calls[name]()`` (a dict), interleaved.

    Every round times each peer once (``number`` calls, so that the stretch
    lasts ``min_time``), in an order rotating from round to round; a slow
    peer drops out after its own number of rounds (``_peer_rounds``).

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
    own = {n: _peer_rounds(rounds, numbers[n] * estimate[n], repeat) for n in names}
    samples = {name: [] for name in names}
    for name in names:
        # a slow peer's autorange call (one call, after the warm-up) is its
        # first sample: it saves a call of up to seconds
        if numbers[name] == 1 and own[name] < rounds:
            samples[name].append(estimate[name])
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                if len(samples[name]) >= own[name]:
                    continue
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
                     "rounds": own[name]}
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


class _Threads:
    """Thread counts of every peer family, set for a run and restored after.

    scorefast: ``set_num_threads``; torch: ``torch.set_num_threads``; numba:
    ``numba.set_num_threads``; NumPy's BLAS (OpenBLAS, which the NumPy peers
    use for matrix-vector products): its ``set_num_threads`` through ctypes;
    JAX: XLA sizes its thread pool by the CPU affinity when its CPU client
    starts, so with fewer threads than usable CPUs the client is started with
    the process pinned to that many CPUs, then every thread unpinned (too late
    once JAX has started: then XLA keeps its default).
    """

    def __init__(self, threads, families):
        self.threads = threads
        self.families = families
        self._restore = []
        self.text = {}

    def __enter__(self):
        import scorefast
        n = self.threads
        if "jax" in self.families:
            try:
                jax_text = _start_jax(n)
            except Exception as exc:  # not importable: the jax peers are skipped
                jax_text = f"unavailable ({type(exc).__name__})"
        if n is not None:
            prev = scorefast.set_num_threads(n)
            self._restore.append(lambda: scorefast.set_num_threads(prev))
        self.text["scorefast"] = str(scorefast.get_num_threads())
        blas = _blas_threads()
        if blas is not None:
            set_blas, get_blas = blas
            if n is not None:
                prev_blas = get_blas()
                set_blas(n)
                self._restore.append(lambda: set_blas(prev_blas))
            self.text["numpy BLAS"] = str(get_blas())
        if "torch" in self.families:
            try:
                import torch
            except Exception:  # not importable: the torch peers are skipped
                torch = None
        if "torch" in self.families and torch is not None:
            if n is not None:
                prev_t = torch.get_num_threads()
                torch.set_num_threads(n)
                self._restore.append(lambda: torch.set_num_threads(prev_t))
            self.text["torch"] = str(torch.get_num_threads())
        if "numba" in self.families:
            setter = _workloads.numba_threads_setter()
            if setter is not None:
                set_nb, get_nb = setter
                if n is not None:
                    prev_nb = get_nb()
                    set_nb(min(n, _numba_max_threads()))
                    self._restore.append(lambda: set_nb(prev_nb))
                self.text["numba-parallel"] = str(get_nb())
        if "jax" in self.families:
            self.text["jax"] = jax_text
        return self

    def __exit__(self, *exc):
        for undo in reversed(self._restore):
            try:
                undo()
            except Exception:  # pragma: no cover
                pass
        return False


def _numba_max_threads():
    import numba
    return numba.config.NUMBA_NUM_THREADS


def _blas_threads():
    """(set, get) of the thread count of the OpenBLAS NumPy loaded, or None."""
    try:
        from threadpoolctl import threadpool_limits, threadpool_info
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            state = {}

            def set_n(n):
                state["lim"] = threadpool_limits(n, user_api="blas")

            def get_n():
                return [i for i in threadpool_info() if i.get("user_api") == "blas"][0][
                    "num_threads"]
            return set_n, get_n
    try:
        import ctypes
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f
                     if "openblas" in line.lower() and ".so" in line}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"),
                                   ("scipy_openblas", ""), ("openblas", "")):
                set_fn = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                get_fn = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if set_fn is not None and get_fn is not None:
                    set_fn.argtypes = [ctypes.c_int]
                    get_fn.restype = ctypes.c_int
                    return (lambda n, f=set_fn: f(int(n))), (lambda f=get_fn: int(f()))
    except (OSError, AttributeError):  # pragma: no cover - not Linux, no OpenBLAS
        pass
    return None


def _start_jax(n):
    """Start JAX's CPU client with a thread pool of ``n`` (see _Threads);
    returns the text for the header."""
    started = "jax" in sys.modules
    try:
        full = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        full = None
    pin = n is not None and full is not None and n < len(full) and not started
    if pin:
        os.sched_setaffinity(0, set(sorted(full)[:n]))
    try:
        jax, _ = _workloads._jax_modules()
        jax.devices()
    finally:
        if pin:
            for tid in os.listdir("/proc/self/task"):
                try:
                    os.sched_setaffinity(int(tid), full)
                except OSError:  # pragma: no cover - a thread that just ended
                    pass
    if pin:
        return f"{n} (XLA pool started pinned)"
    if n is not None and full is not None and n < len(full):
        return "XLA default (JAX started before the bench)"
    return "XLA default"


def _header(threads):
    import scorefast
    from scorefast import _categorical
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        ncpu = os.cpu_count()
    versions = [f"python {platform.python_version()}",
                f"numpy {np.__version__} (SIMD {_numpy_simd()})",
                f"scorefast {scorefast.__version__} "
                f"(OpenMP {'yes' if _categorical.have_openmp() else 'no'})"]
    for mod in ("torch", "jax", "numba"):
        if mod in sys.modules:
            versions.append(f"{mod} {sys.modules[mod].__version__}")
    lines = [
        f"scorefast bench  {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC",
        f"machine: {platform.node()}  {_cpu_model()}  {ncpu} usable cpus "
        f"(of {os.cpu_count()})  {platform.system()} {platform.release()}",
        "  ".join(versions),
        "threads: " + "; ".join(f"{k} {v}" for k, v in threads.text.items())
        + "; numba (serial), numpy and floor peers: 1 (numpy's BLAS calls as above)",
    ]
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        lines.append(f"load average before the run: {load} (a busy machine widens the spread)")
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        pass
    env = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS",
                                             "SCOREFAST_NUM_THREADS", "NUMBA_NUM_THREADS",
                                             "XLA_FLAGS") if k in os.environ]
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


def _summary(results, file):
    """Per (workload, size, dtype): the fastest peer but scorefast and the
    floor, and scorefast's time over its time and over the floor's."""
    cells = {}
    for r in results:
        cells.setdefault((r["workload"], r["size"], r["dtype"]), {})[r["peer"]] = r
    if not cells:
        return
    print("\nsummary: scorefast against the fastest other peer (sf/best < 1: scorefast "
          "faster) and the floor", file=file)
    fmt = "{:<13}  {:<6}  {:<7}  {:>9}  {:<14}  {:>9}  {:>7}  {:>8}"
    print(fmt.format("workload", "size", "dtype", "scorefast", "best peer", "its time",
                     "sf/best", "sf/floor"), file=file)
    for (wl, sz, dt), rows in cells.items():
        sf = rows.get("scorefast")
        others = [r for n, r in rows.items() if n not in ("scorefast", "floor")]
        best = min(others, key=lambda r: r["time"]) if others else None
        floor = rows.get("floor")
        t_sf = sf["time"] if sf else None
        print(fmt.format(wl, sz, dt, _fmt_time(t_sf), best["peer"] if best else "-",
                         _fmt_time(best["time"]) if best else "-",
                         _fmt_ratio(t_sf / best["time"]) if sf and best else "-",
                         _fmt_ratio(t_sf / floor["time"]) if sf and floor else "-"),
              file=file)


def run_bench(workload=None, size=None, threads=None, repeat=None, dtypes=None,
              min_time=MIN_TIME, file=None, peers=None):
    """Time every available peer on every selected (workload, size, dtype).

    Parameters
    ----------
    workload : str, optional
        A workload name (``"C1"``, ``"B1"``, ``"G1"``, ``"G1-antithetic"``,
        ``"P1"``); all of them by default.
    size : str, optional
        One size (``"small"``); every size by default.
    threads : int, optional
        Threads for every peer that has them: scorefast's kernels, torch,
        numba-parallel, NumPy's BLAS and (when the bench starts it) JAX;
        their defaults otherwise.
    repeat : int, optional
        Timed rounds per cell; by default 7, or 5 or 3 for slow cells, and
        fewer for a slow peer (``PEER_BUDGET`` seconds of it at most, at least
        3 rounds). An explicit ``repeat`` applies to every peer.
    dtypes : sequence of str, optional
        ``("float64", "float32")`` by default.
    min_time : float
        Shortest timed stretch of one peer in one round, in seconds.
    file : text stream, default sys.stdout
    peers : sequence of str, optional
        Only these peers (and those available); all by default.

    Returns
    -------
    list of dict, one per (workload, size, dtype, peer) timed.
    """
    file = sys.stdout if file is None else file
    dtypes = tuple(dtypes) if dtypes is not None else _workloads.DTYPES
    cells = _select(workload, size)

    def selected(w):
        names = w.available_peers()
        return [n for n in names if peers is None or n in peers]

    # the modules the selected peers need, found without importing them (JAX
    # must be started by _Threads, before anything imports it)
    families = {req for w, _ in cells for p in w.peers.values()
                if peers is None or p.name in peers for req in p.requires
                if importlib.util.find_spec(req) is not None}
    with _Threads(threads, families) as thr:
        for line in _header(thr):
            print(line, file=file)
        print(file=file)
        cols = ("workload", "dtype", "size", "dims", "peer", "time", "spread",
                "sf/peer", "/floor")
        widths = (13, 7, 6, 18, 14, 9, 7, 7, 8)
        fmt = "  ".join(f"{{:<{w}}}" if i < 5 else f"{{:>{w}}}"
                        for i, w in enumerate(widths))
        print(fmt.format(*cols), file=file)
        print("  ".join("-" * w for w in widths), file=file, flush=True)
        results = []
        n_noisy = 0
        t_start = time.perf_counter()
        for w, sz in cells:
            names = selected(w)
            for dtype in dtypes:
                inputs = w.make_inputs(sz, dtype)
                calls = {}
                for name in names:
                    # each peer its own copy of the inputs and its own generator
                    step = w.peers[name].step
                    args = w.call_args(inputs, name)
                    rng = np.random.default_rng(_workloads.SEED)
                    calls[name] = (lambda step=step, args=args, rng=rng: step(*args, rng))
                t_cell = time.perf_counter()
                timing = time_peers(calls, repeat=repeat, min_time=min_time)
                t_cell = time.perf_counter() - t_cell
                del calls
                t_sf = timing.get("scorefast", {}).get("median")
                t_floor = timing.get("floor", {}).get("median")
                for name in names:
                    t = timing[name]["median"]
                    spread = (timing[name]["q3"] - timing[name]["q1"]) / t if t > 0 else 0.0
                    sf_ratio = t_sf / t if t_sf is not None and t > 0 else None
                    floor_ratio = t / t_floor if t_floor else None
                    noisy = spread > NOISY_SPREAD
                    n_noisy += noisy
                    print(fmt.format(w.name, dtype, sz, w.dims(sz), name, _fmt_time(t),
                                     f"{100 * spread:.0f}%" + ("*" if noisy else ""),
                                     _fmt_ratio(sf_ratio),
                                     _fmt_ratio(floor_ratio)), file=file, flush=True)
                    results.append({"workload": w.name, "size": sz, "dtype": dtype,
                                    "peer": name, "time": t, "q1": timing[name]["q1"],
                                    "q3": timing[name]["q3"],
                                    "number": timing[name]["number"],
                                    "rounds": timing[name]["rounds"],
                                    "sf_over_peer": sf_ratio, "over_floor": floor_ratio,
                                    "cell_seconds": t_cell})
        if n_noisy:
            print(f"\n* {n_noisy} row(s) with a spread over {100 * NOISY_SPREAD:.0f}%: the "
                  "machine was busy while they ran (multi-threaded peers suffer most); "
                  "rerun them, or compare with --threads 1", file=file)
        skipped = sorted({p.name for w, _ in cells for p in w.peers.values()
                          if not p.available()})
        if skipped:
            print(f"\nskipped (not installed): {', '.join(skipped)}", file=file)
        _summary(results, file)
        try:
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            load = f"; load average after: {load}"
        except (AttributeError, OSError):  # pragma: no cover
            load = ""
        print(f"\ntotal {time.perf_counter() - t_start:.1f} s{load}", file=file, flush=True)
        return results
