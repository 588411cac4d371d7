r"""Short-term plasticity of Tsodyks and Markram: depression and facilitation.

Each presynaptic neuron :math:`j` (per member) has a utilisation :math:`u_j`
and a fraction of available resources :math:`x_j`. Between spikes they relax,

.. math::

    x \leftarrow 1 - (1 - x)\, e^{-\Delta t/\tau_d}, \qquad
    u \leftarrow U + (u - U)\, e^{-\Delta t/\tau_f},

and at a spike, first :math:`u \leftarrow u + U (1 - u)` (facilitation; with
:math:`\tau_f = 0` :math:`u` stays :math:`U`), then the spike releases
:math:`r = u\,x` and :math:`x \leftarrow x - r` (Markram et al. 1998's order). The
spike's weight rows are scaled by :math:`r / U`: without facilitation a spike
from rest has its full weight; with it, :math:`2 - U` times that. For a
regular train of period :math:`T` without facilitation the efficacy settles
at :math:`x^* = (1 - e^{-T/\tau_d}) / (1 - (1 - U) e^{-T/\tau_d})`.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.core.part import Part


class TsodyksMarkram(Part):
    """Per-presynaptic-neuron depression and facilitation scaling each spike's weights.

    Set as the network's ``stp`` part: ``parts={"stp": "TsodyksMarkram", ...}``.
    """

    FAMILY = "short_term"
    KEYS = (
        Key("U", "float", "Baseline utilisation (release fraction of a spike from rest).", 0.5,
            range=(1e-6, 1)),
        Key("tau_depression", "float", "Recovery time constant of resources (ms).", 200.0,
            range=(1e-6, None), unit="ms"),
        Key("tau_facilitation", "float", "Decay time constant of facilitation (ms); 0: none.", 0.0,
            range=(0, None), unit="ms"),
        Key("applies_to", "str", "Which presynaptic neurons: all, inputs only, body only.", "all",
            choices=("all", "inputs", "body")),
    )
    STATE = ("utilisation", "resources")

    def build(self, context):
        B, P = context.batch_size, context.n_inputs + context.n_neurons
        self.utilisation = np.zeros((B, P), dtype=context.dtype)
        self.resources = np.ones((B, P), dtype=context.dtype)
        self.efficacy = np.ones((B, P), dtype=context.dtype)
        rows = np.ones(P, dtype=bool)
        if self.applies_to == "inputs":
            rows[context.n_inputs:] = False
        elif self.applies_to == "body":
            rows[:context.n_inputs] = False
        self._unaffected = ~rows
        super().build(context)
        self.reset()

    def derive(self):
        dtype = self.context.dtype.type
        self.decay_x = dtype(math.exp(-self.context.dt / self.tau_depression))
        self.decay_u = dtype(0.0 if self.tau_facilitation == 0
                             else math.exp(-self.context.dt / self.tau_facilitation))
        self.U_value = dtype(self.U)

    def reset(self):
        self.utilisation[...] = self.U
        self.resources[...] = 1.0

    def step(self, pre: np.ndarray) -> np.ndarray:
        """Advance one step with this step's presynaptic spikes ``(B, P)``; return the
        efficacy ``(B, P)`` of each presynaptic neuron's spike (1 for unaffected rows)."""
        x, u = self.resources, self.utilisation
        # relax towards rest since the last step
        x -= 1.0
        x *= self.decay_x
        x += 1.0
        if self.tau_facilitation:
            u -= self.U_value
            u *= self.decay_u
            u += self.U_value
            # facilitation at a spike: u += U (1 - u)
            u += pre * (self.U_value * (1.0 - u))
        release = pre * (u * x)
        x -= release
        np.divide(release, self.U_value, out=self.efficacy)
        self.efficacy[:, self._unaffected] = 1.0
        x[:, self._unaffected] = 1.0
        return self.efficacy
