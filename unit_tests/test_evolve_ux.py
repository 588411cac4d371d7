"""`spikey evolve` as a user meets it: resume announced and checked, a killed generation
keeps what it evaluated, progress within a generation, Tune spellings, the Ray backend."""

import json
import os
import sys

import pandas as pd
import pytest

from spikey.core.params import ConfigError
from spikey.meta.evolve import evolve
from spikey.meta.metagames import EvolveNetwork

sys.path.insert(0, os.path.dirname(__file__))
from test_training import small_config  # noqa: E402

GENES = {"network.synapses.learning_rate": {"float": [0.1, 1.0]},
         "network.neurons.tau": {"choice": [10.0, 20.0, 40.0]}}


def evolve_config(generations=3, genes=None, **evolve_keys):
    config = small_config(batch_size=1, episodes=1)
    config["evolve"] = {"genes": dict(genes or GENES),
                        "ga": {"population_size": 4, "elite_fraction": 0.25, "mutation_rate": 0.8,
                               "seed": 3},
                        "generations": generations, "metric": "eval_mean_reward", **evolve_keys}
    return config


def fake_fitness(calls, kill_at=None):
    """A cheap deterministic fitness of the genotype that logs its calls (and can 'be killed')."""

    def fitness(self, genotype):
        if kill_at is not None and len(calls) == kill_at:
            raise KeyboardInterrupt("killed")
        calls.append(json.dumps(genotype, sort_keys=True))
        return genotype["network.synapses.learning_rate"] * genotype["network.neurons.tau"]

    return fitness


def test_resume_is_announced_and_refused_when_genes_or_settings_differ(tmp_path, monkeypatch,
                                                                       capsys):
    calls = []
    monkeypatch.setattr(EvolveNetwork, "fitness", fake_fitness(calls))
    _, first = evolve(evolve_config(2), storage_path=str(tmp_path), name="evo", progress=False)
    assert "resuming" not in capsys.readouterr().out
    _, again = evolve(evolve_config(3), storage_path=str(tmp_path), name="evo", progress=False)
    out = capsys.readouterr().out
    assert f"resuming {tmp_path / 'evo' / 'ga.json'} at generation 3 of 3" in out
    pd.testing.assert_frame_equal(again[again.generation < 2].reset_index(drop=True), first)
    # the ranges changed: the old individuals lie outside them, so no silent resume
    moved = {**GENES, "network.synapses.learning_rate": {"float": [2.0, 3.0]}}
    with pytest.raises(ConfigError, match=r"cannot resume .*ga.json.*genes\.network\.synapses"
                       r"\.learning_rate\.float: \[0\.1, 1\.0\] -> \[2\.0, 3\.0\].*overwrite=True"):
        evolve(evolve_config(3, moved), storage_path=str(tmp_path), name="evo", progress=False)
    for change, needle in [({"ga": {"population_size": 5, "elite_fraction": 0.25,
                                    "mutation_rate": 0.8, "seed": 3}},
                            "ga.population_size: 4 -> 5"),
                           ({"metric": "train_mean_reward"},
                            "metric: 'eval_mean_reward' -> 'train_mean_reward'"),
                           ({"mode": "min"}, "ga.mode: 'max' -> 'min'")]:
        config = evolve_config(3)
        config["evolve"].update(change)
        with pytest.raises(ConfigError, match=needle.replace("[", r"\[")):
            evolve(config, storage_path=str(tmp_path), name="evo", progress=False)
    other = evolve_config(3)
    other["training"]["max_ticks"] = 5  # the experiment config differs
    with pytest.raises(ConfigError, match="config.training.max_ticks: 6 -> 5"):
        evolve(other, storage_path=str(tmp_path), name="evo", progress=False)
    with pytest.raises(FileExistsError, match="overwrite"):
        evolve(evolve_config(3), storage_path=str(tmp_path), name="evo", progress=False,
               resume=False)
    best, fresh = evolve(evolve_config(2, moved), storage_path=str(tmp_path), name="evo",
                         progress=False, overwrite=True)
    assert "resuming" not in capsys.readouterr().out
    assert fresh["network.synapses.learning_rate"].between(2.0, 3.0).all()
    assert 2.0 <= best["network.synapses.learning_rate"] <= 3.0
    assert list(fresh.generation.unique()) == [0, 1]
    # a finished evolution run again says so and returns its history
    _, same = evolve(evolve_config(2, moved), storage_path=str(tmp_path), name="evo",
                     progress=False)
    assert "all 2 generation(s) evaluated already" in capsys.readouterr().out
    pd.testing.assert_frame_equal(same, fresh)


def test_a_kill_mid_generation_keeps_the_individuals_evaluated(tmp_path, monkeypatch):
    whole_calls = []
    monkeypatch.setattr(EvolveNetwork, "fitness", fake_fitness(whole_calls))
    _, whole = evolve(evolve_config(3), storage_path=str(tmp_path), name="whole", progress=False)
    assert len(whole_calls) > 6
    for kill_at in (2, 6):  # inside generation 0, inside generation 1
        calls = []
        monkeypatch.setattr(EvolveNetwork, "fitness", fake_fitness(calls, kill_at=kill_at))
        name = f"killed{kill_at}"
        with pytest.raises(KeyboardInterrupt):
            evolve(evolve_config(3), storage_path=str(tmp_path), name=name, progress=False)
        assert calls == whole_calls[:kill_at]
        state = json.loads((tmp_path / name / "ga.json").read_text())
        assert len(state["cache"]) == kill_at  # every run before the kill was saved
        monkeypatch.setattr(EvolveNetwork, "fitness", fake_fitness(calls))
        _, resumed = evolve(evolve_config(3), storage_path=str(tmp_path), name=name,
                            progress=False)
        assert calls == whole_calls  # nothing evaluated twice, nothing skipped
        pd.testing.assert_frame_equal(resumed, whole)
        assert not [f for f in os.listdir(tmp_path / name) if f.startswith(".")]  # no temp files


def test_progress_counts_individuals_within_each_generation(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(EvolveNetwork, "fitness", fake_fitness(calls))
    seen = []
    _, history = evolve(evolve_config(2), storage_path=str(tmp_path), name="cb",
                        progress=lambda g, done, total, best: seen.append((g, done, total)))
    first = [s for s in seen if s[0] == 0]
    assert first == [(0, 0, 4), (0, 1, 4), (0, 2, 4), (0, 3, 4), (0, 4, 4)]
    later = [s for s in seen if s[0] == 1]
    assert later[0][1] == 0 and later[-1][1] == later[-1][2] == len(calls) - 4
    evolve(evolve_config(2), storage_path=str(tmp_path), name="bar", progress=True)
    err = capsys.readouterr().err
    assert "evolve: generation 1/2" in err and "4/4" in err and "individual" in err
    assert "evolve: generation 2/2" in err
    evolve(evolve_config(2), storage_path=str(tmp_path), name="quiet", progress=False)
    assert capsys.readouterr().err == ""


def test_tune_spellings_are_genes_and_the_network_seed_is_refused(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(EvolveNetwork, "fitness", fake_fitness(calls))
    genes = {"network.synapses.learning_rate": {"uniform": [0.1, 1.0]},
             "network.neurons.tau": {"randint": [10, 12]}}  # Tune: high excluded
    _, history = evolve(evolve_config(2, genes), storage_path=str(tmp_path), name="tune",
                        progress=False)
    assert history["network.synapses.learning_rate"].between(0.1, 1.0).all()
    assert set(history["network.neurons.tau"]) <= {10, 11}
    state = json.loads((tmp_path / "tune" / "ga.json").read_text())
    assert state["genes"] == {"network.synapses.learning_rate": {"float": [0.1, 1.0]},
                              "network.neurons.tau": {"int": [10, 11]}}
    with pytest.raises(ConfigError, match="grid is a Tune sweep.*choice"):
        evolve(evolve_config(2, {"network.neurons.tau": {"grid": [10.0, 20.0]}}),
               storage_path=str(tmp_path), name="grid")
    with pytest.raises(ConfigError, match="randint"):
        evolve(evolve_config(2, {"network.neurons.tau": {"randint": [3, 3]}}),
               storage_path=str(tmp_path), name="grid")
    with pytest.raises(ConfigError, match="network.network.seed: sweep training.seed"):
        evolve(evolve_config(2, {"network.network.seed": {"int": [0, 9]}}),
               storage_path=str(tmp_path), name="seed")


def test_docs_name_the_refused_seed_gene_and_the_shared_vocabulary():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "meta", "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert "network.network.seed" in readme and "training.seed" in readme
    for word in ("uniform", "randint", "grid", "--overwrite", "resum"):
        assert word in readme, word
    import spikey.meta.evolve as module

    assert "network.network.seed is refused" in module.__doc__


def test_ga_searcher_resumes_mid_generation_from_its_checkpoint(tmp_path):
    """Tune's trial events driven by hand: a searcher dropped after some trials (a killed
    driver) is replaced by one loaded from ga.json, which runs only the rest."""
    pytest.importorskip("ray")
    from spikey.meta.population import Population
    from spikey.meta.searcher import GASearcher

    genes = {"x": {"float": [0.0, 1.0]}, "y": {"int": [0, 5]}}
    ga = {"population_size": 5, "elite_fraction": 0.2, "mutation_rate": 0.8, "seed": 4}

    def drive(searcher, runs, stop=None):
        ids = 0
        while True:
            running = []
            while True:  # start what the searcher hands out (like Tune, up to the generation)
                suggestion = searcher.suggest(f"t{ids}")
                if not isinstance(suggestion, dict):
                    break
                running.append((f"t{ids}", suggestion))
                ids += 1
            if suggestion == GASearcher.FINISHED:
                return
            for trial_id, genotype in running:
                if stop is not None and len(runs) == stop:
                    return  # killed: the trials still running are lost
                runs.append(genotype)
                searcher.on_trial_complete(trial_id, {"score": genotype["x"] + genotype["y"]})

    whole_runs = []
    whole = GASearcher(genes, ga, 3, "score", checkpoint=str(tmp_path / "whole.json"))
    drive(whole, whole_runs)
    assert len(whole_runs) > 7
    runs = []
    drive(GASearcher(genes, ga, 3, "score", checkpoint=str(tmp_path / "ga.json")), runs, stop=7)
    assert runs == whole_runs[:7]
    resumed = GASearcher(genes, ga, 3, "score",
                         population=Population.load(tmp_path / "ga.json", None))
    drive(resumed, runs)
    assert runs == whole_runs  # the 7 finished trials were not run again
    pd.testing.assert_frame_equal(resumed.history(), whole.history())


def test_ray_backend_runs_the_shipped_metric_resumes_and_equals_the_local_backend(tmp_path):
    ray = pytest.importorskip("ray")
    from spikey.training.distributed import init_ray

    init_ray(num_cpus=2)
    try:
        from spikey.training.config import load_config

        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        shipped = load_config(os.path.join(root, "meta", "xor_evolve.yaml"))["evolve"]["metric"]
        assert evolve_config(2)["evolve"]["metric"] == shipped == "eval_mean_reward"
        best, local = evolve(evolve_config(2), storage_path=str(tmp_path), name="local",
                             progress=False)
        config = evolve_config(1, backend="ray", max_concurrent=2)
        _, first = evolve(config, storage_path=str(tmp_path), name="ray", progress=False)
        pd.testing.assert_frame_equal(first, local[local.generation == 0])
        config["evolve"]["generations"] = 2
        seen = []
        best_ray, on_ray = evolve(config, storage_path=str(tmp_path), name="ray",
                                  progress=lambda g, done, total, b: seen.append((g, done, total)))
        pd.testing.assert_frame_equal(on_ray, local)  # same seeds and reruns: same fitness
        assert best_ray == best
        assert seen and {g for g, _, _ in seen} == {1}  # generation 0 came from ga.json
        assert not os.path.exists(os.path.expanduser("~/ray_results/ray"))
    finally:
        ray.shutdown()


def test_ga_genes_translate_to_a_tune_search_section_and_back():
    from spikey.meta.evolve import as_tune_space, normalise_genes

    genes = {"a": {"float": [0.1, 1.0]}, "b": {"int": [1, 3]}, "c": {"fixed": 2.0},
             "d": {"choice": [1, 2]}, "e": {"loguniform": [0.01, 1.0]}, "f": {"uniform": [0, 1]}}
    tune = as_tune_space(genes)
    assert tune == {"a": {"uniform": [0.1, 1.0]}, "b": {"randint": [1, 4]},
                    "c": {"choice": [2.0]}, "d": {"choice": [1, 2]},
                    "e": {"loguniform": [0.01, 1.0]}, "f": {"uniform": [0, 1]}}
    back = normalise_genes(tune)
    assert back["b"] == {"int": [1, 3]} and back["a"] == {"float": [0.1, 1.0]}
    with pytest.raises(ConfigError, match="gene 'x'"):
        as_tune_space({"x": {"gaussian": [0, 1]}})
    pytest.importorskip("ray")
    from spikey.training.config import check_config
    from spikey.training.tune import to_tune_space

    space = to_tune_space(as_tune_space(GENES), check_config(small_config()))  # Tune takes it
    assert set(space) == set(GENES)


def test_the_command_announces_a_resume_shows_individuals_and_refuses_other_genes(tmp_path):
    """`spikey evolve` in a fresh interpreter, as a user runs it (stderr is not a terminal,
    the command still shows its bar)."""
    import subprocess

    import yaml

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = evolve_config(2)
    config["evolve"]["ga"]["population_size"] = 3
    path = tmp_path / "evo.yaml"
    path.write_text(yaml.safe_dump(config))

    def spikey(*args):
        return subprocess.run([sys.executable, "-m", "spikey.cli", "evolve", str(path),
                               "--storage", str(tmp_path), *args], capture_output=True, text=True,
                              cwd=tmp_path, env=dict(os.environ, PYTHONPATH=root), timeout=300)

    first = spikey()
    assert first.returncode == 0, first.stderr
    assert "resuming" not in first.stdout
    assert "evolve: generation 1/2" in first.stderr and "3/3" in first.stderr
    assert "individual" in first.stderr
    config["evolve"]["generations"] = 3
    path.write_text(yaml.safe_dump(config))
    again = spikey()
    assert again.returncode == 0, again.stderr
    assert f"evolve: resuming {tmp_path / 'evo' / 'ga.json'} at generation 3 of 3" in again.stdout
    assert "generation 1/3" not in again.stderr and "generation 3/3" in again.stderr
    config["evolve"]["genes"]["network.synapses.learning_rate"] = {"float": [2.0, 3.0]}
    path.write_text(yaml.safe_dump(config))
    refused = spikey()
    assert refused.returncode != 0
    assert "cannot resume" in refused.stderr and "[0.1, 1.0] -> [2.0, 3.0]" in refused.stderr
