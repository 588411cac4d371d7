"""ReceptiveField feature maps and shared (convolution-like) kernels, against hand-computed values."""

import re

import numpy as np
import pytest

from spikey import ConfigError, Network
from spikey.snn.weight.receptive_field import ReceptiveField, ShareWeights

# a 3 x 3 image, 2 x 2 windows, stride 1: four windows, in row-major order
IMAGE = np.array([[1.0, 0.0, 2.0],
                  [0.0, 1.0, 0.0],
                  [3.0, 0.0, 1.0]])
KERNEL = np.array([[1.0, 2.0],
                   [3.0, 4.0]])
# cross-correlation, worked by hand:
#   (0, 0): 1*1 + 2*0 + 3*0 + 4*1 = 5     (0, 1): 1*0 + 2*2 + 3*1 + 4*0 = 7
#   (1, 0): 1*0 + 2*1 + 3*3 + 4*0 = 11    (1, 1): 1*1 + 2*0 + 3*0 + 4*1 = 5
DRIVE = np.array([5.0, 7.0, 11.0, 5.0])


def _config(weights, n_neurons, n_inputs=9, batch_size=1, synapses=None, modifiers=None,
            inputs=None):
    config = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "ReceptiveField",
                        "readout": "NeuronRates"},
              "network": {"processing_steps": 5, "batch_size": batch_size, "seed": 3,
                          "reward_mode": "none", "dtype": "float64"},
              "inputs": inputs or {"n_inputs": n_inputs, "n_dims": 1, "rate_map": [0.0, 0.0]},
              "neurons": {"n_neurons": n_neurons},
              "weights": {"max_weight": 100.0, "input_shape": [3, 3], "window": 2, "stride": 1,
                          **weights},
              "readout": {"n_outputs": 1}}
    if synapses:
        config["parts"]["synapses"] = synapses.pop("part")
        config["synapses"] = synapses
    if modifiers:
        config["modifiers"] = modifiers
    return config


def _net(weights, n_neurons, **kw):
    return Network.from_config(_config(weights, n_neurons, **kw))


def test_shared_kernel_gives_the_hand_computed_cross_correlation():
    net = _net({"layers": [4, 1], "shared": True, "distribution": "uniform", "spread": 0.5}, 5,
               batch_size=2)
    part = net.weights
    W = part.matrix[:, :9, :4]
    # as built: every window carries its member's one drawn kernel, at the window's cells
    for b in range(2):
        kernel = part.kernels()[b, 0]
        assert not np.allclose(kernel, kernel.flat[0])  # drawn, not constant
        for f, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
            expected = np.zeros((3, 3))
            expected[r:r + 2, c:c + 2] = kernel
            np.testing.assert_array_equal(W[b, :, f].reshape(3, 3), expected)
    assert not np.allclose(part.kernels()[0], part.kernels()[1])  # one kernel per member
    part.set_kernels(KERNEL)
    for b in range(2):
        np.testing.assert_array_equal(IMAGE.ravel() @ part.matrix[b, :9, :4], DRIVE)
    np.testing.assert_array_equal(part.kernels()[:, 0], [KERNEL, KERNEL])
    # the output layer is untouched and dense as in Layered
    assert part.mask[0, 9:13, 4].all() and not part.mask[0, :9, 4].any()


def test_maps_are_map_major_and_each_has_its_kernel():
    net = _net({"layers": [8, 1], "maps": 2, "shared": True, "distribution": "uniform",
                "spread": 0.5}, 9)
    part = net.weights
    kernels = np.array([KERNEL, 10.0 * KERNEL])
    part.set_kernels(kernels[None])
    drive = IMAGE.ravel() @ part.matrix[0, :9, :8]
    np.testing.assert_allclose(drive, np.concatenate([DRIVE, 10.0 * DRIVE]))
    # unshared maps: both copies of the window grid with the exact window mask
    plain = _net({"layers": [8, 1], "maps": 2}, 9).weights.mask[0, :9, :8]
    np.testing.assert_array_equal(plain[:, :4], plain[:, 4:])
    np.testing.assert_array_equal(plain.sum(axis=0), 4)


def test_shared_probability_drops_the_same_cells_in_every_window():
    net = _net({"layers": [4, 1], "shared": True, "probability": [0.5, 1.0]}, 5, batch_size=4)
    mask = net.weights.mask[:, :9, :4]
    taps = net.weights.taps  # (4 windows, 4 cells)
    for b in range(4):
        cells = mask[b, taps, np.arange(4)[:, None]]  # (window, cell)
        np.testing.assert_array_equal(cells, np.broadcast_to(cells[0], cells.shape))
    assert 0 < mask.sum() < 4 * 16  # some cells dropped, some kept, over the members


def test_tie_sets_each_cell_to_its_mean_over_windows():
    net = _net({"layers": [4, 1], "shared": True}, 5)
    part = net.weights
    part.set_kernels(KERNEL)
    # window (0, 1) is neuron 1; its top-left cell is input 1; add 4 mV there only
    part.matrix[0, 1, 1] += 4.0
    assert part.kernels()[0, 0, 0, 0] == pytest.approx(1.0 + 4.0 / 4)
    part.tie()
    expected = KERNEL.copy()
    expected[0, 0] = 2.0  # (1 + 1 + 1 + 5) / 4
    for f, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        np.testing.assert_array_equal(part.matrix[0, :9, f].reshape(3, 3)[r:r + 2, c:c + 2],
                                      expected)
    np.testing.assert_array_equal(IMAGE.ravel() @ part.matrix[0, :9, :4], DRIVE + [1, 0, 0, 1])


def test_share_weights_keeps_kernels_shared_under_learning():
    # every pixel on at 200 Hz: LTP potentiates every window; windows see the same input
    # statistics but different Poisson draws, so without tying their kernels drift apart
    inputs = {"n_pixels": 9, "max_rate": 200.0}
    learn = {"part": "LTP", "learning_rate": 0.02, "A_plus": 1.0}
    weights = {"layers": [4, 1], "shared": True, "weight": 8.0}
    nets = []
    for modifiers in (None, [{"part": "ShareWeights"}]):
        config = _config(weights, 5, synapses=dict(learn), modifiers=modifiers, inputs=inputs)
        config["parts"]["inputs"] = "PixelRate"
        nets.append(Network.from_config(config).train())
    free, tied = nets
    for net in nets:
        for _ in range(5):
            net.tick(np.ones((1, 9)))
    windows, _ = free.weights._window_weights()
    assert np.ptp(windows, axis=2).max() > 0.1  # learning alone breaks the sharing
    tied.modifiers[0].apply(0)  # what the next tick's start does
    windows, _ = tied.weights._window_weights()
    np.testing.assert_allclose(np.ptp(windows, axis=2), 0.0, atol=1e-12)
    assert (tied.weights.kernels() > 8.1).all()  # and the kernel learned


def test_shared_weights_errors():
    with pytest.raises(ConfigError, match=re.escape(
            "layers[0] = 4; expected maps x windows = 2 x (2 x 2) = 8")):
        _net({"layers": [4, 1], "maps": 2}, 5)
    with pytest.raises(ConfigError, match=re.escape("maps = 0")):
        _net({"layers": [4, 1], "maps": 0}, 5)
    unshared = _net({"layers": [4, 1]}, 5).weights
    with pytest.raises(ConfigError, match=re.escape("tie() needs shared: true")):
        unshared.tie()
    with pytest.raises(ConfigError, match=re.escape("set_kernels() needs shared: true")):
        unshared.set_kernels(KERNEL)
    shared = _net({"layers": [4, 1], "shared": True}, 5).weights
    with pytest.raises(ConfigError, match=re.escape(
            "set_kernels: got shape (3, 3); expected one broadcastable to (B, maps, *window) "
            "= (1, 1, 2, 2)")):
        shared.set_kernels(np.ones((3, 3)))
    with pytest.raises(ConfigError, match=re.escape(
            "ShareWeights): ties the kernels of weights: ReceptiveField with shared: true; the "
            "weight part is weights (ReceptiveField) with shared: false")):
        _net({"layers": [4, 1]}, 5, modifiers=[{"part": "ShareWeights"}])
    with pytest.raises(ConfigError, match=re.escape("shared")):
        ReceptiveField(layers=[4], shared="yes")
    assert ShareWeights(every=3).every == 3


def test_shared_network_round_trips_and_batch_members_equal_solo_runs():
    weights = {"layers": [8, 1], "maps": 2, "shared": True, "distribution": "uniform",
               "spread": 0.5}
    net = _net(weights, 9, batch_size=3)
    assert Network.from_config(net.get_config()).get_config() == net.get_config()
    for b in range(3):
        solo = Network.from_config(_config(weights, 9, batch_size=1) | {
            "network": {"processing_steps": 5, "batch_size": 1, "seed": 3 + b,
                        "reward_mode": "none", "dtype": "float64"}})
        np.testing.assert_array_equal(net.weights.matrix[b], solo.weights.matrix[0])
