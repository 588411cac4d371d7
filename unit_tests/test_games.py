"""Spikey's own games: the batched Game base, its vector env, CartPole and Logic."""

import os
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from spikey import ConfigError
from spikey.core.params import Key
from spikey.games import GAME_IDS, CartPole, Game, GameVectorEnv, Logic

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
from custom_game import Homing  # noqa: E402


def test_every_spikey_id_is_listed():
    registered = {i for i in gymnasium.registry if i.startswith("spikey/")}
    assert registered == set(GAME_IDS)


@pytest.mark.parametrize("game_id", GAME_IDS + ("examples/Homing-v0",))
def test_check_env_passes_for_every_registered_game(game_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        env = gymnasium.make(game_id, render_mode="rgb_array")
        check_env(env.unwrapped)
        env.reset(seed=0)
        image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@pytest.mark.parametrize("game_id", GAME_IDS)
def test_make_vec_is_native_and_equals_sync_of_solo_games(game_id):
    native = gymnasium.make_vec(game_id, num_envs=5, max_episode_steps=12)
    sync = gymnasium.make_vec(game_id, num_envs=5, vectorization_mode="sync", max_episode_steps=12)
    assert isinstance(native, GameVectorEnv)
    assert isinstance(sync, gymnasium.vector.SyncVectorEnv)
    a, info_a = native.reset(seed=7)
    b, info_b = sync.reset(seed=7)
    np.testing.assert_array_equal(a, b)
    native.action_space.seed(3)
    for _ in range(40):
        action = native.action_space.sample()
        out_a, out_b = native.step(action), sync.step(action)
        for x, y in zip(out_a[:4], out_b[:4]):
            np.testing.assert_array_equal(x, y)
        for key in out_b[4]:
            np.testing.assert_array_equal(out_a[4][key], out_b[4][key])


def _solo_trajectory(make, seed, actions, limit):
    """A solo game with gymnasium's NEXT_STEP autoreset done by hand."""
    env = gymnasium.wrappers.TimeLimit(make(), limit)
    obs, _ = env.reset(seed=seed)
    rows, reset_next = [obs], False
    for action in actions:
        if reset_next:
            obs, _ = env.reset()
            reward, terminated, truncated = 0.0, False, False
        else:
            obs, reward, terminated, truncated, _ = env.step(action)
        rows.append((obs, reward, terminated, truncated))
        reset_next = terminated or truncated
    return rows


@pytest.mark.parametrize("make", [
    lambda: Logic(preset="XOR", n_presentations=7),
    lambda: CartPole(),
    lambda: CartPole(preset="fremaux", action_type="continuous", cart_friction=0.05,
                     pole_friction=0.001, reward_type="shaped"),
], ids=["logic", "cartpole", "cartpole-continuous-friction"])
def test_vector_member_equals_solo_game_across_autoresets(make):
    B, T, limit = 16, 120, 30
    template = make()
    games = GameVectorEnv(type(template), B, max_episode_steps=limit, **template.get_config())
    obs, _ = games.reset(seed=100)
    games.action_space.seed(0)
    actions = [games.action_space.sample() for _ in range(T)]
    steps = [games.step(a) for a in actions]
    assert sum(s[2].sum() + s[3].sum() for s in steps) > B  # episodes ended, members reset
    for b in range(B):
        solo = _solo_trajectory(make, 100 + b, [a[b] for a in actions], limit)
        np.testing.assert_array_equal(solo[0], obs[b])
        for t, (o, r, te, tr) in enumerate(solo[1:]):
            np.testing.assert_array_equal(o, steps[t][0][b])
            assert (r, te, tr) == (steps[t][1][b], steps[t][2][b], steps[t][3][b]), (b, t)


def test_next_step_autoreset_ignores_action_and_gives_zero_reward():
    games = Logic.vector(num_envs=2, preset="OR", n_presentations=1, order="cycle")
    games.reset(seed=0)
    _, reward, terminated, _, _ = games.step(np.array([0, 0]))  # OR(0, 0) = 0
    assert terminated.all() and (reward == 1.0).all()
    obs, reward, terminated, truncated, info = games.step(np.array([7, -3]))  # ignored
    assert (reward == 0).all() and not terminated.any() and not truncated.any()
    np.testing.assert_array_equal(obs, [[0, 0], [0, 0]])
    np.testing.assert_array_equal(info["expected"], [0, 0])
    assert info["_expected"].all()


def test_reset_mask_resets_only_masked_members():
    games = CartPole.vector(num_envs=3)
    first, _ = games.reset(seed=1)
    games.step(np.array([1, 1, 1]))
    moved = games.game.observe()
    again, _ = games.reset(options={"reset_mask": np.array([False, True, False])})
    np.testing.assert_array_equal(again[[0, 2]], moved[[0, 2]])
    assert not np.array_equal(again[1], moved[1])


def test_truncation_and_seed_lists():
    games = CartPole.vector(num_envs=2, max_episode_steps=3, preset="fremaux")
    obs, _ = games.reset(seed=[5, 9])
    solo, _ = CartPole(preset="fremaux").reset(seed=9)
    np.testing.assert_array_equal(obs[1], solo)
    truncated = [games.step(np.array([0, 1]))[3] for _ in range(3)]
    assert [t.tolist() for t in truncated] == [[False, False], [False, False], [True, True]]
    with pytest.raises(ValueError, match="3 seeds for 2 members"):
        games.reset(seed=[1, 2, 3])
    with pytest.raises(ConfigError, match="max_episode_steps = 0"):
        CartPole.vector(num_envs=2, max_episode_steps=0)


def test_vector_render_gives_one_image_per_member():
    games = CartPole.vector(num_envs=3, render_mode="rgb_array")
    games.reset(seed=0)
    images = games.render()
    assert len(images) == 3 and all(i.shape == (200, 400, 3) for i in images)
    assert CartPole.vector(num_envs=2).render() is None


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("action, message", [
    (np.array([0, 1, 2, 0]), r"action 2 of member 2 is not in Discrete\(2\); expected an "
                             r"integer in \[0, 1\]"),
    (np.array([0, 1, 0.5, 0]), r"action 0.5 of member 2 is not in Discrete\(2\)"),
    (np.array([0, 1, 0]), r"actions have shape \(3,\); expected \(4,\)"),
    (np.array([["a"], ["b"], ["c"], ["d"]]), r"is not in Discrete\(2\)"),
])
def test_vector_rejects_actions_outside_the_space(action, message):
    games = Logic.vector(num_envs=4)
    games.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        games.step(action)


def test_continuous_action_bounds_and_shapes():
    env = CartPole(action_type="continuous")
    env.reset(seed=0)
    env.step(np.array([1.0], dtype=np.float32))
    env.step(0.25)  # a scalar is fine for a (1,) Box
    with pytest.raises(ValueError, match=r"action array\(\[1.5\]"
                       r".*is not in Box\(-1.0, 1.0, \(1,\), float32\); expected finite values in "
                       r"\[-1.0, 1.0\]"):
        env.step(np.array([1.5]))
    with pytest.raises(ValueError, match=r"expected finite values"):
        env.step(np.array([np.nan]))
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        env.step(np.array([0.1, 0.2]))
    games = CartPole.vector(num_envs=3, action_type="continuous")
    games.reset(seed=0)
    with pytest.raises(ValueError, match=r"of member 1 is not in Box"):
        games.step(np.array([[0.0], [-2.0], [0.0]]))
    with pytest.raises(ValueError, match=r"actions have shape \(3, 2\); expected \(3, 1\)"):
        games.step(np.zeros((3, 2)))


def test_unknown_presets_and_keys_name_what_was_expected():
    with pytest.raises(ConfigError, match=r"CartPole: unknown preset 'fremau'; did you mean "
                       r"'fremaux'\?; expected one of \['default', 'fremaux'\]"):
        CartPole(preset="fremau")
    with pytest.raises(ConfigError, match="unknown preset 'XNOR'"):
        gymnasium.make("spikey/Logic-XOR-v0", preset="XNOR")
    with pytest.raises(ConfigError, match=r"game \(CartPole\): unknown key 'x_bounds'; did you "
                       r"mean 'x_bound'"):
        CartPole(x_bounds=3.0)
    with pytest.raises(ConfigError, match=r"game \(CartPole\).theta_bound_deg = 200.0 is out of "
                       r"range; expected 1e-09 <= value <= 180.0"):
        CartPole(theta_bound_deg=200.0)
    with pytest.raises(ConfigError, match="action_type = 'analog' is not allowed"):
        CartPole(action_type="analog")
    with pytest.raises(ConfigError, match="init_low"):
        CartPole(init_low=[0.0, 0.0])
    with pytest.raises(RuntimeError, match="holds 2 members; use CartPole.vector"):
        CartPole(num_members=2).reset()


def test_game_keys_work_like_part_keys():
    env = CartPole(preset="fremaux", x_bound=3.0)
    config = env.get_config()
    assert config["x_bound"] == 3.0 and config["theta_bound_deg"] == 90.0  # key beats preset
    assert env.x_bound == 3.0 and env.preset == "fremaux"
    assert CartPole(**config).get_config() == config  # round trip
    schema = {row["key"]: row for row in CartPole.schema()}
    assert schema["tau"]["default"] == 0.02 and "Euler" in schema["tau"]["description"]
    assert gymnasium.make("spikey/CartPole-Fremaux-v0").unwrapped.x_bound == 2.5


def test_subclass_declaration_errors():
    with pytest.raises(TypeError, match="key name 'preset' is reserved"):
        class _Bad(Game):
            KEYS = (Key("preset", "str", "clashes", "a"),)
    with pytest.raises(TypeError, match=r"PRESETS\['x'\] sets undeclared keys \['speed'\]"):
        class _Bad2(Game):
            KEYS = (Key("size", "float", "ok", 1.0),)
            PRESETS = {"x": {"speed": 2.0}}


# ---------------------------------------------------------------- CartPole physics
def test_cartpole_matches_gymnasium_cartpole_bit_for_bit():
    ours = CartPole()
    ours.reset(seed=3)
    theirs = gymnasium.make("CartPole-v1").unwrapped
    theirs.reset(seed=3)
    theirs.state = ours.state[0].copy()
    rng = np.random.default_rng(0)
    for _ in range(300):
        action = int(rng.integers(2))
        a, b = ours.step(action), theirs.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:3] == b[1:3]
        if a[2]:
            break
    assert a[2]  # reached the bound, same step as gymnasium


def test_continuous_full_force_equals_discrete_push():
    discrete, continuous = CartPole(), CartPole(action_type="continuous")
    discrete.reset(seed=4)
    continuous.reset(seed=4)
    for action in [1, 0, 0, 1, 1, 1, 0]:
        a = discrete.step(action)[0]
        b = continuous.step(np.array([2.0 * action - 1.0], dtype=np.float32))[0]
        np.testing.assert_array_equal(a, b)


def test_cart_friction_closed_form_upright_pole():
    # theta = theta_dot = 0, x_dot = 1, F = 0: N_c = M g > 0, sigma = +1, so
    # theta_acc = mu_c g / (l (4/3 - m (1 - mu_c) / M)), x_acc = -m l theta_acc / M - mu_c g.
    mu, g, m, mc, l, tau = 0.1, 9.8, 0.1, 1.0, 0.5, 0.02
    env = CartPole(action_type="continuous", cart_friction=mu)
    env.reset(seed=0)
    env.state[0] = [0.0, 1.0, 0.0, 0.0]
    obs = env.step(np.array([0.0], dtype=np.float32))[0]
    theta_acc = mu * g / (l * (4 / 3 - m * (1 - mu) / (mc + m)))
    x_acc = -m * l * theta_acc / (mc + m) - mu * g
    np.testing.assert_allclose(env.state[0], [tau * 1.0, 1.0 + tau * x_acc, 0.0, tau * theta_acc],
                               rtol=1e-12)
    assert obs[1] < 1.0  # friction slows the cart


def test_pole_friction_damps_the_swing():
    def swing(mu_p):
        env = CartPole(action_type="continuous", pole_friction=mu_p, preset="fremaux")
        env.reset(seed=0)
        env.state[0] = [0.0, 0.0, 0.0, 1.0]
        for _ in range(5):
            env.step(np.array([0.0], dtype=np.float32))
        return env.state[0, 3]

    assert swing(0.01) < swing(0.0)


@pytest.mark.parametrize("preset, x_bound, theta_bound", [("default", 2.4, 12.0),
                                                          ("fremaux", 2.5, 90.0)])
def test_presets_set_the_bounds(preset, x_bound, theta_bound):
    env = CartPole(preset=preset)
    env.reset(seed=0)
    assert (env.x_bound, env.theta_bound_deg) == (x_bound, theta_bound)
    env.state[0] = [0.0, 0.0, np.deg2rad(theta_bound) - 1e-3, 1.0]  # will cross this step
    assert env.step(1)[2] is True
    env.reset(seed=0)
    env.state[0] = [x_bound - 1e-3, 1.0, 0.0, 0.0]
    assert env.step(1)[2] is True


def test_fremaux_starts_centred_and_upright():
    games = CartPole.vector(num_envs=50, preset="fremaux")
    obs, _ = games.reset(seed=0)
    assert np.all(obs[:, [0, 2]] == 0) and np.all(np.abs(obs[:, [1, 3]]) <= 0.1)
    assert np.std(obs[:, 1]) > 0.03  # really drawn, per member


@pytest.mark.parametrize("reward_type", ["alive", "failure", "shaped"])
def test_reward_types(reward_type):
    env = CartPole(reward_type=reward_type)
    env.reset(seed=0)
    env.state[0] = [1.2, 0.0, np.deg2rad(6.0), 0.0]
    _, reward, terminated, _, _ = env.step(1)
    x, theta = env.state[0, 0], env.state[0, 2]
    inside = {"alive": 1.0, "failure": 0.0,
              "shaped": 1 - 0.5 * (theta / np.deg2rad(12)) ** 2 - 0.5 * (x / 2.4) ** 2}
    assert not terminated and reward == pytest.approx(inside[reward_type], abs=1e-12)
    env.state[0] = [2.39, 1.0, 0.0, 0.0]
    _, reward, terminated, _, _ = env.step(1)
    assert terminated and reward == {"alive": 1.0, "failure": -1.0, "shaped": -1.0}[reward_type]


# ---------------------------------------------------------------- Logic and the template
def test_logic_vector_keeps_expected_and_rewards():
    games = Logic.vector(num_envs=6, preset="NAND", reward_correct=2.0, reward_wrong=-1.0)
    obs, info = games.reset(seed=0)
    truth = {(0, 0): 1, (0, 1): 1, (1, 0): 1, (1, 1): 0}
    for _ in range(10):
        expected = np.array([truth[tuple(o)] for o in obs])
        np.testing.assert_array_equal(info["expected"], expected)
        action = np.arange(6) % 2
        obs, reward, *_, info = games.step(action)
        np.testing.assert_array_equal(reward, np.where(action == expected, 2.0, -1.0))


def test_logic_in_sync_vector_env_still_works():
    games = gymnasium.vector.SyncVectorEnv([lambda: Logic(preset="XOR") for _ in range(3)])
    obs, info = games.reset(seed=[0, 1, 2])
    np.testing.assert_array_equal(info["expected"], obs[:, 0] ^ obs[:, 1])


def test_example_game_follows_the_template():
    env = Homing(preset="hard", speed=0.2)
    assert env.get_config() == {"speed": 0.2, "goal_size": 0.05, "step_cost": 0.01}
    obs, _ = env.reset(seed=1)
    before = obs[0]
    obs, reward, *_ = env.step(2)
    assert obs[0] == pytest.approx(min(before + 0.2, 1.0)) and reward in (-0.01, 1.0)
    games = gymnasium.make_vec("examples/Homing-v0", num_envs=4)
    assert isinstance(games, GameVectorEnv) and games.game.goal_size == 0.2  # "easy" preset
    with pytest.raises(ConfigError, match="speed = 0.0 is out of range"):
        Homing(speed=0.0)


def test_random_draws_use_member_generators_only():
    state = np.random.get_state()
    games = Logic.vector(num_envs=4)
    games.reset(seed=0)
    for _ in range(300):  # more than one random block
        games.step(np.zeros(4, dtype=int))
    assert np.random.get_state()[1].tolist() == state[1].tolist()


def test_missing_setup_spaces_is_a_clear_error():
    class _NoSpaces(Game):
        def setup(self):
            self.observation_space = spaces.Discrete(2)

    with pytest.raises(TypeError, match=r"setup\(\) must set self.action_space"):
        _NoSpaces()


def test_game_configs_are_checked_before_anything_runs():
    from spikey.games import check_game_config, game_class
    from spikey.training.config import check_config

    assert game_class("CartPole-v1") is None and check_game_config("CartPole-v1", {}) is None
    assert game_class("spikey/CartPole-Fremaux-v0") is CartPole
    full = check_game_config("spikey/CartPole-Fremaux-v0", {"tau": 0.01})
    assert full["x_bound"] == 2.5 and full["tau"] == 0.01
    network = {"parts": {"inputs": "Population", "neurons": "LIF", "weights": "Random",
                         "readout": "TopAction"},
               "network": {"reward_mode": "none"}, "inputs": {"n_dims": 4},
               "neurons": {"n_neurons": 4}, "readout": {"n_outputs": 2}}
    with pytest.raises(ConfigError, match=r"game \(CartPole\): unknown key 'x_bond'; did you "
                       r"mean 'x_bound'"):
        check_config({"network": network, "game": {"id": "spikey/CartPole-v0",
                                                   "kwargs": {"x_bond": 3.0}}})
    check_config({"network": network, "game": {"id": "spikey/CartPole-v0",
                                               "kwargs": {"x_bound": 3.0}}})


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        CartPole().step(0)
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        CartPole.vector(num_envs=2).step(np.array([0, 1]))


def test_spikey_info_lists_game_keys(capsys):
    from spikey.cli import main

    assert main(["info", "--family", "games", "--part", "CartPole"]) == 0
    out = capsys.readouterr().out
    assert "games CartPole" in out and "theta_bound_deg" in out and "Logic" not in out
