"""The base of Spikey's games: natively batched state, a gymnasium view, a vector env.

A game holds the state of ``B`` independent members as arrays with a
leading batch axis and steps all of them in one array operation. The same
class serves two gymnasium faces:

* ``MyGame(preset=..., **config)`` is a plain :class:`gymnasium.Env` (``B = 1``):
  ``check_env``, ``gymnasium.make("spikey/...")`` and ``SyncVectorEnv`` use it;
* ``MyGame.vector(num_envs=B, ...)`` (or ``gymnasium.make_vec("spikey/...",
  num_envs=B)``) is a :class:`GameVectorEnv`, a :class:`gymnasium.vector.VectorEnv`
  stepping all ``B`` members at once with gymnasium's ``NEXT_STEP`` autoreset.

Member ``b`` of a vector env reset with ``seed`` (an int) behaves exactly like
a solo game reset with ``seed + b``, whatever ``B`` is and whenever the other
members' episodes end.

Writing a game
--------------
Subclass :class:`Game` and fill in five things (``examples/custom_game.py`` is
this game in full)::

    class Homing(Game):
        KEYS = (Key("speed", "float", "Distance moved per step.", 0.1, range=(1e-6, 2.0)),
                Key("goal_size", "float", "Reached within this distance.", 0.1))
        PRESETS = {"easy": {"goal_size": 0.2}, "hard": {"goal_size": 0.05, "speed": 0.05}}
        RANDOM_WIDTH = 2                 # uniforms each member needs per draw

        def setup(self):                 # spaces of ONE member; (B, ...) state arrays
            self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
            self.action_space = spaces.Discrete(3)
            self.position = np.zeros(self.num_members)
            self.target = np.zeros(self.num_members)

        def reset_members(self, members):          # members: (B,) bool
            u = self.random.uniform(members)       # (B, RANDOM_WIDTH) in [0, 1)
            np.copyto(self.position, 2 * u[:, 0] - 1, where=members)
            np.copyto(self.target, 2 * u[:, 1] - 1, where=members)

        def step_members(self, action, active):    # action: (B,) ints, already checked
            moved = np.clip(self.position + self.speed * (action - 1), -1, 1)
            np.copyto(self.position, moved, where=active)
            reached = np.abs(self.position - self.target) <= self.goal_size
            return reached.astype(float), reached  # reward (B,), terminated (B,)

        def observe(self):                         # a NEW (B, ...) array every call
            return np.stack([self.position, self.target], axis=1).astype(np.float32)

and optionally ``member_info`` (a dict of ``(B, ...)`` arrays returned as
``info``) and ``render_member(b)`` (an RGB ``uint8`` image). Then register it::

    register_game("examples/Homing-v0", Homing, max_episode_steps=100, preset="easy")

Rules a game follows:

* **Parameters** are :class:`~spikey.core.params.Key` declarations in ``KEYS``;
  they arrive validated as attributes (``self.speed``) and as ``self.config``.
  Unknown keys, wrong types and out-of-range values raise
  :class:`~spikey.core.params.ConfigError` naming the key, the value and what
  was allowed, exactly as for network parts, so sweeps can vary them.
* **Presets** are named partial configs; keys given by the caller override the
  preset's. ``DEFAULT_PRESET`` (optional) applies when no preset is named.
* **Spaces** are those of one member. Prefer ``Box``, ``Discrete`` or
  ``MultiBinary`` observations (what :mod:`spikey.games.adapters` encodes for a
  network) and ``Discrete`` or ``Box`` actions (what it decodes); give ``Box``
  finite bounds. Actions arrive checked against ``action_space`` as a
  ``(B, *shape)`` array (``(B,)`` integers for ``Discrete``); a member whose
  action is outside the space raises ``ValueError`` naming the member, the
  value and the space.
* **Randomness** comes only from ``self.random.uniform(members)``: uniforms in
  ``[0, 1)``, ``RANDOM_WIDTH`` per member, drawn in blocks from each member's
  own generator (the solo env's is ``self.np_random``). Only the members in
  the mask consume numbers, which is what keeps members independent.
* **Masks**: ``reset_members`` and ``step_members`` change only the members
  whose mask entry is True (``np.copyto(..., where=mask)``); values they return
  for other members are ignored.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from spikey.core.params import ConfigError, suggest, validate

#: Constructor arguments of every game; no game key may use these names.
RESERVED = ("preset", "render_mode", "num_members", "config", "random")


class MemberRandom:
    """Uniform random numbers, one independent stream per member, drawn in blocks.

    Each member refills ``block`` rows of ``width`` uniforms at a time from its
    own generator, so a draw for all ``B`` members costs one array gather, not
    ``B`` Python calls. The block size does not depend on ``B``: member ``b`` of
    a batch sees exactly the numbers a solo game with the same generator sees.

    Parameters
    ----------
    num_members : int
    width : int
        Uniforms per member per draw.
    block : int
        Draws per refill.
    """

    def __init__(self, num_members: int, width: int, block: int = 256):
        self.width, self.block = max(int(width), 1), int(block)
        self.generators: list = [None] * num_members
        self.buffer = np.zeros((num_members, self.block, self.width))
        self.position = np.full(num_members, self.block, dtype=np.int64)
        self._members = np.arange(num_members)

    def seed_member(self, member: int, generator: np.random.Generator) -> None:
        """Give ``member`` a new generator and drop its unused numbers."""
        self.generators[member] = generator
        self.position[member] = self.block

    def uniform(self, members: np.ndarray) -> np.ndarray:
        """The next ``(B, width)`` uniforms; only rows in ``members`` are drawn and consumed.

        Rows of members outside the mask hold arbitrary values.
        """
        for b in np.flatnonzero(members & (self.position >= self.block)):
            generator = self.generators[b]
            if generator is None:
                raise RuntimeError(f"game member {b} has no random generator yet; call reset() "
                                   "(with a seed for reproducible runs) before stepping")
            generator.random(out=self.buffer[b])
            self.position[b] = 0
        rows = self.buffer[self._members, np.minimum(self.position, self.block - 1)]
        self.position += members
        return rows


class Game(gym.Env):
    """Base of Spikey's games: ``B`` members stepped as arrays; a ``gymnasium.Env`` at ``B = 1``.

    Parameters
    ----------
    preset : str, optional
        A key of :attr:`PRESETS`; its values are defaults that ``**config`` overrides.
    render_mode : {None, 'rgb_array'}
    num_members : int
        Members ``B`` held by this object. The ``gymnasium.Env`` methods
        (``reset``, ``step``, ``render``) need ``B = 1``; :meth:`vector` builds
        the batched form.
    **config
        Keys of :attr:`KEYS`.
    """

    #: Declared parameters (:class:`~spikey.core.params.Key`).
    KEYS: tuple = ()
    #: Named partial configs.
    PRESETS: dict = {}
    #: Preset used when none is named (None: the keys' own defaults).
    DEFAULT_PRESET: str | None = None
    #: Uniforms each member draws per ``self.random.uniform`` call.
    RANDOM_WIDTH: int = 1
    #: Draws per refill of a member's random block.
    RANDOM_BLOCK: int = 256
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for key in cls.KEYS:
            if key.name in RESERVED or hasattr(Game, key.name):
                raise TypeError(f"{cls.__name__}.KEYS: key name {key.name!r} is reserved; "
                                f"game keys may not use {list(RESERVED)} or Game attributes")
        for name, values in cls.PRESETS.items():
            unknown = set(values) - {k.name for k in cls.KEYS}
            if unknown:
                raise TypeError(f"{cls.__name__}.PRESETS[{name!r}] sets undeclared keys "
                                f"{sorted(unknown)}")

    def __init__(self, preset: str | None = None, render_mode: str | None = None, *,
                 num_members: int = 1, **config):
        name = type(self).__name__
        preset = self.DEFAULT_PRESET if preset is None else preset
        if preset is not None:
            if not isinstance(preset, str) or preset not in self.PRESETS:
                hint = suggest(preset, self.PRESETS) if isinstance(preset, str) else ""
                raise ConfigError(f"{name}: unknown preset {preset!r}{hint}; expected one of "
                                  f"{list(self.PRESETS)}")
            config = {**self.PRESETS[preset], **config}
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"{name}: render_mode {render_mode!r}; expected None or one of "
                              f"{self.metadata['render_modes']}")
        if not isinstance(num_members, (int, np.integer)) or num_members < 1:
            raise ConfigError(f"{name}: num_members = {num_members!r}; expected an integer >= 1")
        self.preset = preset
        self.config = validate(self.KEYS, config, f"game ({name})")
        for key, value in self.config.items():
            setattr(self, key, value)
        self.render_mode = render_mode
        self.num_members = int(num_members)
        self.random = MemberRandom(self.num_members, self.RANDOM_WIDTH, self.RANDOM_BLOCK)
        self._all = np.ones(self.num_members, dtype=bool)
        self._started = False
        self.setup()
        for attribute in ("observation_space", "action_space"):
            if not isinstance(getattr(self, attribute, None), spaces.Space):
                raise TypeError(f"{name}.setup() must set self.{attribute} (a gymnasium space)")

    # ------------------------------------------------------------ for game authors
    def setup(self) -> None:
        """Set one member's ``observation_space``, ``action_space``; allocate ``(B, ...)`` state."""
        raise NotImplementedError

    def reset_members(self, members: np.ndarray) -> None:
        """Put the members where ``members`` (``(B,)`` bool) is True at the start of an episode."""
        raise NotImplementedError

    def step_members(self, action: np.ndarray, active: np.ndarray):
        """Advance the ``active`` members by one step.

        Returns
        -------
        reward : numpy.ndarray
            ``(B,)`` float.
        terminated : numpy.ndarray
            ``(B,)`` bool.
        """
        raise NotImplementedError

    def observe(self) -> np.ndarray:
        """Every member's observation, a new ``(B, *observation_space.shape)`` array."""
        raise NotImplementedError

    def member_info(self) -> dict:
        """Extra information per member: name -> ``(B, ...)`` array."""
        return {}

    def render_member(self, member: int) -> np.ndarray:
        """An RGB image ``(H, W, 3)`` uint8 of one member."""
        raise NotImplementedError

    # ------------------------------------------------------------ configuration
    @classmethod
    def schema(cls) -> list:
        """Every declared key as a plain dict (as for parts)."""
        return [key.describe() for key in cls.KEYS]

    def get_config(self) -> dict:
        """The validated config (every key, defaults and preset filled in)."""
        return dict(self.config)

    @classmethod
    def vector(cls, num_envs: int = 1, **kwargs) -> "GameVectorEnv":
        """The natively batched vector env of ``num_envs`` members (see :class:`GameVectorEnv`)."""
        return GameVectorEnv(cls, num_envs=num_envs, **kwargs)

    # ------------------------------------------------------------ batched core
    def check_actions(self, actions, active: np.ndarray | None = None) -> np.ndarray:
        """``actions`` as a ``(B, ...)`` array in the action space, or a ValueError.

        Only ``active`` members' actions are checked (the others are ignored,
        e.g. members that autoreset this step).
        """
        return check_batch_actions(self.action_space, actions, self.num_members,
                                   f"{type(self).__name__}.step",
                                   self._all if active is None else active)

    # ------------------------------------------------------------ gymnasium.Env (B = 1)
    def _single(self, method: str) -> None:
        if self.num_members != 1:
            raise RuntimeError(f"{type(self).__name__}.{method}: this object holds "
                               f"{self.num_members} members; use {type(self).__name__}.vector(...) "
                               "(a gymnasium VectorEnv) to step them")

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode (``gymnasium.Env.reset``; one member only).

        Parameters
        ----------
        seed : int, optional
            Seeds ``self.np_random``, the member's only source of randomness.
        options : dict, optional
            Unused.

        Returns
        -------
        observation : numpy.ndarray
        info : dict
            ``member_info()`` of the member, as scalars or arrays.
        """
        self._single("reset")
        super().reset(seed=seed)
        if self.random.generators[0] is not self.np_random:
            self.random.seed_member(0, self.np_random)
        self.reset_members(self._all)
        self._started = True
        return self.observe()[0], self._single_info()

    def step(self, action):
        """Advance the single member by one action (``gymnasium.Env.step``).

        Returns
        -------
        tuple
            ``(observation, reward, terminated, truncated, info)``; ``truncated`` is
            always False here (a ``TimeLimit`` wrapper or ``max_episode_steps`` adds it).

        Raises
        ------
        ValueError
            When ``action`` is not in ``action_space``.
        """
        self._single("step")
        if not self._started:
            raise RuntimeError(f"{type(self).__name__}.step: call reset() before step()")
        batch = self._single_action(action)
        reward, terminated = self.step_members(batch, self._all)
        return (self.observe()[0], float(reward[0]), bool(terminated[0]), False,
                self._single_info())

    def render(self):
        """The single member's RGB image with ``render_mode='rgb_array'``, else None."""
        if self.render_mode != "rgb_array":
            return None
        self._single("render")
        return self.render_member(0)

    def _single_info(self) -> dict:
        out = {}
        for key, value in self.member_info().items():
            value = np.asarray(value)[0]
            out[key] = value.item() if value.ndim == 0 else value.copy()
        return out

    def _single_action(self, action) -> np.ndarray:
        space = self.action_space
        where = f"{type(self).__name__}.step"
        try:
            arr = np.asarray(action)
        except Exception:  # noqa: BLE001 - anything numpy cannot read is a bad action
            arr = np.asarray(None, dtype=object)
        shape = space.shape or ()
        if isinstance(space, spaces.Discrete):
            ok_shape = arr.shape in ((), (1,))
        else:
            ok_shape = arr.shape == shape or (arr.shape == () and shape == (1,))
        if not ok_shape:
            raise ValueError(f"{where}: action {action!r} is not in {space}; expected "
                             f"{_expected_text(space)} (shape {shape})")
        return check_batch_actions(space, arr.reshape((1, *shape)), 1, where, self._all,
                                   shown=action)


class GameVectorEnv(gym.vector.VectorEnv):
    r"""``B`` members of a :class:`Game` stepped in lockstep as one array operation.

    Follows gymnasium's ``NEXT_STEP`` autoreset: the step after a member's
    episode ends resets that member (its action is ignored, its reward is 0 and
    it is neither terminated nor truncated), while the others step normally.

    Seeds: ``reset(seed=s)`` seeds member ``b`` with ``s + b`` (a list gives one
    seed per member), so member ``b`` reproduces a solo game reset with ``s + b``.

    Parameters
    ----------
    game : type
        A :class:`Game` subclass.
    num_envs : int
        Members ``B``.
    max_episode_steps : int, optional
        Truncate a member's episode after this many steps (the per-member
        :class:`gymnasium.wrappers.TimeLimit`).
    render_mode : {None, 'rgb_array'}
        ``render()`` returns a tuple of ``B`` images.
    preset, **config
        As for the game.
    """

    def __init__(self, game: type, num_envs: int = 1, *, max_episode_steps: int | None = None,
                 render_mode: str | None = None, preset: str | None = None, **config):
        if not (isinstance(game, type) and issubclass(game, Game)):
            raise TypeError(f"GameVectorEnv: game must be a Game subclass, got {game!r}")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, (int, np.integer))
                                              or max_episode_steps < 1):
            raise ConfigError(f"{game.__name__}: max_episode_steps = {max_episode_steps!r}; "
                              "expected None or an integer >= 1")
        self.game = game(preset=preset, render_mode=render_mode, num_members=num_envs, **config)
        self.num_envs = self.game.num_members
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = self.game.observation_space
        self.single_action_space = self.game.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {**game.metadata, "autoreset_mode": AutoresetMode.NEXT_STEP}
        self.render_mode = render_mode
        B = self.num_envs
        self._autoreset = np.zeros(B, dtype=bool)
        self._elapsed = np.zeros(B, dtype=np.int64)
        self._rewards = np.zeros(B, dtype=np.float64)
        self._terminated = np.zeros(B, dtype=bool)
        self._truncated = np.zeros(B, dtype=bool)
        self._seeded = False

    def _member_seeds(self, seed) -> list:
        B = self.num_envs
        if seed is None:
            return [None] * B
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + b for b in range(B)]
        seeds = list(seed)
        if len(seeds) != B:
            raise ValueError(f"{type(self.game).__name__}.reset: {len(seeds)} seeds for {B} "
                             "members; expected one seed per member (or one int)")
        return seeds

    def reset(self, *, seed=None, options: dict | None = None):
        """Reset every member, or those of ``options['reset_mask']``.

        Parameters
        ----------
        seed : int or list of int, optional
            An int seeds member ``b`` with ``seed + b``; a list gives each member's
            seed. Members without a seed keep their generator (a first reset without
            seed draws fresh entropy).
        options : dict, optional
            ``{'reset_mask': (B,) bool}`` resets only those members.

        Returns
        -------
        observations : numpy.ndarray
            ``(B, ...)``.
        infos : dict
            Each ``member_info()`` entry as ``(B, ...)`` plus its ``_name`` mask.
        """
        B = self.num_envs
        mask = np.ones(B, dtype=bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool).reshape(-1)
            if mask.shape != (B,):
                raise ValueError(f"reset_mask has shape {mask.shape}; expected ({B},)")
        for b, member_seed in enumerate(self._member_seeds(seed)):
            if not mask[b]:
                continue
            if member_seed is not None or self.game.random.generators[b] is None:
                self.game.random.seed_member(b, seeding.np_random(member_seed)[0])
        self.game.reset_members(mask)
        self.game._started = True
        self._elapsed[mask] = 0
        self._autoreset[mask] = False
        return self.game.observe(), self._infos()

    def step(self, actions):
        """Step every member at once, with ``NEXT_STEP`` autoreset.

        Members whose episode ended on the previous step are reset instead; their
        action is ignored and they report reward 0, not terminated, not truncated.

        Returns
        -------
        tuple
            ``(observations, rewards, terminated, truncated, infos)``, each ``(B, ...)``.
        """
        game = self.game
        if not game._started:
            raise RuntimeError(f"{type(game).__name__}: call reset() before step()")
        if self.num_envs == 1:
            return self._step_one(actions)
        resetting = self._autoreset
        active = ~resetting
        actions = game.check_actions(actions, active)
        reward, terminated = game.step_members(actions, active)
        self._elapsed += active
        if np.count_nonzero(resetting):  # cheaper than .any() on a few members
            game.reset_members(resetting)
            self._elapsed[resetting] = 0
        np.multiply(reward, active, out=self._rewards)
        np.logical_and(terminated, active, out=self._terminated)
        if self.max_episode_steps is None:
            self._truncated[...] = False
        else:
            np.greater_equal(self._elapsed, self.max_episode_steps, out=self._truncated)
            self._truncated &= active
        self._autoreset = self._terminated | self._truncated
        return (game.observe(), self._rewards.copy(), self._terminated.copy(),
                self._truncated.copy(), self._infos())

    def _step_one(self, actions):
        """:meth:`step` of a single member, its bookkeeping in Python scalars.

        The same results as the array code (a closed loop at ``B = 1`` otherwise
        spends more time in numpy's per-call overhead than in the game).
        """
        game = self.game
        resetting = bool(self._autoreset[0])
        active = ~self._autoreset
        actions = game.check_actions(actions, active)
        reward, terminated = game.step_members(actions, active)
        if resetting:
            game.reset_members(self._autoreset)
            self._elapsed[0] = elapsed = 0
        else:
            self._elapsed[0] = elapsed = int(self._elapsed[0]) + 1
        # reward * active and terminated & active, as np.multiply / np.logical_and do
        self._rewards[0] = reward[0] * (0.0 if resetting else 1.0)
        done = bool(terminated[0]) and not resetting
        cut = (self.max_episode_steps is not None and elapsed >= self.max_episode_steps
               and not resetting)
        self._terminated[0], self._truncated[0] = done, cut
        self._autoreset = np.array([done or cut])
        return (game.observe(), self._rewards.copy(), self._terminated.copy(),
                self._truncated.copy(), self._infos())

    def _infos(self) -> dict:
        out = {}
        for key, value in self.game.member_info().items():
            out[key] = np.array(value, copy=True)
            out[f"_{key}"] = np.ones(self.num_envs, dtype=bool)
        return out

    def render(self):
        """A tuple of ``B`` RGB images with ``render_mode='rgb_array'``, else None."""
        if self.render_mode != "rgb_array":
            return None
        return tuple(self.game.render_member(b) for b in range(self.num_envs))

    def get_config(self) -> dict:
        """The game's validated config (every key, preset applied)."""
        return self.game.get_config()

    def __repr__(self):
        return f"GameVectorEnv({type(self.game).__name__}, num_envs={self.num_envs})"


# ---------------------------------------------------------------- action checks
_UNSET = object()


def _expected_text(space) -> str:
    if isinstance(space, spaces.Discrete):
        return f"an integer in [{space.start}, {space.start + space.n - 1}]"
    if isinstance(space, spaces.Box):
        low, high = np.unique(space.low), np.unique(space.high)
        lo = low[0] if low.size == 1 else space.low.tolist()
        hi = high[0] if high.size == 1 else space.high.tolist()
        return f"finite values in [{lo}, {hi}]"
    if isinstance(space, spaces.MultiBinary):
        return "values 0 or 1"
    return f"a member of {space}"


def check_batch_actions(space, actions, batch_size: int, where: str, active: np.ndarray,
                        shown: Any = _UNSET) -> np.ndarray:
    """Check a batch of actions against one member's ``space``; return them as an array.

    Parameters
    ----------
    space : gymnasium.spaces.Space
        One member's action space.
    actions : array-like
        ``(B, *space.shape)`` (``(B,)`` or ``(B, 1)`` for ``Discrete``).
    batch_size : int
    where : str
        Name used in error messages.
    active : numpy.ndarray
        ``(B,)`` bool: members whose action must be valid.

    Raises
    ------
    ValueError
        Naming the member, its action and what was expected.
    """
    B = batch_size
    shape = space.shape or ()
    try:
        arr = np.asarray(actions)
    except Exception:  # noqa: BLE001
        arr = np.asarray(None, dtype=object)

    def fail(member, detail=""):
        if shown is not _UNSET:
            value = shown
        else:
            value = np.asarray(arr[member]).tolist() if member is not None else actions
        who = "" if member is None or B == 1 else f" of member {member}"
        raise ValueError(f"{where}: action {value!r}{who} is not in {space}; expected "
                         f"{_expected_text(space)}{detail}")

    if isinstance(space, spaces.Discrete):
        if arr.shape == (B, 1):
            arr = arr.reshape(B)
        if arr.shape != (B,):
            raise ValueError(f"{where}: actions have shape {arr.shape}; expected ({B},), one "
                             f"integer per member for {space}")
        if arr.dtype.kind not in "biuf":
            fail(0 if B == 1 else None)
        low, high = space.start, space.start + space.n - 1
        if arr.dtype.kind in "iu":  # integers (the usual case): the same result, fewer passes
            if B == 1:  # Python scalars: numpy's per-call overhead is most of a tiny check
                if not active[0]:
                    return np.full(1, space.start, dtype=np.int64)
                if not low <= arr[0] <= high:
                    fail(0)
                return arr.astype(np.int64)
            bad = (arr < low) | (arr > high)
            bad &= active
            if np.count_nonzero(bad):
                fail(int(np.argmax(bad)))
            as_int = arr.astype(np.int64)
            as_int[~active] = space.start  # ignored members get a harmless valid action
            return as_int
        with np.errstate(invalid="ignore"):
            bad = (arr < low) | (arr > high)
            if arr.dtype.kind == "f":
                bad |= ~np.isfinite(arr) | (np.floor(arr) != arr)
        as_int = np.where(bad, low, arr).astype(np.int64)
        bad &= active
        if bad.any():
            fail(int(np.argmax(bad)))
        as_int[~active] = space.start  # ignored members get a harmless valid action
        return as_int
    if isinstance(space, spaces.Box):
        if arr.shape == (B,) and shape == (1,):
            arr = arr.reshape(B, 1)
        if arr.shape != (B, *shape):
            raise ValueError(f"{where}: actions have shape {arr.shape}; expected {(B, *shape)} "
                             f"for {space}")
        if arr.dtype.kind not in "biuf":
            fail(0 if B == 1 else None)
        axes = tuple(range(1, arr.ndim))
        bad = ~np.all(np.isfinite(arr) & (arr >= space.low) & (arr <= space.high), axis=axes)
        bad &= active
        if bad.any():
            fail(int(np.argmax(bad)))
        out = arr.astype(space.dtype, copy=True)
        if not active.all():  # ignored members get a harmless valid action
            out[~active] = np.clip(0, space.low, space.high).astype(space.dtype)
        return out
    if isinstance(space, spaces.MultiBinary):
        if arr.shape != (B, *shape):
            raise ValueError(f"{where}: actions have shape {arr.shape}; expected {(B, *shape)} "
                             f"for {space}")
        bad = ~np.all((arr == 0) | (arr == 1), axis=tuple(range(1, arr.ndim))) & active
        if bad.any():
            fail(int(np.argmax(bad)))
        return arr.astype(space.dtype)
    if len(arr) != B:
        raise ValueError(f"{where}: {len(arr)} actions; expected one per member ({B})")
    for b in np.flatnonzero(active):
        if not space.contains(arr[b]):
            fail(int(b))
    return arr


def game_class(game_id: str) -> type | None:
    """The :class:`Game` subclass registered as ``game_id``, or None for other environments."""
    from gymnasium.envs.registration import load_env_creator

    entry_point = gym.spec(game_id).entry_point
    if isinstance(entry_point, str):
        try:
            entry_point = load_env_creator(entry_point)
        except (ImportError, AttributeError):
            return None
    return entry_point if isinstance(entry_point, type) and issubclass(entry_point, Game) else None


def check_game_config(game_id: str, kwargs: dict | None = None) -> dict | None:
    """Validate a Spikey game's keyword arguments before anything runs.

    Returns
    -------
    dict or None
        The game's complete config (registered kwargs, preset and ``kwargs``
        applied), or None when ``game_id`` is not a :class:`Game`.

    Raises
    ------
    ConfigError
        Unknown preset or key, wrong type or out-of-range value.
    """
    cls = game_class(game_id)
    if cls is None:
        return None
    given = {**gym.spec(game_id).kwargs, **(kwargs or {})}
    given.pop("render_mode", None)
    return cls(**given).get_config()


def register_game(id: str, game: type, max_episode_steps: int | None = None, **kwargs) -> None:
    """Register ``game`` under ``id`` for ``gymnasium.make`` and ``gymnasium.make_vec``.

    ``make_vec(id, num_envs=B)`` builds the natively batched :class:`GameVectorEnv`
    (``vectorization_mode="sync"`` still gives a ``SyncVectorEnv`` of solo games).
    ``kwargs`` (e.g. ``preset=...``) are passed to the game.
    """
    if id in gym.registry:
        return
    gym.register(id=id, entry_point=f"{game.__module__}:{game.__qualname__}",
                 vector_entry_point=functools.partial(GameVectorEnv, game),
                 max_episode_steps=max_episode_steps, kwargs=kwargs)
