r"""Hodgkin–Huxley (1952) squid giant axon, in the modern sign convention.

.. math::

    C\,\dot V = I - \bar g_{Na} m^3 h\,(V - E_{Na}) - \bar g_K n^4 (V - E_K)
                - g_L (V - E_L), \qquad
    \dot x = \phi\,\bigl(\alpha_x(V)(1 - x) - \beta_x(V)\, x\bigr),\ x \in \{m, h, n\}

with :math:`V` in mV, time in ms, conductances in mS/cm², :math:`C` in
µF/cm², current density :math:`I` in µA/cm², and the rates (1/ms)

.. math::

    \alpha_m = \frac{0.1 (V + 40)}{1 - e^{-(V+40)/10}},\quad
    \beta_m = 4 e^{-(V+65)/18},\quad
    \alpha_h = 0.07 e^{-(V+65)/20},\quad
    \beta_h = \frac{1}{1 + e^{-(V+35)/10}},

    \alpha_n = \frac{0.01 (V + 55)}{1 - e^{-(V+55)/10}},\quad
    \beta_n = 0.125 e^{-(V+65)/80}.

Defaults are the classic parameters: :math:`\bar g_{Na} = 120`,
:math:`\bar g_K = 36`, :math:`g_L = 0.3`, :math:`E_{Na} = 50`,
:math:`E_K = -77`, :math:`E_L = -54.387` (≈ -54.4, the value that puts rest
at -65 mV), :math:`C = 1`, at 6.3 °C; another ``temperature`` scales the
rates by :math:`\phi = 3^{(T - 6.3)/10}`.

Input. The network's input of a step is an injected current density
(µA/cm²) held for the whole step.

Integration. Each step is split into sub-steps of at most ``max_substep``
ms (0.025 by default). In each, the gates take an exponential-Euler step at
the sub-step's starting :math:`V`,
:math:`x \leftarrow x_\infty + (x - x_\infty) e^{-h\phi(\alpha_x + \beta_x)}`,
and then :math:`V`, linear given the gates, an exponential-Euler step with
the new conductances, :math:`V \leftarrow V_\infty + (V - V_\infty)
e^{-h G / C}`, :math:`G = \bar g_{Na} m^3 h + \bar g_K n^4 + g_L`,
:math:`V_\infty = (I + \bar g_{Na} m^3 h E_{Na} + \bar g_K n^4 E_K + g_L E_L)/G`.
Both updates are stable at any step size and keep the gates in [0, 1].

Spikes. A spike is an upward crossing of ``spike_threshold`` (0 mV) by
:math:`V` at the end of any sub-step; the model has no reset, its own
dynamics repolarise it.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.snn.neuron.template import Neuron


def _rates(v, alpha, beta, kind, scratch):
    """Write the opening and closing rates (1/ms) of gate ``kind`` at ``v`` (mV).

    Uses only preallocated arrays: ``scratch`` is a float array and a bool
    array of ``v``'s shape.
    """
    tmp, small = scratch
    if kind == "h":
        np.add(v, 65.0, out=alpha)
        alpha *= -1.0 / 20.0
        np.exp(alpha, out=alpha)
        alpha *= 0.07
        np.add(v, 35.0, out=beta)
        beta *= -0.1
        np.exp(beta, out=beta)
        beta += 1.0
        np.reciprocal(beta, out=beta)
        return
    # alpha = scale * x / (1 - exp(-x)), x = (v + shift) / 10, which tends to scale at x = 0
    shift, scale, beta_scale, beta_tau = (40.0, 1.0, 4.0, 18.0) if kind == "m" else \
        (55.0, 0.1, 0.125, 80.0)
    np.add(v, shift, out=alpha)
    alpha *= 0.1
    np.negative(alpha, out=tmp)
    np.expm1(tmp, out=tmp)
    np.negative(tmp, out=tmp)
    np.abs(alpha, out=beta)
    np.less(beta, 1e-6, out=small)
    np.copyto(tmp, 1.0, where=small)
    np.copyto(alpha, 1.0, where=small)  # x / (1 - e^-x) -> 1 (error < 1e-6)
    alpha /= tmp
    alpha *= scale
    np.add(v, 65.0, out=beta)
    beta *= -1.0 / beta_tau
    np.exp(beta, out=beta)
    beta *= beta_scale


class HodgkinHuxley(Neuron):
    """Hodgkin–Huxley neurons driven by injected current density.

    Examples
    --------
    >>> from spikey.snn.neuron.hodgkin_huxley import HodgkinHuxley
    >>> HodgkinHuxley(n_neurons=3).config["sodium_conductance"]
    120.0
    """

    KEYS = Neuron.KEYS + (
        Key("sodium_conductance", "float", "Maximal sodium conductance g_Na (mS/cm^2).", 120.0,
            range=(0, None)),
        Key("potassium_conductance", "float", "Maximal potassium conductance g_K (mS/cm^2).",
            36.0, range=(0, None)),
        Key("leak_conductance", "float", "Leak conductance g_L (mS/cm^2).", 0.3,
            range=(1e-9, None)),
        Key("sodium_reversal", "float", "Sodium reversal potential E_Na (mV).", 50.0),
        Key("potassium_reversal", "float", "Potassium reversal potential E_K (mV).", -77.0),
        Key("leak_reversal", "float", "Leak reversal potential E_L (mV).", -54.387),
        Key("capacitance", "float", "Membrane capacitance C (uF/cm^2).", 1.0,
            range=(1e-9, None)),
        Key("temperature", "float", "Temperature (Celsius); rates scale by 3^((T - 6.3)/10).",
            6.3),
        Key("spike_threshold", "float", "A spike is an upward crossing of this potential (mV).",
            0.0),
        Key("initial_potential", "float", "Potential at reset (mV); gates start at their "
            "steady state there.", -65.0),
        Key("max_substep", "float", "Longest integration sub-step (ms).", 0.025,
            range=(1e-6, None)),
    )
    STATE = ("potential", "sodium_activation", "sodium_inactivation", "potassium_activation",
             "above_threshold", "spikes")

    def build(self, context):
        super().build(context)
        shape = (context.batch_size, self.n_neurons)
        dtype = context.dtype
        self.potential = np.zeros(shape, dtype=dtype)
        #: Gates m, h, n.
        self.sodium_activation = np.zeros(shape, dtype=dtype)
        self.sodium_inactivation = np.zeros(shape, dtype=dtype)
        self.potassium_activation = np.zeros(shape, dtype=dtype)
        #: Whether V was at or above spike_threshold at the end of the last sub-step.
        self.above_threshold = np.zeros(shape, dtype=bool)
        self._alpha = np.zeros(shape, dtype=dtype)
        self._beta = np.zeros(shape, dtype=dtype)
        self._conductance = np.zeros(shape, dtype=dtype)
        self._drive = np.zeros(shape, dtype=dtype)
        self._tmp = np.zeros(shape, dtype=dtype)
        self._small = np.zeros(shape, dtype=bool)
        self._now_above = np.zeros(shape, dtype=bool)
        self._crossing = np.zeros(shape, dtype=bool)
        self._gates = (("m", self.sodium_activation), ("h", self.sodium_inactivation),
                       ("n", self.potassium_activation))
        self.derive()

    def derive(self):
        super().derive()
        if self.context is None:
            return
        dt = self.context.dt
        self.substeps = max(1, int(math.ceil(dt / self.max_substep - 1e-9)))
        self.substep = dt / self.substeps
        self.phi = 3.0 ** ((self.temperature - 6.3) / 10.0)
        self._gate_rate = -self.substep * self.phi
        self._membrane_rate = -self.substep / self.capacitance


    def reset(self):
        super().reset()
        v = self.potential
        v[...] = self.initial_potential
        for kind, gate in self._gates:
            _rates(v, self._alpha, self._beta, kind, (self._tmp, self._small))
            np.add(self._alpha, self._beta, out=self._beta)
            np.divide(self._alpha, self._beta, out=gate)
        np.greater_equal(v, self.spike_threshold, out=self.above_threshold)

    def step(self, synaptic_input):
        v = self.potential
        alpha, beta, g, drive, tmp = self._alpha, self._beta, self._conductance, self._drive, \
            self._tmp
        m, h, n = self.sodium_activation, self.sodium_inactivation, self.potassium_activation
        scratch = (tmp, self._small)
        spikes, now_above, crossing = self.spikes, self._now_above, self._crossing
        spikes[...] = False
        for _ in range(self.substeps):
            for kind, gate in self._gates:
                # x <- x_inf + (x - x_inf) exp(-h phi (alpha + beta)), x_inf = alpha / (alpha + beta)
                _rates(v, alpha, beta, kind, scratch)
                beta += alpha
                alpha /= beta
                beta *= self._gate_rate
                np.exp(beta, out=beta)
                gate -= alpha
                gate *= beta
                gate += alpha
            # sodium: g = gNa m^3 h; drive = sum of g E + I
            np.multiply(m, m, out=g)
            g *= m
            g *= h
            g *= self.sodium_conductance
            np.multiply(g, self.sodium_reversal, out=drive)
            np.multiply(n, n, out=tmp)
            tmp *= tmp
            tmp *= self.potassium_conductance
            g += tmp
            tmp *= self.potassium_reversal
            drive += tmp
            g += self.leak_conductance
            drive += self.leak_conductance * self.leak_reversal
            drive += synaptic_input
            drive /= g  # V_inf
            g *= self._membrane_rate
            np.exp(g, out=g)
            v -= drive
            v *= g
            v += drive
            np.greater_equal(v, self.spike_threshold, out=now_above)
            np.greater(now_above, self.above_threshold, out=crossing)
            spikes |= crossing
            self.above_threshold[...] = now_above
        return spikes
