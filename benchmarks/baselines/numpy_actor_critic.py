"""A non-spiking baseline: a linear actor-critic with TD(lambda) on Gaussian receptive fields.

The features are the ones Spikey's ``Population`` input codes (without the spikes):
for each observation value ``x_d``, ``n_per_dim`` Gaussians with centres evenly
spaced over ``[low_d, high_d]`` and sigma = the centre spacing, the value clipped
to the bounds first::

    phi_dk = exp(-0.5 ((clip(x_d) - c_dk) / sigma_d) ** 2)

Policy ``pi(a|s) = softmax(theta @ phi)``, critic ``V(s) = w . phi``. After each
step the TD error ``delta = r + gamma V(s') - V(s)`` (``r - V(s)`` when the game
terminates; a truncated episode bootstraps from ``V(s')``) updates both through
accumulating eligibility traces::

    z_w     <- gamma lambda z_w     + phi
    z_theta <- gamma lambda z_theta + (onehot(a) - pi) phi^T     # grad log pi(a|s)
    w += critic_lr delta z_w ;  theta += actor_lr delta z_theta

Game seeds: training episode ``e`` of seed ``s`` plays ``game_seed(s, e)``,
evaluation episode ``e`` plays ``game_seed(s, e, EVAL_STREAM)`` (disjoint
streams; the same formula as ``spikey.training.loop.episode_seed``, so this
agent sees the games a Spikey member seeded ``s`` sees). Actions are drawn
from the agent's own ``numpy.random.Generator`` (seeded ``s``), in evaluation
too (frozen weights, stochastic policy, as Spikey's ``SoftmaxAction``).

Run alone: ``python benchmarks/baselines/numpy_actor_critic.py [--env CartPole-v1]
[--episodes 500] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

EVAL_STREAM = 1_000_003  # as spikey.training.loop.EVAL_STREAM
#: receptive-field bounds where the observation space's are infinite or too wide
BOUNDS = {"CartPole-v1": ([-2.4, -3.0, -0.21, -3.5], [2.4, 3.0, 0.21, 3.5])}


def game_seed(seed: int, episode: int, stream: int = 0) -> int:
    """Game seed of one episode: ``SeedSequence([seed, stream, episode])``'s first word.

    Parameters
    ----------
    seed : int
        The agent's seed.
    episode : int
        Episode index within its phase.
    stream : int
        0 for training, :data:`EVAL_STREAM` for evaluation.

    Returns
    -------
    int
    """
    return int(np.random.SeedSequence([seed, stream, episode]).generate_state(1)[0])


def env_bounds(env_id: str):
    """``(low, high)`` lists for the receptive fields of ``env_id`` (see :data:`BOUNDS`).

    Parameters
    ----------
    env_id : str
        A gymnasium id with a ``Box`` observation space.

    Returns
    -------
    (list of float, list of float)
    """
    if env_id in BOUNDS:
        return BOUNDS[env_id]
    space = gym.make(env_id).observation_space
    if not np.all(np.isfinite(space.low)) or not np.all(np.isfinite(space.high)):
        raise ValueError(f"{env_id}: observation bounds are infinite; add them to BOUNDS")
    return space.low.astype(float).tolist(), space.high.astype(float).tolist()


class LinearActorCritic:
    """Softmax actor and linear critic on Gaussian receptive fields, TD(lambda) traces.

    Parameters
    ----------
    low, high : sequence of float
        Bounds of each observation value (one per dimension).
    n_actions : int
        Discrete actions.
    n_per_dim : int
        Receptive fields per observation value.
    gamma, lam : float
        Discount and trace decay.
    actor_lr : float
        Actor step size.
    critic_lr : float, optional
        Critic step size (default ``0.05 / n_dims``).
    seed : int
        Seed of the agent's generator (action draws).
    """

    def __init__(self, low, high, n_actions: int, n_per_dim: int = 10, gamma: float = 0.95,
                 lam: float = 0.8, actor_lr: float = 0.02, critic_lr: float | None = None,
                 seed: int = 0):
        self.low, self.high = np.asarray(low, float), np.asarray(high, float)
        if self.low.shape != self.high.shape or self.low.ndim != 1 or np.any(self.high <= self.low):
            raise ValueError(f"low {low} and high {high}: expected equal-length lists, low < high")
        if n_per_dim < 2 or n_actions < 1:
            raise ValueError(f"n_per_dim = {n_per_dim} (>= 2), n_actions = {n_actions} (>= 1)")
        n_dims = self.low.size
        self.centres = np.linspace(self.low, self.high, n_per_dim, axis=1)  # (d, k)
        self.sigma = ((self.high - self.low) / (n_per_dim - 1))[:, None]
        self.gamma, self.lam, self.actor_lr = gamma, lam, actor_lr
        self.critic_lr = 0.05 / n_dims if critic_lr is None else critic_lr
        self.theta = np.zeros((n_actions, n_dims * n_per_dim))
        self.w = np.zeros(n_dims * n_per_dim)
        self.rng = np.random.default_rng(seed)

    def features(self, obs) -> np.ndarray:
        """The receptive-field activations of one observation, shape ``(n_dims * n_per_dim,)``."""
        x = np.clip(np.asarray(obs, float), self.low, self.high)[:, None]
        return np.exp(-0.5 * ((x - self.centres) / self.sigma) ** 2).ravel()

    def policy(self, phi) -> np.ndarray:
        """Action probabilities ``softmax(theta @ phi)``."""
        h = self.theta @ phi
        p = np.exp(h - h.max())
        return p / p.sum()

    def play(self, env, seed: int, learn: bool, max_steps: int = 500) -> tuple:
        """One episode on ``env`` reset with ``seed``; learn from it when ``learn``.

        Returns
        -------
        (float, int)
            Return and length.
        """
        obs, _ = env.reset(seed=seed)
        phi = self.features(obs)
        z_w, z_theta = np.zeros_like(self.w), np.zeros_like(self.theta)
        total, steps = 0.0, 0
        while steps < max_steps:
            p = self.policy(phi)
            action = min(int(np.searchsorted(np.cumsum(p), self.rng.random(), side="right")),
                         p.size - 1)
            obs, reward, terminated, truncated, _ = env.step(action)
            total, steps = total + float(reward), steps + 1
            phi_next = self.features(obs)
            if learn:
                target = reward if terminated else reward + self.gamma * (self.w @ phi_next)
                delta = target - self.w @ phi
                decay = self.gamma * self.lam
                z_w = decay * z_w + phi
                grad = -p[:, None] * phi
                grad[action] += phi
                z_theta = decay * z_theta + grad
                self.w += self.critic_lr * delta * z_w
                self.theta += self.actor_lr * delta * z_theta
            if terminated or truncated:
                break
            phi = phi_next
        return total, steps


def run(env_id: str, episodes: int, eval_episodes: int = 100, seed: int = 0, max_steps: int = 500,
        low=None, high=None, **agent_options) -> dict:
    """Train one agent for ``episodes``, then evaluate it frozen for ``eval_episodes``.

    Parameters
    ----------
    env_id : str
        Gymnasium id (Box observations, Discrete actions).
    episodes, eval_episodes : int
        Training and evaluation episodes.
    seed : int
        Agent and game seed (see the module docstring).
    max_steps : int
        Cap on steps per episode.
    low, high : sequence of float, optional
        Receptive-field bounds (default :func:`env_bounds`).
    **agent_options
        Passed to :class:`LinearActorCritic`.

    Returns
    -------
    dict
        ``train_returns``, ``train_lengths``, ``eval_returns`` (arrays), ``train_s``, ``eval_s``.
    """
    if low is None or high is None:
        low, high = env_bounds(env_id)
    env = gym.make(env_id)
    agent = LinearActorCritic(low, high, int(env.action_space.n), seed=seed, **agent_options)
    start = time.perf_counter()
    train = [agent.play(env, game_seed(seed, e), True, max_steps) for e in range(episodes)]
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    evals = [agent.play(env, game_seed(seed, e, EVAL_STREAM), False, max_steps)[0]
             for e in range(eval_episodes)]
    env.close()
    return {"train_returns": np.array([r for r, _ in train]),
            "train_lengths": np.array([n for _, n in train]), "eval_returns": np.array(evals),
            "train_s": train_s, "eval_s": time.perf_counter() - start, "agent": agent}


def main(argv=None):
    """Command line: train and evaluate one agent, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = run(args.env, args.episodes, args.eval_episodes, args.seed)
    tail = out["train_returns"][-100:].mean() if args.episodes else float("nan")
    print(f"{args.env} seed {args.seed}: last-100 training mean {tail:.1f}, eval mean "
          f"{out['eval_returns'].mean():.1f} over {args.eval_episodes} ({out['train_s']:.1f} s "
          f"training, {out['eval_s']:.1f} s evaluation)")
    return out


if __name__ == "__main__":
    main()
