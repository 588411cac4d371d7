"""Labelling and scoring without per-sample counts, and images kept as bytes (issue 17's memory
target: the 400-neuron route on MNIST in <= 500 MB).

``label_neurons`` / ``answer`` must give exactly what ``assign_labels(present(...))`` /
``vote(present(...))`` give (the same spikes: the samples are shown in the same order, a chunk
at a time), and ``ByteImages`` rows must be exactly the float32 values the default loader holds.
"""

import os
import sys

import numpy as np
import pytest

from spikey.datasets import (ByteImages, answer, assign_labels, class_totals, label_neurons,
                             labels_from_totals, load_digits, load_mnist, present, vote,
                             write_idx)
from spikey.datasets.idx import FILES, sha256

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


def _route_network(seed=3):
    """The unsupervised route's quick network (50 excitatory neurons, Poisson inputs), eval."""
    import digits_stdp
    config = digits_stdp.quick_config(digits_stdp.load_config())
    return digits_stdp.build_network(config, seed).eval(), digits_stdp.excitatory_neurons(config)


def test_streamed_labels_and_answers_equal_the_whole_count_arrays():
    data = load_digits()
    x, y = data.train.x[:23], data.train.y[:23]
    first, excitatory = _route_network()
    second, _ = _route_network()
    whole = assign_labels(present(first, x, 2, neurons=excitatory), y, 10)
    # chunks of 4 images (the last one 3): only (B, 10, K) totals kept, the same spikes
    streamed = label_neurons(second, x, y, 10, 2, neurons=excitatory, chunk=4)
    np.testing.assert_array_equal(streamed, whole)
    assert (whole >= 0).sum() > 10  # most neurons fired and were labelled
    test = data.validation.x[:11]
    np.testing.assert_array_equal(
        answer(second, test, whole, 10, 2, neurons=excitatory, chunk=5),
        vote(present(first, test, 2, neurons=excitatory), whole, 10))


def test_class_totals_sum_per_class_and_label_like_the_means():
    counts = np.array([[[5, 0, 1], [3, 0, 0], [0, 4, 0], [0, 0, 2]]])
    labels = np.array([0, 0, 1, 2])
    totals = class_totals(counts, labels, 4)
    np.testing.assert_array_equal(totals[0], [[8, 0, 1], [0, 4, 0], [0, 0, 2], [0, 0, 0]])
    # class 3 has no samples: its mean is 0, never a division by zero
    np.testing.assert_array_equal(labels_from_totals(totals, [2, 1, 1, 0]), [[0, 1, 2]])
    # neuron 2: class 0 mean 1/2 against class 2's 2 -> class 2, as assign_labels says
    np.testing.assert_array_equal(assign_labels(counts, labels, 4), [[0, 1, 2]])
    with pytest.raises(ValueError, match=r"class_totals: labels hold 0\.\.2; expected 0\.\.1 "
                                         r"for n_classes = 2"):
        class_totals(counts, labels, 2)
    with pytest.raises(ValueError, match=r"class_totals: counts \(1, 4, 3\) and labels \(3,\)"):
        class_totals(counts, labels[:3], 3)
    with pytest.raises(ValueError, match=r"labels_from_totals: totals \(1, 4, 3\) and sizes "
                                         r"\(3,\); expected"):
        labels_from_totals(totals, [1, 1, 1])


def test_streaming_refuses_bad_chunks_and_mismatched_labels():
    net, excitatory = _route_network()
    x = load_digits().train.x[:4]
    with pytest.raises(ValueError, match=r"chunk = 0; expected an integer >= 1"):
        label_neurons(net, x, np.zeros(4, dtype=int), 10, chunk=0)
    with pytest.raises(ValueError, match=r"label_neurons: 4 samples but labels of shape \(3,\)"):
        label_neurons(net, x, np.zeros(3, dtype=int), 10)
    with pytest.raises(ValueError, match="label_neurons: no samples to label from"):
        label_neurons(net, x[:0], np.zeros(0, dtype=int), 10)
    assert answer(net, x[:0], np.zeros((2, 50), dtype=int), 10).shape == (2, 0)


def test_byte_images_read_as_the_float32_loader_holds_them(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {"train_images": rng.integers(0, 256, (60, 4, 3)),
              "train_labels": np.arange(60) % 10,
              "test_images": rng.integers(0, 256, (20, 4, 3)),
              "test_labels": np.arange(20) % 10}
    for role, file in FILES.items():
        write_idx(tmp_path / file, arrays[role])
    sums = {file: sha256(tmp_path / file) for file in FILES.values()}
    plain = load_mnist(tmp_path, checksums=sums)
    compact = load_mnist(tmp_path, checksums=sums, compact=True)
    for name in ("train", "validation", "test"):
        x, bytes_ = plain.split(name).x, compact.split(name).x
        assert isinstance(bytes_, ByteImages) and bytes_.shape == x.shape
        assert bytes_.nbytes * 4 == x.nbytes  # one byte a pixel, not four
        np.testing.assert_array_equal(np.asarray(bytes_), x)      # bit for bit
        np.testing.assert_array_equal(bytes_[[3, 0]], x[[3, 0]])
        assert bytes_[2].dtype == np.float32 and np.array_equal(bytes_[2], x[2])
        np.testing.assert_array_equal(compact.split(name).y, plain.split(name).y)
    view = compact.train.x[5:9]                      # a slice is a view of the bytes
    assert isinstance(view, ByteImages) and np.shares_memory(view.raw, compact.train.x.raw)
    np.testing.assert_array_equal(np.asarray(view), plain.train.x[5:9])
    wide = load_mnist(tmp_path, checksums=sums, dtype=np.float64, compact=True)
    np.testing.assert_array_equal(wide.test.x[1], arrays["test_images"][1].reshape(-1) / 255.0)
    with pytest.raises(ValueError, match=r"load_mnist: compact = 'yes'; expected True"):
        load_mnist(tmp_path, checksums=sums, compact="yes")
    with pytest.raises(ValueError, match=r"ByteImages: raw is float64 of shape \(2, 3\); "
                                         r"expected uint8 of shape \(n, n_features\)"):
        ByteImages(np.zeros((2, 3)))


def test_present_shows_byte_images_as_their_floats():
    net_a, excitatory = _route_network(seed=8)
    net_b, _ = _route_network(seed=8)
    raw = (load_digits().train.x[:6] * 16).round().astype(np.uint8)   # 0..16 as bytes
    images = ByteImages(raw, np.float64, scale=16.0)
    floats = raw / 16.0
    np.testing.assert_array_equal(present(net_a, images, neurons=excitatory, order=[5, 1, 1]),
                                  present(net_b, floats, neurons=excitatory, order=[5, 1, 1]))


def test_train_samples_option_is_checked(capsys):
    import digits_stdp
    with pytest.raises(SystemExit):
        digits_stdp.main(["--dataset", "mnist", "--data-folder", "nowhere", "--train-samples", "0"])
    assert "--train-samples = 0; expected an integer >= 1" in capsys.readouterr().err
