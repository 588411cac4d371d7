"""Evolve a spiking CartPole-v1 controller and check it over 100 fresh episodes.

``python meta/cartpole.py [--generations 40] [--seed 0] [--out cartpole_controller.npz]``

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="cartpole_controller.npz")
    parser.add_argument("--check", default=None, help="only evaluate this saved network")
    args = parser.parse_args(argv)
    if args.check:
        returns = evaluate(Network.load(args.check))
        print(f"{args.check}: mean return {returns.mean():.1f} over {len(returns)} episodes "
              f"(min {returns.min():.0f})")
        return returns
    config = load_config(os.path.join(HERE, "cartpole_evolve.yaml"))
    spec = config.pop("evolve")
    config["training"]["seed"] = args.seed
    fitness = BatchedEvolveNetwork(config, spec["metric"])
    population = Population(spec["genes"], fitness, {**spec["ga"], "seed": args.seed})
    start = time.perf_counter()
    best = population.run(args.generations, target=spec["target"], progress=True)
    evolve_s = time.perf_counter() - start
    print(f"evolved {population.generation + 1} generations in {evolve_s:.0f} s; "
          f"best fitness {best.fitness:.1f}")
    network = Network.from_config(fitness.config_for(best.genotype)["network"])
    network.save(args.out)  # before the check, so `--check` replays it exactly
    returns = evaluate(network)
    print(f"best controller: mean return {returns.mean():.1f} over 100 fresh episodes "
          f"(min {returns.min():.0f}); total {time.perf_counter() - start:.0f} s")
    print(f"saved to {args.out}")
    return returns


if __name__ == "__main__":
    main()
