"""Overhead of the Ray Train path versus the local loop: fixed and per episode; 1 -> 2 workers.

The same small XOR config (batch 1, episodes of 50 presentations of 500 ms, a
checkpoint every 4 episodes, tick rows recorded) is trained by the local loop and by
Ray Train with 1 worker at two lengths (``--episodes``, default 4 and 12), so the
difference ``ray - local = fixed + per_episode * episodes`` splits into Ray's fixed
overhead (the trainer, its worker and the result's collection: seconds) and its cost per
episode (a report per episode; with a new checkpoint the run folder is copied to Ray).
Ray's start-up (``ray.init``) is measured apart, and 2 workers at the longer length (each
worker trains its own replica, so 2 workers do twice the work).
Prints seconds and ratios from one run.

Run ``python benchmarks/bench_ray.py [--episodes 4 12] [--json PATH]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def small_config(episodes: int = 4):
    """The timed config: XOR, 50 ticks of 500 ms an episode, a checkpoint every 4 episodes."""
    from spikey.training import load_config, set_path

    config = load_config(os.path.join(HERE, "..", "examples", "configs", "xor.yaml"))
    set_path(config, "network.network.processing_steps", 500)
    set_path(config, "game.kwargs.n_presentations", 50)
    config["training"].update(episodes=episodes, max_ticks=50, eval_episodes=0,
                              checkpoint_every=4, record_ticks=True)
    return config


def main(argv=None):
    """Time the local loop and Ray Train at two lengths, Ray start-up and 2 workers."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, nargs=2, default=[4, 12],
                        help="the two run lengths (episodes)")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    short, long = args.episodes
    if not 1 <= short < long:
        parser.error(f"--episodes = {short} {long}; expected 1 <= first < second")
    from spikey.training import train
    from spikey.training.distributed import init_ray, train_distributed

    folder = tempfile.mkdtemp()
    train(small_config(1), run_dir=os.path.join(folder, "warm"))  # numba's first compile
    local, ray1 = {}, {}
    for episodes in (short, long):
        t = time.perf_counter()
        train(small_config(episodes), run_dir=os.path.join(folder, f"local{episodes}"))
        local[episodes] = time.perf_counter() - t
    t = time.perf_counter()
    init_ray()
    startup = time.perf_counter() - t
    for episodes in (short, long):
        t = time.perf_counter()
        train_distributed(small_config(episodes), num_workers=1, storage_path=folder,
                          name=f"w1_{episodes}")
        ray1[episodes] = time.perf_counter() - t
    t = time.perf_counter()
    train_distributed(small_config(long), num_workers=2, storage_path=folder, name="w2")
    two = time.perf_counter() - t
    extra = {e: ray1[e] - local[e] for e in (short, long)}
    per_episode = (extra[long] - extra[short]) / (long - short)
    fixed = extra[short] - per_episode * short
    load = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    for e in (short, long):
        print(f"{e:3d} episodes: local {local[e]:6.2f} s, Ray Train 1 worker {ray1[e]:6.2f} s "
              f"({ray1[e] / local[e]:.2f}x, overhead {extra[e]:.2f} s)")
    print(f"ray.init (once):       {startup:6.2f} s")
    print(f"Ray Train overhead: fixed {fixed:.2f} s per run, {per_episode * 1e3:.0f} ms per "
          f"episode ({per_episode / (local[long] / long) * 100:.1f} % of a local episode)")
    print(f"Ray Train, 2 workers:  {two:6.2f} s  (2 replicas of {long} episodes; throughput "
          f"{2 * ray1[long] / two:.2f}x of 1 worker); load {load}")
    rows = [{"episodes": [short, long], "local_s": [local[short], local[long]],
             "ray_1_worker_s": [ray1[short], ray1[long]], "ray_init_s": startup,
             "fixed_overhead_s": fixed, "per_episode_overhead_s": per_episode,
             "local_episode_s": local[long] / long, "ray_2_workers_s": two,
             "throughput_2_vs_1": 2 * ray1[long] / two, "load_average": load}]
    write_json(args.json, "ray", rows)
    return rows


if __name__ == "__main__":
    main()
