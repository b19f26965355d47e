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
