"""Classification speed and memory: samples/s of every digits route at B = 1 and B = 64.

Routes (the networks of ``examples/configs/digits_*.yaml``, on sklearn's 8x8 digits):

* ``stdp``: unsupervised STDP (Diehl & Cook 2015's scheme), 400 excitatory LIF neurons each with its own interneuron, 200 ms
  a sample. Training: ``present`` in training mode (LTP, normalisation, adaptive thresholds,
  frozen inhibition); inference: one 100 ms tick a sample with learning off.
* ``rstdp``: reward-modulated STDP, 30 outputs, 50 ms a sample, trained through
  ``spikey.training.train`` on ``spikey/Digits-v0`` (the game's overhead included).
* ``ga``: the GA's fitness evaluation: a generation of B genotypes decoded into weights and
  shown the fitness digits (50 ms each) as one batch; inference: the same network scoring.
* ``bptt``: surrogate-gradient training (``benchmarks/bench_gradients.py``'s measurement, a
  BPTT step and a forward pass of the digits_bptt network, 20 steps a sample).

A row's samples/s counts every member's samples: ``B * samples / seconds`` (B networks each
learning from or answering its own sample); ``per_member`` divides by B. Medians of
``--repeats`` runs, after one warm-up run (numba compiles there). The machine's load
average is recorded: the cores are shared, and a busy machine slows every number.

``--route-time`` also times the unsupervised route's whole training as shipped (5 epochs of
the 1,078 training digits, 5 seeds as one batch) and one seed alone; ``--mnist-memory``
measures the peak resident memory of the 400-neuron Diehl & Cook network on MNIST-shaped
data in a fresh process (see :func:`mnist_memory`).

Run ``python benchmarks/bench_classification.py [--batch 1 64] [--route-time]
[--mnist-memory] [--json benchmarks/results/classification.json]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
from _common import write_json  # noqa: E402

import spikey  # noqa: E402
from spikey.datasets import load_digits, present  # noqa: E402

ROUTES = ("stdp", "rstdp", "ga", "bptt")


def _median(fn, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn()`` after one warm-up call (numba
    compiles there)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _row(route, B, samples, train_s, infer_s, **extra) -> dict:
    row = {"route": route, "batch_size": B, "samples": samples,
           "train_samples_per_s": B * samples / train_s,
           "infer_samples_per_s": B * samples / infer_s}
    row["train_per_member"] = row["train_samples_per_s"] / B
    row["infer_per_member"] = row["infer_samples_per_s"] / B
    row.update(extra)
    return row


def stdp_network(B: int, seed: int = 0, config=None):
    """The unsupervised route's network (examples/configs/digits_stdp.yaml) with B members."""
    import digits_stdp
    config = copy.deepcopy(config or digits_stdp.load_config())
    config["network"]["network"]["batch_size"] = B
    return digits_stdp.build_network(config, seed), config


def bench_stdp(B: int, samples: int, repeats: int, data) -> dict:
    """Training and inference samples/s of the unsupervised STDP network."""
    network, config = stdp_network(B)
    x = data.train.x
    rng = np.random.default_rng(0)
    order = np.stack([rng.permutation(len(x))[:samples] for _ in range(B)])
    network.train()
    train_s = _median(lambda: present(network, x, order=order), repeats)
    network.eval()
    import digits_stdp
    excitatory = digits_stdp.excitatory_neurons(config)
    infer_s = _median(lambda: present(network, x[:samples], neurons=excitatory), repeats)
    return _row("stdp", B, samples, train_s, infer_s,
                ms_per_sample=config["network"]["network"]["processing_steps"])


def bench_rstdp(B: int, samples: int, repeats: int, data, tmp) -> dict:
    """Training (spikey.training.train on the Digits game) and inference samples/s."""
    import digits_rstdp
    from spikey.training import train
    config = digits_rstdp.load_config()
    config["network"]["network"]["batch_size"] = B
    config["game"]["kwargs"]["n_presentations"] = samples
    config["training"].update(episodes=1, max_ticks=samples)
    result = {}

    def fit():
        result["network"] = train(config, run_dir=None, progress=False).network
    train_s = _median(fit, repeats)
    network = result["network"].eval()
    outputs = slice(network.n_neurons - network.n_outputs, None)
    infer_s = _median(lambda: present(network, data.train.x[:samples], neurons=outputs), repeats)
    return _row("rstdp", B, samples, train_s, infer_s,
                ms_per_sample=config["network"]["network"]["processing_steps"])


def bench_ga(B: int, samples: int, repeats: int, data) -> dict:
    """A generation's fitness (decode B genotypes, score them as one batch) and inference."""
    import digits_ga
    config = digits_ga.load_config()
    config["network"]["network"]["batch_size"] = max(B, 4)
    config["ga"]["population_size"] = max(B, 4)  # tournaments of 3 need a few genotypes
    config["route"]["fitness_samples"] = samples
    ga = digits_ga.DigitsGA(config, data, seed=0)
    if B == 1:  # genotypes scored one at a time, as without batching
        single = copy.deepcopy(config["network"])
        single["network"].update(batch_size=1, seed=0)
        ga.network = spikey.Network.from_config(single).eval()
    rng = np.random.default_rng(0)
    genotypes = [{name: (int(rng.integers(spec["int"][0], spec["int"][1] + 1)) if "int" in spec
                         else float(rng.uniform(*spec["float"])))
                  for name, spec in ga.genes.items()} for _ in range(B)]
    train_s = _median(lambda: ga.fitness(genotypes), repeats)
    infer_s = _median(lambda: present(ga.network, data.train.x[:samples]), repeats)
    return _row("ga", B, samples, train_s, infer_s,
                ms_per_sample=config["network"]["network"]["processing_steps"],
                note="training = one generation's fitness: decode + score the batch")


def bench_bptt(B: int, repeats: int) -> dict:
    """bench_gradients' BPTT step and forward pass at B (one BLAS thread)."""
    from bench_gradients import measure
    m = measure(B, repeats)
    # one "sample" per member: a minibatch of B in one BPTT step / forward pass
    return _row("bptt", B, 1, m["bptt_step_s"], m["forward_s"], ms_per_sample=m["steps"],
                note="B = minibatch size; one BPTT step / forward pass of B samples")


def route_time(data) -> list:
    """Wall seconds of the unsupervised route's training as shipped (5 epochs of the 1,078
    training digits, labels unused): 5 seeds as one batch, then 1 seed alone."""
    import digits_stdp
    rows = []
    for B in (5, 1):
        config = digits_stdp.load_config()
        config["network"]["network"]["batch_size"] = B
        start = time.perf_counter()
        digits_stdp.train_network(config, seed=0, data=data, verbose=False)
        rows.append({"batch_size": B, "epochs": config["route"]["epochs"],
                     "ms_per_sample": config["network"]["network"]["processing_steps"],
                     "train_samples": len(data.train),
                     "train_seconds": time.perf_counter() - start})
    return rows


MNIST_CHILD = r"""
import json, os, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from bench_classification import mnist_config
import digits_stdp
from spikey.datasets import Dataset, Split, load_mnist

def rss():
    # this process's peak resident memory so far (VmHWM, MiB); ru_maxrss would carry the
    # parent's peak over the fork and exec
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

folder, sums = sys.argv[2], json.loads(sys.argv[3])
train_samples, eval_samples, steps = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]) or None
out = {"after_imports_mib": rss()}
# the route's loader (digits_common.load_data): compact, pixels kept as bytes
data = load_mnist(folder, checksums=sums, compact=True)
out["after_load_mib"] = rss()
out["dataset_bytes"] = int(sum(s.x.nbytes + s.y.nbytes for s in (data.train, data.validation,
                                                                    data.test)))
if eval_samples:  # answer only the first validation images (the answers are streamed anyway)
    data = Dataset(data.name, data.train, Split(data.validation.x[:eval_samples],
                   data.validation.y[:eval_samples]), data.test, data.image_shape,
                   data.n_classes, data.class_names)
config = mnist_config(train_samples=train_samples, steps=steps)
results = digits_stdp.run(config, seed=0, data=data, verbose=False, splits=("validation",))
network = results["network"]
out["network_state_bytes"] = int(sum(a.nbytes for a in network.state_arrays().values()
                                     if hasattr(a, "nbytes")))
out.update(train_samples=train_samples, eval_samples=len(data.validation), steps=steps,
           train_seconds=results["train_seconds"], total_seconds=results["total_seconds"],
           validation=float(results["validation"][0]))
out["peak_rss_mib"] = rss()
print(json.dumps(out))
"""


def mnist_config(train_samples: int | None = None, steps: int | None = None) -> dict:
    """The unsupervised route's config as ``--dataset mnist --neurons 400 --epochs 1
    --eval-repeats 1 --members 1`` fits it: 784 pixels, 400 excitatory neurons (and their
    interneurons), one member; ``train_samples`` training images (default: all) and
    ``steps`` ms a sample (default: as configured, 200)."""
    import digits_stdp
    config = digits_stdp.load_config()
    config["network"]["network"]["batch_size"] = 1
    if steps is not None:
        config["network"]["network"]["processing_steps"] = steps
    config["route"].update(epochs=1, eval_repeats=1)
    if train_samples is not None:
        config["route"]["train_samples"] = train_samples
    return digits_stdp.resize(config, n_pixels=784, train_samples=train_samples or 50001)


def mnist_memory(train_samples: int = 200, eval_samples: int = 200, steps: int | None = None
                 ) -> dict:
    """Peak RSS (MiB) of the 400-neuron Diehl & Cook route on MNIST-shaped data.

    MNIST itself is not needed: this process writes synthetic IDX files of MNIST's shapes
    (60,000 + 10,000 random 28 x 28 byte images, labels 0-9) into a temporary folder; a
    fresh Python process then loads them as the route does (``load_mnist(compact=True)``:
    SHA-256 check, split, pixels kept as bytes), and runs the route
    (``digits_stdp.run``: 784 inputs, 400 excitatory neurons each with its interneuron,
    B = 1, one pass) on ``train_samples`` training images, labels the neurons on the same
    images (streamed) and answers ``eval_samples`` validation images (0: all 9,999); it
    reports its peak resident memory (``VmHWM``: its own high-water mark) at each stage.
    ``steps`` shortens each sample (ms; memory does not depend on it).
    """
    import tempfile

    from spikey.datasets.idx import FILES, sha256, write_idx
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for role, name in FILES.items():
            n = 60000 if role.startswith("train") else 10000
            array = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) if role.endswith("images")
                     else np.arange(n, dtype=np.uint8) % 10)
            write_idx(os.path.join(folder, name), array)
        sums = {name: sha256(os.path.join(folder, name)) for name in FILES.values()}
        code = subprocess.run([sys.executable, "-c", MNIST_CHILD, HERE, folder, json.dumps(sums),
                               str(train_samples), str(eval_samples), str(steps or 0)],
                              capture_output=True, text=True, check=False)
    if code.returncode:
        raise RuntimeError(f"mnist_memory child failed:\n{code.stderr[-3000:]}")
    return json.loads(code.stdout.strip().splitlines()[-1])


def main(argv=None):
    """Measure, print and optionally write every route's rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--routes", nargs="+", default=list(ROUTES), choices=ROUTES)
    parser.add_argument("--samples", type=int, default=None,
                        help="samples per timed run (default: 40 at B = 1, 10 at B >= 16)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--route-time", action="store_true",
                        help="time the unsupervised route's full training too")
    parser.add_argument("--mnist-memory", action="store_true",
                        help="peak memory of the 400-neuron network on MNIST-shaped data")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    import tempfile
    data = load_digits()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for B in args.batch:
            samples = args.samples or (40 if B < 16 else 10)
            for route in args.routes:
                if route == "stdp":
                    row = bench_stdp(B, samples, args.repeats, data)
                elif route == "rstdp":
                    row = bench_rstdp(B, samples, args.repeats, data, tmp)
                elif route == "ga":
                    row = bench_ga(B, samples, args.repeats, data)
                else:
                    row = bench_bptt(B, max(args.repeats, 3))
                rows.append(row)
                print(f"{row['route']:6s} B={B:3d}  train {row['train_samples_per_s']:9.1f} "
                      f"samples/s ({row['train_per_member']:7.1f} per member)  inference "
                      f"{row['infer_samples_per_s']:9.1f} samples/s "
                      f"({row['infer_per_member']:7.1f} per member)", flush=True)
    extra = {}
    if args.route_time:
        extra["route_time"] = route_time(data)
        for r in extra["route_time"]:
            print(f"unsupervised route, B={r['batch_size']}: {r['epochs']} epochs of "
                  f"{r['train_samples']} digits ({r['ms_per_sample']} ms each) trained in "
                  f"{r['train_seconds']:.1f} s", flush=True)
    if args.mnist_memory:
        extra["mnist_memory"] = mnist_memory()
        m = extra["mnist_memory"]
        print(f"MNIST-shaped data, 400-neuron Diehl & Cook network (B = 1): peak RSS "
              f"{m['peak_rss_mib']:.0f} MiB (after imports {m['after_imports_mib']:.0f}, after "
              f"loading {m['after_load_mib']:.0f}; dataset arrays "
              f"{m['dataset_bytes'] / 2**20:.0f} MiB, network state "
              f"{m['network_state_bytes'] / 2**20:.1f} MiB)", flush=True)
    write_json(args.json, "classification", rows, **extra, platform=platform.platform(),
               cpus=os.cpu_count(), load=os.getloadavg(),
               date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    return rows, extra


if __name__ == "__main__":
    main()
