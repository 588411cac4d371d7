"""The reference workload: 1,000 Poisson inputs at 20 Hz -> 1,000 LIF neurons, 1 s at dt = 1 ms.

LIF: tau 20 ms, threshold 16 mV above rest, reset to rest, 5 ms refractory.
Input -> neuron synapses only (no recurrence; ``--recurrent`` adds every variant with
LIF -> LIF synapses at the same density and weights, named ``... + recurrent``), weights uniform in [0, w_max]
with w_max chosen so both densities fire at a similar rate. Four variants:
dense all-to-all, dense + STDP, 10 % sparse, 10 % sparse + STDP; the sparse
ones twice, as a masked dense matrix and as SparseFanIn index arrays (fan-in
100). Reports steps/s (median of repeats; ``cpu_steps_per_s`` over the thread's CPU time,
the measure Brian2's standalone ``_last_run_time`` uses) and the mean output firing rate,
for the compiled (numba) path and the numpy reference path.

Run ``python benchmarks/bench_reference.py [--repeats 5] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import spikey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

N_IN, N, STEPS = 1000, 1000, 1000


def config(density: float, stdp: bool, kernels: str = "auto", storage: str = "dense",
           recurrent: bool = False) -> dict:
    """The network config of one variant (``recurrent``: LIF -> LIF synapses too, at the same
    density and weight distribution as the inputs', no self-connections)."""
    w_max = 0.09 / density  # same mean drive per neuron at either density
    mask = np.zeros((N_IN + N, N), dtype=bool)
    mask[:N_IN] = np.random.default_rng(1).random((N_IN, N)) < density
    if recurrent:
        mask[N_IN:] = np.random.default_rng(2).random((N, N)) < density
        np.fill_diagonal(mask[N_IN:], False)
    parts = {"inputs": "RateMap", "neurons": "LIF", "weights": "Random", "readout": "NeuronRates"}
    if stdp:
        parts["synapses"] = "STDP"
    out = {
        "parts": parts,
        "network": {"processing_steps": STEPS, "batch_size": 1, "seed": 0, "reward_mode": "none",
                    "kernels": kernels},
        "inputs": {"n_inputs": N_IN, "n_dims": 1, "max_rate": 20.0},
        "neurons": {"n_neurons": N, "tau": 20.0, "threshold": 16.0, "refractory": 5.0},
        "weights": {"max_weight": w_max, "low": 0.0, "high": w_max, "mask": mask.tolist()},
        "readout": {"n_outputs": N},
    }
    if stdp:
        out["synapses"] = {"learning_rate": 0.01 * w_max, "A_plus": 1.0, "A_minus": -1.05}
    if storage == "fan-in":  # the same density as a fixed fan-in, stored sparsely
        out["parts"]["weights"] = "SparseFanIn"
        out["weights"] = {"fan_in": int(round(density * N_IN)), "sources": "inputs", "low": 0.0,
                          "high": w_max, "max_weight": w_max}
        if recurrent:  # partners drawn from inputs and neurons: ~100 of each on average
            out["weights"].update(fan_in=int(round(density * (N_IN + N))), sources="all")
    return out


#: (name, density, STDP, weight storage); "fan-in" keeps the sparse variants' 10 % as a fixed
#: fan-in of 100 in SparseFanIn index arrays instead of a masked dense matrix.
VARIANTS = [("dense", 1.0, False, "dense"), ("dense + STDP", 1.0, True, "dense"),
            ("10% sparse", 0.1, False, "dense"), ("10% sparse + STDP", 0.1, True, "dense"),
            ("10% sparse (fan-in)", 0.1, False, "fan-in"),
            ("10% sparse + STDP (fan-in)", 0.1, True, "fan-in")]


def time_ticks(network, repeats: int, cpu: list | None = None) -> tuple:
    """Wall seconds of each of ``repeats`` one-second ticks after a warm-up tick, and the
    mean firing rate (Hz) of each; the input is held on (observation 1).

    ``cpu``, a list, receives each tick's CPU seconds of this thread (``time.thread_time``):
    Brian2's standalone binary times its loop with ``std::clock``, the process's CPU time,
    so on a loaded machine these are the times to compare with it (the wall time also counts
    waiting for a core).
    """
    state = np.ones((1, 1))
    network.tick(state)  # warm-up second (kernels compile or load from their cache)
    times, rates = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        network.tick(state)
        times.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.thread_time() - start_cpu)
        rates.append(network.tick_spikes.mean() * 1000.0 / network.dt)
    return times, rates


def measure(name, cfg, repeats):
    cpu = []
    times, rates = time_ticks(spikey.Network.from_config(cfg), repeats, cpu)
    steps_per_s = STEPS / statistics.median(times)
    return {"variant": name, "steps_per_s": steps_per_s,
            "cpu_steps_per_s": STEPS / max(statistics.median(cpu), 1e-9),
            "rate_hz": float(np.mean(rates))}


def recurrent_name(name: str) -> str:
    """``'10% sparse + STDP (fan-in)'`` -> ``'10% sparse + STDP + recurrent (fan-in)'``."""
    base, fan_in, _ = name.partition(" (fan-in)")
    return f"{base} + recurrent" + (" (fan-in)" if fan_in else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None)
    parser.add_argument("--recurrent", action="store_true",
                        help="also measure every variant with LIF -> LIF synapses (' + recurrent')")
    parser.add_argument("--only-recurrent", action="store_true",
                        help="measure the recurrent variants only")
    parser.add_argument("--variants", nargs="+", default=None,
                        choices=[name for name, *_ in VARIANTS],
                        help="measure only these variants (their recurrent twins too with "
                             "--recurrent)")
    parser.add_argument("--kernels", nargs="+", default=["numba", "numpy"],
                        choices=["auto", "numba", "numpy"],
                        help="engine paths to measure (numpy is the reference)")
    args = parser.parse_args(argv)
    rows = []
    recurrence = [False] if not (args.recurrent or args.only_recurrent) else \
        [True] if args.only_recurrent else [False, True]
    for kernels in args.kernels:
        for recurrent in recurrence:
            for name, density, stdp, storage in VARIANTS:
                if args.variants is not None and name not in args.variants:
                    continue
                label = recurrent_name(name) if recurrent else name
                row = measure(label, config(density, stdp, kernels, storage, recurrent),
                              args.repeats)
                rows.append({**row, "kernels": kernels, "storage": storage,
                             "recurrent": recurrent})
    print(f"{'variant':<34} {'kernels':>8} {'steps/s':>10} {'CPU steps/s':>12} {'rate (Hz)':>10}")
    for row in rows:
        print(f"{row['variant']:<34} {row['kernels']:>8} {row['steps_per_s']:10.0f} "
              f"{row['cpu_steps_per_s']:12.0f} {row['rate_hz']:10.1f}")
    write_json(args.json, "reference_workload", rows)
    return rows


if __name__ == "__main__":
    main()
