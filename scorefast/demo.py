"""The classic first example of REINFORCE, trained with scorefast alone.

A linear softmax policy over two actions sees x in {-1, +1}; it is rewarded
(reward 1) for action 1 when x > 0 and action 0 otherwise. The policy's
logits are ``x * W + c`` (W, c of shape (2,)); the gradient of the expected
reward with respect to the logits comes from ``reinforce_grad`` and is
chained by hand into W and c.
"""
import numpy as np

import scorefast as sf


def run_demo(steps=300, seed=0, batch=64, samples=8, lr=2.0, verbose=True):
    """Train the policy; returns a dict with the greedy accuracy and the history."""
    rng = np.random.default_rng(seed)
    weight = np.zeros(2)
    bias = np.zeros(2)
    history = []
    for step in range(1, steps + 1):
        x = rng.choice([-1.0, 1.0], size=batch)
        logits = x[:, None] * weight + bias                      # (batch, 2)
        policy = sf.Categorical(logits)
        actions = policy.sample(samples, rng=rng)                # (samples, batch)
        rewards = (actions == (x > 0)).astype(np.float64)
        g_logits = sf.reinforce_grad(policy, actions, rewards, baseline="loo")
        # chain rule through logits = x * W + c; reduction="mean" already
        # divides by samples * batch, so sum over the batch here.
        weight += lr * (g_logits * x[:, None]).sum(0)
        bias += lr * g_logits.sum(0)
        history.append(float(rewards.mean()))
        if verbose and (step % 25 == 0 or step == 1):
            print(f"step {step:4d}  mean reward {history[-1]:.3f}  "
                  f"P(correct | x=+1) {_p_correct(weight, bias, 1.0):.3f}  "
                  f"P(correct | x=-1) {_p_correct(weight, bias, -1.0):.3f}")
    xs = np.array([-1.0, 1.0])
    greedy = np.argmax(xs[:, None] * weight + bias, axis=1)
    accuracy = float(np.mean(greedy == (xs > 0)))
    # the expected accuracy of the stochastic policy over x in {-1, +1}
    expected = 0.5 * (_p_correct(weight, bias, 1.0) + _p_correct(weight, bias, -1.0))
    if verbose:
        print(f"learned accuracy: greedy {accuracy:.0%}, sampled {expected:.1%}")
    return {"accuracy": expected, "greedy_accuracy": accuracy, "history": history,
            "weight": weight, "bias": bias}


def _p_correct(weight, bias, x):
    return float(sf.Categorical(x * weight + bias).probs[int(x > 0)])


def variance_table(mu=1.0, c=0.0, sigma=1.0, samples=8, repeats=20000, seed=0,
                   verbose=True):
    r"""Variance of gradient estimators of d/dmu E[(z - c)^2], z ~ N(mu, sigma^2).

    Each estimator averages ``samples`` draws; its variance is measured over
    ``repeats`` independent estimates and printed beside the closed form.
    With d = mu - c, one draw's score-function term ``f(z) (z - mu) / sigma^2``
    has variance ``d^4/sigma^2 + 14 d^2 + 15 sigma^2``; with a constant
    baseline b it is ``E[(f - b)^2 s^2] - 4 d^2``, which is
    ``8 d^2 + 10 sigma^2`` at b = E[f] and ``8 d^2 + 6 sigma^2`` at the optimal
    b* = E[f s^2] / E[s^2] = d^2 + 3 sigma^2. The leave-one-out mean adds the
    noise of estimating E[f], ``(4 d^2 + 2 sigma^2) / (S - 1)`` per draw, and
    its terms are correlated through the shared rewards, each pair by
    ``(2 d)^2 / (S - 1)^2``; so the S-sample estimator has variance
    ``(8 d^2 + 10 sigma^2 + (4 d^2 + 2 sigma^2) / (S - 1)) / S + 4 d^2 / (S (S - 1))``.
    The leave-one-out optimal baseline is a ratio estimate of b*, noisy at
    small S: its row shows the ideal-b* limit, not an exact closed form.
    The pathwise term ``2 (z - c)`` has variance ``4 sigma^2``.
    """
    rng = np.random.default_rng(seed)
    d = mu - c
    S = samples
    dist = sf.Normal(np.full(repeats, mu), np.full(repeats, sigma))
    z = dist.sample(S, rng=rng)                               # (S, repeats)
    f = (z - c) ** 2
    rows = []

    def sf_estimates(baseline):
        g_loc, _ = sf.reinforce_grad(dist, z, f, baseline=baseline, reduction="sum")
        return g_loc / S

    rows.append(("score function, no baseline", sf_estimates("none"),
                 (d ** 4 / sigma ** 2 + 14 * d ** 2 + 15 * sigma ** 2) / S, "exact"))
    rows.append(("score function, leave-one-out mean", sf_estimates("loo"),
                 (8 * d ** 2 + 10 * sigma ** 2 + (4 * d ** 2 + 2 * sigma ** 2) / (S - 1)) / S
                 + 4 * d ** 2 / (S * (S - 1)), "exact"))
    rows.append(("score function, optimal baseline", sf_estimates("optimal"),
                 (8 * d ** 2 + 6 * sigma ** 2) / S, "ideal b*"))
    g_path, _ = sf.pathwise_grad(dist, z, 2 * (z - c), reduction="sum")
    rows.append(("pathwise", g_path / S, 4 * sigma ** 2 / S, "exact"))
    table = []
    for name, est, closed, kind in rows:
        table.append({"estimator": name, "mean": float(est.mean()),
                      "variance": float(est.var(ddof=1)), "closed_form": closed,
                      "closed_form_kind": kind,
                      "standard_error": float(est.std(ddof=1) / np.sqrt(repeats))})
    if verbose:
        print(f"\nVariance of estimators of d/dmu E[(z - c)^2], z ~ N({mu}, {sigma}^2), "
              f"c = {c}, {S} samples each, {repeats} repeats (exact gradient {2 * d:g})")
        print(f"{'estimator':36s} {'mean':>8s} {'variance':>9s} {'closed form':>12s}")
        for row in table:
            print(f"{row['estimator']:36s} {row['mean']:8.4f} {row['variance']:9.4f} "
                  f"{row['closed_form']:12.4f}  ({row['closed_form_kind']})")
    return table
