"""Logic gates as a gymnasium environment: AND, OR, XOR, NAND.

Each step shows one pattern of two bits; the agent answers 0 or 1 and gets
``reward_correct`` when the answer is the gate's output, else
``reward_wrong``. ``info['expected']`` always holds the correct answer for
the pattern being shown, so rewarders can score answers themselves.
An episode lasts ``n_presentations`` patterns.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from spikey.core.params import ConfigError, Key, validate

GATES = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "XOR": lambda a, b: a ^ b,
    "NAND": lambda a, b: 1 - (a & b),
}


class Logic(gym.Env):
    """A two-input logic gate to be learned by trial and error.

    Parameters
    ----------
    preset : str, optional
        ``'AND'``, ``'OR'``, ``'XOR'`` or ``'NAND'``: sets ``gate``.
    **config
        Keys of :attr:`KEYS`.

    Examples
    --------
    >>> env = Logic(preset="XOR")
    >>> obs, info = env.reset(seed=0)
    >>> int(info["expected"]) == int(obs[0] ^ obs[1])
    True
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}
    KEYS = (
        Key("gate", "str", "Logic function to learn.", "XOR", choices=tuple(GATES)),
        Key("n_presentations", "int", "Patterns per episode.", 100, range=(1, None)),
        Key("reward_correct", "float", "Reward for a correct answer.", 1.0),
        Key("reward_wrong", "float", "Reward for a wrong answer.", 0.0),
        Key("order", "str", "Pattern order: uniformly random or cycling 00,01,10,11.", "random",
            choices=("random", "cycle")),
    )
    PRESETS = {name: {"gate": name} for name in GATES}

    def __init__(self, preset: str | None = None, render_mode: str | None = None, **config):
        if preset is not None:
            if preset not in self.PRESETS:
                raise ConfigError(f"Logic: unknown preset {preset!r}; expected one of {list(self.PRESETS)}")
            config = {**self.PRESETS[preset], **config}
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"Logic: render_mode {render_mode!r}; expected None or 'rgb_array'")
        self.config = validate(self.KEYS, config, "game (Logic)")
        self.render_mode = render_mode
        self.observation_space = spaces.MultiBinary(2)
        self.action_space = spaces.Discrete(2)
        self._gate = GATES[self.config["gate"]]
        self._state = np.zeros(2, dtype=np.int8)
        self._count = 0
        self._last_action = None

    def get_config(self) -> dict:
        return dict(self.config)

    def _next_pattern(self):
        if self.config["order"] == "cycle":
            index = self._count % 4
        else:
            index = int(self.np_random.integers(4))
        self._state = np.array([index >> 1, index & 1], dtype=np.int8)

    def _info(self):
        return {"expected": int(self._gate(int(self._state[0]), int(self._state[1])))}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._count = 0
        self._last_action = None
        self._next_pattern()
        return self._state.copy(), self._info()

    def step(self, action):
        if not self.action_space.contains(action):
            try:
                action = int(np.asarray(action).item())
            except (TypeError, ValueError):
                action = None
            if action is None or not self.action_space.contains(action):
                raise ValueError(f"Logic.step: action {action!r} is not in {self.action_space}; expected 0 or 1")
        correct = int(action) == self._info()["expected"]
        reward = self.config["reward_correct"] if correct else self.config["reward_wrong"]
        self._last_action = int(action)
        self._count += 1
        terminated = self._count >= self.config["n_presentations"]
        self._next_pattern()
        return self._state.copy(), float(reward), terminated, False, self._info()

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        image = np.full((60, 150, 3), 255, dtype=np.uint8)
        for i, bit in enumerate(self._state):
            image[15:45, 10 + 40 * i:40 + 40 * i] = (20, 20, 20) if bit else (220, 220, 220)
        if self._last_action is not None:
            image[15:45, 110:140] = (40, 160, 40) if self._last_action else (200, 60, 60)
        return image
