r"""Any gymnasium environment as a game: encoders and decoders from its spaces.

:class:`EnvAdapter` reads an environment's observation and action spaces and
builds the network config sections that fit them, plus the two conversions a
runner needs each step (observations in, actions out).

Observations (``inputs``):

====================================  ==============================================================
space                                 input part
====================================  ==============================================================
``Box``, ``coding='population'``      :class:`~spikey.snn.input.Population`: ``n_per_dim`` Gaussian
                                      receptive fields over each value's bounds
``Box``, ``coding='rate'``            :class:`~spikey.snn.input.BoundedRate`: a rate linear in the
                                      value between its bounds
``Discrete(n, start)``                :class:`~spikey.snn.input.OneHot`: the observed value's group
                                      fires
``MultiBinary(n)``                    :class:`~spikey.snn.input.RateMap` with rates
                                      ``[0, max_rate]``
====================================  ==============================================================

Actions (``readout``):

====================================  ==============================================================
space                                 readout part
====================================  ==============================================================
``Discrete``, ``decoding='top'``      :class:`~spikey.snn.readout.TopAction` (the busiest group)
``Discrete``, ``decoding='vector'``   :class:`~spikey.snn.readout.PopulationIndex` (rate-weighted
                                      mean index, for ordered actions)
``Box``                               :class:`~spikey.snn.readout.ContinuousVector` (population
                                      vector over each value's bounds)
====================================  ==============================================================

Infinite bounds. A ``Box`` bound that is infinite, or whose magnitude is at
least ``unbounded`` (gymnasium often writes float32's largest number for "no
bound", e.g. CartPole-v1's velocities), is replaced using a scale :math:`s`
(``scale``: one number, or one per value, default 1):

.. math:: [-\infty, \infty] \to [-s, s], \qquad [l, \infty] \to [l, l + 2s],
    \qquad [-\infty, h] \to [h - 2s, h].

Encoders clip observations to these bounds, so values beyond them read as the
nearest bound; give a larger ``scale`` for values that range wider.

Rewards: the default network config's rewarder is
:class:`~spikey.snn.reward.RewardPredictionError` with ``source='game'``, so the
environment's own reward reaches the synapses through
:func:`spikey.games.run.run_episode`; give another rewarder (or a
``reward_fn`` to the runner) to override it.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from spikey.core.params import ConfigError, Key, validate

ADAPTER_KEYS = (
    Key("coding", "str", "Encoder of Box observations: Gaussian receptive fields or a rate "
        "linear in the value.", "population", choices=("population", "rate")),
    Key("decoding", "str", "Decoder of Discrete actions: the busiest output group, or the "
        "rate-weighted mean index (ordered actions).", "top", choices=("top", "vector")),
    Key("n_per_dim", "int", "Input neurons per observation value (per discrete value for "
        "Discrete observations).", 10, range=(1, None)),
    Key("n_per_action", "int", "Output neurons per discrete action or per continuous action "
        "value.", 10, range=(1, None)),
    Key("max_rate", "float", "Largest input rate (Hz).", 100.0, range=(0, None)),
    Key("scale", ("float", "list"), "Half-width s replacing infinite Box bounds (one number, or "
        "one per value; see the module docstring).", 1.0),
    Key("unbounded", "float", "A Box bound of at least this magnitude counts as infinite.",
        1e6, range=(0, None), finite=False),  # inf: only infinite bounds count
)


def finite_bounds(space: spaces.Box, scale=1.0, unbounded: float = 1e6):
    """Flat ``(low, high)`` of a Box with infinite bounds replaced (see the module docstring).

    Parameters
    ----------
    space : gymnasium.spaces.Box
    scale : float or sequence of float
        Half-width :math:`s` per value (one number for all).
    unbounded : float
        Magnitude from which a bound counts as infinite.

    Returns
    -------
    low, high : numpy.ndarray
        Float64 arrays of ``space``'s flattened size.

    Examples
    --------
    >>> low, high = finite_bounds(spaces.Box(-np.inf, np.inf, (2,)), scale=[1.0, 5.0])
    >>> low.tolist(), high.tolist()
    ([-1.0, -5.0], [1.0, 5.0])
    """
    low = np.asarray(space.low, dtype=np.float64).reshape(-1).copy()
    high = np.asarray(space.high, dtype=np.float64).reshape(-1).copy()
    try:
        s = np.broadcast_to(np.asarray(scale, dtype=np.float64), low.shape)
    except ValueError:
        raise ConfigError(f"adapter.scale = {scale!r}; expected one number or {low.size} "
                          f"(one per value of {space})") from None
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ConfigError(f"adapter.scale = {scale!r}; expected finite values > 0")
    no_low = ~np.isfinite(low) | (np.abs(low) >= unbounded)
    no_high = ~np.isfinite(high) | (np.abs(high) >= unbounded)
    both = no_low & no_high
    low = np.where(both, -s, np.where(no_low, high - 2 * s, low))
    high = np.where(both, s, np.where(no_high, low + 2 * s, high))
    return low, high


def _spaces_of(env):
    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    if isinstance(env, gym.Env):
        return env.observation_space, env.action_space
    raise TypeError(f"expected a gymnasium Env or VectorEnv, got {type(env).__name__}")


class EnvAdapter:
    """Encoder, decoder and network sections for one gymnasium environment's spaces.

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv, optional
        Read its (single) observation and action spaces; or give them directly.
    observation_space, action_space : gymnasium.spaces.Space, optional
    **options
        Keys of :data:`ADAPTER_KEYS` (``coding``, ``decoding``, ``n_per_dim``,
        ``n_per_action``, ``max_rate``, ``scale``, ``unbounded``).

    Examples
    --------
    >>> import gymnasium
    >>> adapter = EnvAdapter(gymnasium.make("MountainCar-v0"), decoding="vector")
    >>> adapter.inputs["part"], adapter.readout["part"], adapter.readout["config"]["n_actions"]
    ('Population', 'PopulationIndex', 3)
    >>> net = spikey.Network.from_config(adapter.network_config(batch_size=4))  # doctest: +SKIP
    """

    def __init__(self, env=None, *, observation_space=None, action_space=None, **options):
        if env is not None:
            observation_space, action_space = _spaces_of(env)
        if not isinstance(observation_space, spaces.Space) or not isinstance(action_space,
                                                                             spaces.Space):
            raise TypeError("EnvAdapter needs an env, or both observation_space and action_space")
        self.options = validate(ADAPTER_KEYS, options, "adapter")
        self.observation_space, self.action_space = observation_space, action_space
        self.inputs = self._encoder()
        self.readout = self._decoder()
        self._flat_shapes = {}  # batch size -> an observation batch's shape passed as it is
        # a Discrete action space (the actions' fast path) and its start
        self._discrete_space = action_space if type(action_space) is spaces.Discrete else None
        self._start = int(action_space.start) if self._discrete_space is not None else 0

    # ------------------------------------------------------------ sections
    def _encoder(self) -> dict:
        space, o = self.observation_space, self.options
        if isinstance(space, spaces.Box):
            low, high = finite_bounds(space, o["scale"], o["unbounded"])
            config = {"n_dims": int(low.size), "n_per_dim": o["n_per_dim"], "low": low.tolist(),
                      "high": high.tolist(), "max_rate": o["max_rate"]}
            if o["coding"] == "population":
                if o["n_per_dim"] < 2:
                    raise ConfigError("adapter.n_per_dim = 1; population coding needs >= 2 "
                                      "receptive fields per value")
                return {"part": "Population", "config": config}
            return {"part": "BoundedRate", "config": config}
        if isinstance(space, spaces.Discrete):
            return {"part": "OneHot", "config": {
                "n_values": int(space.n), "start": int(space.start),
                "n_per_value": o["n_per_dim"], "rate": o["max_rate"]}}
        if isinstance(space, spaces.MultiBinary):
            n = int(np.prod(space.shape))
            return {"part": "RateMap", "config": {"n_inputs": n * o["n_per_dim"], "n_dims": n,
                                                  "rate_map": [0.0, o["max_rate"]]}}
        raise ConfigError(f"adapter: observation space {space} is not supported; expected Box, "
                          "Discrete or MultiBinary")

    def _decoder(self) -> dict:
        space, o = self.action_space, self.options
        k = o["n_per_action"]
        if isinstance(space, spaces.Discrete):
            part = "TopAction" if o["decoding"] == "top" else "PopulationIndex"
            return {"part": part, "config": {"n_outputs": int(space.n) * k,
                                             "n_actions": int(space.n)}}
        if isinstance(space, spaces.Box):
            low, high = finite_bounds(space, o["scale"], o["unbounded"])
            return {"part": "ContinuousVector", "config": {
                "n_outputs": int(low.size) * k, "n_dims": int(low.size),
                "low": low.tolist(), "high": high.tolist()}}
        raise ConfigError(f"adapter: action space {space} is not supported; expected Discrete or "
                          "Box")

    @property
    def n_outputs(self) -> int:
        """Output neurons the decoder reads (the readout's ``n_outputs``)."""
        return self.readout["config"]["n_outputs"]

    def network_config(self, n_hidden: int = 20, batch_size: int = 1, seed: int = 0,
                       processing_steps: int = 10, **sections) -> dict:
        """A complete network config for this environment (plain data).

        Inputs and readout come from the spaces; the body is ``n_hidden`` LIF
        neurons plus the outputs, feed-forward random weights, MSTDPET, and a
        reward-prediction-error rewarder fed by the game's reward. Each of
        ``sections`` (``neurons={...}``, ``parts={...}``, ...) updates that section
        key by key; ``None`` removes it.
        """
        n_out = self.n_outputs
        config = {
            "parts": {"inputs": self.inputs["part"], "neurons": "LIF", "weights": "Random",
                      "synapses": "MSTDPET", "readout": self.readout["part"],
                      "rewarder": "RewardPredictionError"},
            "network": {"processing_steps": processing_steps, "batch_size": batch_size,
                        "seed": seed, "dt": 1.0, "reward_mode": "tick"},
            "inputs": copy.deepcopy(self.inputs["config"]),
            "neurons": {"n_neurons": n_hidden + n_out, "tau": 20.0, "threshold": 8.0,
                        "refractory": 2.0},
            "weights": {"max_weight": 4.0, "low": 0.0, "high": 2.0, "density": 0.5,
                        "feed_forward": True},
            "synapses": {"learning_rate": 0.5, "tau_z": 100.0},
            "readout": copy.deepcopy(self.readout["config"]),
            "rewarder": {"source": "game", "baseline_rate": 0.05},
        }
        for section, value in sections.items():
            if value is None:
                config.pop(section, None)
                config["parts"].pop(section, None)
            elif isinstance(value, dict) and isinstance(config.get(section), dict):
                config[section] = {**config[section], **copy.deepcopy(value)}
            else:
                config[section] = copy.deepcopy(value)
        return config

    # ------------------------------------------------------------ per step
    def observations(self, obs, batch_size: int) -> np.ndarray:
        """A batch of observations as the network's ``(B, d)`` input (Discrete: ``(B,)``).

        Raises
        ------
        ValueError
            When the batch does not have the shape the observation space implies.
        """
        if type(obs) is np.ndarray and obs.shape == self._flat_shapes.get(batch_size):
            return obs  # already (B, d) of a Box or MultiBinary space: what reshape would view
        space = self.observation_space
        arr = np.asarray(obs)
        expected = (batch_size, *(space.shape or ()))
        if isinstance(space, spaces.Discrete) and arr.shape == (batch_size, 1):
            arr = arr.reshape(batch_size)
        if arr.shape != expected:
            raise ValueError(f"adapter: observation batch has shape {arr.shape}; expected "
                             f"{expected} ({batch_size} members of {space})")
        if isinstance(space, spaces.Discrete):
            return arr
        if arr.ndim == 2 and len(self._flat_shapes) < 8:
            self._flat_shapes[batch_size] = expected  # next time: the check above
        return arr.reshape(batch_size, -1)

    def actions(self, action, batch_size: int) -> np.ndarray:
        """The network's actions as a batch for the environment's action space."""
        space = self.action_space
        if type(action) is np.ndarray and action.ndim == 1 and action.shape[0] == batch_size \
                and space is self._discrete_space:
            out = action.astype(np.int64)  # a copy, as below
            if self._start:
                out += self._start
            return out
        arr = np.asarray(action)
        if isinstance(space, spaces.Discrete):
            out = arr.reshape(batch_size).astype(np.int64)  # a copy
            if space.start:
                out += int(space.start)
            return out
        return arr.reshape(batch_size, *space.shape).astype(space.dtype)
