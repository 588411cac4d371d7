"""Configs shared by the gradient-training tests (``unit_tests/test_gradients*.py``).

``tiny_digits(gradient=..., dataset=...)``: a gradient config (sections ``network``,
``gradient``, ``dataset``) of a 64 -> 20 -> 10 LIF network on the digits, a few seconds per
epoch; the overrides update the ``gradient`` / ``dataset`` sections key by key.
``body_network(weights, ...)``: a ``Network.from_config`` config of 6 inputs and 9 LIF (or
other) neurons, 3 of them outputs, with the weight part and keys given, for comparing the
gradient engine's forward pass with a network's own stepping.
``numeric_gradient(model, mask, loss)``: central finite differences for the gradient checks.
"""

from __future__ import annotations

import copy

#: The network section of :func:`tiny_digits`.
TINY_DIGITS_NETWORK = {
    "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Layered",
              "readout": "Softmax"},
    "network": {"processing_steps": 6, "reward_mode": "none"},
    "inputs": {"n_inputs": 64, "n_dims": 64, "max_rate": 1000.0, "spike_model": "regular"},
    "neurons": {"n_neurons": 30, "tau": 20.0, "threshold": 8.0},
    "weights": {"layers": [20, 10], "max_weight": 100.0},
    "readout": {"n_outputs": 10},
}


def tiny_digits(gradient: dict | None = None, dataset: dict | None = None) -> dict:
    """A fresh gradient config of the tiny digits network (plain data, safe to edit).

    Parameters
    ----------
    gradient, dataset : dict, optional
        Keys of the ``gradient`` / ``dataset`` sections (the defaults: one epoch of
        minibatches of 64 at learning rate 0.05, the digits).
    """
    return {"network": copy.deepcopy(TINY_DIGITS_NETWORK),
            "gradient": {"epochs": 1, "batch_size": 64, "learning_rate": 0.05,
                         **copy.deepcopy(gradient or {})},
            "dataset": {"name": "digits", **copy.deepcopy(dataset or {})}}


def body_network(weights_part: str, weights: dict, neuron: str = "LIF",
                 neurons: dict | None = None, batch: int = 3, kernels: str = "numpy",
                 seed: int = 3, readout: str = "NeuronRates") -> dict:
    """A ``Network.from_config`` config: 6 inputs (30 % inhibitory) firing up to 400 Hz,
    9 neurons (30 % inhibitory, tau 10 ms, threshold 5 mV, plus ``neurons``), 3 outputs,
    float64, ``batch`` members, weights ``weights_part`` with keys ``weights``."""
    return {
        "parts": {"inputs": "RateMap", "neurons": neuron, "weights": weights_part,
                  "readout": readout},
        "network": {"processing_steps": 1, "batch_size": batch, "dtype": "float64",
                    "reward_mode": "none", "kernels": kernels, "seed": seed},
        "inputs": {"n_inputs": 6, "n_dims": 6, "max_rate": 400.0, "inhibitory_fraction": 0.3},
        "neurons": {"n_neurons": 9, "tau": 10.0, "threshold": 5.0, "inhibitory_fraction": 0.3,
                    **(neurons or {})},
        "weights": dict(weights),
        "readout": {"n_outputs": 3},
    }


def numeric_gradient(model, mask, loss, h: float = 1e-6):
    """Central finite differences of ``loss()`` over the weights of ``model`` where ``mask``
    is True (each weight nudged by ``+-h`` and restored); zeros elsewhere."""
    import numpy as np

    numeric = np.zeros_like(model.weights)
    for idx in zip(*np.nonzero(mask)):
        w0 = model.weights[idx]
        model.weights[idx] = w0 + h
        plus = loss()
        model.weights[idx] = w0 - h
        minus = loss()
        model.weights[idx] = w0
        numeric[idx] = (plus - minus) / (2 * h)
    return numeric
