"""The closed loop's fixed cost per call: what spikey.snn.closed_loop does to keep it small.

- The plan's fields are read in compiled code without reference counts: numba's own
  structref getter increments and decrements every array it reads (atomically), ~150
  pairs per tick and ~0.75 us per call for ``kernels.run_tick``'s argument tuple alone. The
  arrays read from the plan carry a null meminfo (numba skips the counting then); the
  plan keeps the arrays alive.
- The results stay those of the Python loop, bit for bit (also pinned by
  ``test_closed_loop_fused.py``), and the plan's arrays are neither leaked nor freed early.

Speed itself is measured in ``benchmarks/bench_closed_loop.py``, never here.
"""

import gc
import sys

import numpy as np
import pytest

from spikey.snn import kernels

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def _loops(B=1, T=1, seed=0):
    from test_closed_loop_fused import _pair

    return _pair(B=B, T=T, seed=seed)


def _meminfo_reader():
    import numba
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def meminfo(typingctx, array):
        def codegen(context, builder, signature, args):
            proxy = cgutils.create_struct_proxy(signature.args[0])(context, builder,
                                                                   value=args[0])
            return builder.ptrtoint(proxy.meminfo, ir.IntType(64))

        return types.int64(array), codegen

    @numba.njit
    def read(p):
        # an array field, the first array of the tick's argument tuple, a generator field
        weights, first = p.weights, p.tick[0]
        generator = p.in_generators[0]
        return meminfo(weights), meminfo(first), weights.size, first.size, \
            generator.random()

    return read


def test_plan_fields_are_read_without_reference_counts():
    fused, _ = _loops()
    fused.step()
    assert fused.last_fused
    plan = fused._plan
    weights = fused.network.parts["weights"].matrix
    read = _meminfo_reader()
    before = sys.getrefcount(weights)
    weights_meminfo, tick_meminfo, size, first_size, draw = read(plan)
    # numba's structref getter hands out the payload's own meminfo (non-zero)
    assert weights_meminfo == 0
    assert tick_meminfo == 0
    assert size == weights.size == 3200
    assert first_size > 0
    assert 0.0 <= draw < 1.0  # the generators (not arrays) still work as before
    assert sys.getrefcount(weights) == before


def test_arrays_stay_alive_and_counted_across_runs_and_rebuilds():
    fused, reference = _loops(T=2, seed=3)
    matrix = fused.network.parts["weights"].matrix
    fused.run(5)  # builds the plan (which holds the arrays)
    reference.run(5)
    assert fused.last_fused
    gc.collect()
    counts = sys.getrefcount(matrix)
    for _ in range(3):
        fused.run(40)
        reference.run(40)
    gc.collect()
    assert sys.getrefcount(matrix) == counts  # no reference gained or lost per call
    # a rebuild drops the old plan (its references go with it); the new one runs on
    for loop in (fused, reference):
        loop.network.parts["rewarder"].set("baseline_rate", 0.25)
    fused.step()
    reference.step()
    assert fused.last_fused and fused._plan is not None
    gc.collect()
    for _ in range(3):
        a, b = fused.run(50), reference.run(50)
        for x, y in zip(a, b):
            assert x.tobytes() == y.tobytes()
    na, nb = fused.network, reference.network
    assert na.parts["weights"].matrix.tobytes() == nb.parts["weights"].matrix.tobytes()
    assert fused.env.game.state.tobytes() == reference.env.game.state.tobytes()
    assert np.count_nonzero(na.parts["weights"].matrix) > 0


def _check_rows(out, reference, ticks):
    rewards, terminated, truncated = out
    assert rewards.shape == terminated.shape == truncated.shape == (ticks, 1)
    assert (rewards.dtype, terminated.dtype, truncated.dtype) == (np.float64, bool, bool)
    for i in range(ticks):
        _, reward, ended, cut, _ = reference.step()
        assert (rewards[i].tobytes(), terminated[i].tolist(), truncated[i].tolist()) == (
            reward.tobytes(), ended.tolist(), cut.tolist()), i


def test_short_runs_equal_steps_and_return_their_own_arrays():
    # run(n <= 256) is one compiled call whose history rows are copied out: interleaved with
    # steps, other lengths and a paused member (the Python loop), it equals the Python steps
    from test_closed_loop_fused import _assert_same

    fused, reference = _loops(T=3, seed=5)
    kept = []
    for ticks in (2, 37, 256, 1, 5, 256, 257, 3):
        out = fused.run(ticks)
        _check_rows(out, reference, ticks)
        kept.append((out, [a.copy() for a in out]))
        fused.step()
        reference.step()
    assert fused.last_fused
    _assert_same(fused, reference)
    assert fused.network.tick_count == sum((2, 37, 256, 1, 5, 256, 257, 3)) + 8
    # later runs leave earlier results alone (copies, not the plan's rows)
    for out, copies in kept:
        for a, b in zip(out, copies):
            assert a.tobytes() == b.tobytes()
            assert a.base is None or a.base.base is None
    for loop in (fused, reference):
        loop.network.active[0] = False
    calls = int(fused.stamps[0, 5])
    _check_rows(fused.run(4), reference, 4)
    assert int(fused.stamps[0, 5]) == calls and not fused.last_fused  # no compiled tick
    for loop in (fused, reference):
        loop.network.active[0] = True
    _check_rows(fused.run(6), reference, 6)
    assert fused.last_fused and int(fused.stamps[0, 5]) == calls + 6
    _assert_same(fused, reference)
    assert fused.last_observation.tobytes() == reference.last_observation.tobytes()


def test_short_run_before_any_step():
    fused, reference = _loops(seed=2)
    assert fused._plan is None
    _check_rows(fused.run(3), reference, 3)  # builds the plan on its first step
    _check_rows(fused.run(3), reference, 3)
    assert fused.last_fused
