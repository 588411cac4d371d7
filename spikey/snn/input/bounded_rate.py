r"""Rate coding with per-dimension bounds.

Each of the ``n_dims`` observation values :math:`x_d` drives its own group of
``n_per_dim`` inputs at the rate

.. math:: r_d = r_{max}\,\frac{\mathrm{clip}(x_d, \mathrm{low}_d, \mathrm{high}_d) - \mathrm{low}_d}
    {\mathrm{high}_d - \mathrm{low}_d}

(Hz): silent at ``low``, ``max_rate`` at ``high``, and clipped outside. Spikes
are Bernoulli trials of probability :math:`r_d\,\Delta t` per step
(``spike_model='poisson'``) or regular. Unlike :class:`~spikey.snn.input.RateMap`,
every dimension has its own range, so raw gymnasium ``Box`` observations can be
fed in unscaled.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.snn.input.template import SPIKE_MODEL, Input, _RateCoded, dim_bounds


class BoundedRate(_RateCoded, Input):
    """One input group per observation value, its rate linear in the value within bounds.

    Examples
    --------
    MountainCar-v0: position in [-1.2, 0.6] m, velocity in [-0.07, 0.07]:

    >>> BoundedRate(n_dims=2, low=[-1.2, -0.07], high=[0.6, 0.07]).n_inputs
    20
    """

    KEYS = (
        Key("n_dims", "int", "Observation values per member.", range=(1, None)),
        Key("n_per_dim", "int", "Input neurons per observation value.", 10, range=(1, None)),
        Key("low", ("float", "list"), "Value (scalar or one per dim) that gives rate 0.", 0.0),
        Key("high", ("float", "list"), "Value (scalar or one per dim) that gives max_rate.", 1.0),
        Key("max_rate", "float", "Rate (Hz) at high.", 40.0, range=(0, None)),
        SPIKE_MODEL,
    ) + Input.KEYS
    STATE = ("spikes", "probability", "phase")

    @property
    def n_inputs(self) -> int:
        """``n_dims * n_per_dim``."""
        return self.n_dims * self.n_per_dim

    def build(self, context):
        """Allocate spikes and the per-member random blocks of the spike draws."""
        super().build(context)
        self.build_random(context)

    def derive(self):
        """Check the bounds and precompute each dimension's offset and span."""
        super().derive()
        low, high = dim_bounds(self)
        self._low, self._span = low, high - low

    def encode(self, state):
        """Set each input's spike probability from its dimension's value, ``(B, n_dims)``."""
        x = self._batched(state, self.n_dims)
        level = np.clip((x - self._low) / self._span, 0.0, 1.0)
        p = level * (self.max_rate * self.context.dt / 1000.0)
        self.probability[...] = np.repeat(p, self.n_per_dim, axis=1)
