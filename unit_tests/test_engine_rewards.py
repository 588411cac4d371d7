"""Tick rewards through the engine (Engine.reward, kernels.tick_rewards) equal the rules'
own reward_signals and the numpy path bit for bit.

Speed is measured in benchmarks/, never here.
"""

import numpy as np
import pytest

from spikey import Network
from spikey.snn import kernels
from test_engine import _assert_same_state, _step_config

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def _two_signals():
    from spikey.snn.reward.rewarders import MatchExpected

    class TwoSignals(MatchExpected):
        """Two learning signals a tick: the reward, then half of it negated."""

        def learning_signals(self, action, game_reward, info, terminated=None, truncated=None):
            r = super().learning_signals(action, game_reward, info)
            return np.concatenate([r, -0.5 * r])

    return TwoSignals


def _mstdp_subclass():
    from spikey.snn.synapse.mstdp import MSTDP

    class HalfReward(MSTDP):
        """A reward the engine does not know: half the rule's."""

        def reward(self, reward, weights):
            super().reward(np.asarray(reward) * 0.5, weights)

    return HalfReward


def _tick_config(rule, weights="Random", rewarder=None):
    cfg = _step_config(weights=weights, dtype="float32")
    cfg["network"]["reward_mode"] = "tick"
    cfg["parts"]["synapses"] = rule
    if rewarder is not None:
        cfg["parts"]["rewarder"] = rewarder
    return cfg


def _train(cfg, ticks=10):
    calls = []
    tick_rewards = kernels.tick_rewards
    nets = [Network.from_config(cfg),
            Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})]
    rng = np.random.default_rng(8)
    before = nets[0].weights.matrix.copy()
    original = kernels.tick_rewards
    kernels.tick_rewards = lambda *a: (calls.append(1), tick_rewards(*a))
    try:
        for tick in range(ticks):
            obs = rng.integers(0, 2, size=(3, 2))
            info = {"expected": obs[:, 0] ^ obs[:, 1]}
            if tick == ticks // 2:
                for net in nets:
                    net.plastic[:] = [1.0, 0.0, 1.0]
            signals = [net.reward(action=net.tick(obs, info), info=info) for net in nets]
            np.testing.assert_array_equal(*signals)
    finally:
        kernels.tick_rewards = original
    assert not np.array_equal(before, nets[0].weights.matrix)  # rewards moved the weights
    _assert_same_state(*nets)
    return calls


@needs_numba
@pytest.mark.parametrize("rule", ["MSTDP", "MSTDPET"])
@pytest.mark.parametrize("weights", ["Random", "SparseFanIn"])
def test_tick_rewards_run_in_one_kernel_call_and_equal_numpy(rule, weights):
    assert len(_train(_tick_config(rule, weights))) == 10


@needs_numba
@pytest.mark.parametrize("rule", ["MSTDP", "MSTDPET"])
def test_several_signals_a_tick_are_applied_in_order(rule):
    assert len(_train(_tick_config(rule, rewarder=_two_signals()))) == 10


@needs_numba
def test_a_rule_with_its_own_reward_runs_it():
    assert _train(_tick_config(_mstdp_subclass())) == []


@needs_numba
def test_a_plastic_switch_of_another_type_runs_the_rules_own_reward():
    # network.plastic replaced by an int array: the engine leaves the rewards to the rule
    cfg = _tick_config("MSTDPET")
    calls = []
    tick_rewards = kernels.tick_rewards
    nets = [Network.from_config(cfg),
            Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})]
    rng = np.random.default_rng(9)
    original = kernels.tick_rewards
    kernels.tick_rewards = lambda *a: (calls.append(1), tick_rewards(*a))
    try:
        for tick in range(6):
            if tick == 3:
                for net in nets:
                    net.plastic = np.array([1, 0, 1])
            obs = rng.integers(0, 2, size=(3, 2))
            info = {"expected": obs[:, 0] ^ obs[:, 1]}
            for net in nets:
                net.reward(action=net.tick(obs, info), info=info)
    finally:
        kernels.tick_rewards = original
    assert len(calls) == 3
    _assert_same_state(*nets)
