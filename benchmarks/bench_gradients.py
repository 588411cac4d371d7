"""Gradient training speed: forward vs BPTT and e-prop steps, samples/s, memory vs T.

The workload is the digits network of ``examples/configs/digits_bptt.yaml`` (64 inputs ->
400 LIF -> 10 LIF outputs, T = 20 steps, regular input trains of real digits, hidden dropout). Per batch
size B: the median over repeats of the forward pass alone (with the tape, its arrays reused
as a training step reuses them), of a BPTT
training step (forward + loss + backward + Adam) and of an e-prop training step, all with one
BLAS thread (the trainer's default ``blas_threads: 1``); the ratio
BPTT step / forward; training samples/s. Then the tape's bytes for T = 20, 40, 80, 160
(memory grows linearly with T).

Run ``python benchmarks/bench_gradients.py [--batch 1 32 128] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import write_json  # noqa: E402

from spikey.datasets import load_digits  # noqa: E402
from spikey.gradients import GradientTrainer  # noqa: E402
from spikey.training.config import load_config  # noqa: E402

CONFIG = os.path.join(os.path.dirname(__file__), "..", "examples", "configs", "digits_bptt.yaml")


def _median_time(fn, repeats: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(batch_size: int, repeats: int, steps: int = 20) -> dict:
    """Median seconds of a forward pass, a BPTT step and an e-prop step at ``batch_size``."""
    config = load_config(CONFIG)
    config["network"]["network"]["processing_steps"] = steps
    x = load_digits().train.x[:batch_size]
    y = load_digits().train.y[:batch_size]
    out = {"batch_size": batch_size, "steps": steps}
    for method in ("bptt", "eprop"):
        trainer = GradientTrainer(config["network"], {**config["gradient"], "method": method})
        trains = trainer.encode(x)
        with threadpool_limits(limits=1, user_api="blas"):  # as the trainer runs (blas_threads)
            if method == "bptt":
                # the forward pass of a training step: same dropout masks
                masks = trainer.dropout_masks(batch_size)
                workspace = {}
                out["forward_s"] = _median_time(
                    lambda: trainer.model.forward(trains, input_mask=masks[0],
                                                  hidden_mask=masks[1], workspace=workspace),
                    repeats)
            out[f"{method}_step_s"] = _median_time(lambda: trainer.train_step(trains, y),
                                                   repeats)
    out.update(epoch_pass(config, batch_size))
    out["bptt_over_forward"] = out["bptt_step_s"] / out["forward_s"]
    out["eprop_over_forward"] = out["eprop_step_s"] / out["forward_s"]
    out["bptt_samples_per_s"] = batch_size / out["bptt_step_s"]
    out["eprop_samples_per_s"] = batch_size / out["eprop_step_s"]
    out["forward_samples_per_s"] = batch_size / out["forward_s"]
    return out


def epoch_pass(config: dict, batch_size: int, images: int = 512) -> dict:
    """Seconds per sample of a pass over ``images`` training images in minibatches:
    forward only (the tape's arrays reused) against BPTT training steps. Unlike the
    repeated single batch above, every minibatch is new data, as in training."""
    trainer = GradientTrainer(config["network"], config["gradient"])
    ds = load_digits()
    trains = trainer.encode(ds.train.x[:images])
    labels = ds.train.y[:images]
    starts = range(0, images - batch_size + 1, batch_size)
    workspace = {}
    with threadpool_limits(limits=1, user_api="blas"):
        passes = {}
        for name in ("forward", "bptt"):
            best = None
            for _ in range(3):
                begin = time.perf_counter()
                for s in starts:
                    x = trains[s:s + batch_size]
                    if name == "forward":
                        masks = trainer.dropout_masks(batch_size)
                        trainer.model.forward(x, input_mask=masks[0], hidden_mask=masks[1],
                                              workspace=workspace)
                    else:
                        trainer.train_step(x, labels[s:s + batch_size])
                took = (time.perf_counter() - begin) / (len(starts) * batch_size)
                best = took if best is None else min(best, took)
            passes[name] = best
    return {"pass_forward_s_per_sample": passes["forward"],
            "pass_bptt_s_per_sample": passes["bptt"],
            "pass_bptt_over_forward": passes["bptt"] / passes["forward"]}


def tape_bytes(steps: int, batch_size: int = 32) -> int:
    """Bytes held by the BPTT tape of one minibatch of ``steps`` steps."""
    config = load_config(CONFIG)
    config["network"]["network"]["processing_steps"] = steps
    trainer = GradientTrainer(config["network"], config["gradient"])
    tape = trainer.model.forward(trainer.encode(load_digits().train.x[:batch_size]))
    return int(sum(a.nbytes for a in (tape.inputs, tape.potential, tape.spikes,
                                      tape.distance)))


def main(argv=None):
    """Run the measurements and print (and optionally write) one row per batch size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    rows = []
    for B in args.batch:
        row = measure(B, args.repeats)
        rows.append(row)
        print(f"B={B:4d}  forward {row['forward_s'] * 1e3:8.2f} ms  BPTT step "
              f"{row['bptt_step_s'] * 1e3:8.2f} ms ({row['bptt_over_forward']:.2f}x forward, "
              f"{row['bptt_samples_per_s']:8.0f} samples/s)  e-prop step "
              f"{row['eprop_step_s'] * 1e3:8.2f} ms ({row['eprop_over_forward']:.2f}x, "
              f"{row['eprop_samples_per_s']:7.0f} samples/s); pass over new minibatches: "
              f"BPTT / forward {row['pass_bptt_over_forward']:.2f}, "
              f"{1 / row['pass_bptt_s_per_sample']:.0f} samples/s", flush=True)
    memory = [{"steps": T, "tape_bytes": tape_bytes(T)} for T in (20, 40, 80, 160)]
    for m in memory:
        print(f"T={m['steps']:4d}  tape {m['tape_bytes'] / 1e6:7.2f} MB (B = 32)")
    write_json(args.json, "gradients", rows, memory=memory, platform=platform.platform(),
               cpus=os.cpu_count(), load=os.getloadavg())
    return rows, memory


if __name__ == "__main__":
    main()
