"""Hostile inputs: bad configs, bad save files and resource bombs.

Each case is a small but hostile input and the error it must get: the
exception type and a phrase of its message. Bombs (YAML aliases, zip
members inflating past their header, configs declaring huge networks) are
refused from what they declare, before anything is expanded: the cases
check the refusal's message, and the save-file bombs run with numpy's array
reader patched to fail, so a refusal that decompressed data would show.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network
from spikey.core import budget
from spikey.core.params import show
from spikey.snn.io import SaveFormatError
from spikey.training.config import load_config

# ---------------------------------------------------------------- configs


def _network(**overrides):
    return lambda tmp_path: Network.from_config(build_small_config(**overrides))


def _manual(matrix):
    def run(tmp_path):
        config = build_small_config(parts={"weights": "Manual"}, weights=None)
        config["weights"] = {"matrix": matrix}
        return Network.from_config(config)
    return run


def _file(name, text, build=False):
    def run(tmp_path):
        path = tmp_path / name
        path.write_text(text)
        data = load_config(path)
        return Network.from_config(data["network"]) if build else data
    return run


_NETWORK_JSON = json.dumps({"network": build_small_config()})

# A billion laughs inside a list key: 9 levels of 9 aliases, ~4e8 numbers
_BOMB = "".join(
    ["l0: &l0 [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]\n"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9)]
    + ["network:\n  parts: {inputs: RateMap, neurons: LIF, weights: Random, readout: Threshold}\n"
       "  network: {reward_mode: none}\n  inputs: {n_inputs: 8, n_dims: 2, rate_map: *l8}\n"
       "  neurons: {n_neurons: 6}\n"])

CONFIG_CASES = {
    "tau inf": (_network(neurons={"tau": float("inf")}), ConfigError,
                "neurons (LIF).tau = inf is not a finite number"),
    "dt -inf": (_network(network={"dt": float("-inf")}), ConfigError,
                "network.dt = -inf is not a finite number"),
    "threshold inf": (_network(neurons={"threshold": float("inf")}), ConfigError,
                      "threshold = inf is not a finite number"),
    "max_weight inf": (_network(weights={"max_weight": float("inf")}), ConfigError,
                       "max_weight = inf is not a finite number"),
    "initial weight inf": (_network(weights={"high": float("inf")}), ConfigError,
                           "high = inf is not a finite number"),
    "inf inside a list": (_network(inputs={"rate_map": [0.0, float("-inf")]}), ConfigError,
                          "contains -inf"),
    "JSON Infinity": (_file("c.json", _NETWORK_JSON.replace('"tau"', '"x"').replace(
        '"n_neurons": 6', '"n_neurons": 6, "tau": Infinity'), build=True), ConfigError,
        "tau = inf is not a finite number"),
    "Manual callable inf": (_manual(lambda rng, shape: np.full(shape, np.inf)), ConfigError,
                            "non-finite entries"),
    "Manual matrix nan": (_manual(np.full((14, 6), np.nan)), ConfigError, "contains nan"),
    "Manual block -inf": (_manual([{"pre": [0, 14], "post": [0, 6], "weight": -np.inf}]),
                          ConfigError, "non-finite entries"),
    "JSON duplicate key": (_file("c.json", '{"network": {"a": 1}, "network": {"b": 2}}'),
                           ConfigError, "duplicate key 'network'"),
    "JSON nested duplicate": (_file("c.json", _NETWORK_JSON.replace(
        '"n_neurons": 6', '"n_neurons": 6, "n_neurons": 60')), ConfigError,
        "duplicate key 'n_neurons'"),
    "YAML duplicate key": (_file("c.yaml", "network:\n  neurons: {tau: 10, tau: 20}\n"),
                           ConfigError, "duplicate key 'tau'"),
    "YAML alias bomb in a list key": (_file("c.yaml", _BOMB, build=True), ConfigError,
                                      "YAML aliases expand"),
    "YAML recursive alias": (_file("c.yaml", "a: &a [1, *a]\n"), ConfigError,
                             "refers to a node that contains it"),
    "YAML nested too deep": (_file("c.yaml", "[" * 3000 + "]" * 3000), ConfigError,
                             "nested too deeply"),
    "JSON nested too deep": (_file("c.json", "[" * 100_000 + "]" * 100_000), ConfigError,
                             "nested too deeply"),
    "batch_size 1e9": (_network(network={"batch_size": 10**9}), ConfigError, "GB of memory"),
    "n_neurons 1e8": (_network(neurons={"n_neurons": 10**8}), ConfigError, "GB of memory"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_hostile_config(case, tmp_path):
    run, error, phrase = CONFIG_CASES[case]
    with pytest.raises(error) as info:
        run(tmp_path)
    assert phrase in str(info.value)
    assert len(str(info.value)) < 1000  # messages show values cut short


def test_yaml_alias_bomb_is_refused_before_construction(tmp_path, monkeypatch):
    import yaml

    def construct(*args, **kwargs):
        raise AssertionError("constructed Python objects from a bomb")

    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_document", construct)
    path = tmp_path / "c.yaml"
    path.write_text(_BOMB)
    with pytest.raises(ConfigError, match=r"YAML aliases expand \d+ nodes to 926177141"):
        load_config(path)


def test_a_few_yaml_aliases_and_merge_keys_still_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: &b {tau: 10, threshold: 16}\nneurons:\n  <<: *b\n  tau: 20\n"
                    "twice: [*b, *b]\n")
    assert load_config(path) == {"base": {"tau": 10, "threshold": 16},
                                 "neurons": {"tau": 20, "threshold": 16},
                                 "twice": [{"tau": 10, "threshold": 16}] * 2}


def test_error_message_of_a_huge_list_is_short():
    with pytest.raises(ConfigError) as info:
        Network.from_config(build_small_config(neurons={"tau": [[0.5] * 1000] * 1000}))
    assert "(list of 1000 items)" in str(info.value)
    assert len(str(info.value)) < 500
    assert len(show("x" * 10**6)) < 300


# ---------------------------------------------------------------- memory limit
def test_memory_estimate_counts_the_dominant_arrays():
    # B = 2, n_in = 8, N = 6, P = 14, 20 steps, float32, one eligibility array
    expected = (2 * 14 * 6 * 5 + 14 * 6 * 9) + 2 * 14 * 6 * 4 + 2 * 20 * 14 + 2 * 14 * 4 * 16
    assert budget.estimate_bytes(2, 8, 6, 20, "float32", synapse_arrays=1) == expected
    net = Network.from_config(build_small_config(network={"batch_size": 2}))
    assert budget.estimate_network(net) == expected


def test_memory_limit_override(monkeypatch):
    monkeypatch.setenv(budget.ENV, "0.000001")  # 1 kB
    with pytest.raises(ConfigError, match=r"more than the 1e-06 GB limit \(SPIKEY_MEMORY_LIMIT="):
        Network.from_config(build_small_config())
    monkeypatch.setenv(budget.ENV, "none")
    assert budget.memory_limit() == (None, "SPIKEY_MEMORY_LIMIT=none")
    Network.from_config(build_small_config())
    monkeypatch.setenv(budget.ENV, "lots")
    with pytest.raises(ConfigError, match="SPIKEY_MEMORY_LIMIT = 'lots'; expected a number of GB"):
        Network.from_config(build_small_config())


# ---------------------------------------------------------------- save files
def _save_config():
    return build_small_config(network={"batch_size": 2, "seed": 3})


@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory):
    net = Network.from_config(_save_config())
    net.tick(np.ones((2, 2), dtype=int))
    path = tmp_path_factory.mktemp("save") / "net.npz"
    net.save(path)
    return path.read_bytes()


def _entries(raw) -> dict:
    with np.load(io.BytesIO(raw)) as data:
        return {k: data[k] for k in data.files}


def _write(path, arrays, meta=None, compress=False):
    arrays = dict(arrays)
    if meta is not None:
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        (np.savez_compressed if compress else np.savez)(handle, **arrays)


def _meta(arrays):
    return json.loads(arrays["__meta__"].tobytes().decode())


def _edit_meta(change):
    def make(raw, path):
        arrays = _entries(raw)
        meta = _meta(arrays)
        meta = change(meta)
        _write(path, arrays, meta)
    return make


def _edit_array(name, change):
    def make(raw, path):
        arrays = _entries(raw)
        arrays[name] = change(arrays[name].copy())
        _write(path, arrays)
    return make


def _set(mapping, path, value):
    keys = path.split(".")
    for key in keys[:-1]:
        mapping = mapping[key]
    mapping[keys[-1]] = value


def _meta_set(path, value):
    def change(meta):
        _set(meta, path, value)
        return meta
    return _edit_meta(change)


def _fewer_states(meta):
    meta["generators"]["inputs.random"] = meta["generators"]["inputs.random"][:1]
    return meta


def _pcg(field, value):
    def change(meta):
        meta["generators"]["inputs.random"][1][field] = value
        return meta
    return change


def _inflating_member(raw, path):
    """weights.matrix: a header declaring the right shape, a zip entry inflating to 50 MB."""
    arrays = _entries(raw)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            if name != "weights.matrix":
                with archive.open(f"{name}.npy", "w") as handle:
                    np.lib.format.write_array(handle, array, allow_pickle=False)
        header = io.BytesIO()
        np.lib.format.write_array(header, arrays["weights.matrix"])
        with archive.open("weights.matrix.npy", "w", force_zip64=True) as handle:
            handle.write(header.getvalue())
            block = bytes(1 << 20)
            for _ in range(50):
                handle.write(block)


def _huge_member(raw, path):
    """weights.matrix: 32 MB of zeros (compressing to ~32 kB) of the wrong shape."""
    arrays = _entries(raw)
    arrays["weights.matrix"] = np.zeros((2, 2000, 2000), dtype=np.float32)
    _write(path, arrays, compress=True)


def _truncated_header(raw, path):
    """A .npy header declaring a (10**6, 10**6) array over 16 bytes of data."""
    arrays = _entries(raw)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            if name != "weights.matrix":
                with archive.open(f"{name}.npy", "w") as handle:
                    np.lib.format.write_array(handle, array, allow_pickle=False)
        archive.writestr("weights.matrix.npy", header.getvalue() + bytes(16))


def _pickled_member(raw, path):
    arrays = _entries(raw)
    arrays["weights.mask"] = np.array([None, 1], dtype=object)
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w") as handle:
                np.lib.format.write_array(handle, array, allow_pickle=True)


def _stray_entry(raw, path):
    path.write_bytes(raw)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("readme.txt", "hello")


SAVE_CASES = {
    "__meta__ a JSON list": (_edit_meta(lambda meta: [meta]), "'__meta__' is a JSON list"),
    "__meta__ without counters": (_edit_meta(lambda meta: {k: v for k, v in meta.items()
                                                           if k != "counters"}),
                                  "no 'counters' object"),
    "tick_count a string": (_meta_set("counters.tick_count", "12"), "counters.tick_count = '12'"),
    "tick_count a float": (_meta_set("counters.tick_count", 1.5), "counters.tick_count = 1.5"),
    "tick_count negative": (_meta_set("counters.tick_count", -1), "expected an integer >= 0"),
    "training not a bool": (_meta_set("counters.training", "yes"), "counters.training = 'yes'"),
    "fewer generator states than members": (_edit_meta(_fewer_states),
                                            "has 1 generator states; expected 2"),
    "PCG64 state a string": (_edit_meta(_pcg("state", {"state": "x", "inc": 3})),
                             "member 1: invalid PCG64 state"),
    "PCG64 even increment": (_edit_meta(_pcg("state", {"state": 1, "inc": 2})),
                             "invalid PCG64 state"),
    "PCG64 state too large": (_edit_meta(_pcg("state", {"state": 2**130, "inc": 3})),
                              "invalid PCG64 state"),
    "another bit generator": (_edit_meta(_pcg("bit_generator", "MT19937")),
                              "invalid PCG64 state"),
    "generator state a list": (_edit_meta(lambda m: (m["generators"]["inputs.random"].__setitem__(
        0, []), m)[1]), "member 0: invalid PCG64 state"),
    "bad last_action dtype": (_meta_set("last_action", {"value": [1], "dtype": "object"}),
                              "last_action"),
    "overrides not a mapping": (_meta_set("overrides", [1]), "overrides = [1]"),
    "NaN weights": (_edit_array("weights.matrix", lambda w: (w.__setitem__((0, 3, 2), np.nan),
                                                            w)[1]), "1 non-finite weights"),
    "inf weights": (_edit_array("weights.matrix", lambda w: w + np.inf), "non-finite weights"),
    "negative random-block position": (_edit_array("inputs.random.position", lambda p: p * 0 - 1),
                                       "'inputs.random.position' = [-1, -1]"),
    "random-block position past the block": (
        _edit_array("inputs.random.position", lambda p: p * 0 + 10**6), "expected positions in"),
    "config edited to batch_size 1e7": (_meta_set("config.network.batch_size", 10**7),
                                        "declares (batch_size, processing_steps, n_neurons) = "
                                        "(10000000, 20, 6)"),
    "config edited to n_neurons 1e8": (_meta_set("config.neurons.n_neurons", 10**8),
                                       "(2, 20, 100000000)"),
    "member inflating past its header": (_inflating_member, "declares float32(2, 14, 6) (672 bytes) "
                                                            "but its zip entry holds 52429472"),
    "highly compressed array of the wrong shape": (_huge_member,
                                                   "'weights.matrix' is float32(2, 2000, 2000)"),
    "header declaring 4 TB over 16 bytes": (_truncated_header, "truncated or corrupted"),
    "object array": (_pickled_member, "holds Python objects"),
    "stray non-array entry": (_stray_entry, "'readme.txt' is not a .npy array"),
}


@pytest.mark.parametrize("case", list(SAVE_CASES))
def test_hostile_save_file(case, saved_bytes, tmp_path, monkeypatch):
    make, phrase = SAVE_CASES[case]
    path = tmp_path / "bad.npz"
    make(saved_bytes, path)
    if case in ("member inflating past its header", "highly compressed array of the wrong shape",
                "header declaring 4 TB over 16 bytes", "config edited to batch_size 1e7",
                "config edited to n_neurons 1e8"):
        # refused from the zip directory and the .npy headers, before any data is read
        # (except __meta__) and before a network is built
        real = np.lib.format.read_array

        def read_array(handle, *args, **kwargs):
            array = real(handle, *args, **kwargs)
            if array.dtype != np.uint8:
                raise AssertionError("decompressed an array before checking it")
            return array

        monkeypatch.setattr(np.lib.format, "read_array", read_array)
        monkeypatch.setattr(np, "load", None)
        if case.startswith("config edited"):
            monkeypatch.setattr(Network, "_build", None)
    with pytest.raises(SaveFormatError) as info:
        Network.load(path)
    assert phrase in str(info.value)
    assert len(str(info.value)) < 1000


def test_declared_sizes_beyond_the_memory_limit_are_refused(saved_bytes, tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    _huge_member(saved_bytes, path)  # declares 32 MB
    monkeypatch.setenv(budget.ENV, "0.01")
    monkeypatch.setattr(np.lib.format, "read_array", None)  # nothing may be decompressed
    with pytest.raises(SaveFormatError, match=r"the arrays it declares needs about 0.032 GB"):
        Network.load(path)


def test_an_unchanged_save_still_loads(saved_bytes, tmp_path):
    path = tmp_path / "net.npz"
    path.write_bytes(saved_bytes)
    net = Network.load(path)
    assert net.tick_count == 1 and net.batch_size == 2
