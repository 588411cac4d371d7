"""Evolve a spiking CartPole-v1 controller and check it over 100 fresh episodes.

``python meta/cartpole.py [--generations 40] [--seed 0] [--out cartpole_controller.npz]``
``python meta/cartpole.py --seeds 9000-9009`` evolves one controller per seed
(or per seed of a list) and ends with the spread of their check returns; it
saves them only with ``--out`` naming a ``{seed}`` field (``--out c_{seed}.npz``).

The GA (batched: one network per generation) evolves the 16 input -> output
weights of ``meta/cartpole_evolve.yaml``; fitness is the mean return of 8
episodes. The best network is then evaluated on 100 episodes whose game seeds
were never used in evolution, and saved; ``--check FILE`` reloads a saved
network and repeats that evaluation.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from spikey.core.seeds import seed_range
from spikey.meta.batched import BatchedEvolveNetwork
from spikey.meta.population import Population
from spikey.snn.network import Network
from spikey.training import load_config
from spikey.training.loop import make_games, play_episode

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_STREAM = 7_000_001  # game seeds for the final check, apart from evolution's


def evaluate(network, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Returns of ``episodes`` CartPole-v1 episodes, each with a fresh game seed."""
    from spikey.training.loop import episode_seed

    games = make_games({"id": "CartPole-v1", "kwargs": {}}, network.batch_size)
    network.eval()
    returns = []
    for episode in range(episodes):
        seeds = [episode_seed(s + seed, episode, CHECK_STREAM) for s in network.seeds]
        r, _ = play_episode(network, games, seeds, 500, "check", episode, False, [])
        returns.extend(r.tolist())
    games.close()
    return np.array(returns)


def evolve_and_check(seed: int, generations: int, out: str | None) -> np.ndarray:
    """Evolve a controller with ``seed``, save it to ``out`` (if given), check it.

    Parameters
    ----------
    seed : int
        The GA's and the run's seed.
    generations : int
        The most generations to evolve (it stops at the config's target).
    out : str or None
        Where to save the best network (before the check); None: not saved.

    Returns
    -------
    numpy.ndarray
        Its returns on the 100 check episodes.
    """
    config = load_config(os.path.join(HERE, "cartpole_evolve.yaml"))
    spec = config.pop("evolve")
    config["training"]["seed"] = seed
    fitness = BatchedEvolveNetwork(config, spec["metric"])
    population = Population(spec["genes"], fitness, {**spec["ga"], "seed": seed})
    start = time.perf_counter()
    best = population.run(generations, target=spec["target"], progress=True)
    evolve_s = time.perf_counter() - start
    print(f"seed {seed}: evolved {population.generation + 1} generations in {evolve_s:.0f} s; "
          f"best fitness {best.fitness:.1f}")
    network = Network.from_config(fitness.config_for(best.genotype)["network"])
    if out is not None:
        network.save(out)  # before the check, so `--check` replays it exactly
    returns = evaluate(network)
    print(f"seed {seed}: best controller: mean return {returns.mean():.1f} over 100 fresh "
          f"episodes (min {returns.min():.0f}); total {time.perf_counter() - start:.0f} s",
          flush=True)
    if out is not None:
        print(f"saved to {out}")
    return returns


def main(argv=None):
    """Evolve and check a controller (``--seed``), several (``--seeds``), or check a saved one.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (see the module docstring).

    Returns
    -------
    numpy.ndarray or dict
        The check returns; with ``--seeds``, seed -> check returns.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=seed_range, nargs="+", default=None,
                        help="evolve one controller per seed (integers or ranges A-B)")
    parser.add_argument("--out", default=None,
                        help="where to save (default cartpole_controller.npz; with --seeds "
                             "only if given, with a {seed} field)")
    parser.add_argument("--check", default=None, help="only evaluate this saved network")
    args = parser.parse_args(argv)
    if args.check:
        returns = evaluate(Network.load(args.check))
        print(f"{args.check}: mean return {returns.mean():.1f} over {len(returns)} episodes "
              f"(min {returns.min():.0f})")
        return returns
    if args.generations < 1:
        parser.error(f"--generations must be >= 1, got {args.generations}")
    if args.seeds is None:
        return evolve_and_check(args.seed, args.generations,
                                args.out or "cartpole_controller.npz")
    if args.out is not None:
        try:
            ok = "{seed}" in args.out and args.out.format(seed=0) != args.out.format(seed=1)
        except (KeyError, IndexError, ValueError):
            ok = False
        if not ok:
            parser.error(f"--out with --seeds must contain a {{seed}} field (and no other), "
                         f"got {args.out!r}")
    seeds = [seed for group in args.seeds for seed in group]
    table = {seed: evolve_and_check(seed, args.generations,
                                    None if args.out is None else args.out.format(seed=seed))
             for seed in seeds}
    means = np.array([returns.mean() for returns in table.values()])
    print("check mean return per seed: " + ", ".join(f"{seed}: {m:.1f}"
                                                      for seed, m in zip(seeds, means)))
    print(f"over {len(seeds)} seeds: min {means.min():.1f}, median {np.median(means):.1f}, "
          f"max {means.max():.1f}; {(means >= 475).sum()} of {len(seeds)} >= 475")
    return table

if __name__ == "__main__":
    main()
