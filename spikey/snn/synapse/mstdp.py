r"""Reward-modulated STDP of Florian (2007): MSTDP and MSTDPET.

**MSTDP** multiplies the STDP term by the reward:
:math:`\Delta w_{jk} = \gamma\, r\, \zeta_{jk}`. With rewards every step
(``reward_mode='step'``) this is Florian's rule: a step's reward multiplies
that step's :math:`\zeta`. With a reward per tick, :math:`\zeta` is summed
over the tick and the reward credits the pairings of that tick. As in
:mod:`spikey.snn.synapse.stdp`, a pre and a post spike in the same step
count :math:`\zeta = A_+ + A_-` (both traces take the step's spikes before
:math:`\zeta` is formed), not the classic pair rule's :math:`A_+`.

**MSTDPET** keeps an eligibility trace per synapse,

.. math::

    z_{jk} \leftarrow z_{jk}\, e^{-\Delta t/\tau_z} + \zeta_{jk}/\tau_z, \qquad
    \Delta w_{jk} = \gamma\, r\, z_{jk}\, \Delta t ,

so a reward arriving ``T`` ms after a pairing still changes the weight by the
eligibility decayed by :math:`e^{-T/\tau_z}`. The decay is applied lazily:
``eligibility`` stores :math:`z / s` with a scalar :math:`s` that decays each
step, and is renormalised only when :math:`s` gets small, so a step never
touches the whole matrix.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import Key
from spikey.snn import kernels
from spikey.snn.synapse.template import Synapse

_RENORMALISE_BELOW = 1e-12


class MSTDP(Synapse):
    """Reward-modulated STDP without eligibility decay (Florian 2007)."""

    STATE = Synapse.STATE + ("eligibility",)

    def bind_parts(self, parts):
        super().bind_parts(parts)
        # one eligibility per stored synapse, laid out like the weights (dense or sparse)
        self.eligibility = np.zeros_like(parts["weights"].matrix)

    def reset(self):
        super().reset()
        self.eligibility[...] = 0.0

    def step(self, pre, post, weights, pre_index=None):
        self.update_traces(pre, post)
        if getattr(self, "reward_mode", "tick") == "step":
            # Only this step's pairings earn credit; the network rewards them before the
            # next step (pre_index views stay valid until then), so keep the spikes only.
            if getattr(self, "_step_pre", None) is None:
                self._step_pre, self._step_post = np.empty_like(pre), np.empty_like(post)
            np.copyto(self._step_pre, pre)
            np.copyto(self._step_post, post)
            self._this_step = (self._step_pre, self._step_post, pre_index)
        else:
            self.add_zeta(self.eligibility, pre, post, self.context.dtype.type(1.0),
                          self.eligibility_mask(weights), pre_index=pre_index)

    def learning_mask(self, weights):
        """Synapses whose eligibility may grow (default: every existing synapse)."""
        return weights.mask

    def eligibility_mask(self, weights):
        """Synapses whose eligibility the step loop builds (default: every existing synapse;
        a rule that sets some synapses' eligibility per tick in another way leaves them out)."""
        return weights.mask

    def fused_plan(self, weights):
        if type(self).step is not MSTDP.step or getattr(self, "reward_mode", "tick") == "step":
            return None
        one = self.context.dtype.type(1.0)
        return (2, self.eligibility, self.eligibility_mask(weights), True, one, self._k_ones,
                False, False)

    def _synapse_index(self, mask):
        """``kernels.synapse_index`` of ``mask``, kept while the mask object is the same."""
        cached = getattr(self, "_index_cache", None)
        if cached is None or cached[0] is not mask:
            cached = self._index_cache = (mask, *kernels.synapse_index(mask))
        return cached[1], cached[2]

    def reward(self, reward, weights):
        if getattr(self, "reward_mode", "tick") == "step":
            if getattr(self, "_this_step", None) is None:
                return
            pre, post, pre_index = self._this_step
            self.add_learning(weights, pre, post, pre_index=pre_index,
                              member_scale=np.asarray(reward, dtype=np.float64).reshape(-1))
            return
        self._apply(reward, weights, self.rate)
        self.eligibility[...] = 0.0

    def _apply(self, reward, weights, factor, source=None):
        """``w += factor * r * eligibility`` for the members whose reward is not zero.

        ``factor`` is one float64 value per member, ``(B,)``; ``source`` replaces
        the eligibility (an array laid out like it).
        """
        source = self.eligibility if source is None else source
        reward = np.asarray(reward, dtype=np.float64).reshape(-1) * factor
        members = np.flatnonzero(reward)
        if members.size == 0:
            return
        dtype = self.context.dtype.type
        if self.context.kernels:  # only the existing synapses, no temporaries
            index, starts = self._synapse_index(self.learning_mask(weights))
            low, high = weights.clip_bounds
            dense = index.size > 0.25 * source.size  # contiguous pass wins then
            kernels.apply_eligibility(weights.matrix, source, index, starts, members,
                                      reward.astype(dtype), dtype(low), dtype(high), dense)
            return
        # The eligibility of absent synapses is always zero, so they stay absent.
        if members.size == reward.size:
            step = reward.astype(dtype)[:, None, None]
            w = weights.matrix
            w += source * step
            weights.clip(w)
        else:
            step = reward[members].astype(dtype)[:, None, None]
            w = source[members]
            w *= step
            w += weights.matrix[members]
            weights.clip(w)
            weights.matrix[members] = w


class MSTDPET(MSTDP):
    """Reward-modulated STDP with an eligibility trace (Florian 2007)."""

    KEYS = Synapse.KEYS + (
        Key("tau_z", "float", "Eligibility trace time constant (ms).", 25.0,
            range=(1e-6, None), unit="ms"),
    )
    STATE = MSTDP.STATE + ("scale",)

    def build(self, context):
        self.scale = np.ones((), dtype=np.float64)
        super().build(context)

    def derive(self):
        super().derive()
        self.decay_z = math.exp(-self.context.dt / self.tau_z)

    def reset(self):
        super().reset()
        self.scale[...] = 1.0

    def step(self, pre, post, weights, pre_index=None):
        self.scale *= self.decay_z
        if self.scale < _RENORMALISE_BELOW:
            self.eligibility *= self.context.dtype.type(self.scale)
            self.scale[...] = 1.0
        self.update_traces(pre, post)
        self.add_zeta(self.eligibility, pre, post,
                      self.context.dtype.type(1.0 / (self.tau_z * float(self.scale))),
                      self.learning_mask(weights), pre_index=pre_index)

    def fused_plan(self, weights):
        if type(self).step is not MSTDPET.step:
            return None  # e.g. DA-STDP: dopamine and periodic updates each step
        one = self.context.dtype.type(1.0)
        return (3, self.eligibility, self.learning_mask(weights), True, one, self._k_ones, False,
                False)

    def reward(self, reward, weights):
        self._apply(reward, weights, self.rate * (self.context.dt * float(self.scale)))
