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
import math
import os

import numpy as np
from numpy.lib import format as npy_format

from spikey.core.params import ConfigError, show
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


def _bad(path, text):
    return SaveFormatError(f"{path}: {text}")


def _read_directory(archive, path) -> dict:
    """``name -> ZipInfo`` of the archive's ``.npy`` members (names without ``.npy``)."""
    infos = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _bad(path, f"entry {show(info.filename)} is not a .npy array; not a spikey "
                             "network file")
        name = info.filename[:-4]
        if name in infos:
            raise _bad(path, f"entry {show(name)} appears twice")
        infos[name] = info
    return infos


def _read_header(archive, info, path) -> tuple:
    """``(shape, dtype)`` of one ``.npy`` member from its header, without reading its data.

    The member's size in the zip directory must equal the header's length plus
    the data the header declares, so a member cannot inflate past what its
    header promises.
    """
    name = info.filename[:-4]
    try:
        with archive.open(info) as handle:
            version = npy_format.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            offset = handle.tell()
    except Exception as error:  # noqa: BLE001 - any failure to parse is a bad file
        raise _bad(path, f"array {show(name)} has an unreadable header "
                         f"({type(error).__name__}: {show(str(error))})") from error
    if dtype.hasobject:
        raise _bad(path, f"array {show(name)} holds Python objects ({dtype}); not a spikey "
                         "network file")
    data = math.prod(shape) * dtype.itemsize
    if info.file_size != offset + data:
        raise _bad(path, f"array {show(name)} declares {dtype}{shape} ({data} bytes) but its zip "
                         f"entry holds {info.file_size - offset} bytes of data; the file is "
                         "truncated or corrupted")
    return tuple(shape), dtype


def _read_array(archive, info, path) -> np.ndarray:
    try:
        with archive.open(info) as handle:
            return npy_format.read_array(handle, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - any failure to parse is a bad file
        raise _bad(path, f"array {show(info.filename[:-4])} is unreadable "
                         f"({type(error).__name__}: {show(str(error))})") from error


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_meta(meta, path) -> None:
    """Refuse a ``__meta__`` document that lacks or mistypes what loading reads."""
    if not isinstance(meta, dict):
        raise _bad(path, f"'__meta__' is a JSON {type(meta).__name__}; expected an object "
                         "with format, version, config and counters")
    if meta.get("format") != FORMAT:
        raise _bad(path, f"format {show(meta.get('format'))}; expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise _bad(path, f"format version {show(meta.get('version'))}; this spikey reads "
                         f"version {VERSION}")
    for key, kind in (("config", dict), ("counters", dict)):
        if not isinstance(meta.get(key), kind):
            raise _bad(path, f"'__meta__' has no {key!r} object (got {show(meta.get(key))})")
    counters = meta["counters"]
    for key in ("tick_count", "step_count"):
        if not _is_count(counters.get(key)):
            raise _bad(path, f"counters.{key} = {show(counters.get(key))}; expected an integer >= 0")
    if not isinstance(counters.get("training"), bool):
        raise _bad(path, f"counters.training = {show(counters.get('training'))}; expected true "
                         "or false")
    overrides = meta.get("overrides", {})
    if not (isinstance(overrides, dict) and all(isinstance(v, dict) for v in overrides.values())):
        raise _bad(path, f"overrides = {show(overrides)}; expected slot -> {{key: value}}")
    if not isinstance(meta.get("generators", {}), dict):
        raise _bad(path, f"generators = {show(meta.get('generators'))}; expected stream -> "
                         "list of generator states")
    action = meta.get("last_action")
    if action is not None:
        ok = isinstance(action, dict) and set(action) == {"value", "dtype"}
        try:
            ok = ok and np.dtype(action["dtype"]).kind in "biuf"
        except TypeError:
            ok = False
        if not ok:
            raise _bad(path, f"last_action = {show(action)}; expected null or "
                             "{'value': ..., 'dtype': a numeric dtype}")


def _check_sizes(meta, headers, path) -> None:
    """Compare the record arrays' headers with the sizes the saved config declares.

    ``network.tick_spikes`` is ``(batch_size, processing_steps, n_neurons)``:
    a config edited to a larger network is refused here, before the network
    (and its arrays) is built.
    """
    config = meta["config"]
    network, neurons = config.get("network"), config.get("neurons")
    if not (isinstance(network, dict) and isinstance(neurons, dict)):
        return  # building reports the bad config
    declared = (network.get("batch_size"), network.get("processing_steps"),
                neurons.get("n_neurons"))
    found = headers.get("network.tick_spikes", (None,))[0]
    if found is not None and all(_is_count(v) for v in declared) and tuple(declared) != found:
        raise _bad(path, f"the config declares (batch_size, processing_steps, n_neurons) = "
                         f"{tuple(declared)} but array 'network.tick_spikes' has shape {found}; "
                         "the config or the arrays were changed")


def _check_generators(meta, blocks, path) -> None:
    """Each stream has one valid generator state per member."""
    generators = meta.get("generators", {})
    if set(generators) != set(blocks):
        raise _bad(path, f"random streams {show(sorted(generators))}; expected {sorted(blocks)}")
    for name, stream in blocks.items():
        states = generators[name]
        if not isinstance(states, list) or len(states) != len(stream.generators):
            count = len(states) if isinstance(states, list) else show(states)
            raise _bad(path, f"random stream {name!r} has {count} generator states; expected "
                             f"{len(stream.generators)} (one per member)")
        for b, (generator, state) in enumerate(zip(stream.generators, states)):
            kind = type(generator.bit_generator).__name__
            inner = state.get("state") if isinstance(state, dict) else None
            ok = (isinstance(state, dict)
                  and set(state) == {"bit_generator", "state", "has_uint32", "uinteger"}
                  and state["bit_generator"] == kind and isinstance(inner, dict)
                  and set(inner) == {"state", "inc"}
                  and all(_is_count(inner[k]) and inner[k] < 2**128 for k in inner)
                  and inner["inc"] % 2 == 1
                  and state["has_uint32"] in (0, 1) and not isinstance(state["has_uint32"], bool)
                  and _is_count(state["uinteger"]) and state["uinteger"] < 2**32)
            if ok:
                try:
                    type(generator.bit_generator)().state = state
                except (TypeError, ValueError, OverflowError):
                    ok = False
            if not ok:
                raise _bad(path, f"random stream {name!r} member {b}: invalid {kind} state "
                                 f"{show(state)}")


def load_network(path):
    """Read a network written by :func:`save_network`, bit-exactly.

    Everything the file declares is checked before it is trusted: the zip
    directory and each array's ``.npy`` header (shapes, dtypes, sizes) against
    the memory limit and the saved config, which must build a network within
    :mod:`spikey.core.budget`; arrays are decompressed only after their shapes
    match the rebuilt network's. Then the values are checked (finite weights,
    random-stream positions in range, one valid generator state per member).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.

    Returns
    -------
    Network
        The network as it was saved.

    Raises
    ------
    SaveFormatError
        Naming what is wrong with the file.
    """
    import zipfile

    from spikey.core import budget
    from spikey.snn.network import Network

    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as error:  # noqa: BLE001 - any failure to parse is a bad file
        raise _bad(path, f"not a readable spikey network file ({type(error).__name__}: "
                         f"{show(str(error))})") from error
    with archive:
        infos = _read_directory(archive, path)
        if "__meta__" not in infos:
            raise _bad(path, "no '__meta__' entry; not a spikey network file")
        headers = {name: _read_header(archive, info, path) for name, info in infos.items()}
        try:
            budget.check_bytes(sum(info.file_size for info in infos.values()),
                               f"{path}: the arrays it declares")
        except ConfigError as error:
            raise SaveFormatError(str(error)) from error
        if headers["__meta__"][1] != np.uint8 or len(headers["__meta__"][0]) != 1:
            raise _bad(path, f"'__meta__' is {headers['__meta__'][1]}{headers['__meta__'][0]}; "
                             "expected uint8 bytes")
        try:
            meta = json.loads(_read_array(archive, infos.pop("__meta__"), path).tobytes().decode())
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise _bad(path, f"corrupted '__meta__' entry ({show(str(error))})") from error
        headers.pop("__meta__")
        _check_meta(meta, path)
        _check_sizes(meta, headers, path)
        try:
            network = Network.from_config(meta["config"])
            parts = network.all_parts()
            for slot, values in meta.get("overrides", {}).items():
                for key, value in values.items():
                    parts[slot].set(key, value)
        except (KeyError, TypeError, ValueError) as error:
            raise _bad(path, "the saved config does not build a network "
                             f"({show(str(error), 500)})") from error
        targets = network.state_arrays()
        missing = sorted(set(targets) - set(headers))
        extra = sorted(set(headers) - set(targets))
        if missing or extra:
            raise _bad(path, f"arrays do not match the config (missing {show(missing)}, "
                             f"unexpected {show(extra)})")
        for name, target in targets.items():
            shape, dtype = headers[name]
            if name.endswith(".position") and shape == () and target.ndim == 1:
                continue  # saves before per-member positions kept one position for all members
            if shape != target.shape or dtype != target.dtype:
                raise _bad(path, f"array {name!r} is {dtype}{shape}; expected "
                                 f"{target.dtype}{target.shape}")
        blocks = network.random_blocks()
        _check_generators(meta, blocks, path)
        # Shapes checked: now decompress (each member's size was checked against its header).
        arrays = {name: _read_array(archive, infos[name], path) for name in targets}
    for name, target in targets.items():
        if name.endswith(".position") and arrays[name].shape == () and target.ndim == 1:
            arrays[name] = np.broadcast_to(arrays[name], target.shape).astype(target.dtype)
    weights = arrays["weights.matrix"]
    if not np.isfinite(weights).all():
        raise _bad(path, f"array 'weights.matrix' holds {int((~np.isfinite(weights)).sum())} "
                         "non-finite weights (nan or inf)")
    for name, stream in blocks.items():
        position = arrays[f"{name}.position"]
        if (position < 0).any() or (position > stream.block).any():
            raise _bad(path, f"array '{name}.position' = {show(position.tolist())}; expected "
                             f"positions in 0..{stream.block}")
    action = meta.get("last_action")
    if action is not None:
        try:
            action = np.asarray(action["value"], dtype=action["dtype"])
        except (TypeError, ValueError, OverflowError) as error:
            raise _bad(path, f"last_action = {show(action)} is not an array of its dtype "
                             f"({error})") from error
    # Everything checked: now fill the new network.
    for name, target in targets.items():
        target[...] = arrays[name]
    for name, stream in blocks.items():
        for generator, state in zip(stream.generators, meta["generators"][name]):
            generator.bit_generator.state = state
        stream.resync()
    counters = meta["counters"]
    network.tick_count = counters["tick_count"]
    network.step_count = counters["step_count"]
    network.training = counters["training"]
    if action is not None:
        network.last_action = action
    return network
