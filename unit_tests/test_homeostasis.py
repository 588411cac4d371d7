"""Homeostatic threshold: offsets follow the hand-computed rate error and rates converge."""

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network


def _net(batch_size=1, **modifier):
    cfg = build_small_config(
        parts={"synapses": None, "rewarder": None},
        network={"batch_size": batch_size, "reward_mode": "none", "processing_steps": 100},
        inputs={"rate_map": [0.0, 150.0]},
        weights={"low": 1.0, "high": 4.0},
        synapses=None, rewarder=None)
    cfg["modifiers"] = [{"part": "HomeostaticThreshold", "target_rate": 20.0, **modifier}]
    return Network.from_config(cfg)


OBS = np.ones((1, 2), dtype=int)


def test_offset_moves_by_eta_times_rate_error():
    net = _net(rate=0.05)
    net.tick(OBS)
    rates = net.tick_spikes.sum(axis=1) * 1000.0 / 100.0  # Hz over the 100 ms tick
    expected = np.clip(0.05 * (rates - 20.0), -10.0, 10.0)
    np.testing.assert_allclose(net.modifiers[0].offset, expected, rtol=1e-6)
    # the next tick's spike test uses threshold + offset
    net.tick(OBS)
    np.testing.assert_allclose(net.neurons.threshold_value, 16.0 + expected, rtol=1e-6)


def test_rates_converge_on_the_target_and_offsets_survive_save_load(tmp_path):
    net = _net(rate=0.02, min_offset=-20.0, max_offset=100.0)
    rates = []
    for tick in range(200):
        net.tick(OBS)
        rates.append(net.tick_spikes.sum(axis=1)[0] * 10.0)  # Hz per neuron
    rates = np.array(rates)
    assert rates[0].mean() > 150.0  # strongly driven at the start
    late = rates[-50:].mean(axis=0)  # rates fluctuate tick to tick (2 spikes = 20 Hz)
    assert np.all(np.abs(late - 20.0) < 5.0), late
    assert np.all(net.modifiers[0].offset < 100.0)  # converged inside the bounds
    net.save(tmp_path / "net.npz")
    loaded = Network.load(tmp_path / "net.npz")
    np.testing.assert_array_equal(loaded.modifiers[0].offset, net.modifiers[0].offset)


def test_frozen_network_does_not_adapt():
    net = _net().eval()
    net.tick(OBS)
    assert not net.modifiers[0].offset.any()


def test_bad_keys_are_named():
    with pytest.raises(ConfigError, match="min_offset"):
        _net(min_offset=5.0, max_offset=1.0)
    with pytest.raises(ConfigError, match="neurons"):
        _net(neurons=[3, 99])


def _two(first, second, rate=0.02):
    """Two HomeostaticThreshold modifiers on one neuron part (6 neurons)."""
    cfg = build_small_config(
        parts={"synapses": None, "rewarder": None},
        network={"batch_size": 1, "reward_mode": "none", "processing_steps": 100},
        inputs={"rate_map": [0.0, 150.0]},
        weights={"low": 1.0, "high": 4.0},
        synapses=None, rewarder=None)
    cfg["modifiers"] = [
        {"part": "HomeostaticThreshold", "rate": rate, "min_offset": -20.0, "max_offset": 100.0,
         **first},
        {"part": "HomeostaticThreshold", "rate": rate, "min_offset": -20.0, "max_offset": 100.0,
         **second}]
    return Network.from_config(cfg)


def test_two_modifiers_on_disjoint_neurons_each_set_their_own_thresholds():
    # the old apply wrote base + its whole offset array into every threshold, so the second
    # modifier reset the first one's neurons to the bare 16 mV each tick
    net = _two({"target_rate": 10.0, "neurons": [0, 3]}, {"target_rate": 40.0, "neurons": [3, 6]})
    for _ in range(3):
        net.tick(OBS)
    first, second = net.modifiers[0].offset.copy(), net.modifiers[1].offset.copy()
    assert np.abs(first[:, :3]).min() > 0.5 and np.abs(second[:, 3:]).min() > 0.5
    assert not first[:, 3:].any() and not second[:, :3].any()
    net.tick(OBS)  # its spike test reads the offsets the last tick left
    expected = 16.0 + np.concatenate([first[:, :3], second[:, 3:]], axis=1)
    np.testing.assert_allclose(net.neurons.threshold_value, expected, rtol=1e-6)


def test_two_modifiers_hold_their_neurons_at_their_own_targets():
    net = _two({"target_rate": 10.0, "neurons": [0, 3]}, {"target_rate": 40.0, "neurons": [3, 6]})
    rates = []
    for _ in range(250):
        net.tick(OBS)
        rates.append(net.tick_spikes.sum(axis=1)[0] * 10.0)  # Hz per neuron
    late = np.array(rates[-60:]).mean(axis=0)
    assert np.all(np.abs(late[:3] - 10.0) < 4.0), late  # old code: the first three stay > 100 Hz
    assert np.all(np.abs(late[3:] - 40.0) < 8.0), late


def test_overlapping_threshold_modifiers_are_refused():
    with pytest.raises(ConfigError, match=r"modifiers\[1\].*neurons = \[2, 6\] overlaps "
                                          r"modifiers\[0\].*\[0, 3\] on \[2, 3\)"):
        _two({"target_rate": 10.0, "neurons": [0, 3]}, {"target_rate": 40.0, "neurons": [2, 6]})
    with pytest.raises(ConfigError, match="overlaps"):  # both on all neurons (the default)
        _two({"target_rate": 10.0}, {"target_rate": 40.0})
