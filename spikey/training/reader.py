"""Read run folders written by the training loop into pandas DataFrames."""

from __future__ import annotations

import json
import os
import re

import pandas as pd


def _flatten(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif not isinstance(value, list):
            out[name] = value
    return out


def is_run(path: str) -> bool:
    """Whether ``path`` is a run folder (holds ``config.json`` and ``metrics/episodes.csv``)."""
    return os.path.isfile(os.path.join(path, "config.json")) and os.path.isfile(
        os.path.join(path, "metrics", "episodes.csv"))


#: Ray's checkpoint folders (Train: ``checkpoint_<date>_<time>``, Tune: ``checkpoint_000003``)
#: hold copies of runs found elsewhere in the same folder; they are not runs of their own.
RAY_CHECKPOINT = re.compile(r"checkpoint_(\d{4}-\d\d-\d\d_|\d+$)")


def find_runs(path) -> list:
    """The run folders under ``path`` (itself, if it is one), each once, sorted.

    Ray's checkpoint copies (``checkpoint_<time>/rank_0``), hidden folders and
    the inside of a run folder are not searched, so every run is counted once.

    Parameters
    ----------
    path : str or os.PathLike
        A run folder or any folder holding runs (a ``spikey train`` storage
        folder, a Ray run's ``runs`` folder, a Tune sweep).

    Returns
    -------
    list of str
    """
    path = os.fspath(path)
    if is_run(path):
        return [path]
    found = []
    for root, dirs, _ in os.walk(path):
        if root != path and is_run(root):
            found.append(root)
            dirs[:] = []  # a run's own folders (metrics, checkpoints, plots) hold no runs
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not RAY_CHECKPOINT.match(d))
    return sorted(found)


def read_run(path) -> dict:
    """One run: ``{"config", "episodes", "ticks", "summary"}`` (ticks/summary may be None)."""
    path = os.fspath(path)
    if not is_run(path):
        raise FileNotFoundError(f"{path!r} is not a run folder (needs config.json and "
                                "metrics/episodes.csv)")
    with open(os.path.join(path, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    ticks_path = os.path.join(path, "metrics", "ticks.csv")
    summary_path = os.path.join(path, "summary.json")
    summary = None
    if os.path.exists(summary_path):
        with open(summary_path, encoding="utf-8") as handle:
            summary = json.load(handle)
    return {
        "config": config,
        "episodes": pd.read_csv(os.path.join(path, "metrics", "episodes.csv")),
        "ticks": pd.read_csv(ticks_path) if os.path.exists(ticks_path) else None,
        "summary": summary,
    }


def load_runs(path, table: str = "episodes") -> pd.DataFrame:
    """Every run under ``path`` (a run folder or a folder of runs/sweeps) in one DataFrame.

    The runs are those :func:`find_runs` finds: each once (Ray's checkpoint
    copies are skipped).

    Each row gets a ``run`` column (the folder relative to ``path``) and one
    column per config key whose value differs between the runs found, so a
    sweep's rows can be grouped by what was varied.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path!r} is not a folder")
    runs = find_runs(path)
    if not runs:
        raise FileNotFoundError(f"no run folders under {path!r} (a run folder holds "
                                "config.json and metrics/episodes.csv)")
    frames, configs = [], []
    for run in runs:
        data = read_run(run)
        frame = data[table]
        if frame is None:
            continue
        frame = frame.copy()
        frame.insert(0, "run", os.path.relpath(run, path))
        frames.append(frame)
        configs.append(_flatten(data["config"]))
    keys = sorted({k for c in configs for k in c})
    varying = [k for k in keys if len({repr(c.get(k)) for c in configs}) > 1]
    for frame, config in zip(frames, configs):
        for key in varying:
            frame[key] = config.get(key)
    return pd.concat(frames, ignore_index=True)
