"""Izhikevich (2007) distal reward network in Brian2 C++ standalone, timed with its build.

The same network as ``examples/izhikevich_2007.py`` / ``benchmarks/bench_izhikevich.py``,
written to mirror Spikey's ``Izhikevich`` neuron and ``DASTDP`` rule step for step:

- 1,000 Izhikevich neurons, 800 regular-spiking excitatory (a = 0.02, d = 8) and 200
  fast-spiking inhibitory (a = 0.1, d = 2), b = 0.2, c = -65, the inhibitory ones evenly
  spread (``spread_mask``); v = -65, u = b v at the start.
- Each ms: the current I (the signed weights of the spikes that arrive) plus a thalamic
  current uniform in [-6.5, 6.5); v takes two forward Euler half-steps of 0.5 ms with u held,
  clamped at 30 mV after each; then u += a (b v - u); v >= 30 fires, v <- c, u <- u + d.
- Each neuron draws 100 targets uniformly with replacement (a repeated target is one
  synapse), never itself; inhibitory neurons target excitatory ones only. Excitatory weights
  start at 1 in [0, 4] and learn, inhibitory weights are 1 (fixed, subtracted).
  A spike of step t reaches its targets' current of step t + 1 (Spikey's 1 ms delay).
- DA-STDP, Spikey's traces: the pre trace P+ of neuron j decays with 19.5 ms and jumps by
  A+ = 0.1 on the step its spike arrives (one step after it fired), the post trace P- decays
  with 19.5 ms and jumps by A- = -0.15 on the step it fires. A post spike adds P+_j to the
  eligibility c_jk, an arriving pre spike adds P-_k (both traces already include the step's
  spikes, so a same-step pair gives A+ + A-, as in Spikey). c decays with tau_c = 1 s
  (event-driven: exact exponential between events). Dopamine d decays with 0.2 s; every
  10 ms every excitatory weight moves by (0.002 + d) c, clipped to [0, 4].
- Distal reward: one excitatory synapse pre -> post is set to 0; when post fires 1-20 ms
  after pre's latest earlier spike, d += 0.5 arrives 1001-3000 ms later (uniform).
  Spikey delivers rewards at the end of its 10 ms tick; here on the ms they are due.

Differences that do not change the statistics: float64 here (Spikey: float32), other random
streams (connectivity, thalamic noise, reward delays), the 10 ms weight update at steps
0, 10, 20, ... (Spikey: 9, 19, 29, ...).

Timing: ``setup_s`` (Python: import Brian2, create the objects), ``build_s`` (code generation
plus ``make``, ``make_s`` of it, one job: ``-j1``), ``binary_s`` (the compiled program's wall
time: loading, the simulation, writing results) of which ``loop_s`` is Brian2's own time of the
simulation loop; ``total_s`` = ``setup_s + build_s + binary_s``, the wall time from import to
results. Rates: mean over the whole run (excitatory, inhibitory); weights: mean of the
excitatory weights other than the chosen one at the end.

Run in Brian2's own environment (``bash benchmarks/peers/setup_brian2.sh``):
``/work/venv-brian2/bin/python benchmarks/peers/brian2_izhikevich.py --seconds 60 --json out.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time

N, INHIBITORY_FRACTION, OUT_DEGREE = 1000, 0.2, 100
W_MAX, A_PLUS, A_MINUS, TAU_TRACE_MS = 4.0, 0.1, -0.15, 19.5
TAU_C_MS, TAU_D_MS, BASELINE, UPDATE_MS, REWARD = 1000.0, 200.0, 0.002, 10.0, 0.5
THALAMIC = 6.5


def spread_mask(n: int, fraction: float):
    """Spikey's ``spread_mask``: ``round(n * fraction)`` of ``n`` items, evenly spread."""
    import numpy as np

    mask = np.zeros(n, dtype=bool)
    k = int(round(n * fraction))
    if k:
        mask[(np.arange(1, k + 1) * n) // k - 1] = True
    return mask


def connectivity(seed: int):
    """``(pre, post)`` index arrays of the excitatory and inhibitory synapses, and the chosen one.

    FixedOutDegree's rule: ``OUT_DEGREE`` targets per neuron drawn with replacement, a repeated
    target one synapse, no self-connection, inhibitory neurons onto excitatory ones only.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    inhibitory = spread_mask(N, INHIBITORY_FRACTION)
    excitatory_ids = np.flatnonzero(~inhibitory)
    exc, inh = ([], []), ([], [])
    for j in range(N):
        pool = excitatory_ids if inhibitory[j] else np.arange(N)
        pool = pool[pool != j]
        targets = np.unique(pool[rng.integers(len(pool), size=OUT_DEGREE)])
        into = inh if inhibitory[j] else exc
        into[0].append(np.full(targets.size, j))
        into[1].append(targets)
    exc = tuple(np.concatenate(x) for x in exc)
    inh = tuple(np.concatenate(x) for x in inh)
    choice = np.random.default_rng(seed + 1)
    pre = int(choice.choice(excitatory_ids))
    post = int(choice.choice(exc[1][exc[0] == pre]))
    return inhibitory, exc, inh, pre, post


def build(b2, seconds: float, seed: int):
    """Create the network in the current Brian2 scope; return (net, objects, chosen pair)."""
    import numpy as np

    ms = b2.ms
    inhibitory, exc, inh, pre, post = connectivity(seed)
    neurons = b2.NeuronGroup(
        N,
        """v : 1
           u : 1
           I : 1
           a : 1 (constant)
           b : 1 (constant)
           c : 1 (constant)
           d : 1 (constant)
           p_plus : 1
           p_minus : 1
           fired : 1
           n_spikes : 1
           DA : 1""",
        threshold="v >= 30", reset="v = c\nu = u + d\nfired = 1\nn_spikes += 1",
        namespace={"noise": 2 * THALAMIC, "decay_trace": float(np.exp(-1.0 / TAU_TRACE_MS)),
                   "a_plus": A_PLUS, "a_minus": A_MINUS,
                   "decay_da": float(np.exp(-1.0 / TAU_D_MS))},
        name="neurons")
    neurons.a = np.where(inhibitory, 0.1, 0.02)
    neurons.b = 0.2
    neurons.c = -65.0
    neurons.d = np.where(inhibitory, 2.0, 8.0)
    neurons.v = -65.0
    neurons.u = "b * v"
    # Spikey's Izhikevich step (two 0.5 ms Euler half-steps of v, clamped at the peak, then one
    # 1 ms step of u) and the STDP traces of this step: the pre trace takes the spikes that
    # arrive now (fired last step), the post trace those of this step (v >= 30 now).
    neurons.run_regularly(
        """drive = I + (rand() - 0.5) * noise
           v = clip(v + 0.5 * (0.04 * v * v + 5 * v + 140 - u + drive), -1e30, 30)
           v = clip(v + 0.5 * (0.04 * v * v + 5 * v + 140 - u + drive), -1e30, 30)
           u = u + a * (b * v - u)
           I = 0
           p_plus = p_plus * decay_trace + a_plus * fired
           p_minus = p_minus * decay_trace + a_minus * int(v >= 30)
           fired = 0
           DA = DA * decay_da""",
        when="groups", name="izhikevich")
    # the dopamine level d: one copy per neuron (decayed above), raised by a spike of the
    # 'dopamine' unit, which fires on the step after rewards became due (its synapses then
    # add 0.5 per due reward)
    dopamine = b2.NeuronGroup(
        1, """pending : 1
              pre_time : second
              choice : 1
              rewards : 1""", threshold="pending > 0", reset="pending = 0", name="dopamine")
    dopamine.pre_time = -1e9 * b2.second
    dopamine.run_regularly("choice = floor(rand() * 2000)", when="groups", name="draw_slot")
    release = b2.Synapses(dopamine, neurons, on_pre="DA_post += reward_size * pending_pre",
                          namespace={"reward_size": REWARD}, name="release")
    release.connect(i=0, j=np.arange(N))

    plastic = b2.Synapses(
        neurons, neurons,
        """w : 1
           delig/dt = -elig / tau_c : 1 (event-driven)""",
        on_pre={"pre": "I_post += w", "stdp": "elig += p_minus_post"},
        on_post="elig += p_plus_pre",
        delay={"stdp": 1 * ms},  # the STDP sees a spike on the step it arrives
        namespace={"tau_c": TAU_C_MS * ms, "baseline": BASELINE, "w_max": W_MAX},
        name="excitatory")
    plastic.connect(i=exc[0], j=exc[1])
    start = np.ones(exc[0].size)
    start[(exc[0] == pre) & (exc[1] == post)] = 0.0  # the chosen synapse starts at 0
    plastic.w = start
    plastic.run_regularly(
        "w = clip(w + (baseline + DA_post) * elig * exp(-(t - lastupdate) / tau_c), 0, w_max)",
        dt=UPDATE_MS * ms, when="end", name="dopamine_update")
    static = b2.Synapses(neurons, neurons, "w : 1 (constant)", on_pre="I_post -= w",
                         name="inhibitory")
    static.connect(i=inh[0], j=inh[1])
    static.w = 1.0

    # distal reward: the latest spike time of the chosen pre neuron, and 2,000 parallel
    # synapses post -> dopamine with delays 1001..3000 ms; a qualifying post spike arms one of
    # them (drawn uniformly this step), which delivers when its delayed copy of that spike
    # arrives.
    watch = b2.Synapses(neurons, dopamine, on_pre="pre_time_post = t", name="watch_pre")
    watch.connect(i=pre, j=0)
    watch.pre.order = 5  # after the check below: a same-step pre spike is not 'earlier'
    reward = b2.Synapses(
        neurons, dopamine,
        """slot : 1 (constant)
           armed_at : second
           wait : second (constant)""",
        on_pre={"arm": """hit = int(slot == choice_post) * int(t - pre_time_post > 0.5*ms) * int(t - pre_time_post < 20.5*ms)
                          armed_at = hit * t + (1 - hit) * armed_at""",
                "deliver": """due = int(abs(t - wait - armed_at) < 0.5*ms)
                              pending_post += due
                              rewards_post += due"""},
        name="reward")
    reward.connect(i=post, j=0, n=2000)
    reward.slot = np.arange(2000)
    reward.wait = (1001 + np.arange(2000)) * ms
    reward.armed_at = -1e9 * b2.second
    reward.deliver.delay = "wait"
    net = b2.Network(neurons, dopamine, release, plastic, static, watch, reward)
    return net, {"neurons": neurons, "plastic": plastic, "dopamine": dopamine}, (pre, post), \
        inhibitory


def run(seconds: float, seed: int, keep: str | None = None) -> dict:
    """Build, compile and run the network for ``seconds`` simulated seconds; return the row."""
    start = time.perf_counter()
    import brian2 as b2
    import numpy as np

    b2.set_device("cpp_standalone", build_on_run=False)
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j1"]
    b2.defaultclock.dt = 1 * b2.ms
    b2.seed(seed)
    net, objects, (pre, post), inhibitory = build(b2, seconds, seed)
    net.run(seconds * b2.second)
    setup = time.perf_counter() - start
    directory = keep or tempfile.mkdtemp(prefix="brian2_izhikevich_")
    try:
        start = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        build_s = time.perf_counter() - start
        timers = b2.device.timers["compile"]
        make = (timers.get("make") or 0.0) + (timers.get("clean") or 0.0)
        start = time.perf_counter()
        b2.device.run(directory=directory, with_output=False)
        binary = time.perf_counter() - start
        loop = b2.device._last_run_time
        spikes = np.asarray(objects["neurons"].n_spikes[:])
        plastic = objects["plastic"]
        i, j, w = (np.asarray(plastic.i[:]), np.asarray(plastic.j[:]),
                   np.asarray(plastic.w[:]))
        rewards = int(objects["dopamine"].rewards[0])
    finally:
        if keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    chosen = (i == pre) & (j == post)
    return {"framework": "brian2", "mode": "cpp_standalone", "seed": seed,
            "simulated_s": seconds, "setup_s": setup, "build_s": build_s, "make_s": make,
            "binary_s": binary, "loop_s": loop, "total_s": setup + build_s + binary,
            "loop_per_simulated_s": loop / seconds,
            "exc_rate_hz": float(spikes[~inhibitory].sum() / seconds / (~inhibitory).sum()),
            "inh_rate_hz": float(spikes[inhibitory].sum() / seconds / inhibitory.sum()),
            "rewards": rewards, "chosen_weight": float(w[chosen][0]),
            "others_mean": float(w[~chosen].mean()),
            "others_at_max": float((w[~chosen] >= W_MAX - 1e-6).mean()),
            "n_excitatory_synapses": int(w.size),
            "brian2": b2.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", default=None, help="build in this folder and keep it")
    parser.add_argument("--json", default=None, help="write the row here")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"--seconds must be > 0, got {args.seconds}")
    row = run(args.seconds, args.seed, args.keep)
    print(json.dumps(row, indent=1), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(row, handle, indent=2)
    return row


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
