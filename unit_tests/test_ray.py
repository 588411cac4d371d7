"""Ray Train (2 workers, injected failure) and Ray Tune on a small XOR config."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import socket
import time

import pandas as pd
import pytest

from spikey.core.params import ConfigError

ray = pytest.importorskip("ray")

from spikey.training.distributed import init_ray, train_distributed  # noqa: E402
from spikey.training.tune import tune_config  # noqa: E402
from test_training import small_config  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    init_ray(num_cpus=2)
    yield
    ray.shutdown()


def _train_rows(result):
    rows = result.episodes[result.episodes.phase == "train"]
    return rows.drop(columns=["wall_time"]).sort_values(["run", "episode", "member"]).reset_index(drop=True)


def test_two_workers_report_metrics_from_both(local_ray, tmp_path):
    result = train_distributed(small_config(batch_size=2, episodes=2), num_workers=2,
                               storage_path=str(tmp_path), name="two")
    rows = _train_rows(result)
    assert set(rows["run"]) == {"rank_0", "rank_1"}
    # each worker trains its own replicas: distinct member seeds 0,1 and 2,3
    assert sorted(rows["seed"].unique()) == [0, 1, 2, 3]
    assert rows.groupby(["run", "episode", "member"]).size().eq(1).all()
    assert len(rows) == 2 * 2 * 2
    assert result.summary["workers"] == 2
    assert not os.path.exists(os.path.expanduser("~/ray_results/two"))


def test_worker_failure_resumes_without_losing_or_repeating_episodes(local_ray, tmp_path):
    config = small_config(batch_size=1, episodes=3)
    clean = train_distributed(config, num_workers=2, storage_path=str(tmp_path / "a"), name="clean")
    failed = train_distributed(config, num_workers=2, storage_path=str(tmp_path / "b"),
                               name="failed", fail_at_episode=1, max_failures=1)
    assert (tmp_path / "b" / ".failed-failed-once").exists()  # the failure did happen
    rows = _train_rows(failed)
    assert rows.groupby(["run", "episode", "member"]).size().eq(1).all()
    assert sorted(rows["episode"].unique()) == [0, 1, 2]
    # resumed from the checkpoint of episode 0: the same numbers as the clean run
    pd.testing.assert_frame_equal(rows, _train_rows(clean))


def test_bad_input_fails_fast(local_ray, tmp_path):
    config = small_config()
    config["network"]["neurons"]["taus"] = 3.0
    with pytest.raises(ConfigError, match="taus"):
        train_distributed(config, num_workers=2, storage_path=str(tmp_path))
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray.shutdown()
    try:
        start = time.perf_counter()
        with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
            init_ray(address=f"127.0.0.1:{port}")
        assert time.perf_counter() - start < 10
    finally:
        init_ray(num_cpus=2)


def test_tune_sweep_returns_a_row_per_trial_and_a_best_network(local_ray, tmp_path):
    space = {"network.synapses.learning_rate": {"grid": [0.1, 0.5]},
             "network.neurons.tau": {"choice": [10.0, 20.0]}}
    result = tune_config(small_config(batch_size=1, episodes=2), space, num_samples=2,
                         storage_path=str(tmp_path), name="sweep")
    frame = result.dataframe
    assert len(frame) == 4
    assert set(frame["config/network.synapses.learning_rate"]) == {0.1, 0.5}
    assert set(result.best_params) == set(space)
    network = result.best_network()
    assert network.synapses.learning_rate == result.best_params["network.synapses.learning_rate"]
    with pytest.raises(ConfigError, match="tua"):
        tune_config(small_config(), {"network.neurons.tua": {"grid": [1.0]}},
                    storage_path=str(tmp_path))


def test_ga_searcher_runs_generations_through_tune_and_fills_the_cache(local_ray, tmp_path):
    from spikey.meta.searcher import evolve_on_ray

    genes = {"network.synapses.learning_rate": {"float": [0.1, 1.0]},
             "network.neurons.tau": {"choice": [10.0, 20.0]}}
    searcher, results = evolve_on_ray(
        small_config(batch_size=1, episodes=1), genes,
        {"population_size": 4, "elite_fraction": 0.25, "seed": 0}, generations=3,
        storage_path=str(tmp_path), name="ga")
    history = searcher.history()
    assert sorted(history["generation"].unique()) == [0, 1, 2]
    assert (history.groupby("generation").size() == 4).all()
    # every trial Tune ran is one cache entry; elites were not run again
    assert len(results) == len(searcher.population.cache) < len(history)
    assert history["fitness"].notna().all()


def test_weight_averaging_makes_workers_agree(local_ray, tmp_path):
    import json

    import numpy as np

    from spikey.snn.network import Network

    result = train_distributed(small_config(batch_size=1, episodes=1), num_workers=2,
                               storage_path=str(tmp_path), name="avg", average_every=1)
    matrices = []
    for rank in (0, 1):
        folder = os.path.join(result.run_dir, f"rank_{rank}", "checkpoints")
        with open(os.path.join(folder, "latest.json")) as handle:
            name = json.load(handle)["network"]
        matrices.append(Network.load(os.path.join(folder, name)).weights.matrix)
    # different seeds drew different initial weights; after averaging both hold the mean
    np.testing.assert_array_equal(matrices[0], matrices[1])
    assert matrices[0].std() > 0
