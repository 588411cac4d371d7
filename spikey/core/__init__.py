"""Core machinery: declared keys, validation and the part base class."""

from spikey.core.params import REQUIRED, ConfigError, Key
from spikey.core.part import Part

__all__ = ["Key", "ConfigError", "REQUIRED", "Part"]
