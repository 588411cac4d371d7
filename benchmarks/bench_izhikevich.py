"""Izhikevich (2007) distal reward network: wall time per simulated second, and for one hour.

The network of ``examples/izhikevich_2007.py`` (1,000 Izhikevich neurons,
100 synapses each, DA-STDP with eligibility traces, rewarded synapse with a
1-3 s delay) runs for ``--seconds`` of simulated time after one warm-up
second. Reported: wall seconds per simulated second, the hour extrapolated
from it (labelled as such unless ``--seconds 3600``), firing rates and the
rewards delivered, so speed is never bought with a silent network.

Run ``python benchmarks/bench_izhikevich.py [--seconds 60] [--kernels numba numpy]
[--json out.json]``.

``--profile`` splits the numba run's wall time into the fused tick kernel
(``kernels.run_tick_izhikevich``, timed call by call), the Python around it, and
inside the kernel DA-STDP's dopamine-weighted weight update (every
``update_every`` steps ``w = clip(w + e * step)`` over every plastic synapse,
timed alone on the run's final arrays) next to the same update over the same
synapses stored contiguously (what a compact synapse layout would cost).

``--brian2 PYTHON`` (the interpreter of Brian2's own environment, e.g.
``/work/venv-brian2/bin/python``) times whole processes instead, interleaved
``--repeats`` times: Spikey (``python examples/izhikevich_2007.py``'s ``run`` in
a fresh interpreter: import, network build, numba compile or cache load, the
simulation) once with an empty numba cache (``cold``: every kernel compiled) and
once with the usual one (``warm``), then ``peers/brian2_izhikevich.py`` (C++
standalone: import, code generation, ``make -j1``, the binary). Each row gives
the wall time from process start to results (``process_s``) and its parts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

_START = time.perf_counter()
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import izhikevich_2007  # noqa: E402

IMPORT_S = time.perf_counter() - _START  # spikey and the example

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
        start, cpu = time.perf_counter(), time.process_time()
        result = izhikevich_2007.run(seconds, verbose=False, report=seconds)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        izhikevich_2007.config = original
    last = result["history"][-1]
    per_second = wall / seconds
    return {"kernels": kernels, "simulated_s": seconds, "wall_s": wall,
            "wall_per_simulated_s": per_second, "cpu_per_simulated_s": cpu / seconds,
            "hour_wall_s": per_second * 3600.0,
            "hour_extrapolated": seconds < 3600.0, "exc_rate_hz": last["exc_rate_hz"],
            "inh_rate_hz": last["inh_rate_hz"], "rewards": last["rewards"],
            "chosen_weight": last["chosen"], "others_mean": last["others_mean"]}


def _time_calls(function, args, repeats: int = 200) -> float:
    """Mean seconds per call of ``function(*args)`` after one warm call."""
    function(*args)
    start = time.perf_counter()
    for _ in range(repeats):
        function(*args)
    return (time.perf_counter() - start) / repeats


def profile(seconds: float) -> dict:
    """Where a simulated second goes with numba kernels (see the module docstring)."""
    import inspect

    import numba
    import numpy as np
    from spikey.snn import kernels

    names = list(inspect.signature(kernels._run_tick_izhikevich).parameters)
    fused = kernels.run_tick_izhikevich
    spent, captured = [0.0, 0], {}

    def timed(*args):
        start = time.perf_counter()
        fused(*args)
        spent[0] += time.perf_counter() - start
        spent[1] += 1
        captured["args"] = args

    kernels.run_tick_izhikevich = timed
    try:
        row = measure(1.0, "numba")  # warm-up and a first row; then the timed one
        spent[:] = [0.0, 0]
        row = measure(seconds, "numba")
    finally:
        kernels.run_tick_izhikevich = fused
    if not captured:
        raise RuntimeError("the fused Izhikevich tick did not run: nothing to profile")
    a = dict(zip(names, captured["args"]))
    weights, eligibility = a["w_matrix"].copy(), a["target"].copy()
    index, starts, step = a["w_index"], a["w_starts"], a["step_cast"].copy()
    members = np.arange(weights.shape[0], dtype=np.int64)
    update_s = _time_calls(kernels.apply_eligibility,
                           (weights, eligibility, index, starts, members, step, a["w_low"],
                            a["w_high"], a["w_dense"]))

    @numba.njit(cache=False)
    def contiguous(w, e, s, low, high):  # apply_eligibility's operations, one member
        for x in range(w.size):
            value = e[x] * s
            value += w[x]
            w[x] = min(max(value, low), high)

    flat = weights.reshape(weights.shape[0], -1)[0]
    compact_w = flat[index[starts[0]:starts[1]]].copy()
    compact_e = eligibility.reshape(weights.shape[0], -1)[0][index[starts[0]:starts[1]]].copy()
    compact_s = _time_calls(contiguous, (compact_w, compact_e, step[0], a["w_low"],
                                         a["w_high"])) * weights.shape[0]
    dt_ms = float(izhikevich_2007.config()["network"]["dt"])
    updates = 1000.0 / dt_ms / int(a["update_every"])  # per simulated second
    row.update({"kernel_per_simulated_s": spent[0] / seconds,
                "outside_kernel_per_simulated_s": row["wall_per_simulated_s"]
                - spent[0] / seconds,
                "plastic_synapses": int(index.size), "weight_update_us": update_s * 1e6,
                "weight_updates_per_simulated_s": updates,
                "weight_update_per_simulated_s": update_s * updates,
                "compact_update_us": compact_s * 1e6,
                "compact_update_per_simulated_s": compact_s * updates})
    return row


HERE = os.path.dirname(os.path.abspath(__file__))


def process_row(seconds: float, seed: int) -> dict:
    """Run inside a fresh interpreter (``--process``): the example's ``run`` from import on."""
    start, cpu = time.perf_counter(), time.process_time()
    result = izhikevich_2007.run(seconds, seed=seed, verbose=False, report=seconds)
    last = result["history"][-1]
    return {"framework": "spikey", "seed": seed, "simulated_s": seconds,
            "import_s": IMPORT_S, "run_s": time.perf_counter() - start,
            "run_cpu_s": time.process_time() - cpu,
            "loop_s": last["wall_s"], "exc_rate_hz": last["exc_rate_hz"],
            "inh_rate_hz": last["inh_rate_hz"], "rewards": last["rewards"],
            "chosen_weight": last["chosen"], "others_mean": last["others_mean"],
            "others_at_max": last["others_at_max"]}


def child(command: list, env: dict | None = None, timeout: float = 7200.0) -> dict:
    """Run ``command`` (which writes one JSON row to the path it is given last); time it."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command + [out], capture_output=True, text=True, env=env,
                              timeout=timeout)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return {"error": f"exit {done.returncode}: " + " | ".join(tail)}
        with open(out, encoding="utf-8") as handle:
            row = json.load(handle)
    finally:
        os.unlink(out)
    row["process_s"] = wall  # the whole process, interpreter start-up included
    # CPU seconds of the process and everything it waited for (Brian2: make and g++)
    row["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return row


def compare(seconds: float, seed: int, repeats: int, brian2: str, niceness: int,
            caches=("cold", "warm")) -> list:
    """Spikey (``caches``: with an empty and/or the usual numba cache) and Brian2 C++
    standalone, interleaved."""
    nice = ["nice", "-n", str(niceness)] if niceness else []
    spikey_cmd = nice + [sys.executable, os.path.abspath(__file__), "--seconds", str(seconds),
                         "--seed", str(seed), "--process"]
    brian2_cmd = nice + [brian2, os.path.join(HERE, "peers", "brian2_izhikevich.py"),
                         "--seconds", str(seconds), "--seed", str(seed), "--json"]
    rows = []
    for repeat in range(repeats):
        done = []
        if "cold" in caches:
            cache = tempfile.mkdtemp(prefix="spikey_numba_cold_")
            try:
                done.append(("spikey cold",
                             child(spikey_cmd, env={**os.environ, "NUMBA_CACHE_DIR": cache})))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        if "warm" in caches:
            done.append(("spikey warm", child(spikey_cmd)))
        done.append(("brian2", child(brian2_cmd)))
        for label, row in done:
            row.update({"label": label, "repeat": repeat, "load_avg_1min": os.getloadavg()[0]})
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def summary(rows: list) -> dict:
    """Medians per label and the same-repeat ratios of total time (Spikey / Brian2)."""
    out = {}
    for label in ("spikey cold", "spikey warm", "brian2"):
        mine = [r for r in rows if r.get("label") == label and "error" not in r]
        if mine:
            out[label] = {key: statistics.median(r[key] for r in mine)
                          for key in ("process_s", "process_cpu_s", "exc_rate_hz",
                                      "inh_rate_hz", "others_mean") if key in mine[0]}
    for label in ("spikey cold", "spikey warm"):
        for key in ("process_s", "process_cpu_s"):
            ratios = []
            for repeat in sorted({r["repeat"] for r in rows}):
                pair = [r for r in rows if r.get("repeat") == repeat and "error" not in r
                        and r["label"] in (label, "brian2") and key in r]
                if len(pair) == 2:
                    a, b = sorted(pair, key=lambda r: r["label"] != label)
                    ratios.append(a[key] / b[key])
            if ratios:
                out[f"{label} / brian2 ({key}, same repeat)"] = ratios
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated seconds to time")
    parser.add_argument("--kernels", nargs="+", default=["numba"],
                        choices=["auto", "numba", "numpy"])
    parser.add_argument("--json", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--brian2", default=None, metavar="PYTHON",
                        help="Brian2's interpreter: time whole processes against Brian2")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds (--brian2)")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the children (--brian2)")
    parser.add_argument("--caches", nargs="+", default=["cold", "warm"], choices=["cold", "warm"],
                        help="Spikey runs per round (--brian2): empty and/or usual numba cache")
    parser.add_argument("--profile", action="store_true",
                        help="split the numba run: tick kernel, Python around it, weight update")
    parser.add_argument("--process", nargs=1, metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"--seconds must be > 0, got {args.seconds}")
    if args.process:
        with open(args.process[0], "w", encoding="utf-8") as handle:
            json.dump(process_row(args.seconds, args.seed), handle)
        return []
    if args.brian2:
        if args.repeats < 1:
            parser.error(f"--repeats must be >= 1, got {args.repeats}")
        if not (os.path.isfile(args.brian2) and os.access(args.brian2, os.X_OK)):
            parser.error(f"--brian2 {args.brian2!r} is not an executable file; expected the "
                         "python of Brian2's environment (benchmarks/peers/setup_brian2.sh)")
        rows = compare(args.seconds, args.seed, args.repeats, args.brian2, args.nice,
                       args.caches)
        result = summary(rows)
        print(json.dumps(result, indent=1))
        write_json(args.json, "izhikevich_2007_vs_brian2", rows, summary=result,
                   simulated_s=args.seconds, cpus=os.cpu_count())
        return rows
    if args.profile:
        row = profile(args.seconds)
        wall = row["wall_per_simulated_s"]
        print(f"per simulated second (numba, {row['simulated_s']:g} s simulated, "
              f"load {os.getloadavg()[0]:.2f}):")
        for key, label in (("wall_per_simulated_s", "wall"),
                           ("kernel_per_simulated_s", "fused tick kernel"),
                           ("outside_kernel_per_simulated_s", "Python around the kernel"),
                           ("weight_update_per_simulated_s",
                            "  of the kernel: dopamine weight update (timed alone)"),
                           ("compact_update_per_simulated_s",
                            "  the same update on contiguous synapses")):
            print(f"  {label:<55} {row[key] * 1e3:8.2f} ms  {row[key] / wall:6.1%}")
        print(f"  {row['plastic_synapses']} plastic synapses, "
              f"{row['weight_updates_per_simulated_s']:g} updates per simulated second: "
              f"{row['weight_update_us']:.1f} us each ({row['compact_update_us']:.1f} us "
              "contiguous)")
        write_json(args.json, "izhikevich_2007_profile", [row])
        return [row]
    rows = [measure(args.seconds, k) for k in args.kernels]
    print(f"{'kernels':>8} {'simulated s':>11} {'wall s':>8} {'wall/sim s':>10} {'cpu/sim s':>9} "
          f"{'one hour (s)':>13} {'E Hz':>6} {'I Hz':>6} {'rewards':>7}")
    for row in rows:
        label = " (extrapolated)" if row["hour_extrapolated"] else ""
        print(f"{row['kernels']:>8} {row['simulated_s']:11.0f} {row['wall_s']:8.1f} "
              f"{row['wall_per_simulated_s']:10.4f} {row['cpu_per_simulated_s']:9.4f} "
              f"{row['hour_wall_s']:13.0f} "
              f"{row['exc_rate_hz']:6.2f} {row['inh_rate_hz']:6.2f} {row['rewards']:7d}{label}")
    write_json(args.json, "izhikevich_2007", rows)
    return rows


if __name__ == "__main__":
    main()
