"""Environment + network steps per second for batches of B members (Logic and CartPole).

One step is one tick: the batch of B observations goes through the network
(``processing_steps`` network steps with MSTDPET learning, via
:class:`~spikey.games.adapters.EnvAdapter`'s default network) and the B
games step once with the actions, rewards going back to the network. Games
are the natively batched :class:`~spikey.games.GameVectorEnv`; for comparison
the games alone are also timed natively and as gymnasium's ``SyncVectorEnv``
of B solo games.

Reported per game and B: the median over repeats of batch steps per second,
member steps per second (B times that) and the per-member ratio (member steps
per second over B = 1's, measured in the same run: how much batching buys).

Run ``python benchmarks/bench_games.py [--batch 1 16 256] [--processing-steps 10]
[--repeats 5] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import gymnasium as gym
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import spikey  # noqa: E402
from spikey.games.adapters import EnvAdapter  # noqa: E402

GAMES = {
    "Logic": ("spikey/Logic-XOR-v0", {"n_presentations": 10**9}),
    "CartPole": ("spikey/CartPole-v0", {}),
}


def _rate(step, budget: float, repeats: int) -> list:
    """Steps per second of ``step()``, one sample per repeat of about ``budget`` seconds."""
    for _ in range(3):  # warm up
        step()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < budget / 4:
        step()
        n += 1
    per_step = (time.perf_counter() - start) / n
    count = max(3, int(budget / per_step))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            step()
        samples.append(count / (time.perf_counter() - start))
    return samples


def env_network_rate(game: str, B: int, processing_steps: int, budget: float, repeats: int):
    game_id, kwargs = GAMES[game]
    games = gym.make_vec(game_id, num_envs=B, **kwargs)
    adapter = EnvAdapter(games)
    network = spikey.Network.from_config(
        adapter.network_config(batch_size=B, processing_steps=processing_steps))
    state = {}
    state["obs"], state["info"] = games.reset(seed=0)

    def step():
        action = network.tick(adapter.observations(state["obs"], B), state["info"])
        obs, reward, _, _, info = games.step(adapter.actions(action, B))
        network.reward(action=action, game_reward=reward, info=state["info"])
        state["obs"], state["info"] = obs, info

    return _rate(step, budget, repeats)


def game_rate(game: str, B: int, mode: str, budget: float, repeats: int):
    game_id, kwargs = GAMES[game]
    extra = {"vectorization_mode": "sync"} if mode == "sync" else {}
    games = gym.make_vec(game_id, num_envs=B, **kwargs, **extra)
    games.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, size=(64, B))
    counter = [0]

    def step():
        games.step(actions[counter[0] % 64])
        counter[0] += 1

    return _rate(step, budget, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16, 256])
    parser.add_argument("--games", nargs="+", default=list(GAMES), choices=list(GAMES))
    parser.add_argument("--processing-steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=0.5, help="seconds per repeat")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    rows = []
    print(f"env + network ({args.processing_steps} network steps per env step, MSTDPET on); "
          f"medians of {args.repeats} repeats")
    print(f"{'game':<9} {'B':>4} {'steps/s':>10} {'member steps/s':>15} {'per-member ratio':>17}"
          f" {'game only: native':>18} {'sync':>10} {'native/sync':>11}")
    for game in args.games:
        base = None
        for B in args.batch:
            both = statistics.median(env_network_rate(game, B, args.processing_steps,
                                                      args.budget, args.repeats))
            native = statistics.median(game_rate(game, B, "native", args.budget / 2, args.repeats))
            sync = statistics.median(game_rate(game, B, "sync", args.budget / 2, args.repeats))
            members = both * B
            base = members if base is None and B == 1 else base
            ratio = members / base if base else float("nan")
            rows.append({"game": game, "batch_size": B, "steps_per_s": both,
                         "member_steps_per_s": members, "per_member_ratio": ratio,
                         "game_native_member_steps_per_s": native * B,
                         "game_sync_member_steps_per_s": sync * B})
            print(f"{game:<9} {B:>4} {both:>10.0f} {members:>15.0f} {ratio:>17.2f} "
                  f"{native * B:>18.0f} {sync * B:>10.0f} {native / sync:>11.1f}")
    print("(game-only columns: member steps per second)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": rows, "processing_steps": args.processing_steps,
                       "numpy": np.__version__, "python": platform.python_version(),
                       "cpus": os.cpu_count()}, handle, indent=2)
    return rows


if __name__ == "__main__":
    main()
