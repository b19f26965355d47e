"""scorefast.dask on a real LocalCluster: the distributed estimate is the
single-process one, and the README's Dask examples run as written."""
import contextlib
import importlib
import io
import pathlib
import re
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
import dask  # noqa: E402

import scorefast as sf  # noqa: E402
import scorefast.dask as sfd  # noqa: E402
from scorefast import accumulate as acc_mod  # noqa: E402

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"<!-- dask-example -->\n```py\n(.*?)```\n<!-- /dask-example -->",
                      README.read_text(), re.S)


def sphere(x):
    return -np.sum((x - 1.0) ** 2, axis=-1)


TABLE = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]])


def table_reward(v):
    return np.take_along_axis(TABLE, v.T, 1).T


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=":0")
    try:
        with distributed.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def _parts(g):
    return g if isinstance(g, tuple) else (g,)


def _assert_same(res, ref):
    assert res.n_samples == ref.n_samples
    for b in ("none", "mean", "loo", "optimal", 0.5):
        for x, y in zip(_parts(res.accumulator.grad(b)), _parts(ref.accumulator.grad(b)),
                        strict=True):
            np.testing.assert_array_equal(x, y)
        for x, y in zip(_parts(res.accumulator.stderr(b)), _parts(ref.accumulator.stderr(b)),
                        strict=True):
            np.testing.assert_array_equal(x, y)


def test_cluster_estimate_equals_single_process(client):
    assert len(client.scheduler_info()["workers"]) == 2
    dist = sf.DiagNormal(np.linspace(-1, 1, 6), 0.5)
    ref = acc_mod.estimate(dist, sphere, 200_000, chunk_size=10_000, seed=7, progress=False)
    with distributed.get_task_stream(client) as stream:
        res = sfd.estimate(dist, sphere, 200_000, chunk_size=10_000, seed=7, client=client)
    # both worker processes drew and accumulated chunks
    workers = {t["worker"] for t in stream.data if t["key"].startswith("scorefast-chunks")}
    assert len(workers) == 2
    _assert_same(res, ref)
    # "to round-off" holds a fortiori: the bits are the same
    for x, y in zip(res.grad, ref.grad):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=0)
    # other task sizes and tree shapes, a lambda, the default client: same bits
    again = sfd.estimate(dist, lambda x: sphere(x), 200_000, chunk_size=10_000, seed=7,
                         chunks_per_task=3, split_every=2, num_threads=1)
    _assert_same(again, ref)


def test_cluster_categorical_and_options(client):
    dist = sf.Categorical(np.log(TABLE + 2.0))
    ref = acc_mod.estimate(dist, table_reward, 50_001, chunk_size=4_000, seed=3,
                           baseline="mean", reduction="sum", shift=1.0, progress=False)
    res = sfd.estimate(dist, table_reward, 50_001, chunk_size=4_000, seed=3, baseline="mean",
                       reduction="sum", shift=1.0, client=client, chunks_per_task=2)
    _assert_same(res, ref)
    np.testing.assert_array_equal(res.grad, ref.grad)
    np.testing.assert_array_equal(res.stderr, ref.stderr)
    anti = sf.Normal(np.zeros(3), 2.0)
    ref = acc_mod.estimate(anti, np.cos, 10_000, chunk_size=1_000, seed=4, antithetic=True,
                           second_moments=False, progress=False)
    res = sfd.estimate(anti, np.cos, 10_000, chunk_size=1_000, seed=4, antithetic=True,
                       second_moments=False, client=client)
    assert res.stderr is None
    for x, y in zip(res.grad, ref.grad):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_local_schedulers_same_bits(scheduler):
    dist = sf.Bernoulli(np.array([-1.0, 0.0, 2.0]))
    ref = acc_mod.estimate(dist, lambda v: v.sum(-1, keepdims=True), 30_000, chunk_size=1_000,
                           seed=11, progress=False)
    with dask.config.set(scheduler=scheduler):
        res = sfd.estimate(dist, lambda v: v.sum(-1, keepdims=True), 30_000, chunk_size=1_000,
                           seed=11, chunks_per_task=4, split_every=3)
    _assert_same(res, ref)


def test_graph_shape():
    dist = sf.Normal(0.0, 1.0)
    root = sfd.accumulate_delayed(dist, np.sin, 10_000, chunk_size=1_000, seed=0,
                                  chunks_per_task=3, split_every=2)
    keys = [str(k) for k in dict(root.__dask_graph__())]
    assert sum(k.startswith("scorefast-chunks") for k in keys) == 4     # 10 chunks / 3
    assert sum(k.startswith("scorefast-merge") for k in keys) == 3      # 4 -> 2 -> 1
    assert sum(k.startswith("scorefast-dist") for k in keys) == 1       # sent once
    acc = dask.compute(root, scheduler="synchronous")[0]
    assert acc.n == 10_000
    with pytest.raises(ValueError):
        sfd.accumulate_delayed(dist, np.sin, 0, chunk_size=10)
    with pytest.raises(ValueError):
        sfd.accumulate_delayed(dist, np.sin, 100, chunk_size=10, split_every=1)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_dask_example_runs(index):
    """The README's Dask examples (fenced ```py so that tests/test_readme.py,
    which may run without Dask, skips them) run as scripts and print what
    they claim."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(EXAMPLES[index], f"README.md dask example {index}", "exec"),
             {"__name__": "__main__"})
    for claimed in re.findall(r"# .*?at the end", EXAMPLES[index]):
        figure = re.search(r"([0-9.]+) at the end", claimed).group(1)
        assert figure in out.getvalue()


def test_readme_has_dask_examples():
    assert len(EXAMPLES) >= 2
    text = README.read_text()
    assert text.count("<!-- dask-example -->") == len(EXAMPLES)
    assert "## Scaling out with Dask" in text


def test_throughput_smoke(capsys):
    rates = sfd.throughput(workers=(1,), n_samples=20_000, chunk_size=5_000, dim=4, repeat=1)
    assert set(rates) == {0, 1} and all(r > 0 for r in rates.values())
    assert "samples/s" in capsys.readouterr().out


def test_clear_error_without_dask(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "scorefast.dask")
    with pytest.raises(ImportError, match=r"pip install 'scorefast\[dask\]'"):
        importlib.import_module("scorefast.dask")
