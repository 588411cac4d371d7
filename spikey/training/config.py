"""Experiment configs: a network, a game and a training schedule, as plain data.

An experiment config is a dict (or a YAML/JSON file) with three sections::

    network:  a network config (see spikey.snn.network), with its "parts"
    game:     {"id": gymnasium id, "kwargs": {...}}
    training: the keys of TRAINING_KEYS below

Everything is validated before anything runs; errors name the section and
key. Values can be addressed by dotted paths (``"network.neurons.tau"``) so
Tune and the genetic algorithm can vary any of them.
"""

from __future__ import annotations

import copy
import json
import os

import gymnasium as gym

from spikey.core.params import ConfigError, Key, suggest, validate

TRAINING_KEYS = (
    Key("episodes", "int", "Training episodes (per member); 0 only evaluates.", 10, range=(0, None)),
    Key("max_ticks", "int", "Cap on ticks per episode; an episode also ends when the game "
        "terminates or truncates.", 1000, range=(1, None)),
    Key("eval_episodes", "int", "Evaluation episodes after training, plasticity frozen.", 1,
        range=(0, None)),
    Key("seed", "int", "Seed of the network (member b: seed + b) and the games.", 0,
        range=(0, None)),
    Key("checkpoint_every", "int", "Save a checkpoint every this many episodes (0: only at "
        "the end).", 0, range=(0, None)),
    Key("record_ticks", "bool", "Keep one metrics row per tick and member (else only episodes).",
        True),
)

GAME_KEYS = (
    Key("id", "str", "gymnasium environment id, e.g. 'spikey/Logic-XOR-v0' or 'CartPole-v1'."),
    Key("kwargs", "dict", "Keyword arguments for the environment.", {}),
)

SECTIONS = ("network", "game", "training")


def load_config(source) -> dict:
    """Read an experiment config from a dict, a ``.json`` or a ``.yaml``/``.yml`` file."""
    if isinstance(source, dict):
        return copy.deepcopy(source)
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith((".yaml", ".yml")):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({error})") from error
    elif path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: not valid JSON ({error})") from error
    else:
        raise ConfigError(f"{path}: expected a .json, .yaml or .yml file")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with sections {list(SECTIONS)}")
    return data


def check_config(config: dict) -> dict:
    """Validate an experiment config; return it complete (defaults filled in).

    Builds the network once to validate every part's keys, and
    checks that the game id is registered, so a bad config fails before any
    worker starts.
    """
    from spikey.snn.network import Network

    config = load_config(config)
    for section in config:
        if section not in SECTIONS:
            raise ConfigError(f"config: unknown section {section!r}{suggest(section, SECTIONS)} "
                              f"Known sections: {list(SECTIONS)}")
    for section in ("network", "game"):
        if section not in config:
            raise ConfigError(f"config: missing section {section!r}")
    out = {
        "game": validate(GAME_KEYS, config["game"], "game"),
        "training": validate(TRAINING_KEYS, config.get("training"), "training"),
    }
    game_id = out["game"]["id"]
    import spikey.games  # noqa: F401  (registers spikey/ games)

    if game_id not in gym.registry:
        raise ConfigError(f"game.id = {game_id!r} is not a registered gymnasium environment"
                          f"{suggest(game_id, gym.registry)}")
    spikey.games.check_game_config(game_id, out["game"]["kwargs"])  # Spikey games' declared keys
    network = config["network"]
    if not isinstance(network, dict) or "parts" not in network:
        raise ConfigError("config.network must be a network config with a 'parts' section")
    full = Network.from_config(network).get_config()
    out["network"] = full
    return {"network": out["network"], "game": out["game"], "training": out["training"]}


def _step(node, part: str, path: str):
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    hint = suggest(part, node) if isinstance(node, dict) else ""
    raise ConfigError(f"config path {path!r}: no {part!r}{hint}")


def get_path(config: dict, path: str):
    """Value at a dotted path, e.g. ``"network.neurons.tau"``; list items by index
    (``"network.weights.matrix.0.weight"``)."""
    node = config
    for part in path.split("."):
        node = _step(node, part, path)
    return node


def set_path(config: dict, path: str, value) -> dict:
    """Set the value at a dotted path (creating a missing last key), in place; returns config."""
    parts = path.split(".")
    node = config
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            node = _step(node, part, path)
    last = parts[-1]
    if isinstance(node, list):
        if not (last.isdigit() and int(last) < len(node)):
            raise ConfigError(f"config path {path!r}: no item {last!r} in a list of {len(node)}")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(f"config path {path!r}: {parts[-2]!r} is not a section")
    return config
