"""Synapse parts: learning rules that change the weights."""

from spikey.snn.synapse.consolidation import Consolidation
from spikey.snn.synapse.da_stdp import DASTDP
from spikey.snn.synapse.mstdp import MSTDP, MSTDPET
from spikey.snn.synapse.short_term import TsodyksMarkram
from spikey.snn.synapse.stdp import LTP, STDP
from spikey.snn.synapse.td_ltp import TDLTP
from spikey.snn.synapse.template import Synapse

__all__ = ["Synapse", "STDP", "LTP", "MSTDP", "MSTDPET", "DASTDP", "TsodyksMarkram", "Consolidation", "TDLTP"]
