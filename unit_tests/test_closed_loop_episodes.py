"""run_episode through ClosedLoop's compiled call (issue 19): when the network, the game and
the adapter fit it, an episode's ticks run compiled while every member plays, and the rest
(members paused after their episode ended) in Python, with the results of the Python lines
bit for bit. ClosedLoop keeps its plan across seeded resets and runs members whose input
random streams are out of step (both refused or rebuilt before)."""

import gymnasium as gym
import numpy as np
import pytest

import spikey
import spikey.games.run as run
from spikey.games.adapters import EnvAdapter
from spikey.snn.closed_loop import ClosedLoop
from spikey.snn.health import NonFiniteError


def _parts(B, steps=2, adapter_options=None, **network):
    games = gym.make_vec("spikey/CartPole-v0", num_envs=B)
    adapter = EnvAdapter(games, **(adapter_options or {}))
    net = spikey.Network.from_config(adapter.network_config(batch_size=B, processing_steps=steps,
                                                            **network))
    return games, adapter, net


def _episodes(B, compiled, monkeypatch, episodes=4, reset_network=True, max_steps=60,
              adapter_each_time=False, callback=True):
    monkeypatch.setattr(run, "CLOSED_LOOP", compiled)
    games, adapter, net = _parts(B)
    rows, results = [], []
    fused = {"ticks": 0, "runs": 0}
    original, original_run = ClosedLoop._fused_tick, ClosedLoop._episode_run

    def counted(self):
        ran = original(self)
        fused["ticks"] += ran
        return ran

    def counted_run(self, ticks, table):
        ran, bad = original_run(self, ticks, table)
        fused["ticks"] += ran
        fused["runs"] += ran > 0
        return ran, bad

    monkeypatch.setattr(ClosedLoop, "_fused_tick", counted)
    monkeypatch.setattr(ClosedLoop, "_episode_run", counted_run)
    for episode in range(episodes):
        result = run.run_episode(
            net, games, EnvAdapter(games) if adapter_each_time else adapter,
            seeds=[100 * episode + b for b in range(B)], max_steps=max_steps,
            reset_network=reset_network,
            on_tick=None if not callback else lambda tick, active, action, reward: rows.append(
                (tick, active.copy(), action, reward)))
        results.append(result)
    if compiled and not callback and max_steps > 1:  # a compiled run per episode, to an end
        assert fused["runs"] == episodes
    return net, results, rows, fused["ticks"]


@pytest.mark.parametrize("B, reset_network, callback", [
    (1, True, True), (2, True, True), (2, False, True), (1, True, False), (2, True, False)])
def test_episodes_through_the_compiled_call_equal_the_python_lines(B, reset_network, callback,
                                                                   monkeypatch):
    """With a callback one compiled call per tick, without one a compiled run per episode
    (until a member's episode ends); the rest of the episode in Python."""
    net, results, rows, fused = _episodes(B, True, monkeypatch, reset_network=reset_network,
                                          callback=callback)
    net2, results2, rows2, fused2 = _episodes(B, False, monkeypatch,
                                              reset_network=reset_network, callback=callback)
    ticks = sum(int(r.lengths.max()) for r in results)
    assert fused2 == 0
    lengths = np.concatenate([r.lengths for r in results])
    if B == 1:
        assert fused == ticks  # every tick compiled
    else:
        assert len(set(lengths.tolist())) > 1  # members ended on different ticks
        # every tick while all members play: later episodes too (input streams out of step)
        assert fused == sum(int(r.lengths.min()) for r in results) > int(results[0].lengths.min())
    for a, b in zip(results, results2):
        np.testing.assert_array_equal(a.returns, b.returns)
        np.testing.assert_array_equal(a.lengths, b.lengths)
        np.testing.assert_array_equal(a.finished, b.finished)
    assert len(rows) == len(rows2) == (sum(int(r.lengths.max()) for r in results)
                                       if callback else 0)
    for x, y in zip(rows, rows2):
        assert x[0] == y[0]
        for p, q in zip(x[1:], y[1:]):
            assert p.dtype == q.dtype and p.tobytes() == q.tobytes()
    arrays, arrays2 = net.state_arrays(), net2.state_arrays()
    assert sorted(arrays) == sorted(arrays2)
    for key in arrays:
        assert arrays[key].tobytes() == arrays2[key].tobytes(), key
    assert (net.tick_count, net.step_count) == (net2.tick_count, net2.step_count)
    assert net.plastic.tolist() == [1.0] * B and net.active.all()


def _count_builds(monkeypatch) -> list:
    """Count ClosedLoop plan builds: the returned list gains an entry per build."""
    builds = []
    original = ClosedLoop._build

    def counted(self):
        builds.append(1)
        return original(self)

    monkeypatch.setattr(ClosedLoop, "_build", counted)
    return builds


def test_one_loop_and_one_plan_serve_every_episode(monkeypatch):
    builds = _count_builds(monkeypatch)
    _, results, _, fused = _episodes(1, True, monkeypatch, episodes=5, adapter_each_time=True)
    assert fused == sum(int(r.lengths[0]) for r in results)
    assert len(builds) == 1  # seeded resets gave the games new generators: handed to the plan


def test_parts_that_do_not_fit_run_the_python_lines(monkeypatch):
    monkeypatch.setattr(run, "CLOSED_LOOP", True)
    builds = _count_builds(monkeypatch)
    games, adapter, net = _parts(1, adapter_options={"decoding": "vector"})  # PopulationIndex
    assert run._closed_loop(net, games, adapter) is not None  # the loop decides, and refuses
    for seed in range(3):
        run.run_episode(net, games, adapter, seeds=[seed], max_steps=5)
    assert "readout" in games._spikey_episode_loop.why_not_fused
    assert len(builds) == 1  # refused once: later episodes go straight to the Python lines
    assert run._closed_loop(net, games, adapter) is None
    net.parts["rewarder"].set("baseline_rate", 0.25)  # a part changed: the loop is asked again
    run.run_episode(net, games, adapter, seeds=[5], max_steps=5)
    assert len(builds) == 2
    logic = gym.make_vec("spikey/Logic-XOR-v0", num_envs=1)
    assert run._closed_loop(net, logic, EnvAdapter(logic)) is None  # not CartPole
    kept = games._spikey_episode_loop
    other = spikey.Network.from_config(adapter.network_config())
    mine = run._closed_loop(other, games, adapter)  # another network: its own loop
    assert mine is not None and mine is not kept and mine.network is other


def test_a_non_finite_state_stops_the_compiled_episode_where_the_python_one_stops(monkeypatch):
    messages = []
    for compiled in (True, False):
        monkeypatch.setattr(run, "CLOSED_LOOP", compiled)
        games, adapter, net = _parts(2)
        seen = []
        original = ClosedLoop._fused_tick

        def poisoned(self):
            ran = original(self)
            if len(seen) == 3:
                net.parts["synapses"].eligibility[1, 0, 0] = np.nan
            return ran

        monkeypatch.setattr(ClosedLoop, "_fused_tick", poisoned)
        if not compiled:  # the same NaN after the Python tick 3 (its reward included)
            reward = net.reward

            def poisoned_reward(*args, **kwargs):
                out = reward(*args, **kwargs)
                if len(seen) == 3:
                    net.parts["synapses"].eligibility[1, 0, 0] = np.nan
                return out
            net.reward = poisoned_reward
        with pytest.raises(NonFiniteError) as caught:
            run.run_episode(net, games, adapter, seeds=[3, 4],
                            on_tick=lambda tick, **_: seen.append(tick))
        messages.append((str(caught.value), list(seen)))
        assert net.plastic.tolist() == [1.0, 1.0] and net.active.all()
    assert messages[0] == messages[1]
    assert "in tick 3 of the episode: synapses.eligibility holds nan (members [1])" \
        in messages[0][0]


def test_closed_loop_reset_with_new_seeds_keeps_its_plan_and_its_bits():
    """ClosedLoop itself: seeded resets between runs, against the reference path."""
    out = []
    for fused in (True, False):
        games, adapter, net = _parts(2)
        loop = ClosedLoop(net, games, adapter, fused=fused)
        rewards = []
        for seed in (1, 5, 9):
            loop.reset(seed=[seed, seed + 1])
            plan = loop._plan
            rewards.append(loop.run(30))
            if fused and seed != 1:
                assert loop._plan is plan and loop.last_fused
        out.append((rewards, net.weights.matrix.copy()))
    for a, b in zip(out[0][0], out[1][0]):
        for x, y in zip(a, b):
            assert x.tobytes() == y.tobytes()
    assert out[0][1].tobytes() == out[1][1].tobytes()


def test_bench_closed_loop_times_episodes_on_both_paths(tmp_path):
    import json
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import bench_closed_loop

    out = tmp_path / "episodes.json"
    rows = bench_closed_loop.main(["--episodes", "2", "--ticks-ms", "1", "--repeats", "1",
                                   "--json", str(out)])
    row = rows[0]
    assert row["compiled_ticks"] == row["python_ticks"] > 0  # the same episodes on both
    assert row["speedup"] == pytest.approx(row["python_us_per_tick"]
                                           / row["compiled_us_per_tick"])
    assert json.loads(out.read_text())["rows"][0]["tick_ms"] == 1
    assert run.CLOSED_LOOP is True  # restored


@pytest.mark.parametrize("callback", [True, False])
def test_a_state_non_finite_before_the_episode_stops_tick_0_on_both_paths(callback,
                                                                        monkeypatch):
    messages = []
    for compiled in (True, False):
        monkeypatch.setattr(run, "CLOSED_LOOP", compiled)
        games, adapter, net = _parts(2)
        net.parts["rewarder"].baseline[1] = np.inf
        seen = []
        with pytest.raises(NonFiniteError) as caught, np.errstate(invalid="ignore"):
            run.run_episode(net, games, adapter, seeds=[3, 4], reset_network=False,
                            on_tick=(lambda tick, **_: seen.append(tick)) if callback else None)
        messages.append(str(caught.value))
        assert seen == [] and net.tick_count == 1
    assert messages[0] == messages[1]
    assert "in tick 0 of the episode" in messages[0]


@pytest.mark.parametrize("max_steps", [1, 2, 7])
def test_max_steps_cuts_the_compiled_run_where_the_python_lines_cut(max_steps, monkeypatch):
    out = []
    for compiled in (True, False):
        net, results, _, fused = _episodes(1, compiled, monkeypatch, episodes=3,
                                           max_steps=max_steps, callback=False)
        out.append((results, net.weights.matrix.tobytes(), net.tick_count))
        if compiled:
            assert fused == 3 * max_steps  # every tick compiled (a run, or one tick)
    for a, b in zip(out[0][0], out[1][0]):
        assert a.lengths.tolist() == b.lengths.tolist() == [max_steps]
        assert a.returns.tobytes() == b.returns.tobytes()
        assert a.finished.tolist() == b.finished.tolist() == [False]
    assert out[0][1:] == out[1][1:]


def test_tick_rows_of_compiled_ticks_equal_the_python_lines(monkeypatch):
    """The training loop's tick rows (tick_row, positional, no copies) on both paths."""
    import pandas as pd

    from spikey.training import loop

    frames = []
    for compiled in (True, False):
        monkeypatch.setattr(run, "CLOSED_LOOP", compiled)
        games, adapter, net = _parts(2)
        ticks = []
        for episode in range(3):
            loop.play_episode(net, games, [10 * episode, 10 * episode + 1], 40, "train",
                              episode, True, ticks, adapter=adapter)
        frames.append(pd.concat(ticks, ignore_index=True))
    assert frames[0]["member"].value_counts().nunique() > 1  # members ended apart
    pd.testing.assert_frame_equal(frames[0], frames[1])
