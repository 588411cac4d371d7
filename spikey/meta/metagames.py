"""Metagames: fitness functions for the genetic algorithm.

A fitness is any callable ``evaluate(list_of_genotypes) -> list_of_floats``.
Two are provided: :class:`NQueens`, a classic sanity target, and
:class:`EvolveNetwork`, whose fitness is a training run of a network whose
config is the base experiment config with the genotype's paths set.

Writing your own: a function of a list of genotypes (dicts) returning one
float each; higher is better unless the GA runs with ``mode='min'``.
"""

from __future__ import annotations

import numpy as np

from spikey.training.config import check_config, set_path


class NQueens:
    """Place ``n`` queens on an ``n x n`` board, one per column; gene ``q{i}`` is column i's row.

    Fitness is the number of non-attacking pairs; a solution scores ``n(n-1)/2``
    (28 for 8 queens).
    """

    def __init__(self, n: int = 8):
        if n < 4:
            raise ValueError(f"NQueens n = {n}; expected n >= 4")
        self.n = n
        self.target = n * (n - 1) // 2

    @property
    def genes(self) -> dict:
        """The gene space: ``q0 .. q{n-1}``, each a row in ``[0, n - 1]``."""
        return {f"q{i}": {"int": [0, self.n - 1]} for i in range(self.n)}

    def score(self, genotype: dict) -> int:
        """Non-attacking pairs of queens; ``n(n-1)/2`` for a solution."""
        rows = np.array([genotype[f"q{i}"] for i in range(self.n)])
        cols = np.arange(self.n)
        i, j = np.triu_indices(self.n, k=1)
        attacking = (rows[i] == rows[j]) | (np.abs(rows[i] - rows[j]) == cols[j] - cols[i])
        return int(self.target - attacking.sum())

    def __call__(self, genotypes):
        return [self.score(g) for g in genotypes]


class EvolveNetwork:
    """Fitness of a genotype = a training run of the config it describes.

    Parameters
    ----------
    base_config : dict
        Experiment config (network, game, training); each gene name is a dotted
        path into it.
    metric : str
        A key of the run summary, e.g. ``'eval_mean_return'``.
    reruns : int
        Runs per genotype with different seeds (``training.seed`` and
        ``network.network.seed`` offset by 1000 per rerun); fitness is their mean.

    Attributes
    ----------
    chunk_size : int
        Genotypes per call that :class:`~spikey.meta.population.Population`
        hands it (1: the GA checkpoints after every training run).
    """

    chunk_size = 1

    def __init__(self, base_config: dict, metric: str = "train_mean_reward", reruns: int = 1):
        self.base_config = check_config(base_config)
        self.metric = metric
        self.reruns = reruns

    def config_for(self, genotype: dict, rerun: int = 0) -> dict:
        """The experiment config a genotype describes, for one rerun.

        Each gene name is a dotted path set to the gene's value; rerun ``k`` offsets
        both ``training.seed`` and ``network.network.seed`` by ``1000 k``. A gene
        ``training.seed`` sets the run seed, which the network seed follows; a
        gene ``network.network.seed`` is refused (``ConfigError``).
        """
        import copy

        from spikey.training.tune import refuse_network_seed

        refuse_network_seed(genotype, "genes")
        config = copy.deepcopy(self.base_config)
        for path, value in genotype.items():
            set_path(config, path, value)
        seed = config["training"]["seed"] + 1000 * rerun
        config["training"]["seed"] = seed
        config["network"]["network"]["seed"] = seed
        return config

    def fitness(self, genotype: dict) -> float:
        """Mean of ``metric`` over ``reruns`` training runs of the genotype's config.

        Raises
        ------
        KeyError
            When the run summary has no ``metric``.
        """
        from spikey.training.loop import train

        values = []
        for rerun in range(self.reruns):
            summary = train(self.config_for(genotype, rerun), progress=False).summary
            if self.metric not in summary:
                raise KeyError(f"metric {self.metric!r} not in run summary {sorted(summary)}")
            values.append(summary[self.metric])
        return float(np.mean(values))

    def __call__(self, genotypes):
        return [self.fitness(g) for g in genotypes]
