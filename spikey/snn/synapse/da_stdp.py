r"""Dopamine-modulated STDP with an eligibility trace (Izhikevich 2007).

STDP pairings do not change a weight directly; they tag the synapse with an
eligibility :math:`c_{jk}` that decays with :math:`\tau_c` (about 1 s). A
dopamine level :math:`d` per member decays with :math:`\tau_d` and jumps by
each reward. Every ``update_every`` steps the weights move by

.. math::

    c_{jk} \leftarrow c_{jk}\, e^{-\Delta t/\tau_c} + \zeta_{jk}, \qquad
    d \leftarrow d\, e^{-\Delta t/\tau_d} + r, \qquad
    \Delta w_{jk} = \eta\, (d_0 + d)\, c_{jk}

(with the STDP term :math:`\zeta` of :mod:`spikey.snn.synapse.template`, here
typically :math:`A_+ = 0.1`, :math:`A_- = -0.15`, :math:`\tau_\pm \approx 19.5`
ms). :math:`d_0` is a small tonic dopamine level. By default only synapses
from excitatory neurons are plastic. A reward that arrives seconds after a
pairing still finds that synapse tagged, which solves the distal reward
problem. Izhikevich (2007) used :math:`\tau_c` = 1 s, :math:`\tau_d` = 0.2 s,
:math:`d_0` = 0.002, ``update_every`` = 10 ms, weights in [0, 4].
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.snn.synapse.mstdp import MSTDPET
from spikey.snn.synapse.template import Synapse


class DASTDP(MSTDPET):
    """Dopamine-modulated STDP (Izhikevich 2007); rewards raise the dopamine level."""

    PER_MEMBER = Synapse.PER_MEMBER
    KEYS = (
        Key("learning_rate", "float", "Scale of the weight change per update.", 1.0, range=(0, None)),
        Key("A_plus", "float", "Potentiation amplitude for pre-before-post.", 0.1),
        Key("A_minus", "float", "Depression amplitude for post-before-pre (negative).", -0.15,
            range=(None, 0.0), note="a depression amplitude is negative or 0, e.g. -0.15"),
        Key("tau_plus", "float", "Pre trace time constant (ms).", 19.5,
            range=(1e-6, None), unit="ms"),
        Key("tau_minus", "float", "Post trace time constant (ms).", 19.5,
            range=(1e-6, None), unit="ms"),
        Key("tau_z", "float", "Eligibility time constant tau_c (ms).", 1000.0,
            range=(1e-6, None), unit="ms"),
        Key("dopamine_tau", "float", "Dopamine decay time constant (ms).", 200.0,
            range=(1e-6, None), unit="ms"),
        Key("baseline", "float", "Tonic dopamine level d0 added at every update.", 0.002),
        Key("update_every", "int", "Steps between weight updates.", 10, range=(1, None)),
        Key("plastic_inhibitory", "bool", "Whether synapses from inhibitory neurons learn too.", False),
    )
    STATE = MSTDPET.STATE + ("dopamine", "since_update")

    def build(self, context):
        self.dopamine = np.zeros(context.batch_size, dtype=np.float64)
        self.since_update = np.zeros((), dtype=np.int64)
        self._mask = None
        super().build(context)

    def derive(self):
        super().derive()
        self.decay_dopamine = math.exp(-self.context.dt / self.dopamine_tau)
        self._mask = None

    def set_pre_sign(self, sign) -> bool:
        changed = super().set_pre_sign(sign)
        if changed:
            self._mask = None
        return changed

    def reset(self):
        super().reset()
        self.dopamine[...] = 0.0
        self.since_update[...] = 0

    def learning_mask(self, weights):
        if self._mask is None:
            plastic = np.ones_like(self.pre_sign, dtype=bool) if self.plastic_inhibitory \
                else self.pre_sign > 0
            self._mask = weights.rows_mask(plastic) if getattr(weights, "SPARSE", False) \
                else weights.mask & plastic[None, :, None]
        return self._mask

    def step(self, pre, post, weights, pre_index=None):
        super().step(pre, post, weights, pre_index)
        self.dopamine *= self.decay_dopamine
        self.since_update += 1
        if self.since_update >= self.update_every:
            self.since_update[...] = 0
            # eligibility stores z = c / tau_c (MSTDPET's convention) times 1/scale
            factor = self.rate * (self.baseline + self.dopamine) * (self.tau_z * float(self.scale))
            activity = self.context.activity
            if activity is not None and not activity.all:
                factor = factor * activity.mask  # paused members: no tonic dopamine either
            self._apply(np.ones_like(factor), weights, factor)

    def reward(self, reward, weights):
        self.dopamine += np.asarray(reward, dtype=np.float64).reshape(-1)
