r"""Short-term and long-term memory: STDP changes that fade unless modulation consolidates them.

The weight matrix :math:`w` is the short-term (working) weight; a second
matrix :math:`\bar w` holds the long-term weight. Every step pair-based STDP
(see :mod:`spikey.snn.synapse.template`) changes :math:`w`; every
``update_every`` steps, with :math:`\Delta = ` ``update_every`` :math:`\cdot\Delta t`,

.. math::

    \bar w_{jk} &\leftarrow \bar w_{jk} + \big(1 - e^{-\kappa\, [M_k]_+ \Delta}\big)\,
        (w_{jk} - \bar w_{jk}), \\
    w_{jk} &\leftarrow \bar w_{jk} + (w_{jk} - \bar w_{jk})\, e^{-\Delta/\tau_s},

where :math:`M_k \ge 0` is the postsynaptic neuron's modulation level (seed
000: "modulation is the major tool for persisting the weight change"). Without
modulation every change decays back to the long-term weight with
:math:`\tau_s`; while a neuron is modulated, its incoming changes move into
long-term memory at rate :math:`\kappa M_k`. Needs a neuron part with a
``modulation`` level (e.g. ModulatedLIF).
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.synapse.stdp import STDP
from spikey.snn.synapse.template import Synapse


class Consolidation(STDP):
    """STDP into short-term weights, consolidated to long-term weights by modulation."""

    KEYS = Synapse.KEYS + (
        Key("tau_short", "float", "Decay of short-term changes back to long-term (ms).", 1000.0,
            range=(1e-6, None), unit="ms"),
        Key("consolidation_rate", "float", "kappa: long-term weights follow the short-term ones "
            "at rate kappa * modulation (1/ms per unit of modulation).", 0.01, range=(0, None)),
        Key("update_every", "int", "Steps between consolidation updates.", 10, range=(1, None)),
    )
    STATE = Synapse.STATE + ("long_term", "since_update")

    def build(self, context):
        self.since_update = np.zeros((), dtype=np.int64)
        super().build(context)

    def bind_parts(self, parts):
        super().bind_parts(parts)
        if self._sparse is not None:
            raise ConfigError(f"{self.owner}: needs dense weights (long-term copies of the "
                              f"matrix); {parts['weights'].owner} is sparse")
        self.neurons = parts["neurons"]
        if not hasattr(self.neurons, "modulation"):
            raise ConfigError(f"{self.owner}: needs a neuron part with a modulation level "
                              f"(e.g. ModulatedLIF), not {self.neurons.owner}")
        # long-term memory starts at the initial weights
        self.long_term = parts["weights"].matrix.copy()

    def derive(self):
        super().derive()
        self.span_ms = self.update_every * self.context.dt
        self.short_decay = math.exp(-self.span_ms / self.tau_short)

    def reset(self):
        super().reset()
        self.since_update[...] = 0

    def step(self, pre, post, weights, pre_index=None):
        super().step(pre, post, weights, pre_index)
        self.since_update += 1
        if self.since_update < self.update_every:
            return
        self.since_update[...] = 0
        modulation = self.neurons.modulation
        w, lt = weights.matrix, self.long_term
        activity = self.context.activity
        paused = None if activity is None or activity.all else ~activity.mask
        if paused is not None:  # paused members keep both weights as they are
            kept = w[paused].copy(), lt[paused].copy()
        gate = 1.0 - np.exp(-self.consolidation_rate * np.maximum(modulation, 0.0) * self.span_ms)
        lt += (w - lt) * gate[:, None, :].astype(w.dtype)
        w -= lt
        w *= w.dtype.type(self.short_decay)
        w += lt
        weights.clip(w)
        if paused is not None:
            w[paused], lt[paused] = kept
