"""Classification as a game (spikey/Digits-v0), evaluation tools, and the digit routes."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from spikey import ConfigError
from spikey.datasets import DatasetFileError, load_digits
from spikey.games import Classification


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_game_passes_check_env_and_renders():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make("spikey/Digits-v0", render_mode="rgb_array")
        check_env(env.unwrapped)
    env.reset(seed=0)
    env.step(3)
    image = env.render()
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.shape[0] >= 64


def test_label_in_info_matches_the_shown_sample_and_reward_counts_the_right_class(digits):
    env = Classification(split="validation", n_presentations=30, reward_wrong=-0.5)
    obs, info = env.reset(seed=4)
    rewards = []
    for t in range(30):
        i = info["index"]
        np.testing.assert_array_equal(obs, digits.validation.x[i])
        assert info["label"] == info["expected"] == digits.validation.y[i]
        answer = info["label"] if t % 2 == 0 else (info["label"] + 1) % 10
        obs, reward, terminated, truncated, info = env.step(answer)
        rewards.append(reward)
        assert terminated == (t == 29) and not truncated
    assert rewards == [1.0, -0.5] * 15


def test_sequential_order_visits_each_sample_of_the_split_once(digits):
    n = len(digits.test)
    env = Classification(split="test", order="sequential", n_presentations=n)
    _, info = env.reset(seed=0)
    seen = [info["index"]]
    for _ in range(n - 1):
        _, _, terminated, _, info = env.step(0)
        seen.append(info["index"])
    assert seen == list(range(n)) and not terminated
    assert env.step(0)[2]                        # the n-th answer ends the episode


def test_random_order_shows_only_the_chosen_split(digits):
    games = Classification.vector(num_envs=8, split="train", n_presentations=50, n_samples=100)
    obs, info = games.reset(seed=1)
    rows = {r.tobytes() for r in digits.train.x[:100]}
    for _ in range(49):
        assert all(o.tobytes() in rows for o in obs)
        assert np.all(info["index"] < 100)
        obs, _, _, _, info = games.step(info["label"])
    # different members see different samples (each its own seed)
    assert len(set(info["index"].tolist())) > 1


def test_steps_per_sample_keeps_a_sample_for_that_many_answers():
    env = Classification(steps_per_sample=3, n_presentations=4)
    obs, info = env.reset(seed=2)
    indices, count = [info["index"]], 0
    terminated = False
    while not terminated:
        obs, reward, terminated, _, info = env.step(info["label"])
        assert reward == 1.0
        count += 1
        indices.append(info["index"])
    assert count == 12
    # each sample stays for three answers
    assert indices[0] == indices[1] == indices[2] and indices[3] == indices[4] == indices[5]


def test_bad_game_settings_get_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="n_samples = 5000 but the digits test split holds 359"):
        Classification(split="test", n_samples=5000)
    with pytest.raises(ConfigError, match="split"):
        Classification(split="dev")
    with pytest.raises(ConfigError, match="drop data_folder"):
        Classification(data_folder=str(tmp_path))
    with pytest.raises(DatasetFileError, match="lacks train-images-idx3-ubyte.gz"):
        Classification(dataset="mnist", data_folder=str(tmp_path))
    env = Classification()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in Discrete"):
        env.step(10)
