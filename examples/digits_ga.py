"""A genetic algorithm over a spiking network's weights on 8x8 digits (batched evaluation).

The network: 64 pixel inputs (``PixelRate``, regular spike trains) -> 200 LIF outputs, 20
per class; the answer is the group with the most spikes. The genome encodes the weights
indirectly: for each output neuron an integer gene picks one training image of the neuron's
class as its pixel weights (scaled to ``weight_total`` mV) and a float gene scales them by a
gain. ``spikey.meta.Population`` breeds the genotypes; each generation is evaluated as one
network batch, member ``b`` carrying genotype ``b``. Fitness is the mean softmax probability
of the right class from the group spike counts on the first 400 training digits. At the end
the five fittest genotypes are compared on the validation split and the best is scored once
on the test split.

(A genome of raw weights, 640 of them for one neuron per class, evolved far too slowly:
640 float genes reached 0.22 validation accuracy after 200 generations of 40. The outputs'
threshold is 32 mV: at 16 mV a 40 mV template drove every output over threshold, so each
group's count summed its poor matches too; random templates scored 0.71 on validation at
16 mV and 0.84 at 24-64 mV, and the evolved networks 0.75-0.80 on test at 16 mV, 0.85-0.89
at 32 mV.)

    python examples/digits_ga.py                # seeds 0-4, about 5 minutes each on 2 busy cores
    python examples/digits_ga.py --seeds 100    # one seed
    python examples/digits_ga.py --seeds 1900-1909   # ten seeds, one after another
    python examples/digits_ga.py --quick        # a small run (seconds)
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np

import digits_common
import spikey
from spikey.core.seeds import seed_range
from spikey.datasets import accuracy, group_predictions, load_digits, present
from spikey.meta import Population

CONFIG = digits_common.CONFIGS / "digits_ga.yaml"


def load_config(path=CONFIG) -> dict:
    """The route's config (``network``, ``ga`` and ``route`` sections)."""
    return digits_common.load_config(path)


def quick_config(config: dict) -> dict:
    """A small version for tests and --quick: 16 genotypes, 8 generations, 3 outputs per class."""
    config = copy.deepcopy(config)
    net = config["network"]
    net["network"]["batch_size"] = 16
    net["neurons"]["n_neurons"] = 30
    net["weights"]["layers"] = [30]
    net["readout"]["n_outputs"] = 30
    config["ga"]["population_size"] = 16
    config["route"].update(generations=8, fitness_samples=100, finalists=3, eval_repeats=2)
    return config


class DigitsGA:
    """The genome, its decoding into weights, and the batched fitness.

    Parameters
    ----------
    config : dict
        The route's config.
    data : spikey.datasets.Dataset
        The digits.
    seed : int
        Seed of the GA and of the network.
    """

    def __init__(self, config, data, seed):
        self.config, self.data, self.route = config, data, config["route"]
        net_config = copy.deepcopy(config["network"])
        net_config["network"]["seed"] = seed
        if net_config["network"]["batch_size"] != config["ga"]["population_size"]:
            raise spikey.ConfigError(
                f"network.network.batch_size = {net_config['network']['batch_size']} but "
                f"ga.population_size = {config['ga']['population_size']}; they must be equal "
                "(one network member per genotype)")
        self.network = spikey.Network.from_config(net_config).eval()
        self.n_out = self.network.n_outputs
        self.per_class = self.n_out // data.n_classes
        self.pool = [np.flatnonzero(data.train.y == c) for c in range(data.n_classes)]
        low, high = self.route["gain"]
        self.genes = {}
        for k in range(self.n_out):
            self.genes[f"template_{k:03d}"] = {"int": [0, len(self.pool[k // self.per_class]) - 1]}
            self.genes[f"gain_{k:03d}"] = {"float": [low, high]}
        n = self.route["fitness_samples"]
        self.x, self.y = data.train.x[:n], data.train.y[:n]
        self.population = Population(self.genes, self.fitness, {**config["ga"], "seed": seed})

    def weights(self, genotype) -> np.ndarray:
        """``(n_pixels, n_outputs)`` weights of a genotype (mV)."""
        W = np.empty((self.data.n_features, self.n_out))
        for k in range(self.n_out):
            image = self.data.train.x[self.pool[k // self.per_class][genotype[f"template_{k:03d}"]]]
            W[:, k] = image / image.sum() * self.route["weight_total"] * genotype[f"gain_{k:03d}"]
        return W

    def _load(self, genotypes):
        B = self.network.batch_size
        for b, genotype in enumerate(genotypes[:B]):
            self.network.weights.matrix[b, :self.data.n_features, :] = self.weights(genotype)

    def fitness(self, genotypes) -> list:
        """Mean softmax probability of the right class, one value per genotype (batched)."""
        B, out = self.network.batch_size, []
        for start in range(0, len(genotypes), B):
            chunk = genotypes[start:start + B]
            self._load(chunk)
            counts = present(self.network, self.x)
            groups = counts.reshape(B, len(self.y), self.data.n_classes, self.per_class)
            groups = groups.sum(axis=3).astype(np.float64)
            z = np.exp(groups - groups.max(axis=2, keepdims=True))
            p = z / z.sum(axis=2, keepdims=True)
            out += p[:, np.arange(len(self.y)), self.y].mean(axis=1)[:len(chunk)].tolist()
        return out

    def answers(self, genotypes, split) -> np.ndarray:
        """``(len(genotypes), n)`` answers of each genotype on a split."""
        self._load(genotypes)
        part = self.data.split(split)
        counts = present(self.network, part.x, self.route["eval_repeats"])
        return group_predictions(counts, self.data.n_classes)[:len(genotypes)]


def run(config: dict, seed: int | None = None, data=None, splits=("validation", "test")) -> dict:
    """Evolve, choose on validation, score on test (one seed).

    ``splits=("validation",)`` leaves the test split unread (for choosing settings).

    Returns
    -------
    dict
        ``seed``, ``fitness`` (best of the last generation), ``validation`` and ``test``
        accuracy of the chosen genotype, ``seconds``, the ``ga`` object, ``genotype`` and
        ``test_answers``.
    """
    start = time.perf_counter()
    data = load_digits() if data is None else data
    seed = config["route"]["seed"] if seed is None else seed
    ga = DigitsGA(config, data, seed)
    ga.population.run(config["route"]["generations"], progress=False)
    # the last evaluated generation (run() has already bred the next one)
    rows = [r for r in ga.population.rows if r["generation"] == ga.population.rows[-1]["generation"]]
    finalists = sorted(rows, key=lambda r: -r["fitness"])[:config["route"]["finalists"]]
    genotypes = [{name: r[name] for name in ga.genes} for r in finalists]
    validation = accuracy(ga.answers(genotypes, "validation"), data.validation.y)
    choice = int(np.argmax(validation))
    out = {"seed": seed, "fitness": finalists[0]["fitness"], "validation": float(validation[choice]),
           "ga": ga, "genotype": genotypes[choice]}
    if "test" in splits:
        out["test_answers"] = ga.answers([genotypes[choice]], "test")[0]
        out["test"] = accuracy(out["test_answers"], data.test.y)
    out["seconds"] = time.perf_counter() - start
    return out


def main(argv=None):
    """``python examples/digits_ga.py [--seeds S A-B ...] [--quick]``.

    ``--seeds`` lists seeds and inclusive ranges (``1900-1909``); each seed runs on its own.
    """
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--seeds", type=seed_range, nargs="+", default=None)
    known, rest = pre.parse_known_args(argv)
    if known.seeds is not None:
        seeds = [seed for item in known.seeds for seed in item]
        if len(set(seeds)) < len(seeds):
            pre.error(f"--seeds names a seed twice: {seeds}")
        rest = rest + ["--seeds"] + [str(seed) for seed in seeds]
    return digits_common.main(__doc__, CONFIG, quick_config, run, "GA over weights on digits",
                              argv=rest, batched=False)


if __name__ == "__main__":
    main()
