r"""Unsupervised pair-based STDP: :math:`\Delta w_{jk} = \eta\,\zeta_{jk}` every step.

See :mod:`spikey.snn.synapse.template` for the traces and :math:`\zeta`.
A pre spike :math:`\Delta \ge 1` steps before a post spike moves the weight by
:math:`\eta A_+ e^{-\Delta\,\Delta t/\tau_+}`, the reverse order by
:math:`\eta A_- e^{-\Delta\,\Delta t/\tau_-}`. A pre and a post spike in the
*same* step (:math:`\Delta = 0`) give :math:`\eta (A_+ + A_-)`: both traces
take the step's spikes before :math:`\zeta` is formed (the classic pair rule
gives :math:`\eta A_+`).
"""

from __future__ import annotations

from spikey.snn.synapse.template import Synapse


class STDP(Synapse):
    """Pair-based STDP applied every training step; rewards are not used."""

    def step(self, pre, post, weights, pre_index=None):
        self.update_traces(pre, post)
        self.add_learning(weights, pre, post, pre_index=pre_index)

    def fused_plan(self, weights):
        return self._weights_plan(weights) if type(self).step is STDP.step else None


class LTP(STDP):
    """Potentiation-only STDP: there is no ``A_minus`` key (depression is 0)."""

    KEYS = tuple(key for key in STDP.KEYS if key.name != "A_minus")
    PER_MEMBER = tuple(name for name in STDP.PER_MEMBER if name != "A_minus")
    A_minus = 0.0

    def derive(self):
        super().derive()
        self.amp_minus = self.context.dtype.type(0.0)

    def step(self, pre, post, weights, pre_index=None):
        self.update_traces(pre, post)
        # The post trace is zero, so only the potentiation half can change w.
        self.add_learning(weights, pre, post, rows=False)

    def fused_plan(self, weights):
        return self._weights_plan(weights, rows=False) if type(self).step is LTP.step else None
