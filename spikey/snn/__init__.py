"""Spiking network framework: parts and the network that steps them."""

from spikey.snn import input, modifier, neuron, readout, reward, synapse, weight  # noqa: F401
from spikey.snn.network import Monitor, Network

__all__ = ["Network", "Monitor"]
