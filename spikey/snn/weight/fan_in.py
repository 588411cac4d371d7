r"""Sparse weights with a fixed fan-in, stored as index arrays instead of a matrix.

Every body neuron :math:`k` receives exactly ``fan_in`` = :math:`K` synapses
from distinct presynaptic neurons drawn at random (without replacement) from
``sources`` (the inputs, the body neurons, or both; no self-connections
unless ``self_loops``). Initial weights are uniform in ``[low, high]``,
clipped to ``[0, max_weight]``; the sign is the presynaptic neuron's polarity,
as for every weight part.

Storage, per member :math:`b` (memory :math:`\propto N K`, not :math:`(n_{in}+N) N`):

* ``matrix`` ``(B, N, K)``: the weight of the :math:`s`-th synapse onto neuron
  :math:`k` (the name is shared with dense parts, so learning rules, weight
  averaging and summaries treat both alike);
* ``pre_index`` ``(B, N, K)``: its presynaptic neuron (ascending per :math:`k`);
* ``out_start`` ``(B, P + 1)`` and ``out_synapse`` ``(B, N K)``: the same
  synapses grouped by presynaptic neuron (CSR), as flat ids :math:`kK + s`, so a
  spike of neuron :math:`j` reads only its own ``out_synapse[out_start[j]:out_start[j+1]]``;
  ``out_post`` holds each of those synapses' target :math:`k` (no division per spike).

Propagation and plasticity touch only the synapses of neurons that spiked:
a presynaptic spike walks its CSR segment, a postsynaptic spike its
:math:`K` contiguous entries. ``dense()`` returns the equivalent
``(B, P, N)`` matrix for inspection and plotting (small networks only).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class SparseFanIn(Part):
    """``fan_in`` random presynaptic partners per body neuron, stored sparsely.

    Examples
    --------
    >>> part = SparseFanIn(fan_in=100, sources="all", high=0.5)
    >>> part.config["fan_in"]
    100
    """

    FAMILY = "weights"
    SPARSE = True
    KEYS = (
        Key("fan_in", "int", "Synapses onto each body neuron.", 100, range=(1, None)),
        Key("sources", "str", "Where the presynaptic partners come from.", "all",
            choices=("inputs", "neurons", "all")),
        Key("low", "float", "Lowest initial weight (mV).", 0.0, range=(0, None)),
        Key("high", "float", "Highest initial weight (mV).", 1.0, range=(0, None)),
        Key("max_weight", "float", "Upper weight bound (mV); weights stay in [0, max_weight].",
            5.0, range=(0, None)),
        Key("self_loops", "bool", "Whether a body neuron may be its own partner.", False),
    )
    FIXED = ("fan_in", "sources", "low", "high", "self_loops")
    STATE = ("matrix",)
    type_matrix = None  # only direct synapses: no types,
    delay_matrix = None  # no extra delays

    def build(self, context):
        super().build(context)
        B, n_in, n = context.batch_size, context.n_inputs, context.n_neurons
        P, K = n_in + n, self.fan_in
        self.shape = (P, n)
        if self.low > self.high:
            raise ConfigError(f"{self.owner}.low = {self.low} is above high = {self.high}; "
                              "expected low <= high")
        pool = {"inputs": np.arange(n_in), "neurons": np.arange(n_in, P),
                "all": np.arange(P)}[self.sources]
        available = pool.size - (0 if self.self_loops or self.sources == "inputs" else 1)
        if K > available:
            raise ConfigError(f"{self.owner}.fan_in = {K} but sources = {self.sources!r} offers "
                              f"only {available} distinct partners per neuron; expected "
                              f"fan_in <= {available}")
        index_type = np.int32 if P * K < 2**31 else np.int64
        self.pre_index = np.zeros((B, n, K), dtype=index_type)
        self.matrix = np.zeros((B, n, K), dtype=context.dtype)
        for b, rng in enumerate(context.generators(f"{self.slot}.init")):
            for k in range(n):  # build time only: one draw per body neuron
                own = n_in + k
                if self.self_loops or not (pool[0] <= own <= pool[-1]):
                    chosen = pool[rng.choice(pool.size, K, replace=False)]
                else:  # draw from the pool without neuron k itself
                    chosen = rng.choice(pool.size - 1, K, replace=False)
                    chosen = pool[chosen + (chosen >= own - pool[0])]
                self.pre_index[b, k] = np.sort(chosen)
            # in pieces of rows (the same numbers as one (n, K) draw): no float64 copy of the
            # whole matrix at build (N = 10,000 at fan-in 100: 16 MB of temporaries)
            rows = max(1, (1 << 16) // K)
            for lo in range(0, n, rows):
                values = rng.uniform(self.low, self.high, size=(min(rows, n - lo), K))
                self.matrix[b, lo:lo + rows] = np.clip(values, 0.0, self.max_weight, out=values)
        self.mask = np.ones((B, n, K), dtype=bool)  # every stored synapse exists
        # CSR by presynaptic neuron: flat synapse ids k * K + s, grouped by pre
        flat = self.pre_index.reshape(B, -1)
        self.out_synapse = np.empty((B, n * K), dtype=index_type)
        self.out_post = np.empty((B, n * K), dtype=index_type)  # each synapse's target
        self.out_start = np.zeros((B, P + 1), dtype=np.int64)
        for b in range(B):  # one member's temporaries at a time
            np.cumsum(np.bincount(flat[b], minlength=P), out=self.out_start[b, 1:])
            _stable_order(flat[b], self.out_start[b], self.out_synapse[b])
            np.floor_divide(self.out_synapse[b], K, out=self.out_post[b])

    @property
    def flat(self):
        """Dense weight rows do not exist here: raises TypeError pointing at :meth:`dense`."""
        raise TypeError(f"{self.owner} (SparseFanIn) stores no dense weight rows; "
                        "use dense() for a (B, P, N) matrix")

    def dense(self) -> np.ndarray:
        """The ``(B, n_inputs + n_neurons, n_neurons)`` weight matrix these synapses make."""
        B, n, K = self.matrix.shape
        out = np.zeros((B, *self.shape), dtype=self.matrix.dtype)
        posts = np.broadcast_to(np.arange(n)[:, None], (n, K))
        for b in range(B):
            out[b, self.pre_index[b], posts] = self.matrix[b]
        return out

    def dense_mask(self) -> np.ndarray:
        """Which entries of :meth:`dense` are synapses, ``(B, n_inputs + n_neurons, n_neurons)``."""
        B, n, K = self.matrix.shape
        out = np.zeros((B, *self.shape), dtype=bool)
        for b in range(B):
            out[b, self.pre_index[b], np.arange(n)[:, None]] = True
        return out

    def rows_mask(self, rows: np.ndarray) -> np.ndarray:
        """Synapses whose presynaptic neuron is marked in ``rows`` ``(P,)``, shaped like ``matrix``."""
        return np.asarray(rows, dtype=bool)[self.pre_index]

    @property
    def clip_bounds(self) -> tuple:
        """``(low, high)`` that :meth:`clip` clips to."""
        return 0.0, self.max_weight

    def clip(self, values: np.ndarray) -> None:
        """Clip ``values`` in place to ``[0, max_weight]``."""
        np.clip(values, 0.0, self.max_weight, out=values)

    def segments(self, bb: np.ndarray, jj: np.ndarray) -> tuple:
        """The synapses of spikes ``(bb, jj)``, in spike order then CSR order.

        Returns ``(member, synapse, counts)``: one entry per synapse reached
        (its member and flat id ``k * K + s``), and how many each spike reached.
        """
        starts = self.out_start[bb, jj]
        counts = self.out_start[bb, jj + 1] - starts
        total = int(counts.sum())
        member = np.repeat(bb, counts)
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return member, self.out_synapse[member, offsets], counts


def _stable_order(keys: np.ndarray, starts: np.ndarray, out: np.ndarray,
                  piece: int = 1 << 17) -> None:
    """``out[...] = np.argsort(keys, kind="stable")`` in pieces of about ``piece`` entries.

    ``starts`` is the cumulative count of each key value (``out_start``): the entries of the
    key values ``a <= key < c`` fill ``out[starts[a]:starts[c]]``, so each piece of key values
    is sorted alone (ascending position within a value, as the stable sort of the whole
    array), with temporaries of the piece's size instead of a 64-bit copy of all ``keys``.
    """
    values = starts.size - 1
    a = 0
    while a < values:
        c = int(np.searchsorted(starts, starts[a] + piece, side="right")) - 1
        c = min(max(c, a + 1), values)
        if starts[c] > starts[a]:
            chosen = np.flatnonzero((keys >= a) & (keys < c))
            out[starts[a]:starts[c]] = chosen[np.argsort(keys[chosen], kind="stable")]
        a = c
