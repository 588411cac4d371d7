"""Spike-count error of the Izhikevich step against a fine ODE solution, per preset.

Each preset is driven by a constant current ``I`` for ``duration`` ms from
``v = -65, u = b v``; the reference integrates the same ODE with the same reset
rule (``v >= 30`` -> ``v = c, u += d``) by forward Euler at ``h = 0.001`` ms
(checked against ``h = 0.0005`` ms). Spikey runs at ``dt`` = 1, 0.5, 0.1 and 0.01 ms with
its default sub-steps (``ceil(dt / max_substep)``: 2, 1, 1, 1) and, at ``dt = 1``, with
``substeps`` = 1, 10 and 100, to show what the key buys.

Run: ``python benchmarks/izhikevich_substeps.py`` (about a minute); writes
``benchmarks/results/izhikevich_substeps.json``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from spikey import Network
from spikey.snn.neuron.izhikevich import PEAK, PRESETS

CURRENT = 10.0
DURATION = 1000.0  # ms
RUNS = [(1.0, None), (0.5, None), (0.1, None), (0.01, None), (1.0, 1), (1.0, 10), (1.0, 100)]


def reference_counts(h: float) -> dict:
    """Spikes of every preset in DURATION ms: forward Euler at step h with v, u updated together."""
    names = list(PRESETS)
    a, b, c, d = (np.array([PRESETS[p][i] for p in names]) for i in range(4))
    v = np.full(len(names), -65.0)
    u = b * v
    counts = np.zeros(len(names), dtype=int)
    n_steps = int(round(DURATION / h))
    try:
        import numba

        @numba.njit(cache=False)
        def run(v, u, counts):
            for _ in range(n_steps):
                for k in range(v.size):
                    dv = 0.04 * v[k] * v[k] + 5.0 * v[k] + 140.0 - u[k] + CURRENT
                    du = a[k] * (b[k] * v[k] - u[k])
                    v[k] += h * dv
                    u[k] += h * du
                    if v[k] >= PEAK:
                        v[k] = c[k]
                        u[k] += d[k]
                        counts[k] += 1
        run(v, u, counts)
    except ImportError:  # pragma: no cover - numpy fallback (slow: minutes)
        for _ in range(n_steps):
            dv = 0.04 * v * v + 5.0 * v + 140.0 - u + CURRENT
            du = a * (b * v - u)
            v += h * dv
            u += h * du
            fired = v >= PEAK
            v[fired] = c[fired]
            u[fired] += d[fired]
            counts += fired
    return dict(zip(names, counts.tolist()))


def spikey_count(preset: str, dt: float, substeps) -> int:
    """Spikes of one Spikey Izhikevich neuron under the constant current."""
    neurons = {"n_neurons": 1, "preset": preset}
    if substeps is not None:
        neurons["substeps"] = substeps
    config = {
        "parts": {"inputs": "RateMap", "neurons": "Izhikevich", "weights": "Random",
                  "readout": "Threshold"},
        "network": {"processing_steps": 10, "batch_size": 1, "seed": 0, "dt": dt,
                    "reward_mode": "none", "dtype": "float64"},
        "inputs": {"n_inputs": 1, "n_dims": 1, "rate_map": [0.0, 0.0]},
        "neurons": neurons,
        "weights": {"low": 0.0, "high": 1.0, "density": 1.0},
        "readout": {"n_outputs": 1},
    }
    net = Network.from_config(config)
    net.neurons.reset()
    drive = np.full((1, 1), CURRENT)
    return int(sum(int(net.neurons.step(drive)[0, 0]) for _ in range(int(round(DURATION / dt)))))


def main() -> dict:
    start = time.perf_counter()
    reference = reference_counts(0.001)
    check = reference_counts(0.0005)
    rows = []
    for preset in PRESETS:
        row = {"preset": preset, "reference": reference[preset],
               "reference_h_0.0005": check[preset]}
        for dt, substeps in RUNS:
            label = f"dt={dt:g}" + ("" if substeps is None else f",substeps={substeps}")
            row[label] = spikey_count(preset, dt, substeps)
        rows.append(row)
    result = {"current": CURRENT, "duration_ms": DURATION,
              "reference": "forward Euler, h = 0.001 ms, same reset rule",
              "rows": rows, "seconds": round(time.perf_counter() - start, 1)}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                        "izhikevich_substeps.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(result, handle, indent=1)
    labels = [k for k in rows[0] if k != "preset"]
    print("preset | " + " | ".join(labels))
    for row in rows:
        print(row["preset"] + " | " + " | ".join(str(row[k]) for k in labels))
    return result


if __name__ == "__main__":
    main()
