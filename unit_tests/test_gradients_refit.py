"""dataset.refit: after choosing on validation, train again on train + validation and score
that model once on test (spikey.gradients.run)."""

import copy

import pytest

from spikey.core.params import ConfigError
from spikey.gradients.run import run_config

from gradient_configs import tiny_digits

CONFIG = tiny_digits(gradient={"epochs": 2}, dataset={"refit": True})


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


@pytest.mark.parametrize("config, message", [
    (["network"], r"gradient config = \['network'\]; expected a mapping with the sections"),
    ({"gradient": {}}, "gradient config: missing section 'network'"),
    ({**CONFIG, "data": {}}, r"gradient config: unknown section\(s\) \['data'\]"),
])
def test_a_config_that_is_not_a_gradient_config_is_named(config, message):
    """run_config and the data-parallel trainer share one section check."""
    from spikey.gradients.distributed import train_gradient_distributed

    with pytest.raises(ConfigError, match=message):
        run_config(config)
    with pytest.raises(ConfigError, match=message):
        train_gradient_distributed(config, num_workers=1, storage_path="unused")
