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

from spikey.core.params import Key
from spikey.core.part import Part


class Weight(Part):
    """Base class of weight generators."""

    ABSTRACT = True
    FIXED = ("matrix", "mask", "distribution", "low", "high", "mean", "std", "density", "self_loops", "feed_forward")

    FAMILY = "weights"
    KEYS = (
        Key("max_weight", "float", "Upper weight bound (mV); weights stay in [0, max_weight].",
            5.0, range=(0, None)),
    )
    STATE = ("matrix", "mask")

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

    @property
    def flat(self) -> np.ndarray:
        """``matrix`` viewed as ``(B * (n_inputs + n_neurons), n_neurons)`` rows."""
        return self.matrix.reshape(-1, self.matrix.shape[2])

    def generate(self, rng):
        """One member's ``(matrix, mask)``, each of shape ``(n_inputs + n_neurons, n_neurons)``."""
        raise NotImplementedError

    def clip(self, values: np.ndarray) -> None:
        """Clip ``values`` in place to ``[0, max_weight]``.

        Learning rules never add to absent synapses, so they stay at zero.
        """
        np.clip(values, 0.0, self.max_weight, out=values)
