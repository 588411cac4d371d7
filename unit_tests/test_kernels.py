"""The compiled kernels give the numpy reference path's spikes and weights bit for bit."""

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network
from spikey.snn import kernels

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def _run_both(config, ticks=12, expected=True, state=None):
    nets = []
    for choice in ("numpy", "numba"):
        cfg = {**config, "network": {**config["network"], "kernels": choice}}
        net = Network.from_config(cfg)
        assert net.context.kernels == (choice == "numba")
        B = net.batch_size
        rng = np.random.default_rng(3)
        spikes = []
        for tick in range(ticks):
            obs = rng.integers(0, 2, size=(B, 2)) if state is None else state
            info = {"expected": obs[:, 0] ^ obs[:, 1]} if expected else None
            net.tick(obs, info)
            if net.reward_mode == "tick":
                net.reward(obs, net.last_action, info=info)
            spikes.append(net.tick_spikes.copy())
        nets.append((net, np.array(spikes)))
    (a, spikes_a), (b, spikes_b) = nets
    assert spikes_a.any(), "the test network must spike"
    np.testing.assert_array_equal(spikes_a, spikes_b)
    arrays_a, arrays_b = a.state_arrays(), b.state_arrays()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
    return a


@needs_numba
@pytest.mark.parametrize("synapse", ["STDP", "LTP", "MSTDP", "MSTDPET"])
@pytest.mark.parametrize("reward_mode", ["tick", "step"])
def test_learning_rules_match_numpy(synapse, reward_mode):
    if synapse in ("STDP", "LTP") and reward_mode == "step":
        pytest.skip("unsupervised rules ignore the reward mode")
    cfg = build_small_config(
        parts={"synapses": synapse},
        network={"batch_size": 3, "seed": 4, "reward_mode": reward_mode},
        inputs={"inhibitory_fraction": 0.5},
        neurons={"inhibitory_fraction": 1 / 3},
        weights={"density": 0.6, "high": 5.0, "max_weight": 5.0},
        synapses={"learning_rate": {"per_member": [2.0, 20.0, 60.0]}},
    )
    net = _run_both(cfg, ticks=15)
    w, mask = net.weights.matrix, net.weights.mask
    assert ((w == 5.0) | ((w == 0.0) & mask)).any()  # clipping was exercised


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_xor_network_matches_numpy(dtype):
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    from florian_xor import xor_config

    cfg = xor_config(2, seed=1)
    cfg["network"]["dtype"] = dtype
    cfg["network"]["processing_steps"] = 100
    _run_both(cfg, ticks=6)


@needs_numba
def test_dopamine_stdp_matches_numpy():
    cfg = build_small_config(
        parts={"synapses": "DASTDP", "weights": "FixedOutDegree", "neurons": "Izhikevich",
               "rewarder": "MatchExpected"},
        network={"batch_size": 2, "processing_steps": 50},
        inputs={"rate_map": [0.0, 50.0]},
        neurons={"n_neurons": 20, "inhibitory_fraction": 0.25, "thalamic_input": 6.5},
        synapses={"update_every": 7},
    )
    cfg["weights"] = {"out_degree": 5, "weight": 3.0, "inhibitory_weight": 1.0, "max_weight": 4.0,
                      "inhibitory_fraction": 0.25, "input_density": 0.5}
    _run_both(cfg, ticks=10)


@needs_numba
@pytest.mark.parametrize("dt, dtype, thalamic", [(1.0, "float32", 6.5), (0.25, "float64", 0.0),
                                                 (2.0, "float32", 3.0)])
def test_izhikevich_step_matches_numpy(dt, dtype, thalamic):
    cfg = build_small_config(
        parts={"neurons": "Izhikevich", "synapses": "STDP"},
        network={"batch_size": 2, "processing_steps": 40, "dt": dt, "dtype": dtype},
        inputs={"rate_map": [20.0, 200.0]},
        neurons={"n_neurons": 12, "preset": "CH", "thalamic_input": thalamic,
                 "d": [2.0, 8.0] * 6},
        weights={"high": 12.0, "max_weight": 12.0})
    _run_both(cfg, ticks=5)


@needs_numba
def test_short_term_plasticity_scales_propagation_identically():
    cfg = build_small_config(network={"batch_size": 2})
    cfg["parts"]["stp"] = "TsodyksMarkram"
    cfg["stp"] = {}
    _run_both(cfg, ticks=8)


@needs_numba
def test_lif_refractory_per_member_tau_and_homeostatic_thresholds_match_numpy():
    cfg = build_small_config(
        network={"batch_size": 3, "processing_steps": 40},
        neurons={"refractory": 3.0, "tau": {"per_member": [10.0, 20.0, 35.0]},
                 "reset_potential": -2.0},
        inputs={"rate_map": [20.0, 300.0]})
    cfg["modifiers"] = [{"part": "HomeostaticThreshold", "target_rate": 30.0, "rate": 0.05}]
    net = _run_both(cfg, ticks=10)
    assert net.modifiers[0].offset.std() > 0  # per-neuron thresholds were in play


def test_numba_choice_is_validated():
    cfg = build_small_config(network={"kernels": "fortran"})
    with pytest.raises(ConfigError, match="kernels"):
        Network.from_config(cfg)


def test_synapse_index_lists_each_members_synapses():
    mask = np.zeros((2, 3, 4), dtype=bool)
    mask[0, 1, 2] = mask[1, 0, 0] = mask[1, 2, 3] = True
    index, starts = kernels.synapse_index(mask)
    np.testing.assert_array_equal(starts, [0, 1, 3])
    np.testing.assert_array_equal(index, [6, 0, 11])


@needs_numba
@pytest.mark.parametrize("synapse", [None, "STDP", "LTP", "MSTDP", "MSTDPET"])
@pytest.mark.parametrize("weights", ["Random", "SparseFanIn"])
def test_fused_tick_equals_the_step_by_step_path(monkeypatch, synapse, weights):
    calls = []
    run_tick, run_tick_sparse = kernels.run_tick, kernels.run_tick_sparse
    monkeypatch.setattr(kernels, "run_tick", lambda *a: (calls.append(1), run_tick(*a)))
    # (a SparseFanIn tick without learning reads its weights in CSR order: run_tick_sparse)
    monkeypatch.setattr(kernels, "run_tick_sparse",
                        lambda *a: (calls.append(1), run_tick_sparse(*a)))
    cfg = build_small_config(
        parts={"synapses": synapse, "weights": weights},
        network={"batch_size": 2, "seed": 5, "processing_steps": 30, "kernels": "numba"},
        inputs={"inhibitory_fraction": 0.25, "rate_map": [20.0, 200.0]},
        neurons={"inhibitory_fraction": 1 / 3, "refractory": 2.0},
        synapses={"learning_rate": {"per_member": [1.0, 3.0]}} if synapse else None)
    if synapse is None:
        cfg["parts"].pop("synapses")
    if weights == "SparseFanIn":
        cfg["weights"] = {"fan_in": 6, "low": 2.0, "high": 8.0, "max_weight": 8.0}
    nets = [Network.from_config(cfg), Network.from_config(cfg)]
    nets[1].add_monitor("neurons.potential")  # a monitor needs every step: no fusing
    rng = np.random.default_rng(2)
    fired = 0
    for tick in range(6):
        obs = rng.integers(0, 2, size=(2, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        for net in nets:
            net.tick(obs, info)
            net.reward(obs, net.last_action, info=info)
        np.testing.assert_array_equal(nets[0].tick_spikes, nets[1].tick_spikes)
        fired += nets[0].tick_spikes.sum()
    assert len(calls) == 6  # only the unmonitored network fused its ticks
    assert fired > 20
    for key, value in nets[0].state_arrays().items():
        np.testing.assert_array_equal(value, nets[1].state_arrays()[key], err_msg=key)


def test_without_numba_auto_falls_back_and_numba_is_refused(monkeypatch):
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    assert kernels.use_kernels("auto") is False
    assert kernels.use_kernels("numpy") is False
    with pytest.raises(ConfigError, match="numba is not installed"):
        kernels.use_kernels("numba")
    net = Network.from_config(build_small_config())  # 'auto' builds on the numpy path
    assert net.context.kernels is False
