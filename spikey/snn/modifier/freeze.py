r"""Frozen weights: hold a block of synapses at the values they were built with.

Learning rules change every synapse whose two sides spike. Some circuits need a
block held fixed while the rest learns, e.g. the lateral inhibition of a
winner-take-all layer (Diehl & Cook 2015 keep their E -> I and I -> E weights
fixed): under pair STDP an interneuron that fires just before a losing neuron
would otherwise weaken its own inhibition of that neuron, until the loser
escapes inhibition altogether. At the start of every tick

.. math:: w_{jk} \leftarrow w^{(0)}_{jk} \qquad j \in \text{rows},\; k \in \text{neurons},

with :math:`w^{(0)}` the weights when the network was built (or loaded), so a
change that a rule makes inside a tick is undone before the next one.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class FreezeWeights(Part):
    """Restore a block of the weight matrix to its built values at every tick's start."""

    FAMILY = "modifiers"
    KEYS = (
        Key("rows", "list", "[start, stop] of the presynaptic rows held fixed (inputs first, "
            "then body neurons; default: all).", None, nullable=True),
        Key("neurons", "list", "[start, stop] of the body neurons (columns) held fixed "
            "(default: all).", None, nullable=True),
    )
    STATE = ("frozen",)

    def bind(self, parts: dict):
        """Find the weight part, check the block and remember its values (after building)."""
        self.weights = parts["weights"]
        if getattr(self.weights, "SPARSE", False):
            raise ConfigError(f"{self.owner}: freezes a block of a dense weight matrix; "
                              f"{self.weights.owner} is sparse")
        P, N = self.weights.shape
        self.span = self._range("rows", self.rows, P)
        self.columns = self._range("neurons", self.neurons, N)
        self.frozen = self.weights.matrix[:, self.span, self.columns].copy()

    def _range(self, key, value, size):
        start, stop = (0, size) if value is None else value
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= size):
            raise ConfigError(f"{self.owner}.{key} = {value!r}; expected [start, stop] with "
                              f"0 <= start < stop <= {size}")
        return slice(start, stop)

    def apply(self, tick: int) -> None:
        """Put the block back to its frozen values (the network calls it at each tick's start)."""
        self.weights.matrix[:, self.span, self.columns] = self.frozen

    def refreeze(self) -> None:
        """Take the block's current values as the frozen ones (e.g. after editing weights)."""
        np.copyto(self.frozen, self.weights.matrix[:, self.span, self.columns])
