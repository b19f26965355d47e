"""The benchmark peers compute what scorefast computes (scorefast/_workloads.py).

A benchmark that compares against a reference computing something else is
worthless: on the same seed the NumPy peer must draw the same actions as
scorefast and give the same log-probabilities and gradient to round-off, both
must match scorefast.reference, and the torch peers (where torch is
installed) must give scorefast's logp and gradient for the actions they drew.
"""
import io

import numpy as np
import pytest

from scorefast import _workloads


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size", ["tiny", "small", "medium"])
def test_c1_peers_agree(size, dtype):
    report = _workloads.check_agreement(size, dtype)
    assert report["reference actions mismatched"] == 0
    assert "scorefast G vs oracle" in report
    if "numpy" in _workloads.available_peers("C1"):
        assert report["numpy actions mismatched"] == 0
        assert "numpy G" in report


def test_c1_inputs_are_fixed():
    a = _workloads.make_inputs("C1", "small")
    b = _workloads.make_inputs("c1", "small")
    assert a["L"].shape == (32, 8) and a["L"].dtype == np.float64 and a["S"] == 4
    np.testing.assert_array_equal(a["L"], b["L"])
    np.testing.assert_array_equal(a["R"], b["R"])
    f = _workloads.make_inputs("C1", "small", "float32")
    np.testing.assert_array_equal(f["L"], a["L"].astype(np.float32))


def test_unavailable_peer_raises_not_implemented(monkeypatch):
    peer = _workloads.C1.peers["torch"]
    monkeypatch.setattr(peer, "_available", False)
    with pytest.raises(NotImplementedError):
        _workloads.get_peer("C1", "torch")
    assert "torch" not in _workloads.available_peers("C1")


def test_bench_command_prints_every_peer():
    from scorefast._bench import run_bench
    out = io.StringIO()
    rows = run_bench(workload="C1", size="tiny", repeat=1, dtypes=["float64"],
                     min_time=1e-4, file=out)
    peers = _workloads.available_peers("C1")
    assert [r["peer"] for r in rows] == peers
    assert all(r["time"] > 0 for r in rows)
    text = out.getvalue()
    for name in peers:
        assert f" {name} " in text
