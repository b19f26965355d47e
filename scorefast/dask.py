"""Score-function gradients over many chunks on a Dask cluster.

Install with ``pip install "scorefast[dask]"`` (it needs ``dask[distributed]``).

:func:`estimate` cuts ``n_samples`` into chunks exactly as
:func:`scorefast.accumulate.estimate` does, sends *indices* of chunks to the
workers (never samples), lets every worker draw its own chunks from
:func:`scorefast.noise.block_rng` ``(seed, j)``, score them with
``reward_fn`` and return a :class:`~scorefast.accumulate.GradientAccumulator`,
and tree-reduces the accumulators on the cluster. Merging accumulators is
exact, so the distributed estimate is *bit for bit* the single-process one
for the same ``(seed, chunk_size)``, whatever the number of workers, the
tasks' sizes or the shape of the reduction tree.

>>> from dask.distributed import Client, LocalCluster          # doctest: +SKIP
>>> import scorefast as sf, scorefast.dask                      # doctest: +SKIP
>>> with LocalCluster(n_workers=4) as cluster, Client(cluster) as client:
...     res = scorefast.dask.estimate(sf.Normal(0.0, 1.0), lambda x: x ** 2,
...                                   10**9, chunk_size=10**6, seed=0, client=client)

``reward_fn`` travels to the workers by pickling (cloudpickle), so it may be
a lambda or a closure; keep what it captures small, or put large data on the
workers first. :func:`throughput` measures samples per second against the
number of worker processes on this machine.
"""
import math
import os
import time
import uuid

try:
    import dask
    from dask import delayed
except ImportError as exc:                            # pragma: no cover - exercised by test
    raise ImportError(
        "scorefast.dask needs Dask: pip install 'scorefast[dask]' "
        "(or pip install 'dask[distributed]')") from exc

import numpy as np

from scorefast import accumulate as _acc
from scorefast._config import set_num_threads

__all__ = ["estimate", "accumulate", "accumulate_delayed", "throughput"]


def _chunk_range(dist, reward_fn, n_samples, chunk_size, seed, j0, j1, second_moments,
                 shift, antithetic, num_threads):
    """The task each worker runs: chunks j0 .. j1-1, drawn and accumulated here."""
    previous = set_num_threads(num_threads) if num_threads is not None else None
    try:
        return _acc.accumulate_chunks(dist, reward_fn, n_samples, chunk_size, seed,
                                      range(j0, j1), second_moments=second_moments,
                                      shift=shift, antithetic=antithetic, progress=False)
    finally:
        if previous is not None:
            set_num_threads(previous)


def _merge(*accs):
    return _acc.merge_all(accs)


def accumulate_delayed(dist, reward_fn, n_samples, chunk_size=None, seed=0, *,
                       chunks_per_task=None, split_every=8, second_moments=True, shift=0.0,
                       antithetic=False, num_threads=None):
    """The merged accumulator as a ``dask.delayed`` object, not computed.

    Leaf tasks of ``chunks_per_task`` consecutive chunks each, merged
    ``split_every`` at a time. Compose it into a larger graph, or call
    ``dask.compute`` on it.

    Parameters
    ----------
    dist, reward_fn, n_samples, chunk_size, seed, chunks_per_task, split_every, second_moments, shift, antithetic, num_threads :
        As for :func:`estimate`.

    Returns
    -------
    dask.delayed.Delayed
        Computes to a :class:`~scorefast.accumulate.GradientAccumulator`.
    """
    if chunk_size is None:
        chunk_size = _acc.default_chunk_size(dist)
    sizes = _acc.chunk_sizes(n_samples, chunk_size)
    n_chunks = len(sizes)
    if n_chunks == 0:
        raise ValueError("n_samples must be positive")
    if chunks_per_task is None:
        chunks_per_task = max(1, math.ceil(n_chunks / 64))     # at most 64 leaf tasks
    if int(chunks_per_task) < 1 or int(split_every) < 2:
        raise ValueError("chunks_per_task must be >= 1 and split_every >= 2")
    chunks_per_task, split_every = int(chunks_per_task), int(split_every)
    tok = uuid.uuid4().hex[:12]
    # the distribution and reward function go into the graph once, and to each
    # worker once, not once per task
    d = delayed(dist, name=f"scorefast-dist-{tok}")
    fn = delayed(reward_fn, name=f"scorefast-reward-{tok}")
    level = [
        delayed(_chunk_range, pure=False)(
            d, fn, n_samples, chunk_size, seed, j0, min(j0 + chunks_per_task, n_chunks),
            second_moments, shift, antithetic, num_threads,
            dask_key_name=f"scorefast-chunks-{tok}-{j0}")
        for j0 in range(0, n_chunks, chunks_per_task)]
    depth = 0
    while len(level) > 1:
        depth += 1
        level = [delayed(_merge, pure=False)(*level[i:i + split_every],
                                             dask_key_name=f"scorefast-merge-{tok}-{depth}-{i}")
                 for i in range(0, len(level), split_every)]
    return level[0]


def accumulate(dist, reward_fn, n_samples, chunk_size=None, seed=0, *, client=None,
               chunks_per_task=None, split_every=8, second_moments=True, shift=0.0,
               antithetic=False, num_threads=None):
    """The merged accumulator of :func:`estimate`, computed on the cluster.

    Parameters
    ----------
    dist, reward_fn, n_samples, chunk_size, seed, client, chunks_per_task, split_every, second_moments, shift, antithetic, num_threads :
        As for :func:`estimate`.

    Returns
    -------
    scorefast.accumulate.GradientAccumulator
    """
    root = accumulate_delayed(dist, reward_fn, n_samples, chunk_size, seed,
                              chunks_per_task=chunks_per_task, split_every=split_every,
                              second_moments=second_moments, shift=shift,
                              antithetic=antithetic, num_threads=num_threads)
    if client is not None:
        return client.compute(root).result()
    return dask.compute(root)[0]


def estimate(dist, reward_fn, n_samples, chunk_size=None, seed=0, baseline="loo",
             reduction="mean", *, client=None, chunks_per_task=None, split_every=8,
             second_moments=True, shift=0.0, antithetic=False, num_threads=None):
    """Distributed :func:`scorefast.accumulate.estimate`: the same result, bit
    for bit, computed on a Dask cluster.

    Parameters
    ----------
    dist, reward_fn, n_samples, chunk_size, seed, baseline, reduction, second_moments, shift, antithetic :
        As for :func:`scorefast.accumulate.estimate`. Chunk ``j`` is drawn on
        whichever worker runs it, from ``block_rng(seed, j)``.
    client : dask.distributed.Client, optional
        Where to compute. By default, Dask's current scheduler: the active
        ``Client`` if one exists, else Dask's local default.
    chunks_per_task : int, optional
        Consecutive chunks per task (default: enough for at most 64 tasks).
    split_every : int, default 8
        Fan-in of the tree of merges.
    num_threads : int, optional
        scorefast kernel threads inside each task (``set_num_threads``), e.g.
        1 with one worker process per core; by default the workers' own setting.

    Returns
    -------
    scorefast.accumulate.GradientEstimate
        ``(grad, stderr, n_samples, accumulator)``.
    """
    acc = accumulate(dist, reward_fn, n_samples, chunk_size, seed, client=client,
                     chunks_per_task=chunks_per_task, split_every=split_every,
                     second_moments=second_moments, shift=shift, antithetic=antithetic,
                     num_threads=num_threads)
    return _acc._result(acc, baseline, reduction)


# -- throughput ----------------------------------------------------------------

def _sphere(x):
    """The benchmark's reward: a shifted sphere (higher is better)."""
    return -np.sum((x - 1.0) ** 2, axis=-1)


def throughput(workers=(1, 2), n_samples=2_000_000, chunk_size=50_000, dim=50, repeat=3,
               verbose=True):
    """Samples per second of :func:`estimate` against the number of worker
    processes, on a ``LocalCluster`` of this machine.

    The workload: a ``DiagNormal`` of ``dim`` coordinates, a sphere reward,
    the leave-one-out baseline with standard errors. Each worker is a process
    with one thread, running scorefast's kernels on one thread; row 0 is
    :func:`scorefast.accumulate.estimate` in this process, also with one
    kernel thread. Every timing is the best of ``repeat`` runs (after a
    warm-up), cluster start-up excluded; every run's gradient is checked to
    equal the single-process one bit for bit.

    Parameters
    ----------
    workers : sequence of int
        Worker process counts to measure.
    n_samples, chunk_size : int
        The estimate timed.
    dim : int
        Coordinates of the DiagNormal.
    repeat : int
        Timed runs per row (the best is kept).
    verbose : bool
        Print the table.

    Returns
    -------
    dict
        Maps the number of workers (0: no cluster) to samples per second.
    """
    from dask.distributed import Client, LocalCluster
    from scorefast.gaussian import DiagNormal

    dist = DiagNormal(np.zeros(dim), 1.0)

    def best(run):
        run()                                          # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - t0)
        return min(times), out

    previous = set_num_threads(1)          # as in each worker below
    try:
        t, ref = best(lambda: _acc.estimate(dist, _sphere, n_samples, chunk_size, seed=1,
                                            progress=False))
    finally:
        set_num_threads(previous)
    results = {0: n_samples / t}
    rows = [("no cluster (this process)", n_samples / t, None)]
    for w in workers:
        with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            t, res = best(lambda: estimate(dist, _sphere, n_samples, chunk_size, seed=1,
                                           client=client, num_threads=1, chunks_per_task=1))
        for a, b in zip(res.grad, ref.grad):
            np.testing.assert_array_equal(a, b)
        results[w] = n_samples / t
        rows.append((f"{w} worker process{'es' if w > 1 else ''}", n_samples / t,
                     results[w] / results[workers[0]]))
    if verbose:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"scorefast.dask.throughput: DiagNormal({dim}), {n_samples:.3g} samples in "
              f"chunks of {chunk_size}, best of {repeat}; {os.cpu_count()} cores, "
              f"load average {load:.2f} (other jobs share the cores)")
        print(f"{'':36s} {'samples/s':>12s}  {'vs ' + str(workers[0]) + ' worker':>12s}")
        for name, rate, rel in rows:
            print(f"{name:36s} {rate:12.4g}  {'' if rel is None else f'{rel:11.2f}x':>12s}")
    return results


if __name__ == "__main__":                            # python -m scorefast.dask
    throughput()
