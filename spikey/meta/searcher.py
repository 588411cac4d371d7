"""The genetic algorithm as a Ray Tune searcher, so Tune schedules its trials.

:class:`GASearcher` hands out one generation's genotypes (those not already
in the fitness cache) as trials, waits (``suggest`` returns ``None``) until
every trial of the generation has completed, then breeds the next one. Each
trial is :func:`ga_trial`: the fitness of
:class:`~spikey.meta.metagames.EvolveNetwork` (same seeds and reruns as the
local backend, so both backends give the same numbers), reported once under
the configured metric. Trials run anywhere Tune runs them: locally, or on a
cluster with ``address='auto'``.

With a ``checkpoint`` path the GA state (the same ``ga.json`` as the local
backend's) is saved after every completed trial, so a killed run continues
from it: genotypes already evaluated are not run again.
"""

from __future__ import annotations

import json
import os

from ray.tune.search import Searcher

from spikey.meta.population import Population, _Progress

FAILED_FITNESS = -1e300  # a failed trial is the worst possible (finite) fitness


class GASearcher(Searcher):
    """A :class:`~spikey.meta.population.Population` driven by Tune's trial events.

    Parameters
    ----------
    genes : dict
        Gene constraints (see :mod:`spikey.meta.genotype`).
    ga_config : dict or None
        Keys of :data:`spikey.meta.GA_KEYS`.
    generations : int
        Generations to evaluate in all.
    metric : str
        The reported key used as fitness.
    mode : str
        ``'max'`` or ``'min'``.
    population : Population, optional
        A population to continue (e.g. loaded from ``ga.json``) instead of a new one.
    checkpoint : str, optional
        Where to save the GA state after every completed trial.
    progress : bool or callable, optional
        As for :meth:`Population.run`.
    """

    def __init__(self, genes: dict, ga_config: dict | None, generations: int, metric: str,
                 mode: str = "max", population: Population | None = None,
                 checkpoint: str | None = None, progress=False):
        super().__init__(metric=metric, mode=mode)
        self.generations = generations
        self.population = population or Population(genes, self._lookup,
                                                   {**(ga_config or {}), "mode": mode})
        self.population.evaluate = self._lookup
        self.checkpoint = checkpoint
        self.errors: list = []
        self._trials: dict = {}
        self._report = _Progress(progress, generations)
        self._queue = self._start_generation()

    @staticmethod
    def _lookup(genotypes):
        raise RuntimeError(f"GASearcher: {len(genotypes)} genotype(s) have no trial result")

    def _start_generation(self) -> list:
        queue = self.population.pending() if not self.finished else []
        self._total = len(queue)
        if not self.finished:
            self._report.start(self.population.generation, self._total)
        return queue

    def _save(self) -> None:
        if self.checkpoint is not None:
            self.population.save(self.checkpoint)

    def _advance(self) -> None:
        """Close generations whose genotypes are all known, breeding the next."""
        while not self._queue and not self._trials and not self.finished:
            self.population.evaluate_generation()  # every fitness is in the cache
            self._report.update(self.population.generation, None, None,
                                self.population.best().fitness)
            self.population.breed()  # as the local backend does: its state continues the same
            self._save()
            self._queue = self._start_generation()
        if self.finished:
            self._report.close()

    @property
    def finished(self) -> bool:
        """Whether every generation has been evaluated."""
        return self.population.generation >= self.generations

    def suggest(self, trial_id: str):
        """The next genotype to try as a Tune trial's config.

        Parameters
        ----------
        trial_id : str
            Tune's id of the trial to be started.

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
        """Record a trial's ``metric`` as its genotype's fitness (a failed trial scores worst).

        Parameters
        ----------
        trial_id : str
            Tune's id of the finished trial.
        result : dict, optional
            Its last reported result.
        error : bool
            Whether the trial failed.
        """
        genotype = self._trials.pop(trial_id, None)
        if genotype is None:
            return
        value = FAILED_FITNESS if self.mode == "max" else -FAILED_FITNESS
        if not error and result and self.metric in result:
            value = float(result[self.metric])
        else:
            self.errors.append(genotype)
        self.population.record(genotype, value)
        done = self._total - len(self._queue) - len(self._trials)
        self._report.update(self.population.generation, done, self._total,
                            self.population.best_known())
        self._save()
        self._advance()

    def save(self, checkpoint_path: str) -> None:
        """Write the GA state (for Tune's own experiment checkpoints).

        Parameters
        ----------
        checkpoint_path : str
            File to write.
        """
        self.population.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        """Continue from a state written by :meth:`save`; unfinished trials are run again.

        Parameters
        ----------
        checkpoint_path : str
            File written by :meth:`save`.
        """
        self.population = Population.load(checkpoint_path, self._lookup)
        self._trials = {}
        self._queue = self._start_generation()

    def history(self):
        """The GA history DataFrame (see :meth:`Population.history`)."""
        return self.population.history()


def ga_trial(params: dict, base_config: dict, metric: str, reruns: int = 1) -> None:
    """One GA trial: the genotype's :class:`EvolveNetwork` fitness, reported once.

    The report carries ``metric`` (and ``fitness``), so Tune's strict metric
    check holds whatever run-summary key the GA uses.

    Parameters
    ----------
    params : dict
        The genotype (dotted config path -> value).
    base_config : dict
        Checked experiment config.
    metric : str
        Run-summary key used as fitness.
    reruns : int
        Seeds averaged per genotype.
    """
    from ray import tune

    from spikey.meta.metagames import EvolveNetwork

    value = EvolveNetwork(base_config, metric, reruns).fitness(dict(params))
    tune.report({metric: value, "fitness": value})


def evolve_on_ray(config, genes: dict, ga_config: dict | None = None, generations: int = 5,
                  metric: str = "train_mean_reward", mode: str = "max", max_concurrent: int = 2,
                  storage_path: str | None = None, name: str = "evolve", address: str | None = None,
                  reruns: int = 1, population: Population | None = None,
                  checkpoint: str | None = None, progress=False):
    """Run the GA with Ray Tune executing each generation's trials.

    Parameters
    ----------
    config : dict
        Experiment config (network, game, training).
    genes : dict
        Gene constraints by dotted config path.
    ga_config : dict, optional
        Keys of :data:`spikey.meta.GA_KEYS`.
    generations : int
        Generations to evaluate in all.
    metric : str
        Run-summary key used as fitness (e.g. ``'eval_mean_reward'``).
    mode : str
        ``'max'`` or ``'min'``.
    max_concurrent : int
        Trials run at once.
    storage_path, name : str
        Tune writes its experiment to ``storage_path/name``.
    address : str, optional
        Ray address (None: a local Ray).
    reruns : int
        Seeds averaged per genotype.
    population : Population, optional
        A population to continue (see :meth:`Population.load`).
    checkpoint : str, optional
        Where to save the GA state after every completed trial (``ga.json``).
    progress : bool or callable
        As for :meth:`Population.run`.

    Returns
    -------
    tuple
        The searcher (its ``history()`` is the GA DataFrame) and Tune's ResultGrid.

    Raises
    ------
    RuntimeError
        When every trial failed (e.g. ``metric`` is not a run-summary key).
    """
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter

    from spikey.training.config import check_config, get_path
    from spikey.training.distributed import init_ray
    from spikey.training.tune import refuse_network_seed

    config = check_config(config)
    for path in genes:
        get_path(config, path)
    refuse_network_seed(genes, "genes")
    init_ray(address)
    searcher = GASearcher(genes, ga_config, generations, metric, mode, population=population,
                          checkpoint=checkpoint, progress=progress)
    if searcher.finished:
        return searcher, None
    tuner = tune.Tuner(
        tune.with_parameters(ga_trial, base_config=config, metric=metric, reruns=reruns),
        tune_config=tune.TuneConfig(search_alg=ConcurrencyLimiter(searcher, max_concurrent),
                                    num_samples=-1, metric=metric, mode=mode),
        run_config=tune.RunConfig(name=name, verbose=0,
                                  storage_path=os.path.abspath(storage_path or "spikey_runs")),
    )
    results = tuner.fit()
    errors = [r.error for r in results if r.error is not None]
    if errors and len(errors) == len(results):
        raise RuntimeError(f"every GA trial failed ({len(errors)}); first: {errors[0]}")
    if not searcher.finished:  # Tune stopped early: interrupted (Ctrl-C, a lost driver)
        state = f"; {checkpoint} keeps every finished trial" if checkpoint else ""
        raise KeyboardInterrupt(f"evolve: Tune stopped at generation "
                                f"{searcher.population.generation + 1} of {generations}{state}; "
                                "run the same command again to resume")
    if errors:
        print(f"evolve: {len(errors)} of {len(results)} trial(s) failed and scored the worst "
              f"fitness; first: {json.dumps(searcher.errors[0], default=str)}: {errors[0]}")
    return searcher, results
