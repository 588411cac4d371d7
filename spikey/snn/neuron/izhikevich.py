r"""Izhikevich (2003) simple model of spiking cortical neurons.

The membrane potential :math:`v` (mV) and the recovery variable :math:`u`
follow, with time in ms,

.. math::

    \dot v = 0.04\,v^2 + 5\,v + 140 - u + I, \qquad \dot u = a\,(b\,v - u),

and when :math:`v \ge 30` mV the neuron spikes and is reset:
:math:`v \leftarrow c,\ u \leftarrow u + d`.

Presets (Izhikevich 2003, Fig. 2), :math:`(a, b, c, d)`:

=====  ======================  =====  =====  ===  ===
key    type                    a      b      c    d
=====  ======================  =====  =====  ===  ===
RS     regular spiking         0.02   0.2    -65  8
IB     intrinsically bursting  0.02   0.2    -55  4
CH     chattering              0.02   0.2    -50  2
FS     fast spiking            0.1    0.2    -65  2
LTS    low-threshold spiking   0.02   0.25   -65  2
=====  ======================  =====  =====  ===  ===

Input. The network's input of a step (the summed signed weights of the
spikes arriving) is the current :math:`I`, held for the step: a presynaptic
spike adds its weight to :math:`I` for one step (Izhikevich 2003/2007,
``spnet``/``daspnet``). ``thalamic_input`` :math:`A` adds, every step (every ms
at :math:`\Delta t = 1`) and to every neuron, an independent current drawn
uniformly from :math:`[-A, A)` (``daspnet`` uses :math:`A = 6.5`:
``13*(rand-0.5)``).

Integration. Each network step of :math:`\Delta t` ms, :math:`v` takes
:math:`n` forward Euler sub-steps of :math:`\Delta t / n` with :math:`u` held,
then :math:`u` takes one Euler step of :math:`\Delta t` with the new
:math:`v`; :math:`n` is the key ``substeps``, or
:math:`\lceil \Delta t / h_{max} \rceil` (``max_substep``) when it is None,
so :math:`n = 2` at :math:`\Delta t = 1`: Izhikevich's two 0.5 ms
half-steps "for numerical stability". Unlike the published code, a neuron
whose :math:`v` reaches 30 mV within a step is clamped at 30 mV inside every
sub-step and held there for the rest of the step (the published code lets
:math:`v` overshoot between the halves and steps :math:`u` with the
overshoot; the quadratic term would also overflow over many sub-steps).
The step's spikes are those with :math:`v \ge 30`; they are reset at the end
of the step, so a neuron fires at most once a step. Initially
:math:`v = v_0` and :math:`u = b\,v_0`.

Accuracy. At :math:`\Delta t = 1` the step fires well below the continuous
model for fast presets (1 s at :math:`I = 10`: FS 89 spikes where the ODE
gives 137, CH 70 for 87); more sub-steps help little (FS 100 with 10), since
:math:`u`'s single step and the wait for the step's end remain, while
:math:`\Delta t = 0.1` gives FS 126 and the other presets within 4 %. The
table per preset is in the neuron README
(``benchmarks/izhikevich_substeps.py``).
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import RandomBlocks
from spikey.snn import kernels
from spikey.snn.neuron.template import Neuron

#: (a, b, c, d) of each preset, Izhikevich (2003) Fig. 2.
PRESETS = {
    "RS": (0.02, 0.2, -65.0, 8.0),
    "IB": (0.02, 0.2, -55.0, 4.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
    "LTS": (0.02, 0.25, -65.0, 2.0),
}

#: Spike peak (mV).
PEAK = 30.0


class Izhikevich(Neuron):
    """Izhikevich neurons: a preset, optionally overridden per parameter or per neuron.

    ``a, b, c, d`` may each be a number, a list of ``n_neurons`` numbers
    (heterogeneous neurons, as in Izhikevich's 2003 network), or ``None`` for
    the preset's value.

    Examples
    --------
    >>> from spikey.snn.neuron.izhikevich import Izhikevich
    >>> Izhikevich(n_neurons=10, preset="CH", d=3.0).config["c"] is None
    True
    """

    KEYS = Neuron.KEYS + (
        Key("preset", "str", "Parameter set: regular spiking, intrinsically bursting, "
            "chattering, fast spiking or low-threshold spiking.", "RS", choices=tuple(PRESETS)),
        Key("a", ("float", "list"), "Recovery rate (1/ms); None takes the preset's.", None,
            nullable=True),
        Key("b", ("float", "list"), "Recovery sensitivity to v; None takes the preset's.", None,
            nullable=True),
        Key("c", ("float", "list"), "Reset potential (mV); None takes the preset's.", None,
            nullable=True),
        Key("d", ("float", "list"), "Recovery jump at a spike; None takes the preset's.", None,
            nullable=True),
        Key("thalamic_input", "float", "Amplitude A of a random current drawn uniformly from "
            "[-A, A) for every neuron every step (6.5 in Izhikevich 2007).", 0.0, range=(0, None)),
        Key("initial_potential", "float", "Potential v at reset (mV); u starts at b * v.", -65.0),
        Key("max_substep", "float", "Longest Euler sub-step of v (ms).", 0.5, range=(1e-6, None)),
        Key("substeps", "int", "Euler sub-steps of v per network step; None takes "
            "ceil(dt / max_substep) (2 at dt = 1).", None, nullable=True, range=(1, 10000)),
    )
    STATE = ("potential", "recovery", "spikes")

    def build(self, context):
        super().build(context)
        B, n = context.batch_size, self.n_neurons
        self.potential = np.zeros((B, n), dtype=context.dtype)
        self.recovery = np.zeros((B, n), dtype=context.dtype)
        self._scratch = np.zeros((B, n), dtype=context.dtype)
        #: The current of the last step, synaptic plus thalamic (with thalamic_input > 0).
        self.input_current = np.zeros((B, n), dtype=context.dtype)
        self.derive()

    def _parameter(self, name: str, preset_value: float) -> np.ndarray:
        value = getattr(self, name)
        if value is None:
            value = preset_value
        array = np.asarray(value, dtype=np.float64)
        if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != self.n_neurons):
            raise ConfigError(f"{self.owner}.{name} = {value!r} has {array.size} values; expected "
                              f"a number or a list of n_neurons = {self.n_neurons} numbers")
        if not np.all(np.isfinite(array)):
            raise ConfigError(f"{self.owner}.{name} = {value!r}; expected finite numbers")
        return array.astype(self.context.dtype)

    def derive(self):
        super().derive()
        if self.context is None:
            return
        dt = self.context.dt
        a, b, c, d = (self._parameter(name, value)
                      for name, value in zip("abcd", PRESETS[self.preset]))
        self._a, self._b, self._c, self._d = a, b, c, d
        self._a_dt = (a * dt).astype(self.context.dtype)
        if self.substeps is None:
            #: Euler sub-steps of v per network step (the key ``substeps``, or from max_substep).
            self.n_substeps = max(1, int(math.ceil(dt / self.max_substep - 1e-9)))
        else:
            self.n_substeps = int(self.substeps)
        self.substep = dt / self.n_substeps
        self._noise_scale = self.context.dtype.type(2.0 * self.thalamic_input)
        if self.thalamic_input > 0 and getattr(self, "_thalamic", None) is None:
            # Created when first switched on (at build or by set()).
            self._thalamic = RandomBlocks(self.context.generators(f"{self.slot}.thalamic"),
                                          self.n_neurons, self.context.dtype,
                                          activity=self.context.activity)

    @property
    def parameters(self) -> dict:
        """The ``a, b, c, d`` in use, each an ``(n_neurons,)`` array (preset or override)."""
        n = self.n_neurons
        return {name: np.broadcast_to(value, (n,)).copy()
                for name, value in zip("abcd", (self._a, self._b, self._c, self._d))}

    def reset(self):
        super().reset()
        self.potential[...] = self.initial_potential
        np.multiply(self._b, self.potential, out=self.recovery)

    def step(self, synaptic_input):
        if self.context.kernels:
            return self._kernel_step(synaptic_input)
        v, u, f = self.potential, self.recovery, self._scratch
        current = synaptic_input
        if self.thalamic_input > 0:
            current = self.input_current
            np.subtract(self._thalamic.next(), 0.5, out=current)
            current *= self._noise_scale
            current += synaptic_input
        h = self.substep
        for _ in range(self.n_substeps):
            # f = h (0.04 v^2 + 5 v + 140 - u + I), without temporaries
            np.multiply(v, 0.04, out=f)
            f += 5.0
            f *= v
            f += 140.0
            f -= u
            f += current
            f *= h
            v += f
            np.minimum(v, PEAK, out=v)
        np.multiply(v, self._b, out=f)
        f -= u
        f *= self._a_dt
        u += f
        spikes = self.spikes
        np.greater_equal(v, PEAK, out=spikes)
        np.copyto(v, self._c, where=spikes)
        np.add(u, self._d, out=u, where=spikes)
        return spikes

    def _kernel_step(self, synaptic_input):
        """The same step as :meth:`step` in one compiled pass (:mod:`spikey.snn.kernels`)."""
        dtype, n = self.context.dtype, self.n_neurons
        if getattr(self, "_k_source", None) is not self._a_dt:  # derive() ran: re-read
            self._k_source = self._a_dt
            self._k_params = [np.ascontiguousarray(np.broadcast_to(x, (n,)), dtype=dtype)
                              for x in (self._a_dt, self._b, self._c, self._d)]
            self._k_constants = np.array([0.04, 5.0, 140.0, self.substep, PEAK, 0.5,
                                          self._noise_scale], dtype=dtype)
        thalamic = self.thalamic_input > 0
        uniforms = self._thalamic.next() if thalamic else self.input_current
        kernels.izhikevich_step(self.potential, self.recovery, synaptic_input, uniforms, thalamic,
                                self.input_current, self._k_constants, self.n_substeps,
                                *self._k_params, self.spikes)
        return self.spikes
