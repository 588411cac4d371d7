"""A GA generation of 64 XOR networks: batched (one network, B = 64) versus one by one.

Each genotype sets the learning rate and firing threshold of the Florian XOR
network; its fitness is a short training run (1 episode of 20 presentations
of 500 ms) followed by one evaluation episode. Both backends give identical
fitness values (checked here); the wall-clock ratio is printed.

Run ``python benchmarks/bench_ga_batched.py [--size 64]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from spikey.meta.batched import BatchedEvolveNetwork
from spikey.meta.genotype import GeneSpace
from spikey.meta.metagames import EvolveNetwork
from spikey.training import load_config, set_path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    config = load_config(os.path.join(HERE, "..", "examples", "configs", "xor.yaml"))
    set_path(config, "game.kwargs.n_presentations", 20)
    config["training"].update(episodes=1, max_ticks=20, eval_episodes=1, checkpoint_every=0,
                              record_ticks=False)
    space = GeneSpace({"network.synapses.learning_rate": {"loguniform": [0.05, 2.0]},
                       "network.neurons.threshold": {"float": [10.0, 20.0]}})
    rng = np.random.default_rng(0)
    genotypes = [space.sample(rng) for _ in range(args.size)]
    start = time.perf_counter()
    batched = BatchedEvolveNetwork(config, "eval_mean_reward", max_batch=args.size)(genotypes)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    single = EvolveNetwork(config, "eval_mean_reward")(genotypes)
    t_single = time.perf_counter() - start
    assert batched == single, "batched and one-by-one fitness differ"
    print(f"{args.size} XOR networks, 20 + 20 presentations of 500 ms each")
    print(f"one by one: {t_single:7.2f} s")
    print(f"batched:    {t_batched:7.2f} s   ({t_single / t_batched:.1f}x faster, same fitness values)")
    rows = [{"networks": args.size, "one_by_one_s": t_single, "batched_s": t_batched,
             "speedup": t_single / t_batched, "same_fitness": True}]
    write_json(args.json, "ga_batched", rows)
    return rows


if __name__ == "__main__":
    main()
