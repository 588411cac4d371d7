"""Training-loop overhead: what ``spikey.training.train`` adds to the network's own time.

Issue 19's target: the loop's overhead per episode (metrics, recording, checkpoints)
<= 5 % of the network time for the XOR config. This script trains a config locally
(no Ray, a temporary run folder, so checkpoints and metrics are written as in a real
run), after one warm-up run, and times with ``time.perf_counter`` wrapped around:

- ``network``: ``Network.tick`` + ``Network.reward`` (the network's time);
- ``game``: the vector env's ``step`` (the game, not the loop);
- ``health``: the per-tick finite check (``spikey.snn.health.StateCheck``; where the episode
  driver runs the check inside its own compiled bookkeeping call, only the table's look-up:
  the check's scan is then in ``other``);
- ``record``: tick rows (``record_ticks``): the per-tick callback and the rows' table;
- ``metrics``: episode rows and the CSV appends (``_episode_columns``, ``_Table.flush``);
- ``checkpoint``: ``_checkpoint`` (tables synced, network saved, ``latest.json``; what the
  loop waits for: the disk work runs in a thread while the next episode plays);
- ``setup``: building the network and the games (once per run);
- ``start``: the config's checks, the run folder's lock and preparation (once per run);
- ``finish``: the summary, the final checkpoint and reading the metrics back for the result
  (once per run);
- ``timers``: the timers' own cost (their calls times the cost of one timed empty call,
  measured before the runs), taken out of ``other``;
- ``other``: the rest (the episode driver's own Python, seeds).

Overhead = everything but ``network``, ``game``, ``setup`` and ``timers``, as a share of
``network``; each repeat also runs the config "lean", timing only the network, the game and
the once-per-run parts (two timed calls a tick instead of five, so the timers' own cost,
which in the loop's context is above the calibrated estimate, weighs less):
``lean_per_episode_share_of_network`` is its remainder as a share of its network time;
``per_episode_overhead`` leaves out ``start`` and ``finish`` too (costs of a run, not of an
episode: they shrink per episode as a run grows).
Median of ``--repeats`` runs. ``--clock wall`` (default) times with ``time.perf_counter``;
``--clock cpu`` with ``time.thread_time``, the main thread's CPU time: steadier on a loaded
machine (a preempted thread's wait is not counted), and the checkpoint thread's work, which
runs beside the next episode, is not counted either. The warm-up run plays a training and an evaluation episode and
writes a checkpoint, so no numba compilation (the evaluation tick is another specialisation)
falls into a timed run. Run ``python benchmarks/bench_training_loop.py
[CONFIG] [--episodes N] [--repeats 3] [--json PATH]`` (default: examples/configs/xor.yaml).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

try:
    from spikey.snn.health import StateCheck  # noqa: E402
except ImportError:  # an older loop
    StateCheck = None
from spikey.snn.network import Network  # noqa: E402
from spikey.training import load_config, train  # noqa: E402
from spikey.training import loop  # noqa: E402

import spikey.games.run as episode_driver  # noqa: E402

PARTS = ("network", "game", "health", "record", "metrics", "checkpoint", "setup", "start",
         "finish", "timers", "other")


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = time.perf_counter  # set by main's --clock


def _timed(original, key, acc, inside):
    """``original`` with its time added to ``acc[key]`` (once: not inside another timed call)."""
    def timed(*args, **kwargs):
        acc["calls"] += 1
        if inside:  # e.g. a table flush inside a checkpoint: the checkpoint's time
            return original(*args, **kwargs)
        inside.add(key)
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            acc[key] += clock() - start
            inside.discard(key)
    return timed


def timer_cost(calls: int = 20000) -> float:
    """Seconds one timed call adds to an empty call (median of 5 batches)."""
    def empty(*args, **kwargs):
        return None
    timed = _timed(empty, "x", defaultdict(float), set())
    costs = []
    for _ in range(5):
        start = clock()
        for _ in range(calls):
            timed(1, a=2)
        middle = clock()
        for _ in range(calls):
            empty(1, a=2)
        costs.append(((middle - start) - (clock() - middle)) / calls)
    return max(float(np.median(costs)), 0.0)


@contextlib.contextmanager
def _timers(acc, lean: bool = False):
    """Wrap the timed callables; restore them on exit (``lean``: only the network, the game,
    the set-up and the once-per-run parts, two timed calls per tick)."""
    saved = []

    inside = set()  # timed calls in progress: a call inside another is counted once

    def wrap(owner, name, key):
        if not hasattr(owner, name):  # an older loop (the script also times earlier commits)
            return
        original = getattr(owner, name)
        # restore what the class itself holds (a classmethod stays a classmethod)
        saved.append((owner, name, vars(owner).get(name, original)))
        setattr(owner, name, _timed(original, key, acc, inside))

    wrap(Network, "from_config", "setup")
    wrap(Network, "tick", "network")
    wrap(Network, "reward", "network")
    for name in ("check_config", "seeded_config", "_prepare_folder"):
        wrap(loop, name, "start")
    wrap(loop._Lock, "acquire", "start")
    wrap(loop, "summarize", "finish")
    wrap(loop._Table, "frame", "finish")
    make_games = loop.make_games

    def timed_games(*args, **kwargs):
        start = clock()
        games = make_games(*args, **kwargs)
        acc["setup"] += clock() - start
        games.step = _timed(games.step, "game", acc, inside)
        return games
    saved.append((loop, "make_games", make_games))
    loop.make_games = timed_games
    checkpoint = loop._checkpoint
    saved.append((loop, "_checkpoint", checkpoint))
    timed_checkpoint = (lambda *a, **k: checkpoint(*a, **k)) if lean else \
        _timed(checkpoint, "checkpoint", acc, inside)
    timed_final = _timed(checkpoint, "finish", acc, inside)  # once per run, with the summary
    loop._checkpoint = lambda *a, **k: (timed_final if k.get("summary") is not None
                                        else timed_checkpoint)(*a, **k)
    if lean:
        try:
            yield
        finally:
            for owner, name, original in reversed(saved):
                setattr(owner, name, original)
        return
    if StateCheck is not None:
        wrap(StateCheck, "__call__", "health")
        wrap(StateCheck, "after_tick", "health")
        wrap(StateCheck, "compiled_table", "health")  # (the check itself runs in the driver's
        # compiled call with the episode's bookkeeping: in `other`)
    wrap(episode_driver, "check_network", "health")  # before StateCheck
    if hasattr(loop._TickRows, "tick_row"):  # the driver calls it positionally
        wrap(loop._TickRows, "tick_row", "record")
    else:  # an older loop: the per-tick record callback
        run_episode = episode_driver.run_episode

        def timed_episode(*args, on_tick=None, **kwargs):
            if on_tick is not None:
                record = on_tick

                on_tick = _timed(record, "record", acc, inside)
            return run_episode(*args, on_tick=on_tick, **kwargs)
        saved.append((episode_driver, "run_episode", run_episode))
        episode_driver.run_episode = timed_episode
    wrap(loop._Table, "add", "record")  # tick rows (episode rows are added once per episode)
    wrap(loop, "_rate_hz", "record")
    wrap(loop, "_episode_columns", "metrics")
    wrap(loop, "_episode_rows", "metrics")  # before _episode_columns
    wrap(loop._Table, "flush", "metrics")
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def measure(config: dict, folder: str, cost: float = 0.0, lean: bool = False) -> dict:
    """One timed local run of ``config`` in ``folder``: seconds per part (``cost``: seconds
    one timed call adds, see :func:`timer_cost`; ``lean``: see :func:`_timers`)."""
    acc = defaultdict(float)
    with _timers(acc, lean):
        start = clock()
        train(config, run_dir=folder, progress=False)
        total = clock() - start
    acc["timers"] = acc["calls"] * cost
    out = {part: acc[part] for part in PARTS if part != "other"}
    out["other"] = total - sum(out.values())
    out["total"] = total
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?",
                        default=os.path.join(HERE, "..", "examples", "configs", "xor.yaml"))
    parser.add_argument("--episodes", type=int, default=None,
                        help="training episodes (default: the config's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall: perf_counter; cpu: the main thread's CPU time")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "training_loop.json"))
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    if args.repeats < 1:
        parser.error(f"--repeats = {args.repeats}; expected >= 1")
    if args.episodes is not None and args.episodes < 1:
        parser.error(f"--episodes = {args.episodes}; expected >= 1")
    config = load_config(args.config)
    if args.episodes is not None:
        config["training"]["episodes"] = args.episodes
    load = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        warm = dict(config, training={**config["training"], "episodes": 1, "eval_episodes": 1,
                                      "checkpoint_every": 1})
        train(warm, run_dir=os.path.join(folder, "warm"), progress=False)
        cost = timer_cost()
        for repeat in range(args.repeats):
            runs.append(measure(config, os.path.join(folder, f"run{repeat}"), cost))
            lean = measure(config, os.path.join(folder, f"lean{repeat}"), cost, lean=True)
            runs[-1].update({f"lean_{key}": lean[key] for key in
                             ("network", "game", "setup", "start", "finish", "timers", "other",
                              "total")})
    median = {key: float(np.median([r[key] for r in runs])) for key in runs[0]}
    network = median["network"]
    overhead = median["total"] - network - median["game"] - median["setup"] - median["timers"]
    per_episode = overhead - median["start"] - median["finish"]
    # the lean run: two timers a tick (network, game); its overhead is all the rest
    lean_network = median["lean_network"]
    lean = median["lean_other"]  # total less network, game, setup, start, finish and timers
    lean_all = lean + median["lean_start"] + median["lean_finish"]
    result = {
        "benchmark": "training_loop", "config": os.path.relpath(args.config, os.path.join(HERE, "..")),
        "episodes": config["training"]["episodes"],
        "eval_episodes": config["training"].get("eval_episodes", 0),
        "checkpoint_every": config["training"].get("checkpoint_every"),
        "record_ticks": config["training"].get("record_ticks"),
        "repeats": args.repeats, "clock": args.clock, "load_average": load, "timer_cost_s": cost, "median_s": median, "runs_s": runs,
        "overhead_s": overhead, "overhead_share_of_network": overhead / network,
        "per_episode_overhead_s": per_episode,
        "per_episode_overhead_share_of_network": per_episode / network,
        "target_share": 0.05, "met": overhead / network <= 0.05,
        "per_episode_met": per_episode / network <= 0.05,
        "lean_overhead_share_of_network": lean_all / lean_network,
        "lean_per_episode_share_of_network": lean / lean_network,
        "lean_per_episode_met": lean / lean_network <= 0.05,
    }
    print(f"{result['config']}: {result['episodes']} episodes (+{result['eval_episodes']} "
          f"evaluation), median of {args.repeats}, {args.clock} clock, load {load}")
    for key in PARTS + ("total",):
        print(f"  {key:<10} {median[key] * 1e3:9.1f} ms  {median[key] / network * 100:6.1f} % "
              "of the network's time")
    print(f"  overhead (all but network, game, setup and timers): {overhead * 1e3:.1f} ms = "
          f"{overhead / network * 100:.1f} % of the network's time (target <= 5 %: "
          f"{'met' if result['met'] else 'not met'})")
    print(f"  per episode (without start and finish): {per_episode * 1e3:.1f} ms = "
          f"{per_episode / network * 100:.1f} % ({'met' if result['per_episode_met'] else 'not met'})")
    print(f"  lean run (network and game timed only; network {lean_network * 1e3:.1f} ms): "
          f"overhead {lean_all / lean_network * 100:.1f} %, per episode "
          f"{lean / lean_network * 100:.1f} % ({'met' if lean / lean_network <= 0.05 else 'not met'})")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
