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

Feature maps and shared weights (convolution-like). With ``maps`` = :math:`M`
the first layer holds :math:`M` copies of the window grid, map-major: neuron
:math:`f = q \cdot n_w + p` is window :math:`p` of map :math:`q`, and
``layers[0]`` must equal :math:`M n_w`. With ``shared: true`` every window of a
map carries the same kernel :math:`K_q` (one weight per window cell, cells in
row-major order, drawn once per map and member; with ``probability[0] < 1`` the
kernel's cells are kept or dropped for all windows alike): the input from cell
:math:`(a, b)` of window :math:`(p_r, p_c)` weighs

.. math:: w_{(p_r s_r + a)\,W + p_c s_c + b,\; f} = K_q[a, b],

so the drive of neuron :math:`f` is the cross-correlation of the image with
:math:`K_q` at that window (valid positions, stride :math:`s`). Learning rules
update each synapse on its own; the modifier :class:`ShareWeights` restores the
sharing at the start of every tick by setting each kernel cell to its mean over
the map's windows (:meth:`ReceptiveField.tie`), i.e. the kernel moves by the
mean of the per-window updates, as a convolution's shared weight does (its
summed update divided by the number of windows).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.core.part import Part
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
        Key("maps", "int", "Feature maps: copies of the window grid in the first layer "
            "(map-major), so layers[0] = maps x number of windows.", 1, range=(1, None)),
        Key("shared", "bool", "Every window of a map starts with the same kernel (convolution-"
            "like); keep it shared under learning with the ShareWeights modifier.", False),
    )
    FIXED = Weight.FIXED + structural_keys(KEYS[len(Weight.KEYS):])

    def check_layers(self, n_neurons, n_outputs):
        sizes = super().check_layers(n_neurons, n_outputs)
        self.grid = self._grid(self.context.n_inputs)
        windows = self.windows(self.grid)
        n_windows = windows.shape[1]
        if sizes[0] != self.maps * n_windows:
            counts = ' x '.join(map(str, self._counts(self.grid)))
            what = (f"the number of windows {counts} = {n_windows}" if self.maps == 1 else
                    f"maps x windows = {self.maps} x ({counts}) = {self.maps * n_windows}")
            raise ConfigError(
                f"{self.owner}.layers[0] = {sizes[0]}; expected {what} (input_shape = "
                f"{self.grid}, window = {self.window!r}, stride = {self.stride!r})")
        self.n_windows = n_windows
        self.kernel_shape = tuple(self._per_dim("window", len(self.grid)))
        self.fields = np.tile(windows, (1, self.maps)) if self.maps > 1 else windows
        # taps[p, j]: the input under cell j (row-major) of window p
        self.taps = np.stack([np.flatnonzero(windows[:, p]) for p in range(n_windows)])
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
        if not self.shared:
            present = self.fields & (rng.random(self.fields.shape) < probability)
            mask[rows, cols] = present
            matrix[rows, cols] = draw_weights(rng, weight, present.shape, self.distribution,
                                              self.spread) * present
            return
        cells = self.taps.shape[1]
        keep = rng.random((self.maps, cells)) < probability
        kernels = draw_weights(rng, weight, (self.maps, cells), self.distribution,
                               self.spread) * keep
        taps, neurons = self._tap_index()
        mask[taps, cols.start + neurons] = keep[:, None, :]
        matrix[taps, cols.start + neurons] = kernels[:, None, :]

    # ------------------------------------------------------------ shared kernels
    def _tap_index(self):
        """Index arrays ``(maps, n_windows, cells)``: input row and first-layer neuron of
        each kernel cell at each window of each map."""
        maps, (n_windows, cells) = self.maps, self.taps.shape
        taps = np.broadcast_to(self.taps, (maps, n_windows, cells))
        neurons = (np.arange(maps)[:, None, None] * n_windows
                   + np.arange(n_windows)[None, :, None]) + np.zeros(cells, dtype=int)
        return taps, neurons

    def _window_weights(self):
        """``(B, maps, n_windows, cells)`` view-copy of the first layer's window weights."""
        taps, neurons = self._tap_index()
        start = self.columns(0).start
        return self.matrix[:, taps, start + neurons], (taps, start + neurons)

    def kernels(self) -> np.ndarray:
        """Each map's kernel: its weights averaged over the map's windows.

        Returns
        -------
        numpy.ndarray
            ``(B, maps, *window)`` (mV); with ``shared: true`` and tied weights, the weights
            every window carries.
        """
        values, _ = self._window_weights()
        return values.mean(axis=2).reshape(self.matrix.shape[0], self.maps, *self.kernel_shape)

    def set_kernels(self, kernels) -> None:
        """Give every window of each map the kernel ``kernels`` (``shared: true`` only).

        Parameters
        ----------
        kernels : array_like
            Broadcastable to ``(B, maps, *window)`` (mV); clipped to ``[0, max_weight]``.
            Absent cells (``probability[0] < 1``) stay zero.

        Raises
        ------
        ConfigError
            When the part is not ``shared`` or the shape does not broadcast.
        """
        self._need_shared("set_kernels()")
        B = self.matrix.shape[0]
        shape = (B, self.maps, *self.kernel_shape)
        try:
            values = np.broadcast_to(np.asarray(kernels, dtype=self.matrix.dtype), shape)
        except ValueError:
            raise ConfigError(f"{self.owner}.set_kernels: got shape {np.shape(kernels)}; expected "
                              f"one broadcastable to (B, maps, *window) = {shape}") from None
        values = np.clip(values.reshape(B, self.maps, 1, -1), 0.0, self.max_weight)
        _, index = self._window_weights()
        self.matrix[:, index[0], index[1]] = values * self.mask[:, index[0], index[1]]

    def tie(self) -> None:
        """Set every kernel cell of each map to its mean over the map's windows, in place.

        Raises
        ------
        ConfigError
            When the part is not ``shared`` (its windows have independent weights).
        """
        self._need_shared("tie()")
        values, index = self._window_weights()
        mean = values.mean(axis=2, keepdims=True)
        self.matrix[:, index[0], index[1]] = mean * self.mask[:, index[0], index[1]]

    def _need_shared(self, what):
        if not self.shared:
            raise ConfigError(f"{self.owner}.{what} needs shared: true (its windows have "
                              "independent weights)")


class ShareWeights(Part):
    """Keep a shared ``ReceptiveField``'s kernels shared under learning (tie every tick).

    At the start of every ``every``-th tick each kernel cell of each map is set to its
    mean over the map's windows (:meth:`ReceptiveField.tie`). Needs ``weights:
    ReceptiveField`` with ``shared: true``.

    Examples
    --------
    >>> ShareWeights(every=1).config["every"]
    1
    """

    FAMILY = "modifiers"
    KEYS = (
        Key("every", "int", "Ticks between ties.", 1, range=(1, None)),
    )

    def bind(self, parts: dict):
        """Find the weight part and check that its kernels are shared (after building).

        Parameters
        ----------
        parts : dict
            The network's parts by slot.
        """
        weights = parts["weights"]
        if not isinstance(weights, ReceptiveField) or not weights.shared:
            raise ConfigError(f"{self.owner}: ties the kernels of weights: ReceptiveField with "
                              f"shared: true; the weight part is {weights.owner}"
                              + ("" if not isinstance(weights, ReceptiveField) else
                                 " with shared: false"))
        self.weights = weights

    def apply(self, tick: int) -> None:
        """Tie the kernels every ``every`` ticks (the network calls it at each tick's start).

        Parameters
        ----------
        tick : int
            The network's tick count.
        """
        if tick % self.every == 0:
            self.weights.tie()
