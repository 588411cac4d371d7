"""Weight parts: the synaptic weight matrix and which synapses exist."""

from spikey.snn.weight.manual import Manual
from spikey.snn.weight.random import Random
from spikey.snn.weight.template import Weight

__all__ = ["Weight", "Manual", "Random"]
