"""Rewarder parts: score the network's behaviour."""

from spikey.snn.reward.rewarders import MatchExpected, Rewarder, RewardPredictionError

__all__ = ["Rewarder", "MatchExpected", "RewardPredictionError"]
