"""Sweeps, GAs, series and the shipped configs follow the run seed rule.

``training.seed`` is the run seed and ``network.network.seed`` follows it
(spikey/training/README.md, "Seeds"). Code that varies configs must keep the
two together: a Tune grid over ``training.seed`` (the documented way to get
replicates) must pass its own pre-check, the best trial's config and network
must carry the best trial's seed, and varying ``network.network.seed`` itself
is refused everywhere instead of being overwritten silently.
"""

import copy
import os

import pytest

from spikey.core.params import ConfigError
from spikey.training.config import check_config, load_config

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHIPPED = ["examples/configs/xor.yaml", "examples/configs/xor_tune.yaml",
           "meta/xor_evolve.yaml", "meta/cartpole_evolve.yaml"]


def _tiny():
    """A small complete XOR experiment (as check_config returns it)."""
    return check_config({
        "network": {
            "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                      "readout": "Threshold"},
            "network": {"processing_steps": 10, "batch_size": 2, "reward_mode": "none"},
            "inputs": {"n_inputs": 4, "n_dims": 2, "rate_map": [0.0, 100.0]},
            "neurons": {"n_neurons": 3},
            "weights": {"low": 0.0, "high": 3.0, "feed_forward": True},
            "readout": {"n_outputs": 1, "threshold": 20.0},
        },
        "game": {"id": "spikey/Logic-XOR-v0", "kwargs": {"n_presentations": 3}},
        "training": {"episodes": 1, "max_ticks": 3, "eval_episodes": 1, "seed": 7,
                     "checkpoint_every": 0, "record_ticks": False},
    })


@pytest.mark.parametrize("path", SHIPPED)
def test_shipped_configs_take_another_training_seed(path):
    # the shipped files set the run seed only, so editing training.seed is enough
    # (they used to set network.network.seed: 0 too, and any other training.seed was refused)
    config = load_config(os.path.join(ROOT, path))
    config.pop("evolve", None)
    config.pop("search", None)
    assert "seed" not in config["network"]["network"]
    config["training"]["seed"] = 3
    assert check_config(config)["network"]["network"]["seed"] == 3


def test_cartpole_ga_script_seed_reaches_the_batch():
    # what `python meta/cartpole.py --seed 3` builds: a generation seeded 3 (was a ConfigError)
    from spikey.meta.batched import BatchedEvolveNetwork

    config = load_config(os.path.join(ROOT, "meta", "cartpole_evolve.yaml"))
    spec = config.pop("evolve")
    config["training"]["seed"] = 3
    fitness = BatchedEvolveNetwork(config, spec["metric"])
    genotypes = [{path: 1.0 for path in spec["genes"]}, {path: 2.0 for path in spec["genes"]}]
    batch = fitness.batch_config(genotypes)
    assert batch["network"]["network"]["seed"] == 3
    assert batch["network"]["network"]["member_seeds"] == [3, 3]
    assert fitness.batch_config(genotypes, rerun=1)["network"]["network"]["seed"] == 1003


def test_apply_params_keeps_the_network_seed_with_the_run_seed():
    from spikey.training.tune import TuneResult, apply_params

    base = _tiny()
    assert base["network"]["network"]["seed"] == 7
    config = apply_params(base, {"training.seed": 11, "network.neurons.tau": 5.0})
    assert config["training"]["seed"] == 11 and config["network"]["network"]["seed"] == 11
    assert check_config(config)["network"]["network"]["seed"] == 11  # no conflict
    assert base["network"]["network"]["seed"] == 7  # the base is not changed
    # other params leave the seed alone
    assert apply_params(base, {"network.neurons.tau": 5.0})["network"]["network"]["seed"] == 7
    # the best trial's config and network carry its run seed (were seeded 7, and
    # training the best config was refused as a seed conflict)
    best = TuneResult(dataframe=None, best_params={"training.seed": 11}, base_config=base)
    assert best.best_config["network"]["network"]["seed"] == 11
    assert list(best.best_network().seeds) == [11, 12]


def test_tune_grid_over_the_training_seed_passes_its_precheck(monkeypatch):
    pytest.importorskip("ray")
    from spikey.training import distributed
    from spikey.training.tune import tune_config

    class Started(Exception):
        pass

    def fake_init_ray(*args, **kwargs):
        raise Started

    monkeypatch.setattr(distributed, "init_ray", fake_init_ray)
    # every grid point is checked before Ray starts; a training.seed grid used to fail
    # there ("network.network.seed = 7 but training.seed = 0")
    with pytest.raises(Started):
        tune_config(_tiny(), {"training.seed": {"grid": [0, 1, 2]}})
    with pytest.raises(ConfigError, match=r"search\.network\.network\.seed: sweep training\.seed"):
        tune_config(_tiny(), {"network.network.seed": {"grid": [0, 1]}})


def test_ga_genes_follow_the_run_seed():
    from spikey.meta.metagames import EvolveNetwork

    fitness = EvolveNetwork(_tiny())
    config = fitness.config_for({"training.seed": 20, "network.neurons.tau": 4.0}, rerun=1)
    assert config["training"]["seed"] == 1020 and config["network"]["network"]["seed"] == 1020
    assert fitness.config_for({"network.neurons.tau": 4.0})["network"]["network"]["seed"] == 7
    # a network.network.seed gene used to be overwritten silently by the run seed
    with pytest.raises(ConfigError, match=r"genes\.network\.network\.seed: sweep training\.seed"):
        fitness.config_for({"network.network.seed": 3})


def test_evolve_and_ray_ga_refuse_a_network_seed_gene_before_running(tmp_path, monkeypatch):
    from spikey.meta.evolve import evolve

    config = copy.deepcopy(_tiny())
    config["evolve"] = {"genes": {"network.network.seed": {"int": [0, 9]}},
                        "ga": {"population_size": 2}, "generations": 1}
    with pytest.raises(ConfigError, match=r"evolve\.genes\.network\.network\.seed"):
        evolve(config, storage_path=str(tmp_path), name="evo", progress=False)
    assert not (tmp_path / "evo" / "history.csv").exists()
    pytest.importorskip("ray")
    from spikey.meta.searcher import evolve_on_ray
    from spikey.training import distributed

    monkeypatch.setattr(distributed, "init_ray", lambda *a, **k: pytest.fail("Ray started"))
    with pytest.raises(ConfigError, match=r"genes\.network\.network\.seed"):
        evolve_on_ray(_tiny(), {"network.network.seed": {"int": [0, 9]}},
                      storage_path=str(tmp_path))


def test_series_varies_the_run_seed_not_the_network_seed():
    from spikey.meta import run_series

    seen = []

    def fake_run(config):
        seen.append((config["training"]["seed"], config["network"]["network"]["seed"]))
        return {"score": 0.0}

    run_series(_tiny(), {"training.seed": [1, 2]}, repeats=2, run=fake_run)
    assert seen == [(1, 1), (1001, 1001), (2, 2), (1002, 1002)]
    # used to run every point with the network seed overwritten by training.seed
    with pytest.raises(ConfigError, match=r"series\.network\.network\.seed: sweep training\.seed"):
        run_series(_tiny(), {"network.network.seed": [1, 2]}, run=fake_run)
