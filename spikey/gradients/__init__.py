"""Gradient learning on the array engine: surrogate-gradient BPTT and e-prop, and Reptile
meta-learning of the initial weights.

See ``spikey/gradients/README.md`` for the contract: which parts have a backward pass,
the equations, the surrogates and the config keys.
"""

from spikey.gradients.engine import SUPPORTED_NEURONS, SpikingModel, Tape
from spikey.gradients.eprop import eprop_gradient
from spikey.gradients.losses import LOSSES, READOUTS, Loss, softmax
from spikey.gradients.optimizers import OPTIMIZERS, Optimizer
from spikey.gradients.plasticity import EProp
from spikey.gradients.readout import Softmax
from spikey.gradients.regularizers import rate_penalty, weight_penalty
from spikey.gradients.reptile import REPTILE_KEYS, Reptile, task_sampler
from spikey.gradients.surrogates import SURROGATES, Surrogate
from spikey.gradients.trainer import GRADIENT_KEYS, GradientTrainer

__all__ = ["SpikingModel", "Tape", "Surrogate", "Loss", "softmax", "Optimizer", "Softmax",
           "GradientTrainer", "GRADIENT_KEYS", "EProp", "eprop_gradient", "rate_penalty", "weight_penalty",
           "SUPPORTED_NEURONS", "SURROGATES", "LOSSES", "READOUTS", "OPTIMIZERS", "Reptile",
           "REPTILE_KEYS", "task_sampler"]
