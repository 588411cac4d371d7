"""Config validation, config round trip and schema."""

import copy
import json

import numpy as np
import pytest

from spikey import ConfigError, Key, Network
from spikey.core.params import REQUIRED, validate
from spikey.snn.modifier import LinearDecay
from spikey.snn.neuron import LIF
from spikey.snn.synapse import MSTDPET


def _error(config) -> str:
    with pytest.raises(ConfigError) as info:
        Network.from_config(config)
    return str(info.value)


# ---------------------------------------------------------------- unknown keys
@pytest.mark.parametrize("section, bad, owner, suggestion", [
    ("neurons", "tua", "neurons (LIF)", "tau"),
    ("neurons", "treshold", "neurons (LIF)", "threshold"),
    ("inputs", "n_input", "inputs (RateMap)", "n_inputs"),
    ("synapses", "tau_zz", "synapses (MSTDPET)", "tau_z"),
    ("weights", "max_weigth", "weights (Random)", "max_weight"),
    ("readout", "n_output", "readout (Threshold)", "n_outputs"),
    ("network", "procesing_steps", "network", "processing_steps"),
])
def test_unknown_key_names_key_owner_and_suggestion(small_config, section, bad, owner, suggestion):
    msg = _error(small_config(**{section: {bad: 1.0}}))
    assert f"unknown key {bad!r}" in msg
    assert msg.startswith(owner + ":")
    assert f"did you mean {suggestion!r}?" in msg


def test_unknown_key_without_close_match_lists_known_keys(small_config):
    msg = _error(small_config(neurons={"zzzzzz": 1}))
    assert "'zzzzzz'" in msg and "did you mean" not in msg
    for key in ("n_neurons", "tau", "threshold", "refractory"):
        assert repr(key) in msg


def test_validate_directly_reports_owner_and_fills_defaults():
    keys = (Key("a", "int", "an int", 1), Key("b", "float", "a float", REQUIRED, range=(0, 1)))
    assert validate(keys, {"b": 1}, "thing") == {"a": 1, "b": 1.0}
    with pytest.raises(ConfigError, match=r"thing: unknown key 'c'"):
        validate(keys, {"b": 0.5, "c": 2}, "thing")
    with pytest.raises(ConfigError, match=r"thing: missing required key 'b' \(a float\)"):
        validate(keys, {}, "thing")
    with pytest.raises(ConfigError, match="config must be a dict"):
        validate(keys, [1, 2], "thing")


def test_key_with_unknown_type_name_is_rejected():
    with pytest.raises(TypeError, match="unknown type 'number'"):
        Key("x", "number", "bad")


# ---------------------------------------------------------------- wrong types
@pytest.mark.parametrize("section, key, value, type_name, expected", [
    ("neurons", "tau", "fast", "str", "float"),
    ("neurons", "n_neurons", True, "bool", "int"),
    ("neurons", "n_neurons", 6.0, "float", "int"),
    ("neurons", "tau", False, "bool", "float"),
    ("network", "processing_steps", True, "bool", "int"),
    ("network", "seed", np.float64(1.0), "float64", "int"),
    ("weights", "self_loops", 1, "int", "bool"),
    ("inputs", "rate_map", "0,200", "str", "list"),
    ("network", "dtype", 32, "int", "str"),
])
def test_wrong_type(small_config, section, key, value, type_name, expected):
    msg = _error(small_config(**{section: {key: value}}))
    assert f".{key} = {value!r}" in msg or f"{key} = {value!r}" in msg
    assert f"has type {type_name}" in msg
    assert f"expected {expected}" in msg


def test_none_is_rejected_unless_nullable(small_config):
    msg = _error(small_config(neurons={"tau": None}))
    assert "neurons (LIF).tau = None is not allowed" in msg
    net = Network.from_config(small_config(inputs={"rate_map": None}))  # nullable key
    assert net.get_config()["inputs"]["rate_map"] is None


def test_numbers_are_normalised_to_the_declared_type(small_config):
    net = Network.from_config(small_config(neurons={"tau": 10, "n_neurons": np.int64(6)},
                                           network={"dt": np.float32(0.5)}))
    cfg = net.get_config()
    assert cfg["neurons"]["tau"] == 10.0 and type(cfg["neurons"]["tau"]) is float
    assert cfg["neurons"]["n_neurons"] == 6 and type(cfg["neurons"]["n_neurons"]) is int
    assert cfg["network"]["dt"] == 0.5 and type(cfg["network"]["dt"]) is float
    assert net.neurons.decay == pytest.approx(np.exp(-0.5 / 10.0), rel=1e-6)


# ---------------------------------------------------------------- ranges
@pytest.mark.parametrize("section, key, value, bound", [
    ("neurons", "tau", -1.0, "value >= 1e-06"),
    ("neurons", "tau", 0.0, "value >= 1e-06"),
    ("neurons", "refractory", -0.5, "value >= 0"),
    ("neurons", "inhibitory_fraction", 1.5, "0 <= value <= 1"),
    ("inputs", "inhibitory_fraction", -0.1, "0 <= value <= 1"),
    ("network", "processing_steps", 0, "value >= 1"),
    ("network", "batch_size", 0, "value >= 1"),
    ("network", "seed", -1, "value >= 0"),
    ("weights", "density", 1.01, "0 <= value <= 1"),
    ("synapses", "tau_z", -3.0, "value >= 1e-06"),
])
def test_out_of_range(small_config, section, key, value, bound):
    msg = _error(small_config(**{section: {key: value}}))
    assert f"{key} = {value!r} is out of range" in msg
    assert f"expected {bound}" in msg


def test_range_bounds_are_inclusive(small_config):
    net = Network.from_config(small_config(neurons={"inhibitory_fraction": 1.0, "refractory": 0.0},
                                           weights={"density": 0.0}))
    assert np.all(net.neurons.polarity == -1.0)
    assert not net.weights.mask.any()


@pytest.mark.parametrize("key", ["tau", "threshold"])
def test_nan_is_out_of_range(small_config, key):
    _error(small_config(neurons={key: float("nan")}))


# ---------------------------------------------------------------- missing / unknown parts
def test_missing_required_key(small_config):
    cfg = small_config()
    cfg["neurons"] = {"tau": 20.0}
    msg = _error(cfg)
    assert msg.startswith("neurons (LIF): missing required key 'n_neurons'")
    cfg = small_config()
    del cfg["inputs"]["n_inputs"]
    assert "inputs (RateMap): missing required key 'n_inputs'" in _error(cfg)


def test_missing_section_of_part_with_required_keys(small_config):
    cfg = small_config()
    del cfg["neurons"]
    assert "neurons (LIF): missing required key 'n_neurons'" in _error(cfg)


def test_missing_required_slot(small_config):
    msg = _error(small_config(parts={"readout": None}, readout=None))
    assert "missing required slot 'readout'" in msg


def test_missing_parts_section(small_config):
    cfg = small_config()
    del cfg["parts"]
    assert "missing 'parts'" in _error(cfg)


def test_unknown_part_name(small_config):
    msg = _error(small_config(parts={"neurons": "LIFF"}))
    assert "parts.neurons" in msg and "'LIFF'" in msg and "did you mean 'LIF'?" in msg
    assert "Known: [" in msg and "'LIF'" in msg.split("Known: ")[1]


@pytest.mark.parametrize("slot, base", [("neurons", "Neuron"), ("synapses", "Synapse"),
                                        ("readout", "Readout")])
def test_abstract_base_is_not_a_selectable_part(small_config, slot, base):
    msg = _error(small_config(parts={slot: base}))
    assert f"unknown {slot} part {base!r}" in msg


def test_part_of_wrong_family_is_unknown(small_config):
    msg = _error(small_config(parts={"neurons": "STDP"}))
    assert "unknown neurons part 'STDP'" in msg


def test_unknown_slot_in_parts(small_config):
    cfg = small_config()
    cfg["parts"]["neuron"] = "LIF"
    msg = _error(cfg)
    assert "unknown slot 'neuron'" in msg and "did you mean 'neurons'?" in msg


def test_unknown_config_section(small_config):
    cfg = small_config()
    cfg["neuron"] = {"tau": 10.0}
    msg = _error(cfg)
    assert "unknown section 'neuron'" in msg and "did you mean 'neurons'?" in msg
    cfg = small_config()
    cfg["netwrk"] = {}
    assert "did you mean 'network'?" in _error(cfg)


def test_config_for_absent_slot_is_rejected(small_config):
    cfg = small_config(parts={"synapses": None})
    cfg["synapses"] = {"learning_rate": 1.0}
    assert "config.synapses is given but parts has no 'synapses' part" in _error(cfg)


def test_reward_mode_needs_rewarder(small_config):
    msg = _error(small_config(parts={"rewarder": None}, rewarder=None, network={"reward_mode": "step"}))
    assert "reward_mode = 'step' needs a 'rewarder' part" in msg
    Network.from_config(small_config(parts={"rewarder": None}, rewarder=None,
                                     network={"reward_mode": "none"}))


@pytest.mark.parametrize("section, key, value, allowed", [
    ("network", "dtype", "float16", "['float32', 'float64']"),
    ("network", "reward_mode", "always", "['tick', 'step', 'none']"),
    ("weights", "distribution", "gauss", "['uniform', 'normal', 'lognormal']"),
    ("rewarder", "source", "env", "['expected', 'game']"),
])
def test_unknown_choice(small_config, section, key, value, allowed):
    msg = _error(small_config(**{section: {key: value}}))
    assert f"{key} = {value!r} is not allowed; expected one of {allowed}" in msg


def test_modifier_config_errors(small_config):
    mod = {"part": "LinearDecay", "path": "synapses.learning_rate", "start": 1.0, "end": 0.0}
    msg = _error(small_config(modifiers=[mod]))  # no 'ticks'
    assert "modifiers[0] (LinearDecay): missing required key 'ticks'" in msg
    msg = _error(small_config(modifiers=[{**mod, "ticks": 3, "part": "LinearDecy"}]))
    assert "did you mean 'LinearDecay'?" in msg


# ---------------------------------------------------------------- round trip
def _modifier():
    return {"part": "LinearDecay", "path": "synapses.learning_rate", "start": 1.0, "end": 0.1,
            "ticks": 5}


def test_config_round_trip(small_config):
    cfg = small_config(modifiers=[_modifier()], neurons={"tau": 15})
    original = copy.deepcopy(cfg)
    net = Network.from_config(cfg)
    assert cfg == original, "from_config must not mutate its argument"
    filled = net.get_config()
    # every declared key is present, user values kept, defaults filled
    assert list(filled["neurons"]) == [k.name for k in LIF.KEYS]
    assert list(filled["synapses"]) == [k.name for k in MSTDPET.KEYS]
    assert filled["neurons"]["tau"] == 15.0 and filled["neurons"]["threshold"] == 16.0
    assert filled["inputs"]["rate_map"] == [0.0, 200.0]
    assert filled["network"]["processing_steps"] == 20
    assert filled["modifiers"] == [{**_modifier(), "clock": "network"}]  # default filled in
    assert filled["parts"] == cfg["parts"]
    again = Network.from_config(filled).get_config()
    assert again == filled
    # get_config returns a copy
    filled["neurons"]["tau"] = 99.0
    assert net.get_config()["neurons"]["tau"] == 15.0


def test_config_is_json_plain_data(small_config):
    net = Network.from_config(small_config(modifiers=[_modifier()],
                                           weights={"mask": np.ones((14, 6), dtype=bool)}))
    text = json.dumps(net.get_config())
    rebuilt = Network.from_config(json.loads(text))
    assert rebuilt.get_config() == net.get_config()
    assert np.array_equal(rebuilt.weights.matrix, net.weights.matrix)


def test_example_config_round_trip():
    from examples.florian_xor import xor_config

    net = Network.from_config(xor_config(batch_size=2, seed=5))
    cfg = net.get_config()
    assert json.loads(json.dumps(cfg)) == cfg
    rebuilt = Network.from_config(cfg)
    assert rebuilt.get_config() == cfg
    assert np.array_equal(rebuilt.weights.matrix, net.weights.matrix)
    assert net.weights.matrix.shape == (2, 121, 61)


def test_parts_given_as_classes(small_config):
    from spikey.snn.input import RateMap
    from spikey.snn.readout import Threshold
    from spikey.snn.weight import Random

    cfg = small_config(parts=None, synapses=None, rewarder=None, network={"reward_mode": "none"})
    net = Network({"inputs": RateMap, "neurons": LIF, "weights": Random, "readout": Threshold}, cfg)
    out = net.get_config()
    assert out["parts"] == {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                            "readout": "Threshold"}
    assert Network.from_config(out).get_config() == out


# ---------------------------------------------------------------- schema
def test_schema_lists_every_key_with_description(small_config, capsys):
    net = Network.from_config(small_config(modifiers=[_modifier()]))
    rows = net.get_schema()
    pairs = {(r["section"], r["key"]) for r in rows}
    assert ("neurons", "tau") in pairs
    present = {slot: part for slot, part in net.parts.items() if part is not None}
    for slot, part in present.items():
        for key in type(part).KEYS:
            assert (slot, key.name) in pairs
    for key in ("processing_steps", "batch_size", "seed", "member_seeds", "dt", "dtype",
                "reward_mode", "kernels", "threads"):
        assert ("network", key) in pairs
    assert ("modifiers[0]", "path") in pairs and ("modifiers[0]", "ticks") in pairs
    assert len(rows) == len(pairs) == (
        9 + sum(len(type(p).KEYS) for p in present.values()) + len(LinearDecay.KEYS))
    assert all(isinstance(r["description"], str) and r["description"] for r in rows)
    tau = next(r for r in rows if (r["section"], r["key"]) == ("neurons", "tau"))
    assert tau["part"] == "LIF" and tau["default"] == 20.0 and tau["range"] == [1e-6, None]
    n = next(r for r in rows if (r["section"], r["key"]) == ("neurons", "n_neurons"))
    assert n["default"] == "REQUIRED"
    text = net.print_schema()
    assert "tau" in text and "Membrane time constant (ms)." in text
    # a header, one block per part, required keys marked
    assert text.splitlines()[0].startswith("Keys of Network(")
    assert "(* = required" in text and "\nneurons LIF:" in text
    assert any(line.startswith("* n_neurons ") for line in text.splitlines())
    assert any(line.startswith("  tau ") for line in text.splitlines())
    assert capsys.readouterr().out.strip() == text.strip()


def test_static_schema_from_names():
    rows = Network.schema({"neurons": "LIF", "synapses": "STDP"})
    assert {(r["section"], r["part"]) for r in rows} == {("network", "Network"),
                                                        ("neurons", "LIF"), ("synapses", "STDP")}
    with pytest.raises(ConfigError, match="did you mean 'LIF'"):
        Network.schema({"neurons": "LFI"})


# ---------------------------------------------------------------- finite numbers
@pytest.mark.parametrize("section, key, value", [
    ("neurons", "tau", float("inf")),
    ("neurons", "tau", float("-inf")),
    ("neurons", "threshold", float("inf")),
    ("network", "dt", float("inf")),
    ("weights", "high", float("inf")),
    ("weights", "max_weight", float("inf")),
    ("synapses", "tau_z", float("inf")),
])
def test_infinite_numbers_are_refused(small_config, section, key, value):
    config = small_config(**{section: {key: value}})
    message = _error(config)
    assert f"{key} = {value!r} is not a finite number" in message


def test_infinity_inside_a_list_key_is_refused(small_config):
    config = small_config(inputs={"rate_map": [0.0, float("inf")]})
    assert "rate_map = [0.0, inf] contains inf; expected finite numbers" in _error(config)


def test_a_key_may_allow_infinity():
    keys = (Key("bound", "float", "A bound.", 1.0, finite=False), Key("x", "float", "X.", 1.0))
    assert validate(keys, {"bound": float("inf")}, "part")["bound"] == float("inf")
    with pytest.raises(ConfigError, match="nan is not a number"):
        validate(keys, {"bound": float("nan")}, "part")
    with pytest.raises(ConfigError, match="x = -inf is not a finite number"):
        validate(keys, {"x": float("-inf")}, "part")


@pytest.mark.parametrize("matrix", [
    lambda rng, shape: np.full(shape, np.inf),  # a callable: checked after it runs
    [{"pre": [0, 14], "post": [0, 6], "weight": float("nan")}],  # a block
])
def test_manual_weights_refuse_non_finite_matrices(small_config, matrix):
    config = small_config(parts={"weights": "Manual"}, weights=None)
    config["weights"] = {"matrix": matrix}
    assert "non-finite entries (first: [0, 0] = " in _error(config)


def test_error_messages_show_long_values_cut_short(small_config):
    config = small_config(neurons={"tau": list(range(100_000))})
    message = _error(config)
    assert len(message) < 500
    assert "(list of 100000 items)" in message


def test_per_member_set_checks_plain_floats_at_once_with_the_same_outcome(small_config):
    """Part.set with per-member plain floats (a schedule's values every tick) checks them as
    an array: the same stored values and overrides as the per-value checks, and a value the
    key refuses still gets the per-value message naming it."""
    cfg = small_config(network={"batch_size": 3})
    fast, slow = Network.from_config(cfg), Network.from_config(cfg)
    fast.synapses.set("learning_rate", {"per_member": [0.5, 0.25, 1.0]})
    slow.synapses.set("learning_rate", {"per_member": [0.5, 0.25, 1]})  # an int: per value
    for net in (fast, slow):
        assert net.synapses.learning_rate.dtype == np.float64
        np.testing.assert_array_equal(net.synapses.learning_rate, [0.5, 0.25, 1.0])
    assert fast.synapses.overrides["learning_rate"] == {"per_member": [0.5, 0.25, 1.0]}
    assert fast.synapses.overrides["learning_rate"] == slow.synapses.overrides["learning_rate"]
    key = next(k for k in fast.synapses.KEYS if k.name == "learning_rate")
    for bad, message in [(-0.5, "out of range"), (float("nan"), "nan is not a number"),
                         (float("inf"), "not a finite number")]:
        if key.range is None and message == "out of range":
            continue
        with pytest.raises(ConfigError, match=message):
            fast.synapses.set("learning_rate", {"per_member": [0.5, bad, 1.0]})
    with pytest.raises(ConfigError, match="one per member"):
        fast.synapses.set("learning_rate", {"per_member": [0.5, 0.25]})
    tau = next(k for k in fast.neurons.KEYS if k.name == "tau")
    if tau.unit == "ms" and "tau" in fast.neurons.PER_MEMBER:
        with pytest.raises(ConfigError, match="looks like seconds"):
            fast.neurons.set("tau", {"per_member": [20.0, 0.02, 20.0]})
