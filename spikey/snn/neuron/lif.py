r"""Leaky integrate-and-fire neuron.

The membrane potential :math:`V` (mV, relative to rest) leaks towards rest
with time constant :math:`\tau` and integrates the synaptic input
:math:`I_t` (mV per step, the sum of the weights of arriving spikes):

.. math::

    V_{t+1} = V_t\, e^{-\Delta t/\tau} + I_t + \sigma\,\xi_t

where :math:`\xi_t \sim U(-\sqrt 3, \sqrt 3)` is unit-variance noise. A neuron
spikes when :math:`V \ge \theta`, or spontaneously with probability
:math:`r\,\Delta t`; it is then set to ``reset_potential`` and ignores input for
``refractory`` ms (held there). Under a constant input :math:`I` from
rest, :math:`V_n = I (1 - d^n)/(1 - d)` with :math:`d = e^{-\Delta t/\tau}`.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.snn.neuron.template import Neuron
from spikey.core.part import RandomBlocks


class LIF(Neuron):
    """Leaky integrate-and-fire neurons with refractory period and optional noise.

    Examples
    --------
    >>> from spikey.snn.neuron.lif import LIF
    >>> LIF(n_neurons=61, tau=20.0, threshold=16.0).config["threshold"]
    16.0
    """

    KEYS = Neuron.KEYS + (
        Key("tau", "float", "Membrane time constant (ms).", 20.0, range=(1e-6, None)),
        Key("threshold", "float", "Firing threshold above rest (mV).", 16.0, range=(1e-9, None)),
        Key("reset_potential", "float", "Potential after a spike, relative to rest (mV).", 0.0),
        Key("refractory", "float", "Refractory period (ms); input is ignored meanwhile.", 0.0,
            range=(0, None)),
        Key("spontaneous_rate", "float", "Rate of random extra spikes (Hz).", 0.0, range=(0, None)),
        Key("potential_noise", "float", "Standard deviation of potential noise per step (mV).", 0.0,
            range=(0, None)),
    )
    STATE = ("potential", "refractory_left", "spikes")
    PER_MEMBER = ("tau", "threshold")

    def build(self, context):
        super().build(context)
        B, n = context.batch_size, self.n_neurons
        self.potential = np.zeros((B, n), dtype=context.dtype)
        self.refractory_left = np.zeros((B, n), dtype=np.int32)
        self._active = np.zeros((B, n), dtype=bool)
        self.derive()

    def derive(self):
        super().derive()
        if self.context is None:
            return
        dt = self.context.dt
        dtype = self.context.dtype.type
        self.decay = self.member_column(np.exp(-dt / np.asarray(self.tau, dtype=np.float64)))
        self.threshold_value = self.member_column(self.threshold)
        self.refractory_steps = int(math.ceil(self.refractory / dt - 1e-9))
        self.spontaneous_p = dtype(self.spontaneous_rate * dt / 1000.0)
        self.noise_scale = dtype(self.potential_noise * math.sqrt(12.0))
        self._noisy = self.spontaneous_rate > 0 or self.potential_noise > 0
        if self._noisy and getattr(self, "_noise", None) is None:
            # Created when noise is first switched on (at build or by set()):
            # columns [0, n) decide spontaneous spikes, [n, 2n) the potential noise.
            self._noise = RandomBlocks(self.context.generators(f"{self.slot}.noise"),
                                       2 * self.n_neurons, self.context.dtype)

    def reset(self):
        super().reset()
        self.potential[...] = 0.0
        self.refractory_left[...] = 0

    def step(self, synaptic_input):
        v = self.potential
        v *= self.decay
        if self.refractory_steps:
            np.less_equal(self.refractory_left, 0, out=self._active)
            v += synaptic_input * self._active
        else:
            v += synaptic_input
        spikes = self.spikes
        if self._noisy:
            u = self._noise.next()
            n = self.n_neurons
            if self.potential_noise > 0:
                v += (u[:, -n:] - 0.5) * self.noise_scale
            np.greater_equal(v, self.threshold_value, out=spikes)
            if self.spontaneous_rate > 0:
                spikes |= u[:, :n] < self.spontaneous_p
        else:
            np.greater_equal(v, self.threshold_value, out=spikes)
        if self.refractory_steps:
            spikes &= self._active
            np.logical_not(self._active, out=self._active)
            self.refractory_left -= self._active  # count down only refractory neurons
            self.refractory_left[spikes] = self.refractory_steps
            v[self._active] = self.reset_potential
        v[spikes] = self.reset_potential
        return spikes
