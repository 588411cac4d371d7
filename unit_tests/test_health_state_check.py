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


def test_the_compiled_table_finds_every_value_of_every_array():
    """Any position of any array in the table (float32 and float64 rows), and nothing else."""
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=n).astype(dtype) for n, dtype in
              [(1, np.float32), (7, np.float64), (1000, np.float32), (4099, np.float64),
               (0, np.float32), (33, np.float32)]]
    table = np.array([(a.ctypes.data, a.size, 8 * a.itemsize) for a in arrays],
                     dtype=np.int64)
    assert health._table_check(table)
    for array in arrays:
        for position in sorted({0, array.size // 2, array.size - 1}) if array.size else []:
            for bad in (np.nan, np.inf, -np.inf):
                keep = array[position]
                array[position] = bad
                assert not health._table_check(table), (array.dtype, array.size, position)
                array[position] = keep
    edge = [np.array([np.finfo(t).max, -np.finfo(t).max, np.finfo(t).smallest_subnormal, -0.0],
                     dtype=t) for t in (np.float32, np.float64)]
    assert health._table_check(np.array([(a.ctypes.data, a.size, 8 * a.itemsize)
                                         for a in edge], dtype=np.int64))


def test_without_the_compiled_check_numpy_reads_them(monkeypatch):
    monkeypatch.setattr(health, "_table_check", None)
    network = _network()
    check = StateCheck(network)
    assert not len(check._table) and check._slow
    network.weights.matrix[0, 0, 0] = np.inf
    assert "weights.matrix holds inf" in _message(lambda: check("in tick 1"))
