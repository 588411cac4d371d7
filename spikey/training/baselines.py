"""Reference returns that give a learning curve its scale: a uniformly random policy.

:func:`random_policy_returns` plays the configured game with actions drawn
uniformly from its action space (one seeded generator, evaluation game seeds
that training never uses), so a plot or a report can put "what no learning
gets" beside what a network got.
"""

from __future__ import annotations

import numpy as np

from spikey.training.loop import EVAL_STREAM, episode_seed, make_games


def random_policy_returns(game: dict, episodes: int = 20, seed: int = 0,
                          max_ticks: int = 1000) -> np.ndarray:
    """Returns of ``episodes`` episodes of a uniformly random policy, ``(episodes,)``.

    Parameters
    ----------
    game : dict
        The experiment config's ``game`` section (``{"id": ..., "kwargs": {...}}``).
    episodes : int
        Episodes to play (one game, one after another).
    seed : int
        Seeds the action draws and, through the evaluation stream, the games.
    max_ticks : int
        Cap on an episode's length, as ``training.max_ticks``.

    Examples
    --------
    >>> random_policy_returns({"id": "CartPole-v1", "kwargs": {}}, episodes=50).mean()  # doctest: +SKIP
    22.1
    """
    games = make_games({"id": game["id"], "kwargs": dict(game.get("kwargs", {}))}, 1)
    space = games.single_action_space
    space.seed(int(np.random.SeedSequence([seed, 17]).generate_state(1)[0]))
    out = np.zeros(episodes)
    try:
        for episode in range(episodes):
            games.reset(seed=[episode_seed(seed, episode, EVAL_STREAM + 1)])
            for _ in range(max_ticks):
                _, reward, terminated, truncated, _ = games.step(np.asarray([space.sample()]))
                out[episode] += float(reward[0])
                if terminated[0] or truncated[0]:
                    break
    finally:
        games.close()
    return out
