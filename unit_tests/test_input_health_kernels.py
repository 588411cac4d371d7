"""The compiled regular spike trains and the finite check against their numpy reference."""

import numpy as np
import pytest

from spikey import Network
from spikey.snn import kernels
from spikey.snn.health import _EXPONENT, first_non_finite

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def population(kernel_choice, dtype, spike_model):
    return Network.from_config({
        "parts": {"inputs": "Population", "neurons": "LIF", "weights": "Random",
                  "readout": "Threshold"},
        "network": {"processing_steps": 37, "batch_size": 3, "seed": 5, "dtype": dtype,
                    "reward_mode": "none",
                    "kernels": kernel_choice},
        "inputs": {"n_dims": 2, "n_per_dim": 7, "low": [-1.0, -2.0], "high": [1.0, 2.0],
                   "max_rate": 313.0, "spike_model": spike_model},
        "neurons": {"n_neurons": 4},
        "readout": {"n_outputs": 2},
    })


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spike_model", ["regular", "regular-tick"])
def test_regular_steps_equal_the_step_loop_bit_for_bit(dtype, spike_model):
    """Several ticks of changing observations: spikes, phases and the last step's spikes."""
    compiled, reference = population("numba", dtype, spike_model), population("numpy", dtype,
                                                                                spike_model)
    rng = np.random.default_rng(0)
    total = 0
    for _ in range(6):
        state = rng.uniform(-2.5, 2.5, size=(3, 2))
        outs = []
        for net in (compiled, reference):
            net.inputs.present(state)
            out = np.zeros((3, 37, net.n_inputs), dtype=bool)
            outs.append(net.inputs.steps(37, out).copy())
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_array_equal(compiled.inputs.phase, reference.inputs.phase)
        np.testing.assert_array_equal(compiled.inputs.spikes, outs[1][:, -1])
        total += int(outs[0].sum())
    assert total > 100  # the trains fired


def test_all_finite_finds_every_kind_of_non_finite_value():
    net = population("numba", "float32", "regular")
    assert first_non_finite(net) is None
    for bad in (np.nan, np.inf, -np.inf):
        net.neurons.potential[1, 2] = bad
        assert first_non_finite(net) == ("neurons", "potential")
        net.neurons.potential[1, 2] = 0.0
    for dtype, (bits, exponent) in _EXPONENT.items():
        info = np.finfo(dtype)
        edge = np.array([info.max, -info.max, info.tiny, info.smallest_subnormal, -0.0, 0.0],
                        dtype=dtype)  # finite values with the largest / smallest exponents
        assert kernels.all_finite(edge.view(bits), exponent)
        for bad in (np.nan, np.inf, -np.inf, -np.nan):
            for position in (0, 7, 4099):  # first, inside the first vector, far in
                values = np.zeros(5000, dtype=dtype)
                values[position] = bad
                assert not kernels.all_finite(values.view(bits), exponent), (dtype, bad)
        strided = np.zeros((4, 6), dtype=dtype)[:, ::2]
        strided[3, 1] = np.nan
        assert not kernels.all_finite(np.ravel(strided).view(bits), exponent)
        assert kernels.all_finite(np.ravel(np.zeros((4, 6), dtype=dtype)[:, ::2]).view(bits),
                                  exponent)


def test_finite_check_reads_computed_state_not_random_draws():
    """The per-tick check reads every array the network computes and skips only the random
    streams' blocks of uniform draws (a generator cannot produce a non-finite draw)."""
    net = population("numba", "float32", "regular")
    every = net.state_arrays()
    computed = net.state_arrays(random=False)
    skipped = sorted(set(every) - set(computed))
    assert skipped and all(name.endswith((".buffer", ".position")) and ".random" in name
                           for name in skipped), skipped
    assert all(name in computed for name in every if ".random." not in name)
