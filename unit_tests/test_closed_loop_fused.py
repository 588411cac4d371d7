"""The closed loop in one compiled call (spikey.snn.closed_loop) equals the Python loop bit for bit.

``ClosedLoop(fused=True)`` runs observation encoding, the network's tick, the readout,
CartPole's step with autoreset and the tick's reward in one numba call;
``fused=False`` runs ``adapter.observations``, ``Network.tick``, the vector env's
``step`` and ``Network.reward`` in Python. Both are driven side by side from the
same seeds and every returned array, the network's state, the game's state and
the env's counters are compared byte for byte.

The fast tests share one compiled plan type (B = 1, float32, training with
MSTDPET); other types (eval mode, B = 3, float64, MSTDP) compile the call again
(~15 s each on a clean cache) and are marked slow.
"""

import numpy as np
import pytest

import spikey
from spikey.core.params import ConfigError
from spikey.games.adapters import EnvAdapter
from spikey.games.cartpole import CartPole
from spikey.snn import kernels

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def _pair(B=1, T=1, game=None, network=None, seed=0, max_episode_steps=500):
    """Two identical (loop, network, env) set-ups: fused and reference."""
    from spikey.snn.closed_loop import ClosedLoop

    out = []
    for fused in (True, False):
        env = CartPole.vector(num_envs=B, max_episode_steps=max_episode_steps, **(game or {}))
        adapter = EnvAdapter(env)
        config = adapter.network_config(batch_size=B, processing_steps=T, seed=seed,
                                        **(network or {}))
        net = spikey.Network.from_config(config)
        loop = ClosedLoop(net, env, adapter, fused=fused)
        loop.reset(seed=seed + 11)
        loop.set_timing(True)  # stamps[0, 5] counts the compiled calls
        out.append(loop)
    return out


def _assert_same(fused, reference, outs=None):
    a, b = fused.network, reference.network
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert np.asarray(sa[key]).tobytes() == np.asarray(sb[key]).tobytes(), key
    assert a.parts["weights"].matrix.tobytes() == b.parts["weights"].matrix.tobytes()
    assert a.parts["rewarder"].baseline.tobytes() == b.parts["rewarder"].baseline.tobytes()
    assert (a.step_count, a.tick_count) == (b.step_count, b.tick_count)
    assert (a.last_action is None) == (b.last_action is None)
    if a.last_action is not None:
        assert a.last_action.tobytes() == b.last_action.tobytes()
        assert a.last_action.dtype == b.last_action.dtype
    ga, gb = fused.env, reference.env
    for name in ("state", "normal_sign", "last_force"):
        assert getattr(ga.game, name).tobytes() == getattr(gb.game, name).tobytes(), name
    assert ga.game.random.position.tolist() == gb.game.random.position.tolist()
    for name in ("_autoreset", "_elapsed", "_rewards", "_terminated", "_truncated"):
        assert np.asarray(getattr(ga, name)).tobytes() == np.asarray(getattr(gb, name)).tobytes()
    assert np.asarray(fused.signal).tobytes() == np.asarray(reference.signal).tobytes()
    if outs is not None:
        for x, y in zip(*outs):
            if isinstance(x, dict):
                assert x == y
            else:
                assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def _run(fused, reference, steps, every=None):
    for i in range(steps):
        outs = (fused.step(), reference.step())
        if every is not None and i % every == 0:
            _assert_same(fused, reference, outs)
        else:
            for x, y in zip(outs[0][:4], outs[1][:4]):
                assert x.tobytes() == y.tobytes()
    _assert_same(fused, reference)


@pytest.mark.parametrize("T,game,steps", [
    (1, {}, 600),
    # 256 input draws per block are not a multiple of 7: ticks straddle blocks (refills)
    (7, {"reward_type": "shaped", "cart_friction": 0.3, "pole_friction": 0.02}, 300),
    (20, {"reward_type": "failure"}, 150),
])
def test_fused_loop_equals_the_python_loop(T, game, steps):
    fused, reference = _pair(T=T, game=game)
    _run(fused, reference, steps, every=25)
    assert fused.why_not_fused is None
    assert fused.stamps[0, 5] == steps  # every call ran compiled
    assert reference.stamps is None and not reference.last_fused
    ends = int(fused.env.game.random.position[0])
    assert ends >= 10  # the loop went through many autoresets


def test_game_random_refill_and_truncation():
    # max_episode_steps = 1: a reset every second call, 300 resets, so the game's block of
    # 256 starts runs out once and is refilled from the member's generator in the call
    fused, reference = _pair(max_episode_steps=1)
    _run(fused, reference, 600, every=50)
    assert fused.stamps[0, 5] == 600
    # a seeded reset gives the members new generators: the plan is rebuilt around them
    for loop in (fused, reference):
        loop.reset(seed=[7])
    assert fused.last_observation.tobytes() == reference.last_observation.tobytes()
    _run(fused, reference, 600, every=50)
    assert fused.stamps[0, 5] == 1200
    assert fused.env._truncated.dtype == bool


@pytest.mark.parametrize("T,max_steps", [(7, 500), (1, 1)])
def test_run_equals_steps(T, max_steps):
    # ticks straddling input blocks (T = 7) and the game's block of starts running out
    # (a reset every second tick): refills from the generators inside the compiled loop
    fused, reference = _pair(T=T, max_episode_steps=max_steps)
    rewards, terminated, truncated = fused.run(600)
    assert rewards.shape == terminated.shape == truncated.shape == (600, 1)
    for i in range(600):
        _, reward, ended, cut, _ = reference.step()
        assert (rewards[i].tobytes(), terminated[i].tolist(), truncated[i].tolist()) == (
            reward.tobytes(), ended.tolist(), cut.tolist()), i
    _assert_same(fused, reference)
    assert fused.last_observation.tobytes() == reference.last_observation.tobytes()
    assert fused.stamps[0, 5] == 600
    assert fused.run(0)[0].shape == (0, 1)
    with pytest.raises(ValueError, match="ticks = -1; expected an integer >= 0"):
        fused.run(-1)


def test_plan_follows_set_and_pauses():
    fused, reference = _pair(T=3)
    _run(fused, reference, 40)
    built = fused._plan
    for loop in (fused, reference):  # set() bumps revisions: the plan is rebuilt
        loop.network.parts["synapses"].set("learning_rate", 0.125)
        loop.network.parts["rewarder"].set("baseline_rate", 0.3)
        loop.network.parts["inputs"].set("max_rate", 60.0)
    _run(fused, reference, 40, every=10)
    assert fused._plan is not built and fused.last_fused
    for loop in (fused, reference):  # a paused member: the Python loop runs
        loop.network.active[0] = False
    calls = int(fused.stamps[0, 5])
    _run(fused, reference, 10, every=3)
    assert int(fused.stamps[0, 5]) == calls and not fused.last_fused
    for loop in (fused, reference):
        loop.network.active[0] = True
    _run(fused, reference, 30, every=10)
    assert fused.last_fused
    assert fused.env._autoreset is fused._autoreset  # taken back after the Python steps
    for loop in (fused, reference):  # a new episode with the network at rest: arrays kept
        loop.network.reset()
        loop.reset(seed=3)
    _run(fused, reference, 30, every=10)
    assert fused.last_fused


def test_monitors_run_the_python_loop():
    fused, reference = _pair()
    for loop in (fused, reference):
        loop.network.add_monitor("neurons.potential")
    _run(fused, reference, 20)
    assert not fused.last_fused and fused.stamps is None


def test_non_finite_observation_raises_as_the_python_loop():
    huge = {"init_low": [1e300, 0.0, 0.0, 0.0], "init_high": [1e300, 0.0, 0.0, 0.0]}
    with np.errstate(over="ignore"):  # observe() casts 1e300 to float32
        fused, reference = _pair(game=huge)
    for loop in (fused, reference):
        with pytest.raises(ValueError, match="NaN or infinity"):
            loop.step()
    _assert_same(fused, reference)


def test_refusals_say_why():
    from spikey.snn.closed_loop import ClosedLoop

    env = CartPole.vector(num_envs=1)
    adapter = EnvAdapter(env)
    cases = [
        ({"network": {"kernels": "numpy", "reward_mode": "tick"}}, "no compiled engine"),
        ({"parts": {"readout": "PopulationIndex"}}, "readout: not TopAction"),
        ({"rewarder": {"source": "expected"}}, "rewarder: not RewardPredictionError of the game"),
        ({"network": {"reward_mode": "none"}}, "reward_mode 'none'"),
    ]
    for sections, why in cases:
        config = adapter.network_config(**sections)
        if "parts" in sections:
            config["parts"] = {**adapter.network_config()["parts"], **sections["parts"]}
        net = spikey.Network.from_config(config)
        loop = ClosedLoop(net, env, adapter)
        loop.reset(seed=0)
        if sections.get("rewarder"):  # the Python loop then asks the game for info['expected']
            with pytest.raises(ValueError, match="needs info"):
                loop.step()
        else:
            loop.step()
        assert not loop.last_fused
        assert why in loop.why_not_fused
    config = adapter.network_config(network={"reward_mode": "step"}, rewarder=None)
    config["parts"]["rewarder"] = "MatchExpected"
    net = spikey.Network.from_config(config)
    with pytest.raises(ConfigError, match="reward_mode = 'step'"):
        ClosedLoop(net, env, adapter)
    loop = ClosedLoop(spikey.Network.from_config(adapter.network_config()), env, adapter)
    with pytest.raises(RuntimeError, match="call reset"):
        loop.step()


def test_numpy_exp_loop_and_pairwise_sums_equal_numpy():
    import numba

    from spikey.snn import closed_loop

    capsule, loop, context, aux = closed_loop.numpy_loop(np.exp)

    @numba.njit
    def exp_in_place(z, loop, context, aux, data, dims, strides):
        data[0] = z.ctypes.data
        data[1] = z.ctypes.data
        dims[0] = z.size
        return closed_loop._call_loop(loop, context, data.ctypes.data, dims.ctypes.data,
                                      strides.ctypes.data, aux)

    rng = np.random.default_rng(3)
    z = np.concatenate([-0.5 * rng.uniform(0, 40, 20000) ** 2, -rng.uniform(0, 1, 5000),
                        rng.normal(0, 300, 5000), [0.0, -0.0, -745.2, 709.7, 1e-320]])
    for n in (1, 7, 40, z.size):
        got = z[:n].copy()
        status = exp_in_place(got, loop, context, aux, np.zeros(2, np.intp),
                              np.zeros(1, np.intp), np.array([8, 8], np.intp))
        assert status == 0
        with np.errstate(over="ignore"):
            assert got.tobytes() == np.exp(z[:n]).tobytes()
    rates = rng.uniform(0, 1000, 600) * rng.integers(0, 2, 600)
    for n in (1, 5, 8, 9, 16, 40, 127, 128, 129, 300, 600):
        expected = np.add.reduce(rates[:n].reshape(1, 1, n), axis=2)[0, 0]
        assert 0.0 + closed_loop._pairwise_sum(rates, 0, n) == expected
        assert (0.0 + closed_loop._pairwise_sum(rates, 3, n - 3 if n > 3 else 0)
                == (np.add.reduce(rates[3:n].reshape(1, 1, -1), axis=2)[0, 0] if n > 3
                    else 0.0))


@pytest.mark.slow
@pytest.mark.parametrize("B,network", [
    (1, {"network": {"dtype": "float64"}}),
    (3, {}),
    (2, {"parts": {"synapses": "MSTDP"}, "synapses": {"learning_rate": 0.5}}),
])
def test_fused_loop_other_plan_types(B, network):
    sections = dict(network)
    parts = sections.pop("parts", None)
    fused, reference = _pair(B=B, T=4, network=sections, max_episode_steps=40)
    if parts:  # (network_config merges dict sections key by key)
        for loop in (fused, reference):
            config = loop.network.get_config()
            config["parts"].update(parts)
            config["synapses"] = {k: v for k, v in config["synapses"].items() if k != "tau_z"}
            from spikey.snn.closed_loop import ClosedLoop

            new = ClosedLoop(spikey.Network.from_config(config), loop.env, loop.adapter,
                             fused=loop.fused)
            new.reset(seed=11)
            new.set_timing(True)
            if loop is fused:
                fused = new
            else:
                reference = new
    _run(fused, reference, 300, every=30)
    assert fused.why_not_fused is None and fused.stamps[0, 5] >= 290


@pytest.mark.slow
def test_fused_loop_in_eval_mode_and_back():
    fused, reference = _pair(T=2)
    _run(fused, reference, 30)
    for loop in (fused, reference):
        loop.network.eval()
    _run(fused, reference, 60, every=10)
    assert fused.last_fused
    for loop in (fused, reference):
        loop.network.train()
    _run(fused, reference, 60, every=10)
    assert fused.last_fused
