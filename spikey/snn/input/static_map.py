"""Fixed spike trains: each observation pattern replays its own spike train.

The observation selects one of ``n_patterns`` trains: an integer index, or a
binary vector read as a binary number (first value most significant). Each
train has ``train_steps`` steps and repeats if a tick is longer. Trains are
given explicitly (``trains``) or drawn once per member at build time as
Poisson trains of ``rate`` Hz (Florian 2007's temporally coded XOR).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key, is_per_member
from spikey.snn.input.template import Input


class StaticMap(Input):
    """Replays a fixed spike train per observation pattern."""

    KEYS = (
        Key("n_inputs", "int", "Number of input neurons.", range=(1, None)),
        Key("n_patterns", "int", "Number of distinct observation patterns.", range=(1, None)),
        Key("train_steps", "int", "Steps per spike train (repeats in longer ticks).", 500,
            range=(1, None)),
        Key("rate", "float", "Rate (Hz) of the random trains drawn when trains is None.", 40.0,
            range=(0, None)),
        Key("trains", "list", "Explicit 0/1 trains, shape (n_patterns, train_steps, n_inputs); "
            "{'per_member': [...]} gives each member its own.", None, nullable=True),
    ) + Input.KEYS
    STATE = ("spikes", "trains_array", "pattern", "step_index")
    PER_MEMBER = ("trains",)

    def build(self, context):
        """Hold every member's trains, ``(B, n_patterns, train_steps, n_inputs)``.

        Raises
        ------
        ValueError
            When the given ``trains`` do not have shape ``(n_patterns, train_steps, n_inputs)``.
        """
        super().build(context)
        B, P, T, n = context.batch_size, self.n_patterns, self.train_steps, self.n_inputs
        if self.trains is not None:
            # one train set for every member, or (per_member) one each
            each = self.trains if is_per_member(self.config["trains"]) else [self.trains] * B
            self.trains_array = np.zeros((B, P, T, n), dtype=bool)
            for b, trains in enumerate(each):
                given = np.asarray(trains)
                if given.shape != (P, T, n):
                    where = f"trains.per_member[{b}]" if is_per_member(self.config["trains"]) \
                        else "trains"
                    raise ValueError(
                        f"{self.owner}.{where} has shape {given.shape}; expected "
                        f"(n_patterns, train_steps, n_inputs) = {(P, T, n)}"
                    )
                self.trains_array[b] = given.astype(bool)
        else:
            p = self.rate * context.dt / 1000.0
            self.trains_array = np.stack(
                [rng.random((P, T, n)) < p for rng in context.generators(f"{self.slot}.trains")]
            )
        self.pattern = np.zeros(B, dtype=np.int64)
        self.step_index = np.zeros((), dtype=np.int64)
        self._members = np.arange(B)

    def encode(self, state):
        """Select each member's pattern and restart its train.

        The observation is ``(B,)`` integer indices or ``(B, bits)`` binary vectors
        read as binary numbers (first bit most significant).
        """
        x = np.asarray(state)
        B = self.context.batch_size
        if x.ndim <= 1 and x.size == B and np.issubdtype(x.dtype, np.integer):
            index = x.reshape(B).astype(np.int64)
        else:
            bits = self._batched(state)
            if np.any((bits != 0) & (bits != 1)):
                raise ValueError(f"{self.owner}: observation {bits.tolist()} is not binary")
            weights = 2 ** np.arange(bits.shape[1] - 1, -1, -1)
            index = (bits.astype(np.int64) * weights).sum(axis=1)
        if np.any(index < 0) or np.any(index >= self.n_patterns):
            raise ValueError(
                f"{self.owner}: observation selects patterns {index.tolist()}; expected "
                f"indices in [0, {self.n_patterns - 1}]"
            )
        self.pattern[...] = index
        self.step_index[...] = 0

    def step(self):
        """The selected trains' spikes at this step (trains repeat after ``train_steps``)."""
        t = int(self.step_index) % self.train_steps
        self.spikes[...] = self.trains_array[self._members, self.pattern, t]
        self.step_index += 1
        return self.spikes
