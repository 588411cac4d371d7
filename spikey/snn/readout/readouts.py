"""Readouts: threshold, neuron rates, population vector, top action."""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.core.part import RandomBlocks
from spikey.snn.readout.template import Readout, _Grouped


class Threshold(Readout):
    """Binary action: 1 when the outputs' mean rate exceeds ``threshold`` Hz.

    Output spikes vote for action 1, so a continuous reward treats a spike as
    agreeing when 1 was expected.
    """

    KEYS = Readout.KEYS + (
        Key("threshold", "float", "Mean output rate (Hz) above which the action is 1.", 10.0,
            range=(0, None)),
    )

    def __call__(self, counts, duration_ms):
        rate = self.rates(counts, duration_ms).mean(axis=1)
        return (rate > self.threshold).astype(np.int64)


class NeuronRates(Readout):
    """Continuous action: every output neuron's rate (Hz), shape ``(B, n_outputs)``."""

    def __call__(self, counts, duration_ms):
        return self.rates(counts, duration_ms)


class PopulationVector(_Grouped):
    """Continuous action: each group's share of the output rate, ``(B, n_actions)``.

    Rows sum to 1; a silent tick gives all zeros.
    """

    def __call__(self, counts, duration_ms):
        rates = self.group_rates(counts, duration_ms)
        total = rates.sum(axis=1, keepdims=True)
        return np.divide(rates, total, out=np.zeros_like(rates), where=total > 0)


class SoftmaxAction(_Grouped):
    r"""Discrete action drawn from a softmax over the groups' mean rates (exploration).

    .. math:: \pi(a) = \frac{e^{\beta \nu_a}}{\sum_g e^{\beta \nu_g}}

    with :math:`\nu_g` the mean rate (Hz) of group :math:`g` in the tick and
    :math:`\beta` the inverse temperature (1/Hz). The draw uses the member's own
    random stream. ``probabilities`` ``(B, n_actions)`` and ``last_action`` ``(B,)``
    keep the latest tick's policy and choice, ``duration_ms`` its length (TDLTP's
    ``output_gate='policy'`` reads them); ``greedy`` takes the most probable action instead of drawing.
    """

    KEYS = _Grouped.KEYS + (
        Key("beta", "float", "Inverse temperature on the groups' mean rates (1/Hz).", 0.05,
            range=(0, None)),
        Key("greedy", "bool", "Take the most probable action (ties: lowest index) instead of "
            "drawing one.", False),
    )
    STATE = ("probabilities",)
    PER_MEMBER = ("beta",)

    def build(self, context):
        """Allocate the policy buffer and the per-member random stream of the draws."""
        super().build(context)
        B = context.batch_size
        self.probabilities = np.full((B, self.n_actions), 1.0 / self.n_actions)
        self.random = RandomBlocks(context.generators(f"{self.slot}.choice"), 1, np.float64,
                                   activity=context.activity)
        self.last_action = None
        self.duration_ms = None

    def __call__(self, counts, duration_ms):
        rates = self.group_rates(counts, duration_ms)
        beta = self.beta if np.ndim(self.beta) == 0 else np.asarray(self.beta).reshape(-1, 1)
        z = beta * (rates - rates.max(axis=1, keepdims=True))
        p = self.probabilities
        np.exp(z, out=p)
        p /= p.sum(axis=1, keepdims=True)
        u = self.random.next()[:, 0]  # drawn in greedy mode too: one stream position a tick
        if self.greedy:
            action = np.argmax(p, axis=1)
        else:
            action = np.minimum((np.cumsum(p, axis=1) <= u[:, None]).sum(axis=1),
                                self.n_actions - 1)
        self.last_action = action.astype(np.int64)
        self.duration_ms = duration_ms
        return self.last_action


class TopAction(_Grouped):
    """Discrete action: the group with the highest rate (ties: the lowest index).

    ``last_action`` keeps the actions of the latest tick, ``(B,)`` (a rule that
    credits the chosen group, e.g. TDLTP's ``output_gate``, reads it).
    """

    def __call__(self, counts, duration_ms):
        self.last_action = self.group_rates(counts, duration_ms).argmax(axis=1).astype(np.int64)
        return self.last_action
