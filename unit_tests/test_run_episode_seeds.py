"""run_episode's game seeds: fresh by default, gymnasium's ``seed=`` spelling, explicit seeds exact."""

import gymnasium as gym
import numpy as np
import pytest

import spikey.games  # noqa: F401  (registers spikey/ games)
from spikey.games.adapters import EnvAdapter
from spikey.games.run import fresh_seeds, run_episode
from spikey.snn.network import Network


def cartpole(batch_size=2, seed=0):
    games = gym.make_vec("spikey/CartPole-v0", num_envs=batch_size)
    adapter = EnvAdapter(games)
    config = adapter.network_config(batch_size=batch_size, processing_steps=5, seed=seed)
    return Network.from_config(config), games, adapter


def first_observations(network, games, adapter, **seeding):
    result = run_episode(network, games, adapter, max_steps=3, record=True, **seeding)
    return np.asarray(result.trajectory["observation"][0])


def test_default_seeds_are_fresh_every_call_and_reproducible():
    network, games, adapter = cartpole()
    starts = [first_observations(network, games, adapter) for _ in range(3)]
    # three calls, three different starting states (the old default replayed one episode)
    assert not np.array_equal(starts[0], starts[1]) and not np.array_equal(starts[1], starts[2])
    again, games2, adapter2 = cartpole()  # a new network of the same seed: the same stream
    for start in starts:
        np.testing.assert_array_equal(first_observations(again, games2, adapter2), start)
    # member b plays what a solo network seeded b plays, call after call
    for b in range(2):
        solo, solo_games, solo_adapter = cartpole(batch_size=1, seed=b)
        for start in starts:
            np.testing.assert_array_equal(first_observations(solo, solo_games, solo_adapter)[0],
                                          start[b])
    assert fresh_seeds(network) != fresh_seeds(network)


def test_explicit_seeds_are_exact_and_seed_is_gymnasiums_spelling():
    network, games, adapter = cartpole()
    reference = gym.make_vec("spikey/CartPole-v0", num_envs=2)
    expected = np.asarray(reference.reset(seed=[11, 12])[0])
    for seeding in ({"seeds": [11, 12]}, {"seed": [11, 12]}, {"seeds": 11}, {"seed": 11}):
        np.testing.assert_array_equal(first_observations(network, games, adapter, **seeding),
                                      expected)
    with pytest.raises(ValueError, match="pass one"):
        run_episode(network, games, adapter, seeds=[1, 2], seed=[1, 2])
