"""Reptile meta-learning of a spiking network's initial weights on digit tasks, per seed.

    python examples/gradient_reptile.py examples/configs/digits_reptile.yaml --seeds 0 1 2 3 4

For each seed: the mean query accuracy over new tasks after adapting (``inner_steps`` steps on
the support set) from the random initial weights and from the meta-learned ones, on tasks of
the meta-training classes (validation images) and of the held-out classes. The same tasks
score both starts; the test split is not used.
"""

import argparse
import json
import time

import numpy as np

from spikey.datasets import load_digits
from spikey.gradients.reptile import Reptile, task_sampler
from spikey.training.config import load_config


def evaluate(meta: Reptile, sample, tasks: int, seed: int = 123) -> float:
    """Mean query accuracy of ``meta.adapt`` over ``tasks`` tasks drawn from ``sample``."""
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(tasks):
        (xs, ys), (xq, yq) = sample(rng)
        scores.append(meta.adapt(xs, ys).accuracy(xq, yq))
    return float(np.mean(scores))


def run(config: dict, seed: int) -> dict:
    """Meta-train one seed; return its accuracies before and after and the wall time."""
    data, spec = load_digits(), config["tasks"]
    gradient = {**config.get("gradient", {}), "seed": seed}
    meta = Reptile(config["network"], gradient, {**config.get("reptile", {}), "seed": seed})
    args = dict(ways=spec["ways"], shots=spec["shots"])
    train = task_sampler(data.train.x, data.train.y, spec["train_classes"], **args)
    same = task_sampler(data.validation.x, data.validation.y, spec["train_classes"],
                        queries=spec["queries"], **args)
    held = task_sampler(data.validation.x, data.validation.y, spec["held_out_classes"],
                        queries=spec["queries"], **args)
    n = spec["evaluation_tasks"]
    row = {"seed": seed, "random_same_classes": evaluate(meta, same, n),
           "random_held_out": evaluate(meta, held, n)}
    start = time.perf_counter()
    meta.meta_train(train)
    row["seconds"] = time.perf_counter() - start
    row["reptile_same_classes"] = evaluate(meta, same, n)
    row["reptile_held_out"] = evaluate(meta, held, n)
    return row


def main(argv=None):
    """Parse the arguments, run every seed, print one line each and the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", default=None, help="write the per-seed rows here")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    rows = []
    for seed in args.seeds:
        row = run(config, seed)
        rows.append(row)
        print(f"seed {seed}: classes 0-6 (new images) {row['random_same_classes']:.3f} -> "
              f"{row['reptile_same_classes']:.3f}; held-out classes {row['random_held_out']:.3f}"
              f" -> {row['reptile_held_out']:.3f} (random init -> Reptile; meta-training "
              f"{row['seconds']:.1f} s)", flush=True)
    for key in ("same_classes", "held_out"):
        before = np.mean([r[f"random_{key}"] for r in rows])
        after = np.mean([r[f"reptile_{key}"] for r in rows])
        print(f"{key}: mean {before:.3f} -> {after:.3f} over {len(rows)} seeds")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
