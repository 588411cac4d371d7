"""Modifiers: change any part's parameter over time, addressed by a path.

A modifier's ``path`` is ``"slot.key"`` (e.g. ``"synapses.learning_rate"``).
At the start of every tick the network sets that key to
``value(tick_index)``; the part validates it like any config value.

With ``clock: member`` the tick index is each member's own count of the ticks
in which it was active (in its episode), so a batch member whose episodes end
earlier or later than its neighbours' follows exactly the schedule of its solo
run; the key must then be one the part accepts per member.
"""

from __future__ import annotations

import numpy as np

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
        Key("clock", "str", "Which tick count the schedule follows: 'network' (the network's "
            "tick counter, one value for all members) or 'member' (each member's own count of "
            "active ticks; a batch member then equals its solo run).", "network",
            choices=("network", "member")),
    )

    def build(self, context):
        """Allocate the per-member tick counts (``clock: member``)."""
        super().build(context)
        self.member_ticks = np.zeros(context.batch_size, dtype=np.int64)

    def state_arrays(self) -> dict:
        """``member_ticks`` with ``clock: member`` (saved and loaded with the network)."""
        return {"member_ticks": self.member_ticks} if self.clock == "member" else {}

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
        if self.clock == "member" and key not in part.PER_MEMBER:
            raise ConfigError(f"{self.owner}.clock = 'member' needs a key that may differ between "
                              f"members; {part.owner}.{key} cannot (per-member keys: "
                              f"{list(part.PER_MEMBER)}). Use clock: network")
        self.target, self.key = part, key

    def apply(self, tick: int) -> None:
        """Set the target key to ``value(tick)`` (the network calls it at each tick's start);
        with ``clock: member`` to each member's ``value(member_ticks[b])``, then count this
        tick for the members that are active in it."""
        if self.clock == "network":
            self.target.set(self.key, self.value(tick))
            return
        values = np.asarray(self.value(self.member_ticks), dtype=np.float64)  # (B,) at once
        if values.min() == values.max():
            self.target.set(self.key, float(values[0]))
        else:
            self.target.set(self.key, {"per_member": values.tolist()})
        activity = self.context.activity
        self.member_ticks += 1 if activity is None else activity.mask

    def value(self, tick: int) -> float:
        """The parameter's value at ``tick``; with ``clock: member`` ``tick`` is the ``(B,)``
        array of the members' tick counts and the result one value per member."""
        raise NotImplementedError


class LinearDecay(Modifier):
    """Moves linearly from ``start`` to ``end`` over ``ticks`` ticks, then stays."""

    KEYS = Modifier.KEYS + (Key("ticks", "int", "Ticks to go from start to end.", range=(1, None)),)

    def value(self, tick):
        """``start + (end - start) * min(tick / ticks, 1)`` (``tick`` an int or an array)."""
        frac = np.minimum(np.asarray(tick, dtype=np.float64) / self.ticks, 1.0)
        out = self.start + (self.end - self.start) * frac
        return float(out) if np.ndim(out) == 0 else out


class DropOff(Modifier):
    """``start`` before tick ``at``, ``end`` from then on."""

    KEYS = Modifier.KEYS + (Key("at", "int", "Tick at which the value drops to end.", range=(0, None)),)

    def value(self, tick):
        """``start`` before tick ``at``, ``end`` from then on (``tick`` an int or an array)."""
        out = np.where(np.asarray(tick) < self.at, self.start, self.end)
        return float(out) if np.ndim(out) == 0 else out
