r"""Feed-forward layers: inputs -> layer 1 -> ... -> last layer (the outputs).

The body neurons are split, in order, into layers of sizes
``layers = [n_1, ..., n_L]`` (:math:`\sum_l n_l` = ``n_neurons``; the last layer
holds the readout's outputs, :math:`n_L` = ``n_outputs``). Layer pair
:math:`l = 0, \dots, L-1` connects source :math:`S_l` (the inputs for
:math:`l = 0`, else layer :math:`l`) to layer :math:`l + 1`; each of its
synapses exists independently with probability :math:`p_l` and has weight

.. math:: w_{jk} = \bar w_l X_{jk}, \qquad j \in S_l,\; k \in \text{layer } l+1

(:math:`X` from ``distribution``/``spread``, mean 1). Optional *skip*
synapses go from a source to every layer after its next one (inputs ->
layer 3, layer 1 -> layer 3, ...) with probability ``skip_probability`` (0 by
default: no skips). No other synapses exist: no recurrence within a layer and
no feedback, so the network is acyclic.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import REQUIRED, ConfigError, Key
from spikey.snn.weight.template import Weight
from spikey.snn.weight.topology import (DISTRIBUTION_KEYS, check_distribution, draw_weights,
                                        fraction_list, member_value, structural_keys)


class Layered(Weight):
    """Feed-forward layers with a connection probability and a mean weight per layer pair.

    Examples
    --------
    Four inputs, a hidden layer of 10 and two outputs, fully connected:

    >>> Layered(layers=[10, 2], probability=1.0, weight=[2.0, 1.0]).config["layers"]
    [10, 2]
    """

    KEYS = Weight.KEYS + (
        Key("layers", "list", "Body-layer sizes in order, inputs -> layers[0] -> ... -> "
            "layers[-1]; they sum to n_neurons and the last layer is the outputs "
            "(layers[-1] == n_outputs).", REQUIRED),
        Key("probability", ("float", "list"), "Connection probability of each layer pair: one "
            "number for all, or one per pair [inputs -> layers[0], layers[0] -> layers[1], ...] "
            "(len(layers) values).", 1.0),
        Key("weight", ("float", "list"), "Mean weight (mV) of each layer pair: one number for "
            "all, or one per pair (as probability); may differ per member.", 1.0),
    ) + DISTRIBUTION_KEYS + (
        Key("skip_probability", "float", "Probability of each skip synapse, from the inputs or a "
            "layer to every layer after its next one; 0 means no skip connections.", 0.0,
            range=(0, 1)),
        Key("skip_weight", "float", "Mean weight of skip synapses (mV); None: the mean weight of "
            "the pair entering the target layer.", None, range=(0, None), nullable=True),
    )
    PER_MEMBER = ("weight", "skip_weight")
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    # ------------------------------------------------------------ structure
    def build(self, context):
        self.context = context  # check_layers reads the sizes before the matrix is drawn
        self.sizes = self.check_layers(context.n_neurons, context.n_outputs)
        #: first body index of each layer, and one past the last
        self.bounds = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        check_distribution(self)
        super().build(context)

    def check_layers(self, n_neurons: int, n_outputs: int) -> list:
        """The layer sizes, checked against the network; raises ConfigError."""
        layers = self.layers
        if not layers or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1
                                 for s in layers):
            raise ConfigError(f"{self.owner}.layers = {layers!r}; expected a non-empty list of "
                              "integers >= 1 (body-layer sizes)")
        if sum(layers) != n_neurons:
            raise ConfigError(f"{self.owner}.layers = {layers!r} sums to {sum(layers)}; expected "
                              f"n_neurons = {n_neurons}")
        if n_outputs and layers[-1] != n_outputs:
            raise ConfigError(f"{self.owner}.layers[-1] = {layers[-1]}; expected the last layer "
                              f"to be the readout's outputs (n_outputs = {n_outputs})")
        return list(layers)

    def rows(self, layer: int) -> slice:
        """Presynaptic rows of body layer ``layer`` (0-based); ``-1`` are the inputs."""
        n_in = self.context.n_inputs
        if layer < 0:
            return slice(0, n_in)
        return slice(n_in + self.bounds[layer], n_in + self.bounds[layer + 1])

    def columns(self, layer: int) -> slice:
        """Columns (body neurons) of layer ``layer`` (0-based)."""
        return slice(self.bounds[layer], self.bounds[layer + 1])

    # ------------------------------------------------------------ drawing
    def generate(self, rng):
        n_layers = len(self.sizes)
        probability = fraction_list(self, "probability", n_layers, "one per layer pair", 0.0, 1.0)
        weight = fraction_list(self, "weight", n_layers, "one per layer pair")
        matrix = np.zeros(self.shape)
        mask = np.zeros(self.shape, dtype=bool)
        for target in range(n_layers):
            self.connect(rng, matrix, mask, target, target - 1, probability[target],
                         weight[target])
        if self.skip_probability > 0:
            skip_weight = member_value(self, "skip_weight")
            for target in range(1, n_layers):
                w = weight[target] if skip_weight is None else skip_weight
                for source in range(-1, target - 1):
                    self.connect(rng, matrix, mask, target, source, self.skip_probability, w)
        return matrix, mask

    def connect(self, rng, matrix, mask, target: int, source: int, probability: float,
                weight: float) -> None:
        """Fill the block ``source -> target`` (layer indices, ``-1`` = inputs) in place."""
        rows, cols = self.rows(source), self.columns(target)
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        present = rng.random(shape) < probability
        mask[rows, cols] = present
        matrix[rows, cols] = draw_weights(rng, weight, shape, self.distribution,
                                          self.spread) * present
