"""Dopamine-modulated STDP (Izhikevich 2007) against hand computation, and FixedOutDegree."""

import math

import numpy as np
import pytest

from conftest import build_pair_config, build_small_config, drive_synapses
from spikey import Network

W0 = 2.0
DA = {"learning_rate": 1.0, "A_plus": 0.1, "A_minus": -0.15, "tau_plus": 19.5, "tau_minus": 19.5,
      "tau_z": 1000.0, "dopamine_tau": 200.0, "baseline": 0.0, "update_every": 10}


def _net(**synapses):
    return Network.from_config(build_pair_config("DASTDP", {**DA, **synapses}, weight=W0))


def test_distal_reward_changes_the_weight_by_dopamine_times_eligibility():
    D, reward_at, r = 5, 40, 0.5  # pairing at steps 0 -> 5, reward after step 40
    net = _net()
    drive_synapses(net, pre_steps=[0], post_steps=[D], n_steps=reward_at + 1)
    assert net.weights.matrix[0, 0, 0] == W0  # tonic dopamine 0: no change before the reward
    net.synapses.reward(np.array([r]), net.weights)
    drive_synapses(net, [], [], n_steps=100)  # updates at step counts 50, 60, ..., 140
    c0 = DA["A_plus"] * math.exp(-D / DA["tau_plus"])
    expected = 0.0
    for update_step in range(49, 141, 10):  # 0-based step index at which an update happens
        c = c0 * math.exp(-(update_step - D) / DA["tau_z"])
        d = r * math.exp(-(update_step - reward_at) / DA["dopamine_tau"])
        expected += DA["learning_rate"] * d * c
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0] - W0, expected, rtol=1e-6)
    assert expected > 1e-3


def test_tonic_dopamine_and_depression():
    net = _net(baseline=0.002)
    drive_synapses(net, pre_steps=[8], post_steps=[3], n_steps=10)  # post before pre: LTD
    c = DA["A_minus"] * math.exp(-5 / DA["tau_minus"])
    # the update after step 10 (index 9) sees the eligibility one step after the pairing
    expected = 0.002 * c * math.exp(-1 / DA["tau_z"])
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0] - W0, expected, rtol=1e-6)


def test_inhibitory_synapses_stay_fixed_unless_plastic():
    for plastic, changes in [(False, False), (True, True)]:
        cfg = build_pair_config("DASTDP", {**DA, "baseline": 1.0, "plastic_inhibitory": plastic},
                                weight=W0, inputs={"inhibitory_fraction": 1.0})
        net = Network.from_config(cfg)
        drive_synapses(net, pre_steps=[0], post_steps=[2], n_steps=10)
        assert (net.weights.matrix[0, 0, 0] != W0) == changes


def test_fixed_out_degree_topology():
    cfg = build_small_config(parts={"weights": "FixedOutDegree", "synapses": None},
                             synapses=None)
    cfg["neurons"].update(n_neurons=50, inhibitory_fraction=0.2)
    cfg["weights"] = {"max_weight": 4.0, "out_degree": 10, "weight": 1.0, "inhibitory_weight": 2.0,
                      "inhibitory_fraction": 0.2, "inhibitory_targets": "excitatory"}
    cfg["network"]["reward_mode"] = "none"
    cfg["parts"]["rewarder"] = None
    cfg.pop("rewarder", None)
    net = Network.from_config(cfg)
    n_in = net.n_inputs
    mask = net.weights.mask[0]
    body = mask[n_in:]
    inhibitory = net.neurons.polarity < 0
    assert not mask[:n_in].any()  # input_density 0
    assert not np.diag(body).any()  # no self-loops
    assert (body.sum(axis=1) <= 10).all() and body.sum(axis=1).mean() > 9  # repeats collapse
    assert not body[inhibitory][:, inhibitory].any()  # inhibitory -> excitatory only
    np.testing.assert_array_equal(net.weights.matrix[0][n_in:][inhibitory].max(axis=1), 2.0)
    np.testing.assert_array_equal(net.weights.matrix[0][n_in:][~inhibitory].max(axis=1), 1.0)
