"""The genetic algorithm: operators with numbers, cache, determinism, resume, 8-Queens, series."""

import os
import sys

import numpy as np
import pandas as pd
import pytest

from spikey.core.params import ConfigError
from spikey.meta import GeneSpace, NQueens, Population, run_series

sys.path.insert(0, os.path.dirname(__file__))

QUEENS_GA = {"population_size": 100, "mutation_rate": 0.2, "mutation_scale": 0.5,
             "elite_fraction": 0.05, "immigrant_rate": 0.05, "max_age": 5}


def float_genes(n=20):
    return {f"g{i}": {"float": [0.0, 1.0]} for i in range(n)}


def test_eight_queens_solved_by_every_seed():
    queens = NQueens(8)
    generations = []
    for seed in range(8):
        pop = Population(queens.genes, queens, {**QUEENS_GA, "seed": seed})
        best = pop.run(300, target=28, progress=False)
        assert best.fitness == 28, (seed, best)
        assert queens.score(best.genotype) == 28
        generations.append(pop.generation)
    assert max(generations) < 300


def test_nqueens_score_by_hand():
    queens = NQueens(4)
    assert queens.score({"q0": 1, "q1": 3, "q2": 0, "q3": 2}) == 6  # a solution
    assert queens.score({"q0": 0, "q1": 0, "q2": 0, "q3": 0}) == 0  # one row: all 6 pairs attack
    assert queens.score({"q0": 0, "q1": 1, "q2": 3, "q3": 2}) == 6 - 2  # two diagonal pairs


def test_mutation_rate_observed_over_many_draws():
    pop = Population(float_genes(), lambda gs: [0.0] * len(gs), {"mutation_rate": 0.1, "seed": 1})
    base = pop.space.sample(pop.rng)
    changed = np.mean([[m[k] != base[k] for k in base]
                       for m in (pop.mutate(base) for _ in range(3000))])
    assert abs(changed - 0.1) < 0.01


def test_mutants_always_change_and_stay_in_bounds():
    genes = {"a": {"int": [0, 3]}, "b": {"loguniform": [1e-3, 1.0]}, "c": {"choice": ["x", "y"]},
             "d": {"fixed": 7}}
    pop = Population(genes, lambda gs: [0.0] * len(gs), {"mutation_rate": 0.0, "seed": 2,
                                                        "mutation_scale": 2.0})
    base = pop.space.sample(pop.rng)
    for _ in range(500):
        child = pop.mutate(base, at_least_one=True)
        assert pop.space.contains(child)
    # with mutation_rate 0 only the forced gene changes; an int gene never "mutates" to itself
    ints = [pop.space.genes[0].mutate(2, pop.rng, 0.01) for _ in range(200)]
    assert set(ints) <= {1, 3}


def test_elites_preserved_immigrants_in_bounds_and_origins_counted():
    genes = float_genes(5)
    pop = Population(genes, lambda gs: [sum(g.values()) for g in gs],
                     {"population_size": 40, "elite_fraction": 0.1, "immigrant_rate": 0.2, "seed": 3})
    pop.evaluate_generation()
    best = sorted(pop.individuals, key=lambda i: -i.fitness)[:4]
    pop.breed()
    elites = [i for i in pop.individuals if i.origin == "elite"]
    assert [e.genotype for e in elites] == [b.genotype for b in best]
    assert all(e.age == 1 for e in elites)
    immigrants = [i for i in pop.individuals if i.origin == "immigrant"]
    assert len(immigrants) == 8 and all(pop.space.contains(i.genotype) for i in immigrants)
    assert len(pop.individuals) == 40
    pop.evaluate_generation()
    assert [e.fitness for e in elites] == [b.fitness for b in best]  # from the cache


def test_max_age_retires_elites():
    pop = Population(float_genes(3), lambda gs: [1.0] * len(gs),
                     {"population_size": 10, "elite_fraction": 0.3, "max_age": 2, "seed": 4})
    pop.evaluate_generation()
    for ind in pop.individuals:
        ind.age = 2
    pop.breed()
    assert not any(i.origin == "elite" for i in pop.individuals)


def test_crossover_operators():
    genes = {f"g{i}": {"int": [0, 1]} for i in range(10)}
    a = {f"g{i}": 0 for i in range(10)}
    b = {f"g{i}": 1 for i in range(10)}
    pop = Population(genes, lambda gs: [0.0] * len(gs), {"crossover": "single_point", "seed": 5})
    for _ in range(50):
        child = list(pop.crossover(a, b).values())
        cut = child.index(1)
        assert 1 <= cut <= 9 and child == [0] * cut + [1] * (10 - cut)
    pop = Population(genes, lambda gs: [0.0] * len(gs), {"crossover": "uniform", "seed": 5})
    share = np.mean([list(pop.crossover(a, b).values()) for _ in range(2000)])
    assert abs(share - 0.5) < 0.02


def test_selection_pressure():
    pop = Population(float_genes(2), lambda gs: [0.0] * len(gs),
                     {"population_size": 10, "tournament_size": 10, "seed": 6})
    for k, ind in enumerate(pop.individuals):
        ind.fitness = float(k)
    assert all(pop.select() is pop.individuals[-1] for _ in range(20))  # full tournament: the best
    pop = Population(float_genes(2), lambda gs: [0.0] * len(gs),
                     {"population_size": 4, "selection": "rank", "seed": 7})
    for k, ind in enumerate(pop.individuals):
        ind.fitness = float(k)
    counts = np.bincount([pop.individuals.index(pop.select()) for _ in range(20000)], minlength=4)
    np.testing.assert_allclose(counts / counts.sum(), np.array([1, 2, 3, 4]) / 10, atol=0.01)


def test_cache_fills_and_no_genotype_is_evaluated_twice():
    calls = []

    def fitness(genotypes):
        calls.extend(GeneSpace.key(g) for g in genotypes)
        return [float(sum(g.values())) for g in genotypes]

    queens = NQueens(6)
    pop = Population(queens.genes, fitness, {**QUEENS_GA, "population_size": 30, "seed": 8})
    pop.run(10, progress=False)
    assert len(calls) == len(set(calls)) == len(pop.cache)
    history = pop.history()
    assert len(history) == 10 * 30
    assert len(calls) < len(history)  # elites and repeats came from the cache


def test_same_seed_same_history_and_resume_equals_uninterrupted(tmp_path):
    queens = NQueens(8)
    whole = Population(queens.genes, queens, {**QUEENS_GA, "seed": 9})
    whole.run(12, progress=False)
    again = Population(queens.genes, queens, {**QUEENS_GA, "seed": 9})
    again.run(12, progress=False)
    pd.testing.assert_frame_equal(whole.history(), again.history())
    path = tmp_path / "ga.json"
    first = Population(queens.genes, queens, {**QUEENS_GA, "seed": 9})
    first.run(12, checkpoint=path, stop_after=5, progress=False)
    resumed = Population.load(path, queens)
    resumed.run(12, checkpoint=path, progress=False)
    pd.testing.assert_frame_equal(whole.history(), resumed.history())
    assert [i.genotype for i in whole.individuals] == [i.genotype for i in resumed.individuals]


def test_invalid_constraints_and_rates_fail_clearly():
    with pytest.raises(ConfigError, match="gene 'x'.*int needs \\[low, high\\]"):
        GeneSpace({"x": {"int": [5, 1]}})
    with pytest.raises(ConfigError, match="gene 'y'.*loguniform needs low > 0"):
        GeneSpace({"y": {"loguniform": [0, 1]}})
    with pytest.raises(ConfigError, match="gene 'z'"):
        GeneSpace({"z": {"gaussian": [0, 1]}})
    with pytest.raises(ConfigError, match="elite_fraction.*immigrant_rate"):
        Population(float_genes(2), lambda g: g, {"elite_fraction": 0.6, "immigrant_rate": 0.5})
    with pytest.raises(ConfigError, match="mutation_rate = 1.5"):
        Population(float_genes(2), lambda g: g, {"mutation_rate": 1.5})


def test_series_runs_each_point_with_repeats():
    seen = []

    def fake_run(config):
        seen.append((config["network"]["neurons"]["tau"], config["training"]["seed"]))
        return {"score": config["network"]["neurons"]["tau"] * 2}

    from test_training import small_config

    frame = run_series(small_config(), {"network.neurons.tau": [10.0, 30.0]}, repeats=2, run=fake_run)
    assert list(frame["network.neurons.tau"]) == [10.0, 10.0, 30.0, 30.0]
    assert list(frame["repeat"]) == [0, 1, 0, 1]
    assert list(frame["score"]) == [20.0, 20.0, 60.0, 60.0]
    assert [s for _, s in seen] == [0, 1000, 0, 1000]
    with pytest.raises(ConfigError, match="equal lengths"):
        run_series(small_config(), {"network.neurons.tau": [1.0], "training.seed": [1, 2]}, run=fake_run)


def test_evolve_section_runs_checkpoints_and_resumes(tmp_path):
    from spikey.meta.evolve import evolve
    from test_training import small_config

    config = small_config(batch_size=1, episodes=1)
    config["evolve"] = {"genes": {"network.synapses.learning_rate": {"float": [0.1, 1.0]},
                                  "network.weights.matrix.0.weight.uniform.1": {"float": [1.0, 5.0]}},
                        "ga": {"population_size": 4, "elite_fraction": 0.25, "seed": 1},
                        "generations": 2, "metric": "eval_mean_reward"}
    best, history = evolve(config, storage_path=str(tmp_path), name="evo", progress=False)
    assert len(history) == 8 and set(history["origin"]) >= {"initial", "elite"}
    assert (tmp_path / "evo" / "history.csv").exists() and (tmp_path / "evo" / "ga.json").exists()
    assert 0.1 <= best["network.synapses.learning_rate"] <= 1.0
    config["evolve"]["generations"] = 3  # the same command again continues from ga.json
    _, longer = evolve(config, storage_path=str(tmp_path), name="evo", progress=False)
    pd.testing.assert_frame_equal(longer[longer.generation < 2].reset_index(drop=True), history)
    assert longer["generation"].max() == 2
    config["evolve"]["genes"] = {"network.neurons.tua": {"float": [1.0, 2.0]}}
    with pytest.raises(ConfigError, match="tua"):
        evolve(config, storage_path=str(tmp_path), name="bad")


def test_batched_fitness_equals_one_by_one():
    from spikey.meta.batched import BatchedEvolveNetwork
    from spikey.meta.metagames import EvolveNetwork
    from spikey.training.config import set_path
    from test_training import small_config

    config = small_config(batch_size=1, episodes=2)
    set_path(config, "game.kwargs.reward_wrong", -1.0)
    genotypes = [{"network.synapses.learning_rate": lr, "network.neurons.threshold": th}
                 for lr, th in [(0.1, 4.0), (2.0, 8.0), (0.6, 12.0), (1.2, 30.0)]]
    one_by_one = EvolveNetwork(config, "eval_mean_reward")(genotypes)
    batched = BatchedEvolveNetwork(config, "eval_mean_reward", max_batch=3)(genotypes)
    assert batched == one_by_one
    assert len(set(one_by_one)) > 1  # the genes matter
    with pytest.raises(ConfigError, match="genes change the 'game' section"):
        BatchedEvolveNetwork(config)([{"game.kwargs.n_presentations": 2},
                                      {"game.kwargs.n_presentations": 3}])


def test_analysis_plots_and_evolve_command(tmp_path, capsys):
    import json

    import matplotlib

    matplotlib.use("Agg")
    from spikey.cli import main
    from spikey.meta.analysis import fitness_over_generations, gene_distribution
    from test_training import small_config

    queens = NQueens(6)
    pop = Population(queens.genes, queens, {**QUEENS_GA, "population_size": 20, "seed": 1})
    pop.run(5, progress=False)
    history = pop.history()
    ax = fitness_over_generations(history)
    assert len(ax.lines) == 2 and list(ax.lines[0].get_xdata()) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), history.groupby("generation").fitness.max())
    ax = gene_distribution(history, "q0")
    assert len(ax.patches) == 3  # first, middle and last generation
    config = small_config(batch_size=1, episodes=1)
    config["evolve"] = {"genes": {"network.neurons.threshold": {"float": [2.0, 20.0]}},
                        "ga": {"population_size": 3, "seed": 0}, "generations": 2,
                        "backend": "batched", "metric": "eval_mean_reward"}
    path = tmp_path / "evo.json"
    path.write_text(json.dumps(config))
    assert main(["evolve", str(path), "--storage", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "generations: 2, individuals: 6" in out and "network.neurons.threshold" in out


def test_evaluator_chunks_are_checkpointed_and_a_killed_generation_resumes(tmp_path):
    """An evaluator's chunk_size sets how many genotypes each call gets; the state is saved
    after every chunk, so a run killed inside a generation re-evaluates nothing."""
    queens = NQueens(6)

    class Chunked:
        chunk_size = 3

        def __init__(self, kill_after=None):
            self.sizes, self.seen, self.kill_after = [], [], kill_after

        def __call__(self, genotypes):
            if self.kill_after is not None and len(self.sizes) == self.kill_after:
                raise KeyboardInterrupt
            self.sizes.append(len(genotypes))
            self.seen += [GeneSpace.key(g) for g in genotypes]
            return queens(genotypes)

    ga = {"population_size": 10, "mutation_rate": 0.5, "seed": 2}
    whole = Chunked()
    reference = Population(queens.genes, whole, ga)
    reference.run(3, progress=False)
    assert whole.sizes[:4] == [3, 3, 3, 1]  # generation 0: 10 new genotypes in chunks of 3
    killed = Chunked(kill_after=5)
    with pytest.raises(KeyboardInterrupt):
        Population(queens.genes, killed, ga).run(3, checkpoint=tmp_path / "ga.json", progress=False)
    resumed_eval = Chunked()
    resumed = Population.load(tmp_path / "ga.json", resumed_eval)
    assert resumed.generation == 1 and len(resumed.cache) == 10 + 3  # gen 0 + one chunk of gen 1
    resumed.run(3, checkpoint=tmp_path / "ga.json", progress=False)
    assert killed.seen + resumed_eval.seen == whole.seen  # each genotype once, same order
    pd.testing.assert_frame_equal(resumed.history(), reference.history())
