"""The reference workload in Brian2: numpy and cython runtime targets, and C++ standalone.

Same network as ``benchmarks/bench_reference.py``: 1,000 Poisson inputs at
20 Hz drive 1,000 LIF neurons through input -> neuron synapses only (the
``... + recurrent`` variants add neuron -> neuron synapses at the same density and
weights, no self-connections),

.. math::

    \\frac{dV}{dt} = -\\frac{V}{\\tau}, \\qquad V \\ge 16\\,\\mathrm{mV} \\Rightarrow
    \\text{spike}, V \\leftarrow 0, \\text{ input ignored for 5 ms},

with :math:`\\tau` = 20 ms, dt = 1 ms, and a spike arriving on synapse
:math:`jk` adding :math:`w_{jk}` to :math:`V_k` (voltage jump, no delay).
Weights are uniform in :math:`[0, w_{max}]`, :math:`w_{max}` = 0.09 mV / density.
The STDP variants use Spikey's pair-based trace rule with the amplitudes of
``bench_reference.py``: traces :math:`P^+_j, P^-_k` decay with 20 ms and jump
by :math:`A_+ = 1` (pre) and :math:`A_- = -1.05` (post); a post spike adds
:math:`\\eta P^+_j`, a pre spike :math:`\\eta P^-_k`, with :math:`\\eta = 0.01\\,w_{max}`
and weights clipped to :math:`[0, w_{max}]`. Pairs are counted as in Spikey
(``--pairs spikey``, the default): each post spike is processed in the step it fires
and a pre spike arriving in that step adds :math:`A_+ + A_-`; ``--pairs brian2`` keeps
Brian2's post pathway in the synapses slot, one step late under this schedule (the
round-two measurements used it: its STDP variants potentiate more and fire faster).

Each (mode, variant) runs in its own child process. A run simulates one
warm-up second (which in the runtime targets also generates and compiles
code), then times one simulated second per repeat. ``steps_per_s`` counts
Brian2's own timing of the simulation loop only (``device._last_run_time``:
no code generation, compilation or set-up; in standalone the binary measures it with
``std::clock``, i.e. CPU time, so compare it with Spikey's ``cpu_steps_per_s``); ``run_call_s`` is the wall time
of the whole ``run()`` call, set-up included. ``compile_s`` is code generation
plus compilation: for the runtime targets the warm-up call's wall time less a
simulated second; for standalone the ``make`` time. The cython target caches
compiled code across processes; ``cython_modules_compiled`` says how many
modules this process really compiled (0: all came from the cache;
``--fresh-cython-cache`` compiles into an empty one).
``rate_hz`` is the mean output rate over the timed seconds.

Needs Brian2 in its own environment (``bash benchmarks/peers/setup_brian2.sh``):
``benchmarks/peers/.venv-brian2/bin/python benchmarks/peers/brian2_reference.py
[--modes numpy cython cpp_standalone] [--repeats 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

N_IN, N, RATE_HZ, SECONDS = 1000, 1000, 20.0, 1.0
STEPS = int(round(SECONDS * 1000))  # dt = 1 ms
#: variant name (as in bench_reference.py) -> (density, STDP)
VARIANTS = {
    "dense": (1.0, False),
    "dense + STDP": (1.0, True),
    "10% sparse": (0.1, False),
    "10% sparse + STDP": (0.1, True),
}
#: the same with LIF -> LIF synapses (same density and weights, no self-connections), as
#: ``bench_reference.py --recurrent``; run with ``--variants`` or ``--recurrent``
RECURRENT = {f"{name} + recurrent": (density, stdp, True)
             for name, (density, stdp) in VARIANTS.items()}
ALL_VARIANTS = {**VARIANTS, **RECURRENT}
MODES = ("numpy", "cython", "cpp_standalone")
A_PLUS, A_MINUS, TAU_TRACE_MS = 1.0, -1.05, 20.0
#: Spikey's LIF ignores input for 5 steps after a spike (steps s+1 .. s+5 of a spike at s).
#: Brian2 counts a neuron refractory while ``t - lastspike < refractory`` in steps, so
#: ``refractory = 5 ms`` would close only s+1 .. s+4; 6 ms closes the same five steps.
REFRACTORY_STEPS = 5


def build_network(b2, density: float, stdp: bool, recurrent: bool = False,
                  pairs: str = "spikey"):
    """Create the groups and synapses in the current Brian2 scope; return (net, neurons).

    ``pairs`` (STDP variants): ``'spikey'`` counts spike pairs as Spikey does (the STDP term
    of a step's spikes after the thresholds, potentiation of the post spikes then depression
    of the arriving pre spikes, each clipped, both traces holding the step's spikes, so a
    same-step pair counts ``A_+ + A_-``); ``'brian2'`` keeps Brian2's own post pathway in the synapses
    slot, which, with this schedule, processes a post spike one step late: a pre spike
    arriving in the step after a post spike (Spikey: depression ``A_- e^{-1/20}``) and one
    arriving in the same step (Spikey: ``A_+ + A_-``) both potentiate there.
    """
    if pairs not in ("spikey", "brian2"):
        raise ValueError(f"pairs = {pairs!r}; expected 'spikey' or 'brian2'")
    ms, mV, Hz = b2.ms, b2.mV, b2.Hz
    w_max = 0.09 / density * mV
    inputs = b2.PoissonGroup(N_IN, RATE_HZ * Hz, name="inputs")
    neurons = b2.NeuronGroup(
        N,
        """dv/dt = -v / tau : volt (unless refractory)
           n_spikes : 1""",
        threshold="v >= 16*mV", reset="v = 0*mV; n_spikes += 1",
        refractory=(REFRACTORY_STEPS + 1) * ms,
        method="exact", namespace={"tau": 20 * ms}, name="neurons")
    # Spikey ignores input while refractory; Brian2 would still add the jump.
    arrive = "v_post += w * int(not_refractory_post)"
    groups = [inputs] + ([neurons] if recurrent else [])
    connections = []
    same_step = pairs == "spikey"
    for source in groups:
        name = "synapses" if source is inputs else "recurrent"
        if stdp and same_step:
            # Spikey's order within a step: input added, thresholds, then the STDP term of the
            # step's spikes with both traces already holding them: potentiation of every
            # post spike (clipped), then depression of every arriving pre spike (clipped).
            # Both run after the thresholds; 'arrived' marks a pre spike of this step.
            synapses = b2.Synapses(
                source, neurons,
                """w : volt
                   arrived : second
                   dpre_trace/dt = -pre_trace / tau_trace : 1 (event-driven)
                   dpost_trace/dt = -post_trace / tau_trace : 1 (event-driven)""",
                on_pre={"pre": f"""{arrive}
                                   arrived = t""",
                        "depress": """pre_trace += A_plus
                                      w = clip(w + eta * post_trace, 0*mV, w_max)"""},
                on_post="""post_trace += A_minus
                           same = int(abs(t - arrived) < 0.5*ms)
                           w = clip(w + eta * (pre_trace + A_plus * same), 0*mV, w_max)""",
                # 'depress' runs after the thresholds, where the source's spike space already
                # holds this step's spikes: 1 ms later it gets the ones 'pre' delivers now
                delay={"depress": 1 * ms},
                namespace={"tau_trace": TAU_TRACE_MS * ms, "A_plus": A_PLUS, "A_minus": A_MINUS,
                           "eta": 0.01 * w_max, "w_max": w_max},
                name=name)
            synapses.post.when = "thresholds"
            synapses.post.order = 1
            synapses.depress.when = "thresholds"
            synapses.depress.order = 2
        elif stdp:
            synapses = b2.Synapses(
                source, neurons,
                """w : volt
                   dpre_trace/dt = -pre_trace / tau_trace : 1 (event-driven)
                   dpost_trace/dt = -post_trace / tau_trace : 1 (event-driven)""",
                on_pre=f"""{arrive}
                           pre_trace += A_plus
                           w = clip(w + eta * post_trace, 0*mV, w_max)""",
                on_post="""post_trace += A_minus
                           w = clip(w + eta * pre_trace, 0*mV, w_max)""",
                namespace={"tau_trace": TAU_TRACE_MS * ms, "A_plus": A_PLUS, "A_minus": A_MINUS,
                           "eta": 0.01 * w_max, "w_max": w_max},
                name=name)
        else:
            synapses = b2.Synapses(source, neurons, "w : volt", on_pre=arrive, name=name)
        condition = None if source is inputs else "i != j"
        if density >= 1.0:
            synapses.connect(condition=condition)
        else:
            synapses.connect(condition=condition, p=density)
        synapses.w = "rand() * w_max"
        if stdp and same_step:
            synapses.arrived = -1 * b2.second
        synapses.namespace["w_max"] = w_max
        connections.append(synapses)
    net = b2.Network(inputs, neurons, *connections)
    # Spikey's order within a step: decay, add the arriving input, threshold, reset.
    # Brian2's default puts synapses after thresholds, so input would first be
    # seen (and decayed) one step later; this order delays every spike's
    # delivery by one step instead, which leaves Poisson input statistically unchanged.
    net.schedule = ["start", "groups", "synapses", "thresholds", "resets", "end"]
    return net, neurons


def cython_cache_size(b2) -> int:
    folder = b2.prefs.codegen.runtime.cython.cache_dir
    if folder is None:
        folder = os.path.join(os.path.expanduser("~"), ".cython", "brian_extensions")
    return len(glob.glob(os.path.join(folder, "*.so")))


def run_runtime(mode: str, variant: str, repeats: int, cython_cache=None,
                pairs: str = "spikey") -> dict:
    import brian2 as b2

    b2.prefs.codegen.target = mode
    if cython_cache:
        b2.prefs.codegen.runtime.cython.cache_dir = cython_cache
    b2.defaultclock.dt = 1 * b2.ms
    b2.seed(0)
    net, neurons = build_network(b2, *ALL_VARIANTS[variant], pairs=pairs)
    cached_before = cython_cache_size(b2) if mode == "cython" else 0
    start = time.perf_counter()
    net.run(SECONDS * b2.second)  # warm-up: code generation and compilation happen here
    first_call = time.perf_counter() - start
    warm_loop = b2.device._last_run_time
    loops, calls, rates = [], [], []
    for _ in range(repeats):
        neurons.n_spikes = 0
        start = time.perf_counter()
        net.run(SECONDS * b2.second)
        calls.append(time.perf_counter() - start)
        loops.append(b2.device._last_run_time)
        rates.append(float(neurons.n_spikes[:].sum()) / N / SECONDS)
    loop = statistics.median(loops)
    row = {"steps_per_s": STEPS / loop, "rate_hz": statistics.mean(rates),
           "compile_s": max(0.0, first_call - warm_loop),
           "run_call_s": statistics.median(calls), "loop_s": loop,
           "first_call_s": first_call}
    if mode == "cython":
        row["cython_modules_compiled"] = cython_cache_size(b2) - cached_before
    return row


def run_standalone(variant: str, repeats: int, threads: int, pairs: str = "spikey") -> dict:
    import brian2 as b2

    b2.set_device("cpp_standalone", build_on_run=False)
    if threads > 1:
        b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.defaultclock.dt = 1 * b2.ms
    b2.seed(0)
    net, neurons = build_network(b2, *ALL_VARIANTS[variant], pairs=pairs)
    net.run(SECONDS * b2.second)  # warm-up second, as in the runtime targets
    neurons.n_spikes = 0
    net.run(SECONDS * b2.second)  # the binary reports the time of this last run only
    directory = tempfile.mkdtemp(prefix="brian2_reference_")
    try:
        start = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        build = time.perf_counter() - start
        make = b2.device.timers["compile"]["make"] + (b2.device.timers["compile"]["clean"] or 0)
        loops, binary, rates = [], [], []
        for _ in range(repeats):
            start = time.perf_counter()
            b2.device.run(directory=directory, with_output=False)
            binary.append(time.perf_counter() - start)
            loops.append(b2.device._last_run_time)
            rates.append(float(neurons.n_spikes[:].sum()) / N / SECONDS)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    loop = statistics.median(loops)
    return {"steps_per_s": STEPS / loop, "rate_hz": statistics.mean(rates), "compile_s": make,
            "build_s": build, "binary_s": statistics.median(binary), "loop_s": loop,
            "threads": threads}


def worker(mode: str, variant: str, repeats: int, threads: int, fresh_cache: bool,
           pairs: str = "spikey") -> dict:
    import brian2
    import numpy

    brian2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j1"]  # one core for make
    if mode == "cpp_standalone":
        row = run_standalone(variant, repeats, threads, pairs)
    elif fresh_cache and mode == "cython":
        cache = tempfile.mkdtemp(prefix="brian2_cython_")
        try:
            row = run_runtime(mode, variant, repeats, cache, pairs)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    else:
        row = run_runtime(mode, variant, repeats, pairs=pairs)
    return {"framework": "brian2", "mode": mode, "variant": variant, **row, "repeats": repeats,
            "pairs": pairs, "loop_clock": "cpu (std::clock)" if mode == "cpp_standalone"
            else "wall", "brian2": brian2.__version__, "numpy": numpy.__version__}


def run_child(mode: str, variant: str, args) -> dict:
    """One (mode, variant) in a fresh interpreter: Brian2 keeps global device state."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [sys.executable, os.path.abspath(__file__), "--worker", mode, variant,
               "--repeats", str(args.repeats), "--threads", str(args.threads), "--json", out,
               "--pairs", args.pairs]
    if args.fresh_cython_cache:
        command.append("--fresh-cython-cache")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
        if done.returncode == 0:
            with open(out, encoding="utf-8") as handle:
                return json.load(handle)
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        error = f"exit {done.returncode}: " + " | ".join(tail)
    except subprocess.TimeoutExpired:
        error = f"timed out after {args.timeout} s"
    finally:
        os.unlink(out)
    return {"framework": "brian2", "mode": mode, "variant": variant, "steps_per_s": None,
            "rate_hz": None, "compile_s": None, "error": error}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        choices=list(ALL_VARIANTS))
    parser.add_argument("--recurrent", action="store_true",
                        help="also run every variant with LIF -> LIF synapses ('... + recurrent')")
    parser.add_argument("--repeats", type=int, default=3, help="timed simulated seconds")
    parser.add_argument("--threads", type=int, default=1,
                        help="OpenMP threads in standalone mode (1: Brian2's default, serial)")
    parser.add_argument("--fresh-cython-cache", action="store_true",
                        help="compile cython code into an empty cache (honest compile_s)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per (mode, variant)")
    parser.add_argument("--pairs", default="spikey", choices=("spikey", "brian2"),
                        help="STDP spike pairing: Spikey's (default) or Brian2's post pathway "
                             "in the synapses slot (one step late here; see build_network)")
    parser.add_argument("--json", default=None, help="write rows here")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        row = worker(*args.worker, args.repeats, args.threads, args.fresh_cython_cache,
                     args.pairs)
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(row, handle)
        return [row]

    if args.recurrent:
        args.variants = list(args.variants) + [f"{v} + recurrent" for v in args.variants
                                               if v in VARIANTS]
    rows = []
    print(f"{'mode':<15} {'variant':<20} {'steps/s':>10} {'rate (Hz)':>10} {'compile (s)':>12}",
          flush=True)
    for mode in args.modes:
        for variant in args.variants:
            row = run_child(mode, variant, args)
            rows.append(row)
            if row.get("error"):
                print(f"{mode:<15} {variant:<20} failed: {row['error']}", flush=True)
            else:
                print(f"{mode:<15} {variant:<20} {row['steps_per_s']:10.0f} "
                      f"{row['rate_hz']:10.1f} {row['compile_s']:12.2f}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"benchmark": "reference_workload", "framework": "brian2",
                       "python": platform.python_version(), "cpus": os.cpu_count(),
                       "rows": rows}, handle, indent=2)
    return rows


if __name__ == "__main__":
    main()
