"""Shared base of readouts: turn a tick's output spikes into an action.

The outputs are the last ``n_outputs`` body neurons. A readout receives the
output spike counts of the tick, ``(B, n_outputs)``, and the tick length in
ms, and returns one action per member. ``groups`` assigns each output neuron
to the action it votes for; continuous rewards use it to judge a spike.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class Readout(Part):
    """Base class of readouts."""

    ABSTRACT = True
    FIXED = ("n_outputs", "n_actions")

    FAMILY = "readout"
    KEYS = (Key("n_outputs", "int", "Number of output neurons (the last body neurons).", 1,
                range=(1, None)),)

    def build(self, context):
        """Check that the outputs fit in the body and set ``groups``.

        Raises
        ------
        ConfigError
            When ``n_outputs`` exceeds ``neurons.n_neurons``.
        """
        super().build(context)
        if self.n_outputs > context.n_neurons:
            raise ConfigError(
                f"{self.owner}.n_outputs = {self.n_outputs} exceeds neurons.n_neurons = "
                f"{context.n_neurons}"
            )
        self.groups = self.output_groups()

    def output_groups(self) -> np.ndarray:
        """Action each output neuron votes for, shape ``(n_outputs,)``."""
        return np.ones(self.n_outputs, dtype=np.int64)

    @staticmethod
    def rates(counts, duration_ms) -> np.ndarray:
        """Firing rates (Hz) from spike counts over ``duration_ms``."""
        return np.asarray(counts, dtype=np.float64) * (1000.0 / duration_ms)

    def __call__(self, counts, duration_ms):
        raise NotImplementedError


class _Grouped(Readout):
    KEYS = Readout.KEYS + (
        Key("n_actions", "int", "Number of actions; outputs are split into equal groups.", 2,
            range=(1, None)),
    )

    def build(self, context):
        if self.n_outputs % self.n_actions:
            raise ConfigError(
                f"{self.owner}: n_outputs = {self.n_outputs} cannot be split into n_actions = "
                f"{self.n_actions} equal groups"
            )
        super().build(context)

    def output_groups(self):
        return np.repeat(np.arange(self.n_actions), self.n_outputs // self.n_actions)

    def group_rates(self, counts, duration_ms):
        counts = np.asarray(counts)
        buffer = getattr(self, "_rates", None)
        if buffer is None or buffer.shape != counts.shape:
            buffer = self._rates = np.empty(counts.shape, dtype=np.float64)
        # rates(counts).reshape(B, n_actions, -1).mean(axis=2) without its temporaries and
        # np.mean's Python layer: the same float64 casts, sums and division
        np.copyto(buffer, counts, casting="unsafe")
        buffer *= 1000.0 / duration_ms
        grouped = buffer.reshape(buffer.shape[0], self.n_actions, -1)
        out = np.add.reduce(grouped, axis=2)
        out /= grouped.shape[2]
        return out
