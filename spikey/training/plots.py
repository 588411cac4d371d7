"""Plots of a run folder: learning curves and a spike raster (matplotlib, headless-safe).

The plotting functions live in :mod:`spikey.viz`; ``learning_curve`` and
``raster`` are re-exported here for existing callers.
"""

from __future__ import annotations

import json
import os
import re

from spikey.viz import learning_curve, raster, weight_matrix

__all__ = ["learning_curve", "raster", "weight_matrix", "plot_run", "run_title"]

# folder names Ray gives a worker's copy of a run or a checkpoint, which name no run
_ANONYMOUS = re.compile(r"^(rank_\d+|checkpoint_.*|worker_\d+|runs?|plots|\.)$")


def run_title(run_dir, config=None) -> str:
    """A figure title that names the run: its game and its folder.

    A folder Ray names by worker or checkpoint (``rank_0``, ``checkpoint_...``)
    names no run, so the first enclosing folder that does is used, with the
    worker added (``'CartPole-v1: cartpole_seed3 (worker rank_0)'``).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run folder.
    config : dict, optional
        The run's config; its ``game.id`` (or ``name``) starts the title.

    Returns
    -------
    str
    """
    parts = os.path.abspath(os.fspath(run_dir)).split(os.sep)
    names = [p for p in parts if p]
    anonymous = []
    while names and _ANONYMOUS.match(names[-1]):
        anonymous.append(names.pop())
    name = names[-1] if names else os.fspath(run_dir)
    worker = [a for a in anonymous if a.startswith(("rank_", "worker_"))]
    if worker:
        name += f" (worker {worker[0]})"
    game = ((config or {}).get("game") or {}).get("id") if isinstance(
        (config or {}).get("game"), dict) else None
    label = (config or {}).get("name") or game
    return f"{label}: {name}" if label else name


def plot_run(run_dir, out=None, random_baseline: bool = True) -> list:
    """Write ``learning_curve.png``, and from the last checkpoint ``raster.png`` and
    ``weights.png``, for a run; return their paths.

    The learning curve is smoothed over about a 25th of the episodes, so long
    runs stay readable. It shows the mean return of a uniformly random policy
    on the same game (20 episodes on evaluation seeds; ``random_baseline=False``
    skips it) and, when the run was evaluated, the frozen evaluation mean.
    Titles name the run (:func:`run_title`), never a worker folder alone.
    """
    import matplotlib.pyplot as plt

    from spikey.snn.network import Network
    from spikey.training.loop import episode_seed, make_games
    from spikey.training.reader import read_run

    run = read_run(run_dir)
    out = out or os.path.join(run_dir, "plots")
    os.makedirs(out, exist_ok=True)
    paths = []
    episodes = run["episodes"]
    window = max(1, episodes["episode"].nunique() // 25) if len(episodes) else 1
    baselines = {}
    config = run["config"]
    if random_baseline and len(episodes) and "return" in episodes:
        from spikey.training.baselines import random_policy_returns

        max_ticks = config.get("training", {}).get("max_ticks", 1000)
        baselines["random policy"] = random_policy_returns(config["game"], 20,
                                                           max_ticks=max_ticks).mean()
    if len(episodes) and (episodes["phase"] == "eval").any():
        evaluation = episodes[episodes["phase"] == "eval"]
        n_eval = evaluation['episode'].nunique()
        baselines[f"frozen evaluation, {n_eval} episode{'s' if n_eval != 1 else ''}"] = \
            evaluation["return"].mean()
    ax = learning_curve(episodes, window=window, baselines=baselines)
    title = run_title(run_dir, config)
    ax.set_title(title)
    paths.append(os.path.join(out, "learning_curve.png"))
    ax.figure.savefig(paths[-1], dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    latest = os.path.join(run_dir, "checkpoints", "latest.json")
    if os.path.exists(latest):
        with open(latest, encoding="utf-8") as handle:
            name = json.load(handle)["network"]
        network = Network.load(os.path.join(run_dir, "checkpoints", name)).eval()
        games = make_games(run["config"]["game"], network.batch_size)
        obs, info = games.reset(seed=[episode_seed(network.seed + b, 0, 7) for b in
                                      range(network.batch_size)])
        network.tick(obs, info)
        games.close()
        ax = raster(network)
        ax.set_title(f"{title}\nlast checkpoint, member 0, one tick")
        paths.append(os.path.join(out, "raster.png"))
        ax.figure.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(ax.figure)
        ax = weight_matrix(network)
        ax.set_title(f"{title}\nlast checkpoint, member 0")
        paths.append(os.path.join(out, "weights.png"))
        ax.figure.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(ax.figure)
    return paths
