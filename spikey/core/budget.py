"""Memory budget: refuse a network that cannot fit before allocating it.

A config such as ``batch_size: 1000000000`` or ``n_neurons: 100000000``
would otherwise allocate until the machine runs out of memory.
:func:`check_network` estimates the bytes of the dominant arrays a network
allocates and raises :class:`~spikey.core.params.ConfigError` when the
estimate exceeds the limit, naming the estimate and the limit in GB.

The estimate counts, with ``B`` members, ``n_in`` inputs, ``N`` body
neurons, ``P = n_in + N`` presynaptic rows and ``S`` synapses per member
(``P * N`` for dense weights, ``N * fan_in`` for sparse ones):

- the weights, ``(B, S)`` values and their mask (plus the index arrays of
  sparse weights, and one member's float64 matrix while generating);
- per-synapse learning state of the synapse part (eligibility traces,
  long-term weights), ``(B, S)`` each;
- per-synapse delays ``(B, S)`` int16 when weights have delays;
- the tick's spike records ``(B, processing_steps, N)`` and
  ``(B, processing_steps, n_in)``;
- a handful of ``(B, P)`` per-neuron arrays.

Limit. By default the memory the machine has available now
(``MemAvailable`` of ``/proc/meminfo``, else the physical pages available).
The environment variable ``SPIKEY_MEMORY_LIMIT`` overrides it: a number of
GB (``SPIKEY_MEMORY_LIMIT=64``) sets the limit, ``none`` switches the check
off.
"""

from __future__ import annotations

import os

import numpy as np

from spikey.core.params import ConfigError

#: Environment variable overriding the memory limit (GB, or "none").
ENV = "SPIKEY_MEMORY_LIMIT"

GB = 1e9

#: Per-synapse state arrays of synapse parts (same shape as the weights).
_SYNAPSE_ARRAYS = ("eligibility", "long_term")


def available_bytes() -> int | None:
    """Memory the machine has available now, in bytes (None when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> tuple:
    """The memory limit in bytes and where it comes from.

    Returns
    -------
    (limit, source) : (float or None, str)
        ``limit`` is None when the check is off or the machine's memory is unknown.

    Raises
    ------
    ConfigError
        When ``SPIKEY_MEMORY_LIMIT`` is neither a positive number nor ``none``.
    """
    text = os.environ.get(ENV)
    if text is not None and text.strip():
        text = text.strip()
        if text.lower() in ("none", "off"):
            return None, f"{ENV}={text}"
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (np.isfinite(value) and value > 0):
            raise ConfigError(f"{ENV} = {text!r}; expected a number of GB > 0, or 'none'")
        return value * GB, f"{ENV}={text}"
    available = available_bytes()
    return available, "available memory"


def estimate_bytes(batch_size: int, n_inputs: int, n_neurons: int, processing_steps: int,
                   dtype="float32", fan_in: int | None = None, synapse_arrays: int = 0,
                   delays: bool = False) -> int:
    """Bytes of the dominant arrays of a network (see the module docstring).

    Parameters
    ----------
    batch_size, n_inputs, n_neurons, processing_steps : int
        The network's sizes.
    dtype : str or numpy.dtype
        Floating point type of the state arrays.
    fan_in : int, optional
        Synapses per body neuron of sparse weights; None: dense weights.
    synapse_arrays : int
        Per-synapse state arrays of the learning rule.
    delays : bool
        Whether the weights carry per-synapse delays.

    Returns
    -------
    int
        The estimate in bytes (Python int: no overflow).
    """
    B, n_in, n, steps = (int(v) for v in (batch_size, n_inputs, n_neurons, processing_steps))
    size = np.dtype(dtype).itemsize
    P = n_in + n
    if fan_in is None:
        synapses = P * n
        weights = B * synapses * (size + 1) + synapses * 9  # values, mask; one member generating
    else:
        synapses = n * int(fan_in)
        weights = B * synapses * (size + 1 + 3 * 8)  # values, mask, pre/out indices
    rule = B * synapses * size * int(synapse_arrays)
    delay = B * synapses * 2 if delays else 0
    records = B * steps * P  # tick_spikes and tick_input_spikes (bool)
    neurons = B * P * size * 16  # per-neuron state, traces, buffers
    return weights + rule + delay + records + neurons


def estimate_network(network) -> int:
    """:func:`estimate_bytes` of a network whose parts are configured but not yet built.

    Parameters
    ----------
    network : spikey.snn.network.Network
        Its validated config and part instances are read; nothing is allocated.

    Returns
    -------
    int
        The estimate in bytes.
    """
    parts = network.parts
    weights, synapses = parts["weights"], parts.get("synapses")
    fan_in = int(weights.config["fan_in"]) if getattr(weights, "SPARSE", False) \
        and "fan_in" in weights.config else None
    arrays = 0
    if synapses is not None:
        arrays = sum(name in _SYNAPSE_ARRAYS for name in getattr(synapses, "STATE", ()))
    delays = weights.config.get("delays") not in (None, 0)
    return estimate_bytes(network.batch_size, parts["inputs"].n_inputs,
                          parts["neurons"].n_neurons, network.processing_steps,
                          network.dtype, fan_in=fan_in, synapse_arrays=arrays, delays=delays)


def check_bytes(needed: int, what: str) -> None:
    """Raise ConfigError when ``needed`` bytes exceed the memory limit.

    Parameters
    ----------
    needed : int
        Estimated bytes.
    what : str
        What needs them, for the message (e.g. the sizes that drive the estimate).

    Raises
    ------
    ConfigError
        With the estimate, the limit and how to override it.
    """
    limit, source = memory_limit()
    if limit is None or needed <= limit:
        return
    raise ConfigError(
        f"{what} needs about {needed / GB:.3g} GB of memory, more than the {limit / GB:.3g} GB "
        f"limit ({source}); make the network smaller, or set the environment variable {ENV} "
        "to a number of GB (or 'none') to override"
    )


def check_network(network) -> None:
    """Refuse a network whose estimated memory exceeds the limit, before it allocates.

    Parameters
    ----------
    network : spikey.snn.network.Network
        Called at the start of building, with validated keys and configured parts.

    Raises
    ------
    ConfigError
        When :func:`estimate_network` exceeds :func:`memory_limit`.
    """
    parts = network.parts
    what = (f"network (batch_size = {network.batch_size}, n_inputs = {parts['inputs'].n_inputs}, "
            f"n_neurons = {parts['neurons'].n_neurons}, processing_steps = "
            f"{network.processing_steps}, dtype = {network.dtype})")
    check_bytes(estimate_network(network), what)
