"""scorefast: fast score-function (REINFORCE) gradient estimation.

The log-derivative trick turns the gradient of an expectation into an
average over samples,

    grad E_p[f(x)] = E_p[f(x) grad log p(x | theta)],

and scorefast computes every step of it in compiled kernels: sampling from
numpy's own Generator, log-probabilities, scores and baseline-corrected
gradient sums.
"""
from scorefast._version import __version__
from scorefast._config import get_num_threads, get_output_cache, set_num_threads, set_output_cache
from scorefast._include import get_include
from scorefast.distributions import Bernoulli, Categorical, Distribution
from scorefast.gaussian import DiagNormal, Normal, pathwise_grad
from scorefast.es import centered_ranks, nes_utilities
from scorefast.estimators import BASELINES, EMABaseline, advantages, reinforce_grad
from scorefast.accumulate import GradientAccumulator
from scorefast.noise import block_rng
from scorefast.steps import BernoulliStep, CategoricalStep, DiagNormalStep, NormalStep

__all__ = [
    "__version__",
    "Distribution",
    "Categorical",
    "Bernoulli",
    "Normal",
    "DiagNormal",
    "pathwise_grad",
    "advantages",
    "EMABaseline",
    "reinforce_grad",
    "CategoricalStep",
    "BernoulliStep",
    "NormalStep",
    "DiagNormalStep",
    "BASELINES",
    "centered_ranks",
    "nes_utilities",
    "get_num_threads",
    "set_num_threads",
    "get_output_cache",
    "set_output_cache",
    "get_include",
    "GradientAccumulator",
    "block_rng",
]
