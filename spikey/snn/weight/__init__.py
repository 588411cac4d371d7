"""Weight parts: the synaptic weight matrix and which synapses exist."""

from spikey.snn.weight.fan_in import SparseFanIn
from spikey.snn.weight.fixed_degree import FixedOutDegree
from spikey.snn.weight.lateral_inhibition import LateralInhibition
from spikey.snn.weight.layered import Layered
from spikey.snn.weight.manual import Manual
from spikey.snn.weight.random import Random
from spikey.snn.weight.receptive_field import ReceptiveField
from spikey.snn.weight.ring import Ring
from spikey.snn.weight.small_world import SmallWorld
from spikey.snn.weight.sparse_ei import SparseEI
from spikey.snn.weight.template import Weight

__all__ = ["Weight", "Manual", "Random", "Layered", "Ring", "SmallWorld", "SparseEI",
           "ReceptiveField", "LateralInhibition", "FixedOutDegree", "SparseFanIn"]
