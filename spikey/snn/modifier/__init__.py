"""Modifier parts: parameters that change over time."""

from spikey.snn.modifier.modifiers import DropOff, LinearDecay, Modifier

__all__ = ["Modifier", "LinearDecay", "DropOff"]
