"""Readout parts: turn output spikes into actions."""

from spikey.snn.readout.readouts import (NeuronRates, PopulationVector, SoftmaxAction, Threshold,
                                         TopAction)
from spikey.snn.readout.template import Readout
from spikey.snn.readout.vector_decoders import ContinuousVector, PopulationIndex

__all__ = ["Readout", "Threshold", "NeuronRates", "PopulationVector", "TopAction", "SoftmaxAction",
           "ContinuousVector", "PopulationIndex"]
