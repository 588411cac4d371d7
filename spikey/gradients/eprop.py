r"""e-prop (Bellec et al. 2020, Nat Commun 11:3625): eligibility traces times learning signals.

Each synapse :math:`j \to i` keeps eligibility vectors computed forward in time from its
postsynaptic neuron's own dynamics only (the other neurons' spikes count as given
input; the same equations as :mod:`spikey.gradients.engine`):

.. math::

    \epsilon^u_t &= d\,\epsilon^V_{t-1} + p_{t,j}\ [-\,\Delta t\,\epsilon^a_{t-1}]_{\text{current}}
        \qquad (= \mathrm du_{t,i}/\mathrm dW_{ji}) \\
    e_t &= \psi(h_{t,i})\,(\epsilon^u_t\ [-\,\epsilon^a_{t-1}]_{\text{threshold}})
        \qquad (= \mathrm dz_{t,i}/\mathrm dW_{ji}) \\
    \epsilon^V_t &= (1 - z_{t,i})\,\epsilon^u_t + [(V_r - u_{t,i})\, e_t]_{\text{no detach}} \\
    \epsilon^a_t &= d_a \epsilon^a_{t-1} + \delta\, e_t

The readout :math:`q = \sum_t w_t (\cdot)_t` (see :mod:`~spikey.gradients.losses`) turns
them into the filtered traces :math:`\bar e = \sum_t w_t e_t` and
:math:`\bar\epsilon^u = \sum_t w_t \epsilon^u_t`, and the gradient is

.. math::

    \frac{\partial L}{\partial W_{ji}} \approx \sum_b L^z_{b,i}\,\bar e_{b,ji} +
        L^u_{b,i}\,\bar\epsilon^u_{b,ji}

with the learning signal of an output neuron :math:`k` its own readout error
:math:`G_k = \partial L/\partial q_k` (:math:`L^z` for a ``rate`` readout, :math:`L^u` for
``membrane``), and of any other neuron :math:`i` the error fed back through
:math:`B_{ik}` (``feedback``: ``symmetric`` uses the weights :math:`W_{ik}` into the
outputs, ``random`` a fixed random matrix):
:math:`L^z_i = \sum_k B_{ik}\,\bar\psi_k\,G_k` (``rate``; :math:`\bar\psi_k = \sum_t w_t
\psi(h_{t,k})`) or :math:`\sum_k B_{ik} G_k` (``membrane``). A firing-rate
regularizer adds its own exact :math:`\partial R/\partial z`, uniform in time.

Without body -> body synapses (every neuron driven by the inputs only) each neuron's
dependence on a weight runs through its own state alone and this gradient **equals
BPTT's** exactly; with recurrence it drops the paths through other neurons (its
alignment with BPTT is measured in the tests and the README).
"""

from __future__ import annotations

import numpy as np

from spikey.gradients.regularizers import rate_penalty


def _block_traces(model, tape, inputs: bool, rows, cols, w_time, need_u, need_uniform):
    """Filtered traces ``(e_bar, u_bar, e_uniform)`` ``(B, R, C)`` of one block of synapses:
    presynaptic ``rows`` of the inputs (``inputs``) or of the body, postsynaptic ``cols``."""
    T, B, _ = tape.potential.shape
    R, C = len(rows), len(cols)
    psi = model.surrogate.derivative(tape.distance[:, :, cols])
    reset = tape.reset_spikes[:, :, cols]
    potential = tape.potential[:, :, cols]
    source = tape.inputs if inputs else tape.previous
    d, da, dt = model.decay, model.adaptation_decay, model.dt
    vr, delta, adapt = model.reset_potential, model.adaptation_strength, model.adaptation
    eps_v = np.zeros((B, R, C))
    eps_a = np.zeros((B, R, C)) if adapt else None
    e_bar = np.zeros((B, R, C))
    u_bar = np.zeros((B, R, C)) if need_u else None
    e_uniform = np.zeros((B, R, C)) if need_uniform else None
    for t in range(T):
        du = d * eps_v
        du += source[t][:, rows, None]
        if adapt == "current":
            du -= dt * eps_a
        e = du - eps_a if adapt == "threshold" else du.copy()
        e *= psi[t][:, None, :]
        eps_v = du * (1.0 - reset[t])[:, None, :]
        if not model.detach_reset:
            eps_v += (vr - potential[t])[:, None, :] * e
        if adapt:
            eps_a *= da
            eps_a += delta * e
        if w_time[t]:
            e_bar += w_time[t] * e
            if u_bar is not None:
                u_bar += w_time[t] * du
        if e_uniform is not None:
            e_uniform += e / T
    return e_bar, u_bar, e_uniform


def eprop_gradient(model, tape, loss, grad_q, feedback=None, rate_strength: float = 0.0,
                   target_rate: float = 0.0) -> tuple:
    """The e-prop weight gradient of one forward pass.

    Parameters
    ----------
    model : SpikingModel
        The network (its equations and surrogate).
    tape : Tape
        Its forward pass (spikes, potentials, distances to threshold).
    loss : Loss
        The readout (time weights, rate or membrane).
    grad_q : numpy.ndarray
        :math:`\\partial L/\\partial q`, ``(B, n_outputs)``.
    feedback : numpy.ndarray, optional
        :math:`B`, ``(N, n_outputs)``; None uses the weights into the outputs (symmetric).
    rate_strength, target_rate : float
        The firing-rate regularizer (0: none).

    Returns
    -------
    tuple
        ``(grad (P, N), rate penalty value)``.
    """
    T, B, N = tape.potential.shape
    n_in, K = model.n_inputs, model.n_outputs
    w_time = loss.time_weights(T)
    need_uniform = rate_strength > 0 and bool(np.any(w_time != w_time[-1]))
    membrane = loss.readout == "membrane"
    grad_q = np.asarray(grad_q, dtype=np.float64)
    # the learning signals (B, N): an output's own error, others' fed back
    W = model.weights
    fb = W[n_in:, N - K:] if feedback is None else feedback  # (N, K)
    signal = np.zeros((B, N))
    if membrane:
        signal[:, :N - K] = grad_q @ fb[:N - K].T
    else:
        psi_out = model.surrogate.derivative(tape.distance[:, :, N - K:])
        psi_bar = np.einsum("t,tbk->bk", w_time, psi_out)
        signal[:, :N - K] = (grad_q * psi_bar) @ fb[:N - K].T
        signal[:, N - K:] = grad_q
    value, rate_signal = 0.0, None
    if rate_strength > 0:
        value, g_rate = rate_penalty(tape.spikes, model.dt, rate_strength, target_rate)
        # dR/dz_t is the same at every step: sum_t g e_t = g T (mean_t e_t)
        rate_signal = g_rate[0] * T
    grad = np.zeros((n_in + N, N))
    # only the blocks of synapses that exist: (inputs -> their targets), (body -> targets)
    blocks = [(True, np.arange(n_in), np.flatnonzero(model.mask[:n_in].any(axis=0)))]
    body = model.mask[n_in:]
    blocks.append((False, np.flatnonzero(body.any(axis=1)), np.flatnonzero(body.any(axis=0))))
    for inputs, rows, cols in blocks:
        if not rows.size or not cols.size:
            continue
        e_bar, u_bar, e_uniform = _block_traces(model, tape, inputs, rows, cols, w_time,
                                                membrane and bool((cols >= N - K).any()),
                                                need_uniform)
        out = cols >= N - K
        part = np.einsum("bi,bji->ji", signal[:, cols] * ~out, e_bar) if membrane else \
            np.einsum("bi,bji->ji", signal[:, cols], e_bar)
        if membrane and out.any():
            part += np.einsum("bi,bji->ji", grad_q[:, cols[out] - (N - K)], u_bar[:, :, out]) \
                if out.all() else _scatter(grad_q, cols, out, u_bar, N - K)
        if rate_signal is not None:
            trace = e_uniform if e_uniform is not None else e_bar
            part += np.einsum("bi,bji->ji", rate_signal[:, cols], trace)
        offset = 0 if inputs else n_in
        grad[np.ix_(rows + offset, cols)] = part
    grad *= model.mask
    return grad, value


def _scatter(grad_q, cols, out, u_bar, first_output):
    """The membrane readout's term for a block whose columns are partly outputs."""
    B, R, C = u_bar.shape
    full = np.zeros((B, C))
    full[:, out] = grad_q[:, cols[out] - first_output]
    return np.einsum("bi,bji->ji", full, u_bar)
