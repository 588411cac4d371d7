"""The local training loop, run folders, the reader, resume and the command line."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from spikey.core.params import ConfigError
from spikey.training import check_config, load_config, load_runs, read_run, train
from spikey.training.config import get_path, set_path

HERE = os.path.dirname(__file__)
XOR_YAML = os.path.join(HERE, "..", "examples", "configs", "xor.yaml")


def small_config(batch_size=2, episodes=3):
    config = load_config(XOR_YAML)
    set_path(config, "network.network.processing_steps", 40)
    set_path(config, "network.network.batch_size", batch_size)
    set_path(config, "game.kwargs.n_presentations", 6)
    config["training"].update(episodes=episodes, max_ticks=6, eval_episodes=1, checkpoint_every=1)
    return config


def test_run_folder_is_complete_and_readable(tmp_path):
    result = train(small_config(), run_dir=tmp_path / "run")
    run = tmp_path / "run"
    for name in ["config.json", "summary.json", "metrics/episodes.csv", "metrics/ticks.csv",
                 "checkpoints/latest.json", "checkpoints/episode_000003.npz"]:
        assert (run / name).exists(), name
    data = read_run(run)
    episodes = data["episodes"]
    # 3 training episodes + 1 evaluation, for each of the 2 members
    assert len(episodes) == 8
    assert sorted(episodes[episodes.phase == "train"].episode.unique()) == [0, 1, 2]
    assert (episodes["length"] == 6).all()
    assert len(data["ticks"]) == 8 * 6
    pd.testing.assert_frame_equal(episodes, result.episodes, check_dtype=False)
    assert data["summary"]["train_episodes"] == 3
    assert json.loads((run / "config.json").read_text()) == result.config


def test_reader_loads_a_folder_of_runs_with_varying_keys(tmp_path):
    for seed in (0, 5):
        config = small_config(episodes=1)
        config["training"]["seed"] = seed
        set_path(config, "network.network.seed", seed)
        train(config, run_dir=tmp_path / "sweep" / f"seed{seed}")
    frame = load_runs(tmp_path / "sweep")
    assert set(frame["run"]) == {"seed0", "seed5"}
    assert "training.seed" in frame.columns and "network.network.seed" in frame.columns
    assert set(frame["network.network.seed"]) == {0, 5}


def test_same_seed_same_results_and_resume_counts_each_episode_once(tmp_path):
    whole = train(small_config(), run_dir=tmp_path / "whole")
    interrupted = tmp_path / "parts"
    train(small_config(), run_dir=interrupted, stop_after=2)
    resumed = train(small_config(), run_dir=interrupted, resume=True)
    pd.testing.assert_frame_equal(
        whole.episodes.drop(columns="wall_time"), resumed.episodes.drop(columns="wall_time"))
    np.testing.assert_array_equal(whole.network.weights.matrix, resumed.network.weights.matrix)
    train_rows = resumed.episodes[resumed.episodes.phase == "train"]
    assert train_rows.groupby(["episode", "member"]).size().eq(1).all()


def test_bad_config_fails_fast_naming_the_key(tmp_path):
    config = small_config()
    config["training"]["episods"] = 3
    with pytest.raises(ConfigError, match=r"episods.*did you mean 'episodes'"):
        check_config(config)
    config = small_config()
    set_path(config, "network.neurons.tau", "slow")
    with pytest.raises(ConfigError, match=r"neurons \(LIF\)\.tau = 'slow'"):
        check_config(config)
    config = small_config()
    config["game"]["id"] = "spikey/Logic-XOX-v0"
    with pytest.raises(ConfigError, match="Logic-XOX"):
        check_config(config)
    path = tmp_path / "bad.yaml"
    path.write_text("network: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="no 'tua'"):
        get_path(small_config(), "network.neurons.tua")


def test_command_line_info_train_and_plot(tmp_path, capsys):
    from spikey.cli import main

    assert main(["info", "--part", "MSTDPET"]) == 0
    assert "tau_z" in capsys.readouterr().out
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(small_config(batch_size=1, episodes=1)))
    assert main(["train", str(path), "--local", "--storage", str(tmp_path / "runs")]) == 0
    assert main(["plot", str(tmp_path / "runs" / "tiny")]) == 0
    assert (tmp_path / "runs" / "tiny" / "plots" / "learning_curve.png").stat().st_size > 1000
    assert (tmp_path / "runs" / "tiny" / "plots" / "raster.png").stat().st_size > 1000


def test_each_run_is_counted_once_despite_ray_checkpoint_copies(tmp_path):
    import shutil

    from spikey.training.reader import find_runs

    storage = tmp_path / "spikey_runs"
    train(small_config(episodes=1), run_dir=storage / "xor" / "runs" / "rank_0")
    # what Ray Train leaves next to the runs: checkpoint folders holding copies of them
    for stamp in ("2026-12-05_10-00-00.000001", "2026-12-05_10-00-01.000002"):
        shutil.copytree(storage / "xor" / "runs" / "rank_0",
                        storage / "xor" / f"checkpoint_{stamp}" / "rank_0")
    assert find_runs(storage) == [str(storage / "xor" / "runs" / "rank_0")]
    frame = load_runs(storage)
    assert set(frame["run"]) == {os.path.join("xor", "runs", "rank_0")}
    assert len(frame) == 2 * 2  # one training and one evaluation episode, 2 members, once


def test_local_and_ray_runs_of_one_config_do_not_share_a_folder(tmp_path):
    from spikey.training.distributed import _prepare_run_folder
    from spikey.training.loop import RAY_RUN_FILE, RunFolderError

    ray_folder = tmp_path / "xor"
    ray_folder.mkdir()
    (ray_folder / RAY_RUN_FILE).write_text("{}")
    (ray_folder / "runs").mkdir()
    with pytest.raises(RunFolderError, match="holds a Ray run.*--name"):
        train(small_config(episodes=1), run_dir=ray_folder)
    assert sorted(os.listdir(ray_folder)) == ["runs", RAY_RUN_FILE]  # untouched
    train(small_config(episodes=1), run_dir=ray_folder, overwrite=True)  # replaces it
    assert not (ray_folder / RAY_RUN_FILE).exists() and (ray_folder / "summary.json").exists()
    with pytest.raises(RunFolderError, match="holds a local run"):
        _prepare_run_folder(str(ray_folder), {"config": {}}, resume=True, overwrite=False)


def test_summary_keys_say_what_they_average(tmp_path):
    from spikey.training.loop import member_summary

    result = train(small_config(episodes=3), run_dir=tmp_path / "run")
    rows = result.episodes
    train_rows = rows[rows.phase == "train"]
    last = train_rows[train_rows.episode == 2]
    summary = result.summary
    assert summary["train_last_episode_mean_return"] == pytest.approx(last["return"].mean())
    assert summary["train_last_episode_mean_reward"] == pytest.approx(last["mean_reward"].mean())
    assert summary["train_all_episodes_mean_return"] == pytest.approx(train_rows["return"].mean())
    assert summary["eval_mean_return"] == pytest.approx(rows[rows.phase == "eval"]["return"].mean())
    # the older names stay readable and hold the last episode's figures, as before
    assert summary["train_mean_return"] == summary["train_last_episode_mean_return"]
    assert summary["train_mean_reward"] == summary["train_last_episode_mean_reward"]
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == summary
    members = member_summary(rows)
    np.testing.assert_allclose(members["train_last_episode_mean_return"],
                               last.sort_values("member")["return"])
    assert (members["train_mean_reward"] == members["train_last_episode_mean_reward"]).all()
