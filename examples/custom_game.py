r"""A custom game in ~60 lines: Homing, written on spikey.games.Game.

An agent on the line :math:`[-1, 1]` must reach a target :math:`g`. It sees
:math:`(p, g)` and moves left, stays or moves right by ``speed`` per step:

.. math:: p \leftarrow \mathrm{clip}(p + \mathrm{speed}\,(a - 1), -1, 1), \qquad a \in \{0, 1, 2\}

It earns ``-step_cost`` per step and ``+1`` on reaching :math:`|p - g| \le`
``goal_size``, which ends the episode. Start and target are drawn uniformly
per member at reset (two uniforms per member: ``RANDOM_WIDTH = 2``).

What this file shows (the template in :mod:`spikey.games.template`):

* subclass :class:`spikey.games.Game`; declare parameters as ``KEYS`` and named
  partial configs as ``PRESETS`` (``Homing(preset="hard", speed=0.1)``: the key
  given wins over the preset);
* ``setup`` sets one member's spaces and allocates ``(B, ...)`` state;
* ``reset_members`` / ``step_members`` change only the masked members, drawing
  randomness only through ``self.random.uniform(mask)``;
* ``register_game`` makes ``gymnasium.make("examples/Homing-v0")`` (one game)
  and ``gymnasium.make_vec("examples/Homing-v0", num_envs=B)`` (B members in one
  array step) work.

Run ``python examples/custom_game.py`` to train a small spiking network on it
(a few seconds).
"""

from __future__ import annotations

import argparse

import numpy as np
from gymnasium import spaces

import spikey
from spikey.core.params import Key
from spikey.games import Game, register_game
from spikey.games.adapters import EnvAdapter
from spikey.games.run import run_episode


class Homing(Game):
    """Move along a line to a randomly placed target."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    KEYS = (
        Key("speed", "float", "Distance moved per step (line units).", 0.1, range=(1e-6, 2.0)),
        Key("goal_size", "float", "Reached when |position - target| <= goal_size.", 0.1,
            range=(0.0, 2.0)),
        Key("step_cost", "float", "Reward subtracted each step.", 0.01),
    )
    PRESETS = {"easy": {"goal_size": 0.2, "speed": 0.1}, "hard": {"goal_size": 0.05, "speed": 0.05}}
    RANDOM_WIDTH = 2  # start and target

    def setup(self):
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self.action_space = spaces.Discrete(3)
        self.position = np.zeros(self.num_members)
        self.target = np.zeros(self.num_members)

    def reset_members(self, members):
        u = self.random.uniform(members)
        np.copyto(self.position, 2 * u[:, 0] - 1, where=members)
        np.copyto(self.target, 2 * u[:, 1] - 1, where=members)

    def step_members(self, action, active):
        moved = np.clip(self.position + self.speed * (action - 1), -1.0, 1.0)
        np.copyto(self.position, moved, where=active)
        reached = np.abs(self.position - self.target) <= self.goal_size
        return np.where(reached, 1.0, -self.step_cost), reached

    def observe(self):
        return np.stack([self.position, self.target], axis=1).astype(np.float32)

    def render_member(self, member):
        image = np.full((40, 200, 3), 255, dtype=np.uint8)
        to_px = lambda v: int(round((v + 1) / 2 * 199))  # noqa: E731
        image[18:22, :] = (200, 200, 200)
        image[10:30, to_px(self.target[member])] = (40, 160, 40)
        at = to_px(self.position[member])
        image[14:26, max(at - 3, 0):at + 4] = (30, 30, 30)
        return image


register_game("examples/Homing-v0", Homing, max_episode_steps=100, preset="easy")


def main(argv=None):
    import gymnasium as gym

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args(argv)
    games = gym.make_vec("examples/Homing-v0", num_envs=args.members)
    adapter = EnvAdapter(games, coding="population", decoding="vector")
    network = spikey.Network.from_config(
        adapter.network_config(batch_size=args.members, processing_steps=10))
    for episode in range(args.episodes):
        result = run_episode(network, games, adapter, seeds=1000 * episode)
        print(f"episode {episode:3d}: mean return {result.returns.mean():+.3f}, "
              f"mean length {result.lengths.mean():.1f}")
    return result


if __name__ == "__main__":
    main()
