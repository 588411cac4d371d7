"""Modifier parts: parameters that change over time."""

from spikey.snn.modifier.freeze import FreezeWeights
from spikey.snn.modifier.homeostasis import HomeostaticThreshold
from spikey.snn.modifier.modifiers import DropOff, LinearDecay, Modifier
from spikey.snn.modifier.normalize import NormalizeWeights

__all__ = ["Modifier", "LinearDecay", "DropOff", "NormalizeWeights", "HomeostaticThreshold",
           "FreezeWeights"]
