"""The closed loop in one compiled call: observation, network tick, game step and reward.

A reinforcement-learning loop calls, per network tick::

    observation = adapter.observations(obs, B)          # the game's state in
    action = network.tick(observation, info)             # encode, spikes, readout
    obs, reward, terminated, truncated, info = env.step(adapter.actions(action, B))
    network.reward(action=action, game_reward=reward, info=info, ...)

With short ticks the Python around the simulation (encoding, readout, the game's
step and its bookkeeping, the rewarder, a dozen dispatches) costs more than the
simulation itself. :class:`ClosedLoop` runs exactly these four lines, and when
the network, the game and the adapter are parts it knows it runs all of them in
ONE numba call per tick, from a plan of the parts' arrays built once and kept
between calls (rebuilt when a part is ``set()``, the network switches between
``train()`` and ``eval()``, or a seeded reset gives a game a new generator):

- :class:`~spikey.snn.input.Population` encoding (Poisson spikes): the Gaussian
  tuning curves, their ``exp`` through numpy's own compiled ufunc loop (so the
  rounding is numpy's, not the C library's), the input spikes from the part's
  random blocks (refilled from the members' numpy Generators inside the call: numba
  draws from the same bit generators, the same numbers);
- the network's fused tick, :func:`spikey.snn.kernels.run_tick`, with the
  arguments :meth:`Engine.tick_arguments <spikey.snn.engine.Engine.tick_arguments>`
  gives;
- :class:`~spikey.snn.readout.TopAction` (group rates summed in numpy's
  pairwise order, the first largest group);
- :class:`~spikey.games.CartPole` (discrete actions) in a
  :class:`~spikey.games.GameVectorEnv`: the Euler step of ``CartPole._step_one``
  per member, gymnasium's ``NEXT_STEP`` autoreset with the member's random
  stream, the episode counters and truncation;
- :class:`~spikey.snn.reward.RewardPredictionError` (``source='game'``) and
  MSTDP's / MSTDPET's tick reward (:func:`spikey.snn.kernels.tick_rewards`,
  as :meth:`Engine.reward` applies it).

Every operation is the reference path's, in the same order, so both give the
same bits (``unit_tests/test_closed_loop_fused.py`` runs them side by side);
whatever the compiled call does not cover (another game, part or rule, paused
members, monitors, modifiers, a non-finite observation) runs the four lines above
in Python for that call. :meth:`ClosedLoop.run` runs many ticks in one compiled
call (the Python call's own cost then spreads over them).
:func:`spikey.games.run.run_episode` plays its ticks through a ClosedLoop where the parts
fit it, while every member plays (a compiled run stops after a tick in which a member's
episode ended, or after which the network state holds inf or NaN).

Examples
--------
>>> env = gymnasium.make_vec("spikey/CartPole-v0", num_envs=1)       # doctest: +SKIP
>>> adapter = EnvAdapter(env)                                         # doctest: +SKIP
>>> net = spikey.Network.from_config(adapter.network_config())        # doctest: +SKIP
>>> loop = ClosedLoop(net, env, adapter)                              # doctest: +SKIP
>>> obs, info = loop.reset(seed=0)                                    # doctest: +SKIP
>>> obs, reward, terminated, truncated, info = loop.step()            # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
from operator import attrgetter

import numpy as np

from spikey.snn import kernels
from spikey.snn.health import StateCheck, _table_check

numba = kernels.numba

_REWARD_TYPES = {"alive": 0, "failure": 1, "shaped": 2}
_SLOTS = ("inputs", "neurons", "weights", "synapses", "readout", "rewarder")


# ---------------------------------------------------------------- numpy's exp, callable from numba
class _CallInfo(ctypes.Structure):
    # NumPy's "numpy_1.24_ufunc_call_info" capsule (ufunc._get_strided_loop's notes)
    _fields_ = [("loop", ctypes.c_void_p), ("context", ctypes.c_void_p),
                ("auxdata", ctypes.c_void_p), ("requires_pyapi", ctypes.c_ubyte),
                ("no_floatingpoint_errors", ctypes.c_ubyte)]


def numpy_loop(ufunc) -> tuple | None:
    """NumPy's compiled strided loop of a one-input float64 ufunc (e.g. ``np.exp``).

    ``np.exp`` rounds differently from the C library's ``exp`` that numba calls
    (numpy has its own SIMD implementation), so a compiled path that must equal
    numpy bit for bit calls numpy's loop itself.

    Parameters
    ----------
    ufunc : numpy.ufunc
        A unary ufunc with a float64 -> float64 loop.

    Returns
    -------
    tuple or None
        ``(capsule, loop, context, auxdata)``: the capsule owns the loop's data
        (keep it alive while the pointers are used); the rest are addresses for
        :func:`_call_loop`. None when this numpy has no such interface or the loop
        needs the GIL.
    """
    try:
        _, capsule = ufunc._resolve_dtypes_and_context((np.dtype(np.float64),) * 2)
        ufunc._get_strided_loop(capsule, fixed_strides=(8, 8))
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        info = _CallInfo.from_address(get(capsule, b"numpy_1.24_ufunc_call_info"))
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - other numpy versions
        return None
    if info.requires_pyapi or not info.loop:  # pragma: no cover
        return None
    return capsule, int(info.loop), int(info.context or 0), int(info.auxdata or 0)


if numba is not None:
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.experimental import structref
    from numba.extending import intrinsic

    @intrinsic
    def _call_loop(typingctx, loop, context, data, dimensions, strides, auxdata):
        # int loop(context, char **data, npy_intp *dimensions, npy_intp *strides, auxdata)
        sig = types.int32(types.intp, types.intp, types.intp, types.intp, types.intp,
                          types.intp)

        def codegen(cgctx, builder, signature, args):
            pointer = ir.IntType(8).as_pointer()
            function = ir.FunctionType(ir.IntType(32), [pointer] * 5)
            target = builder.inttoptr(args[0], function.as_pointer())
            return builder.call(target, [builder.inttoptr(a, pointer) for a in args[1:]])

        return sig, codegen

    @intrinsic
    def _cycles(typingctx):
        # the CPU's time-stamp counter (rdtsc on x86): section timings for the benchmark
        def codegen(cgctx, builder, signature, args):
            function = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(64), []), "llvm.readcyclecounter")
            return builder.call(function, [])

        return types.int64(), codegen

    def _unowned(context, builder, kind, value):
        # ``value`` of type ``kind`` with its arrays' meminfo (and parent) pointers null: numba's
        # reference counting skips a null meminfo, so a tuple of arrays loaded this way costs no
        # atomic increment and decrement per array (about 7 ns each, ~0.75 us for the ~50 arrays
        # of kernels.run_tick's arguments). Only for arrays something else keeps alive.
        if isinstance(kind, types.Array):
            array = cgutils.create_struct_proxy(kind)(context, builder, value=value)
            array.meminfo = cgutils.get_null_value(array.meminfo.type)
            array.parent = cgutils.get_null_value(array.parent.type)
            return array._getvalue()
        if isinstance(kind, types.BaseTuple):
            for i, member in enumerate(kind):
                item = _unowned(context, builder, member, builder.extract_value(value, i))
                value = builder.insert_value(value, item, i)
            return value
        if context.enable_nrt:  # anything else: a new reference, as numba's getattr gives
            context.nrt.incref(builder, kind, value)
        return value

    class _PlanType(types.StructRef):
        def preprocess_fields(self, fields):
            return tuple((name, types.unliteral(kind)) for name, kind in fields)

    # structref.register(_PlanType) with one difference: reading a field (``p.x``) gives its
    # arrays without reference counts (_unowned). The plan owns them for the whole call:
    # nothing compiled replaces a field (the setter below serves the constructor only), the
    # caller's reference keeps the plan alive, and no kernel keeps or returns an array it
    # was given. numba's own getter increments and decrements every array read, atomically:
    # ~150 such pairs per tick, ~0.75 us for kernels.run_tick's argument tuple alone.
    from numba.core import imputils
    from numba.core.datamodel import models
    from numba.core.datamodel import default_manager
    from numba.core.typing.templates import AttributeTemplate, infer_getattr

    default_manager.register(_PlanType, models.StructRefModel)

    @infer_getattr
    class _PlanAttribute(AttributeTemplate):
        key = _PlanType

        def generic_resolve(self, typ, attr):
            return typ.field_dict.get(attr)

    @imputils.lower_getattr_generic(_PlanType)
    def _plan_getattr(context, builder, typ, val, attr):
        data = structref._Utils(context, builder, typ).get_data_struct(val)
        return _unowned(context, builder, typ.field_dict[attr], getattr(data, attr))

    @imputils.lower_setattr_generic(_PlanType)
    def _plan_setattr(context, builder, sig, args, attr):
        # structref's own setter (the proxy's constructor stores each field through it)
        (plan, kind), (instance, value) = sig.args, args
        data = structref._Utils(context, builder, plan).get_data_struct(instance)
        value = context.cast(builder, value, kind, plan.field_dict[attr])
        old = getattr(data, attr)
        context.nrt.incref(builder, kind, value)
        context.nrt.decref(builder, kind, old)
        setattr(data, attr, value)

    class _Plan(structref.StructRefProxy):
        """The arrays of one closed loop, held natively by numba (passed as one pointer)."""

    _FIELDS = (
        # the network's fused tick: kernels.run_tick's arguments, in order
        "tick",
        # activity and the observation -> Population encoding
        "active", "x", "low", "high", "centres", "sigma", "max_rate", "dt_s", "z", "probability",
        "exp_loop", "exp_context", "exp_aux", "exp_data", "exp_dims", "exp_strides",
        # the input spikes: random blocks, their position, a pre-drawn tick, the spike arrays
        "in_buffer", "in_position", "in_block", "in_generators", "in_spikes", "tick_inputs",
        # readout (TopAction)
        "tick_spikes", "first_output", "counts", "rate_factor", "n_actions", "rates", "groups",
        "action",
        # the game (CartPole in a GameVectorEnv)
        "state", "normal_sign", "last_force", "params", "reward_type", "g_buffer", "g_position",
        "g_block", "g_generators", "init_low", "init_span", "autoreset", "elapsed", "max_steps", "rewards",
        "terminated", "truncated", "obs", "action_start",
        # the rewarder and the rule's tick reward (kernels.tick_rewards)
        "baseline", "baseline_rate", "signals", "apply", "plastic", "rate", "scaled", "dt",
        "scale_state", "weights", "eligibility", "index", "starts", "step_cast", "members",
        "w_low", "w_high", "dense", "clear",
        # run(): each tick's rewards and episode ends, _CHUNK ticks per call
        "h_rewards", "h_terminated", "h_truncated",
        # run_episode's runs: stop after a tick in which a member's episode ended; the state's
        # finite check after every tick (spikey.snn.health's table; bad[0]: it failed)
        "stop_on_end", "finite", "check_finite", "bad",
        # section timings (benchmark)
        "timing", "stamps",
    )
    structref.define_proxy(_Plan, _PlanType, list(_FIELDS))

    def _new_plan(*fields):
        # _Plan(*fields) in a cached compiled function: the proxy's own constructor is compiled
        # anew in every process (about 3.5 s for the plan's ~80 fields), this one is loaded
        return _Plan(*fields)

    _new_plan = numba.njit(cache=True)(_new_plan)


def _pairwise_sum(a, start, n):
    # numpy's pairwise summation of float64 a[start:start + n] (DOUBLE_pairwise_sum, stride 1)
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
        r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
        i = 8
        while i < n - (n % 8):
            r0 += a[start + i]
            r1 += a[start + i + 1]
            r2 += a[start + i + 2]
            r3 += a[start + i + 3]
            r4 += a[start + i + 4]
            r5 += a[start + i + 5]
            r6 += a[start + i + 6]
            r7 += a[start + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[start + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(a, start, n2) + _pairwise_sum(a, start + n2, n - n2)


def _theta_acc(params, force, sin, cos, theta_dot, sigma):
    # CartPole._theta_acc, the same operations in the same order
    g, mc, m, l = params[0], params[1], params[2], params[3]
    mu_c, mu_p = params[6], params[7]
    total, ml = mc + m, m * l
    inner = (-force - ml * (theta_dot * theta_dot) * (sin + mu_c * sigma * cos)) / total
    numerator = g * sin + cos * (inner + mu_c * g * sigma) - mu_p * theta_dot / ml
    return numerator / (l * (4.0 / 3.0 - m * (cos * (cos - mu_c * sigma)) / total))


def _state_reward(p, b):
    # CartPole's reward and termination of member b's current state (no step)
    x, theta = p.state[b, 0], p.state[b, 2]
    x_bound, theta_bound = p.params[8], p.params[9]
    terminated = abs(x) > x_bound or abs(theta) > theta_bound
    if p.reward_type == 0:
        reward = 1.0
    elif p.reward_type == 1:
        reward = -1.0 if terminated else -0.0
    elif terminated:
        reward = -1.0
    else:
        a, c = theta / theta_bound, x / x_bound
        reward = 1.0 - 0.5 * (a * a) - 0.5 * (c * c)
    return reward, terminated


def _cartpole_member(p, b, action):
    # CartPole._step_one for member b (discrete actions)
    params = p.params
    force = params[4] if action == 1 else -params[4]
    x, x_dot, theta, theta_dot = p.state[b, 0], p.state[b, 1], p.state[b, 2], p.state[b, 3]
    sin, cos = np.sin(theta), np.cos(theta)
    m, total = params[2], params[1] + params[2]
    ml = m * params[3]
    gravity, mu_c, tau = params[0], params[6], params[5]
    sign_x_dot = 1.0 if x_dot > 0 else (-1.0 if x_dot < 0 else 0.0)
    normal_sign = p.normal_sign[b]
    sigma = normal_sign * sign_x_dot
    theta_acc = _theta_acc(params, force, sin, cos, theta_dot, sigma)
    normal = total * gravity - ml * (theta_acc * sin + theta_dot * theta_dot * cos)
    if mu_c != 0.0:
        sign = -1.0 if normal < 0 else 1.0
        if sign != normal_sign:
            sigma = sign * sign_x_dot
            theta_acc = _theta_acc(params, force, sin, cos, theta_dot, sigma)
            normal = total * gravity - ml * (theta_acc * sin + theta_dot * theta_dot * cos)
        p.normal_sign[b] = -1.0 if normal < 0 else 1.0
    temp = (force + ml * (theta_dot * theta_dot) * sin) / total
    x_acc = temp - ml * theta_acc * cos / total - mu_c * normal * sigma / total
    x, theta = x + tau * x_dot, theta + tau * theta_dot
    p.state[b, 0], p.state[b, 1] = x, x_dot + tau * x_acc
    p.state[b, 2], p.state[b, 3] = theta, theta_dot + tau * theta_acc
    p.last_force[b] = force
    return _state_reward(p, b)


def _refill(generator, buffer, b):
    # RandomBlocks._refill / MemberRandom's refill of member b: generator.random(dtype,
    # out=buffer[b]) (numba's Generator draws from the same bit generator, same numbers)
    flat = buffer[b].reshape(-1)
    if buffer.itemsize == 4:  # float32 (the only other dtype is float64)
        fresh32 = generator.random(size=flat.size, dtype=np.float32)
        for i in range(flat.size):
            flat[i] = fresh32[i]
    else:
        fresh64 = generator.random(size=flat.size)
        for i in range(flat.size):
            flat[i] = fresh64[i]


def _loop_step(p, ticks):
    # Up to `ticks` closed-loop ticks in one call (see the module docstring; 0: nothing, it
    # compiles). Returns how many ran: fewer when a tick is refused (paused members, a
    # non-finite observation), which changes nothing (the caller runs that tick in Python).
    # With more than one tick, tick i's rewards and episode ends go to row i of the history.
    # The tick's kernel arguments are loaded from the plan once per call (a tuple of ~50
    # arrays; the plan's getter counts no references: see _PlanType).
    tick = p.tick
    for n in range(ticks):
        timing = p.timing[0]
        if timing:
            t0 = _cycles()
        B, D = p.x.shape
        T = p.tick_inputs.shape[1]
        for b in range(B):
            if not p.active[b]:
                return n
        for b in range(B):  # adapter.observations(observe()) as Population._batched reads it
            for d in range(D):
                value = np.float64(np.float32(p.state[b, d]))
                if not np.isfinite(value):
                    return n
                p.x[b, d] = value
        # ---- Population.encode: max_rate * exp(-0.5 * ((clip(x) - c) / sigma) ** 2) * dt
        K = p.centres.shape[1]
        z = p.z
        i = 0
        for b in range(B):
            for d in range(D):
                c = p.x[b, d]
                c = c if c >= p.low[d] else p.low[d]
                c = c if c <= p.high[d] else p.high[d]
                s = p.sigma[d, 0]
                for k in range(K):
                    value = c - p.centres[d, k]
                    value = value / s
                    value = value * value
                    z[i] = value * -0.5
                    i += 1
        p.exp_data[0] = z.ctypes.data
        p.exp_data[1] = z.ctypes.data
        p.exp_dims[0] = z.size
        _call_loop(p.exp_loop, p.exp_context, p.exp_data.ctypes.data, p.exp_dims.ctypes.data,
                   p.exp_strides.ctypes.data, p.exp_aux)
        probability = p.probability
        n_in = probability.shape[1]
        i = 0
        for b in range(B):
            for j in range(n_in):
                value = z[i] * p.max_rate
                value = value * p.dt_s
                probability[b, j] = value
                i += 1
        # ---- the tick's Poisson input spikes: RandomBlocks.take, each member at its own position
        # (members of a batch whose earlier episodes ended on different ticks are out of step;
        # each member's block is refilled from its own generator when it runs out), then np.less
        for b in range(B):
            position = p.in_position[b]
            for t in range(T):
                if position >= p.in_block:
                    _refill(p.in_generators[b], p.in_buffer, b)
                    position = 0
                for j in range(n_in):
                    p.tick_inputs[b, t, j] = p.in_buffer[b, position, j] < probability[b, j]
                position += 1
            p.in_position[b] = position
            for j in range(n_in):
                p.in_spikes[b, j] = p.tick_inputs[b, T - 1, j]
        if timing:
            t1 = _cycles()
        # ---- the network's steps
        kernels.run_tick(*tick)
        if timing:
            t2 = _cycles()
        # ---- readout: output counts, group rates (numpy's pairwise sums), the first largest group
        n_out = p.counts.shape[1]
        first = p.first_output
        A = p.n_actions
        per_group = n_out // A
        for b in range(B):
            for k in range(n_out):
                count = 0
                for t in range(T):
                    if p.tick_spikes[b, t, first + k]:
                        count += 1
                p.counts[b, k] = count
                p.rates[k] = np.float64(count) * p.rate_factor
            best = 0
            for a in range(A):
                value = 0.0 + _pairwise_sum(p.rates, a * per_group, per_group)
                value = value / per_group
                p.groups[a] = value
                if value > p.groups[best]:
                    best = a
            p.action[b] = best
        if timing:
            t3 = _cycles()
        # ---- the game: GameVectorEnv.step with NEXT_STEP autoreset, CartPole per member
        for b in range(B):
            resetting = p.autoreset[b]
            if resetting:  # the array path with the member inactive: state unchanged, reward * 0
                reward, terminated = _state_reward(p, b)
                position = p.g_position[b]
                if position >= p.g_block:  # MemberRandom.uniform refills the member's block
                    _refill(p.g_generators[b], p.g_buffer, b)
                    position = 0
                for d in range(4):
                    p.state[b, d] = p.init_low[d] + p.g_buffer[b, position, d] * p.init_span[d]
                p.g_position[b] = position + 1
                p.normal_sign[b] = 1.0
                p.last_force[b] = 0.0
                p.elapsed[b] = 0
                p.rewards[b] = reward * 0.0
                p.terminated[b] = False
                p.truncated[b] = False
                p.autoreset[b] = False
            else:
                reward, terminated = _cartpole_member(p, b, p.action[b] + p.action_start)
                elapsed = p.elapsed[b] + 1
                p.elapsed[b] = elapsed
                p.rewards[b] = reward * 1.0
                cut = p.max_steps > 0 and elapsed >= p.max_steps
                p.terminated[b] = terminated
                p.truncated[b] = cut
                p.autoreset[b] = terminated or cut
            for d in range(D):
                p.obs[b, d] = np.float32(p.state[b, d])
        if timing:
            t4 = _cycles()
        # ---- RewardPredictionError (source 'game'), then the rule's tick reward
        for b in range(B):
            error = p.rewards[b] - p.baseline[b]
            p.signals[0, b] = error
            p.baseline[b] += p.baseline_rate * error
        if p.apply:
            mult = p.dt * p.scale_state[0] if p.scaled else 1.0
            kernels.tick_rewards(p.signals, p.plastic, p.rate, p.scaled, mult, p.weights,
                                 p.eligibility, p.index, p.starts, p.step_cast, p.members,
                                 p.w_low, p.w_high, p.dense, p.clear)
        if timing:  # the sections' cycles: summed in row 0, call by call in the rows after it
            t5 = _cycles()
            sums = p.stamps[0]
            s0, s1, s2, s3, s4 = t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4
            records = p.stamps.shape[0] - 1
            if records > 0:
                row = p.stamps[1 + sums[5] % records]
                row[0], row[1], row[2], row[3], row[4] = s0, s1, s2, s3, s4
            sums[0] += s0
            sums[1] += s1
            sums[2] += s2
            sums[3] += s3
            sums[4] += s4
            sums[5] += 1
        if ticks > 1:
            for b in range(B):
                p.h_rewards[n, b] = p.rewards[b]
                p.h_terminated[n, b] = p.terminated[b]
                p.h_truncated[n, b] = p.truncated[b]
        if p.check_finite[0] and not _table_check(p.finite):
            p.bad[0] = True  # the state holds inf or NaN after this tick: stop here
            return n + 1
        if p.stop_on_end[0]:
            for b in range(B):
                if p.terminated[b] or p.truncated[b]:
                    return n + 1
    return ticks


def _read_cycles():
    return _cycles()


def _set_game_generators(p, generators):
    # the plan's games' generators replaced (a seeded reset gave members new ones; same types)
    p.g_generators = generators


if numba is not None:
    _pairwise_sum = kernels._jit(_pairwise_sum)
    _theta_acc = kernels._jit(_theta_acc)
    _state_reward = kernels._jit(_state_reward)
    _cartpole_member = kernels._jit(_cartpole_member)
    _refill = kernels._jit(_refill)
    _loop_step = kernels._jit(_loop_step)
    _read_cycles = kernels._jit(_read_cycles)
    _set_game_generators = kernels._jit(_set_game_generators)
    _EXP = numpy_loop(np.exp)
else:  # pragma: no cover
    _EXP = None


def tick_arguments(engine, network, plan) -> tuple | None:
    """:func:`spikey.snn.kernels.run_tick`'s arguments for ``network``'s LIF tick, in order, as
    :meth:`Engine.tick_arguments <spikey.snn.engine.Engine.tick_arguments>` gives them (the
    tick's input spikes are ``network.tick_input_spikes``, filled before the call).

    Parameters
    ----------
    engine : spikey.snn.engine.Engine
    network : spikey.Network
    plan : spikey.snn.engine.TickPlan
        A LIF plan from :meth:`Engine.plan <spikey.snn.engine.Engine.plan>`.

    Returns
    -------
    tuple or None
        None when the engine does not offer them.
    """
    own = getattr(engine, "tick_arguments", None)
    return None if own is None else tuple(own(network, plan))


def _cycles_now() -> int:
    return int(_read_cycles())


def tsc_rate(seconds: float = 0.1) -> float:
    """Time-stamp counter cycles per second (what :attr:`ClosedLoop.stamps` counts).

    Parameters
    ----------
    seconds : float
        How long to measure against ``time.perf_counter``.

    Returns
    -------
    float
    """
    import time

    _read_cycles()
    t0, c0 = time.perf_counter(), _read_cycles()
    time.sleep(seconds)
    c1, t1 = _read_cycles(), time.perf_counter()
    return (c1 - c0) / (t1 - t0)


# ---------------------------------------------------------------- the loop
_REVISION = attrgetter("_revision")


_RECORDS = 8192  # calls whose section timings the stamps keep one by one
_CHUNK = 256  # ticks per compiled call of run()


class _Revisionless:
    _revision = 0  # stands in for an absent part in the revision sum


class ClosedLoop:
    """A network playing a batch of games: per :meth:`step` one tick, one game step, its reward.

    Parameters
    ----------
    network : spikey.Network
        ``B = network.batch_size`` members in reward mode ``'tick'`` or ``'none'``.
    env : gymnasium.vector.VectorEnv or gymnasium.Env
        ``B`` games with ``NEXT_STEP`` autoreset (e.g. ``gymnasium.make_vec(...)``; a
        single Env when ``B = 1``).
    adapter : EnvAdapter, optional
        Converts observations and actions; default ``EnvAdapter(env)``.
    fused : bool
        Run the compiled call when the parts allow it (False: always the
        reference path, the four lines of the module docstring).

    Raises
    ------
    ConfigError
        ``network.reward_mode = 'step'`` (its rewards need ``info['expected']`` inside
        the tick; use :func:`spikey.games.run.run_episode`).

    Notes
    -----
    On the compiled path the arrays :meth:`step` returns, ``network.last_action`` and
    :attr:`signal` belong to the loop and are overwritten by the next step (copy what
    you keep). A step acts on the observations the previous step (or :meth:`reset`)
    returned: reset the games through :meth:`reset`, not the env directly. The plan
    of the compiled call is rebuilt when a part is ``set()`` or the network switches
    between ``train()`` and ``eval()``; a part that replaces one of its arrays by
    other means must bump its ``_revision``.
    """

    def __init__(self, network, env, adapter=None, fused: bool = True):
        from spikey.games.adapters import EnvAdapter
        from spikey.games.run import as_vector_env

        B = network.batch_size
        self.network, self.env = network, as_vector_env(env, B)
        self.adapter = EnvAdapter(self.env) if adapter is None else adapter
        if network.reward_mode == "step":
            from spikey.core.params import ConfigError

            raise ConfigError("ClosedLoop: network.reward_mode = 'step' rewards inside the tick "
                              "from info['expected']; expected 'tick' (the game's reward after "
                              "each tick) or 'none'")
        self.fused = bool(fused) and kernels.AVAILABLE
        self._obs = self._info = None
        self._plan = None  # the structref of the compiled call, when one is built and current
        self._refused = None  # the key under which the last build was refused
        self._why = "not built yet"
        self._timing = False
        self._arrays = None
        self._history = None  # the plan's rows of run()'s ticks
        #: Whether the last :meth:`step` ran the compiled call.
        self.last_fused = False
        self._signal = self._fused_signal = None
        self._parts = tuple(network.parts[slot] for slot in _SLOTS
                            if network.parts[slot] is not None)
        for part in self._parts:  # Part.set() bumps _revision; the plan's key reads it
            if not hasattr(part, "_revision"):
                part._revision = 0

    # ------------------------------------------------------------ public
    def reset(self, seed=None, options=None):
        """Reset the games (the vector env's ``reset``) and start the network's episode.

        The network's state is left as it is (call ``network.reset()`` for a fresh
        one); ``network.begin_episode()`` runs.

        Parameters
        ----------
        seed : int or list of int, optional
            As for the vector env's ``reset``.
        options : dict, optional
            As for the vector env's ``reset``.

        Returns
        -------
        tuple
            ``(observations, infos)`` of the vector env.
        """
        self.network.begin_episode()
        self._obs, self._info = self.env.reset(seed=seed, options=options)
        if self.last_fused:  # the observations are the reset's now
            self._signal = self._fused_signal.copy()
            self.last_fused = False
        self._refused = None  # a refusal (e.g. games not reset yet) may not hold any more
        generators = self.env.game.random.generators
        if self._plan is not None and any(g is not h for g, h in zip(generators,
                                                                     self._generators)):
            # a seed gave a member a new generator: the plan takes the new ones (the plan's
            # build costs ~1 ms, about a short episode; run_episode resets with seeds each time)
            try:
                _set_game_generators(self._plan, tuple(generators))
                self._generators = list(generators)
            except Exception:  # noqa: BLE001 - another type (or none): build the plan anew
                self._plan = None
                self.__dict__.pop("step", None)
        return self._obs, self._info

    def step(self):
        """One network tick on the current observations, the games' step with its actions and
        the tick's reward (``network.reward``).

        Returns
        -------
        tuple
            ``(observations, rewards, terminated, truncated, infos)`` as the vector env
            returns them.

        Raises
        ------
        RuntimeError
            Before :meth:`reset`.
        """
        if self._obs is None:
            raise RuntimeError("ClosedLoop.step: call reset() first")
        if self.fused and self._refresh():
            return self._fast_step()  # the plan's own step (see _make_fast_step)
        return self._reference_step()

    def run(self, ticks: int) -> tuple:
        """:meth:`step` ``ticks`` times, in one compiled call while the plan allows.

        Parameters
        ----------
        ticks : int
            Closed-loop steps (network ticks, game steps, rewards) to run.

        Returns
        -------
        tuple
            ``(rewards, terminated, truncated)``, each ``(ticks, B)``: what the games
            returned at each step (float64, bool, bool). The last step's observations and
            infos are those :meth:`step` would have returned (``last_observation``).

        Raises
        ------
        ValueError
            ``ticks`` is not an integer >= 0.
        """
        if isinstance(ticks, bool) or not isinstance(ticks, (int, np.integer)) or ticks < 0:
            raise ValueError(f"ClosedLoop.run: ticks = {ticks!r}; expected an integer >= 0")
        ticks, B = int(ticks), self.network.batch_size
        history, done, first = self._history, 0, 0
        if 1 < ticks <= _CHUNK and self._valid():
            # the common case first: the whole run in one compiled call, its history rows are
            # the result (copies: no zeroed arrays filled row by row, ~2 us less per call)
            first = done = self._run(self._plan, ticks)
            if done:
                self._count_fused(done)
            if done == ticks:
                return history[0][:ticks].copy(), history[1][:ticks].copy(), \
                    history[2][:ticks].copy()
        rewards = np.zeros((ticks, B), dtype=np.float64)
        terminated = np.zeros((ticks, B), dtype=bool)
        truncated = np.zeros((ticks, B), dtype=bool)
        if first:  # a tick was refused after `first` ran: those rows, then the loop below
            rewards[:first], terminated[:first] = history[0][:first], history[1][:first]
            truncated[:first] = history[2][:first]
        while done < ticks:
            if self._valid():
                # (the fast step's checks, then as many compiled ticks as go through)
                start = done
                while done < ticks:  # chunks of the plan's history rows
                    n = min(ticks - done, _CHUNK)
                    ran = self._run(self._plan, n) if n > 1 else 0
                    if ran:
                        rows = slice(done, done + ran)
                        rewards[rows] = history[0][:ran]
                        terminated[rows] = history[1][:ran]
                        truncated[rows] = history[2][:ran]
                        done += ran
                    if ran < n or n == 1:
                        break
                if done > start:
                    self._count_fused(done - start)
                if done == ticks:
                    break
            _, reward, ended, cut, _ = self.step()  # one tick in Python (or after a rebuild)
            history = self._history  # (a rebuilt plan has its own)
            rewards[done], terminated[done], truncated[done] = reward, ended, cut
            done += 1
        return rewards, terminated, truncated

    def _fused_tick(self) -> bool:
        # one compiled tick if the plan allows it (after a rebuild when needed); False: nothing
        # ran and nothing changed (the caller, e.g. run_episode, runs the tick its own way).
        # The game's arrays in _out then hold the step's observations, rewards and ends.
        if not self.fused or self._obs is None:
            return False
        if not self._valid() and not (self._refresh() and self._valid()):
            return False
        if not self._run(self._plan, 1):
            return False
        self._count_fused(1)
        return True

    def _episode_run(self, ticks: int, table):
        # run_episode's compiled run: up to `ticks` (2.._CHUNK) ticks in one call, stopping after
        # a tick in which a member's episode ended, or after which the state holds inf or NaN
        # (`table`: StateCheck.compiled_table() of the network, copied into the plan's). Returns
        # (ran, bad): the history rows [:ran] hold the ticks' rewards and ends; bad: the last
        # tick left the state non-finite. (0, False): nothing ran, nothing changed.
        if not self.fused or self._obs is None or not 1 < ticks <= _CHUNK:
            return 0, False
        if not self._valid() and not (self._refresh() and self._valid()):
            return 0, False
        stop, finite, check, bad = self._episode
        if table is None or table.shape != finite.shape:
            return 0, False
        finite[...] = table
        stop[0] = check[0] = True
        bad[0] = False
        try:
            ran = self._run(self._plan, ticks)
        finally:
            stop[0] = check[0] = False
        if ran:
            self._count_fused(ran)
        return ran, bool(bad[0])

    def _valid(self) -> bool:
        # the plan is current and the compiled call may run (the fast step's checks)
        if self._plan is None or self.step is not self._fast_step:
            return False
        network = self.network
        return (network.training is self._training and not network._monitors
                and self.env._autoreset is self._autoreset
                and tuple(map(_REVISION, self._parts)) == self._revisions)

    def _count_fused(self, count):
        # the network's counters and the loop's flags after `count` compiled ticks
        network = self.network
        network.activity.all = True
        network.step_count += self._T * count
        network.tick_count += count
        network.last_action = self._readout.last_action = self._action
        self.last_fused = True

    @property
    def last_observation(self):
        """The observations the next :meth:`step` acts on (as the last step returned them)."""
        return self._obs_buffer if self.last_fused else self._obs

    @property
    def signal(self) -> np.ndarray | None:
        """The learning signal of the last step's tick, ``(B,)`` (what ``network.reward``
        returns; the rewarder's reward minus its baseline)."""
        return self._fused_signal if self.last_fused else self._signal

    @property
    def why_not_fused(self) -> str | None:
        """Why the compiled call is not used (None while it is)."""
        return self._why

    def set_timing(self, on: bool) -> None:
        """Record the time-stamp counter at the compiled call's section boundaries (benchmark).

        Parameters
        ----------
        on : bool
        """
        self._timing = bool(on)
        if self._arrays is not None:
            self._arrays["timing"][0] = self._timing
            if self._timing and self._arrays["stamps"].shape[0] == 1:
                self._plan = None  # rebuild with room for the call-by-call records
                self.__dict__.pop("step", None)

    @property
    def stamps(self) -> np.ndarray | None:
        """Time-stamp counter cycles of the compiled calls while timing is on, by section:
        encoding and input spikes, the network's steps, readout, game, reward.

        ``(1 + R, 8)`` int64: row 0 holds the sums over the timed calls in columns 0-4 and
        their number in column 5; row ``1 + i % R`` the sections of timed call ``i``
        (``R = 8192`` once timing is on, before that 0). Zero it to restart; None before a
        plan is built. :func:`tsc_rate` converts cycles to seconds."""
        return None if self._arrays is None else self._arrays["stamps"]

    # ------------------------------------------------------------ reference path
    def _reference_step(self):
        network, adapter, B = self.network, self.adapter, self.network.batch_size
        if self.last_fused:  # the compiled call left the observations in its buffer
            self._obs, self._info = self._obs_buffer, {}
            network.last_action = self._action
            self.last_fused = False
        observation = adapter.observations(self._obs, B)
        action = network.tick(observation, self._info)
        obs, reward, terminated, truncated, info = self.env.step(adapter.actions(action, B))
        if network.reward_mode == "tick":
            self._signal = network.reward(action=action, game_reward=reward, info=self._info,
                                         terminated=terminated, truncated=truncated)
        self._obs, self._info = obs, info
        return obs, reward, terminated, truncated, info

    # ------------------------------------------------------------ compiled path
    def _key(self) -> tuple:
        return (self.network.training, tuple(map(_REVISION, self._parts)))

    def _refresh(self) -> bool:
        """Make the plan current; False when this step runs the reference path."""
        network, env = self.network, self.env
        if network._monitors or self._obs is None:
            return False
        key = self._key()
        plan = self._plan
        if plan is not None and key == (self._training, self._revisions):
            # only the autoreset flags were replaced (a reference step): take them back
            if env._autoreset is not self._autoreset:
                if np.shape(env._autoreset) != self._autoreset.shape:
                    return False
                self._autoreset[...] = env._autoreset
                env._autoreset = self._autoreset
                return True
            return False  # paused members, a refill: this call in Python
        if key == self._refused:
            return False
        if self.last_fused:  # the old plan's buffers go: keep what they hold
            self._obs, self._info = self._obs_buffer.copy(), {}
            self._signal = self._fused_signal.copy()
            self.last_fused = False
        self._plan = None
        plan = self._build()
        if plan is None:
            self._refused = key
            return False
        self._plan, self._refused = plan, None
        self._training, self._revisions = key
        self._fast_step = self.step = self._make_fast_step()
        return True

    def _make_fast_step(self):
        """:meth:`step` for the current plan: a closure over the plan's objects, installed as
        the instance's ``step``, that checks what the plan depends on and runs the compiled
        call (everything else goes to :meth:`ClosedLoop.step`)."""
        network, env, plan, run = self.network, self.env, self._plan, self._run
        activity, blocks, readout, parts = network.activity, self._blocks, self._readout, self._parts
        training, revisions, autoreset = self._training, self._revisions, self._autoreset
        T, action, out = self._T, self._action, self._out
        slow = ClosedLoop.step
        loop = self
        # Part.set() only ever increases a revision: their sum changes when any one does
        # (TopAction's keys are all fixed at build: its revision never moves)
        settable = tuple(part for part in parts if part is not readout)
        p0, p1, p2, p3, p4 = (settable + (_Revisionless,) * 5)[:5]
        total = sum(part._revision for part in settable)
        if len(settable) > 5:  # pragma: no cover - the slots are six parts, readout included
            raise RuntimeError("ClosedLoop: more parts than the fast step checks")

        def step():
            if (network.training is training and not network._monitors
                    and env._autoreset is autoreset
                    and p0._revision + p1._revision + p2._revision + p3._revision
                    + p4._revision == total):
                if run(plan, 1):
                    network.step_count += T
                    network.tick_count += 1
                    if not loop.last_fused:  # back from a step in Python: take these back
                        activity.all = True
                        network.last_action = readout.last_action = action
                        loop.last_fused = True
                    return (*out, {})
            return slow(loop)

        step.__doc__ = ClosedLoop.step.__doc__
        return step

    # ------------------------------------------------------------ building the plan
    def _refuse(self, why):
        self._why = why
        self._plan = None
        return None

    def _build(self):
        """The structref plan of the compiled call, or None (``why_not_fused`` says why)."""
        from spikey.games.adapters import EnvAdapter
        from spikey.games.cartpole import CartPole
        from spikey.games.template import GameVectorEnv
        from spikey.snn.input.population import Population
        from spikey.snn.readout.readouts import TopAction
        from spikey.snn.reward.rewarders import RewardPredictionError

        network, env, adapter = self.network, self.env, self.adapter
        parts = network.parts
        B, T = network.batch_size, network.processing_steps
        engine = network._engine
        if _EXP is None:
            return self._refuse("numpy offers no compiled exp loop here")
        if engine is None:
            return self._refuse("the network runs no compiled engine (kernels 'numpy', or "
                                "synapse types, delays or split inputs)")
        if network.modifiers or network._monitors or parts["stp"] is not None:
            return self._refuse("modifiers, monitors or short-term plasticity")
        if engine.threads > 1 and B > 1:
            return self._refuse("network.threads > 1")
        if type(env) is not GameVectorEnv or type(env.game) is not CartPole:
            return self._refuse("the env is not spikey's CartPole vector env")
        game = env.game
        if game.action_type != "discrete" or not game._started:
            return self._refuse("continuous CartPole actions, or the games not reset")
        if type(adapter) is not EnvAdapter or adapter.observation_space != game.observation_space \
                or adapter.action_space != game.action_space:
            return self._refuse("the adapter is not EnvAdapter of this env")
        inputs, readout, rewarder = parts["inputs"], parts["readout"], parts["rewarder"]
        synapses, weights = parts["synapses"], parts["weights"]
        if (type(inputs) is not Population or inputs.spike_model != "poisson"
                or np.ndim(inputs.max_rate) != 0 or inputs.n_dims != 4):
            return self._refuse("inputs: not Population with Poisson spikes over 4 values")
        if type(readout) is not TopAction or readout.n_actions != game.action_space.n:
            return self._refuse("readout: not TopAction over the game's actions")
        if network.reward_mode == "tick" and (
                type(rewarder) is not RewardPredictionError or rewarder.source != "game"):
            return self._refuse("rewarder: not RewardPredictionError of the game's reward")
        if network.reward_mode == "none":
            return self._refuse("reward_mode 'none'")
        network._sync_polarity()
        plan = engine.plan(network, network.training, True, None)
        if plan is None:
            return self._refuse("the engine cannot fuse this network's tick")
        from spikey.snn.engine import IzhikevichArrays

        if isinstance(plan.neuron, IzhikevichArrays):
            return self._refuse("Izhikevich neurons")
        apply = bool(network.training and synapses is not None)
        scaled = engine._reward_rule(synapses) if synapses is not None else None
        dtype = network.context.dtype
        if apply:
            rate, plastic = getattr(synapses, "rate", None), network.plastic
            if (scaled is None or not isinstance(rate, np.ndarray) or rate.dtype != np.float64
                    or rate.shape != (B,) or plastic.dtype != np.float64
                    or plastic.shape != (B,) or not synapses.eligibility.flags.c_contiguous):
                return self._refuse("the learning rule's tick reward runs in Python")
            index, starts = synapses._synapse_index(synapses.learning_mask(weights))
            low, high = weights.clip_bounds
            learn = (rate, synapses.eligibility, index, starts, dtype.type(low),
                     dtype.type(high), bool(index.size > 0.25 * synapses.eligibility.size),
                     not scaled, synapses.scale.reshape(1) if scaled else np.ones(1))
        else:
            scaled = False
            learn = (np.zeros(B), np.zeros((1, 1, 1), dtype), np.zeros(0, np.int64),
                     np.zeros(B + 1, np.int64), dtype.type(0), dtype.type(0), False, False,
                     np.ones(1))
        tick = tick_arguments(engine, network, plan)
        if tick is None:
            return self._refuse("the engine does not offer kernels.run_tick's arguments")
        # env bookkeeping arrays the compiled call writes in place
        if env._autoreset.shape != (B,):
            return self._refuse("the env's autoreset flags")
        autoreset = np.array(env._autoreset, dtype=bool)
        env._autoreset = autoreset
        n_in, K = inputs.n_inputs, inputs.n_per_dim
        blocks = inputs.random
        obs = np.zeros((B, 4), dtype=np.float32)
        action = np.zeros(B, dtype=np.int64)
        first_output = network.n_neurons - network.n_outputs
        params = np.array([game.gravity, game.cart_mass, game.pole_mass, game.pole_half_length,
                           game.force_mag, game.tau, game.cart_friction, game.pole_friction,
                           game.x_bound, game.theta_bound], dtype=np.float64)
        signals = np.zeros((1, B), dtype=np.float64)
        timing = np.array([self._timing])
        rows = 1 + (_RECORDS if self._timing else 0)
        stamps = self._arrays["stamps"] if self._arrays is not None else None
        if stamps is None or stamps.shape[0] != rows:
            stamps = np.zeros((rows, 8), dtype=np.int64)
        if any(g is None for g in game.random.generators) or \
                blocks.buffer.dtype not in (np.float32, np.float64) or \
                game.random.buffer.dtype != np.float64:
            return self._refuse("the games' or inputs' random streams")
        rate, eligibility, index, starts, w_low, w_high, dense, clear, scale_state = learn
        table = StateCheck(network).compiled_table() if _table_check is not None else None
        finite = np.zeros((0, 3), np.int64) if table is None else table.copy()
        values = dict(
            tick=tick,
            active=network.activity.mask, x=np.zeros((B, 4)), low=inputs._low, high=inputs._high,
            centres=np.ascontiguousarray(inputs.centres, dtype=np.float64),
            sigma=np.ascontiguousarray(inputs.sigma, dtype=np.float64),
            max_rate=float(inputs.max_rate), dt_s=float(network.context.dt / 1000.0),
            z=np.zeros(B * 4 * K), probability=inputs.probability,
            exp_loop=_EXP[1], exp_context=_EXP[2], exp_aux=_EXP[3],
            exp_data=np.zeros(2, np.intp), exp_dims=np.zeros(1, np.intp),
            exp_strides=np.array([8, 8], np.intp),
            in_buffer=blocks.buffer, in_position=blocks.position, in_block=int(blocks.block),
            in_generators=tuple(blocks.generators), in_spikes=inputs.spikes,
            tick_inputs=network.tick_input_spikes,
            tick_spikes=network.tick_spikes, first_output=int(first_output),
            counts=network._output_counts,
            rate_factor=float(1000.0 / (network.processing_steps * network.dt)),
            n_actions=int(readout.n_actions), rates=np.zeros(network.n_outputs),
            groups=np.zeros(readout.n_actions), action=action,
            state=game.state, normal_sign=game.normal_sign, last_force=game.last_force,
            params=params, reward_type=_REWARD_TYPES[game.reward_type],
            g_buffer=game.random.buffer, g_position=game.random.position,
            g_block=int(game.random.block), g_generators=tuple(game.random.generators),
            init_low=game._init_low, init_span=game._init_span,
            autoreset=autoreset, elapsed=env._elapsed,
            max_steps=int(env.max_episode_steps or 0), rewards=env._rewards,
            terminated=env._terminated, truncated=env._truncated, obs=obs,
            action_start=int(game.action_space.start),
            baseline=rewarder.baseline, baseline_rate=float(rewarder.baseline_rate),
            signals=signals, apply=apply, plastic=network.plastic, rate=rate,
            scaled=bool(scaled), dt=float(network.context.dt), scale_state=scale_state,
            weights=weights.matrix, eligibility=eligibility, index=index, starts=starts,
            step_cast=engine._step_cast, members=engine._members, w_low=w_low, w_high=w_high,
            dense=dense, clear=clear, timing=timing, stamps=stamps,
            h_rewards=np.zeros((_CHUNK, B)), h_terminated=np.zeros((_CHUNK, B), bool),
            h_truncated=np.zeros((_CHUNK, B), bool),
            stop_on_end=np.zeros(1, bool), finite=finite, check_finite=np.zeros(1, bool),
            bad=np.zeros(1, bool))
        for name in ("low", "high", "params", "init_low", "init_span"):
            if values[name].dtype != np.float64:
                return self._refuse(f"{name} is not float64")
        proxy = _new_plan(*(values[name] for name in _FIELDS))
        self._episode = (values["stop_on_end"], finite, values["check_finite"], values["bad"])
        _loop_step(proxy, 0)  # compile (or load from the cache) for this plan's types
        # the compiled entry point: skips the dispatcher's type resolution on every call
        self._run = _loop_step.overloads[(numba.typeof(proxy), numba.int64)].entry_point
        self._history = (values["h_rewards"], values["h_terminated"], values["h_truncated"])
        self._arrays = dict(timing=timing, stamps=stamps)
        self._T, self._blocks = T, blocks
        self._generators = list(game.random.generators)
        self._action, self._obs_buffer, self._autoreset = action, obs, autoreset
        self._readout = readout
        self._out = (obs, env._rewards, env._terminated, env._truncated)
        self._fused_signal = signals[0]
        self._why = None
        return proxy
