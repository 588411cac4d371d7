"""The Logic gymnasium environment."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import spikey
from conftest import build_small_config
from spikey import ConfigError
from spikey.games import Logic

PRESETS = ["AND", "OR", "XOR", "NAND"]
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0], "NAND": [1, 1, 1, 0]}


@pytest.mark.parametrize("preset", PRESETS)
def test_check_env_passes(preset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        env = gymnasium.make(f"spikey/Logic-{preset}-v0", render_mode="rgb_array")
        check_env(env.unwrapped)
    check_env(Logic(preset=preset, order="cycle"), skip_render_check=True)


@pytest.mark.parametrize("preset", PRESETS)
def test_make_registered_env(preset):
    env = gymnasium.make(f"spikey/Logic-{preset}-v0")
    assert env.unwrapped.config["gate"] == preset
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs) and obs.dtype == np.int8
    assert info["expected"] == TRUTH[preset][2 * obs[0] + obs[1]]
    obs, reward, terminated, truncated, info = env.step(1)
    assert reward in (0.0, 1.0) and not terminated and not truncated
    env.close()


@pytest.mark.parametrize("preset", PRESETS)
def test_expected_matches_gate_and_reward(preset):
    env = Logic(preset=preset, order="cycle", reward_correct=2.0, reward_wrong=-3.0)
    obs, info = env.reset(seed=0)
    for step in range(8):
        index = 2 * int(obs[0]) + int(obs[1])
        assert index == step % 4  # cycling 00, 01, 10, 11
        assert info["expected"] == TRUTH[preset][index]
        answer = step % 2  # right about half the time
        obs, reward, *_, info = env.step(answer)
        assert reward == (2.0 if answer == TRUTH[preset][index] else -3.0)


def test_random_order_is_seeded_and_covers_all_patterns():
    env = Logic(preset="XOR", n_presentations=10**6)
    patterns = []
    obs, info = env.reset(seed=42)
    for _ in range(400):
        patterns.append(2 * int(obs[0]) + int(obs[1]))
        assert info["expected"] == int(obs[0]) ^ int(obs[1])
        obs, _, _, _, info = env.step(0)
    counts = np.bincount(patterns, minlength=4)
    assert counts.min() > 60, counts
    again = Logic(preset="XOR", n_presentations=10**6)
    obs, _ = again.reset(seed=42)
    replay = []
    for _ in range(400):
        replay.append(2 * int(obs[0]) + int(obs[1]))
        obs, *_ = again.step(0)
    assert replay == patterns


def test_episode_length():
    env = Logic(preset="OR", n_presentations=3)
    env.reset(seed=0)
    done = [env.step(0)[2] for _ in range(3)]
    assert done == [False, False, True]
    env.reset()
    assert env.step(1)[2] is False


@pytest.mark.parametrize("action", [2, -1, "a", None, np.array([0, 1])])
def test_out_of_space_action_raises(action):
    env = Logic(preset="XOR")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in Discrete\\(2\\)"):
        env.step(action)


@pytest.mark.parametrize("action", [1, np.int64(0), np.array(1), np.array([1])])
def test_integer_like_actions_are_accepted(action):
    env = Logic(preset="XOR")
    env.reset(seed=0)
    env.step(action)


@pytest.mark.parametrize("action", [1.5, 0.7])
def test_fractional_action_raises(action):
    env = Logic(preset="XOR")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in Discrete\\(2\\)"):
        env.step(action)


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown preset 'XNOR'"):
        Logic(preset="XNOR")
    with pytest.raises(ConfigError, match="unknown key 'gates'; did you mean 'gate'"):
        Logic(gates="AND")
    with pytest.raises(ConfigError, match="gate = 'NOR' is not allowed"):
        Logic(gate="NOR")
    with pytest.raises(ConfigError, match="render_mode 'human'"):
        Logic(preset="AND", render_mode="human")
    with pytest.raises(ConfigError, match="n_presentations = 0 is out of range"):
        Logic(n_presentations=0)


def test_preset_can_be_overridden_by_config():
    env = Logic(preset="AND", n_presentations=7)
    assert env.get_config() == {"gate": "AND", "n_presentations": 7, "reward_correct": 1.0,
                                "reward_wrong": 0.0, "order": "random"}


def test_render():
    env = Logic(preset="XOR", render_mode="rgb_array", order="cycle")
    env.reset(seed=0)
    image = env.render()
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    assert image.shape == (60, 150, 3)
    env.step(1)  # now showing 01 and the last answer (1)
    image = env.render()
    assert tuple(image[30, 25]) == (220, 220, 220)  # bit 0 off
    assert tuple(image[30, 65]) == (20, 20, 20)  # bit 1 on
    assert tuple(image[30, 125]) == (40, 160, 40)  # answered 1
    assert Logic(preset="XOR").render() is None


def test_network_plays_vectorised_games():
    B = 3
    games = gymnasium.vector.SyncVectorEnv(
        [lambda: Logic(preset="XOR", n_presentations=10**6) for _ in range(B)])
    obs, info = games.reset(seed=[0, 1, 2])
    net = spikey.Network.from_config(build_small_config(network={"batch_size": B,
                                                                 "reward_mode": "step"}))
    for _ in range(4):
        expected = obs[:, 0] ^ obs[:, 1]
        np.testing.assert_array_equal(info["expected"], expected)
        action = net.tick(obs, info)
        assert action.shape == (B,)
        obs, reward, _, _, info = games.step(action)
        np.testing.assert_array_equal(reward, (action == expected).astype(float))
