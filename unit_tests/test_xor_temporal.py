"""Florian (2007) temporally coded XOR (``examples/florian_xor_temporal.py``).

Each input neuron's train for a 1 is its train for a 0 at new times (same spike
count), so only timing carries the bits. MSTDPET learns XOR from it: the
XOR-true patterns end above the XOR-false ones in (nearly) every network, and
with the output's rate held near 40 Hz by a homeostatic threshold, one fixed
40 Hz threshold answers most patterns right. MSTDP does not learn it.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

from florian_xor_temporal import (  # noqa: E402
    TARGET_RATE, learn, make_network, temporal_config, temporal_trains)


def test_temporal_code_is_timing_only():
    trains = temporal_trains(seed=3, rate=40.0, steps=500)
    assert trains.shape == (4, 500, 60)
    # each group replays the train of its own bit: 00 and 01 share group 1, 00 and 10 group 2
    assert np.array_equal(trains[0, :, :30], trains[1, :, :30])
    assert np.array_equal(trains[0, :, 30:], trains[2, :, 30:])
    assert not np.array_equal(trains[0, :, 30:], trains[1, :, 30:])
    # every input neuron fires exactly as often for a 1 as for a 0 (00 and 11 differ in every bit)
    counts = trains.sum(axis=1)  # (pattern, input)
    assert np.array_equal(counts[0], counts[3]) and np.array_equal(counts[1], counts[2])
    # ... at new times, and at about 40 Hz (0.5 s x 30 inputs = 600 spikes per group)
    assert (trains[0] != trains[3]).sum() > 0.9 * 2 * trains[0].sum()
    assert np.all(np.abs(counts[0].reshape(2, 30).sum(axis=1) - 600) < 4 * np.sqrt(600))
    # the independent code draws a new train for a 1: counts differ by chance
    independent = temporal_trains(seed=3, code="independent").sum(axis=1)
    assert not np.array_equal(independent[0], independent[3])
    with pytest.raises(ValueError, match="code must be one of"):
        temporal_trains(seed=3, code="latency")
    # every member replays its own seed's trains
    network = make_network(batch_size=2, seed=3)
    assert np.array_equal(network.inputs.trains_array[0], trains)
    assert np.array_equal(network.inputs.trains_array[1], temporal_trains(seed=4))


def test_homeostasis_holds_only_the_output():
    config = temporal_config(target_rate=40.0, homeostasis_rate=0.02)
    (modifier,) = config["modifiers"]
    assert modifier["part"] == "HomeostaticThreshold"
    assert modifier["neurons"] == [60, 61] and modifier["target_rate"] == 40.0
    assert modifier["rate"] == 0.02
    assert "modifiers" not in temporal_config(target_rate=0.0)


def test_mstdpet_learns_xor_from_timing_in_a_short_run():
    result = learn(presentations=400, seeds=4, every=400, verbose=False)
    assert result["threshold"] == TARGET_RATE
    order, fixed = result["order"], result["acc@fixed"]
    # untrained, the XOR-true patterns do not fire more than the XOR-false ones
    assert order[0].mean() <= 0.6 and result["contrast"][0].mean() < 5.0, order[0]
    assert order[-1].mean() >= 0.9, order[-1]
    assert result["contrast"][-1].mean() > 5.0, result["contrast"][-1]
    assert fixed[0].mean() <= 0.6 and fixed[-1].mean() >= 0.75, fixed
    # the homeostatic threshold keeps the output's mean rate near its 40 Hz target
    assert 30.0 < result["rates"][-1].mean() < 50.0, result["rates"][-1]


def test_mstdp_does_not_learn_the_temporal_code():
    result = learn(presentations=400, seeds=4, every=400, verbose=False, rule="MSTDP")
    assert result["order"][-1].mean() <= 0.65, result["order"][-1]
    assert result["acc@fixed"][-1].mean() <= 0.6, result["acc@fixed"][-1]


@pytest.mark.slow
def test_mstdpet_temporal_xor_over_eight_networks():
    result = learn(presentations=3000, seeds=8, seed=8, every=1000, verbose=False)
    order, fixed = result["order"][-1], result["acc@fixed"][-1]
    assert order.mean() >= 0.9, order
    assert np.sum(order == 1.0) >= 6, order  # a threshold separates the classes
    assert fixed.mean() >= 0.75, fixed  # one threshold, 40 Hz, for every network
