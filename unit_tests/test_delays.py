"""Synaptic delays: arrival times, per-synapse delays, batch equivalence, save/load in flight."""

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network


def _net(delays, n_inputs=2, steps=20, trains=None, batch=1, n_neurons=3, split=False):
    cfg = build_small_config(parts={"synapses": None, "rewarder": None, "inputs": "StaticMap",
                                    "weights": "Manual"}, synapses=None, rewarder=None)
    cfg["network"].update(reward_mode="none", dtype="float64", batch_size=batch,
                          processing_steps=steps)
    cfg["inputs"] = {"n_inputs": n_inputs, "n_patterns": 1, "train_steps": steps, "trains": trains}
    cfg["neurons"].update(n_neurons=n_neurons, threshold=1e9, tau=1e9)
    cfg["readout"] = {"n_outputs": 1}
    matrix = [[1.0] * n_neurons for _ in range(n_inputs)] + [[0.0] * n_neurons] * n_neurons
    cfg["weights"] = {"max_weight": 5.0, "matrix": matrix, "delays": delays}
    return Network.from_config(cfg)


def _input_per_step(net, steps):
    monitor = net.add_monitor("neurons.potential")
    net.tick(np.zeros(net.batch_size, dtype=int))
    v = np.concatenate([np.zeros((net.batch_size, 1, net.n_neurons)), monitor.data], axis=1)
    return v[:, 1:] - float(net.neurons.decay) * v[:, :-1]  # (B, steps, N)


def test_each_synapse_arrives_after_its_own_delay():
    trains = np.zeros((1, 20, 2), dtype=int)
    trains[0, 2, 0] = 1  # input 0 spikes at step 2
    delays = [[0, 3, 7], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    net = _net(delays, trains=trains.tolist())
    arrived = _input_per_step(net, 20)[0]
    for k, d in enumerate([0, 3, 7]):
        np.testing.assert_allclose(np.flatnonzero(np.abs(arrived[:, k]) > 1e-6), [2 + d])
        assert arrived[2 + d, k] == pytest.approx(1.0)


def test_uniform_delay_shifts_the_whole_response_and_no_delay_is_the_default():
    rng = np.random.default_rng(0)
    trains = (rng.random((1, 30, 2)) < 0.3).astype(int).tolist()
    base = _input_per_step(_net(None, steps=30, trains=trains), 30)
    shifted = _input_per_step(_net(4, steps=30, trains=trains), 30)
    np.testing.assert_allclose(shifted[:, 4:], base[:, :-4], atol=1e-9)
    np.testing.assert_allclose(shifted[:, :4], 0.0, atol=1e-12)


def test_random_delays_batch_equivalence_and_save_load_in_flight(tmp_path):
    rng = np.random.default_rng(1)
    trains = (rng.random((1, 40, 2)) < 0.4).astype(int).tolist()
    spec = {"uniform_int": [0, 5]}
    batch = _net(spec, steps=40, trains=trains, batch=3)
    assert batch.weights.delay_matrix.shape == (3, 5, 3)
    assert not np.array_equal(batch.weights.delay_matrix[0], batch.weights.delay_matrix[1])
    out = _input_per_step(batch, 40)
    for b in range(3):
        cfg = batch.get_config()
        cfg["network"].update(batch_size=1, seed=b)
        solo = Network.from_config(cfg)
        np.testing.assert_array_equal(_input_per_step(solo, 40)[0], out[b])
    batch.save(tmp_path / "net.npz")  # input still in the ring buffers
    assert batch._pending.any()
    loaded = Network.load(tmp_path / "net.npz")
    batch.tick(np.zeros(3, dtype=int))
    loaded.tick(np.zeros(3, dtype=int))
    np.testing.assert_array_equal(batch.neurons.potential, loaded.neurons.potential)


def test_bad_delays():
    with pytest.raises(ConfigError, match="delays: expected an int >= 0"):
        _net([[1, 2]])
    with pytest.raises(ConfigError, match="uniform_int"):
        _net({"uniform_int": [3, 1]})
    with pytest.raises(ConfigError, match="delays"):
        _net(-1)
