"""Short-term STDP changes fade back to long-term weights unless modulation consolidates them."""

import math

import numpy as np
import pytest

from conftest import build_pair_config, drive_synapses
from spikey import ConfigError, Network

SYN = {"learning_rate": 0.5, "A_plus": 1.0, "A_minus": -1.0, "tau_plus": 20.0,
       "tau_minus": 20.0, "tau_short": 100.0, "consolidation_rate": 0.01, "update_every": 10}


def _net():
    cfg = build_pair_config("Consolidation", SYN, weight=2.0)
    cfg["parts"]["neurons"] = "ModulatedLIF"
    cfg["neurons"] = {"n_neurons": 1, "modulation_tau": 1e9}
    return Network.from_config(cfg)


def test_unmodulated_changes_decay_back_to_long_term():
    net = _net()
    drive_synapses(net, pre_steps=[0], post_steps=[3], n_steps=10)  # one update at step 10
    dw = SYN["learning_rate"] * math.exp(-3 / 20.0)
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0], 2.0 + dw * math.exp(-10 / 100.0),
                               rtol=1e-9)
    drive_synapses(net, [], [], n_steps=990)  # 99 more updates
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0], 2.0 + dw * math.exp(-1000 / 100.0),
                               rtol=1e-9)
    np.testing.assert_array_equal(net.synapses.long_term[0, 0, 0], 2.0)


def test_modulation_moves_the_change_into_long_term_memory():
    net = _net()
    net.neurons.modulate(np.full((1, 1), 2.0))  # tau 1e9: stays at 2
    drive_synapses(net, pre_steps=[0], post_steps=[3], n_steps=10)
    dw = SYN["learning_rate"] * math.exp(-3 / 20.0)
    gate = 1 - math.exp(-0.01 * 2.0 * 10)
    np.testing.assert_allclose(net.synapses.long_term[0, 0, 0], 2.0 + gate * dw, rtol=1e-9)
    drive_synapses(net, [], [], n_steps=3000)
    # both converge to a consolidated weight well above the start
    assert net.synapses.long_term[0, 0, 0] > 2.0 + 0.3 * dw
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0], net.synapses.long_term[0, 0, 0],
                               rtol=1e-6)


def test_needs_a_modulated_neuron():
    cfg = build_pair_config("Consolidation", SYN, weight=2.0)
    with pytest.raises(ConfigError, match="needs a neuron part with a modulation level"):
        Network.from_config(cfg)
