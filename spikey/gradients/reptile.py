r"""Meta-learning of a network's initial weights by Reptile (Nichol, Achiam & Schulman 2018,
"On First-Order Meta-Learning Algorithms", arXiv:1803.02999).

A *task* is a small labelled set (a few samples of a few classes, say); a family of tasks
shares structure (the same kind of inputs, other classes or other label assignments).
Reptile learns initial weights :math:`\theta` from which a few gradient steps solve a new
task of the family. Each meta-iteration samples a task, trains a copy of the weights on it
for :math:`k` optimizer steps (``inner_steps``, a fresh optimizer each task) from
:math:`\theta` to :math:`\phi`, and moves the initial weights toward the result:

.. math::

    \theta \leftarrow \theta + \varepsilon\,(\phi - \theta)

with :math:`\varepsilon` the ``meta_rate`` (decayed linearly to ``meta_rate_end`` over
the iterations when given). With :math:`k = 1` and SGD this is SGD on the expected task
loss with learning rate :math:`\varepsilon\eta`; with :math:`k > 1` the update also
follows the gradients' agreement between steps, which favours weights from which a task
is learned quickly. The inner loop is a :class:`~spikey.gradients.GradientTrainer`'s own
training step (BPTT or e-prop, its optimizer, dropout and noise); only trainable weights
move (``freeze`` and the mask hold the others).

``Reptile.save(path)`` writes the initial weights for ``gradient.init_weights``, so a
normal training run (or ``spikey train``) can start from them.
"""

from __future__ import annotations

import copy

import numpy as np

from spikey.core.params import ConfigError, Key, validate
from spikey.gradients.trainer import GradientTrainer, _blas_limit

#: Keys of the ``reptile`` section (:class:`Reptile`).
REPTILE_KEYS = (
    Key("meta_rate", "float", "epsilon: step of the initial weights toward each task's "
        "adapted weights (1 keeps the adapted weights).", 0.5, range=(1e-9, 1.0)),
    Key("meta_rate_end", "float", "epsilon at the last iteration, reached linearly from "
        "meta_rate (None: constant).", None, range=(0.0, 1.0), nullable=True),
    Key("inner_steps", "int", "k: optimizer steps on each task.", 5, range=(1, None)),
    Key("inner_batch_size", "int", "Samples per inner step, drawn without replacement from "
        "the task's set (None: the whole set every step).", None, range=(1, None),
        nullable=True),
    Key("iterations", "int", "Tasks sampled in meta-training.", 100, range=(1, None)),
    Key("seed", "int", "Seed of the task sampler's generator and the inner minibatches.", 0,
        range=(0, None)),
)


class Reptile:
    """Reptile meta-learning of the initial weights of a gradient-trained network.

    Parameters
    ----------
    network_config : dict
        A :meth:`spikey.snn.network.Network.from_config` config (as for
        :class:`~spikey.gradients.GradientTrainer`).
    gradient : dict, optional
        Keys of :data:`~spikey.gradients.GRADIENT_KEYS`: the inner loop's method, loss,
        optimizer and learning rate (``epochs``, ``batch_size``, ``select`` and
        ``curriculum`` are not used).
    reptile : dict, optional
        Keys of :data:`REPTILE_KEYS`.

    Attributes
    ----------
    trainer : GradientTrainer
        Holds the initial weights :math:`\\theta` (``trainer.model.weights``) between tasks.
    history : list of dict
        One row per meta-iteration: ``iteration, meta_rate, loss`` (the task's mean loss
        over the inner steps) and ``samples`` (the task's size).

    Examples
    --------
    >>> meta = Reptile(config, {"optimizer": "sgd", "learning_rate": 0.5},
    ...                {"iterations": 200, "inner_steps": 5})          # doctest: +SKIP
    >>> meta.meta_train(lambda rng: make_task(rng))                     # doctest: +SKIP
    >>> meta.adapt(x_support, y_support).accuracy(x_query, y_query)     # doctest: +SKIP
    """

    def __init__(self, network_config: dict, gradient: dict | None = None,
                 reptile: dict | None = None):
        self.config = validate(REPTILE_KEYS, reptile, "reptile")
        for name, value in self.config.items():
            setattr(self, name, value)
        self.trainer = GradientTrainer(network_config, gradient)
        self._fresh_optimizer = copy.deepcopy(self.trainer.optimizer)
        self.rng = np.random.default_rng([self.seed, 7])
        self.history = []

    @property
    def weights(self) -> np.ndarray:
        """The initial weights :math:`\\theta` learned so far, ``(n_inputs + N, N)``."""
        return self.trainer.model.weights

    def _task(self, sample_task, where: str) -> tuple:
        task = sample_task(self.rng)
        if not (isinstance(task, tuple) and len(task) == 2):
            raise ConfigError(f"{where} returned {type(task).__name__}; expected a tuple (x, y) "
                              "of a task's samples and labels")
        x, y = task
        y = np.asarray(y)
        if len(x) != len(y) or len(y) == 0:
            raise ConfigError(f"{where} returned {len(x)} samples and {len(y)} labels; "
                              "expected the same number, at least 1")
        return x, y

    def _inner(self, trainer: GradientTrainer, trains, y, steps: int, rng) -> float:
        """``steps`` optimizer steps of ``trainer`` on a task (minibatch order from ``rng``);
        returns their mean loss."""
        n = len(y)
        batch = n if self.inner_batch_size is None else min(self.inner_batch_size, n)
        order, at, losses = rng.permutation(n), 0, []
        for _ in range(steps):
            if at + batch > n:
                order, at = rng.permutation(n), 0
            idx = order[at:at + batch]
            at += batch
            losses.append(trainer.train_step(trains[idx], y[idx]))
        return float(np.mean(losses))

    def meta_rate_at(self, iteration: int) -> float:
        """:math:`\\varepsilon` of meta-iteration ``iteration`` (0-based)."""
        if self.meta_rate_end is None or self.iterations == 1:
            return float(self.meta_rate)
        frac = min(iteration / (self.iterations - 1), 1.0)
        return float(self.meta_rate + (self.meta_rate_end - self.meta_rate) * frac)

    def meta_train(self, sample_task, iterations: int | None = None, callback=None) -> list:
        """Run meta-iterations: sample a task, adapt to it, move the initial weights.

        Parameters
        ----------
        sample_task : callable
            ``sample_task(rng) -> (x, y)``: a task's samples (observations ``(n, ...)`` or
            spike trains ``(n, T, n_inputs)``) and labels, drawn with the numpy Generator
            ``rng`` (seeded by ``reptile.seed``).
        iterations : int, optional
            Meta-iterations to run now (default: the ``iterations`` key); a later call
            continues the meta-rate schedule where this one stopped.
        callback : callable, optional
            Called with each iteration's history row.

        Returns
        -------
        list of dict
            :attr:`history`.
        """
        if not callable(sample_task):
            raise ConfigError(f"sample_task = {sample_task!r}; expected a callable "
                              "sample_task(rng) -> (x, y)")
        count = self.iterations if iterations is None else iterations
        if not (isinstance(count, (int, np.integer)) and count >= 1):
            raise ConfigError(f"iterations = {count!r}; expected an integer >= 1")
        trainer, model = self.trainer, self.trainer.model
        with _blas_limit(trainer.blas_threads):
            for _ in range(int(count)):
                i = len(self.history)
                x, y = self._task(sample_task, "sample_task(rng)")
                trains = trainer.encode(x, seed=trainer.seed + i)
                theta = model.weights.copy()
                trainer.optimizer = copy.deepcopy(self._fresh_optimizer)
                loss = self._inner(trainer, trains, y, self.inner_steps, self.rng)
                epsilon = self.meta_rate_at(i)
                # theta + epsilon (phi - theta), in place on the model's weights (phi)
                phi = model.weights
                phi -= theta
                phi *= epsilon
                phi += theta
                trainer._project()
                row = {"iteration": i, "meta_rate": epsilon, "loss": loss, "samples": len(y)}
                self.history.append(row)
                if callback is not None:
                    callback(row)
        trainer.optimizer = copy.deepcopy(self._fresh_optimizer)
        return self.history

    def adapt(self, x, y, steps: int | None = None) -> GradientTrainer:
        """A copy of the trainer from the learned initial weights, trained ``steps``
        optimizer steps (default ``inner_steps``) on a task's samples ``(x, y)`` with a fresh
        optimizer; the initial weights stay as they are.

        Parameters
        ----------
        x : numpy.ndarray
            The task's samples (observations or spike trains).
        y : numpy.ndarray
            Their labels.
        steps : int, optional
            Optimizer steps (default: ``inner_steps``).

        Returns
        -------
        GradientTrainer
            The adapted trainer (``accuracy``, ``predict_proba``, ``save`` ...).
        """
        steps = self.inner_steps if steps is None else steps
        if not (isinstance(steps, (int, np.integer)) and steps >= 0):
            raise ConfigError(f"steps = {steps!r}; expected an integer >= 0")
        x, y = self._task(lambda rng: (x, y), "adapt(x, y)")
        adapted = copy.deepcopy(self.trainer)
        adapted.optimizer = copy.deepcopy(self._fresh_optimizer)
        trains = adapted.encode(x, seed=adapted.seed)
        with _blas_limit(adapted.blas_threads):
            if steps:  # minibatch order of its own: adapting leaves meta-training's draws
                self._inner(adapted, trains, y, int(steps), np.random.default_rng([self.seed, 8]))
        return adapted

    def save(self, path: str) -> None:
        """Save the initial weights (``.npz``) for ``gradient.init_weights``.

        Parameters
        ----------
        path : str
            File to write.
        """
        self.trainer.save(path)


def task_sampler(x, y, classes, ways: int = 3, shots: int = 5, queries: int = 0):
    """A family of classification tasks from a labelled set: each task takes ``ways`` of
    ``classes`` at random and maps them to outputs ``0`` to ``ways - 1`` in random order (so no
    fixed class -> output map can be learned: only what helps learn any such map quickly).

    Parameters
    ----------
    x : numpy.ndarray
        Samples ``(n, ...)``.
    y : numpy.ndarray
        Their integer labels ``(n,)``.
    classes : sequence of int
        The labels tasks draw from (e.g. the meta-training classes; held-out classes for a
        meta-test).
    ways : int
        Classes per task (the network needs this many output neurons).
    shots : int
        Support samples per class: what the inner loop trains on.
    queries : int
        Query samples per class (0: none), disjoint from the support samples, to score the
        adapted network.

    Returns
    -------
    callable
        ``sample(rng)``: ``(x_support, y_support)``, or with ``queries``
        ``((x_support, y_support), (x_query, y_query))``.

    Raises
    ------
    ConfigError
        When ``classes`` has fewer than ``ways`` labels or a class has fewer than
        ``shots + queries`` samples.
    """
    x, y = np.asarray(x), np.asarray(y)
    classes = [int(c) for c in classes]
    if not (isinstance(ways, (int, np.integer)) and 1 <= ways <= len(classes)):
        raise ConfigError(f"ways = {ways!r}; expected an integer in [1, {len(classes)}] (the "
                          "classes given)")
    for name, value, low in (("shots", shots, 1), ("queries", queries, 0)):
        if not (isinstance(value, (int, np.integer)) and value >= low):
            raise ConfigError(f"{name} = {value!r}; expected an integer >= {low}")
    members = {c: np.flatnonzero(y == c) for c in classes}
    for c, where in members.items():
        if where.size < shots + queries:
            raise ConfigError(f"class {c} has {where.size} samples; a task needs shots + "
                              f"queries = {shots + queries} of each class")

    def sample(rng):
        chosen = rng.choice(classes, ways, replace=False)
        support, query = [], []
        for k, c in enumerate(chosen):
            idx = rng.permutation(members[int(c)])
            support.append((idx[:shots], k))
            query.append((idx[shots:shots + queries], k))
        xs = np.concatenate([x[i] for i, _ in support])
        ys = np.concatenate([np.full(len(i), k) for i, k in support])
        if not queries:
            return xs, ys
        xq = np.concatenate([x[i] for i, _ in query])
        yq = np.concatenate([np.full(len(i), k) for i, k in query])
        return (xs, ys), (xq, yq)

    return sample

