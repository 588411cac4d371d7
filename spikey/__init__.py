"""Spikey: a vectorized spiking neural network framework with an RL training platform."""

from spikey.core import ConfigError, Key, Part
from spikey.snn import Monitor, Network
from spikey import games  # noqa: F401  (registers the spikey/ gymnasium environments)
from spikey import gradients  # noqa: F401  (surrogate-gradient BPTT, e-prop; registers Softmax)

__version__ = "0.1.0"
__all__ = ["Network", "Monitor", "Key", "Part", "ConfigError", "games", "gradients"]
