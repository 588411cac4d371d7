"""Direct, modulatory and electric synapses (seed 000) and the central pattern generator."""

import copy
import os
import sys

import numpy as np
import pytest

from spikey import ConfigError, Network

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import central_pattern_generator as cpg  # noqa: E402


def test_cpg_frequency_rises_with_modulation_over_five_levels():
    hz = cpg.frequencies((0.0, 0.25, 0.5, 0.75, 1.0))
    assert np.all(np.diff(hz) > 0), hz
    # without modulation: threshold 16 mV filled at 0.5 mV/ms, plus 2 ms refractory
    assert hz[0] == pytest.approx(1000 / (16 / 0.5 + 2), abs=1.5)


def test_electric_synapse_fires_the_target_on_arrival():
    net = Network.from_config(cpg.config(1))
    net.tick(np.array([[1.0, 0.5]]))
    pacemaker, output = net.tick_spikes[0, :, 0], net.tick_spikes[0, :, 1]
    assert pacemaker.sum() > 10
    # a body spike arrives one step later (the base delay); the target fires in that step
    sent = np.flatnonzero(pacemaker) + 1
    np.testing.assert_array_equal(np.flatnonzero(output), sent[sent < len(output)])
    assert (net.neurons.potential[0, 1] == 0.0)  # reset like a spike


def test_modulatory_synapses_shift_modulation_not_the_potential():
    cfg = cpg.config(1)
    net = Network.from_config(cfg)
    net.tick(np.array([[0.0, 1.0]]))  # modulatory input only
    assert not net.tick_spikes.any()
    assert np.all(net.neurons.potential == 0.0)
    # relaxing level M with tau 100 ms fed 10 x 0.001 per ms settles near 1.0
    assert net.neurons.modulation[0, 0] == pytest.approx(1.0, rel=0.02)
    assert net.neurons.modulation[0, 1] == 0.0


def test_batch_of_levels_equals_solo_networks():
    levels = np.array([0.2, 0.9])
    batch = Network.from_config(cpg.config(2))
    batch.tick(np.stack([np.ones(2), levels], axis=1))
    for b, level in enumerate(levels):
        solo = Network.from_config({**cpg.config(1), "network": {
            **cpg.config(1)["network"], "seed": b}})
        solo.tick(np.array([[1.0, level]]))
        np.testing.assert_array_equal(batch.tick_spikes[b], solo.tick_spikes[0])


def test_bad_synapse_types():
    cfg = copy.deepcopy(cpg.config(1))
    cfg["weights"]["synapse_types"][0]["type"] = "chemical"
    with pytest.raises(ConfigError, match=r"synapse_types\[0\]\.type = 'chemical'"):
        Network.from_config(cfg)
    cfg = copy.deepcopy(cpg.config(1))
    cfg["weights"]["synapse_types"][1]["post"] = [1, 9]
    with pytest.raises(ConfigError, match=r"synapse_types\[1\]\.post"):
        Network.from_config(cfg)
    cfg = copy.deepcopy(cpg.config(1))
    cfg["parts"]["neurons"] = "LIF"
    cfg["neurons"] = {"n_neurons": 2}
    with pytest.raises(ConfigError, match="modulatory synapses but neurons \\(LIF\\) has no"):
        Network.from_config(cfg)
