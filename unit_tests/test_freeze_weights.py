"""FreezeWeights: a block of synapses stays at its built values while the rest learns."""

import numpy as np
import pytest

import spikey
from spikey import ConfigError


def _net(modifiers):
    return spikey.Network.from_config({
        "parts": {"inputs": "PixelRate", "neurons": "LIF", "weights": "Random", "synapses": "STDP",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": 40, "batch_size": 2, "seed": 3, "reward_mode": "none"},
        "inputs": {"n_pixels": 4, "max_rate": 300.0},
        "neurons": {"n_neurons": 3, "threshold": 2.0},
        "weights": {"low": 1.0, "high": 3.0, "max_weight": 5.0},
        "synapses": {"learning_rate": 0.5},
        "readout": {"n_outputs": 3},
        "modifiers": modifiers,
    })


def test_frozen_block_is_restored_each_tick_and_the_rest_learns():
    net = _net([{"part": "FreezeWeights", "rows": [4, 7], "neurons": [0, 3]}])
    built = net.weights.matrix.copy()
    x = np.full((2, 4), 1.0)
    for _ in range(5):
        net.tick(x)
    # inside the last tick STDP moved the body -> body block; the next tick's start undoes it
    net.eval().tick(x)
    np.testing.assert_array_equal(net.weights.matrix[:, 4:7], built[:, 4:7])
    assert np.abs(net.weights.matrix[:, :4] - built[:, :4]).max() > 0.1   # inputs learned


def test_without_freezing_the_same_block_changes():
    net = _net([])
    built = net.weights.matrix.copy()
    for _ in range(6):
        net.tick(np.full((2, 4), 1.0))
    assert np.abs(net.weights.matrix[:, 4:7] - built[:, 4:7]).max() > 0.1


def test_freeze_weights_refuses_a_bad_block():
    with pytest.raises(ConfigError, match=r"rows = \[4, 9\]; expected \[start, stop\] with 0 <= start < stop <= 7"):
        _net([{"part": "FreezeWeights", "rows": [4, 9]}])
    with pytest.raises(ConfigError, match="neurons"):
        _net([{"part": "FreezeWeights", "neurons": [2, 2]}])
