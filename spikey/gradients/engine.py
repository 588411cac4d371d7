r"""The network's own LIF / AdaptiveLIF step on ``(B, T, ...)`` arrays, with a backward pass.

One network step (the order of :meth:`spikey.snn.network.Network` with
``refractory = 0``): presynaptic spikes :math:`p_t = [x_t, z_{t-1}]` (inputs at
step :math:`t`, body spikes of the previous step), signed weights
:math:`W = \mathrm{polarity} \odot \mathrm{matrix}` of shape ``(P, N)``, and

.. math::

    I_t &= p_t W \\
    u_t &= d\,V_{t-1} + I_t\ [-\,\Delta t\, a_{t-1}]_{\text{current}} \\
    z_t &= H(h_t), \qquad h_t = u_t - \theta\ [-\,a_{t-1}]_{\text{threshold}} \\
    V_t &= u_t (1 - z_t) + V_r z_t \\
    a_t &= d_a a_{t-1} + \delta z_t

(:math:`a` only for ``AdaptiveLIF``; :math:`d = e^{-\Delta t/\tau}`,
:math:`d_a = e^{-\Delta t/\tau_a}`). ``u`` is the potential before the reset,
``V`` after it. The backward pass runs the adjoint of these lines in reverse time with
:math:`H'(h_t)` replaced by the surrogate :math:`\psi(h_t)`; with
``detach_reset`` the reset's dependence on :math:`z_t` carries no gradient.
Writing :math:`\bar u_t = \partial L/\partial u_t` etc.:

.. math::

    \bar V_t &= d\, \bar u_{t+1} \\
    \bar z_t &= \partial_{z_t} L + \bar I_{t+1} W_{\text{rec}}^\top
              + [\bar V_t (V_r - u_t)]_{\text{no detach}} + \delta\, \bar a_t \\
    \bar h_t &= \psi(h_t)\, \bar z_t \\
    \bar u_t &= \bar I_t = \bar V_t (1 - z_t) + \bar h_t + \partial_{u_t} L \\
    \bar a_{t-1} &= d_a \bar a_t - [\bar h_t]_{\text{threshold}} - [\Delta t\, \bar u_t]_{\text{current}} \\
    \partial L / \partial W &= \textstyle\sum_t p_t^\top \bar I_t \quad (\text{masked}).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikey.core.params import ConfigError
from spikey.gradients.surrogates import Surrogate
from spikey.snn.kernels import _jit

#: Neuron parts that have a backward pass.
SUPPORTED_NEURONS = ("LIF", "AdaptiveLIF")


#: Tapes up to this many ``(T, B, N)`` elements form the backward pass's per-step terms
#: on the whole tape at once (fewer numpy calls); larger ones step by step (in cache).
_WHOLE_TAPE_ELEMENTS = 32768


def _lif_currents(distance, reset, grad_spikes, grad_potential, has_gz, has_gp, fast_sigmoid,
                  width, decay, neurons, back, row_mask, has_back, has_mask, out):
    """The adjoint recursion of LIF neurons with a detached reset, for the body neurons
    ``neurons`` over the whole tape, in one compiled pass (time outermost, so the arrays are
    read in order). ``back`` (``(T - 1, B, len(neurons))``, when ``has_back``) holds
    :math:`\bar I_{t+1} W_{\text{rec}}^\top` for these neurons, computed beforehand: a
    neuron's recurrent term needs the currents of neurons that receive its spikes, which
    do not themselves send body spikes (a feed-forward body) and so come first.

    The same floating point operations in the same order as the numpy step loop of
    :meth:`SpikingModel.backward_currents` (the surrogate as
    :meth:`~spikey.gradients.surrogates.Surrogate.derivative` forms it), so the currents are
    equal bit for bit.
    """
    T, B, _ = distance.shape
    inv = 1.0 / width
    for t in range(T - 1, -1, -1):
        for b in range(B):
            for k in range(neurons.size):
                n = neurons[k]
                a = abs(distance[t, b, n]) * inv
                if fast_sigmoid:
                    a = a + 1.0
                    a = a * a
                    a = a * width
                    psi = 0.5 / a
                else:
                    a = 1.0 - a
                    if a < 0.0:
                        a = 0.0
                    psi = a * inv
                if t == T - 1:
                    g = 0.0
                else:
                    g = ((1.0 - reset[t, b, n]) * decay) * out[t + 1, b, n]
                if has_gz:
                    g = g + psi * grad_spikes[t, b, n]
                if has_gp:
                    g = g + grad_potential[t, b, n]
                if has_back and t < T - 1:
                    r = back[t, b, k]
                    if has_mask:
                        r = r * row_mask[b, k]
                    g = g + r * psi
                out[t, b, n] = g


_lif_currents_kernel = _jit(_lif_currents)


def _buffer(workspace, name: str, shape: tuple, zero: bool = False) -> np.ndarray:
    """A float64 array of ``shape``: new, or reused from ``workspace`` (a dict) when given.

    Large arrays allocated afresh every step cost page faults (the allocator hands the
    memory back to the system between steps); a training loop reuses one set.
    """
    if workspace is None:
        return np.zeros(shape) if zero else np.empty(shape)
    out = workspace.get(name)
    if out is None or out.shape != shape:
        out = workspace[name] = np.empty(shape)
    if zero:
        out.fill(0.0)
    return out


@dataclass
class Tape:
    """What the forward pass keeps for the backward pass, time-major ``(T, B, ...)``.

    Attributes
    ----------
    inputs : numpy.ndarray
        Input spikes after dropout and noise, ``(T, B, n_inputs)``.
    potential : numpy.ndarray
        ``u_t``, the potential before the reset, ``(T, B, N)``.
    spikes : numpy.ndarray
        ``z_t`` (0/1, or the smooth primitive in a gradient check), ``(T, B, N)``.
    distance : numpy.ndarray
        ``h_t``, the potential's distance to the (adapted) threshold, ``(T, B, N)``.
    reset_spikes : numpy.ndarray
        The ``z_t`` the reset used (equal to ``spikes`` unless frozen), ``(T, B, N)``.
    hidden_mask : numpy.ndarray or None
        Dropout mask on body spikes ``(B, N)`` (scaled), or None.
    """

    inputs: np.ndarray
    potential: np.ndarray
    spikes: np.ndarray
    distance: np.ndarray
    reset_spikes: np.ndarray
    hidden_mask: np.ndarray | None = None

    @property
    def previous(self) -> np.ndarray:
        """Body spikes of the previous step as they reach the synapses (after dropout),
        ``(T, B, N)`` (row 0 silent): made from ``spikes`` when first asked for, not kept by
        the forward pass."""
        cached = self.__dict__.get("_previous")
        if cached is None:
            cached = np.zeros_like(self.spikes)
            cached[1:] = self.spikes[:-1]
            if self.hidden_mask is not None:
                cached[1:] *= self.hidden_mask
            self.__dict__["_previous"] = cached
        return cached

    @property
    def batch_spikes(self) -> np.ndarray:
        """Body spikes with a leading batch axis, ``(B, T, N)`` (a view)."""
        return self.spikes.transpose(1, 0, 2)

    @property
    def batch_potential(self) -> np.ndarray:
        """Potentials before the reset, ``(B, T, N)`` (a view)."""
        return self.potential.transpose(1, 0, 2)


class SpikingModel:
    """Dense LIF / AdaptiveLIF network: forward on ``(B, T, n_inputs)`` spikes, backward by BPTT.

    Parameters
    ----------
    weights : numpy.ndarray
        Signed weights ``(n_inputs + n_neurons, n_neurons)`` (row = presynaptic).
    mask : numpy.ndarray
        Booleans of the same shape: the synapses that exist (others stay 0).
    n_inputs, n_outputs : int
        Input neurons and output neurons (the last ``n_outputs`` body neurons).
    neuron : str
        ``"LIF"`` or ``"AdaptiveLIF"``.
    tau, threshold, reset_potential : float
        Membrane time constant (ms), threshold (mV), reset (mV), as the neuron part's keys.
    adaptation : str
        ``"threshold"`` or ``"current"`` (``AdaptiveLIF`` only).
    adaptation_strength, tau_adapt : float
        :math:`\\delta` and :math:`\\tau_a` (``AdaptiveLIF`` only).
    dt : float
        Network step (ms).
    surrogate : Surrogate
        The surrogate derivative used by the backward pass.
    detach_reset : bool
        Whether the reset passes no gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from spikey.gradients import SpikingModel, Surrogate
    >>> w = np.full((3, 1), 10.0)
    >>> m = SpikingModel(w, np.ones_like(w, bool), n_inputs=2, n_outputs=1,
    ...                  surrogate=Surrogate("fast_sigmoid", 4.0))
    >>> m.forward(np.ones((1, 4, 2))).batch_spikes[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, weights, mask, n_inputs: int, n_outputs: int, neuron: str = "LIF",
                 tau: float = 20.0, threshold: float = 16.0, reset_potential: float = 0.0,
                 adaptation: str = "threshold", adaptation_strength: float = 4.0,
                 tau_adapt: float = 100.0, dt: float = 1.0, surrogate: Surrogate | None = None,
                 detach_reset: bool = True):
        if neuron not in SUPPORTED_NEURONS:
            raise ConfigError(f"neurons ({neuron}) has no backward pass; gradient training "
                              f"supports {list(SUPPORTED_NEURONS)}")
        self.weights = np.array(weights, dtype=np.float64)
        self.mask = np.asarray(mask, dtype=bool)
        if self.weights.ndim != 2 or self.mask.shape != self.weights.shape:
            raise ConfigError(f"weights {self.weights.shape} and mask {self.mask.shape}: expected "
                              "equal 2-d shapes (n_inputs + n_neurons, n_neurons)")
        P, N = self.weights.shape
        if P != n_inputs + N or not 1 <= n_outputs <= N:
            raise ConfigError(f"weights shape {(P, N)} with n_inputs = {n_inputs}, n_outputs = "
                              f"{n_outputs}; expected ({n_inputs} + N, N) and 1 <= n_outputs <= N")
        self.weights *= self.mask
        self.n_inputs, self.n_neurons, self.n_outputs = n_inputs, N, n_outputs
        self.neuron, self.adaptation = neuron, adaptation if neuron == "AdaptiveLIF" else None
        self.tau, self.threshold, self.reset_potential = tau, threshold, reset_potential
        self.adaptation_strength, self.tau_adapt, self.dt = adaptation_strength, tau_adapt, dt
        self.decay = math.exp(-dt / tau)
        self.adaptation_decay = math.exp(-dt / tau_adapt)
        self.surrogate = surrogate or Surrogate("fast_sigmoid", 0.25 * threshold)
        self.detach_reset = bool(detach_reset)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_network(cls, network, surrogate: Surrogate | None = None, detach_reset: bool = True,
                     member: int = 0) -> "SpikingModel":
        """The model of a built :class:`~spikey.snn.network.Network` (its member ``member``).

        Raises
        ------
        ConfigError
            Naming the part and key, for every part or option with no backward pass.
        """
        parts = network.parts
        neurons, weights = parts["neurons"], parts["weights"]
        name = type(neurons).__name__
        if name not in SUPPORTED_NEURONS:
            raise ConfigError(f"neurons ({name}) has no backward pass; gradient training "
                              f"supports {list(SUPPORTED_NEURONS)}")
        for key in ("refractory", "spontaneous_rate", "potential_noise"):
            value = neurons.config.get(key, 0.0)
            if value:
                hint = " (use gradient.membrane_noise for noise injection)" \
                    if key == "potential_noise" else ""
                raise ConfigError(f"neurons ({name}).{key} = {value!r} has no backward pass; "
                                  f"expected 0{hint}")
        for key in ("tau", "threshold"):
            if isinstance(neurons.config.get(key), dict):
                raise ConfigError(f"neurons ({name}).{key} differs between members; gradient "
                                  "training needs one value")
        for slot in ("stp", "synapses"):
            if parts.get(slot) is not None:
                raise ConfigError(f"{slot} ({type(parts[slot]).__name__}) has no backward pass; "
                                  "gradient training computes the weight updates itself: remove "
                                  f"the {slot!r} part")
        delays = getattr(weights, "delay_matrix", None)
        types = getattr(weights, "type_matrix", None)
        if delays is not None or types is not None:
            key = "delays" if delays is not None else "synapse_types"
            raise ConfigError(f"weights ({type(weights).__name__}).{key} has no backward pass; "
                              "expected None")
        n_in = network.n_inputs
        polarity = np.concatenate([parts["inputs"].polarity, neurons.polarity]).astype(np.float64)
        if getattr(weights, "SPARSE", False):  # SparseFanIn: trained densely on its synapses
            matrix, mask = weights.dense()[member], weights.dense_mask()[member]
        else:
            matrix, mask = weights.matrix[member], weights.mask[member]
        signed = matrix.astype(np.float64) * polarity[:, None]
        extra = {}
        if name == "AdaptiveLIF":
            extra = dict(adaptation=neurons.adaptation,
                         adaptation_strength=neurons.adaptation_strength,
                         tau_adapt=neurons.tau_adapt)
        return cls(signed, mask, n_in, network.n_outputs, neuron=name,
                   tau=neurons.tau, threshold=neurons.threshold,
                   reset_potential=neurons.reset_potential, dt=network.dt, surrogate=surrogate,
                   detach_reset=detach_reset, **extra)

    def recurrent_block(self) -> tuple:
        """``(rows, cols)``: body neurons with an outgoing body synapse and those with an
        incoming one (index arrays); the step multiplies only this block of the body rows."""
        body = self.mask[self.n_inputs:]
        return np.flatnonzero(body.any(axis=1)), np.flatnonzero(body.any(axis=0))

    def _layout(self) -> dict:
        """Where the synapses are, read from ``mask`` once and kept while ``mask`` is the same
        array (assign a new mask rather than editing it in place).

        ``rows``, ``cols``: :meth:`recurrent_block` as indices for the step (a slice where the
        neurons are contiguous, as a layered network's blocks are: a slice is a view and costs
        no gather); ``input_cols``: body neurons with an incoming input synapse (likewise);
        ``recurrent``: whether a body -> body synapse exists; ``input_full`` /
        ``body_full``: whether every synapse of the input block / recurrent block exists (the
        weight gradient then needs no masking there). Reading them from the mask every call
        cost ~70 us of a B = 1 training step.
        """
        layout = self.__dict__.get("_layout_cache")
        if layout is not None and layout["mask"] is self.mask:
            return layout

        def index(where):
            if where.size and where[-1] - where[0] + 1 == where.size:
                return slice(int(where[0]), int(where[-1]) + 1)
            return where

        n_in, N = self.n_inputs, self.n_neurons
        rows, cols = self.recurrent_block()
        input_cols = np.flatnonzero(self.mask[:n_in].any(axis=0))
        rows, cols, input_cols = index(rows), index(cols), index(input_cols)
        layout = {"mask": self.mask, "rows": rows, "cols": cols, "input_cols": input_cols,
                  "recurrent": bool(self.mask[n_in:].any()),
                  "input_full": bool(self.mask[:n_in][:, input_cols].all()),
                  "body_full": bool(self.mask[n_in:][rows][:, cols].all())}
        send = np.arange(N)[rows]
        layout["feedforward"] = not np.isin(send, np.arange(N)[cols]).any()
        layout["senders"] = send
        layout["others"] = np.setdiff1d(np.arange(N), send)
        layout["body_block"] = (rows, cols) if isinstance(rows, slice) and \
            isinstance(cols, slice) else np.ix_(np.arange(N)[rows], np.arange(N)[cols])
        self.__dict__["_layout_cache"] = layout
        return layout

    def _block_index(self) -> tuple:
        """:meth:`recurrent_block` as indices for the step: a slice where the neurons are
        contiguous (a layered network's blocks are), else the index array (a slice is a
        view and costs no gather)."""
        layout = self._layout()
        return layout["rows"], layout["cols"]

    def _input_columns(self):
        """Body neurons with an incoming input synapse, as a slice where contiguous."""
        return self._layout()["input_cols"]

    @property
    def has_recurrence(self) -> bool:
        """Whether any body -> body synapse exists (hidden -> output counts)."""
        return self._layout()["recurrent"]

    # ------------------------------------------------------------------ forward
    def forward(self, inputs, smooth: bool = False, frozen_reset=None, input_mask=None,
                hidden_mask=None, membrane_noise=None, workspace=None) -> Tape:
        """Run the network on input spikes ``(B, T, n_inputs)`` from rest; return the tape.

        Parameters
        ----------
        inputs : numpy.ndarray
            Input spikes (or any values: they multiply the input weights), ``(B, T, n_inputs)``.
        smooth : bool
            Replace the spike :math:`H(h)` by the surrogate's primitive :math:`\\sigma(h)`
            (for gradient checks).
        frozen_reset : numpy.ndarray, optional
            ``(T, B, N)`` spikes the reset uses instead of the current ones (a gradient
            check of ``detach_reset`` holds them fixed).
        input_mask, hidden_mask : numpy.ndarray, optional
            Dropout masks ``(B, n_inputs)`` and ``(B, N)``, already scaled by ``1/(1-p)``.
        membrane_noise : numpy.ndarray, optional
            ``(T, B, N)`` added to the potential each step (noise injection).
        workspace : dict, optional
            Reuse the tape's arrays kept here (a training loop passes one dict): the tape
            is then valid until the next call with the same workspace.

        Returns
        -------
        Tape
        """
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim != 3 or x.shape[2] != self.n_inputs:
            raise ConfigError(f"inputs shape {x.shape}; expected (B, T, {self.n_inputs})")
        B, T, _ = x.shape
        N = self.n_neurons
        x = x.transpose(1, 0, 2)
        x_in = _buffer(workspace, "inputs", (T, B, self.n_inputs))
        if input_mask is not None:
            np.multiply(x, input_mask[None], out=x_in)
        else:
            x_in[...] = x
        x = x_in
        W = self.weights
        drive = _buffer(workspace, "potential", (T, B, N))
        np.matmul(x.reshape(T * B, -1), W[:self.n_inputs], out=drive.reshape(T * B, N))
        recurrent = self.has_recurrence
        rows, cols = self._block_index()
        w_rec = W[self.n_inputs:][rows][:, cols]
        full = w_rec.shape == (N, N)
        u_all = drive  # each step's potential is built in place on its input drive
        z_all = _buffer(workspace, "spikes", (T, B, N))
        h_all = _buffer(workspace, "distance", (T, B, N))
        prev = np.empty((B, N))
        reset_all = z_all if frozen_reset is None else np.asarray(frozen_reset, dtype=np.float64)
        V = np.zeros((B, N))
        a = np.zeros((B, N)) if self.adaptation else None
        z = np.zeros((B, N))
        theta, vr, d = self.threshold, self.reset_potential, self.decay
        keep = np.empty((B, N))
        for t in range(T):
            u = drive[t]
            if recurrent and t > 0:
                if hidden_mask is None:
                    prev[...] = z
                else:
                    np.multiply(z, hidden_mask, out=prev)
                if full:
                    u += prev @ w_rec
                else:
                    u[:, cols] += prev[:, rows] @ w_rec
            if t > 0:
                np.multiply(V, d, out=keep)
                u += keep
            if self.adaptation == "current":
                u -= self.dt * a
            if membrane_noise is not None:
                u += membrane_noise[t]
            h = np.subtract(u, theta, out=h_all[t])
            if self.adaptation == "threshold":
                h -= a
            if smooth:
                z_all[t] = self.surrogate.primitive(h)
            else:
                np.greater_equal(h, 0.0, out=z_all[t], casting="unsafe")
            z = z_all[t]
            zr = reset_all[t]
            # V = u (1 - zr) + vr zr = u - (u - vr) zr
            np.subtract(u, vr, out=keep)
            keep *= zr
            V = np.subtract(u, keep, out=V)
            if a is not None:
                a = self.adaptation_decay * a + self.adaptation_strength * z
        return Tape(x, u_all, z_all, h_all, reset_all, hidden_mask)

    # ------------------------------------------------------------------ backward
    def backward(self, tape: Tape, grad_spikes=None, grad_potential=None,
                 smooth: bool = False, workspace=None) -> np.ndarray:
        """BPTT: the gradient of a loss with respect to the weights ``(P, N)`` (masked).

        Parameters
        ----------
        tape : Tape
            From :meth:`forward`.
        grad_spikes, grad_potential : numpy.ndarray, optional
            :math:`\\partial L/\\partial z_t` and :math:`\\partial L/\\partial u_t`, ``(T, B, N)``
            (the loss's direct dependence on spikes and on potentials before the reset).
        smooth : bool
            Whether the forward ran with ``smooth=True`` (the surrogate is then the exact
            derivative; the equations are the same).
        workspace : dict, optional
            Reuse the backward pass's arrays kept here (as :meth:`forward`), the returned
            gradient included: it is then valid until the next call with the same workspace,
            and its entries outside the synapse blocks must stay 0 (scale it in place, add
            into a new array).

        Returns
        -------
        numpy.ndarray
            ``dL/dW``, ``(n_inputs + N, N)``.
        """
        grad_inputs = self.backward_currents(tape, grad_spikes, grad_potential, workspace)
        T, B, N = grad_inputs.shape
        flat = grad_inputs.reshape(T * B, N)
        layout = self._layout()
        n_in = self.n_inputs
        # zero outside the blocks (no synapse there), each block written whole and masked only
        # where a synapse is missing in it: a fresh (P, N) array and a pass over the whole mask
        # cost ~100 us of a B = 1 training step
        if workspace is None:
            grad = np.zeros_like(self.weights)
        else:
            grad = workspace.get("grad")
            if grad is None or grad.shape != self.weights.shape:
                grad = workspace["grad"] = np.zeros_like(self.weights)
        cols_in = layout["input_cols"]
        pre_in = tape.inputs.reshape(T * B, -1).T
        if isinstance(cols_in, slice):  # straight into the block (a view)
            block = np.matmul(pre_in, flat[:, cols_in], out=grad[:n_in, cols_in])
        else:
            block = grad[:n_in, cols_in] = pre_in @ flat[:, cols_in]
        if not layout["input_full"]:
            grad[:n_in, cols_in] = block * self.mask[:n_in, cols_in]
        if layout["recurrent"]:
            rows, cols = layout["rows"], layout["cols"]
            where = layout["body_block"]
            body = grad[n_in:]
            if T > 1:
                # presynaptic body spikes of steps 1..T-1: the spikes of steps 0..T-2 (dropped
                # out)
                spikes = tape.spikes[:-1][:, :, rows]
                R = spikes.shape[2]
                pre = _buffer(workspace, "previous_rows", (T - 1, B, R))
                if tape.hidden_mask is None:
                    pre[...] = spikes
                else:
                    np.multiply(spikes, tape.hidden_mask[:, rows], out=pre)
                block = pre.reshape(-1, R).T @ flat[B:, cols]
                body[where] = block if layout["body_full"] else block * self.mask[n_in:][where]
            else:
                body[where] = 0.0
        return grad

    def _feedforward_currents(self, tape, grad_spikes, grad_potential, workspace, out):
        """:meth:`backward_currents` of LIF neurons with a detached reset when the body is
        feed-forward: the neurons that send no body spikes first (their currents need no
        recurrent term), then every recurrent term at once,
        :math:`\\bar I_{t+1} W_{\\text{rec}}^\\top` for all t in one stacked matrix product
        (numpy makes the same BLAS call per step as the step loop, so the same numbers),
        then the senders. Two compiled passes replace ~6 numpy calls per step (a B = 1
        backward pass went ~115 -> ~20 us); equal bit for bit to the step loop."""
        layout = self._layout()
        T, B, N = out.shape
        surrogate = self.surrogate
        fast = surrogate.kind == "fast_sigmoid"
        dummy = np.zeros((1, 1, 1))
        gz = dummy if grad_spikes is None else np.asarray(grad_spikes, dtype=np.float64)
        gp = dummy if grad_potential is None else np.asarray(grad_potential, dtype=np.float64)
        args = (tape.distance, tape.reset_spikes, gz, gp, grad_spikes is not None,
                grad_potential is not None, fast, surrogate.scale, self.decay)
        _lif_currents_kernel(*args, layout["others"], dummy, dummy[0], False, False, out)
        senders = layout["senders"]
        if not senders.size:
            return out
        back = dummy
        if T > 1:
            rows, cols = layout["rows"], layout["cols"]
            w_rec_t = np.ascontiguousarray(self.weights[self.n_inputs:][rows][:, cols].T)
            back = _buffer(workspace, "recurrent_terms", (T - 1, B, senders.size))
            np.matmul(out[1:, :, cols], w_rec_t, out=back)
        mask = tape.hidden_mask
        row_mask = dummy[0] if mask is None else np.asarray(mask[:, layout["rows"]],
                                                             dtype=np.float64)
        _lif_currents_kernel(*args, senders, back, row_mask, T > 1, mask is not None, out)
        return out

    def backward_currents(self, tape: Tape, grad_spikes=None, grad_potential=None,
                          workspace=None) -> np.ndarray:
        """:math:`\\bar I_t = \\partial L/\\partial I_t`, ``(T, B, N)``: the adjoint recursion.

        LIF neurons with a detached reset in a feed-forward body (no neuron both sends and
        receives body spikes, as in a layered network) take a compiled path
        (:meth:`_feedforward_currents`). Otherwise every term is formed step by step on
        ``(B, N)`` arrays that stay in cache (the surrogate, the reset's carry
        :math:`d\\,(1 - z_t)` and the loss's direct terms
        :math:`\\psi_t\\,\\partial_{z_t}L + \\partial_{u_t}L`); only :math:`\\bar I_t` is written
        to the whole tape.
        """
        T, B, N = tape.potential.shape
        out = _buffer(workspace, "grad_currents", (T, B, N))
        layout = self._layout()
        if self.adaptation is None and self.detach_reset and layout["feedforward"] and \
                _lif_currents_kernel is not None:
            return self._feedforward_currents(tape, grad_spikes, grad_potential, workspace, out)
        psi, carry, term = np.empty((B, N)), np.empty((B, N)), np.empty((B, N))
        # a small tape (B = 1) costs numpy's per-call overhead step by step: form the
        # surrogate, the carry and the direct terms on the whole tape at once instead
        whole = T * B * N <= _WHOLE_TAPE_ELEMENTS
        if whole:
            psi_all = self.surrogate.derivative(tape.distance)
            carry_all = np.subtract(1.0, tape.reset_spikes)
            carry_all *= self.decay
            term_all = None if grad_spikes is None else psi_all * grad_spikes
        d, da = self.decay, self.adaptation_decay
        vr, delta = self.reset_potential, self.adaptation_strength
        adapt = self.adaptation
        mask = tape.hidden_mask
        w_rec_t = None
        if self.has_recurrence:
            rows, cols = self._block_index()
            w_rec_t = np.ascontiguousarray(self.weights[self.n_inputs:][rows][:, cols].T)
            row_mask = None if mask is None else mask[:, rows]
        simple = adapt is None and self.detach_reset
        g_a = np.zeros((B, N)) if adapt is not None else None
        g_u_next = None
        for t in range(T - 1, -1, -1):
            g_u = out[t]
            if whole:
                psi = psi_all[t]
                if g_u_next is None:
                    g_u.fill(0.0)
                else:
                    np.multiply(carry_all[t], g_u_next, out=g_u)
                if term_all is not None:
                    g_u += term_all[t]
            else:
                self.surrogate.derivative(tape.distance[t], out=psi)
                if g_u_next is None:
                    g_u.fill(0.0)
                else:  # through V_t: d (1 - z_t) g_u[t + 1]
                    np.subtract(1.0, tape.reset_spikes[t], out=carry)
                    carry *= d
                    np.multiply(carry, g_u_next, out=g_u)
                if grad_spikes is not None:  # the loss's direct terms
                    np.multiply(psi, grad_spikes[t], out=term)
                    g_u += term
            if grad_potential is not None:
                g_u += grad_potential[t]
            back = None
            if w_rec_t is not None and g_u_next is not None:
                back = g_u_next[:, cols] @ w_rec_t
                if row_mask is not None:
                    back *= row_mask
            if simple:
                if back is not None:
                    back *= psi[:, rows]
                    g_u[:, rows] += back
            else:
                # g_z without the loss's direct term (already in source)
                g_z = np.zeros((B, N))
                if back is not None:
                    g_z[:, rows] += back
                if not self.detach_reset and g_u_next is not None:
                    g_z += d * g_u_next * (vr - tape.potential[t])
                if adapt is not None:
                    g_z += delta * g_a
                extra = psi * g_z
                g_u += extra
                if adapt == "threshold":
                    g_h = extra if grad_spikes is None else extra + psi * grad_spikes[t]
                    g_a = da * g_a - g_h
                elif adapt == "current":
                    g_a = da * g_a - self.dt * g_u
            g_u_next = g_u
        return out
