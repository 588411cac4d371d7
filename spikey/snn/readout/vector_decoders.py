r"""Population-vector decoders: continuous actions and ordered discrete actions.

Both read output groups as votes for preferred values and average them by
firing rate (a population vector).

:class:`ContinuousVector` (gymnasium ``Box`` actions): the ``n_outputs``
outputs form ``n_dims`` equal groups of :math:`k`; output :math:`j` of
dimension :math:`d` prefers :math:`c_{dj}`, evenly spaced over
:math:`[\mathrm{low}_d, \mathrm{high}_d]`, and with rates :math:`r_{dj}`

.. math:: a_d = \frac{\sum_j r_{dj}\, c_{dj}}{\sum_j r_{dj}} \in [\mathrm{low}_d, \mathrm{high}_d]

(``silent_value``, by default the midpoint, when the group is silent).

:class:`PopulationIndex` (``Discrete`` actions with an order, e.g. push
left / none / right): group :math:`k` prefers index :math:`k`, and

.. math:: a = \left\lfloor \frac{\sum_k r_k\, k}{\sum_k r_k} + \tfrac12 \right\rfloor

(``silent_action``, by default the middle index, when every group is silent).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.readout.template import Readout, _Grouped


class ContinuousVector(Readout):
    """Continuous action ``(B, n_dims)``: each dimension's population vector over its bounds."""

    KEYS = Readout.KEYS + (
        Key("n_dims", "int", "Action values per member; outputs split into equal groups.", 1,
            range=(1, None)),
        Key("low", ("float", "list"), "Smallest action value (scalar or one per dim).", -1.0),
        Key("high", ("float", "list"), "Largest action value (scalar or one per dim).", 1.0),
        Key("silent_value", ("float", "list"), "Action of a silent group (scalar or one per "
            "dim); None: the middle of the bounds.", None, nullable=True),
    )
    FIXED = Readout.FIXED + ("n_dims",)

    def build(self, context):
        """Check that the outputs split into ``n_dims`` equal groups, then build."""
        if self.n_outputs % self.n_dims:
            raise ConfigError(f"{self.owner}: n_outputs = {self.n_outputs} cannot be split into "
                              f"n_dims = {self.n_dims} equal groups")
        super().build(context)

    def derive(self):
        """Check the bounds and place each output's preferred value."""
        d, k = self.n_dims, self.n_outputs // self.n_dims
        try:
            low = np.broadcast_to(np.asarray(self.low, dtype=np.float64), (d,)).copy()
            high = np.broadcast_to(np.asarray(self.high, dtype=np.float64), (d,)).copy()
        except ValueError:
            low = high = np.full(d, np.nan)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(high >= low)):
            raise ConfigError(f"{self.owner}: low={self.low} and high={self.high}; expected a "
                              f"scalar or {d} finite values each, with high >= low")
        self._low, self._high = low, high
        if k == 1:
            self.centres = ((low + high) / 2)[:, None]
        else:
            self.centres = np.linspace(low, high, k, axis=1)  # (d, k)
        silent = (low + high) / 2 if self.silent_value is None else self.silent_value
        try:
            self._silent = np.broadcast_to(np.asarray(silent, dtype=np.float64), (d,)).copy()
        except ValueError:
            raise ConfigError(f"{self.owner}.silent_value = {self.silent_value}; expected a "
                              f"scalar or {d} values") from None

    def output_groups(self):
        """The action dimension each output neuron belongs to."""
        return np.repeat(np.arange(self.n_dims), self.n_outputs // self.n_dims)

    def __call__(self, counts, duration_ms):
        rates = self.rates(counts, duration_ms).reshape(len(counts), self.n_dims, -1)
        total = rates.sum(axis=2)
        weighted = (rates * self.centres).sum(axis=2)
        value = np.divide(weighted, total, out=np.broadcast_to(self._silent, total.shape).copy(),
                          where=total > 0)
        return np.clip(value, self._low, self._high)


class PopulationIndex(_Grouped):
    """Discrete action: the rate-weighted mean group index, rounded (ordered actions)."""

    KEYS = _Grouped.KEYS + (
        Key("silent_action", "int", "Action when every group is silent; None: the middle "
            "index (n_actions - 1) // 2.", None, nullable=True, range=(0, None)),
    )

    def build(self, context):
        """Check ``silent_action`` against ``n_actions``, then build."""
        if self.silent_action is not None and self.silent_action >= self.n_actions:
            raise ConfigError(f"{self.owner}.silent_action = {self.silent_action}; expected an "
                              f"index below n_actions = {self.n_actions}")
        super().build(context)
        self._index = np.arange(self.n_actions, dtype=np.float64)

    def __call__(self, counts, duration_ms):
        rates = self.group_rates(counts, duration_ms)
        total = rates.sum(axis=1)
        silent = (self.n_actions - 1) // 2 if self.silent_action is None else self.silent_action
        mean = np.divide(rates @ self._index, total, out=np.full(total.shape, float(silent)),
                         where=total > 0)
        return np.floor(mean + 0.5).astype(np.int64)
