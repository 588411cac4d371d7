"""The engine: compiled execution of a network's steps and ticks.

The :class:`~spikey.snn.network.Network` composes parts and owns the numpy
reference path; when its ``kernels`` key selects numba it hands the hot work
to an :class:`Engine`:

- :meth:`Engine.propagate`: one step's synaptic input through the compiled
  propagation kernels (plain, scaled by short-term plasticity, or sparse);
- :meth:`Engine.plan` / :meth:`Engine.run_tick`: a whole tick in one call of
  :func:`spikey.snn.kernels.run_tick` when every part can take part.

Each part says what the fused tick needs through a small typed record
defined here (:class:`LIFArrays`, :class:`Learning`, :class:`Traces`,
:class:`EligibilityDecay`, :class:`Propagation`); the engine gathers them
into a :class:`TickPlan` and the kernel call is assembled in one place, so a
new fused part adds a record and an adapter here, not code in ``network.py``.
The parts currently offer their arrays through ``LIF.fused_arguments()`` and
``Synapse.fused_plan(weights)`` (plain tuples in the records' field order) and
the STDP trace attributes; the adapters below turn them into the records.

The engine performs exactly the floating point operations of the numpy
reference, in the same order: both paths agree bit for bit
(``unit_tests/test_kernels.py``, ``test_sparse.py``, ``test_engine.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spikey.snn import kernels


class LIFArrays(NamedTuple):
    """A noise-free LIF population as :func:`kernels.lif_step` takes it."""

    potential: np.ndarray  # ``(B, N)`` membrane potential, updated in place
    decay: np.ndarray  # ``(B,)`` leak factor per member
    threshold: np.ndarray  # ``(B, 1)`` or ``(B, N)`` firing threshold
    reset: np.floating  # reset potential (the state dtype)
    left: np.ndarray  # ``(B, N)`` refractory steps left
    is_open: np.ndarray  # ``(B, N)`` not refractory
    is_closed: np.ndarray  # ``(B, N)`` refractory
    refractory_steps: int  # refractory period in steps (0: none)
    spikes: np.ndarray  # ``(B, N)`` this step's spikes, written in place


class Learning(NamedTuple):
    """What the fused tick adds each step: ``scale * member_scale * zeta`` into ``target``.

    ``kind``: 0 no learning, 1 into the weights (clipped), 2 into an
    eligibility, 3 into an eligibility with a lazily decaying scale (MSTDPET).
    """

    kind: int
    target: np.ndarray  # ``(B, P, N)`` (dense) or ``(B, N, K)`` (sparse)
    mask: np.ndarray  # existing (learnable) synapses, laid out like ``target``
    rows: bool  # whether presynaptic spikes add their rows (depression)
    scale: np.floating
    member_scale: np.ndarray  # ``(B,)``, used when ``use_member``
    use_member: bool
    clip: bool  # clip touched entries to the weights' bounds


class Traces(NamedTuple):
    """STDP traces and their per-member constants, as :func:`kernels.update_traces` takes them."""

    pre_trace: np.ndarray  # ``(B, P)``
    post_trace: np.ndarray  # ``(B, N)``
    decay_plus: np.ndarray  # ``(B,)``
    decay_minus: np.ndarray  # ``(B,)``
    amp_pre: np.ndarray  # ``(B, P)`` signed amplitude of a presynaptic spike
    amp_minus: np.ndarray  # ``(B,)``


class EligibilityDecay(NamedTuple):
    """The lazily applied decay of an eligibility (kind 3): ``scale *= decay`` per step."""

    scale_state: np.ndarray  # ``(1,)`` float64, updated in place
    decay: float
    tau: float


class Propagation(NamedTuple):
    """The weights as the propagation kernels read them (dense rows or CSR segments)."""

    sparse: bool
    flat: np.ndarray  # ``(B * P, N)`` dense rows
    values: np.ndarray  # ``(B, N * K)`` sparse values
    out_start: np.ndarray
    out_synapse: np.ndarray
    out_post: np.ndarray
    pre_index: np.ndarray


class TickPlan(NamedTuple):
    """Everything one fused tick needs: which parts run and their arrays."""

    neuron: LIFArrays
    learning: Learning
    traces: Traces
    decay: EligibilityDecay
    pre_sign: np.ndarray
    low: np.floating
    high: np.floating


def plain_kernels(context, weights, neurons) -> bool:
    """Whether the compiled propagation covers this network: numba chosen and plain synapses
    (no synapse types, delays, or excitatory/inhibitory split of the input)."""
    return bool(context.kernels and weights.type_matrix is None and weights.delay_matrix is None
                and not neurons.SPLIT_INPUT)


class Engine:
    """Runs a network's propagation and fused ticks through :mod:`spikey.snn.kernels`.

    Parameters
    ----------
    network : Network
        A built network whose parts qualify for :func:`plain_kernels`; the
        engine keeps a reference to it and to its buffers (``_pre``,
        ``_current``, ``_polarity``, ``tick_spikes``, ``tick_input_spikes``).
    """

    def __init__(self, network):
        self.network = network
        B, n = network.batch_size, network.n_neurons
        dtype = network.context.dtype
        weights = network.parts["weights"]
        self.sparse = bool(getattr(weights, "SPARSE", False))
        self.spike_index = kernels.SpikeIndex(network._pre.shape)
        self.post_index = kernels.SpikeIndex((B, n))
        self.no_efficacy = np.zeros((1, 1), dtype=dtype)
        index_type = getattr(weights, "out_synapse", np.zeros(0, np.int32)).dtype
        # type-stable stand-ins for the arguments a tick does not use
        self._rows = np.zeros((1, 1), dtype=dtype)
        self._vector = np.zeros(1, dtype=dtype)
        self._start = np.zeros((1, 2), dtype=np.int64)
        self._synapse = np.zeros((1, 1), dtype=index_type)
        self._index = np.zeros((1, 1, 1), dtype=index_type)
        self._cast = np.zeros(1, dtype=dtype)
        self._no_learning = Learning(0, np.zeros((1, 1, 1), dtype=dtype),
                                     np.zeros((1, 1, 1), bool), True, dtype.type(0.0),
                                     self._vector, False, False)
        self._no_traces = Traces(self._rows, self._rows, self._vector, self._vector, self._rows,
                                 self._vector)
        self._no_decay = EligibilityDecay(np.ones(1, dtype=np.float64), 1.0, 1.0)

    # ------------------------------------------------------------ one step
    def propagate(self, pre: np.ndarray, efficacy) -> tuple:
        """This step's synaptic input into ``network._current`` from the spikes ``pre``.

        ``efficacy`` is short-term plasticity's ``(B, P)`` scale or None. Returns
        ``np.nonzero(pre)`` as views into the engine's buffers (valid until the
        next call), for the learning rule.
        """
        network = self.network
        weights = network.parts["weights"]
        index = bb, jj = self.spike_index(pre)
        current = network._current
        current[...] = 0.0
        if self.sparse:
            kernels.propagate_sparse(
                weights.matrix.reshape(network.batch_size, -1), weights.out_start,
                weights.out_synapse, weights.out_post, bb, jj, network._polarity,
                self.no_efficacy if efficacy is None else efficacy, efficacy is not None,
                current)
        elif efficacy is None:
            kernels.propagate(weights.flat, pre.shape[1], bb, jj, network._polarity, current)
        else:
            kernels.propagate_scaled(weights.flat, pre.shape[1], bb, jj, network._polarity,
                                     efficacy, current)
        return index

    # ------------------------------------------------------------ whole ticks
    def propagation(self) -> Propagation:
        """The weights as the fused tick reads them."""
        weights = self.network.parts["weights"]
        if self.sparse:
            return Propagation(True, self._rows, weights.matrix.reshape(weights.matrix.shape[0], -1),
                               weights.out_start, weights.out_synapse, weights.out_post,
                               weights.pre_index)
        return Propagation(False, weights.flat, self._rows, self._start, self._synapse,
                           self._synapse, self._index)

    def plan(self, training: bool, all_active: bool) -> TickPlan | None:
        """A :class:`TickPlan` when the coming tick can run fused, else None.

        Fusing needs no short-term plasticity, a neuron part that offers its
        arrays (noise-free LIF) and, when ``training`` with a learning rule, a
        rule that offers a plan. While some member is paused (``all_active``
        False) only a per-tick eligibility (kind 2) fuses: the kernel has no
        per-member pause, and a paused member's rewards are 0 and its
        eligibility is cleared with them.
        """
        parts = self.network.parts
        if parts["stp"] is not None:
            return None
        neuron = lif_arrays(parts["neurons"])
        if neuron is None:
            return None
        synapses = parts["synapses"]
        if not training or synapses is None:
            return TickPlan(neuron, self._no_learning, self._no_traces, self._no_decay,
                            self._vector, self._vector.dtype.type(0.0),
                            self._vector.dtype.type(0.0))
        learning = learning_of(synapses, parts["weights"])
        if learning is None:
            return None
        if not all_active and learning.kind != 2:
            return None
        dtype = self._vector.dtype.type
        low, high = parts["weights"].clip_bounds if learning.clip else (0.0, 0.0)
        decay = eligibility_decay_of(synapses) if learning.kind == 3 else self._no_decay
        return TickPlan(neuron, learning, traces_of(synapses), decay, synapses.pre_sign,
                        dtype(low), dtype(high))

    def run_tick(self, plan: TickPlan) -> None:
        """Run ``processing_steps`` steps through :func:`spikey.snn.kernels.run_tick`."""
        network = self.network
        T = network.processing_steps
        inputs = network.parts["inputs"].steps(T, network.tick_input_spikes)
        w = self.propagation()
        n, le, tr, dec = plan.neuron, plan.learning, plan.traces, plan.decay
        kernels.run_tick(
            inputs, network.tick_spikes, network._pre, self.spike_index.bb, self.spike_index.jj,
            self.post_index.bb, self.post_index.jj,
            w.sparse, w.flat, w.values, w.out_start, w.out_synapse, w.out_post,
            network._polarity, self.no_efficacy, network._current,
            n.potential, n.decay, n.threshold, n.reset, n.left, n.is_open, n.is_closed,
            n.refractory_steps, n.spikes,
            le.kind, tr.pre_trace, tr.post_trace, tr.decay_plus, tr.decay_minus, tr.amp_pre,
            tr.amp_minus,
            le.target, le.mask, w.pre_index, plan.pre_sign, le.rows, le.scale, le.member_scale,
            le.use_member, le.clip, plan.low, plan.high,
            dec.scale_state, dec.decay, dec.tau, self._cast)
        network.step_count += T


# ---------------------------------------------------------------- adapters: parts -> records
def lif_arrays(neurons) -> LIFArrays | None:
    """The neuron part's :class:`LIFArrays`, or None when its step cannot be fused."""
    make = getattr(neurons, "fused_arguments", None)
    arguments = make() if make is not None else None
    return None if arguments is None else LIFArrays(*arguments)


def learning_of(synapses, weights) -> Learning | None:
    """The learning rule's :class:`Learning`, or None when it runs step by step only."""
    plan = synapses.fused_plan(weights)
    return None if plan is None else Learning(*plan)


def traces_of(synapses) -> Traces:
    """The STDP traces of a rule built on :class:`~spikey.snn.synapse.template.Synapse`."""
    s = synapses
    return Traces(s.pre_trace, s.post_trace, s._k_decay_plus, s._k_decay_minus, s._k_amp_pre,
                  s._k_amp_minus)


def eligibility_decay_of(synapses) -> EligibilityDecay:
    """The lazily decaying eligibility scale of MSTDPET."""
    return EligibilityDecay(synapses.scale.reshape(1), synapses.decay_z, float(synapses.tau_z))
