"""Readout parts: turn output spikes into actions."""

from spikey.snn.readout.readouts import NeuronRates, PopulationVector, Threshold, TopAction
from spikey.snn.readout.template import Readout

__all__ = ["Readout", "Threshold", "NeuronRates", "PopulationVector", "TopAction"]
