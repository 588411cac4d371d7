"""Gradient training speed: forward vs BPTT and e-prop steps, samples/s, memory vs T.

The workload is the digits network of ``examples/configs/digits_bptt.yaml`` (64 inputs ->
400 LIF -> 10 LIF outputs, T = 20 steps, regular input trains of real digits, hidden dropout). Per batch
size B: the median over repeats of the forward pass alone (with the tape, its arrays reused
as a training step reuses them), of a BPTT
training step (forward + loss + backward + Adam) and of an e-prop training step, all with one
BLAS thread (the trainer's default ``blas_threads: 1``); the ratio
BPTT step / forward; training samples/s. Then the tape's bytes for T = 20, 40, 80, 160
(memory grows linearly with T).

Every time is taken on two clocks: wall time (``*_s``) and the CPU time of this thread
(``*_cpu_s``, ``time.thread_time``). On a shared machine other jobs stretch wall times by
preempting the run (on the 2-core development machine at load average 8-9, a B = 32 step's
wall-time median varied 2x between runs); CPU time counts only the run's own work, so the
CPU-time ratios are the ones to compare between runs (the run is single-threaded: one BLAS
thread, no parallel kernels).

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


def _median_time(fn, repeats: int) -> tuple:
    """``(wall, cpu)``: median seconds of ``fn()`` on the wall clock and on this thread's CPU
    clock, after one warm-up call."""
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(wall), statistics.median(cpu)


def measure(batch_size: int, repeats: int, steps: int = 20) -> dict:
    """Median seconds (wall, ``*_s``; CPU, ``*_cpu_s``) of a forward pass, a BPTT step and an
    e-prop step at ``batch_size``, and a pass over new minibatches (:func:`epoch_pass`)."""
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
                out["forward_s"], out["forward_cpu_s"] = _median_time(
                    lambda: trainer.model.forward(trains, input_mask=masks[0],
                                                  hidden_mask=masks[1], workspace=workspace),
                    repeats)
            out[f"{method}_step_s"], out[f"{method}_step_cpu_s"] = _median_time(
                lambda: trainer.train_step(trains, y), repeats)
    out.update(epoch_pass(config, batch_size))
    for clock in ("", "_cpu"):
        forward = out[f"forward{clock}_s"]
        for method in ("bptt", "eprop"):
            step = out[f"{method}_step{clock}_s"]
            out[f"{method}_over_forward{clock}"] = step / forward
            out[f"{method}_samples_per_s{clock}"] = batch_size / step
        out[f"forward_samples_per_s{clock}"] = batch_size / forward
    return out


def epoch_pass(config: dict, batch_size: int, images: int = 512) -> dict:
    """Seconds per sample of a pass over ``images`` training images in minibatches:
    forward only (the tape's arrays reused) against BPTT training steps, best of 3 passes on
    each clock. Unlike the repeated single batch above, every minibatch is new data, as in
    training."""
    trainer = GradientTrainer(config["network"], config["gradient"])
    ds = load_digits()
    trains = trainer.encode(ds.train.x[:images])
    labels = ds.train.y[:images]
    starts = range(0, images - batch_size + 1, batch_size)
    workspace = {}
    out = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for name in ("forward", "bptt"):
            best = best_cpu = None
            for _ in range(3):
                begin, begin_cpu = time.perf_counter(), time.thread_time()
                for s in starts:
                    x = trains[s:s + batch_size]
                    if name == "forward":
                        masks = trainer.dropout_masks(batch_size)
                        trainer.model.forward(x, input_mask=masks[0], hidden_mask=masks[1],
                                              workspace=workspace)
                    else:
                        trainer.train_step(x, labels[s:s + batch_size])
                count = len(starts) * batch_size
                took_cpu = (time.thread_time() - begin_cpu) / count
                took = (time.perf_counter() - begin) / count
                best = took if best is None else min(best, took)
                best_cpu = took_cpu if best_cpu is None else min(best_cpu, took_cpu)
            out[f"pass_{name}_s_per_sample"] = best
            out[f"pass_{name}_cpu_s_per_sample"] = best_cpu
    out["pass_bptt_over_forward"] = out["pass_bptt_s_per_sample"] / \
        out["pass_forward_s_per_sample"]
    out["pass_bptt_over_forward_cpu"] = out["pass_bptt_cpu_s_per_sample"] / \
        out["pass_forward_cpu_s_per_sample"]
    return out


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
        print(f"B={B:4d}  CPU time: forward {row['forward_cpu_s'] * 1e3:7.2f} ms, BPTT step "
              f"{row['bptt_step_cpu_s'] * 1e3:7.2f} ms ({row['bptt_over_forward_cpu']:.2f}x "
              f"forward, {row['bptt_samples_per_s_cpu']:6.0f} samples/s), e-prop step "
              f"{row['eprop_step_cpu_s'] * 1e3:8.2f} ms ({row['eprop_over_forward_cpu']:.2f}x); "
              f"pass over new minibatches: BPTT / forward {row['pass_bptt_over_forward_cpu']:.2f}"
              f", {1 / row['pass_bptt_cpu_s_per_sample']:.0f} samples/s | wall time: ratios "
              f"{row['bptt_over_forward']:.2f} (repeated), {row['pass_bptt_over_forward']:.2f} "
              f"(pass)", flush=True)
    memory = [{"steps": T, "tape_bytes": tape_bytes(T)} for T in (20, 40, 80, 160)]
    for m in memory:
        print(f"T={m['steps']:4d}  tape {m['tape_bytes'] / 1e6:7.2f} MB (B = 32)")
    write_json(args.json, "gradients", rows, memory=memory, platform=platform.platform(),
               cpus=os.cpu_count(), load=os.getloadavg())
    return rows, memory


if __name__ == "__main__":
    main()
