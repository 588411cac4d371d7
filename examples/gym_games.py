"""Any gymnasium environment as a Spikey game: CartPole-v1, MountainCar-v0, Acrobot-v1, FrozenLake-v1.

For each environment an :class:`~spikey.games.adapters.EnvAdapter` reads the
spaces and builds the network's input and readout (Box -> population coding,
Discrete -> one-hot; Discrete actions -> top action or population vector), a
batch of ``--members`` networks plays ``--members`` copies of the game in
lockstep (gymnasium ``SyncVectorEnv``, NEXT_STEP autoreset), and the game's
own reward drives MSTDPET through a reward-prediction-error rewarder.

This demonstrates the plumbing, not a tuned learner: short runs of untuned
networks score about what a random policy scores.

Run ``python examples/gym_games.py [--episodes 3] [--members 4] [--max-steps 200]``
(a second or two; no pygame needed, nothing is rendered).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import spikey
from spikey.games.adapters import EnvAdapter
from spikey.games.run import run_episode

#: gymnasium id -> adapter options
DEMOS = {
    "CartPole-v1": {"scale": [1.0, 2.0, 1.0, 3.0]},  # velocities are unbounded: clip at +-s
    "MountainCar-v0": {"decoding": "vector"},  # push left / none / right are ordered
    "Acrobot-v1": {},
    "FrozenLake-v1": {},
}


def play(game_id: str, members: int, episodes: int, max_steps: int, processing_steps: int):
    """Train ``members`` networks on ``game_id`` for ``episodes``; return the mean returns."""
    games = gym.make_vec(game_id, num_envs=members, vectorization_mode="sync",
                         max_episode_steps=max_steps)
    adapter = EnvAdapter(games, **DEMOS[game_id])
    network = spikey.Network.from_config(
        adapter.network_config(batch_size=members, processing_steps=processing_steps))
    means = []
    for episode in range(episodes):
        result = run_episode(network, games, adapter, seeds=1000 * episode)
        means.append(float(result.returns.mean()))
    games.close()
    return adapter, means


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--processing-steps", type=int, default=10)
    args = parser.parse_args(argv)
    for game_id in DEMOS:
        start = time.perf_counter()
        adapter, means = play(game_id, args.members, args.episodes, args.max_steps,
                              args.processing_steps)
        print(f"{game_id:<15} {adapter.inputs['part']:>11} -> {adapter.readout['part']:<16} "
              f"mean return per episode {[round(m, 2) for m in means]} "
              f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
