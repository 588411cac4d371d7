"""Time per network step of the Florian (2007) XOR network, and its batch scaling.

The workload is training itself: every member sees its own random XOR
pattern for a 500-step tick with MSTDPET and per-spike rewards, as in
``examples/florian_xor.py``. Reported per batch size: the median over
repeats of the wall time per network step, the time per member, and the
ratio to B=1 measured in the same run. The baseline is a hand-written single-purpose numpy
loop of the same network (``baselines/numpy_xor.py``), timed in the same run with its
repeats interleaved with Spikey's B = 1 repeats (``ratio_to_numpy_loop`` < 1: Spikey faster).
``--threads N`` also times each B > 1 with ``network.threads = N`` against one thread,
interleaved (``thread_speedup``), with the process's CPU seconds per wall second of each
(``threads_*_cpu_per_wall``: about N when the threads ran at once, about 1 when they had to
take turns on a busy machine, where no speed-up can show), and ``threads_main_cpu_speedup``,
the calling thread's CPU time with one thread over its CPU time with N (its serial work plus
its share; the speed-up an idle machine gives when the other threads keep pace, an upper
bound that a busy machine's time sharing barely moves).

Run ``python benchmarks/bench_xor.py [--batch 1 8 64 256] [--threads 2] [--json out.json]``.
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
from baselines.numpy_xor import NumpyXOR  # noqa: E402

OLD_SPIKEY_US = 360.0  # per step, same network size (shared/REFERENCE.md)


def time_per_step(batch_size: int, ticks: int, repeats: int, baseline: bool = False) -> tuple:
    """Seconds per network step of each repeat (and of the numpy loop's, interleaved, when
    ``baseline``), and the mean output rate (Hz) of each."""
    network = spikey.Network.from_config(xor_config(batch_size, seed=0))
    games, obs, info = make_games(batch_size, seed=0)
    loop = NumpyXOR(0) if baseline else None
    for _ in range(4):  # warm up: caches, allocator, first blocks of random numbers
        action = network.tick(obs, info)
        obs, _, _, _, info = games.step(action)
        if loop is not None:
            loop.tick()
    samples, loop_samples, spikes, loop_spikes = [], [], 0, 0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ticks):
            action = network.tick(obs, info)
            obs, _, _, _, info = games.step(action)
            spikes += int(network.tick_spikes[:, :, -1].sum())
        samples.append((time.perf_counter() - start) / (ticks * network.processing_steps))
        if loop is not None:
            start = time.perf_counter()
            for _ in range(ticks):
                loop_spikes += loop.tick()
            loop_samples.append((time.perf_counter() - start) / (ticks * 500))
    seconds = repeats * ticks * network.processing_steps * network.dt / 1000.0
    return samples, loop_samples, spikes / (seconds * batch_size), loop_spikes / seconds


def thread_samples(batch_size: int, ticks: int, repeats: int, threads: int) -> tuple:
    """Seconds per step with 1 and with ``threads`` threads (``network.threads``), the two
    networks' repeats interleaved, and the process's CPU seconds (every thread) per wall
    second of each (about ``threads`` when the threads ran at once; about 1 when they took
    turns on a busy machine); the runs are checked to give identical weights and spikes."""
    nets = []
    for value in (1, threads):
        config = xor_config(batch_size, seed=0)
        config["network"]["threads"] = value
        nets.append((spikey.Network.from_config(config), *make_games(batch_size, seed=0)))
    samples, wall, cpu, main = ([], []), [0.0, 0.0], [0.0, 0.0], ([], [])
    for repeat in range(repeats + 1):  # the first repeat warms up (and compiles)
        for i in range(2):
            network, games, obs, info = nets[i]
            start, start_cpu = time.perf_counter(), time.process_time()
            start_main = time.thread_time()
            for _ in range(ticks):
                action = network.tick(obs, info)
                obs, _, _, _, info = games.step(action)
            if repeat:
                seconds = time.perf_counter() - start
                samples[i].append(seconds / (ticks * network.processing_steps))
                main[i].append(time.thread_time() - start_main)
                wall[i] += seconds
                cpu[i] += time.process_time() - start_cpu
            nets[i] = (network, games, obs, info)
    if not (np.array_equal(nets[0][0].weights.matrix, nets[1][0].weights.matrix)
            and np.array_equal(nets[0][0].tick_spikes, nets[1][0].tick_spikes)):
        raise AssertionError("threads changed the results")
    main_ratio = statistics.median(main[0]) / statistics.median(main[1])
    return samples[0], samples[1], cpu[0] / wall[0], cpu[1] / wall[1], main_ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--ticks", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=None, help="write results here")
    parser.add_argument("--threads", type=int, default=1,
                        help="also time B > 1 with this many threads (network.threads), "
                        "interleaved with one thread")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the hand-written numpy loop (baselines/numpy_xor.py)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads = {args.threads}; expected a count >= 1")
    if any(b < 1 for b in args.batch):
        parser.error(f"--batch = {args.batch}; expected sizes >= 1")
    rows = []
    for B in args.batch:
        load = os.getloadavg()[0]  # the machine is shared: the 1-minute load at the start
        samples, loop, rate, loop_rate = time_per_step(
            B, max(1, args.ticks // max(1, B // 16)), args.repeats,
            baseline=B == 1 and not args.no_baseline)
        row = {"batch_size": B, "median_us_per_step": statistics.median(samples) * 1e6,
               "min_us_per_step": min(samples) * 1e6, "output_rate_hz": rate, "load_1min": load}
        if loop:
            row["numpy_loop_us_per_step"] = statistics.median(loop) * 1e6
            row["numpy_loop_output_rate_hz"] = loop_rate
            row["ratio_to_numpy_loop"] = row["median_us_per_step"] / row["numpy_loop_us_per_step"]
        if args.threads > 1 and B > 1:
            one, many, one_cpu, many_cpu, main_ratio = thread_samples(
                B, max(1, args.ticks // max(1, B // 16)), args.repeats, args.threads)
            row.update(threads=args.threads,
                       threads_one_us_per_step=statistics.median(one) * 1e6,
                       threads_many_us_per_step=statistics.median(many) * 1e6,
                       threads_one_cpu_per_wall=one_cpu, threads_many_cpu_per_wall=many_cpu,
                       threads_main_cpu_speedup=main_ratio,
                       threads_load_1min=os.getloadavg()[0])
            row["thread_speedup"] = row["threads_one_us_per_step"] / row["threads_many_us_per_step"]
        rows.append(row)
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
        if "numpy_loop_us_per_step" in row:
            print(f"      hand-written numpy loop (baselines/numpy_xor.py): "
                  f"{row['numpy_loop_us_per_step']:.1f} us/step in the same run; Spikey / loop = "
                  f"{row['ratio_to_numpy_loop']:.2f}; output rates {row['output_rate_hz']:.1f} / "
                  f"{row['numpy_loop_output_rate_hz']:.1f} Hz")
        if "thread_speedup" in row:
            print(f"      threads {row['threads']} vs 1 (interleaved): "
                  f"{row['threads_many_us_per_step']:.1f} vs {row['threads_one_us_per_step']:.1f} "
                  f"us/step, speedup {row['thread_speedup']:.2f}x; CPU/wall "
                  f"{row['threads_many_cpu_per_wall']:.2f} (1 thread: "
                  f"{row['threads_one_cpu_per_wall']:.2f}), main thread's CPU 1 / N = "
                  f"{row['threads_main_cpu_speedup']:.2f}, load {row['threads_load_1min']:.1f}")
    write_json(args.json, "florian_xor_step", rows)
    return rows


if __name__ == "__main__":
    main()
