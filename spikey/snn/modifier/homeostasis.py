r"""Homeostatic threshold: each neuron's threshold drifts to hold a target firing rate.

After every training tick, with :math:`r_k` the rate (Hz) neuron :math:`k`
fired at during that tick, its threshold offset moves by

.. math:: \vartheta_k \leftarrow \mathrm{clip}\big(\vartheta_k + \eta\,(r_k - r^*),\;
          [\vartheta_{min}, \vartheta_{max}]\big)

and the neuron's threshold is :math:`\theta + \vartheta_k` from the next tick on
(:math:`\eta` in mV per Hz, :math:`r^*` the target rate). A neuron firing
above the target becomes harder to drive, one below it easier, so a layer's
rates converge on :math:`r^*` while the weights keep their relative
structure (the slow intrinsic plasticity of Turrigiano's synaptic scaling
and Diehl & Cook's adaptive threshold, here with an explicit rate target).

Works with neuron parts whose spike test reads ``threshold_value`` (LIF and
its subclasses). The offsets are state: saved and loaded with the network,
reset to zero by ``reset_offsets()`` (not by an episode reset: homeostasis
is learning, like the weights). Frozen (``eval()``) networks do not adapt.

Several ``HomeostaticThreshold`` modifiers can share one neuron part when
each adapts its own ``neurons`` slice (e.g. one for a hidden layer at 10 Hz,
one for the outputs at 40 Hz): each writes the thresholds of its slice only.
Two whose slices overlap are refused with a ``ConfigError`` (each would
overwrite the other's thresholds there).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class HomeostaticThreshold(Part):
    """Per-neuron threshold offsets that pull each neuron's rate towards a target."""

    FAMILY = "modifiers"
    KEYS = (
        Key("target_rate", "float", "Firing rate each neuron is pulled towards (Hz).",
            range=(0, None)),
        Key("rate", "float", "eta: threshold change per Hz of rate error, per tick (mV/Hz).",
            0.01, range=(0, None)),
        Key("min_offset", "float", "Lowest threshold offset (mV).", -10.0),
        Key("max_offset", "float", "Highest threshold offset (mV).", 10.0),
        Key("neurons", "list", "[start, stop] of the body neurons that adapt (default: all).",
            None, nullable=True),
    )
    STATE = ("offset",)

    def build(self, context):
        super().build(context)
        if self.min_offset > self.max_offset:
            raise ConfigError(f"{self.owner}.min_offset = {self.min_offset} is above max_offset = "
                              f"{self.max_offset}; expected min_offset <= max_offset")
        n = context.n_neurons
        start, stop = (0, n) if self.neurons is None else self.neurons
        if not 0 <= start < stop <= n:
            raise ConfigError(f"{self.owner}.neurons = {self.neurons!r}; expected [start, stop] "
                              f"with 0 <= start < stop <= {n}")
        self.span = slice(int(start), int(stop))
        self.offset = np.zeros((context.batch_size, n), dtype=context.dtype)

    def bind(self, parts: dict):
        """Find the neuron part whose thresholds adapt (the network calls it after building)
        and claim this modifier's neurons on it.

        Raises
        ------
        ConfigError
            When the neuron part has no ``threshold_value``, or another threshold
            modifier of the same network already adapts some of these neurons.
        """
        self.target = parts["neurons"]
        if not hasattr(self.target, "threshold_value"):
            raise ConfigError(f"{self.owner}: {self.target.owner} ({type(self.target).__name__}) "
                              "has no threshold_value to adapt; use LIF or a subclass of it")
        # Which modifier adapts which neurons, kept on the neuron part (slot -> (span, owner)):
        # each modifier writes only its own span's thresholds, so two spans must not overlap.
        claims = self.target.__dict__.setdefault("_threshold_claims", {})
        mine = self.span
        for slot, (span, owner) in claims.items():
            if slot == self.slot:
                continue
            low, high = max(span.start, mine.start), min(span.stop, mine.stop)
            if low < high:
                raise ConfigError(
                    f"{self.owner}.neurons = [{mine.start}, {mine.stop}] overlaps {owner}'s "
                    f"neurons [{span.start}, {span.stop}] on [{low}, {high}): two threshold "
                    "modifiers would each overwrite the other's thresholds there; expected "
                    "disjoint neurons ranges")
        claims[self.slot] = (mine, self.owner)

    def reset_offsets(self) -> None:
        """Forget what homeostasis learned (every offset back to 0 mV)."""
        self.offset[...] = 0.0

    def apply(self, tick: int) -> None:
        """Put the offsets into this modifier's neurons' thresholds (at the start of each tick).

        The other neurons keep the thresholds they have (the base threshold, or
        another modifier's), so modifiers on disjoint slices compose.
        """
        neurons, context = self.target, self.context
        base = neurons.member_column(neurons.threshold)
        value = np.array(np.broadcast_to(neurons.threshold_value,
                                         (context.batch_size, context.n_neurons)),
                         dtype=context.dtype)  # a new array: the kernels cache by identity
        value[:, self.span] = base + self.offset[:, self.span]
        neurons.threshold_value = value

    def observe(self, tick_spikes: np.ndarray, duration_ms: float) -> None:
        """Move the offsets by this tick's rate error; ``tick_spikes`` is ``(B, T, N)``."""
        rates = tick_spikes[:, :, self.span].sum(axis=1) * (1000.0 / duration_ms)
        block = self.offset[:, self.span]
        change = (self.rate * (rates - self.target_rate)).astype(block.dtype)
        activity = self.context.activity
        if activity is not None and not activity.all:  # paused members keep their offsets
            change *= activity.mask[:, None]
        block += change
        np.clip(block, self.min_offset, self.max_offset, out=block)
