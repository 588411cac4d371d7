"""Overhead of the Ray Train path versus the local loop, and 1 -> 2 worker scaling.

The same small XOR config (batch 1, 4 episodes x 50 presentations of 500 ms)
is trained by the local loop, by Ray Train with 1 worker and with 2 workers
(each worker trains its own replica, so 2 workers do twice the work).
Ray's start-up is measured apart. Prints seconds and ratios from one run.

Run ``python benchmarks/bench_ray.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def small_config():
    from spikey.training import load_config, set_path

    config = load_config(os.path.join(HERE, "..", "examples", "configs", "xor.yaml"))
    set_path(config, "network.network.processing_steps", 500)
    set_path(config, "game.kwargs.n_presentations", 50)
    config["training"].update(episodes=4, max_ticks=50, eval_episodes=0, checkpoint_every=0)
    return config


def main(argv=None):
    """Time the local loop, Ray start-up and Ray Train with 1 and 2 workers; return the rows."""
    import argparse
    
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    from spikey.training import train
    from spikey.training.distributed import init_ray, train_distributed

    config = small_config()
    folder = tempfile.mkdtemp()
    t = time.perf_counter()
    train(config)
    local = time.perf_counter() - t
    t = time.perf_counter()
    init_ray()
    startup = time.perf_counter() - t
    timings = {}
    for workers in (1, 2):
        t = time.perf_counter()
        train_distributed(config, num_workers=workers, storage_path=folder, name=f"w{workers}")
        timings[workers] = time.perf_counter() - t
    print(f"local loop:            {local:6.2f} s")
    print(f"ray.init (once):       {startup:6.2f} s")
    print(f"Ray Train, 1 worker:   {timings[1]:6.2f} s  ({timings[1] / local:.2f}x local, "
          f"overhead {timings[1] - local:.2f} s)")
    print(f"Ray Train, 2 workers:  {timings[2]:6.2f} s  (2 replicas; throughput "
          f"{2 * timings[1] / timings[2]:.2f}x of 1 worker)")
    rows = [{"local_s": local, "ray_init_s": startup, "ray_1_worker_s": timings[1],
             "ray_2_workers_s": timings[2], "throughput_2_vs_1": 2 * timings[1] / timings[2]}]
    write_json(args.json, "ray", rows)
    return rows


if __name__ == "__main__":
    main()
