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
  is left of the wall time per call ("python") is ``ClosedLoop.step``'s checks and
  bookkeeping (~0.5 µs: the plan's validity checks, five parts' revisions, the
  network's counters, the returned tuple), the call into the compiled entry (~0.15-0.2
  µs: unboxing the plan, releasing the GIL) and the loading of the kernel's arguments
  from the plan (no reference counts since the plan's own getter);
- ``run``: ``ClosedLoop.run(--run-ticks)``, that many ticks per Python call (the
  same compiled tick in a compiled loop), per tick: the sections' medians over the
  ticks plus the median over the calls of the Python time per tick (a call's wall
  time less its ticks' compiled sections).

Per-call medians leave out the rare calls that refill a block of random numbers from
the generators (the inputs' every 256 steps, the games' every 256 episodes), on every
path alike; the means include them.

Every call is timed on its own. Per path and piece: the median over the calls of a
repeat (robust to the preemptions of other jobs on a shared machine, which land in
whatever piece is running), then the median over the repeats; ``*_mean`` keys hold
the mean per call instead (preemptions included). Reported: the time per call; the
fixed overhead (everything but the network: game, reward, Python around them) in µs
and as a share of the network time (issue 19's target: <= 25 % at 1 ms, <= 5 % at
20 ms); the share relative to the network's steps alone (``kernel``: encoding and
readout counted as overhead too); the time per simulated millisecond; the 1-minute
load average when the tick length's run began. Each row holds the fused path's
numbers and the reference path's under ``reference_*``.

Run ``python benchmarks/bench_closed_loop.py [--ticks-ms 1 2 5 10 20] [--json out.json]``.

``--episodes N`` times :func:`spikey.games.run.run_episode` instead (see :func:`episodes`):
whole episodes of the adapter's CartPole network, their ticks through ``ClosedLoop``'s compiled
call against the Python lines, per tick (episode starts included).
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
    """The loop in Python, timed piece by piece, call by call."""

    def __init__(self, tick_ms, batch):
        self.games, self.adapter, self.network = _setup(tick_ms, batch)
        self.batch = batch
        self.obs, self.info = self.games.reset(seed=0)

    def run(self, calls: int) -> dict:
        games, adapter, network, batch = self.games, self.adapter, self.network, self.batch
        obs, info = self.obs, self.info
        perf = time.perf_counter
        fused, in_kernel = kernels.run_tick, [0.0]

        def timed_run_tick(*args):
            t0 = perf()
            fused(*args)
            in_kernel[0] += perf() - t0

        records = []
        kernels.run_tick = timed_run_tick
        try:
            for _ in range(calls):
                in_kernel[0] = 0.0
                t0 = perf()
                observation = adapter.observations(obs, batch)
                t1 = perf()
                action = network.tick(observation, info)
                t2 = perf()
                obs, reward, _, _, info = games.step(adapter.actions(action, batch))
                t3 = perf()
                network.reward(action=action, game_reward=reward, info=info)
                t4 = perf()
                records.append((t4 - t0, t2 - t1, in_kernel[0], t3 - t2 + t1 - t0, t4 - t3))
        finally:
            kernels.run_tick = fused
        self.obs, self.info = obs, info
        return _summary(records)


class _Fused:
    """ClosedLoop.step, timed call by call from outside and by the time-stamp counter inside."""

    def __init__(self, tick_ms, batch, rate):
        games, adapter, network = _setup(tick_ms, batch)
        self.loop = ClosedLoop(network, games, adapter)
        self.loop.set_timing(True)
        self.loop.reset(seed=0)
        self.loop.step()  # builds the plan
        if self.loop.why_not_fused is not None:
            raise RuntimeError(f"the closed loop does not fuse: {self.loop.why_not_fused}")
        self.rate = rate

    def run(self, calls: int) -> dict:
        step, stamps, perf = self.loop.step, self.loop.stamps, time.perf_counter
        if calls > stamps.shape[0] - 1:
            raise ValueError(f"--calls {calls}: at most {stamps.shape[0] - 1} per repeat")
        stamps[...] = 0
        loop = self.loop
        walls = [0.0] * calls
        fused = [False] * calls
        for i in range(calls):
            t0 = perf()
            step()
            walls[i] = perf() - t0
            fused[i] = loop.last_fused
        # (a call that ran the Python loop, e.g. when the game's random block ran out, has
        # no section timings: it is left out)
        walls = [wall for wall, f in zip(walls, fused) if f]
        sections = stamps[1:1 + len(walls), :5] / self.rate
        records = [(wall, s[0] + s[1] + s[2], s[1], s[3], s[4], wall - sum(s))
                   for wall, s in zip(walls, sections.tolist())]
        fused = len(walls)
        out = _summary(records)
        out["fused_calls"] = fused
        return out


class _FusedRun(_Fused):
    """ClosedLoop.run: ``ticks`` closed-loop steps per Python call."""

    def __init__(self, tick_ms, batch, rate, ticks):
        super().__init__(tick_ms, batch, rate)
        self.ticks = ticks

    def run(self, calls: int) -> dict:
        run, stamps, perf, ticks = self.loop.run, self.loop.stamps, time.perf_counter, self.ticks
        if calls > stamps.shape[0] - 1:
            raise ValueError(f"--calls {calls}: at most {stamps.shape[0] - 1} per repeat")
        stamps[...] = 0
        python = []
        for _ in range(max(calls // ticks, 1)):
            first = int(stamps[0, 5])
            t0 = perf()
            run(ticks)
            wall = perf() - t0
            # Python: the call's wall time less its ticks' compiled sections (which hold
            # whatever preempted them)
            inside = stamps[1 + first:1 + int(stamps[0, 5]), :5].sum() / self.rate
            python.append((wall - inside) / ticks)
        fused = int(stamps[0, 5])
        sections = stamps[1:1 + fused, :5] / self.rate
        # per tick: the sections' medians over the ticks, the median of the Python share
        out = _summary([(s[0] + s[1] + s[2], s[1], s[3], s[4]) for s in sections.tolist()],
                       keys=("network", "kernel", "game", "reward"))
        out["python"] = statistics.median(python)
        out["python_mean"] = statistics.fmean(python)
        for suffix in ("", "_mean"):
            out[f"total{suffix}"] = sum(out[f"{key}{suffix}"] for key in
                                        ("network", "game", "reward", "python"))
        out["fused_calls"] = fused
        return out


_KEYS = ("total", "network", "kernel", "game", "reward", "python")


def _summary(records, keys=_KEYS) -> dict:
    """Per-call medians (robust to the other jobs' preemptions) and means of each piece."""
    columns = list(zip(*records))
    out = {}
    for key, values in zip(keys, columns):
        out[key] = statistics.median(values)
        out[f"{key}_mean"] = statistics.fmean(values)
    return out


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
    mean_total, mean_net = values["total_mean"], values["network_mean"]
    row[f"{prefix}us_per_call_mean"] = mean_total * 1e6
    row[f"{prefix}overhead_share_mean"] = (mean_total - mean_net) / mean_net
    return row


def measure(tick_ms: int, calls: int, repeats: int, batch: int, rate: float,
            paths=("fused", "reference"), run_ticks: int = 100) -> dict:
    load = os.getloadavg()[0]  # the machine is shared: the 1-minute load at the start
    runners = {}
    if "reference" in paths:
        runners["reference"] = _Reference(tick_ms, batch)
    if "fused" in paths:
        runners["fused"] = _Fused(tick_ms, batch, rate)
    if "run" in paths:
        runners["run"] = _FusedRun(tick_ms, batch, rate, run_ticks)
    results = {name: [] for name in runners}
    for repeat in range(repeats + 1):  # the first repeat warms up
        for name, runner in runners.items():  # in turn, so both see the same load
            values = runner.run(calls)
            if repeat:
                results[name].append(values)
    row = {"tick_ms": tick_ms, "batch_size": batch, "load_1min": load}
    for name, runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        if name in ("fused", "run"):
            median.pop("fused_calls")
        prefix = {"fused": "", "reference": "reference_", "run": "run_"}[name]
        row.update(_row("" if len(results) == 1 else prefix, median, tick_ms))
        if name in ("fused", "run"):
            row[f"{'run_' if name == 'run' else ''}fused_calls"] = int(
                sum(run["fused_calls"] for run in runs))
            row["calls"] = calls * repeats
    if "run" in results:
        row["run_ticks"] = run_ticks
    row["path"] = next(iter(results)) if len(results) == 1 else "fused"
    return row


def episodes(tick_ms: int, batch: int, count: int, repeats: int) -> dict:
    """``spikey.games.run.run_episode`` on CartPole, its ticks through ``ClosedLoop``'s compiled
    call (``compiled``) and in Python (``python``, ``run.CLOSED_LOOP = False``), repeat by repeat
    in turn: per path the median over the repeats of the wall time and the main thread's CPU
    time per tick of ``count`` episodes (seeded alike; members paused after their episode
    ended run in Python on both paths; the episodes' starts included: the untrained network's
    episodes last 8-20 ticks), after two warm-up episodes. One adapter and one finite check
    serve every episode, as in the training loop."""
    import spikey.games.run as run

    from spikey.snn.health import StateCheck

    setups = {path: _setup(tick_ms, batch) for path in ("compiled", "python")}
    # kept between episodes, as the training loop keeps them (where run_episode takes one)
    kept = {path: {"state_check": StateCheck(network)} if "state_check" in
            run.run_episode.__code__.co_varnames else {}
            for path, (_, _, network) in setups.items()}
    if not hasattr(run, "CLOSED_LOOP"):  # a tree before run_episode used the closed loop
        setups.pop("compiled")
    times = {path: [] for path in setups}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    saved = getattr(run, "CLOSED_LOOP", None)
    try:
        for repeat in range(repeats + 1):  # the first warms up (compiles)
            for path, (games, adapter, network) in setups.items():
                if saved is not None:
                    run.CLOSED_LOOP = path == "compiled"
                first = 10 ** 6 * repeat
                ticks, wall, cpu = 0, time.perf_counter(), time.thread_time()
                for episode in range(2 if not repeat else count):
                    result = run.run_episode(network, games, adapter, max_steps=500, seeds=[
                        first + episode * batch + b for b in range(batch)], **kept[path])
                    ticks += int(result.lengths.max())
                wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
                if repeat:
                    times[path].append((wall / ticks, cpu / ticks, ticks))
    finally:
        if saved is not None:
            run.CLOSED_LOOP = saved
    row = {"tick_ms": tick_ms, "batch_size": batch, "episodes": count, "load_1min": load}
    for path, values in times.items():
        row[f"{path}_us_per_tick"] = statistics.median(v[0] for v in values) * 1e6
        row[f"{path}_cpu_us_per_tick"] = statistics.median(v[1] for v in values) * 1e6
        row[f"{path}_ticks"] = values[0][2]
    if "compiled" in times:
        row["speedup"] = row["python_us_per_tick"] / row["compiled_us_per_tick"]
        row["speedup_cpu"] = row["python_cpu_us_per_tick"] / row["compiled_cpu_us_per_tick"]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks-ms", type=int, nargs="+", default=[1, 2, 5, 10, 20])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--paths", nargs="+", choices=("fused", "run", "reference"),
                        default=["fused", "run", "reference"],
                        help="fused: ClosedLoop.step per tick; run: ClosedLoop.run of "
                             "--run-ticks ticks per call; reference: the Python loop")
    parser.add_argument("--run-ticks", type=int, default=100)
    parser.add_argument("--episodes", type=int, default=0,
                        help="instead: run_episode per tick, compiled against Python, over this "
                             "many episodes per repeat (see episodes())")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.episodes:
        rows = [episodes(t, args.batch, args.episodes, args.repeats) for t in args.ticks_ms]
        print(f"run_episode on CartPole, B={args.batch}, {args.episodes} episodes, median of "
              f"{args.repeats} (µs per tick: wall, main-thread CPU)")
        for row in rows:
            compiled = (f"compiled {row['compiled_us_per_tick']:7.1f} "
                        f"{row['compiled_cpu_us_per_tick']:7.1f}  speedup {row['speedup']:.2f}x "
                        f"(cpu {row['speedup_cpu']:.2f}x)") if "speedup" in row else "compiled n/a"
            print(f"{row['tick_ms']:3d} ms  python {row['python_us_per_tick']:7.1f} "
                  f"{row['python_cpu_us_per_tick']:7.1f}  {compiled}  load {row['load_1min']:.1f}")
        write_json(args.json, "closed_loop_episodes", rows)
        return rows
    paths = [p for p in args.paths if p != "fused" or ClosedLoop is not None]
    paths = [p for p in paths if p != "run" or ClosedLoop is not None]
    rate = tsc_rate() if {"fused", "run"} & set(paths) else None
    rows = [measure(t, args.calls, args.repeats, args.batch, rate, paths, args.run_ticks)
            for t in args.ticks_ms]
    print(f"CartPole + network, B={args.batch}, medians of {args.repeats} x {args.calls} calls "
          "(µs per call)")
    print(f"{'tick (ms)':>9} {'path':>9} {'per call':>9} {'network':>8} {'kernel':>7} "
          f"{'game':>6} {'reward':>7} {'python':>7} {'overhead':>9} {'ovh/network':>12} "
          f"{'ovh/kernel':>11} {'load':>5}")
    for row in rows:
        for prefix, name in (("", row["path"]), ("run_", "run"), ("reference_", "reference")):
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
