"""Declared configuration keys and their validation.

Every part (and every game) declares the keys it accepts as a tuple of
:class:`Key`. :func:`validate` turns a user's dict into a complete, checked
config: unknown keys, wrong types, out-of-range values and missing required
keys all raise :class:`ConfigError` naming the part, the key, the value and
what was expected. Nothing is silently ignored.
"""

from __future__ import annotations

import difflib
import math
import numbers
import reprlib
from dataclasses import dataclass
from typing import Any

import numpy as np


class ConfigError(ValueError):
    """A configuration value or key was rejected."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()

#: Time constants (keys with ``unit="ms"``) in ``[low, high)`` ms are refused as seconds
#: typed for milliseconds: 0.02 is 20 ms written in seconds, and no membrane, trace or
#: synaptic time constant is that short.
SECONDS_SLIP = (1e-3, 0.5)

#: Longest repr of a value that an error message shows.
SHOW_LIMIT = 200


def show(value, limit: int = SHOW_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for error messages.

    A hostile config (a huge list, a YAML alias expansion) must not turn an
    error message into megabytes of text, nor spend time building one: long
    containers and strings are elided while they are written (``reprlib``).

    Parameters
    ----------
    value : object
        The value to show.
    limit : int
        Characters kept.

    Returns
    -------
    str
        The repr, elided with ``...`` where it was too long.

    Examples
    --------
    >>> show(list(range(1000)))
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, ...] (list of 1000 items)'
    """
    shower = reprlib.Repr()
    shower.maxlevel, shower.maxlist, shower.maxtuple, shower.maxdict = 4, 20, 20, 10
    shower.maxstring = shower.maxother = shower.maxlong = limit
    text = shower.repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    if isinstance(value, (list, tuple, dict)) and len(value) > shower.maxlist:
        text += f" ({type(value).__name__} of {len(value)} items)"
    elif isinstance(value, str) and len(value) > limit:
        text += f" (str of {len(value)} characters)"
    return text


def _non_finite(value, depth: int = 0):
    """The first inf or nan inside a number or nested list, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else value
    if isinstance(value, (list, tuple)) and depth < 64:
        for item in value:
            found = _non_finite(item, depth + 1)
            if found is not None:
                return found
    return None

# Type names a Key may declare, with a check and a normaliser to plain data.
_TYPE_NAMES = ("int", "float", "bool", "str", "list", "dict", "any")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_float(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


_CHECKS = {
    "int": (_is_int, int),
    "float": (_is_float, float),
    "bool": (lambda v: isinstance(v, (bool, np.bool_)), bool),
    "str": (lambda v: isinstance(v, str), str),
    "list": (lambda v: isinstance(v, (list, tuple, np.ndarray)), lambda v: to_plain(v)),
    "dict": (lambda v: isinstance(v, dict), lambda v: v),
    "any": (lambda v: True, lambda v: v),
}


def to_plain(value):
    """Convert numpy scalars/arrays and tuples to JSON-friendly Python data."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class Key:
    """One configuration key of a part.

    Parameters
    ----------
    name : str
        The key as it appears in the config.
    type : str or tuple of str
        One or more of ``int, float, bool, str, list, dict, any``. ``float``
        accepts integers too. ``None`` is accepted only when ``nullable``.
    description : str
        What the key means, with its unit.
    default : object
        Value used when the key is absent; :data:`REQUIRED` makes it mandatory.
    range : tuple, optional
        Inclusive ``(low, high)`` bounds for numbers; either may be ``None``.
    choices : tuple, optional
        The allowed values.
    nullable : bool
        Whether ``None`` is a valid value.
    finite : bool
        Whether numbers (also inside lists) must be finite: ``inf`` and
        ``nan`` are refused unless a key sets ``finite=False`` (then ``inf``
        is accepted; ``nan`` never is for a number).
    unit : str, optional
        ``"ms"`` marks a time constant in milliseconds: a value in
        :data:`SECONDS_SLIP` (from 1 us up to 0.5 ms, e.g. ``tau: 0.02``)
        is refused as seconds typed for milliseconds. Smaller values (e.g.
        ``1e-6``: forget within one step) stay allowed.
    note : str, optional
        Why the range is what it is (e.g. "a depression amplitude is
        negative"); added to the out-of-range message.
    """

    name: str
    type: str | tuple
    description: str
    default: Any = REQUIRED
    range: tuple | None = None
    choices: tuple | None = None
    nullable: bool = False
    finite: bool = True
    unit: str | None = None
    note: str | None = None

    def __post_init__(self):
        for t in self.types:
            if t not in _TYPE_NAMES:
                raise TypeError(f"Key {self.name!r}: unknown type {t!r}, expected one of {_TYPE_NAMES}")

    @property
    def types(self) -> tuple:
        """The accepted type names, as a tuple."""
        return (self.type,) if isinstance(self.type, str) else tuple(self.type)

    @property
    def required(self) -> bool:
        """Whether the key has no default and must be given."""
        return self.default is REQUIRED

    def check(self, value, owner: str):
        """Return ``value`` normalised to plain data, or raise ConfigError."""
        where = f"{owner}.{self.name}"
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"{where} = None is not allowed; expected {self._expected()}")
        for t in self.types:
            test, normalise = _CHECKS[t]
            if test(value):
                value = normalise(value)
                break
        else:
            raise ConfigError(
                f"{where} = {show(value)} has type {type(value).__name__}; expected {self._expected()}"
            )
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{where} = {show(value)} is not allowed; expected one of {list(self.choices)}")
        if _is_float(value) and value != value:
            raise ConfigError(f"{where} = nan is not a number; expected {self._expected()}")
        if self.finite and isinstance(value, (float, list)):
            bad = _non_finite(value)
            if isinstance(value, float) and bad is not None:
                raise ConfigError(f"{where} = {value!r} is not a finite number; expected a finite "
                                  f"{self._expected()}")
            if bad is not None:
                raise ConfigError(f"{where} = {show(value)} contains {bad!r}; expected finite "
                                  "numbers only")
        if self.unit == "ms" and _is_float(value) and SECONDS_SLIP[0] <= value < SECONDS_SLIP[1]:
            raise ConfigError(
                f"{where} = {value!r} looks like seconds; expected milliseconds (e.g. "
                f"{value * 1000:g} for {value * 1000:g} ms): time constants from "
                f"{SECONDS_SLIP[0]:g} up to {SECONDS_SLIP[1]:g} ms are refused as a unit slip")
        if self.range is not None and _is_float(value):
            low, high = self.range
            if (low is not None and value < low) or (high is not None and value > high):
                note = f" ({self.note})" if self.note else ""
                raise ConfigError(
                    f"{where} = {show(value)} is out of range; expected "
                    f"{_range_text(low, high)}{note}"
                )
        return value

    def check_floats(self, values) -> np.ndarray | None:
        """Plain float ``values`` (one per batch member) as a float64 array when every one
        passes :meth:`check` unchanged, found with array operations; None when one is not a
        plain float or might fail (the caller then runs :meth:`check` on each, which raises
        the message naming the value)."""
        if "float" not in self.types or self.choices is not None or not isinstance(
                values, (list, tuple)) or not all(type(v) is float for v in values):
            return None
        array = np.asarray(values, dtype=np.float64)
        if np.isnan(array).any() or (self.finite and not np.isfinite(array).all()):
            return None
        if self.unit == "ms" and ((SECONDS_SLIP[0] <= array) & (array < SECONDS_SLIP[1])).any():
            return None
        if self.range is not None:
            low, high = self.range
            if (low is not None and (array < low).any()) or (high is not None
                                                              and (array > high).any()):
                return None
        return array

    def _expected(self) -> str:
        text = " or ".join(self.types)
        if self.range is not None:
            text += f" in {_range_text(*self.range)}"
        if self.choices is not None:
            text += f" from {list(self.choices)}"
        return text

    def describe(self) -> dict:
        """The key as a plain dict (for schemas and ``spikey info``)."""
        return {
            "key": self.name,
            "type": "|".join(self.types) + ("|None" if self.nullable else ""),
            "default": "REQUIRED" if self.required else self.default,
            "range": None if self.range is None else list(self.range),
            "choices": None if self.choices is None else list(self.choices),
            "description": self.description,
        }


def _range_text(low, high) -> str:
    if low is None:
        return f"value <= {high}"
    if high is None:
        return f"value >= {low}"
    return f"{low} <= value <= {high}"


def suggest(name: str, known) -> str:
    """A ``did you mean`` hint for a misspelt key, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def is_per_member(value) -> bool:
    """Whether a config value is a per-member list: ``{"per_member": [v0, v1, ...]}``."""
    return isinstance(value, dict) and set(value) == {"per_member"}


def validate(keys, given: dict | None, owner: str, per_member: tuple = ()) -> dict:
    """Check ``given`` against ``keys`` and return the complete config.

    Parameters
    ----------
    keys : sequence of Key
        The declared keys.
    given : dict or None
        The user's values.
    owner : str
        Name used in error messages, e.g. ``"neurons (LIF)"``.

    Returns
    -------
    dict
        Every declared key, in declaration order, with defaults filled in.
    """
    given = {} if given is None else given
    if not isinstance(given, dict):
        raise ConfigError(f"{owner}: config must be a dict, got {type(given).__name__}")
    by_name = {k.name: k for k in keys}
    for name in given:
        if name not in by_name:
            raise ConfigError(
                f"{owner}: unknown key {show(name)}{suggest(str(name)[:SHOW_LIMIT], by_name)} "
                f"Known keys: {sorted(by_name)}"
            )
    out = {}
    for key in keys:
        value = given.get(key.name)
        if key.name in given and is_per_member(value):
            if key.name not in per_member:
                raise ConfigError(
                    f"{owner}.{key.name}: cannot differ between batch members; keys that can: "
                    f"{list(per_member)}"
                )
            values = value["per_member"]
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"{owner}.{key.name}.per_member = {show(values)}; expected a "
                                  "non-empty list with one value per member")
            out[key.name] = {"per_member": [key.check(v, owner) for v in values]}
        elif key.name in given:
            out[key.name] = key.check(given[key.name], owner)
        elif key.required:
            raise ConfigError(f"{owner}: missing required key {key.name!r} ({key.description})")
        else:
            out[key.name] = key.default
    return out
