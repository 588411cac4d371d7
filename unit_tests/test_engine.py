"""The engine (spikey.snn.engine): fused ticks equal the step-by-step and numpy paths bit for bit.

Speed is measured in benchmarks/, never here.
"""

import os
import sys

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network
from spikey.snn import engine, kernels

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
needs_two_threads = pytest.mark.skipif(not kernels.AVAILABLE or kernels.max_threads() < 2,
                                       reason="numba sees one CPU: network.threads = 2 is refused")


def _count_fused(monkeypatch):
    calls = []
    run_tick = kernels.run_tick
    monkeypatch.setattr(kernels, "run_tick", lambda *a: (calls.append(a), run_tick(*a)))
    return calls


def _play(nets, ticks, seed=2, plastic=None):
    rng = np.random.default_rng(seed)
    B = nets[0].batch_size
    for tick in range(ticks):
        obs = rng.integers(0, 2, size=(B, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        if plastic is not None and tick == ticks // 2:
            for net in nets:
                net.plastic[:] = plastic
        for net in nets:
            net.tick(obs, info)
        for net in nets[1:]:
            np.testing.assert_array_equal(nets[0].tick_spikes, net.tick_spikes)


def _assert_same_state(a, b):
    arrays_a, arrays_b = a.state_arrays(), b.state_arrays()
    assert arrays_a.keys() == arrays_b.keys()
    for key, value in arrays_a.items():
        np.testing.assert_array_equal(value, arrays_b[key], err_msg=key)


def _step_config(batch_size=3, weights="Random", dtype="float32", **synapses):
    cfg = build_small_config(
        network={"batch_size": batch_size, "seed": 7, "processing_steps": 40,
                 "reward_mode": "step", "dtype": dtype},
        inputs={"inhibitory_fraction": 0.25, "rate_map": [20.0, 200.0]},
        neurons={"n_neurons": 8, "inhibitory_fraction": 0.25},
        readout={"n_outputs": 2},
        synapses={"learning_rate": {"per_member": [0.5, 2.0, 4.0][:batch_size]}, **synapses},
        rewarder={"reward_mult": 1.5, "punish_mult": -0.75})
    if weights == "SparseFanIn":
        cfg["parts"]["weights"] = "SparseFanIn"
        cfg["weights"] = {"fan_in": 6, "low": 1.0, "high": 4.0, "max_weight": 4.0}
    else:
        cfg["weights"] = {"low": 0.0, "high": 4.0, "max_weight": 4.0, "density": 0.7}
    return cfg


@needs_numba
@pytest.mark.parametrize("weights", ["Random", "SparseFanIn"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_rewards_run_fused_and_equal_the_step_by_step_and_numpy_paths(monkeypatch, weights,
                                                                           dtype):
    calls = _count_fused(monkeypatch)
    cfg = _step_config(weights=weights, dtype=dtype)
    fused = Network.from_config(cfg)
    stepped = Network.from_config(cfg)
    stepped.add_monitor("neurons.potential")  # a monitor needs every step: no fusing
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    before = fused.weights.matrix.copy()
    _play([fused, stepped, reference], ticks=8, plastic=[1.0, 0.0, 1.0])
    assert len(calls) == 8  # every tick of the unmonitored network ran in one kernel call
    kind = kernels._run_tick.__code__.co_varnames.index("reward_kind")
    assert calls[0][kind] == 1  # ... with its per-step rewards inside (StepReward.kind)
    outputs = fused.tick_spikes[:, :, -2:]
    assert outputs.sum() > 10
    assert not np.array_equal(before, fused.weights.matrix)  # rewards moved the weights
    _assert_same_state(fused, stepped)
    _assert_same_state(fused, reference)


@needs_numba
def test_florian_xor_trains_fused_and_identical_to_numpy(monkeypatch):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    from florian_xor import make_games, xor_config

    calls = _count_fused(monkeypatch)
    nets = []
    for choice in ("numba", "numpy"):
        cfg = xor_config(2, seed=3)
        cfg["network"]["processing_steps"] = 150
        cfg["network"]["kernels"] = choice
        nets.append(Network.from_config(cfg))
    games, obs, info = make_games(2, seed=3)
    for _ in range(6):
        actions = [net.tick(obs, info) for net in nets]
        np.testing.assert_array_equal(actions[0], actions[1])
        obs, _, _, _, info = games.step(actions[0])
    assert len(calls) == 6
    assert nets[0].tick_spikes[:, :, -1].sum() > 5
    _assert_same_state(*nets)


@needs_numba
@pytest.mark.parametrize("synapse", ["MSTDPET", "MSTDP", "TDLTP"])
def test_rows_and_columns_without_synapses_are_skipped_with_identical_results(monkeypatch,
                                                                               synapse):
    """The fused tick propagates only spikes of rows that hold a synapse and walks the
    learning mask's synapse lists: with the body rows empty
    (inputs_only), a column and an input row emptied, and depression on (A_minus), every
    state array still equals the numpy path's."""
    calls = _count_fused(monkeypatch)
    cfg = _step_config(batch_size=3, A_minus=-0.6)
    cfg["network"]["reward_mode"] = "tick"
    cfg["parts"]["synapses"] = synapse
    cfg["weights"].update(inputs_only=True, low=2.0)
    nets = [Network.from_config(cfg),
            Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})]
    for net in nets:  # before the first tick: the engine reads the masks once
        for array in (net.weights.mask, net.weights.matrix):
            array[:, :, 2] = 0
            array[:, 1, :] = 0
    before = nets[0].weights.matrix.copy()
    rng = np.random.default_rng(4)
    body_spikes = 0
    for _ in range(8):
        obs = rng.integers(0, 2, size=(3, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        for net in nets:
            net.tick(obs, info)
            net.reward(action=net.last_action, info=info)
        np.testing.assert_array_equal(nets[0].tick_spikes, nets[1].tick_spikes)
        body_spikes += int(nets[0].tick_spikes.sum())
    live, lists, col_start, col_rows, row_start, row_cols, rows, counts = calls[0][-8:]
    assert lists and not live[:, nets[0].n_inputs:].any() and not live[:, 1].any()
    assert (col_start[:, 3] == col_start[:, 2]).all()  # column 2: no synapse to visit
    assert 1 not in col_rows and (col_rows < nets[0].n_inputs).all()
    for b in range(3):  # the rows the STDP term visits: the inputs but row 1
        assert rows[b, :counts[b]].tolist() == [j for j in range(nets[0].n_inputs) if j != 1]
    assert body_spikes > 100  # spikes of rows the kernel skipped in propagation
    assert not np.array_equal(before, nets[0].weights.matrix)
    _assert_same_state(*nets)


def _rewarder_subclass():
    from spikey.snn.reward.rewarders import MatchExpected

    class EveryOtherSpike(MatchExpected):
        """Rewards half as much (a step_reward the kernel does not know)."""

        def step_reward(self, output_spikes, groups, expected, step=0):
            return super().step_reward(output_spikes, groups, expected, step) * 0.5

    return EveryOtherSpike


@needs_numba
@pytest.mark.parametrize("case", ["rewarder", "rule", "paused"])
def test_step_rewards_the_kernel_does_not_know_run_step_by_step(monkeypatch, case):
    calls = _count_fused(monkeypatch)
    cfg = _step_config()
    if case == "rewarder":
        cfg["parts"]["rewarder"] = _rewarder_subclass()
    elif case == "rule":
        cfg["parts"]["synapses"] = "MSTDP"
    net = Network.from_config(cfg)
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    if case == "paused":
        for n in (net, reference):
            n.active[1] = False
    _play([net, reference], ticks=4)
    assert calls == []
    _assert_same_state(net, reference)


@needs_numba
def test_a_frozen_network_in_step_mode_fuses_without_learning(monkeypatch):
    calls = _count_fused(monkeypatch)
    cfg = _step_config()
    net = Network.from_config(cfg).eval()
    before = net.weights.matrix.copy()
    _play([net], ticks=3)
    assert len(calls) == 3
    np.testing.assert_array_equal(before, net.weights.matrix)


def test_engine_only_for_plain_synapses_on_the_compiled_path():
    numpy_net = Network.from_config(build_small_config(network={"kernels": "numpy"}))
    assert numpy_net._engine is None
    if kernels.AVAILABLE:
        net = Network.from_config(build_small_config())
        assert isinstance(net._engine, engine.Engine)
        plan = net._engine.plan(net, training=True, all_active=True)
        assert isinstance(plan, engine.TickPlan)
        assert plan.learning.kind == 3 and plan.reward.kind == 0  # MSTDPET, tick rewards
        assert net._engine.plan(net, training=True, all_active=False) is None


# ---------------------------------------------------------------- threads
def _threaded_twins(cfg, threads=2):
    nets = []
    for value in (1, threads):
        nets.append(Network.from_config({**cfg, "network": {**cfg["network"], "threads": value}}))
    return nets


@needs_two_threads
def test_threads_give_identical_results_with_step_rewards_and_eligibility_renormalising(
        monkeypatch):
    calls = []
    members = kernels.run_tick_members
    monkeypatch.setattr(kernels, "run_tick_members", lambda *a: (calls.append(1), members(*a)))
    # tau_z = 2 ms: the lazy eligibility scale falls below 1e-12 after 55 steps and the
    # kernels renormalise the eligibility (several times in 8 ticks of 40 steps)
    cfg = _step_config(tau_z=2.0)
    one, two = _threaded_twins(cfg)
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    before = one.weights.matrix.copy()
    _play([one, two, reference], ticks=8, plastic=[1.0, 0.0, 1.0])
    assert len(calls) == 8  # the threaded network ran every tick in the parallel kernel
    assert not np.array_equal(before, two.weights.matrix)
    assert two.synapses.scale != 1.0
    _assert_same_state(one, two)
    _assert_same_state(two, reference)


@needs_two_threads
@pytest.mark.slow  # compiles the parallel kernel for SparseFanIn's types (~20 s)
@pytest.mark.parametrize("synapse", [None, "STDP", "MSTDP"])
def test_threads_give_identical_results_sparse_and_tick_rewards(synapse):
    cfg = _step_config(weights="SparseFanIn")
    cfg["network"]["reward_mode"] = "tick"
    if synapse is None:
        cfg["parts"].pop("synapses")
        cfg.pop("synapses")
    else:
        cfg["parts"]["synapses"] = synapse
    one, two = _threaded_twins(cfg)
    rng = np.random.default_rng(4)
    for _ in range(6):
        obs = rng.integers(0, 2, size=(3, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        for net in (one, two):
            net.tick(obs, info)
            net.reward(action=net.last_action, info=info)
    _assert_same_state(one, two)


def test_threads_key_is_checked():
    with pytest.raises(ConfigError, match="threads"):
        Network.from_config(build_small_config(network={"threads": 0}))
    with pytest.raises(ConfigError, match=r"network.threads = 2 needs the compiled kernels"):
        Network.from_config(build_small_config(network={"threads": 2, "kernels": "numpy"}))
    too_many = kernels.max_threads() + 1
    if kernels.AVAILABLE:
        with pytest.raises(ConfigError, match=rf"network.threads = {too_many}; expected at most"):
            Network.from_config(build_small_config(network={"threads": too_many}))


def test_a_dropped_network_is_freed_at_once_without_the_cycle_collector():
    # The engine holds no reference to its network: a network (its state arrays, its tick
    # buffers) is freed when the last reference goes, not at the next gc run, which kept
    # the peak memory of building one network after another up (bench_scaling's N = 10,000).
    import gc
    import weakref

    gc.disable()
    try:
        net = Network.from_config(build_small_config())
        net.tick(np.ones((1, 2), dtype=int), {"expected": np.ones(1, dtype=int)})
        ref = weakref.ref(net)
        del net
        assert ref() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------- Izhikevich, DA-STDP
def _izhikevich_config(synapse="DASTDP", thalamic=6.5, weights="FixedOutDegree"):
    cfg = build_small_config(
        parts={"synapses": synapse, "weights": weights, "neurons": "Izhikevich",
               "rewarder": "MatchExpected"},
        network={"batch_size": 2, "processing_steps": 50},
        inputs={"rate_map": [20.0, 200.0]},
        neurons={"n_neurons": 20, "inhibitory_fraction": 0.25, "thalamic_input": thalamic},
        synapses={"update_every": 7, "tau_z": 30.0} if synapse == "DASTDP" else {})
    if synapse is None:
        cfg["parts"].pop("synapses")
        cfg.pop("synapses")
    if weights == "FixedOutDegree":
        cfg["weights"] = {"out_degree": 5, "weight": 3.0, "inhibitory_weight": 1.0,
                          "max_weight": 4.0, "inhibitory_fraction": 0.25, "input_density": 0.5}
    else:
        cfg["weights"] = {"low": 0.0, "high": 12.0, "max_weight": 12.0, "density": 0.5}
    return cfg


@needs_numba
@pytest.mark.parametrize("synapse, thalamic, weights", [
    ("DASTDP", 6.5, "FixedOutDegree"), ("DASTDP", 0.0, "Random"), ("STDP", 6.5, "Random"),
    (None, 6.5, "FixedOutDegree")])
def test_izhikevich_ticks_run_fused_and_equal_the_step_by_step_and_numpy_paths(
        monkeypatch, synapse, thalamic, weights):
    calls = []
    izhikevich = kernels.run_tick_izhikevich
    monkeypatch.setattr(kernels, "run_tick_izhikevich",
                        lambda *a: (calls.append(1), izhikevich(*a)))
    cfg = _izhikevich_config(synapse, thalamic, weights)
    fused = Network.from_config(cfg)
    stepped = Network.from_config(cfg)
    stepped.add_monitor("neurons.potential")  # a monitor needs every step: no fusing
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    nets = [fused, stepped, reference]
    before = fused.weights.matrix.copy()
    rng = np.random.default_rng(1)
    fired = 0
    for tick in range(8):  # 400 steps: the DA update every 7 steps, rewards between ticks
        obs = rng.integers(0, 2, size=(2, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        for net in nets:
            net.tick(obs, info)
            net.reward(action=net.last_action, info=info)
        np.testing.assert_array_equal(fused.tick_spikes, stepped.tick_spikes)
        np.testing.assert_array_equal(fused.tick_spikes, reference.tick_spikes)
        fired += fused.tick_spikes.sum()
    assert len(calls) == 8
    assert fired > 50
    if synapse is not None:
        assert not np.array_equal(before, fused.weights.matrix)
    if synapse == "DASTDP":
        assert fused.synapses.dopamine.any()
    _assert_same_state(fused, stepped)
    _assert_same_state(fused, reference)


@needs_numba
def test_izhikevich_fused_ticks_follow_set_during_a_run(monkeypatch):
    # thalamic noise switched on, the preset and the Euler sub-steps changed between ticks:
    # the engine re-reads the part's derived arrays, as its own step does
    calls = []
    izhikevich = kernels.run_tick_izhikevich
    monkeypatch.setattr(kernels, "run_tick_izhikevich",
                        lambda *a: (calls.append(1), izhikevich(*a)))
    cfg = _izhikevich_config("DASTDP", 0.0, "Random")
    fused = Network.from_config(cfg)
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    changes = {2: ("thalamic_input", 5.0), 4: ("preset", "CH"), 6: ("substeps", 3)}
    obs = np.ones((2, 2), dtype=int)
    info = {"expected": np.zeros(2, dtype=int)}
    for tick in range(8):
        for net in (fused, reference):
            if tick in changes:
                net.neurons.set(*changes[tick])
            net.tick(obs, info)
            net.reward(action=net.last_action, info=info)
        np.testing.assert_array_equal(fused.tick_spikes, reference.tick_spikes)
    assert len(calls) == 8
    assert fused.neurons.n_substeps == 3
    _assert_same_state(fused, reference)
