"""Ray Tune sweeps over any config key, with early stopping (ASHA).

A search space maps dotted config paths to plain-data specs, so it can live
in a YAML file next to the config::

    search:
      network.synapses.learning_rate: {loguniform: [0.05, 2.0]}
      network.neurons.tau: {choice: [10.0, 20.0, 40.0]}
      training.seed: {grid: [0, 1]}

Specs: ``grid``, ``choice`` (lists), ``uniform``, ``loguniform``, ``randint``
(``[low, high]``). Each trial runs the local training loop and reports after
every episode, so ASHA can stop poor trials early. Each trial is a Spikey run
folder, ``storage_path/name/runs/<trial>``, so
``load_runs(storage_path/name)`` reads the whole sweep (one row per episode
and member, a column per searched key) and ``spikey plot`` plots it. Sweep ``training.seed``
for replicates (it seeds the trial's network and games); a sweep over
``network.network.seed`` is refused.
"""

from __future__ import annotations

import copy
import os
import sys
from dataclasses import dataclass

import pandas as pd

from spikey.core.params import ConfigError
from spikey.training.config import check_config, get_path, set_path

SPECS = ("grid", "choice", "uniform", "loguniform", "randint")
#: Reported after every episode (the mean over the trial's members): ASHA stops trials on these.
EPISODE_METRICS = ("mean_reward", "mean_return")
#: Reported once, at the end of a trial (the run summary, see spikey.training.loop.summarize).
SUMMARY_METRICS = ("eval_mean_reward", "eval_mean_return", "train_last_episode_mean_reward",
                   "train_last_episode_mean_return", "train_all_episodes_mean_return",
                   "train_last100_mean_return", "train_mean_reward", "train_mean_return")


def check_metric(metric: str, mode: str, config: dict) -> None:
    """Refuse a sweep metric no trial reports, or a mode other than ``max``/``min``.

    Parameters
    ----------
    metric : str
        One of :data:`EPISODE_METRICS` or :data:`SUMMARY_METRICS`.
    mode : str
        ``'max'`` or ``'min'``.
    config : dict
        The complete experiment config (an ``eval_`` metric needs ``eval_episodes``).

    Raises
    ------
    ConfigError
    """
    from spikey.core.params import suggest

    known = EPISODE_METRICS + SUMMARY_METRICS
    if metric not in known:
        raise ConfigError(f"metric = {metric!r}{suggest(metric, known)}; expected one of "
                          f"{list(known)} (per episode: {list(EPISODE_METRICS)})")
    if mode not in ("max", "min"):
        raise ConfigError(f"mode = {mode!r}; expected 'max' or 'min'")
    if metric.startswith("eval_") and not config["training"]["eval_episodes"]:
        raise ConfigError(f"metric = {metric!r} but training.eval_episodes = 0: no trial "
                          "would report it; set training.eval_episodes or use a train metric")


def to_tune_space(space: dict, config: dict) -> dict:
    """Turn ``{path: {kind: values}}`` into a Ray Tune param space, checking paths."""
    from ray import tune

    if not isinstance(space, dict) or not space:
        raise ConfigError("search: expected a mapping of config path -> spec")
    out = {}
    for path, spec in space.items():
        get_path(config, path)  # the path must exist in the (complete) config
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SPECS:
            raise ConfigError(f"search.{path} = {spec!r}; expected one of "
                              f"{[{k: '...'} for k in SPECS]}")
        kind, values = next(iter(spec.items()))
        if kind in ("grid", "choice"):
            if not isinstance(values, list) or not values:
                raise ConfigError(f"search.{path}.{kind}: expected a non-empty list, got {values!r}")
            out[path] = tune.grid_search(values) if kind == "grid" else tune.choice(values)
        else:
            if not (isinstance(values, list) and len(values) == 2 and values[0] < values[1]):
                raise ConfigError(f"search.{path}.{kind}: expected [low, high] with low < high, "
                                  f"got {values!r}")
            if kind == "loguniform" and values[0] <= 0:
                raise ConfigError(f"search.{path}.loguniform: low must be > 0, got {values[0]}")
            out[path] = getattr(tune, kind)(*values)
    return out


def refuse_network_seed(paths, where: str = "search") -> None:
    """Refuse a sweep, GA or series that varies ``network.network.seed``.

    ``training.seed`` is the run seed and ``network.network.seed`` always
    follows it, so varying the network seed alone would either be overwritten
    silently or conflict with the run seed.

    Parameters
    ----------
    paths : iterable of str
        The dotted config paths to be varied.
    where : str
        Where they were given (``'search'``, ``'genes'``, ``'series'``), for the message.

    Raises
    ------
    ConfigError
        When ``network.network.seed`` is among ``paths``.
    """
    if "network.network.seed" in set(paths):
        raise ConfigError(f"{where}.network.network.seed: sweep training.seed instead (the run "
                          "seed; member b's network is seeded training.seed + b and "
                          "network.network.seed follows it)")


def apply_params(config: dict, params: dict) -> dict:
    """A copy of ``config`` with each ``path: value`` of ``params`` set.

    The run seed rule holds for the result: when ``params`` set
    ``training.seed``, ``network.network.seed`` (where the config has it, as
    a complete config does) follows it, so a trial or best config that varies
    the run seed seeds its network with it.

    Parameters
    ----------
    config : dict
        Experiment config (not changed).
    params : dict
        ``{dotted path: value}``.

    Returns
    -------
    dict
    """
    config = copy.deepcopy(config)
    for path, value in params.items():
        set_path(config, path, value)
    if "training.seed" in params and "network.network.seed" not in params:
        network = config.get("network")
        section = network.get("network") if isinstance(network, dict) else None
        if isinstance(section, dict) and "seed" in section:
            section["seed"] = config["training"]["seed"]
    return config


def trial(params: dict, base_config: dict, run_root: str | None = None) -> None:
    """One Tune trial: train the configured network, reporting every episode.

    Parameters
    ----------
    params : dict
        The trial's ``{dotted path: value}``.
    base_config : dict
        The complete experiment config.
    run_root : str, optional
        Folder of the sweep's run folders: the trial writes
        ``run_root/<trial name>`` (None: no run folder).
    """
    from ray import tune

    from spikey.training.loop import train

    config = apply_params(base_config, params)
    config["network"]["network"]["seed"] = config["training"]["seed"]  # the run seed rules
    run_dir = None
    if run_root is not None:
        run_dir = os.path.join(run_root, tune.get_context().get_trial_name())

    last = {}

    def report(network, episode, rows, run_dir):
        last.update(episode=episode, mean_reward=float(rows["mean_reward"].mean()),
                    mean_return=float(rows["return"].mean()))
        tune.report(dict(last))

    # a trial Tune restarts starts its run folder afresh
    summary = train(config, run_dir=run_dir, reporters=[report], progress=False,
                    overwrite=True).summary
    # one more report so the trial's last result carries the run summary (the metrics of
    # SUMMARY_METRICS) too
    tune.report({**last, **summary})


def check_sweep_folder(folder: str, overwrite: bool = False) -> None:
    """Refuse a sweep folder that holds an earlier sweep's trials (one run, one folder).

    Parameters
    ----------
    folder : str
        ``storage_path/name``.
    overwrite : bool
        Delete the folder instead (the earlier sweep is lost).

    Raises
    ------
    spikey.training.loop.RunFolderError
        ``folder/runs`` holds run folders and ``overwrite`` is False.
    """
    import shutil

    from spikey.training.loop import RunFolderError

    runs = os.path.join(folder, "runs")
    if os.path.isdir(runs) and any(not n.startswith(".") for n in os.listdir(runs)):
        if not overwrite:
            raise RunFolderError(
                f"sweep folder {folder} already holds the trials of an earlier sweep ({runs}); "
                "a new sweep would mix its trials with them: choose another name (--name) or "
                "storage (--storage), or pass overwrite=True (--overwrite) to delete it")
        shutil.rmtree(folder)


def _trial_number(trial_id: str) -> int:
    """Tune's ``<experiment>_<index>`` trial id as a number from 1."""
    index = str(trial_id).rpartition("_")[2]
    return int(index) + 1 if index.isdigit() else 0


def _progress_callback(keys, metric: str, mode: str, episodes: int, stream):
    """A Tune callback printing one short line per trial result: the trial, its searched
    values, the episode, the metric and the best value so far (instead of Ray's table)."""
    from ray.tune import Callback

    class Progress(Callback):
        def __init__(self):
            self.best = None

        def _name(self, trial):
            number = _trial_number(trial.trial_id)
            values = ", ".join(f"{k}={trial.config.get(k)!r}" for k in keys)
            return f"trial {number} [{values}]"

        def on_trial_result(self, iteration, trials, trial, result, **info):
            name = self._name(trial)
            final = "wall_time" in result  # the last report carries the run summary
            shown = metric if metric in result else "mean_reward"
            if shown not in result:
                return
            value = result.get(metric)
            if value is not None and (self.best is None or (
                    value > self.best[0] if mode == "max" else value < self.best[0])):
                self.best = (value, name.split(" [")[0])
            best = "" if self.best is None else \
                f" | best so far {self.best[0]:.4g} ({self.best[1]})"
            where = "done" if final else \
                f"episode {min(result.get('episode', 0) + 1, episodes)}/{episodes}"
            print(f"{name} {where}: {shown} {result[shown]:.4g}{best}", file=stream, flush=True)

        def on_trial_complete(self, iteration, trials, trial, **info):
            last = trial.last_result or {}
            if "wall_time" not in last:  # stopped early (ASHA) before its summary
                played = last.get("episode", -1) + 1
                print(f"{self._name(trial)} stopped early after {played}/{episodes} episodes",
                      file=stream, flush=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            print(f"{self._name(trial)} failed: {trial.error_file or 'see Ray logs'}",
                  file=stream, flush=True)

    return Progress()


@dataclass
class TuneResult:
    """A finished sweep."""

    dataframe: pd.DataFrame
    best_params: dict
    base_config: dict
    metric: str = "mean_reward"
    mode: str = "max"
    run_dir: str | None = None

    def table(self) -> pd.DataFrame:
        """The useful columns of :attr:`dataframe`, best trial first.

        Returns
        -------
        pandas.DataFrame
            ``trial`` (numbered from 1, as the progress lines), one column per
            searched key, ``episodes`` (training episodes played), the metric (its last
            value) and ``run`` (the trial's run folder under :attr:`run_dir`).
        """
        frame = self.dataframe
        keys = [k for k in self.best_params]
        out = pd.DataFrame({"trial": [_trial_number(t) for t in frame["trial_id"]]})
        for key in keys:
            out[key] = frame.get(f"config/{key}")
        episode = frame.get("episode")
        out["episodes"] = None if episode is None else (episode + 1).astype("Int64")
        out[self.metric] = frame.get(self.metric)
        out["run"] = [f"trial_{t}" for t in frame["trial_id"]]
        return out.sort_values(self.metric, ascending=self.mode == "min",
                               na_position="last").reset_index(drop=True)

    @property
    def best_config(self) -> dict:
        """The base config with the best trial's parameters set."""
        return apply_params(self.base_config, self.best_params)

    def best_network(self):
        """The best trial's network config, built (untrained) in one call."""
        from spikey.snn.network import Network

        return Network.from_config(self.best_config["network"])


def tune_config(config, space: dict, num_samples: int = 1, metric: str = "mean_reward",
                mode: str = "max", storage_path: str | None = None, name: str = "tune",
                address: str | None = None, scheduler: str | None = "asha",
                max_concurrent: int | None = None, progress: bool | None = None,
                overwrite: bool = False) -> TuneResult:
    """Sweep ``space`` over ``config`` with Ray Tune; one row per trial in the result.

    Each trial writes a run folder ``storage_path/name/runs/<trial>`` (see the
    module docstring); ``progress`` (default: only when stderr is a terminal)
    prints one line per trial result: its searched values, the episode, the
    metric and the best so far.
    """
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from spikey.training.distributed import init_ray

    from spikey.training.loop import seeded_config

    config = check_config(seeded_config(config))  # training.seed seeds the networks
    check_metric(metric, mode, config)
    if isinstance(space, dict):
        refuse_network_seed(space, "search")
    param_space = to_tune_space(space, config)
    for params in _fixed_points(space):
        check_config(apply_params(config, params))  # every grid point must be a valid config
    storage_path = os.path.abspath(storage_path or "spikey_runs")
    init_ray(address)
    check_sweep_folder(os.path.join(storage_path, name), overwrite)
    episodes = config["training"]["episodes"]
    sched = None
    if scheduler == "asha":
        # max_t counts the final (summary) report too, so a trial that gets there makes it
        sched = ASHAScheduler(time_attr="training_iteration", max_t=episodes + 1,
                              grace_period=max(1, episodes // 4), reduction_factor=2)
    elif scheduler is not None:
        raise ConfigError(f"scheduler = {scheduler!r}; expected 'asha' or None")
    run_root = os.path.join(storage_path, name, "runs")
    if progress is None:
        progress = sys.stderr.isatty()
    callbacks = [_progress_callback(list(space), metric, mode, episodes, sys.stderr)] \
        if progress else []
    tuner = tune.Tuner(
        tune.with_parameters(trial, base_config=config, run_root=run_root),
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=metric, mode=mode, num_samples=num_samples,
                                    scheduler=sched, max_concurrent_trials=max_concurrent),
        run_config=tune.RunConfig(name=name, storage_path=storage_path, verbose=0,
                                  callbacks=callbacks),
    )
    # Ray's newer console output prints an experiment box and paths even at verbose=0;
    # the classic reporter is silent at verbose=0, leaving the terminal to the callback
    settings = {"RAY_AIR_NEW_OUTPUT": "0"}
    if metric not in EPISODE_METRICS:  # reported only in a trial's last result
        settings["TUNE_DISABLE_STRICT_METRIC_CHECKING"] = "1"
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        results = tuner.fit()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    errors = [r.error for r in results if r.error is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} trial(s) failed; first: {errors[0]}")
    frame = results.get_dataframe()
    best = results.get_best_result(metric=metric, mode=mode, scope="last")
    best_params = {k: v for k, v in best.config.items() if k in space}
    return TuneResult(frame, best_params, config, metric, mode, run_root)


def _fixed_points(space: dict) -> list:
    """Grid and choice values to pre-validate (one dict per value)."""
    points = []
    for path, spec in space.items():
        kind, values = next(iter(spec.items()))
        if kind in ("grid", "choice"):
            points += [{path: v} for v in values]
    return points
