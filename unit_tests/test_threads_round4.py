"""Issue 19, round four: a feed-forward tick without learning draws its Poisson input spikes
inside the compiled blocks tick (kernels.run_tick_blocks: chunks of each member's PCG64
stream in parallel threads, from states jumped ahead), numpy's exact numbers, generator
states, random buffers and positions.

Speed is measured in benchmarks/ (bench_scaling.py --threads), never here.
"""

import numpy as np
import pytest

from spikey import Network
from spikey.snn import engine, kernels
from test_engine import _assert_same_state
from test_engine_threads import _config

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
needs_two_threads = pytest.mark.skipif(not kernels.AVAILABLE or kernels.max_threads() < 2,
                                       reason="numba sees one CPU: network.threads = 2 is refused")


def _draws(monkeypatch, chunks=None):
    """Record each drawn tick's refills; with ``chunks``, draw in that many chunks."""
    refills = []
    original, finish = engine.poisson_draws, engine.finish_draws

    def draws(inputs, count, parts):
        return original(inputs, count, parts if chunks is None else chunks)

    monkeypatch.setattr(engine, "poisson_draws", draws)
    monkeypatch.setattr(engine, "finish_draws",
                        lambda d, spikes: (refills.append(d.refills), finish(d, spikes)))
    return refills


def _generators(net):
    return [g.bit_generator.state for g in net.parts["inputs"].random.generators]


def _run_same(nets, ticks, batch=1, seed=5):
    rng = np.random.default_rng(seed)
    rates = []
    for _ in range(ticks):
        obs = rng.random((batch, 1))
        for net in nets:
            net.tick(obs)
        rates.append(nets[0].tick_input_spikes.mean())
        for net in nets[1:]:
            _assert_same_state(nets[0], net)  # spikes, input spikes, random buffer, position
            assert _generators(net) == _generators(nets[0])
            np.testing.assert_array_equal(net.parts["inputs"].spikes,
                                          nets[0].parts["inputs"].spikes)
    return np.mean(rates)  # the input spikes per input and step


def _with(cfg, **network):
    return {**cfg, "network": {**cfg["network"], **network}}


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps, ticks", [(30, 12), (300, 4), (700, 3), (1, 30)])
def test_the_blocks_tick_draws_numpys_input_spikes_and_generator_states(monkeypatch, dtype,
                                                                         steps, ticks):
    # 100 inputs: blocks of 256 steps; 30-step ticks cross a refill every ninth tick, 300 and
    # 700 one to three refills a tick, starting anywhere in the buffer
    refills = _draws(monkeypatch)
    cfg = _with(_config(steps=steps), dtype=dtype)
    nets = [Network.from_config(cfg), Network.from_config(_with(cfg, kernels="numpy"))]
    rate = _run_same(nets, ticks)
    assert len(refills) == ticks  # every tick of the compiled network drew its inputs
    assert sum(refills) == -(-steps * ticks // 256)  # and refilled as often as numpy did
    assert 0.01 < rate < 0.1  # ~20-60 Hz inputs at 1 ms


@needs_two_threads
def test_two_threads_draw_in_chunks_the_numbers_of_one_thread(monkeypatch):
    # (float64 with two threads: the sub-block test below, which draws too)
    refills = _draws(monkeypatch)
    cfg = _config(steps=300)
    nets = [Network.from_config(_with(cfg, threads=t, kernels=k))
            for t, k in ((2, "numba"), (1, "numba"), (1, "numpy"))]
    _run_same(nets, 5)
    assert len(refills) == 10 and sum(refills) == 2 * 6  # both compiled networks drew
    assert nets[0]._engine._block_plan[1][0].tolist() == [0, 320, 600]  # in two blocks


@needs_numba
@pytest.mark.parametrize("chunks", [1, 2, 3, 7])
def test_any_number_of_chunks_gives_the_same_stream(monkeypatch, chunks):
    # each chunk starts from the state the draws before it leave (pcg64_advance): the same
    # numbers whatever the split, for each member of a batch (one thread: members in turn)
    refills = _draws(monkeypatch, chunks)
    cfg = _with(_config(steps=450), batch_size=2)
    nets = [Network.from_config(cfg), Network.from_config(_with(cfg, kernels="numpy"))]
    _run_same(nets, 3, batch=2)
    assert refills == [2, 2, 2]  # 1,350 steps: blocks of 256 drawn at steps 0, 256, ... 1280


@needs_numba
def test_pcg64_advance_is_numpys_jump_ahead():
    bits = np.random.PCG64(np.random.SeedSequence(11))
    state = bits.state["state"]
    for delta in (0, 1, 2, 255, 128000, 2 ** 40 + 3):
        jumped = np.random.PCG64(np.random.SeedSequence(11))
        jumped.advance(delta)
        assert kernels.pcg64_advance(state["state"], delta, state["inc"]) == \
            jumped.state["state"]["state"]
    # and the compiled step is numpy's random_raw
    hi, lo = np.uint64(state["state"] >> 64), np.uint64(state["state"] & (2 ** 64 - 1))
    inc = state["inc"]
    words = []
    for _ in range(5):
        hi, lo, word = kernels.pcg64_next(np.uint64(hi), np.uint64(lo), np.uint64(inc >> 64),
                                          np.uint64(inc & (2 ** 64 - 1)))
        words.append(int(word))
    assert words == bits.random_raw(5).tolist()


@needs_numba
def test_ticks_the_kernel_cannot_draw_keep_the_parts_steps(monkeypatch):
    # a paused member (its numbers wait), a float32 half buffered in a generator, an odd
    # number of float32 inputs, regular trains: steps() as before, still numpy's numbers
    refills = _draws(monkeypatch)
    cfg = _with(_config(steps=300), batch_size=2)
    nets = [Network.from_config(cfg), Network.from_config(_with(cfg, kernels="numpy"))]
    for net in nets:
        net.active[1] = False
    _run_same(nets, 2, batch=2)
    assert refills == []
    cfg = _config(steps=300)
    nets = [Network.from_config(cfg), Network.from_config(_with(cfg, kernels="numpy"))]
    _run_same(nets, 1)
    assert refills == [2]
    for net in nets:
        net.parts["inputs"].random.generators[0].random(dtype=np.float32)  # odd draw
    _run_same(nets, 1)  # from position 44 of 256: the tick needs a refill
    assert refills == [2]
    assert engine.poisson_draws(nets[0].parts["inputs"], 100, 1).refills == 0  # buffer only
    _run_same(nets, 1)  # the generator still holds its half: steps() again
    assert refills == [2]
    odd = _config(steps=300)
    odd["inputs"]["n_inputs"] = 101
    nets = [Network.from_config(odd), Network.from_config(_with(odd, kernels="numpy"))]
    _run_same(nets, 2)
    assert refills == [2]
    regular = _config(steps=300)
    regular["inputs"]["spike_model"] = "regular"
    net = Network.from_config(regular)
    assert net.parts["inputs"].poisson_source() is None
    net.tick(np.ones((1, 1)))
    assert refills == [2]


def _counted(monkeypatch):
    """Record whether each blocks tick counted the output spikes itself."""
    calls = []
    original = engine.Engine.run_tick
    monkeypatch.setattr(engine.Engine, "run_tick",
                        lambda self, net, plan: calls.append(original(self, net, plan))
                        or calls[-1])
    return calls


@needs_numba
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("outputs, steps", [(600, 600), (100, 300), (400, 40)])
def test_the_blocks_count_the_output_spikes_in_their_threads(monkeypatch, threads, outputs,
                                                             steps):
    # each block counts its output neurons (k >= n - n_outputs) as bytes, added into the
    # counts every 255 steps: the network's counts and readout, also past 255 spikes (no
    # refractory period, a low threshold: neurons fire nearly every step)
    if threads > kernels.max_threads():
        pytest.skip("numba sees one CPU")
    counted = _counted(monkeypatch)
    cfg = _with(_config(steps=steps, threads=threads), batch_size=2 if threads == 1 else 1)
    cfg["neurons"].update(refractory=0.0, threshold=0.5)
    cfg["readout"]["n_outputs"] = outputs
    batch = cfg["network"]["batch_size"]
    nets = [Network.from_config(cfg), Network.from_config(_with(cfg, kernels="numpy",
                                                                threads=1))]
    rng = np.random.default_rng(4)
    for _ in range(3):
        obs = rng.random((batch, 1))
        actions = [net.tick(obs) for net in nets]
        np.testing.assert_array_equal(nets[0]._output_counts, nets[1]._output_counts)
        np.testing.assert_array_equal(actions[0], actions[1])
    assert counted == [True] * 3  # the compiled network's ticks counted in the blocks
    if steps == 600:
        assert nets[0]._output_counts.max() > 255  # bytes added before they overflow
    assert nets[0]._output_counts.min() < nets[0]._output_counts.max()


@needs_numba
def test_blocks_without_counting_leave_the_counts_alone():
    # the kernel's flag and its per-step spike count once shared a name: from the second
    # block on, a tick told not to count wrote counts (out of bounds of the stand-in array)
    net = Network.from_config(_config(steps=20))
    net.tick(np.ones((1, 1)))
    eng = net._engine
    plan = eng.plan(net, False, True)
    w, n = eng.propagation(net), plan.neuron
    bounds = np.array([0, 192, 384, 600], np.int64)  # three sub-blocks on one thread
    split = engine._segment_split(w.out_start, w.out_post, 100, bounds)
    room = int((split[0, :, 1:] - split[0, :, :-1]).sum(axis=0).max())
    sentinel = np.full((1, 600), -7, np.int64)
    no = np.zeros((1, 1, 2), np.uint64)
    kernels.run_tick_blocks_serial(
        net.tick_input_spikes, net.tick_spikes, net._pre, True, w.flat, w.values, w.out_post,
        w.out_synapse, split, net._polarity, net._current, eng._no_live, n.potential, n.decay,
        n.threshold, n.reset, n.left, n.is_open, n.is_closed, n.refractory_steps, n.spikes,
        bounds, np.array([0, 3]), np.zeros((1, 100), np.int64), np.zeros((1, room), np.float32),
        np.zeros((1, room), np.uint16), np.zeros((1, 101), np.int64), np.zeros((1, 21), np.int64),
        False, no, no[0], np.zeros(2, np.int64), np.zeros((1, 1), np.float32), 0, 0,
        np.zeros((1, 1, 1), np.float32), no[0], False, sentinel, 0)
    assert net.tick_spikes.any()  # the blocks ran and fired
    assert (sentinel == -7).all()


@needs_numba
@pytest.mark.parametrize("threads, dtype, batch", [(1, "float32", 2), (2, "float32", 1),
                                                   (2, "float64", 1)])
def test_sparse_blocks_run_as_cache_sized_sub_blocks_identically(monkeypatch, threads, dtype,
                                                                 batch):
    # each thread's block in sub-blocks of 64 neurons, each sub-block stepping through the tick
    # on its own copy of its parts of the segments: every spike, count and state of numpy's
    # path, for each member of a batch
    if threads > kernels.max_threads():
        pytest.skip("numba sees one CPU")
    monkeypatch.setattr(engine.Engine, "SUB_BLOCK_BYTES", 64 * 20 * 6)  # 20 synapses each
    refills = _draws(monkeypatch)
    cfg = _with(_config(steps=300, threads=threads), dtype=dtype, batch_size=batch)
    nets = [Network.from_config(cfg), Network.from_config(_with(cfg, kernels="numpy",
                                                                threads=1))]
    _run_same(nets, 3, batch=batch)
    bounds, split, sub_bounds, first_sub = nets[0]._engine._block_plan[1]
    assert np.diff(sub_bounds).max() == 88 and sub_bounds.size == 10  # 600: 8 x 64 + 88
    assert first_sub.tolist() == ([0, 9] if threads == 1 else [0, 5, 9])
    assert split.shape == (batch, 100, 10)
    np.testing.assert_array_equal(nets[0]._output_counts, nets[1]._output_counts)
    assert refills == [2, 1, 1]  # the ticks drew their inputs (refills at 0, 256, 512, 768)
