"""Benchmark workloads and their peers, defined once.

Both the ``bench`` command (:mod:`scorefast._bench`) and the asv suite in
``benchmarks/`` take the workloads, their sizes, their inputs and every peer
implementation from here, so a figure from one can be reproduced with the
other. The workloads are those of the project's BENCHMARKS.md; only C1 is
defined so far.

C1: categorical group REINFORCE with a leave-one-out baseline
-------------------------------------------------------------
Logits ``L`` (B, K), a reward table ``R`` (B, K), S samples per row:
``a[s, i] ~ Categorical(softmax(L[i]))``, reward ``r[s, i] = R[i, a[s, i]]``,
``b[s, i] = (sum_t r[t, i] - r[s, i]) / (S - 1)`` and the outputs

* actions (S, B) int64,
* ``logp[s, i] = log softmax(L[i])[a[s, i]]`` (S, B),
* ``G[i] = 1/(B S) sum_s (r[s, i] - b[s, i]) (onehot(a[s, i]) - softmax(L[i]))`` (B, K).

A peer is a function ``step(L, R, S, rng) -> (actions, logp, G)`` that runs the
whole step. The NumPy and scorefast peers draw their actions from the same
uniforms ``rng.random((S, B))``, so for one seed they agree draw for draw
(:func:`check_agreement`); torch uses its own generator.
"""
import importlib

import numpy as np

__all__ = [
    "SEED", "DTYPES", "C1_SIZES", "WORKLOADS", "PEERS", "Peer", "Workload",
    "make_c1_inputs", "make_inputs", "get_workload", "get_peer", "available_peers",
    "peer_available", "check_agreement",
]

#: Seed of every benchmark input.
SEED = 20240611

#: dtype names a workload runs in.
DTYPES = ("float64", "float32")

#: C1 sizes: name -> (B, K, S).
C1_SIZES = {
    "tiny": (1, 4, 8),
    "small": (32, 8, 4),
    "medium": (1024, 64, 8),
    "large": (8192, 1024, 4),
    "vocab": (16, 32768, 8),
}


# -- inputs ---------------------------------------------------------------
def make_c1_inputs(size, dtype="float64", seed=SEED):
    """The C1 inputs of one size: a dict with ``L``, ``R`` (B, K) and ``S``.

    ``L`` and ``R`` are standard normal, drawn in float64 from a generator
    keyed by ``seed`` and the size, then cast to ``dtype`` (so the float32
    inputs are the float64 ones rounded).
    """
    if size not in C1_SIZES:
        raise ValueError(f"unknown C1 size {size!r}; known: {', '.join(C1_SIZES)}")
    B, K, S = C1_SIZES[size]
    key = list(C1_SIZES).index(size)
    gen = np.random.default_rng([seed, 1, key])
    L = gen.standard_normal((B, K))
    R = gen.standard_normal((B, K))
    dt = np.dtype(dtype)
    if dt not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return {"L": np.ascontiguousarray(L, dtype=dt), "R": np.ascontiguousarray(R, dtype=dt),
            "S": S, "B": B, "K": K}


def _c1_rewards(R, a):
    """``r[s, i] = R[i, a[s, i]]``: the environment, the same for every peer."""
    return np.take_along_axis(R, a.T, 1).T


# -- peers ------------------------------------------------------------------
def _c1_scorefast(L, R, S, rng):
    import scorefast
    d = scorefast.Categorical(L)
    a = d.sample(S, rng)
    r = _c1_rewards(R, a)
    logp = d.log_prob(a)
    G = scorefast.reinforce_grad(d, a, r, baseline="loo")
    return a, logp, G


def _c1_numpy(L, R, S, rng):
    """The step as a skilled NumPy user vectorises it, with scorefast.reference's
    algorithms: one exp pass over the logits, reused for the sampler, the
    log-normaliser and the gradient.

    The sampler inverts the CDF of the uniforms ``rng.random((S, B))`` with one
    searchsorted over a single cumulative sum of every row (row i's draw is the
    first class whose running total passes ``start_i + u * z_i``), the baseline
    is the leave-one-out formula and the gradient is scorefast.reference's
    ``weighted_score``: minus the weights' total times p, plus a scatter-add of
    the weights at the drawn classes."""
    B, K = L.shape
    dt = L.dtype
    m = L.max(axis=1, keepdims=True)
    e = np.exp(L - m)                                   # (B, K), in L's dtype
    z = e.sum(axis=1, dtype=np.float64)                 # row totals
    flat = np.cumsum(e.ravel(), dtype=np.float64)       # running total over all rows
    u = rng.random((S, B))
    rows = np.arange(B)
    start = np.empty(B)                                 # total before each row
    start[0] = 0.0
    start[1:] = flat[K - 1:-1:K]
    a = np.searchsorted(flat, start + u * z, side="right") - rows * K
    np.minimum(a, K - 1, out=a)                         # u * z rounded up to the total
    lse = m[:, 0] + np.log(z)
    logp = (np.take_along_axis(L, a.T, 1).T - lse).astype(dt, copy=False)
    r = _c1_rewards(R, a)
    adv = r - (r.sum(axis=0) - r) / (S - 1)             # leave-one-out baseline
    w = (adv * (1.0 / (S * B))).astype(dt, copy=False)
    G = e * (-(w.sum(axis=0, dtype=np.float64) / z).astype(dt))[:, None]
    np.add.at(G, (np.broadcast_to(rows, (S, B)), a), w)
    return a.astype(np.int64, copy=False), logp, G


def _c1_torch(L, R, S, rng):
    """torch.distributions, a surrogate loss and autograd (torch's own RNG)."""
    import torch
    logits = torch.from_numpy(L).requires_grad_(True)
    Rt = torch.from_numpy(R)
    d = torch.distributions.Categorical(logits=logits, validate_args=False)
    a = d.sample((S,))                                  # (S, B) int64
    r = torch.gather(Rt, 1, a.T).T
    logp = d.log_prob(a)
    adv = r - (r.sum(0) - r) / (S - 1)
    loss = -(adv * logp).mean()
    loss.backward()
    G = -logits.grad
    return a.numpy(), logp.detach().numpy(), G.numpy()


def _c1_torch_manual(L, R, S, rng):
    """The same math in plain torch ops, without autograd (torch's own RNG)."""
    import torch
    with torch.no_grad():
        l = torch.from_numpy(L)
        Rt = torch.from_numpy(R)
        B = l.shape[0]
        p = torch.softmax(l, 1)
        lse = torch.logsumexp(l, 1)
        aT = torch.multinomial(p, S, replacement=True)     # (B, S)
        logp = (torch.gather(l, 1, aT) - lse[:, None]).T
        r = torch.gather(Rt, 1, aT).T
        adv = r - (r.sum(0) - r) / (S - 1)
        w = adv * (1.0 / (S * B))
        G = p * (-w.sum(0))[:, None]
        G.scatter_add_(1, aT, w.T)
        return aT.T.numpy(), logp.numpy(), G.numpy()


def _c1_floor(L, R, S, rng):
    """What any implementation pays: one exp pass over the logits and the
    S x B uniforms. Returns ``(None, u, exp(L))``."""
    e = np.exp(L)
    u = rng.random((S, L.shape[0]))
    return None, u, e


class Peer:
    """One implementation: a name, the modules it needs, its step function."""

    def __init__(self, name, step, requires=(), description=""):
        self.name = name
        self.step = step
        self.requires = tuple(requires)
        self.description = description
        self._available = None

    def available(self):
        """Whether every module the peer needs imports."""
        if self._available is None:
            try:
                for mod in self.requires:
                    importlib.import_module(mod)
                self._available = True
            except Exception:
                self._available = False
        return self._available

    def __repr__(self):
        return f"Peer({self.name!r})"


class Workload:
    """A workload: its sizes, how to make inputs, its peers (in table order)."""

    def __init__(self, name, sizes, make_inputs, peers, description=""):
        self.name = name
        self.sizes = sizes
        self.make_inputs = make_inputs
        self.peers = {p.name: p for p in peers}
        self.description = description

    def available_peers(self):
        return [name for name, p in self.peers.items() if p.available()]


C1 = Workload(
    "C1", C1_SIZES, make_c1_inputs,
    [
        Peer("scorefast", _c1_scorefast, ("scorefast",),
             description="scorefast.Categorical + reinforce_grad(baseline='loo')"),
        Peer("numpy", _c1_numpy, ("numpy",),
             description="vectorised NumPy (scorefast.reference's algorithms, one exp pass)"),
        Peer("torch", _c1_torch, ("torch",),
             description="torch.distributions.Categorical + surrogate loss .backward()"),
        Peer("torch-manual", _c1_torch_manual, ("torch",),
             description="plain torch ops without autograd"),
        Peer("floor", _c1_floor, ("numpy",),
             description="np.exp over B x K + rng.random((S, B))"),
    ],
    description="categorical group REINFORCE, leave-one-out baseline",
)

#: Every defined workload, by name.
WORKLOADS = {"C1": C1}

#: C1's peer names, in table order (for asv's params).
PEERS = tuple(C1.peers)


def get_workload(name):
    """The workload of a name (case-insensitive)."""
    for key, w in WORKLOADS.items():
        if key.lower() == str(name).lower():
            return w
    raise ValueError(f"unknown workload {name!r}; defined: {', '.join(WORKLOADS)}")


def make_inputs(workload, size, dtype="float64", seed=SEED):
    return get_workload(workload).make_inputs(size, dtype, seed)


def get_peer(workload, peer):
    """The step function of a peer; ``NotImplementedError`` if it is not installed."""
    w = get_workload(workload)
    if peer not in w.peers:
        raise ValueError(f"unknown peer {peer!r} of {w.name}; defined: {', '.join(w.peers)}")
    p = w.peers[peer]
    if not p.available():
        raise NotImplementedError(f"peer {peer!r} needs {', '.join(p.requires)}, "
                                  "which does not import")
    return p.step


def peer_available(workload, peer):
    w = get_workload(workload)
    return peer in w.peers and w.peers[peer].available()


def available_peers(workload):
    return get_workload(workload).available_peers()


# -- agreement ----------------------------------------------------------------
def _tolerances(dtype):
    return (1e-9, 1e-12) if np.dtype(dtype) == np.float64 else (2e-4, 2e-6)


def _assert_close(name, got, want, dtype, scale=None):
    rtol, atol = _tolerances(dtype)
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape} != {want.shape}")
    scale = float(np.max(np.abs(want))) if scale is None and want.size else (scale or 1.0)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * max(scale, 1e-300),
                               err_msg=name)
    return float(np.max(np.abs(got - want))) if got.size else 0.0


def _c1_oracle(L, R, a):
    """logp and G of C1 for given actions, by scorefast.reference (per-sample
    scores materialised, the baseline by reference.advantages)."""
    from scorefast import reference
    d = reference.Categorical(L)
    r = _c1_rewards(R, a)
    return d.log_prob(a), reference.reinforce_grad(d, a, r, baseline="loo")


def check_agreement(size, dtype="float64", seed=SEED, peers=None, oracle_limit=2_000_000):
    """Check that C1's peers compute the same thing, on inputs of ``size``.

    * scorefast and numpy, run from generators of the same seed, draw the same
      actions (float32: all but a rare draw whose uniform falls within
      rounding of a class boundary) and give logp and G equal to round-off;
    * both agree with scorefast.reference's own sampler on the same seed, and
      with its ``reinforce_grad`` (per-sample scores) where ``S*B*K`` is at
      most ``oracle_limit``;
    * the torch peers (where torch imports) draw their own actions; their logp
      and G must equal scorefast's for those actions.

    Raises AssertionError on a disagreement; returns a dict of the largest
    absolute differences found (``"<peer> <output>": value``).
    """
    from scorefast import reference
    inp = make_c1_inputs(size, dtype, seed)
    L, R, S = inp["L"], inp["R"], inp["S"]
    B, K = L.shape
    report = {}
    want = peers if peers is not None else available_peers("C1")

    # every peer gets its own copy of the inputs (scorefast.Categorical marks
    # the logits it is given read-only, which torch.from_numpy warns about)
    a_sf, lp_sf, G_sf = _c1_scorefast(L.copy(), R.copy(), S, np.random.default_rng(seed))
    if a_sf.shape != (S, B) or a_sf.dtype != np.int64:
        raise AssertionError(f"scorefast actions: {a_sf.shape} {a_sf.dtype}")
    if lp_sf.shape != (S, B) or G_sf.shape != (B, K):
        raise AssertionError(f"scorefast shapes: logp {lp_sf.shape}, G {G_sf.shape}")

    # the sampler of the oracle, same uniforms
    a_ref = reference.Categorical(L.copy()).sample(S, np.random.default_rng(seed))
    report["reference actions mismatched"] = int(np.count_nonzero(a_ref != a_sf))
    allowed = 0 if np.dtype(dtype) == np.float64 else max(1, (S * B) // 1000)
    if report["reference actions mismatched"] > allowed:
        raise AssertionError(f"{size}/{dtype}: reference sampler and scorefast draw "
                             f"{report['reference actions mismatched']} different actions")
    if S * B * K <= oracle_limit:
        lp_o, G_o = _c1_oracle(L, R, a_sf)
        report["scorefast logp vs oracle"] = _assert_close("scorefast logp vs oracle",
                                                           lp_sf, lp_o, dtype)
        report["scorefast G vs oracle"] = _assert_close("scorefast G vs oracle",
                                                        G_sf, G_o, dtype)

    if "numpy" in want:
        a_np, lp_np, G_np = _c1_numpy(L.copy(), R.copy(), S, np.random.default_rng(seed))
        if a_np.dtype != np.int64 or lp_np.dtype != L.dtype or G_np.dtype != L.dtype:
            raise AssertionError(f"numpy dtypes: {a_np.dtype} {lp_np.dtype} {G_np.dtype}")
        bad = int(np.count_nonzero(a_np != a_sf))
        report["numpy actions mismatched"] = bad
        if bad > allowed:
            raise AssertionError(f"{size}/{dtype}: numpy and scorefast draw {bad} "
                                 "different actions")
        # compare on the rows where every draw agrees (all of them in float64)
        same = np.all(a_np == a_sf, axis=0)
        report["numpy logp"] = _assert_close("numpy logp", lp_np[:, same], lp_sf[:, same], dtype)
        report["numpy G"] = _assert_close("numpy G", G_np[same], G_sf[same], dtype,
                                          scale=float(np.max(np.abs(G_sf))))

    import scorefast
    for name, step in (("torch", _c1_torch), ("torch-manual", _c1_torch_manual)):
        if name not in want or not peer_available("C1", name):
            continue
        import torch
        torch.manual_seed(seed)
        a_t, lp_t, G_t = step(L.copy(), R.copy(), S, None)
        if a_t.shape != (S, B) or a_t.dtype != np.int64:
            raise AssertionError(f"{name} actions: {a_t.shape} {a_t.dtype}")
        if lp_t.dtype != L.dtype or G_t.dtype != L.dtype:
            raise AssertionError(f"{name} dtypes: {lp_t.dtype} {G_t.dtype}")
        d = scorefast.Categorical(L.copy())
        a_t = np.ascontiguousarray(a_t)
        r = _c1_rewards(R, a_t)
        report[f"{name} logp"] = _assert_close(f"{name} logp", lp_t, d.log_prob(a_t), dtype)
        report[f"{name} G"] = _assert_close(
            f"{name} G", G_t, scorefast.reinforce_grad(d, a_t, r, baseline="loo"), dtype)
    return report
