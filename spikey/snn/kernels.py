"""Compiled kernels (numba) for the loops that dominate a network step.

Each kernel does in one pass what the numpy reference code in the parts
does with several whole-array operations and temporaries, and performs the
same floating point operations in the same order, so both paths give the
same spikes and weights bit for bit (``unit_tests/test_kernels.py`` runs
them side by side). The numpy code stays the reference: a network uses the
kernels when its ``kernels`` key is ``'numba'``, or ``'auto'`` (the default)
and numba is installed.

Kernels
-------
propagate
    Event-driven synaptic input: ``out[b] += sign_j * W[b, j]`` for every
    spike ``(b, j)``, row after row in spike order (``network.member_sums``).
update_traces
    STDP pre/post traces: decay, then add each spike's amplitude.
add_zeta
    The STDP term of this step into a ``(B, P, N)`` target (weights or an
    eligibility trace): columns of the neurons that fired, then rows of the
    neurons that fired, existing synapses only, optionally clipped.

propagate_sparse, add_zeta_sparse
    The same for :class:`~spikey.snn.weight.fan_in.SparseFanIn` storage: a
    spike walks its presynaptic CSR segment, a postsynaptic spike its K entries.
spike_pairs
    ``np.nonzero`` of a boolean ``(B, n)`` spike array into preallocated index
    buffers, skipping eight silent neurons per word (spikes are sparse).
apply_eligibility
    ``w = clip(w + step_b * e)`` over a list of existing synapses per member
    (a reward or dopamine update), instead of a pass over the whole matrix.
tick_rewards
    A tick's learning signals ``(K, B)`` applied in order through MSTDP's or
    MSTDPET's eligibility (``Network.reward`` in reward mode 'tick'), one call.
run_tick
    A whole tick of a plain LIF network in one call, member by member: input
    spikes given for every step, then per step the same operations as above in
    the same order (propagation, LIF, traces, STDP term, and in reward mode
    'step' the step's per-output-spike reward, ``Rewarder.step_reward`` through
    ``MSTDPET.reward``), so it equals the per-step path bit for bit while paying
    Python's overhead once per tick, not once per step.
run_tick_members
    The same function compiled with ``parallel=True``: the members in parallel
    threads (numba ``prange``; the network key ``threads``), results identical
    whatever the number of threads.
run_tick_blocks
    A tick without learning of a feed-forward network (no body neuron with an
    outgoing synapse) as blocks of neurons in parallel threads: a neuron's input
    depends only on the input spikes, given for the whole tick, so each block
    runs all its steps alone (``network.threads`` with fewer members than threads);
    each neuron gets run_tick's operations in the same order. Sparse blocks run as
    sub-blocks that step through the tick on their own in-order copy of their parts of the
    CSR segments (:func:`segment_split` finds the parts). It can also draw the tick's
    Poisson input spikes itself (threads drawing chunks of each member's PCG64 stream at
    once, from states jumped ahead: :func:`pcg64_advance`, :func:`poisson_chunk`), numpy's
    exact numbers and generator state, and count the output neurons' spikes.
run_tick_sparse
    run_tick without learning for ``SparseFanIn`` weights on one thread (recurrent networks,
    which the blocks cannot take): each member's weights copied in CSR order once per tick,
    then read contiguously by every spike.
run_tick_izhikevich
    A whole tick for Izhikevich neurons, with DA-STDP's dopamine and periodic
    weight update.
izhikevich_step
    One Izhikevich step (thalamic noise, Euler sub-steps of v, u, reset).
regular_steps
    ``count`` steps of regular (phase-accumulating) input spike trains at once:
    per step ``phase += p``, a spike where ``phase >= 1``, then ``phase -= spike``.
uniforms_from_raw
    numpy ``Generator.random``'s float32 or float64 uniforms from the bit generator's raw
    64-bit outputs (``RandomBlocks`` refills: the same numbers, ~1.5x faster).
all_finite
    Whether a floating point array holds no infinite or NaN value (the per-tick
    health check), without the temporary boolean array of ``np.isfinite``.
lif_step
    One noise-free LIF step (leak, input, refractory clock, threshold, reset)
    in one pass over the neurons (:func:`lif_member` for each member).
"""

from __future__ import annotations

import os
import types

import numpy as np

try:  # numba is a declared dependency; without it the numpy path runs
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

AVAILABLE = numba is not None

#: Values of the network key ``kernels``.
CHOICES = ("auto", "numba", "numpy")


def use_kernels(choice: str) -> bool:
    """Whether a network configured with ``kernels = choice`` runs the compiled path."""
    if choice == "numpy":
        return False
    if choice == "numba" and not AVAILABLE:
        from spikey.core.params import ConfigError

        raise ConfigError("network.kernels = 'numba' but numba is not installed; "
                          "pip install numba, or use 'auto' or 'numpy'")
    return AVAILABLE


def max_threads() -> int:
    """The most threads a parallel kernel may use here (numba's ``NUMBA_NUM_THREADS``)."""
    return int(numba.config.NUMBA_NUM_THREADS) if numba is not None else 1


def check_threads(threads: int, choice: str) -> None:
    """Refuse a ``threads`` value the compiled kernels cannot give.

    Raises
    ------
    ConfigError
        ``threads > 1`` on the numpy path (or without numba), or more threads than
        :func:`max_threads`.
    """
    if threads == 1:
        return
    from spikey.core.params import ConfigError

    if not use_kernels(choice):
        raise ConfigError(f"network.threads = {threads} needs the compiled kernels, but "
                          f"network.kernels = {choice!r} runs numpy"
                          + ("" if AVAILABLE else " (numba is not installed)")
                          + "; use threads = 1 or kernels 'numba'")
    if threads > max_threads():
        raise ConfigError(f"network.threads = {threads}; expected at most {max_threads()} "
                          "(numba's NUMBA_NUM_THREADS, the CPUs numba sees)")


def prepare_threads() -> None:
    """Ask for OpenMP threads that sleep between ticks, before numba starts its threads.

    A threaded tick is one parallel region of milliseconds; between ticks the Python
    around it (the inputs' random draws, themselves in threads, the game, the readout) needs
    the cores. By default OpenMP's idle threads spin for milliseconds after each region
    (measured: about 80 % of a core over the 5 ms after an XOR B = 64 tick), taking the
    core from that work. Sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set already or
    numba's threads have started (the policy is read once, when they start); the engine
    calls this when it is built with ``network.threads > 1``.
    """
    if numba is None:
        return
    from numba.np.ufunc import parallel

    if not getattr(parallel, "_is_initialized", True):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _jit(function):
    if numba is None:
        return None
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def _spike_pairs(spikes, bb, jj):
    B, P = spikes.shape
    flat = spikes.reshape(-1).view(np.uint8)
    n = flat.size
    whole = n - n % 8
    words = flat[:whole].view(np.uint64)  # skip 8 silent neurons at a time
    count = 0
    for w in range(words.size):
        if words[w] != 0:
            for i in range(8 * w, 8 * w + 8):
                if flat[i]:
                    bb[count] = i // P
                    jj[count] = i % P
                    count += 1
    for i in range(whole, n):
        if flat[i]:
            bb[count] = i // P
            jj[count] = i % P
            count += 1
    return count


def _propagate(flat, P, bb, jj, sign, out):
    for i in range(bb.size):
        b, j = bb[i], jj[i]
        row = flat[b * P + j]
        s = sign[j]
        target = out[b]
        for k in range(row.size):
            target[k] += row[k] * s


def _propagate_scaled(flat, P, bb, jj, sign, efficacy, out):
    for i in range(bb.size):
        b, j = bb[i], jj[i]
        row = flat[b * P + j]
        s = sign[j] * efficacy[b, j]
        target = out[b]
        for k in range(row.size):
            target[k] += row[k] * s


def _propagate_sparse(values, out_start, out_synapse, out_post, bb, jj, sign, efficacy, scaled,
                      out):
    for i in range(bb.size):
        b, j = bb[i], jj[i]
        s = sign[j]
        if scaled:
            s = s * efficacy[b, j]
        w, target = values[b], out[b]
        first = out_start[b, j]
        n = out_start[b, j + 1] - first
        # the segment as slices walked from 0, indices as unsigned: no negative-index
        # wraparound per access (the loop ran ~1.8x slower with it)
        posts, synapses = out_post[b, first:first + n], out_synapse[b, first:first + n]
        for x in range(n):
            target[np.uint64(posts[x])] += w[np.uint64(synapses[x])] * s


def _add_zeta_sparse(target, mask, pre_index, out_start, out_synapse, out_post, pre_trace,
                     post_trace, pre_sign, post_b, post_k, pre_b, pre_j, scale, member_scale,
                     use_member, clip, low, high):
    K = target.shape[2]
    for i in range(post_b.size):  # potentiation: the K synapses onto each neuron that fired
        b, k = post_b[i], post_k[i]
        m = member_scale[b]
        for s in range(K):
            if mask[b, k, s]:
                value = pre_trace[b, pre_index[b, k, s]] * scale
                if use_member:
                    value *= m
                value += target[b, k, s]
                if clip:
                    value = min(max(value, low), high)
                target[b, k, s] = value
    for i in range(pre_b.size):  # depression: the synapses out of each neuron that fired
        b, j = pre_b[i], pre_j[i]
        factor = pre_sign[j] * scale
        if use_member:
            factor *= member_scale[b]
        flat_t, flat_m = target[b].reshape(-1), mask[b].reshape(-1)
        for x in range(out_start[b, j], out_start[b, j + 1]):
            synapse = out_synapse[b, x]
            if flat_m[synapse]:
                value = post_trace[b, out_post[b, x]] * factor
                value += flat_t[synapse]
                if clip:
                    value = min(max(value, low), high)
                flat_t[synapse] = value


def _update_traces(pre, post, pre_trace, post_trace, decay_plus, decay_minus, amp_pre, amp_minus):
    for b in range(pre_trace.shape[0]):
        traces_member(b, pre, post, pre_trace, post_trace, decay_plus, decay_minus, amp_pre,
                      amp_minus)


def _add_zeta(target, mask, pre_trace, post_trace, pre_sign, post_b, post_k, pre_b, pre_j,
              scale, member_scale, use_member, clip, low, high):
    P = target.shape[1]
    N = target.shape[2]
    for i in range(post_b.size):  # potentiation: columns of the neurons that fired
        b, k = post_b[i], post_k[i]
        m = member_scale[b]
        for j in range(P):
            if mask[b, j, k]:
                value = pre_trace[b, j] * scale
                if use_member:
                    value *= m
                value += target[b, j, k]
                if clip:
                    value = min(max(value, low), high)
                target[b, j, k] = value
    for i in range(pre_b.size):  # depression: rows of the neurons that fired
        b, j = pre_b[i], pre_j[i]
        factor = pre_sign[j] * scale
        if use_member:
            factor *= member_scale[b]
        for k in range(N):
            if mask[b, j, k]:
                value = post_trace[b, k] * factor
                value += target[b, j, k]
                if clip:
                    value = min(max(value, low), high)
                target[b, j, k] = value


def _add_zeta_lists(target, col_start, col_rows, row_start, row_cols, pre_trace, post_trace,
                    pre_sign, post_b, post_k, pre_b, pre_j, scale, member_scale, use_member, clip,
                    low, high):
    # add_zeta on a dense target through lists of its synapses (synapse_lists of the mask):
    # a post spike walks the rows of its column's synapses, a pre spike the columns of its
    # row's, in ascending order, so every entry gets the same operations in the same order
    # as add_zeta gives it, without reading the mask's whole column (P entries a stride
    # apart) or row
    P = target.shape[1]
    N = target.shape[2]
    for i in range(post_b.size):  # potentiation: the synapses onto each neuron that fired
        b, k = post_b[i], post_k[i]
        m = member_scale[b]
        t, trace = target[b], pre_trace[b]
        for x in range(col_start[b, k], col_start[b, k + 1]):
            j = col_rows[x]
            value = trace[j] * scale
            if use_member:
                value *= m
            value += t[j, k]
            if clip:
                value = min(max(value, low), high)
            t[j, k] = value
    for i in range(pre_b.size):  # depression: the synapses out of each neuron that fired
        b, j = pre_b[i], pre_j[i]
        factor = pre_sign[j] * scale
        if use_member:
            factor *= member_scale[b]
        row, trace = target[b, j], post_trace[b]
        for x in range(row_start[b, j], row_start[b, j + 1]):
            k = row_cols[x]
            value = trace[k] * factor
            value += row[k]
            if clip:
                value = min(max(value, low), high)
            row[k] = value


def _add_zeta_member(target, mask, rows, pre_trace, b, post_k, scale, member_scale, use_member,
                     clip, low, high):
    # add_zeta's potentiation for member b, row after row: ``rows`` lists the rows of the
    # mask that hold a synapse (ascending), ``post_k`` the neurons that fired (ascending, only
    # those with a synapse), and each row's entries lie together in memory; every entry still
    # gets add_zeta's operations, once (the order between entries changes no value).
    # Depression: add_zeta_lists without post spikes, after this
    if post_k.size == 0:
        return
    m = member_scale[b]
    t, trace, allowed = target[b], pre_trace[b], mask[b]
    for x in range(rows.size):
        j = rows[x]
        base = trace[j] * scale
        if use_member:
            base *= m
        row, present = t[j], allowed[j]
        for i in range(post_k.size):
            k = post_k[i]
            if present[k]:
                value = base + row[k]
                if clip:
                    value = min(max(value, low), high)
                row[k] = value


def _apply_eligibility(weights, eligibility, index, starts, members, step, low, high, dense):
    flat_w = weights.reshape(weights.shape[0], -1)
    flat_e = eligibility.reshape(eligibility.shape[0], -1)
    for m in range(members.size):
        b = members[m]
        s = step[b]
        w, e = flat_w[b], flat_e[b]
        if dense:  # most entries are synapses: one contiguous pass is faster than the index
            for x in range(w.size):  # (elsewhere e = 0 and w is in bounds: w is unchanged)
                value = e[x] * s
                value += w[x]
                w[x] = min(max(value, low), high)
            continue
        first, last = starts[b], starts[b + 1]
        if last > first and index[last - 1] - index[first] == last - 1 - first:
            # the member's synapses fill one block (e.g. input rows onto every neuron): the
            # same updates without the index, a loop the compiler vectorises
            for x in range(index[first], index[last - 1] + 1):
                value = e[x] * s
                value += w[x]
                w[x] = min(max(value, low), high)
            continue
        for i in range(first, last):
            x = index[i]
            value = e[x] * s
            value += w[x]
            w[x] = min(max(value, low), high)


def _tick_rewards(signals, plastic, rate, scaled, mult, weights, eligibility, index, starts,
                  step_cast, members, low, high, dense, clear):
    # Network.reward's ``signals * plastic`` and MSTDP.reward / MSTDPET.reward (_apply) of
    # each signal in order, same operations: r = signal * plastic, r * rate (MSTDP) or
    # r * (rate * mult) (MSTDPET, mult = dt * scale), the members whose float64 value is not
    # zero get w = clip(w + e * value); with clear (MSTDP) the eligibility is zeroed after
    # each signal
    K, B = signals.shape
    for k in range(K):
        count = 0
        for b in range(B):
            value = signals[k, b] * plastic[b]
            if scaled:
                value = value * (rate[b] * mult)
            else:
                value = value * rate[b]
            step_cast[b] = value
            if value != 0:
                members[count] = b
                count += 1
        if count:
            apply_eligibility(weights, eligibility, index, starts, members[:count], step_cast,
                              low, high, dense)
        if clear:
            flat = eligibility.reshape(-1)
            for x in range(flat.size):
                flat[x] = 0.0


def _fold_trace(trace, eligibility, decay, stop):
    # trace <- trace * decay + eligibility, eligibility <- 0, in one pass (same rounding as
    # numpy), over the rows [0, stop) of each member's (P, N) block: the caller knows that
    # the rows after stop hold zeros in both (0 * decay + 0 = 0 leaves them as they are)
    B = trace.shape[0]
    width = stop * trace.shape[2]
    for b in range(B):
        flat_t = trace[b].reshape(-1)
        flat_e = eligibility[b].reshape(-1)
        for x in range(width):
            value = flat_t[x] * decay
            value += flat_e[x]
            flat_t[x] = value
            flat_e[x] = 0


def _uniforms_from_raw(raw, out):
    # numpy Generator.random's uniforms from the bit generator's raw 64-bit outputs
    # (random_raw): float64 (x >> 11) * 2**-53, one output each; float32 (u >> 8) * 2**-24
    # from each output's low 32 bits, then its high 32 bits (PCG64's next_uint32 order)
    flat = out.reshape(-1)
    if flat.itemsize == 4:
        words = raw.view(np.uint32)
        for i in range(flat.size):
            flat[i] = np.float32(words[i] >> np.uint32(8)) * np.float32(1.0 / 16777216.0)
    else:
        for i in range(flat.size):
            flat[i] = np.float64(raw[i] >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def _regular_steps(phase, probability, out, one):
    # out[b, t, i] = spike of step t; the same operations per step as RateInput.step. Step
    # after step over all inputs of a member (the inputs are independent, so the inner loop
    # vectorises; one input's steps form a dependent chain)
    B, T, n = out.shape
    for b in range(B):
        value = phase[b]
        p = probability[b]
        for t in range(T):
            spikes = out[b, t]
            for i in range(n):
                v = value[i] + p[i]
                spike = v >= one
                if spike:
                    v = v - one
                value[i] = v
                spikes[i] = spike


def _all_finite(bits, exponent):
    # bits: a float array's raw bits (float32 as uint32, float64 as uint64); exponent: the
    # mask of its exponent field. A value is inf or NaN exactly when its exponent bits are all
    # ones; the largest masked exponent over the array is an integer max, which the compiler
    # vectorises (about 6x faster than testing np.isfinite element by element with an early
    # exit, for the finite arrays the check nearly always meets)
    top = bits.dtype.type(0)
    for x in range(bits.size):
        value = bits[x] & exponent
        if value > top:
            top = value
    return top != exponent


#: numpy's PCG64 (128-bit LCG, XSL-RR output): the multiplier and the mask of a state
PCG64_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341
_MASK128 = (1 << 128) - 1
_M_HI, _M_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)


def pcg64_advance(state: int, delta: int, increment: int) -> int:
    """numpy's PCG64 state ``state`` (a 128-bit Python int) after ``delta`` draws.

    The LCG's jump ahead in O(log delta) (``pcg_advance_lcg_128``, what
    ``PCG64.advance`` does in C): lets a thread start a chunk of the stream where the
    draws before it end.
    """
    acc_mult, acc_plus = 1, 0
    cur_mult, cur_plus = PCG64_MULTIPLIER, increment
    while delta > 0:
        if delta & 1:
            acc_mult = (acc_mult * cur_mult) & _MASK128
            acc_plus = (acc_plus * cur_mult + cur_plus) & _MASK128
        cur_plus = ((cur_mult + 1) * cur_plus) & _MASK128
        cur_mult = (cur_mult * cur_mult) & _MASK128
        delta >>= 1
    return (acc_mult * state + acc_plus) & _MASK128


if numba is not None:
    from llvmlite import ir as _ir
    from numba.extending import intrinsic as _intrinsic

    @_intrinsic
    def _mulhi(typingctx, a, b):
        # the high 64 bits of a 64 x 64-bit product: one machine multiply (numba has no
        # 128-bit integers; emulated through 32-bit halves it took ~2x the time)
        sig = numba.types.uint64(numba.types.uint64, numba.types.uint64)

        def codegen(context, builder, signature, args):
            wide = _ir.IntType(128)
            product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
            return builder.trunc(builder.lshr(product, _ir.Constant(wide, 64)), _ir.IntType(64))

        return sig, codegen
else:  # pragma: no cover
    _mulhi = None


def _pcg64_next(hi, lo, inc_hi, inc_lo):
    # numpy's pcg64_random_r: state = state * multiplier + increment (mod 2**128), then the
    # XSL-RR output of the new state: (hi ^ lo) rotated right by hi >> 58
    new_lo = lo * _M_LO
    new_hi = _mulhi(lo, _M_LO) + lo * _M_HI + hi * _M_LO
    lo = new_lo + inc_lo
    hi = new_hi + inc_hi + np.uint64(lo < new_lo)
    x = hi ^ lo
    r = hi >> np.uint64(58)
    return hi, lo, (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


def _poisson_chunk(b, c, states, increments, starts, probability, head, count, buffer,
                   inputs, end):
    # Steps starts[c] <= r < starts[c + 1] of member b's refills (RandomBlocks: blocks of
    # buffer.shape[1] steps, each buffer.size / B numbers from its generator, float32 from
    # a raw output's low then high 32 bits, float64 one output each, as
    # uniforms_from_raw), from the state states[b, c] (hi, lo) that the draws before
    # the chunk left: tick step head + r gets the input spikes u < probability (numpy's
    # np.less), and the last refill's numbers go into buffer as numpy's refill leaves them.
    # The last chunk writes the generator's final state and last output into end[b].
    block, W = buffer.shape[1], buffer.shape[2]
    single = buffer.itemsize == 4
    per_step = W // 2 if single else W
    last = starts[starts.size - 1] - block  # the last refill's first step
    hi, lo = states[b, c, 0], states[b, c, 1]
    inc_hi, inc_lo = increments[b, 0], increments[b, 1]
    words = np.empty(per_step, np.uint64)
    halves = words.view(np.uint32)
    numbers = np.empty(W, buffer.dtype)
    p = probability[b]
    word = np.uint64(0)
    for r in range(starts[c], starts[c + 1]):
        for i in range(per_step):
            hi, lo, word = pcg64_next(hi, lo, inc_hi, inc_lo)
            words[i] = word
        if single:
            for j in range(W):
                numbers[j] = np.float32(halves[j] >> np.uint32(8)) * np.float32(1.0 / 16777216.0)
        else:
            for j in range(W):
                numbers[j] = np.float64(words[j] >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        s = head + r
        if s < count:
            row = inputs[b, s]
            for j in range(W):
                row[j] = numbers[j] < p[j]
        if r >= last:
            kept = buffer[b, r - last]
            for j in range(W):
                kept[j] = numbers[j]
    if c == states.shape[1] - 1:
        end[b, 0], end[b, 1], end[b, 2] = hi, lo, word


def _lif_step(v, synaptic_input, decay, threshold, reset, left, is_open, is_closed, steps,
              spikes):
    for b in range(v.shape[0]):
        lif_member(b, v, synaptic_input, decay, threshold, reset, left, is_open, is_closed, steps,
                   spikes)


def _izhikevich_step(v, u, synaptic_input, uniforms, thalamic, current, constants, substeps,
                     a_dt, b_param, c_param, d_param, spikes):
    # Izhikevich.step, neuron by neuron with the same operations in the same order, written
    # as one pass per stage (drive, each v sub-step, u and the reset) so that each pass is a
    # simple loop over the neurons that the compiler vectorizes; min(v, peak) is spelled
    # ``peak if v > peak else v`` (nan stays nan, as np.minimum gives)
    B, N = v.shape
    c004, c5, c140, h, peak, half, noise = (constants[0], constants[1], constants[2],
                                            constants[3], constants[4], constants[5],
                                            constants[6])
    for b in range(B):
        vr, ur, sr = v[b], u[b], spikes[b]
        drive = synaptic_input[b]
        if thalamic:
            out, draws = current[b], uniforms[b]
            for k in range(N):
                out[k] = (draws[k] - half) * noise + drive[k]
            drive = out
        for _ in range(substeps):
            for k in range(N):
                vk = vr[k]
                f = vk * c004
                f += c5
                f *= vk
                f += c140
                f -= ur[k]
                f += drive[k]
                f *= h
                vk += f
                vr[k] = peak if vk > peak else vk
        for k in range(N):
            vk = vr[k]
            uk = ur[k]
            f = vk * b_param[k]
            f -= uk
            f *= a_dt[k]
            uk += f
            fire = vk >= peak
            vr[k] = c_param[k] if fire else vk
            ur[k] = uk + d_param[k] if fire else uk
            sr[k] = fire


def _run_tick(inputs, tick_spikes, pre, bb, jj, pb, pk,
              sparse, flat, values, out_start, out_synapse, out_post, polarity, no_efficacy,
              current,
              v, decay, threshold, reset, left, is_open, is_closed, steps, spikes,
              kind, pre_trace, post_trace, decay_plus, decay_minus, amp_pre, amp_minus,
              target, mask, pre_index, pre_sign, rows, scale, member_scale, use_member,
              clip, low, high, scale_state, decay_z, tau_z, cast,
              reward_kind, first_output, agree, reward_mult, punish_mult, plastic, rate, dt,
              w_matrix, w_index, w_starts, w_dense, w_low, w_high, members, step_cast,
              live, lists, col_start, col_rows, row_start, row_cols, learn_rows, n_learn_rows):
    # A whole tick, member by member: member b runs its T steps alone (per step its input
    # and body spikes into pre[b], propagation, LIF, its spikes into tick_spikes[b], then
    # with kind > 0 traces, the eligibility's lazy scale (kind 3), the STDP term and with
    # reward_kind 1 the step's per-output-spike reward). Members never read each other's
    # state, so each member's floating point operations come in the order of the per-step
    # path whether the members run one after another (run_tick: prange is range) or in
    # parallel threads (run_tick_members, compiled with parallel=True). Buffers per member:
    # bb, jj (B, P), pb, pk (B, N), cast (B,); members = arange(B). The eligibility's lazy
    # scale is the same sequence for every member; each follows its own copy and the shared
    # state is written once at the end. Only for finite reward multipliers, plastic switches
    # and rates with reward_kind 1: the per-step path rewards every member once any member's
    # output fired (0 * inf = nan), this kernel only the members whose outputs fired.
    # With dense weights, live[b, j] says whether row j of member b holds any synapse:
    # spikes of the other rows are not propagated (their rows are zeros: adding them
    # changes no value). With lists the STDP term visits only the learning mask's rows that
    # hold a synapse (learn_rows[b, :n_learn_rows[b]]) and neurons that receive one
    # (col_start), and walks its row lists (row_start, row_cols) for depression.
    B, T, n_in = inputs.shape
    P = pre.shape[1]
    N = spikes.shape[1]
    start_scale = scale_state[0]
    final_scale = np.empty(B, dtype=np.float64)
    for b in numba.prange(B):
        mb, mj, qb, qk = bb[b], jj[b], pb[b], pk[b]
        none = mb[:0]
        s = start_scale
        # member b's rows as 1D views, their copy loops from 0 (they vectorise; indexing the
        # 2D arrays with b checked each index for wraparound, ~0.3 us per 1,000 booleans)
        pre_row, pre_body, spike_row = pre[b], pre[b, n_in:], spikes[b]
        current_row = current[b]
        for t in range(T):
            input_row, out_row = inputs[b, t], tick_spikes[b, t]
            for j in range(n_in):
                pre_row[j] = input_row[j]
            for k in range(N):
                pre_body[k] = spike_row[k]
            count = row_pairs(pre_row, b, mb, mj)
            if not sparse:
                count = keep_live(live[b], mj, count)
            for k in range(N):
                current_row[k] = 0.0
            if sparse:
                propagate_sparse(values, out_start, out_synapse, out_post, mb[:count],
                                 mj[:count], polarity, no_efficacy, False, current)
            else:
                propagate(flat, P, mb[:count], mj[:count], polarity, current)
            lif_member(b, v, current, decay, threshold, reset, left, is_open, is_closed,
                       steps, spikes)
            for k in range(N):
                out_row[k] = spike_row[k]
            if kind == 0:
                continue
            traces_member(b, pre, spikes, pre_trace, post_trace, decay_plus, decay_minus,
                          amp_pre, amp_minus)
            zeta_scale = scale
            if kind == 3:  # eligibility with a lazily applied decay (MSTDPET)
                s = s * decay_z
                if s < 1e-12:
                    cast[b] = s
                    factor = cast[b]
                    flat_target = target[b].reshape(-1)
                    for x in range(flat_target.size):
                        flat_target[x] *= factor
                    s = 1.0
                cast[b] = 1.0 / (tau_z * s)
                zeta_scale = cast[b]
            post_count = row_pairs(spikes[b], b, qb, qk)
            pre_b = mb[:count] if rows else none
            pre_j = mj[:count] if rows else none
            if sparse:
                add_zeta_sparse(target, mask, pre_index, out_start, out_synapse, out_post,
                                pre_trace, post_trace, pre_sign, qb[:post_count],
                                qk[:post_count], pre_b, pre_j, zeta_scale, member_scale,
                                use_member, clip, low, high)
            elif lists:  # a dense target with a sparse mask: its rows and lists of synapses
                kept = 0  # the neurons that fired and receive a synapse (order kept)
                walked = 0  # the synapses onto them
                for i in range(post_count):
                    k = qk[i]
                    onto = col_start[b, k + 1] - col_start[b, k]
                    if onto > 0:
                        qk[kept] = k
                        kept += 1
                        walked += onto
                # Potentiation row after row reads n_learn_rows x kept mask entries, each
                # row's together in memory; the column lists read only the synapses, a
                # stride of N apart. Rows win while most of the entries they read hold a
                # synapse (the RL agent's dense input rows); with many rows and a sparse
                # mask (1,000 inputs at 10 %: 10x the entries) the lists win. Either way
                # every entry gets the same operations once: the same values.
                by_rows = n_learn_rows[b] * kept <= 2 * walked
                if by_rows:
                    add_zeta_member(target, mask, learn_rows[b, :n_learn_rows[b]], pre_trace,
                                    b, qk[:kept], zeta_scale, member_scale, use_member, clip,
                                    low, high)
                if rows or not by_rows:  # depression: the row lists of the rows that fired
                    post_b = none if by_rows else qb[:kept]
                    post_k = none if by_rows else qk[:kept]
                    add_zeta_lists(target, col_start, col_rows, row_start, row_cols, pre_trace,
                                   post_trace, pre_sign, post_b, post_k, pre_b, pre_j,
                                   zeta_scale, member_scale, use_member, clip, low, high)
            else:
                add_zeta(target, mask, pre_trace, post_trace, pre_sign, qb[:post_count],
                         qk[:post_count], pre_b, pre_j, zeta_scale, member_scale, use_member,
                         clip, low, high)
            if reward_kind == 1:  # per-spike reward into the weights (reward_mode 'step')
                n_agree = 0
                n_total = 0
                for k in range(first_output, N):
                    if spikes[b, k]:
                        n_total += 1
                        if agree[b, k - first_output]:
                            n_agree += 1
                if n_total > 0:  # without output spikes a member gets 0 (finite factors)
                    r = np.float64(n_agree) * reward_mult
                    r += np.float64(n_total - n_agree) * punish_mult
                    value = r * plastic[b]
                    value = value * (rate[b] * (dt * s))
                    step_cast[b] = value
                    if value != 0:
                        apply_eligibility(w_matrix, target, w_index, w_starts,
                                          members[b:b + 1], step_cast, w_low, w_high, w_dense)
        final_scale[b] = s
    if kind == 3 and B > 0:
        scale_state[0] = final_scale[0]


def _run_tick_blocks(inputs, tick_spikes, pre, sparse, flat, values, out_post, out_synapse,
                     split, polarity, current, live, v, decay, threshold, reset, left, is_open,
                     is_closed, steps, spikes, bounds, first_sub, part_b, ordered, local_post,
                     local_start, offsets, draw, states, increments, starts, probability,
                     head_start, head, buffer, end, count_outputs, counts, first_output):
    # run_tick without learning or rewards (kind 0) for a feed-forward network (no body row
    # holds a synapse), its neurons split into sub-blocks bounds[q] <= k < bounds[q + 1],
    # thread p taking the sub-blocks first_sub[p] <= q < first_sub[p + 1] one after another:
    # a neuron's input depends only on the input spikes, which are given for the whole tick,
    # so each sub-block runs all T steps alone (one thread each with parallel=True: no
    # synchronisation per step). Each neuron gets run_tick's operations in the same order:
    # the input spikes in ascending order (dense: only rows that hold a synapse, live), each
    # adding its synapses onto the sub-block's neurons in their order in the row (sparse: the
    # part split[b, j, q] <= x < split[b, j, q + 1] of the row's CSR segment, whose targets
    # ascend), then the LIF step. pre is left as run_tick leaves it (the last step's input
    # and the spikes before it).
    # Each thread first lists member b's input spikes of every step once (row_pairs; the
    # step's ids[offsets[p, t]:offsets[p, t + 1]], part_b[p] its scratch). Sparse: before
    # its steps a sub-block copies its parts of the segments, in order, into the thread's
    # scratch (ordered: the weights, local_post: the targets from its first neuron,
    # local_start: where input j's part starts), so that its T steps read them one after
    # another from a cache-sized copy instead of gathering values[out_synapse[x]] from the
    # whole weight matrix (the same numbers, added in the same order).
    # With draw the tick first makes its Poisson input spikes into inputs: the first head
    # steps from the numbers left in buffer (from step head_start), the others from refills
    # drawn in chunks (poisson_chunk; in parallel threads, each chunk from its own state),
    # the refills' steps split at starts. With count_outputs each sub-block also counts its
    # output neurons' spikes of the tick (k >= first_output) into counts[b, k - first_output]
    # (what network.count_spikes gives), as bytes while the step's spikes are in cache, added
    # into counts every 255 steps.
    B, T, n_in = inputs.shape
    P = pre.shape[1]
    N = spikes.shape[1]
    threads = first_sub.size - 1
    if T == 0:
        return
    if draw:
        for b in range(B):  # before the refills overwrite the buffer
            p = probability[b]
            for s in range(head):
                row, numbers = inputs[b, s], buffer[b, head_start + s]
                for j in range(n_in):
                    row[j] = numbers[j] < p[j]
        chunks = states.shape[1]
        if starts[chunks] > 0:
            for q in numba.prange(B * chunks):
                poisson_chunk(q // chunks, q % chunks, states, increments, starts, probability,
                              head, T, buffer, inputs, end)
    for b in range(B):
        for j in range(n_in):
            pre[b, j] = inputs[b, T - 1, j]
        if T == 1:  # the spikes before the tick (those of step T - 2 otherwise, below)
            for k in range(N):
                pre[b, n_in + k] = spikes[b, k]
    for p in numba.prange(threads):
        at = offsets[p]
        for b in range(B):
            room = 0  # nonzero input bytes of the tick: at least its spikes
            for t in range(T):
                fired = inputs[b, t].view(np.uint8)
                for j in range(n_in):
                    room += fired[j] != 0
            ids = np.empty(max(room, 1), np.int64)
            done = 0
            for t in range(T):
                at[t] = done
                found = row_pairs(inputs[b, t], b, part_b[p], ids[done:])
                if not sparse:
                    found = keep_live(live[b], ids[done:], found)
                done += found
            at[T] = done
            for q in range(first_sub[p], first_sub[p + 1]):
                lo, hi = bounds[q], bounds[q + 1]
                block_current, block_spikes = current[b, lo:hi], spikes[b, lo:hi]
                # the sub-block's output neurons first_count <= k < hi (none without counts)
                first_count = min(max(lo, first_output), hi) if count_outputs else hi
                tally = np.zeros(hi - first_count, np.uint8)
                total = counts[b, first_count - first_output:hi - first_output] if tally.size \
                    else counts[0, :0]
                for k in range(total.size):
                    total[k] = 0
                kept_w, kept_post, kept_start = ordered[p], local_post[p], local_start[p]
                if sparse:  # the sub-block's parts of the segments, in order
                    w, synapses, posts, cut = values[b], out_synapse[b], out_post[b], split[b]
                    size = 0
                    for j in range(n_in):
                        kept_start[j] = size
                        first = cut[j, q]
                        n = cut[j, q + 1] - first
                        part_post, part_synapse = posts[first:first + n], synapses[first:first + n]
                        into_w, into_post = kept_w[size:size + n], kept_post[size:size + n]
                        for x in range(n):
                            into_w[x] = w[np.uint64(part_synapse[x])]
                            into_post[x] = np.uint16(part_post[x] - lo)
                        size += n
                    kept_start[n_in] = size
                for t in range(T):
                    for i in range(block_current.size):  # (loops from 0 over slices vectorise)
                        block_current[i] = 0.0
                    if sparse:
                        for i in range(at[t], at[t + 1]):
                            j = ids[i]
                            sign = polarity[j]
                            first = kept_start[j]
                            n = kept_start[j + 1] - first
                            part_w, part_post = kept_w[first:first + n], kept_post[first:first + n]
                            for x in range(n):
                                block_current[part_post[x]] += part_w[x] * sign
                    else:  # the sub-block's part of each row, as slices from 0 (they vectorise)
                        for i in range(at[t], at[t + 1]):
                            j = ids[i]
                            row = flat[b * P + j, lo:hi]
                            sign = polarity[j]
                            for k in range(block_current.size):
                                block_current[k] += row[k] * sign
                    # the step's spikes straight into tick_spikes (lif_row reads no spikes); the
                    # last step's into spikes once, below
                    lif_range(b, lo, hi, v, current, decay, threshold, reset, left, is_open,
                              is_closed, steps, tick_spikes[:, t])
                    if tally.size:
                        fired_out = tick_spikes[b, t, first_count:hi]
                        for k in range(tally.size):
                            tally[k] += np.uint8(fired_out[k])
                        if t % 255 == 254 or t == T - 1:
                            for k in range(tally.size):
                                total[k] += tally[k]
                                tally[k] = 0
                last = tick_spikes[b, T - 1, lo:hi]
                for i in range(block_spikes.size):
                    block_spikes[i] = last[i]
    if T >= 2:
        for b in range(B):
            for k in range(N):
                pre[b, n_in + k] = tick_spikes[b, T - 2, k]


def _run_tick_sparse(inputs, tick_spikes, pre, bb, jj, values, out_start, out_synapse,
                     out_post, polarity, current, v, decay, threshold, reset, left, is_open,
                     is_closed, steps, spikes, in_order):
    # run_tick without learning or rewards (kind 0) for SparseFanIn weights on one thread,
    # for networks the blocks cannot take (recurrent): member by member, run_tick's
    # operations in the same order, but the member's weights are first copied in CSR order
    # into in_order (B, N K), so a spike reads its segment's weights contiguously instead of
    # gathering them through out_synapse (the same values: the same sums)
    B, T, n_in = inputs.shape
    N = spikes.shape[1]
    for b in range(B):
        w, order, ordered = values[b], out_synapse[b], in_order[b]
        for x in range(out_start[b, out_start.shape[1] - 1]):
            ordered[x] = w[np.uint64(order[x])]
        mb, mj = bb[b], jj[b]
        pre_row, pre_body, spike_row = pre[b], pre[b, n_in:], spikes[b]
        current_row, posts = current[b], out_post[b]
        for t in range(T):
            input_row, out_row = inputs[b, t], tick_spikes[b, t]
            for j in range(n_in):
                pre_row[j] = input_row[j]
            for k in range(N):
                pre_body[k] = spike_row[k]
            count = row_pairs(pre_row, b, mb, mj)
            for k in range(N):
                current_row[k] = 0.0
            for i in range(count):
                j = mj[i]
                sign = polarity[j]
                first = out_start[b, j]
                n = out_start[b, j + 1] - first
                part_post, part_w = posts[first:first + n], ordered[first:first + n]
                for x in range(n):
                    current_row[np.uint64(part_post[x])] += part_w[x] * sign
            lif_member(b, v, current, decay, threshold, reset, left, is_open, is_closed,
                       steps, spikes)
            for k in range(N):
                out_row[k] = spike_row[k]


def _run_tick_izhikevich(inputs, tick_spikes, pre, bb, jj, pb, pk,
                         sparse, flat, values, out_start, out_synapse, out_post, polarity,
                         no_efficacy, current,
                         v, u, uniforms, thalamic, input_current, constants, substeps, a_dt,
                         b_param, c_param, d_param, spikes,
                         kind, pre_trace, post_trace, decay_plus, decay_minus, amp_pre,
                         amp_minus, target, mask, pre_index, pre_sign, rows, scale, member_scale,
                         use_member, clip, low, high, scale_state, decay_z, tau_z, cast,
                         dopamine_kind, dopamine, decay_dopamine, since_update, update_every,
                         baseline, rate, w_matrix, w_index, w_starts, w_dense, w_low, w_high,
                         members, step_cast, lists, col_start, col_rows, row_start, row_cols):
    # run_tick for Izhikevich neurons (izhikevich_step with this step's thalamic uniforms,
    # uniforms[:, t]) and, with dopamine_kind 1, DA-STDP's dopamine decay and periodic weight
    # update after the eligibility's (kind 3) STDP term: DASTDP.step, same operations in
    # the same order; with lists (a dense target) the STDP term walks synapse_lists of the
    # mask instead of whole rows and columns
    B, T, n_in = inputs.shape
    P = pre.shape[1]
    N = spikes.shape[1]
    none = bb[:0]
    for t in range(T):
        for b in range(B):
            for j in range(n_in):
                pre[b, j] = inputs[b, t, j]
            for k in range(N):
                pre[b, n_in + k] = spikes[b, k]
        count = spike_pairs(pre, bb, jj)
        current[:] = 0.0
        if sparse:
            propagate_sparse(values, out_start, out_synapse, out_post, bb[:count], jj[:count],
                             polarity, no_efficacy, False, current)
        else:
            propagate(flat, P, bb[:count], jj[:count], polarity, current)
        izhikevich_step(v, u, current, uniforms[:, t if thalamic else 0], thalamic,
                        input_current, constants, substeps, a_dt, b_param, c_param, d_param,
                        spikes)
        for b in range(B):
            for k in range(N):
                tick_spikes[b, t, k] = spikes[b, k]
        if kind == 0:
            continue
        update_traces(pre, spikes, pre_trace, post_trace, decay_plus, decay_minus, amp_pre,
                      amp_minus)
        zeta_scale = scale
        if kind == 3:
            s = scale_state[0] * decay_z
            if s < 1e-12:
                cast[0] = s
                factor = cast[0]
                flat_target = target.reshape(-1)
                for x in range(flat_target.size):
                    flat_target[x] *= factor
                s = 1.0
            scale_state[0] = s
            cast[0] = 1.0 / (tau_z * s)
            zeta_scale = cast[0]
        post_count = spike_pairs(spikes, pb, pk)
        pre_b = bb[:count] if rows else none
        pre_j = jj[:count] if rows else none
        if sparse:
            add_zeta_sparse(target, mask, pre_index, out_start, out_synapse, out_post,
                            pre_trace, post_trace, pre_sign, pb[:post_count], pk[:post_count],
                            pre_b, pre_j, zeta_scale, member_scale, use_member, clip, low, high)
        elif lists:
            add_zeta_lists(target, col_start, col_rows, row_start, row_cols, pre_trace,
                           post_trace, pre_sign, pb[:post_count], pk[:post_count], pre_b, pre_j,
                           zeta_scale, member_scale, use_member, clip, low, high)
        else:
            add_zeta(target, mask, pre_trace, post_trace, pre_sign, pb[:post_count],
                     pk[:post_count], pre_b, pre_j, zeta_scale, member_scale, use_member, clip,
                     low, high)
        if dopamine_kind == 1:
            for b in range(B):
                dopamine[b] *= decay_dopamine
            since_update[0] += 1
            if since_update[0] >= update_every:
                since_update[0] = 0
                m = 0
                for b in range(B):
                    f = rate[b] * (baseline + dopamine[b])
                    f = f * (tau_z * scale_state[0])
                    value = 1.0 * f
                    step_cast[b] = value
                    if value != 0:
                        members[m] = b
                        m += 1
                if m:
                    apply_eligibility(w_matrix, target, w_index, w_starts, members[:m],
                                      step_cast, w_low, w_high, w_dense)


def _segment_split(out_start, out_post, n_in, bounds, split):
    # split[b, j, q]: the first entry of input j's CSR segment (of member b) whose target is
    # >= bounds[q] (q = 0: the segment's start, the last: its end), in one pass over the
    # segments without temporaries; False when a segment's targets do not ascend
    B = out_start.shape[0]
    S = bounds.size - 1
    for b in range(B):
        posts = out_post[b]
        for j in range(n_in):
            first, stop = out_start[b, j], out_start[b, j + 1]
            cut = split[b, j]
            cut[0] = first
            q = 0
            before = -1
            for x in range(first, stop):
                post = posts[x]
                if post < before:
                    return False
                before = post
                while q < S - 1 and post >= bounds[q + 1]:
                    q += 1
                    cut[q] = x
            while q < S - 1:
                q += 1
                cut[q] = stop
            cut[S] = stop
    return True


def _keep_live(live, jj, count):
    # of the first count spike indices in jj, keep those whose row holds a synapse
    # (live[j]; order kept) at the front of jj; returns how many
    kept = 0
    for i in range(count):
        if live[jj[i]]:
            jj[kept] = jj[i]
            kept += 1
    return kept


def _row_pairs(row, b, bb, jj):
    # np.nonzero of one member's spike row into (member, index) buffers; the same order as
    # spike_pairs gives that member's spikes. Eight neurons per 64-bit word: a word's
    # lowest nonzero byte is found from its lowest set bit (three compares), then cleared,
    # instead of testing its eight bytes one by one (~2x faster at 2 % of neurons spiking)
    n = row.size
    flat = row.view(np.uint8)
    whole = n - n % 8
    words = flat[:whole].view(np.uint64)
    count = 0
    for w in range(words.size):
        word = words[w]
        while word != 0:
            low = word & (~word + np.uint64(1))  # the lowest set bit alone
            r = 0  # its byte within the word
            if low >= np.uint64(1 << 32):
                r += 4
                low >>= np.uint64(32)
            if low >= np.uint64(1 << 16):
                r += 2
                low >>= np.uint64(16)
            if low >= np.uint64(1 << 8):
                r += 1
            bb[count] = b
            jj[count] = 8 * w + r
            count += 1
            word &= ~(np.uint64(0xFF) << np.uint64(8 * r))  # the whole byte (any nonzero value)
    for i in range(whole, n):
        if flat[i]:
            bb[count] = b
            jj[count] = i
            count += 1
    return count


def _lif_member(b, v, synaptic_input, decay, threshold, reset, left, is_open, is_closed, steps,
                spikes):
    # lif_step's loop body for member b alone (same operations, same order). lif_row is the
    # same body over 1D slices (run_tick_blocks); here the 2D loop from 0 vectorises as well
    # and saves lif_row's seven array views per call (~6 % of an XOR B = 64 tick, N = 61)
    N = v.shape[1]
    wide = threshold.shape[1] > 1
    d = decay[b]
    for k in range(N):
        value = v[b, k] * d
        open_now = True
        if steps > 0:
            open_now = left[b, k] <= 0
            is_open[b, k] = open_now
            is_closed[b, k] = not open_now
            if open_now:
                value += synaptic_input[b, k]
            else:
                left[b, k] -= 1
        else:
            value += synaptic_input[b, k]
        fire = open_now and value >= threshold[b, k if wide else 0]
        if fire:
            value = reset
            if steps > 0:
                left[b, k] = steps
        elif not open_now:
            value = reset
        v[b, k] = value
        spikes[b, k] = fire


def _lif_range(b, lo, hi, v, synaptic_input, decay, threshold, reset, left, is_open, is_closed,
               steps, spikes):
    # lif_member for the neurons lo <= k < hi of member b (run_tick_blocks' share of a thread),
    # through lif_row on the rows' slices: a loop from 0 over contiguous 1D arrays is one the
    # compiler vectorises (from a run-time lo it could not prove the indices non-negative, and
    # the branchy scalar loop made run_tick_blocks ~1.6x slower than run_tick on one thread)
    wide = threshold.shape[1] > 1
    lif_row(v[b, lo:hi], synaptic_input[b, lo:hi], decay[b],
            threshold[b, lo:hi] if wide else threshold[b, :1], wide, reset, left[b, lo:hi],
            is_open[b, lo:hi], is_closed[b, lo:hi], steps, spikes[b, lo:hi])


def _lif_row(v, synaptic_input, d, threshold, wide, reset, left, is_open, is_closed, steps,
             spikes):
    # lif_step's loop body over one member's row (or a slice of it): decay d, threshold per
    # neuron when wide, else threshold[0]
    for k in range(v.size):
        value = v[k] * d
        open_now = True
        if steps > 0:
            open_now = left[k] <= 0
            is_open[k] = open_now
            is_closed[k] = not open_now
            if open_now:
                value += synaptic_input[k]
            else:
                left[k] -= 1
        else:
            value += synaptic_input[k]
        fire = open_now and value >= threshold[k if wide else 0]
        if fire:
            value = reset
            if steps > 0:
                left[k] = steps
        elif not open_now:
            value = reset
        v[k] = value
        spikes[k] = fire


def _traces_member(b, pre, post, pre_trace, post_trace, decay_plus, decay_minus, amp_pre,
                   amp_minus):
    # update_traces' loop body for member b alone
    P = pre_trace.shape[1]
    N = post_trace.shape[1]
    d = decay_plus[b]
    for j in range(P):
        value = pre_trace[b, j] * d
        if pre[b, j]:
            value += amp_pre[b, j]
        pre_trace[b, j] = value
    d = decay_minus[b]
    a = amp_minus[b]
    for k in range(N):
        value = post_trace[b, k] * d
        if post[b, k]:
            value += a
        post_trace[b, k] = value


# callees first: a kernel calls the compiled kernels above it (module globals at compile time)
spike_pairs = _jit(_spike_pairs)
propagate = _jit(_propagate)
lif_row = _jit(_lif_row)
lif_range = _jit(_lif_range)
lif_member = _jit(_lif_member)
traces_member = _jit(_traces_member)
lif_step = _jit(_lif_step)
izhikevich_step = _jit(_izhikevich_step)

propagate_scaled = _jit(_propagate_scaled)
propagate_sparse = _jit(_propagate_sparse)
add_zeta_sparse = _jit(_add_zeta_sparse)
update_traces = _jit(_update_traces)
add_zeta = _jit(_add_zeta)
add_zeta_lists = _jit(_add_zeta_lists)
add_zeta_member = _jit(_add_zeta_member)
apply_eligibility = _jit(_apply_eligibility)
fold_trace = _jit(_fold_trace)
tick_rewards = _jit(_tick_rewards)
regular_steps = _jit(_regular_steps)
uniforms_from_raw = _jit(_uniforms_from_raw)
all_finite = _jit(_all_finite)
pcg64_next = None if numba is None else numba.njit(cache=True, nogil=True, inline="always")(
    _pcg64_next)
poisson_chunk = _jit(_poisson_chunk)
row_pairs = _jit(_row_pairs)
keep_live = _jit(_keep_live)
segment_split = _jit(_segment_split)
run_tick = _jit(_run_tick)  # calls the compiled kernels above (module globals at compile time)
run_tick_izhikevich = _jit(_run_tick_izhikevich)
run_tick_sparse = _jit(_run_tick_sparse)


def _jit_parallel(function):
    # compiled on first use, run in numba's threads (numba.set_num_threads)
    if numba is None:
        return None
    return numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)(function)


def _renamed(function, name: str):
    # The same code under another name, for a second compiled variant of one function.
    # numba's cache files are named after the function's module, qualified name and line,
    # and an entry's key is its signature and bytecode, not the compile flags: run_tick and a
    # parallel=True dispatcher of the same function would share one cache file and load each
    # other's machine code (the one-thread tick running the threaded code, or threads = 2
    # running the serial code, whichever was compiled first).
    code = function.__code__
    names = {"co_name": name}
    if hasattr(code, "co_qualname"):  # Python >= 3.11
        names["co_qualname"] = name
    copy = types.FunctionType(code.replace(**names), function.__globals__, name,
                              function.__defaults__, function.__closure__)
    copy.__qualname__ = name
    copy.__module__ = function.__module__
    return copy


# the same tick with the members in parallel threads (its own cache file: _renamed)
run_tick_members = _jit_parallel(_renamed(_run_tick, "_run_tick_members"))
# a feed-forward tick without learning, blocks of neurons in parallel threads, and the same
# for one block on the calling thread (without numba's threads; its own cache file)
run_tick_blocks = _jit_parallel(_run_tick_blocks)
run_tick_blocks_serial = _jit(_renamed(_run_tick_blocks, "_run_tick_blocks_serial"))


class SpikeIndex:
    """Preallocated ``(member, neuron)`` buffers for :func:`spike_pairs` of one ``(B, n)`` array."""

    def __init__(self, shape):
        size = int(np.prod(shape))
        self.bb = np.zeros(size, dtype=np.int64)
        self.jj = np.zeros(size, dtype=np.int64)

    def __call__(self, spikes: np.ndarray) -> tuple:
        """``np.nonzero(spikes)`` as views into the buffers (valid until the next call)."""
        count = spike_pairs(spikes, self.bb, self.jj)
        return self.bb[:count], self.jj[:count]


def synapse_index(mask: np.ndarray) -> tuple:
    """Flat positions of the existing synapses of each member, concatenated.

    Returns ``(index, starts)``: member ``b``'s positions in ``mask[b].ravel()``
    are ``index[starts[b]:starts[b + 1]]``, ascending.
    """
    flat = mask.reshape(mask.shape[0], -1)
    parts = [np.flatnonzero(row) for row in flat]
    starts = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([p.size for p in parts], out=starts[1:])
    index = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return index, starts


def synapse_lists(mask: np.ndarray) -> tuple:
    """The synapses of a dense ``(B, P, N)`` mask by column and by row, for :func:`add_zeta_lists`.

    Returns ``(col_start, col_rows, row_start, row_cols)``: member ``b``'s synapses
    onto neuron ``k`` come from the rows ``col_rows[col_start[b, k]:col_start[b, k + 1]]``
    and those out of row ``j`` go to the columns
    ``row_cols[row_start[b, j]:row_start[b, j + 1]]``, both ascending (offsets into the
    whole list, members one after another).
    """
    B, P, N = mask.shape
    col_start = np.zeros((B, N + 1), dtype=np.int64)
    row_start = np.zeros((B, P + 1), dtype=np.int64)
    cols, rows, offset = [], [], 0
    for b in range(B):
        jj, kk = np.nonzero(mask[b])  # row-major: by row, columns ascending
        order = np.argsort(kk, kind="stable")  # by column, rows ascending
        rows.append(jj[order])
        cols.append(kk)
        col_start[b, 1:] = np.cumsum(np.bincount(kk, minlength=N))
        row_start[b, 1:] = np.cumsum(np.bincount(jj, minlength=P))
        col_start[b] += offset
        row_start[b] += offset
        offset += jj.size
    empty = np.zeros(0, dtype=np.int64)
    col_rows = np.concatenate(rows).astype(np.int64) if rows else empty
    row_cols = np.concatenate(cols).astype(np.int64) if cols else empty
    return col_start, col_rows, row_start, row_cols


def per_member(value, batch_size: int, dtype) -> np.ndarray:
    """A scalar or ``(B, 1)`` parameter as a contiguous ``(B,)`` array of ``dtype``."""
    return np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype).reshape(-1),
                                                (batch_size,)))
