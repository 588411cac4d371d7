r"""Weight normalisation: keep each neuron's total incoming weight fixed.

Every ``every`` ticks (at the tick's start), the existing incoming weights of
each body neuron :math:`k` are scaled so that they sum to ``target``:

.. math:: w_{jk} \leftarrow w_{jk}\, \frac{S}{\sum_j w_{jk}}

then clipped to ``[0, max_weight]`` (so a sum may end below ``target`` when
clipping bites). Neurons with no incoming weight are left alone. Only the
rows chosen by ``rows`` take part (default: all presynaptic neurons), and only
the neurons chosen by ``neurons`` are normalised (default: all). Members that
the network marks as paused (``network.active``) are skipped.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part


class NormalizeWeights(Part):
    """Scale each neuron's incoming weights to a fixed sum, every few ticks."""

    FAMILY = "modifiers"
    KEYS = (
        Key("target", "float", "Sum of each body neuron's incoming weights (mV).", range=(0, None)),
        Key("every", "int", "Ticks between normalisations.", 1, range=(1, None)),
        Key("rows", "list", "[start, stop] of the presynaptic rows that count (default: all).",
            None, nullable=True),
        Key("neurons", "list", "[start, stop] of the body neurons (columns) normalised "
            "(default: all).", None, nullable=True),
    )

    def bind(self, parts: dict):
        """Find the weight part and check ``rows`` (the network calls it after building)."""
        self.weights = parts["weights"]
        if getattr(self.weights, "SPARSE", False):
            raise ConfigError(f"{self.owner}: normalises a dense weight matrix; "
                              f"{self.weights.owner} is sparse")
        P = self.weights.shape[0]
        start, stop = (0, P) if self.rows is None else self.rows
        if not 0 <= start < stop <= P:
            raise ConfigError(f"{self.owner}.rows = {self.rows!r}; expected [start, stop] with "
                              f"0 <= start < stop <= {P}")
        self.span = slice(int(start), int(stop))
        N = self.weights.shape[1]
        first, last = (0, N) if self.neurons is None else self.neurons
        if not 0 <= first < last <= N:
            raise ConfigError(f"{self.owner}.neurons = {self.neurons!r}; expected [start, stop] "
                              f"with 0 <= start < stop <= {N}")
        self.columns = slice(int(first), int(last))

    def apply(self, tick: int) -> None:
        """Normalise every ``every`` ticks (the network calls it at each tick's start)."""
        if tick % self.every:
            return
        block = self.weights.matrix[:, self.span, self.columns]  # (B, rows, columns) view
        activity = self.context.activity
        if activity is not None and not activity.all:
            # a paused member is left alone: rescaling is exact only up to rounding, so
            # repeating it would drift its weights away from its solo network's
            members = np.flatnonzero(activity.mask)
            if members.size:
                part = block[members]
                self._normalise(part)
                block[members] = part
            return
        self._normalise(block)

    def _normalise(self, block):
        # row after row: the same sum whatever the batch size, so a batch member stays
        # bit-equal to its solo network. A reduction over the rows' axis of a block with
        # several columns adds row after row (the columns are the inner, contiguous loop;
        # spikey.snn.network.member_sums relies on the same); with one column numpy may sum
        # pairwise, so that case takes the last row of the (sequential) cumsum
        if block.shape[2] == 1:
            total = np.cumsum(block, axis=1)[:, -1:]
        else:
            total = np.add.reduce(block, axis=1, keepdims=True)
        scale = np.divide(self.target, total, out=np.ones_like(total), where=total > 0)
        block *= scale
        self.weights.clip(block)
