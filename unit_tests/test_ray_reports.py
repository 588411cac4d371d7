"""A Ray Train worker reports to Ray (with its run folder) only after a new checkpoint and at
the end: each report cost ~0.2 s (Ray Train syncs the ranks through an actor) plus a copy of
the folder that grew with ticks.csv. Runs the worker function in this process with
ray.train's report and checkpoint lookup replaced: no Ray."""

import os

import pytest

ray = pytest.importorskip("ray")
import ray.train  # noqa: E402

from spikey.training import distributed  # noqa: E402
from spikey.training.loop import episode_seed  # noqa: E402,F401 - the loop this drives

HERE = os.path.dirname(__file__)


def _config(episodes=5, checkpoint_every=2):
    from spikey.training import load_config

    config = load_config(os.path.join(HERE, "..", "examples", "configs", "xor.yaml"))
    config["network"]["network"].update(processing_steps=20, batch_size=1)
    config["game"]["kwargs"]["n_presentations"] = 4
    config["training"].update(episodes=episodes, max_ticks=4, eval_episodes=1,
                              checkpoint_every=checkpoint_every)
    return config


@pytest.mark.parametrize("every, carrying", [(2, [1, 3, "final"]), (1, [0, 1, 2, 3, 4, "final"]),
                                             (0, ["final"])])
def test_reports_carry_the_folder_only_after_a_new_checkpoint(tmp_path, monkeypatch, every,
                                                              carrying):
    reports = []

    def report(metrics, checkpoint=None):
        if checkpoint is not None:
            with checkpoint.as_directory() as folder:
                files = sorted(os.listdir(os.path.join(folder, "rank_0", "checkpoints")))
        else:
            files = None
        reports.append(("final" if metrics.get("final") else metrics["episode"], files))

    monkeypatch.setattr(ray.train, "report", report)
    monkeypatch.setattr(ray.train, "get_checkpoint", lambda: None)
    distributed._worker_run({}, 0, _config(checkpoint_every=every), str(tmp_path / "run"))
    assert [episode for episode, _ in reports] == carrying
    assert all(files is not None for _, files in reports)  # every report carries the folder
    for episode, files in reports:
        if files is not None and episode != "final":  # the checkpoint just written, complete
            assert files == [f"episode_{episode + 1:06d}.npz", "latest.json"]


@pytest.mark.parametrize("every, expected", [(0, 1), (1, 1), (4, 4)])
def test_a_ray_worker_checkpoints_as_the_config_says_and_every_episode_for_0(every, expected):
    config = _config(checkpoint_every=every)
    config["network"]["network"]["seed"] = config["training"]["seed"]
    worker = distributed._worker_config(config, 1)
    assert worker["training"]["checkpoint_every"] == expected
    assert config["training"]["checkpoint_every"] == every  # the caller's config is kept


def test_bench_ray_refuses_bad_lengths(capsys):
    import sys

    sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
    import bench_ray

    for argv in (["--episodes", "12", "4"], ["--episodes", "0", "4"], ["--episodes", "4", "4"]):
        with pytest.raises(SystemExit):
            bench_ray.main(argv)
        assert f"--episodes = {argv[1]} {argv[2]}; expected 1 <= first < second" in \
            capsys.readouterr().err
