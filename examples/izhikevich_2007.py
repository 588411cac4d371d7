"""Izhikevich (2007) distal reward: dopamine-modulated STDP finds the rewarded synapse.

1,000 Izhikevich neurons (800 regular-spiking excitatory, 200 fast-spiking
inhibitory, inhibitory ones evenly spread), 100 random targets per neuron
(inhibitory neurons target excitatory ones only), 1 ms delays, excitatory
weights 1 in [0, 4], inhibitory weights 1 (fixed), random thalamic input
uniform in [-6.5, 6.5] for every neuron every ms, DA-STDP with an
eligibility trace (tau_c = 1 s, dopamine tau 0.2 s, tonic 0.002, updates
every 10 ms). One excitatory synapse is chosen and set to 0; whenever its
presynaptic neuron fires and its target fires within 20 ms after, a reward
(dopamine + 0.5) is delivered 1-3 s later.

Run ``python examples/izhikevich_2007.py --seconds 3600`` (one simulated hour;
``--seconds 60`` for a quick look). Every ``--report`` seconds it prints the
chosen weight, the mean of the other excitatory weights, the share of them at
the maximum, firing rates and rewards so far. At the end it prints the
chosen synapse's outcome: when it first reached the maximum, its mean over
the last ``--late-window`` simulated seconds (default 600; sampled every
simulated second, because after reaching the maximum the weight dips and one
end-of-run value is noisy), and its rank among all excitatory synapses by
that late-window mean. ``--seeds 0 1 2 3 4`` runs several seeds one after
another and ends with a table of them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import spikey
from spikey.core.part import spread_mask

N, INHIBITORY_FRACTION, TICK = 1000, 0.2, 10  # ms per tick


def config(seed: int = 0) -> dict:
    inhibitory = spread_mask(N, INHIBITORY_FRACTION)
    # Per-neuron parameters: RS for excitatory, FS for inhibitory neurons.
    a = np.where(inhibitory, 0.1, 0.02).tolist()
    d = np.where(inhibitory, 2.0, 8.0).tolist()
    return {
        "parts": {"inputs": "RateMap", "neurons": "Izhikevich", "weights": "FixedOutDegree",
                  "synapses": "DASTDP", "readout": "NeuronRates", "rewarder": "MatchExpected"},
        "network": {"processing_steps": TICK, "batch_size": 1, "seed": seed, "dt": 1.0,
                    "reward_mode": "tick"},
        # one silent input: all drive is internal (thalamic noise + recurrence)
        "inputs": {"n_inputs": 1, "rate_map": [0.0]},
        "neurons": {"n_neurons": N, "preset": "RS", "a": a, "b": 0.2, "c": -65.0, "d": d,
                    "thalamic_input": 6.5, "inhibitory_fraction": INHIBITORY_FRACTION},
        "weights": {"max_weight": 4.0, "out_degree": 100, "weight": 1.0, "inhibitory_weight": 1.0,
                    "inhibitory_fraction": INHIBITORY_FRACTION, "inhibitory_targets": "excitatory"},
        "synapses": {"learning_rate": 1.0, "A_plus": 0.1, "A_minus": -0.15, "tau_plus": 19.5,
                     "tau_minus": 19.5, "tau_z": 1000.0, "dopamine_tau": 200.0,
                     "baseline": 0.002, "update_every": 10},
        "readout": {"n_outputs": N},
        "rewarder": {"source": "game"},
    }


def run(seconds: float, seed: int = 0, report: float = 300.0, verbose: bool = True,
        late_window: float | None = None) -> dict:
    """Run the distal-reward experiment and return its history and the chosen synapse's outcome.

    Parameters
    ----------
    seconds : float
        Simulated time in seconds.
    seed : int
        Seed of the network (connectivity, thalamic noise) and, plus one, of
        the experiment's own draws (the chosen synapse, reward delays).
    report : float
        Simulated seconds between history rows (and printed lines).
    verbose : bool
        Print a line per history row and the outcome at the end.
    late_window : float, optional
        Length in simulated seconds of the final window over which the
        weights are averaged (sampled every simulated second); must be > 0
        and at most ``seconds``. Default: 600 s, or the whole run if shorter.

    Returns
    -------
    dict
        ``history`` (list of rows), ``pre`` and ``post`` (the chosen
        synapse's neurons) and ``outcome``: ``time_to_max_s`` (first
        simulated second at which the chosen weight reached the maximum 4,
        ``None`` if never), ``final`` (its last weight), ``late_mean``,
        ``late_min``, ``late_max`` (over the late window), ``rank`` (1 + the
        number of other excitatory synapses whose late-window mean is
        higher), ``n_synapses`` (excitatory synapses ranked, the chosen one
        included), ``others_late_mean`` and ``others_late_at_max`` (other
        synapses whose late-window mean is >= 3.99).

    Raises
    ------
    ValueError
        If ``seconds`` or ``late_window`` is not positive, or the window is
        longer than the run.
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    if late_window is None:
        late_window = min(600.0, seconds)
    if not 0 < late_window <= seconds:
        raise ValueError(f"late_window must be in (0, seconds={seconds}], got {late_window!r}")
    network = spikey.Network.from_config(config(seed))
    rng = np.random.default_rng(seed + 1)  # the experiment's own draws: chosen synapse, delays
    n_in = network.n_inputs
    inhibitory = spread_mask(N, INHIBITORY_FRACTION)
    weights = network.weights.matrix[0]
    mask = network.weights.mask[0]
    exc_rows = n_in + np.flatnonzero(~inhibitory)
    pre = int(rng.choice(np.flatnonzero(~inhibitory)))
    post = int(rng.choice(np.flatnonzero(mask[n_in + pre])))
    weights[n_in + pre, post] = 0.0
    others = mask.copy()
    others[n_in + pre, post] = False
    others[~np.isin(np.arange(mask.shape[0]), exc_rows)] = False
    state = np.zeros((1, 1))
    last_pre = -10**9
    pending = []  # reward arrival times (ms)
    rewards, t, history = 0, 0, []
    ticks = int(seconds * 1000 // TICK)
    start = time.perf_counter()
    spikes_e = spikes_i = 0
    sample_every = 1000 // TICK  # one weight sample a simulated second
    late_start = ticks - int(late_window * 1000 // TICK)  # first tick of the late window
    late_sum = np.zeros(int(others.sum()))
    chosen_samples = []
    time_to_max = None
    for tick in range(ticks):
        network.tick(state)
        spikes = network.tick_spikes[0]
        spikes_e += spikes[:, ~inhibitory].sum()
        spikes_i += spikes[:, inhibitory].sum()
        pre_times = t + np.flatnonzero(spikes[:, pre])
        post_times = t + np.flatnonzero(spikes[:, post])
        for tp in post_times:  # a post spike within 20 ms after the latest pre spike
            earlier = pre_times[pre_times < tp]
            latest = earlier[-1] if earlier.size else last_pre
            if 0 < tp - latest <= 20:
                pending.append(tp + 1000 + int(rng.integers(1, 2001)))
        if pre_times.size:
            last_pre = pre_times[-1]
        t += TICK
        due = [p for p in pending if p <= t]
        pending = [p for p in pending if p > t]
        network.reward(game_reward=np.array([0.5 * len(due)]))
        rewards += len(due)
        chosen_now = float(weights[n_in + pre, post])
        if time_to_max is None and chosen_now >= 4.0 - 1e-6:
            time_to_max = t / 1000
        if tick >= late_start and (ticks - 1 - tick) % sample_every == 0:
            chosen_samples.append(chosen_now)
            late_sum += weights[others]
        if (tick + 1) % int(report * 1000 // TICK) == 0 or tick == ticks - 1:
            other = weights[others]
            row = {"second": t / 1000, "chosen": float(weights[n_in + pre, post]),
                   "others_mean": float(other.mean()),
                   "others_at_max": float((other >= 4.0 - 1e-6).mean()),
                   "exc_rate_hz": spikes_e / (t / 1000) / (~inhibitory).sum(),
                   "inh_rate_hz": spikes_i / (t / 1000) / inhibitory.sum(),
                   "rewards": rewards, "wall_s": time.perf_counter() - start}
            history.append(row)
            if verbose:
                print(f"t={row['second']:7.0f} s  chosen w={row['chosen']:.3f}  others mean "
                      f"{row['others_mean']:.3f} ({100 * row['others_at_max']:.1f}% at max)  "
                      f"rates E {row['exc_rate_hz']:.2f} Hz, I {row['inh_rate_hz']:.2f} Hz  "
                      f"rewards {rewards}  wall {row['wall_s']:.0f} s", flush=True)
    late = np.array(chosen_samples)
    others_late = late_sum / len(chosen_samples)
    outcome = {"seed": seed, "time_to_max_s": time_to_max, "final": float(weights[n_in + pre, post]),
               "late_window_s": late_window, "late_mean": float(late.mean()),
               "late_min": float(late.min()), "late_max": float(late.max()),
               "rank": 1 + int((others_late > late.mean()).sum()),
               "n_synapses": int(others_late.size) + 1,
               "others_late_mean": float(others_late.mean()),
               "others_late_at_max": int((others_late >= 3.99).sum())}
    if verbose:
        print(format_outcome(outcome), flush=True)
    return {"history": history, "pre": pre, "post": post, "outcome": outcome}


def format_outcome(outcome: dict) -> str:
    """One line describing a run's chosen-synapse outcome (see :func:`run`).

    Parameters
    ----------
    outcome : dict
        The ``outcome`` entry of :func:`run`'s result.

    Returns
    -------
    str
        Seed, time to the maximum, the late-window mean (min-max), the end
        value and the rank by late-window mean.
    """
    reached = ("never" if outcome["time_to_max_s"] is None
               else f"{outcome['time_to_max_s']:.0f} s")
    return (f"seed {outcome['seed']}: maximum reached at {reached}; last "
            f"{outcome['late_window_s']:.0f} s mean {outcome['late_mean']:.3f} "
            f"(min {outcome['late_min']:.3f}, max {outcome['late_max']:.3f}), end "
            f"{outcome['final']:.3f}; rank {outcome['rank']} of {outcome['n_synapses']} "
            f"excitatory synapses by late mean (others {outcome['others_late_mean']:.3f}, "
            f"{outcome['others_late_at_max']} at >= 3.99)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="run these seeds one after another (overrides --seed)")
    parser.add_argument("--report", type=float, default=300.0)
    parser.add_argument("--late-window", type=float, default=None,
                        help="simulated seconds at the end over which the weights are averaged "
                             "(default 600, or all of a shorter run)")
    args = parser.parse_args(argv)
    if args.late_window is not None and not 0 < args.late_window <= args.seconds:
        parser.error(f"--late-window must be in (0, --seconds={args.seconds}], "
                     f"got {args.late_window}")
    seeds = args.seeds if args.seeds is not None else [args.seed]
    results = [run(args.seconds, seed, args.report, late_window=args.late_window)
               for seed in seeds]
    if len(results) > 1:
        print("\n".join(format_outcome(r["outcome"]) for r in results))
    return results if args.seeds is not None else results[0]


if __name__ == "__main__":
    main()
