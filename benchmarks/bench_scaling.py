"""Size scaling: time per step and peak memory versus N at a fixed fan-in of 100.

N LIF neurons (tau 20 ms, threshold 16 mV, 5 ms refractory, dt 1 ms) each
receive ``fan_in`` synapses (SparseFanIn) from 1,000 Poisson inputs
(``--sources inputs``, the default) or from inputs and body neurons alike
(``--sources all``, recurrent). The input rate sets the firing rate, so the
cost per step is reported against both N and the measured rate. Each
configuration runs in its own process, which reports:

* ``us_per_step``: median over repeats of one simulated second (1,000 steps);
* ``rate_hz``: mean firing rate of the N neurons;
* ``arrays_mb``: peak of numpy allocations while building and running
  (``tracemalloc``): what the network itself needs;
* ``rss_mb`` and ``rss_import_mb``: the process's peak resident memory (with
  ``--memory-runs R``, the largest of R fresh processes, all in ``rss_mb_runs``), and
  the same process right after ``import spikey`` (interpreter, numpy,
  numba). The compiled path also loads LLVM and its kernels (~90 MB,
  whatever the network size), so ``rss_mb - rss_import_mb`` is the network
  plus that fixed cost; ``--kernels numpy`` shows the network alone.

``--dense`` also measures the dense-matrix storage (``Random`` weights with
the same expected fan-in) for the sizes up to 3,000, for comparison.

``--threads N`` (N > 1) also times every sparse size of at least 512 neurons with
``network.threads = N`` against one thread in one more process: two networks of the
same seed, their one-second ticks interleaved (1, N, 1, N, ...), checked to give the
same spikes each tick. The feed-forward network without learning runs as blocks of
neurons in parallel threads (``kernels.run_tick_blocks``; ``--sources all``, with
recurrence, stays on one thread). Reported: ``threads_one_us_per_step`` and
``threads_many_us_per_step`` (medians), ``thread_speedup`` (their ratio) and
``threads_many_cpu_per_wall``, the process's CPU seconds (every thread) per wall
second of the N-thread ticks: about N when the threads ran at the same time, about 1
when they had to take turns on a busy machine (then the speed-up cannot show), and
``threads_main_cpu_speedup``, the calling thread's CPU time per tick with one thread over
its CPU time with N (its serial work plus its block: the speed-up an idle machine gives when
the other threads keep pace, an upper bound that time sharing barely moves), and
``threads_one_outside_us_per_step``, ``threads_many_outside_us_per_step``: the median tick's
wall time outside the compiled blocks call (Python, the plan, the readout: the serial part
on the calling thread; the tick's input draws and output counts run inside it).

Run ``python benchmarks/bench_scaling.py [--sizes 100 1000 10000] [--rates 5 20 50]
[--threads 2] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

N_INPUTS, FAN_IN, STEPS = 1000, 100, 1000


def config(n: int, rate: float, sources: str, storage: str, kernels: str) -> dict:
    # mean drive per neuron independent of N: fan_in synapses of mean weight w
    w_high = 4.0 if sources == "inputs" else 3.0
    cfg = {
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "SparseFanIn",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": STEPS, "batch_size": 1, "seed": 0,
                    "reward_mode": "none", "kernels": kernels},
        "inputs": {"n_inputs": N_INPUTS, "n_dims": 1, "max_rate": float(rate)},
        "neurons": {"n_neurons": n, "tau": 20.0, "threshold": 16.0, "refractory": 5.0,
                    "inhibitory_fraction": 0.0 if sources == "inputs" else 0.2},
        "weights": {"fan_in": FAN_IN, "sources": sources, "low": 0.0, "high": w_high,
                    "max_weight": w_high},
        "readout": {"n_outputs": n},
    }
    if storage == "dense":
        import numpy as np

        density = FAN_IN / (N_INPUTS if sources == "inputs" else N_INPUTS + n)
        mask = np.zeros((N_INPUTS + n, n), dtype=bool)
        rows = N_INPUTS if sources == "inputs" else N_INPUTS + n
        mask[:rows] = np.random.default_rng(1).random((rows, n)) < density
        cfg["parts"]["weights"] = "Random"
        cfg["weights"] = {"low": 0.0, "high": w_high, "max_weight": w_high,
                          "mask": mask.tolist()}
    return cfg


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB): VmHWM, which starts afresh at exec.

    (``ru_maxrss`` survives ``exec`` on Linux, so a child of a large parent
    would report the parent's peak.)
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(n, rate, sources, storage, kernels, repeats):
    """Runs in a child process: build, warm up, time; report JSON on stdout."""
    import tracemalloc

    import numpy as np

    import spikey
    from bench_reference import time_ticks  # same timing loop as the reference workload

    rss_import = peak_rss_mb()
    # load the compiled kernels first (a tiny network), so tracemalloc sees the network's
    # arrays, not the compiler's Python objects
    small = spikey.Network.from_config(config(10, rate, sources, storage, kernels))
    small.tick(np.ones((1, 1)))
    del small
    cfg = config(n, rate, sources, storage, kernels)
    tracemalloc.start()
    times, rates = time_ticks(spikey.Network.from_config(cfg), repeats)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"n_neurons": n, "input_rate_hz": rate, "sources": sources, "storage": storage,
            "kernels": kernels, "us_per_step": statistics.median(times) / STEPS * 1e6,
            "rate_hz": float(np.mean(rates)), "arrays_mb": peak / 2**20,
            "rss_mb": peak_rss_mb(),
            "rss_import_mb": rss_import}


def measure_threads(n, rate, sources, storage, kernels, repeats, threads):
    """Runs in a child process: one-second ticks with 1 and ``threads`` threads, interleaved
    (the compiled blocks calls timed through wrappers, the kernels restored after)."""
    from spikey.snn import kernels as compiled

    inside = []  # the wall time of each tick's compiled blocks call
    originals = {name: getattr(compiled, name)
                 for name in ("run_tick_blocks", "run_tick_blocks_serial")}
    for name, original in originals.items():
        def timed(*arguments, kernel=original):
            begin = time.perf_counter()
            kernel(*arguments)
            inside.append(time.perf_counter() - begin)

        setattr(compiled, name, timed)  # the engine looks its kernels up at each call
    try:
        return _time_threads(n, rate, sources, storage, kernels, repeats, threads, inside)
    finally:
        for name, original in originals.items():
            setattr(compiled, name, original)


def _time_threads(n, rate, sources, storage, kernels, repeats, threads, inside):
    """:func:`measure_threads`' timing, ``inside`` filled with the compiled blocks calls."""
    import numpy as np

    import spikey

    nets = []
    for value in (1, threads):
        cfg = config(n, rate, sources, storage, kernels)
        cfg["network"]["threads"] = value
        nets.append(spikey.Network.from_config(cfg))
    state = np.ones((1, 1))
    wall, cpu, main, outside = ([], []), ([], []), ([], []), ([], [])
    for repeat in range(repeats + 1):  # the first round warms up (kernels compile or load)
        for i, network in enumerate(nets):
            start, start_cpu = time.perf_counter(), time.process_time()
            start_main = time.thread_time()
            calls = len(inside)
            network.tick(state)
            if repeat:
                wall[i].append(time.perf_counter() - start)
                cpu[i].append(time.process_time() - start_cpu)
                main[i].append(time.thread_time() - start_main)
                kernel = sum(inside[calls:]) if len(inside) > calls else float("nan")
                outside[i].append(wall[i][-1] - kernel)
        if not np.array_equal(nets[0].tick_spikes, nets[1].tick_spikes):
            raise AssertionError(f"network.threads = {threads} changed the spikes")
    one, many = statistics.median(wall[0]), statistics.median(wall[1])
    return {"n_neurons": n, "input_rate_hz": rate, "sources": sources, "storage": storage,
            "threads": threads, "threads_one_us_per_step": one / STEPS * 1e6,
            "threads_many_us_per_step": many / STEPS * 1e6, "thread_speedup": one / many,
            "threads_one_cpu_per_wall": sum(cpu[0]) / sum(wall[0]),
            "threads_many_cpu_per_wall": sum(cpu[1]) / sum(wall[1]),
            "threads_main_cpu_speedup": statistics.median(main[0]) / statistics.median(main[1]),
            "threads_one_outside_us_per_step": statistics.median(outside[0]) / STEPS * 1e6,
            "threads_many_outside_us_per_step": statistics.median(outside[1]) / STEPS * 1e6,
            "blocks": nets[1]._engine.__dict__.get("_block_plan", (None, None))[1] is not None,
            "load_1min": os.getloadavg()[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000, 10000])
    parser.add_argument("--rates", type=float, nargs="+", default=[5.0, 20.0, 50.0],
                        help="input rates (Hz); the largest size runs at every rate")
    parser.add_argument("--sources", default="inputs", choices=["inputs", "all"])
    parser.add_argument("--kernels", default="auto", choices=["auto", "numba", "numpy"])
    parser.add_argument("--dense", action="store_true", help="also time dense storage (N <= 3000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="also time sparse sizes >= 512 with this many threads "
                        "(network.threads) against one, interleaved")
    parser.add_argument("--memory-runs", type=int, default=1,
                        help="fresh processes per configuration: rss_mb is the largest peak, "
                        "rss_mb_runs every one (the peak varies by ~1 MB between processes)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--one", nargs=5, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads-of", nargs=6, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads = {args.threads}; expected a count >= 1")
    if args.memory_runs < 1:
        parser.error(f"--memory-runs = {args.memory_runs}; expected a count >= 1")
    if args.one:  # child process
        n, rate, sources, storage, kernels = args.one
        print(json.dumps(measure_one(int(n), float(rate), sources, storage, kernels,
                                     args.repeats)))
        return None
    if args.threads_of:  # child process
        n, rate, sources, storage, kernels, threads = args.threads_of
        print(json.dumps(measure_threads(int(n), float(rate), sources, storage, kernels,
                                         args.repeats, int(threads))))
        return None
    jobs = [(n, 20.0, "sparse") for n in args.sizes]
    jobs += [(max(args.sizes), r, "sparse") for r in args.rates if r != 20.0]
    if args.dense:
        jobs += [(n, 20.0, "dense") for n in args.sizes if n <= 3000]
    rows = []
    print(f"{'N':>6} {'storage':>7} {'input Hz':>8} {'rate Hz':>8} {'us/step':>9} "
          f"{'arrays MB':>9} {'RSS MB':>7} {'(import)':>8}")
    for n, rate, storage in jobs:
        runs = []
        for _ in range(args.memory_runs):
            out = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats),
                                  "--one", str(n), str(rate), args.sources, storage,
                                  args.kernels], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        row = runs[0]
        if len(runs) > 1:
            row["rss_mb_runs"] = [r["rss_mb"] for r in runs]
            row["rss_mb"] = max(row["rss_mb_runs"])
            row["us_per_step_runs"] = [r["us_per_step"] for r in runs]
        rows.append(row)
        print(f"{n:6d} {storage:>7} {rate:8.0f} {row['rate_hz']:8.1f} {row['us_per_step']:9.1f} "
              f"{row['arrays_mb']:9.1f} {row['rss_mb']:7.0f} {row['rss_import_mb']:8.0f}",
              flush=True)
        if args.threads > 1 and storage == "sparse" and n >= 512:
            out = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats),
                                  "--threads-of", str(n), str(rate), args.sources, storage,
                                  args.kernels, str(args.threads)],
                                 capture_output=True, text=True, check=True)
            timing = json.loads(out.stdout.strip().splitlines()[-1])
            row.update({k: v for k, v in timing.items() if k.startswith("thread")
                        or k in ("blocks", "load_1min")})
            print(f"       threads {args.threads} vs 1 (interleaved): "
                  f"{row['threads_many_us_per_step']:.1f} vs {row['threads_one_us_per_step']:.1f} "
                  f"us/step, speedup {row['thread_speedup']:.2f}x, CPU/wall "
                  f"{row['threads_many_cpu_per_wall']:.2f} (1 thread: "
                  f"{row['threads_one_cpu_per_wall']:.2f}), main thread's CPU 1 / N "
                  f"{row['threads_main_cpu_speedup']:.2f}, outside the compiled tick "
                  f"{row['threads_many_outside_us_per_step']:.2f} vs "
                  f"{row['threads_one_outside_us_per_step']:.2f} us/step, "
                  f"load {row['load_1min']:.1f}", flush=True)
    write_json(args.json, "size_scaling", rows, fan_in=FAN_IN, n_inputs=N_INPUTS)
    return rows


if __name__ == "__main__":
    main()
