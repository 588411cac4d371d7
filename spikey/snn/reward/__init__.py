"""Rewarder parts: score the network's behaviour."""

from spikey.snn.reward.rewarders import MatchExpected, Rewarder, RewardPredictionError
from spikey.snn.reward.target import TargetSpikes
from spikey.snn.reward.td import TDError

__all__ = ["Rewarder", "MatchExpected", "RewardPredictionError", "TargetSpikes", "TDError"]
