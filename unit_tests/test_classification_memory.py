"""Memory target of issue 17: the 400-neuron Diehl & Cook network on MNIST in <= 500 MB.

MNIST is not downloaded in tests: benchmarks/bench_classification.py writes synthetic IDX files
of MNIST's shapes (60,000 + 10,000 images of 28 x 28 bytes) and a fresh process loads them
through ``load_mnist`` (checksums, split, float32 scaling), builds the route's network with
784 inputs and 400 excitatory neurons (each with its own interneuron), trains and labels on a few hundred images, and reports its
own peak resident memory.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))


@pytest.mark.slow
def test_mnist_shaped_diehl_cook_network_peaks_under_500_mb():
    import bench_classification
    report = bench_classification.mnist_memory(train_samples=100, label_samples=100)
    # the three splits as float32: (50,000 + 10,000 + 10,000) x 784 x 4 bytes + int64 labels
    assert report["dataset_bytes"] == 70000 * 784 * 4 + 70000 * 8
    assert report["peak_rss_mib"] * 2**20 <= 500e6, report
