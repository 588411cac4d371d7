"""Learning rules against hand computations (float64), driven with hand-made spikes."""

import math

import numpy as np
import pytest

from conftest import build_small_config, drive_synapses, reference_zeta
from spikey import ConfigError, Network

SYN = {"learning_rate": 0.1, "A_plus": 0.8, "A_minus": -0.6, "tau_plus": 15.0, "tau_minus": 25.0}
W0 = 2.5


def _pair_net(pair_config, synapse="STDP", dt=1.0, **kw):
    synapses = {**SYN, **kw.pop("synapses", {})}
    return Network.from_config(pair_config(synapse, synapses, weight=W0, dt=dt, **kw))


def _dw(net):
    return net.weights.matrix[:, 0, 0] - W0


# ---------------------------------------------------------------- STDP
@pytest.mark.parametrize("D", [1, 5, 20])
@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_stdp_pre_before_post(pair_config, D, dt):
    net = _pair_net(pair_config, dt=dt)
    drive_synapses(net, pre_steps=[0], post_steps=[D], n_steps=D + 5)
    expected = SYN["learning_rate"] * SYN["A_plus"] * math.exp(-D * dt / SYN["tau_plus"])
    np.testing.assert_allclose(_dw(net), expected, rtol=1e-9)
    assert expected > 0


@pytest.mark.parametrize("D", [1, 5, 20])
@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_stdp_post_before_pre(pair_config, D, dt):
    net = _pair_net(pair_config, dt=dt)
    drive_synapses(net, pre_steps=[D], post_steps=[0], n_steps=D + 5)
    expected = SYN["learning_rate"] * SYN["A_minus"] * math.exp(-D * dt / SYN["tau_minus"])
    np.testing.assert_allclose(_dw(net), expected, rtol=1e-9)
    assert expected < 0


def test_stdp_simultaneous_spikes_add_both_amplitudes(pair_config):
    net = _pair_net(pair_config)
    drive_synapses(net, pre_steps=[3], post_steps=[3], n_steps=5)
    np.testing.assert_allclose(_dw(net), SYN["learning_rate"] * (SYN["A_plus"] + SYN["A_minus"]),
                               rtol=1e-9)


def test_stdp_many_spikes_match_all_to_all_pairing(pair_config):
    pre, post = [0, 4, 9, 17, 30], [2, 9, 12, 31]
    net = _pair_net(pair_config, synapses={"learning_rate": 0.05})
    drive_synapses(net, pre, post, n_steps=40)
    zeta = sum(z for _, z in reference_zeta(pre, post, SYN["A_plus"], SYN["A_minus"],
                                            SYN["tau_plus"], SYN["tau_minus"], 1.0))
    np.testing.assert_allclose(_dw(net), 0.05 * zeta, rtol=1e-9)


def test_stdp_members_learn_independently(pair_config):
    net = Network.from_config({**pair_config("STDP", SYN, weight=W0),
                               "network": {"batch_size": 2, "dtype": "float64",
                                           "reward_mode": "none", "processing_steps": 5}})
    D = 4
    for t in range(D + 1):  # member 0: pre then post; member 1: post then pre
        pre = np.zeros((2, 2), dtype=bool)
        post = np.zeros((2, 1), dtype=bool)
        pre[0, 0], post[0, 0] = t == 0, t == D
        post[1, 0], pre[1, 0] = t == 0, t == D
        net.synapses.step(pre, post, net.weights)
    lr = SYN["learning_rate"]
    np.testing.assert_allclose(_dw(net), [lr * SYN["A_plus"] * math.exp(-D / SYN["tau_plus"]),
                                          lr * SYN["A_minus"] * math.exp(-D / SYN["tau_minus"])],
                               rtol=1e-9)


@pytest.mark.parametrize("order", ["pre_post", "post_pre"])
def test_inhibitory_presynaptic_sign_flips_the_change(pair_config, order):
    D = 6
    pre, post = ([0], [D]) if order == "pre_post" else ([D], [0])
    changes = []
    for how in ("excitatory", "set_pre_sign", "config"):
        kw = {"inputs": {"inhibitory_fraction": 1.0}} if how == "config" else {}
        net = _pair_net(pair_config, **kw)
        if how == "set_pre_sign":
            net.synapses.set_pre_sign(np.array([-1.0, 1.0]))
        assert net.synapses.pre_sign[0] == (1.0 if how == "excitatory" else -1.0)
        drive_synapses(net, pre, post, n_steps=D + 3)
        changes.append(_dw(net)[0])
    assert changes[0] != 0
    np.testing.assert_allclose(changes[1:], [-changes[0]] * 2, rtol=1e-12)


def test_spike_magnitude_does_not_scale_learning(pair_config):
    net = _pair_net(pair_config, inputs={"magnitude": 3.0})
    assert net.synapses.pre_sign[0] == 1.0
    drive_synapses(net, [0], [2], n_steps=3)
    np.testing.assert_allclose(_dw(net), 0.1 * 0.8 * math.exp(-2 / 15.0), rtol=1e-9)


def test_stdp_clips_to_bounds(pair_config):
    net = _pair_net(pair_config, synapses={"learning_rate": 100.0})
    drive_synapses(net, [0], [1], n_steps=2)
    assert net.weights.matrix[0, 0, 0] == 5.0
    drive_synapses(net, [1], [0], n_steps=2)
    assert net.weights.matrix[0, 0, 0] == 0.0
    assert net.weights.mask[0, 0, 0]  # a weight at 0 is still a present synapse
    drive_synapses(net, [0], [1], n_steps=2)
    assert net.weights.matrix[0, 0, 0] == 5.0


def test_ltp_only_potentiates(pair_config):
    synapses = {k: v for k, v in SYN.items() if k != "A_minus"}  # LTP has no depression key
    net = Network.from_config(pair_config("LTP", synapses, weight=W0))
    drive_synapses(net, pre_steps=[10], post_steps=[0], n_steps=12)
    assert _dw(net)[0] == 0.0
    # continuing: the post spike at absolute step 15 pairs with the pre spikes at 10 and 12
    drive_synapses(net, pre_steps=[0], post_steps=[3], n_steps=4)
    expected = 0.1 * 0.8 * (math.exp(-3 / 15.0) + math.exp(-5 / 15.0))
    np.testing.assert_allclose(_dw(net), expected, rtol=1e-9)


def test_ltp_refuses_a_depression_amplitude(pair_config):
    with pytest.raises(ConfigError, match="unknown key 'A_minus'"):
        _pair_net(pair_config, synapse="LTP")


def test_stdp_ignores_rewards(pair_config):
    net = _pair_net(pair_config)
    drive_synapses(net, [0], [2], n_steps=3)
    before = net.weights.matrix.copy()
    net.synapses.reward(np.array([5.0]), net.weights)
    np.testing.assert_array_equal(net.weights.matrix, before)


# ---------------------------------------------------------------- MSTDP / MSTDPET
@pytest.mark.parametrize("dt", [1.0, 0.5])
@pytest.mark.parametrize("r", [1.0, -2.0])
def test_mstdpet_delayed_reward(pair_config, dt, r):
    D, T, tau_z, lr = 5, 500, 500.0, 0.625
    net = _pair_net(pair_config, synapse="MSTDPET", dt=dt,
                    synapses={"tau_z": tau_z, "learning_rate": lr, "A_plus": 1.0,
                              "tau_plus": 20.0})
    drive_synapses(net, pre_steps=[0], post_steps=[D], n_steps=D + 1 + T)
    assert _dw(net)[0] == 0.0  # nothing happens before the reward
    net.synapses.reward(np.array([r]), net.weights)
    zeta = 1.0 * math.exp(-D * dt / 20.0)
    expected = lr * dt * r * (zeta / tau_z) * math.exp(-T * dt / tau_z)
    np.testing.assert_allclose(_dw(net), expected, rtol=1e-4)
    assert abs(expected) > 1e-4  # visible


def test_mstdpet_many_pairings_decay_from_their_own_event(pair_config):
    pre, post = [0, 7, 30, 41], [3, 8, 30, 60]
    n_steps, tau_z, lr, r = 100, 40.0, 0.5, 1.5
    net = _pair_net(pair_config, synapse="MSTDPET", synapses={"tau_z": tau_z, "learning_rate": lr})
    drive_synapses(net, pre, post, n_steps)
    net.synapses.reward(np.array([r]), net.weights)
    events = reference_zeta(pre, post, SYN["A_plus"], SYN["A_minus"], SYN["tau_plus"],
                            SYN["tau_minus"], 1.0)
    z = sum(zeta / tau_z * math.exp(-(n_steps - 1 - t) / tau_z) for t, zeta in events)
    np.testing.assert_allclose(_dw(net), lr * 1.0 * r * z, rtol=1e-9)


def test_mstdpet_lazy_decay_survives_renormalisation(pair_config):
    tau_z = 10.0  # the lazy scale drops below 1e-12 after ~277 steps
    net = Network.from_config(pair_config("MSTDPET", {**SYN, "tau_z": tau_z}, weight=0.0,
                                          weights={"mask": [[True], [False]]}))
    assert net.weights.mask[0, 0, 0] and net.weights.matrix[0, 0, 0] == 0.0
    drive_synapses(net, [0], [2], n_steps=3)
    zeta = SYN["A_plus"] * math.exp(-2 / SYN["tau_plus"])
    syn = net.synapses
    for t in range(3, 700):
        if t in (3, 100, 276, 277, 278, 300, 555, 699):
            effective = syn.eligibility[0, 0, 0] * float(syn.scale)
            np.testing.assert_allclose(effective, zeta / tau_z * math.exp(-(t - 3) / tau_z),
                                       rtol=1e-9)
            assert 1e-12 <= float(syn.scale) <= 1.0
        drive_synapses(net, [], [], 1)
    net.synapses.reward(np.array([1e20]), net.weights)
    expected = SYN["learning_rate"] * 1e20 * zeta / tau_z * math.exp(-(699 - 2) / tau_z)
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0], expected, rtol=1e-9)


def test_mstdpet_reset_clears_eligibility(pair_config):
    net = _pair_net(pair_config, synapse="MSTDPET")
    drive_synapses(net, [0], [2], n_steps=3)
    assert net.synapses.eligibility.any()
    net.reset()
    assert not net.synapses.eligibility.any() and float(net.synapses.scale) == 1.0
    net.synapses.reward(np.array([1.0]), net.weights)
    assert _dw(net)[0] == 0.0


def test_mstdp_reward_multiplies_accumulated_zeta_and_clears(pair_config):
    pre, post = [0, 10, 14], [3, 10, 12]
    net = _pair_net(pair_config, synapse="MSTDP")
    drive_synapses(net, pre, post, n_steps=20)
    assert _dw(net)[0] == 0.0
    zeta = sum(z for _, z in reference_zeta(pre, post, SYN["A_plus"], SYN["A_minus"],
                                            SYN["tau_plus"], SYN["tau_minus"], 1.0))
    np.testing.assert_allclose(net.synapses.eligibility[0, 0, 0], zeta, rtol=1e-9)
    net.synapses.reward(np.array([2.0]), net.weights)
    np.testing.assert_allclose(_dw(net), SYN["learning_rate"] * 2.0 * zeta, rtol=1e-9)
    assert not net.synapses.eligibility.any()
    after = net.weights.matrix.copy()
    net.synapses.reward(np.array([2.0]), net.weights)  # nothing left to credit
    np.testing.assert_array_equal(net.weights.matrix, after)
    # eligibility after a reward holds only the pairings completed after it (the traces
    # keep the earlier spikes: the pre spike at 20 also pairs with the post spike at 12)
    drive_synapses(net, [0], [4], n_steps=5)
    pre, post = pre + [20], post + [24]
    later = sum(z for t, z in reference_zeta(pre, post, SYN["A_plus"], SYN["A_minus"],
                                             SYN["tau_plus"], SYN["tau_minus"], 1.0) if t >= 20)
    np.testing.assert_allclose(net.synapses.eligibility[0, 0, 0], later, rtol=1e-9)


def test_reward_only_for_some_members(pair_config):
    cfg = pair_config("MSTDPET", SYN, weight=W0)
    cfg["network"]["batch_size"] = 3
    net = Network.from_config(cfg)
    drive_synapses(net, [0], [2], n_steps=3)
    net.synapses.reward(np.array([0.0, 1.0, -3.0]), net.weights)
    dw = _dw(net)
    assert dw[0] == 0.0 and dw[1] > 0
    np.testing.assert_allclose(dw[2], -3.0 * dw[1], rtol=1e-9)


# ---------------------------------------------------------------- invariants
@pytest.mark.parametrize("synapse", ["STDP", "LTP", "MSTDP", "MSTDPET"])
def test_absent_synapses_stay_zero_and_weights_stay_in_bounds(synapse):
    cfg = build_small_config(
        parts={"synapses": synapse},
        network={"batch_size": 3, "seed": 7},
        inputs={"inhibitory_fraction": 0.5},
        neurons={"inhibitory_fraction": 1 / 3},
        weights={"density": 0.5, "high": 5.0, "max_weight": 5.0},
        synapses={"learning_rate": 2.0},
    )
    net = Network.from_config(cfg)
    mask = net.weights.mask.copy()
    start = net.weights.matrix.copy()
    assert 0.3 < mask.mean() < 0.6 and not mask[:, 8:][:, np.arange(6), np.arange(6)].any()
    rng = np.random.default_rng(1)
    for t in range(300):
        pre = rng.random((3, 14)) < 0.3
        post = rng.random((3, 6)) < 0.3
        net.synapses.step(pre, post, net.weights)
        if t % 10 == 9:
            net.synapses.reward(rng.choice([-5.0, 5.0], size=3), net.weights)
    w = net.weights.matrix
    np.testing.assert_array_equal(w[~mask], 0.0)
    np.testing.assert_array_equal(net.weights.mask, mask)
    assert w.min() >= 0.0 and w.max() <= 5.0
    assert (w[mask] != start[mask]).mean() > 0.5
    assert (w[mask] == 5.0).any()
    if synapse != "LTP":
        assert (w[mask] == 0.0).any()
    if synapse.startswith("MSTDP"):
        np.testing.assert_array_equal(net.synapses.eligibility[~mask], 0.0)


def test_network_learning_keeps_mask_and_bounds():
    net = Network.from_config(build_small_config(
        network={"batch_size": 2, "reward_mode": "step"},
        inputs={"inhibitory_fraction": 0.5},
        weights={"density": 0.6, "high": 5.0, "max_weight": 5.0},
        synapses={"learning_rate": 20.0, "tau_z": 5.0}))
    mask, start = net.weights.mask.copy(), net.weights.matrix.copy()
    rng = np.random.default_rng(0)
    for _ in range(30):
        obs = rng.integers(0, 2, (2, 2))
        net.tick(obs, {"expected": obs[:, 0] ^ obs[:, 1]})
    w = net.weights.matrix
    np.testing.assert_array_equal(w[~mask], 0.0)
    assert w.min() >= 0.0 and w.max() <= 5.0
    assert (w != start).any()


# ---------------------------------------------------------------- eval mode
@pytest.mark.parametrize("mode", ["step", "tick"])
def test_eval_freezes_weights(mode):
    net = Network.from_config(build_small_config(network={"batch_size": 2, "reward_mode": mode},
                                                 synapses={"learning_rate": 5.0}))
    obs, info = np.array([[1, 1], [1, 0]]), {"expected": np.array([0, 1])}

    def run(n):
        for _ in range(n):
            net.tick(obs, info)
            if mode == "tick":
                net.reward(info=info)

    run(2)
    frozen = {k: v.copy() for k, v in net.state_arrays().items() if k.startswith(("weights", "synapses"))}
    assert net.eval() is net and not net.training
    run(5)
    assert net.tick_spikes.any()
    for name, value in frozen.items():
        np.testing.assert_array_equal(net.state_arrays()[name], value, err_msg=name)
    net.train()
    run(3)
    assert not np.array_equal(net.weights.matrix, frozen["weights.matrix"])
