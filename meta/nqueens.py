"""8-Queens with Spikey's genetic algorithm: the GA sanity target.

``python meta/nqueens.py`` runs seeds 0-7 and prints the generation at which
each found a full solution (28 non-attacking pairs; generation 0 is the random
first population), then the spread over the seeds. ``--seeds 9000-9019`` (or
a list, ``--seeds 3 5 9000-9004``) picks other seeds; ``--generations`` caps
the search (300).
"""

import argparse

import numpy as np

from spikey.core.seeds import seed_range
from spikey.meta import NQueens, Population

SETTINGS = {"population_size": 100, "mutation_rate": 0.2, "mutation_scale": 0.5,
            "elite_fraction": 0.05, "immigrant_rate": 0.05, "max_age": 5}


def main(seeds=range(8), generations=300):
    """Run the GA on 8-Queens for each seed and print when each solved it.

    Parameters
    ----------
    seeds : iterable of int
        GA seeds, one run each.
    generations : int
        The most generations a run may take.

    Returns
    -------
    dict
        Seed -> the generation at which the best board reached 28/28, or
        ``None`` where it did not within ``generations``.
    """
    queens = NQueens(8)
    found = {}
    for seed in seeds:
        population = Population(queens.genes, queens, {**SETTINGS, "seed": seed})
        best = population.run(generations, target=queens.target, progress=False)
        board = [best.genotype[f"q{i}"] for i in range(8)]
        found[seed] = population.generation if best.fitness >= queens.target else None
        print(f"seed {seed}: fitness {best.fitness:.0f}/28 at generation {population.generation} "
              f"rows per column {board}", flush=True)
    solved = [g for g in found.values() if g is not None]
    line = f"solved {len(solved)} of {len(found)} within {generations} generations"
    if solved:
        line += (f"; generations min {min(solved)}, median {np.median(solved):g}, "
                 f"max {max(solved)}")
    print(line)
    return found


def parse_args(argv=None):
    """The command line: ``--seeds`` (integers or ranges ``A-B``) and ``--generations``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        ``seeds`` (a flat list of ints) and ``generations``.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=seed_range, nargs="+", default=[list(range(8))],
                        help="seeds or inclusive ranges A-B (default 0-7)")
    parser.add_argument("--generations", type=int, default=300)
    args = parser.parse_args(argv)
    if args.generations < 1:
        parser.error(f"--generations must be >= 1, got {args.generations}")
    args.seeds = [seed for group in args.seeds for seed in group]
    return args


if __name__ == "__main__":
    args = parse_args()
    main(args.seeds, args.generations)
