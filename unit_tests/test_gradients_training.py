"""spikey.gradients training machinery: optimizers (closed forms), regularizers, losses,
dropout masks (seeded per member), noise, schedules, curriculum, transfer, Softmax readout,
config errors."""

import numpy as np
import pytest

from spikey.core.params import ConfigError
from spikey.gradients import GradientTrainer, Loss, Optimizer, Softmax, SpikingModel, Surrogate
from spikey.gradients.regularizers import rate_penalty, weight_penalty
from spikey.snn import Network


def _config(T=8, hidden=6, n_in=4, outputs=3, neuron="LIF"):
    return {"parts": {"inputs": "RateMap", "neurons": neuron, "weights": "Layered",
                      "readout": "NeuronRates"},
            "network": {"processing_steps": T, "reward_mode": "none"},
            "inputs": {"n_inputs": n_in, "n_dims": n_in, "max_rate": 1000.0,
                       "spike_model": "regular"},
            "neurons": {"n_neurons": hidden + outputs, "tau": 10.0, "threshold": 5.0},
            "weights": {"layers": [hidden, outputs], "max_weight": 50.0},
            "readout": {"n_outputs": outputs}}


def _data(n=24, n_in=4, outputs=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, outputs, n)
    x = np.clip(0.2 + 0.6 * (np.arange(n_in)[None] % outputs == y[:, None])
                + rng.normal(0, 0.1, (n, n_in)), 0, 1)
    return x, y


# ------------------------------------------------------------------ optimizers
def test_sgd_and_coupled_weight_decay_closed_form():
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    Optimizer("sgd", 0.1, weight_decay=0.2).step(w, g)
    np.testing.assert_allclose(w, [1.0 - 0.1 * (0.5 + 0.2), -2.0 - 0.1 * (0.25 - 0.4)])


def test_momentum_two_steps_closed_form():
    w = np.array([1.0])
    opt = Optimizer("momentum", 0.1, momentum=0.5)
    opt.step(w, np.array([2.0]))   # v = 2, w = 1 - 0.2
    opt.step(w, np.array([1.0]))   # v = 0.5 * 2 + 1 = 2, w = 0.8 - 0.2
    np.testing.assert_allclose(w, [0.6])


def test_rmsprop_two_steps_closed_form():
    w = np.array([1.0])
    opt = Optimizer("rmsprop", 0.01, rho=0.5, epsilon=0.0)
    opt.step(w, np.array([2.0]))   # s = 0.5 * 4 = 2
    s1 = 2.0
    expected = 1.0 - 0.01 * 2.0 / np.sqrt(s1)
    opt.step(w, np.array([-1.0]))  # s = 0.5 * 2 + 0.5 * 1 = 1.5
    expected -= 0.01 * -1.0 / np.sqrt(1.5)
    np.testing.assert_allclose(w, [expected])


def test_adam_two_steps_closed_form_and_adamw():
    g1, g2, lr, b1, b2, eps = 0.3, -0.1, 0.01, 0.9, 0.99, 1e-8
    w = np.array([1.0])
    opt = Optimizer("adam", lr, beta1=b1, beta2=b2, epsilon=eps)
    opt.step(w, np.array([g1]))
    opt.step(w, np.array([g2]))
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1 ** 2
    first = lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2 ** 2
    second = lr * (m2 / (1 - b1 ** 2)) / (np.sqrt(v2 / (1 - b2 ** 2)) + eps)
    np.testing.assert_allclose(w, [1.0 - first - second], rtol=1e-12)
    # AdamW: the decay is subtracted after the Adam step, not added to the gradient
    w = np.array([2.0])
    Optimizer("adam", lr, weight_decay=0.5, decoupled=True, epsilon=0.0).step(w, np.array([g1]))
    np.testing.assert_allclose(w, [2.0 - lr * 1.0 - lr * 0.5 * 2.0])
    w = np.array([2.0])  # coupled: g + lambda w = 1.3, the Adam step is still lr in size
    Optimizer("adam", lr, weight_decay=0.5, epsilon=0.0).step(w, np.array([g1]))
    np.testing.assert_allclose(w, [2.0 - lr])


def test_optimizer_leaves_untrainable_entries_and_refuses_bad_names():
    w = np.array([1.0, 1.0])
    Optimizer("adam", 0.1).step(w, np.array([1.0, 1.0]), np.array([True, False]))
    assert w[1] == 1.0 and w[0] < 1.0
    with pytest.raises(ConfigError, match="optimizer = 'adagrad'"):
        Optimizer("adagrad", 0.1)
    with pytest.raises(ConfigError, match="decoupled_weight_decay = True needs optimizer 'adam'"):
        Optimizer("sgd", 0.1, decoupled=True)


# ------------------------------------------------------------------ regularizers and losses
def test_weight_penalties_values_and_gradients():
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    trainable = np.array([[True, True], [True, False]])
    value, grad = weight_penalty(w, trainable, l1=0.1, l2=0.2)
    assert value == pytest.approx(0.1 * 3.5 + 0.5 * 0.2 * (1 + 4 + 0.25))
    np.testing.assert_allclose(grad, [[0.1 + 0.2, -0.1 - 0.4], [0.1 + 0.1, 0.0]])


def test_rate_penalty_value_and_gradient_against_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.random((10, 2, 3))
    value, grad = rate_penalty(z, 1.0, 0.01, 30.0)
    rates = z.sum(0) * 100.0
    assert value == pytest.approx(0.01 * ((rates - 30.0) ** 2).sum() / 6)
    h = 1e-6
    for idx in [(0, 0, 0), (9, 1, 2), (4, 1, 0)]:
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        numeric = (rate_penalty(zp, 1.0, 0.01, 30.0)[0] - rate_penalty(zm, 1.0, 0.01, 30.0)[0]) / 2e-6
        assert grad[idx] == pytest.approx(numeric, rel=1e-6)


def test_cross_entropy_and_spike_count_losses_by_hand():
    class FakeTape:
        def __init__(self, spikes):
            self.spikes = spikes
            self.potential = spikes * 0
    spikes = np.zeros((4, 1, 3))
    spikes[:, 0, 1] = 1.0
    spikes[:2, 0, 2] = 1.0
    tape = FakeTape(spikes)
    fn = Loss("rate", "cross_entropy", 2, logit_scale=2.0)
    q = fn.readout_values(tape)
    np.testing.assert_allclose(q, [[1.0, 0.5]])
    value, grad = fn.value_and_grad(tape, np.array([1]))
    p = np.exp([2.0, 1.0]) / np.exp([2.0, 1.0]).sum()
    assert value == pytest.approx(-np.log(p[1]))
    np.testing.assert_allclose(grad, [[2 * p[0], 2 * (p[1] - 1)]])
    counts = Loss("rate", "spike_count", 2, target_counts=(3, 1))
    value, grad = counts.value_and_grad(tape, np.array([0]))  # counts [4, 2], targets [3, 1]
    assert value == pytest.approx(0.5 * (1 + 1))
    np.testing.assert_allclose(grad, [[4 * 1, 4 * 1]])
    with pytest.raises(ConfigError, match=r"labels\[0\] = 2; expected integers in \[0, 2\)"):
        fn.value_and_grad(tape, np.array([2]))
    with pytest.raises(ConfigError, match="spike_count' needs gradient.readout = 'rate'"):
        Loss("membrane", "spike_count", 2)


def test_softmax_readout_reports_class_probabilities_in_a_network():
    config = _config()
    config["parts"]["readout"] = "Softmax"
    config["readout"] = {"n_outputs": 3, "inverse_temperature": 0.05}
    net = Network.from_config(config)
    action = net.tick(np.full((1, 4), 0.9))
    probabilities = net.readout.probabilities
    assert probabilities.shape == (1, 3) and probabilities.sum() == pytest.approx(1.0)
    rates = net.tick_spikes[:, :, -3:].sum(1) * 1000.0 / 8
    expected = np.exp(0.05 * rates) / np.exp(0.05 * rates).sum()
    np.testing.assert_allclose(probabilities, expected)
    assert action[0] == probabilities.argmax()


# ------------------------------------------------------------------ dropout and noise
def test_dropout_masks_are_seeded_per_member_and_do_not_depend_on_batch_size():
    gradient = {"input_dropout": 0.5, "hidden_dropout": 0.25, "seed": 7}
    a = GradientTrainer(_config(hidden=60), gradient)
    b = GradientTrainer(_config(hidden=60), gradient)
    c = GradientTrainer(_config(hidden=60), {**gradient, "seed": 8})
    in4, hid4 = a.dropout_masks(4)
    in2, hid2 = b.dropout_masks(2)
    np.testing.assert_array_equal(in4[:2], in2)
    np.testing.assert_array_equal(hid4[:2], hid2)
    assert not np.array_equal(c.dropout_masks(4)[1], hid4)
    assert not np.array_equal(hid4[0], hid4[1])             # members draw their own masks
    assert not np.array_equal(a.dropout_masks(4)[1], hid4)  # and new ones every minibatch
    assert set(np.unique(in4)) <= {0.0, 2.0}                # survivors scaled by 1/(1 - p)
    assert np.all(hid4[:, -3:] == 1.0)                      # outputs are never dropped
    dropped = (hid4[:, :-3] == 0).mean()
    assert 0.1 < dropped < 0.4


def test_input_and_membrane_noise_change_training_forward_only():
    x, y = _data()
    plain = GradientTrainer(_config(), {"seed": 1})
    noisy = GradientTrainer(_config(), {"seed": 1, "membrane_noise": 3.0, "input_noise": 0.5})
    trains = plain.encode(x[:4])
    clean_tape = plain.gradient(trains, y[:4], train=False)[2]
    noisy_tape = noisy.gradient(trains, y[:4], train=True)[2]
    assert not np.allclose(clean_tape.potential, noisy_tape.potential)
    np.testing.assert_array_equal(plain.predict_proba(x), noisy.predict_proba(x))


# ------------------------------------------------------------------ schedules, curriculum
def test_learning_rate_schedule_reuses_the_modifiers():
    x, y = _data()
    trainer = GradientTrainer(_config(), {"epochs": 4, "batch_size": 8, "learning_rate": 1.0,
                                          "lr_schedule": {"part": "LinearDecay", "start": 0.1,
                                                          "end": 0.02, "ticks": 2}})
    history = trainer.fit((x, y))
    assert [round(r["learning_rate"], 10) for r in history] == [0.1, 0.06, 0.02, 0.02]
    trainer = GradientTrainer(_config(), {"epochs": 3, "lr_schedule": {
        "part": "DropOff", "start": 0.1, "end": 0.01, "at": 1}})
    assert [r["learning_rate"] for r in trainer.fit((x, y))] == [0.1, 0.01, 0.01]
    with pytest.raises(ConfigError, match="lr_schedule.part = 'Cosine'"):
        GradientTrainer(_config(), {"lr_schedule": {"part": "Cosine"}})


def test_curriculum_grows_the_pool_from_the_easiest_samples():
    x, y = _data(n=40)
    trainer = GradientTrainer(_config(), {"epochs": 3, "batch_size": 8,
                                          "curriculum": {"start_fraction": 0.25, "epochs": 2}})
    history = trainer.fit((x, y))
    assert [r["samples"] for r in history] == [10, 25, 40]
    order = trainer.curriculum_order(x, y)
    dist = [np.linalg.norm(x[i] - x[y == y[i]].mean(0)) for i in order]
    assert dist == sorted(dist)
    with pytest.raises(ConfigError, match="gradient.curriculum = "):
        GradientTrainer(_config(), {"curriculum": {"start_fraction": 0}}).fit((x, y))


# ------------------------------------------------------------------ transfer, export, errors
def test_transfer_starts_from_saved_weights_and_freezes_blocks(tmp_path):
    x, y = _data()
    first = GradientTrainer(_config(), {"epochs": 2, "seed": 3})
    first.fit((x, y))
    path = str(tmp_path / "w.npz")
    first.save(path)
    second = GradientTrainer(_config(), {"init_weights": path, "freeze": ["inputs"],
                                         "epochs": 2, "seed": 4})
    np.testing.assert_array_equal(second.model.weights, first.model.weights)
    before = second.model.weights.copy()
    second.fit((x, y))
    np.testing.assert_array_equal(second.model.weights[:4], before[:4])
    assert not np.array_equal(second.model.weights[4:], before[4:])
    block = GradientTrainer(_config(), {"freeze": [{"pre": [4, 10], "post": [6, 9]}]})
    assert not block.trainable[4:10, 6:9].any() and block.trainable[:4, :6].any()
    with pytest.raises(ConfigError, match=r"freeze\[0\] = 'hidden'"):
        GradientTrainer(_config(), {"freeze": ["hidden"]})
    with pytest.raises(ConfigError, match=r"freeze\[0\]\.post = \[0, 99\]"):
        GradientTrainer(_config(), {"freeze": [{"pre": [0, 1], "post": [0, 99]}]})
    with pytest.raises(ConfigError, match="init_weights = .*cannot read"):
        GradientTrainer(_config(), {"init_weights": str(tmp_path / "missing.npz")})
    np.savez(str(tmp_path / "small.npz"), weights=np.zeros((3, 3)))
    with pytest.raises(ConfigError, match=r"holds weights of shape \(3, 3\); this network needs"):
        GradientTrainer(_config(), {"init_weights": str(tmp_path / "small.npz")})


def test_sign_constrained_weights_export_to_the_network_and_give_its_spikes():
    x, y = _data()
    config = _config(T=12)
    config["inputs"]["inhibitory_fraction"] = 0.5
    config["neurons"]["inhibitory_fraction"] = 0.34
    trainer = GradientTrainer(config, {"epochs": 3, "sign_constrained": True, "batch_size": 8,
                                       "init_gain": 2.0})
    trainer.fit((x, y))
    sign = np.sign(trainer.polarity)[:, None]
    assert np.all(trainer.model.weights * sign >= 0)
    net_config = dict(config, network={"processing_steps": 12, "batch_size": 1,
                                       "dtype": "float64", "reward_mode": "none"})
    net = Network.from_config(net_config)
    trainer.export_to(net)
    trains = trainer.encode(x[:1])
    net.tick(x[:1])
    tape = trainer.model.forward(trains)
    np.testing.assert_array_equal(net.tick_spikes[0], tape.batch_spikes[0].astype(bool))
    free = GradientTrainer(config, {"epochs": 1})
    free.model.weights[0, 0] = -abs(free.model.weights[0, 0]) - 1.0 if trainer.polarity[0] > 0 \
        else abs(free.model.weights[0, 0]) + 1.0
    with pytest.raises(ConfigError, match=r"weight \[0, 0\] = .*sign_constrained = true"):
        free.export_to(net)


def test_gradient_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="gradient: unknown key 'learnig_rate'.*learning_rate"):
        GradientTrainer(_config(), {"learnig_rate": 0.1})
    with pytest.raises(ConfigError, match="gradient.method = 'rtrl' is not allowed"):
        GradientTrainer(_config(), {"method": "rtrl"})
    with pytest.raises(ConfigError, match="gradient.surrogate_scale = -1"):
        GradientTrainer(_config(), {"surrogate_scale": -1})
    with pytest.raises(ConfigError, match=r"target_counts = \[1\]; expected \[on, off\]"):
        GradientTrainer(_config(), {"target_counts": [1]})
    trainer = GradientTrainer(_config(), {})
    with pytest.raises(ConfigError, match=r"spike trains of shape \(2, 3, 4\); expected \(n, 8, 4\)"):
        trainer.encode(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("method", ["bptt", "eprop"])
def test_training_lowers_the_loss_on_a_separable_toy_task(method):
    x, y = _data(n=48)
    trainer = GradientTrainer(_config(T=10, hidden=12), {"epochs": 6, "batch_size": 8,
                                                         "method": method, "seed": 2})
    history = trainer.fit((x, y), (x, y))
    assert history[-1]["loss"] < 0.6 * history[0]["loss"]
    assert trainer.accuracy(x, y) >= 0.9


def test_row_presentation_and_shifted_copies_by_hand():
    from spikey.gradients.run import row_trains, shifted_copies

    image = np.zeros((1, 64))
    image[0, 8 * 2 + 3] = 1.0    # row 2, column 3: fires every step of row 2
    image[0, 8 * 5 + 0] = 0.5    # row 5, column 0: every second step
    trains = row_trains(image, steps_per_row=4, total_steps=40)
    assert trains.shape == (1, 40, 8)
    assert trains[0, 8:12, 3].tolist() == [1, 1, 1, 1] and trains[0, :8].sum() == 0
    assert trains[0, 20:24, 0].tolist() == [0, 1, 0, 1]
    assert trains.sum() == 6 and trains[0, 32:].sum() == 0
    with pytest.raises(ConfigError, match="processing_steps = 20; expected >= 8 rows"):
        row_trains(image, 4, 20)
    thermometer = row_trains(image, steps_per_row=2, total_steps=16, levels=3)
    assert thermometer.shape == (1, 16, 24)
    # row 2 column 3 (value 1): all three levels on in steps 4, 5; row 5 column 0 (0.5): the
    # levels at 1/4 and 2/4 on, 3/4 off, in steps 10, 11
    assert thermometer[0, 4:6, 9:12].tolist() == [[1, 1, 1]] * 2
    assert thermometer[0, 10:12, 0:3].tolist() == [[1, 1, 0]] * 2
    assert thermometer.sum() == 2 * 3 + 2 * 2
    x, y = shifted_copies(np.arange(64.0)[None], np.array([7]))
    images = x.reshape(5, 8, 8)
    assert images[1, 0, 0] == 8 and images[1, 7].sum() == 0      # up
    assert images[2, 1, 0] == 0 and images[2, 0].sum() == 0       # down
    assert images[3, 0, 0] == 1 and images[3, :, 7].sum() == 0    # left
    assert images[4, 0, 1] == 0 and images[4, :, 0].sum() == 0    # right
    assert y.tolist() == [7] * 5


def test_fit_checks_labels_before_training():
    x, y = _data(n=8)
    trainer = GradientTrainer(_config(), {"epochs": 1})
    before = trainer.model.weights.copy()
    with pytest.raises(ConfigError, match=r"labels\[3\] = 5; expected integers in \[0, 3\)"):
        trainer.fit((x, np.array([0, 1, 2, 5, 0, 1, 2, 0])))
    with pytest.raises(ConfigError, match="train: 8 samples but 7 labels"):
        trainer.fit((x, y[:7]))
    np.testing.assert_array_equal(trainer.model.weights, before)  # nothing trained


def test_network_init_mse_targets_last_epoch_selection_and_random_feedback():
    config = _config()
    config["neurons"]["inhibitory_fraction"] = 0.34
    trainer = GradientTrainer(config, {"init": "network"})
    net = trainer.network
    polarity = np.concatenate([net.parts["inputs"].polarity, net.parts["neurons"].polarity])
    np.testing.assert_array_equal(trainer.model.weights,
                                  net.parts["weights"].matrix[0] * polarity[:, None])
    assert (trainer.model.weights < 0).any() and (trainer.model.weights > 0).any()
    x, y = _data(n=32)
    targets = np.eye(3)[y] * 0.5                      # regress 0.5 spikes/step on the label
    mse = GradientTrainer(_config(T=10, hidden=12), {"loss": "mse", "epochs": 8,
                                                     "batch_size": 8, "select": "last"})
    history = mse.fit((x, targets))
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    assert history[-1]["train_accuracy"] is None
    random_fb = GradientTrainer(_config(T=10, hidden=12), {"method": "eprop", "epochs": 6,
                                                           "batch_size": 8,
                                                           "eprop_feedback": "random"})
    assert random_fb.feedback.shape == (15, 3)
    history = random_fb.fit((x, y))
    assert history[-1]["loss"] < history[0]["loss"]
