"""Genotypes: constraints over config keys, and the genes they define.

A *gene space* maps a name (usually a dotted config path such as
``"network.synapses.learning_rate"``) to a constraint:

============================  ==========================================
``{"choice": [a, b, ...]}``   one of the listed values
``{"int": [low, high]}``      an integer in ``[low, high]``
``{"float": [low, high]}``    a float in ``[low, high]``
``{"loguniform": [lo, hi]}``  a float in ``[lo, hi]``, log-uniformly
``{"fixed": value}``          always ``value``
============================  ==========================================

A *genotype* is a plain dict ``{name: value}``. Mutation redraws a gene from
its constraint (floats and ints move by a Gaussian step of ``mutation_scale``
of their range instead, clipped), so every genotype stays within bounds.
"""

from __future__ import annotations

import json
import math

import numpy as np

from spikey.core.params import ConfigError

KINDS = ("choice", "int", "float", "loguniform", "fixed")


class Gene:
    """One constrained value."""

    def __init__(self, name: str, spec):
        self.name = name
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise ConfigError(f"gene {name!r}: constraint {spec!r}; expected one of "
                              f"{[{k: '...'} for k in KINDS]}")
        self.kind, self.values = next(iter(spec.items()))
        if self.kind == "choice":
            if not isinstance(self.values, list) or not self.values:
                raise ConfigError(f"gene {name!r}: choice needs a non-empty list, got {self.values!r}")
        elif self.kind in ("int", "float", "loguniform"):
            ok = (isinstance(self.values, (list, tuple)) and len(self.values) == 2
                  and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)
                  and self.values[0] <= self.values[1])
            if not ok:
                raise ConfigError(f"gene {name!r}: {self.kind} needs [low, high] with low <= high, "
                                  f"got {self.values!r}")
            if self.kind == "int" and any(int(v) != v for v in self.values):
                raise ConfigError(f"gene {name!r}: int bounds must be integers, got {self.values!r}")
            if self.kind == "loguniform" and self.values[0] <= 0:
                raise ConfigError(f"gene {name!r}: loguniform needs low > 0, got {self.values!r}")
        self.spec = {self.kind: self.values}

    def sample(self, rng: np.random.Generator):
        """A random value allowed by the constraint (``fixed``: the value itself)."""
        if self.kind == "fixed":
            return self.values
        if self.kind == "choice":
            return self.values[int(rng.integers(len(self.values)))]
        low, high = self.values
        if self.kind == "int":
            return int(rng.integers(int(low), int(high) + 1))
        if self.kind == "float":
            return float(rng.uniform(low, high))
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))

    def mutate(self, value, rng: np.random.Generator, scale: float):
        """A new value near ``value`` (numbers) or a fresh draw (choices)."""
        if self.kind in ("fixed", "choice"):
            return self.sample(rng)
        low, high = self.values
        if self.kind == "loguniform":
            step = rng.normal(0.0, scale * (math.log(high) - math.log(low)))
            return float(min(max(math.exp(math.log(value) + step), low), high))
        step = rng.normal(0.0, scale * (high - low))
        if self.kind == "int":
            moved = int(round(value + step))
            if moved == value:  # an integer gene must actually change when mutated
                moved = value + (1 if rng.random() < 0.5 else -1)
            return int(min(max(moved, low), high))
        return float(min(max(value + step, low), high))

    def contains(self, value) -> bool:
        """Whether ``value`` satisfies the constraint."""
        if self.kind == "fixed":
            return value == self.values
        if self.kind == "choice":
            return value in self.values
        low, high = self.values
        if self.kind == "int" and int(value) != value:
            return False
        return low <= value <= high


class GeneSpace:
    """An ordered set of genes; samples, checks and keys genotypes."""

    def __init__(self, constraints: dict):
        if not isinstance(constraints, dict) or not constraints:
            raise ConfigError("genes: expected a non-empty mapping of name -> constraint")
        self.genes = [Gene(name, spec) for name, spec in constraints.items()]
        self.names = [g.name for g in self.genes]

    def __len__(self):
        return len(self.genes)

    def sample(self, rng) -> dict:
        """A random genotype: one sampled value per gene."""
        return {g.name: g.sample(rng) for g in self.genes}

    def contains(self, genotype: dict) -> bool:
        """Whether ``genotype`` names exactly these genes, each within its constraint."""
        return set(genotype) == set(self.names) and all(
            g.contains(genotype[g.name]) for g in self.genes)

    @staticmethod
    def key(genotype: dict) -> str:
        """A hashable, order-independent identity of a genotype (for the fitness cache)."""
        return json.dumps(genotype, sort_keys=True, default=float)

    def to_plain(self) -> dict:
        """The constraints as plain data ``{name: spec}`` (what the constructor takes)."""
        return {g.name: g.spec for g in self.genes}
