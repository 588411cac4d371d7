r"""Adaptive leaky integrate-and-fire neuron: spike-triggered adaptation.

The potential :math:`V` (mV, relative to rest) is the :class:`~spikey.snn.neuron.lif.LIF`
potential with one adaptation variable :math:`a` (``adaptation``) added.
With :math:`d = e^{-\Delta t/\tau}`, :math:`d_a = e^{-\Delta t/\tau_a}`,
input :math:`I_t` (mV per step) and spikes :math:`s_t \in \{0, 1\}`:

``adaptation = "threshold"`` (a dynamic threshold, :math:`a` in mV):

.. math::

    V_{t+1} = d\,V_t + I_t, \qquad s_t = [V_{t+1} \ge \theta + a_t], \qquad
    a_{t+1} = d_a\, a_t + \delta\, s_t

``adaptation = "current"`` (a hyperpolarising current, :math:`a` in mV/ms):

.. math::

    V_{t+1} = d\,V_t + I_t - \Delta t\, a_t, \qquad s_t = [V_{t+1} \ge \theta], \qquad
    a_{t+1} = d_a\, a_t + \delta\, s_t

So :math:`\delta` (``adaptation_strength``) is the threshold rise (mV) or the
current (mV/ms) that each spike adds, and it decays back with ``tau_adapt``.
After a spike :math:`V` is set to ``reset_potential`` and, for ``refractory``
ms, held there with its input (and the adaptation current) ignored.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.snn.neuron.template import RefractoryClock, refractory_steps
from spikey.snn.neuron.template import Neuron


class AdaptiveLIF(Neuron):
    """LIF neurons with spike-triggered threshold or current adaptation.

    Examples
    --------
    >>> from spikey.snn.neuron.adaptive_lif import AdaptiveLIF
    >>> AdaptiveLIF(n_neurons=10, adaptation="current").config["tau_adapt"]
    100.0
    """

    KEYS = Neuron.KEYS + (
        Key("tau", "float", "Membrane time constant (ms).", 20.0, range=(1e-6, None), unit="ms"),
        Key("threshold", "float", "Firing threshold above rest without adaptation (mV).", 16.0,
            range=(1e-9, None)),
        Key("reset_potential", "float", "Potential after a spike, relative to rest (mV).", 0.0),
        Key("refractory", "float", "Refractory period (ms); input is ignored meanwhile.", 0.0,
            range=(0, None)),
        Key("adaptation", "str", "What a spike adapts: the threshold (raised by "
            "adaptation_strength mV) or a hyperpolarising current (adaptation_strength mV/ms).",
            "threshold", choices=("threshold", "current")),
        Key("adaptation_strength", "float", "Jump of the adaptation variable at each spike "
            "(mV for 'threshold', mV/ms for 'current').", 4.0, range=(0, None)),
        Key("tau_adapt", "float", "Decay time constant of the adaptation (ms).", 100.0,
            range=(1e-6, None), unit="ms"),
    )
    STATE = ("potential", "adaptation_level", "refractory_left", "spikes")

    def build(self, context):
        super().build(context)
        shape = (context.batch_size, self.n_neurons)
        self.potential = np.zeros(shape, dtype=context.dtype)
        #: The adaptation variable a: threshold rise (mV) or current (mV/ms).
        self.adaptation_level = np.zeros(shape, dtype=context.dtype)
        self._clock = RefractoryClock(shape)
        self.refractory_left = self._clock.left
        self._scratch = np.zeros(shape, dtype=context.dtype)
        self.derive()

    def derive(self):
        super().derive()
        if self.context is None:
            return
        dt, dtype = self.context.dt, self.context.dtype.type
        self.decay = dtype(math.exp(-dt / self.tau))
        self.adaptation_decay = dtype(math.exp(-dt / self.tau_adapt))
        self.refractory_steps = refractory_steps(self.refractory, dt)
        self._current_scale = dtype(-dt)

    def reset(self):
        super().reset()
        self.potential[...] = 0.0
        self.adaptation_level[...] = 0.0
        self._clock.reset()

    @property
    def effective_threshold(self) -> np.ndarray:
        """The threshold each neuron faces now, ``(B, N)`` (a new array)."""
        if self.adaptation == "threshold":
            return self.threshold + self.adaptation_level
        return np.full_like(self.potential, self.threshold)

    def step(self, synaptic_input):
        v, a, s = self.potential, self.adaptation_level, self._scratch
        clock = self._clock
        clock.tick()
        v *= self.decay
        if self.adaptation == "current":
            np.multiply(a, self._current_scale, out=s)
            s += synaptic_input
            s *= clock.open
        else:
            np.multiply(synaptic_input, clock.open, out=s)
        v += s
        spikes = self.spikes
        if self.adaptation == "threshold":
            np.add(a, self.threshold, out=s)
            np.greater_equal(v, s, out=spikes)
        else:
            np.greater_equal(v, self.threshold, out=spikes)
        spikes &= clock.open
        np.copyto(v, self.reset_potential, where=clock.closed)
        np.copyto(v, self.reset_potential, where=spikes)
        a *= self.adaptation_decay
        np.add(a, self.adaptation_strength, out=a, where=spikes)
        clock.start(spikes, self.refractory_steps)
        return spikes
