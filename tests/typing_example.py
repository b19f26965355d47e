"""Uses scorefast's whole public API with full annotations; ``mypy --strict``
must accept it (tests/test_typing.py runs it). Also runs as a script.
The PyTorch bridge is in typing_example_torch.py (torch is optional)."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

import scorefast as sf
import scorefast.capi
import scorefast.estimators
import scorefast.plots

FloatArray = npt.NDArray[np.floating]


def categorical_step(rng: np.random.Generator) -> FloatArray:
    logits: npt.NDArray[np.float64] = rng.normal(size=(4, 3))
    dist = sf.Categorical(logits, validate=True, copy=True)
    actions: npt.NDArray[np.int64] = dist.sample(8, rng=rng)
    value, logp = dist.sample_and_log_prob((2,), rng=0)
    rewards = rng.normal(size=actions.shape)
    shape: tuple[int, ...] = dist.batch_shape
    k: int = dist.num_classes
    parts: list[FloatArray] = [dist.probs, dist.logits, dist.log_prob(actions), dist.entropy(),
                               dist.score(actions), dist.log_normalizer(), logp]
    adv: FloatArray = sf.advantages(rewards, "loo", axis=0, groups=None, eps=1e-8, ddof=0)
    g = dist.weighted_score(actions, adv)
    g = dist.weighted_score(actions, adv, out=g)
    grad: FloatArray = sf.reinforce_grad(dist, actions, rewards, baseline="loo",
                                         reduction="mean")
    assert value.shape == (2, 4) and len(shape) + k > 0 and len(parts) == 7
    return grad + g


def bernoulli_step(rng: np.random.Generator) -> FloatArray:
    dist = sf.Bernoulli(rng.normal(size=5))
    x = dist.sample((6,), rng=rng, method="numpy")
    x2, logp = dist.sample_and_log_prob(6, rng=rng)
    ema = sf.EMABaseline(0.9, debias=True)
    _ = dist.probs + dist.mean + dist.entropy() + dist.log_prob(x).sum(0) + logp.sum(0)
    s: FloatArray = dist.score(x2)
    g: FloatArray = sf.reinforce_grad(dist, x, rng.normal(size=x.shape), baseline=ema)
    out: FloatArray = g + s[0]
    return out


def gaussian_step(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    normal = sf.Normal(np.zeros(3), np.ones(3))
    diag = sf.DiagNormal(np.zeros((2, 3)), 0.5 * np.ones((2, 3)))
    x = diag.sample(10, rng=rng, antithetic=True, method="fast")
    f = -np.sum(x ** 2, axis=-1)
    utility = sf.centered_ranks(f) + sf.nes_utilities(f, axis=0)
    g_loc, g_log_scale = sf.reinforce_grad(diag, x, utility, baseline="none")
    z, logp = normal.sample_and_log_prob(4, rng=rng)
    p_loc, p_ls = sf.pathwise_grad(normal, z, 2 * z, reduction="sum")
    s_loc, s_ls = normal.score(z)
    w_loc, w_ls = normal.weighted_score(z, np.ones(z.shape))
    moments: list[FloatArray] = [normal.loc, normal.scale, normal.mean, normal.stddev,
                                 normal.variance, normal.entropy(), normal.log_prob(z), logp]
    assert len(moments) == 8
    return g_loc + g_log_scale.sum(), p_loc + p_ls + s_loc[0] + s_ls[0] + w_loc + w_ls


def library_facts() -> str:
    previous: int = sf.set_num_threads(1)
    sf.set_num_threads(None)
    n: int = sf.get_num_threads()
    baselines: tuple[str, ...] = sf.BASELINES
    include: str = sf.get_include()
    names: list[str] = scorefast.capi.kernel_names()
    dist: sf.Distribution = sf.Categorical(np.zeros((1, 2)))
    grad = scorefast.estimators.reinforce_grad(dist, np.zeros((2, 1), np.int64), np.ones((2, 1)))
    assert previous >= 1 and n >= 1 and len(baselines) == 5 and names and grad is not None
    assert callable(scorefast.plots.plot_variance)
    return f"scorefast {sf.__version__}, headers in {include}"


def main() -> None:
    rng = np.random.default_rng(0)
    print(categorical_step(rng).shape, bernoulli_step(rng).shape, gaussian_step(rng)[0].shape)
    print(library_facts())


if __name__ == "__main__":
    main()
