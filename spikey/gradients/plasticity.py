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
            raise ConfigError(f"synapses (EProp) needs LIF neurons (their potential and "
                              f"threshold give the eligibility), got neurons ({name})")
        if self._sparse is not None:
            raise ConfigError(f"synapses (EProp) keeps a dense eligibility per synapse; "
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
