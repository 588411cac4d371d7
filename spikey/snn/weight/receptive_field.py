r"""Local receptive fields: each first-layer neuron sees a window of the inputs.

The ``n_inputs`` inputs lie on a 1-D line or, with ``input_shape = [H, W]``, on
a 2-D grid in row-major order (input :math:`i = r W + c` sits at row
:math:`r`, column :math:`c`). A window of ``window`` cells slides over the grid
with step ``stride``; along a dimension of length :math:`L` it takes

.. math:: m = \left\lfloor \frac{L - \text{window}}{\text{stride}} \right\rfloor + 1

positions. First-layer neuron :math:`f` (window positions in row-major order,
:math:`f = p_r m_W + p_c`) receives from exactly the inputs of its window,

.. math:: p_r s_r \le r < p_r s_r + w_r, \qquad p_c s_c \le c < p_c s_c + w_c,

each synapse existing with probability ``probability[0]`` (1 by default: the
window is exact) and weighing ``weight[0]`` times :math:`X`. So ``layers[0]``
must equal the number of windows :math:`\prod_d m_d`. The later layers are
connected as in :class:`~spikey.snn.weight.layered.Layered`.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.weight.layered import Layered
from spikey.snn.weight.template import Weight
from spikey.snn.weight.topology import draw_weights, structural_keys


class ReceptiveField(Layered):
    """Layered network whose first layer has local receptive fields on the inputs.

    Examples
    --------
    A 6 x 6 input image, 3 x 3 windows with stride 3 (four tiles), two outputs:

    >>> part = ReceptiveField(input_shape=[6, 6], window=3, stride=3, layers=[4, 2])
    >>> part.config["window"]
    3
    """

    KEYS = Layered.KEYS + (
        Key("input_shape", "list", "Grid of the inputs, [n] (1-D) or [height, width] (2-D, "
            "row-major); its product is n_inputs. None: a line of n_inputs.", None, nullable=True),
        Key("window", ("int", "list"), "Receptive-field size in inputs: one int for every "
            "dimension or one per dimension.", 3),
        Key("stride", ("int", "list"), "Step between neighbouring windows: one int for every "
            "dimension or one per dimension.", 1),
    )
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    def check_layers(self, n_neurons, n_outputs):
        sizes = super().check_layers(n_neurons, n_outputs)
        self.grid = self._grid(self.context.n_inputs)
        self.fields = self.windows(self.grid)
        if sizes[0] != self.fields.shape[1]:
            counts = self._counts(self.grid)
            raise ConfigError(
                f"{self.owner}.layers[0] = {sizes[0]}; expected the number of windows "
                f"{' x '.join(map(str, counts))} = {self.fields.shape[1]} (input_shape = "
                f"{self.grid}, window = {self.window!r}, stride = {self.stride!r})")
        return sizes

    def _grid(self, n_inputs: int) -> list:
        shape = [n_inputs] if self.input_shape is None else self.input_shape
        if not (1 <= len(shape) <= 2 and all(isinstance(s, int) and s >= 1 for s in shape)):
            raise ConfigError(f"{self.owner}.input_shape = {shape!r}; expected [n] or "
                              "[height, width] with integers >= 1")
        if int(np.prod(shape)) != n_inputs:
            raise ConfigError(f"{self.owner}.input_shape = {shape!r} holds {int(np.prod(shape))} "
                              f"inputs; expected n_inputs = {n_inputs}")
        return list(shape)

    def _per_dim(self, name: str, dims: int) -> list:
        value = getattr(self, name)
        values = list(value) if isinstance(value, list) else [value] * dims
        if len(values) != dims or not all(isinstance(v, int) and v >= 1 for v in values):
            raise ConfigError(f"{self.owner}.{name} = {value!r}; expected an int >= 1 or {dims} "
                              f"of them (one per dimension of input_shape)")
        return values

    def _counts(self, grid) -> list:
        window = self._per_dim("window", len(grid))
        stride = self._per_dim("stride", len(grid))
        for d, (length, w) in enumerate(zip(grid, window)):
            if w > length:
                raise ConfigError(f"{self.owner}.window = {self.window!r} is {w} along dimension "
                                  f"{d}; expected at most the input_shape there ({length})")
        return [(length - w) // s + 1 for length, w, s in zip(grid, window, stride)]

    def windows(self, grid) -> np.ndarray:
        """Boolean ``(n_inputs, n_windows)``: input ``i`` lies in window ``f``."""
        window = self._per_dim("window", len(grid))
        stride = self._per_dim("stride", len(grid))
        members = np.ones((1, 1), dtype=bool)
        for length, w, s, m in zip(grid, window, stride, self._counts(grid)):
            x = np.arange(length)[:, None]
            start = (np.arange(m) * s)[None, :]
            # Kronecker product keeps row-major order in inputs and in windows
            members = np.kron(members, (x >= start) & (x < start + w))
        return members

    def connect(self, rng, matrix, mask, target, source, probability, weight):
        if not (target == 0 and source == -1):
            return super().connect(rng, matrix, mask, target, source, probability, weight)
        rows, cols = self.rows(-1), self.columns(0)
        present = self.fields & (rng.random(self.fields.shape) < probability)
        mask[rows, cols] = present
        matrix[rows, cols] = draw_weights(rng, weight, present.shape, self.distribution,
                                          self.spread) * present
