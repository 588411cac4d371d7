"""Reward-based e-prop for the actor-critic (synapses: TDEProp; actor_critic_config, route
'eprop')."""

import copy
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from spikey.agents import actor_critic_config
from spikey.core.params import ConfigError
from spikey.snn.network import Network

BOUNDS = {"low": [-2.4, -3.0, -0.21, -3.5], "high": [2.4, 3.0, 0.21, 3.5]}

# body [hidden 0 | critic 1 | actor 2 (go left), actor 3 (go right)]; inputs 0-2; rows 3-6 body
TINY = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Manual",
                  "synapses": "TDEProp", "readout": "SoftmaxAction", "rewarder": "TDError"},
        "network": {"processing_steps": 30, "batch_size": 2, "reward_mode": "tick",
                    "dtype": "float64"},
        "inputs": {"n_inputs": 3, "n_dims": 3, "max_rate": 400.0, "inhibitory_fraction": 0.34},
        "neurons": {"n_neurons": 4, "tau": 10.0, "threshold": 8.0},
        "weights": {"max_weight": 50.0,
                    "matrix": [{"pre": [0, 3], "post": [0, 4], "weight": {"uniform": [3.0, 8.0]}},
                               {"pre": [3, 4], "post": [0, 4], "weight": {"uniform": [2.0, 6.0]}}]},
        "synapses": {"learning_rate": 0.5, "trace_decay": 0.7, "output_rate_factor": 2.0,
                     "n_hidden": 1, "hidden_rate_factor": 3.0},
        "readout": {"n_outputs": 2, "n_actions": 2, "beta": 0.05},
        "rewarder": {"n_critic": 1}}
STATES = (np.array([[1.0, 0.5, 0.2], [0.3, 1.0, 0.8]]),
          np.array([[0.2, 0.9, 0.6], [1.0, 0.1, 0.4]]))


def _tick(net, state):
    """One tick; the (pre, post, potential) the rule saw at each step."""
    syn, seen, step = net.parts["synapses"], [], type(net.parts["synapses"]).step

    def spy(pre, post, weights, pre_index=None):
        seen.append((np.array(pre, float), np.array(post, bool),
                     net.parts["neurons"].potential.copy()))
        return step(syn, pre, post, weights, pre_index)

    syn.step = spy
    net.tick(state)
    del syn.step
    return seen


def _by_hand(net, seen, trace):
    """The tick's eligibility sum_t pbar_j psi_k, the per-tick presynaptic trace carried on."""
    d = np.exp(-1 / 10.0)
    sign = np.concatenate([net.parts["inputs"].polarity, net.parts["neurons"].polarity])
    mask = net.parts["weights"].mask
    e = np.zeros((2, 7, 4))
    for pre, post, potential in seen:
        trace = d * trace + pre * sign
        h = potential - 8.0
        h[post] = 0.0
        psi = 1 / (2 * 4.0 * (1 + np.abs(h) / 4.0) ** 2)  # fast sigmoid, width 4 mV
        e += trace[:, :, None] * psi[:, None, :] * mask
    return e, trace


def _signals(net, w):
    """ell per body neuron: hidden fed back through its signed weights onto neurons 1-3."""
    readout = net.parts["readout"]
    pi, a = readout.probabilities, readout.last_action
    ell = np.ones((2, 4))
    ell[:, 2] = 2.0 * ((a == 0) - pi[:, 0])
    ell[:, 3] = 2.0 * ((a == 1) - pi[:, 1])
    ell[:, 0] = 3.0 / 3 * (w[:, 3, 1:] * ell[:, 1:]).sum(axis=1)  # hidden row 3, excitatory
    return ell


def test_update_is_td_error_times_learning_signal_times_eprop_trace():
    net = Network.from_config(copy.deepcopy(TINY))
    net.reset()
    weights, syn = net.parts["weights"], net.parts["synapses"]
    seen = _tick(net, STATES[0])
    assert sum(p.sum() for _, p, _ in seen) > 0  # body neurons spiked
    e1, pbar = _by_hand(net, seen, np.zeros((2, 7)))
    w0 = weights.matrix.copy()
    ell1 = _signals(net, w0)
    assert np.abs(ell1[:, 2:]).min() > 0 and np.abs(ell1[:, 0]).min() > 0
    # delta_{t-1} (no predecessor: the trace is empty) and a terminal delta_t for member 1
    syn.reward_signals(np.array([[0.7, -0.4], [0.0, 1.5]]), weights)
    z1 = e1 * ell1[:, None, :]
    np.testing.assert_allclose(syn.trace, z1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.matrix - w0, 0.5 * np.array([0.0, 1.5])[:, None, None] * z1,
                               rtol=1e-10, atol=1e-12)
    assert np.abs(weights.matrix - w0)[1].max() > 1e-3
    # tick 2: delta_{t-1} credits the trace of tick 1, then tick 2 folds in with lambda = 0.7
    seen = _tick(net, STATES[1])
    e2, _ = _by_hand(net, seen, pbar)
    w1 = weights.matrix.copy()
    ell2 = _signals(net, w1)
    syn.reward_signals(np.array([[0.3, -0.2]]), weights)
    np.testing.assert_allclose(weights.matrix - w1, 0.5 * np.array([0.3, -0.2])[:, None, None] * z1,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(syn.trace, 0.7 * z1 + e2 * ell2[:, None, :], rtol=1e-10, atol=1e-12)
    # absent synapses (critic/actor -> anything) never change; a new episode clears the traces
    assert (weights.matrix[:, 4:] == 0).all()
    net.begin_episode()
    assert not syn.trace.any() and not syn.eligibility.any()


def test_random_feedback_is_fixed_per_member_and_zero_where_no_synapse():
    config = copy.deepcopy(TINY)
    config["synapses"]["feedback"] = "random"
    config["weights"]["matrix"][1]["post"] = [0, 3]  # hidden -> actor 3 absent
    net = Network.from_config(config)
    syn = net.parts["synapses"]
    feedback = syn._feedback.copy()
    assert feedback.shape == (2, 1, 3) and (feedback[:, 0, 2] == 0).all()
    assert not np.allclose(feedback[0], feedback[1])  # each member draws its own
    again = Network.from_config(copy.deepcopy(config)).parts["synapses"]._feedback
    np.testing.assert_array_equal(again, feedback)
    net.reset()
    _tick(net, STATES[0])
    ell = syn.learning_signals(net.parts["weights"])
    np.testing.assert_allclose(ell[:, 0], 3.0 / 3 * (feedback[:, 0] * ell[:, 1:]).sum(axis=1))


@pytest.mark.parametrize("change, message", [
    ({"parts.readout": "TopAction"}, r"synapses \(TDEProp\) needs a SoftmaxAction readout .* "
                                     r"got readout \(TopAction\)"),
    ({"synapses.n_hidden": 2}, r"synapses \(TDEProp\).n_hidden = 2: with 2 outputs it leaves no "
                               r"critic neurons among the 4 body neurons; expected n_hidden < 2"),
    ({"synapses.feedback": "transpose"}, r"synapses \(TDEProp\).feedback = 'transpose' is not "
                                         r"allowed"),
    ({"synapses.trace_decay": 1.5}, r"synapses \(TDEProp\).trace_decay = 1.5 is out of range"),
    ({"synapses.tau_e": 25.0}, r"synapses \(TDEProp\).*tau_e"),
    ({"parts.neurons": "Izhikevich"}, r"synapses \(TDEProp\) needs LIF neurons .* got neurons "
                                      r"\(Izhikevich\)"),
])
def test_bad_tdeprop_configs_are_refused(change, message):
    config = copy.deepcopy(TINY)
    for path, value in change.items():
        section, key = path.split(".")
        config[section][key] = value
    if config["parts"]["readout"] == "TopAction":
        config["readout"].pop("beta")
    if config["parts"]["neurons"] == "Izhikevich":
        config["neurons"] = {"n_neurons": 4}
    with pytest.raises(ConfigError, match=message):
        Network.from_config(config)


CARTPOLE = gymnasium.make("CartPole-v1")


@pytest.mark.parametrize("route, options, message", [
    ("eprop", {"actor_eligibility": "hebbian"},
     r"options \['actor_eligibility'\] do not apply to route 'eprop'; they are for routes "
     r"'td-ltp' and 'td-stdp'"),
    ("td-ltp", {"n_hidden": 10}, r"options \['n_hidden'\] do not apply to route 'td-ltp'; they "
                                 r"are for route 'eprop'"),
    ("eprop", {"n_hidden": -1}, r"n_hidden = -1; expected an int >= 0"),
    ("eprop", {"n_hidden": 2.5}, r"n_hidden = 2.5; expected an int >= 0"),
    ("eprop", {"hidden_weight_high": -0.1}, r"hidden_weight_high = -0.1; expected a number >= 0"),
    ("eprop", {"n_hiden": 10}, r"unknown options \['n_hiden'\]"),
    ("e-prop", {}, r"route = 'e-prop'; expected one of \['td-ltp', 'td-stdp', 'eprop'\]"),
])
def test_bad_route_options_are_refused(route, options, message):
    with pytest.raises(ConfigError, match=message):
        actor_critic_config(CARTPOLE, route=route, **options)


def test_eprop_route_builds_the_hidden_layer_and_runs():
    config = actor_critic_config(CARTPOLE, route="eprop", batch_size=2, seed=3, n_hidden=30,
                                 **BOUNDS)
    net = Network.from_config(config)
    assert net.n_neurons == 170 and net.parts["synapses"].n_hidden == 30
    mask = net.parts["weights"].mask[0] if net.parts["weights"].mask.ndim == 3 else \
        net.parts["weights"].mask
    n_in = 40
    assert mask[:n_in].all()  # inputs reach every body neuron
    assert mask[n_in:n_in + 30].all()  # hidden: recurrent and onto critic and actor
    assert not mask[n_in + 30:].any()  # critic and actor project nowhere
    normalise = net.modifiers[0]
    assert (normalise.span, normalise.columns) == (slice(0, 40), slice(130, 170))
    net.reset()
    before = net.parts["weights"].matrix.copy()
    obs = np.array([[0.0, 0.1, 0.02, -0.1], [0.5, -0.2, -0.05, 0.3]])
    for _ in range(3):
        net.tick(obs)
        net.reward(game_reward=np.ones(2))
    change = np.abs(net.parts["weights"].matrix - before)
    assert change[:, n_in:n_in + 30, :30].max() > 0  # the recurrent hidden synapses learn
    assert change[:, :n_in, 130:].max() > 0  # and the actor's


def test_shipped_config_is_the_builder_s():
    import yaml

    path = Path(__file__).resolve().parents[1] / "examples" / "configs" / "cartpole_eprop.yaml"
    shipped = yaml.safe_load(path.read_text(encoding="utf-8"))
    built = actor_critic_config(CARTPOLE, route="eprop", batch_size=5, **BOUNDS)
    assert shipped["network"] == built
    assert shipped["game"]["id"] == "CartPole-v1" and shipped["training"]["eval_episodes"] == 100
    assert shipped["training"]["episodes"] == 1000


def test_eprop_beats_the_same_network_frozen():
    from spikey.training import train

    def run(options):
        network = actor_critic_config(CARTPOLE, route="eprop", batch_size=3, **BOUNDS, **options)
        result = train({"network": network, "game": {"id": "CartPole-v1"},
                        "training": {"episodes": 20, "eval_episodes": 0, "max_ticks": 500,
                                     "seed": 7, "record_ticks": False}}, progress=False)
        rows = result.episodes[(result.episodes["phase"] == "train")
                               & (result.episodes["episode"] >= 15)]
        return rows.groupby("member")["return"].mean()

    learned = run({})
    frozen = run({"learning_rate": 0.0, "learning_rate_end": 0.0})
    # a random policy (and the untrained network's near-even softmax) averages ~22 steps
    assert frozen.mean() < 35, frozen
    assert learned.mean() > 3 * frozen.mean(), (learned, frozen)
