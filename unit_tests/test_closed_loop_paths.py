"""Closed-loop fast paths (issue 19) give the same bits as the general array code.

The single-member CartPole step in Python floats against the batched numpy step,
the batched action check's integer shortcut, Population encoding and the grouped
readout rates against straightforward reference implementations.
"""

import numpy as np
import pytest

from spikey.games.cartpole import CartPole

CONFIGS = [
    {},
    {"reward_type": "failure"},
    {"reward_type": "shaped", "preset": "fremaux"},
    {"cart_friction": 0.3, "pole_friction": 0.05, "reward_type": "shaped"},
    {"action_type": "continuous", "cart_friction": 0.1, "reward_type": "failure"},
]


def _random_states(rng, n):
    states = rng.normal(0.0, [1.5, 2.0, 0.4, 3.0], size=(n, 4))
    states[::7, 1] = 0.0  # np.sign(0) = 0: sigma 0, and -0 from a negative normal sign
    states[3::7, 1] = -0.0
    states[::5, 2] = rng.choice([-0.3, 0.3], size=states[::5, 2].shape)  # near the bounds
    return states


@pytest.mark.parametrize("config", CONFIGS)
def test_single_member_step_equals_array_step(config):
    config = dict(config)
    preset = config.pop("preset", None)
    solo = CartPole(preset=preset, num_members=1, **config)
    pair = CartPole(preset=preset, num_members=2, **config)  # B = 2: the array path
    rng = np.random.default_rng(5)
    active = np.ones(1, dtype=bool)
    for state in _random_states(rng, 300):
        sign = rng.choice([-1.0, 1.0])
        solo.state[0] = state
        pair.state[:] = state
        solo.normal_sign[:] = sign
        pair.normal_sign[:] = sign
        if solo.action_type == "discrete":
            action = rng.integers(0, 2, size=1)
        else:
            action = rng.uniform(-1, 1, size=(1, 1)).astype(np.float32)
        reward, terminated = solo.step_members(action, active)
        reward2, terminated2 = pair.step_members(np.repeat(action, 2, axis=0),
                                                 np.ones(2, dtype=bool))
        assert reward.dtype == reward2.dtype and terminated.dtype == terminated2.dtype
        assert reward.shape == (1,) and terminated.shape == (1,)
        # bit for bit, the sign of zero included
        assert reward.tobytes() == reward2[:1].tobytes()
        assert terminated[0] == terminated2[0]
        assert solo.state.tobytes() == pair.state[:1].tobytes()
        assert solo.normal_sign.tobytes() == pair.normal_sign[:1].tobytes()
        assert solo.last_force.tobytes() == pair.last_force[:1].tobytes()


@pytest.mark.parametrize("config", [{}, {"reward_type": "failure"},
                                    {"action_type": "continuous", "reward_type": "shaped"}])
def test_single_member_vector_env_equals_member_of_a_batch(config):
    # member 0 of a B = 2 env seeded s is a B = 1 env seeded s: terminations, autoresets and
    # truncations (max_episode_steps = 25) included, every returned array bit for bit
    solo = CartPole.vector(num_envs=1, max_episode_steps=25, **config)
    pair = CartPole.vector(num_envs=2, max_episode_steps=25, **config)
    obs1, _ = solo.reset(seed=3)
    obs2, _ = pair.reset(seed=3)
    assert obs1.tobytes() == obs2[:1].tobytes()
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(400):
        if solo.game.action_type == "discrete":
            action = rng.integers(0, 2, size=2)
        else:
            action = rng.uniform(-1, 1, size=(2, 1)).astype(np.float32)
        out1 = solo.step(action[:1])
        out2 = pair.step(action)
        for a, b in zip(out1[:4], out2[:4]):
            assert a.dtype == b.dtype and a.shape == (1, *b.shape[1:])
            assert a.tobytes() == b[:1].tobytes()
        ends += bool(out1[2][0] or out1[3][0])
    assert ends >= 10  # the loop went through many autoresets


def test_single_member_action_check_errors_unchanged():
    env = CartPole.vector(num_envs=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 2 is not in Discrete\(2\); expected an integer "
                                         r"in \[0, 1\]"):
        env.step(np.array([2]))
    with pytest.raises(ValueError, match=r"action -1 is not in Discrete\(2\)"):
        env.step(np.array([-1], dtype=np.int8))
    with pytest.raises(ValueError, match=r"actions have shape \(2,\); expected \(1,\)"):
        env.step(np.array([0, 1]))
    out = env.step(np.array([1], dtype=np.uint8))
    assert out[1].tolist() == [1.0]


def _population_network(batch, dtype, **inputs):
    from spikey.snn.network import Network

    config = {"network": {"batch_size": batch, "processing_steps": 3, "dtype": dtype,
                          "reward_mode": "none"},
              "inputs": {"n_dims": 4, "n_per_dim": 7, "low": [-2.4, -1.0, -0.2, -3.0],
                         "high": [2.4, 1.0, 0.2, 3.0], **inputs},
              "neurons": {"n_neurons": 6}, "readout": {"n_outputs": 4, "n_actions": 2}}
    parts = {"inputs": "Population", "neurons": "LIF", "weights": "Random",
             "readout": "TopAction"}
    return Network(parts, config)


@pytest.mark.parametrize("batch,dtype,width,max_rate", [(1, "float32", 1.0, 100.0),
                                                        (5, "float64", 0.37, 33.3)])
def test_population_encode_equals_the_written_out_formula(batch, dtype, width, max_rate):
    net = _population_network(batch, dtype, width=width, max_rate=max_rate)
    part = net.parts["inputs"]
    rng = np.random.default_rng(1)
    for _ in range(50):
        x = rng.normal(0.0, 2.0, size=(batch, 4))
        x[0, 0] = part._high[0]  # on a bound, beyond one, exact zeros of both signs
        x[0, 1] = 7.0
        x[-1, 2] = -0.0
        x[-1, 3] = 0.0
        part.encode(x)
        # the expression the in-place code replaced, evaluated as numpy would
        clipped = np.clip(x, part._low, part._high)
        rates = part.max_rate * np.exp(
            -0.5 * ((clipped[:, :, None] - part.centres) / part.sigma) ** 2)
        expected = (rates * (net.dt / 1000.0)).reshape(batch, -1).astype(part.probability.dtype)
        assert part.probability.tobytes() == expected.tobytes()
    with pytest.raises(ValueError, match="NaN or infinity"):
        part.encode(np.full((batch, 4), np.inf))


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_group_rates_equal_the_mean_of_rates(dtype):
    net = _population_network(3, "float32")
    readout = net.parts["readout"]  # TopAction, 2 groups of 2 outputs
    rng = np.random.default_rng(2)
    for duration in (1.0, 7.0, 20.0, 0.3):
        counts = rng.integers(0, 9, size=(3, 4)).astype(dtype)
        rates = np.asarray(counts, dtype=np.float64) * (1000.0 / duration)
        expected = rates.reshape(3, 2, -1).mean(axis=2)
        got = readout.group_rates(counts, duration)
        assert got.dtype == np.float64 and got.tobytes() == expected.tobytes()
        action = readout(counts, duration)
        assert action.dtype == np.int64
        assert action.tolist() == np.argmax(expected, axis=1).tolist()
    # a wider group: numpy's pairwise sum over 40 outputs per group, kept bit for bit
    readout.n_actions, wide = 2, rng.integers(0, 50, size=(2, 80)).astype(dtype)
    expected = (np.asarray(wide, dtype=np.float64) * (1000.0 / 3.0)).reshape(2, 2, -1).mean(axis=2)
    assert readout.group_rates(wide, 3.0).tobytes() == expected.tobytes()
