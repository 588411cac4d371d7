"""Train a gradient config (BPTT or e-prop) on sklearn's digits for several seeds.

    python examples/gradient_digits.py examples/configs/digits_bptt.yaml --seeds 0 1 2 3 4
    python examples/gradient_digits.py examples/configs/digits_bptt.yaml --seeds 1900-1909

Every seed is reported (validation accuracy used for selection, test accuracy measured once
after it, wall time); nothing is selected on the test split.
"""

import argparse
import json

import numpy as np

from spikey.core.seeds import seed_range
from spikey.gradients.run import run_config
from spikey.training.config import load_config


def main(argv=None):
    """Parse the arguments, run every seed, print one line each and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--seeds", type=seed_range, nargs="+", default=[[0]],
                        help="seeds and inclusive ranges, e.g. 0 1 or 1900-1909 (default 0)")
    parser.add_argument("--epochs", type=int, default=None, help="override gradient.epochs")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--json", default=None, help="write the per-seed rows here")
    args = parser.parse_args(argv)
    seeds = [seed for item in args.seeds for seed in item]
    if len(set(seeds)) < len(seeds):
        parser.error(f"--seeds names a seed twice: {seeds}")
    config = load_config(args.config)
    if args.epochs is not None:
        config.setdefault("gradient", {})["epochs"] = args.epochs
    rows = []
    for seed in seeds:
        out = run_config(config, seed=seed, verbose=args.verbose)
        row = {k: out[k] for k in ("seed", "validation_accuracy", "test_accuracy", "best_epoch",
                                   "seconds")}
        rows.append(row)
        print(f"seed {seed}: validation {row['validation_accuracy']:.4f}  test "
              f"{row['test_accuracy']:.4f}  best epoch {row['best_epoch']}  "
              f"{row['seconds']:.1f} s", flush=True)
    tests = np.array([r["test_accuracy"] for r in rows])
    print(f"test accuracy: mean {tests.mean():.4f}, min {tests.min():.4f}, max {tests.max():.4f} "
          f"over {len(rows)} seeds")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
