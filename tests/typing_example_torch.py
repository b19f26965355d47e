"""The PyTorch bridge, fully annotated: ``mypy --strict`` must accept it
(tests/test_typing.py runs it where torch is installed)."""
from __future__ import annotations

import torch

import scorefast as sf
import scorefast.torch as sft


def torch_step() -> float:
    net = torch.nn.Linear(4, 3)
    logits = net(torch.randn(5, 4))
    actions = sf.Categorical(sft.to_numpy(logits), copy=False).sample(6)   # zero-copy view
    rewards = torch.randn(6, 5)
    fed: torch.Tensor = sft.reinforce_backward(logits, actions, rewards, baseline="loo")
    g: torch.Tensor = sft.reinforce_grad(logits, actions, rewards, "mean", reduction="sum")
    arr = sft.to_numpy(g)
    back: torch.Tensor = sft.from_numpy(arr)
    return float(fed.sum() + back.sum())


if __name__ == "__main__":
    print(torch_step())
