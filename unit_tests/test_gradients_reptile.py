"""Reptile meta-learning of initial weights (spikey.gradients.reptile): the update in closed
form, the schedule, adaptation, and bad input named."""

import numpy as np
import pytest

from spikey.core.params import ConfigError
from spikey.gradients import GradientTrainer
from spikey.gradients.reptile import REPTILE_KEYS, Reptile, task_sampler

NET = {"parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Layered",
                 "readout": "Softmax"},
       "network": {"processing_steps": 8, "reward_mode": "none"},
       "inputs": {"n_inputs": 4, "n_dims": 4, "max_rate": 1000.0, "spike_model": "regular"},
       "neurons": {"n_neurons": 13, "tau": 10.0, "threshold": 5.0},
       "weights": {"layers": [10, 3], "max_weight": 50.0},
       "readout": {"n_outputs": 3}}


def _task(rng, n=12):
    """Three classes, each lighting one input (which input: the task's own permutation)."""
    perm = rng.permutation(3)
    y = rng.integers(0, 3, n)
    x = np.clip(0.2 + 0.6 * (np.arange(4)[None] == perm[y][:, None])
                + rng.normal(0, 0.1, (n, 4)), 0, 1)
    return x, y


def test_one_sgd_step_is_sgd_on_the_task_loss_scaled_by_the_meta_rate():
    """k = 1 with SGD: theta' = theta - epsilon * eta * grad L_task(theta)."""
    gradient = {"optimizer": "sgd", "learning_rate": 0.3, "seed": 2}
    meta = Reptile(NET, gradient, {"inner_steps": 1, "meta_rate": 0.25, "seed": 5})
    theta = meta.weights.copy()
    task = _task(np.random.default_rng([5, 7]))  # the draw meta_train's generator makes
    reference = GradientTrainer(NET, gradient)
    np.testing.assert_array_equal(reference.model.weights, theta)  # same initial weights
    _, grad, _ = reference.gradient(reference.encode(task[0]), task[1])
    meta.meta_train(_task, iterations=1)
    assert np.abs(grad).max() > 1e-3
    np.testing.assert_allclose(meta.weights, theta - 0.25 * 0.3 * grad, rtol=0, atol=1e-12)
    assert meta.history[0]["meta_rate"] == 0.25 and meta.history[0]["samples"] == 12


def test_meta_rate_one_keeps_the_adapted_weights():
    """epsilon = 1: one meta-iteration leaves the weights of k plain training steps on the
    task (a fresh Adam each task)."""
    gradient = {"learning_rate": 0.05, "seed": 3}
    meta = Reptile(NET, gradient, {"inner_steps": 4, "meta_rate": 1.0, "seed": 1})
    x, y = _task(np.random.default_rng([1, 7]))
    plain = GradientTrainer(NET, gradient)
    trains = plain.encode(x)
    for _ in range(4):
        plain.train_step(trains, y)
    meta.meta_train(_task, iterations=1)
    assert np.abs(plain.model.weights - meta.trainer.model.weights).max() <= 1e-12  # theta +
    assert np.abs(plain.model.weights - GradientTrainer(NET, gradient).model.weights).max() > 0.01
    assert meta.trainer.optimizer.count == 0  # a fresh optimizer waits for the next task


def test_meta_rate_schedule_and_history():
    meta = Reptile(NET, {"seed": 0}, {"iterations": 5, "inner_steps": 2, "meta_rate": 0.8,
                                      "meta_rate_end": 0.0, "inner_batch_size": 5})
    assert [meta.meta_rate_at(i) for i in range(5)] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0])
    history = meta.meta_train(_task)
    assert [r["iteration"] for r in history] == [0, 1, 2, 3, 4]
    assert [r["meta_rate"] for r in history] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0])
    last = meta.weights.copy()
    meta.meta_train(_task, iterations=1)  # continues past the schedule: epsilon stays 0
    np.testing.assert_array_equal(meta.weights, last)
    assert {k.name for k in REPTILE_KEYS} == set(meta.config)


def test_adapt_trains_a_copy_and_leaves_the_initial_weights():
    meta = Reptile(NET, {"learning_rate": 0.1, "seed": 4}, {"inner_steps": 30})
    theta = meta.weights.copy()
    rng = np.random.default_rng(9)
    x, y = _task(rng, n=60)
    untrained = meta.adapt(x[:30], y[:30], steps=0)
    np.testing.assert_array_equal(untrained.model.weights, theta)
    adapted = meta.adapt(x[:30], y[:30])
    np.testing.assert_array_equal(meta.weights, theta)
    assert adapted.accuracy(x[30:], y[30:]) >= untrained.accuracy(x[30:], y[30:]) + 0.2
    assert adapted.accuracy(x[30:], y[30:]) >= 0.8


def test_meta_learned_weights_are_a_transfer_start(tmp_path):
    meta = Reptile(NET, {"seed": 0}, {"iterations": 3, "inner_steps": 2})
    meta.meta_train(_task)
    path = str(tmp_path / "theta.npz")
    meta.save(path)
    start = GradientTrainer(NET, {"init_weights": path})
    np.testing.assert_array_equal(start.model.weights, meta.weights)


@pytest.mark.parametrize("reptile, message", [
    ({"meta_rate": 2.0}, r"reptile.meta_rate = 2.0 is out of range"),
    ({"meta_rate": 0.0}, r"reptile.meta_rate = 0.0 is out of range"),
    ({"inner_steps": 0}, r"reptile.inner_steps = 0 is out of range"),
    ({"meta_rate_end": -1.0}, r"reptile.meta_rate_end = -1.0 is out of range"),
    ({"meta_step": 0.1}, r"reptile: unknown key 'meta_step'"),
])
def test_bad_reptile_keys_are_named(reptile, message):
    with pytest.raises(ConfigError, match=message):
        Reptile(NET, {}, reptile)


def test_bad_tasks_are_named():
    meta = Reptile(NET, {}, {"iterations": 1})
    with pytest.raises(ConfigError, match=r"sample_task = 3; expected a callable"):
        meta.meta_train(3)
    with pytest.raises(ConfigError, match=r"sample_task\(rng\) returned list; expected a tuple"):
        meta.meta_train(lambda rng: [1, 2])
    with pytest.raises(ConfigError, match=r"returned 4 samples and 3 labels"):
        meta.meta_train(lambda rng: (np.zeros((4, 4)), [0, 1, 2]))
    with pytest.raises(ConfigError, match=r"labels\[0\] = 7; expected integers in \[0, 3\)"):
        meta.meta_train(lambda rng: (np.zeros((2, 4)), [7, 0]))
    with pytest.raises(ConfigError, match=r"iterations = 0; expected an integer >= 1"):
        meta.meta_train(_task, iterations=0)
    with pytest.raises(ConfigError, match=r"adapt\(x, y\) returned 2 samples and 1 labels"):
        meta.adapt(np.zeros((2, 4)), [0])
    with pytest.raises(ConfigError, match=r"steps = -1; expected an integer >= 0"):
        meta.adapt(np.zeros((2, 4)), [0, 1], steps=-1)
    assert meta.history == []


def test_task_sampler_permutes_labels_and_keeps_query_apart():
    x = np.arange(40)[:, None] * 1.0
    y = np.repeat(np.arange(4), 10)
    sample = task_sampler(x, y, [0, 1, 3], ways=2, shots=3, queries=4)
    seen = set()
    for seed in range(20):
        (xs, ys), (xq, yq) = sample(np.random.default_rng(seed))
        assert xs.shape == (6, 1) and xq.shape == (8, 1)
        assert sorted(ys) == [0, 0, 0, 1, 1, 1] and sorted(yq) == [0] * 4 + [1] * 4
        assert not set(xs[:, 0]) & set(xq[:, 0])  # support and query disjoint
        for out in (0, 1):  # every output holds one class, never class 2
            classes = set(y[np.r_[xs[ys == out, 0], xq[yq == out, 0]].astype(int)])
            assert len(classes) == 1 and classes != {2}
            seen.add((out, classes.pop()))
    assert len(seen) == 6  # each of the 3 classes reached both outputs
    with pytest.raises(ConfigError, match=r"ways = 4; expected an integer in \[1, 3\]"):
        task_sampler(x, y, [0, 1, 3], ways=4)
    with pytest.raises(ConfigError, match="class 0 has 10 samples; a task needs shots \\+ "
                                          "queries = 11"):
        task_sampler(x, y, [0, 3], ways=2, shots=5, queries=6)
    with pytest.raises(ConfigError, match="shots = 0; expected an integer >= 1"):
        task_sampler(x, y, [0, 3], ways=2, shots=0)


def test_reptile_initial_weights_learn_new_digit_tasks_faster_than_random_ones():
    """examples/configs/digits_reptile.yaml, seed 0: after 500 tasks of digits 0-6 with
    permuted labels, 5 SGD steps on 5 images per class solve new tasks better than from the
    random initial weights, on new images of digits 0-6 and on the held-out digits 7-9
    (README: 0.754 -> 0.873 and 0.584 -> 0.691, means over seeds 0-4, 30 tasks each)."""
    from pathlib import Path

    from spikey.datasets import load_digits
    from spikey.training.config import load_config

    root = Path(__file__).resolve().parents[1]
    config = load_config(str(root / "examples" / "configs" / "digits_reptile.yaml"))
    data = load_digits()
    meta = Reptile(config["network"], config["gradient"], config["reptile"])

    def score(classes):
        sample = task_sampler(data.validation.x, data.validation.y, classes, queries=20)
        rng = np.random.default_rng(123)
        tasks = [sample(rng) for _ in range(15)]
        return np.mean([meta.adapt(xs, ys).accuracy(xq, yq) for (xs, ys), (xq, yq) in tasks])

    before = score(range(7)), score([7, 8, 9])
    meta.meta_train(task_sampler(data.train.x, data.train.y, range(7)))
    after = score(range(7)), score([7, 8, 9])
    assert after[0] >= before[0] + 0.08, (before, after)
    assert after[1] >= before[1] + 0.03, (before, after)
    assert np.mean([r["loss"] for r in meta.history[-50:]]) < \
        np.mean([r["loss"] for r in meta.history[:50]]) - 0.1  # tasks learned better in 5 steps
