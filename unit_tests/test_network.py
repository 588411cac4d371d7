"""The network: batch equivalence, determinism, save/load, copy, monitors, rewards, modifiers."""

import copy
import json
import os
import zipfile

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network
from spikey.snn.io import SaveFormatError

NOISY = {"potential_noise": 0.5, "spontaneous_rate": 5.0, "refractory": 2.0,
         "inhibitory_fraction": 1 / 6}


def _observations(B, n_ticks, seed=0):
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 2, (n_ticks, B, 2))
    return obs, obs[:, :, 0] ^ obs[:, :, 1]


def _member(array, b, B):
    return array[b] if array.ndim and array.shape[0] == B else array


def assert_same_state(a, b, member=None, B=None):
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sorted(sa) == sorted(sb)
    for name in sa:
        x = sa[name] if member is None else _member(sa[name], member, B)
        y = sb[name] if member is None else _member(sb[name], 0, 1)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def _run_tick(net, obs, expected):
    info = {"expected": expected}
    action = net.tick(obs, info)
    reward = net.reward(info=info) if net.reward_mode == "tick" else None
    return action, reward


# ---------------------------------------------------------------- batch equivalence
BATCH_CASES = [
    ("step", "MSTDPET", {}),
    ("step", "STDP", {}),
    ("step", "LTP", {}),
    ("tick", "MSTDPET", {}),
    ("tick", "MSTDP", {}),
    ("tick", "MSTDPET", {"rewarder": "RewardPredictionError"}),
    ("none", "STDP", {}),
    ("step", "MSTDP", {}),
]


@pytest.mark.parametrize("mode, synapse, extra_parts", BATCH_CASES)
def test_batch_equals_solo_networks(mode, synapse, extra_parts):
    B, seed, n_ticks = 4, 11, 6
    cfg = build_small_config(
        parts={"synapses": synapse, **extra_parts},
        network={"batch_size": B, "seed": seed, "reward_mode": mode},
        inputs={"inhibitory_fraction": 0.25},
        neurons=NOISY,
        synapses={"learning_rate": 1.0},
    )
    batch = Network.from_config(cfg)
    solos = []
    for b in range(B):
        c = copy.deepcopy(cfg)
        c["network"].update(batch_size=1, seed=seed + b)
        solos.append(Network.from_config(c))
    start = batch.weights.matrix.copy()
    obs, expected = _observations(B, n_ticks)
    for t in range(n_ticks):
        action, reward = _run_tick(batch, obs[t], expected[t])
        assert action.shape == (B,)
        for b, solo in enumerate(solos):
            a, r = _run_tick(solo, obs[t, b:b + 1], expected[t, b:b + 1])
            assert a[0] == action[b]
            if reward is not None:
                assert r[0] == reward[b]
            np.testing.assert_array_equal(solo.tick_spikes[0], batch.tick_spikes[b])
            np.testing.assert_array_equal(solo.tick_input_spikes[0], batch.tick_input_spikes[b])
            np.testing.assert_array_equal(solo.neurons.potential[0], batch.neurons.potential[b])
            np.testing.assert_array_equal(solo.weights.matrix[0], batch.weights.matrix[b])
            assert_same_state(batch, solo, member=b, B=B)
    assert batch.tick_spikes.any()
    if mode != "none" or synapse == "STDP":
        assert not np.array_equal(batch.weights.matrix, start)  # learning really happened


def test_batch_equivalence_with_other_parts():
    B, seed = 3, 2
    cfg = build_small_config(
        parts={"inputs": "Population", "readout": "TopAction", "synapses": "MSTDPET"},
        network={"batch_size": B, "seed": seed, "reward_mode": "tick"},
        inputs={"n_dims": 2, "n_per_dim": 4, "max_rate": 300.0},
        neurons={"n_neurons": 8, **NOISY},
        readout={"n_outputs": 2, "n_actions": 2},
    )
    cfg["inputs"].pop("rate_map")
    cfg["inputs"].pop("n_inputs")
    batch = Network.from_config(cfg)
    solos = [Network.from_config({**cfg, "network": {**cfg["network"], "batch_size": 1,
                                                     "seed": seed + b}}) for b in range(B)]
    rng = np.random.default_rng(3)
    for _ in range(4):
        obs = rng.random((B, 2))
        expected = rng.integers(0, 2, B)
        _run_tick(batch, obs, expected)
        for b, solo in enumerate(solos):
            _run_tick(solo, obs[b:b + 1], expected[b:b + 1])
            assert_same_state(batch, solo, member=b, B=B)


def test_members_of_a_batch_differ():
    net = Network.from_config(build_small_config(network={"batch_size": 3}))
    w = net.weights.matrix
    assert not np.array_equal(w[0], w[1]) and not np.array_equal(w[1], w[2])
    net.tick(np.ones((3, 2), dtype=int))
    assert not np.array_equal(net.tick_input_spikes[0], net.tick_input_spikes[1])


def _run(cfg, n_ticks=4):
    net = Network.from_config(cfg)
    obs, expected = _observations(net.batch_size, n_ticks)
    actions = [_run_tick(net, obs[t], expected[t])[0] for t in range(n_ticks)]
    return net, np.array(actions)


def test_same_seed_same_run():
    cfg = build_small_config(network={"batch_size": 2, "seed": 5}, neurons=NOISY)
    a, actions_a = _run(cfg)
    b, actions_b = _run(copy.deepcopy(cfg))
    assert_same_state(a, b)
    np.testing.assert_array_equal(actions_a, actions_b)


def test_different_seeds_differ():
    a, _ = _run(build_small_config(network={"seed": 5}))
    b, _ = _run(build_small_config(network={"seed": 6}))
    assert not np.array_equal(a.weights.matrix, b.weights.matrix)
    a.tick(np.array([[1, 1]]))
    b.tick(np.array([[1, 1]]))
    assert a.tick_input_spikes.any()
    assert not np.array_equal(a.tick_input_spikes, b.tick_input_spikes)


# ---------------------------------------------------------------- save / load
def _save_config(**extra):
    return build_small_config(
        network={"batch_size": 2, "seed": 3},
        inputs={"inhibitory_fraction": 0.25},
        neurons=NOISY,
        modifiers=[{"part": "LinearDecay", "path": "synapses.learning_rate", "start": 1.0,
                    "end": 0.2, "ticks": 6}],
        **extra,
    )


@pytest.mark.parametrize("mode", ["tick", "step"])
def test_save_load_round_trip_is_bit_exact(tmp_path, mode):
    cfg = _save_config()
    cfg["network"]["reward_mode"] = mode
    net = Network.from_config(cfg)
    obs, expected = _observations(2, 16)
    for t in range(3):
        _run_tick(net, obs[t], expected[t])
    path = tmp_path / "net.npz"
    net.save(path)
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]
    loaded = Network.load(path)
    assert loaded.get_config() == net.get_config()
    assert (loaded.tick_count, loaded.step_count, loaded.training) == (3, 60, True)
    assert_same_state(net, loaded)
    for t in range(3, 16):  # 260 more steps: the random blocks (256 steps) refill
        a1, r1 = _run_tick(net, obs[t], expected[t])
        a2, r2 = _run_tick(loaded, obs[t], expected[t])
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(net.tick_spikes, loaded.tick_spikes)
        assert_same_state(net, loaded)
    assert net.tick_spikes.any()


def test_save_load_other_parts_and_eval_mode(tmp_path):
    trains = (np.random.default_rng(0).random((4, 7, 8)) < 0.3).astype(int).tolist()
    cfg = build_small_config(parts={"inputs": "StaticMap", "synapses": "MSTDP"},
                             inputs={"n_inputs": 8, "n_patterns": 4, "train_steps": 7,
                                     "trains": trains},
                             rewarder={"punish_mult": 0.0}, network={"batch_size": 2})
    for key in ("n_dims", "rate_map"):
        cfg["inputs"].pop(key)
    net = Network.from_config(cfg)
    obs, expected = _observations(2, 5)
    for t in range(2):
        _run_tick(net, obs[t], expected[t])
    net.eval()
    net.save(tmp_path / "n.npz")
    loaded = Network.load(tmp_path / "n.npz")
    assert not loaded.training
    assert_same_state(net, loaded)
    for t in range(2, 5):
        _run_tick(net, obs[t], expected[t])
        _run_tick(loaded, obs[t], expected[t])
    assert_same_state(net, loaded)


def test_save_load_callable_manual_weights(tmp_path):
    cfg = build_small_config(network={"batch_size": 2})
    cfg["weights"] = {"matrix": lambda rng, shape: rng.uniform(0, 3, shape), "max_weight": 5.0}
    parts = dict(cfg.pop("parts"))
    parts["weights"] = "Manual"
    net = Network(parts, cfg)
    assert not np.array_equal(net.weights.matrix[0], net.weights.matrix[1])
    net.save(tmp_path / "m.npz")
    loaded = Network.load(tmp_path / "m.npz")
    assert_same_state(net, loaded)


def test_save_overwrites_and_leaves_no_temp_files(tmp_path):
    net = Network.from_config(_save_config())
    path = tmp_path / "net.npz"
    net.save(path)
    net.tick(np.ones((2, 2), dtype=int))
    net.save(path)
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]
    assert Network.load(path).tick_count == 1


def test_failed_save_keeps_old_file(tmp_path, monkeypatch):
    import spikey.snn.io as io

    net = Network.from_config(_save_config())
    path = tmp_path / "net.npz"
    net.save(path)
    before = path.read_bytes()

    def broken_savez(handle, **arrays):
        handle.write(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(io.np, "savez", broken_savez)
    net.tick(np.ones((2, 2), dtype=int))
    with pytest.raises(RuntimeError, match="disk full"):
        net.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]
    assert Network.load(path).tick_count == 0


@pytest.fixture
def saved(tmp_path):
    net = Network.from_config(_save_config())
    net.tick(np.ones((2, 2), dtype=int))
    path = tmp_path / "net.npz"
    net.save(path)
    return path, path.read_bytes()


@pytest.mark.parametrize("keep", [0.5, 0.99, 100])
def test_load_truncated_file(saved, keep):
    path, raw = saved
    cut = raw[:keep] if isinstance(keep, int) else raw[:int(len(raw) * keep)]
    path.write_bytes(cut)
    with pytest.raises(SaveFormatError):
        Network.load(path)


def _entry_data_offset(raw, info):
    """Offset of an entry's stored bytes (after its local header)."""
    start = info.header_offset
    name_len = int.from_bytes(raw[start + 26:start + 28], "little")
    extra_len = int.from_bytes(raw[start + 28:start + 30], "little")
    return start + 30 + name_len + extra_len


def test_load_corrupted_file(saved):
    path, raw = saved
    # flip 16 bytes in the middle of the file
    bad = bytearray(raw)
    middle = len(raw) // 2
    bad[middle:middle + 16] = bytes(b ^ 0xFF for b in bad[middle:middle + 16])
    path.write_bytes(bytes(bad))
    with pytest.raises(SaveFormatError):
        Network.load(path)
    # flip one byte in the middle of the data of every entry (weights, meta, ...)
    entries = zipfile.ZipFile(__import__("io").BytesIO(raw)).infolist()
    assert {"weights.matrix.npy", "__meta__.npy"} <= {e.filename for e in entries}
    for entry in entries:
        bad = bytearray(raw)
        bad[_entry_data_offset(raw, entry) + entry.file_size // 2] ^= 0x01
        path.write_bytes(bytes(bad))
        with pytest.raises(SaveFormatError):
            Network.load(path)


def test_load_corrupted_zip_directory(saved):
    path, raw = saved
    end = raw.rfind(b"PK\x05\x06")
    directory = int.from_bytes(raw[end + 16:end + 20], "little")
    assert raw[directory:directory + 4] == b"PK\x01\x02"
    bad = bytearray(raw)
    bad[directory + 10] ^= 0xFF  # compression method of the first entry
    path.write_bytes(bytes(bad))
    with pytest.raises(SaveFormatError):
        Network.load(path)


def test_load_corrupted_npy_header(saved):
    path, raw = saved
    entry = next(e for e in zipfile.ZipFile(__import__("io").BytesIO(raw)).infolist()
                 if e.filename == "inputs.random.buffer.npy")
    brace = _entry_data_offset(raw, entry) + 10
    assert raw[brace:brace + 1] == b"{"
    bad = bytearray(raw)
    bad[brace] ^= 0xFF
    path.write_bytes(bytes(bad))
    with pytest.raises(SaveFormatError):
        Network.load(path)


def _rewrite(path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(arrays["__meta__"].tobytes().decode())
    change(arrays, meta)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def test_load_version_mismatch(saved):
    path, _ = saved
    _rewrite(path, lambda arrays, meta: meta.update(version=999))
    with pytest.raises(SaveFormatError, match="version 999"):
        Network.load(path)


@pytest.mark.parametrize("change, message", [
    (lambda a, m: m.update(format="other"), "format 'other'"),
    (lambda a, m: a.update({"weights.matrix": a["weights.matrix"][:, :3]}), "weights.matrix"),
    (lambda a, m: a.update({"weights.matrix": a["weights.matrix"].astype(np.float64)}), "float64"),
    (lambda a, m: a.pop("neurons.potential"), "missing \\['neurons.potential'\\]"),
    (lambda a, m: a.update(extra=np.zeros(3)), "unexpected \\['extra'\\]"),
    (lambda a, m: m["generators"].pop("inputs.random"), "random streams"),
])
def test_load_mismatched_contents(saved, change, message):
    path, _ = saved
    _rewrite(path, change)
    with pytest.raises(SaveFormatError, match=message):
        Network.load(path)


def test_load_not_a_network_file(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("hello")
    with pytest.raises(SaveFormatError):
        Network.load(path)
    np.savez(tmp_path / "y.npz", a=np.zeros(2))
    with pytest.raises(SaveFormatError, match="__meta__"):
        Network.load(tmp_path / "y.npz")
    with pytest.raises(FileNotFoundError):
        Network.load(tmp_path / "missing.npz")


def test_save_between_tick_and_reward_keeps_last_action(tmp_path):
    net = Network.from_config(_save_config())
    info = {"expected": np.array([1, 0])}
    net.tick(np.ones((2, 2), dtype=int), info)
    net.save(tmp_path / "n.npz")
    loaded = Network.load(tmp_path / "n.npz")
    np.testing.assert_array_equal(loaded.reward(info=info), net.reward(info=info))


def test_save_between_tick_and_reward_keeps_modified_parameters(tmp_path):
    net = Network.from_config(_save_config())
    info = {"expected": np.array([1, 0])}
    for _ in range(3):
        action = net.tick(np.ones((2, 2), dtype=int), info)
        net.reward(info=info)
    action = net.tick(np.ones((2, 2), dtype=int), info)
    net.save(tmp_path / "n.npz")
    loaded = Network.load(tmp_path / "n.npz")
    assert loaded.synapses.learning_rate == net.synapses.learning_rate
    net.reward(action=action, info=info)
    loaded.reward(action=action, info=info)
    assert_same_state(net, loaded)


# ---------------------------------------------------------------- copy
def test_copy_keeps_learned_weights_and_is_independent():
    net = Network.from_config(build_small_config(network={"batch_size": 2},
                                                 synapses={"learning_rate": 2.0}))
    start = net.weights.matrix.copy()
    obs, expected = _observations(2, 6)
    for t in range(3):
        _run_tick(net, obs[t], expected[t])
    assert not np.array_equal(net.weights.matrix, start)
    twin = net.copy()
    assert_same_state(net, twin)
    for name, array in twin.state_arrays().items():
        assert not np.shares_memory(array, net.state_arrays()[name]), name
    learned = net.weights.matrix.copy()
    for t in range(3, 6):
        _run_tick(twin, obs[t], expected[t])
    np.testing.assert_array_equal(net.weights.matrix, learned)
    assert not np.array_equal(twin.weights.matrix, learned)


def test_copy_continues_exactly_like_the_original():
    net = Network.from_config(build_small_config(network={"batch_size": 2},
                                                 synapses={"learning_rate": 2.0}))
    obs, expected = _observations(2, 8)
    for t in range(2):
        _run_tick(net, obs[t], expected[t])
    twin = net.copy()
    for t in range(2, 8):
        _run_tick(net, obs[t], expected[t])
        _run_tick(twin, obs[t], expected[t])
        assert_same_state(net, twin)
    assert np.shares_memory(twin.weights.flat, twin.weights.matrix)


def test_copied_monitor_records_the_copy():
    net = Network.from_config(build_small_config())
    net.add_monitor("neurons.potential")
    twin = net.copy()
    twin.tick(np.array([[1, 1]]))
    np.testing.assert_array_equal(twin._monitors[0].records[-1], twin.neurons.potential)


# ---------------------------------------------------------------- monitors
def test_monitor_shape_interval_and_values():
    net = Network.from_config(build_small_config(network={"batch_size": 2}, neurons=NOISY))
    every5 = net.add_monitor("neurons.potential", every=5)
    full = net.add_monitor("neurons.potential")
    spikes = net.add_monitor("spikes")
    outputs = net.add_monitor("output_spikes", every=2)
    net.tick(np.ones((2, 2), dtype=int))
    np.testing.assert_array_equal(spikes.data, net.tick_spikes)
    net.tick(np.array([[1, 0], [0, 1]]))
    assert every5.data.shape == (2, 8, 6)
    assert every5.steps == [5, 10, 15, 20, 25, 30, 35, 40]
    assert full.data.shape == (2, 40, 6)
    np.testing.assert_array_equal(every5.data, full.data[:, 4::5])
    np.testing.assert_array_equal(full.data[:, -1], net.neurons.potential)
    assert outputs.data.shape == (2, 20, 1)
    np.testing.assert_array_equal(outputs.data, spikes.data[:, 1::2, -1:])
    net.remove_monitor(full)
    net.tick(np.ones((2, 2), dtype=int))
    assert full.data.shape == (2, 40, 6) and every5.data.shape == (2, 12, 6)
    full.clear()
    assert full.data.shape == (0,) and full.steps == []


def test_monitor_bad_arguments():
    net = Network.from_config(build_small_config())
    with pytest.raises(ValueError, match="neurons.potentail"):
        net.add_monitor("neurons.potentail")
    with pytest.raises(ValueError, match="every = 0"):
        net.add_monitor("spikes", every=0)


# ---------------------------------------------------------------- ticks and actions
@pytest.mark.parametrize("readout, extra, shape", [
    ("Threshold", {"n_outputs": 1}, (3,)),
    ("TopAction", {"n_outputs": 2, "n_actions": 2}, (3,)),
    ("NeuronRates", {"n_outputs": 2}, (3, 2)),
    ("PopulationVector", {"n_outputs": 4, "n_actions": 2}, (3, 2)),
])
def test_tick_action_shape_and_value(readout, extra, shape):
    net = Network.from_config(build_small_config(parts={"readout": readout}, readout=extra,
                                                 network={"batch_size": 3, "reward_mode": "none"}))
    action = net.tick(np.array([[1, 1], [0, 0], [1, 0]]))
    assert action.shape == shape
    counts = net.tick_spikes[:, :, -extra["n_outputs"]:].sum(axis=1)
    np.testing.assert_array_equal(action, net.readout(counts, 20.0))
    assert net.tick_count == 1 and net.step_count == 20


def test_threshold_action_matches_output_rate():
    net = Network.from_config(build_small_config(network={"batch_size": 4, "reward_mode": "none"},
                                                 readout={"threshold": 100.0}))
    action = net.tick(np.array([[1, 1], [0, 0], [1, 0], [0, 1]]))
    rate = net.tick_spikes[:, :, -1].sum(axis=1) * 1000.0 / 20.0
    np.testing.assert_array_equal(action, (rate > 100.0).astype(int))
    assert action.dtype == np.int64
    assert action[1] == 0  # silent inputs, silent network


def test_tick_reward_values_and_mode_errors():
    net = Network.from_config(build_small_config(network={"batch_size": 3},
                                                 rewarder={"reward_mult": 2.0,
                                                           "punish_mult": -0.5}))
    action = net.tick(np.array([[1, 1], [0, 0], [1, 0]]))
    expected = np.array([1, 1, 0])
    r = net.reward(info={"expected": expected})
    np.testing.assert_array_equal(r, np.where(action == expected, 2.0, -0.5))
    step_net = Network.from_config(build_small_config(network={"reward_mode": "step"}))
    with pytest.raises(RuntimeError, match="reward_mode='tick'"):
        step_net.reward(info={"expected": [1]})
    with pytest.raises(ValueError, match="expected"):
        step_net.tick(np.array([[1, 1]]))
    with pytest.raises(ValueError, match="has 2 values; expected 1"):
        step_net.tick(np.array([[1, 1]]), {"expected": [1, 0]})


def _last_step_config(A_minus=-0.4):
    L = 10
    trains = np.zeros((1, L, 1), dtype=int)
    trains[0, L - 1, 0] = 1  # the only input spike: last step of the tick
    return {
        "parts": {"inputs": "StaticMap", "neurons": "LIF", "weights": "Manual",
                  "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "MatchExpected"},
        "network": {"processing_steps": L, "reward_mode": "step", "dtype": "float64"},
        "inputs": {"n_inputs": 1, "n_patterns": 1, "train_steps": L, "trains": trains.tolist()},
        "neurons": {"n_neurons": 1, "threshold": 16.0},
        "weights": {"matrix": [[20.0], [0.0]], "max_weight": 40.0},
        "synapses": {"learning_rate": 0.625, "A_plus": 1.0, "A_minus": A_minus, "tau_z": 25.0},
        "readout": {"n_outputs": 1},
        "rewarder": {"reward_mult": 1.0, "punish_mult": -1.0},
    }


@pytest.mark.parametrize("expected, sign", [(1, 1.0), (0, -1.0)])
def test_step_reward_uses_the_current_steps_output(expected, sign):
    net = Network.from_config(_last_step_config())
    net.tick(np.array([0]), {"expected": np.array([expected])})
    assert net.tick_spikes[0, :, 0].tolist() == [False] * 9 + [True]
    # pre and post spike in the same (last) step: zeta = A_plus + A_minus; the reward of
    # that step reaches the synapses in the same tick
    dw = 0.625 * 1.0 * sign * (1.0 - 0.4) / 25.0
    np.testing.assert_allclose(net.weights.matrix[0, 0, 0], 20.0 + dw, rtol=1e-12)


def test_step_reward_not_applied_in_eval_or_without_output():
    net = Network.from_config(_last_step_config())
    net.eval()
    net.tick(np.array([0]))  # no info needed when not learning
    assert net.weights.matrix[0, 0, 0] == 20.0
    cfg = _last_step_config()
    cfg["inputs"]["trains"] = np.zeros((1, 10, 1), dtype=int).tolist()
    net = Network.from_config(cfg)
    net.tick(np.array([0]), {"expected": np.array([1])})
    assert net.weights.matrix[0, 0, 0] == 20.0 and not net.tick_spikes.any()


# ---------------------------------------------------------------- modifiers
@pytest.mark.parametrize("modifier, values", [
    ({"part": "LinearDecay", "start": 1.0, "end": 0.0, "ticks": 4}, [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]),
    ({"part": "DropOff", "start": 0.8, "end": 0.1, "at": 2}, [0.8, 0.8, 0.1, 0.1, 0.1, 0.1]),
])
def test_modifier_changes_value_across_ticks(modifier, values):
    net = Network.from_config(build_small_config(
        modifiers=[{**modifier, "path": "synapses.learning_rate"}]))
    seen = []
    for _ in values:
        net.tick(np.array([[1, 1]]))
        net.reward(info={"expected": [1]})
        seen.append(net.synapses.learning_rate)
    assert seen == pytest.approx(values, abs=1e-12)
    assert net.get_config()["synapses"]["learning_rate"] == 0.625  # config is not rewritten


def test_member_clock_schedule_follows_each_member_s_active_ticks():
    """clock: member counts each member's own active ticks: a member paused for two ticks
    lags its neighbour by two schedule steps; the network clock would not."""
    net = Network.from_config(build_small_config(
        network={"batch_size": 2},
        modifiers=[{"part": "LinearDecay", "path": "synapses.learning_rate", "start": 1.0,
                    "end": 0.0, "ticks": 4, "clock": "member"}]))
    seen = []
    for tick in range(6):
        net.active[...] = [True, tick not in (1, 2)]
        net.tick(np.array([[1, 1], [1, 1]]))
        seen.append(np.broadcast_to(net.synapses.learning_rate, (2,)).tolist())
        if tick == 0:  # members at the same point of their schedules share one scalar
            assert isinstance(net.synapses.learning_rate, float)
    net.active[...] = True
    np.testing.assert_allclose(np.array(seen)[:, 0], [1.0, 0.75, 0.5, 0.25, 0.0, 0.0])
    # member 1 is set at its paused ticks too but its clock does not move there
    np.testing.assert_allclose(np.array(seen)[:, 1], [1.0, 0.75, 0.75, 0.75, 0.5, 0.25])
    assert net.modifiers[0].member_ticks.tolist() == [6, 4]
    saved = Network.from_config(net.get_config())
    assert saved.modifiers[0].state_arrays()["member_ticks"].tolist() == [0, 0]


def test_member_clock_needs_a_per_member_key():
    cfg = build_small_config(modifiers=[{"part": "LinearDecay", "path": "readout.n_outputs",
                                         "start": 1.0, "end": 2.0, "ticks": 4,
                                         "clock": "member"}])
    with pytest.raises(ConfigError, match="clock = 'member' needs a key that may differ"):
        Network.from_config(cfg)


def test_modifier_on_neuron_tau_changes_decay():
    net = Network.from_config(build_small_config(
        modifiers=[{"part": "LinearDecay", "path": "neurons.tau", "start": 10.0, "end": 30.0,
                    "ticks": 2}]))
    decays = []
    for _ in range(3):
        net.tick(np.array([[0, 0]]))
        decays.append(float(net.neurons.decay))
    np.testing.assert_allclose(decays, np.exp(-1.0 / np.array([10.0, 20.0, 30.0])), rtol=1e-6)


@pytest.mark.parametrize("path, message", [
    ("synapses.learning_rat", "has no key 'learning_rat'"),
    ("synapse.learning_rate", "no part in slot 'synapse'"),
    ("synapses", "has no key ''"),
])
def test_bad_modifier_path(path, message):
    cfg = build_small_config(modifiers=[{"part": "DropOff", "path": path, "start": 1.0,
                                         "end": 0.0, "at": 1}])
    with pytest.raises(ConfigError) as info:
        Network.from_config(cfg)
    assert f"modifiers[0] (DropOff).path = {path!r}" in str(info.value)
    assert message in str(info.value)


def test_modifier_on_absent_part():
    cfg = build_small_config(parts={"synapses": None}, synapses=None,
                             modifiers=[{"part": "DropOff", "path": "synapses.learning_rate",
                                         "start": 1.0, "end": 0.0, "at": 1}])
    with pytest.raises(ConfigError, match="no part in slot 'synapses'"):
        Network.from_config(cfg)


def test_modifier_value_is_validated_when_applied():
    net = Network.from_config(build_small_config(
        modifiers=[{"part": "LinearDecay", "path": "synapses.learning_rate", "start": 0.5,
                    "end": -0.5, "ticks": 1}]))
    net.tick(np.array([[1, 1]]))
    with pytest.raises(ConfigError, match="learning_rate = -0.5 is out of range"):
        net.tick(np.array([[1, 1]]))


# ---------------------------------------------------------------- random streams
def test_random_blocks_do_not_depend_on_batch_size():
    from spikey.core.part import BuildContext, RandomBlocks

    batch = BuildContext(3, np.dtype("float64"), 1.0, (10, 11, 12))
    solo = BuildContext(1, np.dtype("float64"), 1.0, (11,))
    a = RandomBlocks(batch.generators("s"), 4, np.float64, block=16)
    b = RandomBlocks(solo.generators("s"), 4, np.float64, block=16)
    other = RandomBlocks(solo.generators("t"), 4, np.float64, block=16)
    draws_a = np.stack([a.next().copy() for _ in range(40)])  # 2.5 blocks
    draws_b = np.stack([b.next().copy() for _ in range(40)])
    draws_o = np.stack([other.next().copy() for _ in range(40)])
    assert draws_a.shape == (40, 3, 4)
    np.testing.assert_array_equal(draws_a[:, 1], draws_b[:, 0])
    assert not np.array_equal(draws_a[:, 0], draws_a[:, 1])
    assert not np.array_equal(draws_b, draws_o)  # streams are independent
    assert 0.0 <= draws_a.min() and draws_a.max() < 1.0
    assert abs(draws_a.mean() - 0.5) < 0.05


def test_per_member_parameters_equal_solo_networks_with_those_values():
    """A batch whose members differ in tau, threshold and learning rate, all seeded alike,
    reproduces one solo network per parameter set, bit for bit."""
    small_config = build_small_config()
    values = {"tau": [10.0, 20.0, 35.0], "threshold": [2.0, 3.0, 2.5],
              "learning_rate": [0.1, 0.5, 0.9]}
    batch_cfg = copy.deepcopy(small_config)
    batch_cfg["network"].update(batch_size=3, member_seeds=[7, 7, 7], reward_mode="step")
    batch_cfg["neurons"].update(tau={"per_member": values["tau"]},
                                threshold={"per_member": values["threshold"]})
    batch_cfg["synapses"]["learning_rate"] = {"per_member": values["learning_rate"]}
    batch = Network.from_config(batch_cfg)
    assert Network.from_config(batch.get_config()).get_config() == batch.get_config()
    solos = []
    for b in range(3):
        cfg = copy.deepcopy(small_config)
        cfg["network"].update(batch_size=1, seed=7, reward_mode="step")
        cfg["neurons"].update(tau=values["tau"][b], threshold=values["threshold"][b])
        cfg["synapses"]["learning_rate"] = values["learning_rate"][b]
        solos.append(Network.from_config(cfg))
    rng = np.random.default_rng(0)
    for _ in range(6):
        obs = rng.integers(0, 2, size=(3, 2))
        expected = obs[:, 0] ^ obs[:, 1]
        batch.tick(obs, {"expected": expected})
        for b, solo in enumerate(solos):
            solo.tick(obs[b:b + 1], {"expected": expected[b:b + 1]})
    for b, solo in enumerate(solos):
        np.testing.assert_array_equal(batch.tick_spikes[b], solo.tick_spikes[0])
        np.testing.assert_array_equal(batch.weights.matrix[b], solo.weights.matrix[0])
    assert batch.tick_spikes.sum() > 0
    assert not np.array_equal(batch.weights.matrix[0], batch.weights.matrix[2])


def test_per_member_values_are_checked():
    cfg = build_small_config()
    cfg["network"]["batch_size"] = 2
    cfg["neurons"]["tau"] = {"per_member": [10.0, 20.0, 30.0]}
    with pytest.raises(ConfigError, match=r"tau.per_member has 3 values; expected one per member \(batch_size = 2\)"):
        Network.from_config(cfg)
    cfg["neurons"]["tau"] = {"per_member": [10.0, -1.0]}
    with pytest.raises(ConfigError, match=r"tau = -1.0 is out of range"):
        Network.from_config(cfg)
    cfg["neurons"]["tau"] = 20.0
    cfg["neurons"]["n_neurons"] = {"per_member": [6, 6]}
    with pytest.raises(ConfigError, match="n_neurons: cannot differ between batch members"):
        Network.from_config(cfg)
    cfg["neurons"]["n_neurons"] = 6
    cfg["network"]["member_seeds"] = [1]
    with pytest.raises(ConfigError, match="member_seeds"):
        Network.from_config(cfg)


@pytest.mark.parametrize("shape", [(1, 1000, 300), (2, 600, 120), (3, 40, 7)])
def test_count_spikes_equals_the_boolean_sum(shape):
    """Byte sums in pieces of 255 steps give every neuron's spike count exactly, also for
    a neuron that fires every step of a 1,000-step tick (counts past 255) and on a view."""
    from spikey.snn.network import count_spikes
    spikes = np.random.default_rng(4).random(shape) < 0.3
    spikes[0, :, 0] = True
    view = spikes[:, :, 1:]
    out = np.full((shape[0], shape[2] - 1), -5, dtype=np.int64)
    count_spikes(view, out)
    np.testing.assert_array_equal(out, view.sum(axis=1))
    full = np.zeros((shape[0], shape[2]), dtype=np.int64)
    assert count_spikes(spikes, full)[0, 0] == shape[1]
