r"""Rate units: neurons whose state is a firing rate rather than a potential.

With :math:`I_t` the network's input of a step (summed signed weights),
:math:`z_t = g\,I_t + b` (``gain``, ``bias``) and a nonlinearity :math:`f`:

* :class:`RateNeuron`, memoryless: :math:`r_t = f(z_t)`.
* :class:`LeakyRate`, a leaky integrator of the rate,
  :math:`\tau\,\dot r = -r + f(z)`, integrated exactly for input held over the
  step: :math:`r \leftarrow f(z_t) + (r - f(z_t))\,e^{-\Delta t/\tau}`.
* :class:`Perceptron`, a binary threshold unit: :math:`r_t = [z_t > 0]`.

Nonlinearities: ``relu`` :math:`\max(0, z)`, ``tanh``, ``sigmoid``
:math:`1/(1 + e^{-z})` (computed as :math:`\exp(-\log(1 + e^{-z}))`, which
cannot overflow), ``softplus`` :math:`\log(1 + e^{z})`.

Spikes. The network passes spikes, so a rate unit emits one with probability
:math:`p = r\,\Delta t\,s/1000` per step, :math:`s` = ``rate_scale`` (Hz per
unit of rate, default 1000: :math:`r` in spikes/ms and :math:`p = r\,\Delta t`),
sampled from the part's own random blocks; rates below 0 never spike and
:math:`p \ge 1` always does. A Perceptron's spike is its output itself. The
continuous ``rate`` array is the unit's state.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.part import RandomBlocks
from spikey.core.params import Key
from spikey.snn.neuron.template import Neuron


def _relu(z):
    np.maximum(z, 0.0, out=z)


def _tanh(z):
    np.tanh(z, out=z)


def _sigmoid(z):
    # 1 / (1 + e^-z) = exp(-softplus(-z)): no overflow, full relative precision
    np.negative(z, out=z)
    np.logaddexp(0.0, z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)


def _softplus(z):
    np.logaddexp(0.0, z, out=z)


#: name -> in-place nonlinearity
NONLINEARITIES = {"relu": _relu, "tanh": _tanh, "sigmoid": _sigmoid, "softplus": _softplus}


class RateUnit(Neuron):
    """Shared base of rate units: ``gain``, ``bias`` and the ``rate`` state."""

    ABSTRACT = True
    KEYS = Neuron.KEYS + (
        Key("gain", "float", "Multiplies the input before the nonlinearity.", 1.0),
        Key("bias", "float", "Added to the scaled input before the nonlinearity.", 0.0),
    )
    STATE = ("rate", "spikes")

    def build(self, context):
        super().build(context)
        shape = (context.batch_size, self.n_neurons)
        #: The continuous output of each unit.
        self.rate = np.zeros(shape, dtype=context.dtype)
        self._drive = np.zeros(shape, dtype=context.dtype)
        self.derive()

    def reset(self):
        super().reset()
        self.rate[...] = 0.0

    def _net_input(self, synaptic_input) -> np.ndarray:
        """``gain * I + bias`` in a scratch array."""
        z = self._drive
        np.multiply(synaptic_input, self.gain, out=z)
        z += self.bias
        return z


class RateNeuron(RateUnit):
    """Memoryless rate units, ``r = f(gain * I + bias)``, emitting Bernoulli spikes.

    Examples
    --------
    >>> from spikey.snn.neuron.rate import RateNeuron
    >>> RateNeuron(n_neurons=5, nonlinearity="sigmoid").config["rate_scale"]
    1000.0
    """

    KEYS = RateUnit.KEYS + (
        Key("nonlinearity", "str", "The rate function f.", "relu", choices=tuple(NONLINEARITIES)),
        Key("rate_scale", "float", "Spike rate (Hz) per unit of rate: p = rate * dt * "
            "rate_scale / 1000 per step.", 1000.0, range=(0, None)),
    )

    def build(self, context):
        super().build(context)
        self._sampler = RandomBlocks(context.generators(f"{self.slot}.spiking"), self.n_neurons,
                                     context.dtype, activity=context.activity)
        self._probability = np.zeros((context.batch_size, self.n_neurons), dtype=context.dtype)

    def derive(self):
        super().derive()
        self._f = NONLINEARITIES[self.nonlinearity]
        if self.context is not None:
            self._spike_scale = self.context.dtype.type(self.rate_scale * self.context.dt / 1000.0)

    def _emit(self) -> np.ndarray:
        np.multiply(self.rate, self._spike_scale, out=self._probability)
        np.less(self._sampler.next(), self._probability, out=self.spikes)
        return self.spikes

    def step(self, synaptic_input):
        z = self._net_input(synaptic_input)
        self._f(z)
        self.rate[...] = z
        return self._emit()


class LeakyRate(RateNeuron):
    """Rate units that relax towards ``f(gain * I + bias)`` with time constant ``tau``.

    Examples
    --------
    >>> from spikey.snn.neuron.rate import LeakyRate
    >>> LeakyRate(n_neurons=5, tau=50.0).config["tau"]
    50.0
    """

    KEYS = RateNeuron.KEYS + (
        Key("tau", "float", "Time constant of the rate (ms).", 20.0, range=(1e-6, None), unit="ms"),
    )

    def derive(self):
        super().derive()
        if self.context is not None:
            self.decay = self.context.dtype.type(math.exp(-self.context.dt / self.tau))

    def step(self, synaptic_input):
        target = self._net_input(synaptic_input)
        self._f(target)
        r = self.rate
        r -= target
        r *= self.decay
        r += target
        return self._emit()


class Perceptron(RateUnit):
    """Binary threshold units: spike (rate 1) where ``gain * I + bias > 0``.

    Examples
    --------
    >>> from spikey.snn.neuron.rate import Perceptron
    >>> Perceptron(n_neurons=2, bias=-1.5).config["bias"]
    -1.5
    """

    def step(self, synaptic_input):
        z = self._net_input(synaptic_input)
        np.greater(z, 0.0, out=self.spikes)
        self.rate[...] = self.spikes
        return self.spikes
