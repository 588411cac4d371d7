r"""Reward for matching a target spike train, step by step.

Each tick the game (or the experiment) gives the spike train the outputs
should fire, ``info["target"]``: booleans :math:`\hat s_o(t)`, shape
``(B, T, n_outputs)`` or ``(T, n_outputs)`` for every member, where ``T`` is
the network's ``processing_steps``. An output spike at step :math:`t` *hits*
when a target spike of the same output lies within the tolerance window
:math:`w` (``window``, in steps):

.. math::

    h_o(t) = s_o(t) \cdot \big[\textstyle\sum_{|t' - t| \le w} \hat s_o(t') > 0\big] .

A target spike at :math:`t'` is *missed* when its output fires nowhere in
:math:`[t' - w,\ t' + w]`; the miss is known, and punished, at step
:math:`t' + w` (or at the tick's last step when the window runs past it).
The reward of step :math:`t` is

.. math::

    r(t) = \rho_+ \sum_o h_o(t) + \rho_- \sum_o \big(s_o(t) - h_o(t)\big)
           + \rho_m\, m(t) ,

with :math:`\rho_+` = ``reward_mult``, :math:`\rho_-` = ``punish_mult``,
:math:`\rho_m` = ``miss_mult`` and :math:`m(t)` the misses that become known
at :math:`t`. Hits are counted per output spike, not paired one to one: two
output spikes within the window of one target spike both hit. With
:math:`\rho_m \ne 0` the rewarder asks for every step (``EVERY_STEP``),
since a miss comes on a step without output spikes.

The tick's score is the sum of its step rewards over the number of target
spikes, :math:`R = \sum_t r(t) / \max(1, \sum_{t,o} \hat s_o(t))`: 1 for an
output that hits every target spike once and fires nowhere else (with the
default multipliers), 0 for a silent output, negative for one that fires
mostly off target. This is the spike-timing counterpart of Florian's (2007)
"target firing-rate pattern" experiment.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.snn.reward.rewarders import Rewarder


def near_target(target: np.ndarray, window: int) -> np.ndarray:
    """Where an output spike would hit: ``target`` dilated by ``window`` steps along time.

    Parameters
    ----------
    target : numpy.ndarray
        Boolean target trains, ``(B, T, n_outputs)``.
    window : int
        Tolerance in steps.

    Returns
    -------
    numpy.ndarray
        ``near[b, t, o]``: a target spike of output ``o`` lies in ``[t - window, t + window]``.
    """
    T = target.shape[1]
    counts = np.cumsum(target, axis=1, dtype=np.int64)
    counts = np.concatenate([np.zeros_like(counts[:, :1]), counts], axis=1)  # counts[t] = sum < t
    steps = np.arange(T)
    upper = np.minimum(steps + window + 1, T)
    lower = np.maximum(steps - window, 0)
    return (counts[:, upper] - counts[:, lower]) > 0


def match_counts(output: np.ndarray, target: np.ndarray, window: int) -> dict:
    """Hits, false spikes and misses of whole spike trains, per member.

    Parameters
    ----------
    output, target : numpy.ndarray
        Boolean spike trains, ``(B, T, n_outputs)``.
    window : int
        Tolerance in steps.

    Returns
    -------
    dict
        ``hits`` (output spikes near a target spike), ``false`` (the other output
        spikes), ``misses`` (target spikes with no output spike near them),
        ``targets`` (target spikes) and ``outputs`` (output spikes): ``(B,)`` int arrays.
    """
    output, target = np.asarray(output, dtype=bool), np.asarray(target, dtype=bool)
    hits = (output & near_target(target, window)).sum(axis=(1, 2))
    covered = near_target(output, window)
    n_out, n_target = output.sum(axis=(1, 2)), target.sum(axis=(1, 2))
    return {"hits": hits, "false": n_out - hits, "misses": (target & ~covered).sum(axis=(1, 2)),
            "targets": n_target, "outputs": n_out}


class TargetSpikes(Rewarder):
    """Rewards output spikes near the target spikes of ``info['target']``, per step."""

    KEYS = (
        Key("reward_mult", "float", "Reward per output spike within window steps of a target "
            "spike of its output.", 1.0, range=(0, None)),
        Key("punish_mult", "float", "Reward (negative) per output spike with no target spike "
            "within window steps.", -1.0, range=(None, 0)),
        Key("miss_mult", "float", "Reward (negative) per target spike with no output spike "
            "within window steps; nonzero asks for a reward every step.", 0.0, range=(None, 0)),
        Key("window", "int", "Tolerance (steps): an output spike at t matches a target spike at "
            "t' when |t - t'| <= window.", 2, range=(0, None)),
    )
    @property
    def EVERY_STEP(self) -> bool:  # noqa: N802 - the network reads the class attribute's name
        """A miss comes on a step without output spikes: with a miss penalty, every step counts."""
        return self.miss_mult != 0.0

    def build(self, context):
        """Allocate the reward buffer; trains are sized by the first tick's target."""
        super().build(context)
        self.recorded = np.zeros((context.batch_size, 0, max(context.n_outputs, 0)), dtype=bool)
        self._target = self._near = None
        self._last_step = -1

    def targets_of(self, info, batch_size: int, owner: str = "") -> np.ndarray:
        """``info['target']`` as a ``(B, T, n_outputs)`` boolean array, checked.

        Raises
        ------
        ValueError
            When ``info['target']`` is absent, not 0/1, or not of shape ``(B, T, n_outputs)``
            or ``(T, n_outputs)``.
        """
        owner = owner or self.owner
        n_out = self.context.n_outputs if self.context is not None else 0
        wanted = f"(B, processing_steps, n_outputs) = ({batch_size}, T, {n_out or 'n_outputs'})"
        if info is None or "target" not in info:
            raise ValueError(
                f"{owner}: needs info['target'], the target output spike trains of shape "
                f"{wanted} or (processing_steps, n_outputs); got info keys "
                f"{sorted(info) if info else []}"
            )
        target = np.asarray(info["target"])
        if target.ndim == 2:
            target = target[None]
        if target.ndim != 3 or target.shape[0] not in (1, batch_size) or target.shape[1] == 0 \
                or (n_out and target.shape[2] != n_out):
            raise ValueError(
                f"{owner}: info['target'] has shape {np.shape(info['target'])}; expected "
                f"{wanted} or (processing_steps, n_outputs)"
            )
        if target.dtype != bool:
            if np.any((target != 0) & (target != 1)):
                raise ValueError(f"{owner}: info['target'] must hold 0/1 (spike or not) values")
            target = target.astype(bool)
        return np.broadcast_to(target, (batch_size, *target.shape[1:]))

    def step_targets(self, info, batch_size: int):
        """Read this tick's ``info['target']``; precompute where output spikes would hit.

        Raises
        ------
        ValueError
            As :meth:`targets_of`; also when, with every step rewarded, the last tick
            ran fewer steps than its target had (the target is longer than a tick).
        """
        if self.EVERY_STEP and self._target is not None and self._last_step != -1 \
                and self._last_step != self._target.shape[1] - 1:
            raise ValueError(
                f"{self.owner}: info['target'] had {self._target.shape[1]} steps but the tick ran "
                f"{self._last_step + 1}; expected shape (B, processing_steps, n_outputs)"
            )
        target = self.targets_of(info, batch_size, "network.tick")
        self._target = target
        self._near = near_target(target, self.window)
        if self.recorded.shape[1:] != target.shape[1:]:
            self.recorded = np.zeros(target.shape, dtype=bool)
        else:
            self.recorded[...] = False  # steps without output spikes are not reported
        self._last_step = -1
        return target

    def step_reward(self, output_spikes, groups, expected, step: int = 0) -> np.ndarray:
        """Reward of step ``step`` from its output spikes ``(B, n_outputs)``.

        ``expected`` is the tick's target from :meth:`step_targets`; ``groups`` is unused.

        Raises
        ------
        ValueError
            When ``step`` lies past the end of ``info['target']`` or the output count
            differs from the target's.
        """
        target, w = expected, self.window
        T = target.shape[1]
        if step >= T or output_spikes.shape[1] != target.shape[2]:
            raise ValueError(
                f"{self.owner}: info['target'] has shape {target.shape} but the network is at "
                f"step {step} with {output_spikes.shape[1]} outputs; expected shape "
                f"(B, processing_steps, n_outputs)"
            )
        self.recorded[:, step] = output_spikes
        self._last_step = step
        n_spikes = output_spikes.sum(axis=1)
        hits = (output_spikes & self._near[:, step]).sum(axis=1)
        out = self._reward
        np.multiply(hits, self.reward_mult - self.punish_mult, out=out)
        out += n_spikes * self.punish_mult
        if self.miss_mult != 0.0:
            out += self._misses_known_at(step, T) * self.miss_mult
        return out

    def _misses_known_at(self, step: int, T: int) -> np.ndarray:
        """Target spikes whose window closes at ``step`` with no output spike in it, ``(B,)``."""
        w = self.window
        judged = range(step - w, step - w + 1) if step < T - 1 else range(step - w, T)
        misses = np.zeros(self._target.shape[0], dtype=np.int64)
        for t in judged:
            if t < 0:
                continue
            covered = self.recorded[:, max(t - w, 0):min(t + w + 1, T)].any(axis=1)
            misses += (self._target[:, t] & ~covered).sum(axis=1)
        return misses

    def tick_reward(self, action, game_reward, info) -> np.ndarray:
        """Score whole output trains: the sum of their step rewards over the target spikes.

        Parameters
        ----------
        action : array-like
            The tick's output spike trains, ``(B, T, n_outputs)``, e.g.
            ``network.tick_spikes[:, :, -n_outputs:]`` (the readout's action is not enough).
        game_reward : ignored
        info : dict
            With ``info['target']``, as for the step rewards.

        Returns
        -------
        numpy.ndarray
            ``(B,)``: :math:`(\\rho_+ n_{hit} + \\rho_- n_{false} + \\rho_m n_{miss}) /
            \\max(1, n_{target})`.

        Raises
        ------
        ValueError
            When ``action`` is not spike trains shaped like ``info['target']``.
        """
        B = self.context.batch_size
        target = self.targets_of(info, B)
        output = np.asarray(action) if action is not None else np.zeros(0)
        if output.shape != target.shape:
            raise ValueError(
                f"{self.owner}.tick_reward scores output spike trains: pass "
                f"action=network.tick_spikes[:, :, -n_outputs:] of shape {target.shape} "
                f"(like info['target']); got shape {output.shape}"
            )
        c = match_counts(output, target, self.window)
        total = (c["hits"] * self.reward_mult + c["false"] * self.punish_mult
                 + c["misses"] * self.miss_mult)
        return total / np.maximum(c["targets"], 1)
