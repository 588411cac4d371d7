r"""Watts–Strogatz small world: a ring lattice with randomly rewired edges.

Start from the ring lattice of :class:`~spikey.snn.weight.ring.Ring` (each
neuron linked to its :math:`k` neighbours on each side). Then, as in Watts &
Strogatz (1998), for each offset :math:`j = 1, \dots, k` and each neuron
:math:`u = 0, \dots, N-1` in turn, the edge :math:`(u, u + j)` is rewired with
probability :math:`\beta` to :math:`(u, w)`, :math:`w` uniform among the
neurons that are neither :math:`u` nor already linked from :math:`u` (when
there are none, the edge stays).

Undirected (the default, the classic model): an edge is a pair of synapses
:math:`u \to v` and :math:`v \to u`, the adjacency stays symmetric and the mean
degree stays exactly :math:`2k`. ``directed``: the lattice is one-sided
(:math:`u \to u+1..u+k`) and rewiring moves a synapse's target; every
out-degree stays exactly :math:`k`.

:math:`\beta = 0` is the ring itself (clustering
:math:`C = \tfrac{3(k-1)}{2(2k-1)}`); :math:`\beta = 1` approaches a random
graph of the same mean degree (:math:`C \approx 2k/N`); in between, a few
shortcuts shrink path lengths while :math:`C` stays high.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.snn.weight.ring import Ring
from spikey.snn.weight.template import Weight
from spikey.snn.weight.topology import ring_lattice, structural_keys


class SmallWorld(Ring):
    """Watts–Strogatz ring lattice with rewiring probability ``beta``.

    Examples
    --------
    >>> SmallWorld(k=3, beta=0.1).config["beta"]
    0.1
    """

    KEYS = Ring.KEYS + (
        Key("beta", "float", "Probability that each lattice edge is rewired to a random "
            "neuron.", 0.1, range=(0, 1)),
    )
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    def lattice(self, rng) -> np.ndarray:
        n, k, symmetric = self.shape[1], self.k, not self.directed
        adjacency = ring_lattice(n, k, self.directed)
        nodes = np.arange(n)
        for j in range(1, k + 1):
            rewire = np.flatnonzero(rng.random(n) < self.beta)
            for u in rewire:  # build time only; each move depends on the ones before it
                v = (u + j) % n
                if not adjacency[u, v] or adjacency[u].sum() >= n - 1:
                    continue  # edge already moved away by an earlier rewiring, or u is full
                candidates = nodes[~adjacency[u] & (nodes != u)]
                w = candidates[rng.integers(candidates.size)]
                adjacency[u, v] = False
                adjacency[u, w] = True
                if symmetric:
                    adjacency[v, u] = False
                    adjacency[w, u] = True
        return adjacency
