r"""Rate coding of pixel intensities: one input neuron (or more) per pixel.

Pixel :math:`i` of intensity :math:`x_i \in [0, 1]` fires at

.. math:: r_i = r_{min} + x_i\,(r_{max} - r_{min}) \quad \text{(Hz)},

that is with probability :math:`p_i = r_i\,\Delta t / 1000` per step: a Bernoulli
trial per step (`spike_model='poisson'`, a Poisson process sampled on the step
grid, mean count :math:`p_i T` and variance :math:`p_i (1 - p_i) T` over
:math:`T` steps) or a regular train of the same rate (`'regular'`). With
`n_per_pixel` > 1, input :math:`i \cdot n + k` is the :math:`k`-th copy of pixel
:math:`i` (independent draws). With `total_intensity` :math:`S`, each image is first
rescaled to :math:`x_i \leftarrow \min(1, S x_i / \sum_j x_j)` (a blank image stays
blank). Intensities outside :math:`[0, 1]` are refused,
not clipped: raw bytes (0..255) or raw digits (0..16) must be scaled first.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.input.template import SPIKE_MODEL, Input, _RateCoded


class PixelRate(_RateCoded, Input):
    """Poisson (or regular) spikes at a rate linear in each pixel's intensity.

    Examples
    --------
    An 8x8 digit at up to 100 Hz, one input per pixel:

    >>> PixelRate(n_pixels=64, max_rate=100.0).config["max_rate"]
    100.0
    """

    KEYS = (
        Key("n_pixels", "int", "Pixels per observation (e.g. 64 for 8x8 images).", range=(1, None)),
        Key("n_per_pixel", "int", "Input neurons per pixel (independent copies).", 1,
            range=(1, None)),
        Key("max_rate", "float", "Rate (Hz) of a pixel of intensity 1.", 100.0, range=(0, None)),
        Key("min_rate", "float", "Rate (Hz) of a pixel of intensity 0.", 0.0, range=(0, None)),
        Key("total_intensity", "float", "Scale each image so its intensities sum to this (then "
            "clip to 1), so faint and bold images drive the inputs alike; None: as given.", None,
            nullable=True, range=(1e-9, None)),
        SPIKE_MODEL,
    ) + Input.KEYS
    FIXED = Input.FIXED + ("n_pixels", "n_per_pixel")
    STATE = ("spikes", "probability", "phase")

    @property
    def n_inputs(self) -> int:
        """Number of input neurons, ``n_pixels * n_per_pixel``."""
        return self.config["n_pixels"] * self.config["n_per_pixel"]

    def build(self, context):
        """Allocate spikes, spike probabilities and random blocks."""
        super().build(context)
        self.build_random(context)

    def derive(self):
        """Check that the rate range is increasing and each rate gives p <= 1 per step."""
        super().derive()
        if self.min_rate > self.max_rate:
            raise ConfigError(f"{self.owner}: min_rate = {self.min_rate} exceeds max_rate = "
                              f"{self.max_rate}; expected min_rate <= max_rate (Hz)")
        if self.context is not None and self.max_rate * self.context.dt / 1000.0 > 1.0:
            raise ConfigError(f"{self.owner}.max_rate = {self.max_rate} Hz exceeds one spike per "
                              f"step (dt = {self.context.dt} ms); expected at most "
                              f"{1000.0 / self.context.dt:g} Hz")

    def encode(self, state):
        """Set every input's spike probability from its pixel, observations ``(B, n_pixels)``.

        Raises
        ------
        ValueError
            When an intensity lies outside ``[0, 1]`` or the shape is wrong.
        """
        x = self._pixels(state, self.n_pixels)
        if self.total_intensity is not None:
            total = x.sum(axis=1, keepdims=True)
            x = np.clip(np.divide(x * self.total_intensity, total, out=np.zeros_like(x),
                                  where=total > 0), 0.0, 1.0)
        rates = self.min_rate + x * (self.max_rate - self.min_rate)
        p = rates * (self.context.dt / 1000.0)
        self.probability[...] = np.repeat(p, self.n_per_pixel, axis=1) if self.n_per_pixel > 1 else p
