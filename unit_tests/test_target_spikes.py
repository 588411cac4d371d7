"""TargetSpikes: step rewards against a target spike train, by hand and in a network."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import spikey  # noqa: E402
from spikey.core.params import ConfigError  # noqa: E402
from spikey.core.part import BuildContext  # noqa: E402
from spikey.snn.reward import TargetSpikes  # noqa: E402
from spikey.snn.reward.target import match_counts, near_target  # noqa: E402

GROUPS = np.zeros(1, dtype=np.int64)  # unused by TargetSpikes


def _rewarder(batch_size=1, n_outputs=1, **keys):
    rewarder = TargetSpikes(**keys)
    rewarder.build(BuildContext(batch_size=batch_size, dtype=np.dtype("float64"), dt=1.0,
                                seeds=tuple(range(batch_size)), n_outputs=n_outputs))
    return rewarder


def _run_tick(rewarder, output, target):
    """Step rewards of one tick as the network gives them: (B, T) rewards."""
    B, T, _ = output.shape
    expected = rewarder.step_targets({"target": target}, B)
    rewards = np.zeros((B, T))
    for t in range(T):
        if rewarder.EVERY_STEP or output[:, t].any():
            rewards[:, t] = rewarder.step_reward(output[:, t], GROUPS, expected, t)
    return rewards


def _train(spike_steps, T=12, B=1):
    train = np.zeros((B, T, 1), dtype=bool)
    train[:, list(spike_steps), 0] = True
    return train


def test_hits_within_the_window_and_false_spikes():
    target = _train([5])
    output = _train([2, 3, 5, 7, 8, 11])
    rewards = _run_tick(_rewarder(window=2, reward_mult=2.0, punish_mult=-0.5), output, target)
    # |t - 5| <= 2 hits: steps 3, 5, 7 earn 2.0; steps 2, 8, 11 cost 0.5
    expected = np.zeros(12)
    expected[[3, 5, 7]] = 2.0
    expected[[2, 8, 11]] = -0.5
    np.testing.assert_allclose(rewards[0], expected)


def test_window_zero_needs_exact_steps():
    rewards = _run_tick(_rewarder(window=0), _train([4, 5]), _train([5]))
    np.testing.assert_allclose(rewards[0, [4, 5]], [-1.0, 1.0])


def test_misses_are_punished_when_their_window_closes():
    target = _train([1, 5, 10])  # T = 12; window 2: 5 is hit by 6; 1 and 10 are missed
    output = _train([6])
    rewarder = _rewarder(window=2, miss_mult=-3.0)
    assert rewarder.EVERY_STEP and not _rewarder().EVERY_STEP
    rewards = _run_tick(rewarder, output, target)
    expected = np.zeros(12)
    expected[6] = 1.0
    expected[3] = -3.0  # the window of the target at 1 closes at 3
    expected[11] = -3.0  # the one at 10 would close at 12: judged at the last step
    np.testing.assert_allclose(rewards[0], expected)


def test_late_spike_inside_the_window_is_no_miss():
    rewards = _run_tick(_rewarder(window=2, miss_mult=-1.0), _train([7]), _train([5]))
    np.testing.assert_allclose(rewards[0], np.eye(12)[7])


def test_batch_members_and_outputs_are_scored_apart():
    target = np.zeros((2, 6, 2), dtype=bool)
    target[0, 2, 0] = target[1, 2, 1] = True
    output = np.zeros((2, 6, 2), dtype=bool)
    output[:, 2, 0] = True  # member 0 hits; member 1 fired the wrong output
    output[1, 3, 1] = True  # member 1's output 1 hits at distance 1
    rewarder = _rewarder(batch_size=2, n_outputs=2, window=1, miss_mult=-1.0)
    rewards = _run_tick(rewarder, output, target)
    np.testing.assert_allclose(rewards[0], [0, 0, 1, 0, 0, 0])
    np.testing.assert_allclose(rewards[1], [0, 0, -1, 1, 0, 0])
    # a (T, n_outputs) target broadcasts to every member
    shared = _run_tick(_rewarder(batch_size=2, n_outputs=2, window=1), output, target[0])
    np.testing.assert_allclose(shared, [[0, 0, 1, 0, 0, 0], [0, 0, 1, -1, 0, 0]])


def test_tick_reward_is_the_sum_of_step_rewards_over_target_spikes():
    target = _train([1, 5], B=2)
    output = _train([6, 9], B=2)  # 6 hits 5, 9 is false, 1 is missed
    output[1] = False  # member 1 stays silent
    rewarder = _rewarder(batch_size=2, window=2, punish_mult=-0.5, miss_mult=-1.0)
    steps = _run_tick(rewarder, output, target)
    tick = rewarder.tick_reward(output, None, {"target": target})
    np.testing.assert_allclose(tick, steps.sum(axis=1) / 2)
    np.testing.assert_allclose(tick, [(1.0 - 0.5 - 1.0) / 2, -1.0])
    counts = match_counts(output, target, 2)
    assert counts["hits"].tolist() == [1, 0] and counts["false"].tolist() == [1, 0]
    assert counts["misses"].tolist() == [1, 2] and counts["targets"].tolist() == [2, 2]


def test_near_target_dilates_in_time():
    near = near_target(_train([0, 9], T=10), 2)[0, :, 0]
    assert near.tolist() == [True] * 3 + [False] * 4 + [True] * 3


def test_clear_errors():
    rewarder = _rewarder(batch_size=2, n_outputs=1)
    with pytest.raises(ValueError, match=r"needs info\['target'\].*\(B, processing_steps"):
        rewarder.step_targets({"expected": [0, 1]}, 2)
    with pytest.raises(ValueError, match=r"info\['target'\] has shape \(3, 5, 1\); expected "
                                         r"\(B, processing_steps, n_outputs\) = \(2, T, 1\)"):
        rewarder.step_targets({"target": np.zeros((3, 5, 1))}, 2)
    with pytest.raises(ValueError, match=r"info\['target'\] has shape \(5, 2\)"):
        rewarder.step_targets({"target": np.zeros((5, 2))}, 2)
    with pytest.raises(ValueError, match="0/1"):
        rewarder.step_targets({"target": np.full((5, 1), 0.5)}, 2)
    expected = rewarder.step_targets({"target": np.zeros((5, 1))}, 2)
    with pytest.raises(ValueError, match=r"info\['target'\] has shape \(2, 5, 1\) but the "
                                         r"network is at step 5"):
        rewarder.step_reward(np.zeros((2, 1), dtype=bool), GROUPS, expected, 5)
    with pytest.raises(ValueError, match=r"pass action=network.tick_spikes"):
        rewarder.tick_reward(np.array([0, 1]), None, {"target": np.zeros((5, 1))})
    with pytest.raises(ConfigError, match="window"):
        TargetSpikes(window=-1)
    with pytest.raises(ConfigError, match="punish_mult"):
        TargetSpikes(punish_mult=1.0)


def test_target_longer_than_the_tick_is_reported_with_misses_on():
    config = _network_config(processing_steps=10, miss_mult=-1.0)
    network = spikey.Network.from_config(config)
    network.train()
    info = {"target": np.zeros((20, 1), dtype=bool)}
    network.tick(np.zeros(1, dtype=np.int64), info)
    with pytest.raises(ValueError, match=r"had 20 steps but the tick ran 10"):
        network.tick(np.zeros(1, dtype=np.int64), info)


def _network_config(processing_steps=10, miss_mult=0.0):
    trains = np.ones((1, processing_steps, 4), dtype=int)
    return {
        "parts": {"inputs": "StaticMap", "neurons": "LIF", "weights": "Random",
                  "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "TargetSpikes"},
        "network": {"processing_steps": processing_steps, "batch_size": 1, "seed": 0,
                    "reward_mode": "step"},
        "inputs": {"n_inputs": 4, "n_patterns": 1, "train_steps": processing_steps,
                   "trains": trains.tolist()},
        "neurons": {"n_neurons": 1},
        "weights": {"low": 0.0, "high": 5.0, "density": 1.0},
        "readout": {"n_outputs": 1},
        "rewarder": {"miss_mult": miss_mult},
    }


def test_in_a_network_hits_strengthen_and_false_spikes_weaken():
    changes = {}
    for name in ("own output as target", "empty target"):
        network = spikey.Network.from_config(_network_config(processing_steps=10))
        network.eval()
        network.tick(np.zeros(1, dtype=np.int64))
        output = network.tick_spikes[:, :, -1:].copy()
        assert output.sum() >= 2  # strong inputs: the output fires
        target = output if name == "own output as target" else np.zeros_like(output)
        before = network.weights.matrix.copy()
        network.reset()
        network.train()
        network.tick(np.zeros(1, dtype=np.int64), {"target": target})
        changes[name] = (network.weights.matrix - before).sum()
    assert changes["own output as target"] > 0 > changes["empty target"], changes


@pytest.mark.parametrize("rule", ["MSTDP", "MSTDPET"])
def test_a_neuron_learns_towards_a_teachers_spike_train(rule):
    """Quick florian_target_pattern: 3 seeds x 2 members, 100 presentations (~3 s a rule).

    The distance (van Rossum, relative to a silent output) falls by at least 0.4 on
    average, ends below a silent output's 1.0, and more of the output spikes are hits.
    """
    from florian_target_pattern import learn

    runs = [learn(rule, seed, members=2, presentations=100, every=100) for seed in (0, 1, 2)]
    distance = np.concatenate([r["distance"] for r in runs], axis=1)  # (2 measurements, 6)
    hit = np.concatenate([r["hit"] for r in runs], axis=1)
    assert distance[0].mean() - distance[1].mean() >= 0.4, distance
    assert distance[1].mean() < 1.0, distance
    assert hit[1].mean() >= hit[0].mean() + 0.1, hit
