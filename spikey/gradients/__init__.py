"""Gradient learning on the array engine: surrogate-gradient BPTT and e-prop.

See ``spikey/gradients/README.md`` for the contract: which parts have a backward pass,
the equations, the surrogates and the config keys.
"""

from spikey.gradients.engine import SUPPORTED_NEURONS, SpikingModel, Tape
from spikey.gradients.losses import LOSSES, READOUTS, Loss, softmax
from spikey.gradients.surrogates import SURROGATES, Surrogate

__all__ = ["SpikingModel", "Tape", "Surrogate", "Loss", "softmax", "SUPPORTED_NEURONS",
           "SURROGATES", "LOSSES", "READOUTS"]
