"""Izhikevich (2007) distal reward network: wall time per simulated second, and for one hour.

The network of ``examples/izhikevich_2007.py`` (1,000 Izhikevich neurons,
100 synapses each, DA-STDP with eligibility traces, rewarded synapse with a
1-3 s delay) runs for ``--seconds`` of simulated time after one warm-up
second. Reported: wall seconds per simulated second, the hour extrapolated
from it (labelled as such unless ``--seconds 3600``), firing rates and the
rewards delivered, so speed is never bought with a silent network.

Run ``python benchmarks/bench_izhikevich.py [--seconds 60] [--kernels numba numpy]
[--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import izhikevich_2007  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402


def measure(seconds: float, kernels: str) -> dict:
    original = izhikevich_2007.config

    def config(seed=0):
        cfg = original(seed)
        cfg["network"]["kernels"] = kernels
        return cfg

    izhikevich_2007.config = config
    try:
        izhikevich_2007.run(1.0, verbose=False)  # warm-up: kernels compiled or loaded
        start = time.perf_counter()
        result = izhikevich_2007.run(seconds, verbose=False, report=seconds)
        wall = time.perf_counter() - start
    finally:
        izhikevich_2007.config = original
    last = result["history"][-1]
    per_second = wall / seconds
    return {"kernels": kernels, "simulated_s": seconds, "wall_s": wall,
            "wall_per_simulated_s": per_second, "hour_wall_s": per_second * 3600.0,
            "hour_extrapolated": seconds < 3600.0, "exc_rate_hz": last["exc_rate_hz"],
            "inh_rate_hz": last["inh_rate_hz"], "rewards": last["rewards"],
            "chosen_weight": last["chosen"], "others_mean": last["others_mean"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated seconds to time")
    parser.add_argument("--kernels", nargs="+", default=["numba"],
                        choices=["auto", "numba", "numpy"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = [measure(args.seconds, k) for k in args.kernels]
    print(f"{'kernels':>8} {'simulated s':>11} {'wall s':>8} {'wall/sim s':>10} "
          f"{'one hour (s)':>13} {'E Hz':>6} {'I Hz':>6} {'rewards':>7}")
    for row in rows:
        label = " (extrapolated)" if row["hour_extrapolated"] else ""
        print(f"{row['kernels']:>8} {row['simulated_s']:11.0f} {row['wall_s']:8.1f} "
              f"{row['wall_per_simulated_s']:10.4f} {row['hour_wall_s']:13.0f} "
              f"{row['exc_rate_hz']:6.2f} {row['inh_rate_hz']:6.2f} {row['rewards']:7d}{label}")
    write_json(args.json, "izhikevich_2007", rows)
    return rows


if __name__ == "__main__":
    main()
