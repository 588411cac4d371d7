r"""Temporal-difference error from a critic population (Frémaux, Sprekeler & Gerstner 2013).

A group of ``n_critic`` body neurons, the *critic*, sits just before the
outputs. Its mean rate :math:`\nu_t` (Hz) over tick :math:`t` is read as the
value of the state the network saw in that tick,

.. math:: V_t = a\,\nu_t + b \qquad (a = \texttt{value\_scale},\ b = \texttt{value\_offset}).

After tick :math:`t` the game has answered with reward :math:`r_t`. The
learning signal is the TD error of the *previous* transition, now that its
successor's value is known,

.. math:: \delta_{t-1} = r_{t-1} + \gamma V_t - V_{t-1},

and, when the game terminated at tick :math:`t` (no successor; a time-limit
truncation is not a terminal state), also

.. math:: \delta_t = r_t - V_t .

:meth:`learning_signals` returns them in that order, one row each, so a
TD-gated rule (:class:`~spikey.snn.synapse.TDLTP`) credits every transition
with the eligibility of the ticks that led to it. The first tick of an
episode has no predecessor and gives 0. Both the critic's synapses and the
actor's receive the same :math:`\delta` (a global neuromodulator):
:math:`\delta > 0` potentiates recently active synapses, which raises the
critic's rate (its value estimate) in the states that preceded a better than
expected outcome and makes the actor's chosen group more likely to win there.

``reward_scale`` multiplies the game's reward first (CartPole's +1 per step
and a discount ``gamma`` give values up to :math:`1/(1-\gamma)`; ``value_scale``
maps them to rates a few tens of Hz wide).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key
from spikey.snn.reward.rewarders import Rewarder


class TDError(Rewarder):
    """TD error of a critic population's rate, the neuromodulator of actor–critic learning."""

    STEP_REWARD = False
    KEYS = (
        Key("source", "str", "What is scored: the game's own reward (the TD error needs it).",
            "game", choices=("game",)),
        Key("n_critic", "int", "Critic neurons: the n_critic body neurons just before the "
            "outputs.", 20, range=(1, None)),
        Key("gamma", "float", "Discount per tick.", 0.95, range=(0, 1)),
        Key("value_scale", "float", "Value per Hz of the critic's mean rate (a).", 0.2),
        Key("value_offset", "float", "Value of a silent critic (b).", 0.0),
        Key("reward_scale", "float", "Factor on the game's reward before the TD error.", 1.0),
    )
    STATE = ("previous_value", "previous_reward", "has_previous", "value")

    def build(self, context):
        """Allocate the per-member value of the last tick and the pending transition."""
        super().build(context)
        B = context.batch_size
        if self.n_critic + context.n_outputs > context.n_neurons:
            raise ConfigError(
                f"{self.owner}: n_critic = {self.n_critic} plus {context.n_outputs} outputs "
                f"exceed the {context.n_neurons} body neurons; expected n_critic <= "
                f"{context.n_neurons - context.n_outputs}")
        self.value = np.zeros(B, dtype=np.float64)
        self.previous_value = np.zeros(B, dtype=np.float64)
        self.previous_reward = np.zeros(B, dtype=np.float64)
        self.has_previous = np.zeros(B, dtype=bool)
        self._signals = np.zeros((2, B), dtype=np.float64)
        self._spikes = None

    def bind_spikes(self, tick_spikes, duration_ms):
        """Read the critic's spikes of each tick from the network's ``(B, T, N)`` array."""
        n, out = self.context.n_neurons, self.context.n_outputs
        self._critic = slice(n - out - self.n_critic, n - out)
        self._spikes, self._duration = tick_spikes, duration_ms

    def critic_rate(self) -> np.ndarray:
        """Mean rate (Hz) of the critic neurons over the last tick, ``(B,)``."""
        if self._spikes is None:
            raise RuntimeError(f"{self.owner}: not bound to a network's spikes")
        counts = self._spikes[:, :, self._critic].sum(axis=(1, 2))
        return counts * (1000.0 / (self._duration * self.n_critic))

    def begin_episode(self):
        """A new episode: the next tick has no predecessor."""
        self.has_previous[...] = False

    def learning_signals(self, action, game_reward, info, terminated=None, truncated=None):
        r"""``(2, B)``: :math:`\delta_{t-1}` for every member, then the terminal :math:`\delta_t`."""
        B = self.context.batch_size
        reward = self.raw_tick_reward(action, game_reward, info) * self.reward_scale
        value = self.value
        value[...] = self.value_scale * self.critic_rate() + self.value_offset
        active = self.context.activity.mask if self.context.activity is not None else \
            np.ones(B, dtype=bool)
        ended = np.zeros(B, dtype=bool) if terminated is None else \
            np.asarray(terminated, dtype=bool).reshape(B)
        cut = np.zeros(B, dtype=bool) if truncated is None else \
            np.asarray(truncated, dtype=bool).reshape(B)
        signals = self._signals
        np.subtract(self.previous_reward + self.gamma * value, self.previous_value, out=signals[0])
        signals[0] *= self.has_previous & active
        np.subtract(reward, value, out=signals[1])
        signals[1] *= ended & active
        # the pending transition of a paused member waits; a finished episode leaves none
        keep = ~active
        self.previous_value[...] = np.where(keep, self.previous_value, value)
        self.previous_reward[...] = np.where(keep, self.previous_reward, reward)
        self.has_previous[...] = np.where(keep, self.has_previous, ~(ended | cut))
        return signals.copy()

    def tick_reward(self, action, game_reward, info):
        """The summed TD errors of this tick (see :meth:`learning_signals`), ``(B,)``."""
        return self.learning_signals(action, game_reward, info).sum(axis=0)
