r"""Population (radial basis function) coding of continuous observations.

Each of the ``n_dims`` observation values :math:`x_d` drives ``n_per_dim``
inputs whose preferred values :math:`c_k` are evenly spaced over
``[low_d, high_d]``. Input :math:`k` fires with rate

.. math:: r_k = r_{max} \exp\!\left(-\frac{(x_d - c_k)^2}{2 \sigma^2}\right),
    \qquad \sigma = \mathrm{width} \cdot (c_{k+1} - c_k)

(Hz), sampled as a Bernoulli trial per step. Values outside the bounds are
clipped to them.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.snn.input.template import SPIKE_MODEL, Input, _RateCoded, dim_bounds


class Population(_RateCoded, Input):
    """Gaussian receptive fields over each observation dimension."""

    KEYS = (
        Key("n_dims", "int", "Observation values per member.", range=(1, None)),
        Key("n_per_dim", "int", "Input neurons per observation value.", 10, range=(2, None)),
        Key("low", ("float", "list"), "Lower bound of each value (scalar or one per dim).", 0.0),
        Key("high", ("float", "list"), "Upper bound of each value (scalar or one per dim).", 1.0),
        Key("width", "float", "Tuning width in units of the centre spacing.", 1.0,
            range=(1e-6, None)),
        Key("max_rate", "float", "Rate (Hz) at the preferred value.", 100.0, range=(0, None)),
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
        """Check the bounds and place the receptive-field centres and widths."""
        super().derive()
        low, high = dim_bounds(self)
        self._low, self._high = low, high
        self.centres = np.linspace(low, high, self.n_per_dim, axis=1)  # (d, k)
        self.sigma = (high - low)[:, None] / (self.n_per_dim - 1) * self.width

    def encode(self, state):
        """Set each input's spike probability from its tuning curve, observations ``(B, n_dims)``.
        """
        x = self._batched(state, self.n_dims)
        B = x.shape[0]
        buffers = getattr(self, "_encode_buffers", None)
        if buffers is None or buffers[0].shape[0] != B:
            buffers = self._encode_buffers = (np.empty((B, self.n_dims)),
                                              np.empty((B, self.n_dims, self.n_per_dim)))
        clipped, z = buffers
        # max_rate * exp(-0.5 * ((clip(x) - c) / sigma) ** 2) * dt, the same operations in
        # the same order as written out, in place (a closed loop encodes every tick)
        np.maximum(x, self._low, out=clipped)  # np.clip for the finite values _batched allows
        np.minimum(clipped, self._high, out=clipped)
        np.subtract(clipped[:, :, None], self.centres, out=z)
        np.divide(z, self.sigma, out=z)
        np.square(z, out=z)
        np.multiply(z, -0.5, out=z)
        np.exp(z, out=z)
        np.multiply(z, self.max_rate, out=z)
        np.multiply(z, self.context.dt / 1000.0, out=z)
        self.probability[...] = z.reshape(B, -1)
