"""Input parts: turn observations into input spikes."""

from spikey.snn.input.bounded_rate import BoundedRate
from spikey.snn.input.latency import Latency
from spikey.snn.input.one_hot import OneHot
from spikey.snn.input.pixel_rate import PixelRate
from spikey.snn.input.population import Population
from spikey.snn.input.rate_map import RateMap
from spikey.snn.input.static_map import StaticMap
from spikey.snn.input.template import Input

__all__ = ["Input", "RateMap", "StaticMap", "Population", "BoundedRate", "OneHot", "PixelRate",
           "Latency"]
