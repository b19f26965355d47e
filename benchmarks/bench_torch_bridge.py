"""asv benchmarks of a small policy network's REINFORCE training step, two ways.

* ``torch``: the plain PyTorch loop: sample with ``torch.distributions``,
  ``loss = -(adv * log_prob).mean()`` with the leave-one-out baseline,
  ``loss.backward()``, ``optimizer.step()``.
* ``scorefast``: the same network and optimiser; actions sampled by scorefast
  from the logits (viewed without copying), and the surrogate loss replaced by
  ``scorefast.torch.reinforce_backward``.

``TrainStep`` times the whole step (forward, sampling, rewards, gradient,
optimiser step); ``GradStep`` only the part that differs once the actions are
fixed (log-probabilities, advantages, loss and backward, against one
``reinforce_backward`` call). ``threads``: 1 runs both libraries on one
thread (the computation itself); 0 leaves both at their defaults (all cores
each: on a small or busy machine their spinning OpenMP threads compete).
Skipped when torch is not installed.

Run it standalone for a table: ``python benchmarks/bench_torch_bridge.py [threads]``.
"""
import time

import numpy as np

SIZES = {
    # name: (states B, actions K, samples per state S, observation dim, hidden)
    "small": (256, 16, 8, 32, 64),
    "wide": (512, 1024, 8, 32, 128),
}
WAYS = ["torch", "scorefast"]
THREADS = [1, 0]


def _threads(n):
    """Both libraries on n threads; n = 0: their defaults."""
    import torch
    import scorefast as sf

    if not hasattr(_threads, "torch_default"):
        _threads.torch_default = torch.get_num_threads()
    torch.set_num_threads(n or _threads.torch_default)
    sf.set_num_threads(n or None)


def _setup(size, way):
    try:
        import torch
        import scorefast.torch as sft
    except ImportError:
        raise NotImplementedError("torch is not installed") from None
    import scorefast as sf

    B, K, S, D, H = SIZES[size]
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, K))
    opt = torch.optim.SGD(net.parameters(), lr=1e-2)
    obs = torch.randn(B, D)
    table = torch.randn(B, K)                       # reward of action k in state i
    table_np = table.numpy()
    rng = np.random.default_rng(0)

    def rewards_of(actions):                        # (S, B) -> (S, B)
        return torch.gather(table, 1, actions.T).T

    def step_torch():
        logits = net(obs)
        dist = torch.distributions.Categorical(logits=logits)
        actions = dist.sample((S,))
        r = rewards_of(actions)
        adv = r - (r.sum(0, keepdim=True) - r) / (S - 1)
        loss = -(adv * dist.log_prob(actions)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    def step_scorefast():
        logits = net(obs)
        actions = sf.Categorical(sft.to_numpy(logits), copy=False).sample(S, rng=rng)
        r = np.take_along_axis(table_np, actions.T, axis=1).T
        opt.zero_grad()
        sft.reinforce_backward(logits, actions, r, baseline="loo")
        opt.step()

    with torch.no_grad():
        fixed_actions = torch.distributions.Categorical(logits=net(obs)).sample((S,))
    fixed_rewards = rewards_of(fixed_actions)

    def grad_torch():
        logits = net(obs)
        logp = torch.distributions.Categorical(logits=logits).log_prob(fixed_actions)
        r = fixed_rewards
        adv = r - (r.sum(0, keepdim=True) - r) / (S - 1)
        (-(adv * logp).mean()).backward()

    def grad_scorefast():
        sft.reinforce_backward(net(obs), fixed_actions, fixed_rewards, baseline="loo")

    steps = {"torch": (step_torch, grad_torch), "scorefast": (step_scorefast, grad_scorefast)}
    return steps[way]


class TrainStep:
    """One REINFORCE training step of a two-layer policy network."""

    params = [list(SIZES), WAYS, THREADS]
    param_names = ["size", "way", "threads"]
    timeout = 120
    which = 0

    def setup(self, size, way, threads):
        self.step = _setup(size, way)[self.which]
        _threads(threads)
        self.step()                                  # warm-up

    def teardown(self, size, way, threads):
        _threads(0)

    def time_step(self, size, way, threads):
        self.step()


class GradStep(TrainStep):
    """Gradient of the REINFORCE surrogate through the network, actions fixed."""

    which = 1


def _table(threads=1, repeat=7, number=None):
    """Median and minimum time per call of every benchmark, printed as a table."""
    print(f"threads: {threads or 'defaults'}")
    print(f"{'benchmark':10s} {'size':6s} {'way':10s} {'median':>10s} {'min':>10s}")
    for cls in (TrainStep, GradStep):
        for size in SIZES:
            for way in WAYS:
                try:
                    fn = _setup(size, way)[cls.which]
                except NotImplementedError as e:
                    print(f"{cls.__name__:10s} {size:6s} {way:10s} skipped: {e}")
                    continue
                _threads(threads)
                fn()
                t0 = time.perf_counter()
                fn()
                one = time.perf_counter() - t0
                n = number or max(1, int(0.2 / max(one, 1e-6)))
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    for _ in range(n):
                        fn()
                    times.append((time.perf_counter() - t0) / n)
                print(f"{cls.__name__:10s} {size:6s} {way:10s} "
                      f"{np.median(times) * 1e3:8.3f}ms {min(times) * 1e3:8.3f}ms")


if __name__ == "__main__":
    import sys

    _table(threads=int(sys.argv[1]) if len(sys.argv) > 1 else 1)
