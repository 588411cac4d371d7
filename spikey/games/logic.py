r"""Logic gates as a game: AND, OR, XOR, NAND.

Each step shows one pattern of two bits :math:`(a, b)`; the agent answers
:math:`y \in \{0, 1\}` and gets

.. math:: r = \begin{cases} r_{correct} & y = g(a, b) \\ r_{wrong} & \text{otherwise} \end{cases}

where :math:`g` is the gate. The next pattern is drawn uniformly from the four
(``order='random'``, one uniform per member per step) or cycles 00, 01, 10, 11
(``order='cycle'``). ``info['expected']`` always holds :math:`g` of the
pattern being shown, so rewarders can score answers themselves. An episode
lasts ``n_presentations`` patterns (then ``terminated``).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from spikey.core.params import Key
from spikey.games.template import Game

GATES = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "XOR": lambda a, b: a ^ b,
    "NAND": lambda a, b: 1 - (a & b),
}

#: The four patterns, index 2a + b -> (a, b).
PATTERNS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int8)


class Logic(Game):
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
    >>> games = Logic.vector(num_envs=4, preset="AND")
    >>> obs, info = games.reset(seed=0)
    >>> obs.shape, info["expected"].shape
    ((4, 2), (4,))
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
    RANDOM_WIDTH = 1

    def setup(self):
        """Spaces (two bits in, a bit out), the gate's truth table and ``(B,)`` counters."""
        self.observation_space = spaces.MultiBinary(2)
        self.action_space = spaces.Discrete(2)
        B = self.num_members
        gate = GATES[self.gate]
        self.truth = np.array([gate(int(a), int(b)) for a, b in PATTERNS], dtype=np.int64)
        self.pattern = np.zeros(B, dtype=np.int64)
        self.count = np.zeros(B, dtype=np.int64)
        self.last_action = np.full(B, -1, dtype=np.int64)

    def _next_pattern(self, members):
        if self.order == "cycle":
            np.copyto(self.pattern, self.count % 4, where=members)
        else:
            u = self.random.uniform(members)[:, 0]
            np.copyto(self.pattern, (u * 4).astype(np.int64), where=members)

    def reset_members(self, members):
        """Restart the masked members' episodes and show each a first pattern."""
        self.count[members] = 0
        self.last_action[members] = -1
        self._next_pattern(members)

    def step_members(self, action, active):
        """Score the active members' answers, then show them the next pattern.

        Returns
        -------
        reward : numpy.ndarray
            ``(B,)``: ``reward_correct`` or ``reward_wrong``.
        terminated : numpy.ndarray
            ``(B,)`` bool: ``n_presentations`` patterns answered.
        """
        correct = action == self.truth[self.pattern]
        reward = np.where(correct, self.reward_correct, self.reward_wrong)
        np.copyto(self.last_action, action, where=active)
        self.count += active
        terminated = self.count >= self.n_presentations
        self._next_pattern(active)
        return reward, terminated

    def observe(self):
        """The pattern shown to each member, ``(B, 2)`` int8 bits."""
        return PATTERNS[self.pattern]

    def member_info(self):
        """``{'expected': (B,)}``: the gate's output for the pattern shown."""
        return {"expected": self.truth[self.pattern]}

    def render_member(self, member):
        """The two input bits (dark: 1) and the last answer (green: 1, red: 0) as an image."""
        image = np.full((60, 150, 3), 255, dtype=np.uint8)
        for i, bit in enumerate(PATTERNS[self.pattern[member]]):
            image[15:45, 10 + 40 * i:40 + 40 * i] = (20, 20, 20) if bit else (220, 220, 220)
        answer = self.last_action[member]
        if answer >= 0:
            image[15:45, 110:140] = (40, 160, 40) if answer else (200, 60, 60)
        return image
