"""spikey.gradients: the forward equals Network stepping, hand gradients equal finite
differences of the smooth computation, e-prop equals BPTT without recurrence, refusals."""

import numpy as np
import pytest

from spikey.core.params import ConfigError
from spikey.gradients import Loss, SpikingModel, Surrogate
from spikey.gradients.eprop import eprop_gradient
from spikey.gradients.regularizers import rate_penalty
from spikey.snn import Monitor, Network

from gradient_configs import body_network, numeric_gradient

NEURONS = [("LIF", {}), ("AdaptiveLIF", {"adaptation": "threshold"}),
           ("AdaptiveLIF", {"adaptation": "current"})]


def _network(neuron, extra, batch=3, kernels="numpy", T=40, seed=3):
    weights = {"distribution": "uniform", "low": 0.0, "high": 6.0, "density": 0.7,
               "max_weight": 6.0}
    return Network.from_config(body_network("Random", weights, neuron=neuron, neurons=extra,
                                            batch=batch, kernels=kernels, seed=seed))


@pytest.mark.parametrize("neuron,extra", NEURONS)
@pytest.mark.parametrize("kernels", ["numpy", "auto"])
def test_forward_equals_network_stepping(neuron, extra, kernels):
    net = _network(neuron, extra, kernels=kernels)
    T, B = 40, net.batch_size
    potentials = Monitor(net, "neurons.potential")
    net._monitors.append(potentials)
    obs = np.random.default_rng(0).random((B, 6))
    spikes, inputs = [], []
    for _ in range(T):
        net.tick(obs)
        spikes.append(net.tick_spikes[:, 0].copy())
        inputs.append(net.tick_input_spikes[:, 0].copy())
    spikes, inputs = np.stack(spikes, 1), np.stack(inputs, 1).astype(float)
    V_net = np.stack(potentials.records, 1)
    assert spikes.sum() > 20 and not spikes.all()  # the check sees spiking and silence
    for b in range(B):
        model = SpikingModel.from_network(net, member=b)
        tape = model.forward(inputs[b:b + 1])
        z, u = tape.batch_spikes[0], tape.batch_potential[0]
        V = u * (1 - z) + model.reset_potential * z
        np.testing.assert_array_equal(z.astype(bool), spikes[b])
        assert np.abs(V - V_net[b]).max() <= 1e-6


def _grad_check(neuron, adaptation, surrogate, detach, readout, loss, recurrent=True,
                dropout=False, rate=0.0, seed=0):
    rng = np.random.default_rng(seed)
    n_in, N, K, T, B = 3, 5, 2, 12, 2
    W = rng.normal(4, 8, (n_in + N, N))  # excitatory on average: the outputs fire
    mask = rng.random(W.shape) < 0.85
    if not recurrent:
        mask[n_in:] = False
    model = SpikingModel(W, mask, n_in, K, neuron=neuron, adaptation=adaptation,
                         surrogate=Surrogate(surrogate, 4.0 if surrogate == "fast_sigmoid" else 12.0),
                         detach_reset=detach, tau=10.0,
                         tau_adapt=30.0)
    x = (rng.random((B, T, n_in)) < 0.5).astype(float)
    fn = Loss(readout, loss, K, logit_scale=10.0 if readout == "rate" else 0.5)
    y = np.array([0, 1]) if loss != "mse" else rng.normal(size=(B, K))
    masks = {}
    if dropout:
        masks = {"input_mask": (rng.random((B, n_in)) > 0.3) / 0.7,
                 "hidden_mask": (rng.random((B, N)) > 0.3) / 0.7}

    def total(tape):
        value = fn.value_and_grad(tape, y)[0]
        if rate:
            value += rate_penalty(tape.spikes, 1.0, rate, 100.0)[0]
        return value

    tape = model.forward(x, smooth=True, **masks)
    frozen = tape.spikes.copy() if detach else None  # the detached reset is held fixed
    tape = model.forward(x, smooth=True, frozen_reset=frozen, **masks)
    _, grad_q = fn.value_and_grad(tape, y)
    grad_z, grad_u = fn.direct_gradients(tape, grad_q)
    if rate:
        g_rate = rate_penalty(tape.spikes, 1.0, rate, 100.0)[1]
        grad_z = g_rate.copy() if grad_z is None else grad_z + g_rate
    hand = model.backward(tape, grad_z, grad_u)
    numeric = numeric_gradient(
        model, mask, lambda: total(model.forward(x, smooth=True, frozen_reset=frozen, **masks)))
    assert np.abs(numeric).max() > 1e-3  # a gradient worth checking
    assert np.all(hand[~mask] == 0)
    return np.abs(hand - numeric).max() / np.abs(numeric).max()


@pytest.mark.parametrize("neuron,extra", NEURONS)
@pytest.mark.parametrize("surrogate", ["fast_sigmoid", "piecewise_linear"])
@pytest.mark.parametrize("detach", [True, False])
@pytest.mark.parametrize("readout,loss", [("rate", "cross_entropy"),
                                          ("membrane", "cross_entropy"), ("membrane", "mse"),
                                          ("rate", "spike_count")])
def test_bptt_gradient_equals_finite_differences(neuron, extra, surrogate, detach, readout,
                                                 loss):
    error = _grad_check(neuron, extra.get("adaptation", "threshold"), surrogate, detach, readout,
                        loss)
    assert error <= 1e-6


@pytest.mark.parametrize("neuron,extra", NEURONS)
def test_gradient_check_with_dropout_rate_penalty_and_no_recurrence(neuron, extra):
    adaptation = extra.get("adaptation", "threshold")
    assert _grad_check(neuron, adaptation, "fast_sigmoid", False, "rate", "cross_entropy",
                       dropout=True, rate=1e-3) <= 1e-6
    assert _grad_check(neuron, adaptation, "piecewise_linear", True, "membrane",
                       "cross_entropy", recurrent=False, seed=2) <= 1e-6


@pytest.mark.parametrize("neuron,extra", NEURONS)
@pytest.mark.parametrize("detach", [True, False])
def test_gradient_check_of_the_step_by_step_backward(neuron, extra, detach, monkeypatch):
    """Large tapes form the backward's terms step by step (small ones on the whole tape):
    that path, forced here on a small tape, passes the same checks."""
    from spikey.gradients import engine

    monkeypatch.setattr(engine, "_WHOLE_TAPE_ELEMENTS", 0)
    adaptation = extra.get("adaptation", "threshold")
    assert _grad_check(neuron, adaptation, "fast_sigmoid", detach, "rate", "cross_entropy",
                       dropout=True, rate=1e-3) <= 1e-6
    assert _grad_check(neuron, adaptation, "piecewise_linear", detach, "membrane", "mse") <= 1e-6


def test_surrogates_are_derivatives_of_their_primitives():
    x = np.linspace(-9, 9, 181) + 0.013
    for kind in ("fast_sigmoid", "piecewise_linear"):
        s = Surrogate(kind, 2.5)
        numeric = (s.primitive(x + 1e-6) - s.primitive(x - 1e-6)) / 2e-6
        np.testing.assert_allclose(s.derivative(x), numeric, atol=1e-8)
        assert s.primitive(np.array(-1e9)) == pytest.approx(0, abs=1e-8)
        assert s.primitive(np.array(1e9)) == pytest.approx(1, abs=1e-8)
    assert Surrogate("fast_sigmoid", 2.0).derivative(np.array(0.0)) == 0.25
    assert Surrogate("piecewise_linear", 2.0).derivative(np.array(3.0)) == 0.0


def _eprop_case(neuron, adaptation, detach, readout, loss, recurrent, seed):
    rng = np.random.default_rng(seed)
    n_in, N, K, T, B = 6, 8, 3, 30, 4
    W = rng.normal(0, 6, (n_in + N, N))
    mask = np.ones_like(W, bool)
    if not recurrent:
        mask[n_in:] = False
    model = SpikingModel(W, mask, n_in, K, neuron=neuron, adaptation=adaptation,
                         surrogate=Surrogate("fast_sigmoid", 4.0), detach_reset=detach, tau=10.0)
    x = (rng.random((B, T, n_in)) < 0.4).astype(float)
    fn = Loss(readout, loss, K, logit_scale=2.0, readout_window=20)
    tape = model.forward(x)
    _, grad_q = fn.value_and_grad(tape, rng.integers(0, K, B))
    grad_z, grad_u = fn.direct_gradients(tape, grad_q)
    g_rate = rate_penalty(tape.spikes, 1.0, 1e-3, 20.0)[1]
    grad_z = g_rate.copy() if grad_z is None else grad_z + g_rate
    bptt = model.backward(tape, grad_z, grad_u)
    eprop, _ = eprop_gradient(model, tape, fn, grad_q, rate_strength=1e-3, target_rate=20.0)
    return bptt, eprop


@pytest.mark.parametrize("neuron,extra", NEURONS)
@pytest.mark.parametrize("detach", [True, False])
@pytest.mark.parametrize("readout,loss", [("rate", "cross_entropy"),
                                          ("membrane", "cross_entropy"), ("rate", "spike_count")])
def test_eprop_equals_bptt_without_recurrence(neuron, extra, detach, readout, loss):
    bptt, eprop = _eprop_case(neuron, extra.get("adaptation", "threshold"), detach, readout, loss,
                              recurrent=False, seed=1)
    assert np.abs(bptt).max() > 1e-4
    assert np.abs(bptt - eprop).max() <= 1e-9 * np.abs(bptt).max()


def test_eprop_on_a_recurrent_network_is_aligned_with_bptt_but_not_equal():
    cosines = []
    for seed in range(4):
        bptt, eprop = _eprop_case("AdaptiveLIF", "threshold", True, "rate", "cross_entropy",
                                  recurrent=True, seed=seed)
        cosines.append((bptt * eprop).sum() / np.linalg.norm(bptt) / np.linalg.norm(eprop))
        assert np.abs(bptt - eprop).max() > 1e-3 * np.abs(bptt).max()
    assert 0.5 < np.mean(cosines) < 0.9999


def test_parts_without_a_backward_pass_are_refused_by_name():
    def build(neuron="LIF", neurons=None, **sections):
        config = {"parts": {"inputs": "RateMap", "neurons": neuron, "weights": "Random",
                            "readout": "NeuronRates"},
                  "network": {"processing_steps": 5, "reward_mode": "none"},
                  "inputs": {"n_inputs": 4, "n_dims": 4},
                  "neurons": {"n_neurons": 5, **(neurons or {})}, "readout": {"n_outputs": 2}}
        for key, value in sections.items():
            if key == "parts":
                config["parts"].update(value)
            else:
                config[key] = value
        return SpikingModel.from_network(Network.from_config(config))

    with pytest.raises(ConfigError, match=r"neurons \(Izhikevich\) has no backward pass"):
        build("Izhikevich")
    with pytest.raises(ConfigError, match=r"neurons \(LIF\)\.refractory = 2\.0 has no backward"):
        build(neurons={"refractory": 2.0})
    with pytest.raises(ConfigError, match=r"potential_noise = 1\.0 .*membrane_noise"):
        build(neurons={"potential_noise": 1.0})
    with pytest.raises(ConfigError, match=r"neurons \(LIF\)\.threshold differs between members"):
        build(neurons={"threshold": {"per_member": [10.0]}})
    with pytest.raises(ConfigError, match=r"synapses \(STDP\) has no backward pass"):
        build(parts={"synapses": "STDP"})
    with pytest.raises(ConfigError, match=r"weights \(Random\)\.delays has no backward pass"):
        build(weights={"delays": 2})
    with pytest.raises(ConfigError, match=r"neurons \(ConductanceLIF\) has no backward"):
        SpikingModel(np.zeros((3, 2)), np.ones((3, 2), bool), 1, 1, neuron="ConductanceLIF")
    with pytest.raises(ConfigError, match="surrogate = 'relu'"):
        Surrogate("relu", 1.0)
    with pytest.raises(ConfigError, match="surrogate_scale = 0"):
        Surrogate("fast_sigmoid", 0)
    model = SpikingModel(np.zeros((3, 2)), np.ones((3, 2), bool), 1, 1)
    with pytest.raises(ConfigError, match=r"inputs shape \(2, 5\); expected \(B, T, 1\)"):
        model.forward(np.zeros((2, 5)))


@pytest.mark.parametrize("readout", ["rate", "membrane"])
def test_eprop_on_a_layered_network_is_exact_for_the_output_synapses(readout):
    # inputs -> hidden -> outputs: the outputs drive no neuron, so their incoming synapses
    # get BPTT's gradient exactly; the hidden ones a one-hop learning signal (aligned)
    rng = np.random.default_rng(5)
    n_in, H, K, T, B = 6, 10, 3, 25, 8
    N = H + K
    mask = np.zeros((n_in + N, N), bool)
    mask[:n_in, :H] = True
    mask[n_in:n_in + H, H:] = True
    W = rng.normal(3, 6, mask.shape)
    model = SpikingModel(W, mask, n_in, K, neuron="AdaptiveLIF", tau=10.0,
                         surrogate=Surrogate("fast_sigmoid", 4.0))
    x = (rng.random((B, T, n_in)) < 0.5).astype(float)
    fn = Loss(readout, "cross_entropy", K, logit_scale=2.0 if readout == "rate" else 0.3)
    tape = model.forward(x)
    assert tape.spikes[:, :, :H].sum() > 10 and tape.spikes[:, :, H:].sum() > 5
    _, grad_q = fn.value_and_grad(tape, rng.integers(0, K, B))
    bptt = model.backward(tape, *fn.direct_gradients(tape, grad_q))
    eprop, _ = eprop_gradient(model, tape, fn, grad_q)
    assert np.abs(bptt[:, H:]).max() > 1e-4
    np.testing.assert_allclose(eprop[:, H:], bptt[:, H:], rtol=0, atol=1e-10 * np.abs(bptt).max())
    hidden_bptt, hidden_eprop = bptt[:n_in, :H].ravel(), eprop[:n_in, :H].ravel()
    cosine = hidden_bptt @ hidden_eprop / np.linalg.norm(hidden_bptt) / np.linalg.norm(hidden_eprop)
    assert cosine > 0.3
