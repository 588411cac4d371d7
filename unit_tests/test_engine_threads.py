"""network.threads on a single large network: a feed-forward tick without learning runs as
blocks of neurons in parallel threads (kernels.run_tick_blocks; one block on the calling thread
with one thread or a small network), bit-identical to one thread and to the numpy path; every
other tick keeps its kernel.

Speed is measured in benchmarks/ (bench_scaling.py --threads), never here.
"""

import numpy as np
import pytest

from spikey import Network
from spikey.snn import engine, kernels
from test_engine import _assert_same_state

needs_two_threads = pytest.mark.skipif(not kernels.AVAILABLE or kernels.max_threads() < 2,
                                       reason="numba sees one CPU: network.threads = 2 is refused")


def _config(n=600, sources="inputs", weights="SparseFanIn", steps=30, threads=1, kernel="numba",
            synapses=None):
    cfg = {
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": weights,
                  "readout": "NeuronRates"},
        "network": {"processing_steps": steps, "batch_size": 1, "seed": 3,
                    "reward_mode": "none", "kernels": kernel, "threads": threads},
        "inputs": {"n_inputs": 100, "n_dims": 1, "max_rate": 60.0,
                   "inhibitory_fraction": 0.2},
        "neurons": {"n_neurons": n, "tau": 20.0, "threshold": 4.0, "refractory": 3.0,
                    "inhibitory_fraction": 0.0 if sources == "inputs" else 0.2},
        "weights": {"fan_in": 20, "sources": sources, "low": 0.0, "high": 2.0,
                    "max_weight": 2.0},
        "readout": {"n_outputs": n},
    }
    if weights == "Random":  # a dense matrix, inputs onto every neuron at 20 % density
        mask = np.zeros((100 + n, n), dtype=bool)
        mask[:100] = np.random.default_rng(1).random((100, n)) < 0.2
        cfg["weights"] = {"low": 0.0, "high": 2.0, "max_weight": 2.0, "mask": mask.tolist()}
    if synapses is not None:
        cfg["parts"]["synapses"] = synapses
        cfg["synapses"] = {"learning_rate": 0.1}
    return cfg


def _count(monkeypatch, name):
    calls = []
    kernel = getattr(kernels, name)
    monkeypatch.setattr(kernels, name, lambda *a: (calls.append(1), kernel(*a)))
    return calls


def _run(nets, ticks=4):
    rng = np.random.default_rng(5)
    for _ in range(ticks):
        obs = rng.random((1, 1))
        for net in nets:
            net.tick(obs)
        for net in nets[1:]:
            np.testing.assert_array_equal(nets[0].tick_spikes, net.tick_spikes)


@needs_two_threads
@pytest.mark.parametrize("weights, steps, ticks", [("SparseFanIn", 30, 6), ("SparseFanIn", 1, 40),
                                                   ("Random", 30, 6)])
def test_a_feed_forward_network_runs_in_neuron_blocks_identically(monkeypatch, weights, steps,
                                                                   ticks):
    blocks = _count(monkeypatch, "run_tick_blocks")
    one = Network.from_config(_config(weights=weights, steps=steps))
    two = Network.from_config(_config(weights=weights, steps=steps, threads=2))
    reference = Network.from_config(_config(weights=weights, steps=steps, kernel="numpy"))
    serial = _count(monkeypatch, "run_tick_blocks_serial")
    _run([one, two, reference], ticks=ticks)
    assert len(blocks) == ticks  # every tick of the two-thread network ran as neuron blocks
    assert len(serial) == ticks  # and the one-thread network's as one block
    assert one._engine._block_plan[1][0].tolist() == [0, 600]
    bounds = two._engine._block_plan[1][0]
    assert bounds.tolist() == [0, 320, 600]  # two blocks, split on a multiple of 64
    rate = one.tick_spikes.mean() * 1000.0
    assert 20.0 < rate < 300.0  # the blocks had spikes to get right (Hz)
    assert one.parts["neurons"]._clock.closed.any()  # and refractory neurons
    _assert_same_state(one, two)  # potentials, refractory clocks, tick buffers, _pre ...
    _assert_same_state(two, reference)
    np.testing.assert_array_equal(one._pre, two._pre)  # as the next step-by-step tick reads it
    np.testing.assert_array_equal(one._current, two._current)


@needs_two_threads
def test_blocks_read_a_threshold_per_neuron():
    # a (B, N) threshold (as Homeostasis sets it): each block reads its own neurons' values
    nets = [Network.from_config(_config(threads=t, kernel=k))
            for t, k in ((1, "numba"), (2, "numba"), (1, "numpy"))]
    threshold = np.random.default_rng(2).uniform(3.0, 5.0, size=(1, 600))
    for net in nets:
        net.parts["neurons"].threshold_value = threshold.copy()
    _run(nets, ticks=4)
    assert nets[1]._engine._block_plan[1][0].tolist() == [0, 320, 600]
    spikes = nets[0].tick_spikes.sum(axis=(0, 1))
    # the lower thresholds fire more: the per-neuron values were read
    assert spikes[threshold[0] < 3.5].mean() > spikes[threshold[0] > 4.5].mean()
    _assert_same_state(nets[0], nets[1])
    _assert_same_state(nets[1], nets[2])


@needs_two_threads
def test_recurrence_and_learning_keep_run_tick_and_small_networks_run_one_block(monkeypatch):
    blocks = _count(monkeypatch, "run_tick_blocks")
    serial_blocks = _count(monkeypatch, "run_tick_blocks_serial")
    serial = _count(monkeypatch, "run_tick")
    members = _count(monkeypatch, "run_tick_members")
    sparse = _count(monkeypatch, "run_tick_sparse")  # recurrent SparseFanIn, no learning
    cases = [_config(sources="all", threads=2),  # body neurons feed each other: per step
             _config(synapses="STDP", threads=2)]  # learning: the STDP term reads all traces
    for cfg in cases:
        two = Network.from_config(cfg)
        one = Network.from_config({**cfg, "network": {**cfg["network"], "threads": 1}})
        reference = Network.from_config({**cfg, "network": {**cfg["network"], "threads": 1,
                                                            "kernels": "numpy"}})
        _run([one, two, reference], ticks=2)
        _assert_same_state(one, two)
        _assert_same_state(two, reference)
        assert getattr(two._engine, "_block_plan", (None, None))[1] is None
    # the recurrent networks' ticks without learning read their weights in CSR order
    # (run_tick_sparse), the STDP networks' go through run_tick: one thread either way
    assert len(sparse) == 4 and len(serial) == 4 and blocks == [] and serial_blocks == [] \
        and members == []
    # 300 neurons: no two blocks of 256, one block on the calling thread
    two = Network.from_config(_config(n=300, threads=2))
    _run([two], ticks=2)
    assert two._engine._block_plan[1][0].tolist() == [0, 300]
    assert len(serial_blocks) == 2 and blocks == [] and len(serial) == 4


def test_segment_split_finds_each_blocks_part_of_the_rows():
    # two members, inputs 0-2 and 4 neurons (body rows 3-6 without synapses)
    out_start = np.array([[0, 3, 3, 5, 5, 5, 5, 5],
                          [0, 1, 4, 5, 5, 5, 5, 5]], dtype=np.int64)
    out_post = np.array([[0, 2, 3, 1, 2], [3, 0, 1, 2, 3]], dtype=np.int32)
    split = engine._segment_split(out_start, out_post, 3, np.array([0, 2, 4]))
    assert split.shape == (2, 3, 3)  # the input rows only (body rows hold no synapse)
    np.testing.assert_array_equal(split[0], [[0, 1, 3], [3, 3, 3], [3, 4, 5]])
    np.testing.assert_array_equal(split[1], [[0, 0, 1], [1, 3, 4], [4, 4, 5]])
    # a row whose targets do not ascend, or a body row with a synapse: no blocks
    unsorted = out_post.copy()
    unsorted[0, :3] = [2, 0, 3]
    assert engine._segment_split(out_start, unsorted, 3, np.array([0, 2, 4])) is None
    recurrent = out_start.copy()
    recurrent[1, 4:] = 6
    assert engine._segment_split(recurrent, np.zeros((2, 6), np.int32), 3,
                                 np.array([0, 2, 4])) is None


@needs_two_threads
def test_bench_scaling_times_two_threads_against_one(capsys):
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import bench_scaling

    originals = kernels.run_tick_blocks, kernels.run_tick_blocks_serial
    row = bench_scaling.measure_threads(512, 20.0, "inputs", "sparse", "numba", 1, 2)
    assert row["blocks"] is True and row["threads"] == 2  # the two-thread network ran blocks
    # the time outside the compiled blocks call was measured, and the kernels put back
    assert 0 < row["threads_many_outside_us_per_step"] < row["threads_many_us_per_step"]
    assert (kernels.run_tick_blocks, kernels.run_tick_blocks_serial) == originals
    assert row["thread_speedup"] == pytest.approx(row["threads_one_us_per_step"]
                                                  / row["threads_many_us_per_step"])
    assert row["threads_many_cpu_per_wall"] > 0 and row["threads_one_cpu_per_wall"] > 0
    with pytest.raises(SystemExit):
        bench_scaling.main(["--threads", "0"])
    assert "--threads = 0; expected a count >= 1" in capsys.readouterr().err
    import bench_xor

    for argv, message in ((["--threads", "0"], "--threads = 0; expected a count >= 1"),
                          (["--batch", "0", "4"], "--batch = [0, 4]; expected sizes >= 1")):
        with pytest.raises(SystemExit):
            bench_xor.main(argv)
        assert message in capsys.readouterr().err


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
def test_the_serial_and_threaded_ticks_have_their_own_cache_files():
    # numba names a cache file after the function and keys its entries by signature and
    # bytecode, not by parallel=True: two dispatchers of one function loaded each other's
    # machine code (network.threads = 2 ran the one-thread tick, or threads = 1 the threaded
    # one, whichever was compiled first)
    serial, members = kernels.run_tick, kernels.run_tick_members
    assert serial.py_func.__code__.co_code == members.py_func.__code__.co_code
    assert serial.py_func.__qualname__ == "_run_tick"
    assert members.py_func.__qualname__ == "_run_tick_members"
    assert not serial.targetoptions.get("parallel") and members.targetoptions["parallel"]
    names = [d._cache._impl._filename_base for d in (serial, members, kernels.run_tick_blocks)]
    assert len(set(names)) == 3 and "_run_tick_members" in names[1]


def test_random_blocks_draw_the_same_numbers_in_threads():
    from spikey.core.part import Activity, RandomBlocks

    def make(threads):
        activity = Activity(8)
        blocks = RandomBlocks([np.random.default_rng(10 + b) for b in range(8)], 64,
                              np.float32, activity=activity)
        blocks.threads = threads
        return blocks, activity

    (one, act_one), (two, act_two) = make(1), make(2)
    assert 8 * two.block * two.width >= 1 << 16  # large enough to be split over threads
    for steps in (100, 300, 700):  # takes that cross one, two and several refills
        np.testing.assert_array_equal(one.take(steps, np.empty((8, steps, 64), np.float32)),
                                      two.take(steps, np.empty((8, steps, 64), np.float32)))
    for activity in (act_one, act_two):  # a paused member: member by member refills
        activity.mask[3] = False
        activity.refresh()
    for _ in range(300):
        np.testing.assert_array_equal(one.next(), two.next())
    np.testing.assert_array_equal(one.position, two.position)
    # member 5's own stream: 1,400 steps so far, the sixth block of 256 in the buffer
    expected = np.random.default_rng(15).random((6 * 256, 64), dtype=np.float32)
    np.testing.assert_array_equal(two.buffer[5], expected[-256:])


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
def test_prepare_threads_asks_for_sleeping_openmp_threads_before_they_start(monkeypatch):
    import os

    from numba.np.ufunc import parallel

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr(parallel, "_is_initialized", True)  # started: the policy is read
    kernels.prepare_threads()
    assert "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setattr(parallel, "_is_initialized", False)
    kernels.prepare_threads()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice stays
    kernels.prepare_threads()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
