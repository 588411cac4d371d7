"""A central pattern generator whose frequency follows its modulation level (seed 000).

A pacemaker (a modulated "leaky vessel" LIF neuron) is filled by a tonic
input group through direct synapses and fires rhythmically; it drives an
output neuron through an electric synapse (the output fires as soon as the
spike arrives, one step later, bypassing integration). A second input group reaches the pacemaker
through modulatory synapses: they do not fill the vessel but shift its
modulation level, which lowers the threshold, so the rhythm speeds up.

Each batch member gets its own modulatory input rate, so one run sweeps the
modulation level. ``python examples/central_pattern_generator.py`` prints the
output frequency per level; ``--seeds 9000-9009`` (or a list) repeats it with
other network seeds and prints the spread per level. Nothing in the circuit
draws random numbers (regular input trains, no noise), so every seed gives the
same frequencies.
"""

from __future__ import annotations

import argparse

import numpy as np

import spikey
from spikey.core.seeds import seed_range

N_TONIC = N_MODULATORY = 10


def config(levels: int, seed: int = 0) -> dict:
    """The circuit's config for ``levels`` batch members.

    Parameters
    ----------
    levels : int
        Batch size: one member per modulation level.
    seed : int
        The network seed.

    Returns
    -------
    dict
        A config for :meth:`spikey.Network.from_config`.
    """
    n_in = N_TONIC + N_MODULATORY
    matrix = np.zeros((n_in + 2, 2))
    matrix[:N_TONIC, 0] = 0.1  # tonic -> pacemaker (direct): 1 mV per ms at full rate
    matrix[N_TONIC:n_in, 0] = 0.001  # modulation -> pacemaker (modulatory)
    matrix[n_in, 1] = 1.0  # pacemaker -> output (electric)
    return {
        "parts": {"inputs": "RateMap", "neurons": "ModulatedLIF", "weights": "Manual",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": 1000, "batch_size": levels, "reward_mode": "none",
                    "seed": seed},
        "inputs": {"n_inputs": n_in, "n_dims": 2, "max_rate": 1000.0, "spike_model": "regular"},
        "neurons": {"n_neurons": 2, "threshold": 16.0, "leak": 0.5, "refractory": 2.0,
                    "max_burst": 0, "habituation_rate": 0.0, "potentiation_rate": 0.0,
                    "modulation_tau": 100.0, "threshold_modulation": 1.0},
        "weights": {"max_weight": 5.0, "matrix": matrix.tolist(), "synapse_types": [
            {"pre": [N_TONIC, n_in], "post": [0, 1], "type": "modulatory"},
            {"pre": [n_in, n_in + 1], "post": [1, 2], "type": "electric"},
        ]},
        "readout": {"n_outputs": 1},
    }


def frequencies(levels=(0.0, 0.25, 0.5, 0.75, 1.0), seconds: int = 2,
                seed: int = 0) -> np.ndarray:
    """Output frequency (Hz) for each modulation level (the last second of ``seconds``).

    Parameters
    ----------
    levels : sequence of float
        Modulatory input rates (fractions of the maximum rate), one batch member each.
    seconds : int
        Simulated seconds; the first lets the modulation settle.
    seed : int
        The network seed.

    Returns
    -------
    numpy.ndarray
        The output neuron's rate (Hz) per level over the last second.
    """
    network = spikey.Network.from_config(config(len(levels), seed))
    state = np.stack([np.ones(len(levels)), np.asarray(levels)], axis=1)
    for _ in range(seconds):  # the first second lets the modulation settle
        rates = network.tick(state)
    return rates[:, 0]


def main(argv=None):
    """Print the output frequency per modulation level, for one seed or several.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``--seeds``; default seed 0).

    Returns
    -------
    dict
        Seed -> the frequencies (Hz) per level.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=seed_range, nargs="+", default=[[0]],
                        help="network seeds or inclusive ranges A-B (default 0)")
    seeds = [seed for group in parser.parse_args(argv).seeds for seed in group]
    levels = (0.0, 0.25, 0.5, 0.75, 1.0)
    table = {seed: frequencies(levels, seed=seed) for seed in seeds}
    for seed, hz in table.items():
        print(f"seed {seed}: " + ", ".join(f"{level:4.2f} -> {f:5.1f} Hz"
                                            for level, f in zip(levels, hz)))
    if len(seeds) > 1:
        rates = np.array(list(table.values()))
        for i, level in enumerate(levels):
            print(f"modulatory input {level:4.2f}: output min {rates[:, i].min():5.1f}, median "
                  f"{np.median(rates[:, i]):5.1f}, max {rates[:, i].max():5.1f} Hz "
                  f"over {len(seeds)} seeds")
    return table


if __name__ == "__main__":
    main()
