"""The local training loop: episodes of (network, game) with metrics and a run folder.

``B = network.batch_size`` members play ``B`` copies of the game in
lockstep (a gymnasium vector env). An episode ends for a member when its
game terminates or truncates, or after ``max_ticks``; the member then stops
learning (``network.plastic``) until every member has ended, and all games
are reset for the next episode. Each member's game is reset with a seed
that depends only on that member's seed and the episode index, so an
episode can be resumed from a checkpoint exactly.

A run folder holds::

    config.json                the complete experiment config
    metrics/episodes.csv       one row per (phase, episode, member)
    metrics/ticks.csv          one row per (phase, episode, tick, member) if record_ticks
    checkpoints/episode_XXXXXX.npz  network saves (spikey.snn.io format)
    checkpoints/latest.json    the last complete checkpoint
    summary.json               final figures
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pandas as pd

from spikey.training.config import check_config

EVAL_STREAM = 1_000_003  # separates evaluation game seeds from training ones


@dataclass
class RunResult:
    """What :func:`train` returns."""

    network: object
    episodes: pd.DataFrame
    ticks: pd.DataFrame | None
    summary: dict
    run_dir: str | None = None
    config: dict = field(default_factory=dict)


def episode_seed(member_seed: int, episode: int, stream: int = 0) -> int:
    """Game seed of one member's episode: a function of its own seed only."""
    return int(np.random.SeedSequence([member_seed, stream, episode]).generate_state(1)[0])


def make_games(game: dict, batch_size: int):
    """A gymnasium vector env of ``batch_size`` copies of the configured game."""
    import spikey.games  # noqa: F401

    # Spikey's own games are natively batched (one array step for all members);
    # other environments run as B copies, seeded like solo runs.
    mode = None if game["id"].startswith("spikey/") else "sync"
    return gym.make_vec(game["id"], num_envs=batch_size, vectorization_mode=mode, **game["kwargs"])


def _atomic_write(path: str, write) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON to ``path``, atomically (numpy values become plain)."""
    _atomic_write(path, lambda h: json.dump(data, h, indent=2, default=_plain))


def write_csv(path: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` as CSV without its index, atomically."""
    _atomic_write(path, lambda h: frame.to_csv(h, index=False))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _mean_rate(network) -> np.ndarray:
    first = network.n_neurons - network.n_outputs
    counts = network.tick_spikes[:, :, first:].sum(axis=(1, 2))
    return counts * 1000.0 / (network.processing_steps * network.dt * network.n_outputs)


def play_episode(network, games, seeds, max_ticks, phase, episode, record_ticks, tick_rows):
    """Play one lockstep episode (see :func:`spikey.games.run.run_episode`); return
    per-member (return, length) arrays, appending per-tick metric rows to ``tick_rows``."""
    from spikey.games.run import run_episode

    members = np.arange(network.batch_size)

    def record(tick, active, action, reward):
        tick_rows.append(pd.DataFrame({
            "phase": phase, "episode": episode, "tick": tick, "member": members[active],
            "action": np.asarray(action).reshape(len(members), -1)[active, 0],
            "reward": reward[active], "output_rate": _mean_rate(network)[active],
        }))

    result = run_episode(network, games, seeds=[int(s) for s in seeds], max_steps=max_ticks,
                         reset_network=False, on_tick=record if record_ticks else None)
    return result.returns, result.lengths


def train(config, run_dir: str | None = None, resume: bool = False, callbacks=(),
          progress: bool | None = None, network=None, stop_after: int | None = None,
          reporters=()) -> RunResult:
    """Train a network on a game as the experiment config says.

    Parameters
    ----------
    config : dict or path
        Experiment config (see :mod:`spikey.training.config`).
    run_dir : str, optional
        Folder for the run; nothing is written when None.
    resume : bool
        Continue from the latest checkpoint in ``run_dir`` (its episodes are not
        played again, nor counted twice).
    callbacks : sequence of callables
        Each is called ``callback(network=..., episode=..., rows=DataFrame)``
        after every training episode, before its checkpoint is written.
    reporters : sequence of callables
        Like callbacks, with ``run_dir=...`` too, called after the checkpoint.
    progress : bool, optional
        Show a progress bar; default: only on a terminal.
    network : Network, optional
        Start from this network instead of building one from the config.
    stop_after : int, optional
        Stop (as if interrupted) after this many episodes of this call; for tests.

    Returns
    -------
    RunResult
    """
    from tqdm.auto import tqdm

    from spikey.snn.network import Network

    config = check_config(config)
    training = config["training"]
    start_episode, episode_rows, tick_rows = 0, [], []
    if run_dir is not None:
        run_dir = os.path.abspath(run_dir)
        os.makedirs(os.path.join(run_dir, "metrics"), exist_ok=True)
        write_json(os.path.join(run_dir, "config.json"), config)
    if resume and run_dir is not None:
        latest = os.path.join(run_dir, "checkpoints", "latest.json")
        if os.path.exists(latest):
            with open(latest, encoding="utf-8") as handle:
                state = json.load(handle)
            network = Network.load(os.path.join(run_dir, "checkpoints", state["network"]))
            start_episode = state["episodes_done"]
            episode_rows = [pd.read_csv(os.path.join(run_dir, "metrics", "episodes.csv"))]
            ticks_path = os.path.join(run_dir, "metrics", "ticks.csv")
            if training["record_ticks"] and os.path.exists(ticks_path):
                tick_rows = [pd.read_csv(ticks_path)]
    if network is None:
        network = Network.from_config(config["network"])
    B = network.batch_size
    seeds = list(network.seeds)
    games = make_games(config["game"], B)
    started = time.perf_counter()
    episodes = training["episodes"]
    bar = tqdm(range(start_episode, episodes), desc="train", unit="episode",
               disable=(not progress) if progress is not None else None)
    played = 0
    for episode in bar:
        network.train()
        t0 = time.perf_counter()
        returns, lengths = play_episode(network, games, [episode_seed(s, episode) for s in seeds],
                                        training["max_ticks"], "train", episode,
                                        training["record_ticks"], tick_rows)
        rows = _episode_rows("train", episode, returns, lengths, network, time.perf_counter() - t0)
        episode_rows.append(rows)
        bar.set_postfix(mean_return=float(returns.mean()))
        for callback in callbacks:
            callback(network=network, episode=episode, rows=rows)
        played += 1
        every = training["checkpoint_every"]
        if run_dir is not None and every and (episode + 1) % every == 0:
            save_checkpoint(run_dir, network, episode + 1, episode_rows, tick_rows)
        for reporter in reporters:
            reporter(network=network, episode=episode, rows=rows, run_dir=run_dir)
        if stop_after is not None and played >= stop_after:
            break
    else:
        for episode in range(training["eval_episodes"]):
            network.eval()
            t0 = time.perf_counter()
            returns, lengths = play_episode(
                network, games, [episode_seed(s, episode, EVAL_STREAM) for s in seeds],
                training["max_ticks"], "eval", episode, training["record_ticks"], tick_rows)
            episode_rows.append(_episode_rows("eval", episode, returns, lengths, network,
                                              time.perf_counter() - t0))
        network.train()
    games.close()
    episodes_df = pd.concat(episode_rows, ignore_index=True) if episode_rows else pd.DataFrame()
    ticks_df = pd.concat(tick_rows, ignore_index=True) if tick_rows else None
    summary = summarize(episodes_df, time.perf_counter() - started)
    if run_dir is not None:
        done = start_episode + played
        save_checkpoint(run_dir, network, done, [episodes_df], [ticks_df] if ticks_df is not None else [])
        write_json(os.path.join(run_dir, "summary.json"), summary)
    return RunResult(network, episodes_df, ticks_df, summary, run_dir, config)


def _episode_rows(phase, episode, returns, lengths, network, seconds):
    weights = network.parts["weights"]
    B = network.batch_size
    present = weights.mask.reshape(B, -1)
    values = weights.matrix.reshape(B, -1)
    count = np.maximum(present.sum(axis=1), 1)
    mean = (values * present).sum(axis=1) / count
    std = np.sqrt(np.maximum(((values - mean[:, None]) ** 2 * present).sum(axis=1) / count, 0))
    return pd.DataFrame({
        "phase": phase, "episode": episode, "member": np.arange(B),
        "seed": list(network.seeds), "return": returns, "length": lengths,
        "mean_reward": returns / np.maximum(lengths, 1), "weight_mean": mean, "weight_std": std,
        "wall_time": seconds,
    })


def member_summary(episodes: pd.DataFrame) -> pd.DataFrame:
    """Per-member final figures (index: member), the columns of :func:`summarize`."""
    out = {}
    for phase in ("train", "eval"):
        rows = _final_rows(episodes, phase)
        if len(rows):
            by_member = rows.groupby("member")
            out[f"{phase}_mean_return"] = by_member["return"].mean().astype(float)
            out[f"{phase}_mean_reward"] = by_member["mean_reward"].mean().astype(float)
    return pd.DataFrame(out)


def _final_rows(episodes: pd.DataFrame, phase: str) -> pd.DataFrame:
    """Training: the last episode (where learning got to); evaluation: every episode."""
    rows = episodes[episodes["phase"] == phase]
    if phase == "train" and len(rows):
        rows = rows[rows["episode"] == rows["episode"].max()]
    return rows


def summarize(episodes: pd.DataFrame, seconds: float) -> dict:
    """Final figures of a run: means over the last training episode and over all evaluation
    episodes (all members)."""
    out = {"wall_time": seconds}
    if episodes.empty:
        return out
    for phase in ("train", "eval"):
        rows = episodes[episodes["phase"] == phase]
        if len(rows):
            final = _final_rows(episodes, phase)
            out[f"{phase}_episodes"] = int(rows["episode"].nunique())
            out[f"{phase}_mean_return"] = float(final["return"].mean())
            out[f"{phase}_mean_reward"] = float(final["mean_reward"].mean())
    return out


def save_checkpoint(run_dir, network, episodes_done, episode_rows, tick_rows) -> None:
    """Save network and metrics so far; ``latest.json`` is written last, atomically."""
    folder = os.path.join(run_dir, "checkpoints")
    os.makedirs(folder, exist_ok=True)
    name = f"episode_{episodes_done:06d}.npz"
    network.save(os.path.join(folder, name))
    if episode_rows:
        write_csv(os.path.join(run_dir, "metrics", "episodes.csv"), pd.concat(episode_rows, ignore_index=True))
    if tick_rows:
        write_csv(os.path.join(run_dir, "metrics", "ticks.csv"), pd.concat(tick_rows, ignore_index=True))
    write_json(os.path.join(folder, "latest.json"), {"network": name, "episodes_done": episodes_done})
