"""Refractory bookkeeping shared by the integrate-and-fire models.

A neuron that spikes at step ``t`` with ``steps = ceil(refractory / dt)``
ignores input on steps ``t+1 .. t+steps`` and fires again at ``t+steps+1`` at
the earliest, the convention of :class:`~spikey.snn.neuron.lif.LIF`. (This
belongs in the family's ``template.py``; it lives here until that file is free
to change.)
"""

from __future__ import annotations

import math

import numpy as np


def refractory_steps(refractory: float, dt: float) -> int:
    """Whole network steps covered by a refractory period of ``refractory`` ms."""
    return int(math.ceil(refractory / dt - 1e-9))


class RefractoryClock:
    """Per-neuron refractory counters, ``(B, N)``.

    Call :meth:`tick` at the start of a step: ``open`` then marks the neurons
    that take input and may fire this step, ``closed`` the others, and the
    closed ones count one step down. Call :meth:`start` with the step's
    spikes (already masked by ``open``) to begin their periods.

    Parameters
    ----------
    shape : tuple
        ``(B, N)``.
    """

    def __init__(self, shape):
        #: Steps each neuron still ignores input (a part's saved state).
        self.left = np.zeros(shape, dtype=np.int32)
        self.open = np.ones(shape, dtype=bool)
        self.closed = np.zeros(shape, dtype=bool)

    def tick(self) -> None:
        np.less_equal(self.left, 0, out=self.open)
        np.logical_not(self.open, out=self.closed)
        self.left -= self.closed

    def start(self, spikes: np.ndarray, steps) -> None:
        """Begin a period of ``steps`` (an int or a ``(B, N)`` array) where ``spikes``."""
        np.copyto(self.left, steps, where=spikes, casting="unsafe")

    def reset(self) -> None:
        self.left[...] = 0
        self.open[...] = True
        self.closed[...] = False
