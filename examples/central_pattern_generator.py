"""A central pattern generator whose frequency follows its modulation level (seed 000).

A pacemaker (a modulated "leaky vessel" LIF neuron) is filled by a tonic
input group through direct synapses and fires rhythmically; it drives an
output neuron through an electric synapse (the output fires as soon as the
spike arrives, one step later, bypassing integration). A second input group reaches the pacemaker
through modulatory synapses: they do not fill the vessel but shift its
modulation level, which lowers the threshold, so the rhythm speeds up.

Each batch member gets its own modulatory input rate, so one run sweeps the
modulation level. ``python examples/central_pattern_generator.py`` prints the
output frequency per level.
"""

from __future__ import annotations

import numpy as np

import spikey

N_TONIC = N_MODULATORY = 10


def config(levels: int) -> dict:
    n_in = N_TONIC + N_MODULATORY
    matrix = np.zeros((n_in + 2, 2))
    matrix[:N_TONIC, 0] = 0.1  # tonic -> pacemaker (direct): 1 mV per ms at full rate
    matrix[N_TONIC:n_in, 0] = 0.001  # modulation -> pacemaker (modulatory)
    matrix[n_in, 1] = 1.0  # pacemaker -> output (electric)
    return {
        "parts": {"inputs": "RateMap", "neurons": "ModulatedLIF", "weights": "Manual",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": 1000, "batch_size": levels, "reward_mode": "none"},
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


def frequencies(levels=(0.0, 0.25, 0.5, 0.75, 1.0), seconds: int = 2) -> np.ndarray:
    """Output frequency (Hz) for each modulation level (the last second of ``seconds``)."""
    network = spikey.Network.from_config(config(len(levels)))
    state = np.stack([np.ones(len(levels)), np.asarray(levels)], axis=1)
    for _ in range(seconds):  # the first second lets the modulation settle
        rates = network.tick(state)
    return rates[:, 0]


def main():
    levels = (0.0, 0.25, 0.5, 0.75, 1.0)
    for level, hz in zip(levels, frequencies(levels)):
        print(f"modulatory input {level:4.2f} -> output {hz:5.1f} Hz")


if __name__ == "__main__":
    main()
