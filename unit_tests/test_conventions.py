"""Conventions that differ from Brian2 / the textbook forms, pinned with numbers (issue 20, part 3).

* LIF-family refractory period: it blocks the ``R`` ms *after* the spike step, so the
  shortest inter-spike interval is ``R + dt`` (Brian2's ``refractory=R`` gives ``R``).
* STDP: a pre and a post spike in the same step give ``eta (A+ + A-)``.
* Izhikevich: the number of Euler sub-steps of v is the key ``substeps``.
"""

import math

import numpy as np
import pytest

from conftest import build_pair_config, drive_synapses
from spikey import ConfigError, Network
from spikey.core.part import BuildContext
from spikey.snn import kernels
from spikey.snn.neuron import AdaptiveLIF, ConductanceLIF, Izhikevich, LIF, ModulatedLIF

KERNEL_PATHS = [False] + ([True] if kernels.AVAILABLE else [])


def _part(cls, dt=1.0, use_kernels=False, batch_size=1, **keys):
    part = cls(**keys)
    part.build(BuildContext(batch_size, np.dtype("float64"), dt, tuple(range(batch_size)), 0,
                            keys["n_neurons"], 0, kernels=use_kernels))
    part.reset()
    return part


def _spike_times(part, current, n_steps):
    """Step indices at which neuron 0 of member 0 fires under a constant current."""
    drive = np.full(part.spikes.shape, current, dtype=np.float64)
    extra = (np.zeros_like(drive),) if part.SPLIT_INPUT else ()
    return np.flatnonzero([bool(part.step(drive, *extra)[0, 0]) for _ in range(n_steps)])


# ---------------------------------------------------------------- refractory: ISI = R + dt
@pytest.mark.parametrize("R, dt", [(2.0, 1.0), (5.0, 1.0), (3.0, 0.5), (1.0, 0.25)])
@pytest.mark.parametrize("use_kernels", KERNEL_PATHS)
def test_lif_refractory_isi_is_period_plus_one_step(R, dt, use_kernels):
    # a drive far above threshold fires on every step the neuron is open
    part = _part(LIF, dt=dt, use_kernels=use_kernels, n_neurons=1, refractory=R)
    times = _spike_times(part, 1000.0, 40)
    assert times[0] == 0
    np.testing.assert_allclose(np.diff(times) * dt, R + dt, rtol=0, atol=1e-12)
    assert part.refractory_steps == round(R / dt)


@pytest.mark.parametrize("cls, keys", [(AdaptiveLIF, {"adaptation_strength": 0.0}),
                                       (ConductanceLIF, {}),
                                       (ModulatedLIF, {"max_burst": 0, "habituation_rate": 0.0})])
def test_other_lif_models_share_the_convention(cls, keys):
    R, dt = 3.0, 0.5
    drive = 1000.0 if cls is AdaptiveLIF else 1e6  # nS for ConductanceLIF
    part = _part(cls, dt=dt, n_neurons=1, refractory=R, **keys)
    times = _spike_times(part, drive, 60)
    assert len(times) > 5
    np.testing.assert_allclose(np.diff(times) * dt, R + dt, rtol=0, atol=1e-12)


def test_refractory_below_one_step_rounds_up():
    part = _part(LIF, dt=1.0, n_neurons=1, refractory=0.3)
    np.testing.assert_array_equal(np.diff(_spike_times(part, 1000.0, 20)), 2)  # ISI 2 ms


# ---------------------------------------------------------------- STDP at delta = 0, +1, -1
ETA, A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, W0 = 0.1, 0.8, -0.6, 15.0, 25.0, 2.5


@pytest.mark.parametrize("rule", ["STDP", "MSTDP"])
@pytest.mark.parametrize("dt", [1.0, 0.5])
@pytest.mark.parametrize("delta", [0, 1, -1])
def test_stdp_pairing_by_hand(rule, dt, delta):
    """Pre at step 3, post at step 3 + delta: the weight change of the one synapse."""
    synapses = {"learning_rate": ETA, "A_plus": A_PLUS, "A_minus": A_MINUS,
                "tau_plus": TAU_PLUS, "tau_minus": TAU_MINUS}
    net = Network.from_config(build_pair_config(rule, synapses, weight=W0, dt=dt))
    drive_synapses(net, pre_steps=[3], post_steps=[3 + delta], n_steps=8)
    if rule == "MSTDP":  # the summed zeta waits for the reward: r = 1 credits it
        net.synapses.reward(np.ones(1), net.weights)
    dw = net.weights.matrix[0, 0, 0] - W0
    if delta == 0:
        # both traces are updated before zeta: eta (A+ + A-), not the classic pair rule's eta A+
        expected = ETA * (A_PLUS + A_MINUS)
    elif delta == 1:
        expected = ETA * A_PLUS * math.exp(-dt / TAU_PLUS)
    else:
        expected = ETA * A_MINUS * math.exp(-dt / TAU_MINUS)
    assert dw == pytest.approx(expected, rel=1e-12)


def test_stdp_same_step_pair_is_not_the_classic_rule():
    synapses = {"learning_rate": ETA, "A_plus": A_PLUS, "A_minus": A_MINUS}
    net = Network.from_config(build_pair_config("STDP", synapses, weight=W0))
    drive_synapses(net, pre_steps=[2], post_steps=[2], n_steps=4)
    dw = net.weights.matrix[0, 0, 0] - W0
    assert dw == pytest.approx(0.1 * (0.8 - 0.6))  # 0.02
    assert dw != pytest.approx(ETA * A_PLUS)  # 0.08 in the classic pair rule


# ---------------------------------------------------------------- Izhikevich sub-steps
def _izhikevich_count(substeps=None, preset="FS", dt=1.0, use_kernels=False, T=1000.0):
    keys = {} if substeps is None else {"substeps": substeps}
    part = _part(Izhikevich, dt=dt, use_kernels=use_kernels, n_neurons=1, preset=preset, **keys)
    return len(_spike_times(part, 10.0, int(round(T / dt))))


@pytest.mark.parametrize("use_kernels", KERNEL_PATHS)
def test_izhikevich_substeps_change_the_count_as_documented(use_kernels):
    # the neuron README's table: FS at I = 10 for 1 s, dt = 1 (the ODE gives 137)
    assert _izhikevich_count(use_kernels=use_kernels) == 89  # default: 2 half-steps
    assert _izhikevich_count(2, use_kernels=use_kernels) == 89
    assert _izhikevich_count(1, use_kernels=use_kernels) == 82
    assert _izhikevich_count(10, use_kernels=use_kernels) == 100


def test_izhikevich_default_substeps_follow_max_substep():
    for dt, max_substep, n in [(1.0, 0.5, 2), (0.5, 0.5, 1), (1.0, 0.3, 4), (0.1, 0.5, 1)]:
        part = _part(Izhikevich, dt=dt, n_neurons=1, max_substep=max_substep)
        assert part.n_substeps == n
        part = _part(Izhikevich, dt=dt, n_neurons=1, max_substep=max_substep, substeps=3)
        assert part.n_substeps == 3  # the key wins over max_substep
        assert part.substep == pytest.approx(dt / 3)


@pytest.mark.parametrize("use_kernels", KERNEL_PATHS)
def test_izhikevich_three_substeps_by_hand(use_kernels):
    part = _part(Izhikevich, use_kernels=use_kernels, n_neurons=2, preset="RS", substeps=3)
    part.potential[...] = [[-60.0, 10.0]]
    part.recovery[...] = [[-10.0, -2.0]]
    I = np.array([[4.0, 20.0]])
    v, u = np.array([-60.0, 10.0]), np.array([-10.0, -2.0])
    for _ in range(3):
        v = np.minimum(v + (1.0 / 3.0) * (0.04 * v * v + 5 * v + 140 - u + I[0]), 30.0)
    u = u + 0.02 * (0.2 * v - u)
    spikes = part.step(I)
    np.testing.assert_array_equal(spikes, [[False, True]])
    np.testing.assert_allclose(part.potential[0], [v[0], -65.0], rtol=1e-13)
    np.testing.assert_allclose(part.recovery[0], [u[0], u[1] + 8.0], rtol=1e-13)


@pytest.mark.parametrize("bad", [0, -2, 2.5, "two", True, 10001])
def test_izhikevich_bad_substeps_are_refused(bad):
    with pytest.raises(ConfigError, match="substeps"):
        Izhikevich(n_neurons=1, substeps=bad)


@pytest.mark.parametrize("use_kernels", KERNEL_PATHS)
def test_izhikevich_substeps_can_change_during_a_run(use_kernels):
    # set() re-derives the sub-step (the compiled step re-reads its constants)
    part = _part(Izhikevich, use_kernels=use_kernels, n_neurons=1, preset="FS")
    assert len(_spike_times(part, 10.0, 10)) == 1
    part.set("substeps", 1)
    part.reset()
    assert len(_spike_times(part, 10.0, 1000)) == 82
    part.set("substeps", None)
    part.reset()
    assert part.n_substeps == 2 and len(_spike_times(part, 10.0, 1000)) == 89
    with pytest.raises(ConfigError, match="substeps"):
        part.set("substeps", 0)
