r"""Regularizers: L1 / L2 on weights and a firing-rate penalty on spikes.

- ``l1``: :math:`R = \lambda_1 \sum |w|`, :math:`\partial R/\partial w = \lambda_1\,\mathrm{sign}(w)`
- ``l2``: :math:`R = \tfrac12 \lambda_2 \sum w^2`, :math:`\partial R/\partial w = \lambda_2 w`
- ``rate_regularization``: with :math:`r_{bj} = \frac{1000}{T\Delta t}\sum_t z_{t,b,j}` (Hz),
  :math:`R = \lambda_r \frac{1}{B N}\sum_{b,j} (r_{bj} - r^*)^2` (``target_rate`` :math:`r^*`),
  :math:`\partial R/\partial z_{t,b,j} = \frac{2\lambda_r}{BN} (r_{bj} - r^*) \frac{1000}{T\Delta t}`.

The weight penalties count only trainable entries.
"""

from __future__ import annotations

import numpy as np


def weight_penalty(weights: np.ndarray, trainable: np.ndarray, l1: float = 0.0,
                   l2: float = 0.0) -> tuple:
    """``(R, dR/dw)`` of the L1 and L2 penalties over the ``trainable`` entries."""
    w = weights * trainable
    value = l1 * float(np.abs(w).sum()) + 0.5 * l2 * float((w ** 2).sum())
    return value, l1 * np.sign(w) + l2 * w


def rate_penalty(spikes: np.ndarray, dt: float, strength: float, target_rate: float) -> tuple:
    """``(R, dR/dz)`` of the firing-rate penalty on time-major spikes ``(T, B, N)``."""
    T, B, N = spikes.shape
    to_hz = 1000.0 / (T * dt)
    rates = spikes.sum(axis=0) * to_hz
    diff = rates - target_rate
    value = strength * float((diff ** 2).sum()) / (B * N)
    grad = np.broadcast_to(2.0 * strength * diff * to_hz / (B * N), (T, B, N))
    return value, grad
