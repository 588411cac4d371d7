"""Issue 19, round three: the faster spike lists, segment walks and random fills give the
numbers the code before them gave."""

import numpy as np
import pytest

from spikey.snn import kernels

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


@needs_numba
@pytest.mark.parametrize("n", [1, 7, 8, 9, 64, 1000, 1003])
@pytest.mark.parametrize("density", [0.0, 0.02, 0.5, 1.0])
def test_row_pairs_lists_the_nonzero_entries_in_order(n, density):
    # row_pairs finds a word's lowest nonzero byte from its lowest set bit; every spiking
    # neuron once, ascending, whatever the row's length and density
    rng = np.random.default_rng(n)
    row = rng.random(n) < density
    bb, jj = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    count = kernels.row_pairs(row, 3, bb, jj)
    assert count == row.sum()
    np.testing.assert_array_equal(jj[:count], np.flatnonzero(row))
    assert (bb[:count] == 3).all()


@needs_numba
def test_row_pairs_counts_a_byte_of_any_nonzero_value_once():
    # a bool array viewed from bytes may hold 2 or 255: one entry per nonzero byte (the old
    # per-byte test), not one per set bit
    raw = np.zeros(24, np.uint8)
    raw[[0, 5, 9, 17, 23]] = [1, 2, 255, 129, 64]
    row = raw.view(bool)
    bb, jj = np.zeros(24, np.int64), np.zeros(24, np.int64)
    count = kernels.row_pairs(row, 0, bb, jj)
    assert count == 5
    np.testing.assert_array_equal(jj[:count], [0, 5, 9, 17, 23])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_raw_fill_gives_numpys_uniforms_and_generator_state(dtype):
    # RandomBlocks refills through random_raw and a compiled conversion: the numbers and the
    # generator's whole state (float32: has_uint32 and uinteger too) equal numpy's own fill
    from spikey.core.part import fill_uniforms

    ours = np.random.Generator(np.random.PCG64(np.random.SeedSequence([4, 2])))
    numpys = np.random.Generator(np.random.PCG64(np.random.SeedSequence([4, 2])))
    a, b = np.empty((256, 1000), dtype), np.empty((256, 1000), dtype)
    for _ in range(3):
        assert fill_uniforms(ours, a)
        numpys.random(dtype=dtype, out=b)
        np.testing.assert_array_equal(a, b)
        assert ours.bit_generator.state == numpys.bit_generator.state
    # what comes next is the same too, one float32 at a time (next_uint32's buffered half)
    np.testing.assert_array_equal([ours.random(dtype=np.float32) for _ in range(5)],
                                  [numpys.random(dtype=np.float32) for _ in range(5)])


@needs_numba
def test_raw_fill_declines_what_it_cannot_reproduce():
    # a buffered float32 half, an odd count, a small block, another bit generator, a
    # strided out: nothing drawn, False (RandomBlocks then calls generator.random itself)
    from spikey.core.part import fill_uniforms

    g = np.random.Generator(np.random.PCG64(1))
    g.random(dtype=np.float32)  # leaves the high half buffered
    before = g.bit_generator.state
    assert not fill_uniforms(g, np.empty(1 << 17, np.float32))
    assert g.bit_generator.state == before
    fresh = np.random.Generator(np.random.PCG64(1))
    state = fresh.bit_generator.state
    assert not fill_uniforms(fresh, np.empty((1 << 16) + 1, np.float32))
    assert not fill_uniforms(fresh, np.empty(1000, np.float32))
    assert not fill_uniforms(fresh, np.empty((1 << 17, 2), np.float32)[:, 0])
    assert fresh.bit_generator.state == state
    philox = np.random.Generator(np.random.Philox(1))
    assert not fill_uniforms(philox, np.empty(1 << 17, np.float64))


def test_poisson_inputs_give_the_same_spikes_through_either_refill(monkeypatch):
    # a 1,000-input RateMap draws its blocks through the raw fill; without it (numpy's own
    # fill) every spike and the generators' states are the same, and on the numpy path too.
    # Recurrent ('all'): a feed-forward tick without learning draws its inputs inside the
    # compiled tick instead (test_threads_round4.py)
    from spikey import Network
    from spikey.core import part

    used = []

    def run(raw, kernels_choice):
        original = part.fill_uniforms

        def spy(generator, out):  # asked for by RandomBlocks only on the compiled path
            if not raw:
                return False
            used.append(original(generator, out))
            return used[-1]

        monkeypatch.setattr(part, "fill_uniforms", spy)
        cfg = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "SparseFanIn",
                         "readout": "NeuronRates"},
               "network": {"processing_steps": 300, "batch_size": 2, "seed": 5,
                           "reward_mode": "none", "kernels": kernels_choice},
               "inputs": {"n_inputs": 1000, "n_dims": 1, "max_rate": 50.0},
               "neurons": {"n_neurons": 50, "tau": 20.0, "threshold": 4.0},
               "weights": {"fan_in": 30, "sources": "all", "high": 1.0},
               "readout": {"n_outputs": 50}}
        net = Network.from_config(cfg)
        ticks = []
        for _ in range(3):
            net.tick(np.ones((2, 1)))
            ticks.append((net.tick_input_spikes.copy(), net.tick_spikes.copy()))
        monkeypatch.undo()
        states = [g.bit_generator.state for g in net.parts["inputs"].random.generators]
        return ticks, states

    ticks, states = run(True, "auto")
    assert used and all(used)  # the raw fill ran (256-step blocks of 1,000 numbers)
    for raw, choice in ((False, "auto"), (False, "numpy"), (True, "numpy")):
        count = len(used)
        other_ticks, other_states = run(raw, choice)
        assert len(used) == count  # numpy's fill: asked not to, or the numpy path
        for (inputs_a, spikes_a), (inputs_b, spikes_b) in zip(ticks, other_ticks):
            np.testing.assert_array_equal(inputs_a, inputs_b)
            np.testing.assert_array_equal(spikes_a, spikes_b)
        assert states == other_states
    assert ticks[0][0].mean() > 0.02  # ~50 Hz at dt = 1 ms


@pytest.mark.parametrize("piece", [1, 7, 1000, 1 << 17])
def test_fan_in_csr_order_in_pieces_is_the_stable_argsort(piece):
    # SparseFanIn sorts its synapses by presynaptic neuron a piece of neurons at a time (no
    # 64-bit copy of every synapse at build); the order is the whole stable argsort's, with
    # empty and crowded key values too
    from spikey.snn.weight.fan_in import _stable_order

    rng = np.random.default_rng(piece)
    keys = np.concatenate([rng.integers(0, 50, 3000), np.full(2500, 17), [49]]).astype(np.int32)
    keys = keys[rng.permutation(keys.size)]
    starts = np.zeros(61, np.int64)  # 60 values, 10 of them never drawn
    np.cumsum(np.bincount(keys, minlength=60), out=starts[1:])
    out = np.full(keys.size, -1, np.int32)
    _stable_order(keys, starts, out, piece)
    np.testing.assert_array_equal(out, np.argsort(keys, kind="stable"))


def test_fan_in_build_gives_the_same_network_as_before():
    # the weights drawn in pieces of rows and the CSR sorted in pieces: the arrays of the
    # one-shot build (recomputed here the old way) for a batch of two
    from spikey import Network

    cfg = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "SparseFanIn",
                     "readout": "NeuronRates"},
           "network": {"processing_steps": 10, "batch_size": 2, "seed": 3, "reward_mode": "none"},
           "inputs": {"n_inputs": 300, "n_dims": 1},
           "neurons": {"n_neurons": 1500},
           "weights": {"fan_in": 60, "sources": "all", "low": 0.2, "high": 2.0,
                       "max_weight": 1.5},
           "readout": {"n_outputs": 10}}
    w = Network.from_config(cfg).parts["weights"]
    B, n, K = w.matrix.shape
    for b, rng in enumerate(w.context.generators("weights.init")):
        for k in range(n):  # the same partner draws as the build
            own = 300 + k
            chosen = rng.choice(1800 - 1, K, replace=False)
            np.testing.assert_array_equal(np.sort(chosen + (chosen >= own)), w.pre_index[b, k])
        whole = np.clip(rng.uniform(0.2, 2.0, size=(n, K)), 0.0, 1.5)
        np.testing.assert_array_equal(w.matrix[b], whole.astype(w.matrix.dtype))
    flat = w.pre_index.reshape(B, -1)
    order = np.argsort(flat, axis=1, kind="stable")
    np.testing.assert_array_equal(w.out_synapse, order)
    np.testing.assert_array_equal(w.out_post, order // K)
    assert w.out_synapse.dtype == w.out_post.dtype == np.int32


def test_bench_scaling_refuses_zero_memory_runs(capsys):
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import bench_scaling

    with pytest.raises(SystemExit):
        bench_scaling.main(["--memory-runs", "0"])
    assert "--memory-runs = 0; expected a count >= 1" in capsys.readouterr().err


@needs_numba
def test_recurrent_sparse_tick_without_learning_reads_weights_in_csr_order(monkeypatch):
    # a recurrent SparseFanIn network without learning runs run_tick_sparse (its weights
    # copied in CSR order once per tick): the spikes and every state array of the numpy
    # path, also after the weights change between ticks, for each member of a batch
    from spikey import Network
    from spikey.snn import engine

    calls = []
    original = engine.Engine._run_sparse

    def spy(self, network, plan):
        calls.append(network.batch_size)
        return original(self, network, plan)

    monkeypatch.setattr(engine.Engine, "_run_sparse", spy)
    cfg = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "SparseFanIn",
                     "readout": "NeuronRates"},
           "network": {"processing_steps": 120, "batch_size": 2, "seed": 9,
                       "reward_mode": "none"},
           "inputs": {"n_inputs": 200, "n_dims": 1, "max_rate": 40.0},
           "neurons": {"n_neurons": 300, "tau": 20.0, "threshold": 6.0, "refractory": 2.0,
                       "inhibitory_fraction": 0.2},
           "weights": {"fan_in": 40, "sources": "all", "high": 1.2, "max_weight": 1.5},
           "readout": {"n_outputs": 300}}
    runs = {}
    for choice in ("numba", "numpy"):
        net = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": choice}})
        spikes = []
        for tick in range(3):
            net.tick(np.ones((2, 1)))
            spikes.append(net.tick_spikes.copy())
            net.parts["weights"].matrix[:, ::3] *= 0.9  # the next tick's copy sees this
        runs[choice] = (np.array(spikes), net.state_arrays())
    assert calls == [2, 2, 2]
    (spikes_a, state_a), (spikes_b, state_b) = runs["numba"], runs["numpy"]
    assert spikes_a[:, :, :, :].mean() > 0.01  # recurrent activity to propagate
    np.testing.assert_array_equal(spikes_a, spikes_b)
    for key in state_a:
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)
