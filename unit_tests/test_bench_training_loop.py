"""benchmarks/bench_training_loop.py: the parts of a training run add up to its wall time."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))

import bench_training_loop  # noqa: E402

from spikey.snn.network import Network  # noqa: E402
from spikey.training import loop  # noqa: E402


def test_parts_add_up_and_the_timers_are_removed(tmp_path):
    out = tmp_path / "loop.json"
    tick, flush, checkpoint = Network.tick, loop._Table.flush, loop._checkpoint
    result = bench_training_loop.main(["--episodes", "2", "--repeats", "1", "--json", str(out)])
    assert Network.tick is tick and loop._Table.flush is flush  # restored
    assert loop._checkpoint is checkpoint
    assert isinstance(vars(Network)["from_config"], classmethod)
    run = result["runs_s"][0]
    assert all(run[part] >= 0 for part in bench_training_loop.PARTS if part != "other")
    assert sum(run[part] for part in bench_training_loop.PARTS) == pytest.approx(run["total"])
    # with --episodes 2 the only checkpoint is the final one: a cost of the run (finish)
    assert run["network"] > run["finish"] > 0 and run["record"] > 0 and run["health"] > 0
    assert run["checkpoint"] == 0 and run["timers"] > 0
    assert result["overhead_share_of_network"] == pytest.approx(
        result["overhead_s"] / result["median_s"]["network"])
    assert json.loads(out.read_text())["episodes"] == 2


def test_bad_arguments_are_refused(capsys):
    for argv, message in [(["--repeats", "0"], "--repeats = 0; expected >= 1"),
                          (["--episodes", "0"], "--episodes = 0; expected >= 1")]:
        with pytest.raises(SystemExit):
            bench_training_loop.main(argv)
        assert message in capsys.readouterr().err
