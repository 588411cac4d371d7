"""The engine: compiled execution of a network's steps and ticks.

The :class:`~spikey.snn.network.Network` composes parts and owns the numpy
reference path; when its ``kernels`` key selects numba it hands the hot work
to an :class:`Engine`:

- :meth:`Engine.propagate`: one step's synaptic input through the compiled
  propagation kernels (plain, scaled by short-term plasticity, or sparse);
- :meth:`Engine.plan` / :meth:`Engine.run_tick`: a whole tick in one call of
  :func:`spikey.snn.kernels.run_tick` (LIF, member by member;
  :func:`~spikey.snn.kernels.run_tick_members`, the same function compiled for
  threads, with ``network.threads > 1``; a feed-forward tick without learning with one
  thread or fewer members than threads: :func:`~spikey.snn.kernels.run_tick_blocks`, blocks
  of neurons, in threads, sparse ones in sub-blocks of at most
  :attr:`Engine.SUB_BLOCK_BYTES` of weights, which also draws the tick's Poisson input
  spikes itself, :func:`poisson_draws`, and counts the output spikes) or
  :func:`~spikey.snn.kernels.run_tick_izhikevich` (Izhikevich)
  when every part can take part;
- :meth:`Engine.reward`: a tick's learning signals (reward mode 'tick') through
  MSTDP's or MSTDPET's eligibility in one call of :func:`spikey.snn.kernels.tick_rewards`.

Each part says what the fused tick needs through a small typed record
defined here (:class:`LIFArrays` or :class:`IzhikevichArrays`, :class:`Learning`,
:class:`Traces`, :class:`EligibilityDecay`, :class:`Dopamine`, :class:`StepReward`,
:class:`Propagation`); the engine gathers them into a :class:`TickPlan` and the
kernel call is assembled in one place, so a new fused part adds a record and an
adapter here, not code in ``network.py``. The parts currently offer their arrays
through ``LIF.fused_arguments()`` and ``Synapse.fused_plan(weights)`` (plain tuples
in the records' field order) and their attributes; the adapters below
(:func:`lif_arrays`, :func:`learning_of`, :func:`traces_of`,
:func:`eligibility_decay_of`, :func:`step_reward_of`, :func:`dopamine_of`) turn them
into the records and return None for a part whose step does more than the kernels
know (a subclass with its own step), which then runs step by step.

The engine performs exactly the floating point operations of the numpy
reference, in the same order: both paths agree bit for bit
(``unit_tests/test_kernels.py``, ``test_sparse.py``, ``test_engine.py``,
``test_engine_members.py``, ``test_engine_rewards.py``).
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


class IzhikevichArrays(NamedTuple):
    """An Izhikevich population as :func:`kernels.izhikevich_step` takes it."""

    potential: np.ndarray  # (B, N) v
    recovery: np.ndarray  # (B, N) u
    thalamic: bool  # whether thalamic noise is drawn (uniforms for the tick ahead)
    input_current: np.ndarray  # (B, N) the drive of the last step, written in place
    constants: np.ndarray  # 0.04, 5, 140, substep, peak, 0.5, noise scale (state dtype)
    substeps: int
    a_dt: np.ndarray  # (N,) a * dt
    b: np.ndarray  # (N,)
    c: np.ndarray  # (N,)
    d: np.ndarray  # (N,)
    spikes: np.ndarray  # (B, N)
    blocks: object  # the part's RandomBlocks of thalamic uniforms (None without noise)


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


class Dopamine(NamedTuple):
    """DA-STDP (Izhikevich 2007): each step the dopamine decays; every ``update_every`` steps
    ``w = clip(w + rate (baseline + dopamine) tau_z scale eligibility)`` (kind 3 only)."""

    kind: int  # 0: none, 1: DA-STDP
    dopamine: np.ndarray  # (B,) float64, updated in place
    decay: float
    since_update: np.ndarray  # (1,) int64 view of the rule's counter
    update_every: int
    baseline: float
    rate: np.ndarray  # (B,) float64
    weights: np.ndarray
    index: np.ndarray
    starts: np.ndarray
    dense: bool
    low: np.floating
    high: np.floating


class StepReward(NamedTuple):
    """Reward mode 'step': each step with output spikes rewards every member
    ``(n_agree * reward_mult + n_other * punish_mult) * plastic`` through the eligibility
    (``w = clip(w + r * rate * dt * scale * eligibility)``, kind 3 only)."""

    kind: int  # 0: none, 1: per-output-spike reward
    first_output: int  # index of the first output neuron
    agree: np.ndarray  # (B, n_outputs): the output's group is the expected action
    reward_mult: float
    punish_mult: float
    plastic: np.ndarray  # (B,) float64, the network's per-member switch
    rate: np.ndarray  # (B,) float64 learning rate
    dt: float
    weights: np.ndarray  # the weight matrix the eligibility is applied to
    index: np.ndarray  # existing synapses per member (kernels.synapse_index)
    starts: np.ndarray
    dense: bool  # one contiguous pass instead of the index
    low: np.floating  # the weights' clip bounds
    high: np.floating


class PoissonDraws(NamedTuple):
    """A tick's Poisson input spikes as :func:`kernels.run_tick_blocks` draws them itself:
    the first ``head`` steps from the numbers left in the part's random buffer, the others
    from ``refills`` new blocks drawn in chunks (``starts``, steps of the refills), chunk
    ``c`` of member ``b`` from the PCG64 state ``states[b, c]`` that the draws before it
    leave (:func:`kernels.pcg64_advance`). :func:`finish_draws` then leaves the random
    blocks and generators as numpy's refills would."""

    blocks: object  # the input part's RandomBlocks
    spikes: np.ndarray  # the part's (B, n) spikes of the last step, written after the tick
    probability: np.ndarray  # (B, n) spike probability per step, the buffer's dtype
    head_start: int  # the buffer position of the first step
    head: int  # steps taken from the buffer
    refills: int  # blocks drawn in the tick
    states: np.ndarray  # (B, chunks, 2) uint64: each chunk's first state (high, low words)
    increments: np.ndarray  # (B, 2) uint64: each generator's increment
    starts: np.ndarray  # (chunks + 1,) int64: the chunks' first refill steps
    end: np.ndarray  # (B, 3) uint64: the final state and last raw output, by the kernel
    generator_states: list  # the generators' state dicts, read before the tick


class TickPlan(NamedTuple):
    """Everything one fused tick needs: which parts run and their arrays."""

    neuron: LIFArrays | IzhikevichArrays
    learning: Learning
    traces: Traces
    decay: EligibilityDecay
    pre_sign: np.ndarray
    low: np.floating
    high: np.floating
    reward: StepReward
    dopamine: Dopamine = None


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
        A built network whose parts qualify for :func:`plain_kernels`. The
        engine keeps only its own buffers; each call is given the network, whose
        buffers (``_pre``, ``_current``, ``_polarity``, ``tick_spikes``,
        ``tick_input_spikes``) it reads and writes (no reference cycle, so a
        network is freed as soon as it is dropped).
    """

    def __init__(self, network):
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
        zero = dtype.type(0.0)
        self._no_reward = StepReward(0, 0, np.zeros((1, 1), bool), 0.0, 0.0,
                                     np.zeros(1, np.float64), np.zeros(1, np.float64), 1.0,
                                     np.zeros((1, 1, 1), dtype=dtype), np.zeros(0, np.int64),
                                     np.zeros(2, np.int64), False, zero, zero)
        self._members = np.zeros(B, dtype=np.int64)  # scratch of run_tick_izhikevich
        self._member_ids = np.arange(B, dtype=np.int64)  # read only, by run_tick
        self._step_cast = np.zeros(B, dtype=dtype)
        self._no_dopamine = Dopamine(0, np.zeros(1, np.float64), 1.0, np.zeros(1, np.int64), 1,
                                     0.0, np.zeros(1, np.float64),
                                     np.zeros((1, 1, 1), dtype=dtype), np.zeros(0, np.int64),
                                     np.zeros(2, np.int64), False, zero, zero)
        self._izhikevich = None  # (part, its _a_dt, IzhikevichArrays) of the Izhikevich part
        self._lists = None  # (mask, kernels.synapse_lists(mask)) of the fused STDP term
        self._density = None  # (mask, whether it is sparse)
        self._no_lists = (np.zeros((1, 2), np.int64), np.zeros(0, np.int64)) * 2
        self._uniforms = None  # (B, T, N) thalamic uniforms of the tick ahead
        self.threads = int(getattr(network, "threads", 1))
        if self.threads > 1:  # the parts' random numbers are drawn in threads too
            kernels.prepare_threads()
        for blocks in network.random_blocks().values():
            blocks.raw_fill = True  # large refills through random_raw (the same numbers)
            if self.threads > 1:
                blocks.threads = self.threads
        # run_tick's per-member index buffers: row views of the spike index buffers
        P = network._pre.shape[1]
        self._tick_index = (self.spike_index.bb.reshape(B, P), self.spike_index.jj.reshape(B, P),
                            self.post_index.bb.reshape(B, n), self.post_index.jj.reshape(B, n))
        self._member_cast = np.zeros(B, dtype=dtype)
        # run_tick's rows with synapses (see _lists_of), cached per mask object
        self._no_live = np.zeros((1, 1), bool)
        self._live = (None, None)
        self._no_rows = (np.zeros((1, 1), np.int64), np.zeros(1, np.int64))
        self._learn_rows = (None, None, None)  # (synapse lists, rows with a synapse, counts)
        # run_tick_blocks' stand-ins for a tick without draws (PoissonDraws)
        self._no_states = np.zeros((1, 1, 2), np.uint64)
        self._no_starts = np.zeros(2, np.int64)
        self._no_draws = None  # (probability, buffer) of the state dtype, made on first use
        self._no_counts = np.zeros((1, 1), np.int64)
        self._block_buffers = self._block_steps = None  # run_tick_blocks' (see _blocks)

    # ------------------------------------------------------------ one step
    def propagate(self, network, pre: np.ndarray, efficacy) -> tuple:
        """This step's synaptic input into ``network._current`` from the spikes ``pre``.

        ``efficacy`` is short-term plasticity's ``(B, P)`` scale or None. Returns
        ``np.nonzero(pre)`` as views into the engine's buffers (valid until the
        next call), for the learning rule.
        """
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
    def propagation(self, network) -> Propagation:
        """The weights of ``network`` as the fused tick reads them."""
        weights = network.parts["weights"]
        if self.sparse:
            return Propagation(True, self._rows, weights.matrix.reshape(weights.matrix.shape[0], -1),
                               weights.out_start, weights.out_synapse, weights.out_post,
                               weights.pre_index)
        return Propagation(False, weights.flat, self._rows, self._start, self._synapse,
                           self._synapse, self._index)

    def plan(self, network, training: bool, all_active: bool,
             expected=None) -> TickPlan | None:
        """A :class:`TickPlan` when ``network``'s coming tick can run fused, else None.

        Fusing needs no short-term plasticity, a neuron part that offers its
        arrays (noise-free LIF) and, when ``training`` with a learning rule, a
        rule that offers a plan. While some member is paused (``all_active``
        False) only a per-tick eligibility (kind 2) fuses: the kernel has no
        per-member pause, and a paused member's rewards are 0 and its
        eligibility is cleared with them. ``expected`` (reward mode 'step':
        the rewarder's ``step_targets`` of this tick) asks for per-step
        rewards inside the tick; only the rewarders and rules that
        :func:`step_reward_of` knows fuse then, and only with finite reward
        multipliers, plastic switches and learning rates (the kernels reward only
        the members whose outputs fired; the step-by-step path gives the others
        ``0 * inf = nan``).
        """
        parts = network.parts
        if parts["stp"] is not None:
            return None
        neuron = lif_arrays(parts["neurons"])
        if neuron is None:
            neuron = self._izhikevich_arrays(parts["neurons"])
            if neuron is None or expected is not None:
                return None
        synapses = parts["synapses"]
        dtype = self._vector.dtype.type
        if not training or synapses is None:
            if expected is not None:
                return None
            return TickPlan(neuron, self._no_learning, self._no_traces, self._no_decay,
                            self._vector, dtype(0.0), dtype(0.0), self._no_reward,
                            self._no_dopamine)
        dopamine = self._no_dopamine
        learning = learning_of(synapses, parts["weights"])
        if learning is None and isinstance(neuron, IzhikevichArrays):
            learning, dopamine = dopamine_of(synapses, parts["weights"], network) or (None, None)
        if learning is None:
            return None
        if not all_active and learning.kind != 2:
            return None
        reward = self._no_reward
        if expected is not None:
            if learning.kind != 3:
                return None
            reward = step_reward_of(parts["rewarder"], synapses, parts["weights"],
                                    parts["readout"], expected, network)
            if reward is None or not self._finite(reward):
                return None
        low, high = parts["weights"].clip_bounds if learning.clip else (0.0, 0.0)
        decay = eligibility_decay_of(synapses) if learning.kind == 3 else self._no_decay
        return TickPlan(neuron, learning, traces_of(synapses), decay, synapses.pre_sign,
                        dtype(low), dtype(high), reward, dopamine)

    def run_tick(self, network, plan: TickPlan) -> bool:
        """Run ``network``'s ``processing_steps`` steps through
        :func:`spikey.snn.kernels.run_tick` (or with ``network.threads > 1``
        :func:`~spikey.snn.kernels.run_tick_members`, the members in threads), or, where
        :meth:`_blocks` allows, on one thread or with fewer members than threads, through
        :func:`~spikey.snn.kernels.run_tick_blocks` (``run_tick_blocks_serial`` for one
        block). Returns whether the tick also counted each output neuron's spikes into
        ``network._output_counts`` (the blocks do, in their threads; else the network
        counts them)."""
        T = network.processing_steps
        if isinstance(plan.neuron, IzhikevichArrays):
            self._inputs(network, T)
            self._run_izhikevich(network, plan, network.tick_input_spikes,
                                 self.propagation(network))
            return False
        B = network.batch_size
        if self.threads == 1 or B < self.threads:
            blocks = self._blocks(network, plan)
            if blocks is not None:
                parts = blocks[0].size - 1
                draws = poisson_draws(network.parts["inputs"], T, parts)
                if draws is None:
                    self._inputs(network, T)
                counts = network._output_counts if T > 0 else None
                self._run_blocks(network, plan, blocks, draws, counts)
                if draws is not None:
                    finish_draws(draws, network.tick_input_spikes)
                network.step_count += T
                return counts is not None
        self._inputs(network, T)
        kernel = kernels.run_tick
        if self.threads > 1 and B > 1:
            kernel = kernels.run_tick_members
            kernels.numba.set_num_threads(min(self.threads, B))
        elif self.sparse and plan.learning.kind == 0 and plan.reward.kind == 0:
            self._run_sparse(network, plan)
            network.step_count += T
            return False
        kernel(*self.tick_arguments(network, plan))
        network.step_count += T
        return False

    @staticmethod
    def _inputs(network, T: int) -> None:
        """The input part's spikes of the tick's ``T`` steps into ``network.tick_input_spikes``."""
        inputs = network.parts["inputs"].steps(T, network.tick_input_spikes)
        if inputs is not network.tick_input_spikes:  # a part that returned its own array
            network.tick_input_spikes[...] = inputs

    def _run_sparse(self, network, plan: TickPlan) -> None:
        """A tick without learning of ``SparseFanIn`` weights that the blocks cannot take
        (recurrent) through :func:`~spikey.snn.kernels.run_tick_sparse`: the weights copied in
        CSR order once per tick into an engine buffer (``(B, N K)``, made on first use)."""
        w = self.propagation(network)
        n = plan.neuron
        buffer = getattr(self, "_in_order", None)
        if buffer is None or buffer.shape != w.out_synapse.shape or \
                buffer.dtype != w.values.dtype:
            buffer = self._in_order = np.empty(w.out_synapse.shape, dtype=w.values.dtype)
        bb, jj = self._tick_index[:2]
        kernels.run_tick_sparse(
            network.tick_input_spikes, network.tick_spikes, network._pre, bb, jj, w.values,
            w.out_start, w.out_synapse, w.out_post, network._polarity, network._current,
            n.potential, n.decay, n.threshold, n.reset, n.left, n.is_open, n.is_closed,
            n.refractory_steps, n.spikes, buffer)

    #: the fewest neurons a thread's block of :func:`kernels.run_tick_blocks` holds
    MIN_BLOCK = 256
    #: the bytes of a sparse sub-block's copy of its weights and targets
    #: (:func:`kernels.run_tick_blocks`), each thread's buffer: larger sub-blocks cost less
    #: per step (each walks the step's spikes: at N = 10,000, one thread, 512 KiB 23.9, 1 MiB
    #: 22.1, 2 MiB 20.4 us a step) and more memory
    SUB_BLOCK_BYTES = 1024 * 1024

    def _blocks(self, network, plan: TickPlan) -> tuple | None:
        """``(bounds, split, sub_bounds, first_sub)`` when ``network``'s tick can run as
        blocks of neurons (:func:`spikey.snn.kernels.run_tick_blocks`): no learning or
        per-step reward in the tick and no body neuron with an outgoing synapse
        (feed-forward: a neuron's input does not depend on the others' spikes). One block
        per thread, each of at least :attr:`MIN_BLOCK` neurons (one block: on the calling
        thread); ``bounds`` are the blocks' first neurons (multiples of 64, so that two
        threads do not write the same cache line). Sparse weights: each block runs as
        sub-blocks (``sub_bounds``; thread ``p`` takes ``first_sub[p] <= q <
        first_sub[p + 1]``) whose copy of their weights and targets takes at most
        :attr:`SUB_BLOCK_BYTES`, and ``split`` ``(B, n_inputs, sub-blocks + 1)`` says where
        each sub-block's part of an input's CSR segment starts; dense weights: one sub-block
        per block. None otherwise. Kept while the weights' structure (the mask or the CSR
        arrays) is the same object."""
        if plan.learning.kind != 0 or plan.reward.kind != 0:
            return None
        weights = network.parts["weights"]
        N = network.n_neurons
        n_in = network._pre.shape[1] - N
        parts = max(1, min(self.threads, N // self.MIN_BLOCK))
        key = (weights.out_post if self.sparse else weights.mask, parts)
        cached = getattr(self, "_block_plan", None)
        if cached is not None and cached[0][0] is key[0] and cached[0][1] == parts:
            return cached[1]
        blocks = None
        if N > 0:
            bounds = np.array([min(N, round(N * p / parts / 64) * 64) for p in range(parts)]
                              + [N], dtype=np.int64)
            if self.sparse:
                per_neuron = weights.out_synapse.shape[1] // N  # synapses onto a neuron
                size = self.SUB_BLOCK_BYTES // max(1, per_neuron * (weights.matrix.itemsize + 2))
                size = min(max(64, size // 64 * 64), 1 << 15)  # (targets kept as uint16)
                sub_bounds, first_sub = [], [0]
                for lo, hi in zip(bounds[:-1], bounds[1:]):
                    count = max(1, round((hi - lo) / size))
                    sub_bounds += [lo + round((hi - lo) * i / count / 64) * 64
                                   for i in range(count)]
                    first_sub.append(len(sub_bounds))
                sub_bounds = np.array(sub_bounds + [N], dtype=np.int64)
                split = _segment_split(weights.out_start, weights.out_post, n_in, sub_bounds)
                if split is not None:
                    blocks = (bounds, split, sub_bounds, np.array(first_sub, dtype=np.int64))
            elif not np.any(weights.mask[:, n_in:]):
                blocks = (bounds, self._start.reshape(1, 1, 2), bounds,
                          np.arange(parts + 1, dtype=np.int64))
        if blocks is not None:  # each thread's buffers: input spikes, a sub-block's copy
            width = max(n_in, 1)
            room = 1
            if self.sparse:
                parts_of = blocks[1][:, :, 1:] - blocks[1][:, :, :-1]  # (B, n_in, sub-blocks)
                room = max(1, int(parts_of.sum(axis=1).max()))
            self._block_buffers = (
                np.zeros((parts, width), np.int64),
                np.zeros((parts, room), network.context.dtype),
                np.zeros((parts, room), np.uint16), np.zeros((parts, width + 1), np.int64))
            self._block_steps = np.zeros((parts, 1), np.int64)
        self._block_plan = (key, blocks)
        return blocks

    def _run_blocks(self, network, plan: TickPlan, blocks: tuple,
                    draws: PoissonDraws | None = None, counts: np.ndarray | None = None) -> None:
        """The tick through :func:`spikey.snn.kernels.run_tick_blocks` (in threads) or, for
        one block, ``run_tick_blocks_serial`` (the same function compiled without threads);
        with ``draws`` the kernel draws the Poisson input spikes itself, with ``counts``
        ``(B, n_outputs)`` int64 it counts the output neurons' spikes of the tick there."""
        if draws is None:
            dtype = network.context.dtype
            if self._no_draws is None or self._no_draws[0].dtype != dtype:
                self._no_draws = (np.zeros((1, 1), dtype), np.zeros((1, 1, 1), dtype))
            draw = (False, self._no_states, self._no_states[0], self._no_starts,
                    self._no_draws[0], 0, 0, self._no_draws[1], self._no_states[0])
        else:
            draw = (True, draws.states, draws.increments, draws.starts, draws.probability,
                    draws.head_start, draws.head, draws.blocks.buffer, draws.end)
        w = self.propagation(network)
        n = plan.neuron
        live = self._no_live if w.sparse else self._lists_of(network.parts["weights"],
                                                              plan.learning, w)[0]
        parts = blocks[0].size - 1
        T = network.processing_steps
        if self._block_steps.shape[1] < T + 1:  # each thread's step offsets of its spike list
            self._block_steps = np.zeros((parts, T + 1), np.int64)
        kernel = kernels.run_tick_blocks_serial
        if parts > 1:
            kernels.numba.set_num_threads(parts)
            kernel = kernels.run_tick_blocks
        kernel(
            network.tick_input_spikes, network.tick_spikes, network._pre, w.sparse, w.flat,
            w.values, w.out_post, w.out_synapse, blocks[1], network._polarity,
            network._current, live, n.potential, n.decay, n.threshold, n.reset, n.left,
            n.is_open, n.is_closed, n.refractory_steps, n.spikes, blocks[2], blocks[3],
            *self._block_buffers, self._block_steps, *draw, counts is not None,
            self._no_counts if counts is None else counts,
            network.n_neurons - network.n_outputs)

    def tick_arguments(self, network, plan: TickPlan) -> tuple:
        """:func:`spikey.snn.kernels.run_tick`'s arguments, in order, for a LIF ``plan``
        whose input spikes are in ``network.tick_input_spikes`` (what the inputs' ``steps``
        fills); also what a caller that runs the tick inside its own compiled call passes
        (:mod:`spikey.snn.closed_loop`)."""
        w = self.propagation(network)
        n, le, tr, dec, r = plan.neuron, plan.learning, plan.traces, plan.decay, plan.reward
        bb, jj, pb, pk = self._tick_index
        return (
            network.tick_input_spikes, network.tick_spikes, network._pre, bb, jj, pb, pk,
            w.sparse, w.flat, w.values, w.out_start, w.out_synapse, w.out_post,
            network._polarity, self.no_efficacy, network._current,
            n.potential, n.decay, n.threshold, n.reset, n.left, n.is_open, n.is_closed,
            n.refractory_steps, n.spikes,
            le.kind, tr.pre_trace, tr.post_trace, tr.decay_plus, tr.decay_minus, tr.amp_pre,
            tr.amp_minus,
            le.target, le.mask, w.pre_index, plan.pre_sign, le.rows, le.scale, le.member_scale,
            le.use_member, le.clip, plan.low, plan.high,
            dec.scale_state, dec.decay, dec.tau, self._member_cast,
            r.kind, r.first_output, r.agree, r.reward_mult, r.punish_mult, r.plastic, r.rate,
            r.dt, r.weights, r.index, r.starts, r.dense, r.low, r.high, self._member_ids,
            self._step_cast, *self._lists_of(network.parts["weights"], le, w))

    def _lists_of(self, weights, learning: Learning, w: Propagation) -> tuple:
        """``(live, lists, col_start, col_rows, row_start, row_cols, rows, counts)`` for
        :func:`~spikey.snn.kernels.run_tick`: for dense weights ``live`` ``(B, P)``, whether
        each presynaptic row holds a synapse (only those rows' spikes are propagated), kept
        while the mask object is the same; and, when the learning mask is sparse
        (:meth:`sparse_mask`), its :meth:`synapse_lists` and each member's rows that hold a
        synapse, ``rows[b, :counts[b]]`` (the STDP term visits them)."""
        if w.sparse:
            return (self._no_live, False) + self._no_lists + self._no_rows
        mask = weights.mask
        if self._live[0] is not mask:
            self._live = (mask, np.ascontiguousarray(mask.any(axis=2)))
        lists = bool(learning.kind != 0 and self.sparse_mask(learning.mask))
        if not lists:
            return (self._live[1], False) + self._no_lists + self._no_rows
        found = self.synapse_lists(learning.mask)
        if self._learn_rows[0] is not found:  # each member's rows that hold a synapse
            row_start = found[2]
            filled = np.diff(row_start, axis=1) > 0
            counts = filled.sum(axis=1).astype(np.int64)
            rows = np.zeros(filled.shape, dtype=np.int64)
            for b, row in enumerate(filled):
                rows[b, :counts[b]] = np.flatnonzero(row)
            self._learn_rows = (found, rows, counts)
        return (self._live[1], True) + tuple(found) + self._learn_rows[1:]

    # ------------------------------------------------------------ tick rewards
    def reward(self, network, signals) -> bool:
        """Apply a tick's learning signals ``(K, B)`` (reward mode 'tick') in one call of
        :func:`spikey.snn.kernels.tick_rewards`; False, doing nothing, when the rule is not
        exactly MSTDP's or MSTDPET's reward (the network then calls the rule's
        ``reward_signals``). Same operations in the same order as ``signals * plastic``
        then ``MSTDP.reward`` / ``MSTDPET.reward`` per signal."""
        synapses = network.parts["synapses"]
        scaled = self._reward_rule(synapses)
        source = getattr(synapses, "eligibility", None)
        rate, plastic = getattr(synapses, "rate", None), network.plastic
        B = network.batch_size
        if (scaled is None or not isinstance(signals, np.ndarray) or signals.ndim != 2
                or signals.dtype != np.float64 or signals.shape[1] != B
                or not isinstance(rate, np.ndarray) or rate.dtype != np.float64
                or rate.shape != (B,) or not isinstance(plastic, np.ndarray)
                or plastic.dtype != np.float64 or plastic.shape != (B,)
                or not source.flags.c_contiguous):
            return False
        weights = network.parts["weights"]
        index, starts = synapses._synapse_index(synapses.learning_mask(weights))
        low, high = weights.clip_bounds
        dtype = network.context.dtype.type
        mult = network.context.dt * float(synapses.scale) if scaled else 1.0
        kernels.tick_rewards(signals, plastic, rate, scaled, mult, weights.matrix,
                             source, index, starts, self._step_cast, self._members, dtype(low),
                             dtype(high), bool(index.size > 0.25 * source.size), not scaled)
        return True

    def _reward_rule(self, synapses) -> bool | None:
        """True for MSTDPET's tick reward, False for MSTDP's, None for any other rule."""
        kind = type(synapses)
        cached = getattr(self, "_reward_kind", None)
        if cached is not None and cached[0] is kind:
            return cached[1] if getattr(synapses, "reward_mode", "tick") == "tick" else None
        from spikey.snn.synapse.mstdp import MSTDP, MSTDPET
        from spikey.snn.synapse.template import Synapse

        scaled = None
        if (isinstance(synapses, MSTDP) and kind.reward_signals is Synapse.reward_signals
                and kind._apply is MSTDP._apply):
            if kind.reward is MSTDPET.reward:
                scaled = True
            elif kind.reward is MSTDP.reward:
                scaled = False
        self._reward_kind = (kind, scaled)
        return self._reward_rule(synapses)

    def _izhikevich_arrays(self, neurons) -> IzhikevichArrays | None:
        """The Izhikevich part's arrays, or None when it is not the plain Izhikevich step.

        The record is kept while the part's derived ``_a_dt`` is the same object: every
        ``derive()`` (a ``set`` of any key) makes a new one, and the state arrays the record
        holds are written in place, never replaced.
        """
        cached = self._izhikevich
        if cached is not None and cached[0] is neurons and cached[1] is neurons._a_dt:
            return cached[2]
        kind = type(neurons)
        if not _is_plain_izhikevich(kind):
            return None
        # what Izhikevich._kernel_step derives, recomputed when derive() ran
        from spikey.snn.neuron.izhikevich import PEAK

        dtype, n = neurons.context.dtype, neurons.n_neurons
        params = [np.ascontiguousarray(np.broadcast_to(x, (n,)), dtype=dtype)
                  for x in (neurons._a_dt, neurons._b, neurons._c, neurons._d)]
        constants = np.array([0.04, 5.0, 140.0, neurons.substep, PEAK, 0.5,
                              neurons._noise_scale], dtype=dtype)
        thalamic = bool(neurons.thalamic_input > 0)
        record = IzhikevichArrays(neurons.potential, neurons.recovery, thalamic,
                                  neurons.input_current, constants, int(neurons.n_substeps),
                                  *params, neurons.spikes,
                                  neurons._thalamic if thalamic else None)
        self._izhikevich = (neurons, neurons._a_dt, record)
        return record

    def _run_izhikevich(self, network, plan: TickPlan, inputs, w: Propagation) -> None:
        """:meth:`run_tick` through :func:`spikey.snn.kernels.run_tick_izhikevich`."""
        n, le, tr, dec = plan.neuron, plan.learning, plan.traces, plan.decay
        da = plan.dopamine if plan.dopamine is not None else self._no_dopamine
        B, T, N = network.batch_size, network.processing_steps, network.n_neurons
        if n.thalamic:  # the uniforms of the T steps ahead, as T calls of next() give them
            if self._uniforms is None or self._uniforms.shape != (B, T, N):
                self._uniforms = np.empty((B, T, N), dtype=n.potential.dtype)
            uniforms = n.blocks.take(T, self._uniforms)
        else:
            uniforms = n.input_current.reshape(B, 1, N)
        lists = le.kind != 0 and not w.sparse
        synapse_lists = self.synapse_lists(le.mask) if lists else self._no_lists
        kernels.run_tick_izhikevich(
            inputs, network.tick_spikes, network._pre, self.spike_index.bb, self.spike_index.jj,
            self.post_index.bb, self.post_index.jj,
            w.sparse, w.flat, w.values, w.out_start, w.out_synapse, w.out_post,
            network._polarity, self.no_efficacy, network._current,
            n.potential, n.recovery, uniforms, n.thalamic, n.input_current, n.constants,
            n.substeps, n.a_dt, n.b, n.c, n.d, n.spikes,
            le.kind, tr.pre_trace, tr.post_trace, tr.decay_plus, tr.decay_minus, tr.amp_pre,
            tr.amp_minus,
            le.target, le.mask, w.pre_index, plan.pre_sign, le.rows, le.scale, le.member_scale,
            le.use_member, le.clip, plan.low, plan.high,
            dec.scale_state, dec.decay, dec.tau, self._cast,
            da.kind, da.dopamine, da.decay, da.since_update, da.update_every, da.baseline,
            da.rate, da.weights, da.index, da.starts, da.dense, da.low, da.high, self._members,
            self._step_cast, lists, *synapse_lists)
        network.step_count += T

    def synapse_lists(self, mask: np.ndarray) -> tuple:
        """:func:`kernels.synapse_lists` of ``mask``, kept while the mask object is the same
        (the convention of the rules' ``_synapse_index``: a mask changes by replacement)."""
        if self._lists is None or self._lists[0] is not mask:
            self._lists = (mask, kernels.synapse_lists(mask))
        return self._lists[1]

    def sparse_mask(self, mask: np.ndarray) -> bool:
        """Whether at most half of ``mask``'s entries are synapses (kept per mask object, like
        :meth:`synapse_lists`): the LIF tick then walks synapse lists instead of the mask."""
        cached = self._density
        if cached is None or cached[0] is not mask:
            cached = self._density = (mask, bool(np.count_nonzero(mask) <= 0.5 * mask.size))
        return cached[1]

    @staticmethod
    def _finite(reward: StepReward) -> bool:
        # The per-step path rewards every member once any member's output fired, members
        # without output spikes with 0 * multiplier * plastic: 0 unless a factor is infinite
        # (nan then). The fused ticks reward only members that fired, so they need finite
        # factors; with others the tick runs step by step.
        if reward.kind == 0:
            return True
        return bool(np.isfinite(reward.reward_mult) and np.isfinite(reward.punish_mult)
                    and np.isfinite(reward.plastic).all() and np.isfinite(reward.rate).all())


def _segment_split(out_start, out_post, n_in, bounds) -> np.ndarray | None:
    """Where each block ``bounds[p] <= k < bounds[p + 1]`` of target neurons starts in every
    input's CSR segment: ``split[b, j, p]`` ``(B, n_in, blocks + 1)``, from ``out_start[b, j]``
    to ``out_start[b, j + 1]`` (:func:`kernels.segment_split`, one pass, no temporaries). None
    when a body row (``j >= n_in``) has a synapse or, for more than one block, a segment's
    targets do not ascend (the blocks then could not keep each neuron's order of
    additions)."""
    B, P = out_start.shape[0], out_start.shape[1] - 1
    if np.any(out_start[:, n_in] != out_start[:, P]):
        return None
    split = np.empty((B, n_in, bounds.size), dtype=np.int64)
    if bounds.size == 2:  # one block: whole segments
        split[:, :, 0], split[:, :, 1] = out_start[:, :n_in], out_start[:, 1:n_in + 1]
        return split
    ascending = kernels.segment_split(np.ascontiguousarray(out_start, dtype=np.int64),
                                      out_post, n_in, bounds.astype(np.int64), split)
    return split if ascending else None


# ---------------------------------------------------------------- adapters: parts -> records
_PLAIN = {}  # (check, class) -> bool: the class checks below, once per class


def _is_plain_izhikevich(kind) -> bool:
    """Whether the neuron class steps exactly as :class:`Izhikevich` (no own ``step``)."""
    key = ("izhikevich", kind)
    if key not in _PLAIN:
        from spikey.snn.neuron.izhikevich import Izhikevich

        _PLAIN[key] = bool(issubclass(kind, Izhikevich) and kind.step is Izhikevich.step
                           and kind._kernel_step is Izhikevich._kernel_step)
    return _PLAIN[key]


def _is_plain_dastdp(rule) -> bool:
    """Whether the rule class is exactly DA-STDP's step, eligibility and mask."""
    key = ("dastdp", rule)
    if key not in _PLAIN:
        from spikey.snn.synapse.da_stdp import DASTDP
        from spikey.snn.synapse.mstdp import MSTDP, MSTDPET

        _PLAIN[key] = bool(issubclass(rule, DASTDP) and rule.step is DASTDP.step
                           and rule._apply is MSTDP._apply
                           and rule.learning_mask is DASTDP.learning_mask
                           and rule.__mro__[1].step is MSTDPET.step)
    return _PLAIN[key]


#: PoissonDraws' states, increments, starts and end of a tick without refills
_NO_REFILLS = (np.zeros((1, 1, 2), np.uint64), np.zeros((1, 2), np.uint64),
               np.zeros(2, np.int64), np.zeros((1, 3), np.uint64))


def poisson_draws(inputs, count: int, chunks: int) -> PoissonDraws | None:
    """The :class:`PoissonDraws` of the input part's next ``count`` steps in ``chunks``
    chunks, or None when the kernel cannot give numpy's numbers and state.

    Drawn in the tick: Poisson inputs (``poisson_source``) whose random blocks hold float32
    (an even number per step) or float64 numbers of PCG64 generators, every member at the
    same position and none paused, and no float32 half buffered in a generator (an odd
    float32 draw before). Reads the generators' states only when the tick needs a refill.
    """
    source = getattr(inputs, "poisson_source", None)
    source = source() if source is not None else None
    if source is None or count < 1:
        return None
    random, probability = source
    activity = random.activity
    buffer = random.buffer
    if (not random._together or (activity is not None and not activity.all)
            or buffer.dtype not in (np.float32, np.float64) or probability.dtype != buffer.dtype
            or not buffer.flags.c_contiguous or not probability.flags.c_contiguous
            or probability.shape != (buffer.shape[0], buffer.shape[2])):
        return None
    B, block, width = buffer.shape
    position = int(random.position[0])
    head = min(max(block - position, 0), count)
    refills = -(-(count - head) // block)
    single = buffer.dtype == np.float32
    if refills == 0:  # no chunk to draw: the kernel reads none of the state arrays
        return PoissonDraws(random, inputs.spikes, probability, position, head, 0,
                            *_NO_REFILLS, [])
    if single and width % 2:
        return None
    per_step = width // 2 if single else width
    total = refills * block
    starts = np.array([total * c // chunks for c in range(chunks + 1)], dtype=np.int64)
    states = np.empty((B, chunks, 2), np.uint64)
    increments = np.empty((B, 2), np.uint64)
    dicts = []
    for b, generator in enumerate(random.generators):
        bits = generator.bit_generator
        if type(bits) is not np.random.PCG64:
            return None
        state = bits.state
        if single and state["has_uint32"]:
            return None
        first, increment = state["state"]["state"], state["state"]["inc"]
        increments[b] = (increment >> 64, increment & 0xFFFFFFFFFFFFFFFF)
        for c in range(chunks):
            x = kernels.pcg64_advance(first, int(starts[c]) * per_step, increment)
            states[b, c] = (x >> 64, x & 0xFFFFFFFFFFFFFFFF)
        dicts.append(state)
    return PoissonDraws(random, inputs.spikes, probability, position, head, refills, states,
                        increments, starts, np.zeros((B, 3), np.uint64), dicts)


def finish_draws(draws: PoissonDraws, tick_inputs: np.ndarray) -> None:
    """After a tick that drew ``draws``: the generators' states, the random blocks' position
    and the input part's last spikes as numpy's refills and ``steps`` leave them (float32:
    no half buffered, the last output's high half in ``uinteger``, as ``fill_uniforms``)."""
    random, count = draws.blocks, tick_inputs.shape[1]
    if draws.refills:
        single = random.buffer.dtype == np.float32
        for generator, state, end in zip(random.generators, draws.generator_states, draws.end):
            state["state"]["state"] = (int(end[0]) << 64) | int(end[1])
            if single:
                state["has_uint32"] = 0
                state["uinteger"] = int(end[2]) >> 32
            generator.bit_generator.state = state
        block = random.buffer.shape[1]
        random.position[...] = count - draws.head - (draws.refills - 1) * block
    else:
        random.position += count
    draws.spikes[...] = tick_inputs[:, -1]


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


def step_reward_of(rewarder, synapses, weights, readout, expected, network) -> StepReward | None:
    """The :class:`StepReward` of a tick in reward mode 'step', or None when the rewarder or
    the rule does more than the kernel knows.

    Fused: a rewarder whose ``step_targets``/``step_reward`` are the base
    :class:`~spikey.snn.reward.Rewarder`'s (one expected action per member,
    rewards only on steps with output spikes) and MSTDPET's eligibility reward.
    """
    from spikey.snn.reward.rewarders import Rewarder
    from spikey.snn.synapse.mstdp import MSTDP, MSTDPET

    kind = type(rewarder)
    if (rewarder is None or kind.step_reward is not Rewarder.step_reward
            or kind.step_targets is not Rewarder.step_targets or rewarder.EVERY_STEP):
        return None
    rule = type(synapses)
    if rule.reward is not MSTDPET.reward or rule._apply is not MSTDP._apply:
        return None
    dtype = network.context.dtype.type
    groups = readout.groups
    agree = np.ascontiguousarray(groups[None, :] == expected[:, None])
    index, starts = synapses._synapse_index(synapses.learning_mask(weights))
    low, high = weights.clip_bounds
    return StepReward(1, network.n_neurons - network.n_outputs, agree,
                      float(rewarder.reward_mult), float(rewarder.punish_mult), network.plastic,
                      synapses.rate, float(network.context.dt), weights.matrix, index, starts,
                      bool(index.size > 0.25 * synapses.eligibility.size), dtype(low), dtype(high))


def dopamine_of(synapses, weights, network) -> tuple | None:
    """``(Learning, Dopamine)`` of DA-STDP (kind 3 eligibility plus the dopamine update), or
    None when the rule is not exactly :class:`~spikey.snn.synapse.da_stdp.DASTDP`'s step."""
    if not _is_plain_dastdp(type(synapses)):
        return None
    dtype = network.context.dtype.type
    mask = synapses.learning_mask(weights)
    learning = Learning(3, synapses.eligibility, mask, True, dtype(1.0), synapses._k_ones, False,
                        False)
    index, starts = synapses._synapse_index(mask)
    low, high = weights.clip_bounds
    dopamine = Dopamine(1, synapses.dopamine, float(synapses.decay_dopamine),
                        synapses.since_update.reshape(1), int(synapses.update_every),
                        float(synapses.baseline), synapses.rate, weights.matrix, index, starts,
                        bool(index.size > 0.25 * synapses.eligibility.size), dtype(low),
                        dtype(high))
    return learning, dopamine
