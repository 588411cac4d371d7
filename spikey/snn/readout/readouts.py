"""Readouts: threshold, neuron rates, population vector, top action."""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
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


class TopAction(_Grouped):
    """Discrete action: the group with the highest rate (ties: the lowest index)."""

    def __call__(self, counts, duration_ms):
        return np.argmax(self.group_rates(counts, duration_ms), axis=1).astype(np.int64)
