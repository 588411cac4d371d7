"""Evolve an experiment config: the ``evolve`` section of a config file.

::

    evolve:
      genes: {network.synapses.learning_rate: {loguniform: [0.05, 2.0]}, ...}
                                               # float/int/choice/loguniform/fixed, or Tune's
                                               # uniform/randint; network.network.seed is refused
      ga: {population_size: 16, seed: 0}       # keys of spikey.meta.GA_KEYS
      generations: 10
      metric: eval_mean_reward                 # a key of the run summary
      reruns: 1                                # seeds per genotype
      backend: local                           # batched (one network per generation) or ray
      target: null                             # stop once the best reaches it (local)
"""

from __future__ import annotations

import copy
import os

from spikey.core.params import ConfigError, Key, show, validate

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
           address: str | None = None, progress=None, overwrite: bool = False,
           resume: bool = True):
    """Run the ``evolve`` section of ``config``; return ``(best_genotype, history DataFrame)``.

    The GA state is checkpointed to ``storage_path/name/ga.json`` after every
    evaluated chunk of a generation (every training run with the local and ray
    backends, every batch with the batched one) and the history is written to
    ``history.csv`` (both atomically). Running the same config again continues
    from ``ga.json`` and says so; a ``ga.json`` made with other genes, GA keys,
    metric, mode, reruns, backend or experiment config is refused, naming what
    differs. ``generations`` and ``target`` may change between runs (to
    evolve further).

    Parameters
    ----------
    config : dict
        Experiment config with an ``evolve`` section (see :data:`EVOLVE_KEYS`).
    storage_path : str
        Folder of the results.
    name : str
        Sub-folder of this evolution.
    address : str, optional
        Ray address (ray backend).
    progress : bool or callable, optional
        As for :meth:`spikey.meta.Population.run`: a bar of the individuals
        evaluated within each generation (None: only in a terminal), False for
        silence, or a callable ``progress(generation, evaluated, total, best)``.
    overwrite : bool
        Discard an existing ``ga.json`` and ``history.csv`` and start afresh
        (command line: ``--overwrite``).
    resume : bool
        Continue an existing ``ga.json`` (default); with False an existing one is
        refused unless ``overwrite``.

    Returns
    -------
    tuple
        ``(best genotype dict, history DataFrame)``.

    Raises
    ------
    ConfigError
        A bad ``evolve`` section, or a ``ga.json`` made with other settings.
    FileExistsError
        ``resume=False`` and ``ga.json`` exists, without ``overwrite``.
    """
    from spikey.meta.genotype import GeneSpace
    from spikey.meta.metagames import EvolveNetwork
    from spikey.meta.population import GA_KEYS, Population
    from spikey.training.config import check_config, get_path
    from spikey.training.tune import refuse_network_seed

    config = copy.deepcopy(config)
    spec = validate(EVOLVE_KEYS, config.pop("evolve", None), "evolve")
    base = check_config(config)
    genes = normalise_genes(spec["genes"])
    refuse_network_seed(genes, "evolve.genes")
    for path in genes:
        get_path(base, path)
    space = GeneSpace(genes)
    ga = validate(GA_KEYS, {**spec["ga"], "mode": spec["mode"]}, "evolve.ga")
    settings = _plain({"config": base, "metric": spec["metric"], "reruns": spec["reruns"],
                       "backend": spec["backend"]})
    folder = os.path.join(os.path.abspath(storage_path), name)
    os.makedirs(folder, exist_ok=True)
    checkpoint = os.path.join(folder, "ga.json")
    population = None
    if os.path.exists(checkpoint):
        if overwrite:
            for stale in ("ga.json", "history.csv"):
                if os.path.exists(os.path.join(folder, stale)):
                    os.unlink(os.path.join(folder, stale))
        elif not resume:
            raise FileExistsError(f"{checkpoint} holds an earlier evolution; pass resume=True to "
                                  "continue it or overwrite=True to start afresh (command line: "
                                  "--overwrite)")
        else:
            population = _resume(checkpoint, space, ga, settings, spec["generations"])
    if spec["backend"] == "ray":
        from spikey.meta.searcher import evolve_on_ray

        searcher, _ = evolve_on_ray(base, genes, ga, spec["generations"], spec["metric"],
                                    spec["mode"], spec["max_concurrent"], storage_path, name,
                                    address, reruns=spec["reruns"],
                                    population=population or _new(space, ga, settings),
                                    checkpoint=checkpoint, progress=progress)
        history = searcher.history()
    else:
        if spec["backend"] == "batched":
            from spikey.meta.batched import BatchedEvolveNetwork

            fitness = BatchedEvolveNetwork(base, spec["metric"], spec["reruns"])
        else:
            fitness = EvolveNetwork(base, spec["metric"], spec["reruns"])
        population = population or _new(space, ga, settings)
        population.evaluate = fitness
        population.run(spec["generations"], target=spec["target"], checkpoint=checkpoint,
                       progress=progress)
        history = population.history()
    _write_csv(history, os.path.join(folder, "history.csv"))
    sign = 1 if spec["mode"] == "max" else -1
    best_row = history.loc[(sign * history["fitness"]).idxmax()]
    best = {path: best_row[path] for path in genes}
    return best, history


def _new(space, ga: dict, settings: dict):
    from spikey.meta.population import Population

    population = Population(space, None, ga)
    population.settings = settings
    return population


def _resume(checkpoint: str, space, ga: dict, settings: dict, generations: int):
    """The population saved in ``checkpoint``, after checking it was made with these settings."""
    from spikey.meta.population import Population
    from spikey.training.config import read_json

    state = read_json(checkpoint)
    old = {"genes": state.get("genes"), "ga": state.get("config"), **(state.get("settings") or {})}
    new = {"genes": space.to_plain(), "ga": ga, **settings}
    if state.get("settings") is None:  # written before the settings were recorded
        new = {"genes": new["genes"], "ga": new["ga"]}
    differ = _differences(_plain(old), _plain(new))
    if differ:
        shown = "; ".join(f"{path}: {show(a, 80)} -> {show(b, 80)}" for path, a, b in differ[:6])
        more = f" and {len(differ) - 6} more" if len(differ) > 6 else ""
        raise ConfigError(
            f"cannot resume {checkpoint}: it was made with other settings ({shown}{more}); "
            "restore them to continue it, or pass overwrite=True (command line: --overwrite) "
            "to start afresh")
    population = Population.load(checkpoint, None)
    population.settings = settings
    done = population.generation
    if done >= generations:
        print(f"evolve: {checkpoint} has all {done} generation(s) evaluated already; nothing "
              "to run (raise evolve.generations to evolve further)")
    else:
        pending = len(population.pending())
        distinct = len({space.key(i.genotype) for i in population.individuals})
        print(f"evolve: resuming {checkpoint} at generation {done + 1} of {generations} "
              f"({distinct - pending} of its {distinct} genotype(s) already evaluated)")
    return population


def _differences(old, new, prefix: str = "") -> list:
    """``(path, old, new)`` for every leaf where two plain-data trees differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            path = f"{prefix}.{key}" if prefix else str(key)
            out += _differences(old.get(key, "<absent>"), new.get(key, "<absent>"), path)
        return out
    return [] if old == new else [(prefix, old, new)]


def _plain(value):
    """``value`` as JSON would read it back (tuples as lists, numpy scalars as numbers)."""
    import json

    def default(item):
        return item.item() if hasattr(item, "item") else str(item)

    return json.loads(json.dumps(value, default=default))


def _write_csv(frame, path: str) -> None:
    """Write ``frame`` as CSV atomically (a temp file renamed over ``path``)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".history-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def normalise_genes(genes: dict) -> dict:
    """Gene constraints with Tune-style spellings translated to the GA's.

    Tune's ``uniform`` is the GA's ``float`` and ``randint`` (``[low, high)``,
    high excluded) is ``int`` with ``[low, high - 1]``; ``choice`` and
    ``loguniform`` are spelled alike. ``grid`` has no GA meaning and is refused.

    Parameters
    ----------
    genes : dict
        ``{dotted path: {kind: values}}``.

    Returns
    -------
    dict
        The same constraints in the GA's spelling.

    Raises
    ------
    ConfigError
        A ``grid`` gene, or a malformed ``randint``.
    """
    if not isinstance(genes, dict):
        return genes
    out = {}
    for path, spec in genes.items():
        if isinstance(spec, dict) and len(spec) == 1:
            kind, values = next(iter(spec.items()))
            if kind == "uniform":
                spec = {"float": values}
            elif kind == "randint":
                if not (isinstance(values, list) and len(values) == 2
                        and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
                        and values[0] < values[1]):
                    raise ConfigError(f"evolve.genes.{path}.randint = {values!r}; expected "
                                      "[low, high] integers with low < high (high excluded, as "
                                      "in Tune)")
                spec = {"int": [values[0], values[1] - 1]}
            elif kind == "grid":
                raise ConfigError(f"evolve.genes.{path}: grid is a Tune sweep, not a gene; use "
                                  f"{{choice: {show(values, 60)}}} for a gene over these values")
        out[path] = spec
    return out


def as_tune_space(genes: dict) -> dict:
    """GA gene constraints in Ray Tune's ``search`` spelling (see :func:`normalise_genes`).

    ``float`` becomes ``uniform``, ``int [lo, hi]`` becomes ``randint [lo, hi + 1]``
    (Tune excludes the high end), ``fixed v`` becomes ``choice [v]``; ``choice`` and
    ``loguniform`` are spelled alike, and Tune spellings pass through unchanged.

    Parameters
    ----------
    genes : dict
        ``{dotted path: {kind: values}}`` in either spelling.

    Returns
    -------
    dict
        A ``search`` section for :func:`spikey.training.tune.tune_config`.

    Raises
    ------
    ConfigError
        A malformed constraint (see :class:`spikey.meta.GeneSpace`).
    """
    from spikey.meta.genotype import GeneSpace

    out = {}
    for gene in GeneSpace(normalise_genes(genes)).genes:
        kind, values = gene.kind, gene.values
        if kind == "float":
            out[gene.name] = {"uniform": list(values)}
        elif kind == "int":
            out[gene.name] = {"randint": [int(values[0]), int(values[1]) + 1]}
        elif kind == "fixed":
            out[gene.name] = {"choice": [values]}
        else:
            out[gene.name] = {kind: values}
    return out
