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
``reinforce_backward`` call). Skipped when torch is not installed.

Run it standalone (``python benchmarks/bench_torch_bridge.py``) for a table.
"""
import time

import numpy as np

SIZES = {
    # name: (states B, actions K, samples per state S, observation dim, hidden)
    "small": (256, 16, 8, 32, 64),
    "wide": (512, 1024, 8, 32, 128),
}
WAYS = ["torch", "scorefast"]


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

    params = [list(SIZES), WAYS]
    param_names = ["size", "way"]
    timeout = 120

    def setup(self, size, way):
        self.step, _ = _setup(size, way)
        self.step()                                  # warm-up

    def time_step(self, size, way):
        self.step()


class GradStep:
    """Gradient of the REINFORCE surrogate through the network, actions fixed."""

    params = [list(SIZES), WAYS]
    param_names = ["size", "way"]
    timeout = 120

    def setup(self, size, way):
        _, self.step = _setup(size, way)
        self.step()

    def time_step(self, size, way):
        self.step()


def _table(repeat=7, number=None):
    """Median time per call of every benchmark, printed as a table."""
    print(f"{'benchmark':10s} {'size':6s} {'way':10s} {'median':>10s} {'min':>10s}")
    for cls in (TrainStep, GradStep):
        for size in SIZES:
            for way in WAYS:
                try:
                    fns = _setup(size, way)
                except NotImplementedError as e:
                    print(f"{cls.__name__:10s} {size:6s} {way:10s} skipped: {e}")
                    continue
                fn = fns[0] if cls is TrainStep else fns[1]
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
    _table()
