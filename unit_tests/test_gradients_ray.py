"""Data-parallel gradient training on Ray Train and Ray Tune sweeps of a gradient config
(spikey.gradients.distributed, issue 16). Local Ray on 127.0.0.1, files in tmp folders."""

import copy
import os

import numpy as np
import pytest

from spikey.core.params import ConfigError

ray = pytest.importorskip("ray")

from spikey.gradients.distributed import train_gradient_distributed, tune_gradient  # noqa: E402
from spikey.gradients.run import prepare_data  # noqa: E402
from spikey.gradients.trainer import GradientTrainer  # noqa: E402
from spikey.training.distributed import init_ray  # noqa: E402

from gradient_configs import tiny_digits  # noqa: E402

CONFIG = tiny_digits(gradient={"hidden_dropout": 0.2, "input_noise": 0.1})


@pytest.fixture(scope="module")
def local_ray():
    init_ray(num_cpus=2)
    yield
    ray.shutdown()


@pytest.mark.slow  # ~40 s: Ray Train starts a worker group
def test_two_workers_train_the_weights_of_one_process(local_ray, tmp_path):
    """The minibatch gradient summed over 2 workers (dropout and noise drawn per place in the
    minibatch) gives one process's weights and history."""
    out = train_gradient_distributed(CONFIG, num_workers=2, storage_path=str(tmp_path),
                                     name="dp")
    one = GradientTrainer(CONFIG["network"], CONFIG["gradient"])
    train, validation, _ = prepare_data(one, CONFIG["dataset"], test=False)
    one.fit(train, validation)
    assert out["workers"] == 2
    assert np.abs(out["trainer"].model.weights).max() > 0
    np.testing.assert_allclose(out["trainer"].model.weights, one.model.weights, atol=1e-9,
                               rtol=0)
    for mine, theirs in zip(out["history"], one.history):
        assert mine["validation_accuracy"] == theirs["validation_accuracy"]
        assert mine["train_accuracy"] == theirs["train_accuracy"]
        assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-9)
    assert out["history"][-1]["validation_accuracy"] > 0.3  # chance 0.1
    assert not os.path.exists(os.path.expanduser("~/ray_results/dp"))


def test_tune_sweeps_gradient_keys_on_validation(local_ray, tmp_path):
    frame, best = tune_gradient(CONFIG, {"gradient.learning_rate": {"grid": [0.0, 0.05]}},
                                storage_path=str(tmp_path), name="sweep", scheduler=None)
    assert len(frame) == 2
    rows = frame.set_index("config/gradient.learning_rate")["validation_accuracy"]
    assert rows[0.0] < 0.2 < 0.3 < rows[0.05]  # no learning: about chance (0.1)
    assert best == {"gradient.learning_rate": 0.05}
    assert "test_accuracy" not in frame.columns
    assert (tmp_path / "sweep").is_dir()


@pytest.mark.parametrize("kwargs, message", [
    ({"space": {"gradient.learnig_rate": {"grid": [0.1]}}},
     "search.gradient.learnig_rate: gradient has no key 'learnig_rate'; did you mean "
     "'learning_rate'"),
    ({"space": {"network.neurons.taus": {"grid": [5.0]}}},
     "search.network.neurons.taus: the config has no 'network.neurons.taus'"),
    ({"space": {"training.seed": {"grid": [1]}}},
     "search.training.seed: expected a path under 'gradient', 'network' or 'dataset'"),
    ({"space": {"gradient.learning_rate": {"grid": [0.1]}}, "metric": "test_accuracy"},
     "metric = 'test_accuracy'.*the test split is never a sweep metric"),
    ({"space": {"gradient.optimizer": {"grid": ["adam", "adagrad"]}}},
     "gradient.optimizer = 'adagrad' is not allowed"),
    ({"space": {}}, "search: expected a mapping of config path -> spec"),
])
def test_bad_sweeps_fail_before_ray_starts(kwargs, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        tune_gradient(CONFIG, storage_path=str(tmp_path), **kwargs)


def test_bad_data_parallel_input_fails_before_ray_starts(tmp_path):
    with pytest.raises(ConfigError, match="num_workers = 0; expected an integer >= 1"):
        train_gradient_distributed(CONFIG, num_workers=0, storage_path=str(tmp_path))
    bad = copy.deepcopy(CONFIG)
    bad["gradient"]["optimiser"] = "adam"
    with pytest.raises(ConfigError, match="unknown key 'optimiser'"):
        train_gradient_distributed(bad, num_workers=2, storage_path=str(tmp_path))
    with pytest.raises(ConfigError, match="unknown section"):
        train_gradient_distributed({**CONFIG, "data": {}}, num_workers=2,
                                   storage_path=str(tmp_path))


def test_spikey_tune_of_a_gradient_config_without_search_is_refused(tmp_path, capsys):
    import yaml

    from spikey.cli import main

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    assert main(["tune", str(path), "--storage", str(tmp_path / "runs")]) == 2
    assert "a tune config needs a 'search' section" in capsys.readouterr().err


@pytest.mark.slow  # ~40 s: Ray Train starts a worker group
def test_spikey_train_with_workers_runs_data_parallel(local_ray, tmp_path, capsys):
    import json

    import yaml

    from spikey.cli import main

    path = tmp_path / "dp.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    assert main(["train", str(path), "--workers", "2", "--storage", str(tmp_path / "runs")]) == 0
    summary = json.loads((tmp_path / "runs" / "dp" / "summary.json").read_text())
    assert summary["workers"] == 2 and summary["validation_accuracy"] > 0.3
    assert (tmp_path / "runs" / "dp" / "weights.npz").exists()
    one = GradientTrainer(CONFIG["network"], CONFIG["gradient"])
    train, validation, _ = prepare_data(one, CONFIG["dataset"], test=False)
    one.fit(train, validation)
    assert summary["validation_accuracy"] == one.accuracy(*validation)
