"""The actor-critic parts against hand computations: TDError's signals, TD-LTP's updates."""

import math

import numpy as np
import pytest

from spikey import ConfigError, Network

T, N_CRITIC, N_ACTOR = 10, 4, 2  # steps per tick, critic neurons, neurons per action


def ac_config(batch_size=1, synapses=None, rewarder=None, **network):
    """Two inputs, a critic of 4 and two actions of 2 neurons each, TD-LTP + TDError."""
    return {
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                  "synapses": "TDLTP", "readout": "TopAction", "rewarder": "TDError"},
        "network": {"processing_steps": T, "batch_size": batch_size, "seed": 3,
                    "reward_mode": "tick", "dtype": "float64", **network},
        "inputs": {"n_inputs": 2, "n_dims": 2, "rate_map": [0.0, 100.0]},
        "neurons": {"n_neurons": N_CRITIC + 2 * N_ACTOR},
        "weights": {"low": 1.0, "high": 2.0, "max_weight": 4.0, "inputs_only": True},
        "synapses": {"learning_rate": 0.1, "trace_decay": 0.5, **(synapses or {})},
        "readout": {"n_outputs": 2 * N_ACTOR, "n_actions": 2},
        "rewarder": {"n_critic": N_CRITIC, "gamma": 0.9, "value_scale": 0.5,
                     "value_offset": -1.0, **(rewarder or {})},
    }


def set_critic_spikes(net, counts):
    """Make the critic of member b fire ``counts[b]`` spikes in the last tick."""
    net.tick_spikes[...] = False
    for b, count in enumerate(counts):
        flat = np.zeros(T * N_CRITIC, dtype=bool)
        flat[:count] = True
        net.tick_spikes[b, :, :N_CRITIC] = flat.reshape(T, N_CRITIC)


def value_of(count):
    rate = count * 1000.0 / (T * 1.0 * N_CRITIC)  # Hz, dt = 1 ms
    return 0.5 * rate - 1.0


# ---------------------------------------------------------------- TDError
def test_td_error_of_each_transition_and_the_terminal_one():
    net = Network.from_config(ac_config())
    rewarder = net.rewarder
    rewarder.begin_episode()
    sequence = [(3, 1.0, False), (5, 1.0, False), (2, 0.5, True)]  # critic spikes, reward, ended
    got = []
    for count, reward, ended in sequence:
        set_critic_spikes(net, [count])
        got.append(rewarder.learning_signals(None, [reward], None, terminated=[ended],
                                             truncated=[False]))
    v = [value_of(c) for c, _, _ in sequence]
    np.testing.assert_allclose(rewarder.critic_rate(), [2 * 1000.0 / (T * N_CRITIC)])
    np.testing.assert_allclose(got[0], [[0.0], [0.0]])                      # no predecessor
    np.testing.assert_allclose(got[1], [[1.0 + 0.9 * v[1] - v[0]], [0.0]])
    np.testing.assert_allclose(got[2], [[1.0 + 0.9 * v[2] - v[1]], [0.5 - v[2]]])
    # an ended episode leaves nothing pending: the next tick has no predecessor
    set_critic_spikes(net, [7])
    np.testing.assert_allclose(rewarder.learning_signals(None, [1.0], None, [False], [False]),
                               [[0.0], [0.0]])


def test_truncation_is_not_a_terminal_state():
    net = Network.from_config(ac_config())
    rewarder = net.rewarder
    set_critic_spikes(net, [4])
    rewarder.learning_signals(None, [1.0], None, [False], [False])
    set_critic_spikes(net, [6])
    signals = rewarder.learning_signals(None, [1.0], None, [False], [True])
    np.testing.assert_allclose(signals, [[1.0 + 0.9 * value_of(6) - value_of(4)], [0.0]])
    assert not rewarder.has_previous[0]


def test_td_error_pauses_members_whose_episode_ended():
    net = Network.from_config(ac_config(batch_size=2))
    rewarder = net.rewarder
    set_critic_spikes(net, [4, 4])
    rewarder.learning_signals(None, [1.0, 1.0], None, [False, False], [False, False])
    net.active[1] = False
    set_critic_spikes(net, [8, 8])
    signals = rewarder.learning_signals(None, [2.0, 2.0], None, [False, False], [False, False])
    np.testing.assert_allclose(signals[0], [1.0 + 0.9 * value_of(8) - value_of(4), 0.0])
    # member 1 kept its pending transition (value and reward of the tick before the pause)
    np.testing.assert_allclose(rewarder.previous_value, [value_of(8), value_of(4)])
    np.testing.assert_allclose(rewarder.previous_reward, [2.0, 1.0])


def test_td_error_refuses_a_critic_larger_than_the_body():
    with pytest.raises(ConfigError, match="n_critic = 7"):
        Network.from_config(ac_config(rewarder={"n_critic": 7}))


def test_network_reward_applies_both_signals_in_order():
    net = Network.from_config(ac_config())
    calls = []
    net.synapses.reward_signals = lambda r, weights: calls.append(np.array(r))
    net.rewarder.begin_episode()
    set_critic_spikes(net, [4])
    net.reward(action=np.array([0]), game_reward=np.array([1.0]), terminated=[False],
               truncated=[False])
    set_critic_spikes(net, [2])
    total = net.reward(action=np.array([0]), game_reward=np.array([1.0]), terminated=[True],
                       truncated=[False])
    delta_prev = 1.0 + 0.9 * value_of(2) - value_of(4)
    delta_end = 1.0 - value_of(2)
    np.testing.assert_allclose(np.concatenate(calls), [[0.0], [0.0], [delta_prev], [delta_end]])
    np.testing.assert_allclose(total, [delta_prev + delta_end])


# ---------------------------------------------------------------- TD-LTP
def drive(net, pre_row, post_neuron, pre_steps, post_steps, n_steps):
    B, P = net.batch_size, net.n_inputs + net.n_neurons
    for t in range(n_steps):
        pre = np.zeros((B, P), dtype=bool)
        post = np.zeros((B, net.n_neurons), dtype=bool)
        pre[:, pre_row] = t in pre_steps
        post[:, post_neuron] = t in post_steps
        net.synapses.step(pre, post, net.weights)


def test_td_ltp_tick_eligibility_is_potentiation_only():
    net = Network.from_config(ac_config())
    syn = net.synapses
    # pre 0 at step 0, critic neuron 0 at step 3; then critic 1 before pre 1 (no depression)
    drive(net, 0, 0, [0], [3], 5)
    drive(net, 1, 1, [4], [1], 5)
    np.testing.assert_allclose(syn.eligibility[0, 0, 0], math.exp(-3 / 20.0), rtol=1e-12)
    assert syn.eligibility[0, 1, 1] == 0.0
    assert syn.A_minus == 0.0


def test_td_ltp_credits_the_trace_before_the_tick_then_folds_it_in():
    net = Network.from_config(ac_config())
    syn, w = net.synapses, net.weights.matrix
    w0 = w[0, 0, 0]
    drive(net, 0, 0, [0], [2], 4)                      # tick 1: e1 = exp(-2/20)
    e1 = math.exp(-2 / 20.0)
    syn.reward(np.array([0.7]), net.weights)          # delta of the transition before tick 1
    assert w[0, 0, 0] == w0                            # nothing was eligible yet
    np.testing.assert_allclose(syn.trace[0, 0, 0], e1)
    drive(net, 0, 0, [0], [1], 4)                      # tick 2: e2 = exp(-1/20), pre trace decays
    e2 = math.exp(-1 / 20.0) + math.exp(-5 / 20.0)   # the tick-1 pre spike still counts
    syn.reward(np.array([2.0]), net.weights)          # delta_1 credits the trace z1 = e1
    np.testing.assert_allclose(w[0, 0, 0], w0 + 0.1 * 2.0 * e1, rtol=1e-12)
    np.testing.assert_allclose(syn.trace[0, 0, 0], 0.5 * e1 + e2, rtol=1e-12)
    syn.reward(np.array([-1.0]), net.weights)         # a terminal delta sees z2 = 0.5 e1 + e2
    np.testing.assert_allclose(w[0, 0, 0], w0 + 0.1 * (2.0 * e1 - (0.5 * e1 + e2)), rtol=1e-12)
    net.begin_episode()
    assert not syn.trace.any() and not syn.eligibility.any()


def test_td_ltp_folds_the_tick_once_whatever_the_number_of_signals():
    net = Network.from_config(ac_config())
    syn, w = net.synapses, net.weights.matrix
    w0 = w[0, 0, 0]
    drive(net, 0, 0, [0], [2], 4)                      # tick 1: e1
    e1 = math.exp(-2 / 20.0)
    syn.reward_signals(np.array([[0.0], [0.0]]), net.weights)
    np.testing.assert_allclose(syn.trace[0, 0, 0], e1)  # one fold, not lambda * e1
    drive(net, 0, 0, [], [], 4)                        # tick 2: no pairing (e2 = 0)
    syn.reward_signals(np.array([[1.0], [-2.0]]), net.weights)
    # delta_1 sees z1 = e1; the terminal delta sees z2 = 0.5 e1; one fold per tick
    np.testing.assert_allclose(w[0, 0, 0], w0 + 0.1 * (1.0 * e1 - 2.0 * 0.5 * e1), rtol=1e-12)
    np.testing.assert_allclose(syn.trace[0, 0, 0], 0.5 * e1, rtol=1e-12)


@pytest.mark.parametrize("gate, other", [("chosen", 0.0), ("contrast", -1.0), ("none", 1.0)])
def test_td_ltp_output_gate_credits_the_chosen_group(gate, other):
    net = Network.from_config(ac_config(synapses={"output_gate": gate,
                                                  "output_rate_factor": 0.5}))
    syn = net.synapses
    first = N_CRITIC  # actor neurons: 4, 5 vote for action 0; 6, 7 for action 1
    pre = np.zeros((1, net.n_inputs + net.n_neurons), dtype=bool)
    post = np.zeros((1, net.n_neurons), dtype=bool)
    pre[0, 0] = True
    syn.step(pre, post, net.weights)                   # input 0 fires, then every body neuron
    syn.step(~pre & False, ~post, net.weights)
    e = math.exp(-1 / 20.0)
    np.testing.assert_allclose(syn.eligibility[0, 0], e)
    net.readout(np.array([[0, 0, 5, 5]]), 10.0)        # the tick chose action 1
    syn.reward(np.zeros(1), net.weights)
    np.testing.assert_allclose(syn.trace[0, 0, first:first + N_ACTOR], 0.5 * other * e)
    np.testing.assert_allclose(syn.trace[0, 0, first + N_ACTOR:], 0.5 * e)
    np.testing.assert_allclose(syn.trace[0, 0, :N_CRITIC], e)   # the critic is not gated


def test_td_ltp_gate_needs_a_top_action_readout():
    config = ac_config(synapses={"output_gate": "chosen"})
    config["parts"]["readout"] = "PopulationIndex"
    with pytest.raises(ConfigError, match="output_gate"):
        Network.from_config(config)


def test_random_inputs_only_keeps_no_body_synapse():
    net = Network.from_config(ac_config())
    mask = net.weights.mask[0]
    assert mask[:2].all() and not mask[2:].any()


# ---------------------------------------------------------------- SoftmaxAction and the policy gate
def softmax_config(**readout):
    config = ac_config(batch_size=2, synapses={"output_gate": "policy", "output_rate_factor": 2.0})
    config["parts"]["readout"] = "SoftmaxAction"
    config["readout"].update(beta=0.1, **readout)
    return config


def test_softmax_action_draws_with_the_softmax_probabilities():
    net = Network.from_config(softmax_config())
    counts = np.array([[1, 1, 2, 2], [0, 0, 0, 0]])     # groups: 100 vs 200 Hz; silent
    draws = np.array([net.readout(counts, 10.0) for _ in range(4000)])
    p1 = 1.0 / (1.0 + math.exp(-0.1 * 100.0))
    np.testing.assert_allclose(net.readout.probabilities, [[1 - p1, p1], [0.5, 0.5]])
    assert abs(draws[:, 0].mean() - p1) < 0.01          # 4,000 draws: sd 0.0007
    assert abs(draws[:, 1].mean() - 0.5) < 0.03         # sd 0.008


def test_softmax_action_greedy_and_reproducible():
    counts = np.array([[0, 1, 1, 1], [2, 2, 0, 0]])
    greedy = Network.from_config(softmax_config(greedy=True))
    assert greedy.readout(counts, 10.0).tolist() == [1, 0]
    a, b = (Network.from_config(softmax_config()) for _ in range(2))
    assert [a.readout(counts, 10.0).tolist() for _ in range(50)] == \
        [b.readout(counts, 10.0).tolist() for _ in range(50)]


def test_policy_gate_is_the_softmax_policy_gradient_per_group():
    net = Network.from_config(softmax_config())
    syn = net.synapses
    pre = np.zeros((2, net.n_inputs + net.n_neurons), dtype=bool)
    pre[:, 0] = True
    syn.step(pre, np.zeros((2, net.n_neurons), dtype=bool), net.weights)
    syn.step(pre & False, np.ones((2, net.n_neurons), dtype=bool), net.weights)
    e = math.exp(-1 / 20.0)
    action = net.readout(np.array([[1, 1, 2, 2], [3, 3, 0, 0]]), 10.0)
    p = net.readout.probabilities.copy()
    syn.reward(np.zeros(2), net.weights)
    for b in range(2):
        for g in range(2):
            gate = 2.0 * ((g == action[b]) - p[b, g])
            cols = slice(N_CRITIC + g * N_ACTOR, N_CRITIC + (g + 1) * N_ACTOR)
            np.testing.assert_allclose(syn.trace[b, 0, cols], gate * e, rtol=1e-12)


def test_presynaptic_actor_eligibility_is_expected_input_count_times_policy_gate():
    """output_eligibility='presynaptic': the actor's eligibility is the input's expected spike
    count over the tick (RateMap: 0 and 100 Hz -> 0 and 1 spike in 10 ms) times
    1[g = a] - pi(g), whatever the postsynaptic spikes; the critic keeps Hebbian pairings."""
    config = softmax_config()
    config["synapses"]["output_eligibility"] = "presynaptic"
    net = Network.from_config(config)
    syn = net.synapses
    net.inputs.present(np.array([[0.0, 1.0], [1.0, 1.0]]))  # member 0: input 1 on; 1: both
    pre = np.zeros((2, net.n_inputs + net.n_neurons), dtype=bool)
    pre[:, 0] = True
    syn.step(pre, np.zeros((2, net.n_neurons), dtype=bool), net.weights)
    syn.step(pre & False, np.ones((2, net.n_neurons), dtype=bool), net.weights)
    action = net.readout(np.array([[1, 1, 2, 2], [3, 3, 0, 0]]), 10.0)
    p = net.readout.probabilities.copy()
    syn.reward(np.zeros(2), net.weights)
    expected = net.inputs.probability * 10             # (B, n_inputs) spikes per tick
    np.testing.assert_allclose(expected, [[0.0, 1.0], [1.0, 1.0]])
    e = math.exp(-1 / 20.0)
    for b in range(2):
        for g in range(2):
            gate = 2.0 * ((g == action[b]) - p[b, g])
            cols = slice(N_CRITIC + g * N_ACTOR, N_CRITIC + (g + 1) * N_ACTOR)
            for j in range(2):
                np.testing.assert_allclose(syn.trace[b, j, cols], gate * expected[b, j],
                                           rtol=1e-12)
            assert not syn.trace[b, 2:, cols].any()
        np.testing.assert_allclose(syn.trace[b, 0, :N_CRITIC], e, rtol=1e-12)


@pytest.mark.parametrize("change, match", [
    ({"synapses": {"output_gate": "chosen"}}, "output_gate = 'policy'"),
    ({"weights": {"inputs_only": False}}, "inputs_only"),
])
def test_presynaptic_actor_eligibility_refuses_what_it_cannot_cover(change, match):
    config = softmax_config()
    config["synapses"]["output_eligibility"] = "presynaptic"
    for section, values in change.items():
        config[section].update(values)
    if config["synapses"]["output_gate"] == "chosen":
        config["parts"]["readout"] = "TopAction"
        config["readout"].pop("beta")
    with pytest.raises(ConfigError, match=match):
        Network.from_config(config)


def test_policy_gate_needs_a_softmax_readout():
    config = softmax_config()
    config["parts"]["readout"] = "TopAction"
    config["readout"].pop("beta")
    with pytest.raises(ConfigError, match="SoftmaxAction"):
        Network.from_config(config)


def test_normalize_weights_only_the_chosen_neurons():
    config = ac_config()
    config["modifiers"] = [{"part": "NormalizeWeights", "target": 3.0, "neurons": [4, 8]}]
    net = Network.from_config(config)
    before = net.weights.matrix.copy()
    net.modifiers[0].apply(0)
    np.testing.assert_allclose(net.weights.matrix[0, :2, 4:].sum(axis=0), 3.0)
    np.testing.assert_array_equal(net.weights.matrix[:, :, :4], before[:, :, :4])
    config["modifiers"][0]["neurons"] = [4, 9]
    with pytest.raises(ConfigError, match="neurons"):
        Network.from_config(config)


@pytest.mark.parametrize("a_minus, actor", [(0.0, "hebbian"), (-0.5, "hebbian"),
                                             (0.0, "presynaptic")])
def test_actor_critic_paths_agree_bit_for_bit(a_minus, actor):
    """numpy path, compiled step-by-step path and the fused tick give the same network."""
    from spikey.snn import kernels

    if not kernels.AVAILABLE:
        pytest.skip("numba is not installed")
    config = softmax_config()
    config["synapses"]["A_minus"] = a_minus
    if actor == "presynaptic":  # the step loop leaves the actor's synapses out
        config["synapses"].update(output_eligibility="presynaptic", output_gate="policy")
        config["weights"]["inputs_only"] = True
    config["inputs"]["rate_map"] = [50.0, 400.0]
    config["modifiers"] = [{"part": "NormalizeWeights", "target": 3.0, "neurons": [4, 8]}]
    nets = []
    for choice, monitored in (("numpy", False), ("numba", True), ("numba", False)):
        net = Network.from_config({**config, "network": {**config["network"], "kernels": choice}})
        if monitored:
            net.add_monitor("neurons.potential")  # every step: no fused tick
        rng = np.random.default_rng(7)
        for tick in range(10):
            net.tick(rng.integers(0, 2, size=(2, 2)))
            net.reward(game_reward=np.ones(2), terminated=[tick == 6, False],
                       truncated=[False, False])
        nets.append(net)
    fresh = Network.from_config(config)
    assert not np.array_equal(nets[0].weights.matrix, fresh.weights.matrix)  # it learned
    assert nets[0].synapses.trace.any()
    for other in nets[1:]:
        for key, value in nets[0].state_arrays().items():
            np.testing.assert_array_equal(value, other.state_arrays()[key], err_msg=key)


@pytest.mark.parametrize("schedules", [False, True])
def test_actor_critic_batch_member_equals_its_solo_run_over_uneven_episodes(schedules):
    """Members whose episode ended pause (their ticks still run fused); each member's
    weights, traces and choices equal its solo network's, with the learning-rate and beta
    schedules too (each member's schedule counts its own active ticks)."""
    import gymnasium

    from spikey.agents import actor_critic_config
    from spikey.games.run import run_episode

    def agent(batch_size, seed):
        games = gymnasium.make_vec("spikey/CartPole-v0", num_envs=batch_size)
        ends = {"learning_rate_end": 0.0002, "beta_end": 0.3, "schedule_ticks": 40} if \
            schedules else {"learning_rate_end": None, "beta_end": None}
        config = actor_critic_config(games, batch_size=batch_size, seed=seed, n_critic=20,
                                     n_per_action=5, processing_steps=10, **ends,
                                     low=[-2.4, -3.0, -0.21, -3.5], high=[2.4, 3.0, 0.21, 3.5])
        return Network.from_config(config), games

    batch, games = agent(3, seed=0)
    start = batch.weights.matrix.copy()
    lengths = np.array([run_episode(batch, games, seeds=[11, 12, 13]).lengths
                        for _ in range(3)])
    assert len(set(lengths[0])) > 1  # members' episodes end at different ticks
    assert not np.array_equal(batch.weights.matrix, start)  # it learned
    for b in range(3):
        solo, solo_games = agent(1, seed=b)
        for episode in range(3):
            assert run_episode(solo, solo_games, seeds=[11 + b]).lengths[0] == \
                lengths[episode, b]
        np.testing.assert_array_equal(batch.weights.matrix[b], solo.weights.matrix[0])
        np.testing.assert_array_equal(batch.rewarder.previous_value[b],
                                      solo.rewarder.previous_value[0])
        if schedules:  # each member's clock counted its own ticks (the episodes' lengths)
            assert batch.modifiers[1].member_ticks[b] == solo.modifiers[1].member_ticks[0] == \
                lengths[:, b].sum()


def test_actor_critic_members_in_two_threads_learn_identically(monkeypatch):
    """network.threads = 2 runs the batch members of each fused tick in parallel threads
    (what bench_rl --batch-cost --threads 2 times): weights, traces and every other state
    array equal the one-thread network's."""
    from spikey.snn import kernels

    if not kernels.AVAILABLE or kernels.max_threads() < 2:
        pytest.skip("needs numba and two CPUs")
    import gymnasium

    from spikey.agents import actor_critic_config
    from spikey.games.run import run_episode

    calls = []
    members = kernels.run_tick_members
    monkeypatch.setattr(kernels, "run_tick_members", lambda *a: (calls.append(1), members(*a)))
    nets = []
    for threads in (1, 2):
        games = gymnasium.make_vec("spikey/CartPole-v0", num_envs=3)
        config = actor_critic_config(games, batch_size=3, seed=4, n_critic=20, n_per_action=5,
                                     low=[-2.4, -3.0, -0.21, -3.5], high=[2.4, 3.0, 0.21, 3.5])
        config["network"]["threads"] = threads
        net = Network.from_config(config)
        for _ in range(2):
            run_episode(net, games, seeds=[1, 2, 3], max_steps=30)
        nets.append(net)
    assert nets[1]._engine.threads == 2 and len(calls) >= 30  # the threaded kernel ran
    for key, value in nets[0].state_arrays().items():
        np.testing.assert_array_equal(value, nets[1].state_arrays()[key], err_msg=key)
    assert nets[0].synapses.trace.any()
