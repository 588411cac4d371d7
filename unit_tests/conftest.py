"""Shared helpers for the spikey unit tests.

``small_config(**overrides)`` builds a small plain-data network config; each
override replaces a section, or, when both are dicts, updates it key by key
(``small_config(network={"batch_size": 4})`` keeps the other network keys).
An override of ``None`` removes the section.
"""

from __future__ import annotations

import copy
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import spikey  # noqa: E402


def build_small_config(**overrides) -> dict:
    """A small, fast, fully plastic network config (plain data)."""
    config = {
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                  "synapses": "MSTDPET", "readout": "Threshold", "rewarder": "MatchExpected"},
        "network": {"processing_steps": 20, "batch_size": 1, "seed": 0, "dt": 1.0,
                    "reward_mode": "tick"},
        "inputs": {"n_inputs": 8, "n_dims": 2, "rate_map": [0.0, 200.0]},
        "neurons": {"n_neurons": 6},
        "weights": {"low": 0.0, "high": 3.0, "density": 1.0},
        "synapses": {},
        "readout": {"n_outputs": 1},
        "rewarder": {},
    }
    for section, value in overrides.items():
        if value is None:
            config.pop(section, None)
        elif isinstance(value, dict) and isinstance(config.get(section), dict):
            config[section] = {**config[section], **copy.deepcopy(value)}
        else:
            config[section] = copy.deepcopy(value)
    return config


def build_silent_config(batch_size=1, dtype="float64", dt=1.0, **neurons) -> dict:
    """Inputs that never fire, no learning: for driving ``net.neurons`` by hand."""
    return build_small_config(
        parts={"synapses": None, "rewarder": None},
        network={"batch_size": batch_size, "dtype": dtype, "dt": dt, "reward_mode": "none"},
        inputs={"rate_map": [0.0, 0.0]},
        neurons=neurons,
        synapses=None,
        rewarder=None,
    )


def build_pair_config(synapse="STDP", synapses=None, weight=2.5, n_inputs=1, dtype="float64",
                      dt=1.0, inputs=None, weights=None, reward_mode="none") -> dict:
    """``n_inputs`` silent inputs, one body neuron, Manual weights input -> neuron = ``weight``.

    Used to drive ``net.synapses.step`` with hand-made spike arrays.
    """
    matrix = [[float(weight)] for _ in range(n_inputs)] + [[0.0]]
    return {
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Manual",
                  "synapses": synapse, "readout": "Threshold", "rewarder": "MatchExpected"},
        "network": {"processing_steps": 10, "dtype": dtype, "dt": dt, "reward_mode": reward_mode},
        "inputs": {"n_inputs": n_inputs, "n_dims": 1, "rate_map": [0.0, 0.0], **(inputs or {})},
        "neurons": {"n_neurons": 1},
        "weights": {"matrix": matrix, "max_weight": 5.0, **(weights or {})},
        "synapses": dict(synapses or {}),
        "readout": {"n_outputs": 1},
        "rewarder": {},
    }


def drive_synapses(net, pre_steps, post_steps, n_steps, pre_row=0):
    """Call ``net.synapses.step`` ``n_steps`` times with spikes at the given step indices.

    ``pre_steps``/``post_steps`` are step indices (0-based) at which presynaptic row
    ``pre_row`` / body neuron 0 spike, for every batch member.
    """
    B = net.batch_size
    P = net.n_inputs + net.n_neurons
    pre_steps, post_steps = set(pre_steps), set(post_steps)
    for t in range(n_steps):
        pre = np.zeros((B, P), dtype=bool)
        post = np.zeros((B, net.n_neurons), dtype=bool)
        pre[:, pre_row] = t in pre_steps
        post[:, 0] = t in post_steps
        net.synapses.step(pre, post, net.weights)


def reference_zeta(pre_times, post_times, A_plus, A_minus, tau_plus, tau_minus, dt):
    """All-to-all pair-based STDP sum, independent of the trace implementation.

    Every pair (pre at ``tp``, post at ``tq``) with ``tp <= tq`` adds
    ``A_plus * exp(-(tq - tp) dt / tau_plus)``; with ``tq <= tp`` it adds
    ``A_minus * exp(-(tp - tq) dt / tau_minus)`` (simultaneous pairs add both).
    Returns a list of ``(event_step, zeta)`` where ``event_step`` is the later spike.
    """
    events = []
    for tp in pre_times:
        for tq in post_times:
            if tp <= tq:
                events.append((tq, A_plus * np.exp(-(tq - tp) * dt / tau_plus)))
            if tq <= tp:
                events.append((tp, A_minus * np.exp(-(tp - tq) * dt / tau_minus)))
    return events


def make_net(**overrides):
    return spikey.Network.from_config(build_small_config(**overrides))


@pytest.fixture
def small_config():
    """``small_config(**overrides) -> dict`` (see module docstring)."""
    return build_small_config


@pytest.fixture
def silent_config():
    return build_silent_config


@pytest.fixture
def pair_config():
    return build_pair_config
