"""Run a network on a batch of games until every member has played one episode.

``B = network.batch_size`` members play ``B`` copies of a game in lockstep
(any gymnasium vector env with ``NEXT_STEP`` autoreset: a
:class:`~spikey.games.GameVectorEnv` or a ``SyncVectorEnv``). Each tick:

1. the adapter turns the batch of observations into network input;
2. ``network.tick`` runs ``processing_steps`` steps and returns one action per member;
3. the games step; a member whose episode ended is frozen
   (``network.plastic``: its rewards no longer change weights) and paused
   (``network.active``: its random streams, rewarder baseline, homeostasis and
   unsupervised learning stop), while the others play on;
4. in ``reward_mode='tick'`` the game's reward (or ``reward_fn``'s) goes to
   ``network.reward``, whose rewarder turns it into the learning signal.

Member ``b`` seeded like a solo run (network seed, game seed) plays exactly
the solo run's episodes, one after another, even when the members' episodes
end on different ticks, for every learning rule (``unit_tests/test_pause.py``).
What a paused member still does: its neurons and traces step (their state is
reset with the next episode), and the network's tick counter moves on
(a schedule with ``clock: member`` counts only the member's active ticks, so
it follows the solo run's schedule; one with ``clock: network`` does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from spikey.games.adapters import EnvAdapter
from spikey.snn.health import (NonFiniteError, StateCheck, bad_members, check_network,
                                first_bad_value)
from spikey.snn import health


@dataclass
class Episode:
    """What :func:`run_episode` returns.

    Attributes
    ----------
    returns : numpy.ndarray
        ``(B,)`` sum of each member's rewards in its episode.
    lengths : numpy.ndarray
        ``(B,)`` steps each member played.
    finished : numpy.ndarray
        ``(B,)`` whether the episode ended (False: cut by ``max_steps``).
    trajectory : dict or None
        With ``record=True``: ``observation``, ``action``, ``reward``,
        ``terminated``, ``truncated``, each a list over ticks of ``(B, ...)``
        arrays (the observation the action was taken on, the action sent to
        the game, and what the game answered).
    """

    returns: np.ndarray
    lengths: np.ndarray
    finished: np.ndarray
    trajectory: dict | None = None


def as_vector_env(env, batch_size: int):
    """``env`` as a vector env of ``batch_size`` members (a single Env: ``batch_size == 1``)."""
    if isinstance(env, gym.vector.VectorEnv):
        if env.num_envs != batch_size:
            raise ValueError(f"run_episode: the vector env has {env.num_envs} members but the "
                             f"network has batch_size = {batch_size}; expected them equal")
        mode = env.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
        if mode != gym.vector.AutoresetMode.NEXT_STEP:
            raise ValueError(f"run_episode: the vector env's autoreset_mode is {mode}; expected "
                             "AutoresetMode.NEXT_STEP")
        return env
    if isinstance(env, gym.Env):
        if batch_size != 1:
            raise ValueError(f"run_episode: a single gymnasium Env plays with batch_size = 1, "
                             f"but the network has {batch_size}; pass a vector env of "
                             f"{batch_size} members")
        return gym.vector.SyncVectorEnv([lambda: env])
    raise TypeError(f"run_episode: expected a gymnasium Env or VectorEnv, got {type(env).__name__}")


#: Separates run_episode's default game seeds from the training loop's streams.
FRESH_STREAM = 2_000_029
_PLAYED = "_spikey_default_episodes"  # network attribute: episodes played on default seeds


def fresh_seeds(network) -> list:
    """Game seeds for ``network``'s next episode when none are given: new every call.

    Member ``b``'s seed is drawn from its own seed ``s_b`` and the number of
    episodes ``n`` it has played on default seeds (a counter kept on the
    network): ``SeedSequence([s_b, FRESH_STREAM, n])``. So repeated calls play
    new episodes, a member plays what a solo network of seed ``s_b`` plays in
    its ``n``-th call, and the stream starts over for a new (or loaded) network.

    Parameters
    ----------
    network : spikey.Network
        The members (its counter advances by one).

    Returns
    -------
    list of int
    """
    played = getattr(network, _PLAYED, 0)
    setattr(network, _PLAYED, played + 1)
    return [int(np.random.SeedSequence([int(s), FRESH_STREAM, played]).generate_state(1)[0])
            for s in network.seeds]


def run_episode(network, env, adapter: EnvAdapter | None = None, seeds=None,
                max_steps: int | None = None, reward_fn=None, reset_network: bool = True,
                record: bool = False, on_tick=None, seed=None, state_check=None) -> Episode:
    """Play until every member's episode has ended (or ``max_steps`` ticks).

    Parameters
    ----------
    network : spikey.Network
        ``B = network.batch_size`` members; ``network.train()`` / ``eval()``
        decides whether it learns.
    env : gymnasium.vector.VectorEnv or gymnasium.Env
        ``B`` games (a single Env when ``B = 1``).
    adapter : EnvAdapter, optional
        Converts observations and actions; default: ``EnvAdapter(env)``.
    seeds : int or list of int, optional
        Game seeds: an int seeds member ``b`` with ``seeds + b``, a list gives
        each member's. Default: fresh seeds every call (:func:`fresh_seeds`),
        so calling again plays new episodes, reproducibly from the network's
        seeds.
    seed : int or list of int, optional
        gymnasium's spelling of ``seeds`` (as in ``env.reset(seed=...)``); give
        one of the two.
    max_steps : int, optional
        Stop after this many ticks even if some episodes go on.
    reward_fn : callable, optional
        ``reward_fn(reward=, observation=, action=, terminated=, truncated=, info=)``
        returning ``(B,)`` rewards that replace the game's.
    reset_network : bool
        Return neuron and trace state to rest first (weights are kept).
    record : bool
        Keep the trajectory (see :class:`Episode`).
    on_tick : callable, optional
        Called after every tick as ``on_tick(tick=, active=, action=, reward=)``
        (``active``: members still in their episode), e.g. to log metrics; an
        object with a ``tick_row`` method gets ``tick_row(tick, active, action,
        reward)`` instead (the same values, positionally). ``active`` is never
        changed after the call (a new array comes when it changes), so it may be
        kept without a copy; ``action`` and ``reward`` may be reused: copy them.
    state_check : spikey.snn.health.StateCheck, optional
        The network's finite check, to keep between episodes (it confirms every
        tick that each array it keeps is still its part's); default: a new one.

    Returns
    -------
    Episode
    """
    B = network.batch_size
    games = as_vector_env(env, B)
    adapter = EnvAdapter(games) if adapter is None else adapter
    if seed is not None:
        if seeds is not None:
            raise ValueError(f"run_episode: got seeds={seeds!r} and seed={seed!r}; pass one "
                             "(seed is gymnasium's spelling of seeds)")
        seeds = seed
    if seeds is None:
        seeds = fresh_seeds(network)
    closed = None  # the compiled closed loop, while every member plays (see _closed_loop)
    if reward_fn is None and not record and _after_tick is not None and _after_step is not None:
        closed = _closed_loop(network, games, adapter)
    if reset_network:
        network.reset()
    if closed is not None:
        obs, info = closed.reset(seed=seeds)  # network.begin_episode(), then the games' reset
    else:
        network.begin_episode()
        obs, info = games.reset(seed=seeds)
    done = np.zeros(B, dtype=bool)
    returns = np.zeros(B)
    lengths = np.zeros(B, dtype=np.int64)
    trajectory = {k: [] for k in ("observation", "action", "reward", "terminated", "truncated")}
    if state_check is None:
        check = StateCheck(network)  # the state arrays found once per episode
    elif getattr(state_check, "network", None) is network:
        check = state_check
    else:
        raise ValueError("run_episode: state_check is not a StateCheck of this network; expected "
                         "spikey.snn.health.StateCheck(network)")
    what = "reward_fn's reward" if reward_fn else "the game's reward"
    tick_rewards = network.reward_mode == "tick"
    # without tick rewards nothing runs between the bookkeeping and the state's check: both
    # go in one compiled call (the check's table got anew each tick, as a call of it does)
    joined = _after_tick is not None and not tick_rewards
    observations, actions, step = adapter.observations, adapter.actions, games.step
    # a callback may offer tick_row(tick, active, action, reward): called positionally
    row = None if on_tick is None else getattr(on_tick, "tick_row", None)
    tick, remaining, active = 0, B, None
    try:
        while remaining and (max_steps is None or tick < max_steps):
            if active is None:  # the first tick, or a member's episode ended in the last one
                active = ~done
                network.plastic[...] = active
                network.active[...] = active  # finished members pause (random streams etc.)
            if closed is not None and remaining == B and on_tick is None and (
                    max_steps is None or max_steps - tick > 1):
                # no callback: ticks until a member's episode ends in one compiled call each
                ran, bad = closed._episode_run(
                    _CHUNK if max_steps is None else min(_CHUNK, max_steps - tick),
                    check.compiled_table())
                if ran:
                    rewards, ends, cuts = closed._history
                    left = _after_rows(rewards, ends, cuts, ran, done, returns, lengths)
                    if left < 0:  # row -left - 1's reward is inf or NaN: raises
                        _check_finite(rewards[-left - 1], what, tick - left - 1, B)
                    if bad:  # the state holds inf or NaN after the last tick: raises
                        check_network(network, f"in tick {tick + ran - 1} of the episode")
                    tick += ran
                    if left != remaining:
                        remaining, active = left, None
                    obs, info = closed._obs_buffer, {}
                    continue
            if closed is not None and closed._plan is None and closed.why_not_fused != \
                    "not built yet":  # the loop refused these parts: Python from here on,
                closed._episodes_refused = closed._key()  # until a part or the mode changes
                closed = None
            if closed is not None and remaining == B and closed._fused_tick():
                # the tick, the game's step and the reward in one compiled call (the lines
                # below, bit for bit; it refuses a non-finite observation: those run below)
                _, reward, ended, cut = closed._out  # the games' own arrays: read, not kept
                table = check.compiled_table()
                if table is not None:
                    left = _after_tick(reward, ended, cut, done, returns, lengths, table)
                else:
                    left = _after_step(reward, ended, cut, done, returns, lengths)
                if left == -1:
                    _check_finite(reward, what, tick, B)  # raises, naming member and value
                if left == -2:
                    check_network(network, f"in tick {tick} of the episode")  # raises
                    left = int(B - done.sum())  # (not reached)
                if table is None:
                    check.after_tick(tick)
                if row is not None:  # (tick_row copies what it keeps)
                    row(tick, active, closed._action, reward)
                elif on_tick is not None:
                    on_tick(tick=tick, active=active, action=closed._action.copy(),
                            reward=reward.copy())
                if left != remaining:
                    remaining, active = left, None
                obs, info = closed._obs_buffer, {}  # (what GameVectorEnv(CartPole) returns)
                tick += 1
                continue
            if type(obs) is not np.ndarray or obs.dtype.kind in "fc":  # integers: finite
                _check_finite(obs, "the game's observation", tick, B)
            action = network.tick(observations(obs, B), info)
            env_action = actions(action, B)
            next_obs, reward, terminated, truncated, next_info = step(env_action)
            reward = np.asarray(reward, dtype=np.float64)
            if reward_fn is not None:
                reward = np.asarray(reward_fn(reward=reward, observation=obs, action=env_action,
                                              terminated=terminated, truncated=truncated,
                                              info=next_info), dtype=np.float64).reshape(B)
            ended, cut = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
            checked = False
            if (_after_step is not None and reward.shape == (B,) and ended.shape == (B,)
                    and cut.shape == (B,)):
                table = check.compiled_table() if joined else None
                if table is not None:
                    # the reward's check, returns, lengths, done and the state's check
                    left = _after_tick(reward, ended, cut, done, returns, lengths, table)
                    checked = True
                    if left == -2:  # the state holds inf or NaN: raises, naming the array
                        check_network(network, f"in tick {tick} of the episode")
                        left = int(B - done.sum())  # (not reached)
                else:
                    # the reward's check, returns, lengths and done in one compiled call
                    left = _after_step(reward, ended, cut, done, returns, lengths)
                if left == -1:
                    _check_finite(reward, what, tick, B)  # raises, naming member and value
            else:
                _check_finite(reward, what, tick, B)
                returns += reward * active
                lengths += active
                done |= ended | cut
                left = int(B - done.sum())
            if tick_rewards:
                network.reward(action=action, game_reward=reward * active, info=info,
                               terminated=terminated, truncated=truncated)
            if not checked:
                check.after_tick(tick)
            if row is not None:
                row(tick, active, action, reward)
            elif on_tick is not None:
                on_tick(tick=tick, active=active, action=action, reward=reward)
            if record:
                for key, value in (("observation", obs), ("action", env_action),
                                   ("reward", reward), ("terminated", terminated),
                                   ("truncated", truncated)):
                    trajectory[key].append(np.array(value, copy=True))
            if left != remaining:
                remaining, active = left, None
            obs, info = next_obs, next_info
            tick += 1
    finally:
        network.plastic[...] = 1.0
        network.active[...] = True
    return Episode(returns, lengths, done.copy(), trajectory if record else None)


#: run_episode runs a tick through spikey.snn.closed_loop.ClosedLoop's compiled call when the
#: parts fit it (False: always the Python lines; for tests and comparisons).
CLOSED_LOOP = True
_KEPT_LOOP = "_spikey_episode_loop"  # games attribute: the ClosedLoop kept between episodes


def _closed_loop(network, games, adapter):
    """The :class:`~spikey.snn.closed_loop.ClosedLoop` of ``network`` and ``games`` that
    run_episode's ticks go through while every member plays, or None where it cannot run
    (another game than spikey's CartPole vector env, another adapter, reward mode other than
    ``'tick'``; the loop itself refuses the parts it does not compile, tick by tick). Kept on
    the games between episodes: its plan is built once (a seeded reset hands it the games'
    new generators)."""
    if not CLOSED_LOOP or network.reward_mode != "tick" or type(adapter) is not EnvAdapter:
        return None
    from spikey.games.cartpole import CartPole
    from spikey.games.template import GameVectorEnv
    from spikey.snn import kernels

    if not kernels.AVAILABLE or type(games) is not GameVectorEnv or \
            type(games.game) is not CartPole:
        return None
    loop = games.__dict__.get(_KEPT_LOOP)
    if loop is not None and loop.adapter is not adapter and loop.network is network and \
            loop.adapter.observation_space == adapter.observation_space and \
            loop.adapter.action_space == adapter.action_space:  # (Box equality: ~50 us)
        loop.adapter = adapter  # an adapter of the same spaces: the plan holds
    if loop is None or loop.network is not network or loop.adapter is not adapter:
        from spikey.snn.closed_loop import ClosedLoop

        loop = ClosedLoop(network, games, adapter)
        setattr(games, _KEPT_LOOP, loop)
    if getattr(loop, "_episodes_refused", None) == loop._key():
        return None  # refused in an earlier episode, the parts and the mode unchanged since
    return loop


def _check_finite(values, what: str, tick: int, batch_size: int) -> None:
    """Refuse an infinite or NaN number before it reaches the network (it would turn the
    weights into NaN); observations that are not numeric arrays (e.g. dicts) are skipped."""
    try:
        values = np.asarray(values)
    except (TypeError, ValueError):
        return
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        member = bad_members(values, batch_size)[0]
        own = values[member] if values.ndim and values.shape[0] == batch_size else values
        raise NonFiniteError(f"run_episode: {what} of member {member} in tick {tick} is "
                             f"{first_bad_value(own)}; expected finite numbers")


def _after_step_members(reward, terminated, truncated, done, returns, lengths):
    # -1 (nothing changed) when a member's reward is inf or NaN; else, as the numpy lines
    # `returns += reward * active; lengths += active; done |= terminated | truncated` in the
    # same floating point operations, the members still playing
    B = done.shape[0]
    for b in range(B):
        if not np.isfinite(reward[b]):
            return -1
    left = 0
    for b in range(B):
        active = not done[b]
        returns[b] += reward[b] * (1.0 if active else 0.0)
        lengths[b] += 1 if active else 0
        done[b] = done[b] or terminated[b] or truncated[b]
        if not done[b]:
            left += 1
    return left


try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency
    numba = None
_after_step = None if numba is None else numba.njit(cache=True, nogil=True)(_after_step_members)


def _after_tick_members(reward, terminated, truncated, done, returns, lengths, table):
    # _after_step_members, then (unless it refused the reward) the state's finite check of
    # spikey.snn.health (StateCheck's table): -2 when a state array holds inf or NaN
    left = _after_step(reward, terminated, truncated, done, returns, lengths)
    if left >= 0 and not _table_check(table):
        return -2
    return left


def _after_rows_members(rewards, terminated, truncated, rows, done, returns, lengths):
    # _after_step_members on rows 0 .. rows - 1 in turn (the ticks of a compiled run); -1 - r
    # when row r's reward is inf or NaN (rows before it counted, it not)
    left = done.shape[0] - done.sum()
    for r in range(rows):
        left = _after_step(rewards[r], terminated[r], truncated[r], done, returns, lengths)
        if left < 0:
            return -1 - r
    return left


_table_check = health._table_check
_after_tick = None if _after_step is None or _table_check is None else \
    numba.njit(cache=True, nogil=True)(_after_tick_members)
_after_rows = None if _after_tick is None else \
    numba.njit(cache=True, nogil=True)(_after_rows_members)
_CHUNK = 256  # ticks per compiled run at most (ClosedLoop's history rows)
