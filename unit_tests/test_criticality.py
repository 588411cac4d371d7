"""Criticality analysis against hand-made rasters and known processes; the weight-scale sweep."""

import math

import numpy as np
import pytest

from spikey import Network
from spikey.analysis import (avalanches, branching_ratio, classify, fano_factor, firing_rate,
                             fit_power_law, hurwitz_zeta, isi_cv, population_counts, regime,
                             summary)


def _raster(counts, n=None):
    """Boolean raster whose bin t has ``counts[..., t]`` spikes (neurons 0..c-1 fire)."""
    counts = np.asarray(counts)
    n = int(counts.max()) if n is None else n
    return np.arange(max(n, 1)) < counts[..., None]


def _branching_process(sigma, members, generations, ancestors, seed):
    """Galton–Watson counts with Poisson(sigma) offspring: (members, 1 + generations).

    Bin 0 is silent, bin 1 holds the ancestors; recordings end after
    ``generations`` bins, so no bin pair is cut short by the end.
    """
    rng = np.random.default_rng(seed)
    counts = np.zeros((members, 1 + generations), dtype=np.int64)
    counts[:, 1] = ancestors
    for t in range(2, 1 + generations):
        counts[:, t] = rng.poisson(sigma * counts[:, t - 1])
    return counts


# ---------------------------------------------------------------- binning and avalanches
def test_population_counts_bins_and_drops_the_partial_bin():
    raster = _raster([1, 0, 2, 3, 0, 1, 4], n=5)
    np.testing.assert_array_equal(population_counts(raster), [[1, 0, 2, 3, 0, 1, 4]])
    np.testing.assert_array_equal(population_counts(raster, bin_size=2), [[1, 5, 1]])
    np.testing.assert_array_equal(population_counts(raster, bin_size=3), [[3, 4]])


def test_avalanches_of_a_hand_made_raster():
    #        bins: 0  1  2  3  4  5  6  7  8  9 10 11
    counts = [2, 0, 1, 3, 2, 0, 0, 5, 0, 1, 1, 1]
    raster = _raster(counts)
    table = avalanches(raster)
    # complete: bins 2-4 (size 6, duration 3) and bin 7 (5, 1); bin 0 and bins 9-11 touch the edges
    assert table[["member", "start", "duration", "size"]].to_numpy().tolist() == \
        [[0, 2, 3, 6], [0, 7, 1, 5]]
    with_edges = avalanches(raster, include_edges=True)
    assert with_edges[["start", "duration", "size"]].to_numpy().tolist() == \
        [[0, 1, 2], [2, 3, 6], [7, 1, 5], [9, 3, 3]]
    # bins of 2 steps: [2, 4, 2, 5, 1, 2] -> no empty bin, one run
    assert avalanches(raster, bin_size=2, include_edges=True)["size"].tolist() == [16]
    assert avalanches(raster, bin_size=2).empty


def test_avalanches_never_span_batch_members():
    counts = np.array([[0, 1, 1, 0, 2, 2],   # member 0: a complete 2-bin avalanche, an edge run
                       [3, 0, 0, 4, 0, 0]])  # member 1: an edge run, then one of size 4
    table = avalanches(_raster(counts))
    assert table[["member", "start", "duration", "size"]].to_numpy().tolist() == \
        [[0, 1, 2, 2], [1, 3, 1, 4]]


def test_rasters_must_be_2d_or_3d():
    with pytest.raises(ValueError, match=r"raster has shape \(5,\); expected \(T, N\) or "
                                         r"\(B, T, N\)"):
        avalanches(np.zeros(5, dtype=bool))
    with pytest.raises(ValueError, match="bin_size = 0; expected an integer >= 1"):
        population_counts(np.zeros((4, 2), dtype=bool), bin_size=0)


# ---------------------------------------------------------------- branching ratio
def test_branching_ratio_estimators_on_hand_counts():
    counts = [0, 1, 2, 4, 0, 0, 2, 1, 0]
    raster = _raster(counts)
    # pairs with an ancestor: 1->2, 2->4, 4->0, 2->1, 1->0
    assert branching_ratio(raster) == pytest.approx((2 + 2 + 0 + 0.5 + 0) / 5)
    # first bins of the avalanches: 1 -> 2 and 2 -> 1
    assert branching_ratio(raster, method="first_generation") == pytest.approx((2 + 0.5) / 2)
    x, y = np.array(counts[:-1], float), np.array(counts[1:], float)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    assert branching_ratio(raster, method="regression") == pytest.approx(slope)
    assert math.isnan(branching_ratio(np.zeros((10, 3), dtype=bool)))
    with pytest.raises(ValueError, match="method = 'mle'; expected one of"):
        branching_ratio(raster, method="mle")


@pytest.mark.parametrize("sigma", [0.8, 1.0, 1.2])
def test_branching_ratio_of_a_galton_watson_process(sigma):
    counts = _branching_process(sigma, members=3000, generations=10, ancestors=5, seed=1)
    raster = _raster(counts)
    for method in ("mean_ratio", "first_generation"):
        assert branching_ratio(raster, method=method) == pytest.approx(sigma, abs=0.03), method
    # regression is unbiased for a stationary drive, not for this decaying/growing start;
    # it still orders the regimes
    expected = {0.8: "subcritical", 1.0: "critical", 1.2: "supercritical"}[sigma]
    assert classify(raster) == expected


def test_regime_band_and_silence():
    assert [regime(s) for s in (0.0, 0.899, 0.9, 1.0, 1.1, 1.101, 3.0)] == \
        ["subcritical"] * 2 + ["critical"] * 3 + ["supercritical"] * 2
    assert regime(0.85, tolerance=0.2) == "critical"
    assert regime(math.nan) == "subcritical"
    assert classify(np.zeros((50, 4), dtype=bool)) == "subcritical"
    with pytest.raises(ValueError, match="tolerance = -0.1; expected a number >= 0"):
        regime(1.0, tolerance=-0.1)


# ---------------------------------------------------------------- power laws
def test_hurwitz_zeta_closed_forms():
    assert hurwitz_zeta(2.0, 1.0) == pytest.approx(math.pi ** 2 / 6, rel=1e-14)
    assert hurwitz_zeta(4.0, 1.0) == pytest.approx(math.pi ** 4 / 90, rel=1e-14)
    # zeta(s, q) = zeta(s) - sum_{k < q} k^-s
    assert hurwitz_zeta(2.0, 4.0) == pytest.approx(math.pi ** 2 / 6 - 1 - 1 / 4 - 1 / 9, rel=1e-13)
    special = pytest.importorskip("scipy.special")
    s, q = np.meshgrid([1.05, 1.5, 2.0, 3.3, 7.0], [1, 2, 10, 123, 5000])
    np.testing.assert_allclose(hurwitz_zeta(s, q), special.zeta(s, q), rtol=1e-13)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 2.5])
def test_power_law_mle_recovers_the_exponent(alpha):
    samples = np.random.default_rng(2).zipf(alpha, size=20000)  # P(x) ~ x^-alpha, x >= 1
    fit = fit_power_law(samples, xmin=1)
    assert fit["alpha"] == pytest.approx(alpha, abs=0.1)
    assert fit["alpha_error"] == pytest.approx((fit["alpha"] - 1) / math.sqrt(20000))
    assert fit["n_tail"] == 20000 and fit["xmin"] == 1


def test_power_law_xmin_chosen_by_ks_distance():
    rng = np.random.default_rng(3)
    draws = rng.zipf(2.0, size=200000)
    tail = draws[draws >= 10][:4000]           # a power law above 10 ...
    body = rng.integers(1, 10, size=4000)      # ... under flat noise below it
    fit = fit_power_law(np.concatenate([body, tail]))
    assert 8 <= fit["xmin"] <= 14
    assert fit["alpha"] == pytest.approx(2.0, abs=0.1)
    assert fit["ks_distance"] < 0.03
    assert fit_power_law(np.concatenate([body, tail]), xmin=1)["alpha"] < 1.7  # the body biases it


def test_power_law_rejects_non_integers():
    with pytest.raises(ValueError, match="samples must be integers >= 1"):
        fit_power_law([1.5, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected at least min_tail = 10"):
        fit_power_law([1, 2, 3])


# ---------------------------------------------------------------- rates and variability
def test_firing_rate_in_hertz():
    raster = np.zeros((2, 500, 4), dtype=bool)
    raster[0, ::10, 0] = True  # 50 spikes in 500 ms at dt = 1: 100 Hz
    assert firing_rate(raster[0], per_neuron=True).tolist() == [100.0, 0, 0, 0]
    assert firing_rate(raster) == pytest.approx(100.0 / 8)
    assert firing_rate(raster[0], dt=0.5) == pytest.approx(200.0 / 4)


def test_cv_of_regular_and_poisson_trains():
    T, p = 200000, 0.02
    raster = np.zeros((T, 3), dtype=bool)
    raster[::7, 0] = True                                      # regular: CV exactly 0
    raster[:, 1] = np.random.default_rng(4).random(T) < p      # Bernoulli: CV = sqrt(1 - p)
    raster[[5, 90], 2] = True                                  # one interval: too few
    cv = isi_cv(raster)
    assert cv[0] == 0.0
    assert cv[1] == pytest.approx(math.sqrt(1 - p), abs=0.02)
    assert math.isnan(cv[2])
    assert isi_cv(raster[None]).shape == (1, 3)


def test_fano_factor_of_regular_and_poisson_trains():
    T, p = 1000000, 0.05  # 10,000 windows: standard error of F about 0.014
    raster = np.zeros((T, 3), dtype=bool)
    raster[::5, 0] = True                                      # 20 spikes in every window
    raster[:, 1] = np.random.default_rng(5).random(T) < p      # Bernoulli: F = 1 - p
    fano = fano_factor(raster, window=100)
    assert fano[0] == 0.0
    assert fano[1] == pytest.approx(1 - p, abs=0.05)
    assert math.isnan(fano[2])
    with pytest.raises(ValueError, match="window = 150 leaves 1 whole window"):
        fano_factor(raster[:200], window=150)


def test_summary_of_a_critical_branching_process():
    counts = _branching_process(1.0, members=400, generations=30, ancestors=1, seed=6)
    out = summary(_raster(counts))
    assert out["regime"] == "critical"
    assert out["branching_ratio"] == pytest.approx(1.0, abs=0.1)
    assert out["n_avalanches"] > 50
    # mean-field critical avalanches: P(S) ~ S^-3/2 (a short, finite sample: loose bounds)
    assert 1.2 < out["size_exponent"] < 2.0


# ---------------------------------------------------------------- acceptance: the weight sweep
GAINS = [2.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0]
THRESHOLD = 16.0


def _sweep_network(gains, seed=0, steps=30):
    """200 LIF neurons, SparseEI (p = 0.1, 20 % inhibitory, lognormal weights of CV 1), one
    member per weight scale g (w_E* = g, w_I* = 4 g), all with the same structure and noise."""
    B = len(gains)
    return Network.from_config({
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "SparseEI",
                  "readout": "NeuronRates"},
        "network": {"processing_steps": steps, "batch_size": B, "member_seeds": [seed] * B,
                    "reward_mode": "none", "dtype": "float64"},
        "inputs": {"n_inputs": 2, "n_dims": 1, "rate_map": [0.0, 0.0]},  # silent inputs
        "neurons": {"n_neurons": 200, "tau": 20.0, "threshold": THRESHOLD, "refractory": 2.0,
                    "spontaneous_rate": 0.5, "inhibitory_fraction": 0.2},
        "weights": {"inhibitory_fraction": 0.2, "max_weight": 1000.0,
                    "distribution": "lognormal", "spread": 1.0, "input_density": 0.0,
                    "w_EE": {"per_member": gains}, "w_EI": {"per_member": gains},
                    "w_IE": {"per_member": [4 * g for g in gains]},
                    "w_II": {"per_member": [4 * g for g in gains]}},
        "readout": {"n_outputs": 1},
    })


def test_weight_scale_sweep_crosses_criticality():
    """Trials of 30 ms from rest, seeded by 0.5 Hz spontaneous spikes.

    From rest, one spike of neuron j fires exactly its targets k with
    w_jk >= threshold (the EPSP is instantaneous), so the branching ratio the
    structure predicts is the mean over neurons of that count (0 for
    inhibitory neurons). The sweep must cross sigma = 1 and classify() must
    move from subcritical to supercritical with it.
    """
    net = _sweep_network(GAINS)
    trials, T, N = 100, net.processing_steps, net.n_neurons
    raster = np.zeros((len(GAINS), trials, T, N), dtype=bool)
    for k in range(trials):  # every trial starts from rest
        net.reset()
        net.tick(np.zeros((len(GAINS), 1)))
        raster[:, k] = net.tick_spikes
    body = net.weights.matrix[:, net.n_inputs:]
    excitatory = net.neurons.polarity > 0
    predicted = ((body >= THRESHOLD).sum(axis=2) * excitatory).mean(axis=1)
    sigma = np.array([branching_ratio(raster[b]) for b in range(len(GAINS))])
    first = np.array([branching_ratio(raster[b], method="first_generation")
                      for b in range(len(GAINS))])
    labels = [classify(raster[b]) for b in range(len(GAINS))]

    assert np.all(np.diff(predicted) > 0) and predicted[0] < 0.1 and predicted[-1] > 2.0
    assert np.all(np.diff(sigma) > 0)  # the branching ratio grows with the weight scale
    crossing = int(np.argmax(sigma > 1.0))
    assert crossing > 0 and sigma[crossing - 1] < 1.0 < sigma[crossing]
    assert predicted[crossing - 2] < 1.0 < predicted[crossing + 1]  # the structure agrees
    # the first generation from rest measures the structural ratio (+ the drive's ~0.1 a bin)
    np.testing.assert_allclose(first, predicted, atol=0.3)
    assert labels[0] == "subcritical" and labels[-1] == "supercritical"
    order = {"subcritical": 0, "critical": 1, "supercritical": 2}
    assert all(order[a] <= order[b] for a, b in zip(labels, labels[1:]))
    assert labels == [regime(s) for s in sigma]
    rates = [firing_rate(raster[b]) for b in range(len(GAINS))]
    assert rates[0] < 2.0 < 30.0 < rates[-1]  # quiet below, runaway above
