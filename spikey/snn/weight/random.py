"""Random weights: a distribution, a density or mask, and structural constraints.

Each existing synapse (chosen with probability ``density``, or by ``mask``)
draws its weight from ``distribution``; then self-loops are removed unless
allowed, and ``feed_forward`` keeps only input->body synapses and body
``i -> j`` synapses with ``i < j`` (an acyclic network), ``inputs_only`` only
the input->body ones. Weights are clipped
to ``[0, max_weight]``.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.weight.template import Weight


class Random(Weight):
    """Randomly drawn weights (one independent draw per batch member)."""

    KEYS = Weight.KEYS + (
        Key("distribution", "str", "Weight distribution.", "uniform",
            choices=("uniform", "normal", "lognormal")),
        Key("low", "float", "Uniform lower bound (mV).", 0.0),
        Key("high", "float", "Uniform upper bound (mV).", 1.0),
        Key("mean", "float", "Normal/lognormal mean (of log for lognormal).", 0.5),
        Key("std", "float", "Normal/lognormal standard deviation.", 0.1, range=(0, None)),
        Key("density", "float", "Probability that a synapse exists.", 1.0, range=(0, 1)),
        Key("mask", "list", "Explicit existence mask (n_inputs + n_neurons, n_neurons).", None,
            nullable=True),
        Key("self_loops", "bool", "Allow body neuron i -> i synapses.", False),
        Key("feed_forward", "bool", "Keep only input->body and body i->j (i < j) synapses.", False),
        Key("inputs_only", "bool", "Keep only input->body synapses (no synapse between body "
            "neurons), e.g. for parallel critic and actor populations.", False),
    )

    def generate(self, rng):
        n_in = self.context.n_inputs
        if self.distribution == "uniform":
            if self.high < self.low:
                raise ConfigError(f"{self.owner}: high = {self.high} < low = {self.low}")
            matrix = rng.uniform(self.low, self.high, size=self.shape)
        elif self.distribution == "normal":
            matrix = rng.normal(self.mean, self.std, size=self.shape)
        else:
            matrix = rng.lognormal(self.mean, self.std, size=self.shape)
        given = self.config["mask"]  # the built array takes the attribute name
        if given is None:
            mask = rng.random(self.shape) < self.density
        else:
            mask = np.asarray(given, dtype=bool)
            if mask.shape != self.shape:
                raise ConfigError(f"{self.owner}.mask has shape {mask.shape}; expected {self.shape}")
        pre = np.arange(self.shape[0])[:, None] - n_in  # body index of each row, <0 for inputs
        post = np.arange(self.shape[1])[None, :]
        if not self.self_loops:
            mask &= pre != post
        if self.feed_forward:
            mask &= pre < post
        if self.inputs_only:
            mask &= pre < 0
        return matrix, mask
