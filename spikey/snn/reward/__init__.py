"""Rewarder parts: score the network's behaviour."""

from spikey.snn.reward.rewarders import MatchExpected, Rewarder, RewardPredictionError
from spikey.snn.reward.target import TargetSpikes

__all__ = ["Rewarder", "MatchExpected", "RewardPredictionError", "TargetSpikes"]
