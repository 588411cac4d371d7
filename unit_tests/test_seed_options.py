"""The ``--seeds`` options of the scripts behind the README's "Results you can rerun" rows."""

import os
import sys

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
for folder in ("meta", "examples", "benchmarks"):
    sys.path.insert(0, os.path.join(ROOT, folder))

import bench_ga_batched  # noqa: E402
import central_pattern_generator as cpg  # noqa: E402
import cartpole  # noqa: E402
import nqueens  # noqa: E402


@pytest.mark.parametrize("module", [nqueens, cpg, bench_ga_batched, cartpole])
def test_seed_ranges_expand_and_mix_with_single_seeds(module):
    assert module.seed_range("9000-9003") == [9000, 9001, 9002, 9003]
    assert module.seed_range("7") == [7]


@pytest.mark.parametrize("bad", ["x", "5-2", "-3", "1-", "1.5"])
def test_a_bad_seed_item_is_refused_naming_it(bad, capsys):
    with pytest.raises(SystemExit):
        nqueens.parse_args(["--seeds", bad])
    err = capsys.readouterr().err
    assert "--seeds" in err and repr(bad) in err and "A-B" in err


def test_nqueens_seeds_return_the_solving_generation_per_seed(capsys):
    assert nqueens.parse_args(["--seeds", "3", "9000-9001"]).seeds == [3, 9000, 9001]
    found = nqueens.main([0, 1], generations=300)
    assert found == {0: 23, 1: found[1]} and isinstance(found[1], int) and found[1] > 0
    assert "solved 2 of 2 within 300 generations" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        nqueens.parse_args(["--generations", "0"])
    assert "--generations must be >= 1, got 0" in capsys.readouterr().err


def test_cpg_frequencies_are_the_same_for_every_network_seed(capsys):
    table = cpg.main(["--seeds", "0", "9000-9001"])
    assert list(table) == [0, 9000, 9001]
    np.testing.assert_array_equal(table[0], [30.0, 38.0, 48.0, 58.0, 76.0])
    for seed in (9000, 9001):
        np.testing.assert_array_equal(table[seed], table[0])
    assert "over 3 seeds" in capsys.readouterr().out


def test_ga_benchmark_seeds_draw_their_own_generations(capsys):
    rows = bench_ga_batched.main(["--size", "2", "--seeds", "0-1"])
    assert [row["seed"] for row in rows] == [0, 1]
    assert all(row["same_fitness"] and row["networks"] == 2 for row in rows)
    with pytest.raises(SystemExit):
        bench_ga_batched.main(["--size", "0"])
    assert "--size must be >= 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1", "--out", "c.npz"], "must contain a {seed} field"),
    (["--seeds", "1", "--out", "c{seed}{x}.npz"], "must contain a {seed} field"),
    (["--generations", "0"], "--generations must be >= 1, got 0"),
])
def test_cartpole_seed_options_refuse_bad_input_before_evolving(argv, message, capsys):
    with pytest.raises(SystemExit):
        cartpole.main(argv)
    assert message in capsys.readouterr().err
