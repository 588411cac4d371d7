r"""Classification as a game: show labelled samples, reward the right class.

Each member is shown one sample of a dataset split (``observation``: its
features, e.g. pixel intensities in :math:`[0, 1]`) for ``steps_per_sample``
game steps; every step the agent names a class :math:`y` (``Discrete(n_classes)``)
and gets

.. math:: r = \begin{cases} r_{correct} & y = \ell \\ r_{wrong} & \text{otherwise} \end{cases}

for the label :math:`\ell` of the sample it was shown. ``info['label']`` (and
``info['expected']``, the same, for rewarders such as ``MatchExpected``) holds
:math:`\ell` of the sample being shown, ``info['index']`` its row in the split.
Samples follow ``order``: ``'random'`` (uniform with replacement, one uniform per
member per sample) or ``'sequential'`` (rows 0, 1, 2, ... of the split, wrapping
around: ``n_presentations = len(split)`` visits every sample once). An episode
lasts ``n_presentations`` samples (then ``terminated``). Only the named ``split``
is ever shown, so a game on ``'train'`` never sees validation or test samples.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from spikey.core.params import ConfigError, Key
from spikey.games.template import Game

_CACHE: dict = {}


def load_split(dataset: str, split: str, data_folder=None, n_samples=None):
    """The ``(x, y)`` arrays a `Classification` game shows (read-only, cached per process).

    Parameters
    ----------
    dataset : {'digits', 'mnist', 'fashion_mnist'}
        Which dataset of :mod:`spikey.datasets`.
    split : {'train', 'validation', 'test'}
        Which of its fixed splits.
    data_folder : str, optional
        Folder of the IDX files (MNIST and Fashion-MNIST only).
    n_samples : int, optional
        Keep only the first ``n_samples`` rows (quick runs).

    Returns
    -------
    tuple
        ``(x, y, image_shape, n_classes)``.
    """
    key = (dataset, data_folder)
    if key not in _CACHE:
        from spikey import datasets
        if dataset == "digits":
            if data_folder is not None:
                raise ConfigError(f"game (Classification): data_folder = {data_folder!r} is given "
                                  "but dataset 'digits' ships with scikit-learn; drop data_folder")
            ds = datasets.load_digits()
        else:
            ds = datasets.load_idx_dataset(dataset, data_folder)
        for name in ("train", "validation", "test"):
            for array in (ds.split(name).x, ds.split(name).y):
                array.flags.writeable = False
        _CACHE[key] = ds
    ds = _CACHE[key]
    part = ds.split(split)
    x, y = part.x, part.y
    if n_samples is not None:
        if n_samples > len(y):
            raise ConfigError(f"game (Classification): n_samples = {n_samples} but the {dataset} "
                              f"{split} split holds {len(y)} samples")
        x, y = x[:n_samples], y[:n_samples]
    return x, y, ds.image_shape, ds.n_classes


class Classification(Game):
    """Name the class of each sample shown; reward for the right one.

    Parameters
    ----------
    preset : str, optional
        ``'digits'`` (the default): sklearn's 8x8 digits.
    **config
        Keys of :attr:`KEYS`.

    Examples
    --------
    >>> env = Classification(split="validation", n_presentations=5)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, 0 <= info["label"] <= 9
    ((64,), True)
    >>> obs, reward, terminated, truncated, info = env.step(info["label"])
    >>> reward
    1.0
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}
    KEYS = (
        Key("dataset", "str", "Dataset of spikey.datasets.", "digits",
            choices=("digits", "mnist", "fashion_mnist")),
        Key("data_folder", "str", "Folder of the IDX files (mnist, fashion_mnist).", None,
            nullable=True),
        Key("split", "str", "Split the game shows; select on 'validation', report on 'test'.",
            "train", choices=("train", "validation", "test")),
        Key("n_samples", "int", "Use only the first n samples of the split (None: all).", None,
            nullable=True, range=(1, None)),
        Key("n_presentations", "int", "Samples per episode.", 100, range=(1, None)),
        Key("steps_per_sample", "int", "Game steps each sample stays shown (one answer and "
            "reward each).", 1, range=(1, None)),
        Key("order", "str", "Sample order: uniform with replacement, or the split's rows in "
            "order.", "random", choices=("random", "sequential")),
        Key("reward_correct", "float", "Reward for naming the right class.", 1.0),
        Key("reward_wrong", "float", "Reward for a wrong class.", 0.0),
    )
    PRESETS = {"digits": {"dataset": "digits"}}
    DEFAULT_PRESET = "digits"
    RANDOM_WIDTH = 1

    def setup(self):
        """Load the split; spaces (features in, a class out); ``(B,)`` counters."""
        self.x, self.y, self.image_shape, self.n_classes = load_split(
            self.dataset, self.split, self.data_folder, self.n_samples)
        low, high = (0.0, 1.0)
        self.observation_space = spaces.Box(low, high, shape=(self.x.shape[1],), dtype=np.float64)
        self.action_space = spaces.Discrete(self.n_classes)
        B = self.num_members
        self.index = np.zeros(B, dtype=np.int64)
        self.count = np.zeros(B, dtype=np.int64)
        self.shown = np.zeros(B, dtype=np.int64)
        self.last_action = np.full(B, -1, dtype=np.int64)

    def _next_sample(self, members):
        if self.order == "sequential":
            np.copyto(self.index, self.count % len(self.y), where=members)
        else:
            u = self.random.uniform(members)[:, 0]
            np.copyto(self.index, np.minimum((u * len(self.y)).astype(np.int64), len(self.y) - 1),
                      where=members)

    def reset_members(self, members):
        """Restart the masked members' episodes and show each a first sample."""
        self.count[members] = 0
        self.shown[members] = 0
        self.last_action[members] = -1
        self._next_sample(members)

    def step_members(self, action, active):
        """Score the active members' answers; move on after ``steps_per_sample`` steps.

        Returns
        -------
        reward : numpy.ndarray
            ``(B,)``: ``reward_correct`` or ``reward_wrong``.
        terminated : numpy.ndarray
            ``(B,)`` bool: ``n_presentations`` samples shown for their steps.
        """
        correct = action == self.y[self.index]
        reward = np.where(correct, self.reward_correct, self.reward_wrong)
        np.copyto(self.last_action, action, where=active)
        self.shown += active
        done_sample = active & (self.shown >= self.steps_per_sample)
        self.shown[done_sample] = 0
        self.count += done_sample
        terminated = self.count >= self.n_presentations
        self._next_sample(done_sample & ~terminated)
        return reward, terminated

    def observe(self):
        """The sample shown to each member, ``(B, n_features)`` float64."""
        return self.x[self.index].astype(np.float64)  # float32 MNIST too

    def member_info(self):
        """``{'label', 'expected', 'index'}``, each ``(B,)``: the shown sample's class and row."""
        label = self.y[self.index]
        return {"label": label.copy(), "expected": label.copy(), "index": self.index.copy()}

    def render_member(self, member):
        """The image shown (white ink on black, 8 screen pixels a pixel) and, to its right,
        the last answer's class as a bar: green when right, red when wrong."""
        h, w = self.image_shape if np.prod(self.image_shape) == self.x.shape[1] else (1, self.x.shape[1])
        scale = max(1, 96 // max(h, w))
        pixels = (self.x[self.index[member]].reshape(h, w) * 255).astype(np.uint8)
        big = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
        image = np.full((big.shape[0] + 20, big.shape[1] + 40, 3), 255, dtype=np.uint8)
        image[10:10 + big.shape[0], 10:10 + big.shape[1]] = big[..., None]
        answer = self.last_action[member]
        if answer >= 0:
            right = answer == self.y[self.index[member]]
            top = 10 + int(big.shape[0] * answer / self.n_classes)
            bottom = 10 + int(big.shape[0] * (answer + 1) / self.n_classes)
            image[top:bottom, big.shape[1] + 15:big.shape[1] + 35] = \
                (40, 160, 40) if right else (200, 60, 60)
        return image
