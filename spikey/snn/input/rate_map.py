r"""Rate coding: each observation value sets the firing rate of one input group.

The ``n_inputs`` input neurons are split into ``n_dims`` equal groups, one per
observation value. A value :math:`x` gives the rate

.. math:: r = \mathrm{rate\_map}[x] \quad\text{or}\quad r = \mathrm{clip}(x, 0, 1)\, r_{max}

(Hz), and every input of its group spikes independently with probability
:math:`r\,\Delta t` per step (a Poisson process sampled on the step grid).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.input.template import SPIKE_MODEL, Input, _RateCoded, check_groups


class RateMap(_RateCoded, Input):
    """Poisson (Bernoulli per step) spikes whose rate is a function of the state.

    Examples
    --------
    Florian (2007) XOR: 2 bits, 30 inputs each, 40 Hz for a 1, silent for a 0:

    >>> RateMap(n_inputs=60, n_dims=2, rate_map=[0.0, 40.0]).config["rate_map"]
    [0.0, 40.0]
    """

    KEYS = (
        Key("n_inputs", "int", "Number of input neurons.", range=(1, None)),
        Key("n_dims", "int", "Observation values per member (one input group each).", 1,
            range=(1, None)),
        Key("max_rate", "float", "Rate (Hz) for a value of 1 when rate_map is None; values are "
            "clipped to [0, 1].", 40.0, range=(0, None)),
        Key("rate_map", "list", "Rates (Hz) indexed by integer observation value, e.g. [0, 40].",
            None, nullable=True),
        SPIKE_MODEL,
    ) + Input.KEYS
    STATE = ("spikes", "probability", "phase")

    def build(self, context):
        """Split the inputs into ``n_dims`` groups; allocate spikes and random blocks."""
        self.group_size = check_groups(self.owner, self.n_inputs, self.n_dims)
        super().build(context)
        self.build_random(context)

    def derive(self):
        """Check ``rate_map`` (a flat list of rates >= 0) and keep it as a lookup table."""
        super().derive()
        self._table = None
        if self.rate_map is not None:
            table = np.asarray(self.rate_map, dtype=np.float64)
            if table.ndim != 1 or not np.all(np.isfinite(table)) or np.any(table < 0):
                raise ConfigError(f"{self.owner}.rate_map = {self.rate_map}; expected a flat list "
                                  "of rates >= 0 (Hz)")
            self._table = table

    def encode(self, state):
        """Set each group's spike probability from its value, observations ``(B, n_dims)``.

        Raises
        ------
        ValueError
            With ``rate_map``, when a value is not an integer index into it.
        """
        x = self._batched(state, self.n_dims)
        if self.rate_map is not None:
            index = x.astype(np.int64)
            if np.any(index != x) or np.any(index < 0) or np.any(index >= len(self._table)):
                raise ValueError(
                    f"{self.owner}: observation {x.tolist()} must hold integers in "
                    f"[0, {len(self._table) - 1}] to index rate_map"
                )
            rates = self._table[index]
        else:
            rates = np.clip(x, 0.0, 1.0) * self.max_rate
        p = rates * (self.context.dt / 1000.0)
        self.probability[...] = np.repeat(p, self.group_size, axis=1)
