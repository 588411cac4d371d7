"""Random connectivity with a fixed number of outgoing synapses per body neuron.

Each body neuron draws ``out_degree`` targets uniformly (with replacement, as
in Izhikevich 2007; a repeated target is one synapse), excluding itself;
inhibitory neurons may be restricted to excitatory targets. Excitatory
synapses start at ``weight``, inhibitory ones at ``inhibitory_weight`` (both
magnitudes; the sign is the presynaptic neuron's). Inputs connect to the body
with probability ``input_density``.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.core.part import spread_mask
from spikey.snn.weight.template import Weight


class FixedOutDegree(Weight):
    """``out_degree`` random targets per body neuron (Izhikevich 2007 style)."""

    KEYS = Weight.KEYS + (
        Key("out_degree", "int", "Targets drawn per body neuron.", 100, range=(1, None)),
        Key("weight", "float", "Initial weight of excitatory synapses.", 1.0, range=(0, None)),
        Key("inhibitory_weight", "float", "Initial weight (magnitude) of inhibitory synapses.", 1.0,
            range=(0, None)),
        Key("inhibitory_fraction", "float", "Must equal the neurons' inhibitory_fraction: which "
            "body neurons are inhibitory (evenly spread).", 0.0, range=(0, 1)),
        Key("inhibitory_targets", "str", "Targets of inhibitory neurons.", "excitatory",
            choices=("any", "excitatory")),
        Key("input_density", "float", "Probability of each input -> body synapse.", 0.0,
            range=(0, 1)),
    )

    def generate(self, rng):
        n_in = self.context.n_inputs
        n = self.shape[1]
        inhibitory = spread_mask(n, self.inhibitory_fraction)
        excitatory_ids = np.flatnonzero(~inhibitory)
        matrix = np.zeros(self.shape)
        mask = np.zeros(self.shape, dtype=bool)
        mask[:n_in] = rng.random((n_in, n)) < self.input_density
        matrix[:n_in] = self.weight * mask[:n_in]
        for j in range(n):  # build time only: one draw per presynaptic neuron
            pool = excitatory_ids if inhibitory[j] and self.inhibitory_targets == "excitatory" \
                else np.arange(n)
            pool = pool[pool != j]
            targets = pool[rng.integers(len(pool), size=self.out_degree)]
            mask[n_in + j, targets] = True
            matrix[n_in + j, targets] = self.inhibitory_weight if inhibitory[j] else self.weight
        return matrix, mask
