"""Plots of a run folder: learning curves and a spike raster (matplotlib, headless-safe)."""

from __future__ import annotations

import json
import os

import numpy as np


def learning_curve(episodes, ax=None, phase: str = "train"):
    """Mean return per episode over members, with the min-max band. Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    rows = episodes[episodes["phase"] == phase]
    grouped = rows.groupby("episode")["return"]
    mean, low, high = grouped.mean(), grouped.min(), grouped.max()
    ax.plot(mean.index, mean.values, marker="o", label=f"{phase} mean return")
    ax.fill_between(mean.index, low.values, high.values, alpha=0.25, label="min-max over members")
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.legend(loc="best")
    return ax


def raster(network, member: int = 0, ax=None):
    """Input and body spikes of the network's last tick for one member. Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    inputs = network.tick_input_spikes[member]
    body = network.tick_spikes[member]
    n_in, first_output = inputs.shape[1], network.n_neurons - network.n_outputs
    t, i = np.nonzero(inputs)
    ax.scatter(t, i, s=2, c="tab:gray", label="inputs")
    t, k = np.nonzero(body[:, :first_output])
    ax.scatter(t, k + n_in, s=2, c="tab:blue", label="body")
    t, k = np.nonzero(body[:, first_output:])
    ax.scatter(t, k + n_in + first_output, s=4, c="tab:red", label="outputs")
    ax.set_xlabel("step")
    ax.set_ylabel("neuron")
    ax.legend(loc="upper right", markerscale=3)
    return ax


def plot_run(run_dir, out=None) -> list:
    """Write ``learning_curve.png`` and ``raster.png`` for a run; return their paths."""
    import matplotlib.pyplot as plt

    from spikey.snn.network import Network
    from spikey.training.loop import episode_seed, make_games
    from spikey.training.reader import read_run

    run = read_run(run_dir)
    out = out or os.path.join(run_dir, "plots")
    os.makedirs(out, exist_ok=True)
    paths = []
    ax = learning_curve(run["episodes"])
    ax.set_title(os.path.basename(os.path.abspath(run_dir)))
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
        ax.set_title("last checkpoint, one tick")
        paths.append(os.path.join(out, "raster.png"))
        ax.figure.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(ax.figure)
    return paths
