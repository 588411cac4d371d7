"""Training checkpoints are written in a background thread while the next episode plays,
and are complete whenever the loop hands over (reporters, return, errors)."""

import json
import os
import threading

import pytest

from spikey.snn.network import Network
from spikey.training import load_config, train

XOR = os.path.join(os.path.dirname(__file__), "..", "examples", "configs", "xor.yaml")


def _config(episodes=4, checkpoint_every=2):
    config = load_config(XOR)
    config["network"]["network"].update(processing_steps=20, batch_size=2)
    config["game"]["kwargs"]["n_presentations"] = 4
    config["training"].update(episodes=episodes, max_ticks=4, eval_episodes=1,
                              checkpoint_every=checkpoint_every)
    return config


def test_a_checkpoint_is_written_while_the_next_episode_plays(tmp_path, monkeypatch):
    next_episode = threading.Event()
    waited = []
    save = Network.save

    def slow_save(self, path):
        if os.path.basename(path) == "episode_000002.npz":
            waited.append(next_episode.wait(5))  # set by episode 2's callback
        save(self, path)

    def callback(network, episode, rows):
        if episode == 2:
            next_episode.set()

    monkeypatch.setattr(Network, "save", slow_save)
    result = train(_config(), run_dir=tmp_path / "run", callbacks=[callback], progress=False)
    assert waited == [True]  # episode 2 played while checkpoint 2 was being saved
    latest = json.loads((tmp_path / "run" / "checkpoints" / "latest.json").read_text())
    assert latest["finished"] and latest["episodes_done"] == 4
    loaded = Network.load(tmp_path / "run" / "checkpoints" / "episode_000002.npz")
    assert loaded.tick_count == 2 * 4  # the network as it was after 2 episodes of 4 ticks
    assert (result.network.weights.matrix != loaded.weights.matrix).any()


def test_reporters_see_the_checkpoint_complete(tmp_path):
    seen = []

    def reporter(network, episode, rows, run_dir):
        latest = os.path.join(run_dir, "checkpoints", "latest.json")
        if not os.path.exists(latest):
            seen.append((episode, None))
            return
        with open(latest) as handle:
            seen.append((episode, json.load(handle)["episodes_done"]))

    train(_config(), run_dir=tmp_path / "run", reporters=[reporter], progress=False)
    assert seen == [(0, None), (1, 2), (2, 2), (3, 4)]


def test_an_error_writing_a_checkpoint_stops_the_run(tmp_path, monkeypatch):
    def broken_save(self, path):
        raise OSError(f"disk full writing {os.path.basename(path)}")

    monkeypatch.setattr(Network, "save", broken_save)
    with pytest.raises(OSError, match="disk full writing episode_000002.npz"):
        train(_config(episodes=6), run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoints" / "latest.json").exists()
    # the failure does not hide an error of the loop itself
    calls = []

    def failing(network, episode, rows):
        calls.append(episode)
        if episode == 2:
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        train(_config(), run_dir=tmp_path / "run2", callbacks=[failing], progress=False)
