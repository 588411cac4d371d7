"""Modifiers: change any part's parameter over time, addressed by a path.

A modifier's ``path`` is ``"slot.key"`` (e.g. ``"synapses.learning_rate"``).
At the start of every tick the network sets that key to
``value(tick_index)``; the part validates it like any config value.
"""

from __future__ import annotations

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class Modifier(Part):
    """Base class of modifiers."""

    ABSTRACT = True

    FAMILY = "modifiers"
    KEYS = (
        Key("path", "str", "Parameter to change, as 'slot.key', e.g. 'synapses.learning_rate'."),
        Key("start", "float", "Value at tick 0."),
        Key("end", "float", "Final value."),
    )

    def bind(self, parts: dict):
        """Resolve ``path`` to a part and key; ConfigError names a missing slot or key."""
        slot, _, key = self.path.partition(".")
        if slot not in parts or parts[slot] is None:
            raise ConfigError(f"{self.owner}.path = {self.path!r}: no part in slot {slot!r}; "
                              f"known slots {sorted(k for k, v in parts.items() if v is not None)}")
        part = parts[slot]
        declared = [k.name for k in part.KEYS]
        if key not in declared:
            raise ConfigError(f"{self.owner}.path = {self.path!r}: {part.owner} has no key {key!r}; "
                              f"known keys {declared}")
        self.target, self.key = part, key

    def apply(self, tick: int) -> None:
        """Set the target key to ``value(tick)`` (the network calls it at each tick's start)."""
        self.target.set(self.key, self.value(tick))

    def value(self, tick: int) -> float:
        """The parameter's value at ``tick``."""
        raise NotImplementedError


class LinearDecay(Modifier):
    """Moves linearly from ``start`` to ``end`` over ``ticks`` ticks, then stays."""

    KEYS = Modifier.KEYS + (Key("ticks", "int", "Ticks to go from start to end.", range=(1, None)),)

    def value(self, tick):
        """``start + (end - start) * min(tick / ticks, 1)``."""
        frac = min(tick / self.ticks, 1.0)
        return self.start + (self.end - self.start) * frac


class DropOff(Modifier):
    """``start`` before tick ``at``, ``end`` from then on."""

    KEYS = Modifier.KEYS + (Key("at", "int", "Tick at which the value drops to end.", range=(0, None)),)

    def value(self, tick):
        """``start`` before tick ``at``, ``end`` from then on."""
        return self.start if tick < self.at else self.end
