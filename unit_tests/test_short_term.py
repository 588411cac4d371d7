"""Tsodyks-Markram short-term plasticity: hand recursion, steady state, and in a network."""

import math

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network


def _net(stp, n_inputs=2, steps=50, trains=None, batch=1):
    cfg = build_small_config(parts={"stp": "TsodyksMarkram", "synapses": None, "rewarder": None},
                             synapses=None, rewarder=None)
    cfg["stp"] = stp
    cfg["network"].update(reward_mode="none", dtype="float64", batch_size=batch,
                          processing_steps=steps)
    cfg["parts"]["inputs"] = "StaticMap"
    cfg["parts"]["weights"] = "Manual"
    cfg["inputs"] = {"n_inputs": n_inputs, "n_patterns": 1, "train_steps": steps,
                     "trains": trains}
    cfg["neurons"].update(threshold=1e9, tau=1e9)  # a pure integrator that never fires
    cfg["weights"] = {"max_weight": 5.0, "matrix": [[1.0] * 6] * n_inputs + [[0.0] * 6] * 6}
    return Network.from_config(cfg)


def hand_efficacies(spike_steps, U, tau_d, tau_f, dt=1.0):
    """Event-by-event Tsodyks-Markram with exact relaxation between spikes."""
    u, x, last, out = U, 1.0, None, []
    for t in spike_steps:
        if last is not None:
            gap = (t - last) * dt
            x = 1 - (1 - x) * math.exp(-gap / tau_d)
            if tau_f:
                u = U + (u - U) * math.exp(-gap / tau_f)
        if tau_f:
            u = u + U * (1 - u)
        release = u * x
        x -= release
        out.append(release / U)
        last = t
    return np.array(out)


@pytest.mark.parametrize("tau_f", [0.0, 50.0])
def test_efficacies_follow_the_recursion(tau_f):
    U, tau_d = 0.4, 100.0
    spike_steps = [0, 3, 4, 10, 11, 12, 30, 45]
    trains = np.zeros((1, 50, 2), dtype=int)
    trains[0, spike_steps, 0] = 1
    net = _net({"U": U, "tau_depression": tau_d, "tau_facilitation": tau_f}, trains=trains.tolist())
    # the neuron integrates without leak: its potential after each spike step jumps by the efficacy
    monitor = net.add_monitor("neurons.potential")
    net.tick(np.array([0]))
    v = np.concatenate([[0.0], monitor.data[0, :, 0]])
    jumps = (v[1:] - float(net.neurons.decay) * v[:-1])[spike_steps]  # input of each step
    np.testing.assert_allclose(jumps, hand_efficacies(spike_steps, U, tau_d, tau_f), rtol=1e-9)
    assert jumps[0] == pytest.approx(1.0 if tau_f == 0 else 2 - U)  # facilitation comes first
    if tau_f == 0:
        assert jumps[2] < jumps[1] < 1.0  # depression
    else:
        assert jumps[1] > hand_efficacies(spike_steps, U, tau_d, 0.0)[1]  # facilitation helps


def test_regular_train_settles_at_the_closed_form_steady_state():
    U, tau_d, period = 0.3, 80.0, 5
    trains = np.zeros((1, 400, 1), dtype=int)
    trains[0, ::period, 0] = 1
    net = _net({"U": U, "tau_depression": tau_d}, n_inputs=1, steps=400, trains=trains.tolist())
    monitor = net.add_monitor("neurons.potential")
    net.tick(np.array([0]))
    v = np.concatenate([[0.0], monitor.data[0, :, 0]])
    jumps = (v[1:] - float(net.neurons.decay) * v[:-1])[::period]
    e = math.exp(-period / tau_d)
    x_star = (1 - e) / (1 - (1 - U) * e)
    np.testing.assert_allclose(jumps[-1], x_star, rtol=1e-6)  # 80 spikes: converged to 1e-7
    assert jumps[0] == pytest.approx(1.0) and jumps[-1] < 0.5


def test_batch_members_equal_solo_networks_and_bad_keys():
    rng = np.random.default_rng(3)
    trains = (rng.random((1, 60, 2)) < 0.3).astype(int).tolist()
    stp = {"U": 0.2, "tau_depression": 50.0, "tau_facilitation": 30.0}
    batch = _net(stp, steps=60, trains=trains, batch=3)
    batch.tick(np.zeros(3, dtype=int))
    solo = _net(stp, steps=60, trains=trains)
    solo.tick(np.array([0]))
    for b in range(3):
        np.testing.assert_array_equal(batch.neurons.potential[b], solo.neurons.potential[0])
    with pytest.raises(ConfigError, match=r"stp \(TsodyksMarkram\)\.U = 1.5 is out of range"):
        _net({"U": 1.5})
