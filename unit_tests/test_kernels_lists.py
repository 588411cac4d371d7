"""The STDP term through synapse lists (kernels.synapse_lists / add_zeta_lists) and the
stage-by-stage Izhikevich kernel: bit for bit what the mask-walking and numpy versions give."""

import numpy as np
import pytest

from conftest import build_small_config
from spikey import Network
from spikey.snn import kernels

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def _mask(rng, B=2, P=13, N=11, density=0.3):
    return rng.random((B, P, N)) < density


def test_synapse_lists_give_each_columns_rows_and_each_rows_columns_ascending():
    rng = np.random.default_rng(3)
    mask = _mask(rng)
    mask[1, :, 4] = False  # an empty column
    mask[0, 7] = False  # an empty row
    col_start, col_rows, row_start, row_cols = kernels.synapse_lists(mask)
    B, P, N = mask.shape
    assert col_start.shape == (B, N + 1) and row_start.shape == (B, P + 1)
    assert col_start[-1, -1] == row_start[-1, -1] == mask.sum()
    for b in range(B):
        for k in range(N):
            rows = col_rows[col_start[b, k]:col_start[b, k + 1]]
            np.testing.assert_array_equal(rows, np.flatnonzero(mask[b, :, k]))
        for j in range(P):
            cols = row_cols[row_start[b, j]:row_start[b, j + 1]]
            np.testing.assert_array_equal(cols, np.flatnonzero(mask[b, j]))
    assert col_start[1, 4] == col_start[1, 5] and row_start[0, 7] == row_start[0, 8]


@needs_numba
@pytest.mark.parametrize("clip, use_member", [(False, False), (True, False), (True, True)])
def test_add_zeta_lists_equals_add_zeta(clip, use_member):
    rng = np.random.default_rng(4)
    B, P, N = 2, 13, 11
    mask = _mask(rng, B, P, N)
    dtype = np.float32
    start = (rng.random((B, P, N)) * 2.0 * mask).astype(dtype)
    pre_trace = rng.normal(size=(B, P)).astype(dtype)
    post_trace = -rng.random((B, N)).astype(dtype)
    pre_sign = np.where(rng.random(P) < 0.3, -1.0, 1.0).astype(dtype)
    pre = rng.random((B, P)) < 0.4
    post = rng.random((B, N)) < 0.4
    pre_b, pre_j = (x.astype(np.int64) for x in np.nonzero(pre))
    post_b, post_k = (x.astype(np.int64) for x in np.nonzero(post))
    member = np.array([0.5, 3.0], dtype=dtype)
    scale, low, high = dtype(0.7), dtype(0.0), dtype(1.5)
    expected, got = start.copy(), start.copy()
    kernels.add_zeta(expected, mask, pre_trace, post_trace, pre_sign, post_b, post_k, pre_b,
                     pre_j, scale, member, use_member, clip, low, high)
    kernels.add_zeta_lists(got, *kernels.synapse_lists(mask), pre_trace, post_trace, pre_sign,
                           post_b, post_k, pre_b, pre_j, scale, member, use_member, clip, low,
                           high)
    assert not np.array_equal(expected, start)  # something was added
    np.testing.assert_array_equal(got, expected)
    assert not got[~mask].any()  # absent synapses stay absent


@needs_numba
def test_izhikevich_kernel_keeps_nan_like_the_numpy_step():
    # np.minimum(v, peak) keeps a nan potential nan; the kernel's select must too
    cfg = build_small_config(parts={"neurons": "Izhikevich", "synapses": "STDP"},
                             neurons={"n_neurons": 6, "thalamic_input": 6.5})
    nets = [Network.from_config(cfg),
            Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})]
    current = np.zeros((1, 6), dtype=np.float32)
    current[0, 1] = 500.0  # fires
    for net in nets:
        net.neurons.potential[0, 3] = np.nan
        net.neurons.step(current)
    numba_step, numpy_step = (net.neurons for net in nets)
    np.testing.assert_array_equal(numba_step.potential, numpy_step.potential)
    np.testing.assert_array_equal(numba_step.recovery, numpy_step.recovery)
    np.testing.assert_array_equal(numba_step.spikes, numpy_step.spikes)
    assert np.isnan(numba_step.potential[0, 3]) and numba_step.spikes[0, 1]


@needs_numba
@pytest.mark.parametrize("synapse, batch, mask", [
    ("STDP", 1, {"density": 0.2}), ("MSTDPET", 2, {"density": 0.2}),
    # synapses from the inputs only, 80 % of them: potentiation goes row after row (the
    # rows hold most of the entries they read); at 20 % over all 70 rows, by column lists
    ("STDP", 1, {"density": 0.8, "inputs_only": True}),
    ("MSTDPET", 2, {"density": 0.8, "inputs_only": True})])
def test_lif_ticks_on_a_sparse_mask_walk_lists_and_equal_numpy(monkeypatch, synapse, batch,
                                                               mask):
    calls = []
    run_tick = kernels.run_tick
    monkeypatch.setattr(kernels, "run_tick", lambda *a: (calls.append(a), run_tick(*a)))
    cfg = build_small_config(
        parts={"synapses": synapse},
        network={"batch_size": batch, "processing_steps": 30, "reward_mode": "tick"},
        inputs={"n_inputs": 40, "rate_map": [50.0, 300.0]},
        neurons={"n_neurons": 30},
        weights={"low": 0.0, "high": 12.0, "max_weight": 12.0, **mask})
    fused = Network.from_config(cfg)
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    rng = np.random.default_rng(2)
    for _ in range(6):
        obs = rng.integers(0, 2, size=(batch, 2))
        info = {"expected": obs[:, 0] ^ obs[:, 1]}
        for net in (fused, reference):
            net.tick(obs, info)
            net.reward(action=net.last_action, info=info)
        np.testing.assert_array_equal(fused.tick_spikes, reference.tick_spikes)
    lists = kernels._run_tick.__code__.co_varnames.index("lists")
    assert calls and all(call[lists] for call in calls)  # the lists were walked
    assert fused.tick_spikes.sum() > 20
    np.testing.assert_array_equal(fused.weights.matrix, reference.weights.matrix)
    for name in ("pre_trace", "post_trace") + (("eligibility",) if synapse == "MSTDPET" else ()):
        np.testing.assert_array_equal(getattr(fused.synapses, name),
                                      getattr(reference.synapses, name))


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_apply_eligibility_on_a_block_of_synapses_equals_the_indexed_update(dtype):
    """A member whose synapses fill one contiguous block (input rows onto every neuron) is
    updated without its index; every member still gets w = clip(w + s e) on its synapses
    only, bit for bit as numpy computes it."""
    rng = np.random.default_rng(5)
    B, P, N = 3, 12, 7
    mask = np.zeros((B, P, N), dtype=bool)
    mask[0, :4] = True  # one block
    mask[1] = rng.random((P, N)) < 0.3  # scattered
    mask[2, 2:5] = True  # a block that starts later
    weights = (rng.random((B, P, N)) * mask).astype(dtype)
    eligibility = (rng.normal(size=(B, P, N)) * mask).astype(dtype)
    step = np.array([0.7, -0.4, 2.5], dtype=dtype)
    index, starts = kernels.synapse_index(mask)
    before = weights.copy()
    expected = weights.copy()
    for b in range(B):
        value = eligibility[b] * step[b] + weights[b]
        expected[b] = np.where(mask[b], np.minimum(np.maximum(value, dtype(0.0)), dtype(1.0)),
                               weights[b])
    kernels.apply_eligibility(weights, eligibility, index, starts, np.arange(B), step,
                              dtype(0.0), dtype(1.0), False)
    np.testing.assert_array_equal(weights, expected)
    for b in range(B):  # every member moved, only on its synapses
        assert not np.array_equal(weights[b][mask[b]], before[b][mask[b]])
        np.testing.assert_array_equal(weights[b][~mask[b]], before[b][~mask[b]])
