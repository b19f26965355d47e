"""scorefast.torch: zero-copy conversion, and reinforce_backward against the
plain PyTorch surrogate loss -(adv * log_prob).mean() on the same actions."""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scorefast as sf  # noqa: E402
import scorefast.torch as sft  # noqa: E402

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=2e-5, atol=2e-6), torch.float64: dict(rtol=1e-12, atol=1e-13)}


def torch_advantages(r, baseline, eps=1e-8):
    """The advantages a PyTorch loop computes by hand, along the sample axis 0."""
    S = r.shape[0]
    if baseline == "none":
        return r
    if isinstance(baseline, float):
        return r - baseline
    if baseline == "mean":
        return r - r.mean(0, keepdim=True)
    if baseline == "loo":
        return r - (r.sum(0, keepdim=True) - r) / (S - 1)
    if baseline == "group":
        return (r - r.mean(0, keepdim=True)) / (r.std(0, unbiased=False, keepdim=True) + eps)
    raise ValueError(baseline)


# -- the module and conversions ---------------------------------------------
def test_real_torch_is_not_shadowed():
    assert sft.torch is sys.modules["torch"]
    assert sft.torch.__name__ == "torch"
    assert hasattr(sft.torch, "nn") and sft.torch is not sft


def test_core_does_not_import_torch():
    code = "import sys, scorefast; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clear_error_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import scorefast.torch\nexcept ImportError as e:\n"
            "    assert 'needs PyTorch' in str(e), e\nelse:\n    raise SystemExit('imported')")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_to_numpy_shares_memory(dtype):
    t = torch.arange(12).reshape(3, 4).to(dtype)
    a = sft.to_numpy(t)
    assert a.shape == (3, 4) and a.dtype == t.numpy().dtype
    a[1, 2] = 100
    assert t[1, 2].item() == 100
    # detached from autograd, still the same memory
    w = torch.zeros(5, requires_grad=True)
    assert np.shares_memory(sft.to_numpy(w), w.detach().numpy())


def test_to_numpy_non_contiguous_view():
    t = torch.arange(12.0).reshape(3, 4).T
    a = sft.to_numpy(t)
    np.testing.assert_array_equal(a, t.numpy())
    assert np.shares_memory(a, t.numpy())


def test_from_numpy_shares_memory():
    a = np.zeros((2, 3))
    t = sft.from_numpy(a)
    t[0, 1] = 7.0
    assert a[0, 1] == 7.0
    ro = np.zeros(3)
    ro.flags.writeable = False
    t = sft.from_numpy(ro)           # read-only: copied, no warning
    t[0] = 1.0
    assert ro[0] == 0.0


def test_non_cpu_tensor_rejected_by_to_numpy():
    t = torch.zeros(3, device="meta")
    with pytest.raises(ValueError, match="CPU"):
        sft.to_numpy(t)


# -- equivalence with the plain surrogate loss ---------------------------------
def _problem(dtype, B=12, K=5, S=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = (2 * torch.randn(B, K, generator=g)).to(dtype)
    actions = torch.distributions.Categorical(logits=logits).sample((S,))
    table = torch.randn(B, K, generator=g).to(dtype)
    rewards = torch.gather(table, 1, actions.T).T
    return logits, actions, rewards


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("baseline", ["none", "mean", "loo", "group", 0.25])
def test_backward_matches_surrogate_loss(dtype, baseline):
    logits, actions, rewards = _problem(dtype)
    ref = logits.clone().requires_grad_(True)
    logp = torch.distributions.Categorical(logits=ref).log_prob(actions)
    adv = torch_advantages(rewards, baseline)
    (-(adv * logp).mean()).backward()

    mine = logits.clone().requires_grad_(True)
    fed = sft.reinforce_backward(mine, actions, rewards, baseline=baseline)
    assert mine.grad.dtype == dtype and mine.grad.shape == logits.shape
    torch.testing.assert_close(mine.grad, ref.grad, **TOL[dtype])
    torch.testing.assert_close(fed, ref.grad, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_through_a_network(dtype):
    """The gradient reaches every parameter as loss.backward() would."""
    torch.manual_seed(1)
    B, D, K, S = 16, 8, 4, 5
    net = torch.nn.Sequential(torch.nn.Linear(D, 32), torch.nn.Tanh(),
                              torch.nn.Linear(32, K)).to(dtype)
    obs = torch.randn(B, D, dtype=dtype)
    with torch.no_grad():
        actions = torch.distributions.Categorical(logits=net(obs)).sample((S,))
    rewards = (actions == 1).to(dtype) + 0.1 * torch.randn(S, B, dtype=dtype)

    net.zero_grad()
    logits = net(obs)
    logp = torch.distributions.Categorical(logits=logits).log_prob(actions)
    (-(torch_advantages(rewards, "loo") * logp).mean()).backward()
    expected = [p.grad.clone() for p in net.parameters()]

    net.zero_grad()
    sft.reinforce_backward(net(obs), actions, rewards, baseline="loo")
    for p, e in zip(net.parameters(), expected):
        torch.testing.assert_close(p.grad, e, **TOL[dtype])


def test_gradients_accumulate_like_backward():
    logits, actions, rewards = _problem(torch.float64)
    x = logits.clone().requires_grad_(True)
    g1 = sft.reinforce_backward(x, actions, rewards)
    sft.reinforce_backward(x, actions, rewards)
    torch.testing.assert_close(x.grad, 2 * g1)


def test_bernoulli_matches_surrogate_loss():
    g = torch.Generator().manual_seed(3)
    B, S = 10, 7
    logits = torch.randn(B, generator=g, dtype=torch.float64)
    actions = torch.distributions.Bernoulli(logits=logits).sample((S,))
    rewards = actions * torch.linspace(-1, 1, B, dtype=torch.float64) + \
        torch.randn(S, B, generator=g, dtype=torch.float64)
    ref = logits.clone().requires_grad_(True)
    logp = torch.distributions.Bernoulli(logits=ref).log_prob(actions)
    (-(torch_advantages(rewards, "loo") * logp).mean()).backward()
    mine = logits.clone().requires_grad_(True)
    sft.reinforce_backward(mine, actions, rewards, distribution="bernoulli")
    torch.testing.assert_close(mine.grad, ref.grad, rtol=1e-12, atol=1e-13)


def test_reinforce_grad_is_the_core_estimate():
    logits, actions, rewards = _problem(torch.float64)
    g = sft.reinforce_grad(logits, actions, rewards, "loo", reduction="sum")
    expected = sf.reinforce_grad(sf.Categorical(logits.numpy()), actions.numpy(),
                                 rewards.numpy(), "loo", reduction="sum")
    np.testing.assert_array_equal(g.numpy(), expected)
    assert not g.requires_grad


def test_numpy_actions_and_rewards_and_ema_baseline():
    logits, actions, rewards = _problem(torch.float32)
    ema = sf.EMABaseline(0.9)
    x = logits.clone().requires_grad_(True)
    sft.reinforce_backward(x, actions.numpy(), rewards.numpy(), baseline=ema)
    assert ema.count == 1
    # first batch: the EMA baseline is 0, so this is baseline "none"
    y = logits.clone().requires_grad_(True)
    sft.reinforce_backward(y, actions, rewards, baseline="none")
    torch.testing.assert_close(x.grad, y.grad)


def test_half_precision_logits():
    logits, actions, rewards = _problem(torch.float32)
    x = logits.to(torch.bfloat16).requires_grad_(True)
    sft.reinforce_backward(x, actions, rewards)
    assert x.grad.dtype == torch.bfloat16
    y = x.detach().float().requires_grad_(True)
    sft.reinforce_backward(y, actions, rewards)
    torch.testing.assert_close(x.grad.float(), y.grad, rtol=1e-2, atol=1e-3)


def test_errors():
    logits, actions, rewards = _problem(torch.float64)
    with pytest.raises(RuntimeError, match="require grad"):
        sft.reinforce_backward(logits, actions, rewards)
    with pytest.raises(ValueError, match="distribution"):
        sft.reinforce_grad(logits, actions, rewards, distribution="poisson")
    bad = logits.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        sft.reinforce_grad(bad, actions, rewards)
    with pytest.raises(ValueError, match="loo"):
        sft.reinforce_grad(logits, actions[0], rewards[0], "loo")
