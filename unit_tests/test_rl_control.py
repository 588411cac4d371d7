"""The spiking actor-critic learns CartPole-v1 online, and the learning is the network's."""

import gymnasium
import numpy as np
import pytest

from spikey.agents import actor_critic_config
from spikey.training import train

BOUNDS = {"low": [-2.4, -3.0, -0.21, -3.5], "high": [2.4, 3.0, 0.21, 3.5]}


def experiment(route="td-ltp", members=4, seed=0, episodes=40, learning_rate=None, eval_episodes=0):
    options = {} if learning_rate is None else {"learning_rate": learning_rate}
    network = actor_critic_config(gymnasium.make("CartPole-v1"), route=route,
                                  batch_size=members, **BOUNDS, **options)
    return {"network": network, "game": {"id": "CartPole-v1"},
            "training": {"episodes": episodes, "eval_episodes": eval_episodes, "max_ticks": 500,
                         "seed": seed, "record_ticks": False}}


def last_returns(result, n=10):
    rows = result.episodes[(result.episodes["phase"] == "train")
                           & (result.episodes["episode"] >= result.episodes["episode"].max() - n + 1)]
    return rows.groupby("member")["return"].mean()


@pytest.mark.parametrize("route", ["td-ltp", "td-stdp"])
def test_plasticity_beats_the_same_network_frozen(route):
    learned = last_returns(train(experiment(route), progress=False))
    frozen = last_returns(train(experiment(route, learning_rate=0.0), progress=False))
    # members are seeds 0-3; a random policy averages ~22 steps, the untrained network ~20-40
    assert frozen.mean() < 45, frozen
    assert learned.mean() > 2 * frozen.mean(), (learned, frozen)
    assert (learned > frozen).sum() >= 3, (learned, frozen)


@pytest.mark.slow
def test_actor_critic_evaluates_far_above_random_on_fresh_seeds():
    result = train(experiment(members=5, seed=100, episodes=300, eval_episodes=20),
                   progress=False)
    evaluation = result.episodes[result.episodes["phase"] == "eval"]
    per_member = evaluation.groupby("member")["return"].mean()
    assert (per_member > 100).sum() >= 4, per_member
