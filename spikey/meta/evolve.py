"""Evolve an experiment config: the ``evolve`` section of a config file.

::

    evolve:
      genes: {network.synapses.learning_rate: {loguniform: [0.05, 2.0]}, ...}
      ga: {population_size: 16, seed: 0}       # keys of spikey.meta.GA_KEYS
      generations: 10
      metric: eval_mean_reward                 # a key of the run summary
      reruns: 1                                # seeds per genotype (local backend)
      backend: local                           # batched (one network per generation) or ray
      target: null                             # stop once the best reaches it (local)
"""

from __future__ import annotations

import copy
import os

from spikey.core.params import Key, validate

EVOLVE_KEYS = (
    Key("genes", "dict", "Gene constraints by config path."),
    Key("ga", "dict", "Genetic algorithm keys (spikey.meta.GA_KEYS).", {}),
    Key("generations", "int", "Generations to evaluate.", 10, range=(1, None)),
    Key("metric", "str", "Run-summary key used as fitness.", "train_mean_reward"),
    Key("mode", "str", "Maximise or minimise the metric.", "max", choices=("max", "min")),
    Key("reruns", "int", "Training runs (seeds) averaged per genotype.", 1, range=(1, None)),
    Key("backend", "str", "How genotypes are evaluated: one run each ('local'), a whole "
        "generation as one batched network ('batched'), or as Ray Tune trials ('ray').", "local",
        choices=("local", "batched", "ray")),
    Key("target", "float", "Stop when the best fitness reaches this (local backend).", None,
        nullable=True),
    Key("max_concurrent", "int", "Concurrent trials (ray backend).", 2, range=(1, None)),
)


def evolve(config: dict, storage_path: str = "spikey_runs", name: str = "evolve",
           address: str | None = None, progress: bool | None = None):
    """Run the ``evolve`` section of ``config``; return ``(best_genotype, history DataFrame)``.

    The GA state is checkpointed to ``storage_path/name/ga.json`` after every
    generation (local backend) and the history written to ``history.csv``.
    """
    from spikey.meta.metagames import EvolveNetwork
    from spikey.meta.population import Population
    from spikey.training.config import check_config, get_path
    from spikey.training.tune import refuse_network_seed

    config = copy.deepcopy(config)
    spec = validate(EVOLVE_KEYS, config.pop("evolve", None), "evolve")
    base = check_config(config)
    for path in spec["genes"]:
        get_path(base, path)
    refuse_network_seed(spec["genes"], "evolve.genes")
    folder = os.path.join(os.path.abspath(storage_path), name)
    os.makedirs(folder, exist_ok=True)
    ga = {**spec["ga"], "mode": spec["mode"]}
    if spec["backend"] == "ray":
        from spikey.meta.searcher import evolve_on_ray

        searcher, _ = evolve_on_ray(base, spec["genes"], ga, spec["generations"], spec["metric"],
                                    spec["mode"], spec["max_concurrent"], storage_path, name, address)
        history = searcher.history()
    else:
        if spec["backend"] == "batched":
            from spikey.meta.batched import BatchedEvolveNetwork

            fitness = BatchedEvolveNetwork(base, spec["metric"], spec["reruns"])
        else:
            fitness = EvolveNetwork(base, spec["metric"], spec["reruns"])
        checkpoint = os.path.join(folder, "ga.json")
        if os.path.exists(checkpoint):
            population = Population.load(checkpoint, fitness)
        else:
            population = Population(spec["genes"], fitness, ga)
        population.run(spec["generations"], target=spec["target"], checkpoint=checkpoint,
                       progress=progress)
        history = population.history()
    history.to_csv(os.path.join(folder, "history.csv"), index=False)
    sign = 1 if spec["mode"] == "max" else -1
    best_row = history.loc[(sign * history["fitness"]).idxmax()]
    best = {path: best_row[path] for path in spec["genes"]}
    return best, history
