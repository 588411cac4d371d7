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

from spikey.core.params import ConfigError, Key, show, suggest, validate

TRAINING_KEYS = (
    Key("episodes", "int", "Training episodes (per member); 0 only evaluates.", 10, range=(0, None)),
    Key("max_ticks", "int", "Cap on ticks per episode; an episode also ends when the game "
        "terminates or truncates.", 1000, range=(1, None)),
    Key("eval_episodes", "int", "Evaluation episodes after training, plasticity frozen.", 1,
        range=(0, None)),
    Key("seed", "int", "Run seed: member b's network is seeded seed + b (network.network.seed "
        "is set to it; a different explicit value is refused) and its games from that "
        "member seed, evaluation games from a separate stream.", 0, range=(0, None)),
    Key("checkpoint_every", "int", "Save a checkpoint every this many episodes (0: only at "
        "the end).", 0, range=(0, None)),
    Key("record_ticks", "bool", "Record one metrics row per tick and member (else only "
        "episodes), streamed to metrics/ticks.csv in chunks.", True),
)

GAME_KEYS = (
    Key("id", "str", "gymnasium environment id, e.g. 'spikey/Logic-XOR-v0' or 'CartPole-v1'."),
    Key("kwargs", "dict", "Keyword arguments for the environment.", {}),
)

SECTIONS = ("network", "game", "training")


#: Nodes that YAML aliases may add by repetition (``*name`` repeats the anchored node).
ALIAS_EXPANSION_LIMIT = 100_000


def _unique_pairs(where: str):
    """A json ``object_pairs_hook`` refusing duplicate keys."""
    def hook(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise ConfigError(f"{where}: duplicate key {show(key)} in a JSON object; each "
                                  "key may appear once (the later value would silently win)")
            out[key] = value
        return out
    return hook


def parse_json(text: str, where: str):
    """Parse JSON text, refusing duplicate keys and nesting too deep to read.

    Parameters
    ----------
    text : str
        The JSON document.
    where : str
        Name for error messages (the file).

    Returns
    -------
    object
        The parsed data.

    Raises
    ------
    ConfigError
        On invalid JSON, a duplicate key in an object, or nesting beyond Python's recursion limit.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs(where))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{where}: not valid JSON ({error})") from error
    except RecursionError:
        raise ConfigError(f"{where}: JSON nested too deeply to read") from None


def read_json(path):
    """Read a JSON file through :func:`parse_json` (duplicate keys refused).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    object
        The parsed data.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        return parse_json(handle.read(), path)


def _yaml_loader():
    """A SafeLoader subclass that checks the composed node graph before constructing it."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """SafeLoader refusing duplicate keys, self-referencing aliases and alias bombs."""

        where = "config"

        def get_single_node(self):
            node = super().get_single_node()
            problem = None if node is None else _check_yaml_graph(node, self.where)
            if problem is not None:
                # raised here, not where the graph is a local: a traceback showing frame
                # arguments would otherwise repr the whole (exponentially large) graph
                raise ConfigError(problem)
            return node

    return StrictLoader


def _check_yaml_graph(root, where: str) -> str | None:
    """What is wrong with a composed YAML document: duplicate mapping keys, recursive
    aliases or aliases that expand too far (None when nothing is).

    PyYAML builds an aliased node once and shares it, so a small document can
    stand for an exponentially large one (``a: &a [x, x]``, ``b: &b [*a, *a]``,
    ...) that anything walking the data (validation, copies, error messages)
    then expands. The expanded size is counted here on the node graph, each
    distinct node once, before any Python object is made.
    """
    import yaml

    merge = "tag:yaml.org,2002:merge"
    sizes = {}  # id(node) -> nodes in its expansion
    on_path = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if isinstance(node, yaml.ScalarNode):
            sizes[nid] = 1
            continue
        pairs = node.value if isinstance(node, yaml.MappingNode) else ()
        children = [n for pair in pairs for n in pair] if pairs else list(node.value)
        if done:
            on_path.discard(nid)
            sizes[nid] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if nid in sizes:
            continue
        if nid in on_path:
            return (f"{where}: a YAML alias refers to a node that contains it "
                    f"(line {node.start_mark.line + 1}); recursive data is not allowed")
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key, _ in pairs:
                if not isinstance(key, yaml.ScalarNode) or key.tag == merge:
                    continue
                if (key.tag, key.value) in seen:
                    return (f"{where}: duplicate key {show(key.value)} (lines "
                            f"{seen[(key.tag, key.value)]} and {key.start_mark.line + 1}); each "
                            "key may appear once in a mapping (the later value would silently win)")
                seen[(key.tag, key.value)] = key.start_mark.line + 1
        on_path.add(nid)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    expanded, distinct = sizes[id(root)], len(sizes)
    if expanded - distinct > ALIAS_EXPANSION_LIMIT:
        return (f"{where}: YAML aliases expand {distinct} nodes to {expanded}, more than "
                f"{ALIAS_EXPANSION_LIMIT} repeated nodes; refusing (write the data out, or use "
                "fewer aliases)")
    return None


def parse_yaml(text: str, where: str):
    """Parse YAML text safely, refusing duplicate keys and alias bombs.

    Parameters
    ----------
    text : str
        The YAML document.
    where : str
        Name for error messages (the file).

    Returns
    -------
    object
        The parsed data (plain Python types only, as ``yaml.safe_load``).

    Raises
    ------
    ConfigError
        On invalid YAML, a duplicate key in a mapping, a recursive alias, aliases
        repeating more than :data:`ALIAS_EXPANSION_LIMIT` nodes, or nesting too deep.
    """
    import yaml

    loader = _yaml_loader()
    loader.where = where
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: not valid YAML ({error})") from error
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply to read") from None


def load_config(source) -> dict:
    """Read an experiment config from a dict, a ``.json`` or a ``.yaml``/``.yml`` file.

    Files go through :func:`parse_json` / :func:`parse_yaml`: a key given twice
    in one mapping, and YAML aliases that expand past
    :data:`ALIAS_EXPANSION_LIMIT` nodes, raise :class:`ConfigError`.
    """
    if isinstance(source, dict):
        return copy.deepcopy(source)
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith((".yaml", ".yml")):
        data = parse_yaml(text, path)
    elif path.endswith(".json"):
        data = parse_json(text, path)
    else:
        raise ConfigError(f"{path}: expected a .json, .yaml or .yml file")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with sections {list(SECTIONS)}")
    return data


def seed_network(config: dict) -> dict:
    """Seed an experiment config's network by the run seed, in place.

    ``training.seed`` (default 0) is the run seed: it becomes
    ``network.network.seed``, so member ``b`` is seeded ``training.seed + b``.
    A config that sets ``network.network.seed`` to another value is refused.
    Malformed sections are left for :func:`~spikey.training.config.check_config`
    to report.

    Parameters
    ----------
    config : dict
        Experiment config (as loaded; changed in place).

    Returns
    -------
    dict
        ``config``.

    Raises
    ------
    ConfigError
        When ``network.network.seed`` differs from ``training.seed``.
    """
    training = config.get("training")
    default = next(k.default for k in TRAINING_KEYS if k.name == "seed")
    seed = training.get("seed", default) if isinstance(training, dict) else default
    network = config.get("network")
    if not isinstance(network, dict) or not isinstance(seed, int) or isinstance(seed, bool):
        return config
    section = network.setdefault("network", {})
    if not isinstance(section, dict):
        return config
    given = section.get("seed", seed)
    if given != seed:
        where = "training.seed" if isinstance(training, dict) and "seed" in training else \
            "training.seed (default)"
        raise ConfigError(
            f"network.network.seed = {given!r} but {where} = {seed}; training.seed is the run "
            "seed (member b's network is seeded training.seed + b, its games from that): set "
            f"training.seed = {given!r} and leave network.network.seed out (or equal)")
    section["seed"] = seed
    return config


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
    seed_network(config)  # training.seed is the run seed; it seeds the network
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
