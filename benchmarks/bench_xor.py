"""Time per network step of the Florian (2007) XOR network, and its batch scaling.

The workload is training itself: every member sees its own random XOR
pattern for a 500-step tick with MSTDPET and per-spike rewards, as in
``examples/florian_xor.py``. Reported per batch size: the median over
repeats of the wall time per network step, the time per member, and the
ratio to B=1 measured in the same run.

Run ``python benchmarks/bench_xor.py [--batch 1 8 64 256] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import spikey  # noqa: E402
from florian_xor import make_games, xor_config  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

OLD_SPIKEY_US = 360.0  # per step, same network size (shared/REFERENCE.md)


def time_per_step(batch_size: int, ticks: int, repeats: int) -> list:
    network = spikey.Network.from_config(xor_config(batch_size, seed=0))
    games, obs, info = make_games(batch_size, seed=0)
    for _ in range(4):  # warm up: caches, allocator, first blocks of random numbers
        action = network.tick(obs, info)
        obs, _, _, _, info = games.step(action)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ticks):
            action = network.tick(obs, info)
            obs, _, _, _, info = games.step(action)
        samples.append((time.perf_counter() - start) / (ticks * network.processing_steps))
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--ticks", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    rows = []
    for B in args.batch:
        samples = time_per_step(B, max(1, args.ticks // max(1, B // 16)), args.repeats)
        rows.append({"batch_size": B, "median_us_per_step": statistics.median(samples) * 1e6,
                     "min_us_per_step": min(samples) * 1e6})
    base = rows[0]["median_us_per_step"] if rows[0]["batch_size"] == 1 else None
    print(f"Florian XOR network (60 inputs, 61 LIF, MSTDPET, per-spike reward), "
          f"numpy {np.__version__}, {platform.processor() or platform.machine()}")
    print(f"{'B':>5} {'us/step':>10} {'us/member':>10} {'vs B=1':>8} {'vs old Spikey':>14}")
    for row in rows:
        us = row["median_us_per_step"]
        row["us_per_member"] = us / row["batch_size"]
        row["ratio_to_b1"] = None if base is None else us / base
        ratio = "" if base is None else f"{us / base:8.2f}"
        print(f"{row['batch_size']:>5} {us:10.1f} {us / row['batch_size']:10.2f} {ratio:>8} "
              f"{OLD_SPIKEY_US / (us / row['batch_size']):13.0f}x")
    write_json(args.json, "florian_xor_step", rows)
    return rows


if __name__ == "__main__":
    main()
