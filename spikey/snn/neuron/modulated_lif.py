r"""Modulated leaky integrate-and-fire neuron: the "leaky vessel".

A neuron is a vessel of liquid. Its level :math:`L` (``potential``, mV
above the baseline 0) takes the direct input :math:`I_t` (the summed signed
weights of a step) and leaks back towards the baseline at a constant rate
:math:`\lambda` (``leak``, mV/ms), never past it:

.. math::

    L \leftarrow L - \operatorname{clip}(L, -\lambda\Delta t, \lambda\Delta t), \qquad
    L \leftarrow L + I_t \ \text{(unless refractory)} .

The neuron fires when :math:`L \ge \theta_{eff}`; the level drops to the
baseline and the neuron is refractory for ``refractory`` ms, ignoring its
input. Each step, in this order:

* **Modulation.** A second level :math:`M` (``modulation``, balance 0)
  relaxes to balance, :math:`M \leftarrow M e^{-\Delta t/\tau_M}`, and is
  shifted by modulatory synapses through :meth:`ModulatedLIF.modulate`. It
  never drives firing; it scales the threshold,
  :math:`\theta_{eff} = \theta\, e^{-\kappa M}` (negative :math:`M` raises it,
  positive lowers it, balance leaves it), and the learning rate that
  plasticity may read, ``learning_scale`` :math:`= e^{\kappa_\ell M}`.
* **Habituation.** Excitatory input arriving while refractory raises the
  neuron's own threshold: :math:`\theta \leftarrow \theta + \eta_h \max(I_t, 0)`.
* **Potentiation.** A neuron that has received no input (:math:`I = 0`) for
  ``quiet_period`` ms lowers its threshold by :math:`\eta_p \Delta t` each
  further quiet step. :math:`\theta` stays within
  ``[min_threshold, max_threshold]``.
* **Bursting.** A level that overshoots the threshold by
  :math:`k` whole ``burst_margin`` s fires :math:`k` extra spikes (at most
  ``max_burst``) on the following steps, one a step, during which the neuron
  is refractory; its refractory period follows the last spike of the burst.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.neuron.template import RefractoryClock, refractory_steps
from spikey.snn.neuron.template import Neuron


class ModulatedLIF(Neuron):
    """Leaky-vessel neurons with bursting, habituation, potentiation and modulation.

    Examples
    --------
    >>> from spikey.snn.neuron.modulated_lif import ModulatedLIF
    >>> ModulatedLIF(n_neurons=4, leak=1.0).config["max_burst"]
    3
    """

    KEYS = Neuron.KEYS + (
        Key("threshold", "float", "Initial firing threshold above the baseline (mV).", 16.0,
            range=(1e-9, None)),
        Key("leak", "float", "Constant rate at which the level returns to the baseline (mV/ms).",
            0.5, range=(0, None)),
        Key("refractory", "float", "Refractory period (ms); input is ignored meanwhile.", 2.0,
            range=(0, None)),
        Key("burst_margin", "float", "Overshoot above the threshold (mV) per extra burst spike.",
            8.0, range=(1e-9, None)),
        Key("max_burst", "int", "Most extra spikes in a burst (0: no bursts).", 3,
            range=(0, None)),
        Key("habituation_rate", "float", "Threshold rise per mV of excitatory input arriving "
            "while refractory.", 0.05, range=(0, None)),
        Key("potentiation_rate", "float", "Threshold fall per ms once the neuron has been "
            "quiet for quiet_period (mV/ms).", 0.01, range=(0, None)),
        Key("quiet_period", "float", "Time without input after which potentiation starts (ms).",
            100.0, range=(0, None)),
        Key("min_threshold", "float", "Lowest threshold potentiation can reach (mV).", 4.0,
            range=(1e-9, None)),
        Key("max_threshold", "float", "Highest threshold habituation can reach (mV).", 64.0,
            range=(1e-9, None)),
        Key("modulation_tau", "float", "Time constant of the modulation's return to balance (ms).",
            100.0, range=(1e-6, None), unit="ms"),
        Key("threshold_modulation", "float", "kappa: the effective threshold is "
            "threshold * exp(-kappa * modulation).", 1.0, range=(0, None)),
        Key("learning_modulation", "float", "kappa_l: learning_scale = exp(kappa_l * modulation).",
            1.0, range=(0, None)),
    )
    STATE = ("potential", "firing_threshold", "modulation", "learning_scale", "refractory_left",
             "burst_left", "quiet_steps", "spikes")

    def build(self, context):
        super().build(context)
        shape = (context.batch_size, self.n_neurons)
        dtype = context.dtype
        #: The vessel's level above the baseline (mV).
        self.potential = np.zeros(shape, dtype=dtype)
        #: Each neuron's threshold after habituation and potentiation, before modulation (mV).
        self.firing_threshold = np.zeros(shape, dtype=dtype)
        #: The threshold this step, after modulation (mV).
        self.effective_threshold = np.zeros(shape, dtype=dtype)
        #: Modulation level; 0 is balance.
        self.modulation = np.zeros(shape, dtype=dtype)
        #: exp(learning_modulation * modulation): a factor for plasticity.
        self.learning_scale = np.ones(shape, dtype=dtype)
        self._clock = RefractoryClock(shape)
        self.refractory_left = self._clock.left
        #: Extra burst spikes still to fire.
        self.burst_left = np.zeros(shape, dtype=np.int32)
        #: Steps since the last input.
        self.quiet_steps = np.zeros(shape, dtype=np.int32)
        self._scratch = np.zeros(shape, dtype=dtype)
        self._flag = np.zeros(shape, dtype=bool)
        self.derive()

    def derive(self):
        super().derive()
        if not self.min_threshold <= self.threshold <= self.max_threshold:
            raise ConfigError(
                f"{self.owner}.threshold = {self.threshold}; expected a value between "
                f"min_threshold = {self.min_threshold} and max_threshold = {self.max_threshold}")
        if self.context is None:
            return
        dt, dtype = self.context.dt, self.context.dtype.type
        self.refractory_steps = refractory_steps(self.refractory, dt)
        self.quiet_steps_needed = int(math.ceil(self.quiet_period / dt - 1e-9))
        self._leak_step = dtype(self.leak * dt)
        self._potentiation_step = dtype(self.potentiation_rate * dt)
        self._modulation_decay = dtype(math.exp(-dt / self.modulation_tau))

    def reset(self):
        super().reset()
        self.potential[...] = 0.0
        self.firing_threshold[...] = self.threshold
        self.effective_threshold[...] = self.threshold
        self.modulation[...] = 0.0
        self.learning_scale[...] = 1.0
        self._clock.reset()
        self.burst_left[...] = 0
        self.quiet_steps[...] = 0

    def modulate(self, amount) -> None:
        """Shift the modulation level by ``amount`` (``(B, N)`` or broadcastable).

        Positive amounts make neurons more responsive from the next step on,
        negative less; the shift relaxes back with ``modulation_tau``.
        """
        self.modulation += amount
        self._update_learning_scale()

    def _update_learning_scale(self):
        np.multiply(self.modulation, self.learning_modulation, out=self.learning_scale)
        np.exp(self.learning_scale, out=self.learning_scale)

    def on_forced_spike(self, mask):
        np.copyto(self.potential, 0.0, where=mask)
        self._clock.start(mask, self.refractory_steps)

    def step(self, synaptic_input):
        level, theta, s, flag = self.potential, self.firing_threshold, self._scratch, self._flag
        clock = self._clock
        # modulation relaxes, then sets this step's threshold and learning scale
        self.modulation *= self._modulation_decay
        self._update_learning_scale()
        np.multiply(self.modulation, -self.threshold_modulation, out=self.effective_threshold)
        np.exp(self.effective_threshold, out=self.effective_threshold)
        # leak at a constant rate, stopping at the baseline
        np.clip(level, -self._leak_step, self._leak_step, out=s)
        level -= s
        clock.tick()
        # habituation: excitatory input ignored while refractory
        if self.habituation_rate > 0:
            np.maximum(synaptic_input, 0.0, out=s)
            s *= clock.closed
            s *= self.habituation_rate
            theta += s
        # potentiation after a quiet period
        np.not_equal(synaptic_input, 0.0, out=flag)
        self.quiet_steps += 1
        np.copyto(self.quiet_steps, 0, where=flag)
        if self.potentiation_rate > 0:
            np.greater_equal(self.quiet_steps, self.quiet_steps_needed, out=flag)
            np.subtract(theta, self._potentiation_step, out=theta, where=flag)
        np.clip(theta, self.min_threshold, self.max_threshold, out=theta)
        self.effective_threshold *= theta
        # integrate and fire
        np.multiply(synaptic_input, clock.open, out=s)
        level += s
        spikes = self.spikes
        np.greater_equal(level, self.effective_threshold, out=spikes)
        spikes &= clock.open
        if spikes.any():
            if self.max_burst > 0:
                # k whole margins of overshoot -> k extra spikes on the next steps
                np.subtract(level, self.effective_threshold, out=s)
                s /= self.burst_margin
                np.floor(s, out=s)
                np.minimum(s, self.max_burst, out=s)
                np.copyto(self.burst_left, s, where=spikes, casting="unsafe")
                # the refractory period follows the burst's last spike
                s += self.refractory_steps
                clock.start(spikes, s)
            else:
                clock.start(spikes, self.refractory_steps)
            np.copyto(level, 0.0, where=spikes)
        if self.max_burst > 0:
            # burst spikes, fired by refractory neurons (which cannot cross the threshold)
            np.greater(self.burst_left, 0, out=flag)
            flag &= clock.closed
            self.burst_left -= flag
            spikes |= flag
        np.copyto(level, 0.0, where=clock.closed)
        return spikes
