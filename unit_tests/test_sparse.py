"""SparseFanIn: exact fan-in structure, and the same dynamics and learning as its dense twin."""

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network
from spikey.snn import kernels

N_IN, N, K = 12, 10, 4


def _sparse_config(batch_size=1, synapse="STDP", kernels_choice="numpy", **weights):
    cfg = build_small_config(
        parts={"weights": "SparseFanIn", "synapses": synapse},
        network={"batch_size": batch_size, "seed": 3, "kernels": kernels_choice,
                 "processing_steps": 50, "dtype": "float64"},
        inputs={"n_inputs": N_IN, "rate_map": [30.0, 150.0], "inhibitory_fraction": 0.25},
        neurons={"n_neurons": N, "inhibitory_fraction": 0.2, "refractory": 2.0},
        synapses={"learning_rate": 0.5} if synapse else None)
    if synapse is None:
        cfg["parts"].pop("synapses")
    cfg["weights"] = {"fan_in": K, "low": 2.0, "high": 6.0, "max_weight": 6.0, **weights}
    return cfg


def _dense_twin(sparse_net, config):
    """The same network with a Manual dense matrix holding the sparse weights."""
    cfg = {**config, "parts": {**config["parts"], "weights": "Manual"}}
    dense = sparse_net.weights.dense()[0]
    present = np.zeros_like(dense, dtype=bool)
    present[sparse_net.weights.pre_index[0], np.arange(N)[:, None]] = True
    cfg["weights"] = {"matrix": dense.tolist(), "mask": present.tolist(),
                      "max_weight": config["weights"]["max_weight"]}
    return Network.from_config(cfg)


@pytest.mark.parametrize("sources, pool", [("all", range(N_IN + N)), ("inputs", range(N_IN)),
                                           ("neurons", range(N_IN, N_IN + N))])
def test_every_neuron_gets_fan_in_distinct_partners_from_the_pool(sources, pool):
    net = Network.from_config(_sparse_config(batch_size=2, sources=sources))
    w = net.weights
    assert w.pre_index.shape == w.matrix.shape == (2, N, K)
    for b in range(2):
        for k in range(N):
            partners = w.pre_index[b, k]
            assert len(set(partners)) == K and set(partners) <= set(pool)
            assert N_IN + k not in partners  # no self-loops
            assert np.all(np.diff(partners) > 0)
        # CSR: the synapses out of each presynaptic neuron, as flat ids k * K + s
        counts = np.bincount(w.pre_index[b].ravel(), minlength=N_IN + N)
        np.testing.assert_array_equal(np.diff(w.out_start[b]), counts)
        for j in range(N_IN + N):
            ids = w.out_synapse[b, w.out_start[b, j]:w.out_start[b, j + 1]]
            assert np.all(w.pre_index[b].ravel()[ids] == j)
    assert (w.matrix >= 2.0).all() and (w.matrix <= 6.0).all()
    assert not np.array_equal(w.pre_index[0], w.pre_index[1])  # members draw apart


@pytest.mark.parametrize("choice", ["numpy", "numba"] if kernels.AVAILABLE else ["numpy"])
@pytest.mark.parametrize("synapse", [None, "STDP", "MSTDPET"])
def test_dynamics_and_learning_equal_the_dense_twin_bit_for_bit(synapse, choice):
    config = _sparse_config(synapse=synapse, kernels_choice=choice)
    sparse = Network.from_config(config)
    dense = _dense_twin(sparse, config)
    rng = np.random.default_rng(0)
    for tick in range(8):
        obs = rng.integers(0, 2, size=(1, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        sparse.tick(obs, info)
        dense.tick(obs, info)
        np.testing.assert_array_equal(sparse.tick_spikes, dense.tick_spikes)
        if synapse == "MSTDPET":
            r = np.array([1.0 if tick % 2 else -1.0])
            sparse.synapses.reward(r, sparse.weights)
            dense.synapses.reward(r, dense.weights)
    assert sparse.tick_spikes.any()
    np.testing.assert_array_equal(sparse.weights.dense(), dense.weights.matrix)
    np.testing.assert_array_equal(sparse.neurons.potential, dense.neurons.potential)
    if synapse is not None:
        assert not np.array_equal(sparse.weights.dense()[0], _dense_twin(
            Network.from_config(config), config).weights.matrix[0])  # learning happened


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("synapse", ["STDP", "MSTDPET", "DASTDP"])
def test_compiled_sparse_path_matches_numpy(synapse):
    runs = []
    for choice in ("numpy", "numba"):
        cfg = _sparse_config(batch_size=3, synapse=synapse, kernels_choice=choice)
        cfg["network"]["dtype"] = "float32"
        if synapse == "DASTDP":
            cfg["synapses"] = {"update_every": 5}
        net = Network.from_config(cfg)
        rng = np.random.default_rng(1)
        for tick in range(10):
            obs = rng.integers(0, 2, size=(3, 2))
            net.tick(obs, {"expected": obs[:, 0] ^ obs[:, 1]})
            net.reward(obs, net.last_action, info={"expected": obs[:, 0] ^ obs[:, 1]})
        runs.append(net)
    a, b = runs
    for key, value in a.state_arrays().items():
        np.testing.assert_array_equal(value, b.state_arrays()[key], err_msg=key)


def test_batch_member_equals_its_solo_network():
    batch = Network.from_config(_sparse_config(batch_size=3))
    obs = np.ones((3, 2), dtype=int)
    for _ in range(4):
        batch.tick(obs, {"expected": np.zeros(3, dtype=int)})
    for b in range(3):
        cfg = _sparse_config()
        cfg["network"]["seed"] = 3 + b
        solo = Network.from_config(cfg)
        for _ in range(4):
            solo.tick(obs[:1], {"expected": np.zeros(1, dtype=int)})
        np.testing.assert_array_equal(batch.weights.matrix[b], solo.weights.matrix[0])
        np.testing.assert_array_equal(batch.tick_spikes[b], solo.tick_spikes[0])


def test_save_load_round_trip(tmp_path):
    net = Network.from_config(_sparse_config(synapse="MSTDPET"))
    net.tick(np.ones((1, 2), dtype=int), {"expected": np.zeros(1, dtype=int)})
    net.save(tmp_path / "sparse.npz")
    loaded = Network.load(tmp_path / "sparse.npz")
    np.testing.assert_array_equal(loaded.weights.matrix, net.weights.matrix)
    np.testing.assert_array_equal(loaded.weights.pre_index, net.weights.pre_index)
    np.testing.assert_array_equal(loaded.synapses.eligibility, net.synapses.eligibility)


def test_bad_inputs_are_named():
    with pytest.raises(ConfigError, match=r"fan_in = 30 but sources = 'inputs' offers only 12"):
        Network.from_config(_sparse_config(fan_in=30, sources="inputs"))
    with pytest.raises(ConfigError, match="low = 3.0 is above high = 1.0"):
        Network.from_config(_sparse_config(low=3.0, high=1.0))
    cfg = _sparse_config()
    cfg["modifiers"] = [{"part": "NormalizeWeights", "target": 4.0}]
    with pytest.raises(ConfigError, match="sparse"):
        Network.from_config(cfg)
    with pytest.raises(TypeError, match="dense"):
        Network.from_config(_sparse_config()).weights.flat


def test_plots_and_dense_mask_read_sparse_weights_as_a_matrix():
    import matplotlib

    matplotlib.use("Agg")
    from spikey import viz

    net = Network.from_config(_sparse_config())
    present = net.weights.dense_mask()[0]
    assert present.sum() == N * K and present.sum(axis=0).tolist() == [K] * N
    ax = viz.weight_matrix(net)
    shown = ax.images[0].get_array()
    assert shown.shape == (N_IN + N, N)
    np.testing.assert_allclose(shown.filled(0.0), net.weights.dense()[0])
    assert viz.network_graph(net) is not None


def test_a_large_sparse_random_matrix_with_a_learning_rule_gets_a_storage_note():
    """A learning rule on a Random matrix with under 20 % synapses and at least 100,000
    entries per member warns (PerformanceWarning) with the SparseFanIn fan-in to use; dense
    enough, small, sparse-stored or without a rule: no note."""
    import warnings

    from conftest import build_small_config
    from spikey.snn.synapse.template import PerformanceWarning

    def build(density, n_inputs=400, n_neurons=300, synapses="STDP", weights="Random"):
        cfg = build_small_config(
            parts={"synapses": synapses, "rewarder": None},
            network={"reward_mode": "none", "batch_size": 2},
            inputs={"n_inputs": n_inputs}, neurons={"n_neurons": n_neurons},
            rewarder=None, synapses={} if synapses else None,
            weights={"density": density, "low": 0.0, "high": 1.0})
        if synapses is None:
            cfg["parts"].pop("synapses")
        if weights == "SparseFanIn":
            cfg["parts"]["weights"] = "SparseFanIn"
            cfg["weights"] = {"fan_in": 70, "low": 0.0, "high": 1.0}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Network.from_config(cfg)
        return [w for w in caught if issubclass(w.category, PerformanceWarning)]

    noted = build(0.1)  # 700 x 300 = 210,000 entries, 10 %
    assert len(noted) == 1
    text = str(noted[0].message)
    assert "10% synapses" in text and "700 x 300" in text and "SparseFanIn" in text
    assert "fan_in: 70" in text  # the mean number of synapses onto a neuron (700 x 0.1)
    assert build(0.3) == []  # dense enough
    assert build(0.1, n_inputs=100, n_neurons=100) == []  # 40,000 entries: small
    assert build(0.1, synapses=None) == []  # no learning rule
    assert build(0.1, weights="SparseFanIn") == []
