r"""Surrogate derivatives of the spike threshold.

A neuron spikes when :math:`x = u - \theta_{\mathrm{eff}} \ge 0` (:math:`u` the
potential before the reset, :math:`\theta_{\mathrm{eff}}` the threshold, raised by
the adaptation for ``AdaptiveLIF(adaptation="threshold")``). The forward pass keeps
the step :math:`H(x)`; the backward pass replaces :math:`H'(x)` by a surrogate
:math:`\psi(x)` of width :math:`w` (``surrogate_scale``, mV). Each surrogate is the
derivative of a smooth *primitive* :math:`\sigma(x)` rising from 0 to 1, which the
gradient checks run in place of :math:`H`:

``fast_sigmoid`` (Zenke & Ganguli 2018):

.. math::

    \sigma(x) = \tfrac12 + \tfrac12\,\frac{x/w}{1 + |x|/w}, \qquad
    \psi(x) = \frac{1}{2w\,(1 + |x|/w)^2}

``piecewise_linear`` (a triangle, Bellec et al. 2018):

.. math::

    \psi(x) = \frac{\max(0,\ 1 - |x|/w)}{w}, \qquad
    \sigma(x) = \begin{cases} 0 & x < -w \\ \tfrac12 (1 + x/w)^2 & -w \le x < 0 \\
    1 - \tfrac12 (1 - x/w)^2 & 0 \le x < w \\ 1 & x \ge w \end{cases}

Both integrate to 1 and peak at :math:`x = 0`: :math:`\psi(0) = 1/(2w)` and :math:`1/w`.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError

#: The surrogate names a config may give.
SURROGATES = ("fast_sigmoid", "piecewise_linear")


class Surrogate:
    """A surrogate derivative and its smooth primitive.

    Parameters
    ----------
    kind : str
        ``"fast_sigmoid"`` or ``"piecewise_linear"``.
    scale : float
        Width :math:`w` in mV (> 0).

    Examples
    --------
    >>> s = Surrogate("piecewise_linear", 2.0)
    >>> float(s.derivative(np.array(0.0)))
    0.5
    """

    def __init__(self, kind: str, scale: float):
        if kind not in SURROGATES:
            raise ConfigError(f"gradient.surrogate = {kind!r} is not allowed; expected one of "
                              f"{list(SURROGATES)}")
        if not (isinstance(scale, (int, float)) and np.isfinite(scale) and scale > 0):
            raise ConfigError(f"gradient.surrogate_scale = {scale!r}; expected a finite number > 0 "
                              "(the surrogate's width in mV)")
        self.kind, self.scale = kind, float(scale)

    def derivative(self, x: np.ndarray, out=None) -> np.ndarray:
        """The surrogate :math:`\\psi(x)`, in ``out`` (a float64 array of x's shape) or a new
        array."""
        w = self.scale
        out = np.abs(x, out=np.empty(np.shape(x)) if out is None else out)  # in place
        out *= 1.0 / w
        if self.kind == "fast_sigmoid":
            out += 1.0
            np.square(out, out=out)
            out *= w
            return np.divide(0.5, out, out=out)
        np.subtract(1.0, out, out=out)
        np.maximum(out, 0.0, out=out)
        out *= 1.0 / w
        return out

    def primitive(self, x: np.ndarray) -> np.ndarray:
        """The smooth step :math:`\\sigma(x)` whose derivative is :meth:`derivative`."""
        w = self.scale
        r = np.asarray(x, dtype=np.float64) / w
        if self.kind == "fast_sigmoid":
            return 0.5 + 0.5 * r / (1.0 + np.abs(r))
        c = np.clip(r, -1.0, 1.0)
        return np.where(c < 0, 0.5 * (1.0 + c) ** 2, 1.0 - 0.5 * (1.0 - c) ** 2)

    def __repr__(self) -> str:
        return f"Surrogate({self.kind!r}, {self.scale:g})"
