"""Rewarders: one reward per member, per tick or per network step.

``tick_reward`` scores a tick's action against ``info["expected"]`` (or uses
the game's own reward). ``step_reward`` scores each output spike of the
current step: a spike agrees when the action its neuron votes for (the
readout's ``groups``) is the expected one.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.core.part import Part


def expected_of(info, batch_size: int, owner: str) -> np.ndarray:
    """``info["expected"]`` as a ``(B,)`` array, with a clear error if absent."""
    if info is None or "expected" not in info:
        raise ValueError(
            f"{owner}: needs info['expected'] (the correct action per member) from the game; "
            f"got info keys {sorted(info) if info else []}"
        )
    expected = np.asarray(info["expected"]).reshape(-1)
    if expected.size != batch_size:
        raise ValueError(f"{owner}: info['expected'] has {expected.size} values; expected {batch_size}")
    return expected


class Rewarder(Part):
    """Base class of rewarders."""

    ABSTRACT = True

    FAMILY = "rewarder"
    #: Whether step_reward is defined (rewards every network step).
    STEP_REWARD = True
    KEYS = (
        Key("reward_mult", "float", "Reward for a correct action or agreeing spike.", 1.0),
        Key("punish_mult", "float", "Reward (usually negative) for a wrong one.", -1.0),
        Key("source", "str", "What is scored: the expected action from info, or the game's "
            "own reward.", "expected", choices=("expected", "game")),
    )

    def build(self, context):
        """Allocate the ``(B,)`` reward buffer that ``step_reward`` returns."""
        super().build(context)
        self._reward = np.zeros(context.batch_size, dtype=np.float64)

    def raw_tick_reward(self, action, game_reward, info) -> np.ndarray:
        """Reward of a tick before any processing, ``(B,)``.

        With ``source='game'`` the game's reward; otherwise ``reward_mult`` where the
        action equals ``info['expected']`` and ``punish_mult`` elsewhere.

        Raises
        ------
        ValueError
            When the game reward or ``info['expected']`` it needs is missing.
        """
        B = self.context.batch_size
        if self.source == "game":
            if game_reward is None:
                raise ValueError(f"{self.owner}: source='game' but no game reward was given")
            reward = np.asarray(game_reward, dtype=np.float64).reshape(-1)
            if reward.shape == (B,):  # one per member already: skip broadcast_to's overhead
                return reward.copy()
            return np.broadcast_to(reward, (B,)).copy()
        expected = expected_of(info, B, self.owner)
        action = np.asarray(action).reshape(B, -1)[:, 0] if np.ndim(action) else np.full(B, action)
        return np.where(action == expected, self.reward_mult, self.punish_mult)

    def tick_reward(self, action, game_reward, info) -> np.ndarray:
        """The reward of a tick, one value per member, ``(B,)``."""
        return self.raw_tick_reward(action, game_reward, info)

    def learning_signals(self, action, game_reward, info, terminated=None,
                         truncated=None) -> np.ndarray:
        """The learning signals of a tick, ``(K, B)``, applied to the synapses in order.

        Default: one, :meth:`tick_reward`. ``terminated`` / ``truncated`` (``(B,)``
        booleans from the game) let a rewarder treat the end of an episode apart
        (:class:`~spikey.snn.reward.TDError`).
        """
        return np.asarray(self.tick_reward(action, game_reward, info), dtype=np.float64)[None]

    def bind_spikes(self, tick_spikes, duration_ms) -> None:
        """Told by the network: its ``(B, T, N)`` body spikes of the current tick (a view
        refreshed every tick) and the tick's length in ms. Default: unused."""

    def begin_episode(self) -> None:
        """Told by the runner when a new episode starts (no state carries across). Default:
        nothing."""

    #: Whether ``step_reward`` is wanted on every step, not only on steps with output spikes
    #: (e.g. to punish a missed target spike).
    EVERY_STEP = False

    def step_targets(self, info, batch_size: int):
        """What ``step_reward`` scores against during the coming tick, read from ``info``.

        Default: ``info['expected']``, one expected action per member ``(B,)``.
        """
        return expected_of(info, batch_size, "network.tick")

    def step_reward(self, output_spikes, groups, expected, step: int = 0) -> np.ndarray:
        """Reward of this step from its output spikes ``(B, n_outputs)``.

        ``expected`` is what :meth:`step_targets` returned for this tick and
        ``step`` the step's index in the tick.
        """
        agree = output_spikes & (groups[None, :] == expected[:, None])
        n_agree = agree.sum(axis=1)
        n_total = output_spikes.sum(axis=1)
        out = self._reward
        np.multiply(n_agree, self.reward_mult, out=out)
        out += (n_total - n_agree) * self.punish_mult
        return out


class MatchExpected(Rewarder):
    """``reward_mult`` when the action matches ``info['expected']``, else ``punish_mult``."""


class RewardPredictionError(Rewarder):
    r"""Reward minus a running baseline: :math:`r - \bar r`, :math:`\bar r \mathrel{+}= \alpha (r - \bar r)`.

    The baseline is kept per member and updated after each tick.
    """

    STEP_REWARD = False
    KEYS = Rewarder.KEYS + (
        Key("baseline_rate", "float", "Update rate alpha of the running baseline.", 0.1,
            range=(0, 1)),
    )
    STATE = ("baseline",)

    def build(self, context):
        """Allocate the per-member baseline, starting at 0."""
        super().build(context)
        self.baseline = np.zeros(context.batch_size, dtype=np.float64)

    def tick_reward(self, action, game_reward, info):
        """The raw tick reward minus the baseline; then move the baseline towards it."""
        raw = self.raw_tick_reward(action, game_reward, info)
        error = raw - self.baseline
        activity = self.context.activity
        # a member whose episode ended keeps its baseline until it plays again
        step = self.baseline_rate * error
        self.baseline += step if activity is None or activity.all else step * activity.mask
        return error

