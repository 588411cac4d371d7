"""Data-parallel gradient training on Ray Train and Ray Tune sweeps over a gradient config.

**Data parallelism** (:func:`train_gradient_distributed`): ``num_workers`` Ray Train
workers (V2 ``DataParallelTrainer``, no torch) each build the same trainer (same seed, so
the same initial weights and the same minibatch order). Worker ``r`` of ``W`` computes the
gradient of places ``r, r + W, ...`` of every minibatch; a small actor sums
``[loss, gradient, samples, correct]`` over the workers in rank order and hands the sum back
to every worker, which divides by the samples and takes the same optimizer step. The
workers therefore hold identical weights, and the result equals one process training the
whole minibatch up to the order of floating-point sums (``test_gradients_ray.py``: the
weights of 2 workers equal one process's within 1e-9). Dropout and noise of a sample come
from the generator of its place in the minibatch, as in one process.

**Sweeps** (:func:`tune_gradient`): a Ray Tune trial per point of a search space over
``gradient.*``, ``network.*`` and ``dataset.*`` keys; each trial reports its validation
accuracy after every epoch (ASHA stops poor trials early) and never reads the test split.

Both start a local Ray on 127.0.0.1 (``spikey.training.distributed.init_ray``) unless
``address`` names a cluster, and write only under ``storage_path``.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile

import numpy as np

from spikey.core.params import ConfigError
from spikey.gradients.run import check_sections

#: What a sweep may optimise: reported after every epoch.
TUNE_METRICS = ("validation_accuracy", "loss", "train_accuracy")


class _GradientSum:
    """Sums one ``[loss, gradient, samples, correct]`` per worker and step (an async actor):
    every worker's call returns when all have submitted, with the sum in rank order."""

    def __init__(self, world_size: int):
        import asyncio

        self.world_size = world_size
        self.rounds = {}
        self._asyncio = asyncio

    async def allreduce(self, step: int, rank: int, parts):
        entry = self.rounds.get(step)
        if entry is None:
            entry = self.rounds[step] = {"parts": {}, "done": self._asyncio.Event(),
                                         "sum": None, "taken": 0}
        entry["parts"][rank] = parts
        if len(entry["parts"]) == self.world_size:
            ordered = [entry["parts"][r] for r in range(self.world_size)]
            entry["sum"] = [sum(p[0] for p in ordered), np.sum([p[1] for p in ordered], axis=0),
                            sum(p[2] for p in ordered), sum(p[3] for p in ordered)]
            entry["done"].set()
        await entry["done"].wait()
        entry["taken"] += 1
        result = entry["sum"]
        if entry["taken"] == self.world_size:
            del self.rounds[step]
        return result


def gradient_worker_loop(loop_config: dict) -> None:
    """The per-worker function of :func:`train_gradient_distributed` (inside Ray Train).

    Parameters
    ----------
    loop_config : dict
        ``config`` (the gradient config), ``reducer`` (the summing actor), ``world``.
    """
    import ray
    import ray.train

    from spikey.gradients.run import prepare_data

    rank = ray.train.get_context().get_world_rank()
    world = loop_config["world"]
    reducer = loop_config["reducer"]
    config = loop_config["config"]
    from spikey.gradients.trainer import GradientTrainer

    trainer = GradientTrainer(config["network"], config.get("gradient"))
    counter = {"step": 0}

    def reduce(parts):
        step = counter["step"]
        counter["step"] += 1
        return ray.get(reducer.allreduce.remote(step, rank, parts))

    trainer.shard = (rank, world, reduce)
    train, validation, _ = prepare_data(trainer, config.get("dataset"), test=False)

    def report(row):
        ray.train.report({**{k: v for k, v in row.items() if v is not None}, "rank": rank})

    history = trainer.fit(train, validation, callback=report)
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = None
        if rank == 0:
            trainer.save(os.path.join(folder, "weights.npz"))
            with open(os.path.join(folder, "history.json"), "w", encoding="utf-8") as handle:
                json.dump(history, handle)
            checkpoint = ray.train.Checkpoint.from_directory(folder)
        ray.train.report({"epoch": len(history), "rank": rank, "final": True},
                         checkpoint=checkpoint)


def train_gradient_distributed(config: dict, num_workers: int = 2,
                               storage_path: str | None = None, name: str = "gradient",
                               address: str | None = None, seed: int | None = None) -> dict:
    """Train a gradient config data-parallel on ``num_workers`` Ray Train workers.

    Parameters
    ----------
    config : dict
        ``network``, ``gradient`` and ``dataset`` sections (see :mod:`spikey.gradients.run`).
    num_workers : int
        Workers (>= 1); each computes the gradient of its share of every minibatch.
    storage_path : str, optional
        Folder for Ray Train's files (default ``./spikey_runs``).
    name : str
        Run name (a folder under ``storage_path``).
    address : str, optional
        Ray cluster (see :func:`spikey.training.distributed.init_ray`); None starts a local
        Ray on 127.0.0.1 unless ``RAY_ADDRESS`` is set.
    seed : int, optional
        Overrides ``gradient.seed``.

    Returns
    -------
    dict
        ``trainer`` (a :class:`~spikey.gradients.trainer.GradientTrainer` holding the
        selected weights), ``history`` (rank 0's rows) and ``workers``.

    Raises
    ------
    ConfigError
        A bad config or ``num_workers`` < 1, before Ray starts.
    """
    from spikey.gradients.run import DATASET_KEYS
    from spikey.gradients.trainer import GradientTrainer
    from spikey.core.params import validate

    check_sections(config)
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 1:
        raise ConfigError(f"num_workers = {num_workers!r}; expected an integer >= 1")
    config = copy.deepcopy(config)
    gradient = dict(config.get("gradient") or {})
    if seed is not None:
        gradient["seed"] = int(seed)
    config["gradient"] = gradient
    if validate(DATASET_KEYS, config.get("dataset"), "dataset")["refit"]:
        raise ConfigError("dataset.refit = True is not supported with data-parallel workers; "
                          "train it in one process (--workers 1)")
    trainer = GradientTrainer(config["network"], gradient)  # checks every key before Ray
    storage_path = os.path.abspath(storage_path or "spikey_runs")
    os.makedirs(storage_path, exist_ok=True)

    from spikey.training.distributed import init_ray

    init_ray(address)
    import ray
    import ray.train
    from ray.train import ScalingConfig
    from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

    reducer = ray.remote(num_cpus=0)(_GradientSum).remote(num_workers)
    try:
        ray_trainer = DataParallelTrainer(
            gradient_worker_loop,
            train_loop_config={"config": config, "reducer": reducer, "world": num_workers},
            scaling_config=ScalingConfig(num_workers=num_workers),
            run_config=ray.train.RunConfig(name=name, storage_path=storage_path))
        result = ray_trainer.fit()
    finally:
        ray.kill(reducer)
    if result.error is not None:
        raise result.error
    with result.checkpoint.as_directory() as folder:
        weights = np.load(os.path.join(folder, "weights.npz"))["weights"]
        with open(os.path.join(folder, "history.json"), encoding="utf-8") as handle:
            history = json.load(handle)
    trainer.model.weights[...] = weights
    trainer.history = history
    return {"trainer": trainer, "history": history, "workers": num_workers}


def _check_space(config: dict, space: dict) -> None:
    from spikey.gradients.run import DATASET_KEYS
    from spikey.gradients.trainer import GRADIENT_KEYS

    if not isinstance(space, dict) or not space:
        raise ConfigError("search: expected a mapping of config path -> spec, e.g. "
                          "{'gradient.learning_rate': {'grid': [0.01, 0.05]}}")
    keys = {"gradient": {k.name for k in GRADIENT_KEYS},
            "dataset": {k.name for k in DATASET_KEYS}}
    for path in space:
        section, _, rest = str(path).partition(".")
        if section in keys:
            if rest not in keys[section]:
                from spikey.core.params import suggest

                raise ConfigError(f"search.{path}: {section} has no key {rest!r}"
                                  f"{suggest(rest, sorted(keys[section]))}")
        elif section == "network":
            node = config["network"]
            for part in rest.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise ConfigError(f"search.{path}: the config has no {path!r} (a network "
                                      "key must be in the config to be swept)")
                node = node[part]
        else:
            raise ConfigError(f"search.{path}: expected a path under 'gradient', 'network' "
                              "or 'dataset'")


def _with_params(config: dict, params: dict) -> dict:
    config = copy.deepcopy(config)
    for path, value in params.items():
        section, *parts = path.split(".")
        node = config.setdefault(section, {}) if section != "network" else config["network"]
        if node is None:
            node = config[section] = {}
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return config


def gradient_trial(params: dict, base_config: dict) -> None:
    """One Ray Tune trial: train ``base_config`` with ``params`` set, reporting every epoch.

    Parameters
    ----------
    params : dict
        ``{dotted path: value}``.
    base_config : dict
        The gradient config.
    """
    from ray import tune

    from spikey.gradients.run import prepare_data
    from spikey.gradients.trainer import GradientTrainer

    config = _with_params(base_config, params)
    trainer = GradientTrainer(config["network"], config.get("gradient"))
    train, validation, _ = prepare_data(trainer, config.get("dataset"), test=False)

    def report(row):
        tune.report({k: v for k, v in row.items() if v is not None})

    trainer.fit(train, validation, callback=report)


def tune_gradient(config: dict, space: dict, num_samples: int = 1,
                  metric: str = "validation_accuracy", mode: str = "max",
                  storage_path: str | None = None, name: str = "gradient_tune",
                  address: str | None = None, scheduler: str | None = "asha",
                  max_concurrent: int | None = None):
    """Sweep ``space`` over a gradient config with Ray Tune; one row per trial.

    Parameters
    ----------
    config : dict
        ``network``, ``gradient`` and ``dataset`` sections.
    space : dict
        ``{dotted path: spec}``, the specs of :mod:`spikey.training.tune` (``grid``,
        ``choice``, ``uniform``, ``loguniform``, ``randint``); paths under ``gradient``,
        ``dataset`` (their keys) or ``network`` (present in the config).
    num_samples : int
        Samples of the space (each grid point runs this many times).
    metric, mode : str
        One of :data:`TUNE_METRICS` (reported after every epoch) and ``'max'``/``'min'``.
        The test split is never read.
    storage_path, name : str
        Ray Tune's folder is ``storage_path/name`` (default ``./spikey_runs``).
    address : str, optional
        Ray cluster; None starts a local Ray on 127.0.0.1 unless ``RAY_ADDRESS`` is set.
    scheduler : str or None
        ``'asha'`` (early stopping on ``metric``) or None.
    max_concurrent : int, optional
        Trials at once.

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per trial (its searched keys as ``config/<path>`` and its last metrics) and
        the best trial's ``{path: value}`` (by its best epoch).

    Raises
    ------
    ConfigError
        A bad space, metric, mode or config, before Ray starts.
    """
    from spikey.gradients.run import DATASET_KEYS
    from spikey.gradients.trainer import GradientTrainer
    from spikey.core.params import validate
    from spikey.training.tune import _fixed_points, to_tune_space

    check_sections(config)
    if metric not in TUNE_METRICS:
        raise ConfigError(f"metric = {metric!r}; expected one of "
                          f"{list(TUNE_METRICS)} (the test split is never a sweep metric)")
    if mode not in ("max", "min"):
        raise ConfigError(f"mode = {mode!r}; expected 'max' or 'min'")
    _check_space(config, space)
    for params in _fixed_points(space) or [{}]:  # every grid / choice value must build
        trial_config = _with_params(config, params)
        validate(DATASET_KEYS, trial_config.get("dataset"), "dataset")
        GradientTrainer(trial_config["network"], trial_config.get("gradient"))
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from spikey.training.distributed import init_ray

    param_space = to_tune_space(space, config)
    storage_path = os.path.abspath(storage_path or "spikey_runs")
    os.makedirs(storage_path, exist_ok=True)
    init_ray(address)
    epochs = int((config.get("gradient") or {}).get("epochs", 10))
    sched = None
    if scheduler == "asha":
        sched = ASHAScheduler(time_attr="training_iteration", max_t=epochs,
                              grace_period=max(1, epochs // 4), reduction_factor=2)
    elif scheduler is not None:
        raise ConfigError(f"scheduler = {scheduler!r}; expected 'asha' or None")
    tuner = tune.Tuner(
        tune.with_parameters(gradient_trial, base_config=config),
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=metric, mode=mode, num_samples=num_samples,
                                    scheduler=sched, max_concurrent_trials=max_concurrent),
        run_config=tune.RunConfig(name=name, storage_path=storage_path, verbose=0))
    saved = os.environ.get("RAY_AIR_NEW_OUTPUT")
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    try:
        results = tuner.fit()
    finally:
        if saved is None:
            os.environ.pop("RAY_AIR_NEW_OUTPUT", None)
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = saved
    errors = [r.error for r in results if r.error is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} trial(s) failed; first: {errors[0]}")
    best = results.get_best_result(metric=metric, mode=mode, scope="all")
    return results.get_dataframe(), {k: v for k, v in best.config.items() if k in space}


def tune_command(config: dict, args) -> int:
    """``spikey tune CONFIG`` for a gradient config with a ``search`` section.

    Prints one row per trial (its searched keys and validation accuracy) and the best
    values; the sweep's files go to ``--storage/NAME``. Returns the exit status.

    Parameters
    ----------
    config : dict
        The gradient config with its ``search`` section.
    args : argparse.Namespace
        ``config``, ``samples``, ``address``, ``storage``, ``name``, ``metric``, ``mode``.
    """
    import shutil

    config = copy.deepcopy(config)
    space = config.pop("search", None)
    if not space:
        raise ConfigError(f"{args.config}: a tune config needs a 'search' section of config path "
                          "-> spec, e.g. search: {gradient.learning_rate: {grid: [0.01, 0.05]}}")
    metric = args.metric if args.metric != "mean_reward" else "validation_accuracy"
    name = args.name or os.path.splitext(os.path.basename(args.config))[0]
    storage = os.path.abspath(args.storage)
    folder = os.path.join(storage, name)
    if os.path.isdir(folder) and os.listdir(folder):
        if not args.overwrite:
            raise ConfigError(f"sweep folder {folder} already holds a sweep; pass --overwrite "
                              "or --name")
        shutil.rmtree(folder)
    frame, best = tune_gradient(config, space, num_samples=args.samples, metric=metric,
                                mode=args.mode, storage_path=storage, name=name,
                                address=args.address)
    columns = [c for c in frame.columns if c.startswith("config/")] + \
        [c for c in ("epoch", "validation_accuracy", "loss") if c in frame.columns]
    print(frame[columns].to_string(index=False))
    print("best config:", json.dumps(best))
    print(f"sweep folder: {folder}")
    return 0
