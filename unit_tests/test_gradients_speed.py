"""The fast paths of a BPTT training step give the numbers of the numpy reference code bit
for bit: the compiled backward pass of feed-forward LIF bodies, the optimizers' one-pass
update, the reused gradient array and the cached synapse layout."""

import numpy as np
import pytest

from spikey.gradients import Loss, SpikingModel, Surrogate, engine, optimizers
from spikey.gradients.optimizers import OPTIMIZERS, Optimizer
from spikey.gradients.regularizers import rate_penalty

from gradient_configs import numeric_gradient


def _layered(surrogate="fast_sigmoid", seed=0, n_in=4, H=7, K=3, sparse=False):
    """inputs -> H hidden -> K outputs (the body is feed-forward: hidden send, outputs
    receive), optionally with some synapses missing inside the blocks."""
    rng = np.random.default_rng(seed)
    N = H + K
    mask = np.zeros((n_in + N, N), bool)
    mask[:n_in, :H] = True
    mask[n_in:n_in + H, H:] = True
    if sparse:
        mask &= rng.random(mask.shape) < 0.8
    W = rng.normal(4, 8, mask.shape)
    scale = 4.0 if surrogate == "fast_sigmoid" else 12.0
    return SpikingModel(W, mask, n_in, K, tau=10.0, threshold=5.0,
                        surrogate=Surrogate(surrogate, scale)), rng


def _case(model, rng, B, T, readout, dropout, rate):
    n_in, N, K = model.n_inputs, model.n_neurons, model.n_outputs
    x = (rng.random((B, T, n_in)) < 0.5).astype(float)
    masks = {}
    if dropout:
        masks = {"input_mask": (rng.random((B, n_in)) > 0.3) / 0.7,
                 "hidden_mask": (rng.random((B, N)) > 0.3) / 0.7}
    fn = Loss(readout, "cross_entropy", K, logit_scale=10.0 if readout == "rate" else 0.5)
    y = rng.integers(0, K, B)
    return x, masks, fn, y


def _currents(model, x, masks, fn, y, rate):
    tape = model.forward(x, **masks)
    _, grad_q = fn.value_and_grad(tape, y)
    grad_z, grad_u = fn.direct_gradients(tape, grad_q)
    if rate:
        g_rate = rate_penalty(tape.spikes, 1.0, rate, 100.0)[1]
        grad_z = g_rate if grad_z is None else grad_z + g_rate
    currents = model.backward_currents(tape, grad_z, grad_u).copy()
    return currents, model.backward(tape, grad_z, grad_u)


@pytest.mark.parametrize("surrogate", ["fast_sigmoid", "piecewise_linear"])
@pytest.mark.parametrize("readout,dropout,rate", [("rate", False, 0.0), ("rate", True, 1e-3),
                                                  ("membrane", True, 0.0)])
@pytest.mark.parametrize("B,T", [(1, 12), (5, 12), (3, 1)])
@pytest.mark.parametrize("whole", [True, False])
def test_compiled_feedforward_backward_equals_the_numpy_step_loop(surrogate, readout, dropout,
                                                                   rate, B, T, whole,
                                                                   monkeypatch):
    model, rng = _layered(surrogate, seed=B + T, sparse=dropout)
    assert model._layout()["feedforward"]
    x, masks, fn, y = _case(model, rng, B, T, readout, dropout, rate)
    fast, fast_grad = _currents(model, x, masks, fn, y, rate)
    assert np.abs(fast).max() > 1e-3  # a gradient worth comparing
    monkeypatch.setattr(engine, "_lif_currents_kernel", None)  # the numpy reference
    if not whole:
        monkeypatch.setattr(engine, "_WHOLE_TAPE_ELEMENTS", 0)
    slow, slow_grad = _currents(model, x, masks, fn, y, rate)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast_grad, slow_grad)


def test_recurrent_and_adaptive_bodies_keep_the_numpy_backward():
    model, _ = _layered()
    assert model._layout()["feedforward"]
    recurrent = SpikingModel(model.weights, np.ones_like(model.mask), model.n_inputs,
                             model.n_outputs)
    assert not recurrent._layout()["feedforward"]  # hidden <-> hidden: the step loop


@pytest.mark.parametrize("surrogate", ["fast_sigmoid", "piecewise_linear"])
@pytest.mark.parametrize("readout", ["rate", "membrane"])
def test_compiled_feedforward_backward_equals_finite_differences(surrogate, readout):
    model, rng = _layered(surrogate, seed=4, sparse=True)
    x, masks, fn, y = _case(model, rng, 2, 12, readout, True, 1e-3)

    def total(tape):
        return fn.value_and_grad(tape, y)[0] + rate_penalty(tape.spikes, 1.0, 1e-3, 100.0)[0]

    frozen = model.forward(x, smooth=True, **masks).spikes.copy()  # detached reset held
    tape = model.forward(x, smooth=True, frozen_reset=frozen, **masks)
    _, grad_q = fn.value_and_grad(tape, y)
    grad_z, grad_u = fn.direct_gradients(tape, grad_q)
    g_rate = rate_penalty(tape.spikes, 1.0, 1e-3, 100.0)[1]
    grad_z = g_rate if grad_z is None else grad_z + g_rate
    hand = model.backward(tape, grad_z, grad_u)
    numeric = numeric_gradient(
        model, model.mask, lambda: total(model.forward(x, smooth=True, frozen_reset=frozen, **masks)))
    body = numeric[model.n_inputs:]
    assert np.abs(body).max() > 1e-3 and np.abs(numeric[:model.n_inputs]).max() > 1e-3
    assert np.all(hand[~model.mask] == 0)
    assert np.abs(hand - numeric).max() / np.abs(numeric).max() <= 1e-6


def _optimizer_runs(kind, extra, steps=4, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(7, 5))
    index = np.flatnonzero(rng.random(weights.shape) < 0.6)
    grads = [rng.normal(size=weights.shape) for _ in range(steps)]
    fast, slow = weights.copy(), weights.copy()
    opt_fast, opt_slow = Optimizer(kind, 0.05, **extra), Optimizer(kind, 0.05, **extra)
    for g in grads:
        opt_fast.step_at(fast.reshape(-1), g.reshape(-1), index)
        values = slow.reshape(-1)[index]
        opt_slow.step(values, g.reshape(-1)[index])
        slow.reshape(-1)[index] = values
    return weights, fast, slow, index, (opt_fast, opt_slow)


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("decay", [0.0, 0.01])
@pytest.mark.parametrize("compiled", [True, False])
def test_step_at_equals_gather_step_scatter(kind, decay, compiled, monkeypatch):
    if not compiled:
        monkeypatch.setattr(optimizers, "_step_at_kernel", None)
    extra = {"weight_decay": decay}
    weights, fast, slow, index, (opt_fast, opt_slow) = _optimizer_runs(kind, extra)
    np.testing.assert_array_equal(fast, slow)
    moved = np.zeros(weights.size, bool)
    moved[index] = True
    assert np.all(fast.reshape(-1)[~moved] == weights.reshape(-1)[~moved])  # others stay
    assert np.abs(fast - weights).max() > 1e-3
    assert opt_fast.count == opt_slow.count == 4
    if kind != "sgd":
        state = opt_fast.first if kind != "rmsprop" else opt_fast.second
        np.testing.assert_array_equal(state, opt_slow.first if kind != "rmsprop"
                                      else opt_slow.second)


def test_step_at_adamw_equals_gather_step_scatter():
    extra = {"weight_decay": 0.1, "decoupled": True}
    weights, fast, slow, _, _ = _optimizer_runs("adam", extra, steps=5, seed=3)
    np.testing.assert_array_equal(fast, slow)
    # closed form of the first AdamW step: w - lr (sign(g) + lambda w) (m_hat / sqrt(v_hat))
    w = np.array([2.0, -1.0])
    Optimizer("adam", 0.1, weight_decay=0.5, decoupled=True).step_at(w, np.array([3.0, -4.0]),
                                                                      np.array([0, 1]))
    np.testing.assert_allclose(w, [2.0 - 0.1 * (1.0 + 0.5 * 2.0), -1.0 - 0.1 * (-1.0 - 0.5)],
                               rtol=1e-7)


def test_reused_gradient_array_equals_a_fresh_one():
    """With a workspace the gradient array is reused; every call still returns the fresh
    gradient (blocks overwritten, zeros elsewhere), whatever the previous call left."""
    model, rng = _layered(seed=7, sparse=True)
    workspace = {}
    for B, T in ((3, 12), (2, 9), (2, 1)):
        x, masks, fn, y = _case(model, rng, B, T, "rate", True, 0.0)
        tape = model.forward(x, workspace=workspace, **masks)
        _, grad_q = fn.value_and_grad(tape, y)
        reused = model.backward(tape, *fn.direct_gradients(tape, grad_q), workspace=workspace)
        fresh = model.backward(tape, *fn.direct_gradients(tape, grad_q))
        np.testing.assert_array_equal(reused, fresh)
        assert np.all(reused[~model.mask] == 0)
        reused *= 0.5  # a caller scaling it in place (as gradient.freeze does) is fine
    assert T == 1 and not np.any(reused[model.n_inputs:])  # one step: no body-synapse term


def test_layout_follows_a_new_mask():
    model, _ = _layered()
    assert model.has_recurrence and model._layout()["feedforward"]
    mask = model.mask.copy()
    mask[model.n_inputs:] = False
    model.mask = mask
    assert not model.has_recurrence and model._input_columns() == slice(0, 7)


@pytest.mark.parametrize("readout", ["rate", "membrane"])
def test_reused_direct_gradients_equal_fresh_ones(readout):
    """The loss's direct terms are zeroed once per workspace: later calls overwrite the
    output columns only, and equal a fresh array."""
    model, rng = _layered(seed=8)
    workspace = {}
    fn = Loss(readout, "cross_entropy", model.n_outputs, logit_scale=2.0, readout_window=5)
    for B in (3, 3, 2):
        x = (rng.random((B, 12, model.n_inputs)) < 0.5).astype(float)
        tape = model.forward(x)
        _, grad_q = fn.value_and_grad(tape, rng.integers(0, model.n_outputs, B))
        reused = fn.direct_gradients(tape, grad_q, workspace=workspace)
        fresh = fn.direct_gradients(tape, grad_q)
        k = 0 if readout == "rate" else 1
        assert reused[1 - k] is None and fresh[1 - k] is None
        np.testing.assert_array_equal(reused[k], fresh[k])
        assert np.abs(fresh[k][-5:, :, -model.n_outputs:]).max() > 0
        assert not fresh[k][:-5].any() and not fresh[k][:, :, :-model.n_outputs].any()


def test_dropout_masks_are_each_slots_own_draws():
    """Slot b's masks are the first draws of its own generator (seed, b), written into one
    array: the same as drawing them one slot at a time."""
    from spikey.gradients import GradientTrainer

    config = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Layered",
                        "readout": "Softmax"},
              "network": {"processing_steps": 5, "reward_mode": "none"},
              "inputs": {"n_inputs": 4, "n_dims": 4},
              "neurons": {"n_neurons": 9},
              "weights": {"layers": [6, 3], "max_weight": 50.0},
              "readout": {"n_outputs": 3}}
    gradient = {"input_dropout": 0.3, "hidden_dropout": 0.5, "seed": 4}
    inputs, hidden = GradientTrainer(config, gradient).dropout_masks(4)
    fresh = GradientTrainer(config, gradient)
    for b, g in enumerate(fresh._generators(fresh._dropout_rngs, "dropout", range(4))):
        draws = g.random(4 + 9)
        np.testing.assert_array_equal(inputs[b], (draws[:4] >= 0.3) / 0.7)
        expected = (draws[4:] >= 0.5) / 0.5
        expected[-3:] = 1.0  # output neurons are never dropped
        np.testing.assert_array_equal(hidden[b], expected)
    assert 0 < (inputs == 0).sum() < inputs.size and 0 < (hidden == 0).sum()
