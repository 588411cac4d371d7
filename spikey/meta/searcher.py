"""The genetic algorithm as a Ray Tune searcher, so Tune schedules its trials.

:class:`GASearcher` hands out one generation's genotypes (those not already
in the fitness cache) as trials, waits (``suggest`` returns ``None``) until
every trial of the generation has completed, then breeds the next one. The
fitness of a trial is its last reported ``metric``. Trials run anywhere Tune
runs them: locally, or on a cluster with ``address='auto'``.
"""

from __future__ import annotations

import os

from ray.tune.search import Searcher

from spikey.meta.genotype import GeneSpace
from spikey.meta.population import Population

FAILED_FITNESS = -1e300  # a failed trial is the worst possible (finite) fitness


class GASearcher(Searcher):
    """A :class:`~spikey.meta.population.Population` driven by Tune's trial events."""

    def __init__(self, genes: dict, ga_config: dict | None, generations: int, metric: str,
                 mode: str = "max"):
        super().__init__(metric=metric, mode=mode)
        self.generations = generations
        self._results: dict = {}
        self.population = Population(genes, self._lookup, {**(ga_config or {}), "mode": mode})
        self._trials: dict = {}
        self._queue = self._pending()

    def _lookup(self, genotypes):
        return [self._results[GeneSpace.key(g)] for g in genotypes]

    def _pending(self) -> list:
        out, seen = [], set()
        for ind in self.population.individuals:
            key = GeneSpace.key(ind.genotype)
            if key not in self.population.cache and key not in seen:
                seen.add(key)
                out.append(dict(ind.genotype))
        return out

    def _advance(self) -> None:
        """Close generations whose genotypes are all known, breeding the next."""
        while not self._queue and not self._trials and not self.finished:
            self.population.evaluate_generation()
            if self.population.generation + 1 >= self.generations:
                self.population.generation += 1  # the last generation is evaluated
                return
            self.population.breed()
            self._queue = self._pending()

    @property
    def finished(self) -> bool:
        """Whether every generation has been evaluated."""
        return self.population.generation >= self.generations

    def suggest(self, trial_id: str):
        """The next genotype to try as a Tune trial's config.

        Returns
        -------
        dict or None or str
            A genotype; None while the generation's other trials are still running;
            ``Searcher.FINISHED`` once the last generation is evaluated.
        """
        self._advance()
        if self.finished:
            return Searcher.FINISHED
        if not self._queue:
            return None
        genotype = self._queue.pop(0)
        self._trials[trial_id] = genotype
        return dict(genotype)

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        """Record a trial's last ``metric`` as its genotype's fitness (a failed trial scores worst).
        """
        genotype = self._trials.pop(trial_id, None)
        if genotype is None:
            return
        value = FAILED_FITNESS if self.mode == "max" else -FAILED_FITNESS
        if not error and result and self.metric in result:
            value = float(result[self.metric])
        self._results[GeneSpace.key(genotype)] = value
        self._advance()

    def history(self):
        """The GA history DataFrame (see :meth:`Population.history`)."""
        return self.population.history()


def evolve_on_ray(config, genes: dict, ga_config: dict | None = None, generations: int = 5,
                  metric: str = "mean_reward", mode: str = "max", max_concurrent: int = 2,
                  storage_path: str | None = None, name: str = "evolve", address: str | None = None):
    """Run the GA with Ray Tune executing each generation's trials.

    Returns the searcher (its ``history()`` is the GA DataFrame) and Tune's ResultGrid.
    """
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter

    from spikey.training.config import check_config, get_path
    from spikey.training.distributed import init_ray
    from spikey.training.tune import refuse_network_seed, trial

    config = check_config(config)
    for path in genes:
        get_path(config, path)
    refuse_network_seed(genes, "genes")
    init_ray(address)
    searcher = GASearcher(genes, ga_config, generations, metric, mode)
    tuner = tune.Tuner(
        tune.with_parameters(trial, base_config=config),
        tune_config=tune.TuneConfig(search_alg=ConcurrencyLimiter(searcher, max_concurrent),
                                    num_samples=-1, metric=metric, mode=mode),
        run_config=tune.RunConfig(name=name, storage_path=os.path.abspath(storage_path or "spikey_runs"),
                                  verbose=0),
    )
    results = tuner.fit()
    return searcher, results
