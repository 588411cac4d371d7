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


def test_outcome_reports_the_late_window_mean_and_rank():
    outcome = izhikevich_2007.run(seconds=3, report=3, late_window=2, verbose=False)["outcome"]
    # the chosen synapse starts at 0 and cannot reach the maximum 4 in 3 s
    assert outcome["time_to_max_s"] is None and outcome["seed"] == 0
    assert outcome["late_min"] <= outcome["late_mean"] <= outcome["late_max"] < 0.1
    # every other excitatory synapse starts at 1 and is still near it: the chosen one is last
    assert 0.9 < outcome["others_late_mean"] < 1.1
    assert outcome["rank"] == outcome["n_synapses"] > 70_000
    assert outcome["others_late_at_max"] == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"seconds": 2, "late_window": 3}, "late_window must be in (0, seconds=2]"),
    ({"seconds": 2, "late_window": 0}, "late_window must be in"),
    ({"seconds": 0}, "seconds must be > 0"),
])
def test_bad_windows_are_refused(kwargs, message):
    with pytest.raises(ValueError) as error:
        izhikevich_2007.run(verbose=False, **kwargs)
    assert message in str(error.value)
