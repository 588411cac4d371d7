"""LIF neurons against closed forms, driven directly through ``net.neurons.step``."""

import math

import numpy as np
import pytest

from spikey import Network


def _net(silent_config, **kw):
    return Network.from_config(silent_config(**kw))


def _drive(net, current, n_steps):
    """Step the neurons ``n_steps`` times with a constant ``(B, N)`` input; return spikes, potentials."""
    B, N = net.neurons.potential.shape
    current = np.broadcast_to(np.asarray(current, dtype=net.neurons.potential.dtype), (B, N)).copy()
    spikes = np.zeros((n_steps, B, N), dtype=bool)
    potentials = np.zeros((n_steps, B, N))
    for t in range(n_steps):
        spikes[t] = net.neurons.step(current)
        potentials[t] = net.neurons.potential
    return spikes, potentials


def _first_spike_step(I, theta, d, V0=0.0):
    """Smallest n >= 1 with V_n = V_inf + (V0 - V_inf) d^n >= theta (loop free, float64)."""
    I = np.asarray(I, dtype=np.float64)
    v_inf = I / (1.0 - d)
    x = np.log((v_inf - theta) / (v_inf - V0)) / np.log(d)
    frac = x - np.floor(x)
    assert np.all((frac > 1e-6) & (frac < 1 - 1e-6)), "test inputs too close to a step boundary"
    return np.ceil(x).astype(int)


@pytest.mark.parametrize("tau, dt", [(20.0, 1.0), (5.0, 1.0), (20.0, 0.5), (7.3, 0.25)])
def test_membrane_decay(silent_config, tau, dt):
    net = _net(silent_config, batch_size=2, dt=dt, tau=tau)
    V0 = np.array([[10.0, -4.0, 15.9, 0.0, 1e-3, 7.5], [3.0, 2.0, 1.0, -15.0, 12.0, 0.5]])
    net.neurons.potential[...] = V0
    spikes, v = _drive(net, 0.0, 60)
    t = np.arange(1, 61)[:, None, None]
    np.testing.assert_allclose(v, V0[None] * np.exp(-t * dt / tau), rtol=1e-12, atol=1e-300)
    assert not spikes.any()
    assert net.neurons.decay == math.exp(-dt / tau)


@pytest.mark.parametrize("tau, dt, theta", [(20.0, 1.0, 16.0), (10.0, 0.5, 8.0)])
def test_time_to_first_spike_under_constant_input(silent_config, tau, dt, theta):
    d = math.exp(-dt / tau)
    floor_input = theta * (1 - d)  # below this the neuron never reaches threshold
    I = np.array([[1.0, 2.0, 5.0, 10.1, 30.0, floor_input * 1.01],
                  [0.7 * theta, 3.3, 1.1 * floor_input, 0.999 * floor_input, 0.5 * floor_input,
                   4.2]])
    expected = np.full(I.shape, -1)
    fires = I > floor_input
    expected[fires] = _first_spike_step(I[fires], theta, d)
    n_steps = int(expected.max()) + 50
    net = _net(silent_config, batch_size=2, dt=dt, tau=tau, threshold=theta)
    spikes, v = _drive(net, I, n_steps)
    first = np.where(spikes.any(axis=0), spikes.argmax(axis=0) + 1, -1)
    np.testing.assert_array_equal(first, expected)
    assert expected[0, 5] > 50 and expected[1, 2] > 20  # the slow cases really are slow
    # before its first spike each neuron follows V_n = I (1 - d^n) / (1 - d)
    n = np.arange(1, n_steps + 1)[:, None, None]
    closed = I[None] * (1 - d ** n) / (1 - d)
    before = n < np.where(expected > 0, expected, n_steps + 1)[None]
    np.testing.assert_allclose(v[before], closed[before], rtol=1e-10)


def test_exact_threshold_fires(silent_config):
    net = _net(silent_config, threshold=16.0)
    spikes, v = _drive(net, 16.0, 1)
    assert spikes[0].all()  # V >= threshold, inclusive
    net = _net(silent_config, threshold=16.0)
    spikes, _ = _drive(net, np.nextafter(16.0, 0.0), 1)
    assert not spikes[0].any()


@pytest.mark.parametrize("reset", [0.0, 3.0, -4.0])
def test_reset_and_periodic_firing(silent_config, reset):
    tau, theta, I = 20.0, 16.0, 2.5
    d = math.exp(-1.0 / tau)
    net = _net(silent_config, tau=tau, threshold=theta, reset_potential=reset)
    spikes, v = _drive(net, I, 200)
    times = np.flatnonzero(spikes[:, 0, 0])
    assert times.size >= 3
    assert times[0] + 1 == _first_spike_step(I, theta, d)
    # after a spike the potential is exactly the reset value, and the next one follows
    # the closed form started from it
    np.testing.assert_array_equal(v[times, 0, 0], reset)
    np.testing.assert_allclose(v[times[0] + 1, 0, 0], reset * d + I, rtol=1e-14)
    interval = _first_spike_step(I, theta, d, V0=reset)
    np.testing.assert_array_equal(np.diff(times), interval)
    assert spikes.all(axis=2).all(axis=1).sum() == times.size  # all neurons identical


@pytest.mark.parametrize("refractory, dt, interval", [(5.0, 1.0, 6), (5.0, 0.5, 11),
                                                      (2.5, 1.0, 4), (0.0, 1.0, 1), (0.4, 1.0, 2)])
def test_refractory_interval_under_hard_drive(silent_config, refractory, dt, interval):
    net = _net(silent_config, dt=dt, refractory=refractory, reset_potential=-2.0)
    spikes, v = _drive(net, 100.0, 60)
    times = np.flatnonzero(spikes[:, 0, 0])
    assert times[0] == 0
    np.testing.assert_array_equal(np.diff(times), interval)
    assert (spikes == spikes[:, :1, :1]).all()
    # while refractory the potential is held at the reset value
    refractory_steps = np.ones(60, dtype=bool)
    refractory_steps[times] = False
    refractory_steps[times[-1] + interval:] = False
    np.testing.assert_array_equal(v[refractory_steps, 0, 0], -2.0)


def test_input_is_ignored_while_refractory(silent_config):
    net = _net(silent_config, refractory=5.0)
    s, _ = _drive(net, 20.0, 1)
    assert s.all()
    # 5 steps of input that would add up to a spike (10 + 10 d > 16) are ignored
    s, v = _drive(net, 10.0, 5)
    assert not s.any()
    np.testing.assert_array_equal(v, 0.0)
    np.testing.assert_array_equal(net.neurons.refractory_left[0], 0)
    s, v = _drive(net, 10.0, 1)
    assert not s.any()
    np.testing.assert_array_equal(v[0], 10.0)
    s, v = _drive(net, 10.0, 1)
    assert s.all()  # 10 d + 10 >= 16


def test_refractory_blocks_spontaneous_spikes(silent_config):
    # 1000 Hz at 1 ms: a spontaneous spike every step unless refractory
    net = _net(silent_config, refractory=3.0, spontaneous_rate=1000.0, threshold=1e6)
    spikes, v = _drive(net, 0.0, 40)
    for k in range(6):
        np.testing.assert_array_equal(np.flatnonzero(spikes[:, 0, k]), np.arange(0, 40, 4))
    net = _net(silent_config, spontaneous_rate=1000.0, threshold=1e6)
    spikes, _ = _drive(net, 0.0, 10)
    assert spikes.all()


def test_refractory_counter_values(silent_config):
    net = _net(silent_config, refractory=3.0)
    _drive(net, 100.0, 1)
    left = []
    for _ in range(4):
        _drive(net, 0.0, 1)
        left.append(int(net.neurons.refractory_left[0, 0]))
    assert left == [2, 1, 0, 0]


@pytest.mark.parametrize("rate, dt", [(100.0, 1.0), (40.0, 0.5)])
def test_spontaneous_rate_statistics(silent_config, rate, dt):
    net = _net(silent_config, batch_size=2, dt=dt, n_neurons=100, spontaneous_rate=rate,
               threshold=1e9, dtype="float32")
    spikes, v = _drive(net, 0.0, 1000)
    p = rate * dt / 1000.0
    assert net.neurons.spontaneous_p == pytest.approx(p, rel=1e-6)
    for b in range(2):
        frac = spikes[:, b].mean()
        assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / spikes[:, b].size) + 1e-4, frac
    assert not np.array_equal(spikes[:, 0], spikes[:, 1])  # members have their own streams
    per_neuron = spikes[:, 0].mean(axis=0)
    assert per_neuron.min() > p / 3 and per_neuron.max() < 3 * p


def test_spontaneous_spike_resets_potential(silent_config):
    net = _net(silent_config, spontaneous_rate=1000.0, threshold=1e6, reset_potential=-1.0)
    net.neurons.potential[...] = 5.0
    s, v = _drive(net, 2.0, 1)
    assert s.all()
    np.testing.assert_array_equal(v, -1.0)


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_potential_noise_statistics(silent_config, sigma):
    # tau at its minimum: the potential forgets itself every step, V_t = noise_t
    net = _net(silent_config, batch_size=2, n_neurons=100, tau=1e-6, threshold=1e9,
               potential_noise=sigma)
    assert net.neurons.decay == 0.0
    _, v = _drive(net, 0.0, 500)
    assert abs(v.mean()) < 0.02 * sigma
    assert v.std() == pytest.approx(sigma, rel=0.02)
    assert np.abs(v).max() <= math.sqrt(3) * sigma * (1 + 1e-9)
    assert np.abs(v).max() > 0.95 * math.sqrt(3) * sigma  # uniform, not Gaussian
    assert not np.array_equal(v[:, 0], v[:, 1])


def test_noise_and_spontaneous_together_use_separate_numbers(silent_config):
    net = _net(silent_config, n_neurons=100, tau=1e-6, threshold=1e9, potential_noise=1.0,
               spontaneous_rate=500.0)
    spikes, v = _drive(net, 0.0, 400)
    assert spikes.mean() == pytest.approx(0.5, abs=0.02)
    # spiking steps are reset to 0; the others carry noise uncorrelated with spiking
    quiet = v[~spikes]
    assert quiet.std() == pytest.approx(1.0, rel=0.05)
    assert abs(quiet.mean()) < 0.05


def test_reset_returns_to_rest(silent_config):
    net = _net(silent_config, refractory=5.0)
    _drive(net, 30.0, 3)
    net.neurons.potential[...] = 7.0
    net.reset()
    assert not net.neurons.spikes.any()
    np.testing.assert_array_equal(net.neurons.potential, 0.0)
    np.testing.assert_array_equal(net.neurons.refractory_left, 0)


def test_set_tau_at_run_time_changes_decay(silent_config):
    net = _net(silent_config)
    net.neurons.set("tau", 5.0)
    assert net.neurons.decay == math.exp(-1.0 / 5.0)
    net.neurons.potential[...] = 10.0
    _, v = _drive(net, 0.0, 3)
    np.testing.assert_allclose(v[-1], 10.0 * math.exp(-3.0 / 5.0), rtol=1e-12)


def test_set_spontaneous_rate_at_run_time(silent_config):
    net = _net(silent_config, threshold=1e6)
    net.neurons.set("spontaneous_rate", 1000.0)  # p = 1 per step
    spikes, _ = _drive(net, 0.0, 5)
    assert spikes.all()


def test_float32_network_dynamics(silent_config):
    net = _net(silent_config, dtype="float32")
    assert net.neurons.potential.dtype == np.float32
    spikes, v = _drive(net, 2.0, 9)
    np.testing.assert_allclose(v[:, 0, 0], 2.0 * (1 - net.neurons.decay ** np.arange(1, 10))
                               / (1 - net.neurons.decay), rtol=1e-5)
    assert not spikes.any()
    s, _ = _drive(net, 2.0, 1)  # 10th step: first spike (see the float64 closed form)
    assert s.all()
