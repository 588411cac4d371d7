"""Hardening of the training loop: seeds, crash-exact resume, run-folder locks, non-finite
values, streamed tick rows and leftover temporary files."""

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from spikey.snn.network import Network


def _tiny_network():
    return Network.from_config({
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                  "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "MatchExpected"},
        "network": {"processing_steps": 5, "batch_size": 1},
        "inputs": {"n_inputs": 4, "n_dims": 2, "rate_map": [0.0, 100.0]},
        "neurons": {"n_neurons": 3},
        "readout": {"n_outputs": 1, "threshold": 1.0},
    })


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ---------------------------------------------------------------- leftover temporary files

def test_save_removes_temp_files_of_killed_saves_and_keeps_live_ones(tmp_path):
    from spikey.core.tempfiles import _host

    host = _host()
    dead = tmp_path / f".spikey-{_dead_pid()}@{host}-abcd1234.tmp"
    live = tmp_path / f".spikey-{os.getpid()}@{host}-efgh5678.tmp"
    old = tmp_path / ".spikey-q1w2e3r4.tmp"  # the naming before the pid was added
    loop_dead = tmp_path / f".tmp-{_dead_pid()}@{host}-zzzz9999"
    other = tmp_path / "notes.tmp"
    for path in (dead, live, old, loop_dead, other):
        path.write_bytes(b"x" * 100)
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    _tiny_network().save(tmp_path / "net.npz")
    left = sorted(p.name for p in tmp_path.iterdir())
    # the dead writer's file and the hour-old one are gone; a live writer's and other files stay
    assert left == sorted([live.name, loop_dead.name, other.name, "net.npz"])
    from spikey.training.loop import write_json

    write_json(str(tmp_path / "x.json"), {"a": 1})
    assert not loop_dead.exists() and live.exists()


# ---------------------------------------------------------------- non-finite values

def _xor_config(batch_size=2, episodes=3, **training):
    """The XOR example of spikey/training/README.md, made tiny."""
    config = {
        "network": {
            "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                      "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "MatchExpected"},
            "network": {"processing_steps": 20, "batch_size": batch_size, "reward_mode": "tick"},
            "inputs": {"n_inputs": 8, "n_dims": 2, "rate_map": [0.0, 100.0]},
            "neurons": {"n_neurons": 5},
            "weights": {"low": 0.0, "high": 3.0, "feed_forward": True},
            "readout": {"n_outputs": 1, "threshold": 20.0},
        },
        "game": {"id": "spikey/Logic-XOR-v0", "kwargs": {"n_presentations": 5}},
        "training": {"episodes": episodes, "max_ticks": 5, "eval_episodes": 1,
                     "checkpoint_every": 1, **training},
    }
    return config


class _Spoiled:
    """A vector env that returns ``value`` as member ``member``'s reward (or observation) in
    tick ``tick`` and is otherwise the wrapped game."""

    def __new__(cls, env, what, member, tick, value):
        import gymnasium as gym

        class Spoiled(gym.vector.VectorWrapper):
            count = 0

            def step(self, actions):
                obs, reward, terminated, truncated, info = self.env.step(actions)
                if Spoiled.count == tick:
                    if what == "reward":
                        reward = np.array(reward, dtype=float)
                        reward[member] = value
                    else:
                        obs = np.array(obs, dtype=float)
                        obs[member, 0] = value
                Spoiled.count += 1
                return obs, reward, terminated, truncated, info

        return Spoiled(env)


@pytest.mark.parametrize("what, value, tick", [("reward", np.inf, 2), ("reward", np.nan, 0),
                                               ("observation", -np.inf, 1)])
def test_non_finite_reward_or_observation_is_refused_naming_member_tick_value(what, value, tick):
    from spikey.games.run import run_episode
    from spikey.snn.health import NonFiniteError
    from spikey.training.loop import make_games

    config = _xor_config()
    network = Network.from_config(config["network"])
    env = _Spoiled(make_games(config["game"], 2), what, 1, tick, value)
    before = network.weights.matrix.copy()
    # an observation answered in tick t is fed to the network in tick t + 1
    fed = tick + (what == "observation")
    with pytest.raises(NonFiniteError, match=rf"{what} of member 1 in tick {fed} is {value}"):
        run_episode(network, env, max_steps=5)
    assert np.isfinite(network.weights.matrix).all()
    assert not np.array_equal(before, network.weights.matrix) or fed == 0


def test_non_finite_network_state_stops_the_episode_naming_tick_and_array():
    from spikey.games.run import run_episode
    from spikey.snn.health import NonFiniteError, first_non_finite
    from spikey.training.loop import make_games

    config = _xor_config()
    network = Network.from_config(config["network"])
    assert first_non_finite(network) is None

    def spoil(tick, **_):
        if tick == 1:
            network.parts["neurons"].potential[1, 2] = np.nan

    with pytest.raises(NonFiniteError, match=r"in tick 2 of the episode: neurons\.potential "
                                             r"holds nan \(members \[1\]\)"):
        run_episode(network, make_games(config["game"], 2), max_steps=5, on_tick=spoil)
    network.parts["neurons"].potential[...] = 0.0
    network.weights.matrix[0, 0, 0] = np.inf
    assert first_non_finite(network) == ("weights", "matrix")


# ---------------------------------------------------------------- seeds

def _weights(result):
    return result.network.weights.matrix.copy()


def test_training_seed_is_the_run_seed():
    from spikey.training import train

    runs = {seed: train(_seeded(seed), progress=False) for seed in (0, 1)}
    again = train(_seeded(0), progress=False)
    assert list(runs[0].network.seeds) == [0, 1] and list(runs[1].network.seeds) == [1, 2]
    # different training seeds: different initial weights, games and so returns
    assert not np.array_equal(_weights(runs[0]), _weights(runs[1]))
    assert not runs[0].episodes["weight_mean"].equals(runs[1].episodes["weight_mean"])
    # equal seeds: identical runs
    np.testing.assert_array_equal(_weights(runs[0]), _weights(again))
    assert runs[0].episodes.drop(columns="wall_time").equals(again.episodes.drop(columns="wall_time"))
    # batch member b reproduces the solo run seeded training.seed + b
    solo = train(_seeded(1, batch_size=1), progress=False)
    np.testing.assert_array_equal(_weights(runs[0])[1], _weights(solo)[0])
    member = runs[0].episodes[runs[0].episodes.member == 1].drop(columns=["member", "wall_time"])
    pd.testing.assert_frame_equal(member.reset_index(drop=True),
                                  solo.episodes.drop(columns=["member", "wall_time"]))


def _seeded(seed, **kwargs):
    config = _xor_config(**kwargs)
    config["training"]["seed"] = seed
    return config


def test_a_network_seed_other_than_the_training_seed_is_refused():
    from spikey.core.params import ConfigError
    from spikey.training import check_config, train
    from spikey.training.loop import seeded_config

    config = _seeded(3)
    config["network"]["network"]["seed"] = 5
    with pytest.raises(ConfigError, match=r"network\.network\.seed = 5 but training\.seed = 3"):
        train(config)
    config = _xor_config()
    config["network"]["network"]["seed"] = 5
    with pytest.raises(ConfigError, match=r"training\.seed \(default\) = 0"):
        seeded_config(config)
    config["training"]["seed"] = 5  # equal: fine
    assert seeded_config(config)["network"]["network"]["seed"] == 5
    # a config completed by check_config (as the command line does) carries the run seed
    complete = check_config(_seeded(3))
    assert complete["network"]["network"]["seed"] == 3
    assert list(train(complete, progress=False).network.seeds) == [3, 4]
    with pytest.raises(ConfigError, match=r"network\.network\.seed = 5 but training\.seed = 3"):
        check_config(config | {"training": {"seed": 3}})


def test_tune_trials_and_distributed_workers_follow_the_run_seed(monkeypatch):
    pytest.importorskip("ray")
    from ray import tune

    from spikey.core.params import ConfigError
    from spikey.training import check_config, loop
    from spikey.training.distributed import _worker_config
    from spikey.training.tune import trial, tune_config

    base = check_config(loop.seeded_config(_seeded(10)))
    assert [_worker_config(base, r)["training"]["seed"] for r in (0, 1)] == [10, 12]
    assert _worker_config(base, 1)["network"]["network"]["seed"] == 12
    results, original = [], loop.train
    monkeypatch.setattr(tune, "report", lambda metrics: None)
    monkeypatch.setattr(loop, "train", lambda *a, **k: results.append(original(*a, **k))
                        or results[-1])
    base = check_config(loop.seeded_config(_xor_config(episodes=1)))
    for seed in (0, 1, 0):
        trial({"training.seed": seed}, base)
    assert [list(r.network.seeds) for r in results] == [[0, 1], [1, 2], [0, 1]]
    assert not np.array_equal(_weights(results[0]), _weights(results[1]))
    np.testing.assert_array_equal(_weights(results[0]), _weights(results[2]))
    with pytest.raises(ConfigError, match="sweep training.seed instead"):
        tune_config(base, {"network.network.seed": {"grid": [0, 1]}})


# ---------------------------------------------------------------- crash at any point, resume

class _Crash(Exception):
    pass


def _patch_writes(monkeypatch, crash_at=None):
    """Count (and crash at the ``crash_at``-th of) every write the loop makes: CSV appends
    (crashing after half the text, as a killed process would), JSON files, network saves."""
    from spikey.training import loop

    calls = []

    def wrap(name, fn, partial=False):
        def inner(*args, **kwargs):
            calls.append(name)
            if len(calls) == crash_at:
                if partial:
                    path, frame = args
                    new = not os.path.exists(path) or os.path.getsize(path) == 0
                    text = frame.to_csv(index=False, header=new)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "a", encoding="utf-8") as handle:
                        handle.write(text[:len(text) // 2])
                raise _Crash(f"crash in write {len(calls)} ({name})")
            return fn(*args, **kwargs)
        return inner

    monkeypatch.setattr(loop, "append_csv", wrap("append_csv", loop.append_csv, partial=True))
    monkeypatch.setattr(loop, "write_json", wrap("write_json", loop.write_json))
    monkeypatch.setattr(Network, "save", wrap("save", Network.save))
    return calls


def _folder(run):
    """What must not differ between an interrupted-and-resumed run and an uninterrupted one."""
    import json

    with open(run / "checkpoints" / "latest.json") as handle:
        latest = json.load(handle)
    summary = json.loads((run / "summary.json").read_text())
    summary.pop("wall_time")
    return {
        "episodes": pd.read_csv(run / "metrics" / "episodes.csv").drop(columns="wall_time"),
        "ticks": (run / "metrics" / "ticks.csv").read_bytes(),
        "weights": Network.load(run / "checkpoints" / latest["network"]).weights.matrix,
        "config": (run / "config.json").read_bytes(),
        "summary": summary, "episodes_done": latest["episodes_done"],
    }


def _assert_same_folder(a, b):
    pd.testing.assert_frame_equal(a["episodes"], b["episodes"])
    assert a["ticks"] == b["ticks"]
    np.testing.assert_array_equal(a["weights"], b["weights"])
    assert (a["config"], a["summary"], a["episodes_done"]) == \
        (b["config"], b["summary"], b["episodes_done"])


@pytest.mark.parametrize("flush_seconds", [0.0, 1e9])
def test_resume_after_a_crash_in_any_write_equals_the_uninterrupted_run(tmp_path, monkeypatch,
                                                                        flush_seconds):
    from spikey.training import loop, train

    monkeypatch.setattr(loop, "FLUSH_SECONDS", flush_seconds)
    config = _xor_config(episodes=3, checkpoint_every=2)
    with monkeypatch.context() as patch:
        calls = _patch_writes(patch)
        whole = train(config, run_dir=tmp_path / "whole", progress=False)
    reference = _folder(tmp_path / "whole")
    if flush_seconds == 0.0:  # the metrics rows appended after every episode
        # config, 3 x (episode rows, tick rows), checkpoint 2 (save, latest), eval rows, final
        # (save, summary, latest)
        assert len(calls) == 1 + 3 * 2 + 2 + 2 + 3
    else:  # config, episode 1's rows, checkpoint 2 (episode 2's rows, save, latest), final
        # (the rows of episode 3 and the evaluation, save, summary, latest)
        assert len(calls) == 1 + 2 + 2 + 2 + 2 + 3
    for k in range(1, len(calls) + 1):
        run = tmp_path / f"crash{k}"
        with monkeypatch.context() as patch:
            _patch_writes(patch, crash_at=k)
            with pytest.raises(_Crash):
                train(config, run_dir=run, progress=False)
        resumed = train(config, run_dir=run, resume=True, progress=False)
        _assert_same_folder(_folder(run), reference)
        np.testing.assert_array_equal(resumed.network.weights.matrix, whole.network.weights.matrix)
        pd.testing.assert_frame_equal(resumed.episodes.drop(columns="wall_time"),
                                      whole.episodes.drop(columns="wall_time"))
        pd.testing.assert_frame_equal(resumed.ticks, whole.ticks)


def test_resuming_a_finished_run_plays_nothing_again(tmp_path, monkeypatch):
    from spikey.training import train

    config = _xor_config(episodes=2)
    first = train(config, run_dir=tmp_path / "run", progress=False)
    before = _folder(tmp_path / "run")
    with monkeypatch.context() as patch:
        calls = _patch_writes(patch)
        again = train(config, run_dir=tmp_path / "run", resume=True, progress=False)
    assert calls == []  # nothing written, no evaluation played again
    _assert_same_folder(_folder(tmp_path / "run"), before)
    assert (again.episodes.phase == "eval").sum() == 2  # one eval episode, two members
    assert again.summary == first.summary


# ---------------------------------------------------------------- run folders: refuse, lock

def test_a_folder_holding_a_run_is_refused_unless_resume_or_overwrite(tmp_path):
    import json

    from spikey.core.params import ConfigError
    from spikey.training import train
    from spikey.training.loop import RunFolderError

    run = tmp_path / "run"
    train(_xor_config(episodes=2), run_dir=run, progress=False)
    rows = len(pd.read_csv(run / "metrics" / "episodes.csv"))
    other = _xor_config(episodes=1)
    other["training"]["max_ticks"] = 4
    with pytest.raises(RunFolderError, match="already holds a run.*resume=True.*overwrite=True"):
        train(other, run_dir=run, progress=False)
    with pytest.raises(ConfigError, match=r"different config: training\.episodes \(2 -> 1\), "
                                          r"training\.max_ticks \(5 -> 4\)"):
        train(other, run_dir=run, resume=True, progress=False)
    # nothing of the old run was touched
    assert len(pd.read_csv(run / "metrics" / "episodes.csv")) == rows
    assert json.loads((run / "config.json").read_text())["training"]["episodes"] == 2
    (run / "plots").mkdir()
    result = train(other, run_dir=run, overwrite=True, progress=False)
    assert json.loads((run / "config.json").read_text()) == result.config
    assert sorted(os.listdir(run / "checkpoints")) == ["episode_000001.npz", "final.npz",
                                                       "latest.json"]
    assert len(pd.read_csv(run / "metrics" / "episodes.csv")) == 2 * 2  # train + eval, 2 members
    assert not (run / "plots").exists()
    with pytest.raises(ValueError, match="exclude each other"):
        train(other, run_dir=run, resume=True, overwrite=True)


def test_two_runs_on_one_folder_fail_fast_and_a_dead_writers_lock_is_taken_over(tmp_path):
    from spikey.training import train
    from spikey.training.loop import RunFolderError

    run = tmp_path / "run"
    lock = tmp_path / ".run.spikey-lock"
    seen = []

    def second_run(network, episode, rows):
        assert lock.read_text().startswith(f"{os.getpid()}@")
        with pytest.raises(RunFolderError, match=rf"being written by another run \(process "
                                                 rf"{os.getpid()}@"):
            train(_xor_config(episodes=1), run_dir=run, overwrite=True)
        seen.append(episode)

    train(_xor_config(episodes=2), run_dir=run, callbacks=[second_run], progress=False)
    assert seen == [0, 1] and not lock.exists()  # released at the end
    import socket

    lock.write_text(f"{_dead_pid()}@{socket.gethostname()}")  # a killed run's lock
    train(_xor_config(episodes=2), run_dir=run, resume=True, progress=False)
    assert not lock.exists()


# ---------------------------------------------------------------- tick rows streamed to disk

def test_tick_rows_are_streamed_to_disk_in_chunks(tmp_path, monkeypatch):
    from spikey.training import loop, train

    monkeypatch.setattr(loop, "CHUNK_ROWS", 4)
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)  # rows appended after every episode
    appended = []
    original = loop.append_csv
    monkeypatch.setattr(loop, "append_csv", lambda path, frame: appended.append(
        (os.path.basename(path), len(frame))) or original(path, frame))
    on_disk = []

    def count(network, episode, rows):
        on_disk.append(len(pd.read_csv(tmp_path / "run" / "metrics" / "ticks.csv")))

    result = train(_xor_config(episodes=3, checkpoint_every=0), run_dir=tmp_path / "run",
                   callbacks=[count], progress=False)
    # every training episode's 5 ticks x 2 members are on disk before the next one starts
    # (no checkpoint was due), appended in chunks of at most CHUNK_ROWS rows
    assert on_disk == [10, 20, 30]
    ticks = [n for name, n in appended if name == "ticks.csv"]
    assert max(ticks) == 4 and sum(ticks) == 40
    pd.testing.assert_frame_equal(result.ticks,
                                  pd.read_csv(tmp_path / "run" / "metrics" / "ticks.csv"))
    monkeypatch.setattr(loop, "TICKS_IN_RESULT", 100)  # too big to read back: left on disk
    assert train(_xor_config(episodes=1), run_dir=tmp_path / "big", progress=False).ticks is None
    # without a run folder the rows stay in memory, as compact chunks
    assert len(train(_xor_config(episodes=1), progress=False).ticks) == 20
