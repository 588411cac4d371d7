"""Units and signs: seconds typed for milliseconds and a positive depression amplitude are
refused, naming the key, the value and what was expected; legitimate values still pass."""

import pytest

from conftest import build_pair_config, build_small_config
from spikey.core.params import ConfigError, Key, validate
from spikey.core.part import REGISTRY
from spikey.snn.network import Network

# every time constant / period of the neuron and synapse parts, in ms
MS_KEYS = {
    ("neurons", "LIF"): {"tau"},
    ("neurons", "AdaptiveLIF"): {"tau", "tau_adapt"},
    ("neurons", "ConductanceLIF"): {"tau_m", "tau_e", "tau_i"},
    ("neurons", "ModulatedLIF"): {"modulation_tau"},
    ("synapses", "STDP"): {"tau_plus", "tau_minus"},
    ("synapses", "LTP"): {"tau_plus", "tau_minus"},
    ("synapses", "MSTDP"): {"tau_plus", "tau_minus"},
    ("synapses", "MSTDPET"): {"tau_plus", "tau_minus", "tau_z"},
    ("synapses", "DASTDP"): {"tau_plus", "tau_minus", "tau_z", "dopamine_tau"},
    ("synapses", "Consolidation"): {"tau_plus", "tau_minus", "tau_short"},
    ("synapses", "TDLTP"): {"tau_plus", "tau_minus"},
    ("neurons", "LeakyRate"): {"tau"},
    ("short_term", "TsodyksMarkram"): {"tau_depression", "tau_facilitation"},
}
NEGATIVE_A_MINUS = ("STDP", "MSTDP", "MSTDPET", "DASTDP", "Consolidation", "TDLTP")


@pytest.mark.parametrize("family,name", sorted(MS_KEYS))
def test_every_time_constant_refuses_seconds(family, name):
    part = REGISTRY[family][name]
    tagged = {key.name for key in part.KEYS if getattr(key, "unit", None) == "ms"}
    assert MS_KEYS[(family, name)] <= tagged
    for key in part.KEYS:
        if key.name not in tagged:
            continue
        for slip in (0.02, 0.002, 0.001, 0.25, 0.4999):
            with pytest.raises(ConfigError) as info:
                validate((key,), {key.name: slip}, f"x ({name})")
            message = str(info.value)
            assert f"x ({name}).{key.name} = {slip!r} looks like seconds; expected milliseconds" \
                in message
            assert f"e.g. {slip * 1000:g} for {slip * 1000:g} ms" in message
        for fine in (0.5, 1.0, 20.0, 1000.0):  # milliseconds
            assert validate((key,), {key.name: fine}, "x")[key.name] == fine


def test_seconds_slip_is_caught_where_users_type_it():
    with pytest.raises(ConfigError, match=r"neurons \(LIF\)\.tau = 0\.02 looks like seconds; "
                                          r"expected milliseconds \(e\.g\. 20 for 20 ms\)"):
        Network.from_config(build_small_config(neurons={"tau": 0.02}))
    with pytest.raises(ConfigError,
                       match=r"synapses \(MSTDPET\)\.tau_z = 0\.025 looks like seconds"):
        Network.from_config(build_small_config(synapses={"tau_z": 0.025}))
    with pytest.raises(ConfigError, match=r"neurons \(LIF\)\.tau = 0\.01 looks like seconds"):
        Network.from_config(build_small_config(network={"batch_size": 2},
                                               neurons={"tau": {"per_member": [20.0, 0.01]}}))
    # what stays allowed: the "forget every step" idiom 1e-6, half a millisecond and more,
    # and refractory periods (a period, not a time constant: 0.4 ms rounds up to one step)
    for neurons in ({"refractory": 0.4}, {"tau": 1e-6}, {"tau": 0.5}, {"tau": 20.0}):
        Network.from_config(build_small_config(neurons=neurons))
    from spikey.core.params import SECONDS_SLIP

    assert SECONDS_SLIP == (1e-3, 0.5)


@pytest.mark.parametrize("rule", NEGATIVE_A_MINUS)
def test_positive_depression_amplitude_is_refused(rule):
    with pytest.raises(ConfigError) as info:
        Network.from_config(build_pair_config(rule, {"A_minus": 1.0}))
    message = str(info.value)
    assert f"synapses ({rule}).A_minus = 1.0 is out of range; expected value <= 0.0 " \
           "(a depression amplitude is negative or 0" in message
    part = REGISTRY["synapses"][rule]
    for legit in (0.0, -0.5, -1.0):  # TDLTP's 0.0 and -0.5 among them
        assert validate(part.KEYS, {"A_minus": legit}, rule)["A_minus"] == legit
    with pytest.raises(ConfigError, match=r"A_minus = 0\.5 is out of range"):
        validate(part.KEYS, {"A_minus": {"per_member": [-1.0, 0.5]}}, rule,
                 per_member=part.PER_MEMBER)


def test_a_key_note_explains_the_range_and_unit_is_opt_in():
    key = Key("gain", "float", "A gain.", 1.0, range=(0, None), note="gains amplify")
    with pytest.raises(ConfigError, match=r"x\.gain = -1\.0 is out of range; expected value >= 0 "
                                          r"\(gains amplify\)"):
        validate((key,), {"gain": -1.0}, "x")
    plain = Key("period", "float", "A period (s).", 0.02, range=(0, None))
    assert validate((plain,), {"period": 0.02}, "x")["period"] == 0.02  # seconds where declared
    from spikey.games.cartpole import CartPole

    assert 0.02 in [k.default for k in CartPole.KEYS if k.name == "tau"]  # a game's own seconds
