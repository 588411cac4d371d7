"""benchmarks/run_all.py's reference table: which clock each Brian2 ratio compares."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))

import run_all  # noqa: E402


def test_cpp_standalone_ratio_uses_spikeys_cpu_steps_and_the_others_wall_steps():
    """Brian2 C++ standalone reports its loop's CPU time (std::clock); its ratio must use
    Spikey's CPU steps/s, the runtime modes' ratios Spikey's wall steps/s."""
    variant = run_all.REFERENCE_VARIANTS[0]
    ours = {"rows": [{"variant": variant, "kernels": "numba", "steps_per_s": 1000.0,
                      "cpu_steps_per_s": 3000.0, "rate_hz": 20.0, "storage": "dense"}]}
    theirs = {"rows": [{"mode": m, "variant": variant, "steps_per_s": 500.0, "rate_hz": 21.0}
                       for m in ("cython", "cpp_standalone")]}
    lines = run_all.reference_section(ours, theirs)
    header = next(line for line in lines if line.startswith("| variant"))
    row = next(line for line in lines if line.startswith(f"| {variant} |"))
    cells = dict(zip([c.strip() for c in header.split("|")[1:-1]],
                     [c.strip() for c in row.split("|")[1:-1]]))
    assert cells["Spikey numba / Brian2 cython"] == "2.00x"  # wall / wall
    assert cells["Spikey numba / Brian2 cpp_standalone"] == "6.00x"  # CPU / CPU
    assert cells[">= 2x C++ standalone"] == "yes"
    ours["rows"][0].pop("cpu_steps_per_s")  # an older result without CPU steps: wall
    row = next(line for line in run_all.reference_section(ours, theirs)
               if line.startswith(f"| {variant} |"))
    assert "| 2.00x | 2.00x |" in row
