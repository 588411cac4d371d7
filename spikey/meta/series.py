"""Series: run an experiment over values of one parameter (or several together), with repeats.

``run_series(config, {"network.neurons.tau": [10, 20, 40]}, repeats=3)`` trains
the config once per value and repeat and returns one DataFrame row per run,
with the varied values, the repeat index and the run summary. Several paths
given together vary in lockstep (their lists must have equal length).
"""

from __future__ import annotations

import copy

import pandas as pd

from spikey.core.params import ConfigError
from spikey.training.config import check_config, get_path, set_path
from spikey.training.tune import refuse_network_seed


def run_series(config, values: dict, repeats: int = 1, run=None, progress: bool | None = None):
    """Run ``config`` for each position of the value lists, ``repeats`` times each.

    Parameters
    ----------
    config : dict or path
        Experiment config.
    values : dict
        ``{path: [v0, v1, ...]}``; all lists the same length.
    repeats : int
        Runs per point; repeat ``r`` offsets the seeds by ``1000 * r``. Vary
        ``training.seed`` (the run seed) for seeds; ``network.network.seed``
        follows it and cannot be varied itself (``ConfigError``).
    run : callable, optional
        ``run(config) -> dict`` of figures; default: the local training loop's summary.

    Returns
    -------
    pandas.DataFrame
    """
    from tqdm.auto import tqdm

    from spikey.training.loop import train

    config = check_config(config)
    if not values:
        raise ConfigError("series: give at least one path with a list of values")
    lengths = {path: len(v) for path, v in values.items()}
    if len(set(lengths.values())) != 1:
        raise ConfigError(f"series: value lists must have equal lengths, got {lengths}")
    for path in values:
        get_path(config, path)
    refuse_network_seed(values, "series")
    if repeats < 1:
        raise ConfigError(f"series: repeats = {repeats}; expected >= 1")
    run = run or (lambda cfg: train(cfg, progress=False).summary)
    n = next(iter(lengths.values()))
    rows = []
    for i in tqdm(range(n * repeats), desc="series", disable=(not progress) if progress is not None else None):
        point, repeat = divmod(i, repeats)
        cfg = copy.deepcopy(config)
        point_values = {path: v[point] for path, v in values.items()}
        for path, value in point_values.items():
            set_path(cfg, path, value)
        seed = cfg["training"]["seed"] + 1000 * repeat
        cfg["training"]["seed"] = seed
        cfg["network"]["network"]["seed"] = seed
        rows.append({**point_values, "point": point, "repeat": repeat, **run(check_config(cfg))})
    return pd.DataFrame(rows)
