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
from spikey.snn.kernels import _jit

#: Optimizer names a config may give.
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


def _step_at(params, grad, index, first, second, kind, lr, coupled_decay, c, delta):
    """:meth:`Optimizer.step` on ``params[index]`` from ``grad[index]`` in three passes (gather
    into ``delta``, update, scatter) that need no temporaries; the middle pass has no
    indexing and compiles to vector instructions. The same floating point operations in the
    same order as the numpy code of :meth:`Optimizer.step`, so the results are equal bit for
    bit. ``kind``: 0 sgd, 1 momentum, 2 rmsprop, 3 adam; ``c`` the kind's constants
    (:meth:`Optimizer.step_at`)."""
    n = index.size
    if coupled_decay != 0.0:
        for k in range(n):
            i = index[k]
            delta[k] = grad[i] + coupled_decay * params[i]
    else:
        for k in range(n):
            delta[k] = grad[index[k]]
    if kind == 0:
        for k in range(n):
            delta[k] = lr * delta[k]
    elif kind == 1:  # c = [mu]
        mu = c[0]
        for k in range(n):
            m = first[k] * mu + delta[k]
            first[k] = m
            delta[k] = lr * m
    elif kind == 2:  # c = [rho, 1 - rho, eps]
        rho, rest, eps = c[0], c[1], c[2]
        for k in range(n):
            g = delta[k]
            s = second[k] * rho + rest * g * g
            second[k] = s
            delta[k] = lr * g / (np.sqrt(s) + eps)
    else:  # c = [1 - b1, b1, 1 - b2, b2, 1 / (1 - b2^k), eps, lr / (1 - b1^k)]
        c0, c1, c2, c3, c4, c5, c6 = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
        for k in range(n):
            g = delta[k]
            m = first[k] * c1 + g * c0
            first[k] = m
            s = second[k] * c3 + g * g * c2
            second[k] = s
            delta[k] = m / (np.sqrt(s * c4) + c5) * c6
    decoupled = c[c.size - 1] if kind == 3 else 0.0  # lr * weight decay (AdamW)
    if decoupled != 0.0:
        for k in range(n):
            i = index[k]
            params[i] = params[i] - (delta[k] + decoupled * params[i])
    else:
        for k in range(n):
            i = index[k]
            params[i] = params[i] - delta[k]


_step_at_kernel = _jit(_step_at)


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

    def step_at(self, params: np.ndarray, grad: np.ndarray, index: np.ndarray) -> None:
        """:meth:`step` on ``params[index]`` from ``grad[index]``, in place on ``params``.

        ``params`` and ``grad`` are flat arrays (a weight matrix's ``reshape(-1)``),
        ``index`` the trainable entries (flat integer indices, the same every call: the
        optimizer's state holds one value per entry). With numba one compiled pass does the
        gather, the update and the scatter (a B = 1 training step spent ~0.2 ms in the numpy
        version's temporaries), with the same operations in the same order, so the weights
        are equal bit for bit; without numba it gathers, calls :meth:`step` and scatters.

        Parameters
        ----------
        params : numpy.ndarray
            Flat float64 parameters, updated in place at ``index``.
        grad : numpy.ndarray
            Flat gradient of the same size.
        index : numpy.ndarray
            Integer indices of the entries to update.
        """
        if _step_at_kernel is None or params.dtype != np.float64 or \
                not (params.flags.c_contiguous and params.ndim == 1):
            values = params[index]
            self.step(values, grad[index])
            params[index] = values
            return
        if self.first is None:
            self.first = np.zeros(index.size)
            self.second = np.zeros(index.size)
        scratch = self.__dict__.get("_scratch")
        if scratch is None or scratch.size != index.size:
            scratch = self.__dict__["_scratch"] = np.empty(index.size)
        self.count += 1
        lr = self.learning_rate
        coupled = self.weight_decay if self.weight_decay and not self.decoupled else 0.0
        if self.kind == "sgd":
            kind, c = 0, [0.0]
        elif self.kind == "momentum":
            kind, c = 1, [self.momentum]
        elif self.kind == "rmsprop":
            kind, c = 2, [self.rho, 1.0 - self.rho, self.epsilon]
        else:
            decay = lr * self.weight_decay if self.decoupled and self.weight_decay else 0.0
            kind, c = 3, [1.0 - self.beta1, self.beta1, 1.0 - self.beta2, self.beta2,
                          1.0 / (1.0 - self.beta2 ** self.count), self.epsilon,
                          lr / (1.0 - self.beta1 ** self.count), decay]
        _step_at_kernel(params, np.asarray(grad, dtype=np.float64), index, self.first,
                        self.second, kind, float(lr), float(coupled),
                        np.asarray(c, dtype=np.float64), scratch)

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
