r"""Conductance-based leaky integrate-and-fire neuron.

The membrane potential :math:`V` (mV, absolute) obeys

.. math::

    C\,\dot V = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V),
    \qquad \tau_e\,\dot g_e = -g_e, \qquad \tau_i\,\dot g_i = -g_i,

with :math:`C = g_L \tau_m`. A presynaptic spike does not inject current: it
opens channels. The excitatory input of a step (the summed weights from
excitatory neurons, :math:`\ge 0`) is added to :math:`g_e` and the absolute
inhibitory input to :math:`g_i`, in nS, at the start of the step. When
:math:`V \ge \theta` the neuron spikes, :math:`V` is set to
``reset_potential`` and held there for ``refractory`` ms; the conductances
keep integrating their input meanwhile.

Integration. Each step is split into :math:`n = \lceil \Delta t/h_{max}\rceil`
sub-steps of :math:`h`. Over a sub-step the conductances decay exactly and
are replaced by their mean, :math:`\bar g = g\,\tfrac{\tau}{h}(1 - e^{-h/\tau})`;
with them constant, the membrane equation is linear and solved exactly:

.. math::

    V \leftarrow V_\infty + (V - V_\infty)\, e^{-h\, g_{tot}/C},\qquad
    V_\infty = \frac{g_L E_L + \bar g_e E_e + \bar g_i E_i}{g_{tot}},\quad
    g_{tot} = g_L + \bar g_e + \bar g_i .

This is exact for constant conductances and unconditionally stable. Since
:math:`V_\infty` is a weighted mean of the reversal potentials, :math:`V`
never leaves :math:`[E_i, E_e]` (a final clip only removes rounding).
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.neuron.template import RefractoryClock, refractory_steps
from spikey.snn.neuron.template import Neuron


class ConductanceLIF(Neuron):
    """LIF neurons whose synapses open excitatory and inhibitory conductances.

    Weights are conductance increments in nS (the default leak is 10 nS, so a
    weight of 1 adds a tenth of the leak conductance).

    Examples
    --------
    >>> from spikey.snn.neuron.conductance_lif import ConductanceLIF
    >>> ConductanceLIF(n_neurons=100).config["inhibitory_reversal"]
    -80.0
    """

    SPLIT_INPUT = True
    KEYS = Neuron.KEYS + (
        Key("rest_potential", "float", "Leak reversal potential E_L (mV).", -70.0),
        Key("threshold", "float", "Firing threshold (mV).", -50.0),
        Key("reset_potential", "float", "Potential after a spike (mV).", -65.0),
        Key("excitatory_reversal", "float", "Excitatory reversal potential E_e (mV).", 0.0),
        Key("inhibitory_reversal", "float", "Inhibitory reversal potential E_i (mV).", -80.0),
        Key("tau_m", "float", "Membrane time constant C / g_L (ms).", 20.0,
            range=(1e-6, None), unit="ms"),
        Key("leak_conductance", "float", "Leak conductance g_L (nS).", 10.0, range=(1e-9, None)),
        Key("tau_e", "float", "Decay time constant of g_e (ms).", 5.0,
            range=(1e-6, None), unit="ms"),
        Key("tau_i", "float", "Decay time constant of g_i (ms).", 10.0,
            range=(1e-6, None), unit="ms"),
        Key("refractory", "float", "Refractory period (ms): V held at reset.", 2.0,
            range=(0, None)),
        Key("max_substep", "float", "Longest integration sub-step (ms).", 0.25,
            range=(1e-6, None)),
    )
    STATE = ("potential", "excitatory_conductance", "inhibitory_conductance", "refractory_left",
             "spikes")

    def build(self, context):
        super().build(context)
        shape = (context.batch_size, self.n_neurons)
        self.potential = np.zeros(shape, dtype=context.dtype)
        self.excitatory_conductance = np.zeros(shape, dtype=context.dtype)
        self.inhibitory_conductance = np.zeros(shape, dtype=context.dtype)
        self._clock = RefractoryClock(shape)
        self.refractory_left = self._clock.left
        self._mean_e = np.zeros(shape, dtype=context.dtype)
        self._mean_i = np.zeros(shape, dtype=context.dtype)
        self._total = np.zeros(shape, dtype=context.dtype)
        self.derive()

    def derive(self):
        super().derive()
        E_i, E_L, E_e = self.inhibitory_reversal, self.rest_potential, self.excitatory_reversal
        if not E_i <= E_L <= E_e:
            raise ConfigError(
                f"{self.owner}: rest_potential = {E_L} must lie between inhibitory_reversal = "
                f"{E_i} and excitatory_reversal = {E_e}")
        if not E_i <= self.reset_potential <= E_e:
            raise ConfigError(
                f"{self.owner}.reset_potential = {self.reset_potential}; expected a value between "
                f"inhibitory_reversal = {E_i} and excitatory_reversal = {E_e}")
        if not self.threshold < E_e:
            raise ConfigError(
                f"{self.owner}.threshold = {self.threshold}; expected a value below "
                f"excitatory_reversal = {E_e}, or the neuron could never fire")
        if self.context is None:
            return
        dt, dtype = self.context.dt, self.context.dtype.type
        self.substeps = max(1, int(math.ceil(dt / self.max_substep - 1e-9)))
        h = dt / self.substeps
        self.refractory_steps = refractory_steps(self.refractory, dt)
        self._decay_e = dtype(math.exp(-h / self.tau_e))
        self._decay_i = dtype(math.exp(-h / self.tau_i))
        # mean of g over a sub-step = g * tau / h * (1 - exp(-h / tau))
        self._mean_factor_e = dtype(-math.expm1(-h / self.tau_e) * self.tau_e / h)
        self._mean_factor_i = dtype(-math.expm1(-h / self.tau_i) * self.tau_i / h)
        self._leak_drive = dtype(self.leak_conductance * E_L)
        # exp(-h g_tot / C) with C = g_L tau_m
        self._rate = dtype(-h / (self.leak_conductance * self.tau_m))

    def reset(self):
        super().reset()
        self.potential[...] = self.rest_potential
        self.excitatory_conductance[...] = 0.0
        self.inhibitory_conductance[...] = 0.0
        self._clock.reset()

    def step(self, excitatory, inhibitory):
        v = self.potential
        g_e, g_i = self.excitatory_conductance, self.inhibitory_conductance
        mean_e, mean_i, total = self._mean_e, self._mean_i, self._total
        g_e += excitatory
        g_i -= inhibitory
        # A negative weight must not make a conductance negative.
        np.maximum(g_e, 0.0, out=g_e)
        np.maximum(g_i, 0.0, out=g_i)
        clock = self._clock
        clock.tick()
        for _ in range(self.substeps):
            np.multiply(g_e, self._mean_factor_e, out=mean_e)
            np.multiply(g_i, self._mean_factor_i, out=mean_i)
            g_e *= self._decay_e
            g_i *= self._decay_i
            np.add(mean_e, mean_i, out=total)
            total += self.leak_conductance
            # mean_e <- V_inf = (g_L E_L + g_e E_e + g_i E_i) / g_tot
            mean_e *= self.excitatory_reversal
            mean_i *= self.inhibitory_reversal
            mean_e += mean_i
            mean_e += self._leak_drive
            mean_e /= total
            total *= self._rate
            np.exp(total, out=total)
            v -= mean_e
            v *= total
            v += mean_e
        np.clip(v, self.inhibitory_reversal, self.excitatory_reversal, out=v)
        np.copyto(v, self.reset_potential, where=clock.closed)
        spikes = self.spikes
        np.greater_equal(v, self.threshold, out=spikes)
        spikes &= clock.open
        np.copyto(v, self.reset_potential, where=spikes)
        clock.start(spikes, self.refractory_steps)
        return spikes
