"""Benchmark workloads and their peers, defined once.

Both the ``bench`` command (:mod:`scorefast._bench`) and the asv suite in
``benchmarks/`` take the workloads, their sizes, their inputs and every peer
implementation from here, so a figure from one can be reproduced with the
other. The workloads are those of the project's BENCHMARKS.md.

C1: categorical group REINFORCE with a leave-one-out baseline
-------------------------------------------------------------
Logits ``L`` (B, K), a reward table ``R`` (B, K), S samples per row:
``a[s, i] ~ Categorical(softmax(L[i]))``, reward ``r[s, i] = R[i, a[s, i]]``,
``b[s, i] = (sum_t r[t, i] - r[s, i]) / (S - 1)``; outputs actions (S, B)
int64, ``logp[s, i] = log softmax(L[i])[a[s, i]]`` and
``G[i] = 1/(B S) sum_s (r[s, i] - b[s, i]) (onehot(a[s, i]) - softmax(L[i]))``.

B1: Bernoulli group REINFORCE
-----------------------------
Logits ``L`` (B, D), a reward table ``R`` (B, D), S samples per row:
``x[s, i, d] ~ Bernoulli(sigmoid(L[i, d]))``, ``r[s, i] = sum_d R[i, d] x[s, i, d]``,
the leave-one-out baseline of C1; outputs x (S, B, D) in the logits' dtype,
``logp[s, i, d] = x L - softplus(L)`` (S, B, D) and
``G[i, d] = 1/(S B D) sum_s (r[s, i] - b[s, i]) (x[s, i, d] - sigmoid(L[i, d]))``:
the gradient of the mean over every element of the surrogate
``adv[s, i] * logp[s, i, d]``, which is what
``scorefast.reinforce_grad(Bernoulli(L), x, r[..., None], baseline="loo")``
and torch's ``-(adv[..., None] * logp).mean()`` compute.

G1 and G1-antithetic: Gaussian search gradient (evolution strategies)
----------------------------------------------------------------------
``mu`` (D,), ``log_sigma`` (D,), N samples: ``x = mu + sigma * eps``,
fitness ``f[n] = -sum_d (x[n, d] - 1)**2``, baseline ``b = mean(f)``; outputs
x (N, D), ``logp[n] = sum_d log N(x[n, d]; mu_d, sigma_d)`` (N,),
``g_mu = 1/N sum_n (f[n] - b) eps[n] / sigma`` and
``g_log_sigma = 1/N sum_n (f[n] - b) (eps[n]**2 - 1)`` (D,) each. This is
``scorefast.reinforce_grad(DiagNormal(mu, sigma), x, f, baseline="mean")``.
G1-antithetic draws N/2 noise rows ``e`` and uses ``eps = [e; -e]`` (the
mirrored half second, as ``sample(..., antithetic=True)`` orders them).

P1: Gaussian policy batch
-------------------------
``loc``, ``log_scale`` (B, D), advantages ``A`` (B,), one sample per row:
``x = loc + scale * eps``; outputs x (B, D), the elementwise
``logp[i, d] = log N(x[i, d]; loc[i, d], scale[i, d])`` (B, D) and
``g_loc = A[i] eps / scale / (B D)``, ``g_log_scale = A[i] (eps**2 - 1) / (B D)``
(B, D) each: ``scorefast.reinforce_grad(Normal(loc, scale), x[None],
A[None, :, None], baseline="none")``, torch's ``-(A[:, None] * logp).mean()``.

Peers
-----
A peer is a function ``step(*args, rng)`` running the whole step, ``args``
the workload's inputs named in ``Workload.args`` (each peer gets its own
copies), returning the workload's ``outputs`` in order. The scorefast, NumPy
and Numba peers draw from the NumPy Generator ``rng``; the NumPy and Numba
peers consume the same uniforms or normals as scorefast's ``method="numpy"``
samplers, so for one seed they agree draw for draw (:func:`check_agreement`).
torch uses its own global generator, JAX a key made from one integer drawn
from ``rng``. A peer whose modules do not import is unavailable
(``get_peer`` raises ``NotImplementedError``).
"""
import functools
import importlib
import math
import os

import numpy as np

__all__ = [
    "SEED", "DTYPES", "C1_SIZES", "B1_SIZES", "G1_SIZES", "P1_SIZES", "WORKLOADS", "PEERS",
    "PEER_ORDER", "Peer", "Workload", "make_c1_inputs", "make_b1_inputs", "make_g1_inputs",
    "make_p1_inputs", "make_inputs", "get_workload", "get_peer", "available_peers",
    "peer_available", "check_agreement", "numba_threads_setter",
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
#: B1 sizes: name -> (B, D, S).
B1_SIZES = {"small": (32, 8, 4), "large": (4096, 256, 4)}
#: G1 and G1-antithetic sizes: name -> (N, D).
G1_SIZES = {"small": (16, 8), "medium": (1024, 256), "large": (8192, 1024)}
#: P1 sizes: name -> (B, D).
P1_SIZES = {"small": (32, 4), "large": (65536, 16)}

#: Every peer name, in table order (a workload defines all of them).
PEER_ORDER = ("scorefast", "numpy", "torch", "torch-manual", "jax", "numba",
              "numba-parallel", "floor")

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# -- inputs -------------------------------------------------------------------
def _as_dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return dt


def _generator(sizes, size, seed, workload_key, name):
    if size not in sizes:
        raise ValueError(f"unknown {name} size {size!r}; known: {', '.join(sizes)}")
    return np.random.default_rng([seed, workload_key, list(sizes).index(size)])


def _cast(dt, **arrays):
    return {k: np.ascontiguousarray(v, dtype=dt) for k, v in arrays.items()}


def make_c1_inputs(size, dtype="float64", seed=SEED):
    """The C1 inputs of one size: a dict with ``L``, ``R`` (B, K) and ``S``.

    ``L`` and ``R`` are standard normal, drawn in float64 from a generator
    keyed by ``seed`` and the size, then cast to ``dtype`` (so the float32
    inputs are the float64 ones rounded). Every workload's inputs are made so.
    """
    gen = _generator(C1_SIZES, size, seed, 1, "C1")
    B, K, S = C1_SIZES[size]
    dt = _as_dtype(dtype)
    out = _cast(dt, L=gen.standard_normal((B, K)), R=gen.standard_normal((B, K)))
    out.update(S=S, B=B, K=K)
    return out


def make_b1_inputs(size, dtype="float64", seed=SEED):
    """B1 inputs: ``L``, ``R`` (B, D) standard normal, and ``S``."""
    gen = _generator(B1_SIZES, size, seed, 2, "B1")
    B, D, S = B1_SIZES[size]
    dt = _as_dtype(dtype)
    out = _cast(dt, L=gen.standard_normal((B, D)), R=gen.standard_normal((B, D)))
    out.update(S=S, B=B, D=D)
    return out


def make_g1_inputs(size, dtype="float64", seed=SEED):
    """G1 inputs: ``mu`` (D,) standard normal, ``log_sigma`` (D,) uniform on
    [log 0.1, 0], and ``N`` (G1-antithetic uses the same)."""
    gen = _generator(G1_SIZES, size, seed, 3, "G1")
    N, D = G1_SIZES[size]
    dt = _as_dtype(dtype)
    out = _cast(dt, mu=gen.standard_normal(D), log_sigma=gen.uniform(math.log(0.1), 0.0, D))
    out.update(N=N, D=D)
    return out


def make_p1_inputs(size, dtype="float64", seed=SEED):
    """P1 inputs: ``loc`` (B, D) standard normal, ``log_scale`` (B, D) uniform
    on [-1.5, 0.5], advantages ``A`` (B,) standard normal."""
    gen = _generator(P1_SIZES, size, seed, 4, "P1")
    B, D = P1_SIZES[size]
    dt = _as_dtype(dtype)
    out = _cast(dt, loc=gen.standard_normal((B, D)), log_scale=gen.uniform(-1.5, 0.5, (B, D)),
                A=gen.standard_normal(B))
    out.update(B=B, D=D)
    return out


# -- the environments: the same for every peer -----------------------------------
@functools.lru_cache(maxsize=64)
def _row_index(B, K):
    """The rows 0..B-1 of a (B, K) table and their offsets ``i * K`` in its
    flat form, read-only, made once per shape as a training loop makes its
    fixed row index once."""
    rows, offsets = np.arange(B), np.arange(0, B * K, K)
    rows.flags.writeable = offsets.flags.writeable = False
    return rows, offsets


def _c1_rewards(R, a):
    """``r[s, i] = R[i, a[s, i]]`` in the cheapest NumPy form for the size:
    ``R[rows, a]`` for a few hundred draws (C1 tiny: 1.4 us against 1.9 us for
    the flat take, which adds a sum of index arrays), else a flat take at
    ``a[s, i] + i * K`` (C1 medium: 18 us against 46 us for ``R[rows, a]``,
    whose two broadcast index arrays cost about 5 ns a draw)."""
    rows, offsets = _row_index(*R.shape)
    if a.size <= 512:
        return R[rows, a]
    return R.take(a + offsets)


#: ``sum_d a[..., d] b[..., d]``, broadcast: numpy's vecdot (NumPy 2), which
#: costs the least of the NumPy forms at every size here (for a 16 x 8 batch,
#: half of einsum's call), else einsum
_last_axis_dot = getattr(np, "vecdot", None) or (
    lambda a, b, out=None: np.einsum("...d,...d->...", a, b, out=out))


def _b1_rewards(R, x):
    """``r[s, i] = sum_d R[i, d] x[s, i, d]`` (S, B), in the dtype of x."""
    return _last_axis_dot(x, R)


#: elements of ``x - 1`` the fitness forms at a time (512 KiB of float64)
_FITNESS_BLOCK = 1 << 16


def _g1_fitness(x):
    """``f[n] = -sum_d (x[n, d] - 1)**2`` (N,), in the dtype of x.

    ``x - 1`` is formed a block of rows at a time in one buffer that stays in
    cache, not as an array of x's size (G1 large: 64 MB of new memory, whose
    page faults made the objective cost a third of a NumPy-based step; the
    fused peers form none). Each row's sum is the same either way."""
    if x.size <= _FITNESS_BLOCK:
        t = x - x.dtype.type(1)
        return -_last_axis_dot(t, t)
    one = x.dtype.type(1)
    D = x.shape[-1]
    step = max(1, _FITNESS_BLOCK // max(D, 1))
    rows = x.reshape(-1, D)
    n = rows.shape[0]
    f = np.empty(n, x.dtype)
    buf = np.empty((step, D), x.dtype)
    for i in range(0, n, step):
        block = rows[i:i + step]
        t = buf[:block.shape[0]]
        np.subtract(block, one, out=t)
        _last_axis_dot(t, t, out=f[i:i + step])
    np.negative(f, out=f)
    return f.reshape(x.shape[:-1])


# -- C1 peers ---------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _step(family, n_samples, baseline, antithetic=False):
    """The scorefast peers' prepared steps, made once per configuration as a
    training loop makes its step once (scorefast.steps)."""
    import scorefast
    if family == "categorical":
        return scorefast.CategoricalStep(n_samples, baseline)
    if family == "bernoulli":
        return scorefast.BernoulliStep(n_samples, baseline)
    if family == "normal":
        return scorefast.NormalStep(n_samples, baseline)
    return scorefast.DiagNormalStep(n_samples, baseline, antithetic=antithetic)


def _c1_scorefast(L, R, S, rng, method=None):
    # a CategoricalStep: Categorical(L).sample_and_log_prob and reinforce_grad
    # in one compiled call each, the same draws and bits; the logits are used
    # in place, as every other peer uses them. One sampler whatever the
    # method: the draws are those of rng.random
    step = _step("categorical", S, "loo")
    a, logp = step.sample(L, rng)
    r = _c1_rewards(R, a)
    return a, logp, step.grad(r)


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


def _c1_jax_build(jax, jnp):
    def step(L, R, S, seed):
        B, K = L.shape
        u = jax.random.uniform(jax.random.key(seed), (S, B), dtype=L.dtype)
        m = L.max(axis=1, keepdims=True)
        e = jnp.exp(L - m)
        cum = jnp.cumsum(e, axis=1)
        z = cum[:, -1]
        # inverse CDF, row by row: the first class whose running total passes u * z
        a = jax.vmap(lambda c, t: jnp.searchsorted(c, t, side="right"))(cum, (u * z).T)
        a = jnp.minimum(a, K - 1)                            # (B, S)
        lse = m[:, 0] + jnp.log(z)
        logp = (jnp.take_along_axis(L, a, axis=1) - lse[:, None]).T
        r = jnp.take_along_axis(R, a, axis=1).T              # (S, B)
        adv = r - (r.sum(0) - r) / (S - 1)
        w = adv / (S * B)
        G = e * (-w.sum(0) / z)[:, None]
        G = G.at[jnp.arange(B)[:, None], a].add(w.T)
        return a.T, logp, G
    return jax.jit(step, static_argnums=2)


def _c1_jax(L, R, S, rng):
    """jax.jit of the whole step: one exp pass, a row-wise inverse CDF of
    jax.random uniforms (searchsorted), the closed-form gradient."""
    return _jax_call("C1", _c1_jax_build, (L, R, S), rng)


def _c1_numba_chunk(c, nchunk, L, R, u, a, logp, G):
    """Rows ``[c B / nchunk, (c + 1) B / nchunk)`` of C1: each row's
    exponentials are computed once into G's row (the per-row buffer), their
    running totals into a float64 buffer; binary search for each draw; G's
    row scaled in place and the weights added at the drawn classes."""
    B, K = L.shape
    S = u.shape[0]
    lo = c * B // nchunk
    hi = (c + 1) * B // nchunk
    cum = np.empty(K)
    rr = np.empty(S)
    w = np.empty(S)
    scale = 1.0 / (S * B)
    for i in range(lo, hi):
        Li = L[i]
        Gi = G[i]
        m = Li[0]
        for k in range(1, K):
            if Li[k] > m:
                m = Li[k]
        for k in range(K):
            Gi[k] = np.exp(Li[k] - m)
        z = 0.0
        for k in range(K):
            z += Gi[k]
            cum[k] = z
        lse = m + np.log(z)
        tot = 0.0
        for s in range(S):
            t = u[s, i] * z
            l = 0
            h = K - 1
            while l < h:
                mid = (l + h) >> 1
                if cum[mid] > t:
                    h = mid
                else:
                    l = mid + 1
            a[s, i] = l
            logp[s, i] = Li[l] - lse
            rr[s] = R[i, l]
            tot += rr[s]
        wsum = 0.0
        for s in range(S):
            w[s] = (rr[s] - (tot - rr[s]) / (S - 1)) * scale
            wsum += w[s]
        f = -wsum / z
        for k in range(K):
            Gi[k] = Gi[k] * f
        for s in range(S):
            Gi[a[s, i]] += w[s]


def _c1_numba_parallel_loop(nchunk, L, R, u, a, logp, G):
    for c in _prange(nchunk):
        _nb_c1_chunk(c, nchunk, L, R, u, a, logp, G)


def _c1_numba_outputs(L, S):
    B, K = L.shape
    return (np.empty((S, B), np.int64), np.empty((S, B), L.dtype), np.empty((B, K), L.dtype))


def _c1_numba(L, R, S, rng):
    """@njit, serial: the uniforms ``rng.random((S, B))`` (those of the NumPy
    peer), then one pass per row (see ``_c1_numba_chunk``)."""
    nb = _numba()
    u = rng.random((S, L.shape[0]))
    a, logp, G = _c1_numba_outputs(L, S)
    nb["c1_chunk"](0, 1, L, R, u, a, logp, G)
    return a, logp, G


def _c1_numba_parallel(L, R, S, rng):
    """@njit(parallel=True): rows split in chunks over numba's threads, each
    chunk with its own buffers (the strong version)."""
    nb = _numba()
    u = rng.random((S, L.shape[0]))
    a, logp, G = _c1_numba_outputs(L, S)
    nb["c1_parallel"](_nchunks(L.shape[0]), L, R, u, a, logp, G)
    return a, logp, G


def _c1_floor(L, R, S, rng):
    """What any implementation pays: one exp pass over the logits and the
    S x B uniforms. Returns ``(None, u, exp(L))``."""
    e = np.exp(L)
    u = rng.random((S, L.shape[0]))
    return None, u, e


# -- B1 peers ---------------------------------------------------------------------
def _b1_scorefast(L, R, S, rng, method=None):
    if method in (None, "fast"):
        # a BernoulliStep: the counter-based sampler and the gradient (one
        # reward per row, shared by its D coordinates) in one compiled call each
        step = _step("bernoulli", S, "loo")
        x, logp = step.sample(L, rng)
        return x, logp, step.grad(_b1_rewards(R, x)[..., None])
    import scorefast
    d = scorefast.Bernoulli(L, copy=False)            # in place, as the other peers
    x, logp = d.sample_and_log_prob(S, rng, method=method)
    r = _b1_rewards(R, x)
    G = scorefast.reinforce_grad(d, x, r[..., None], baseline="loo")
    return x, logp, G


def _b1_numpy(L, R, S, rng):
    """One exp pass (``exp(-|L|)``) gives both sigmoid(L) and softplus(L)
    (scorefast.reference's stable forms); the draws are ``u < sigmoid(L)`` for
    ``u = rng.random((S, B, D))``; the gradient is reference's
    ``weighted_score``, ``sum_s w x - (sum_s w) p``, as one batched matmul."""
    S_, (B, D) = S, L.shape
    dt = L.dtype
    e = np.exp(-np.abs(L))
    one = dt.type(1)
    p = np.where(L >= 0, one, e) / (one + e)            # sigmoid(L)
    sp = np.maximum(L, 0) + np.log1p(e)                 # softplus(L)
    u = rng.random((S_, B, D))
    x = (u < p).astype(dt)
    logp = x * L
    logp -= sp
    r = _b1_rewards(R, x)
    adv = r - (r.sum(axis=0) - r) / (S_ - 1)
    w = (adv * (1.0 / (S_ * B * D))).astype(dt, copy=False)      # (S, B)
    G = np.matmul(w.T[:, None, :], x.transpose(1, 0, 2))[:, 0, :]  # (B, D)
    G -= w.sum(axis=0)[:, None] * p
    return x, logp, G


def _b1_torch(L, R, S, rng):
    """torch.distributions.Bernoulli, a surrogate loss and autograd."""
    import torch
    logits = torch.from_numpy(L).requires_grad_(True)
    Rt = torch.from_numpy(R)
    d = torch.distributions.Bernoulli(logits=logits, validate_args=False)
    x = d.sample((S,))                                  # (S, B, D)
    logp = d.log_prob(x)
    r = (x * Rt).sum(-1)
    adv = r - (r.sum(0) - r) / (S - 1)
    loss = -(adv[..., None] * logp).mean()
    loss.backward()
    return x.numpy(), logp.detach().numpy(), (-logits.grad).numpy()


def _b1_torch_manual(L, R, S, rng):
    """The same math in plain torch ops, without autograd."""
    import torch
    with torch.no_grad():
        l = torch.from_numpy(L)
        Rt = torch.from_numpy(R)
        B, D = l.shape
        p = torch.sigmoid(l)
        sp = torch.nn.functional.softplus(l)
        x = (torch.rand((S, B, D), dtype=l.dtype) < p).to(l.dtype)
        logp = x * l - sp
        r = torch.einsum("sid,id->si", x, Rt)
        adv = r - (r.sum(0) - r) / (S - 1)
        w = adv * (1.0 / (S * B * D))
        G = torch.einsum("si,sid->id", w, x) - w.sum(0)[:, None] * p
        return x.numpy(), logp.numpy(), G.numpy()


def _b1_jax_build(jax, jnp):
    def step(L, R, S, seed):
        B, D = L.shape
        u = jax.random.uniform(jax.random.key(seed), (S, B, D), dtype=L.dtype)
        p = jax.nn.sigmoid(L)
        x = (u < p).astype(L.dtype)
        logp = x * L - jax.nn.softplus(L)
        r = jnp.einsum("sid,id->si", x, R)
        adv = r - (r.sum(0) - r) / (S - 1)
        w = adv / (S * B * D)
        G = jnp.einsum("si,sid->id", w, x) - w.sum(0)[:, None] * p
        return x, logp, G
    return jax.jit(step, static_argnums=2)


def _b1_jax(L, R, S, rng):
    """jax.jit of the whole step (closed-form gradient)."""
    return _jax_call("B1", _b1_jax_build, (L, R, S), rng)


def _b1_numba_chunk(c, nchunk, L, R, u, x, logp, G):
    """Rows of B1: sigmoid and softplus of the row once (one exp each) into
    per-row buffers, then the draws, log-probs and rewards, then G's row."""
    B, D = L.shape
    S = u.shape[0]
    lo = c * B // nchunk
    hi = (c + 1) * B // nchunk
    p = np.empty(D)
    sp = np.empty(D)
    rr = np.empty(S)
    w = np.empty(S)
    scale = 1.0 / (S * B * D)
    for i in range(lo, hi):
        for d in range(D):
            l = L[i, d]
            e = np.exp(-abs(l))
            p[d] = 1.0 / (1.0 + e) if l >= 0 else e / (1.0 + e)
            sp[d] = max(l, 0.0) + np.log1p(e)
        tot = 0.0
        for s in range(S):
            acc = 0.0
            for d in range(D):
                xv = 1.0 if u[s, i, d] < p[d] else 0.0
                x[s, i, d] = xv
                logp[s, i, d] = xv * L[i, d] - sp[d]
                acc += xv * R[i, d]
            rr[s] = acc
            tot += acc
        wsum = 0.0
        for s in range(S):
            w[s] = (rr[s] - (tot - rr[s]) / (S - 1)) * scale
            wsum += w[s]
        for d in range(D):
            G[i, d] = -wsum * p[d]
        for s in range(S):
            ws = w[s]
            for d in range(D):
                G[i, d] += ws * x[s, i, d]


def _b1_numba_parallel_loop(nchunk, L, R, u, x, logp, G):
    for c in _prange(nchunk):
        _nb_b1_chunk(c, nchunk, L, R, u, x, logp, G)


def _b1_numba_run(L, R, S, rng, parallel):
    nb = _numba()
    B, D = L.shape
    u = rng.random((S, B, D))
    x = np.empty((S, B, D), L.dtype)
    logp = np.empty((S, B, D), L.dtype)
    G = np.empty((B, D), L.dtype)
    if parallel:
        nb["b1_parallel"](_nchunks(B), L, R, u, x, logp, G)
    else:
        nb["b1_chunk"](0, 1, L, R, u, x, logp, G)
    return x, logp, G


def _b1_numba(L, R, S, rng):
    """@njit, serial: the NumPy peer's uniforms, one pass per row."""
    return _b1_numba_run(L, R, S, rng, False)


def _b1_numba_parallel(L, R, S, rng):
    """@njit(parallel=True): rows in chunks over numba's threads."""
    return _b1_numba_run(L, R, S, rng, True)


def _b1_floor(L, R, S, rng):
    """One exp pass over the B x D logits and the S x B x D uniforms."""
    e = np.exp(L)
    u = rng.random((S,) + L.shape)
    return None, u, e


# -- G1 and G1-antithetic peers --------------------------------------------------
def _g1_scorefast(mu, log_sigma, N, rng, method=None, antithetic=False):
    if method in (None, "fast"):
        # a DiagNormalStep: the counter-based sampler and the gradient in one
        # compiled call each (the parameters used in place, as the others;
        # the log scales as they are, their exp taken by the kernel)
        step = _step("diag_normal", N, "mean", antithetic)
        x, logp = step.sample(mu, rng=rng, log_scale=log_sigma)
        return (x, logp) + step.grad(_g1_fitness(x))
    import scorefast
    d = scorefast.DiagNormal(mu, np.exp(log_sigma), copy=False)     # in place, as the others
    x, logp = d.sample_and_log_prob(N, rng, antithetic=antithetic, method=method)
    f = _g1_fitness(x)
    g_mu, g_ls = scorefast.reinforce_grad(d, x, f, baseline="mean")
    return x, logp, g_mu, g_ls


def _g1a_scorefast(mu, log_sigma, N, rng, method=None):
    return _g1_scorefast(mu, log_sigma, N, rng, method, antithetic=True)


def _g1_numpy(mu, log_sigma, N, rng):
    """Noise ``eps = rng.standard_normal((N, D))`` kept (no division to recover
    it), its square formed once for logp and g_log_sigma, both gradients as
    matrix-vector products with the advantages."""
    D = mu.shape[0]
    dt = mu.dtype
    sigma = np.exp(log_sigma)
    eps = rng.standard_normal((N, D), dtype=dt)
    x = eps * sigma
    x += mu
    f = _g1_fitness(x)
    e2 = np.square(eps)
    logp = e2.sum(axis=1)
    logp *= dt.type(-0.5)
    logp -= dt.type(log_sigma.sum(dtype=np.float64) + D * _HALF_LOG_2PI)
    adv = f - f.mean()
    g_mu = (adv @ eps) / (N * sigma)
    g_ls = (adv @ e2 - adv.sum()) / dt.type(N)
    return x, logp, g_mu, g_ls


def _g1a_numpy(mu, log_sigma, N, rng):
    """Antithetic: the N/2 noise rows ``e``, x of both halves written once,
    logp of the mirrored half equal to the first's, and the gradients from
    the half: ``g_mu = (adv+ - adv-) @ e / (N sigma)``,
    ``g_log_sigma = ((adv+ + adv-) @ e**2 - sum adv) / N``."""
    D = mu.shape[0]
    dt = mu.dtype
    h = N // 2
    sigma = np.exp(log_sigma)
    e = rng.standard_normal((h, D), dtype=dt)
    se = e * sigma
    x = np.empty((N, D), dt)
    np.add(mu, se, out=x[:h])
    np.subtract(mu, se, out=x[h:])
    f = _g1_fitness(x)
    e2 = np.square(e)
    lp = e2.sum(axis=1)
    lp *= dt.type(-0.5)
    lp -= dt.type(log_sigma.sum(dtype=np.float64) + D * _HALF_LOG_2PI)
    logp = np.concatenate([lp, lp])
    adv = f - f.mean()
    ap, am = adv[:h], adv[h:]
    g_mu = ((ap - am) @ e) / (N * sigma)
    g_ls = ((ap + am) @ e2 - adv.sum()) / dt.type(N)
    return x, logp, g_mu, g_ls


def _g1_torch_run(mu, log_sigma, N, antithetic):
    import torch
    mu_t = torch.from_numpy(mu).requires_grad_(True)
    ls_t = torch.from_numpy(log_sigma).requires_grad_(True)
    D = torch.distributions
    d = D.Independent(D.Normal(mu_t, ls_t.exp(), validate_args=False), 1,
                      validate_args=False)
    if antithetic:
        half = d.sample((N // 2,))
        x = torch.cat([half, 2 * mu_t.detach() - half])
    else:
        x = d.sample((N,))
    logp = d.log_prob(x)
    f = -((x - 1) ** 2).sum(-1)
    adv = f - f.mean()
    loss = -(adv * logp).mean()
    loss.backward()
    return x.numpy(), logp.detach().numpy(), (-mu_t.grad).numpy(), (-ls_t.grad).numpy()


def _g1_torch(mu, log_sigma, N, rng):
    """torch.distributions Independent(Normal), a surrogate loss, autograd."""
    return _g1_torch_run(mu, log_sigma, N, False)


def _g1a_torch(mu, log_sigma, N, rng):
    """As G1's torch peer, the second half of the draws mirrored (2 mu - x)."""
    return _g1_torch_run(mu, log_sigma, N, True)


def _g1_torch_manual_run(mu, log_sigma, N, antithetic):
    import torch
    with torch.no_grad():
        m = torch.from_numpy(mu)
        ls = torch.from_numpy(log_sigma)
        D = m.shape[0]
        sigma = ls.exp()
        const = float(ls.sum()) + D * _HALF_LOG_2PI
        n = N // 2 if antithetic else N
        e = torch.randn((n, D), dtype=m.dtype)
        se = e * sigma
        x = torch.cat([m + se, m - se]) if antithetic else m + se
        t = x - 1
        f = -(t * t).sum(1)
        e2 = e * e
        lp = -0.5 * e2.sum(1) - const
        adv = f - f.mean()
        if antithetic:
            logp = torch.cat([lp, lp])
            ap, am = adv[:n], adv[n:]
            g_mu = ((ap - am) @ e) / (N * sigma)
            g_ls = ((ap + am) @ e2 - adv.sum()) / N
        else:
            logp = lp
            g_mu = (adv @ e) / (N * sigma)
            g_ls = (adv @ e2 - adv.sum()) / N
        return x.numpy(), logp.numpy(), g_mu.numpy(), g_ls.numpy()


def _g1_torch_manual(mu, log_sigma, N, rng):
    """Plain torch ops without autograd (torch.randn noise)."""
    return _g1_torch_manual_run(mu, log_sigma, N, False)


def _g1a_torch_manual(mu, log_sigma, N, rng):
    """Plain torch ops, the antithetic halves exploited as in the NumPy peer."""
    return _g1_torch_manual_run(mu, log_sigma, N, True)


def _g1_jax_builder(antithetic):
    def build(jax, jnp):
        def step(mu, log_sigma, N, seed):
            D = mu.shape[0]
            n = N // 2 if antithetic else N
            e = jax.random.normal(jax.random.key(seed), (n, D), dtype=mu.dtype)
            sigma = jnp.exp(log_sigma)
            se = e * sigma
            x = jnp.concatenate([mu + se, mu - se]) if antithetic else mu + se
            t = x - 1
            f = -(t * t).sum(1)
            e2 = e * e
            lp = -0.5 * e2.sum(1) - (log_sigma.sum() + D * _HALF_LOG_2PI)
            adv = f - f.mean()
            if antithetic:
                ap, am = adv[:n], adv[n:]
                return (x, jnp.concatenate([lp, lp]), ((ap - am) @ e) / (N * sigma),
                        ((ap + am) @ e2 - adv.sum()) / N)
            return x, lp, (adv @ e) / (N * sigma), (adv @ e2 - adv.sum()) / N
        return jax.jit(step, static_argnums=2)
    return build


_g1_jax_build = _g1_jax_builder(False)
_g1a_jax_build = _g1_jax_builder(True)


def _g1_jax(mu, log_sigma, N, rng):
    """jax.jit of the whole step (jax.random.normal noise)."""
    return _jax_call("G1", _g1_jax_build, (mu, log_sigma, N), rng)


def _g1a_jax(mu, log_sigma, N, rng):
    """jax.jit of the whole step, the antithetic halves exploited."""
    return _jax_call("G1-antithetic", _g1a_jax_build, (mu, log_sigma, N), rng)


def _g1_numba_rows(c, nchunk, mu, sigma, log_norm, eps, x, f, logp, anti):
    """Rows of eps in chunk c: x (both mirrored rows when ``anti``), the
    fitness of each x row, and logp."""
    n, D = eps.shape
    lo = c * n // nchunk
    hi = (c + 1) * n // nchunk
    for r in range(lo, hi):
        acc_p = 0.0
        acc_m = 0.0
        acc_e = 0.0
        for d in range(D):
            e = eps[r, d]
            se = sigma[d] * e
            xp = mu[d] + se
            x[r, d] = xp
            t = x[r, d] - 1.0
            acc_p += t * t
            acc_e += e * e
            if anti:
                x[r + n, d] = mu[d] - se
                t = x[r + n, d] - 1.0
                acc_m += t * t
        f[r] = -acc_p
        logp[r] = -0.5 * acc_e - log_norm
        if anti:
            f[r + n] = -acc_m
            logp[r + n] = logp[r]


def _g1_numba_grad(c, nchunk, eps, adv, part_mu, part_ls, anti):
    """Chunk c's partial sums of ``a * eps`` and ``a * eps**2`` (float64),
    with ``a`` the advantage, or for ``anti`` the pair's difference and sum."""
    n, D = eps.shape
    lo = c * n // nchunk
    hi = (c + 1) * n // nchunk
    pm = part_mu[c]
    pl = part_ls[c]
    for r in range(lo, hi):
        if anti:
            am = adv[r] - adv[r + n]
            ap = adv[r] + adv[r + n]
        else:
            am = adv[r]
            ap = adv[r]
        for d in range(D):
            e = eps[r, d]
            pm[d] += am * e
            pl[d] += ap * (e * e)


def _g1_numba_serial_loop(mu, sigma, log_norm, eps, x, f, logp, anti, g_mu, g_ls):
    N = x.shape[0]
    D = eps.shape[1]
    _nb_g1_rows(0, 1, mu, sigma, log_norm, eps, x, f, logp, anti)
    b = f.sum() / N
    adv = np.empty(N)
    for r in range(N):
        adv[r] = f[r] - b
    part_mu = np.zeros((1, D))
    part_ls = np.zeros((1, D))
    _nb_g1_grad(0, 1, eps, adv, part_mu, part_ls, anti)
    asum = adv.sum()
    for d in range(D):
        g_mu[d] = part_mu[0, d] / (N * sigma[d])
        g_ls[d] = (part_ls[0, d] - asum) / N


def _g1_numba_parallel_loop(nchunk, mu, sigma, log_norm, eps, x, f, logp, anti, g_mu, g_ls):
    N = x.shape[0]
    D = eps.shape[1]
    for c in _prange(nchunk):
        _nb_g1_rows(c, nchunk, mu, sigma, log_norm, eps, x, f, logp, anti)
    b = f.sum() / N
    adv = np.empty(N)
    for r in range(N):
        adv[r] = f[r] - b
    part_mu = np.zeros((nchunk, D))
    part_ls = np.zeros((nchunk, D))
    for c in _prange(nchunk):
        _nb_g1_grad(c, nchunk, eps, adv, part_mu, part_ls, anti)
    asum = adv.sum()
    for d in range(D):
        sm = 0.0
        sl = 0.0
        for c in range(nchunk):
            sm += part_mu[c, d]
            sl += part_ls[c, d]
        g_mu[d] = sm / (N * sigma[d])
        g_ls[d] = (sl - asum) / N


def _g1_numba_run(mu, log_sigma, N, rng, parallel, antithetic):
    nb = _numba()
    D = mu.shape[0]
    dt = mu.dtype
    sigma = np.exp(log_sigma)
    eps = rng.standard_normal((N // 2 if antithetic else N, D), dtype=dt)
    log_norm = float(log_sigma.sum(dtype=np.float64)) + D * _HALF_LOG_2PI
    x = np.empty((N, D), dt)
    f = np.empty(N, dt)
    logp = np.empty(N, dt)
    g_mu = np.empty(D, dt)
    g_ls = np.empty(D, dt)
    if parallel:
        nb["g1_parallel"](_nchunks(eps.shape[0]), mu, sigma, log_norm, eps, x, f, logp,
                          antithetic, g_mu, g_ls)
    else:
        nb["g1_serial"](mu, sigma, log_norm, eps, x, f, logp, antithetic, g_mu, g_ls)
    return x, logp, g_mu, g_ls


def _g1_numba(mu, log_sigma, N, rng):
    """@njit, serial: the NumPy peer's normals; one pass for x, fitness and
    logp, one for the gradients (the baseline needs every fitness first)."""
    return _g1_numba_run(mu, log_sigma, N, rng, False, False)


def _g1_numba_parallel(mu, log_sigma, N, rng):
    """@njit(parallel=True): both passes split in row chunks, per-chunk
    partial gradients summed at the end."""
    return _g1_numba_run(mu, log_sigma, N, rng, True, False)


def _g1a_numba(mu, log_sigma, N, rng):
    return _g1_numba_run(mu, log_sigma, N, rng, False, True)


def _g1a_numba_parallel(mu, log_sigma, N, rng):
    return _g1_numba_run(mu, log_sigma, N, rng, True, True)


def _g1_floor(mu, log_sigma, N, rng):
    """The N x D standard normals plus one copy pass over them."""
    eps = rng.standard_normal((N, mu.shape[0]), dtype=mu.dtype)
    return None, eps.copy()


def _g1a_floor(mu, log_sigma, N, rng):
    """The N/2 x D standard normals plus one pass writing the N x D mirrored
    noise (the copy of G1's floor)."""
    h = N // 2
    e = rng.standard_normal((h, mu.shape[0]), dtype=mu.dtype)
    out = np.empty((N, mu.shape[0]), mu.dtype)
    out[:h] = e
    np.negative(e, out=out[h:])
    return None, out


# -- P1 peers ---------------------------------------------------------------------
def _p1_scorefast(loc, log_scale, A, rng, method=None):
    if method in (None, "fast"):
        # a NormalStep with one sample: the counter-based sampler and the
        # gradient, the advantages as rewards (one per state, shared by its
        # D coordinates), in one compiled call each; the log scales as they
        # are, their exp taken in the kernels
        step = _step("normal", 1, "none")
        x, logp = step.sample(loc, rng=rng, log_scale=log_scale)
        return (x[0], logp[0]) + step.grad(A[None, :, None])
    import scorefast
    d = scorefast.Normal(loc, np.exp(log_scale), copy=False)        # in place, as the others
    x, logp = d.sample_and_log_prob((), rng, method=method)
    g_loc, g_ls = scorefast.reinforce_grad(d, x[None], A[None, :, None], baseline="none")
    return x, logp, g_loc, g_ls


def _p1_numpy(loc, log_scale, A, rng):
    """The normals ``rng.standard_normal((B, D))`` kept, in-place updates."""
    B, D = loc.shape
    dt = loc.dtype
    scale = np.exp(log_scale)
    eps = rng.standard_normal((B, D), dtype=dt)
    x = eps * scale
    x += loc
    e2 = np.square(eps)
    logp = e2 * dt.type(-0.5)
    logp -= log_scale
    logp -= dt.type(_HALF_LOG_2PI)
    w = (A * dt.type(1.0 / (B * D)))[:, None]
    g_loc = eps / scale
    g_loc *= w
    e2 -= dt.type(1)
    e2 *= w
    return x, logp, g_loc, e2


def _p1_torch(loc, log_scale, A, rng):
    """torch.distributions.Normal, a surrogate loss, autograd."""
    import torch
    loc_t = torch.from_numpy(loc).requires_grad_(True)
    ls_t = torch.from_numpy(log_scale).requires_grad_(True)
    At = torch.from_numpy(A)
    d = torch.distributions.Normal(loc_t, ls_t.exp(), validate_args=False)
    x = d.sample()
    logp = d.log_prob(x)
    loss = -(At[:, None] * logp).mean()
    loss.backward()
    return x.numpy(), logp.detach().numpy(), (-loc_t.grad).numpy(), (-ls_t.grad).numpy()


def _p1_torch_manual(loc, log_scale, A, rng):
    """Plain torch ops without autograd."""
    import torch
    with torch.no_grad():
        m = torch.from_numpy(loc)
        ls = torch.from_numpy(log_scale)
        At = torch.from_numpy(A)
        B, D = m.shape
        scale = ls.exp()
        eps = torch.randn((B, D), dtype=m.dtype)
        x = m + scale * eps
        e2 = eps * eps
        logp = -0.5 * e2 - ls - _HALF_LOG_2PI
        w = (At * (1.0 / (B * D)))[:, None]
        return x.numpy(), logp.numpy(), (w * eps / scale).numpy(), (w * (e2 - 1)).numpy()


def _p1_jax_build(jax, jnp):
    def step(loc, log_scale, A, seed):
        B, D = loc.shape
        eps = jax.random.normal(jax.random.key(seed), (B, D), dtype=loc.dtype)
        scale = jnp.exp(log_scale)
        x = loc + scale * eps
        e2 = eps * eps
        logp = -0.5 * e2 - log_scale - _HALF_LOG_2PI
        w = (A / (B * D))[:, None]
        return x, logp, w * eps / scale, w * (e2 - 1)
    return jax.jit(step)


def _p1_jax(loc, log_scale, A, rng):
    """jax.jit of the whole step (jax.random.normal noise)."""
    return _jax_call("P1", _p1_jax_build, (loc, log_scale, A), rng, static=False)


def _p1_numba_chunk(c, nchunk, loc, log_scale, A, eps, x, logp, g_loc, g_ls):
    """Rows of P1: one exp per element, everything else from eps."""
    B, D = loc.shape
    lo = c * B // nchunk
    hi = (c + 1) * B // nchunk
    scale_c = 1.0 / (B * D)
    for i in range(lo, hi):
        w = A[i] * scale_c
        for d in range(D):
            ls = log_scale[i, d]
            s = np.exp(ls)
            e = eps[i, d]
            x[i, d] = loc[i, d] + s * e
            e2 = e * e
            logp[i, d] = -0.5 * e2 - ls - _HALF_LOG_2PI
            g_loc[i, d] = w * e / s
            g_ls[i, d] = w * (e2 - 1.0)


def _p1_numba_parallel_loop(nchunk, loc, log_scale, A, eps, x, logp, g_loc, g_ls):
    for c in _prange(nchunk):
        _nb_p1_chunk(c, nchunk, loc, log_scale, A, eps, x, logp, g_loc, g_ls)


def _p1_numba_run(loc, log_scale, A, rng, parallel):
    nb = _numba()
    B, D = loc.shape
    dt = loc.dtype
    eps = rng.standard_normal((B, D), dtype=dt)
    x, logp, g_loc, g_ls = (np.empty((B, D), dt) for _ in range(4))
    if parallel:
        nb["p1_parallel"](_nchunks(B), loc, log_scale, A, eps, x, logp, g_loc, g_ls)
    else:
        nb["p1_chunk"](0, 1, loc, log_scale, A, eps, x, logp, g_loc, g_ls)
    return x, logp, g_loc, g_ls


def _p1_numba(loc, log_scale, A, rng):
    """@njit, serial: the NumPy peer's normals, one pass."""
    return _p1_numba_run(loc, log_scale, A, rng, False)


def _p1_numba_parallel(loc, log_scale, A, rng):
    """@njit(parallel=True): rows in chunks over numba's threads."""
    return _p1_numba_run(loc, log_scale, A, rng, True)


def _p1_floor(loc, log_scale, A, rng):
    """The B x D standard normals plus one copy pass over them."""
    eps = rng.standard_normal(loc.shape, dtype=loc.dtype)
    return None, eps.copy()


# -- numba: compiled on first use, cached on disk ------------------------------------
_prange = range            # numba.prange once numba is set up
_NUMBA = None
# the compiled functions the loops call, set by _numba()
_nb_c1_chunk = _nb_b1_chunk = _nb_g1_rows = _nb_g1_grad = _nb_p1_chunk = None


def _numba():
    """The compiled numba kernels (compiled per dtype on first call; with
    ``cache=True`` the machine code is kept in ``__pycache__`` for later
    processes). Every function is compiled from its own Python function, so
    the serial and parallel versions never share a cache entry."""
    global _NUMBA, _prange, _nb_c1_chunk, _nb_b1_chunk, _nb_g1_rows, _nb_g1_grad, _nb_p1_chunk
    if _NUMBA is None:
        import numba
        _prange = numba.prange

        def jit(fn, parallel=False):
            return numba.njit(cache=True, parallel=parallel, nogil=True)(fn)

        _nb_c1_chunk = jit(_c1_numba_chunk)
        _nb_b1_chunk = jit(_b1_numba_chunk)
        _nb_g1_rows = jit(_g1_numba_rows)
        _nb_g1_grad = jit(_g1_numba_grad)
        _nb_p1_chunk = jit(_p1_numba_chunk)
        _NUMBA = {
            "c1_chunk": _nb_c1_chunk,
            "c1_parallel": jit(_c1_numba_parallel_loop, True),
            "b1_chunk": _nb_b1_chunk,
            "b1_parallel": jit(_b1_numba_parallel_loop, True),
            "g1_serial": jit(_g1_numba_serial_loop),
            "g1_parallel": jit(_g1_numba_parallel_loop, True),
            "p1_chunk": _nb_p1_chunk,
            "p1_parallel": jit(_p1_numba_parallel_loop, True),
            "get_num_threads": numba.get_num_threads,
        }
    return _NUMBA


def _nchunks(rows):
    """Chunks for a parallel loop over ``rows``: four per numba thread (so a
    thread slowed by other work costs a quarter of its share), at most one per row."""
    return max(1, min(rows, 4 * _NUMBA["get_num_threads"]()))


def numba_threads_setter():
    """``numba.set_num_threads`` and ``get_num_threads``, or None without numba."""
    try:
        import numba
    except Exception:
        return None
    return numba.set_num_threads, numba.get_num_threads


# -- jax: x64 on, one jitted function per workload ------------------------------------
_JAX = {}


def _jax_modules():
    if "jax" not in _JAX:
        import jax
        import jax.numpy as jnp
        # float64 inputs stay float64 (the workloads run in both dtypes)
        jax.config.update("jax_enable_x64", True)
        # compiled steps kept on disk: a later run (or asv process) skips the
        # second or so each workload, size and dtype takes to compile
        if not jax.config.jax_compilation_cache_dir:
            try:
                cache = os.environ.get("SCOREFAST_JAX_CACHE") or os.path.join(
                    os.path.expanduser("~"), ".cache", "scorefast", "jax")
                jax.config.update("jax_compilation_cache_dir", cache)
                jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            except Exception:  # pragma: no cover - an older jax
                pass
        _JAX["jax"] = (jax, jnp)
    return _JAX["jax"]


def _jax_call(workload, build, args, rng, static=True):
    """Run workload's jitted step on ``args`` with a key made from an integer
    drawn from ``rng`` (so the draws change from call to call), and wait for
    the results."""
    fn = _JAX.get(workload)
    if fn is None:
        jax, jnp = _jax_modules()
        fn = _JAX[workload] = build(jax, jnp)
    jax = _JAX["jax"][0]
    seed = int(rng.integers(1 << 31))
    return jax.block_until_ready(fn(*args, seed))


def _jax_prepare(args):
    """The inputs as JAX arrays (once, untimed: in a JAX training loop the
    parameters live on the device); integers stay Python integers."""
    jax, jnp = _jax_modules()
    return tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


# -- the registry -----------------------------------------------------------------------
class Peer:
    """One implementation: a name, the modules it needs, its step function,
    and optionally ``prepare(args) -> args`` run once, untimed, on the inputs."""

    def __init__(self, name, step, requires=(), description="", prepare=None):
        self.name = name
        self.step = step
        self.requires = tuple(requires)
        self.description = description
        self.prepare = prepare
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
    """A workload: its sizes, how to make inputs, the inputs a step takes
    (``args``), what it returns (``outputs``, the draws first), its peers
    (in table order)."""

    def __init__(self, name, sizes, dim_names, make_inputs, args, outputs, peers,
                 description=""):
        self.name = name
        self.sizes = sizes
        self.dim_names = tuple(dim_names)
        self.make_inputs = make_inputs
        self.args = tuple(args)
        self.outputs = tuple(outputs)
        self.peers = {p.name: p for p in peers}
        self.description = description

    def available_peers(self):
        return [name for name, p in self.peers.items() if p.available()]

    def dims(self, size):
        """``"B=32 K=8 S=4"``: the size's dimensions by name."""
        return " ".join(f"{n}={v}" for n, v in zip(self.dim_names, self.sizes[size]))

    def call_args(self, inputs, peer=None):
        """The step's positional arguments (without rng) from ``inputs``:
        fresh copies of the arrays, prepared for ``peer`` if it asks."""
        args = tuple(inputs[k].copy() if isinstance(inputs[k], np.ndarray) else inputs[k]
                     for k in self.args)
        if peer is not None and self.peers[peer].prepare is not None:
            args = self.peers[peer].prepare(args)
        return args

    def __repr__(self):
        return f"Workload({self.name!r})"


def _peers(impl, floor_text, numpy_text, torch_text, jax_text):
    """The eight peers of a workload from its step functions ``impl[name]``."""
    desc = {
        "scorefast": impl.pop("_sf_text"),
        "numpy": numpy_text,
        "torch": torch_text + ", validate_args=False, surrogate loss .backward()",
        "torch-manual": "plain torch ops without autograd",
        "jax": jax_text,
        "numba": "@njit serial, the NumPy peer's draws",
        "numba-parallel": "@njit(parallel=True), row chunks over numba's threads",
        "floor": floor_text,
    }
    req = {"scorefast": ("scorefast",), "numpy": ("numpy",), "torch": ("torch",),
           "torch-manual": ("torch",), "jax": ("jax",), "numba": ("numba",),
           "numba-parallel": ("numba",), "floor": ("numpy",)}
    return [Peer(n, impl[n], req[n], desc[n], _jax_prepare if n == "jax" else None)
            for n in PEER_ORDER]


C1 = Workload(
    "C1", C1_SIZES, ("B", "K", "S"), make_c1_inputs, ("L", "R", "S"), ("actions", "logp", "G"),
    _peers({"_sf_text": "scorefast.Categorical + reinforce_grad(baseline='loo')",
            "scorefast": _c1_scorefast, "numpy": _c1_numpy, "torch": _c1_torch,
            "torch-manual": _c1_torch_manual, "jax": _c1_jax, "numba": _c1_numba,
            "numba-parallel": _c1_numba_parallel, "floor": _c1_floor},
           "np.exp over B x K + rng.random((S, B))",
           "vectorised NumPy (scorefast.reference's algorithms, one exp pass)",
           "torch.distributions.Categorical",
           "jax.jit, row-wise inverse CDF (searchsorted) of jax.random uniforms"),
    description="categorical group REINFORCE, leave-one-out baseline",
)

B1 = Workload(
    "B1", B1_SIZES, ("B", "D", "S"), make_b1_inputs, ("L", "R", "S"), ("x", "logp", "G"),
    _peers({"_sf_text": "scorefast.Bernoulli + reinforce_grad(rewards (S, B, 1), 'loo')",
            "scorefast": _b1_scorefast, "numpy": _b1_numpy, "torch": _b1_torch,
            "torch-manual": _b1_torch_manual, "jax": _b1_jax, "numba": _b1_numba,
            "numba-parallel": _b1_numba_parallel, "floor": _b1_floor},
           "np.exp over B x D + rng.random((S, B, D))",
           "vectorised NumPy (one exp pass for sigmoid and softplus, batched matmul)",
           "torch.distributions.Bernoulli", "jax.jit, closed-form gradient"),
    description="Bernoulli group REINFORCE, leave-one-out baseline",
)

G1 = Workload(
    "G1", G1_SIZES, ("N", "D"), make_g1_inputs, ("mu", "log_sigma", "N"),
    ("x", "logp", "g_mu", "g_log_sigma"),
    _peers({"_sf_text": "scorefast.DiagNormal + reinforce_grad(baseline='mean')",
            "scorefast": _g1_scorefast, "numpy": _g1_numpy, "torch": _g1_torch,
            "torch-manual": _g1_torch_manual, "jax": _g1_jax, "numba": _g1_numba,
            "numba-parallel": _g1_numba_parallel, "floor": _g1_floor},
           "rng.standard_normal((N, D)) + one copy pass",
           "vectorised NumPy (noise kept, gradients as matrix-vector products)",
           "torch.distributions.Independent(Normal)", "jax.jit, closed-form gradient"),
    description="Gaussian search gradient (ES), mean baseline",
)

G1A = Workload(
    "G1-antithetic", G1_SIZES, ("N", "D"), make_g1_inputs, ("mu", "log_sigma", "N"),
    ("x", "logp", "g_mu", "g_log_sigma"),
    _peers({"_sf_text": "scorefast.DiagNormal sample(antithetic=True) + reinforce_grad('mean')",
            "scorefast": _g1a_scorefast, "numpy": _g1a_numpy, "torch": _g1a_torch,
            "torch-manual": _g1a_torch_manual, "jax": _g1a_jax, "numba": _g1a_numba,
            "numba-parallel": _g1a_numba_parallel, "floor": _g1a_floor},
           "rng.standard_normal((N/2, D)) + one pass writing the mirrored N x D",
           "vectorised NumPy, the mirrored halves exploited (half the noise passes)",
           "torch.distributions.Independent(Normal), second half 2 mu - x",
           "jax.jit, closed-form gradient, halves exploited"),
    description="Gaussian search gradient (ES), N/2 noise rows mirrored, mean baseline",
)

P1 = Workload(
    "P1", P1_SIZES, ("B", "D"), make_p1_inputs, ("loc", "log_scale", "A"),
    ("x", "logp", "g_loc", "g_log_scale"),
    _peers({"_sf_text": "scorefast.Normal + reinforce_grad(baseline='none')",
            "scorefast": _p1_scorefast, "numpy": _p1_numpy, "torch": _p1_torch,
            "torch-manual": _p1_torch_manual, "jax": _p1_jax, "numba": _p1_numba,
            "numba-parallel": _p1_numba_parallel, "floor": _p1_floor},
           "rng.standard_normal((B, D)) + one copy pass",
           "vectorised NumPy (noise kept, in-place updates)",
           "torch.distributions.Normal", "jax.jit, closed-form gradient"),
    description="Gaussian policy batch, advantages given",
)

#: Every defined workload, by name.
WORKLOADS = {w.name: w for w in (C1, B1, G1, G1A, P1)}

#: Peer names, in table order (every workload defines the same, for asv's params).
PEERS = PEER_ORDER


def get_workload(name):
    """The workload of a name (case-insensitive; ``G1a`` and ``G1-anti`` name
    G1-antithetic)."""
    if isinstance(name, Workload):
        return name
    key = str(name).lower().replace("_", "-")
    if key in ("g1a", "g1-anti"):
        key = "g1-antithetic"
    for k, w in WORKLOADS.items():
        if k.lower() == key:
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


# -- agreement ----------------------------------------------------------------------------
#: peers that draw from the NumPy Generator exactly as the NumPy peer does
SAME_DRAW_PEERS = ("numpy", "numba", "numba-parallel")
#: peers with a generator of their own
OWN_DRAW_PEERS = ("torch", "torch-manual", "jax")


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


def _sf_check_step(w):
    """scorefast's step on the NumPy draws (``method="numpy"`` where taken)."""
    return {"C1": lambda *a: _c1_scorefast(*a, method="numpy"),
            "B1": lambda *a: _b1_scorefast(*a, method="numpy"),
            "G1": lambda *a: _g1_scorefast(*a, method="numpy"),
            "G1-antithetic": lambda *a: _g1a_scorefast(*a, method="numpy"),
            "P1": lambda *a: _p1_scorefast(*a, method="numpy")}[w.name]


def _expected_shapes(w, inp):
    """(shape, kind) of each output: kind "int" for actions, else "float"."""
    if w.name == "C1":
        S, B, K = inp["S"], inp["B"], inp["K"]
        return [((S, B), "int"), ((S, B), "float"), ((B, K), "float")]
    if w.name == "B1":
        S, B, D = inp["S"], inp["B"], inp["D"]
        return [((S, B, D), "float"), ((S, B, D), "float"), ((B, D), "float")]
    if w.name in ("G1", "G1-antithetic"):
        N, D = inp["N"], inp["D"]
        return [((N, D), "float"), ((N,), "float"), ((D,), "float"), ((D,), "float")]
    B, D = inp["B"], inp["D"]
    return [((B, D), "float")] * 4


def _check_outputs(w, name, out, inp, dtype, exact_int=True):
    """Shapes and dtypes of a peer's outputs."""
    if len(out) != len(w.outputs):
        raise AssertionError(f"{w.name} {name}: {len(out)} outputs, want {len(w.outputs)}")
    dt = np.dtype(dtype)
    for o, label, (shape, kind) in zip(out, w.outputs, _expected_shapes(w, inp)):
        if o.shape != shape:
            raise AssertionError(f"{w.name} {name} {label}: shape {o.shape}, want {shape}")
        if kind == "int":
            ok = o.dtype == np.int64 if exact_int else o.dtype.kind in "iu"
        else:
            ok = o.dtype == dt
        if not ok:
            raise AssertionError(f"{w.name} {name} {label}: dtype {o.dtype} ({dtype} run)")


def _sf_from_draws(w, inp, draws):
    """The outputs after the draws, by scorefast, for draws a peer made."""
    import scorefast
    if w.name == "C1":
        d = scorefast.Categorical(inp["L"].copy())
        a = np.ascontiguousarray(draws)
        return (d.log_prob(a),
                scorefast.reinforce_grad(d, a, _c1_rewards(inp["R"], a), baseline="loo"))
    if w.name == "B1":
        d = scorefast.Bernoulli(inp["L"].copy())
        x = np.ascontiguousarray(draws)
        r = _b1_rewards(inp["R"], x)
        return (d.log_prob(x),) + (scorefast.reinforce_grad(d, x, r[..., None], baseline="loo"),)
    if w.name in ("G1", "G1-antithetic"):
        d = scorefast.DiagNormal(inp["mu"].copy(), np.exp(inp["log_sigma"]))
        x = np.ascontiguousarray(draws)
        return (d.log_prob(x),) + tuple(scorefast.reinforce_grad(d, x, _g1_fitness(x),
                                                                 baseline="mean"))
    d = scorefast.Normal(inp["loc"].copy(), np.exp(inp["log_scale"]))
    x = np.ascontiguousarray(draws)
    return (d.log_prob(x),) + tuple(scorefast.reinforce_grad(
        d, x[None], inp["A"][None, :, None], baseline="none"))


def _reference(w, inp, seed, draws):
    """scorefast.reference: (its sampler's draws on ``seed``, logp and
    gradients after ``draws``), per-sample scores materialised."""
    from scorefast import reference as ref
    if w.name == "C1":
        d = ref.Categorical(inp["L"])
        mine = d.sample(inp["S"], np.random.default_rng(seed))
        return mine, (d.log_prob(draws),
                      ref.reinforce_grad(d, draws, _c1_rewards(inp["R"], draws), baseline="loo"))
    if w.name == "B1":
        d = ref.Bernoulli(inp["L"])
        mine = d.sample(inp["S"], np.random.default_rng(seed))
        r = _b1_rewards(inp["R"], draws)
        return mine, (d.log_prob(draws),
                      ref.reinforce_grad(d, draws, r[..., None], baseline="loo"))
    if w.name in ("G1", "G1-antithetic"):
        d = ref.DiagNormal(inp["mu"], np.exp(inp["log_sigma"]))
        mine = d.sample(inp["N"], np.random.default_rng(seed),
                        antithetic=w.name == "G1-antithetic")
        return mine, (d.log_prob(draws),) + tuple(ref.reinforce_grad(
            d, draws, _g1_fitness(draws), baseline="mean"))
    d = ref.Normal(inp["loc"], np.exp(inp["log_scale"]))
    mine = d.sample((), np.random.default_rng(seed))
    return mine, (d.log_prob(draws),) + tuple(ref.reinforce_grad(
        d, draws[None], inp["A"][None, :, None], baseline="none"))


def _grad_scales(w, inp, draws):
    """Round-off scales of the gradients, by output label, where they exceed
    the gradients' own size: in G1 the fitness is large against its spread
    (``f - b`` cancels), so a rounding of f, which is relative to |f|, moves
    ``g_mu`` by up to ``eps * sum |f| |eps| / (N sigma)``: the scale is that sum."""
    if w.name not in ("G1", "G1-antithetic"):
        return {}
    x = np.asarray(draws, dtype=np.float64)
    sigma = np.exp(inp["log_sigma"].astype(np.float64))
    z = np.abs((x - inp["mu"]) / sigma)
    f = np.abs(_g1_fitness(x))
    N = x.shape[0]
    return {"g_mu": float(np.max((f @ z) / (N * sigma))),
            "g_log_sigma": float(np.max((f @ np.abs(z * z - 1)) / N))}


def _draws_mismatch(w, got, want, dtype):
    """(number of differing draws, boolean mask of the batch rows whose every
    draw agrees, or None where draws are real numbers compared to round-off)."""
    if w.name == "C1":
        diff = got != want
        return int(np.count_nonzero(diff)), ~diff.any(axis=0)
    if w.name == "B1":
        diff = got != want
        return int(np.count_nonzero(diff)), ~diff.any(axis=(0, 2))
    _assert_close("draws", got, want, dtype)
    return 0, None


def _compare_same_draws(w, name, out, ref_out, dtype, report, allowed, scales):
    """A peer that drew from the same generator as scorefast: the draws agree
    (all but ``allowed`` discrete ones), every other output to round-off on
    the rows whose draws agree."""
    bad, same = _draws_mismatch(w, out[0], ref_out[0], dtype)
    report[f"{name} draws mismatched"] = bad
    if bad > allowed:
        raise AssertionError(f"{w.name}: {name} and scorefast draw {bad} different values")
    for label, got, want in zip(w.outputs[1:], out[1:], ref_out[1:]):
        scale = max(float(np.max(np.abs(want))) if want.size else 1.0, scales.get(label, 0.0))
        if same is not None:
            if label == "logp":
                got, want = got[:, same], want[:, same]
            else:
                got, want = got[same], want[same]
        report[f"{name} {label}"] = _assert_close(f"{w.name} {name} {label}", got, want,
                                                  dtype, scale=scale)


def _check_own_draws(w, name, draws, inp):
    """The draws of a peer with its own generator are draws of the workload's
    distribution: actions in range, values in {0, 1}, antithetic rows mirrored,
    and standardised Gaussian noise with moments within 6 standard errors."""
    if w.name == "C1":
        if draws.min() < 0 or draws.max() >= inp["K"]:
            raise AssertionError(f"C1 {name}: actions out of range")
        return
    if w.name == "B1":
        if not np.all((draws == 0) | (draws == 1)):
            raise AssertionError(f"B1 {name}: values other than 0 and 1")
        return
    if w.name in ("G1", "G1-antithetic"):
        loc, scale = inp["mu"], np.exp(inp["log_sigma"].astype(np.float64))
    else:
        loc, scale = inp["loc"], np.exp(inp["log_scale"].astype(np.float64))
    z = (draws.astype(np.float64) - loc) / scale
    if w.name == "G1-antithetic":
        h = z.shape[0] // 2
        _assert_close(f"{name} mirrored half", z[h:], -z[:h], draws.dtype,
                      scale=float(np.max(np.abs(z))) * 10)
        z = z[:h]
    n = z.size
    if n >= 64:
        if abs(z.mean()) > 6 / math.sqrt(n) or abs(z.var() - 1) > 6 * math.sqrt(2 / n):
            raise AssertionError(f"{w.name} {name}: noise moments {z.mean():.3g}, "
                                 f"{z.var():.3g} (want 0, 1)")


def check_agreement(workload, size, dtype="float64", seed=SEED, peers=None,
                    oracle_limit=2_000_000):
    """Check that a workload's peers compute the same thing, on inputs of ``size``.

    * scorefast (with ``method="numpy"`` where its sampler takes it) draws what
      scorefast.reference's sampler draws on the same seed, and its logp and
      gradients equal reference's (per-sample scores materialised) where the
      draws hold at most ``oracle_limit`` numbers;
    * the NumPy and Numba peers, run from generators of the same seed, draw the
      same values (discrete draws in float32: all but a rare one whose uniform
      falls within rounding of a boundary) and give the other outputs equal to
      round-off on the batch rows whose draws agree;
    * the torch, torch-manual and JAX peers (where installed) draw their own;
      their draws must look like the distribution's, and their logp and
      gradients equal scorefast's for those draws.

    Raises AssertionError on a disagreement; returns a dict of the largest
    absolute differences and the mismatched draws found.
    """
    w = get_workload(workload)
    inp = w.make_inputs(size, dtype, seed)
    report = {}
    want = list(peers) if peers is not None else w.available_peers()

    out_sf = tuple(np.asarray(o) for o in
                   _sf_check_step(w)(*w.call_args(inp), np.random.default_rng(seed)))
    _check_outputs(w, "scorefast", out_sf, inp, dtype)
    draws = out_sf[0]
    n_draws = draws.size
    allowed = 0 if np.dtype(dtype) == np.float64 else max(1, n_draws // 1000)

    ref_draws, ref_rest = _reference(w, inp, seed, draws)
    bad, _ = _draws_mismatch(w, ref_draws, draws, dtype)
    report["reference draws mismatched"] = bad
    if bad > allowed:
        raise AssertionError(f"{w.name} {size}/{dtype}: reference sampler and scorefast "
                             f"draw {bad} different values")
    work = n_draws * (inp["K"] if w.name == "C1" else 1)
    scales = _grad_scales(w, inp, draws)
    if work <= oracle_limit:
        for label, got, ref in zip(w.outputs[1:], out_sf[1:], ref_rest):
            report[f"scorefast {label} vs oracle"] = _assert_close(
                f"{w.name} scorefast {label} vs oracle", got, ref, dtype,
                scale=max(float(np.max(np.abs(ref))), scales.get(label, 0.0)))

    for name in want:
        if name in ("scorefast", "floor") or not peer_available(w, name):
            continue
        peer = w.peers[name]
        args = w.call_args(inp, name)
        if name in SAME_DRAW_PEERS:
            out = peer.step(*args, np.random.default_rng(seed))
        else:
            if name.startswith("torch"):
                import torch
                torch.manual_seed(seed)
            out = peer.step(*args, np.random.default_rng(seed))
        out = tuple(np.asarray(o) for o in out)
        _check_outputs(w, name, out, inp, dtype, exact_int=name in SAME_DRAW_PEERS)
        if name in SAME_DRAW_PEERS:
            _compare_same_draws(w, name, out, out_sf, dtype, report, allowed, scales)
        else:
            _check_own_draws(w, name, out[0], inp)
            mine = _sf_from_draws(w, inp, out[0])
            own_scales = _grad_scales(w, inp, out[0])
            for label, got, ref in zip(w.outputs[1:], out[1:], mine):
                report[f"{name} {label}"] = _assert_close(
                    f"{w.name} {name} {label}", got, ref, dtype,
                    scale=max(float(np.max(np.abs(ref))), own_scales.get(label, 0.0)))
    return report
