"""The benchmark peers compute what scorefast computes (scorefast/_workloads.py).

A benchmark that compares against a reference computing something else is
worthless. For every workload (C1, B1, G1, G1-antithetic, P1) on the same
seed: scorefast draws what scorefast.reference's sampler draws and its
outputs equal reference's; the NumPy and Numba peers draw the same values as
scorefast and give the same log-probabilities and gradients to round-off;
the torch and JAX peers (where installed) draw their own, and their
log-probabilities and gradients must equal scorefast's for those draws.
Peers that are not installed are skipped.
"""
import io

import numpy as np
import pytest

import scorefast as sf
from scorefast import _workloads

from conftest import assert_close

CASES = [("C1", "tiny"), ("C1", "small"), ("C1", "medium"), ("B1", "small"),
         ("G1", "small"), ("G1", "medium"), ("G1-antithetic", "small"),
         ("G1-antithetic", "medium"), ("P1", "small")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("workload,size", CASES, ids=[f"{w}-{s}" for w, s in CASES])
def test_peers_agree(workload, size, dtype):
    w = _workloads.get_workload(workload)
    report = _workloads.check_agreement(workload, size, dtype)
    exact = dtype == "float64"
    if exact:
        assert report["reference draws mismatched"] == 0
    # the oracle ran, on every output after the draws
    for label in w.outputs[1:]:
        assert f"scorefast {label} vs oracle" in report
    for name in w.available_peers():
        if name in _workloads.SAME_DRAW_PEERS:
            assert f"{name} draws mismatched" in report
            if exact:
                assert report[f"{name} draws mismatched"] == 0
        if name in _workloads.SAME_DRAW_PEERS + _workloads.OWN_DRAW_PEERS:
            for label in w.outputs[1:]:
                assert f"{name} {label}" in report, (name, label)


def test_every_workload_defines_every_peer():
    assert set(_workloads.WORKLOADS) == {"C1", "B1", "G1", "G1-antithetic", "P1"}
    for w in _workloads.WORKLOADS.values():
        assert tuple(w.peers) == _workloads.PEER_ORDER
        assert w.available_peers()[:2] == ["scorefast", "numpy"]
    assert _workloads.get_workload("g1a") is _workloads.get_workload("G1-antithetic")
    assert _workloads.get_workload("p1").name == "P1"
    with pytest.raises(ValueError):
        _workloads.get_workload("Z9")


def test_c1_inputs_are_fixed():
    a = _workloads.make_inputs("C1", "small")
    b = _workloads.make_inputs("c1", "small")
    assert a["L"].shape == (32, 8) and a["L"].dtype == np.float64 and a["S"] == 4
    np.testing.assert_array_equal(a["L"], b["L"])
    np.testing.assert_array_equal(a["R"], b["R"])
    f = _workloads.make_inputs("C1", "small", "float32")
    np.testing.assert_array_equal(f["L"], a["L"].astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(16, 8), (300, 1000), (70_000, 1), (1, 70_000),
                                   (3, 5, 30_000), (2 * 65_536 + 3, 1)])
def test_g1_fitness_is_minus_the_squared_distance_to_one(shape, dtype):
    """The objective, formed a block of rows at a time above a block's size,
    has the bits of -sum_d (x - 1)^2 formed at once, whole and partial blocks
    alike; it is -sum_d (x - 1)^2 to round-off: a rounding each for x - 1
    (doubled by the square), the square and each of the D - 1 additions."""
    x = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    f = _workloads._g1_fitness(x)
    t = x - dtype(1)
    assert f.dtype == dtype and f.shape == shape[:-1]
    np.testing.assert_array_equal(f, -_workloads._last_axis_dot(t, t))
    exact = -np.square(x.astype(np.float64) - 1).sum(axis=-1)
    np.testing.assert_allclose(f, exact, rtol=(shape[-1] + 2) * np.finfo(dtype).eps)
    strided = x[..., ::2]
    np.testing.assert_array_equal(_workloads._g1_fitness(strided),
                                  -_workloads._last_axis_dot(strided - dtype(1),
                                                             strided - dtype(1)))


@pytest.mark.parametrize("workload", ["B1", "G1", "G1-antithetic", "P1"])
def test_inputs_have_the_documented_shapes(workload):
    w = _workloads.get_workload(workload)
    for size, dims in w.sizes.items():
        if np.prod(dims) > 1_000_000:
            continue
        for dtype in ("float64", "float32"):
            inp = w.make_inputs(size, dtype)
            for k in w.args:
                if isinstance(inp[k], np.ndarray):
                    assert inp[k].dtype == np.dtype(dtype) and inp[k].flags.c_contiguous
            if workload == "B1":
                B, D, S = dims
                assert inp["L"].shape == inp["R"].shape == (B, D) and inp["S"] == S
            elif workload == "P1":
                B, D = dims
                assert inp["loc"].shape == inp["log_scale"].shape == (B, D)
                assert inp["A"].shape == (B,)
            else:
                N, D = dims
                assert inp["mu"].shape == inp["log_sigma"].shape == (D,) and inp["N"] == N
    assert w.dims(list(w.sizes)[0]).startswith(w.dim_names[0] + "=")


def test_unavailable_peer_raises_not_implemented(monkeypatch):
    for workload in ("C1", "G1"):
        peer = _workloads.get_workload(workload).peers["torch"]
        monkeypatch.setattr(peer, "_available", False)
        with pytest.raises(NotImplementedError):
            _workloads.get_peer(workload, "torch")
        assert "torch" not in _workloads.available_peers(workload)


def test_slow_peers_get_fewer_rounds():
    from scorefast import _bench
    assert _bench._peer_rounds(7, 0.001, None) == 7
    budget = _bench.PEER_BUDGET
    assert _bench._peer_rounds(7, budget, None) == _bench.MIN_ROUNDS
    assert _bench._peer_rounds(7, budget / 5.5, None) == 5
    assert _bench._peer_rounds(7, 5.0, 9) == 7          # an explicit repeat is kept
    calls = {"fast": lambda: None, "slow": lambda: sum(range(20000))}
    out = _bench.time_peers(calls, repeat=None, min_time=1e-3)
    assert set(out) == {"fast", "slow"} and all(v["median"] > 0 for v in out.values())


@pytest.mark.parametrize("workload,size", [("C1", "tiny"), ("P1", "small")])
def test_bench_command_prints_every_peer(workload, size):
    from scorefast._bench import run_bench
    out = io.StringIO()
    rows = run_bench(workload=workload, size=size, repeat=1, dtypes=["float64"],
                     min_time=1e-4, file=out)
    peers = _workloads.available_peers(workload)
    assert [r["peer"] for r in rows] == peers
    assert all(r["time"] > 0 for r in rows)
    text = out.getvalue()
    for name in peers:
        assert f" {name} " in text
    assert "summary" in text and "sf/floor" in text



def _distribution_path(workload, inp, rng):
    """A workload's step through the distributions and reinforce_grad, the
    fast samplers and the workload's own environment: what the timed
    scorefast peer must return."""
    if workload == "C1":
        d = sf.Categorical(inp["L"])
        a, logp = d.sample_and_log_prob(inp["S"], rng)
        return a, logp, sf.reinforce_grad(d, a, _workloads._c1_rewards(inp["R"], a), "loo")
    if workload == "B1":
        d = sf.Bernoulli(inp["L"])
        x, logp = d.sample_and_log_prob(inp["S"], rng)
        r = _workloads._b1_rewards(inp["R"], x)
        return x, logp, sf.reinforce_grad(d, x, r[..., None], "loo")
    if workload in ("G1", "G1-antithetic"):
        d = sf.DiagNormal(inp["mu"], np.exp(inp["log_sigma"]))
        x, logp = d.sample_and_log_prob(inp["N"], rng, antithetic=workload != "G1")
        return (x, logp) + sf.reinforce_grad(d, x, _workloads._g1_fitness(x), "mean")
    d = sf.Normal(inp["loc"], np.exp(inp["log_scale"]))
    x, logp = d.sample_and_log_prob((), rng)
    return (x, logp) + sf.reinforce_grad(d, x[None], inp["A"][None, :, None], "none")


TIMED = [(w.name, size) for w in _workloads.WORKLOADS.values()
         for size in ("tiny", "small", "medium") if size in w.sizes]


@pytest.mark.parametrize("workload,size", TIMED, ids=[f"{w}-{s}" for w, s in TIMED])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_timed_scorefast_is_the_distribution_path(workload, size, dtype):
    """What the bench times for scorefast (a prepared step where the workload
    has one) returns what the distributions and reinforce_grad return on the
    same seed: bit for bit for C1 and B1; for the Gaussian workloads, whose
    step takes the log scales as they are (their exp taken by the kernels,
    not by np.exp), within round-off. The agreement checks above run the
    NumPy-draws path, so this ties the timed one to them."""
    w = _workloads.get_workload(workload)
    inp = w.make_inputs(size, dtype)
    got = w.peers["scorefast"].step(*w.call_args(inp, "scorefast"), np.random.default_rng(5))
    want = _distribution_path(workload, inp, np.random.default_rng(5))
    assert len(got) == len(want)
    for g, r in zip(got, want):
        g, r = np.asarray(g), np.asarray(r)
        assert g.shape == r.shape and g.dtype == r.dtype
        if workload in ("C1", "B1"):
            np.testing.assert_array_equal(g, r)
        else:                       # sums of terms up to max |r| each
            assert_close(g, r, dtype, scale=1.0 + np.abs(r).max())
