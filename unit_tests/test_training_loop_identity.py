"""Pins a training run bit for bit: the overhead cuts of issue 19 (health checks, tick rows,
episode rows, checkpoints, the episode driver) must not change what a run computes or writes.

The expected hashes were taken on the code before those cuts (commit 7fbcafa). ``wall_time``
is the only column dropped (it is a measured time).
"""

import hashlib
import os

import numpy as np
import pytest

from spikey.training import load_config, train

HERE = os.path.dirname(os.path.abspath(__file__))
XOR = os.path.join(HERE, "..", "examples", "configs", "xor.yaml")
CARTPOLE = os.path.join(HERE, "..", "examples", "configs", "cartpole.yaml")


def _config(batch_size=2, record_ticks=True, reward_mode="step"):
    if reward_mode == "cartpole":  # a gymnasium game (SyncVectorEnv), tick rewards, modifiers
        config = load_config(CARTPOLE)
        config["network"]["network"]["batch_size"] = batch_size
        config["training"].update(episodes=4, max_ticks=60, eval_episodes=1, checkpoint_every=3,
                                  record_ticks=record_ticks, seed=5)
        return config
    config = load_config(XOR)
    config["network"]["network"].update(processing_steps=100, batch_size=batch_size,
                                        reward_mode=reward_mode)
    config["game"]["kwargs"]["n_presentations"] = 20
    config["training"].update(episodes=5, max_ticks=20, eval_episodes=2, checkpoint_every=2,
                              record_ticks=record_ticks, seed=11)
    return config


def _csv_digest(path):
    """sha256 of a CSV file's bytes with its wall_time column cut out."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")
    header = lines[0].split(",")
    drop = header.index("wall_time") if "wall_time" in header else None
    kept = []
    for line in lines:
        cells = line.split(",")
        if drop is not None and len(cells) == len(header):
            del cells[drop]
        kept.append(",".join(cells))
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]


def _digests(run_dir, result):
    out = {"weights": hashlib.sha256(np.ascontiguousarray(
        result.network.weights.matrix).tobytes()).hexdigest()[:16],
        "episodes.csv": _csv_digest(os.path.join(run_dir, "metrics", "episodes.csv"))}
    ticks = os.path.join(run_dir, "metrics", "ticks.csv")
    if os.path.exists(ticks):
        out["ticks.csv"] = _csv_digest(ticks)
    for name in sorted(os.listdir(os.path.join(run_dir, "checkpoints"))):
        if name.endswith(".npz"):
            from spikey.snn.network import Network

            loaded = Network.load(os.path.join(run_dir, "checkpoints", name))
            out[name] = hashlib.sha256(b"".join(
                np.ascontiguousarray(a).tobytes() for _, a in
                sorted(loaded.state_arrays().items()))).hexdigest()[:16]
    return out


EXPECTED = {  # (batch_size, record_ticks, reward_mode or "cartpole"): digests
    (1, True, "step"): {"episode_000002.npz": "9b8de02d9808b56f",
                        "episode_000004.npz": "3862e6270ac24ae6",
                        "episodes.csv": "2edd9bf8d2936b60", "final.npz": "f02707d8f979548a",
                        "ticks.csv": "be01ec2f759b1e3e", "weights": "2c288bd5f4c92965"},
    (2, True, "step"): {"episode_000002.npz": "ee010936511810be",
                        "episode_000004.npz": "8c4b97109f08c549",
                        "episodes.csv": "16898cc9dd73966d", "final.npz": "df01ad0e60c75238",
                        "ticks.csv": "460587edefb6e4c5", "weights": "a342e60af93cf2f8"},
    (3, False, "tick"): {"episode_000002.npz": "6bebdf088f2a94be",
                         "episode_000004.npz": "7e9b321d91671d21",
                         "episodes.csv": "980803902a539af5", "final.npz": "239af7df840c1fe9",
                         "weights": "53a6d7f04f9fb547"},
    (2, True, "cartpole"): {"episode_000003.npz": "39c82c5ab92929c0",
                            "episodes.csv": "ab61508404264694", "final.npz": "09f53eaafc88b22e",
                            "ticks.csv": "0975ab2d5c42143f", "weights": "41e2fdb35fc91ba1"},
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_training_run_is_bit_identical_to_the_pinned_run(case, tmp_path):
    batch_size, record_ticks, reward_mode = case
    config = _config(batch_size, record_ticks, reward_mode)
    run_dir = str(tmp_path / "run")
    result = train(config, run_dir=run_dir, progress=False)
    assert _digests(run_dir, result) == EXPECTED[case]
