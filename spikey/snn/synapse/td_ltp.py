r"""TD-LTP: Hebbian eligibility gated by a TD error, with a TD(λ) trace over ticks.

Frémaux, Sprekeler & Gerstner (2013) train critic and actor synapses with the
same rule: a presynaptic trace meeting a postsynaptic spike makes a synapse
eligible (long-term potentiation only; no depression term), and a globally
broadcast TD error :math:`\delta` turns eligibility into weight change. Here
the game moves in ticks, so the rule works per tick. During tick :math:`t`
the coincidences are summed,

.. math:: e_{jk,t} = \sum_{\text{steps of } t} \zeta_{jk}, \qquad
    \zeta_{jk} = P^+_j f_k + P^-_k f_j

(:math:`P^+` the pre trace, :math:`A_- = 0` by default, so only pre-before-post
counts). Of the learning signals the rewarder sends after the tick (e.g.
:class:`~spikey.snn.reward.TDError`: :math:`\delta_{t-1}` for the previous
transition, then a terminal :math:`\delta_t`), the first is applied to the
trace of the ticks *before* this one, then the tick is folded in, once per
tick, and a later signal sees the trace with it:

.. math:: w_{jk} \leftarrow \mathrm{clip}\left(w_{jk} + \eta\,\delta\, z_{jk}\right),
    \qquad z_{jk} \leftarrow \lambda z_{jk} + e_{jk,t}, \qquad e \leftarrow 0 .

That is on-line TD(:math:`\lambda`) with the Hebbian term in place of the
gradient (``trace_decay`` :math:`= \gamma\lambda`). At the start of an episode
(``network.begin_episode()``) :math:`z` and :math:`e` are cleared.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn import kernels
from spikey.snn.readout.readouts import SoftmaxAction, TopAction
from spikey.snn.synapse.mstdp import MSTDP
from spikey.snn.synapse.template import Synapse


def _with_default(keys, name, default, description=None):
    """``keys`` with key ``name``'s default (and description) replaced."""
    return tuple(dataclasses.replace(key, default=default,
                                     description=description or key.description)
                 if key.name == name else key for key in keys)


class TDLTP(MSTDP):
    """Hebbian LTP eligibility per tick, a TD(lambda) trace, weight change = rate * delta * trace."""

    KEYS = _with_default(Synapse.KEYS, "A_minus", 0.0,
                         "Depression amplitude for post-before-pre (0: TD-LTP, potentiation "
                         "only).") + (
        Key("trace_decay", "float", "Decay of the eligibility trace per tick (gamma * lambda).",
            0.8, range=(0, 1)),
        Key("output_gate", "str", "Eligibility of output neurons per tick: 'none' keeps it, "
            "'chosen' keeps only the group of the action taken, 'contrast' also negates the "
            "other groups', 'policy' scales group g by 1[g = action] - pi(g) (a SoftmaxAction "
            "readout's policy).", "none", choices=("none", "chosen", "contrast", "policy")),
        Key("output_eligibility", "str", "Eligibility of synapses onto output neurons per tick: "
            "'hebbian' (pre trace at post spikes, as every other synapse) or 'presynaptic' (the "
            "input's expected spike count in the tick, no postsynaptic factor: with "
            "output_gate 'policy' the softmax policy gradient of a linear rate model). "
            "'presynaptic' needs a rate-coded input part and no synapses between body and "
            "output neurons.", "hebbian", choices=("hebbian", "presynaptic")),
        Key("output_rate_factor", "float", "Learning rate of synapses onto the output neurons "
            "(the actor) as a multiple of learning_rate; below 1 lets the critic lead.", 1.0,
            range=(0, None)),
    )
    STATE = MSTDP.STATE + ("trace",)
    PER_MEMBER = Synapse.PER_MEMBER

    def bind_parts(self, parts):
        """Allocate the multi-tick trace next to the tick's eligibility; find the readout's
        groups when the output eligibility is gated by the action."""
        super().bind_parts(parts)
        self.trace = np.zeros_like(self.eligibility)
        self._weights_part = parts["weights"]
        self._readout = None
        presynaptic = self.output_eligibility == "presynaptic"
        if presynaptic and self.output_gate != "policy":
            raise ConfigError(f"{self.owner}.output_eligibility = 'presynaptic' needs "
                              f"output_gate = 'policy'; got {self.output_gate!r}")
        if self.output_gate != "none" or self.output_rate_factor != 1.0:
            readout = parts["readout"]
            wanted = SoftmaxAction if self.output_gate == "policy" else (TopAction, SoftmaxAction)
            if not isinstance(readout, wanted) or self._sparse is not None:
                raise ConfigError(
                    f"{self.owner}.output_gate = {self.output_gate!r} needs dense weights and a "
                    f"{'SoftmaxAction' if self.output_gate == 'policy' else 'TopAction or SoftmaxAction'}"
                    f" readout; got {type(readout).__name__}")
            self._readout = readout
            n, out = self.context.n_neurons, readout.n_outputs
            self._outputs = slice(n - out, n)
            self._gate = np.zeros((self.context.batch_size, out), dtype=self.context.dtype)
        self._inputs = None
        if presynaptic:
            inputs, n_in = parts["inputs"], self.context.n_inputs
            if getattr(inputs, "probability", None) is None:
                raise ConfigError(f"{self.owner}.output_eligibility = 'presynaptic' needs a "
                                  "rate-coded input part (one with a spike probability per "
                                  f"step); got {type(inputs).__name__}")
            if np.any(parts["weights"].mask[..., n_in:, self._outputs]):
                raise ConfigError(f"{self.owner}.output_eligibility = 'presynaptic' covers "
                                  "input -> output synapses only; the weights connect body "
                                  "neurons to output neurons (use weights.inputs_only = true)")
            self._inputs = inputs

    def reset(self):
        """Clear traces (the network's reset)."""
        super().reset()
        self.trace[...] = 0.0

    def begin_episode(self):
        """No eligibility carries over from one episode to the next (only the rows that can
        hold any are cleared: :meth:`_fold_rows`; the others are always zero)."""
        stop = self._fold_rows(self._weights_part)
        self.eligibility[:, :stop] = 0.0
        self.trace[:, :stop] = 0.0

    def fused_plan(self, weights):
        """MSTDP's fused tick; without depression (every member's ``A_minus`` is 0) the rows
        of presynaptic spikes are skipped, as they would only add zeros."""
        plan = super().fused_plan(weights)
        if plan is None or np.any(np.asarray(self.A_minus) != 0):
            return plan
        return plan[:3] + (False,) + plan[4:]

    def eligibility_mask(self, weights):
        """The synapses whose eligibility the step loop builds: all, except with a presynaptic
        actor the synapses onto the outputs (:meth:`_gate_outputs` sets theirs once per tick,
        so the Hebbian coincidences would be discarded). Kept while the mask object is the
        same."""
        if self._inputs is None:
            return weights.mask
        cached = getattr(self, "_eligibility_mask", None)
        if cached is None or cached[0] is not weights.mask:
            mask = weights.mask.copy()
            mask[:, :, self._outputs] = False
            cached = self._eligibility_mask = (weights.mask, mask)
        return cached[1]

    def _gate_outputs(self):
        """Scale the output columns of this tick's eligibility by the action taken."""
        action = getattr(self._readout, "last_action", None)
        if action is None:  # no action taken yet: no policy gradient (a presynaptic actor's
            return  # eligibility stays zero, a Hebbian one's is kept)
        chosen = self._readout.groups[None, :] == np.asarray(action).reshape(-1, 1)
        f = self.output_rate_factor
        if self.output_gate == "policy":  # d log pi(action) / d rate of group g, up to beta
            policy = self._readout.probabilities[:, self._readout.groups]
            np.subtract(chosen, policy, out=self._gate)
            self._gate *= f
        else:
            other = {"none": f, "chosen": 0.0, "contrast": -f}[self.output_gate]
            np.copyto(self._gate, np.where(chosen, f, other))
        if self._inputs is None:
            self.eligibility[:, :, self._outputs] *= self._gate[:, None, :]
            return
        # presynaptic: the tick's expected input spike count times the gate; the Hebbian
        # coincidences the step loop summed for these columns are replaced
        n_in, steps = self.context.n_inputs, self._readout.duration_ms / self.context.dt
        counts = self._inputs.probability * self.context.dtype.type(steps)
        if not self.context.activity.all:  # a paused member earns no eligibility
            counts = counts * self.context.activity.mask[:, None]
        block = self.eligibility[:, :, self._outputs]  # a view: written in place
        # (its rows after the inputs stay zero: bind_parts refused synapses there)
        np.multiply(counts[:, :, None], self._gate[:, None, :], out=block[:, :n_in])

    def _fold_rows(self, weights) -> int:
        """The number of leading presynaptic rows whose eligibility can be non-zero: rows
        up to the last one with a synapse (the rule writes existing synapses only) and, with
        a presynaptic actor, the input rows; the rows after it stay zero in the eligibility
        and the trace. Kept while the mask object is the same."""
        mask = weights.mask
        cached = getattr(self, "_fold_cache", None)
        if cached is None or cached[0] is not mask:
            live = np.flatnonzero(mask.any(axis=(0, 2)))
            stop = int(live[-1]) + 1 if live.size else 0
            if self._inputs is not None:
                stop = max(stop, self.context.n_inputs)
            cached = self._fold_cache = (mask, stop)
        return cached[1]

    def reward_signals(self, signals, weights):
        r"""A tick's learning signals, ``(K, B)``: the first, :math:`\delta_{t-1}`, credits the
        trace of the ticks before this one; then this tick's eligibility is folded in, once,
        and any later signal (the terminal :math:`\delta_t`) credits the trace including it."""
        if self._readout is not None:
            self._gate_outputs()
        self._apply(signals[0], weights, self.rate, source=self.trace)
        decay = self.context.dtype.type(self.trace_decay)
        if self.context.kernels:  # one pass instead of three, over the rows that can hold
            kernels.fold_trace(self.trace, self.eligibility, decay, self._fold_rows(weights))
        else:
            self.trace *= decay
            self.trace += self.eligibility
            self.eligibility[...] = 0.0
        for signal in signals[1:]:
            self._apply(signal, weights, self.rate, source=self.trace)

    def reward(self, reward, weights):
        r"""One learning signal for the tick: apply :math:`\eta\,\delta z`, then fold this
        tick's eligibility into the trace (:meth:`reward_signals` with ``K = 1``)."""
        self.reward_signals(np.asarray(reward, dtype=np.float64).reshape(1, -1), weights)
