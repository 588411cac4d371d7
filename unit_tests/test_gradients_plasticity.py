"""Reward-based e-prop as a learning rule part (synapses: EProp, spikey.gradients.plasticity)."""

import copy

import numpy as np
import pytest

from spikey.core.params import ConfigError
from spikey.snn.network import Network

CONFIG = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Manual",
                    "synapses": "EProp", "readout": "Threshold", "rewarder": "MatchExpected"},
          "network": {"processing_steps": 30, "batch_size": 2, "reward_mode": "tick",
                      "dtype": "float64"},
          "inputs": {"n_inputs": 3, "n_dims": 3, "max_rate": 400.0, "inhibitory_fraction": 0.34},
          "neurons": {"n_neurons": 2, "tau": 10.0, "threshold": 8.0},
          "weights": {"max_weight": 20.0, "matrix": [{"pre": [0, 3], "post": [0, 2],
                                                      "weight": {"uniform": [2.0, 8.0]}}]},
          "synapses": {"learning_rate": 0.5, "tau_e": 15.0},
          "readout": {"n_outputs": 1, "threshold": 1.0}}


def _run_tick(config):
    net = Network.from_config(config)
    syn = net.parts["synapses"]
    seen = []
    step = syn.step

    def spy(pre, post, weights, pre_index=None):
        seen.append((np.array(pre, float), np.array(post, bool),
                     net.parts["neurons"].potential.copy()))
        return step(pre, post, weights, pre_index)

    syn.step = spy
    net.reset()
    net.tick(np.array([[1.0, 0.5, 0.2], [0.3, 1.0, 0.8]]))
    return net, syn, seen


def _expected_eligibility(net, seen, surrogate):
    d, kappa = np.exp(-1 / 10.0), np.exp(-1 / 15.0)
    sign = np.concatenate([net.parts["inputs"].polarity, net.parts["neurons"].polarity])
    mask = net.parts["weights"].mask
    trace, out = np.zeros((2, 5)), np.zeros((2, 5, 2))
    for pre, post, potential in seen:
        trace = d * trace + pre * sign
        h = potential - 8.0
        h[post] = 0.0  # spiked this step: reset already, crossed the threshold
        psi = surrogate(h)
        out = kappa * out + trace[:, :, None] * psi[:, None, :] * mask
    return out


@pytest.mark.parametrize("kind, surrogate", [
    ("fast_sigmoid", lambda h: 1 / (2 * 4.0 * (1 + np.abs(h) / 4.0) ** 2)),
    ("piecewise_linear", lambda h: np.maximum(0.0, 1 - np.abs(h) / 4.0) / 4.0),
])
def test_eligibility_is_the_filtered_surrogate_times_the_presynaptic_trace(kind, surrogate):
    config = copy.deepcopy(CONFIG)
    config["synapses"]["surrogate"] = kind
    net, syn, seen = _run_tick(config)
    assert len(seen) == 30 and sum(p.sum() for _, p, _ in seen) > 0  # the neurons spiked
    expected = _expected_eligibility(net, seen, surrogate)
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(syn.eligibility, expected, rtol=0, atol=1e-12)
    # the inhibitory input's synapses carry its sign (the weights are magnitudes)
    assert (syn.eligibility[:, 2] <= 0).all() and (syn.eligibility[:, :2] >= 0).all()


def test_reward_prediction_error_times_eligibility_changes_the_weights():
    net, syn, seen = _run_tick(CONFIG)
    weights = net.parts["weights"]
    before = weights.matrix.copy()
    eligibility = syn.eligibility.copy()
    syn.reward(np.array([1.0, -0.5]), weights)  # baseline 0: the signal is the reward
    np.testing.assert_allclose(weights.matrix - before,
                               0.5 * np.array([1.0, -0.5])[:, None, None] * eligibility,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(syn.expected_reward, [0.05, -0.025])  # alpha = 0.05
    after = weights.matrix.copy()
    syn.reward(np.array([0.05, -0.025]), weights)  # the expected reward: no change
    np.testing.assert_allclose(weights.matrix, after, rtol=0, atol=1e-15)
    # baseline: none takes the reward itself as the learning signal (e.g. a TD error)
    config = copy.deepcopy(CONFIG)
    config["synapses"]["baseline"] = "none"
    net, syn, _ = _run_tick(config)
    before = net.parts["weights"].matrix.copy()
    syn.reward(np.array([0.0, 2.0]), net.parts["weights"])
    syn.reward(np.array([0.0, 2.0]), net.parts["weights"])
    np.testing.assert_allclose(net.parts["weights"].matrix - before,
                               np.array([0.0, 2.0])[:, None, None] * syn.eligibility,
                               rtol=0, atol=1e-12)
    assert (syn.expected_reward == 0).all()


@pytest.mark.parametrize("change, message", [
    ({"parts.neurons": "Izhikevich"}, r"synapses \(EProp\) needs LIF neurons .* got neurons "
                                      r"\(Izhikevich\)"),
    ({"synapses.baseline": "mean"}, r"synapses \(EProp\).baseline = 'mean' is not allowed"),
    ({"synapses.tau_e": 0.0}, r"synapses \(EProp\).tau_e = 0.0 is out of range"),
])
def test_bad_eprop_part_configs_are_refused(change, message):
    config = copy.deepcopy(CONFIG)
    for path, value in change.items():
        section, key = path.split(".")
        config[section][key] = value
    if config["parts"]["neurons"] == "Izhikevich":
        config["neurons"] = {"n_neurons": 2}
    with pytest.raises(ConfigError, match=message):
        Network.from_config(config)
