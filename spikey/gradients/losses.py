r"""Readouts of a tape and the losses on them, with their gradients.

The readout of output neuron :math:`k` (the last ``n_outputs`` body neurons) is a
weighted time average over the readout window :math:`\mathcal W` (the last
``readout_window`` steps; all steps by default), :math:`w_t = 1/|\mathcal W|` on it:

- ``rate``: :math:`q_k = \sum_t w_t z_{t,k}` (spikes per step);
- ``membrane``: :math:`q_k = \sum_t w_t u_{t,k}` (mean potential before the reset, mV).

Losses (means over the batch; :math:`c` = ``logit_scale``, :math:`y` the label):

- ``cross_entropy``: :math:`p = \mathrm{softmax}(c\,q)`,
  :math:`L = -\log p_y`, :math:`\partial L/\partial q = c\,(p - \mathrm{onehot}(y))`;
- ``mse``: :math:`L = \tfrac12 \sum_k (q_k - y_k)^2` for real targets ``(B, K)``;
- ``spike_count``: :math:`L = \tfrac12 \sum_k (n_k - \hat n_k)^2` with
  :math:`n_k = |\mathcal W| q_k` the count of a ``rate`` readout and
  :math:`\hat n_k` = ``target_counts[0]`` for the label's neuron, ``target_counts[1]`` else.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError

#: Readout and loss names a config may give.
READOUTS = ("rate", "membrane")
LOSSES = ("cross_entropy", "mse", "spike_count")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(B, K)`` logits (stable: the row maximum is subtracted)."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def check_labels(labels, n: int, classes: int) -> None:
    """Raise ConfigError unless ``labels`` are ``n`` integers in ``[0, classes)``, naming the
    first bad one."""
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels shape {labels.shape} ({labels.dtype}); expected {n} "
                          f"integers in [0, {classes})")
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if bad.size:
        raise ConfigError(f"labels[{int(bad[0])}] = {int(labels[bad[0]])}; expected integers in "
                          f"[0, {classes}) (one per output neuron)")


class Loss:
    """A readout of the output neurons and a loss on it.

    Parameters
    ----------
    readout : str
        ``"rate"`` or ``"membrane"``.
    loss : str
        ``"cross_entropy"``, ``"mse"`` or ``"spike_count"``.
    n_outputs : int
        Output neurons (the last body neurons).
    logit_scale : float
        :math:`c`, multiplies the readout before the softmax.
    readout_window : int or None
        Read only the last this many steps (None: every step).
    target_counts : tuple of float
        ``(on, off)`` spike counts of the ``spike_count`` loss.

    Examples
    --------
    >>> Loss("rate", "cross_entropy", 2).time_weights(4).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def __init__(self, readout: str, loss: str, n_outputs: int, logit_scale: float = 1.0,
                 readout_window: int | None = None, target_counts=(10.0, 0.0)):
        if readout not in READOUTS:
            raise ConfigError(f"gradient.readout = {readout!r} is not allowed; expected one of "
                              f"{list(READOUTS)}")
        if loss not in LOSSES:
            raise ConfigError(f"gradient.loss = {loss!r} is not allowed; expected one of "
                              f"{list(LOSSES)}")
        if loss == "spike_count" and readout != "rate":
            raise ConfigError("gradient.loss = 'spike_count' needs gradient.readout = 'rate' "
                              f"(spike counts), got {readout!r}")
        self.readout, self.loss, self.n_outputs = readout, loss, n_outputs
        self.logit_scale, self.readout_window = float(logit_scale), readout_window
        self.target_counts = tuple(float(c) for c in target_counts)

    def time_weights(self, T: int) -> np.ndarray:
        """:math:`w_t`, ``(T,)``."""
        w = np.zeros(T)
        window = T if self.readout_window is None else min(int(self.readout_window), T)
        w[T - window:] = 1.0 / window
        return w

    def readout_values(self, tape) -> np.ndarray:
        """:math:`q`, ``(B, n_outputs)``."""
        source = tape.spikes if self.readout == "rate" else tape.potential
        T = source.shape[0]
        return np.einsum("t,tbk->bk", self.time_weights(T), source[:, :, -self.n_outputs:])

    def logits(self, tape) -> np.ndarray:
        """:math:`c\\,q`, ``(B, n_outputs)``: the class scores."""
        return self.logit_scale * self.readout_values(tape)

    def probabilities(self, tape) -> np.ndarray:
        """Class probabilities ``softmax(c q)``, ``(B, n_outputs)``."""
        return softmax(self.logits(tape))

    def value_and_grad(self, tape, targets) -> tuple:
        """``(loss, dL/dq)``: the batch-mean loss and its gradient ``(B, n_outputs)``.

        Parameters
        ----------
        tape : Tape
            From the forward pass.
        targets : numpy.ndarray
            Labels ``(B,)`` (int) for ``cross_entropy`` and ``spike_count``; real targets
            ``(B, n_outputs)`` for ``mse``.
        """
        q = self.readout_values(tape)
        B, K = q.shape
        targets = np.asarray(targets)
        if self.loss == "mse":
            if targets.shape != (B, K):
                raise ConfigError(f"mse targets shape {targets.shape}; expected {(B, K)}")
            diff = q - targets
            return 0.5 * float((diff ** 2).sum()) / B, diff / B
        check_labels(targets, B, K)
        onehot = np.zeros((B, K))
        onehot[np.arange(B), targets] = 1.0
        if self.loss == "cross_entropy":
            p = softmax(self.logit_scale * q)
            loss = -float(np.log(np.maximum(p[np.arange(B), targets], 1e-300)).sum()) / B
            return loss, self.logit_scale * (p - onehot) / B
        T = tape.spikes.shape[0]
        window = T if self.readout_window is None else min(int(self.readout_window), T)
        on, off = self.target_counts
        counts = window * q
        diff = counts - (off + (on - off) * onehot)
        return 0.5 * float((diff ** 2).sum()) / B, diff * window / B

    def direct_gradients(self, tape, grad_q, workspace=None) -> tuple:
        """Spread ``dL/dq`` over time: ``(dL/dz, dL/du)``, each ``(T, B, N)`` or None
        (in an array reused from ``workspace``, a dict, when given: valid until the next
        call, and only its output columns may be written to).

        Parameters
        ----------
        tape : Tape
            From the forward pass.
        grad_q : numpy.ndarray
            ``dL/dq``, ``(B, n_outputs)``, from :meth:`value_and_grad`.
        workspace : dict, optional
            Keeps the ``(T, B, N)`` array between calls.

        Returns
        -------
        tuple
            ``(dL/dz, None)`` for a ``rate`` readout, ``(None, dL/du)`` for ``membrane``.
        """
        T, B, N = tape.spikes.shape
        if workspace is None:
            full = np.zeros((T, B, N))
        else:  # zero once: every call overwrites the output columns, the rest stays 0
            full = workspace.get("direct")
            if full is None or full.shape != (T, B, N):
                full = workspace["direct"] = np.zeros((T, B, N))
        full[:, :, N - self.n_outputs:] = self.time_weights(T)[:, None, None] * grad_q[None]
        return (full, None) if self.readout == "rate" else (None, full)
