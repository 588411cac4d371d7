r"""Shared base of synapse parts (learning rules) and their spike traces.

Pair-based STDP with traces (Florian 2007 notation). Each step, with
:math:`f_j, f_k \in \{0, 1\}` the pre and post spikes of that step,

.. math::

    P^+_j &\leftarrow P^+_j e^{-\Delta t/\tau_+} + A_+ f_j, \qquad
    P^-_k \leftarrow P^-_k e^{-\Delta t/\tau_-} + A_- f_k, \\
    \zeta_{jk} &= P^+_j f_k + P^-_k f_j .

A pre spike ``Δ ≥ 1`` steps before a post spike gives :math:`\zeta = A_+ e^{-Δ\Delta t/\tau_+}`,
the opposite order :math:`A_- e^{-Δ\Delta t/\tau_-}` (``A_-`` is negative). A pre and a
post spike in the same step (``Δ = 0``) give :math:`\zeta = A_+ + A_-`: both traces take
the step's spikes before :math:`\zeta` is formed (the classic pair rule counts only
:math:`A_+`).

The rules act on the *signed* efficacy :math:`s_j w_{jk}` (:math:`s_j = -1` for an
inhibitory presynaptic neuron), as in Florian (2007) where inhibitory weights
lie in :math:`[-w_{max}, 0]`. The stored magnitude :math:`w_{jk}` therefore
changes by :math:`s_j \Delta`: a rewarded inhibitory pairing weakens the
inhibition, which, like a strengthened excitatory one, makes the post neuron
fire more.
Only the rows of neurons that spiked and the columns of neurons that spiked
are touched, so a step costs what the spikes cost.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from spikey.core.params import Key
from spikey.core.part import Part
from spikey.snn import kernels


class PerformanceWarning(UserWarning):
    """A configuration that runs correctly but clearly slower than an equivalent one."""


#: Below this share of synapses, a dense Random matrix with a learning rule gets a note
SPARSE_NOTE_DENSITY = 0.2
#: ... when each member's matrix has at least this many entries (small networks: no note)
SPARSE_NOTE_ENTRIES = 100_000


def sparse_storage_note(synapses, weights) -> str | None:
    """A note when a learning rule runs on a large, sparse ``Random`` matrix stored densely.

    Stored densely, the learning term of such a matrix walks lists of its synapses (as the
    propagation skips rows without any); ``SparseFanIn`` stores only the synapses and runs
    the rule about twice as fast (10 % of 1,000 x 1,000 with STDP: 3.6x Brian2 C++
    standalone against 2.0x, ``benchmarks/README.md``). It is a different connectivity (a
    fixed number of inputs per neuron instead of independent draws), so the network does not
    switch by itself.

    Parameters
    ----------
    synapses : Synapse
        The learning rule.
    weights : Weight
        The weight part.

    Returns
    -------
    str or None
    """
    if type(weights).__name__ != "Random" or getattr(weights, "SPARSE", False):
        return None
    mask = weights.mask
    entries = mask[0].size
    if entries < SPARSE_NOTE_ENTRIES:
        return None
    density = np.count_nonzero(mask) / mask.size
    if density >= SPARSE_NOTE_DENSITY:
        return None
    fan_in = max(1, int(round(np.count_nonzero(mask) / (mask.shape[0] * mask.shape[2]))))
    return (f"{synapses.owner}: the weights ({weights.owner}) hold {density:.0%} synapses stored "
            f"as a dense {mask.shape[1]} x {mask.shape[2]} matrix per member; with a learning "
            f"rule, weights SparseFanIn with fan_in: {fan_in} (its mean here) stores only the "
            "synapses and runs the rule about twice as fast (a fixed number of inputs per "
            "neuron instead of independent draws)")

class Synapse(Part):
    """Base class of learning rules.

    The network calls ``step(pre, post, weights)`` every training step with
    boolean spike arrays ``pre`` ``(B, n_inputs + n_neurons)`` and ``post``
    ``(B, n_neurons)``, and ``reward(r, weights)`` with one reward per member.
    """

    ABSTRACT = True

    FAMILY = "synapses"
    KEYS = (
        Key("learning_rate", "float", "Learning rate (mV per unit of weight change).", 0.625,
            range=(0, None)),
        Key("A_plus", "float", "Potentiation amplitude for pre-before-post.", 1.0),
        Key("A_minus", "float", "Depression amplitude for post-before-pre (negative).", -1.0,
            range=(None, 0.0), note="a depression amplitude is negative or 0, e.g. -1.0"),
        Key("tau_plus", "float", "Pre trace time constant (ms).", 20.0,
            range=(1e-6, None), unit="ms"),
        Key("tau_minus", "float", "Post trace time constant (ms).", 20.0,
            range=(1e-6, None), unit="ms"),
    )
    STATE = ("pre_trace", "post_trace")
    PER_MEMBER = ("learning_rate", "A_plus", "A_minus", "tau_plus", "tau_minus")

    def build(self, context):
        B, n_pre, n_post = context.batch_size, context.n_inputs + context.n_neurons, context.n_neurons
        self.pre_trace = np.zeros((B, n_pre), dtype=context.dtype)
        self.post_trace = np.zeros((B, n_post), dtype=context.dtype)
        self._tmp_pre = np.zeros((B, n_pre), dtype=context.dtype)
        self._tmp_post = np.zeros((B, n_post), dtype=context.dtype)
        self.pre_sign = np.ones(n_pre, dtype=context.dtype)
        super().build(context)

    def bind_parts(self, parts: dict) -> None:
        """Told by the network once every part is built (rules that read other parts).

        Subclasses that override it call ``super().bind_parts(parts)``.
        """
        weights = parts["weights"]
        #: the weight part when it stores synapses sparsely (SparseFanIn), else None
        self._sparse = weights if getattr(weights, "SPARSE", False) else None
        note = sparse_storage_note(self, weights)
        if note is not None:
            warnings.warn(note, PerformanceWarning, stacklevel=2)

    def bind_reward_mode(self, mode: str) -> None:
        """Told by the network: rewards come per tick, per step, or never."""
        self.reward_mode = mode

    def set_pre_sign(self, sign) -> bool:
        """Sign (+1/-1) of each presynaptic neuron's efficacy (set by the network each tick).

        Returns whether it changed (derived arrays are rebuilt only then).
        """
        new = np.sign(sign).astype(self.pre_sign.dtype)
        new[new == 0] = 1.0
        if np.array_equal(new, self.pre_sign) and getattr(self, "_amp_pre", None) is not None:
            return False
        self.pre_sign[...] = new
        self._amp_pre = self.pre_sign * self.amp_plus
        self._kernel_arguments()
        return True

    def derive(self):
        dt = self.context.dt
        self.decay_plus = self.member_column(np.exp(-dt / np.asarray(self.tau_plus, dtype=float)))
        self.decay_minus = self.member_column(np.exp(-dt / np.asarray(self.tau_minus, dtype=float)))
        self.amp_plus = self.member_column(self.A_plus)
        self.amp_minus = self.member_column(self.A_minus)
        self._amp_pre = self.pre_sign * self.amp_plus  # (n_pre,) or (B, n_pre)
        #: learning rate of each member, (B,)
        self.rate = self.member_vector(self.learning_rate)
        self._uniform_rate = bool(np.all(self.rate == self.rate[0]))
        self._kernel_arguments()

    def _kernel_arguments(self):
        """The per-member parameters as the explicit ``(B, ...)`` arrays kernels take."""
        if not self.context.kernels:
            return
        B, dtype = self.context.batch_size, self.context.dtype
        self._k_decay_plus = kernels.per_member(self.decay_plus, B, dtype)
        self._k_decay_minus = kernels.per_member(self.decay_minus, B, dtype)
        self._k_amp_minus = kernels.per_member(self.amp_minus, B, dtype)
        self._k_amp_pre = np.ascontiguousarray(
            np.broadcast_to(np.asarray(self._amp_pre, dtype=dtype), self.pre_trace.shape))
        self._k_ones = np.ones(B, dtype=dtype)
        if getattr(self, "_k_pre_index", None) is None:
            self._k_pre_index = kernels.SpikeIndex(self.pre_trace.shape)
            self._k_post_index = kernels.SpikeIndex(self.post_trace.shape)
            self._k_no_spikes = (np.zeros(0, dtype=np.int64),) * 2

    def reset(self):
        self.pre_trace[...] = 0.0
        self.post_trace[...] = 0.0

    def update_traces(self, pre, post):
        """Decay both traces and add this step's spikes (the pre trace carries the sign)."""
        if self.context.kernels:
            kernels.update_traces(pre, post, self.pre_trace, self.post_trace, self._k_decay_plus,
                                  self._k_decay_minus, self._k_amp_pre, self._k_amp_minus)
            return
        self.pre_trace *= self.decay_plus
        np.multiply(pre, self._amp_pre, out=self._tmp_pre)
        self.pre_trace += self._tmp_pre
        self.post_trace *= self.decay_minus
        np.multiply(post, self.amp_minus, out=self._tmp_post)
        self.post_trace += self._tmp_post

    def add_zeta(self, target, pre, post, scale, mask, clip=None, member_scale=None,
                 pre_index=None, rows=True):
        """Add ``scale * zeta`` of this step to ``target`` ``(B, n_pre, n_post)``.

        ``pre``/``post`` are this step's boolean spike arrays (``pre_index`` may
        pass ``np.nonzero(pre)`` already computed; ``rows=False`` skips the
        depression half). Increments on absent synapses (``mask`` False) are
        dropped; ``clip`` (the weight part) also clips touched entries to bounds.
        ``member_scale`` ``(B,)`` multiplies each member's increments.
        """
        dtype = target.dtype
        if getattr(self, "_sparse", None) is not None:
            self._add_zeta_sparse(target, pre, post, scale, mask, clip, member_scale, pre_index,
                                  rows)
            return
        B, P, N = target.shape
        if self.context.kernels and (member_scale is None or member_scale.dtype == dtype):
            low, high = (0.0, 0.0) if clip is None else clip.clip_bounds
            if not rows:
                pre_index = self._k_no_spikes
            elif pre_index is None:
                pre_index = self._k_pre_index(pre)
            kernels.add_zeta(target, mask, self.pre_trace, self.post_trace, self.pre_sign,
                             *self._k_post_index(post), *pre_index, dtype.type(scale),
                             self._k_ones if member_scale is None else member_scale,
                             member_scale is not None, clip is not None,
                             dtype.type(low), dtype.type(high))
            return
        bb, kk = np.nonzero(post)
        if bb.size:  # potentiation: columns of the neurons that fired now
            values = self.pre_trace[bb] * scale
            if member_scale is not None:
                values *= member_scale[bb, None]
            values *= mask[bb, :, kk]
            values += target[bb, :, kk]
            if clip is not None:
                clip.clip(values)
            target[bb, :, kk] = values
        if not rows:
            return
        bb, jj = self.spike_index(pre, pre_index)
        if bb.size:  # depression: rows of the neurons that fired now
            rows = bb * P + jj
            factor = self.pre_sign[jj] * scale
            if member_scale is not None:
                factor = factor * member_scale[bb]
            values = self.post_trace[bb] * factor[:, None]
            values *= mask.reshape(B * P, N)[rows]
            flat = target.reshape(B * P, N)
            values += flat[rows]
            if clip is not None:
                clip.clip(values)
            flat[rows] = values

    def _add_zeta_sparse(self, target, pre, post, scale, mask, clip, member_scale, pre_index,
                         rows):
        """:meth:`add_zeta` for a target stored like SparseFanIn's ``(B, N, K)`` matrix."""
        layout, dtype = self._sparse, target.dtype
        if not rows:
            pre_index = (np.zeros(0, dtype=np.int64),) * 2
        elif pre_index is None:
            pre_index = np.nonzero(pre)
        if self.context.kernels and (member_scale is None or member_scale.dtype == dtype):
            low, high = (0.0, 0.0) if clip is None else clip.clip_bounds
            kernels.add_zeta_sparse(target, mask, layout.pre_index, layout.out_start,
                                    layout.out_synapse, layout.out_post, self.pre_trace,
                                    self.post_trace, self.pre_sign,
                                    *self._k_post_index(post), *pre_index,
                                    dtype.type(scale),
                                    self._k_ones if member_scale is None else member_scale,
                                    member_scale is not None, clip is not None,
                                    dtype.type(low), dtype.type(high))
            return
        B, N, K = target.shape
        bb, kk = np.nonzero(post)
        if bb.size:  # potentiation: the K synapses onto each neuron that fired
            values = self.pre_trace[bb[:, None], layout.pre_index[bb, kk]] * scale
            if member_scale is not None:
                values *= member_scale[bb, None]
            values *= mask[bb, kk]
            values += target[bb, kk]
            if clip is not None:
                clip.clip(values)
            target[bb, kk] = values
        bb, jj = pre_index
        if bb.size:  # depression: the synapses out of each neuron that fired
            member, synapse, counts = layout.segments(bb, jj)
            factor = self.pre_sign[jj] * scale
            if member_scale is not None:
                factor = factor * member_scale[bb]
            values = self.post_trace[member, synapse // K] * np.repeat(factor, counts)
            flat, flat_mask = target.reshape(B, -1), mask.reshape(B, -1)
            values *= flat_mask[member, synapse]
            values += flat[member, synapse]
            if clip is not None:
                clip.clip(values)
            flat[member, synapse] = values

    def add_learning(self, weights, pre, post, member_scale=None, pre_index=None,
                     rows=True) -> None:
        """``w += learning_rate * member_scale * zeta`` on the touched weights, clipped.

        Members that the network marks as paused (``network.active``) do not learn.
        """
        dtype = self.context.dtype
        activity = self.context.activity
        if activity is not None and not activity.all:
            member_scale = activity.mask if member_scale is None else member_scale * activity.mask
        if member_scale is None and self._uniform_rate:
            scale, member = dtype.type(self.rate[0]), None
        else:
            scale = dtype.type(1.0)
            member = self.rate if member_scale is None else self.rate * member_scale
            member = member.astype(dtype)
        self.add_zeta(weights.matrix, pre, post, scale, weights.mask, clip=weights,
                      member_scale=member, pre_index=pre_index, rows=rows)

    def fused_plan(self, weights):
        """How :func:`spikey.snn.kernels.run_tick` runs this rule, or None if it can't.

        ``(kind, target, mask, rows, scale, member_scale, use_member, clip)``:
        kind 1 adds zeta to the weights (clipped), 2 to an eligibility, 3 to an
        eligibility with a lazily decaying scale (MSTDPET). Rules whose step
        does more than that return None and run step by step.
        """
        return None

    def _weights_plan(self, weights, rows=True):
        """:meth:`fused_plan` of a rule whose step is ``add_learning`` (STDP, LTP)."""
        dtype = self.context.dtype
        if self._uniform_rate:
            scale, member, use_member = dtype.type(self.rate[0]), self._k_ones, False
        else:
            scale, member, use_member = dtype.type(1.0), self.rate.astype(dtype), True
        return (1, weights.matrix, weights.mask, rows, scale, member, use_member, True)

    @staticmethod
    def spike_index(spikes, index=None):
        """``(member, neuron)`` pairs of ``spikes`` unless already given."""
        return np.nonzero(spikes) if index is None else index

    def step(self, pre, post, weights, pre_index=None):
        """One training step; ``pre_index`` may pass ``np.nonzero(pre)`` already computed."""
        raise NotImplementedError

    def reward_signals(self, signals, weights):
        """Apply a tick's learning signals ``(K, B)`` in order (the network calls it once per
        tick). Default: :meth:`reward` for each; rules whose state moves once per tick
        (TDLTP) override it."""
        for signal in signals:
            self.reward(signal, weights)

    def reward(self, reward, weights):
        """Apply one reward per member; rules without reward modulation ignore it."""
