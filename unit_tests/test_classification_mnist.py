"""The MNIST code path of the unsupervised digits route, on a small synthetic IDX fixture.

MNIST itself is never downloaded in tests (and this machine is offline): the fixture writes
the four gzipped IDX files of MNIST's image shape (28 x 28 bytes) with ten easy classes (a
bright square at a class-specific place), and the route loads them through the same
``load_mnist`` path real files take (SHA-256 check, split, float32 scaling).
"""

import os
import sys

import numpy as np
import pytest

from spikey.datasets import DatasetFileError, load_mnist, write_idx
from spikey.datasets.idx import FILES, sha256

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


def _square_images(n, rng):
    """``n`` 28 x 28 byte images, class ``i % 10``: a 7 x 7 square of 255 at a place of its
    own (a 4 x 3 grid of places, ten used) over noise of 0..15."""
    labels = np.arange(n) % 10
    images = rng.integers(0, 16, (n, 28, 28))
    for i, c in enumerate(labels):
        row, col = divmod(int(c), 4)
        images[i, 2 + 9 * row:9 + 9 * row, 1 + 7 * col:8 + 7 * col] = 255
    return images, labels


@pytest.fixture
def mnist_folder(tmp_path):
    rng = np.random.default_rng(0)
    train_images, train_labels = _square_images(120, rng)
    test_images, test_labels = _square_images(40, rng)
    arrays = {"train_images": train_images, "train_labels": train_labels,
              "test_images": test_images, "test_labels": test_labels}
    for role, file in FILES.items():
        write_idx(tmp_path / file, arrays[role])
    return tmp_path, {file: sha256(tmp_path / file) for file in FILES.values()}


def test_unsupervised_route_runs_on_mnist_files_and_beats_chance(mnist_folder):
    import digits_stdp
    folder, sums = mnist_folder
    data = load_mnist(folder, checksums=sums)
    assert data.n_features == 784 and (len(data.train), len(data.validation)) == (100, 20)
    config = digits_stdp.adapt(digits_stdp.quick_config(digits_stdp.load_config()), data,
                               neurons=20)
    net = config["network"]
    assert net["inputs"]["n_pixels"] == 784 and net["neurons"]["n_neurons"] == 40
    decay = next(m for m in net["modifiers"] if m["part"] == "LinearDecay")
    assert decay["ticks"] == 2 * 100  # 2 quick epochs of the 100 training images
    results = digits_stdp.run(config, seed=3, data=data, verbose=False)
    assert results["network"].n_inputs == 784 and results["assignments"].shape == (2, 20)
    # ten easy classes: both members far above chance (0.1) on validation and test
    assert np.all(results["validation"] >= 0.5) and np.all(results["test"] >= 0.5), results


def test_route_command_line_names_a_missing_folder_or_file(tmp_path, mnist_folder):
    import digits_stdp
    with pytest.raises(DatasetFileError, match=r"load_mnist: folder .*nowhere does not exist"):
        digits_stdp.main(["--dataset", "mnist", "--data-folder", str(tmp_path / "nowhere"),
                          "--quick"])
    folder, _ = mnist_folder
    (folder / FILES["test_labels"]).unlink()
    with pytest.raises(DatasetFileError, match="lacks t10k-labels-idx1-ubyte.gz"):
        digits_stdp.main(["--dataset", "mnist", "--data-folder", str(folder), "--quick"])


def test_route_command_line_refuses_files_that_are_not_the_published_mnist(mnist_folder):
    import digits_stdp
    folder, _ = mnist_folder
    # valid IDX files, but not the published ones: the published SHA-256 sums reject them
    with pytest.raises(DatasetFileError, match=r"train-images-idx3-ubyte.gz is corrupt or not "
                                               r"the published file: SHA-256"):
        digits_stdp.main(["--dataset", "mnist", "--data-folder", str(folder), "--quick"])


def test_route_command_line_refuses_a_folder_for_the_bundled_digits(tmp_path):
    import digits_stdp
    with pytest.raises(ValueError, match="given for the digits, which ship with scikit-learn"):
        digits_stdp.main(["--data-folder", str(tmp_path), "--quick"])


def test_resize_moves_every_size_dependent_key_and_refuses_bad_sizes():
    import digits_stdp
    config = digits_stdp.load_config()
    big = digits_stdp.resize(config, n_pixels=784, excitatory=100, train_samples=50000)
    net = big["network"]
    # one interneuron per excitatory neuron (the odd ones)
    assert net["neurons"]["n_neurons"] == net["readout"]["n_outputs"] == 200
    assert net["neurons"]["inhibitory_fraction"] == net["weights"]["inhibitory_fraction"] == 0.5
    parts = {m["part"]: m for m in net["modifiers"]}
    assert parts["NormalizeWeights"]["rows"] == [0, 784]
    assert parts["NormalizeWeights"]["target"] == pytest.approx(20.0 * 784 / 64)
    assert parts["FreezeWeights"]["rows"] == [784, 984]
    # the same spikes per sample over 100 neurons as over 400: four times the rate each
    assert parts["HomeostaticThreshold"]["target_rate"] == pytest.approx(1.0)
    assert parts["LinearDecay"]["ticks"] == config["route"]["epochs"] * 50000
    assert big["route"]["excitatory"] == 100
    assert config["network"]["inputs"]["n_pixels"] == 64  # the given config is untouched
    # the shipped config is consistent: resizing it to its own sizes changes nothing
    assert digits_stdp.resize(config) == config
    # one interneuron for all: the last neuron
    config["route"]["interneurons"] = "shared"
    shared = digits_stdp.resize(config, excitatory=100)["network"]
    assert shared["neurons"]["n_neurons"] == 101
    assert round(101 * shared["neurons"]["inhibitory_fraction"]) == 1
    assert {m["part"]: m for m in shared["modifiers"]}["FreezeWeights"]["rows"] == [64, 165]
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match=rf"resize: excitatory = {bad!r}; expected an "
                                             "integer >= 1"):
            digits_stdp.resize(config, excitatory=bad)


def test_route_command_line_sets_passes_presentations_and_members(monkeypatch):
    """--epochs, --eval-repeats and --members reach the config the route runs (so the MNIST
    rows of the README rerun as stated); values below 1 are refused naming the option."""
    import digits_stdp
    seen = {}

    def fake_run(config, seed, data):
        seen.update(config=config, seed=seed)
        raise SystemExit(0)
    monkeypatch.setattr(digits_stdp, "run", fake_run)
    with pytest.raises(SystemExit):
        digits_stdp.main(["--epochs", "1", "--eval-repeats", "3", "--members", "1",
                          "--seed", "7"])
    assert seen["seed"] == 7
    assert seen["config"]["route"]["epochs"] == 1
    assert seen["config"]["route"]["eval_repeats"] == 3
    assert seen["config"]["network"]["network"]["batch_size"] == 1
    for option in ("--epochs", "--eval-repeats", "--members"):
        with pytest.raises(SystemExit):
            digits_stdp.main([option, "0"])
