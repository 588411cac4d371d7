"""Closed-loop overhead: one network tick + one game step per call, at 1-20 ms per tick.

The RL pattern calls the network for a few milliseconds of simulated time,
then steps the game with the action. With short ticks the fixed cost per
call (encoding the observation, reading out the action, stepping the game)
dominates. For a CartPole controller (``spikey/CartPole-v0``, the
adapter's default network: Population inputs, LIF, MSTDPET) and each tick
length, reported per call: the median wall time, the part spent in the
network (``Network.tick``), the part of that spent in the compiled tick itself
(``kernels.run_tick``, timed around the call), the parts in the game (the adapter's
conversions and the vector env's step) and in ``Network.reward``, the fixed overhead (everything
but ``Network.tick``: the adapter, the game step, ``Network.reward``) as a share of the
network time (issue 19's target: <= 25 % at 1 ms, <= 5 % at 20 ms) and in µs per call, the time
per simulated millisecond, and the 1-minute load average when the tick length's run began.

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


def measure(tick_ms: int, calls: int, repeats: int, batch: int) -> dict:
    load = os.getloadavg()[0]  # the machine is shared: the 1-minute load at the start
    games = gym.make_vec("spikey/CartPole-v0", num_envs=batch)
    adapter = EnvAdapter(games)
    network = spikey.Network.from_config(
        adapter.network_config(batch_size=batch, processing_steps=tick_ms))
    obs, info = games.reset(seed=0)
    totals, nets, kernel_times, games_times, reward_times = [], [], [], [], []
    in_kernel = [0.0]
    fused = kernels.run_tick

    def timed_run_tick(*args):
        t0 = time.perf_counter()
        fused(*args)
        in_kernel[0] += time.perf_counter() - t0

    kernels.run_tick = timed_run_tick
    try:
        for repeat in range(repeats + 1):  # the first repeat warms up
            in_network = in_game = in_reward = 0.0
            in_kernel[0] = 0.0
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
            if repeat:
                totals.append((time.perf_counter() - start) / calls)
                nets.append(in_network / calls)
                kernel_times.append(in_kernel[0] / calls)
                games_times.append(in_game / calls)
                reward_times.append(in_reward / calls)
    finally:
        kernels.run_tick = fused
    total, net = statistics.median(totals), statistics.median(nets)
    return {"tick_ms": tick_ms, "batch_size": batch, "us_per_call": total * 1e6,
            "us_in_network": net * 1e6, "us_in_kernel": statistics.median(kernel_times) * 1e6,
            "us_in_game": statistics.median(games_times) * 1e6,
            "us_in_reward": statistics.median(reward_times) * 1e6,
            "us_overhead": (total - net) * 1e6, "overhead_share": (total - net) / net,
            "us_per_simulated_ms": total * 1e6 / tick_ms, "load_1min": load}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks-ms", type=int, nargs="+", default=[1, 2, 5, 10, 20])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = [measure(t, args.calls, args.repeats, args.batch) for t in args.ticks_ms]
    print(f"CartPole + network, B={args.batch}, medians of {args.repeats} x {args.calls} calls")
    print(f"{'tick (ms)':>9} {'us/call':>9} {'in network':>11} {'in kernel':>10} "
          f"{'in game':>8} {'in reward':>10} {'overhead/network':>17} "
          f"{'us per simulated ms':>20}")
    for row in rows:
        print(f"{row['tick_ms']:9d} {row['us_per_call']:9.1f} {row['us_in_network']:11.1f} "
              f"{row['us_in_kernel']:10.1f} {row['us_in_game']:8.1f} {row['us_in_reward']:10.1f} "
              f"{row['overhead_share']:17.0%} {row['us_per_simulated_ms']:20.1f}")
    write_json(args.json, "closed_loop", rows)
    return rows


if __name__ == "__main__":
    main()
