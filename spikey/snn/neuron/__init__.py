"""Neuron parts: the body neurons' dynamics."""

from spikey.snn.neuron.lif import LIF
from spikey.snn.neuron.template import Neuron

__all__ = ["Neuron", "LIF"]
