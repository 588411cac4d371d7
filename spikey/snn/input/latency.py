r"""Latency (time-to-first-spike) coding: brighter pixels spike earlier, once per tick.

``encode`` starts a window of :math:`n_w` = `window` / :math:`\Delta t` steps. Pixel
:math:`i` of intensity :math:`x_i \in [0, 1]` spikes exactly once, at step
(counted from 0 after ``encode``)

.. math::

   k_i = \mathrm{round}\big((1 - x_i)(n_w - 1)\big) \quad (\texttt{code='linear'}),

   k_i = \mathrm{round}\big(\tau \ln\tfrac{x_i}{x_i - \theta} / \Delta t\big)
   \quad (\texttt{code='log'}, \text{ an RC neuron charged by } x_i
   \text{ reaching threshold } \theta),

and never when :math:`x_i \le \theta` (`threshold`) or :math:`k_i \ge n_w`. With
`period` > 0 the pattern repeats every `period` ms within a tick (a tick longer than
the window otherwise stays silent after it). The code is deterministic: no random
draws.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.input.template import Input


class Latency(Input):
    """One spike per pixel per window, earlier for brighter pixels.

    Examples
    --------
    An 8x8 digit coded in the first 20 ms of each tick:

    >>> Latency(n_pixels=64, window=20.0).config["code"]
    'linear'
    """

    KEYS = (
        Key("n_pixels", "int", "Pixels per observation (e.g. 64 for 8x8 images).", range=(1, None)),
        Key("window", "float", "Coding window (ms): intensity 1 spikes at its start, intensities "
            "near the threshold near its end.", 20.0, range=(1e-6, None)),
        Key("threshold", "float", "Intensities at or below this never spike.", 0.0,
            range=(0, 1)),
        Key("code", "str", "Spike time as a function of intensity: 'linear' (1 - x) or 'log' "
            "(tau ln(x / (x - threshold)), an RC neuron's time to threshold).", "linear",
            choices=("linear", "log")),
        Key("tau", "float", "Time constant of the 'log' code (ms).", 5.0, range=(1e-6, None)),
        Key("period", "float", "Repeat the pattern every this many ms within a tick (0: once "
            "per tick).", 0.0, range=(0, None)),
    ) + Input.KEYS
    FIXED = Input.FIXED + ("n_pixels",)
    STATE = ("spikes", "spike_step", "step_index")

    @property
    def n_inputs(self) -> int:
        """Number of input neurons, one per pixel."""
        return self.config["n_pixels"]

    def build(self, context):
        """Allocate spikes, each pixel's spike step and the step counter."""
        super().build(context)
        self.spike_step = np.full((context.batch_size, self.n_inputs), -1, dtype=np.int64)
        self.step_index = np.zeros(1, dtype=np.int64)

    def derive(self):
        """Check that the window and the period hold at least one step."""
        super().derive()
        if self.context is None:
            return
        self.window_steps = int(round(self.window / self.context.dt))
        self.period_steps = int(round(self.period / self.context.dt))
        if self.window_steps < 1:
            raise ConfigError(f"{self.owner}.window = {self.window} ms is shorter than one step "
                              f"(dt = {self.context.dt} ms)")
        if self.period > 0 and self.period_steps < self.window_steps:
            raise ConfigError(f"{self.owner}.period = {self.period} ms is shorter than window = "
                              f"{self.window} ms; expected period >= window, or 0 (once per tick)")
        if self.code == "log" and self.threshold <= 0.0:
            raise ConfigError(f"{self.owner}: code 'log' needs threshold > 0 (got "
                              f"{self.threshold}): the time to reach it is tau ln(x / (x - threshold))")

    def reset(self):
        """Clear spikes and forget the pattern."""
        super().reset()
        self.spike_step[...] = -1
        self.step_index[0] = 0

    def spike_steps(self, x) -> np.ndarray:
        """Step of each pixel's spike after ``encode`` (-1: none), intensities ``(B, n_pixels)``.

        Parameters
        ----------
        x : numpy.ndarray
            Intensities in ``[0, 1]``.

        Returns
        -------
        numpy.ndarray
            ``int64`` steps, ``-1`` for pixels that stay silent.
        """
        fires = x > self.threshold
        if self.code == "linear":
            k = np.round((1.0 - x) * (self.window_steps - 1))
        else:
            safe = np.where(fires, x, 1.0)
            k = np.round(self.tau * np.log(safe / (safe - self.threshold)) / self.context.dt)
        k = np.where(fires & (k < self.window_steps), k, -1)
        return k.astype(np.int64)

    def encode(self, state):
        """Compute each pixel's spike step and restart the window, observations ``(B, n_pixels)``.

        Raises
        ------
        ValueError
            When an intensity lies outside ``[0, 1]`` or the shape is wrong.
        """
        x = self._pixels(state, self.n_pixels)
        self.spike_step[...] = self.spike_steps(x)
        self.step_index[0] = 0

    def step(self):
        """Spikes of the pixels whose time has come this step."""
        k = int(self.step_index[0])
        if self.period_steps > 0:
            k %= self.period_steps
        np.equal(self.spike_step, k, out=self.spikes)
        self.step_index[0] += 1
        return self.spikes
