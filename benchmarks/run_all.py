"""Run every benchmark in one go, peers included, and write the results.

Our benchmark modules (``benchmarks/bench_*.py``, listed in ``REGISTRY``) run in
this process, one after another, each through its ``main(argv)``; a module
that does not exist yet is skipped. When the Brian2 environment exists
(``bash benchmarks/peers/setup_brian2.sh``), ``peers/brian2_reference.py`` runs
with that environment's interpreter right after our reference workload, so the
ratios ours/theirs compare numbers taken minutes apart on the same machine.

Writes ``benchmarks/results/results.json`` (machine, versions, date, every row)
and ``benchmarks/results/results.md`` (tables, targets).

Run ``python benchmarks/run_all.py [--quick] [--only NAME ...] [--skip NAME ...]
[--no-peers] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import inspect
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
DEFAULT_BRIAN2_VENV = os.path.join(PEERS, ".venv-brian2")
REFERENCE_VARIANTS = ("dense", "dense + STDP", "10% sparse", "10% sparse + STDP")
#: the same with LIF -> LIF synapses (bench_reference.py --recurrent)
RECURRENT_VARIANTS = tuple(f"{v} + recurrent" for v in REFERENCE_VARIANTS)
#: issue 19: at least this many times Brian2 C++ standalone's steps/s, every variant
STANDALONE_FACTOR = 2.0
#: steps/s floors of the reference workload (README "Targets")
REFERENCE_FLOORS = {"dense": 20_000, "dense + STDP": 3_000, "10% sparse": 37_000,
                    "10% sparse + STDP": 6_500}
BRIAN2_MODES = ("numpy", "cython", "cpp_standalone")


@dataclass
class Bench:
    """One benchmark module and the arguments it gets here.

    ``args``/``quick`` are grouped ``--flag value...`` lists; flags the module's
    parser does not list are dropped (modules evolve). ``heavy`` modules are
    skipped by ``--quick`` when none of their quick flags is understood, since
    their defaults may run for minutes. ``default`` False: only with ``--only``.
    """

    name: str
    module: str
    title: str
    args: list = field(default_factory=list)
    quick: list = field(default_factory=list)
    heavy: bool = False
    default: bool = True


REGISTRY = [
    Bench("reference", "bench_reference", "Reference workload (1,000 Poisson -> 1,000 LIF, 1 s)",
          ["--repeats", "5", "--recurrent"], ["--repeats", "1"]),
    Bench("xor", "bench_xor", "Florian XOR network step, batch scaling",
          ["--batch", "1", "8", "64", "256", "--ticks", "8", "--repeats", "7", "--threads", "2"],
          ["--batch", "1", "64", "--ticks", "2", "--repeats", "2"]),
    Bench("games", "bench_games", "Environment + network steps/s (Logic, CartPole)",
          ["--batch", "1", "16", "256", "--repeats", "5", "--budget", "0.5"],
          ["--batch", "1", "16", "--repeats", "2", "--budget", "0.1"]),
    Bench("ga_batched", "bench_ga_batched", "GA generation of XOR networks: batched vs one by one",
          ["--size", "64"], ["--size", "8"]),
    Bench("scaling", "bench_scaling", "Size scaling at fan-in 100: time per step, memory",
          ["--sizes", "100", "300", "1000", "3000", "10000", "--rates", "5", "20", "50",
           "--repeats", "3"],
          ["--sizes", "100", "1000", "--rates", "20", "--repeats", "1"], heavy=True),
    Bench("izhikevich", "bench_izhikevich", "Izhikevich (2007) distal reward, simulated time",
          ["--seconds", "120"], ["--seconds", "5"], heavy=True),
    Bench("closed_loop", "bench_closed_loop", "Closed loop: network tick + CartPole step per call",
          ["--ticks-ms", "1", "2", "5", "10", "20", "--calls", "2000", "--repeats", "5"],
          ["--ticks-ms", "1", "10", "--calls", "200", "--repeats", "2"]),
    Bench("classification", "bench_classification",
          "Digits routes (unsupervised STDP, R-STDP, GA, BPTT): samples/s at B = 1 and 64, the "
          "unsupervised route's training time",
          ["--batch", "1", "64", "--repeats", "3", "--route-time"],
          ["--batch", "1", "--routes", "stdp", "ga", "--samples", "10", "--repeats", "1"],
          heavy=True),
    Bench("rl_batch", "bench_rl",
          "RL training cost: 16 actor-critic members vs one (spikey/CartPole-v0)",
          ["--batch-cost"], ["--batch-cost", "--quick"]),
    Bench("rl", "bench_rl", "RL: spiking actor-critic vs GA, numpy actor-critic, random policy "
          "(hours on 2 cores; --quick about 30 s)", [], ["--quick"], default=False),
    Bench("ray", "bench_ray", "Ray Train overhead vs the local loop (starts a Ray cluster)",
          default=False),
]


class Tee(io.TextIOBase):
    """Write to the terminal and keep a copy (a module's printout is part of its result)."""

    def __init__(self, stream):
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text):
        self.stream.write(text)
        self.copy.write(text)
        return len(text)

    def flush(self):
        self.stream.flush()


def flag_groups(args: list) -> list:
    """``["--a", "1", "2", "--b"]`` -> ``[["--a", "1", "2"], ["--b"]]``."""
    groups = []
    for token in args:
        if token.startswith("--") or not groups:
            groups.append([token])
        else:
            groups[-1].append(token)
    return groups


def known_flags(main):
    """Option strings of a module's parser (from its ``--help``); None if main takes no argv."""
    if not inspect.signature(main).parameters:
        return None
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(["--help"])
        except SystemExit:
            pass
    return set(re.findall(r"(?<![\w-])--[A-Za-z][\w-]*", text.getvalue()))


def run_bench(bench: Bench, quick: bool) -> dict:
    result = {"name": bench.name, "module": bench.module, "title": bench.title}
    path = os.path.join(HERE, bench.module + ".py")
    if not os.path.exists(path):
        result["skipped"] = "module not present"
        return result
    try:
        module = importlib.import_module(bench.module)
        flags = known_flags(module.main)
    except Exception:  # a broken module must not stop the others
        result["error"] = traceback.format_exc(limit=3)
        return result
    wanted = bench.quick if quick else bench.args
    groups = flag_groups(wanted)
    kept = [g for g in groups if flags is not None and g[0] in flags]
    dropped = [g[0] for g in groups if g not in kept]
    if quick and bench.heavy and groups and not kept:
        result["skipped"] = f"--quick: module understands none of {dropped}"
        return result
    argv = [token for group in kept for token in group]
    if dropped:
        result["dropped_args"] = dropped
    json_path = None
    if flags is not None and "--json" in flags:
        handle, json_path = tempfile.mkstemp(suffix=".json")
        os.close(handle)
        argv += ["--json", json_path]
    result["argv"] = [a for a in argv if a != json_path and a != "--json"]
    print(f"\n=== {bench.name}: {bench.module} {' '.join(result['argv'])}", flush=True)
    tee = Tee(sys.stdout)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(tee):
            returned = module.main(argv) if flags is not None else module.main()
        rows = returned if isinstance(returned, list) else None
        if json_path and os.path.getsize(json_path):
            with open(json_path, encoding="utf-8") as handle:
                written = json.load(handle)
            rows = rows if rows is not None else written.get("rows")
            extra = {k: v for k, v in written.items() if k != "rows"}
            if extra:
                result["meta"] = extra
        result["rows"] = rows
    except BaseException as error:  # SystemExit from argparse included
        if isinstance(error, KeyboardInterrupt):
            raise
        result["error"] = "".join(traceback.format_exception(error, limit=4))
    finally:
        result["wall_s"] = time.perf_counter() - start
        result["stdout"] = tee.copy.getvalue()
        if json_path:
            os.unlink(json_path)
    return result


def brian2_python(venv: str):
    python = os.path.join(venv, "bin", "python")
    return python if os.path.exists(python) else None


def run_brian2(python: str, quick: bool) -> dict:
    args = (["--repeats", "1", "--modes", "numpy"] if quick
            else ["--repeats", "3", "--recurrent"])
    result = {"name": "brian2", "framework": "brian2", "python": python, "argv": args}
    print(f"\n=== peers: Brian2 ({python}) {' '.join(args)}", flush=True)
    handle, json_path = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    start = time.perf_counter()
    try:
        done = subprocess.run([python, os.path.join(PEERS, "brian2_reference.py"), *args,
                               "--json", json_path])
        if done.returncode == 0:
            with open(json_path, encoding="utf-8") as handle:
                result["rows"] = json.load(handle)["rows"]
        else:
            result["error"] = f"exit status {done.returncode}"
    finally:
        result["wall_s"] = time.perf_counter() - start
        os.unlink(json_path)
    return result


def version_of(name: str):
    try:
        return importlib.import_module(name).__version__
    except Exception:
        return None


def machine_info() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                            capture_output=True, text=True).stdout.strip() or None
    # Uncommitted engine changes mean the commit alone does not say what was measured.
    dirty = subprocess.run(["git", "status", "--porcelain", "--", ":/spikey"], cwd=HERE,
                           capture_output=True, text=True).stdout.strip()
    cpu_model = None
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = re.findall(r"^model name\s*:\s*(.+)$", handle.read(), re.M)
        cpu_model = names[0] if names else None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(), "machine": platform.machine(),
        "cpu": cpu_model or platform.processor() or None, "cpu_count": os.cpu_count(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "numpy": version_of("numpy"),
        "numba": version_of("numba"), "spikey": version_of("spikey"), "git_commit": commit,
        "spikey_uncommitted_changes": bool(dirty) if commit else None,
    }


# ----------------------------------------------------------------------------- markdown


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:
            return "—"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def table(header: list, rows: list) -> list:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return lines


def rows_table(rows: list) -> list:
    """A table of dict rows, columns in first-seen order."""
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return table(keys, [[row.get(k) for k in keys] for row in rows])


def spikey_paths(rows: list) -> dict:
    """Reference rows by engine path: ``{"Spikey numba": {variant: row}, ...}``, first path first.

    The first path listed is the one the benchmark measures first (the default engine);
    ratios and floors use it.
    """
    paths = {}
    for row in rows:
        label = f"Spikey {row['kernels']}" if row.get("kernels") else "Spikey"
        # a variant measured with several weight storages (dense matrix, SparseFanIn)
        # counts with its fastest one; the table says which
        variant = row["variant"].replace(" (fan-in)", "")
        best = paths.setdefault(label, {}).get(variant)
        if best is None or row["steps_per_s"] > best["steps_per_s"]:
            paths[label][variant] = row
    return paths


def reference_section(ours: dict, brian2: dict) -> list:
    paths = spikey_paths((ours or {}).get("rows") or [])
    primary = next(iter(paths), "Spikey")
    spikey = paths.get(primary, {})
    theirs = {}
    for row in (brian2 or {}).get("rows") or []:
        if not row.get("error"):
            theirs.setdefault(row["mode"], {})[row["variant"]] = row
    modes = [m for m in BRIAN2_MODES if m in theirs]
    columns = list(paths) or [primary]
    lines = ["## Reference workload: 1,000 Poisson inputs (20 Hz) -> 1,000 LIF, dt 1 ms, 1 s", "",
             "Steps per second (simulation loop only; median of repeats), this run. Brian2 C++ "
             "standalone reports its loop's CPU time (std::clock), so the ratios to it use "
             f"{primary}'s CPU steps/s (its thread's CPU clock); the others are wall time. Ratios and "
             f"floors use {primary}:", ""]
    header = ["variant"] + columns + [f"{primary} storage"] + [f"Brian2 {m}" for m in modes]
    header += [f"{primary} / Brian2 {m}" for m in modes] + ["floor", "floor met"]
    header += [f">= {STANDALONE_FACTOR:g}x C++ standalone"] if "cpp_standalone" in modes else []
    variants = [v for v in REFERENCE_VARIANTS + RECURRENT_VARIANTS
                if v in spikey or any(v in theirs[m] for m in modes)]
    body = []
    for variant in variants:
        ours_sps = spikey.get(variant, {}).get("steps_per_s")
        # Brian2 standalone's loop time is std::clock, CPU time: compare Spikey's CPU steps/s
        ours_cpu = spikey.get(variant, {}).get("cpu_steps_per_s") or ours_sps
        cells = [variant] + [paths.get(c, {}).get(variant, {}).get("steps_per_s")
                             for c in columns] + [spikey.get(variant, {}).get("storage")]
        cells += [theirs[m].get(variant, {}).get("steps_per_s") for m in modes]
        for m in modes:
            their_sps = theirs[m].get(variant, {}).get("steps_per_s")
            mine = ours_cpu if m == "cpp_standalone" else ours_sps
            cells.append(f"{mine / their_sps:.2f}x" if mine and their_sps else None)
        floor = REFERENCE_FLOORS.get(variant)
        cells += [floor, None if ours_sps is None or floor is None else ours_sps >= floor]
        if "cpp_standalone" in modes:
            their_sps = theirs["cpp_standalone"].get(variant, {}).get("steps_per_s")
            cells.append(ours_cpu / their_sps >= STANDALONE_FACTOR
                         if ours_cpu and their_sps else None)
        body.append(cells)
    lines += table(header, body)
    lines += ["", "Mean output firing rate (Hz), to check the workloads match:", ""]
    lines += table(["variant"] + columns + [f"Brian2 {m}" for m in modes],
                   [[v] + [paths.get(c, {}).get(v, {}).get("rate_hz") for c in columns]
                    + [theirs[m].get(v, {}).get("rate_hz") for m in modes]
                    for v in variants])
    if modes:
        lines += ["", "Brian2 compile time (s; code generation + compilation, excluded above) and "
                  "steps/s of a whole `run()` call (per-call set-up included, runtime targets):",
                  ""]
        body = []
        for m in modes:
            for v in variants:
                row = theirs[m].get(v)
                if row:
                    call = row.get("run_call_s")
                    body.append([m, v, row.get("compile_s"), row.get("cython_modules_compiled"),
                                 1000.0 / call if call else None])
        lines += table(["mode", "variant", "compile_s", "cython modules compiled",
                        "steps/s per run() call"], body)
        row = next(iter(next(iter(theirs.values())).values()))
        lines += ["", f"Brian2 {row.get('brian2')} with numpy {row.get('numpy')} in its own "
                  "environment; C++ standalone single-threaded."]
    failed = [r for r in (brian2 or {}).get("rows") or [] if r.get("error")]
    for row in failed:
        lines.append(f"- Brian2 {row['mode']} / {row['variant']} failed: {row['error']}")
    if brian2 is None:
        lines += ["", "Brian2 not run (no environment: `bash benchmarks/peers/setup_brian2.sh`)."]
    elif brian2.get("error"):
        lines += ["", f"Brian2 run failed: {brian2['error']}"]
    return lines


def targets_section(by_name: dict) -> list:
    def rows(name):
        return (by_name.get(name) or {}).get("rows") or []

    checks = []
    paths = spikey_paths(rows("reference"))
    primary = next(iter(paths), None)
    for variant, row in (paths.get(primary) or {}).items():
        floor = REFERENCE_FLOORS.get(variant)
        if floor:
            checks.append([f"reference {variant} ({primary})", f">= {floor:,} steps/s",
                           f"{row['steps_per_s']:,.0f}", row["steps_per_s"] >= floor])
    xor = {r["batch_size"]: r for r in rows("xor")}
    if 1 in xor:
        us = xor[1]["median_us_per_step"]
        checks.append(["XOR step, B = 1", "<= 20 µs", f"{us:.1f} µs", us <= 20.0])
        if "ratio_to_numpy_loop" in xor[1]:
            ratio = xor[1]["ratio_to_numpy_loop"]
            checks.append(["XOR step, B = 1 vs a hand-written numpy loop (same run)", "<= 1.0x",
                           f"{ratio:.2f}x ({xor[1]['numpy_loop_us_per_step']:.1f} µs)",
                           ratio <= 1.0])
        if 64 in xor:
            member = xor[64]["median_us_per_step"] / 64
            checks.append(["XOR step, B = 64, per member", "<= 1 µs", f"{member:.2f} µs",
                           member <= 1.0])
            if "thread_speedup" in xor[64]:
                speedup = xor[64]["thread_speedup"]
                checks.append([f"XOR step, B = 64, {xor[64]['threads']} threads vs 1", ">= 1.7x",
                               f"{speedup:.2f}x", speedup >= 1.7])
    for row in rows("closed_loop"):
        goal = {1: 0.25, 20: 0.05}.get(row.get("tick_ms"))
        if goal is not None and "overhead_share" in row:
            checks.append([f"closed loop, {row['tick_ms']} ms tick: overhead / network time",
                           f"<= {goal:.0%}", f"{row['overhead_share']:.0%}",
                           row["overhead_share"] <= goal])
    for row in rows("rl_batch"):
        if row.get("kind") == "batch_cost_ratio":
            checks.append([f"RL training, B = 16 vs B = 1 per network tick ({row['regime']})",
                           "<= 4x", f"{row['per_tick_ratio']:.2f}x (wall {row['wall_ratio']:.2f}x)",
                           row["met"]])
    for row in rows("scaling"):
        if (row.get("n_neurons") == 10_000 and row.get("storage") == "sparse"
                and row.get("input_rate_hz") == 20.0 and "arrays_mb" in row):
            added = row["rss_mb"] - row["rss_import_mb"]
            checks.append(["N = 10,000 sparse, fan-in 100 (numpy arrays)", "<= 200 MB",
                           f"{row['arrays_mb']:.0f} MB (process RSS +{added:.0f} MB after "
                           "import)", row["arrays_mb"] <= 200.0])
    for row in rows("izhikevich"):
        if row.get("kernels", "numba") in ("numba", "auto") and "hour_wall_s" in row:
            label = " (extrapolated)" if row.get("hour_extrapolated") else ""
            checks.append([f"Izhikevich (2007) one simulated hour, {row['simulated_s']:.0f} s "
                           "measured", "<= 300 s", f"{row['hour_wall_s']:.0f} s{label}",
                           row["hour_wall_s"] <= 300.0])
    for row in ((by_name.get("classification") or {}).get("meta") or {}).get("route_time", []):
        if row.get("batch_size") == 5:
            checks.append(["unsupervised digits route, 5 seeds' training as one batch "
                           "(issue 17)", "<= 120 s", f"{row['train_seconds']:.0f} s",
                           row["train_seconds"] <= 120.0])
    lines = ["## Targets", ""]
    lines += (table(["target", "goal", "measured", "met"], checks) if checks
              else ["None of the benchmarks that measure them ran."])
    return lines


def load(values) -> str:
    return " / ".join(f"{x:.1f}" for x in values) if values else "unknown"


def markdown(results: dict) -> str:
    info = results["machine"]
    by_name = {b["name"]: b for b in results["benchmarks"]}
    brian2 = next((p for p in results["peers"] if p["name"] == "brian2"), None)
    lines = ["# Benchmark results", "",
             f"{info['date']} · {info['cpu'] or info['machine']} · {info['cpu_count']} CPUs · "
             f"Python {info['python']} · numpy {info['numpy']} · numba {info['numba']} · "
             f"commit {info['git_commit']}"
             + (" plus uncommitted changes to spikey/" if info.get("spikey_uncommitted_changes")
                else "")
             + (" · **quick run**" if results["quick"] else ""),
             "", "Other processes may share the CPUs (1/5/15-minute load average at start "
             f"{load(info.get('load_average_start'))}, at end {load(info.get('load_average_end'))})"
             "; every number is a median of repeats, all from this one run.", ""]
    lines += reference_section(by_name.get("reference"), brian2) + [""]
    lines += targets_section(by_name) + [""]
    for bench in results["benchmarks"]:
        if bench["name"] == "reference" and bench.get("rows"):
            continue
        lines += [f"## {bench['title']} (`{bench['module']}`)", ""]
        if bench.get("skipped"):
            lines += [f"Skipped: {bench['skipped']}.", ""]
            continue
        lines += [f"Arguments: `{' '.join(bench.get('argv') or []) or '(defaults)'}`; "
                  f"{bench['wall_s']:.1f} s wall.", ""]
        if bench.get("error"):
            lines += ["Failed:", "", "```", bench["error"].strip(), "```", ""]
        elif bench.get("rows"):
            lines += rows_table(bench["rows"]) + [""]
        else:
            lines += ["```", bench.get("stdout", "").strip(), "```", ""]
    return "\n".join(lines)


def write_markdown(results: dict, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown(results) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small arguments everywhere, Brian2 numpy target only: a smoke run")
    names = [b.name for b in REGISTRY]
    parser.add_argument("--only", nargs="+", choices=names, help="run just these benchmarks")
    parser.add_argument("--skip", nargs="+", choices=names, default=[])
    parser.add_argument("--no-peers", action="store_true", help="do not run Brian2")
    parser.add_argument("--brian2-venv", default=os.environ.get("BRIAN2_VENV", DEFAULT_BRIAN2_VENV))
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="results folder")
    parser.add_argument("--render", metavar="JSON",
                        help="run nothing: rewrite results.md in --out from this results.json")
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render, encoding="utf-8") as handle:
            results = json.load(handle)
        write_markdown(results, args.out)
        return results

    sys.path.insert(0, HERE)
    results = {"machine": machine_info(), "quick": args.quick, "benchmarks": [], "peers": []}
    chosen = [b for b in REGISTRY if (b.name in args.only if args.only else b.default)
              and b.name not in args.skip]
    python = None if args.no_peers else brian2_python(args.brian2_venv)
    if not python and not args.no_peers:
        print(f"\n=== peers: no Brian2 environment at {args.brian2_venv} "
              "(bash benchmarks/peers/setup_brian2.sh)", flush=True)
    for bench in chosen:
        result = run_bench(bench, args.quick)
        results["benchmarks"].append(result)
        if result.get("skipped"):
            print(f"\n=== {bench.name}: skipped ({result['skipped']})", flush=True)
        if bench.name == "reference" and python:
            # Right after ours, so both sides of each ratio see about the same machine load.
            results["peers"].append(run_brian2(python, args.quick))
            python = None
    if python:  # the reference workload was not among the chosen benchmarks
        results["peers"].append(run_brian2(python, args.quick))
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_end"] = list(os.getloadavg())

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, default=str)
    write_markdown(results, args.out)
    print(f"\nwrote {args.out}/results.json and results.md", flush=True)
    return results


if __name__ == "__main__":
    main()
