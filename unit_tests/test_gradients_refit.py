"""dataset.refit: after choosing on validation, train again on train + validation and score
that model once on test (spikey.gradients.run)."""

import copy

import pytest

from spikey.core.params import ConfigError
from spikey.gradients.run import run_config

CONFIG = {
    "network": {
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Layered",
                  "readout": "Softmax"},
        "network": {"processing_steps": 6, "reward_mode": "none"},
        "inputs": {"n_inputs": 64, "n_dims": 64, "max_rate": 1000.0, "spike_model": "regular"},
        "neurons": {"n_neurons": 30, "tau": 20.0, "threshold": 8.0},
        "weights": {"layers": [20, 10], "max_weight": 100.0},
        "readout": {"n_outputs": 10},
    },
    "gradient": {"epochs": 2, "batch_size": 64, "learning_rate": 0.05},
    "dataset": {"name": "digits", "refit": True},
}


def test_refit_trains_on_train_and_validation_after_a_last_epoch_validation_run():
    out = run_config(CONFIG)
    first, refit = out["history"], out["refit_history"]
    assert [r["samples"] for r in first] == [1078, 1078]  # the training split
    assert [r["samples"] for r in refit] == [1438, 1438]  # + the 360 validation images
    assert all(r["validation_accuracy"] is None for r in refit)
    # the first run keeps its last epoch: the reported validation accuracy is that epoch's
    assert out["validation_accuracy"] == first[-1]["validation_accuracy"]
    assert out["test_accuracy"] > 0.5  # chance 0.1
    assert out["trainer"].history is refit


def test_refit_is_refused_for_data_parallel_workers(tmp_path):
    from spikey.gradients.distributed import train_gradient_distributed

    with pytest.raises(ConfigError, match="dataset.refit = True is not supported with "
                                          "data-parallel workers"):
        train_gradient_distributed(CONFIG, num_workers=2, storage_path=str(tmp_path))
    bad = copy.deepcopy(CONFIG)
    bad["dataset"]["refit"] = "yes"
    with pytest.raises(ConfigError, match="dataset.refit"):
        run_config(bad)
