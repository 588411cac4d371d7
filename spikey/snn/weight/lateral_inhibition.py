r"""Feed-forward layers whose chosen layers inhibit themselves through interneurons.

Polarity belongs to the neuron part: body neuron :math:`i` is inhibitory when
``spread_mask(n_neurons, inhibitory_fraction)`` marks it, so a weight part
cannot place a dedicated interneuron where it likes. This part therefore uses
**the inhibitory neurons that the layer's share of that mask gives it** as the
layer's interneurons; ``inhibitory_fraction`` here must equal the neurons'
one. In each layer :math:`l` of ``lateral_layers`` with excitatory neurons
:math:`E_l` and inhibitory neurons :math:`I_l`:

* the feed-forward synapses into the layer are those of
  :class:`~spikey.snn.weight.layered.Layered` (interneurons see the same
  inputs as their layer);
* :math:`E_l \to I_l` synapses exist with probability ``excitation_probability``
  and mean weight ``excitation_weight`` (activity in the layer recruits its
  inhibition);
* :math:`I_l \to E_l` synapses exist with probability ``inhibition_probability``
  and mean weight ``inhibition_weight``: a spike of an interneuron lowers the
  potential of the layer's excitatory neurons, so the most driven neurons
  silence the others (soft winner-take-all);
* the interneurons project nowhere else: they keep no feed-forward or skip
  synapses, so the next layer sees only excitation.

Layers not listed keep the plain Layered synapses, whatever their neurons'
polarity.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import spread_mask
from spikey.snn.weight.layered import Layered
from spikey.snn.weight.template import Weight
from spikey.snn.weight.topology import draw_weights, member_value, structural_keys


class LateralInhibition(Layered):
    """Layered network with lateral inhibition (E -> I -> E) inside chosen layers.

    Examples
    --------
    A hidden layer of 10 and two outputs; ``inhibitory_fraction = 2 / 12`` marks
    body neurons 5 and 11, so neuron 5 is the hidden layer's interneuron (an
    output's polarity is harmless: outputs have no outgoing synapses here):

    >>> part = LateralInhibition(layers=[10, 2], inhibitory_fraction=2 / 12,
    ...                          lateral_layers=[0])
    >>> part.config["lateral_layers"]
    [0]
    """

    KEYS = Layered.KEYS + (
        Key("inhibitory_fraction", "float", "Must equal the neurons' inhibitory_fraction: which "
            "body neurons are inhibitory (evenly spread); a lateral layer's inhibitory neurons "
            "are its interneurons.", 0.2, range=(0, 1)),
        Key("lateral_layers", "list", "Indices (0-based, into layers) of the layers with lateral "
            "inhibition; each needs excitatory and inhibitory neurons.", [0]),
        Key("excitation_probability", "float", "Probability of each E -> I synapse within a "
            "lateral layer.", 1.0, range=(0, 1)),
        Key("excitation_weight", "float", "Mean weight of E -> I synapses within a lateral layer "
            "(mV).", 1.0, range=(0, None)),
        Key("inhibition_probability", "float", "Probability of each I -> E synapse within a "
            "lateral layer.", 1.0, range=(0, 1)),
        Key("inhibition_weight", "float", "Mean weight (magnitude) of I -> E synapses within a "
            "lateral layer (mV).", 2.0, range=(0, None)),
    )
    PER_MEMBER = Layered.PER_MEMBER + ("excitation_weight", "inhibition_weight")
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    def check_layers(self, n_neurons, n_outputs):
        sizes = super().check_layers(n_neurons, n_outputs)
        self.inhibitory = spread_mask(n_neurons, self.inhibitory_fraction)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        layers = self.lateral_layers
        if not all(isinstance(l, int) and not isinstance(l, bool) for l in layers) or \
                len(set(layers)) != len(layers):
            raise ConfigError(f"{self.owner}.lateral_layers = {layers!r}; expected distinct "
                              f"integer layer indices in [0, {len(sizes) - 1}]")
        for layer in layers:
            if not 0 <= layer < len(sizes):
                raise ConfigError(f"{self.owner}.lateral_layers = {layers!r} names layer {layer}; "
                                  f"expected indices in [0, {len(sizes) - 1}] (layers = {sizes})")
            here = self.inhibitory[bounds[layer]:bounds[layer + 1]]
            if here.all() or not here.any():
                which = "no inhibitory" if not here.any() else "no excitatory"
                raise ConfigError(
                    f"{self.owner}.lateral_layers includes layer {layer} (body neurons "
                    f"{bounds[layer]}..{bounds[layer + 1] - 1}) but inhibitory_fraction = "
                    f"{self.inhibitory_fraction} gives it {which} neurons (inhibitory neurons: "
                    f"{np.flatnonzero(self.inhibitory).tolist()}); expected both in the layer")
        return sizes

    def generate(self, rng):
        matrix, mask = super().generate(rng)
        n_in = self.context.n_inputs
        excitation = member_value(self, "excitation_weight")
        inhibition = member_value(self, "inhibition_weight")
        for layer in self.lateral_layers:
            cols = self.columns(layer)
            body = np.arange(cols.start, cols.stop)
            inhibitory = body[self.inhibitory[body]]
            excitatory = body[~self.inhibitory[body]]
            # interneurons send nothing forward: only their lateral synapses remain
            mask[n_in + inhibitory] = False
            matrix[n_in + inhibitory] = 0.0
            for pre, post, p, w in ((excitatory, inhibitory, self.excitation_probability,
                                     excitation),
                                    (inhibitory, excitatory, self.inhibition_probability,
                                     inhibition)):
                block = np.ix_(n_in + pre, post)
                present = rng.random((pre.size, post.size)) < p
                mask[block] = present
                matrix[block] = draw_weights(rng, w, present.shape, self.distribution,
                                             self.spread) * present
        return matrix, mask
