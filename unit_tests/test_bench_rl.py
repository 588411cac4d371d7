"""benchmarks/bench_rl.py and its numpy baseline: same features, same games, the threshold rule."""

import json
import os
import sys

import gymnasium as gym
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))

import bench_rl  # noqa: E402
from baselines.numpy_actor_critic import LinearActorCritic, game_seed  # noqa: E402

import spikey  # noqa: E402
from spikey.agents import actor_critic_config  # noqa: E402
from spikey.training.loop import EVAL_STREAM, episode_seed  # noqa: E402


@pytest.mark.parametrize("task", ["CartPole-v1", "Acrobot-v1"])
def test_numpy_features_are_the_spiking_inputs_rates(task):
    low, high = bench_rl.bounds(task)
    env = gym.make(task)
    config = actor_critic_config(env, batch_size=1, low=low, high=high)
    network = spikey.Network.from_config(config)
    inputs = network.parts["inputs"]
    agent = LinearActorCritic(low, high, int(env.action_space.n))
    rng = np.random.default_rng(0)
    span = np.asarray(high) - np.asarray(low)
    for _ in range(5):  # inside and beyond the bounds (both clip)
        obs = np.asarray(low) - 0.2 * span + 1.4 * span * rng.random(len(low))
        inputs.encode(obs[None])
        rates = inputs.probability[0] * 1000.0 / network.context.dt / inputs.max_rate
        np.testing.assert_allclose(agent.features(obs), rates, rtol=1e-5, atol=1e-7)


def test_game_seeds_equal_spikey_training_ones():
    for seed, episode in [(0, 0), (3, 7), (12, 999)]:
        assert game_seed(seed, episode) == episode_seed(seed, episode)
        assert game_seed(seed, episode, EVAL_STREAM) == episode_seed(seed, episode, EVAL_STREAM)
    assert bench_rl.eval_seeds(2, 3) == [episode_seed(2, e, EVAL_STREAM) for e in range(3)]


def test_episodes_to_threshold():
    f = bench_rl.episodes_to_threshold
    # trailing means of 3: 2, 3, 4 -> reaches 3 at the 4th episode (1-based count)
    assert f([1, 2, 3, 4, 5], 3.0, 3) == 4
    assert f([1, 2, 3, 4, 5], 4.0, 3) == 5
    assert f([1, 2, 3, 4, 5], 4.5, 3) is None
    assert f([9, 9], 1.0, 3) is None  # fewer episodes than the window
    assert f([-500, -150, -150, -150], -200.0, 2) == 3  # Acrobot-like: -325 then -150


def test_linear_actor_critic_update_by_hand():
    """One step of TD(lambda): delta = r + gamma V(s') - V(s); traces phi and (onehot - pi) phi."""

    class OneStep:
        def reset(self, seed=None):
            return np.array([0.0]), {}

        def step(self, action):
            return np.array([1.0]), 1.0, True, False, {}

    agent = LinearActorCritic([0.0], [1.0], 2, n_per_dim=2, gamma=0.5, lam=0.5,
                              actor_lr=0.1, critic_lr=0.2)
    agent.w[:] = [0.3, 0.0]
    total, steps = agent.play(OneStep(), seed=0, learn=True)
    assert (total, steps) == (1.0, 1)
    phi = np.array([1.0, np.exp(-0.5)])  # x = 0: centres 0 and 1, sigma 1
    delta = 1.0 - 0.3  # terminated: r - V(s)
    np.testing.assert_allclose(agent.w, [0.3 + 0.2 * delta * phi[0], 0.2 * delta * phi[1]])
    # pi was uniform (theta = 0); the drawn action's row moved up, the other down
    moved = agent.theta[:, 0]
    assert moved.max() == pytest.approx(0.1 * delta * 0.5 * phi[0])
    assert moved.min() == pytest.approx(-0.1 * delta * 0.5 * phi[0])


def test_quick_run_rows_and_json(tmp_path):
    out = tmp_path / "rl.json"
    rows = bench_rl.main(["--quick", "--tasks", "CartPole-v1", "--methods", "numpy-ac", "ga",
                          "random", "--episodes", "6", "--json", str(out)])
    assert sorted({(r["method"], r["seed"]) for r in rows}) == [
        ("ga", 0), ("ga", 1), ("numpy-ac", 0), ("numpy-ac", 1), ("random", 0), ("random", 1)]
    for r in rows:
        assert r["eval_episodes"] == 4 and r["episodes"] == (0 if r["method"] == "random" else 6)
        assert 8 <= r["eval_mean"] <= 500  # CartPole returns
    written = json.loads(out.read_text())
    assert written["benchmark"] == "rl" and len(written["rows"]) == 6


def test_batch_cost_rows_per_thread_count(tmp_path):
    out = tmp_path / "batch.json"
    rows = bench_rl.main(["--batch-cost", "--quick", "--batch-episodes", "1", "--max-ticks", "20",
                          "--json", str(out)])
    costs = [r for r in rows if r["kind"] == "batch_cost"]
    ratios = [r for r in rows if r["kind"] == "batch_cost_ratio"]
    assert sorted((r["regime"], r["batch_size"], r["threads"]) for r in costs) == [
        ("all_active", 1, 1), ("all_active", 16, 1), ("full", 1, 1), ("full", 16, 1)]
    for r in costs:
        assert r["network_ticks"] <= r["episodes"] * r["max_ticks"]
        assert r["ms_per_network_tick"] > 0
        assert r["member_ticks"] <= r["batch_size"] * r["network_ticks"]
    active = [r for r in costs if r["regime"] == "all_active"]
    assert all(r["episodes"] == bench_rl.ALL_ACTIVE_EPISODES
               and r["network_ticks"] == r["episodes"] * bench_rl.ALL_ACTIVE_TICKS for r in active)
    assert all(r["member_ticks"] == r["batch_size"] * r["network_ticks"] for r in active)
    assert {(r["regime"], r["threads"]) for r in ratios} == {("full", 1), ("all_active", 1)}
    for r in ratios:
        assert r["met"] == (r["per_tick_ratio"] <= r["target"] == 4.0)
    assert len(json.loads(out.read_text())["rows"]) == 6


def test_bad_arguments_are_refused(capsys):
    for argv, message in [(["--episodes", "-1"], "--episodes = -1; expected >= 0"),
                          (["--numpy-gamma", "0"], "--numpy-gamma = 0.0; expected 0 < gamma"),
                          (["--quick", "--ga-population", "2"], "--ga-population = 2"),
                          (["--quick", "--ga-population", "5"], "does not cover one GA generation"),
                          (["--batch-cost", "--threads", "0"], "--threads = [0]; expected")]:
        with pytest.raises(SystemExit):
            bench_rl.main(argv)
        assert message in capsys.readouterr().err


def test_spiking_routes_run_the_shipped_configs():
    """Each spiking route trains its task's shipped config (its settings, not the builder's
    CartPole defaults) with the benchmark's members, episodes and evaluation games."""
    import argparse
    import copy

    from spikey.training import load_config

    args = argparse.Namespace(seeds=3, seed=7, episodes=4, eval_episodes=2, max_ticks=500)
    config = bench_rl.spiking_config("td-ltp", "Acrobot-v1", args)
    shipped = load_config(os.path.join(HERE, "..", "examples", "configs", "acrobot.yaml"))
    expected = copy.deepcopy(shipped["network"])
    expected["network"]["batch_size"] = 3
    assert config["network"] == expected
    assert config["network"]["rewarder"]["gamma"] == 0.99  # the builder's default is 0.98
    assert config["training"] == {"episodes": 4, "max_ticks": 500, "eval_episodes": 2,
                                  "seed": 7, "record_ticks": False}
    # a pair without a shipped config runs the builder's defaults for that route
    built = bench_rl.spiking_config("td-stdp", "Acrobot-v1", args)["network"]
    assert built["synapses"]["A_minus"] < 0 and built["rewarder"]["gamma"] == 0.98
    assert built["network"]["batch_size"] == 3


def test_each_task_trains_for_its_own_budget(capsys):
    # Acrobot-v1's budget is 500 episodes (CartPole-v1's 1,000): 30 x 20 games do not fit
    with pytest.raises(SystemExit):
        bench_rl.main(["--tasks", "Acrobot-v1", "CartPole-v1", "--methods", "ga",
                       "--ga-population", "30", "--ga-fitness-episodes", "20"])
    assert "--episodes = 500 (Acrobot-v1) does not cover one GA generation" in \
        capsys.readouterr().err
