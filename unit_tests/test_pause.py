"""Members whose episode ended pause, so a batch member keeps matching its solo network."""

import gymnasium as gym
import pytest
import numpy as np

import spikey  # noqa: F401  (registers the spikey/ games)
from spikey import Network
from spikey.core.part import Activity, RandomBlocks
from spikey.games.adapters import EnvAdapter
from spikey.games.run import run_episode


def _blocks(B, activity=None, block=4):
    return RandomBlocks([np.random.default_rng(s) for s in range(B)], 3, np.float64,
                        block=block, activity=activity)


def test_paused_members_do_not_advance_and_resume_where_they_stopped():
    activity = Activity(2)
    paused, solo0 = _blocks(2, activity), _blocks(1)
    solo1 = RandomBlocks([np.random.default_rng(1)], 3, np.float64, block=4)  # member 1's seed
    for step in range(11):  # member 1 pauses on steps 3..6, across a block boundary
        activity.mask[1] = not 3 <= step <= 6
        activity.refresh()
        row = paused.next()
        np.testing.assert_array_equal(row[0], solo0.next()[0])
        if activity.mask[1]:
            np.testing.assert_array_equal(row[1], solo1.next()[0])
    taken, expected = np.empty((2, 6, 3)), np.empty((1, 6, 3))
    activity.mask[:] = True
    activity.refresh()
    paused.take(6, taken)
    np.testing.assert_array_equal(taken[1], solo1.take(6, expected)[0])


def _cartpole_network(batch_size, seed):
    games = gym.make_vec("spikey/CartPole-v0", num_envs=batch_size)
    adapter = EnvAdapter(games)
    config = adapter.network_config(batch_size=batch_size, processing_steps=10, seed=seed)
    return Network.from_config(config), games, adapter


def test_batch_of_variable_length_episodes_equals_solo_runs():
    batch, games, adapter = _cartpole_network(3, seed=0)
    lengths = []
    for _ in range(3):
        lengths.append(run_episode(batch, games, adapter).lengths)
    lengths = np.array(lengths)
    assert len(set(lengths[0])) > 1  # members' episodes end at different ticks
    for b in range(3):
        solo, solo_games, solo_adapter = _cartpole_network(1, seed=b)
        for episode in range(3):
            assert run_episode(solo, solo_games, solo_adapter).lengths[0] == lengths[episode, b]
        np.testing.assert_array_equal(batch.weights.matrix[b], solo.weights.matrix[0])
        np.testing.assert_array_equal(batch.rewarder.baseline[b], solo.rewarder.baseline[0])


RULES = {
    "STDP": {"learning_rate": 0.05},
    "LTP": {"learning_rate": 0.05},
    "DASTDP": {"learning_rate": 1.0, "baseline": 0.05},
    "MSTDP": {"learning_rate": 0.5},
    "Consolidation": {"learning_rate": 0.05},
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_paused_members_do_not_learn(rule):
    def network(batch_size, seed):
        games = gym.make_vec("spikey/CartPole-v0", num_envs=batch_size)
        adapter = EnvAdapter(games)
        config = adapter.network_config(batch_size=batch_size, processing_steps=10, seed=seed)
        config["parts"]["synapses"] = rule
        config["synapses"] = dict(RULES[rule])
        if rule == "Consolidation":  # needs a neuron part with a modulation level
            config["parts"]["neurons"] = "ModulatedLIF"
            config["neurons"] = {"n_neurons": config["neurons"]["n_neurons"]}
        return Network.from_config(config), games, adapter

    batch, games, adapter = network(3, seed=0)
    start = batch.weights.matrix.copy()
    lengths = np.array([run_episode(batch, games, adapter).lengths for _ in range(2)])
    assert len(set(lengths[0])) > 1  # members' episodes end at different ticks
    assert not np.array_equal(batch.weights.matrix, start)  # the rule did learn
    for b in range(3):
        solo, solo_games, solo_adapter = network(1, seed=b)
        for episode in range(2):
            assert run_episode(solo, solo_games, solo_adapter).lengths[0] == lengths[episode, b]
        np.testing.assert_array_equal(batch.weights.matrix[b], solo.weights.matrix[0])
