r"""One-hot rate coding of a discrete observation.

The ``n_values * n_per_value`` inputs form ``n_values`` equal groups. An
observation :math:`v \in \{s, \dots, s + n_{values} - 1\}` (``s = start``)
selects group :math:`v - s`: its inputs fire at ``rate`` Hz, every other input
at ``background_rate`` Hz,

.. math:: r_i = \begin{cases} r_{on} & i \in \text{group}(v - s) \\
    r_{off} & \text{otherwise} \end{cases}

sampled per step as a Bernoulli trial of probability :math:`r_i\,\Delta t`
(``spike_model='poisson'``) or deterministically (``'regular'``). This is the
encoder of gymnasium ``Discrete`` observations (e.g. FrozenLake's cell index).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.snn.input.template import SPIKE_MODEL, Input, _RateCoded


class OneHot(_RateCoded, Input):
    """One group of inputs per discrete value; the observed value's group fires.

    Examples
    --------
    FrozenLake-v1 (16 cells), 5 inputs per cell, 50 Hz for the agent's cell:

    >>> OneHot(n_values=16, n_per_value=5, rate=50.0).n_inputs
    80
    """

    KEYS = (
        Key("n_values", "int", "Number of discrete values (gymnasium Discrete.n).",
            range=(1, None)),
        Key("n_per_value", "int", "Input neurons per value.", 10, range=(1, None)),
        Key("start", "int", "Smallest value (gymnasium Discrete.start).", 0),
        Key("rate", "float", "Rate (Hz) of the observed value's inputs.", 40.0, range=(0, None)),
        Key("background_rate", "float", "Rate (Hz) of every other input.", 0.0, range=(0, None)),
        SPIKE_MODEL,
    ) + Input.KEYS
    FIXED = Input.FIXED + ("n_values", "n_per_value")
    STATE = ("spikes", "probability", "phase")

    @property
    def n_inputs(self) -> int:
        """``n_values * n_per_value``."""
        return self.n_values * self.n_per_value

    def build(self, context):
        """Allocate spikes and the per-member random blocks of the spike draws."""
        super().build(context)
        self.build_random(context)
        self._members = np.arange(context.batch_size)

    def encode(self, state):
        """Light the group of each member's observed value, ``(B,)`` integers.

        Raises
        ------
        ValueError
            When a value is not an integer in ``[start, start + n_values - 1]``.
        """
        x = self._batched(state, 1)[:, 0]
        index = x.astype(np.int64) - self.start
        if np.any(index + self.start != x) or np.any(index < 0) or np.any(index >= self.n_values):
            raise ValueError(
                f"{self.owner}: observation {x.tolist()} must hold integers in "
                f"[{self.start}, {self.start + self.n_values - 1}] (n_values = {self.n_values}, "
                f"start = {self.start})"
            )
        dt = self.context.dt / 1000.0
        self.probability[...] = self.background_rate * dt
        grouped = self.probability.reshape(x.shape[0], self.n_values, self.n_per_value)
        grouped[self._members, index] = self.rate * dt
