"""Classification as a game (spikey/Digits-v0), evaluation tools, and the digit routes."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from spikey import ConfigError
from spikey.datasets import DatasetFileError, load_digits
from spikey.games import Classification


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_game_passes_check_env_and_renders():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make("spikey/Digits-v0", render_mode="rgb_array")
        check_env(env.unwrapped)
    env.reset(seed=0)
    env.step(3)
    image = env.render()
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.shape[0] >= 64


def test_label_in_info_matches_the_shown_sample_and_reward_counts_the_right_class(digits):
    env = Classification(split="validation", n_presentations=30, reward_wrong=-0.5)
    obs, info = env.reset(seed=4)
    rewards = []
    for t in range(30):
        i = info["index"]
        np.testing.assert_array_equal(obs, digits.validation.x[i])
        assert info["label"] == info["expected"] == digits.validation.y[i]
        answer = info["label"] if t % 2 == 0 else (info["label"] + 1) % 10
        obs, reward, terminated, truncated, info = env.step(answer)
        rewards.append(reward)
        assert terminated == (t == 29) and not truncated
    assert rewards == [1.0, -0.5] * 15


def test_sequential_order_visits_each_sample_of_the_split_once(digits):
    n = len(digits.test)
    env = Classification(split="test", order="sequential", n_presentations=n)
    _, info = env.reset(seed=0)
    seen = [info["index"]]
    for _ in range(n - 1):
        _, _, terminated, _, info = env.step(0)
        seen.append(info["index"])
    assert seen == list(range(n)) and not terminated
    assert env.step(0)[2]                        # the n-th answer ends the episode


def test_random_order_shows_only_the_chosen_split(digits):
    games = Classification.vector(num_envs=8, split="train", n_presentations=50, n_samples=100)
    obs, info = games.reset(seed=1)
    rows = {r.tobytes() for r in digits.train.x[:100]}
    for _ in range(49):
        assert all(o.tobytes() in rows for o in obs)
        assert np.all(info["index"] < 100)
        obs, _, _, _, info = games.step(info["label"])
    # different members see different samples (each its own seed)
    assert len(set(info["index"].tolist())) > 1


def test_steps_per_sample_keeps_a_sample_for_that_many_answers():
    env = Classification(steps_per_sample=3, n_presentations=4)
    obs, info = env.reset(seed=2)
    indices, count = [info["index"]], 0
    terminated = False
    while not terminated:
        obs, reward, terminated, _, info = env.step(info["label"])
        assert reward == 1.0
        count += 1
        indices.append(info["index"])
    assert count == 12
    # each sample stays for three answers
    assert indices[0] == indices[1] == indices[2] and indices[3] == indices[4] == indices[5]


def test_bad_game_settings_get_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="n_samples = 5000 but the digits test split holds 359"):
        Classification(split="test", n_samples=5000)
    with pytest.raises(ConfigError, match="split"):
        Classification(split="dev")
    with pytest.raises(ConfigError, match="drop data_folder"):
        Classification(data_folder=str(tmp_path))
    with pytest.raises(DatasetFileError, match="lacks train-images-idx3-ubyte.gz"):
        Classification(dataset="mnist", data_folder=str(tmp_path))
    env = Classification()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in Discrete"):
        env.step(10)


# ---------------------------------------------------------------- evaluation tools
from spikey.datasets import (accuracy, assign_labels, confusion_matrix, group_predictions,  # noqa: E402
                             per_class, present, vote)


def test_assign_labels_and_vote_by_hand():
    # 2 members, 4 samples (classes 0, 0, 1, 2), 3 neurons
    counts = np.array([[[5, 0, 1], [3, 0, 0], [0, 4, 0], [0, 0, 2]],
                       [[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]]])
    labels = np.array([0, 0, 1, 2])
    assigned = assign_labels(counts, labels, 3)
    # member 0: neuron 0 fires most for class 0 (mean 4), neuron 1 for 1, neuron 2 for 2
    # member 1: neuron 0 only for class 1; neurons 1, 2 never fire -> -1
    np.testing.assert_array_equal(assigned, [[0, 1, 2], [1, -1, -1]])
    answers = vote(counts, assigned, 3)
    np.testing.assert_array_equal(answers, [[0, 0, 1, 2], [-1, -1, 1, -1]])
    np.testing.assert_allclose(accuracy(answers, labels), [1.0, 0.25])


def test_vote_averages_over_each_class_s_neurons_and_refuses_ties():
    assigned = np.array([[0, 0, 1]])
    counts = np.array([[[4, 0, 3], [2, 2, 2]]])    # class 0 mean 2 vs class 1: 3; then 2 vs 2
    np.testing.assert_array_equal(vote(counts, assigned, 2), [[1, -1]])


def test_group_predictions_sum_equal_groups():
    counts = np.array([[[1, 1, 3, 0, 0, 0], [0, 0, 0, 0, 0, 0], [2, 0, 0, 2, 0, 0]]])
    np.testing.assert_array_equal(group_predictions(counts, 3), [[1, -1, -1]])
    with pytest.raises(ValueError, match="cannot be split into 4 equal groups"):
        group_predictions(counts, 4)


def test_confusion_matrix_and_per_class_table():
    labels = np.array([0, 0, 1, 1, 1, 2])
    answers = np.array([0, 1, 1, 1, -1, 1])
    matrix = confusion_matrix(answers, labels, 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0, 0], [0, 2, 0, 1], [0, 1, 0, 0]])
    table = per_class(answers, labels, ["zero", "one", "two"])
    assert list(table["class"]) == ["zero", "one", "two"]
    np.testing.assert_array_equal(table["samples"], [2, 3, 1])
    np.testing.assert_allclose(table["recall"], [0.5, 2 / 3, 0.0])
    np.testing.assert_allclose(table["precision"], [1.0, 0.5, np.nan])
    np.testing.assert_array_equal(table["no_answer"], [0, 1, 0])


def _two_pixel_network():
    """Two members of 2 pixels -> 2 LIF neurons, neuron k listening to pixel k only; a lit
    pixel's 500 Hz regular train makes its neuron fire at every input spike (10 a 20 ms
    tick), in evaluation mode."""
    import spikey
    return spikey.Network.from_config({
        "parts": {"inputs": "PixelRate", "neurons": "LIF", "weights": "Random",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": 20, "batch_size": 2, "reward_mode": "none"},
        "inputs": {"n_pixels": 2, "max_rate": 500.0, "spike_model": "regular"},
        "neurons": {"n_neurons": 2, "threshold": 0.5, "tau": 1.0},
        "weights": {"mask": [[True, False], [False, True], [False, False], [False, False]],
                    "low": 1.0, "high": 1.0},
        "readout": {"n_outputs": 2},
    }).eval()


def test_present_counts_each_sample_s_spikes_and_checks_shapes():
    net = _two_pixel_network()
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    counts = present(net, x, repeats=2)
    assert counts.shape == (2, 3, 2)
    # 500 Hz regular trains for 2 x 20 ms: 20 input spikes, each makes its neuron fire once
    np.testing.assert_array_equal(counts[0], [[20, 0], [0, 20], [0, 0]])
    np.testing.assert_array_equal(counts[0], counts[1])
    with pytest.raises(ValueError, match=r"expected \(n, n_features\) or \(2, n, n_features\)"):
        present(net, np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="repeats = 0"):
        present(net, x, repeats=0)


def test_present_order_picks_rows_per_member_without_copying():
    net = _two_pixel_network()
    # float32 rows, read one at a time: pixel 0 on, pixel 1 on, both off
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=np.float32)
    counts = present(net, x, order=[2, 0, 0, 1])  # 10 spikes per lit pixel and sample
    np.testing.assert_array_equal(counts[0], [[0, 0], [10, 0], [10, 0], [0, 10]])
    counts = present(net, x, order=[[1, 2], [0, 1]])  # member 0 and 1 in their own orders
    np.testing.assert_array_equal(counts[0], [[0, 10], [0, 0]])
    np.testing.assert_array_equal(counts[1], [[10, 0], [0, 10]])
    per_member = np.stack([x, x[::-1]])  # member 1 sees the rows reversed
    counts = present(net, per_member, order=[[0, 1], [0, 1]])
    np.testing.assert_array_equal(counts[1], [[0, 0], [0, 10]])
    with pytest.raises(ValueError, match=r"order holds rows 0\.\.3; expected 0\.\.2 "
                                         r"\(x has 3 samples\)"):
        present(net, x, order=[0, 3])
    with pytest.raises(ValueError, match=r"order has shape \(3, 2\) \(int64\); expected "
                                         r"integer rows \(m,\) or \(2, m\)"):
        present(net, x, order=np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"order has shape \(2,\) \(float64\)"):
        present(net, x, order=[0.0, 1.0])


def test_plots_label_their_axes_in_words(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from spikey.datasets.plots import plot_confusion, plot_receptive_fields
    fig = plot_receptive_fields(np.random.default_rng(0).uniform(size=(64, 12)), (8, 8),
                                labels=np.arange(12) % 10 - 1)
    texts = [a.get_title() for a in fig.axes] + [a.get_ylabel() for a in fig.axes]
    assert "class none" in texts and "class 3" in texts and "weight (mV)" in texts
    assert "12 neurons" in fig._suptitle.get_text()
    ax = plot_confusion(np.array([[3, 1, 0], [0, 2, 1]]), ["a", "b"])
    assert ax.get_xlabel() == "answer" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "no answer"]
    assert "5 of 7 right (71.4 %)" in ax.get_title()
    with pytest.raises(ValueError, match=r"expected \(64, K\) for 8x8"):
        plot_receptive_fields(np.zeros((60, 3)), (8, 8))
    plt.close("all")


# ---------------------------------------------------------------- the learning routes
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


def test_unsupervised_stdp_route_beats_chance_on_a_quick_run(tmp_path, digits):
    import digits_stdp
    config = digits_stdp.quick_config(digits_stdp.load_config())
    results = digits_stdp.run(config, seed=7, data=digits, verbose=False)
    # 50 neurons, 600 training presentations: every member far above chance (0.1)
    assert np.all(results["validation"] > 0.25), results["validation"]
    # labels come from the training split only; every class got some neurons
    assert results["assignments"].shape == (2, 50)
    # the figures show the excitatory neurons' pixel weights (interneurons have none)
    paths = digits_stdp.figures(results, digits, tmp_path)
    assert [p.name for p in paths] == ["digits_stdp_fields.png", "digits_stdp_confusion.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


@pytest.mark.slow
def test_unsupervised_stdp_route_reaches_80_percent_on_fresh_seeds():
    import digits_stdp
    results = digits_stdp.run(digits_stdp.load_config(), seed=1000, verbose=False)
    assert np.all(results["test"] >= 0.80), results["test"]


def test_reward_modulated_stdp_route_beats_chance_on_a_quick_run():
    import digits_rstdp
    config = digits_rstdp.quick_config(digits_rstdp.load_config())
    results = digits_rstdp.run(config, seed=7, eval_repeats=4)
    # 2 x 300 rewarded digits: both members far above chance (0.1)
    assert np.all(results["validation"] > 0.3), results["validation"]


def test_reward_modulated_stdp_config_is_a_spikey_train_config():
    import digits_rstdp
    from spikey.training.config import check_config
    config = check_config(digits_rstdp.load_config())
    assert config["game"]["id"] == "spikey/Digits-v0"


@pytest.mark.slow
def test_reward_modulated_stdp_route_reaches_80_percent_on_fresh_seeds():
    import digits_rstdp
    results = digits_rstdp.run(digits_rstdp.load_config(), seed=1000)
    assert np.all(results["test"] >= 0.80), results["test"]


def test_ga_route_beats_chance_on_a_quick_run():
    import digits_ga
    results = digits_ga.run(digits_ga.quick_config(digits_ga.load_config()), seed=7)
    # 8 generations of 16 genotypes (3 outputs per class): far above chance (0.1)
    assert results["validation"] > 0.3 and results["test"] > 0.3, results
    # the chosen genotype decodes to weights whose templates are training images of the class
    weights = results["ga"].weights(results["genotype"])
    assert weights.shape == (64, 30)
    np.testing.assert_allclose(weights.sum(axis=0) / 40.0,
                               [results["genotype"][f"gain_{k:03d}"] for k in range(30)])


def test_ga_route_refuses_a_batch_that_is_not_the_population():
    import digits_ga
    config = digits_ga.quick_config(digits_ga.load_config())
    config["ga"]["population_size"] = 20
    with pytest.raises(ConfigError, match="batch_size = 16 but ga.population_size = 20"):
        digits_ga.run(config, seed=0)


@pytest.mark.slow
def test_ga_route_reaches_75_percent_on_fresh_seeds():
    import digits_ga
    config = digits_ga.load_config()
    tests = [digits_ga.run(config, seed)["test"] for seed in (1000, 1001, 1002)]
    assert min(tests) >= 0.75, tests


def _paired_config(excitatory=6):
    import digits_stdp
    config = digits_stdp.load_config()
    config["route"]["interneurons"] = "paired"
    config["network"]["network"]["batch_size"] = 1
    return digits_stdp.resize(config, excitatory=excitatory)


def test_paired_interneurons_are_diehl_and_cook_s_wiring():
    import digits_stdp
    config = _paired_config()
    assert config["network"]["neurons"]["n_neurons"] == 12
    np.testing.assert_array_equal(digits_stdp.excitatory_neurons(config), [0, 2, 4, 6, 8, 10])
    network = digits_stdp.build_network(config, seed=0)
    W, M = network.weights.matrix[0], network.weights.mask[0]
    E, I = np.arange(0, 12, 2), np.arange(1, 12, 2)
    # excitatory neuron 2k excites its own interneuron 2k + 1 and no other
    np.testing.assert_array_equal(W[64 + E][:, I] > 0, np.eye(6, dtype=bool))
    # interneuron 2k + 1 inhibits every excitatory neuron but 2k
    np.testing.assert_array_equal(W[64 + I][:, E] > 0, ~np.eye(6, dtype=bool))
    # interneurons see no pixel, and learning may not grow such synapses
    assert not W[:64, I].any() and not M[:64, I].any() and M[:64, E].all()
    network.train()
    present(network, load_digits().train.x[:20])
    W = network.weights.matrix[0]
    assert not W[:64, I].any()
    # FreezeWeights restores the lateral block at each tick's start: the rewiring holds
    np.testing.assert_array_equal(W[64 + E][:, I] > 0, np.eye(6, dtype=bool))
    np.testing.assert_array_equal(W[64 + I][:, E] > 0, ~np.eye(6, dtype=bool))


def test_unknown_interneuron_layout_is_named():
    import digits_stdp
    config = digits_stdp.load_config()
    config["route"]["interneurons"] = "each"
    with pytest.raises(ValueError, match="route.interneurons = 'each'; expected 'paired'"):
        digits_stdp.build_network(config, seed=0)


def test_shared_kernel_rstdp_config_keeps_its_kernels_shared_and_beats_chance():
    # examples/configs/digits_rstdp_conv.yaml: 8 maps of 3 x 3 kernels shared by all 36
    # windows (ReceptiveField shared: true + ShareWeights), MSTDP on kernels and outputs
    import digits_rstdp
    config = digits_rstdp.load_config(digits_rstdp.digits_common.CONFIGS / "digits_rstdp_conv.yaml")
    assert config["network"]["weights"]["shared"] is True
    from spikey.training.config import check_config
    assert check_config(config)["game"]["id"] == "spikey/Digits-v0"   # a `spikey train` config
    results = digits_rstdp.run(digits_rstdp.quick_config(config), seed=7, eval_repeats=4,
                               splits=("validation",))
    weights = results["network"].weights
    # every window of a map carries its map's kernel (the scoring ticks start with a tie;
    # cells differ between windows by rounding only), and the maps differ from each other
    values, _ = weights._window_weights()                 # (B, maps, windows, cells)
    assert values.shape == (2, 8, 36, 9)
    np.testing.assert_allclose(values, np.broadcast_to(values[:, :, :1], values.shape), atol=1e-5)
    kernels = weights.kernels()
    assert kernels.shape == (2, 8, 3, 3) and np.ptp(kernels, axis=1).max() > 0.5
    # 600 rewarded digits: both members above chance (0.1)
    assert np.all(results["validation"] > 0.2), results["validation"]
