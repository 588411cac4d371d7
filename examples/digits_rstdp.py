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

import argparse
import copy
import pathlib
import time

import numpy as np
import yaml

from spikey.datasets import accuracy, confusion_matrix, group_predictions, load_digits, present
from spikey.training import train

CONFIG = pathlib.Path(__file__).resolve().parent / "configs" / "digits_rstdp.yaml"
#: Ticks (of 50 ms) each validation or test digit is shown for when scoring.
EVAL_REPEATS = 10


def load_config(path=CONFIG) -> dict:
    """The experiment config (network, game, training)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def quick_config(config: dict) -> dict:
    """A small version for tests and --quick: 2 seeds, 2 episodes of 300 digits."""
    config = copy.deepcopy(config)
    config["network"]["network"]["batch_size"] = 2
    config["game"]["kwargs"]["n_presentations"] = 300
    config["training"].update(episodes=2, max_ticks=300)
    return config


def run(config: dict, seed: int | None = None, data=None, eval_repeats: int = EVAL_REPEATS,
        run_dir=None) -> dict:
    """Train (one member per seed), then answer the validation and test splits.

    Returns
    -------
    dict
        ``seeds``, ``validation`` and ``test`` accuracies ``(B,)``, ``train_seconds``,
        ``total_seconds``, the ``network`` and the ``test_answers`` ``(B, n_test)``.
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
    for split in ("validation", "test"):
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spikey.datasets.plots import plot_confusion, plot_receptive_fields

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = results["network"]
    n_out = network.n_outputs
    per_class = n_out // data.n_classes
    weights = network.weights.matrix[0, :network.n_inputs, network.n_neurons - n_out:]
    fig = plot_receptive_fields(weights, data.image_shape, np.arange(n_out) // per_class,
                                data.class_names, n_columns=per_class * 5,
                                title=f"Reward-modulated STDP, seed {results['seeds'][0]}: "
                                      "pixel weights of each output")
    paths = [folder / "digits_rstdp_fields.png"]
    fig.savefig(paths[-1], dpi=110)
    ax = plot_confusion(confusion_matrix(results["test_answers"][0], data.test.y, data.n_classes),
                        data.class_names,
                        title=f"Reward-modulated STDP, seed {results['seeds'][0]}, test split")
    paths.append(folder / "digits_rstdp_confusion.png")
    ax.figure.savefig(paths[-1], dpi=110)
    plt.close("all")
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--seed", type=int, default=None, help="seed of member 0 (default: config)")
    parser.add_argument("--quick", action="store_true", help="a small run for a smoke test")
    parser.add_argument("--figures", default=None, help="folder for the PNG figures")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.quick:
        config = quick_config(config)
    data = load_digits()
    results = run(config, args.seed, data)
    print(f"reward-modulated STDP on digits: {len(results['seeds'])} seeds, trained in "
          f"{results['train_seconds']:.1f} s, total {results['total_seconds']:.1f} s")
    for b, s in enumerate(results["seeds"]):
        print(f"  seed {s}: validation {results['validation'][b]:.3f}  test {results['test'][b]:.3f}")
    print(f"  test mean {results['test'].mean():.3f} (min {results['test'].min():.3f})")
    if args.figures:
        for path in figures(results, data, args.figures):
            print(f"  wrote {path}")
    return results


if __name__ == "__main__":
    main()
