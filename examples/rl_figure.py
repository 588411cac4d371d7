"""Learning curves of spiking actor-critic runs beside their baselines, as one figure.

    python examples/rl_figure.py RUN_DIR [RUN_DIR ...] --labels "TD-LTP" ... \
        --baselines benchmarks/results/rl.json --threshold 195 --out docs/figures/rl_cartpole.png

Each RUN_DIR is a run folder of ``spikey train`` / ``spikey.training.train``
(its members are seeds); its curve is the mean over members of a trailing
``--window``-episode mean, with the min-max band over members. ``--baselines``
reads a ``benchmarks/bench_rl.py`` JSON for the same task: the numpy
actor-critic's curves (mean over its seeds) and the random policy's mean
return. ``--threshold`` draws the task's target line.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd


def baseline_rows(path, task):
    """``(numpy-ac curves DataFrame or None, random mean or None)`` from a bench_rl JSON."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    rows = data["rows"] if isinstance(data, dict) and "rows" in data else data
    rows = [r for r in rows if r.get("task") == task]
    curves = [pd.DataFrame({"phase": "train", "episode": np.arange(len(r["train_returns"])),
                            "member": r["seed"], "return": r["train_returns"]})
              for r in rows if r["method"] == "numpy-ac" and r.get("train_returns")]
    randoms = [r["eval_mean"] for r in rows if r["method"] == "random"]
    return (pd.concat(curves, ignore_index=True) if curves else None,
            float(np.mean(randoms)) if randoms else None)


def main(argv=None):
    """Draw the figure; returns the output path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spikey.training.reader import read_run
    from spikey.viz import learning_curve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders (one curve each)")
    parser.add_argument("--labels", nargs="+", help="legend label of each run")
    parser.add_argument("--baselines", help="bench_rl.py JSON with numpy-ac and random rows")
    parser.add_argument("--threshold", type=float, help="the task's target return")
    parser.add_argument("--window", type=int, default=25, help="trailing mean (episodes)")
    parser.add_argument("--title", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    labels = args.labels or args.runs
    if len(labels) != len(args.runs):
        parser.error(f"--labels: {len(labels)} labels for {len(args.runs)} runs")
    runs = [read_run(path) for path in args.runs]
    task = runs[0]["config"]["game"]["id"]
    tables = [run["episodes"].assign(condition=label) for run, label in zip(runs, labels)]
    lines = {}
    numpy_curves = None
    if args.baselines:
        numpy_curves, random_mean = baseline_rows(args.baselines, task)
        if numpy_curves is not None:
            tables.append(numpy_curves.assign(condition="numpy actor-critic (same inputs)"))
        if random_mean is not None:
            lines["random policy"] = random_mean
    if args.threshold is not None:
        lines["target"] = args.threshold
    fig, ax = plt.subplots(figsize=(8, 4.5))
    learning_curve(pd.concat(tables, ignore_index=True), ax=ax, hue="condition",
                   curves=["member"], window=args.window, baselines=lines)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, [name.replace("condition = ", "") for name in names], loc="best",
              fontsize="small")
    n = runs[0]["episodes"]["member"].nunique()
    ax.set_title(args.title or f"{task}: learning online, mean over {n} seeds "
                 f"(band: min-max over seeds)")
    ax.set_xlabel("training episode")
    ax.set_ylabel(f"return ({args.window}-episode trailing mean)")
    fig.savefig(args.out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(args.out)
    return args.out


if __name__ == "__main__":
    main()
