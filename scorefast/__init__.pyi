from scorefast._config import get_num_threads as get_num_threads
from scorefast.accumulate import GradientAccumulator as GradientAccumulator
from scorefast.noise import block_rng as block_rng
from scorefast.steps import BernoulliStep as BernoulliStep
from scorefast.steps import CategoricalStep as CategoricalStep
from scorefast.steps import DiagNormalStep as DiagNormalStep
from scorefast.steps import NormalStep as NormalStep
from scorefast._config import set_num_threads as set_num_threads
from scorefast._config import get_output_cache as get_output_cache
from scorefast._config import set_output_cache as set_output_cache
from scorefast._include import get_include as get_include
from scorefast._version import __version__ as __version__
from scorefast.distributions import Bernoulli as Bernoulli
from scorefast.distributions import Categorical as Categorical
from scorefast.distributions import Distribution as Distribution
from scorefast.es import centered_ranks as centered_ranks
from scorefast.es import nes_utilities as nes_utilities
from scorefast.estimators import BASELINES as BASELINES
from scorefast.estimators import EMABaseline as EMABaseline
from scorefast.estimators import advantages as advantages
from scorefast.estimators import reinforce_grad as reinforce_grad
from scorefast.gaussian import DiagNormal as DiagNormal
from scorefast.gaussian import Normal as Normal
from scorefast.gaussian import pathwise_grad as pathwise_grad

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
