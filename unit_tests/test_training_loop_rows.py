"""The training loop's metrics rows without pandas on the per-episode path: the CSV text its
writer produces equals pandas' byte for byte, and it hands pandas what it cannot spell."""

import io
import os

import numpy as np
import pandas as pd
import pytest

from spikey.training import loop


def _pandas(columns, header=True):
    return pd.DataFrame(columns).to_csv(index=False, header=header)


def _edge_floats(dtype, rng):
    info = np.finfo(dtype)
    values = rng.normal(size=400) * 10.0 ** rng.integers(-40, 40, 400)
    edges = [0.0, -0.0, np.inf, -np.inf, info.max, -info.max, info.tiny,
             info.smallest_subnormal, 1e16, 1e15, 1e-5, 1e-4, 0.1, 100.0, 12.5, 1 / 3]
    with np.errstate(over="ignore"):
        return np.concatenate([values, edges]).astype(dtype)


@pytest.mark.parametrize("header", [True, False])
def test_csv_text_equals_pandas_byte_for_byte(header):
    rng = np.random.default_rng(7)
    n = 416
    columns = {
        "phase": np.full(n, "train", dtype=object),
        "episode": np.full(n, 3, dtype=np.int64),
        "member": rng.integers(-5, 2**40, n),
        "small": rng.integers(0, 200, n).astype(np.int32),
        "flag": rng.random(n) < 0.5,
        "f64": _edge_floats(np.float64, rng),
        "f32": _edge_floats(np.float32, rng),
        "u8": rng.integers(0, 255, n).astype(np.uint8),
    }
    rows = loop._Columns(columns)
    text = rows._text(header)
    assert text is not None  # the fast path wrote it
    assert text == _pandas(columns, header)
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, header=header)
    assert buffer.getvalue() == text and rows.to_csv(header=header) == text and len(rows) == n


@pytest.mark.parametrize("columns", [
    {"a": np.array([1.0, np.nan]), "b": np.array([1, 2])},                 # NaN: pandas writes ''
    {"a": np.array([1.5, 2.5])},                                           # one column: ""
    {"a": np.array(["x,y", "z"], dtype=object), "b": np.array([1, 2])},    # needs quotes
    {"a": np.array(['say "hi"', "z"], dtype=object), "b": np.array([1, 2])},
    {"a": np.array(["", "z"], dtype=object), "b": np.array([1, 2])},
    {"a": np.array([1, "z"], dtype=object), "b": np.array([1, 2])},        # not all strings
    {"a,b": np.array([1, 2]), "c": np.array([1, 2])},                      # a name with a comma
    {"a": np.array([1 + 2j, 3j]), "b": np.array([1, 2])},                  # complex
    {"a": np.array([1.5, 2.5], dtype=np.float16), "b": np.array([1, 2])},
])
def test_what_the_writer_cannot_spell_goes_to_pandas(columns):
    rows = loop._Columns(columns)
    assert rows._text(True) is None
    assert rows.to_csv(header=True) == _pandas(columns)


def test_episode_and_tick_files_are_pandas_bytes(tmp_path):
    """A run's metrics files equal what pandas writes for the rows read back."""
    from spikey.training import load_config, train

    config = load_config(os.path.join(os.path.dirname(__file__), "..", "examples", "configs",
                                      "xor.yaml"))
    config["network"]["network"].update(processing_steps=50, batch_size=2)
    config["game"]["kwargs"]["n_presentations"] = 6
    config["training"].update(episodes=2, max_ticks=6, eval_episodes=1, checkpoint_every=1)
    train(config, run_dir=tmp_path / "run", progress=False)
    for name in ("episodes.csv", "ticks.csv"):
        path = tmp_path / "run" / "metrics" / name
        text = path.read_text()
        assert text == pd.read_csv(path).to_csv(index=False)
        assert len(text.splitlines()) == 1 + {"episodes.csv": 3 * 2,
                                             "ticks.csv": 3 * 6 * 2}[name]


def _summarize_reference(episodes, seconds):
    """summarize as it was written with DataFrame row filters (commit 7fbcafa)."""
    out = {"wall_time": seconds}
    if episodes.empty:
        return out
    for phase in ("train", "eval"):
        rows = episodes[episodes["phase"] == phase]
        if len(rows):
            final = loop._final_rows(episodes, phase)
            prefix = "train_last_episode" if phase == "train" else "eval"
            out[f"{phase}_episodes"] = int(rows["episode"].nunique())
            out[f"{prefix}_mean_return"] = float(final["return"].mean())
            out[f"{prefix}_mean_reward"] = float(final["mean_reward"].mean())
    train = episodes[episodes["phase"] == "train"]
    if len(train):
        out["train_all_episodes_mean_return"] = float(train["return"].mean())
        last = train[train["episode"] > train["episode"].max() - 100]
        out["train_last100_mean_return"] = float(last["return"].mean())
    evaluation = episodes[episodes["phase"] == "eval"]
    if len(evaluation):
        per_member = evaluation.groupby("member")["return"].mean()
        out["eval_member_mean_return"] = [float(v) for v in per_member.to_numpy()]
    for old, new in loop.SUMMARY_ALIASES.items():
        if new in out:
            out[old] = out[new]
    return out


@pytest.mark.parametrize("train_episodes, eval_episodes, members", [
    (1, 0, 1), (3, 2, 4), (250, 7, 3), (0, 3, 2), (130, 0, 5)])
def test_summarize_equals_the_row_filter_version_bit_for_bit(train_episodes, eval_episodes,
                                                              members):
    rng = np.random.default_rng(train_episodes + 10 * members)
    rows = []
    for phase, count in (("train", train_episodes), ("eval", eval_episodes)):
        for episode in range(count):
            for member in rng.permutation(members):  # members in any order
                length = int(rng.integers(1, 500))
                value = float(rng.normal() * 10.0 ** rng.integers(-3, 4))
                rows.append({"phase": phase, "episode": episode, "member": int(member),
                             "return": value, "length": length, "mean_reward": value / length})
    frame = pd.DataFrame(rows)
    got, expected = loop.summarize(frame, 1.5), _summarize_reference(frame, 1.5)
    assert got == expected and list(got) == list(expected)
    if len(frame):
        back = pd.read_csv(io.StringIO(frame.to_csv(index=False)))  # as read from the file
        assert loop.summarize(back, 1.5) == _summarize_reference(back, 1.5)
