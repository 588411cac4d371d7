r"""Sparse random excitatory/inhibitory network with a probability and a weight per population pair.

The body splits into excitatory :math:`E` and inhibitory :math:`I` neurons by
``spread_mask(n_neurons, inhibitory_fraction)``, the same evenly spread mask
the neuron part uses for polarity (``inhibitory_fraction`` here must equal the
neurons' one). A synapse from population :math:`A` to population :math:`B`
(:math:`A, B \in \{E, I\}`; the first letter is presynaptic) exists
independently with probability :math:`p_{AB}` and weighs

.. math:: w_{jk} = \bar w_{AB}\, X_{jk}, \qquad j \in A,\; k \in B,

(:math:`X` from ``distribution``/``spread``, mean 1); self-synapses are absent
unless ``self_loops``. Weights are magnitudes: Dale's law holds because the
sign of every outgoing synapse is its presynaptic neuron's polarity. The
expected recurrent input to an excitatory neuron per presynaptic rate
:math:`\nu` is :math:`\nu (N_E p_{EE} \bar w_{EE} - N_I p_{IE} \bar w_{IE})`;
with :math:`N_E = 4 N_I`, equal probabilities and
:math:`\bar w_{IE} = 4 \bar w_{EE}` it vanishes (a balanced network, Brunel
2000). Inputs reach each body neuron with probability ``input_density``.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.core.part import spread_mask
from spikey.snn.weight.template import Weight
from spikey.snn.weight.topology import (DISTRIBUTION_KEYS, INPUT_KEYS, check_distribution,
                                        draw_weights, input_synapses, member_value,
                                        structural_keys)

PAIRS = ("EE", "EI", "IE", "II")


class SparseEI(Weight):
    """Sparse E/I network: ``p_AB`` and ``w_AB`` per population pair (pre A -> post B).

    Examples
    --------
    Brunel-style balance: inhibitory synapses four times as strong.

    >>> part = SparseEI(inhibitory_fraction=0.2, w_EE=0.5, w_EI=0.5, w_IE=2.0, w_II=2.0)
    >>> part.config["p_EE"]
    0.1
    """

    KEYS = Weight.KEYS + (
        Key("inhibitory_fraction", "float", "Must equal the neurons' inhibitory_fraction: which "
            "body neurons are inhibitory (evenly spread).", 0.2, range=(0, 1)),
    ) + tuple(
        Key(f"p_{pair}", "float", f"Probability of each {pair[0]} -> {pair[1]} synapse.", 0.1,
            range=(0, 1)) for pair in PAIRS
    ) + tuple(
        Key(f"w_{pair}", "float", f"Mean weight (magnitude, mV) of {pair[0]} -> {pair[1]} "
            "synapses; may differ per member.", 1.0 if pair[0] == "E" else 4.0, range=(0, None))
        for pair in PAIRS
    ) + DISTRIBUTION_KEYS + INPUT_KEYS + (
        Key("self_loops", "bool", "Allow body neuron i -> i synapses.", False),
    )
    PER_MEMBER = tuple(f"w_{pair}" for pair in PAIRS) + ("input_weight",)
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    def build(self, context):
        check_distribution(self)
        super().build(context)

    def populations(self) -> dict:
        """Body indices of each population: ``{"E": ..., "I": ...}``."""
        inhibitory = spread_mask(self.shape[1], self.inhibitory_fraction)
        return {"E": np.flatnonzero(~inhibitory), "I": np.flatnonzero(inhibitory)}

    def generate(self, rng):
        n_in, n = self.context.n_inputs, self.shape[1]
        matrix = np.zeros(self.shape)
        mask = np.zeros(self.shape, dtype=bool)
        matrix[:n_in], mask[:n_in] = input_synapses(rng, self, n_in, n)
        # One draw over the whole body keeps the numbers independent of the split.
        uniform = rng.random((n, n))
        probability = np.empty((n, n))
        mean = np.empty((n, n))
        groups = self.populations()
        for pair in PAIRS:
            block = np.ix_(groups[pair[0]], groups[pair[1]])
            probability[block] = getattr(self, f"p_{pair}")
            mean[block] = member_value(self, f"w_{pair}")
        body = uniform < probability
        if not self.self_loops:
            np.fill_diagonal(body, False)
        mask[n_in:] = body
        matrix[n_in:] = draw_weights(rng, mean, (n, n), self.distribution, self.spread) * body
        return matrix, mask
