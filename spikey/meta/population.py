"""A genetic algorithm over genotypes (see :mod:`spikey.meta.genotype`).

Each generation:

1. every individual without a cached fitness is evaluated (one call to the
   evaluator with all new genotypes, so a backend can batch or distribute
   them); fitness is cached by genotype;
2. the next generation is ``n_elite`` best individuals carried over unchanged
   (``origin='elite'``, age + 1, dropped once older than ``max_age``),
   ``n_immigrants`` fresh random genotypes (``'immigrant'``), and offspring:
   with probability ``crossover_rate`` a crossover of two selected parents
   followed by mutation (``'crossover'``), else a mutated copy of one parent
   (``'mutant'``). Mutation changes each gene with probability
   ``mutation_rate`` (at least one gene of a mutant).

Parents are chosen by tournament (best of ``tournament_size`` drawn at
random) or by rank (probability proportional to rank). All randomness comes
from one seeded generator, so a run is a function of its seed; the state is
checkpointed after each evaluated chunk of a generation (an evaluator's
``chunk_size``: 1 for :class:`~spikey.meta.metagames.EvolveNetwork`) and after
each generation, and a resumed run continues identically without evaluating
a genotype twice.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spikey.core.params import ConfigError, Key, validate
from spikey.meta.genotype import GeneSpace

GA_KEYS = (
    Key("population_size", "int", "Individuals per generation.", 50, range=(2, None)),
    Key("elite_fraction", "float", "Fraction of the best carried over unchanged.", 0.1,
        range=(0, 1)),
    Key("immigrant_rate", "float", "Fraction of each generation drawn fresh at random.", 0.05,
        range=(0, 1)),
    Key("crossover_rate", "float", "Probability that an offspring comes from crossover.", 0.5,
        range=(0, 1)),
    Key("crossover", "str", "Crossover operator.", "uniform", choices=("uniform", "single_point")),
    Key("mutation_rate", "float", "Per-gene mutation probability.", 0.1, range=(0, 1)),
    Key("mutation_scale", "float", "Std of a numeric mutation, as a fraction of the gene range.",
        0.1, range=(0, None)),
    Key("selection", "str", "Parent selection.", "tournament", choices=("tournament", "rank")),
    Key("tournament_size", "int", "Contestants per tournament.", 3, range=(1, None)),
    Key("max_age", "int", "Generations an elite may survive (None: forever).", None,
        range=(1, None), nullable=True),
    Key("mode", "str", "Maximise or minimise fitness.", "max", choices=("max", "min")),
    Key("seed", "int", "Seed of the algorithm's random generator.", 0, range=(0, None)),
)


@dataclass
class Individual:
    """One member of a GA population.

    Attributes
    ----------
    genotype : dict
        Gene name -> value.
    origin : str
        ``'initial'``, ``'elite'``, ``'immigrant'``, ``'crossover'`` or ``'mutant'``.
    age : int
        Generations survived as an elite.
    fitness : float or None
        None until evaluated.
    id : int
        Unique within the run (an elite keeps its id).
    parents : list of int
        Ids of the individuals it came from.
    """

    genotype: dict
    origin: str = "initial"
    age: int = 0
    fitness: float | None = None
    id: int = -1
    parents: list = field(default_factory=list)


class Population:
    """A genetic algorithm population.

    Parameters
    ----------
    genes : dict or GeneSpace
        Constraints per gene (see :mod:`spikey.meta.genotype`).
    evaluate : callable
        ``evaluate(list_of_genotypes) -> list_of_fitness``.
    config : dict
        Keys of :data:`GA_KEYS`.
    """

    def __init__(self, genes, evaluate, config: dict | None = None):
        self.space = genes if isinstance(genes, GeneSpace) else GeneSpace(genes)
        self.evaluate = evaluate
        self.config = validate(GA_KEYS, config, "ga")
        c = self.config
        self.n_elite = int(round(c["population_size"] * c["elite_fraction"]))
        self.n_immigrants = int(round(c["population_size"] * c["immigrant_rate"]))
        if self.n_elite + self.n_immigrants >= c["population_size"]:
            raise ConfigError(
                f"ga: elite_fraction ({c['elite_fraction']}) + immigrant_rate ({c['immigrant_rate']}) "
                f"leave no room for offspring in a population of {c['population_size']}; expected "
                "elites + immigrants < population_size"
            )
        if c["tournament_size"] > c["population_size"]:
            raise ConfigError(f"ga.tournament_size = {c['tournament_size']} exceeds population_size "
                              f"= {c['population_size']}")
        self.rng = np.random.default_rng(c["seed"])
        self.cache: dict = {}
        self.generation = 0
        self.rows: list = []
        self.settings = None  # what else the fitness depends on (set by spikey.meta.evolve)
        self._next_id = 0
        self.individuals = [self._new(self.space.sample(self.rng), "initial")
                            for _ in range(c["population_size"])]

    # ------------------------------------------------------------- operators
    def _new(self, genotype, origin, age=0, parents=()):
        ind = Individual(dict(genotype), origin, age, None, self._next_id, list(parents))
        self._next_id += 1
        return ind

    def _sign(self) -> float:
        return 1.0 if self.config["mode"] == "max" else -1.0

    def select(self) -> Individual:
        """One parent by tournament or rank selection."""
        pop = self.individuals
        scores = np.array([self._sign() * ind.fitness for ind in pop])
        if self.config["selection"] == "tournament":
            picks = self.rng.choice(len(pop), size=self.config["tournament_size"], replace=False)
            return pop[int(picks[np.argmax(scores[picks])])]
        order = np.argsort(scores, kind="stable")  # worst first
        ranks = np.empty(len(pop))
        ranks[order] = np.arange(1, len(pop) + 1)
        return pop[int(self.rng.choice(len(pop), p=ranks / ranks.sum()))]

    def crossover(self, a: dict, b: dict) -> dict:
        """A child genotype taking each gene from ``a`` or ``b`` (uniform or single-point)."""
        names = self.space.names
        if self.config["crossover"] == "uniform":
            take_a = self.rng.random(len(names)) < 0.5
        else:
            cut = int(self.rng.integers(1, len(names))) if len(names) > 1 else 1
            take_a = np.arange(len(names)) < cut
        return {n: (a[n] if t else b[n]) for n, t in zip(names, take_a)}

    def mutate(self, genotype: dict, at_least_one: bool = False) -> dict:
        """A copy of ``genotype``, each gene mutated with ``mutation_rate`` (>= 1 if asked)."""
        out = dict(genotype)
        hits = self.rng.random(len(self.space)) < self.config["mutation_rate"]
        if at_least_one and not hits.any():
            hits[int(self.rng.integers(len(self.space)))] = True
        for gene, hit in zip(self.space.genes, hits):
            if hit:
                out[gene.name] = gene.mutate(out[gene.name], self.rng, self.config["mutation_scale"])
        return out

    # ------------------------------------------------------------- running
    def pending(self) -> list:
        """Genotypes of the current generation whose fitness is not yet known (no repeats)."""
        todo, seen = [], set()
        for ind in self.individuals:
            key = self.space.key(ind.genotype)
            if key not in self.cache and key not in seen:
                seen.add(key)
                todo.append(dict(ind.genotype))
        return todo

    def record(self, genotype: dict, value) -> None:
        """Cache ``value`` as the fitness of ``genotype``.

        Raises
        ------
        ValueError
            When ``value`` is not a finite number.
        """
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"fitness of {genotype} is {value}; expected a finite number")
        self.cache[self.space.key(genotype)] = value

    def evaluate_generation(self, after_chunk=None) -> None:
        """Fill every individual's fitness, evaluating only genotypes not in the cache.

        The new genotypes go to the evaluator in chunks of its ``chunk_size``
        attribute (all at once when it has none), and each chunk's fitness is
        cached before the next chunk starts, so a checkpoint written between
        chunks keeps them: after an interruption only the rest is evaluated.

        Parameters
        ----------
        after_chunk : callable, optional
            ``after_chunk(evaluated, total)`` after each chunk: genotypes of this
            generation evaluated so far, and how many needed evaluating.
        """
        todo = self.pending()
        size = getattr(self.evaluate, "chunk_size", None) or max(len(todo), 1)
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            values = list(self.evaluate([dict(g) for g in chunk]))
            if len(values) != len(chunk):
                raise ValueError(f"evaluate returned {len(values)} fitness values for "
                                 f"{len(chunk)} genotypes")
            for genotype, value in zip(chunk, values):
                self.record(genotype, value)
            if after_chunk is not None:
                after_chunk(start + len(chunk), len(todo))
        for ind in self.individuals:
            ind.fitness = self.cache[self.space.key(ind.genotype)]
        for ind in self.individuals:
            self.rows.append({"generation": self.generation, "id": ind.id, "origin": ind.origin,
                              "age": ind.age, "fitness": ind.fitness, **ind.genotype})

    def breed(self) -> None:
        """Replace the population by the next generation."""
        c = self.config
        ranked = sorted(self.individuals, key=lambda i: -self._sign() * i.fitness)
        nxt = []
        for ind in ranked:
            if len(nxt) == self.n_elite:
                break
            if c["max_age"] is None or ind.age < c["max_age"]:
                nxt.append(Individual(dict(ind.genotype), "elite", ind.age + 1, None, ind.id, [ind.id]))
        for _ in range(self.n_immigrants):
            nxt.append(self._new(self.space.sample(self.rng), "immigrant"))
        while len(nxt) < c["population_size"]:
            if self.rng.random() < c["crossover_rate"]:
                a, b = self.select(), self.select()
                child = self.mutate(self.crossover(a.genotype, b.genotype))
                nxt.append(self._new(child, "crossover", parents=[a.id, b.id]))
            else:
                a = self.select()
                nxt.append(self._new(self.mutate(a.genotype, at_least_one=True), "mutant",
                                     parents=[a.id]))
        self.individuals = nxt
        self.generation += 1

    def best(self) -> Individual:
        """The fittest evaluated individual of the current generation."""
        evaluated = [i for i in self.individuals if i.fitness is not None]
        return max(evaluated, key=lambda i: self._sign() * i.fitness)

    def run(self, generations: int, target: float | None = None, checkpoint: str | None = None,
            progress=None, stop_after: int | None = None) -> Individual:
        """Evolve until ``generations`` have been evaluated or ``target`` is reached.

        With ``checkpoint`` the state is saved (atomically) after every evaluated
        chunk of a generation (see :meth:`evaluate_generation`) and after every
        generation, and a population loaded from it continues exactly where it
        stopped: genotypes already evaluated are not evaluated again.

        Parameters
        ----------
        generations : int
            Generations to evaluate in all (counting those already evaluated).
        target : float, optional
            Stop once the best fitness reaches it.
        checkpoint : str or path, optional
            Where to save the state (JSON).
        progress : bool or callable, optional
            A progress bar of the individuals evaluated within each generation
            (None: only in a terminal or notebook; False: silent), or a callable
            ``progress(generation, evaluated, total, best)`` called after every
            evaluated chunk (``best``: the best fitness known so far, or None).
        stop_after : int, optional
            Stop after this many generations of this call (for tests and tools).

        Returns
        -------
        Individual or None
            The best individual of the last evaluated generation (None when
            nothing was left to evaluate).
        """
        report = _Progress(progress, generations)
        done, best = 0, None
        try:
            while self.generation < generations:
                report.start(self.generation, len(self.pending()))

                def after_chunk(evaluated, total):
                    if checkpoint is not None:
                        self.save(checkpoint)
                    report.update(self.generation, evaluated, total, self.best_known())

                self.evaluate_generation(after_chunk)
                best = self.best()
                report.update(self.generation, None, None, best.fitness)
                if target is not None and self._sign() * (best.fitness - target) >= 0:
                    self.finished = True
                    break
                self.breed()
                done += 1
                if checkpoint is not None:
                    self.save(checkpoint)
                if stop_after is not None and done >= stop_after:
                    break
        finally:
            report.close()
        return best

    def best_known(self):
        """The best fitness in the cache (every genotype evaluated so far), or None."""
        if not self.cache:
            return None
        values = np.array(list(self.cache.values()))
        return float(values[np.argmax(self._sign() * values)])

    # ------------------------------------------------------------- analysis and state
    def history(self) -> pd.DataFrame:
        """Every individual of every evaluated generation: genes, fitness, age, origin."""
        return pd.DataFrame(self.rows)

    def state(self) -> dict:
        """The whole GA state as plain data (what :meth:`save` writes)."""
        return {
            "genes": self.space.to_plain(), "config": self.config, "generation": self.generation,
            "next_id": self._next_id, "rng": self.rng.bit_generator.state,
            "cache": self.cache, "rows": self.rows, "settings": self.settings,
            "individuals": [vars(i) for i in self.individuals],
        }

    def save(self, path) -> None:
        """Write the whole state as JSON, atomically."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ga-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.state(), handle, default=_plain)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path, evaluate) -> "Population":
        """A population restored from :meth:`save`, ready to continue."""
        from spikey.training.config import read_json

        state = read_json(path)  # a key given twice is refused, not silently resolved
        pop = cls(state["genes"], evaluate, state["config"])
        pop.generation = state["generation"]
        pop._next_id = state["next_id"]
        pop.rng.bit_generator.state = state["rng"]
        pop.cache = state["cache"]
        pop.rows = state["rows"]
        pop.settings = state.get("settings")
        pop.individuals = [Individual(**i) for i in state["individuals"]]
        return pop


class _Progress:
    """Progress of :meth:`Population.run`: a tqdm bar, a user callable, or nothing."""

    def __init__(self, progress, generations: int):
        self.generations = generations
        self.call = progress if callable(progress) else None
        self.bar = None
        if self.call is None and progress is not False:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=0, desc="evolve", unit="individual",
                            disable=None if progress is None else not progress)

    def start(self, generation: int, total: int) -> None:
        if self.bar is not None:
            self.bar.reset(total=total)
            self.bar.set_description(f"evolve: generation {generation + 1}/{self.generations}")
        if self.call is not None:
            self.call(generation, 0, total, None)

    def update(self, generation: int, evaluated, total, best) -> None:
        if self.bar is not None:
            if evaluated is not None:
                self.bar.update(evaluated - self.bar.n)
            if best is not None:
                self.bar.set_postfix(best=f"{best:.4g}")
        if self.call is not None and evaluated is not None:
            self.call(generation, evaluated, total, best)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
