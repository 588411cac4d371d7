"""benchmarks/bench_classification.py as run_all runs it, and its row arithmetic."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))


def test_run_all_runs_the_classification_benchmark_with_flags_it_understands():
    import bench_classification
    import run_all
    entry = {b.name: b for b in run_all.REGISTRY}["classification"]
    assert entry.module == "bench_classification" and entry.default and entry.heavy
    flags = run_all.known_flags(bench_classification.main)
    for argv in (entry.args, entry.quick):
        groups = run_all.flag_groups(argv)
        assert groups and all(group[0] in flags for group in groups), (argv, flags)
    assert "--route-time" in entry.args and "--json" in flags


def test_run_all_targets_report_the_unsupervised_route_s_training_time():
    import run_all
    by_name = {"classification": {"meta": {"route_time": [
        {"batch_size": 5, "train_seconds": 20.3}, {"batch_size": 1, "train_seconds": 5.7}]}}}
    text = "\n".join(run_all.targets_section(by_name))
    assert "| unsupervised digits route, 5 seeds' training as one batch (issue 17) | <= 120 s " \
           "| 20 s | yes |" in text
    by_name["classification"]["meta"]["route_time"][0]["train_seconds"] = 130.0
    assert "| 130 s | no |" in "\n".join(run_all.targets_section(by_name))


def test_rows_count_every_member_s_samples():
    import bench_classification
    row = bench_classification._row("stdp", 4, 10, 2.0, 0.5, ms_per_sample=200)
    # 4 members x 10 samples in 2 s of training and 0.5 s of inference
    assert row["train_samples_per_s"] == pytest.approx(20.0)
    assert row["infer_samples_per_s"] == pytest.approx(80.0)
    assert row["train_per_member"] == pytest.approx(5.0) and row["ms_per_sample"] == 200


def test_the_timer_warms_up_once_then_takes_the_median():
    import bench_classification
    calls = []
    seconds = bench_classification._median(lambda: calls.append(1), 3)
    assert len(calls) == 4 and 0.0 <= seconds < 0.1


def test_mnist_config_is_the_route_resized_to_784_pixels():
    import bench_classification
    config = bench_classification.mnist_config()
    net = config["network"]
    assert net["inputs"]["n_pixels"] == 784 and net["neurons"]["n_neurons"] == 800
    assert config["route"]["excitatory"] == 400 and config["route"]["interneurons"] == "paired"
    rows = {m["part"]: m.get("rows") for m in net["modifiers"]}
    assert rows["NormalizeWeights"] == [0, 784] and rows["FreezeWeights"] == [784, 1584]
