r"""Optimizers: SGD, momentum, RMSprop and Adam, with weight decay.

For a parameter :math:`w`, its gradient :math:`g`, learning rate :math:`\eta` and
weight decay :math:`\lambda` (coupled: :math:`g \leftarrow g + \lambda w` before the
update, except ``decoupled`` Adam, AdamW, which subtracts :math:`\eta\lambda w` after it):

- ``sgd``: :math:`w \leftarrow w - \eta g`
- ``momentum``: :math:`v \leftarrow \mu v + g,\ w \leftarrow w - \eta v`
- ``rmsprop``: :math:`s \leftarrow \rho s + (1-\rho) g^2,\ w \leftarrow w - \eta g/(\sqrt s + \epsilon)`
- ``adam``: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g,\ v \leftarrow \beta_2 v + (1-\beta_2) g^2,\
  w \leftarrow w - \eta\,\hat m/(\sqrt{\hat v} + \epsilon)` with
  :math:`\hat m = m/(1-\beta_1^k)`, :math:`\hat v = v/(1-\beta_2^k)` at update :math:`k`.

Entries where ``trainable`` is False (absent synapses, frozen blocks) never move.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError

#: Optimizer names a config may give.
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


class Optimizer:
    """One of :data:`OPTIMIZERS`, updating a parameter array in place.

    Parameters
    ----------
    kind : str
        ``"sgd"``, ``"momentum"``, ``"rmsprop"`` or ``"adam"``.
    learning_rate : float
        :math:`\\eta` (may be changed between steps, e.g. by a schedule).
    momentum : float
        :math:`\\mu` of ``momentum``.
    beta1, beta2 : float
        Adam's moment decays.
    rho : float
        RMSprop's decay.
    epsilon : float
        Added to the root in RMSprop and Adam.
    weight_decay : float
        :math:`\\lambda`.
    decoupled : bool
        Adam only: decoupled weight decay (AdamW).

    Examples
    --------
    >>> w = np.array([1.0]); opt = Optimizer("sgd", 0.1)
    >>> opt.step(w, np.array([2.0])); w.tolist()
    [0.8]
    """

    def __init__(self, kind: str, learning_rate: float, momentum: float = 0.9,
                 beta1: float = 0.9, beta2: float = 0.999, rho: float = 0.9,
                 epsilon: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False):
        if kind not in OPTIMIZERS:
            raise ConfigError(f"gradient.optimizer = {kind!r} is not allowed; expected one of "
                              f"{list(OPTIMIZERS)}")
        if decoupled and kind != "adam":
            raise ConfigError(f"gradient.decoupled_weight_decay = True needs optimizer 'adam', got "
                              f"{kind!r}")
        self.kind, self.learning_rate = kind, float(learning_rate)
        self.momentum, self.beta1, self.beta2, self.rho = momentum, beta1, beta2, rho
        self.epsilon, self.weight_decay, self.decoupled = epsilon, weight_decay, decoupled
        self.count = 0
        self.first = self.second = None

    def step(self, params: np.ndarray, grad: np.ndarray, trainable=None) -> None:
        """Update ``params`` in place from ``grad`` (entries not ``trainable`` stay)."""
        g = np.asarray(grad, dtype=np.float64)
        if self.weight_decay and not self.decoupled:
            g = g + self.weight_decay * params
        if self.first is None:
            self.first = np.zeros_like(params)
            self.second = np.zeros_like(params)
        self.count += 1
        lr = self.learning_rate
        if self.kind == "sgd":
            delta = lr * g
        elif self.kind == "momentum":
            self.first *= self.momentum
            self.first += g
            delta = lr * self.first
        elif self.kind == "rmsprop":
            self.second *= self.rho
            self.second += (1.0 - self.rho) * g * g
            delta = lr * g / (np.sqrt(self.second) + self.epsilon)
        else:  # in place on one scratch array: a step touches each entry a few times
            delta = np.multiply(g, 1.0 - self.beta1)
            self.first *= self.beta1
            self.first += delta
            np.multiply(g, g, out=delta)
            delta *= 1.0 - self.beta2
            self.second *= self.beta2
            self.second += delta
            # lr * m_hat / (sqrt(v_hat) + eps), m_hat = first / c1, v_hat = second / c2
            np.multiply(self.second, 1.0 / (1.0 - self.beta2 ** self.count), out=delta)
            np.sqrt(delta, out=delta)
            delta += self.epsilon
            np.divide(self.first, delta, out=delta)
            delta *= lr / (1.0 - self.beta1 ** self.count)
            if self.decoupled and self.weight_decay:
                delta += lr * self.weight_decay * params
        if trainable is not None:
            delta = delta * trainable
        params -= delta
