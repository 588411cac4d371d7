"""Neuron parts: the body neurons' dynamics."""

from spikey.snn.neuron.adaptive_lif import AdaptiveLIF
from spikey.snn.neuron.conductance_lif import ConductanceLIF
from spikey.snn.neuron.hodgkin_huxley import HodgkinHuxley
from spikey.snn.neuron.izhikevich import Izhikevich
from spikey.snn.neuron.lif import LIF
from spikey.snn.neuron.modulated_lif import ModulatedLIF
from spikey.snn.neuron.rate import LeakyRate, Perceptron, RateNeuron
from spikey.snn.neuron.template import Neuron

__all__ = ["Neuron", "LIF", "AdaptiveLIF", "ConductanceLIF", "HodgkinHuxley", "Izhikevich",
           "ModulatedLIF", "RateNeuron", "LeakyRate", "Perceptron"]
