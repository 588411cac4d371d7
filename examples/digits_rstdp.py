"""Reward-modulated STDP on 8x8 digits, one output group per class, five seeds in one batch.

Trains with Spikey's own training loop on the ``spikey/Digits-v0`` game (the same as
``spikey train examples/configs/digits_rstdp.yaml``): each digit is shown as Poisson spike
trains for 50 ms, and every output spike earns +1 when its group is the digit's class and
-1/9 otherwise (``MatchExpected`` per step). MSTDP multiplies each step's reward by that
step's STDP term; without its depression half only the neurons that just spiked learn, so
one reward per network still credits the right neuron. Then, with learning off, each digit
of the validation and test splits is shown for 500 ms and answered by the group with the
most spikes.

    python examples/digits_rstdp.py                 # seeds 0-4, ~1 minute on 2 cores
    python examples/digits_rstdp.py --seed 100      # seeds 100-104
    python examples/digits_rstdp.py --quick         # a small run (seconds)
    python examples/digits_rstdp.py --figures out/  # receptive fields, confusion matrix
"""

from __future__ import annotations

import copy
import time

import numpy as np

import digits_common
from spikey.datasets import accuracy, group_predictions, load_digits, present
from spikey.training import train

CONFIG = digits_common.CONFIGS / "digits_rstdp.yaml"
#: Ticks (of 50 ms) each validation or test digit is shown for when scoring.
EVAL_REPEATS = 10


def load_config(path=CONFIG) -> dict:
    """The experiment config (network, game, training)."""
    return digits_common.load_config(path)


def quick_config(config: dict) -> dict:
    """A small version for tests and --quick: 2 seeds, 2 episodes of 300 digits."""
    config = copy.deepcopy(config)
    config["network"]["network"]["batch_size"] = 2
    config["game"]["kwargs"]["n_presentations"] = 300
    config["training"].update(episodes=2, max_ticks=300)
    return config


def run(config: dict, seed: int | None = None, data=None, eval_repeats: int = EVAL_REPEATS,
        run_dir=None, splits=("validation", "test")) -> dict:
    """Train (one member per seed), then answer the validation and test splits.

    ``splits=("validation",)`` leaves the test split unread (for choosing settings).

    Returns
    -------
    dict
        ``seeds``, an accuracy ``(B,)`` and answers ``(B, n)`` per split in ``splits``,
        ``train_seconds``, ``total_seconds`` and the ``network``.
    """
    start = time.perf_counter()
    data = load_digits() if data is None else data
    config = copy.deepcopy(config)
    if seed is not None:
        config["training"]["seed"] = seed
    result = train(config, run_dir=run_dir, progress=False)
    network = result.network
    train_seconds = time.perf_counter() - start
    seeds = [config["training"]["seed"] + b for b in range(network.batch_size)]
    network.eval()
    out = {"seeds": seeds, "network": network, "train_seconds": train_seconds}
    n_classes = data.n_classes
    for split in splits:
        part = data.split(split)
        counts = present(network, part.x, eval_repeats,
                         neurons=slice(network.n_neurons - network.n_outputs, None))
        answers = group_predictions(counts, n_classes)
        out[split] = accuracy(answers, part.y)
        out[f"{split}_answers"] = answers
    out["total_seconds"] = time.perf_counter() - start
    return out


def figures(results: dict, data, folder) -> list:
    """Receptive fields of the outputs and the test confusion matrix of the first member."""
    network = results["network"]
    n_out = network.n_outputs
    per_class = n_out // data.n_classes
    weights = network.weights.matrix[0, :network.n_inputs, network.n_neurons - n_out:]
    title = f"Reward-modulated STDP, seed {results['seeds'][0]}"
    return digits_common.save_figures(
        folder, "digits_rstdp", title, weights, np.arange(n_out) // per_class,
        results["test_answers"][0], data, n_columns=per_class * 5,
        fields_title=f"{title}: pixel weights of each output")


def main(argv=None):
    """``python examples/digits_rstdp.py [--seed S] [--quick] [--figures DIR]``."""
    return digits_common.main(__doc__, CONFIG, quick_config, run,
                              "reward-modulated STDP on digits", figures, argv)


if __name__ == "__main__":
    main()
