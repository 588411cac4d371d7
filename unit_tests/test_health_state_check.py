"""spikey.snn.health.StateCheck: the per-tick finite check with its arrays found once finds
what check_network finds, in every array, also after a part replaced an array."""

import numpy as np
import pytest

from spikey import Network
from spikey.snn import health
from spikey.snn.health import NonFiniteError, StateCheck, check_network


def _network(dtype="float32", batch_size=2):
    return Network.from_config({
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                  "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "MatchExpected"},
        "network": {"processing_steps": 5, "batch_size": batch_size, "seed": 3, "dtype": dtype},
        "inputs": {"n_inputs": 4, "n_dims": 2, "rate_map": [0.0, 100.0]},
        "neurons": {"n_neurons": 3},
        "readout": {"n_outputs": 1, "threshold": 1.0},
    })


def _message(call):
    with pytest.raises(NonFiniteError) as caught:
        call()
    return str(caught.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_float_state_array_is_checked_with_check_networks_message(dtype):
    network = _network(dtype)
    check = StateCheck(network)
    check("in tick 0")  # finite: silent
    floats = {k: a for k, a in network.state_arrays(random=False).items()
              if a.dtype.kind == "f"}
    assert len(floats) >= 6
    for key, array in floats.items():
        for bad in (np.nan, np.inf, -np.inf):
            flat = array.reshape(-1)
            keep = flat[-1].copy()
            flat[-1] = bad
            expected = _message(lambda: check_network(network, "in tick 4"))
            assert key in expected
            assert _message(lambda: check("in tick 4")) == expected
            flat[-1] = keep
        check("in tick 5")


def test_a_replaced_array_and_a_non_contiguous_one_are_read():
    network = _network()
    check = StateCheck(network)
    neurons = network.parts["neurons"]
    fresh = neurons.potential.copy()
    neurons.potential = fresh  # a part that replaced its array: the check follows it
    fresh[1, 2] = np.nan
    assert "neurons.potential holds nan (members [1])" in _message(lambda: check("in tick 1"))
    wide = np.zeros((2, 2 * fresh.shape[1]), dtype=fresh.dtype)
    neurons.potential = wide[:, ::2]  # not contiguous: checked with np.isfinite
    check("in tick 2")
    wide[0, 2] = np.inf
    assert "neurons.potential holds inf (members [0])" in _message(lambda: check("in tick 3"))


def test_more_arrays_than_a_group_are_all_read(monkeypatch):
    monkeypatch.setattr(health, "GROUP", 2)  # the arrays spread over several compiled calls
    network = _network()
    check = StateCheck(network)
    assert len(check._calls) >= 3
    network.parts["synapses"].eligibility[1, 0, 0] = np.nan  # the last of the float32 arrays
    assert "synapses.eligibility holds nan" in _message(lambda: check("in tick 1"))


def test_without_the_compiled_check_numpy_reads_them(monkeypatch):
    monkeypatch.setattr(health, "_group", None)
    network = _network()
    check = StateCheck(network)
    assert not check._calls and check._slow
    network.weights.matrix[0, 0, 0] = np.inf
    assert "weights.matrix holds inf" in _message(lambda: check("in tick 1"))
