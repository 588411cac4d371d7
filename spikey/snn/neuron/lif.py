r"""Leaky integrate-and-fire neuron.

The membrane potential :math:`V` (mV, relative to rest) leaks towards rest
with time constant :math:`\tau` and integrates the synaptic input
:math:`I_t` (mV per step, the sum of the weights of arriving spikes):

.. math::

    V_{t+1} = V_t\, e^{-\Delta t/\tau} + I_t + \sigma\,\xi_t

where :math:`\xi_t \sim U(-\sqrt 3, \sqrt 3)` is unit-variance noise. A neuron
spikes when :math:`V \ge \theta`, or spontaneously with probability
:math:`r\,\Delta t`; it is then set to ``reset_potential`` and ignores input for
``refractory`` ms (held there). The period :math:`R` covers the
:math:`\lceil R/\Delta t \rceil` steps *after* the spike step, so the shortest
inter-spike interval is :math:`R + \Delta t` (Brian2's ``refractory=R`` gives
:math:`R`). Under a constant input :math:`I` from
rest, :math:`V_n = I (1 - d^n)/(1 - d)` with :math:`d = e^{-\Delta t/\tau}`.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.core.part import RandomBlocks
from spikey.snn import kernels
from spikey.snn.neuron.template import Neuron, RefractoryClock, refractory_steps


class LIF(Neuron):
    """Leaky integrate-and-fire neurons with refractory period and optional noise.

    Examples
    --------
    >>> from spikey.snn.neuron.lif import LIF
    >>> LIF(n_neurons=61, tau=20.0, threshold=16.0).config["threshold"]
    16.0
    """

    KEYS = Neuron.KEYS + (
        Key("tau", "float", "Membrane time constant (ms).", 20.0, range=(1e-6, None), unit="ms"),
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
        self._clock = RefractoryClock((B, n))
        self.refractory_left = self._clock.left
        self.derive()

    def derive(self):
        super().derive()
        if self.context is None:
            return
        dt = self.context.dt
        dtype = self.context.dtype.type
        self.decay = self.member_column(np.exp(-dt / np.asarray(self.tau, dtype=np.float64)))
        self.threshold_value = self.member_column(self.threshold)
        self.refractory_steps = refractory_steps(self.refractory, dt)
        self.spontaneous_p = dtype(self.spontaneous_rate * dt / 1000.0)
        self.noise_scale = dtype(self.potential_noise * math.sqrt(12.0))
        self._noisy = self.spontaneous_rate > 0 or self.potential_noise > 0
        self._k_threshold_source = None  # the kernel path re-reads decay and threshold
        if self._noisy and getattr(self, "_noise", None) is None:
            # Created when noise is first switched on (at build or by set()):
            # columns [0, n) decide spontaneous spikes, [n, 2n) the potential noise.
            self._noise = RandomBlocks(self.context.generators(f"{self.slot}.noise"),
                                       2 * self.n_neurons, self.context.dtype,
                                       activity=self.context.activity)

    def reset(self):
        super().reset()
        self.potential[...] = 0.0
        self._clock.reset()

    def on_forced_spike(self, mask):
        np.copyto(self.potential, self.reset_potential, where=mask, casting="unsafe")
        if self.refractory_steps:
            self._clock.start(mask, self.refractory_steps)

    def step(self, synaptic_input):
        if self.context.kernels and not self._noisy:
            return self._kernel_step(synaptic_input)
        v = self.potential
        v *= self.decay
        clock = self._clock
        if self.refractory_steps:
            clock.tick()
            v += synaptic_input * clock.open
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
            spikes &= clock.open
            np.copyto(v, self.reset_potential, where=clock.closed, casting="unsafe")
            clock.start(spikes, self.refractory_steps)
        np.copyto(v, self.reset_potential, where=spikes, casting="unsafe")
        return spikes

    def _kernel_step(self, synaptic_input):
        """The same step as :meth:`step` in one compiled pass (:mod:`spikey.snn.kernels`)."""
        context, clock = self.context, self._clock
        decay, threshold = self.kernel_arrays()
        kernels.lif_step(self.potential, synaptic_input, decay, threshold,
                         context.dtype.type(self.reset_potential), clock.left, clock.open,
                         clock.closed, self.refractory_steps, self.spikes)
        return self.spikes

    def kernel_arrays(self) -> tuple:
        """``(decay (B,), threshold (B, 1 or N))`` as the compiled LIF step takes them."""
        context = self.context
        threshold = self.threshold_value
        if threshold is not getattr(self, "_k_threshold_source", None):
            # a scalar, (B, 1) or per-neuron (B, N) threshold, as a 2-d array
            value = np.asarray(threshold, dtype=context.dtype)
            self._k_threshold = np.ascontiguousarray(np.broadcast_to(
                value.reshape(-1, value.shape[-1]) if value.ndim == 2 else value.reshape(1, 1),
                (context.batch_size, value.shape[-1] if value.ndim == 2 else 1)))
            self._k_threshold_source = threshold
            self._k_decay = kernels.per_member(self.decay, context.batch_size, context.dtype)
        return self._k_decay, self._k_threshold

    def fused_arguments(self) -> tuple | None:
        """What :func:`spikey.snn.kernels.run_tick` needs, or None if this step can't be fused."""
        if self._noisy or type(self).step is not LIF.step:
            return None  # noise draws, or a subclass with its own step
        decay, threshold = self.kernel_arrays()
        clock = self._clock
        return (self.potential, decay, threshold, self.context.dtype.type(self.reset_potential),
                clock.left, clock.open, clock.closed, self.refractory_steps, self.spikes)
