"""Closed-loop overhead: one network tick + one game step per call, at 1-20 ms per tick.

The RL pattern calls the network for a few milliseconds of simulated time,
then steps the game with the action. With short ticks the fixed cost per
call (encoding the observation, reading out the action, stepping the game,
the reward) dominates. For a CartPole controller (``spikey/CartPole-v0``, the
adapter's default network: Population inputs, LIF, MSTDPET, TopAction,
RewardPredictionError of the game's reward) and each tick length, two paths
are timed in the same process, repeat by repeat in turn:

- ``reference``: the loop in Python (``adapter.observations``, ``Network.tick``,
  ``adapter.actions``, the vector env's ``step``, ``Network.reward``), split into the
  network (``Network.tick``), the part of it in the compiled tick itself
  (``kernels.run_tick``, timed around the call), the game (the adapter's
  conversions and the env step) and ``Network.reward``;
- ``fused``: :class:`spikey.snn.closed_loop.ClosedLoop`, the same loop in one
  compiled call per tick (bit-identical results), split by the time-stamp counter
  inside the call into the network (encoding, input spikes, the tick's steps,
  readout), its steps alone (``kernels.run_tick``), the game and the reward; what
  is left of the wall time per call is Python (``ClosedLoop.step``'s checks and the
  call itself).

Per path: the median wall time per call; the fixed overhead (everything but the
network: game, reward, Python around them) in µs and as a share of the network
time (issue 19's target: <= 25 % at 1 ms, <= 5 % at 20 ms); the share relative to
the network's steps alone (``kernel``: encoding and readout counted as overhead
too); the time per simulated millisecond; the 1-minute load average when the
tick length's run began. Each row holds the fused path's numbers and the
reference path's under ``reference_*``.

Run ``python benchmarks/bench_closed_loop.py [--ticks-ms 1 2 5 10 20] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import gymnasium as gym

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import spikey  # noqa: E402
from spikey.games.adapters import EnvAdapter  # noqa: E402
from spikey.snn import kernels  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

try:  # the fused path (absent in trees before it)
    from spikey.snn.closed_loop import ClosedLoop, tsc_rate  # noqa: E402
except ImportError:  # pragma: no cover
    ClosedLoop = tsc_rate = None


def _setup(tick_ms: int, batch: int):
    games = gym.make_vec("spikey/CartPole-v0", num_envs=batch)
    adapter = EnvAdapter(games)
    network = spikey.Network.from_config(
        adapter.network_config(batch_size=batch, processing_steps=tick_ms))
    return games, adapter, network


class _Reference:
    """The loop in Python, timed piece by piece."""

    def __init__(self, tick_ms, batch):
        self.games, self.adapter, self.network = _setup(tick_ms, batch)
        self.batch = batch
        self.obs, self.info = self.games.reset(seed=0)
        self.in_kernel = [0.0]

    def run(self, calls: int) -> dict:
        games, adapter, network, batch = self.games, self.adapter, self.network, self.batch
        obs, info = self.obs, self.info
        in_network = in_game = in_reward = 0.0
        self.in_kernel[0] = 0.0
        fused, in_kernel = kernels.run_tick, self.in_kernel

        def timed_run_tick(*args):
            t0 = time.perf_counter()
            fused(*args)
            in_kernel[0] += time.perf_counter() - t0

        kernels.run_tick = timed_run_tick
        try:
            start = time.perf_counter()
            for _ in range(calls):
                t0 = time.perf_counter()
                observation = adapter.observations(obs, batch)
                t1 = time.perf_counter()
                action = network.tick(observation, info)
                t2 = time.perf_counter()
                obs, reward, _, _, info = games.step(adapter.actions(action, batch))
                t3 = time.perf_counter()
                network.reward(action=action, game_reward=reward, info=info)
                in_reward += time.perf_counter() - t3
                in_network += t2 - t1
                in_game += t3 - t2 + t1 - t0
            total = time.perf_counter() - start
        finally:
            kernels.run_tick = fused
        self.obs, self.info = obs, info
        return {"total": total / calls, "network": in_network / calls,
                "kernel": in_kernel[0] / calls, "game": in_game / calls,
                "reward": in_reward / calls}


class _Fused:
    """ClosedLoop.step, timed from outside and by the time-stamp counter inside."""

    def __init__(self, tick_ms, batch, rate):
        games, adapter, network = _setup(tick_ms, batch)
        self.loop = ClosedLoop(network, games, adapter)
        self.loop.reset(seed=0)
        self.loop.step()  # builds the plan
        if self.loop.why_not_fused is not None:
            raise RuntimeError(f"the closed loop does not fuse: {self.loop.why_not_fused}")
        self.loop.set_timing(True)
        self.rate = rate

    def run(self, calls: int) -> dict:
        step, stamps = self.loop.step, self.loop.stamps
        stamps[...] = 0
        start = time.perf_counter()
        for _ in range(calls):
            step()
        total = time.perf_counter() - start
        seconds = stamps[:5] / self.rate / calls
        inputs, ticks, readout, game, reward = (float(s) for s in seconds)
        return {"total": total / calls, "network": inputs + ticks + readout, "kernel": ticks,
                "game": game, "reward": reward, "python": total / calls - float(seconds.sum()),
                "fused_calls": int(stamps[5])}


def _row(prefix: str, values: dict, tick_ms: int) -> dict:
    total, net, kernel = values["total"], values["network"], values["kernel"]
    row = {f"{prefix}us_per_call": total * 1e6, f"{prefix}us_in_network": net * 1e6,
           f"{prefix}us_in_kernel": kernel * 1e6, f"{prefix}us_in_game": values["game"] * 1e6,
           f"{prefix}us_in_reward": values["reward"] * 1e6,
           f"{prefix}us_overhead": (total - net) * 1e6,
           f"{prefix}overhead_share": (total - net) / net,
           f"{prefix}overhead_share_vs_kernel": (total - kernel) / kernel,
           f"{prefix}us_per_simulated_ms": total * 1e6 / tick_ms}
    if "python" in values:
        row[f"{prefix}us_in_python"] = values["python"] * 1e6
    return row


def measure(tick_ms: int, calls: int, repeats: int, batch: int, rate: float,
            paths=("fused", "reference")) -> dict:
    load = os.getloadavg()[0]  # the machine is shared: the 1-minute load at the start
    runners = {}
    if "reference" in paths:
        runners["reference"] = _Reference(tick_ms, batch)
    if "fused" in paths:
        runners["fused"] = _Fused(tick_ms, batch, rate)
    results = {name: [] for name in runners}
    for repeat in range(repeats + 1):  # the first repeat warms up
        for name, runner in runners.items():  # in turn, so both see the same load
            values = runner.run(calls)
            if repeat:
                results[name].append(values)
    row = {"tick_ms": tick_ms, "batch_size": batch, "load_1min": load}
    for name, runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        row.update(_row("" if name == "fused" or len(results) == 1 else "reference_", median,
                        tick_ms))
        if name == "fused":
            row["fused_calls"] = int(sum(run["fused_calls"] for run in runs))
            row["calls"] = calls * repeats
    row["path"] = "fused" if "fused" in results else "reference"
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks-ms", type=int, nargs="+", default=[1, 2, 5, 10, 20])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--paths", nargs="+", choices=("fused", "reference"),
                        default=["fused", "reference"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    paths = [p for p in args.paths if p != "fused" or ClosedLoop is not None]
    rate = tsc_rate() if "fused" in paths else None
    rows = [measure(t, args.calls, args.repeats, args.batch, rate, paths) for t in args.ticks_ms]
    print(f"CartPole + network, B={args.batch}, medians of {args.repeats} x {args.calls} calls "
          "(µs per call)")
    print(f"{'tick (ms)':>9} {'path':>9} {'per call':>9} {'network':>8} {'kernel':>7} "
          f"{'game':>6} {'reward':>7} {'python':>7} {'overhead':>9} {'ovh/network':>12} "
          f"{'ovh/kernel':>11} {'load':>5}")
    for row in rows:
        for prefix, name in (("", row["path"]), ("reference_", "reference")):
            if f"{prefix}us_per_call" not in row or (prefix and row["path"] == "reference"):
                continue
            python = row.get(f"{prefix}us_in_python")
            print(f"{row['tick_ms']:9d} {name:>9} {row[f'{prefix}us_per_call']:9.2f} "
                  f"{row[f'{prefix}us_in_network']:8.2f} {row[f'{prefix}us_in_kernel']:7.2f} "
                  f"{row[f'{prefix}us_in_game']:6.2f} {row[f'{prefix}us_in_reward']:7.2f} "
                  f"{'' if python is None else f'{python:.2f}':>7} "
                  f"{row[f'{prefix}us_overhead']:9.2f} {row[f'{prefix}overhead_share']:12.0%} "
                  f"{row[f'{prefix}overhead_share_vs_kernel']:11.0%} {row['load_1min']:5.1f}")
    write_json(args.json, "closed_loop", rows)
    return rows


if __name__ == "__main__":
    main()
