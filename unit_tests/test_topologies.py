"""Structured weight generators: exact structure, connection statistics and config errors."""

import math
import re

import numpy as np
import pytest

from spikey import ConfigError, Network
from spikey.analysis import block_density, clustering_coefficient, in_degree, out_degree
from spikey.core.part import REGISTRY, spread_mask

NEW_PARTS = ("Layered", "Ring", "SmallWorld", "SparseEI", "ReceptiveField", "LateralInhibition")


def _config(part, weights, n_neurons, n_inputs=4, n_outputs=1, batch_size=1, seed=0,
            neurons=None, inputs=None, member_seeds=None):
    # E/I topologies and the neurons must mark the same neurons inhibitory
    keys = {key.name: key.default for key in REGISTRY["weights"][part].KEYS}
    if "inhibitory_fraction" in keys:
        fraction = weights.get("inhibitory_fraction", keys["inhibitory_fraction"])
        neurons = {"inhibitory_fraction": fraction, **(neurons or {})}
    network = {"processing_steps": 20, "batch_size": batch_size, "seed": seed,
               "reward_mode": "none", "dtype": "float64"}
    if member_seeds is not None:
        network["member_seeds"] = member_seeds
    return {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": part,
                      "readout": "NeuronRates"},
            "network": network,
            "inputs": {"n_inputs": n_inputs, "n_dims": 1, "rate_map": [0.0, 0.0], **(inputs or {})},
            "neurons": {"n_neurons": n_neurons, **(neurons or {})},
            "weights": {"max_weight": 100.0, **weights},
            "readout": {"n_outputs": n_outputs}}


def _net(part, weights, n_neurons, **kw):
    return Network.from_config(_config(part, weights, n_neurons, **kw))


def _binomial_tolerance(p, n, sigmas=5.0):
    return sigmas * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-12


# ---------------------------------------------------------------- every new part
@pytest.mark.parametrize("part, weights, n, n_in, n_out", [
    ("Layered", {"layers": [6, 3, 1], "skip_probability": 0.5}, 10, 4, 1),
    ("Ring", {"k": 2}, 10, 4, 1),
    ("SmallWorld", {"k": 2, "beta": 0.3}, 10, 4, 1),
    ("SparseEI", {"distribution": "lognormal", "spread": 0.5}, 10, 4, 1),
    ("ReceptiveField", {"window": 2, "stride": 2, "layers": [2, 1]}, 3, 4, 1),
    ("LateralInhibition", {"layers": [8, 2], "inhibitory_fraction": 0.2}, 10, 4, 2),
])
def test_registered_round_trip_and_batch_equivalence(part, weights, n, n_in, n_out):
    assert part in REGISTRY["weights"]
    net = _net(part, weights, n, n_inputs=n_in, n_outputs=n_out, batch_size=3, seed=5)
    assert Network.from_config(net.get_config()).get_config() == net.get_config()
    for b in range(3):  # member b is the solo network seeded 5 + b
        solo = _net(part, weights, n, n_inputs=n_in, n_outputs=n_out, seed=5 + b)
        np.testing.assert_array_equal(net.weights.mask[b], solo.weights.mask[0])
        np.testing.assert_array_equal(net.weights.matrix[b], solo.weights.matrix[0])
    assert (net.weights.matrix[~net.weights.mask] == 0).all()
    net.tick(np.zeros((3, 1)))  # the network runs on it
    with pytest.raises(ConfigError, match="cannot change after build"):
        net.weights.set("distribution", "uniform")


def test_unknown_and_out_of_range_keys_name_the_value():
    with pytest.raises(ConfigError, match=r"weights \(Ring\)\.k = 0 is out of range; expected "
                                          r"value >= 1"):
        _net("Ring", {"k": 0}, 10)
    with pytest.raises(ConfigError, match="unknown key 'beta'"):
        _net("Ring", {"beta": 0.1}, 10)
    with pytest.raises(ConfigError, match=r"spread = 1.5 with distribution 'uniform'; expected "
                                          r"spread <= 1"):
        _net("SparseEI", {"distribution": "uniform", "spread": 1.5}, 10)


@pytest.mark.parametrize("distribution", ["constant", "uniform", "normal", "lognormal"])
def test_weight_distributions_have_the_declared_mean_and_spread(distribution):
    net = _net("SparseEI", {"p_EE": 1.0, "p_EI": 1.0, "p_IE": 1.0, "p_II": 1.0, "w_EE": 2.0,
                            "w_EI": 2.0, "w_IE": 2.0, "w_II": 2.0, "distribution": distribution,
                            "spread": 0.3, "input_density": 0.0}, 300)
    weights = net.weights.matrix[0][net.weights.mask[0]]
    assert weights.size == 300 * 299
    expected_cv = 0.0 if distribution == "constant" else (
        0.3 / math.sqrt(3) if distribution == "uniform" else 0.3)
    assert abs(weights.mean() - 2.0) < 0.01
    assert abs(weights.std() / weights.mean() - expected_cv) < 0.01
    assert (weights >= 0).all()


# ---------------------------------------------------------------- Ring
@pytest.mark.parametrize("k", [1, 3, 7])
def test_ring_degrees_are_exactly_2k_and_neighbours_are_the_nearest(k):
    n, n_in = 30, 5
    net = _net("Ring", {"k": k, "weight": 1.5}, n, n_inputs=n_in)
    mask, matrix = net.weights.mask[0], net.weights.matrix[0]
    np.testing.assert_array_equal(in_degree(mask, n_in), 2 * k)
    np.testing.assert_array_equal(out_degree(mask, n_in), 2 * k)
    body = mask[n_in:]
    distance = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    ring_distance = np.minimum(distance, n - distance)
    np.testing.assert_array_equal(body, (ring_distance >= 1) & (ring_distance <= k))
    np.testing.assert_array_equal(matrix[n_in:][body], 1.5)


def test_directed_ring_projects_one_way():
    n, k, n_in = 20, 3, 2
    net = _net("Ring", {"k": k, "directed": True, "input_density": 0.0}, n, n_inputs=n_in)
    body = net.weights.mask[0][n_in:]
    np.testing.assert_array_equal(in_degree(net.weights.mask[0], n_in), k)
    forward = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n  # j - i mod n
    np.testing.assert_array_equal(body, (forward >= 1) & (forward <= k))
    assert not net.weights.mask[0][:n_in].any()


def test_ring_input_density_and_weight():
    n_in, n = 100, 40
    net = _net("Ring", {"k": 2, "input_density": 0.3, "input_weight": 0.7}, n, n_inputs=n_in)
    inputs = net.weights.mask[0][:n_in]
    assert abs(inputs.mean() - 0.3) < _binomial_tolerance(0.3, inputs.size)
    np.testing.assert_array_equal(net.weights.matrix[0][:n_in][inputs], 0.7)


def test_ring_too_small_for_k_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"k = 5 neighbours on each side needs n_neurons >= 11; "
                                          r"got n_neurons = 10"):
        _net("Ring", {"k": 5}, 10)
    _net("Ring", {"k": 5, "directed": True}, 10)  # one side fits: 5 < 10


# ---------------------------------------------------------------- SmallWorld
def test_small_world_without_rewiring_is_the_ring():
    kw = dict(n_neurons=50, n_inputs=6, seed=3)
    ring = _net("Ring", {"k": 3, "input_density": 0.5}, **kw)
    world = _net("SmallWorld", {"k": 3, "beta": 0.0, "input_density": 0.5}, **kw)
    np.testing.assert_array_equal(world.weights.mask, ring.weights.mask)
    np.testing.assert_array_equal(world.weights.matrix, ring.weights.matrix)


def test_small_world_rewiring_keeps_the_mean_degree_and_lowers_clustering():
    n, k = 200, 4
    ring_clustering = 3 * (k - 1) / (2 * (2 * k - 1))  # 9/14
    clustering = {}
    for beta in (0.0, 0.1, 1.0):
        net = _net("SmallWorld", {"k": k, "beta": beta, "input_density": 0.0}, n, n_inputs=1)
        body = net.weights.mask[0][1:]
        assert body.sum() == 2 * n * k  # n k undirected edges, two synapses each
        np.testing.assert_array_equal(body, body.T)  # undirected: both directions
        assert not np.diag(body).any()
        assert in_degree(net.weights.mask[0], 1).mean() == 2 * k
        clustering[beta] = clustering_coefficient(body)
    assert clustering[0.0] == pytest.approx(ring_clustering, abs=1e-12)
    # Barrat & Weigt: C(beta) ~ C(0) (1 - beta)^3 = 0.469 at beta = 0.1
    assert 0.38 < clustering[0.1] < 0.56
    random_clustering = 2 * k / (n - 1)  # 0.040 for a random graph of mean degree 2k
    assert abs(clustering[1.0] - random_clustering) < 0.03


def test_directed_small_world_keeps_every_out_degree():
    n, k = 100, 3
    net = _net("SmallWorld", {"k": k, "beta": 0.5, "directed": True, "input_density": 0.0}, n,
               n_inputs=1)
    np.testing.assert_array_equal(out_degree(net.weights.mask[0], 1), k)
    assert not np.diag(net.weights.mask[0][1:]).any()
    in_degrees = in_degree(net.weights.mask[0], 1)
    assert in_degrees.std() > 0.5  # rewired targets: in-degrees now vary


# ---------------------------------------------------------------- SparseEI
def test_sparse_ei_densities_and_weights_per_population_pair():
    n, n_in, fraction = 500, 50, 0.2
    probability = {"EE": 0.1, "EI": 0.2, "IE": 0.3, "II": 0.4}
    weight = {"EE": 1.0, "EI": 2.0, "IE": 3.0, "II": 4.0}
    keys = {**{f"p_{k}": v for k, v in probability.items()},
            **{f"w_{k}": v for k, v in weight.items()}}
    net = _net("SparseEI", {**keys, "inhibitory_fraction": fraction, "input_density": 0.25,
                            "input_weight": 0.5}, n, n_inputs=n_in,
               neurons={"inhibitory_fraction": fraction})
    mask, matrix = net.weights.mask[0], net.weights.matrix[0]
    inhibitory = net.neurons.polarity < 0
    np.testing.assert_array_equal(inhibitory, spread_mask(n, fraction))  # the same split
    groups = {"E": np.flatnonzero(~inhibitory), "I": np.flatnonzero(inhibitory)}
    for pair, p in probability.items():
        pre, post = groups[pair[0]], groups[pair[1]]
        possible = pre.size * post.size - np.intersect1d(pre, post).size
        density = block_density(mask, pre, post, n_in)
        assert abs(density - p) < _binomial_tolerance(p, possible), pair
        block = matrix[n_in:][np.ix_(pre, post)][mask[n_in:][np.ix_(pre, post)]]
        np.testing.assert_array_equal(block, weight[pair])
    assert not np.diag(mask[n_in:]).any()
    inputs = mask[:n_in]
    assert abs(inputs.mean() - 0.25) < _binomial_tolerance(0.25, inputs.size)
    np.testing.assert_array_equal(matrix[:n_in][inputs], 0.5)


def test_sparse_ei_per_member_weights_scale_one_structure():
    gains = [1.0, 2.5]
    weights = {f"w_{k}": {"per_member": [g * (4.0 if k[0] == "I" else 1.0) for g in gains]}
               for k in ("EE", "EI", "IE", "II")}
    net = _net("SparseEI", {**weights, "distribution": "lognormal", "spread": 1.0}, 100,
               batch_size=2, member_seeds=[7, 7])
    np.testing.assert_array_equal(net.weights.mask[0], net.weights.mask[1])
    body = slice(net.n_inputs, None)
    np.testing.assert_allclose(net.weights.matrix[1][body], 2.5 * net.weights.matrix[0][body],
                               rtol=1e-12)


def test_sparse_ei_self_loops_on_request():
    net = _net("SparseEI", {**{f"p_{k}": 1.0 for k in ("EE", "EI", "IE", "II")},
                            "self_loops": True}, 20)
    assert net.weights.mask[0][net.n_inputs:].all()


# ---------------------------------------------------------------- Layered
def _layer_of_row(sizes, n_in):
    """Layer index of each presynaptic row (-1 for inputs) and of each column."""
    cols = np.repeat(np.arange(len(sizes)), sizes)
    return np.concatenate([np.full(n_in, -1), cols]), cols


def test_layered_connects_only_consecutive_layers_with_the_given_probabilities():
    sizes, n_in = [60, 50, 40, 10], 30
    probability = [0.2, 0.5, 0.8, 1.0]
    net = _net("Layered", {"layers": sizes, "probability": probability,
                           "weight": [1.0, 2.0, 3.0, 4.0]}, sum(sizes), n_inputs=n_in,
               n_outputs=10)
    mask, matrix = net.weights.mask[0], net.weights.matrix[0]
    row_layer, col_layer = _layer_of_row(sizes, n_in)
    consecutive = col_layer[None, :] == row_layer[:, None] + 1
    assert not mask[~consecutive].any()  # nothing but layer l -> l + 1
    for target, p in enumerate(probability):
        block = (row_layer[:, None] == target - 1) & (col_layer[None, :] == target)
        density = mask[block].mean()
        assert abs(density - p) < _binomial_tolerance(p, block.sum()), target
        np.testing.assert_array_equal(matrix[block & mask], target + 1.0)
    # acyclic: body i -> j only forwards
    body = mask[n_in:]
    assert not np.tril(body).any()


def test_layered_skip_connections_reach_every_later_layer():
    sizes, n_in = [40, 30, 20], 20
    net = _net("Layered", {"layers": sizes, "probability": 0.5, "skip_probability": 0.3,
                           "skip_weight": 0.25}, sum(sizes), n_inputs=n_in, n_outputs=20)
    mask, matrix = net.weights.mask[0], net.weights.matrix[0]
    row_layer, col_layer = _layer_of_row(sizes, n_in)
    gap = col_layer[None, :] - row_layer[:, None]
    assert not mask[gap <= 0].any()
    assert abs(mask[gap == 1].mean() - 0.5) < _binomial_tolerance(0.5, (gap == 1).sum())
    assert abs(mask[gap >= 2].mean() - 0.3) < _binomial_tolerance(0.3, (gap >= 2).sum())
    np.testing.assert_array_equal(matrix[(gap >= 2) & mask], 0.25)
    for source, target in ((-1, 1), (-1, 2), (0, 2)):  # each skip block is there
        assert mask[np.ix_(row_layer == source, col_layer == target)].any()


def test_layered_config_errors_name_the_key_and_what_was_expected():
    with pytest.raises(ConfigError, match=re.escape("layers = [5, 3] sums to 8; expected "
                                                    "n_neurons = 9")):
        _net("Layered", {"layers": [5, 3]}, 9)
    with pytest.raises(ConfigError, match=re.escape("layers[-1] = 3; expected the last layer to "
                                                    "be the readout's outputs (n_outputs = 1)")):
        _net("Layered", {"layers": [6, 3]}, 9)
    with pytest.raises(ConfigError, match=re.escape("probability = [0.5, 0.5] has 2 values; "
                                                    "expected one number or 3")):
        _net("Layered", {"layers": [4, 4, 1], "probability": [0.5, 0.5]}, 9)
    with pytest.raises(ConfigError, match=re.escape("probability = [0.5, 1.5]; expected numbers "
                                                    "with 0.0 <= value <= 1.0")):
        _net("Layered", {"layers": [8, 1], "probability": [0.5, 1.5]}, 9)
    with pytest.raises(ConfigError, match="layers = \\[8, 0, 1\\]; expected a non-empty list"):
        _net("Layered", {"layers": [8, 0, 1]}, 9)


# ---------------------------------------------------------------- ReceptiveField
def test_receptive_field_1d_windows_are_exact():
    n_in, window, stride = 10, 4, 2
    fields = (n_in - window) // stride + 1  # 4
    net = _net("ReceptiveField", {"window": window, "stride": stride, "layers": [fields, 1],
                                  "weight": [0.5, 1.0]}, fields + 1, n_inputs=n_in)
    mask = net.weights.mask[0]
    expected = np.zeros((n_in, fields), dtype=bool)
    for f in range(fields):
        expected[f * stride:f * stride + window, f] = True
    np.testing.assert_array_equal(mask[:n_in, :fields], expected)
    assert not mask[:n_in, fields:].any()  # inputs reach only the first layer
    np.testing.assert_array_equal(mask[n_in:n_in + fields, fields:], True)  # then dense
    np.testing.assert_array_equal(net.weights.matrix[0][:n_in, :fields][expected], 0.5)


def test_receptive_field_2d_windows_are_exact():
    height, width = 6, 6
    window, stride = [3, 2], [3, 2]
    rows, cols = (height - 3) // 3 + 1, (width - 2) // 2 + 1  # 2 x 3 windows
    n_in, fields = height * width, rows * cols
    net = _net("ReceptiveField", {"input_shape": [height, width], "window": window,
                                  "stride": stride, "layers": [fields, 2]}, fields + 2,
               n_inputs=n_in, n_outputs=2)
    mask = net.weights.mask[0][:n_in, :fields]
    for f in range(fields):
        pr, pc = divmod(f, cols)
        grid = mask[:, f].reshape(height, width)
        expected = np.zeros((height, width), dtype=bool)
        expected[3 * pr:3 * pr + 3, 2 * pc:2 * pc + 2] = True
        np.testing.assert_array_equal(grid, expected, err_msg=f"window {f}")
    np.testing.assert_array_equal(mask.sum(axis=0), 6)
    np.testing.assert_array_equal(mask.sum(axis=1), 1)  # tiles: every input in one window


def test_receptive_field_errors():
    with pytest.raises(ConfigError, match=re.escape("layers[0] = 5; expected the number of "
                                                    "windows 2 x 3 = 6")):
        _net("ReceptiveField", {"input_shape": [6, 6], "window": [3, 2], "stride": [3, 2],
                                "layers": [5, 1]}, 6, n_inputs=36)
    with pytest.raises(ConfigError, match=re.escape("input_shape = [5, 5] holds 25 inputs; "
                                                    "expected n_inputs = 36")):
        _net("ReceptiveField", {"input_shape": [5, 5], "layers": [5, 1]}, 6, n_inputs=36)
    with pytest.raises(ConfigError, match=re.escape("window = 7 is 7 along dimension 0; expected "
                                                    "at most the input_shape there (6)")):
        _net("ReceptiveField", {"window": 7, "layers": [5, 1]}, 6, n_inputs=6)
    with pytest.raises(ConfigError, match=re.escape("stride = [1, 2, 3]; expected an int >= 1 or "
                                                    "2 of them")):
        _net("ReceptiveField", {"input_shape": [6, 6], "stride": [1, 2, 3], "layers": [5, 1]}, 6,
             n_inputs=36)


# ---------------------------------------------------------------- LateralInhibition
def _lateral(inhibition_weight=2.0, **kw):
    # spread_mask(24, 0.25) marks 3, 7, 11, 15, 19 (hidden layer) and 23 (an output)
    weights = {"layers": [20, 4], "inhibitory_fraction": 0.25, "lateral_layers": [0],
               "weight": [6.0, 1.0], "inhibition_weight": inhibition_weight,
               "excitation_weight": 3.0, **kw}
    return _net("LateralInhibition", weights, 24, n_inputs=10, n_outputs=4,
                neurons={"inhibitory_fraction": weights["inhibitory_fraction"], "refractory": 2.0},
                inputs={"rate_map": [0.0, 100.0]})


def test_lateral_inhibition_structure():
    net = _lateral()
    n_in = 10
    mask, matrix = net.weights.mask[0], net.weights.matrix[0]
    hidden = np.arange(20)
    interneurons = np.flatnonzero(net.neurons.polarity[:20] < 0)
    np.testing.assert_array_equal(interneurons, [3, 7, 11, 15, 19])
    excitatory = np.setdiff1d(hidden, interneurons)
    np.testing.assert_array_equal(mask[:n_in, :20], True)  # every hidden neuron sees the inputs
    for i in interneurons:  # I -> E of its layer only: no forward synapses
        np.testing.assert_array_equal(np.flatnonzero(mask[n_in + i]), excitatory)
        np.testing.assert_array_equal(matrix[n_in + i][excitatory], 2.0)
    for e in excitatory:  # E -> I of its layer, and forward to the outputs
        np.testing.assert_array_equal(np.flatnonzero(mask[n_in + e]),
                                      np.concatenate([interneurons, np.arange(20, 24)]))
        np.testing.assert_array_equal(matrix[n_in + e][interneurons], 3.0)
    assert not mask[n_in + 20:].any()  # outputs project nowhere


def test_lateral_inhibition_lowers_the_layer_rate():
    counts = {}
    for w in (0.0, 15.0):
        # half the inputs per neuron: unequal drive, so the first to fire inhibits the others
        net = _lateral(inhibition_weight=w, probability=[0.5, 1.0])
        net.tick(np.ones((1, 1)))
        excitatory = net.neurons.polarity[:20] > 0
        counts[w] = net.tick_spikes[0, :, :20][:, excitatory].sum()
    assert counts[0.0] >= 10 and counts[15.0] <= 0.2 * counts[0.0]


def test_lateral_inhibition_needs_inhibitory_and_excitatory_neurons_in_the_layer():
    with pytest.raises(ConfigError, match=re.escape("lateral_layers includes layer 0 (body "
                                                    "neurons 0..19) but inhibitory_fraction = 0.0 "
                                                    "gives it no inhibitory neurons")):
        _lateral(inhibitory_fraction=0.0)
    with pytest.raises(ConfigError, match=re.escape("lateral_layers = [2] names layer 2; expected "
                                                    "indices in [0, 1]")):
        _lateral(lateral_layers=[2])


def test_inhibitory_fraction_must_match_the_neurons():
    with pytest.raises(ConfigError, match=r"weights.inhibitory_fraction = 0.2 but "
                                          r"neurons.inhibitory_fraction = 0.1"):
        _net("SparseEI", {"inhibitory_fraction": 0.2}, 10, neurons={"inhibitory_fraction": 0.1})
