"""Florian (2007) temporally coded XOR (``examples/florian_xor_temporal.py``).

Each input neuron's train for a 1 is its train for a 0 at new times (same spike
count), so only timing carries the bits. MSTDPET learns XOR from it: the
XOR-true patterns end above the XOR-false ones in (nearly) every network, and
with the output's rate held near 40 Hz by a homeostatic threshold that, in a
final calibration, settles where the weakest XOR-true and the strongest XOR-false
pattern lie symmetrically about 40 Hz, and a second homeostatic threshold holding
each hidden neuron near 10 Hz (so the hidden layer does not fall silent), one fixed
40 Hz threshold answers the patterns right. MSTDP does not learn it.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

from florian_xor_temporal import (  # noqa: E402
    TARGET_RATE, SettlingHomeostaticThreshold, learn, main, make_network, temporal_config,
    temporal_trains)
from spikey.core.params import ConfigError  # noqa: E402


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


def test_homeostasis_holds_the_output_at_the_target_rate():
    config = temporal_config(target_rate=40.0, homeostasis_rate=0.02)
    modifier, hidden = config["modifiers"]  # the output's, then the hidden layer's
    assert hidden["neurons"] == [0, 60] and hidden["target_rate"] == 10.0
    assert modifier["part"] == "HomeostaticThreshold"
    assert modifier["neurons"] == [60, 61] and modifier["target_rate"] == 40.0
    assert modifier["rate"] == 0.02
    # wide offsets: the old [-15, 30] mV clipped networks that still fired 60-70 Hz at +30 mV
    assert modifier["min_offset"] == -100.0 and modifier["max_offset"] == 200.0
    assert "modifiers" not in temporal_config(target_rate=0.0, hidden_target_rate=0.0)
    with pytest.raises(ValueError, match="hidden_target_rate must be a rate >= 0 Hz"):
        temporal_config(hidden_target_rate=-1.0)


def test_calibration_freezes_learning_for_the_last_presentations():
    config = temporal_config(learning_rate=0.25, freeze_at=2500)
    drop = config["modifiers"][-1]
    assert drop == {"part": "DropOff", "path": "synapses.learning_rate", "start": 0.25,
                    "end": 0.0, "at": 2500}
    network = make_network(1, 0, freeze_at=3)
    games_obs = np.array([[0, 1]])
    network.train()
    rates = []
    for _ in range(5):
        network.tick(games_obs, {"expected": np.array([1])})
        rates.append(float(network.parts["synapses"].learning_rate))
    assert rates == [0.25, 0.25, 0.25, 0.0, 0.0]
    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="freeze_at must be a whole number"):
            temporal_config(freeze_at=bad)
    for bad in (-1, 401, 1.5):
        with pytest.raises(ValueError, match="calibrate must be a whole number"):
            learn(presentations=400, seeds=1, calibrate=bad, verbose=False)


def _output_spikes(counts):
    """Tick spikes ``(B, 500, 61)`` in which the output (neuron 60) fires ``counts[b]`` times."""
    spikes = np.zeros((len(counts), 500, 61), dtype=bool)
    for b, n in enumerate(counts):
        spikes[b, :n, 60] = True
    return spikes


def test_settling_homeostasis_rate_falls_to_zero():
    """From settle_at the rate falls linearly to 0 over settle_ticks, so the offset stops
    moving (the plain homeostasis kept swinging by eta x the class contrast each cycle)."""
    config = temporal_config(settle_at=10, settle_ticks=4)
    modifier = config["modifiers"][0]
    assert modifier["part"] == "SettlingHomeostaticThreshold"
    assert modifier["settle_at"] == 10 and modifier["settle_ticks"] == 4
    network = make_network(1, 0, settle_at=10, settle_ticks=4)
    homeostasis = network.modifiers[0]
    assert isinstance(homeostasis, SettlingHomeostaticThreshold)
    factors = [homeostasis.settle_factor(t) for t in (0, 9, 10, 11, 12, 13, 14, 100)]
    assert factors == [1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    moves = []
    for tick in (9, 11, 14):
        homeostasis.apply(tick)
        before = float(homeostasis.offset[0, -1])
        homeostasis.observe(_output_spikes([30]), 500.0)  # 60 Hz: 20 Hz above the 40 Hz target
        moves.append(float(homeostasis.offset[0, -1]) - before)
    assert np.allclose(moves, [0.2, 0.15, 0.0], atol=1e-6)  # eta 0.01 mV/Hz x 20 Hz x factor
    assert np.all(homeostasis.offset[0, :-1] == 0.0)  # hidden neurons keep their thresholds
    # learn() settles over the second half of the calibration by default
    result = learn(presentations=12, seeds=1, every=12, verbose=False, calibrate=6,
                   margin=None)
    modifier = result["network"].modifiers[0]
    assert (modifier.settle_at, modifier.settle_ticks, modifier.margin) == (9, 3, None)
    plain = learn(presentations=12, seeds=1, every=12, verbose=False, calibrate=6, settle=0,
                  margin=None)
    assert type(plain["network"].modifiers[0]).__name__ == "HomeostaticThreshold"


def test_margin_rule_moves_only_for_patterns_inside_the_margin():
    """With margin m the error is min(0, r - (40 + m)) when the output's vote (XOR-true) is
    expected and max(0, r - (40 - m)) when it is not."""
    network = make_network(4, 0, margin=10.0, margin_at=5)
    homeostasis = network.modifiers[0]
    rewarder = network.parts["rewarder"]
    rewarder.step_targets({"expected": np.array([1, 1, 0, 0])}, 4)
    spikes = _output_spikes([22, 27, 13, 19])  # 44, 54, 26, 38 Hz
    homeostasis.apply(4)  # before margin_at: the plain target, r - 40
    homeostasis.observe(spikes, 500.0)
    assert np.allclose(homeostasis.offset[:, -1], [0.04, 0.14, -0.14, -0.02], atol=1e-6)
    homeostasis.reset_offsets()
    homeostasis.apply(5)
    homeostasis.observe(spikes, 500.0)
    # true at 44 Hz: 44 - 50 = -6; true at 54: 0; false at 26: 0; false at 38: 38 - 30 = +8
    assert np.allclose(homeostasis.offset[:, -1], [-0.06, 0.0, 0.0, 0.08], atol=1e-6)
    # learn() turns the margin rule on for the calibration presentations
    result = learn(presentations=12, seeds=1, every=12, verbose=False, calibrate=6, margin=8.0)
    modifier = result["network"].modifiers[0]
    assert (modifier.margin, modifier.margin_at) == (8.0, 6)
    with pytest.raises(ConfigError, match="needs a rewarder that keeps the expected answers"):
        make_network(1, 0, margin=10.0, reward_shape="flat")
    with pytest.raises(ValueError, match="margin = 10.0 needs reward_shape='graded'"):
        learn(presentations=12, seeds=1, calibrate=6, reward_shape="flat", verbose=False)
    flat = learn(presentations=12, seeds=1, every=12, calibrate=6, reward_shape="flat",
                 margin=None, verbose=False)
    assert flat["network"].modifiers[0].margin is None
    with pytest.raises(ConfigError, match="margin"):
        make_network(1, 0, margin=-1.0)


def test_settle_bad_values(capsys):
    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="settle_at must be a whole number of presentations "
                                             ">= 0 or None"):
            temporal_config(settle_at=bad)
    for bad in (0, 1.5, False):
        with pytest.raises(ValueError, match="settle_ticks must be a whole number of "
                                             "presentations >= 1"):
            temporal_config(settle_at=3, settle_ticks=bad)
    for bad in (-1, 401, 1.5, True):
        with pytest.raises(ValueError, match="settle must be a whole number"):
            learn(presentations=400, seeds=1, settle=bad, verbose=False)
    for bad in ("-1", "ten"):
        with pytest.raises(SystemExit):
            main(["--margin", bad])
        assert "--margin" in capsys.readouterr().err


def test_graded_reward_values():
    """The k-th spike of a tick: agreeing rho+ (1 - k / K+), disagreeing
    rho- (1 + min(k, K-) / K-)."""
    network = make_network(2, 0)  # 500 ms ticks: K+ = 80 Hz x 0.5 s = 40, K- = 40 Hz x 0.5 s = 20
    rewarder = network.parts["rewarder"]
    assert type(rewarder).__name__ == "GradedMatchExpected"
    groups = network.parts["readout"].groups  # the output votes for 1 (XOR-true)
    expected = rewarder.step_targets({"expected": np.array([1, 0])}, 2)
    spike, silent = np.array([[True], [True]]), np.array([[False], [False]])
    got = [rewarder.step_reward(spike, groups, expected, t).copy() for t in range(45)]
    got = np.array(got)
    k = np.arange(45)
    # true: 1, 0.975, ..., 0 from the 40th spike on
    assert np.allclose(got[:, 0], np.maximum(0.0, 1.0 - k / 40.0))
    assert np.allclose(got[:, 1], -(1.0 + np.minimum(k, 20) / 20.0))  # false: -1 ... -2 from 20 on
    assert np.allclose(rewarder.step_reward(silent, groups, expected, 45), 0.0)
    # a new tick starts its count again; only the spiking member's count moves
    expected = rewarder.step_targets({"expected": np.array([1, 1])}, 2)
    one = np.array([[True], [False]])
    assert np.allclose(rewarder.step_reward(one, groups, expected, 0), [1, 0])
    assert np.allclose(rewarder.step_reward(spike, groups, expected, 1), [0.975, 1.0])
    # the flat reward is the paper's MatchExpected
    flat = temporal_config(reward_shape="flat")
    assert flat["parts"]["rewarder"] == "MatchExpected"
    assert flat["rewarder"] == {"reward_mult": 1.0, "punish_mult": -1.0}
    with pytest.raises(ValueError, match="reward_shape must be one of"):
        temporal_config(reward_shape="hinge")
    for key in ("reward_zero_at", "punish_double_at"):
        with pytest.raises(ConfigError, match=f"{key} = 0.0; expected a rate above 0 Hz"):
            make_network(1, 0, **{key: 0.0})
        with pytest.raises(ConfigError, match=key):
            make_network(1, 0, **{key: -5.0})


#: The earlier setup: the paper's flat reward, offsets clipped to [-15, 30] mV, no calibration,
#: no hidden homeostasis.
EARLIER = dict(reward_shape="flat", calibrate=0, min_offset=-15.0, max_offset=30.0,
               hidden_target_rate=0.0)
#: The setup before the hidden layer's homeostasis (the output's calibration as now).
NO_HIDDEN = dict(hidden_target_rate=0.0)


def test_mstdpet_learns_xor_from_timing_in_a_short_run():
    result = learn(presentations=400, seeds=4, every=400, verbose=False)
    assert result["threshold"] == TARGET_RATE
    order, fixed = result["order"], result["acc@fixed"]
    # untrained, the XOR-true patterns do not fire more than the XOR-false ones
    assert order[0].mean() <= 0.6 and result["contrast"][0].mean() < 5.0, order[0]
    assert order[-1].mean() >= 0.9, order[-1]
    # graded reward: XOR-true ~18 Hz above XOR-false after 400 presentations (earlier setup: ~10)
    assert result["contrast"][-1].mean() > 12.0, result["contrast"][-1]
    # one fixed 40 Hz threshold: all four patterns right in 3 of 4 networks after 400
    # presentations (seed 3: 00 at 42 Hz, 10 at 40 Hz; right at 3,000); earlier setup: 0.81
    assert fixed[0].mean() <= 0.6 and np.sum(fixed[-1] >= 0.9) >= 3, fixed
    # the homeostatic threshold keeps the output's mean rate near its 40 Hz target
    assert 35.0 < result["rates"][-1].mean() < 45.0, result["rates"][-1]


def test_mstdp_does_not_learn_the_temporal_code():
    result = learn(presentations=400, seeds=4, every=400, verbose=False, rule="MSTDP", **EARLIER)
    assert result["order"][-1].mean() <= 0.65, result["order"][-1]
    assert result["acc@fixed"][-1].mean() <= 0.6, result["acc@fixed"][-1]


def _passing(result):
    """Networks whose every pattern is on its side of the fixed threshold (acc@fixed >= 0.9)."""
    return int((result["acc@fixed"][-1] >= 0.9).sum())


@pytest.mark.slow
def test_temporal_xor_fixed_threshold_development_seeds():
    """Dev seeds 16-23: the earlier setup orders 8 of 8 networks but puts only 4 on the right
    side of 40 Hz (17, 18, 20 clipped at +30 mV, 22 with 01 at 36 Hz); the defaults all 8."""
    earlier = learn(presentations=3000, seeds=8, seed=16, every=3000, verbose=False, **EARLIER)
    assert np.sum(earlier["order"][-1] == 1.0) == 8, earlier["order"][-1]
    assert _passing(earlier) == 4, earlier["acc@fixed"][-1]
    result = learn(presentations=3000, seeds=8, seed=16, every=3000, verbose=False)
    assert _passing(result) == 8, result["acc@fixed"][-1]
    assert np.all(result["order"][-1] == 1.0), result["order"][-1]


@pytest.mark.slow
def test_temporal_xor_fixed_threshold_fresh_seeds():
    """Fresh seeds 7000-7007 and 7100-7107: at 40 Hz, 8 of 8 and 8 of 8, rerun with the hidden
    homeostasis (without it also 8 and 8; with the plain calibration, before the settling and
    the margin rule: 6 of 8, 7000 with 10 at 38 Hz and 7001 with 10 at 40 Hz, and 8 of 8; the
    earlier setup: 2 and 5 of 8)."""
    first = learn(presentations=3000, seeds=8, seed=7000, every=3000, verbose=False)
    second = learn(presentations=3000, seeds=8, seed=7100, every=3000, verbose=False)
    assert _passing(first) >= 8 and _passing(second) >= 8, (first["acc@fixed"][-1],
                                                          second["acc@fixed"][-1])


@pytest.mark.slow
def test_temporal_xor_fixed_threshold_new_fresh_seeds():
    """Fresh seeds 7200-7207 and 7300-7307, run once after the settling and the margin rule were
    chosen on dev seeds: 6 and 8 of 8. 7202 was ordered, but its 10 stayed at or below 38 Hz at
    every threshold, and 7205 not ordered (01 at 38 Hz below 00 at 42 Hz): the hidden layer of
    both fell nearly silent in the first 200 presentations. With the hidden homeostasis (chosen
    on dev seeds by the hidden layer's activity): 8 and 8 of 8."""
    old = learn(presentations=3000, seeds=8, seed=7200, every=3000, verbose=False, **NO_HIDDEN)
    assert _passing(old) == 6 and old["acc@fixed"][-1][[2, 5]].max() < 0.9, old["acc@fixed"][-1]
    first = learn(presentations=3000, seeds=8, seed=7200, every=3000, verbose=False)
    second = learn(presentations=3000, seeds=8, seed=7300, every=3000, verbose=False)
    assert _passing(first) >= 8 and _passing(second) >= 8, (first["acc@fixed"][-1],
                                                          second["acc@fixed"][-1])
    assert np.sum(first["order"][-1] == 1.0) + np.sum(second["order"][-1] == 1.0) >= 16


@pytest.mark.slow
def test_temporal_xor_fixed_threshold_hidden_homeostasis_fresh_seeds():
    """Fresh seeds 7400-7407 and 7500-7507, never run before, run once with the hidden
    homeostasis: 8 and 8 of 8 at 40 Hz."""
    first = learn(presentations=3000, seeds=8, seed=7400, every=3000, verbose=False)
    second = learn(presentations=3000, seeds=8, seed=7500, every=3000, verbose=False)
    assert _passing(first) >= 8 and _passing(second) >= 8, (first["acc@fixed"][-1],
                                                          second["acc@fixed"][-1])


def test_hidden_homeostasis_is_a_second_threshold_on_the_hidden_slice():
    """The hidden layer's homeostasis adapts neurons [0, 60) only, the output's [60, 61), and
    each keeps its own thresholds (two HomeostaticThreshold parts on one neuron part used to
    overwrite each other); it stops where the calibration begins."""
    config = temporal_config(hidden_target_rate=10.0, hidden_homeostasis_rate=0.02,
                             freeze_at=2500)
    output, hidden, drop = config["modifiers"]
    assert output["neurons"] == [60, 61] and output["target_rate"] == TARGET_RATE
    assert hidden == {"part": "SettlingHomeostaticThreshold", "target_rate": 10.0, "rate": 0.02,
                      "neurons": [0, 60], "min_offset": -10.0, "max_offset": 20.0,
                      "settle_at": 2500, "settle_ticks": 1}
    assert drop["part"] == "DropOff"
    assert [m["part"] for m in temporal_config(hidden_target_rate=0.0)["modifiers"]] == [
        "HomeostaticThreshold"]
    network = make_network(2, 0, hidden_target_rate=10.0)
    network.train()
    for _ in range(3):
        network.tick(np.array([[0, 1], [1, 1]]), {"expected": np.array([1, 0])})
    out_offset, hid_offset = (m.offset.copy() for m in network.modifiers)
    assert np.abs(hid_offset[:, :60]).max() > 0.05 and np.abs(out_offset[:, 60]).min() > 0.05
    network.tick(np.array([[0, 1], [1, 1]]), {"expected": np.array([1, 0])})
    threshold = network.neurons.threshold_value
    np.testing.assert_allclose(threshold[:, :60], 16.0 + hid_offset[:, :60], rtol=1e-6)
    np.testing.assert_allclose(threshold[:, 60], 16.0 + out_offset[:, 60], rtol=1e-6)
    settling = make_network(1, 0, hidden_target_rate=10.0, freeze_at=5).modifiers[1]
    assert [settling.settle_factor(t) for t in (4, 5, 6)] == [1.0, 1.0, 0.0]


def test_hidden_homeostasis_keeps_the_hidden_layer_alive():
    """Dev seeds 3-5 over the first 300 presentations: without it the hidden layer of 3 and 5
    thins to 1 and 4 neurons above 5 Hz for some pattern (the misses on fresh seeds 7202 and
    7205 start so); held at 10 Hz, 9 and 9."""
    kept = learn(presentations=300, seeds=3, seed=3, every=300, calibrate=0, verbose=False,
                 hidden_target_rate=10.0)
    old = learn(presentations=300, seeds=3, seed=3, every=300, calibrate=0, verbose=False,
                hidden_target_rate=0.0)
    assert np.all(old["active_hidden"][0] >= 30), old["active_hidden"][0]  # untrained
    assert old["active_hidden"][-1][[0, 2]].max() <= 5, old["active_hidden"][-1]
    assert kept["active_hidden"][-1].min() >= 8, kept["active_hidden"][-1]
