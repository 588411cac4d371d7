"""8-Queens with Spikey's genetic algorithm: the GA sanity target.

``python meta/nqueens.py`` runs 8 seeds and prints the generation at which each
found a full solution (28 non-attacking pairs).
"""

from spikey.meta import NQueens, Population

SETTINGS = {"population_size": 100, "mutation_rate": 0.2, "mutation_scale": 0.5,
            "elite_fraction": 0.05, "immigrant_rate": 0.05, "max_age": 5}


def main(seeds=range(8), generations=300):
    queens = NQueens(8)
    for seed in seeds:
        population = Population(queens.genes, queens, {**SETTINGS, "seed": seed})
        best = population.run(generations, target=queens.target, progress=False)
        board = [best.genotype[f"q{i}"] for i in range(8)]
        print(f"seed {seed}: fitness {best.fitness:.0f}/28 at generation {population.generation} "
              f"rows per column {board}")


if __name__ == "__main__":
    main()
