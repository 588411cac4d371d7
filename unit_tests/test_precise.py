"""Precise (off-grid) spike timing, spikey.snn.precise (issue 20, part 1).

The engine is checked against an exact event-driven reference written here: a
priority queue of spikes per member and the analytic LIF solution between
events. Spike times must agree to <= 1e-9 ms.
"""

import heapq
import math

import numpy as np
import pytest

from spikey import ConfigError
from spikey.snn.precise import PRECISE_KEYS, PreciseNetwork


def _config(matrix, n_inputs, batch_size=1, dt=1.0, neurons=None, precise=None, synapses=None,
            weights=None, seed=0):
    n = len(matrix[0]) if not isinstance(matrix, dict) else matrix["n"]
    parts = {"inputs": "RateMap", "neurons": "LIF", "weights": "Manual", "readout": "Threshold"}
    if synapses is not None:
        parts["synapses"] = synapses.pop("part", "STDP")
    config = {
        "parts": parts,
        "network": {"reward_mode": "none", "dt": dt, "dtype": "float64",
                    "batch_size": batch_size, "seed": seed},
        "inputs": {"n_inputs": n_inputs, "n_dims": 1, "rate_map": [0.0, 0.0]},
        "neurons": {"n_neurons": n, "threshold": 1.0, "tau": 10.0, **(neurons or {})},
        "weights": {"matrix": matrix if not isinstance(matrix, dict) else matrix["blocks"],
                    "max_weight": 10.0, **(weights or {})},
        "readout": {"n_outputs": 1},
        "precise": dict(precise or {}),
    }
    if synapses is not None:
        config["synapses"] = synapses
    return config


# ---------------------------------------------------------------- the reference
def reference(W, n_inputs, tau, theta, reset, refractory, vinf, delay, input_delay, inputs, T,
              extra=None, leak=None):
    """Exact event-driven LIF network, one member: a heap of events, the closed form between.

    ``W`` (P, N) signed weights; ``inputs`` a list of (time, input index); ``leak`` (mV/ms)
    switches to the leaky vessel's linear leak. Returns a sorted list of (time, neuron).
    """
    P, N = W.shape
    extra = np.zeros((P, N)) if extra is None else extra
    V, since = np.zeros(N), np.zeros(N)
    ref_end = np.full(N, -np.inf)
    version = np.zeros(N, dtype=int)
    heap, spikes = [], []

    def send(j, t, base):
        for k in range(N):
            if W[j, k] != 0:
                heapq.heappush(heap, (t + base + extra[j, k], 0, k, W[j, k]))

    def predict(k):  # next crossing under the constant drive, if any
        version[k] += 1
        if vinf > theta and V[k] < theta:
            tc = since[k] + tau * math.log((vinf - V[k]) / (vinf - theta))
            heapq.heappush(heap, (tc, 1, k, version[k]))

    def fire(k, t):
        spikes.append((t, k))
        V[k], since[k], ref_end[k] = reset, t + refractory, t + refractory
        predict(k)
        send(n_inputs + k, t, delay)

    for t, j in inputs:
        send(j, t, input_delay)
    for k in range(N):
        predict(k)
    while heap:
        t, kind, k, data = heapq.heappop(heap)
        if t >= T:
            break
        if kind == 1:
            if data == version[k]:
                fire(k, t)
            continue
        w = data
        while heap and heap[0][:3] == (t, 0, k):  # simultaneous arrivals act together
            w += heapq.heappop(heap)[3]
        if t < ref_end[k]:
            continue
        elapsed = max(t - since[k], 0.0)
        if leak is None:
            V[k] = vinf + (V[k] - vinf) * math.exp(-elapsed / tau) + w
        else:
            V[k] = math.copysign(max(abs(V[k]) - leak * elapsed, 0.0), V[k]) + w
        since[k] = t
        if V[k] >= theta:
            fire(k, t)
        else:
            predict(k)
    return sorted(spikes)


def _signed(net, b):
    W = np.asarray(net.network.weights.matrix[b], dtype=np.float64)
    return W * net._polarity[:, None]


def _compare(net, trains, inputs, T, vinf=0.0, delay=1.0, input_delay=0.0):
    neurons = net.network.neurons
    total = 0
    for b in range(net.batch_size):
        mine = [(t, int(k)) for t, k, m in zip(trains.time, trains.neuron, trains.member) if m == b]
        given = sorted((float(t), int(j)) for m, j, t in zip(*inputs) if m == b)
        extra = None
        if net._extra_delay is not None:
            extra = net._extra_delay[b]
        ref = reference(_signed(net, b), net.n_inputs, float(np.asarray(neurons.tau).reshape(-1)[
            b % np.size(neurons.tau)]), float(neurons.threshold), float(neurons.reset_potential),
            float(neurons.refractory), vinf, delay, input_delay, given, T, extra)
        assert [k for _, k in mine] == [k for _, k in ref], (b, mine[:5], ref[:5])
        np.testing.assert_allclose([t for t, _ in mine], [t for t, _ in ref], rtol=0, atol=1e-9)
        total += len(ref)
    return total


# ---------------------------------------------------------------- agreement with the reference
def _random_net(rng, n_inputs, n, recurrent, p=0.6):
    W = rng.uniform(0.1, 0.7, size=(n_inputs + n, n)) * (rng.random((n_inputs + n, n)) < p)
    if not recurrent:
        W[n_inputs:] = 0.0
        W[n_inputs:n_inputs + n // 2, n // 2:] = rng.uniform(0.3, 0.9, size=(n // 2, n - n // 2))
        W[:n_inputs, n // 2:] = 0.0
    np.fill_diagonal(W[n_inputs:], 0.0)
    return W.tolist()


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("dt", [1.0, 0.3])
def test_matches_the_event_driven_reference(recurrent, dt):
    rng = np.random.default_rng(7)
    B, n_in, n = 3, 4, 6
    matrices = [_random_net(rng, n_in, n, recurrent) for _ in range(B)]
    config = _config({"n": n, "blocks": {"per_member": matrices}}, n_in, batch_size=B, dt=dt,
                     neurons={"refractory": 2.0, "inhibitory_fraction": 0.2},
                     precise={"delay": 1.7 if dt == 1.0 else 0.45, "input_delay": 0.3})
    config["weights"]["max_weight"] = 10.0
    net = PreciseNetwork.from_config(config)
    T = 60.0 if dt == 1.0 else 60.0
    inputs = net.poisson_inputs(150.0, T)
    trains = net.run(T, inputs=inputs)
    count = _compare(net, trains, inputs, T, delay=net.delay, input_delay=0.3)
    assert count > 30  # the test exercises many spikes
    # every spike carries its sub-step offset
    np.testing.assert_allclose(trains.step * dt + trains.offset, trains.time, atol=1e-12)
    assert np.all((trains.offset >= 0) & (trains.offset < dt))
    assert np.mean(trains.offset > 1e-6) > 0.9  # off the grid


def test_bias_current_crossings_match_the_reference():
    """A constant drive above threshold: crossings between events, from the closed form."""
    rng = np.random.default_rng(3)
    n_in, n = 2, 4
    W = _random_net(rng, n_in, n, recurrent=True)
    config = _config({"n": n, "blocks": {"per_member": [W, W]}}, n_in, batch_size=2, dt=0.5,
                     neurons={"refractory": 1.5, "reset_potential": -0.2,
                              "inhibitory_fraction": 0.25},
                     precise={"delay": 0.8, "bias_potential": 1.3})
    net = PreciseNetwork.from_config(config)
    inputs = net.poisson_inputs([80.0, 40.0], 50.0)
    trains = net.run(50.0, inputs=inputs)
    count = _compare(net, trains, inputs, 50.0, vinf=1.3, delay=0.8)
    assert count > 20
    # a lone driven neuron fires every R + tau ln((vinf - reset) / (vinf - theta))
    period = 1.5 + 10.0 * math.log((1.3 + 0.2) / 0.3)
    first = 10.0 * math.log(1.3 / 0.3)
    solo = PreciseNetwork.from_config(_config([[0.0], [0.0]], 1, dt=0.5,
                                              neurons={"refractory": 1.5,
                                                       "reset_potential": -0.2},
                                              precise={"delay": 0.8, "bias_potential": 1.3}))
    times = solo.run(60.0).times(0, 0)
    np.testing.assert_allclose(times, first + period * np.arange(len(times)), atol=1e-9)
    assert len(times) == int((60.0 - first) // period) + 1


def test_results_do_not_depend_on_dt():
    rng = np.random.default_rng(11)
    W = _random_net(rng, 3, 5, recurrent=True)
    runs = []
    for dt in (1.0, 0.25, 0.1):
        net = PreciseNetwork.from_config(_config(W, 3, dt=dt, neurons={"refractory": 1.0},
                                                 precise={"delay": 1.0}))
        runs.append(net.run(40.0, inputs=([0] * 6, [0, 1, 2, 0, 1, 2],
                                          [1.05, 1.3, 2.2, 7.77, 8.01, 8.02])))
        runs[-1] = runs[-1].time
    assert len(runs[0]) > 3
    for other in runs[1:]:
        np.testing.assert_allclose(other, runs[0], rtol=0, atol=1e-12)


def test_continuous_refractory_period_and_extra_delays():
    # one input drives neuron 0 hard at 0.5, 1.0, 2.4, 2.6 ms; R = 2 ms: 0.5 and 2.6 fire,
    # and 2.5 (= 0.5 + R, the first open instant) would fire: R is the shortest ISI
    config = _config([[5.0, 0.0], [0.0, 5.0], [0.0, 0.0]], 1, dt=1.0,
                     neurons={"refractory": 2.0}, precise={"delay": 1.25},
                     weights={"delays": [[0, 0], [0, 2], [0, 0]]})
    net = PreciseNetwork.from_config(config)
    trains = net.run(10.0, inputs=([0] * 5, [0] * 5, [0.5, 1.0, 2.4, 2.5, 2.6]))
    np.testing.assert_allclose(trains.times(0, 0), [0.5, 2.5])
    # neuron 0 -> 1 with delay 1.25 + 2 steps * dt: 3.75 and 5.75
    np.testing.assert_allclose(trains.times(0, 1), [3.75, 5.75])


def test_batch_member_equals_its_solo_network_with_jitter():
    rng = np.random.default_rng(5)
    W = _random_net(rng, 3, 5, recurrent=True)
    keys = dict(neurons={"refractory": 1.0}, precise={"delay": 1.0, "jitter": 0.4})
    batch = PreciseNetwork.from_config(_config(W, 3, batch_size=3, seed=20, **keys))
    batch_trains = batch.run(40.0, rates=120.0)
    for b in range(3):
        solo = PreciseNetwork.from_config(_config(W, 3, seed=20 + b, **keys))
        trains = solo.run(40.0, rates=120.0)
        np.testing.assert_array_equal(trains.time, batch_trains.time[batch_trains.member == b])
    assert batch_trains.time.size > 20


def test_jitter_delays_delivery_within_its_bound():
    # neuron 0 fires at the input's arrival; neuron 1 receives it after 1.0 + lag
    W = [[5.0, 0.0], [0.0, 5.0], [0.0, 0.0]]
    times = []
    for seed in range(6):
        net = PreciseNetwork.from_config(_config(W, 1, seed=seed, precise={"jitter": 0.5}))
        trains = net.run(5.0, inputs=([0], [0], [0.7]))
        assert trains.times(0, 0)[0] == 0.7  # the neuron itself fires on time
        times.append(trains.times(0, 1)[0] - 1.7)
    times = np.asarray(times)
    assert np.all((times >= 0) & (times < 0.5)) and np.unique(times).size == 6
    again = PreciseNetwork.from_config(_config(W, 1, seed=3, precise={"jitter": 0.5}))
    assert again.run(5.0, inputs=([0], [0], [0.7])).times(0, 1)[0] - 1.7 == times[3]


# ---------------------------------------------------------------- bad input
BAD_CONFIGS = [
    ({"precise": {"jitter": [0.1, 0.2]}}, "precise.jitter"),
    ({"precise": {"jitter": [-0.1]}}, "precise.jitter"),
    ({"precise": {"jitter": ["a"]}}, "precise.jitter"),
    ({"precise": {"delay": 0.5}}, "precise.delay"),
    ({"precise": {"jitter": -1.0}}, "precise.jitter"),
    ({"precise": {"input_delay": -0.1}}, "precise.input_delay"),
    ({"precise": {"bogus": 1}}, "bogus"),
    ({"neurons": {"potential_noise": 0.5}}, "neurons.potential_noise"),
    ({"neurons": {"spontaneous_rate": 5.0}}, "neurons.spontaneous_rate"),
    ({"neurons": {"reset_potential": 2.0}}, "neurons.reset_potential"),
    ({"parts": {"neurons": "AdaptiveLIF"}}, "parts.neurons"),
    ({"parts": {"weights": "SparseFanIn"}}, "parts.weights"),
    ({"parts": {"synapses": "MSTDP"}}, "parts.synapses"),
]


@pytest.mark.parametrize("change, key", BAD_CONFIGS)
def test_bad_config_names_the_key(change, key):
    config = _config([[1.0], [0.0]], 1)
    for section, values in change.items():
        config[section] = {**config.get(section, {}), **values}
    if change.get("parts", {}).get("synapses"):
        config["synapses"] = {}
        config["parts"]["rewarder"] = "MatchExpected"
        config["rewarder"] = {}
    if change.get("parts", {}).get("weights"):
        config["weights"] = {"fan_in": 1}
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        PreciseNetwork.from_config(config)


@pytest.mark.parametrize("kwargs, match", [
    ({"duration": 2.5}, "whole number"),
    ({"duration": -1.0}, "duration"),
    ({"duration": float("nan")}, "duration"),
    ({"duration": 5.0, "inputs": ([0], [3], [1.0])}, "input index"),
    ({"duration": 5.0, "inputs": ([1], [0], [1.0])}, "member"),
    ({"duration": 5.0, "inputs": ([0], [0], [7.0])}, "times"),
    ({"duration": 5.0, "inputs": ([0, 0], [0], [1.0])}, "shapes"),
    ({"duration": 5.0, "inputs": ([0], [0], ["soon"])}, "inputs"),
    ({"duration": 5.0, "inputs": ([0.0], [0], [1.0])}, "integer"),
    ({"duration": 5.0, "inputs": ([0], [0])}, "inputs"),
    ({"duration": 5.0, "rates": [1.0, 2.0]}, "rates"),
    ({"duration": 5.0, "rates": -3.0}, "rates"),
    ({"duration": 5.0, "rates": 1.0, "inputs": ([0], [0], [1.0])}, "not both"),
])
def test_bad_run_arguments(kwargs, match):
    net = PreciseNetwork.from_config(_config([[1.0], [0.0]], 1))
    duration = kwargs.pop("duration")
    with pytest.raises(ConfigError, match=match):
        net.run(duration, **kwargs)


@pytest.mark.parametrize("duration", [0.0, -5.0, float("inf"), "10", True])
def test_poisson_inputs_refuse_a_bad_duration(duration):
    net = PreciseNetwork.from_config(_config([[1.0], [0.0]], 1))
    with pytest.raises(ConfigError, match="duration"):
        net.poisson_inputs(10.0, duration)


def test_numpy_numbers_are_durations():
    net = PreciseNetwork.from_config(_config([[1.5], [0.0]], 1))
    trains = net.run(np.float32(4.0), inputs=(np.array([0]), np.array([0]), np.array([2.5])))
    np.testing.assert_array_equal(trains.time, [2.5])
    assert net.time == 4.0


def test_keys_are_declared():
    assert [k.name for k in PRECISE_KEYS] == ["delay", "input_delay", "bias_potential", "jitter"]


# ---------------------------------------------------------------- STDP on exact times
ETA, A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, W0 = 0.1, 0.8, -0.6, 15.0, 25.0, 0.2


def _stdp_net(dt, rule="STDP"):
    """Input 0 -> neuron (W0, learns); input 1 forces the neuron to fire (weight 5)."""
    synapses = {"part": rule, "learning_rate": ETA, "A_plus": A_PLUS, "tau_plus": TAU_PLUS,
                "tau_minus": TAU_MINUS}
    if rule == "STDP":
        synapses["A_minus"] = A_MINUS
    return PreciseNetwork.from_config(_config([[W0], [5.0], [0.0]], 2, dt=dt, synapses=synapses))


@pytest.mark.parametrize("dt", [1.0, 0.1])
@pytest.mark.parametrize("pre, post, expected", [
    ([3.3], [7.85], ETA * A_PLUS * math.exp(-4.55 / TAU_PLUS)),
    ([6.4], [2.1], ETA * A_MINUS * math.exp(-4.3 / TAU_MINUS)),
    ([4.25], [4.25], ETA * A_PLUS),  # the same instant: potentiation only (classic pair rule)
    ([1.0, 2.2], [1.5], ETA * (A_PLUS * math.exp(-0.5 / TAU_PLUS)
                               + A_MINUS * math.exp(-0.7 / TAU_MINUS))),
    ([0.4, 0.9], [12.35, 20.05], ETA * A_PLUS * sum(math.exp(-(q - p) / TAU_PLUS)
                                                   for p in (0.4, 0.9) for q in (12.35, 20.05))),
])
def test_stdp_on_exact_times_by_hand(dt, pre, post, expected):
    net = _stdp_net(dt)
    inputs = ([0] * (len(pre) + len(post)), [0] * len(pre) + [1] * len(post), pre + post)
    trains = net.run(30.0, inputs=inputs)
    np.testing.assert_allclose(trains.times(0, 0), sorted(post), atol=1e-12)
    dw = net.network.weights.matrix[0, 0, 0] - W0
    assert dw == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_ltp_and_eval_mode():
    net = _stdp_net(1.0, rule="LTP")
    net.run(10.0, inputs=([0, 0, 0], [0, 1, 0], [1.0, 2.0, 3.0]))  # pre, post, pre
    assert net.network.weights.matrix[0, 0, 0] - W0 == pytest.approx(
        ETA * A_PLUS * math.exp(-1.0 / TAU_PLUS), rel=1e-12)
    frozen = _stdp_net(1.0)
    frozen.network.eval()
    frozen.run(10.0, inputs=([0, 0], [0, 1], [1.0, 2.0]))
    assert frozen.network.weights.matrix[0, 0, 0] == W0


# ---------------------------------------------------------------- the leaky vessel (linear leak)
def _vessel_config(W, n_in, batch_size=1, dt=1.0, **neurons):
    config = _config(W, n_in, batch_size=batch_size, dt=dt, precise={"delay": 1.1})
    config["parts"]["neurons"] = "ModulatedLIF"
    config["neurons"] = {"n_neurons": config["neurons"]["n_neurons"], "threshold": 4.0,
                         "leak": 0.3, "refractory": 1.5, "max_burst": 0, "habituation_rate": 0.0,
                         "potentiation_rate": 0.0, "inhibitory_fraction": 0.2, **neurons}
    return config


@pytest.mark.parametrize("dt", [1.0, 0.25])
def test_modulated_lif_linear_leak_matches_the_reference(dt):
    rng = np.random.default_rng(9)
    B, n_in, n = 2, 4, 6
    matrices = [(np.asarray(_random_net(rng, n_in, n, recurrent=True)) * 4).tolist()
                for _ in range(B)]
    net = PreciseNetwork.from_config(_vessel_config({"n": n, "blocks": {"per_member": matrices}},
                                                    n_in, batch_size=B, dt=dt))
    inputs = net.poisson_inputs(120.0, 60.0)
    trains = net.run(60.0, inputs=inputs)
    total = 0
    for b in range(B):
        given = sorted((float(t), int(j)) for m, j, t in zip(*inputs) if m == b)
        ref = reference(_signed(net, b), n_in, None, 4.0, 0.0, 1.5, 0.0, 1.1, 0.0, given, 60.0,
                        leak=0.3)
        mine = trains.member == b
        assert trains.neuron[mine].tolist() == [k for _, k in ref]
        np.testing.assert_allclose(trains.time[mine], [t for t, _ in ref], rtol=0, atol=1e-9)
        total += len(ref)
    assert total > 30


def test_modulated_lif_by_hand():
    # 2.5 at 1.0, then 2.0 at 3.5: the level leaked 0.3 * 2.5 = 0.75 -> 1.75 + 2.0 = 3.75 < 4;
    # 0.5 at 4.0 -> 3.75 - 0.15 + 0.5 = 4.1 >= 4: fires at 4.0 exactly
    net = PreciseNetwork.from_config(_vessel_config([[2.5], [2.0], [0.5], [0.0]], 3,
                                                    inhibitory_fraction=0.0))
    trains = net.run(10.0, inputs=([0, 0, 0], [0, 1, 2], [1.0, 3.5, 4.0]))
    np.testing.assert_array_equal(trains.times(0, 0), [4.0])
    assert net.potential[0, 0] == 0.0  # back to the baseline


@pytest.mark.parametrize("key, value", [("max_burst", 2), ("habituation_rate", 0.1),
                                        ("potentiation_rate", 0.01)])
def test_modulated_lif_step_rules_are_refused(key, value):
    with pytest.raises(ConfigError, match=f"neurons\\.{key}"):
        PreciseNetwork.from_config(_vessel_config([[1.0], [0.0]], 1, **{key: value}))


def test_modulated_lif_refuses_a_bias():
    config = _vessel_config([[1.0], [0.0]], 1)
    config["precise"]["bias_potential"] = 5.0
    with pytest.raises(ConfigError, match="precise\\.bias_potential"):
        PreciseNetwork.from_config(config)


def test_per_neuron_jitter_bounds():
    # input -> neurons 0 and 1 (both fire at 0.5); 0 -> 2 and 1 -> 3 (delay 1 ms); only
    # neuron 1 has a jitter bound, so neuron 2 hears its spike on time and neuron 3 late
    W = [[5.0, 5.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 5.0], [0.0] * 4,
         [0.0] * 4]
    lags = []
    for seed in range(5):
        net = PreciseNetwork.from_config(_config(W, 1, seed=seed,
                                                 precise={"jitter": [0.0, 0.8, 0.0, 0.0]}))
        trains = net.run(5.0, inputs=([0], [0], [0.5]))
        assert trains.times(0, 2)[0] == 1.5  # from neuron 0: no lag
        lags.append(trains.times(0, 3)[0] - 1.5)
    assert all(0 <= lag < 0.8 for lag in lags) and len(set(lags)) == 5


@pytest.mark.parametrize("dt", [1.0, 0.3])
def test_stdp_equals_the_all_pairs_sum_over_a_run(dt):
    """Every weight change of a recurrent run equals the all-to-all pair sum of its spike times."""
    eta, a_plus, a_minus, tau_plus, tau_minus = 0.001, 1.0, -1.2, 10.0, 15.0
    rng = np.random.default_rng(4)
    B, n_in, n = 2, 3, 4
    matrices = [(np.asarray(_random_net(rng, n_in, n, recurrent=True)) * 2.5).tolist()
                for _ in range(B)]
    config = _config({"n": n, "blocks": {"per_member": matrices}}, n_in, batch_size=B, dt=dt,
                     neurons={"refractory": 1.0, "inhibitory_fraction": 0.25},
                     synapses={"learning_rate": eta, "A_plus": a_plus, "A_minus": a_minus,
                               "tau_plus": tau_plus, "tau_minus": tau_minus},
                     weights={"max_weight": 100.0}, precise={"delay": 1.2})
    net = PreciseNetwork.from_config(config)
    before = net.network.weights.matrix.copy()
    inputs = net.poisson_inputs(100.0, 45.0)
    trains = net.run(45.0, inputs=inputs)
    sign = net._pre_sign
    for b in range(B):
        pre = [[t for m, j, t in zip(*inputs) if m == b and j == i] for i in range(n_in)]
        pre += [trains.times(b, k).tolist() for k in range(n)]
        post = [trains.times(b, k) for k in range(n)]
        expected = np.zeros((n_in + n, n))
        for j, times in enumerate(pre):
            for k in range(n):
                for tj in times:
                    for tk in post[k]:
                        if tj <= tk:
                            expected[j, k] += a_plus * math.exp(-(tk - tj) / tau_plus)
                        else:
                            expected[j, k] += a_minus * math.exp(-(tj - tk) / tau_minus)
        expected *= eta * sign[:, None] * net.network.weights.mask[b]
        np.testing.assert_allclose(net.network.weights.matrix[b] - before[b], expected,
                                   rtol=1e-9, atol=1e-13)
        assert np.count_nonzero(expected) > 10 and len(trains.time) > 20


def test_two_runs_continue_like_one():
    rng = np.random.default_rng(2)
    W = _random_net(rng, 3, 5, recurrent=True)
    keys = dict(neurons={"refractory": 1.0}, precise={"delay": 1.5})
    one = PreciseNetwork.from_config(_config(W, 3, **keys))
    inputs = one.poisson_inputs(150.0, 40.0)
    whole = one.run(40.0, inputs=inputs)
    two = PreciseNetwork.from_config(_config(W, 3, **keys))
    m, j, t = inputs
    first = two.run(20.0, inputs=(m[t < 20], j[t < 20], t[t < 20]))
    second = two.run(20.0, inputs=(m[t >= 20], j[t >= 20], t[t >= 20] - 20.0))
    np.testing.assert_array_equal(np.concatenate([first.time, second.time]), whole.time)
    assert first.time.size > 3 and second.time.size > 3
    two.reset()
    assert two.time == 0.0 and not two.potential.any()


def test_the_grid_approaches_the_precise_times_as_dt_shrinks():
    """One LIF neuron, the same input times: nearly every exact spike has a grid spike in the
    step it falls in (the grid reads input in its step and fires at the step's start), so the
    grid's error is about dt / 2; the few misses are near-threshold flips."""
    from spikey import Network

    weights = [[6.0], [7.0], [5.0], [0.0]]
    exact = PreciseNetwork.from_config(_config(weights, 3, neurons={"threshold": 16.0,
                                                                    "tau": 20.0}))
    inputs = exact.poisson_inputs(200.0, 200.0)
    times = exact.run(200.0, inputs=inputs).times(0, 0)
    assert times.size > 20
    errors, matched = [], []
    for dt in (0.1, 0.01):
        steps = int(round(200.0 / dt))
        config = _config(weights, 3, dt=dt, neurons={"threshold": 16.0, "tau": 20.0})
        config.pop("precise")
        config["parts"]["inputs"] = "StaticMap"
        config["inputs"] = {"n_inputs": 3, "n_patterns": 1, "train_steps": steps, "rate": 0.0}
        config["network"]["processing_steps"] = steps
        grid = Network.from_config(config)
        member, index, t = inputs
        grid.inputs.trains_array[0, 0, np.floor(t / dt).astype(int), index] = True
        grid.tick(np.zeros(1, dtype=np.int64))
        grid_steps = set(np.flatnonzero(grid.tick_spikes[0, :, 0]).tolist())
        in_step = np.array([int(np.floor(x / dt)) in grid_steps for x in times])
        matched.append(in_step.mean())
        errors.append(np.mean(times[in_step] - np.floor(times[in_step] / dt) * dt))
        assert 0.2 * dt < errors[-1] < 0.8 * dt
    assert errors[1] < errors[0] / 5
    assert matched[0] >= 0.75 and matched[1] >= 0.9, matched
