"""Rate-coded XOR (Florian 2007) over seeds: the silent-pattern failure and its fix.

At the paper's learning rate (0.625 mV) a few early presentations decide the
hidden layer: an early run of one rewarded XOR-true pattern makes its input
group drive the hidden neurons while punished 11s turn the other group into
their "not" input, until no hidden neuron fires for the other pattern; without
hidden spikes there is no eligibility, so the output stays silent for that
pattern for good (accuracy 0.75). The examples use 0.2.
Accuracy counts a pattern XOR-true when the output fires above the fixed
100 Hz threshold, on fresh presentations with plasticity frozen.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import spikey  # noqa: E402
from florian_xor import evaluate, train, xor_config  # noqa: E402

PRESENTATIONS = 800


def _accuracy(first_seed, n_seeds, learning_rate, repeats=10):
    config = xor_config(batch_size=n_seeds, seed=first_seed, learning_rate=learning_rate)
    network = spikey.Network.from_config(config)
    train(network, presentations=PRESENTATIONS, seed=first_seed)
    return evaluate(network, repeats=repeats)


def test_papers_rate_silences_pattern_10_on_seed_1002_and_0_2_learns_it():
    old = _accuracy(1002, 1, 0.625, repeats=4)
    # The failure: pattern 10 (index 2) silent, 01 learned, so 3 of 4 patterns right.
    assert old["rates"][0, 2] < 2.0, old["rates"]
    assert old["rates"][0, 1] > 150.0, old["rates"]
    assert old["accuracy"][0] == 0.75
    new = _accuracy(1002, 1, 0.2, repeats=4)
    assert new["accuracy"][0] == 1.0, new["rates"]
    assert new["rates"][0, 2] > 100.0, new["rates"]


@pytest.mark.slow
@pytest.mark.parametrize("first_seed", [1000, 5000])
def test_xor_accuracy_one_in_19_of_20_seeds(first_seed):
    # 1000-1019 are development seeds (the paper's 0.625 reaches 1.0 in 16 of them:
    # 1002 silent on 10, 1004 / 1005 / 1008 at 0.975); 5000-5019 were run once, after
    # the rate was chosen (0.2: 19 of 20, seed 5005 answers 01 at 45 Hz).
    result = _accuracy(first_seed, 20, 0.2)
    assert np.sum(result["accuracy"] == 1.0) >= 19, result["accuracy"]
