"""Weights given by hand: a matrix, a callable, or a list of layer blocks.

A *block* is a dict ``{"pre": [start, stop], "post": [start, stop], "weight": w}``
filling rows ``pre`` (indices into inputs followed by body neurons) and
columns ``post`` (body neurons). ``w`` is a number, a nested list of the
block's shape, or ``{"uniform": [low, high]}`` drawn from the member's own
generator; an optional ``"density"`` keeps that fraction of the block's
synapses. Synapses outside every block are absent.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.weight.template import Weight


class Manual(Weight):
    """Weights from a matrix, a callable ``f(rng, shape) -> matrix`` or layer blocks.

    Examples
    --------
    Florian (2007) XOR: 60 inputs to 60 hidden, 60 hidden to 1 output.

    >>> blocks = [{"pre": [0, 60], "post": [0, 60], "weight": {"uniform": [0, 5]}},
    ...           {"pre": [60, 120], "post": [60, 61], "weight": {"uniform": [0, 5]}}]
    >>> Manual(matrix=blocks).config["max_weight"]
    5.0
    """

    PER_MEMBER = ("matrix",)
    KEYS = Weight.KEYS + (
        Key("matrix", ("list", "any"), "Weight matrix (n_inputs + n_neurons, n_neurons), "
            "a callable f(rng, shape), or a list of layer blocks; may differ per member."),
        Key("mask", "list", "Which synapses exist (same shape); default: the nonzero weights.",
            None, nullable=True),
    )

    def generate(self, rng):
        spec = self.config["matrix"]  # the built array takes the attribute name
        if isinstance(spec, dict) and set(spec) == {"per_member"}:
            spec = spec["per_member"][self.member]
        if callable(spec):
            matrix = np.asarray(spec(rng, self.shape), dtype=np.float64)
            default_mask = matrix != 0
        elif isinstance(spec, list) and spec and all(isinstance(b, dict) for b in spec):
            matrix, default_mask = self._blocks(spec, rng)
        else:
            matrix = np.asarray(spec, dtype=np.float64)
            default_mask = matrix != 0
        if matrix.shape != self.shape:
            raise ConfigError(
                f"{self.owner}.matrix has shape {matrix.shape}; expected "
                f"(n_inputs + n_neurons, n_neurons) = {self.shape}"
            )
        finite = np.isfinite(matrix)
        if not finite.all():
            row, col = (int(i) for i in np.argwhere(~finite)[0])
            raise ConfigError(
                f"{self.owner}.matrix has {int((~finite).sum())} non-finite entries (first: "
                f"[{row}, {col}] = {matrix[row, col]}); expected finite weights"
            )
        given = self.config["mask"]
        mask = default_mask if given is None else np.asarray(given, dtype=bool)
        if mask.shape != self.shape:
            raise ConfigError(f"{self.owner}.mask has shape {mask.shape}; expected {self.shape}")
        return matrix, mask

    def _blocks(self, blocks, rng):
        matrix = np.zeros(self.shape)
        mask = np.zeros(self.shape, dtype=bool)
        for i, block in enumerate(blocks):
            where = f"{self.owner}.matrix[{i}]"
            unknown = set(block) - {"pre", "post", "weight", "density"}
            if unknown or not {"pre", "post", "weight"} <= set(block):
                raise ConfigError(
                    f"{where}: a block needs keys 'pre', 'post', 'weight' (optional 'density'); "
                    f"got {sorted(block)}"
                )
            rows = self._span(block["pre"], self.shape[0], f"{where}.pre")
            cols = self._span(block["post"], self.shape[1], f"{where}.post")
            shape = (rows.stop - rows.start, cols.stop - cols.start)
            w = block["weight"]
            if isinstance(w, dict):
                if set(w) != {"uniform"} or len(w["uniform"]) != 2:
                    raise ConfigError(f"{where}.weight: expected {{'uniform': [low, high]}}, got {w}")
                values = rng.uniform(*w["uniform"], size=shape)
            else:
                values = np.broadcast_to(np.asarray(w, dtype=np.float64), shape)
            present = np.ones(shape, dtype=bool)
            if "density" in block:
                present = rng.random(shape) < float(block["density"])
            matrix[rows, cols] = values * present
            mask[rows, cols] = present
        return matrix, mask

    @staticmethod
    def _span(value, limit, where):
        if not (isinstance(value, (list, tuple)) and len(value) == 2):
            raise ConfigError(f"{where} = {value!r}; expected [start, stop]")
        start, stop = int(value[0]), int(value[1])
        if not 0 <= start < stop <= limit:
            raise ConfigError(f"{where} = {value!r}; expected 0 <= start < stop <= {limit}")
        return slice(start, stop)
