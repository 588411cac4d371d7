"""``bench_izhikevich.py --profile``: the split of a simulated second adds up and names the
DA-STDP weight update's share (the profile that issue 19's Izhikevich item is judged by)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))

kernels = pytest.importorskip("spikey.snn.kernels")
if not kernels.AVAILABLE:  # pragma: no cover - numba is a declared dependency
    pytest.skip("numba missing: the profile times the numba kernels", allow_module_level=True)

import bench_izhikevich  # noqa: E402


def test_profile_splits_the_wall_time_and_times_the_weight_update():
    fused = kernels.run_tick_izhikevich
    row = bench_izhikevich.profile(0.2)
    assert kernels.run_tick_izhikevich is fused  # the timing wrapper is removed again
    wall = row["wall_per_simulated_s"]
    assert row["kernel_per_simulated_s"] > 0 and row["outside_kernel_per_simulated_s"] > 0
    assert row["kernel_per_simulated_s"] + row["outside_kernel_per_simulated_s"] == \
        pytest.approx(wall)
    # seed 0: FixedOutDegree's 800 x 100 excitatory draws give 76,212 distinct plastic synapses
    # (as the network builds them: the input row adds none); an update every 10 ms at dt 1 ms
    assert row["plastic_synapses"] == 76212
    assert row["weight_updates_per_simulated_s"] == 100.0
    assert row["weight_update_per_simulated_s"] == \
        pytest.approx(row["weight_update_us"] * 1e-6 * 100.0)
    assert row["weight_update_us"] > 0 and row["compact_update_us"] > 0


def test_profile_flag_prints_the_split(capsys):
    rows = bench_izhikevich.main(["--seconds", "0.1", "--profile"])
    out = capsys.readouterr().out
    assert len(rows) == 1 and "dopamine weight update" in out and "76212 plastic synapses" in out
