"""Shared base of weight parts.

A weight part owns the synaptic weight magnitudes ``matrix`` of shape
``(B, n_inputs + n_neurons, n_neurons)``: row ``j`` is presynaptic neuron
``j`` (inputs first, then body neurons), column ``k`` is body neuron ``k``.
The sign of a connection is its presynaptic neuron's polarity, so every
weight lies in ``[0, max_weight]``. ``mask`` marks the synapses that exist;
absent synapses stay zero under learning.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class Weight(Part):
    """Base class of weight generators."""

    ABSTRACT = True
    FIXED = ("delays", "synapse_types", "matrix", "mask", "distribution", "low", "high", "mean", "std", "density", "self_loops", "feed_forward",
             "inputs_only")

    FAMILY = "weights"
    KEYS = (
        Key("max_weight", "float", "Upper weight bound (mV); weights stay in [0, max_weight].",
            5.0, range=(0, None)),
        Key("delays", ("int", "list", "dict"), "Extra synaptic delay in steps, beyond the base "
            "(inputs arrive the same step, body spikes the next): one int for all synapses, a "
            "(n_inputs + n_neurons, n_neurons) int matrix, or {'uniform_int': [low, high]} drawn "
            "per member.", None, nullable=True),
        Key("synapse_types", "list", "Synapses that are not 'direct': blocks {'pre': [start, "
            "stop], 'post': [start, stop], 'type': 'modulatory' | 'electric' | 'direct'}. "
            "Modulatory synapses shift the target's modulation level, electric ones make it fire "
            "at once; direct ones (the rest) add to its potential.", None, nullable=True),
    )
    STATE = ("matrix", "mask")
    TYPE_CODES = {"direct": 0, "modulatory": 1, "electric": 2}

    def build(self, context):
        super().build(context)
        B, n_in, n = context.batch_size, context.n_inputs, context.n_neurons
        self.shape = (n_in + n, n)
        self.matrix = np.zeros((B, *self.shape), dtype=context.dtype)
        self.mask = np.zeros((B, *self.shape), dtype=bool)
        for b, rng in enumerate(context.generators(f"{self.slot}.init")):
            self.member = b  # generate() may read per-member specs
            matrix, mask = self.generate(rng)
            self.mask[b] = mask
            self.matrix[b] = np.clip(matrix, 0.0, self.max_weight) * mask
        self.delay_matrix = self._delays(context)
        self.type_matrix = self._types()
        if self.delay_matrix is not None:
            self.STATE = type(self).STATE + ("delay_matrix",)

    def _types(self):
        """Synapse type codes ``(P, N)`` (0 direct, 1 modulatory, 2 electric), or None."""
        blocks = self.config["synapse_types"]
        if not blocks:
            return None
        codes = np.zeros(self.shape, dtype=np.int8)
        for i, block in enumerate(blocks):
            where = f"{self.owner}.synapse_types[{i}]"
            if not isinstance(block, dict) or set(block) != {"pre", "post", "type"}:
                raise ConfigError(f"{where} = {block!r}; expected keys 'pre', 'post', 'type'")
            if block["type"] not in self.TYPE_CODES:
                raise ConfigError(f"{where}.type = {block['type']!r}; expected one of "
                                  f"{list(self.TYPE_CODES)}")
            spans = []
            for key, limit in (("pre", self.shape[0]), ("post", self.shape[1])):
                span = block[key]
                if not (isinstance(span, (list, tuple)) and len(span) == 2
                        and 0 <= int(span[0]) < int(span[1]) <= limit):
                    raise ConfigError(f"{where}.{key} = {span!r}; expected [start, stop] with "
                                      f"0 <= start < stop <= {limit}")
                spans.append(slice(int(span[0]), int(span[1])))
            codes[spans[0], spans[1]] = self.TYPE_CODES[block["type"]]
        return codes if codes.any() else None

    def _delays(self, context):
        """Per-synapse extra delays ``(B, P, N)`` (int16), or None when there are none."""
        spec = self.config["delays"]
        if spec is None or spec == 0:
            return None
        B = context.batch_size
        if isinstance(spec, dict):
            if set(spec) != {"uniform_int"} or len(spec["uniform_int"]) != 2:
                raise ConfigError(f"{self.owner}.delays = {spec!r}; expected "
                                  "{'uniform_int': [low, high]}")
            low, high = (int(v) for v in spec["uniform_int"])
            if not 0 <= low <= high:
                raise ConfigError(f"{self.owner}.delays uniform_int = {[low, high]}; expected "
                                  "0 <= low <= high")
            delays = np.stack([rng.integers(low, high + 1, size=self.shape) for rng in
                               context.generators(f"{self.slot}.delays")])
        else:
            delays = np.broadcast_to(np.asarray(spec), self.shape) if np.ndim(spec) < 2 else \
                np.asarray(spec)
            if delays.shape != self.shape or not np.issubdtype(delays.dtype, np.integer) \
                    or (delays < 0).any():
                raise ConfigError(f"{self.owner}.delays: expected an int >= 0 or an int matrix of "
                                  f"shape {self.shape}, got shape {delays.shape} ({delays.dtype})")
            delays = np.broadcast_to(delays, (B, *self.shape))
        return np.ascontiguousarray(delays, dtype=np.int16)
    @property
    def flat(self) -> np.ndarray:
        """``matrix`` viewed as ``(B * (n_inputs + n_neurons), n_neurons)`` rows."""
        return self.matrix.reshape(-1, self.matrix.shape[2])

    def generate(self, rng):
        """One member's ``(matrix, mask)``, each of shape ``(n_inputs + n_neurons, n_neurons)``."""
        raise NotImplementedError

    @property
    def clip_bounds(self) -> tuple:
        """``(low, high)`` that :meth:`clip` clips to."""
        return 0.0, self.max_weight

    def clip(self, values: np.ndarray) -> None:
        """Clip ``values`` in place to ``[0, max_weight]``.

        Learning rules never add to absent synapses, so they stay at zero.
        """
        np.clip(values, 0.0, self.max_weight, out=values)
