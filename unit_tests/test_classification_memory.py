"""Memory target of issue 17: the 400-neuron Diehl & Cook network on MNIST in <= 500 MB.

MNIST is not downloaded in tests: benchmarks/bench_classification.py writes synthetic IDX files
of MNIST's shapes (60,000 + 10,000 images of 28 x 28 bytes) and a fresh process loads them as
the route does (``load_mnist(compact=True)``: checksums, split, pixels kept as bytes), runs the
route (``digits_stdp.run``: 784 inputs, 400 excitatory neurons each with its own interneuron,
one pass), labels the neurons on the training images it learned from (streamed per-class
totals) and answers validation images, and reports its own peak resident memory.

The big arrays of a full-data run were the dataset as float32 (210 MiB) and the labelling
counts, one row per training image ((1, 50001, 400) int64: 153 MiB). Here the same path runs on
1,000 and on 10,000 training images (20 ms a sample: memory does not depend on it): the peak must
not grow with the images (the old per-image counts grew 3.1 kB an image: 27 MiB between the two)
and stays under 500 MB.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))


@pytest.mark.slow
def test_mnist_shaped_diehl_cook_route_peaks_under_500_mb_whatever_the_image_count():
    import bench_classification
    few = bench_classification.mnist_memory(train_samples=1000, eval_samples=500, steps=20)
    many = bench_classification.mnist_memory(train_samples=10000, eval_samples=500, steps=20)
    # the three splits as bytes: (50,000 + 10,000 + 10,000) x 784 x 1 byte + int64 labels
    # (float32 took four times the pixel bytes)
    assert few["dataset_bytes"] == many["dataset_bytes"] == 70000 * 784 + 70000 * 8
    assert many["train_samples"] == 10000 and many["eval_samples"] == 500
    for report in (few, many):
        assert report["peak_rss_mib"] * 2**20 <= 500e6, report
    # nothing is kept per image: 9,000 more images add less than 8 MiB (not 27 MiB of counts)
    assert many["peak_rss_mib"] - few["peak_rss_mib"] < 8.0, (few, many)
