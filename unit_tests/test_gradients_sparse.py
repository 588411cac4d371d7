"""Gradient training of a network whose weights are SparseFanIn (trained densely on its
synapses; spikey.gradients.engine.SpikingModel.from_network)."""

import numpy as np
import pytest

from spikey.core.params import ConfigError
from spikey.gradients import GradientTrainer, SpikingModel
from spikey.snn import Monitor, Network

from gradient_configs import body_network


def _config(batch=2, kernels="numpy", seed=1):
    return body_network("SparseFanIn", {"fan_in": 5, "low": 1.0, "high": 6.0, "max_weight": 8.0},
                        batch=batch, kernels=kernels, seed=seed, readout="Softmax")


@pytest.mark.parametrize("kernels", ["numpy", "auto"])
def test_forward_of_a_sparse_fan_in_network_equals_its_stepping(kernels):
    net = Network.from_config(_config(kernels=kernels))
    T, B = 40, net.batch_size
    potentials = Monitor(net, "neurons.potential")
    net._monitors.append(potentials)
    obs = np.random.default_rng(0).random((B, 6))
    spikes, inputs = [], []
    for _ in range(T):
        net.tick(obs)
        spikes.append(net.tick_spikes[:, 0].copy())
        inputs.append(net.tick_input_spikes[:, 0].copy())
    spikes, inputs = np.stack(spikes, 1), np.stack(inputs, 1).astype(float)
    V_net = np.stack(potentials.records, 1)
    assert spikes.sum() > 20 and not spikes.all()
    for b in range(B):
        model = SpikingModel.from_network(net, member=b)
        assert model.mask.sum() == 9 * 5  # fan-in 5 onto each of the 9 neurons
        tape = model.forward(inputs[b:b + 1])
        z, u = tape.batch_spikes[0], tape.batch_potential[0]
        V = u * (1 - z) + model.reset_potential * z
        np.testing.assert_array_equal(z.astype(bool), spikes[b])
        assert np.abs(V - V_net[b]).max() <= 1e-6


def test_training_a_sparse_fan_in_network_keeps_its_synapses_and_exports_back():
    config = _config(batch=1)
    config["network"]["processing_steps"] = 10
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    x = np.clip(0.2 + 0.7 * (np.arange(6)[None] % 3 == y[:, None])
                + rng.normal(0, 0.1, (60, 6)), 0, 1)
    trainer = GradientTrainer(config, {"epochs": 15, "batch_size": 10, "init": "network",
                                       "sign_constrained": True, "learning_rate": 0.1})
    before = trainer.model.weights.copy()
    history = trainer.fit((x[:40], y[:40]), (x[40:], y[40:]))
    assert history[-1]["loss"] < history[0]["loss"]
    changed = trainer.model.weights != before
    assert changed.any() and not (changed & ~trainer.model.mask).any()  # only its synapses
    net = Network.from_config({**config, "network": {**config["network"], "batch_size": 1}})
    trainer.export_to(net)
    np.testing.assert_allclose(SpikingModel.from_network(net).weights, trainer.model.weights,
                               rtol=0, atol=1e-12)
    other = Network.from_config(_config(batch=1, seed=7))  # other synapses drawn
    with pytest.raises(ConfigError, match="member 0 of the network has synapses the trained "
                                          "network lacks"):
        trainer.export_to(other)
