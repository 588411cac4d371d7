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
    python examples/digits_rstdp.py --seeds 1900-1909   # batches 1900-1904, 1905-1909
    python examples/digits_rstdp.py --quick         # a small run (seconds)
    python examples/digits_rstdp.py --figures out/  # receptive fields, confusion matrix
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np

import digits_common
from spikey.core.seeds import seed_range
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


#: Batches of consecutive seeds, at most the config's ``network.network.batch_size`` long; member
#: ``b`` of a batch starting at ``s`` is seeded ``s + b`` and trains on its own, so ``--seeds
#: 1900-1909`` gives the same numbers as ``--seed 1900`` and ``--seed 1905`` with 5 members each.
seed_batches = digits_common.seed_batches


def run_seeds(config: dict, seeds, data=None, eval_repeats: int = EVAL_REPEATS) -> dict:
    """:func:`run` over any seed list, as batches of consecutive seeds (see
    :func:`seed_batches`).

    Parameters
    ----------
    config : dict
        The experiment config; its batch size caps each batch.
    seeds : list of int
        Distinct seeds.
    data : spikey.datasets.Dataset, optional
        The digits (loaded if omitted).
    eval_repeats : int
        Ticks each validation or test digit is shown for.

    Returns
    -------
    dict
        As :func:`run`, the per-member arrays joined over the batches in seed order;
        ``network`` is the first batch's, the seconds are summed.
    """
    data = load_digits() if data is None else data
    parts = []
    for batch in seed_batches(list(seeds), config["network"]["network"]["batch_size"]):
        part = copy.deepcopy(config)
        part["network"]["network"]["batch_size"] = len(batch)
        parts.append(run(part, batch[0], data, eval_repeats))
    out = {"network": parts[0]["network"],
           "seeds": [s for part in parts for s in part["seeds"]]}
    for key in ("train_seconds", "total_seconds"):
        out[key] = sum(part[key] for part in parts)
    for split in ("validation", "test"):
        out[split] = np.concatenate([part[split] for part in parts])
        out[f"{split}_answers"] = np.concatenate([part[f"{split}_answers"] for part in parts])
    return out


def main(argv=None):
    """``python examples/digits_rstdp.py [--seed S | --seeds S A-B ...] [--quick]
    [--figures DIR]``.

    ``--seed S`` trains the config's batch (seeds ``S`` to ``S + batch_size - 1``);
    ``--seeds`` lists seeds and inclusive ranges, run as batches of consecutive seeds.
    """
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--seeds", type=seed_range, nargs="+", default=None)
    known, rest = pre.parse_known_args(argv)
    route = run
    if known.seeds is not None:
        if any(arg == "--seed" or arg.startswith("--seed=") for arg in rest):
            pre.error("give either --seed (member 0 of one batch) or --seeds, not both")
        seeds = [seed for item in known.seeds for seed in item]
        try:
            seed_batches(seeds, 1)
        except ValueError as error:
            pre.error(str(error))

        def route(config, seed, data):
            return run_seeds(config, seeds, data)
    return digits_common.main(__doc__, CONFIG, quick_config, route,
                              "reward-modulated STDP on digits", figures, rest)


if __name__ == "__main__":
    main()
