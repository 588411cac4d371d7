"""Grid spike-time error against precise (off-grid) timing, and the precise mode's cost.

Two small LIF networks (feed-forward 20 inputs -> 10 hidden -> 3 outputs, and a
recurrent one of 12 neurons with 20 % inhibitory neurons), 4 members each with
their own weights, receive the same Poisson input spike times (20 Hz) for 500 ms.
:class:`~spikey.snn.precise.PreciseNetwork` gives the exact spike times (it
agrees with an event-driven reference to 1e-9 ms, ``unit_tests/test_precise.py``,
and its times do not depend on ``dt``). The grid :class:`~spikey.Network` runs the
same network with the input times rounded down to steps (``StaticMap`` replaying
them) at ``dt`` from 1 to 0.01 ms; a grid spike at step ``t`` is read as time
``t * dt``. Matched equivalents: body delay 1 ms (grid: one step plus
``1 / dt - 1`` extra steps), input delay 0, refractory 2.5 ms (grid: the
``ceil(R / dt)`` steps after the spike step).

Per ``dt``: the share of (member, neuron) trains with the exact spike count,
the mean and largest |grid - exact| spike-time error over those trains, and
the share of exact spikes that have a grid spike within ``dt``.

Cost: a recurrent network of 100 neurons (density 0.1), 50 Poisson inputs at
20 Hz, 8 members, 1 s, timed (fastest of 3) for the precise mode (dt = 1 and 0.1 ms: ``dt``
only batches events) and for the grid mode (dt = 1 and 0.1 ms, numba kernels and
the numpy reference; numba also at dt = 0.01 ms, once, where its spike times
come near the exact ones).

Run: ``python benchmarks/precise_timing.py`` (about a minute on 2 cores); writes
``benchmarks/results/precise_timing.json``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from spikey import Network
from spikey.snn.precise import PreciseNetwork

T = 500.0
RATE = 20.0
DTS = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
REPEATS = 3  # the cost rows keep the fastest of 3 runs (the machine is shared)
OUT = os.path.join(os.path.dirname(__file__), "results", "precise_timing.json")


def config(kind: str, dt: float, batch_size: int = 4, precise: bool = True,
           kernels: str = "auto", n_in: int = 20) -> dict:
    """The workload's config; ``precise=False`` gives the grid twin (delays in steps)."""
    if kind == "feedforward":
        n, hidden, inhibitory = 13, 10, 0.0
        blocks = [{"pre": [0, n_in], "post": [0, hidden], "weight": {"uniform": [0.0, 5.0]}},
                  {"pre": [n_in, n_in + hidden], "post": [hidden, n],
                   "weight": {"uniform": [2.0, 9.0]}}]
    elif kind == "recurrent":
        n, inhibitory = 12, 0.2
        blocks = [{"pre": [0, n_in], "post": [0, n], "weight": {"uniform": [0.0, 5.0]},
                   "density": 0.6},
                  {"pre": [n_in, n_in + n], "post": [0, n], "weight": {"uniform": [0.0, 6.0]},
                   "density": 0.3}]
    else:  # the cost workload
        n, inhibitory = 100, 0.2
        blocks = [{"pre": [0, n_in], "post": [0, n], "weight": {"uniform": [0.0, 4.0]},
                   "density": 0.3},
                  {"pre": [n_in, n_in + n], "post": [0, n], "weight": {"uniform": [0.0, 4.0]},
                   "density": 0.1}]
    out = {
        "parts": {"inputs": "StaticMap", "neurons": "LIF", "weights": "Manual",
                  "readout": "Threshold"},
        "network": {"reward_mode": "none", "dt": dt, "dtype": "float64", "batch_size": batch_size,
                    "processing_steps": int(round(T / dt)), "kernels": kernels},
        "inputs": {"n_inputs": n_in, "n_patterns": 1, "train_steps": int(round(T / dt)),
                   "rate": 0.0},
        "neurons": {"n_neurons": n, "tau": 20.0, "threshold": 16.0, "refractory": 2.5,
                    "inhibitory_fraction": inhibitory},
        "weights": {"matrix": blocks, "max_weight": 10.0},
        "readout": {"n_outputs": 1},
    }
    if precise:
        out["precise"] = {"delay": max(1.0, dt), "input_delay": 0.0}
    else:
        extra = int(round(1.0 / dt)) - 1  # body rows only: inputs arrive in their own step
        out["weights"]["delays"] = [[0] * n] * n_in + [[extra] * n] * n
    return out


def grid_run(kind, dt, inputs, batch_size=4, kernels="auto", duration=T, n_in=20):
    """Grid spike times (step * dt) per (member, neuron), and the seconds the run took."""
    cfg = config(kind, dt, batch_size, precise=False, kernels=kernels, n_in=n_in)
    steps = int(round(duration / dt))
    cfg["network"]["processing_steps"] = steps
    cfg["inputs"]["train_steps"] = steps
    net = Network.from_config(cfg)
    member, index, times = inputs
    trains = np.zeros((batch_size, 1, steps, n_in), dtype=bool)
    trains[member, 0, np.minimum((times / dt).astype(np.int64), steps - 1), index] = True
    net.inputs.trains_array[...] = trains
    net.eval()
    start = time.perf_counter()
    net.tick(np.zeros(batch_size, dtype=np.int64))
    seconds = time.perf_counter() - start
    b, t, k = np.nonzero(net.tick_spikes)
    return (b, k, t * dt), seconds


def by_train(member, neuron, times, shape):
    """``{(b, k): sorted times}`` for every member and neuron."""
    out = {(b, k): [] for b in range(shape[0]) for k in range(shape[1])}
    for b, k, t in zip(member, neuron, times):
        out[(int(b), int(k))].append(float(t))
    return {key: np.sort(v) for key, v in out.items()}


def error_row(exact, grid, dt):
    """Count agreement and timing error of the grid trains against the exact ones."""
    same, errors, near, nearest, total = 0, [], 0, [], 0
    for key, e in exact.items():
        g = grid[key]
        total += e.size
        if g.size and e.size:
            distance = np.min(np.abs(e[:, None] - g[None, :]), axis=1)
            near += int(np.sum(distance <= dt + 1e-9))
            nearest.extend(distance[distance <= dt + 1e-9].tolist())
        if e.size == g.size:
            same += 1
            errors.extend(np.abs(e - g).tolist())
    errors = np.asarray(errors)
    return {"dt": dt, "trains_with_exact_count": same / len(exact),
            "mean_abs_error_ms": float(errors.mean()) if errors.size else None,
            "max_abs_error_ms": float(errors.max()) if errors.size else None,
            "exact_spikes_matched_within_dt": near / max(total, 1),
            "median_error_of_matched_ms": float(np.median(nearest)) if nearest else None,
            "exact_spikes": total}


def timing_study():
    """Grid error per dt for both workloads."""
    rows = []
    for kind in ("feedforward", "recurrent"):
        precise = PreciseNetwork.from_config(config(kind, 1.0))
        inputs = precise.poisson_inputs(RATE, T)
        trains = precise.run(T, inputs=inputs)
        fine = PreciseNetwork.from_config(config(kind, 0.1))
        fine_trains = fine.run(T, inputs=inputs)
        assert np.array_equal(fine_trains.neuron, trains.neuron)
        dt_independent = float(np.max(np.abs(fine_trains.time - trains.time)))
        shape = (precise.batch_size, precise.n_neurons)
        exact = by_train(trains.member, trains.neuron, trains.time, shape)
        for dt in DTS:
            (b, k, t), _ = grid_run(kind, dt, inputs)
            row = error_row(exact, by_train(b, k, t, shape), dt)
            row.update(workload=kind, precise_dt1_vs_dt01_max_diff_ms=dt_independent)
            rows.append(row)
            print(row, flush=True)
    return rows


def cost_study():
    """Seconds per simulated second: precise vs grid on the 100-neuron recurrent workload."""
    B, n_in, duration = 8, 50, 1000.0
    rows = []
    probe = PreciseNetwork.from_config(config("cost", 1.0, B, n_in=n_in))
    inputs = probe.poisson_inputs(RATE, duration)
    for dt in (1.0, 0.1):
        seconds = []
        for _ in range(REPEATS):
            net = PreciseNetwork.from_config(config("cost", dt, B, n_in=n_in))
            start = time.perf_counter()
            trains = net.run(duration, inputs=inputs)
            seconds.append(time.perf_counter() - start)
        seconds = min(seconds)
        rows.append({"mode": "precise", "dt": dt, "seconds": seconds,
                     "spikes": int(trains.time.size), "input_spikes": int(inputs[0].size)})
        print(rows[-1], flush=True)
    for kernels in ("auto", "numpy"):
        for dt in (1.0, 0.1, 0.01) if kernels == "auto" else (1.0, 0.1):
            if kernels == "auto":  # compile (or load the cache) outside the timing
                grid_run("cost", dt, inputs, B, kernels, duration=20.0, n_in=n_in)
            seconds = []
            for _ in range(REPEATS if dt >= 0.1 else 1):
                (b, k, t), took = grid_run("cost", dt, inputs, B, kernels, duration, n_in)
                seconds.append(took)
            seconds = min(seconds)
            rows.append({"mode": f"grid ({'numba' if kernels == 'auto' else 'numpy'})",
                         "dt": dt, "seconds": seconds, "spikes": int(b.size)})
            print(rows[-1], flush=True)
    return rows


def main():
    """Run both studies and write the JSON."""
    result = {"benchmark": "precise_timing", "duration_ms": T, "input_rate_hz": RATE,
              "error_rows": timing_study(), "cost_rows": cost_study()}
    with open(OUT, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
