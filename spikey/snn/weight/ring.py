r"""Ring lattice: body neurons on a circle, each connected to its nearest neighbours.

Body neuron :math:`i` (of :math:`N`) projects to

.. math:: i \pm 1, i \pm 2, \dots, i \pm k \pmod N

(undirected: every neuron has in- and out-degree exactly :math:`2k`), or with
``directed`` only to :math:`i + 1, \dots, i + k` (one-sided, degree exactly
:math:`k`: activity travels one way round). Ring synapses weigh
:math:`\bar w X` (``weight``, ``distribution``, ``spread``). Inputs reach each
body neuron independently with probability ``input_density``.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.snn.weight.template import Weight
from spikey.snn.weight.topology import (DISTRIBUTION_KEYS, INPUT_KEYS, check_distribution,
                                        check_ring, draw_weights, input_synapses, member_value,
                                        ring_lattice, structural_keys)


class Ring(Weight):
    """Ring lattice of ``k`` neighbours on each side (or one side when ``directed``).

    Examples
    --------
    >>> Ring(k=2, directed=True).config["k"]
    2
    """

    KEYS = Weight.KEYS + (
        Key("k", "int", "Neighbours on each side that a neuron projects to (one side when "
            "directed).", 2, range=(1, None)),
        Key("directed", "bool", "Project to the k clockwise neighbours only (i -> i+1..i+k).",
            False),
        Key("weight", "float", "Mean weight of ring synapses (mV); may differ per member.", 1.0,
            range=(0, None)),
    ) + DISTRIBUTION_KEYS + INPUT_KEYS
    PER_MEMBER = ("weight", "input_weight")
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    def build(self, context):
        check_ring(self, context.n_neurons)
        check_distribution(self)
        super().build(context)

    def lattice(self, rng) -> np.ndarray:
        """Body adjacency ``(N, N)``, ``A[i, j]`` = synapse ``i -> j``."""
        return ring_lattice(self.shape[1], self.k, self.directed)

    def generate(self, rng):
        n_in, n = self.context.n_inputs, self.shape[1]
        matrix = np.zeros(self.shape)
        mask = np.zeros(self.shape, dtype=bool)
        matrix[:n_in], mask[:n_in] = input_synapses(rng, self, n_in, n)
        adjacency = self.lattice(rng)
        mask[n_in:] = adjacency
        matrix[n_in:] = draw_weights(rng, member_value(self, "weight"), (n, n), self.distribution,
                                     self.spread) * adjacency
        return matrix, mask
