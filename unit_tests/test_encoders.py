"""Pixel encoders: PixelRate (Poisson / regular rate code) and Latency (time to first spike)."""

import numpy as np
import pytest

from spikey.core.params import ConfigError
from spikey.core.part import BuildContext
from spikey.snn.input import Latency, PixelRate


def _build(part, B=1, dt=1.0, seeds=None):
    part.build(BuildContext(batch_size=B, dtype=np.dtype("float64"), dt=dt,
                            seeds=tuple(seeds if seeds is not None else range(B))))
    return part


def _counts(part, steps):
    return sum(part.step().astype(np.int64) for _ in range(steps))


def test_pixel_rate_poisson_counts_match_the_binomial_mean_and_variance():
    x = np.array([[0.0, 0.25, 0.5, 1.0]])
    B, T = 200, 500
    enc = _build(PixelRate(n_pixels=4, max_rate=100.0, min_rate=20.0), B=B, dt=0.5)
    enc.encode(np.repeat(x, B, axis=0))
    counts = _counts(enc, T)                                   # (B, 4)
    p = (20.0 + x[0] * 80.0) * 0.5 / 1000.0                    # rate * dt
    mean, var = T * p, T * p * (1 - p)
    # the mean over B members is within 4 standard errors of T p
    assert np.all(np.abs(counts.mean(0) - mean) < 4 * np.sqrt(var / B)), (counts.mean(0), mean)
    # the variance over members is within 25 % of the binomial one
    np.testing.assert_allclose(counts.var(0), var, rtol=0.25)


def test_pixel_rate_regular_gives_floor_of_p_times_steps_and_copies_pixels():
    enc = _build(PixelRate(n_pixels=3, n_per_pixel=2, max_rate=250.0, spike_model="regular"))
    assert enc.n_inputs == 6
    enc.encode(np.array([[0.125, 0.5, 1.0]]))
    counts = _counts(enc, 100)[0]
    # p = x * 250 Hz * 1 ms: 1/32, 1/8, 1/4 per step (exact in binary); a regular train
    # reaches floor(p T) spikes in T steps
    np.testing.assert_array_equal(counts, [3, 3, 12, 12, 25, 25])


def test_pixel_rate_batch_member_equals_its_solo_run():
    x = np.random.default_rng(1).uniform(size=(3, 5))
    batch = _build(PixelRate(n_pixels=5, max_rate=300.0), B=3, seeds=(7, 8, 9))
    batch.encode(x)
    together = np.stack([batch.step().copy() for _ in range(50)])
    solo = _build(PixelRate(n_pixels=5, max_rate=300.0), B=1, seeds=(8,))
    solo.encode(x[1:2])
    alone = np.stack([solo.step().copy() for _ in range(50)])
    np.testing.assert_array_equal(together[:, 1], alone[:, 0])


def test_pixel_rate_refuses_unscaled_intensities_and_bad_rates():
    enc = _build(PixelRate(n_pixels=2))
    with pytest.raises(ValueError, match=r"span \[0, 255\]; expected values in \[0, 1\]"):
        enc.encode(np.array([[0.0, 255.0]]))
    with pytest.raises(ValueError, match="expected 2"):
        enc.encode(np.zeros((1, 3)))
    with pytest.raises(ConfigError, match="min_rate = 50.0 exceeds max_rate = 10.0"):
        _build(PixelRate(n_pixels=2, max_rate=10.0, min_rate=50.0))
    with pytest.raises(ConfigError, match="exceeds one spike per step"):
        _build(PixelRate(n_pixels=2, max_rate=1500.0))


def test_latency_linear_spike_steps_match_the_closed_form():
    enc = _build(Latency(n_pixels=5, window=10.0, threshold=0.05), dt=0.5)   # n_w = 20 steps
    x = np.array([[1.0, 0.75, 0.5, 0.05, 0.0]])
    enc.encode(x)
    raster = np.stack([enc.step().copy() for _ in range(40)])[:, 0]          # (T, 5)
    expected = np.round((1 - x[0]) * 19).astype(int)                          # 0, 5, 10 (9.5 -> 10)
    for i in range(3):
        assert np.flatnonzero(raster[:, i]).tolist() == [expected[i]]
    # at or below the threshold: silent
    assert not raster[:, 3:].any()


def test_latency_log_code_matches_tau_log_ratio():
    enc = _build(Latency(n_pixels=3, window=50.0, code="log", tau=10.0, threshold=0.2))
    x = np.array([[1.0, 0.4, 0.21]])
    enc.encode(x)
    raster = np.stack([enc.step().copy() for _ in range(60)])[:, 0]
    t = 10.0 * np.log(x[0] / (x[0] - 0.2))       # 2.23, 6.93, 30.4 ms
    for i in range(3):
        assert np.flatnonzero(raster[:, i]).tolist() == [int(np.round(t[i]))]


def test_latency_repeats_with_a_period_and_restarts_at_encode():
    enc = _build(Latency(n_pixels=1, window=5.0, period=8.0))
    enc.encode(np.array([[0.5]]))                # step round(0.5 * 4) = 2, every 8 steps
    raster = np.stack([enc.step().copy() for _ in range(20)])[:, 0, 0]
    assert np.flatnonzero(raster).tolist() == [2, 10, 18]
    enc.encode(np.array([[1.0]]))
    assert enc.step()[0, 0]                      # a new window begins at encode


def test_latency_refuses_bad_settings_and_values():
    with pytest.raises(ConfigError, match="threshold > 0"):
        _build(Latency(n_pixels=2, code="log"))
    with pytest.raises(ConfigError, match="shorter than window"):
        _build(Latency(n_pixels=2, window=10.0, period=5.0))
    with pytest.raises(ConfigError, match="shorter than one step"):
        _build(Latency(n_pixels=2, window=0.2), dt=1.0)
    enc = _build(Latency(n_pixels=2))
    with pytest.raises(ValueError, match=r"expected values in \[0, 1\]"):
        enc.encode(np.array([[0.5, 16.0]]))


def test_pixel_rate_total_intensity_rescales_each_image_then_clips():
    enc = _build(PixelRate(n_pixels=4, max_rate=1000.0, total_intensity=1.0), B=3)
    enc.encode(np.array([[0.1, 0.1, 0.2, 0.0], [0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]))
    # p = x * 1000 Hz * 1 ms = x after rescaling to sum 1 (a blank image stays silent)
    np.testing.assert_allclose(enc.probability, [[0.25, 0.25, 0.5, 0.0], [0.25] * 4, [0.0] * 4])
    enc = _build(PixelRate(n_pixels=2, max_rate=1000.0, total_intensity=1.5))
    enc.encode(np.array([[0.1, 0.2]]))           # 0.5 and 1.0: the second is clipped at 1
    np.testing.assert_allclose(enc.probability, [[0.5, 1.0]])


def test_latency_and_pixel_rate_in_a_network_and_through_save_load(tmp_path):
    import spikey
    config = {
        "parts": {"inputs": "Latency", "neurons": "LIF", "weights": "Random", "synapses": "STDP",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": 12, "batch_size": 2, "seed": 1, "reward_mode": "none"},
        "inputs": {"n_pixels": 3, "window": 10.0},
        "neurons": {"n_neurons": 2},
        "readout": {"n_outputs": 2},
        "modifiers": [{"part": "FreezeWeights", "rows": [3, 5]}],
    }
    net = spikey.Network.from_config(config)
    x = np.array([[1.0, 0.5, 0.0], [0.25, 1.0, 0.75]])
    net.tick(x)
    # each pixel spikes once, round((1 - x) * 9) steps into the tick (x = 0: never)
    for b in range(2):
        steps = [np.flatnonzero(net.tick_input_spikes[b, :, i]).tolist() for i in range(3)]
        expected = [[int(round((1 - v) * 9))] if v > 0 else [] for v in x[b]]
        assert steps == expected
    net.save(tmp_path / "net.npz")
    again = spikey.Network.load(tmp_path / "net.npz")
    np.testing.assert_array_equal(again.modifiers[0].frozen, net.modifiers[0].frozen)
    np.testing.assert_array_equal(again.weights.matrix, net.weights.matrix)
    rate = dict(config, parts={**config["parts"], "inputs": "PixelRate"},
                inputs={"n_pixels": 3, "total_intensity": 1.0})
    rate_net = spikey.Network.from_config(rate)
    rate_net.tick(x)
    rate_net.save(tmp_path / "rate.npz")
    assert spikey.Network.load(tmp_path / "rate.npz").get_config() == rate_net.get_config()
