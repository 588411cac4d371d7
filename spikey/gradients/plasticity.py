r"""Reward-based e-prop as a learning rule part (``synapses: EProp``) for running networks.

Bellec et al. (2020, Nat Commun 11:3625) write the gradient of a loss as a sum over time
of *learning signals* times *eligibility traces* computed forward in time. In a network
that learns from reward, this part forms the eligibility trace of every synapse
:math:`j \to k` from the postsynaptic neuron's own dynamics and multiplies it by a
reward-prediction error, a three-factor rule like :class:`~spikey.snn.synapse.mstdp.MSTDPET`
whose second factor is the surrogate derivative instead of an STDP window:

.. math::

    \bar p_{j,t} &= d\,\bar p_{j,t-1} + s_j\,p_{j,t}
        &&\text{(presynaptic trace, } d = e^{-\Delta t/\tau}\text{ of the LIF neurons)} \\
    e_{jk,t} &= \psi(h_{k,t})\,\bar p_{j,t}
        &&\text{(eligibility, } h = V - \theta\text{)} \\
    \bar e_{jk,t} &= \kappa\,\bar e_{jk,t-1} + e_{jk,t}
        &&\text{(filtered, } \kappa = e^{-\Delta t/\tau_e}\text{)} \\
    \Delta w_{jk} &= \eta\,(r - \bar r)\,\bar e_{jk},\qquad
    \bar r \leftarrow \bar r + \alpha\,(r - \bar r)
        &&\text{(at each reward)}

with :math:`p_{j,t}` the presynaptic spikes of the step, :math:`s_j` the sign of neuron
:math:`j` (the stored weights are magnitudes, as in every synapse part), :math:`\psi`
the surrogate of :mod:`spikey.gradients.surrogates` and :math:`\bar r` a running mean of
the member's rewards (``baseline: running``; ``baseline: none`` takes the reward as the
learning signal, for a rewarder that already sends a TD error). :math:`\bar p` is the
eligibility vector of a LIF neuron without the reset's term (Bellec et al.'s LIF trace).
A neuron that spiked this step was reset before the part sees it; its :math:`h` is taken
as 0 (it crossed the threshold), where :math:`\psi` is largest. With :math:`\kappa = 0`
and the reward replaced by a readout error, :math:`\bar e` is the e-prop term of
:mod:`spikey.gradients.eprop` for synapses onto output neurons.
"""

from __future__ import annotations

import math

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.gradients.surrogates import SURROGATES, Surrogate
from spikey.snn.synapse.mstdp import MSTDP
from spikey.snn.synapse.template import Synapse


class EProp(MSTDP):
    """Reward-based e-prop: surrogate-derivative eligibility times a reward-prediction error.

    Examples
    --------
    >>> EProp(learning_rate=0.5, tau_e=50.0).config["surrogate"]
    'fast_sigmoid'
    """

    KEYS = (
        Key("learning_rate", "float", "eta: weight change per unit of learning signal times "
            "eligibility (mV).", 0.1, range=(0, None)),
        Key("surrogate", "str", "Surrogate derivative psi of the spike.", "fast_sigmoid",
            choices=SURROGATES),
        Key("surrogate_scale", "float", "Width of the surrogate (mV).", 4.0,
            range=(1e-9, None)),
        Key("tau_e", "float", "Time constant of the filtered eligibility (ms).", 25.0,
            range=(1e-6, None), unit="ms"),
        Key("baseline", "str", "Learning signal: reward minus its running mean ('running', a "
            "reward-prediction error) or the reward itself ('none', e.g. a TD error).",
            "running", choices=("running", "none")),
        Key("baseline_rate", "float", "alpha: step of the running mean reward per reward.",
            0.05, range=(0, 1)),
    )
    PER_MEMBER = ("learning_rate",)
    STATE = Synapse.STATE + ("eligibility", "expected_reward")

    def build(self, context):
        self.expected_reward = np.zeros(context.batch_size, dtype=np.float64)
        super().build(context)

    def bind_parts(self, parts):
        super().bind_parts(parts)
        neurons = parts["neurons"]
        name = type(neurons).__name__
        if name != "LIF":
            raise ConfigError(f"synapses ({type(self).__name__}) needs LIF neurons (their potential and "
                              f"threshold give the eligibility), got neurons ({name})")
        if self._sparse is not None:
            raise ConfigError(f"synapses ({type(self).__name__}) keeps a dense eligibility per synapse; "
                              f"weights ({type(parts['weights']).__name__}) stores them sparsely: "
                              "use a dense weight part")
        self._neurons = neurons

    def derive(self):
        self.rate = self.member_vector(self.learning_rate)
        self._uniform_rate = bool(np.all(self.rate == self.rate[0]))
        self.decay_e = math.exp(-self.context.dt / self.tau_e)
        self.psi = Surrogate(self.surrogate, self.surrogate_scale)

    def _kernel_arguments(self):
        """No compiled kernels: the step is numpy."""

    def set_pre_sign(self, sign) -> bool:
        new = np.sign(sign).astype(self.pre_sign.dtype)
        new[new == 0] = 1.0
        changed = not np.array_equal(new, self.pre_sign)
        self.pre_sign[...] = new
        return changed

    def reset(self):
        super().reset()
        self.expected_reward[...] = 0.0

    def fused_plan(self, weights):
        return None

    def surrogate_derivative(self, post) -> np.ndarray:
        """:math:`\\psi(h)` of this step, ``(B, n_neurons)`` (``h = 0`` for neurons that spiked)."""
        neurons = self._neurons
        h = np.asarray(neurons.potential, dtype=np.float64) - neurons.threshold_value
        h[np.asarray(post, dtype=bool)] = 0.0
        return self.psi.derivative(h)

    def step(self, pre, post, weights, pre_index=None):
        trace = self.pre_trace
        trace *= self._neurons.decay
        trace += pre * self.pre_sign
        psi = self.surrogate_derivative(post).astype(trace.dtype)
        self.eligibility *= self.context.dtype.type(self.decay_e)
        self.eligibility += trace[:, :, None] * psi[:, None, :] * weights.mask

    def reward(self, reward, weights):
        r = np.asarray(reward, dtype=np.float64).reshape(-1)
        if self.baseline == "running":
            signal = r - self.expected_reward
            self.expected_reward += self.baseline_rate * signal
        else:
            signal = r
        self._apply(signal, weights, self.rate)


class TDEProp(EProp):
    r"""Reward-based e-prop for a spiking actor–critic (Bellec et al. 2020, in tick form).

    The body is ``[hidden (n_hidden) | critic | actor groups]``; the actor groups are the
    outputs of a :class:`~spikey.snn.readout.SoftmaxAction` readout. Every step forms the
    e-prop eligibility of each synapse (EProp's :math:`\psi(h_k)\,\bar p_j`, without the
    :math:`\kappa` filter: the tick sums it). After the tick each postsynaptic neuron's
    column is scaled by its learning signal :math:`\ell_k`,

    .. math::

        \ell_k = \begin{cases}
            f\,(1[g_k = a] - \pi(g_k)) & k \text{ an actor neuron of group } g_k \\
            1 & k \text{ a critic neuron} \\
            \frac{h}{K} \sum_{m} B_{km}\,\ell_m & k \text{ a hidden neuron}
        \end{cases}

    (:math:`a` the action taken, :math:`\pi` the softmax policy, :math:`f` =
    ``output_rate_factor``, :math:`h` = ``hidden_rate_factor``; :math:`m` runs over the
    :math:`K` critic and actor neurons; the feedback :math:`B_{km}` is the signed weight
    :math:`k \to m` (``feedback: symmetric``) or a fixed random matrix of the same shape
    (``random``, Bellec's random e-prop), and 0 where no synapse :math:`k \to m` exists).
    The scaled eligibility enters a TD(:math:`\lambda`) trace, and the TD error
    :math:`\delta` (the rewarder's learning signals, e.g.
    :class:`~spikey.snn.reward.TDError`) changes the weights, in TDLTP's order:

    .. math::

        e_{jk,t} = \ell_{k,t} \sum_{\text{steps of } t} \psi(h_k)\,\bar p_j, \qquad
        w \leftarrow \mathrm{clip}(w + \eta\,\delta_{t-1}\, z), \qquad
        z \leftarrow \lambda z + e_t

    (a terminal :math:`\delta_t` then credits :math:`z` including tick :math:`t`;
    ``trace_decay`` :math:`= \lambda`). This is Bellec et al.'s reward-based e-prop
    :math:`\Delta W_{ji} = -\eta \sum_t \delta_t\, \mathcal F_\gamma(L_j^t \bar e_{ji}^t)`
    with the actor's log-policy gradient and the critic's value gradient as the learning
    signals. The steps are buffered and summed by one matrix product per tick (64 steps at
    a time); a tick that no learning signal follows carries its eligibility into the next
    tick's. ``begin_episode`` clears every trace. Only the rows up to the last presynaptic
    neuron with a synapse are stored in the step buffers (the inputs alone for an agent
    without a hidden layer).

    Examples
    --------
    >>> TDEProp(n_hidden=50, feedback="random").config["trace_decay"]
    0.83
    """

    KEYS = EProp.KEYS[:3] + (
        Key("trace_decay", "float", "lambda: decay of the eligibility trace per tick.", 0.83,
            range=(0, 1)),
        Key("output_rate_factor", "float", "f: the actor's learning signal is f * (1[g = a] - "
            "pi(g)); the critic's is 1.", 1.0, range=(0, None)),
        Key("n_hidden", "int", "The first n_hidden body neurons are a hidden layer whose "
            "learning signal is fed back from the critic and actor neurons.", 0,
            range=(0, None)),
        Key("feedback", "str", "Feedback weights of the hidden layer's learning signal: "
            "'symmetric' (the current weights hidden -> critic/actor) or 'random' (fixed, "
            "drawn once per member).", "symmetric", choices=("symmetric", "random")),
        Key("hidden_rate_factor", "float", "h: scale of the hidden layer's learning signal.",
            1.0, range=(0, None)),
    )
    STATE = EProp.STATE + ("trace",)
    _STEPS = 64  # steps buffered before one matrix product folds them in
    _BLAS_CHUNK = 200_000  # rows x steps x columns of one product (OpenBLAS threads above ~262k)

    def bind_parts(self, parts):
        """Check the readout and layer sizes; allocate the trace, the step buffers and the
        random feedback."""
        super().bind_parts(parts)
        from spikey.snn.readout.readouts import SoftmaxAction

        readout = parts["readout"]
        if not isinstance(readout, SoftmaxAction):
            raise ConfigError(f"synapses (TDEProp) needs a SoftmaxAction readout (its policy "
                              f"gives the actor's learning signal); got readout "
                              f"({type(readout).__name__})")
        ctx = self.context
        n, out = ctx.n_neurons, readout.n_outputs
        if self.n_hidden + out >= n:
            raise ConfigError(f"synapses (TDEProp).n_hidden = {self.n_hidden}: with {out} "
                              f"outputs it leaves no critic neurons among the {n} body neurons; "
                              f"expected n_hidden < {n - out}")
        self._readout = readout
        self._outputs = slice(n - out, n)
        B = ctx.batch_size
        self.trace = np.zeros_like(self.eligibility)
        # only the rows up to the last presynaptic neuron with a synapse take part
        mask = np.asarray(parts["weights"].mask)
        used = np.flatnonzero(mask.reshape(-1, *mask.shape[-2:]).any(axis=(0, 2)))
        self._rows = slice(0, int(used[-1]) + 1 if used.size else 0)
        self._mask = mask[..., self._rows, :]
        self._buf_pre = np.zeros((B, self._rows.stop, self._STEPS), dtype=ctx.dtype)
        self._buf_psi = np.zeros((B, self._STEPS, n), dtype=ctx.dtype)
        self._filled = 0
        self._signal = np.ones((B, n), dtype=np.float64)
        self._feedback = None
        if self.n_hidden and self.feedback == "random":
            rows = slice(ctx.n_inputs, ctx.n_inputs + self.n_hidden)
            mask = parts["weights"].mask[..., rows, self.n_hidden:]
            draws = [g.standard_normal((self.n_hidden, n - self.n_hidden))
                     for g in ctx.generators("synapses.feedback")]
            self._feedback = np.stack(draws) * np.broadcast_to(mask, (B,) + mask.shape[-2:])

    def derive(self):
        """Per-member learning rate and the surrogate."""
        self.rate = self.member_vector(self.learning_rate)
        self._uniform_rate = bool(np.all(self.rate == self.rate[0]))
        self.psi = Surrogate(self.surrogate, self.surrogate_scale)

    def reset(self):
        """Clear traces and buffers (the network's reset)."""
        super().reset()
        self.trace[...] = 0.0
        self._filled = 0

    def begin_episode(self):
        """No eligibility carries over from one episode to the next."""
        self.eligibility[...] = 0.0
        self.trace[...] = 0.0
        self._filled = 0

    def step(self, pre, post, weights, pre_index=None):
        """Update the presynaptic trace and buffer it with this step's surrogate derivative."""
        trace = self.pre_trace
        trace *= self._neurons.decay
        trace += pre * self.pre_sign
        if self._filled == self._STEPS:
            self._flush(weights)
        t = self._filled
        self._buf_pre[:, :, t] = trace[:, self._rows]
        self._buf_psi[:, t] = self.surrogate_derivative(post)
        if not self.context.activity.all:  # a paused member earns no eligibility
            self._buf_psi[~self.context.activity.mask, t] = 0.0
        self._filled = t + 1

    def _flush(self, weights):
        """Add the buffered steps' sum of pre-trace x psi to the tick's eligibility (the mask
        is applied once per tick, in :meth:`reward_signals`)."""
        t, rows = self._filled, self._rows
        if t and rows.stop:
            pre, n = self._buf_pre[:, :, :t], self._buf_psi.shape[2]
            # column chunks small enough that BLAS runs them single-threaded: on a loaded
            # machine its threads cost far more than they save at these sizes
            width = max(1, self._BLAS_CHUNK // (rows.stop * t))
            for start in range(0, n, width):
                cols = slice(start, start + width)
                self.eligibility[:, rows, cols] += np.matmul(pre, self._buf_psi[:, :t, cols])
        self._filled = 0

    def learning_signals(self, weights) -> np.ndarray:
        r"""Each body neuron's learning signal :math:`\ell` of the last tick, ``(B, n_neurons)``
        (see the class docstring)."""
        signal = self._signal
        signal[...] = 1.0
        readout = self._readout
        action = getattr(readout, "last_action", None)
        if action is not None:
            groups = readout.groups
            chosen = groups[None, :] == np.asarray(action).reshape(-1, 1)
            signal[:, self._outputs] = self.output_rate_factor * (
                chosen - readout.probabilities[:, groups])
        H = self.n_hidden
        if H:
            if self._feedback is None:
                n_in = self.context.n_inputs
                feedback = weights.matrix[:, n_in:n_in + H, H:] * \
                    self.pre_sign[n_in:n_in + H, None]
            else:
                feedback = self._feedback
            signal[:, :H] = np.einsum("bkm,bm->bk", feedback, signal[:, H:]) * (
                self.hidden_rate_factor / (signal.shape[1] - H))
        return signal

    def reward_signals(self, signals, weights):
        r"""A tick's learning signals ``(K, B)``: the first, :math:`\delta_{t-1}`, credits the
        trace of the ticks before this one; then this tick's eligibility, scaled by each
        neuron's :math:`\ell`, is folded in, and any later signal (the terminal
        :math:`\delta_t`) credits the trace including it."""
        self._flush(weights)
        rows = self._rows
        tick = self.eligibility[:, rows]
        tick *= self._mask
        tick *= self.learning_signals(weights)[:, None, :].astype(tick.dtype)
        self._apply(signals[0], weights, self.rate, source=self.trace)
        trace = self.trace[:, rows]
        trace *= self.context.dtype.type(self.trace_decay)
        trace += tick
        tick[...] = 0.0
        for signal in signals[1:]:
            self._apply(signal, weights, self.rate, source=self.trace)

    def reward(self, reward, weights):
        r"""One learning signal for the tick (:meth:`reward_signals` with ``K = 1``)."""
        self.reward_signals(np.asarray(reward, dtype=np.float64).reshape(1, -1), weights)
