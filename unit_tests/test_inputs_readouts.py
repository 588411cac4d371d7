"""Inputs, readouts and rewarders on hand-made data."""

import math

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network
from spikey.core.part import BuildContext, spread_mask
from spikey.snn.readout import NeuronRates, PopulationVector, Threshold, TopAction
from spikey.snn.reward import MatchExpected, RewardPredictionError


def _quiet_net(**overrides):
    """No learning, and body neurons that never fire: only the inputs matter."""
    cfg = build_small_config(parts={"synapses": None, "rewarder": None}, synapses=None,
                             rewarder=None, neurons={"threshold": 1e9})
    cfg["network"]["reward_mode"] = "none"
    for section, value in overrides.items():
        if section == "inputs_replace":
            cfg["inputs"] = value
        elif isinstance(value, dict):
            cfg.setdefault(section, {}).update(value)
        else:
            cfg[section] = value
    return Network.from_config(cfg)


def _context(B=2, n_neurons=8, dtype="float64"):
    return BuildContext(B, np.dtype(dtype), 1.0, tuple(range(B)), 0, n_neurons, 0)


def _part(cls, B=2, n_neurons=8, **config):
    part = cls(config)
    part.build(_context(B, n_neurons))
    return part


# ---------------------------------------------------------------- RateMap
@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_ratemap_spike_probability(dt):
    net = _quiet_net(network={"batch_size": 2, "processing_steps": 500, "dt": dt})
    obs = np.array([[0, 1], [1, 0]])
    net.tick(obs)
    p = 200.0 * dt / 1000.0
    np.testing.assert_allclose(net.inputs.probability, [[0] * 4 + [p] * 4, [p] * 4 + [0] * 4],
                               rtol=1e-6)
    ticks = [net.tick_input_spikes.copy()]
    for _ in range(2):
        net.tick(obs)
        ticks.append(net.tick_input_spikes.copy())
    spikes = np.concatenate(ticks, axis=1)  # (B, 1500, 8)
    # member 0: group 0 (inputs 0-3) silent, group 1 fires; member 1 the other way round
    assert not spikes[0, :, :4].any() and not spikes[1, :, 4:].any()
    for firing in (spikes[0, :, 4:], spikes[1, :, :4]):
        sd = math.sqrt(p * (1 - p) / firing.size)
        assert abs(firing.mean() - p) < 5 * sd, firing.mean()
        assert firing.mean(axis=0).min() > p / 2  # every input of the group fires


def test_ratemap_max_rate_mapping():
    net = _quiet_net(inputs={"rate_map": None, "max_rate": 100.0})
    net.inputs.encode(np.array([[0.5, 2.0]]))
    np.testing.assert_allclose(net.inputs.probability, [[0.05] * 4 + [0.1] * 4], rtol=1e-6)
    net.inputs.encode(np.array([[-1.0, 0.25]]))
    np.testing.assert_allclose(net.inputs.probability, [[0.0] * 4 + [0.025] * 4], rtol=1e-6)


def test_ratemap_rate_table_indexing():
    net = _quiet_net(inputs={"rate_map": [0.0, 100.0, 300.0]})
    net.inputs.encode(np.array([[2, 1]]))
    np.testing.assert_allclose(net.inputs.probability, [[0.3] * 4 + [0.1] * 4], rtol=1e-6)
    with pytest.raises(ValueError, match=r"integers in \[0, 2\]"):
        net.inputs.encode(np.array([[3, 0]]))
    with pytest.raises(ValueError, match=r"integers in \[0, 2\]"):
        net.inputs.encode(np.array([[0.5, 0]]))
    with pytest.raises(ValueError, match=r"integers in \[0, 2\]"):
        net.inputs.encode(np.array([[-1, 0]]))


def test_ratemap_rejects_bad_groups_and_rates():
    with pytest.raises(ConfigError, match="n_inputs = 9 cannot be split evenly over 2"):
        _quiet_net(inputs={"n_inputs": 9})
    with pytest.raises(ValueError, match=r"rate_map = \[0.0, -5.0\]; expected a flat list of rates >= 0"):
        _quiet_net(inputs={"rate_map": [0.0, -5.0]})


@pytest.mark.parametrize("B, obs, message", [
    (4, np.zeros(2), r"expected a leading batch axis of 4 \(shape \(4, d\)\)"),
    (4, np.zeros((3, 2)), r"leading batch axis of 4 \(shape \(4, d\)\)"),
    (4, np.zeros((4, 3)), "has 3 values per member; expected 2"),
    (4, np.zeros((4, 2, 1)), r"shape \(4, d\)"),
    (1, np.zeros(3), "has 3 values per member; expected 2"),
    (1, np.array([[np.nan, 0.0]]), "NaN or infinity"),
])
def test_bad_observation_shapes(B, obs, message):
    net = _quiet_net(network={"batch_size": B})
    with pytest.raises(ValueError, match=message):
        net.tick(obs)


def test_single_member_accepts_unbatched_observation():
    net = _quiet_net(network={"processing_steps": 200})
    net.tick(np.array([1, 0]))  # (d,) for B = 1
    assert net.tick_input_spikes[0, :, :4].any() and not net.tick_input_spikes[0, :, 4:].any()


def test_inhibitory_fraction_half_gives_half_of_each_group():
    net = _quiet_net(inputs={"inhibitory_fraction": 0.5, "magnitude": 2.0})
    polarity = net.inputs.polarity
    np.testing.assert_array_equal(polarity, [2.0, -2.0] * 4)
    for group in (polarity[:4], polarity[4:]):
        assert (group < 0).sum() == 2
    np.testing.assert_array_equal(net._polarity[:8], polarity)


def test_spread_mask_counts_and_spreading():
    np.testing.assert_array_equal(spread_mask(8, 0.25), [0, 0, 0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(spread_mask(6, 0.5), [0, 1, 0, 1, 0, 1])
    assert not spread_mask(10, 0.0).any() and spread_mask(10, 1.0).all()
    for n in range(1, 41):
        for f in (0.0, 0.1, 0.25, 1 / 3, 0.5, 0.75, 1.0):
            mask = spread_mask(n, f)
            assert mask.shape == (n,) and abs(mask.sum() - n * f) < 1
            if mask.sum() > 1:  # evenly spread: gaps differ by at most one
                gaps = np.diff(np.flatnonzero(mask))
                assert gaps.max() - gaps.min() <= 1


@pytest.mark.parametrize("n, fraction, count", [(7, 0.1, 1), (10, 0.28, 3), (6, 0.45, 3)])
def test_spread_mask_rounds(n, fraction, count):
    assert spread_mask(n, fraction).sum() == count


def test_inhibitory_input_lowers_the_potential():
    trains = np.zeros((1, 4, 2), dtype=int)
    trains[0, 0, 0] = 1  # excitatory input at step 0
    trains[0, 2, 1] = 1  # inhibitory input at step 2
    cfg = {
        "parts": {"inputs": "StaticMap", "neurons": "LIF", "weights": "Manual",
                  "readout": "Threshold"},
        "network": {"processing_steps": 4, "reward_mode": "none", "dtype": "float64"},
        "inputs": {"n_inputs": 2, "n_patterns": 1, "train_steps": 4, "trains": trains.tolist(),
                   "inhibitory_fraction": 0.5, "magnitude": 1.5},
        "neurons": {"n_neurons": 1, "tau": 20.0},
        "weights": {"matrix": [[4.0], [3.0], [0.0]]},
        "readout": {"n_outputs": 1},
    }
    net = Network.from_config(cfg)
    monitor = net.add_monitor("neurons.potential")
    net.tick(np.array([0]))
    d = math.exp(-1 / 20.0)
    v1 = 6.0
    expected = [v1, v1 * d, v1 * d * d - 4.5, (v1 * d * d - 4.5) * d]
    np.testing.assert_allclose(monitor.data[0, :, 0], expected, rtol=1e-12)


def test_ratemap_set_rate_map_at_run_time():
    net = _quiet_net()
    net.inputs.set("rate_map", [0.0, 100.0])
    net.inputs.encode(np.array([[1, 1]]))
    np.testing.assert_allclose(net.inputs.probability, 0.1, rtol=1e-6)


# ---------------------------------------------------------------- StaticMap
def _static_net(trains=None, n_patterns=2, train_steps=5, n_inputs=3, B=1, steps=12, **inputs):
    cfg = {"n_inputs": n_inputs, "n_patterns": n_patterns, "train_steps": train_steps,
           "trains": None if trains is None else np.asarray(trains).tolist(), **inputs}
    return _quiet_net(parts={"inputs": "StaticMap"}, inputs_replace=cfg,
                      network={"batch_size": B, "processing_steps": steps})


def test_staticmap_replays_explicit_trains():
    trains = np.random.default_rng(4).random((2, 5, 3)) < 0.5
    net = _static_net(trains)
    for pattern in (1, 0, 1):
        net.tick(np.array([pattern]))
        replay = np.concatenate([trains[pattern]] * 3)[:12]
        np.testing.assert_array_equal(net.tick_input_spikes[0], replay)


def test_staticmap_binary_observations_and_batches():
    trains = np.random.default_rng(5).random((4, 6, 2)) < 0.5
    net = _static_net(trains, n_patterns=4, train_steps=6, n_inputs=2, B=3, steps=6)
    net.tick(np.array([[1, 0], [0, 1], [1, 1]]))  # binary, first value most significant
    for b, pattern in enumerate([2, 1, 3]):
        np.testing.assert_array_equal(net.tick_input_spikes[b], trains[pattern])
    net.tick(np.array([0, 3, 2]))  # one integer index per member
    for b, pattern in enumerate([0, 3, 2]):
        np.testing.assert_array_equal(net.tick_input_spikes[b], trains[pattern])
    with pytest.raises(ValueError, match=r"expected indices in \[0, 3\]"):
        net.tick(np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="is not binary"):
        net.tick(np.array([[2, 0], [0, 1], [1, 1]]))


def test_staticmap_random_trains():
    net = _static_net(None, n_patterns=2, train_steps=400, n_inputs=10, B=2, steps=400,
                      rate=100.0)
    trains = net.inputs.trains_array
    assert trains.shape == (2, 2, 400, 10)
    assert abs(trains.mean() - 0.1) < 0.01
    assert not np.array_equal(trains[0], trains[1])
    net.tick(np.array([1, 1]))
    first = net.tick_input_spikes.copy()
    net.tick(np.array([1, 1]))
    np.testing.assert_array_equal(net.tick_input_spikes, first)  # the same train replays
    np.testing.assert_array_equal(first, trains[:, 1])


def test_staticmap_wrong_train_shape():
    with pytest.raises(ValueError, match=r"expected \(n_patterns, train_steps, n_inputs\) = \(2, 5, 3\)"):
        _static_net(np.zeros((2, 4, 3), dtype=int))


# ---------------------------------------------------------------- Population
def test_population_peaks_at_nearest_centre():
    net = _quiet_net(parts={"inputs": "Population"},
                     inputs_replace={"n_dims": 2, "n_per_dim": 5, "low": [0.0, -1.0],
                                     "high": [1.0, 1.0], "width": 1.0, "max_rate": 100.0})
    assert net.n_inputs == 10
    obs = np.array([[0.6, -0.45]])
    net.inputs.encode(obs)
    p = net.inputs.probability[0]
    assert np.argmax(p[:5]) == 2 and np.argmax(p[5:]) == 1
    centres = [np.linspace(0, 1, 5), np.linspace(-1, 1, 5)]
    sigmas = [0.25, 0.5]
    expected = np.concatenate([100.0 * np.exp(-0.5 * ((obs[0, d] - centres[d]) / sigmas[d]) ** 2)
                               for d in range(2)]) / 1000.0
    np.testing.assert_allclose(p, expected, rtol=1e-6)
    net.inputs.encode(np.array([[5.0, -3.0]]))  # clipped to the bounds
    p = net.inputs.probability[0]
    assert p[4] == pytest.approx(0.1) and p[5] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="has 1 values per member; expected 2"):
        net.inputs.encode(np.array([[0.5]]))


def test_population_spikes_follow_probability():
    net = _quiet_net(parts={"inputs": "Population"},
                     inputs_replace={"n_dims": 1, "n_per_dim": 3, "max_rate": 400.0},
                     network={"processing_steps": 2000})
    net.tick(np.array([[0.0]]))
    rates = net.tick_input_spikes[0].mean(axis=0)
    np.testing.assert_allclose(rates, net.inputs.probability[0], atol=0.03)
    assert rates[0] > rates[1] > rates[2]


def _regular_population(model, B=1, seed=0):
    return _quiet_net(parts={"inputs": "Population"},
                      inputs_replace={"n_dims": 1, "n_per_dim": 4, "max_rate": 170.0,
                                      "spike_model": model},
                      network={"processing_steps": 20, "batch_size": B, "seed": seed})


def test_regular_tick_spikes_depend_on_the_observation_only():
    obs = np.array([[0.3]])
    counts = {}
    for model in ("regular", "regular-tick"):
        net = _regular_population(model)
        counts[model] = []
        for _ in range(6):
            net.tick(obs)
            counts[model].append(net.tick_input_spikes[0].sum(axis=0))
        counts[model] = np.array(counts[model])
    # regular: the phase runs on, so a fixed observation's count changes from tick to tick
    assert np.ptp(counts["regular"], axis=0).max() == 1
    # regular-tick: every tick restarts at the offset phi, and T steps of probability p
    # give floor(phi + T p) spikes, the same every tick
    net = _regular_population("regular-tick")
    net.tick(obs)
    p, phi = net.inputs.probability[0], net.inputs.phase_offset[0]
    assert np.all((phi >= 0) & (phi < 1)) and np.unique(phi).size == 4
    np.testing.assert_array_equal(counts["regular-tick"], np.tile(np.floor(phi + 20 * p), (6, 1)))


def test_regular_tick_offsets_are_per_member_like_solo_networks():
    batch = _regular_population("regular-tick", B=3, seed=10)
    for b in range(3):
        solo = _regular_population("regular-tick", seed=10 + b)
        np.testing.assert_array_equal(batch.inputs.phase_offset[b], solo.inputs.phase_offset[0])
    assert not np.array_equal(batch.inputs.phase_offset[0], batch.inputs.phase_offset[1])
    with pytest.raises(ConfigError, match="spike_model"):
        _regular_population("regular_tick")


def test_population_bad_bounds():
    with pytest.raises(ConfigError, match=r"low=\[0.0, 1.0\] and high=\[1.0, 1.0\]; expected .* with high > low"):
        _quiet_net(parts={"inputs": "Population"},
                   inputs_replace={"n_dims": 2, "low": [0.0, 1.0], "high": [1.0, 1.0]})


# ---------------------------------------------------------------- readouts
def test_threshold_readout():
    ro = _part(Threshold, B=3, n_outputs=2, threshold=10.0)
    counts = np.array([[1, 1], [2, 1], [0, 0]])
    np.testing.assert_array_equal(ro(counts, 100.0), [0, 1, 0])  # mean rates 10, 15, 0 Hz
    np.testing.assert_array_equal(ro(counts, 50.0), [1, 1, 0])   # 20, 30, 0 Hz
    np.testing.assert_array_equal(ro.groups, [1, 1])


def test_top_action_readout():
    ro = _part(TopAction, B=3, n_outputs=4, n_actions=2)
    counts = np.array([[3, 1, 0, 5], [2, 2, 2, 2], [0, 0, 1, 0]])
    np.testing.assert_array_equal(ro(counts, 20.0), [1, 0, 1])
    np.testing.assert_array_equal(ro.groups, [0, 0, 1, 1])
    ro3 = _part(TopAction, B=1, n_outputs=3, n_actions=3)
    np.testing.assert_array_equal(ro3(np.array([[1, 4, 4]]), 10.0), [1])


def test_population_vector_readout():
    ro = _part(PopulationVector, B=3, n_outputs=4, n_actions=2)
    counts = np.array([[3, 1, 0, 5], [2, 2, 2, 2], [0, 0, 0, 0]])
    np.testing.assert_allclose(ro(counts, 20.0), [[2 / 4.5, 2.5 / 4.5], [0.5, 0.5], [0.0, 0.0]])


def test_neuron_rates_readout():
    ro = _part(NeuronRates, B=2, n_outputs=3)
    np.testing.assert_allclose(ro(np.array([[1, 0, 5], [2, 2, 0]]), 500.0),
                               [[2.0, 0.0, 10.0], [4.0, 4.0, 0.0]])


def test_readout_config_errors():
    with pytest.raises(ConfigError, match="n_outputs = 3 cannot be split into n_actions = 2"):
        _part(TopAction, n_outputs=3, n_actions=2)
    with pytest.raises(ConfigError, match="n_outputs = 9 exceeds neurons.n_neurons = 8"):
        _part(Threshold, n_outputs=9)


# ---------------------------------------------------------------- rewarders
def test_match_expected_tick_reward():
    rw = _part(MatchExpected, B=3, reward_mult=2.0, punish_mult=-0.5)
    r = rw.tick_reward(np.array([1, 0, 1]), None, {"expected": np.array([1, 1, 0])})
    np.testing.assert_array_equal(r, [2.0, -0.5, -0.5])
    with pytest.raises(ValueError, match="needs info\\['expected'\\]"):
        rw.tick_reward(np.array([1, 0, 1]), None, {})
    with pytest.raises(ValueError, match="has 2 values; expected 3"):
        rw.tick_reward(np.array([1, 0, 1]), None, {"expected": [1, 0]})


def test_game_reward_source():
    rw = _part(MatchExpected, B=3, source="game")
    np.testing.assert_array_equal(rw.tick_reward(np.zeros(3), [0.3, -1.0, 2.0], None),
                                  [0.3, -1.0, 2.0])
    with pytest.raises(ValueError, match="no game reward"):
        rw.tick_reward(np.zeros(3), None, None)


def test_step_reward_counts_agreeing_spikes():
    rw = _part(MatchExpected, B=3, reward_mult=2.0, punish_mult=-0.5)
    groups = np.array([0, 0, 1, 1])
    spikes = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [0, 0, 0, 0]], dtype=bool)
    r = rw.step_reward(spikes, groups, np.array([0, 1, 1]))
    np.testing.assert_array_equal(r, [2.0 - 1.0, 2.0 - 1.0, 0.0])
    r = rw.step_reward(spikes, groups, np.array([1, 0, 0]))
    np.testing.assert_array_equal(r, [4.0 - 0.5, 4.0 - 0.5, 0.0])


def test_reward_prediction_error_baseline():
    rw = _part(RewardPredictionError, B=2, baseline_rate=0.5)
    expected = {"expected": np.array([1, 1])}
    errors = [rw.tick_reward(np.array(a), None, expected).copy()
              for a in ([1, 0], [1, 0], [0, 0])]
    # member 0: raw 1, 1, -1; member 1: raw -1, -1, -1
    np.testing.assert_allclose(errors, [[1.0, -1.0], [0.5, -0.5], [-1.75, -0.25]])
    np.testing.assert_allclose(rw.baseline, [-0.125, -0.875])
    # a per-tick rewarder in a per-step network is rejected when the network is built
    cfg = build_small_config(parts={"rewarder": "RewardPredictionError"})
    cfg["network"]["reward_mode"] = "step"
    with pytest.raises(ConfigError, match="reward_mode = 'step'.*RewardPredictionError.*per tick"):
        Network.from_config(cfg)


def test_reward_prediction_error_in_a_network():
    net = Network.from_config(build_small_config(parts={"rewarder": "RewardPredictionError"},
                                                 rewarder={"baseline_rate": 0.25}))
    baseline = 0.0
    for _ in range(4):
        action = net.tick(np.array([[1, 1]]))
        r = net.reward(info={"expected": [1]})
        raw = 1.0 if action[0] == 1 else -1.0
        assert r[0] == pytest.approx(raw - baseline)
        baseline += 0.25 * (raw - baseline)
        assert net.rewarder.baseline[0] == pytest.approx(baseline)


def test_static_map_takes_one_train_set_per_member():
    import spikey

    rng = np.random.default_rng(0)
    trains = [(rng.random((2, 5, 3)) < 0.5).astype(int).tolist() for _ in range(2)]
    config = {"parts": {"inputs": "StaticMap", "neurons": "LIF", "weights": "Random",
                        "readout": "NeuronRates"},
              "network": {"processing_steps": 5, "batch_size": 2, "reward_mode": "none"},
              "inputs": {"n_inputs": 3, "n_patterns": 2, "train_steps": 5,
                         "trains": {"per_member": trains}},
              "neurons": {"n_neurons": 2}, "readout": {"n_outputs": 2}}
    net = spikey.Network.from_config(config)
    np.testing.assert_array_equal(net.inputs.trains_array, np.array(trains, dtype=bool))
    net.tick(np.array([1, 0]))
    np.testing.assert_array_equal(net.tick_input_spikes[0], np.array(trains[0][1], dtype=bool))
    np.testing.assert_array_equal(net.tick_input_spikes[1], np.array(trains[1][0], dtype=bool))
    assert spikey.Network.from_config(net.get_config()).get_config() == net.get_config()
    config["inputs"]["trains"] = {"per_member": [trains[0], trains[1][0]]}
    with pytest.raises(ValueError, match=r"trains.per_member\[1\] has shape \(5, 3\)"):
        spikey.Network.from_config(config)
