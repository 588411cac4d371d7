"""The training loop's per-tick and per-episode work trimmed (issue 19): the state's finite
check inside the episode driver's compiled bookkeeping call, tick rows taken positionally,
metrics rows appended at most FLUSH_SECONDS apart. What a run computes and writes is pinned
by test_training_loop_identity.py; these pin the new paths' own behaviour."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import spikey.games.run as run
from spikey.games.adapters import EnvAdapter
from spikey.games.run import run_episode
from spikey.snn.health import NonFiniteError, StateCheck
from spikey.snn.network import Network
from spikey.training import loop, train
from spikey.training.loop import make_games


def _xor(batch_size=2, reward_mode="step", **training):
    return {
        "network": {
            "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                      "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "MatchExpected"},
            "network": {"processing_steps": 20, "batch_size": batch_size, "seed": 4,
                        "reward_mode": reward_mode},
            "inputs": {"n_inputs": 8, "n_dims": 2, "rate_map": [0.0, 100.0]},
            "neurons": {"n_neurons": 5},
            "weights": {"low": 0.0, "high": 3.0, "feed_forward": True},
            "readout": {"n_outputs": 1, "threshold": 20.0},
        },
        "game": {"id": "spikey/Logic-XOR-v0", "kwargs": {"n_presentations": 6}},
        "training": {"episodes": 4, "max_ticks": 6, "eval_episodes": 1, "checkpoint_every": 0,
                     "seed": 4, **training},
    }


def _nan_after(network, tick):
    """network.tick that writes NaN into the weights in the episode's ``tick``-th tick."""
    original, count = network.tick, [0]

    def poisoned(*args, **kwargs):
        out = original(*args, **kwargs)
        if count[0] == tick:
            network.parts["weights"].matrix[-1, 0, -1] = np.nan
        count[0] += 1
        return out
    network.tick = poisoned


@pytest.mark.parametrize("reward_mode", ["step", "tick"])
def test_the_state_check_in_the_compiled_call_stops_where_the_python_check_does(
        reward_mode, monkeypatch):
    config = _xor(reward_mode=reward_mode)
    messages = []
    for joined in (True, False):
        if not joined:
            monkeypatch.setattr(run, "_after_tick", None)
        network = Network.from_config(config["network"])
        games = make_games(config["game"], 2)
        _nan_after(network, 3)
        seen = []
        with pytest.raises(NonFiniteError) as caught:
            run_episode(network, games, seeds=[1, 2],
                        on_tick=lambda tick, **_: seen.append(tick))
        messages.append((str(caught.value), seen))
    assert messages[0] == messages[1]
    assert "in tick 3 of the episode: weights.matrix holds nan (members [1])" in messages[0][0]
    assert messages[0][1] == [0, 1, 2]  # tick 3's callback never ran


def test_compiled_table_follows_a_replaced_array_and_refuses_what_it_cannot_cover():
    network = Network.from_config(_xor()["network"])
    check = StateCheck(network)
    table = check.compiled_table()
    assert table is not None and len(table)
    neurons = network.parts["neurons"]
    fresh = neurons.potential.copy()
    neurons.potential = fresh
    again = check.compiled_table()
    assert fresh.ctypes.data in again[:, 0].tolist()
    assert fresh.ctypes.data not in table[:, 0].tolist()
    neurons.potential = np.zeros((2, 2 * fresh.shape[1]), fresh.dtype)[:, ::2]  # not contiguous
    assert check.compiled_table() is None  # numpy reads that one: the Python check runs
    neurons.potential[1, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"in tick 7 of the episode: neurons.potential "
                                             r"holds inf \(members \[1\]\)"):
        check.after_tick(7)


def test_a_callback_with_tick_row_is_called_positionally_others_by_keyword():
    config = _xor()
    network = Network.from_config(config["network"])
    games = make_games(config["game"], 2)
    calls = []

    class Rows:
        def tick_row(self, *args, **kwargs):
            calls.append(("row", args, kwargs))

        def __call__(self, **kwargs):  # pragma: no cover - must not be used
            calls.append(("call", (), kwargs))

    run_episode(network, games, seeds=[1, 2], on_tick=Rows(), max_steps=3)
    assert [c[0] for c in calls] == ["row"] * 3 and all(not c[2] for c in calls)
    assert [c[1][0] for c in calls] == [0, 1, 2]
    tick, active, action, reward = calls[0][1]
    assert active.dtype == bool and active.shape == (2,) and reward.shape == (2,)
    keyword = []
    run_episode(network, games, seeds=[1, 2], max_steps=2,
                on_tick=lambda **kwargs: keyword.append(sorted(kwargs)))
    assert keyword == [["action", "active", "reward", "tick"]] * 2


def test_tick_rows_in_small_chunks_equal_one_chunk(monkeypatch):
    """Rows handed on in the middle of an episode (CHUNK_ROWS) while members end on different
    ticks are the rows of one hand-over, and the active flags kept by reference stay right."""
    from spikey.training import load_config

    config = load_config("examples/configs/cartpole.yaml")
    config["network"]["network"]["batch_size"] = 3
    config["training"].update(episodes=2, max_ticks=40, eval_episodes=0, record_ticks=True,
                              checkpoint_every=0)
    whole = train(config, progress=False).ticks
    monkeypatch.setattr(loop, "CHUNK_ROWS", 3 * 7)  # 7 ticks of 3 members per hand-over
    chunked = train(config, progress=False).ticks
    assert whole["member"].value_counts().nunique() > 1  # members played different lengths
    pd.testing.assert_frame_equal(whole, chunked)


def test_metrics_rows_are_appended_at_most_flush_seconds_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 1e9)
    on_disk = []
    path = tmp_path / "run" / "metrics"

    def count(network, episode, rows):
        on_disk.append((len(pd.read_csv(path / "episodes.csv")),
                        len(pd.read_csv(path / "ticks.csv"))))

    result = train(_xor(record_ticks=True), run_dir=tmp_path / "run", callbacks=[count],
                   progress=False)
    # the first episode's rows at once (the file exists from the start), the rest at the end
    assert on_disk == [(2, 12)] * 4
    assert len(pd.read_csv(path / "episodes.csv")) == (4 + 1) * 2
    assert len(pd.read_csv(path / "ticks.csv")) == (4 + 1) * 6 * 2
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)
    on_disk.clear()
    again = train(_xor(record_ticks=True), run_dir=tmp_path / "run2", callbacks=[
        lambda **kw: on_disk.append(len(pd.read_csv(tmp_path / "run2" / "metrics" /
                                                    "episodes.csv")))], progress=False)
    assert on_disk == [2, 4, 6, 8]  # every episode's rows before the next episode
    pd.testing.assert_frame_equal(result.episodes.drop(columns="wall_time"),
                                  again.episodes.drop(columns="wall_time"))


def test_the_rows_of_a_failed_run_reach_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 1e9)

    def fail(network, episode, rows):
        if episode == 2:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        train(_xor(), run_dir=tmp_path / "run", callbacks=[fail], progress=False)
    assert len(pd.read_csv(tmp_path / "run" / "metrics" / "episodes.csv")) == 3 * 2


def test_adapter_fast_paths_give_what_the_general_paths_give():
    adapter = EnvAdapter(observation_space=gym.spaces.Box(-1, 1, (3,)),
                         action_space=gym.spaces.Discrete(3, start=-1))
    obs = np.arange(6, dtype=np.float32).reshape(2, 3)
    first = adapter.observations(obs, 2)  # the general path, which learns the shape
    second = adapter.observations(obs, 2)  # passed as it is
    np.testing.assert_array_equal(first, second)
    assert second.shape == (2, 3)
    with pytest.raises(ValueError, match=r"shape \(3, 3\); expected \(2, 3\)"):
        adapter.observations(np.zeros((3, 3)), 2)
    action = np.array([0, 2], dtype=np.int32)
    out = adapter.actions(action, 2)
    assert out.tolist() == [-1, 1] and out.dtype == np.int64
    assert adapter.actions([0, 2], 2).tolist() == [-1, 1]
    assert action.tolist() == [0, 2]  # not changed


def test_one_state_check_serves_every_episode_and_follows_replaced_arrays():
    config = _xor()
    network = Network.from_config(config["network"])
    games = make_games(config["game"], 2)
    check = StateCheck(network)
    other = StateCheck(Network.from_config(config["network"]))
    with pytest.raises(ValueError, match="state_check is not a StateCheck of this network"):
        run_episode(network, games, seeds=[1, 2], state_check=other)
    run_episode(network, games, seeds=[1, 2], state_check=check, max_steps=3)
    neurons = network.parts["neurons"]
    neurons.potential = neurons.potential.copy()  # replaced between episodes
    original = network.tick

    def poison_new_array(*args, **kwargs):
        out = original(*args, **kwargs)
        neurons.potential[0, 0] = np.inf  # the new array: the kept check must read it
        return out
    network.tick = poison_new_array
    with pytest.raises(NonFiniteError, match=r"in tick 0 of the episode: neurons.potential "
                                             r"holds inf \(members \[0\]\)"):
        run_episode(network, games, seeds=[1, 2], state_check=check)


def test_the_training_loop_makes_one_adapter_and_one_state_check_per_run(monkeypatch):
    made = {"adapter": 0, "check": 0}
    adapter_init, check_init = EnvAdapter.__init__, StateCheck.__init__

    def count_adapter(self, *args, **kwargs):
        made["adapter"] += 1
        adapter_init(self, *args, **kwargs)

    def count_check(self, *args, **kwargs):
        made["check"] += 1
        check_init(self, *args, **kwargs)

    monkeypatch.setattr(EnvAdapter, "__init__", count_adapter)
    monkeypatch.setattr(StateCheck, "__init__", count_check)
    train(_xor(), progress=False)  # 4 training and 1 evaluation episodes
    assert made == {"adapter": 1, "check": 1}


def test_a_state_check_holds_its_arrays_without_a_reference_cycle():
    import gc
    import sys

    network = Network.from_config(_xor()["network"])
    matrix = network.parts["weights"].matrix
    gc.collect()
    before = sys.getrefcount(matrix)
    check = StateCheck(network)
    assert check.compiled_table() is not None
    del check
    assert sys.getrefcount(matrix) == before  # freed at once, not by the next collection


def test_rows_the_checkpoint_thread_appends_stay_before_later_rows(tmp_path, monkeypatch):
    """The checkpoint's thread appends the rows waiting at the checkpoint; a flush after the
    next episode (FLUSH_SECONDS = 0) waits for it, so the file keeps the episodes' order."""
    import threading
    import time as clock

    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)
    original = loop.append_csv
    writers = []

    def slow_in_thread(path, rows):
        name = threading.current_thread().name
        writers.append((name, path.rsplit("/", 1)[-1]))
        if name == "spikey-checkpoint":
            clock.sleep(0.2)  # the next episode's flush comes while this one writes
        original(path, rows)

    monkeypatch.setattr(loop, "append_csv", slow_in_thread)
    result = train(_xor(record_ticks=True, checkpoint_every=2), run_dir=tmp_path / "run",
                   progress=False)
    assert ("spikey-checkpoint", "episodes.csv") not in writers  # FLUSH_SECONDS 0: all flushed
    frame = pd.read_csv(tmp_path / "run" / "metrics" / "episodes.csv")
    assert frame[frame.phase == "train"]["episode"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    pd.testing.assert_frame_equal(frame.drop(columns="wall_time"),
                                  result.episodes.drop(columns="wall_time"))
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 1e9)  # now the checkpoints' threads append
    writers.clear()
    again = train(_xor(record_ticks=True, checkpoint_every=2), run_dir=tmp_path / "run2",
                  progress=False)
    assert ("spikey-checkpoint", "ticks.csv") in writers
    for name in ("episodes.csv", "ticks.csv"):
        a = (tmp_path / "run" / "metrics" / name).read_text().splitlines()
        b = (tmp_path / "run2" / "metrics" / name).read_text().splitlines()
        if name == "episodes.csv":  # the wall_time column differs
            a, b = [r.rsplit(",", 1)[0] for r in a], [r.rsplit(",", 1)[0] for r in b]
        assert a == b
    pd.testing.assert_frame_equal(again.ticks, result.ticks)


def test_a_flush_during_the_checkpoint_threads_append_waits_for_it(tmp_path, monkeypatch):
    import threading
    import time as clock

    original = loop.append_csv

    def slow_in_thread(path, rows):
        if threading.current_thread().name == "spikey-checkpoint":
            clock.sleep(0.3)
        original(path, rows)

    monkeypatch.setattr(loop, "append_csv", slow_in_thread)
    network = Network.from_config(_xor()["network"])
    folder = tmp_path / "run"
    episodes = loop._Table(str(folder / "metrics" / "episodes.csv"))
    ticks = loop._Table(str(folder / "metrics" / "ticks.csv"))
    episodes.add({"episode": np.array([0, 1]), "value": np.array([0.5, 1.5])})
    writer = loop._Checkpoints(str(folder))
    writer.write(network, 1, episodes, ticks)  # the thread takes rows 0 and 1
    episodes.add({"episode": np.array([2]), "value": np.array([2.5])})
    episodes.flush()  # while the thread sleeps: waits, then appends row 2
    writer.wait()
    assert pd.read_csv(folder / "metrics" / "episodes.csv")["episode"].tolist() == [0, 1, 2]
    import json

    latest = json.loads((folder / "checkpoints" / "latest.json").read_text())
    assert latest["episodes_bytes"] == len("episode,value\n0,0.5\n1,1.5\n")  # at the checkpoint
