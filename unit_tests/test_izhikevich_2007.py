"""Izhikevich (2007) distal reward, shortened: the rewarded synapse grows, the others do not."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import izhikevich_2007  # noqa: E402


def test_network_fires_at_the_papers_rates():
    history = izhikevich_2007.run(seconds=5, report=5, verbose=False)["history"]
    last = history[-1]
    assert 1.0 < last["exc_rate_hz"] < 1.8 and 0.5 < last["inh_rate_hz"] < 1.3, last


@pytest.mark.slow
def test_chosen_synapse_is_singled_out_within_half_an_hour():
    last = izhikevich_2007.run(seconds=1800, report=1800, verbose=False)["history"][-1]
    assert last["rewards"] > 20
    assert last["chosen"] > 2.0 and last["chosen"] > 3 * last["others_mean"], last
    assert last["others_at_max"] < 0.02
