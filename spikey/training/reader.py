"""Read run folders written by the training loop into pandas DataFrames."""

from __future__ import annotations

import json
import os

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

    Each row gets a ``run`` column (the folder relative to ``path``) and one
    column per config key whose value differs between the runs found, so a
    sweep's rows can be grouped by what was varied.
    """
    path = os.fspath(path)
    runs = [path] if is_run(path) else sorted(
        root for root, _, _ in os.walk(path) if is_run(root))
    if not runs:
        raise FileNotFoundError(f"no run folders under {path!r}")
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
