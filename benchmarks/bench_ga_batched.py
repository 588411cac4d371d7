"""A GA generation of 64 XOR networks: batched (one network, B = 64) versus one by one.

Each genotype sets the learning rate and firing threshold of the Florian XOR
network; its fitness is a short training run (1 episode of 20 presentations
of 500 ms) followed by one evaluation episode. Both backends give identical
fitness values (checked here); the wall-clock ratio is printed.

Run ``python benchmarks/bench_ga_batched.py [--size 64]``; ``--seeds 9000-9009``
(or a list) repeats it with other seeds (each draws its own genotypes and
seeds the networks) and prints the spread of the ratio. A 2-network
generation runs first, untimed, so that no seed's time carries the start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from spikey.core.seeds import seed_range
from spikey.meta.batched import BatchedEvolveNetwork
from spikey.meta.genotype import GeneSpace
from spikey.meta.metagames import EvolveNetwork
from spikey.training import load_config, set_path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(size: int, seed: int) -> dict:
    """Time one generation of ``size`` XOR networks batched and one by one.

    Parameters
    ----------
    size : int
        Networks (genotypes) in the generation.
    seed : int
        Seeds the genotype draws and the networks (``training.seed``).

    Returns
    -------
    dict
        ``seed``, ``networks``, ``one_by_one_s``, ``batched_s``, ``speedup``
        and ``same_fitness`` (always True: a difference raises).

    Raises
    ------
    AssertionError
        If the two backends give different fitness values.
    """
    config = load_config(os.path.join(HERE, "..", "examples", "configs", "xor.yaml"))
    set_path(config, "game.kwargs.n_presentations", 20)
    config["training"].update(episodes=1, max_ticks=20, eval_episodes=1, checkpoint_every=0,
                              record_ticks=False, seed=seed)
    space = GeneSpace({"network.synapses.learning_rate": {"loguniform": [0.05, 2.0]},
                       "network.neurons.threshold": {"float": [10.0, 20.0]}})
    rng = np.random.default_rng(seed)
    genotypes = [space.sample(rng) for _ in range(size)]
    start = time.perf_counter()
    batched = BatchedEvolveNetwork(config, "eval_mean_reward", max_batch=size)(genotypes)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    single = EvolveNetwork(config, "eval_mean_reward")(genotypes)
    t_single = time.perf_counter() - start
    assert batched == single, f"seed {seed}: batched and one-by-one fitness differ"
    return {"seed": seed, "networks": size, "one_by_one_s": t_single, "batched_s": t_batched,
            "speedup": t_single / t_batched, "same_fitness": True}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seeds", type=seed_range, nargs="+", default=[[0]],
                        help="seeds or inclusive ranges A-B (default 0)")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error(f"--size must be >= 1, got {args.size}")
    seeds = [seed for group in args.seeds for seed in group]
    print(f"{args.size} XOR networks, 20 + 20 presentations of 500 ms each")
    measure(2, seeds[0])  # warm-up (imports, compiled kernels), so no seed's time carries it
    rows = []
    for seed in seeds:
        row = measure(args.size, seed)
        rows.append(row)
        print(f"seed {seed}: one by one {row['one_by_one_s']:7.2f} s, batched "
              f"{row['batched_s']:7.2f} s ({row['speedup']:.1f}x faster, same fitness values)",
              flush=True)
    if len(rows) > 1:
        speedups = [row["speedup"] for row in rows]
        print(f"speedup over {len(rows)} seeds: min {min(speedups):.1f}x, median "
              f"{np.median(speedups):.1f}x, max {max(speedups):.1f}x; fitness identical in all")
    write_json(args.json, "ga_batched", rows)
    return rows


if __name__ == "__main__":
    main()
