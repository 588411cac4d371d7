"""Saving and loading networks.

Format (version 1): one ``.npz`` file holding every state array under its
``'slot.attribute'`` name plus ``__meta__``, a JSON document with the format
name and version, the network config, counters and each random generator's
state. The file is written to a temporary name in the same folder, flushed,
and renamed over the target, so a crash never leaves a half-written file.
Loading checks everything before it returns a network, and raises
:class:`SaveFormatError` on a truncated, corrupted or mismatched file.
"""

from __future__ import annotations

import json
import os

import numpy as np

from spikey.core.tempfiles import make_temp

FORMAT = "spikey-network"
VERSION = 1


class SaveFormatError(ValueError):
    """A saved network could not be read."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _plain_config(network) -> dict:
    config = network.get_config()
    weights = config.get("weights", {})
    if callable(weights.get("matrix")):
        # A callable cannot be stored as data; the generated arrays are saved
        # below and overwrite whatever the rebuilt part draws.
        weights["matrix"] = network.parts["weights"].matrix[0].tolist()
        weights["mask"] = network.parts["weights"].mask[0].tolist()
    return config


def save_network(network, path) -> None:
    """Write ``network`` to ``path`` atomically (see module docstring)."""
    path = os.fspath(path)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": _plain_config(network),
        "counters": {"tick_count": network.tick_count, "step_count": network.step_count,
                     "training": network.training},
        # parameters changed at run time (modifiers, set()) and the last tick's action
        "overrides": {slot: part.overrides for slot, part in network.all_parts().items()
                      if part.overrides},
        "last_action": None if network.last_action is None else {
            "value": np.asarray(network.last_action).tolist(),
            "dtype": str(np.asarray(network.last_action).dtype)},
        "generators": {name: [g.bit_generator.state for g in blocks.generators]
                       for name, blocks in network.random_blocks().items()},
    }
    try:
        meta_bytes = json.dumps(meta).encode()
    except TypeError as error:
        raise SaveFormatError(f"network config is not plain data and cannot be saved: {error}") from error
    arrays = dict(network.state_arrays())
    arrays["__meta__"] = np.frombuffer(meta_bytes, dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    # named after this process; stale ones left by killed saves are removed first
    fd, tmp = make_temp(folder, ".spikey-", ".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it normal permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_network(path):
    """Read a network written by :func:`save_network`, bit-exactly."""
    from spikey.snn.network import Network

    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as error:  # noqa: BLE001 - any failure to parse is a bad file
        raise SaveFormatError(f"{path}: not a readable spikey network file "
                              f"({type(error).__name__}: {error})") from error
    if "__meta__" not in arrays:
        raise SaveFormatError(f"{path}: no '__meta__' entry; not a spikey network file")
    try:
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SaveFormatError(f"{path}: corrupted '__meta__' entry ({error})") from error
    if meta.get("format") != FORMAT:
        raise SaveFormatError(f"{path}: format {meta.get('format')!r}; expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise SaveFormatError(
            f"{path}: format version {meta.get('version')!r}; this spikey reads version {VERSION}"
        )
    try:
        network = Network.from_config(meta["config"])
        parts = network.all_parts()
        for slot, values in meta.get("overrides", {}).items():
            for key, value in values.items():
                parts[slot].set(key, value)
    except (KeyError, TypeError, ValueError) as error:
        raise SaveFormatError(f"{path}: the saved config does not build a network ({error})") from error
    targets = network.state_arrays()
    missing = sorted(set(targets) - set(arrays))
    extra = sorted(set(arrays) - set(targets))
    if missing or extra:
        raise SaveFormatError(f"{path}: arrays do not match the config (missing {missing}, unexpected {extra})")
    for name, target in targets.items():
        source = arrays[name]
        if name.endswith(".position") and source.shape == () and target.ndim == 1:
            # saves before per-member positions kept one position for all members
            source = arrays[name] = np.broadcast_to(source, target.shape).astype(target.dtype)
        if source.shape != target.shape or source.dtype != target.dtype:
            raise SaveFormatError(
                f"{path}: array {name!r} is {source.dtype}{source.shape}; expected "
                f"{target.dtype}{target.shape}"
            )
    blocks = network.random_blocks()
    generators = meta.get("generators", {})
    if set(generators) != set(blocks):
        raise SaveFormatError(f"{path}: random streams {sorted(generators)}; expected {sorted(blocks)}")
    # Everything checked: now fill the new network.
    for name, target in targets.items():
        target[...] = arrays[name]
    for name, stream in blocks.items():
        for generator, state in zip(stream.generators, generators[name]):
            generator.bit_generator.state = state
        stream.resync()
    counters = meta["counters"]
    network.tick_count = counters["tick_count"]
    network.step_count = counters["step_count"]
    network.training = counters["training"]
    action = meta.get("last_action")
    if action is not None:
        network.last_action = np.asarray(action["value"], dtype=action["dtype"])
    return network
