"""Any gymnasium env as a game: encoders, decoders, the runner and batch equivalence."""

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

import spikey
from spikey import ConfigError
from spikey.games import CartPole, Logic
from spikey.games.adapters import EnvAdapter, finite_bounds
from spikey.games.run import run_episode
from spikey.snn.network import Network
from spikey.snn.reward.rewarders import RewardPredictionError

DEMOS = {
    "CartPole-v1": ("Population", "TopAction", {}),
    "MountainCar-v0": ("Population", "PopulationIndex", {"decoding": "vector"}),
    "Acrobot-v1": ("BoundedRate", "TopAction", {"coding": "rate"}),
    "FrozenLake-v1": ("OneHot", "TopAction", {}),
}


def _vector(game_id, B, limit=30):
    return gymnasium.make_vec(game_id, num_envs=B, vectorization_mode="sync",
                              max_episode_steps=limit)


# ---------------------------------------------------------------- gymnasium demo envs
@pytest.mark.parametrize("game_id", list(DEMOS))
def test_gymnasium_env_plays_full_episode_through_a_network(game_id):
    inputs, readout, options = DEMOS[game_id]
    B = 3
    games = _vector(game_id, B)
    adapter = EnvAdapter(games, **options)
    assert (adapter.inputs["part"], adapter.readout["part"]) == (inputs, readout)
    network = Network.from_config(adapter.network_config(batch_size=B, processing_steps=5))
    result = run_episode(network, games, adapter, seeds=11, record=True)
    assert result.finished.all()
    assert np.all((result.lengths >= 1) & (result.lengths <= 30))
    rewards = np.array(result.trajectory["reward"])  # (T, B)
    alive = np.arange(len(rewards))[:, None] < result.lengths[None, :]
    np.testing.assert_allclose(result.returns, (rewards * alive).sum(axis=0))
    ends = np.array(result.trajectory["terminated"]) | np.array(result.trajectory["truncated"])
    assert np.all(ends[result.lengths - 1, np.arange(B)])  # each ends on its last step
    for action in result.trajectory["action"]:
        assert games.action_space.contains(action)


def test_finite_bounds_replace_infinite_and_huge_bounds():
    box = spaces.Box(low=np.array([-np.inf, 0.0, -3.0e38, -2.0], dtype=np.float32),
                     high=np.array([np.inf, np.inf, 5.0, 2.0], dtype=np.float32))
    low, high = finite_bounds(box, scale=[1.0, 2.0, 3.0, 9.0])
    assert low.tolist() == [-1.0, 0.0, -1.0, -2.0]
    assert high.tolist() == [1.0, 4.0, 5.0, 2.0]
    with pytest.raises(ConfigError, match=r"adapter.scale = \[1.0, 2.0\]; expected one number "
                       r"or 4"):
        finite_bounds(box, scale=[1.0, 2.0])
    with pytest.raises(ConfigError, match="expected finite values > 0"):
        finite_bounds(box, scale=0.0)


def test_cartpole_v1_velocities_get_the_documented_scale():
    adapter = EnvAdapter(gymnasium.make("CartPole-v1"), scale=[1.0, 3.0, 1.0, 4.0])
    config = adapter.inputs["config"]
    np.testing.assert_allclose(config["low"], [-4.8, -3.0, -0.41887903, -4.0], rtol=1e-6)
    np.testing.assert_allclose(config["high"], [4.8, 3.0, 0.41887903, 4.0], rtol=1e-6)
    network = Network.from_config(adapter.network_config())
    network.tick(np.array([[0.0, 1e30, 0.0, -np.float32(3e38)]]))  # clipped, not a crash


def test_continuous_actions_decode_inside_the_box():
    games = CartPole.vector(num_envs=4, action_type="continuous")
    adapter = EnvAdapter(games, n_per_action=6)
    assert adapter.readout == {"part": "ContinuousVector", "config": {
        "n_outputs": 6, "n_dims": 1, "low": [-1.0], "high": [1.0]}}
    network = Network.from_config(adapter.network_config(batch_size=4, processing_steps=5))
    result = run_episode(network, games, adapter, seeds=0, max_steps=20, record=True)
    actions = np.array(result.trajectory["action"])
    assert actions.dtype == np.float32 and actions.shape[1:] == (4, 1)
    assert np.all(np.abs(actions) <= 1.0) and np.unique(actions).size > 2


def test_adapter_errors_name_what_was_expected():
    adapter = EnvAdapter(gymnasium.make("CartPole-v1"))
    with pytest.raises(ValueError, match=r"observation batch has shape \(2, 3\); expected "
                       r"\(2, 4\) \(2 members of Box"):
        adapter.observations(np.zeros((2, 3)), 2)
    with pytest.raises(ConfigError, match=r"observation space Dict.* is not supported; expected "
                       "Box, Discrete or MultiBinary"):
        EnvAdapter(observation_space=spaces.Dict({"a": spaces.Discrete(2)}),
                   action_space=spaces.Discrete(2))
    with pytest.raises(ConfigError, match="adapter: unknown key 'codng'; did you mean 'coding'"):
        EnvAdapter(gymnasium.make("CartPole-v1"), codng="rate")
    with pytest.raises(ConfigError, match="adapter.decoding = 'best' is not allowed"):
        EnvAdapter(gymnasium.make("CartPole-v1"), decoding="best")


def test_wrong_shaped_observation_into_a_network_names_the_expected_shape():
    adapter = EnvAdapter(gymnasium.make("CartPole-v1"))
    network = Network.from_config(adapter.network_config(batch_size=2))
    with pytest.raises(ValueError, match="observation has 3 values per member; expected 4"):
        network.tick(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected a leading batch axis of 2"):
        network.tick(np.zeros((3, 4)))


# ---------------------------------------------------------------- encoders
def _built(part_name, B=2, **config):
    net = Network.from_config({
        "parts": {"inputs": part_name, "neurons": "LIF", "weights": "Random",
                  "readout": "Threshold"},
        "network": {"batch_size": B, "reward_mode": "none", "dtype": "float64",
                    "processing_steps": 5},
        "inputs": config, "neurons": {"n_neurons": 1}, "readout": {"n_outputs": 1},
    })
    return net.inputs


def test_one_hot_sets_the_observed_group():
    inputs = _built("OneHot", n_values=4, n_per_value=2, start=1, rate=50.0,
                    background_rate=10.0)
    inputs.encode(np.array([3, 1]))
    p_on, p_off = 50.0 / 1000, 10.0 / 1000
    np.testing.assert_allclose(inputs.probability, [
        [p_off, p_off, p_off, p_off, p_on, p_on, p_off, p_off],
        [p_on, p_on, p_off, p_off, p_off, p_off, p_off, p_off]])
    with pytest.raises(ValueError, match=r"must hold integers in \[1, 4\]"):
        inputs.encode(np.array([0, 2]))
    with pytest.raises(ValueError, match=r"must hold integers in \[1, 4\]"):
        inputs.encode(np.array([1.5, 2]))
    with pytest.raises(ValueError, match="expected a leading batch axis of 2"):
        inputs.encode(np.array([1, 2, 3]))


def test_one_hot_spikes_only_in_the_observed_group():
    inputs = _built("OneHot", B=1, n_values=3, n_per_value=4, rate=1000.0)
    inputs.encode(np.array([2]))
    spikes = np.array([inputs.step().copy() for _ in range(5)])
    assert spikes[:, 0, 8:].all() and not spikes[:, 0, :8].any()


def test_bounded_rate_is_linear_within_per_dim_bounds():
    inputs = _built("BoundedRate", n_dims=2, n_per_dim=3, low=[-1.0, 0.0], high=[1.0, 10.0],
                    max_rate=100.0)
    inputs.encode(np.array([[0.0, 2.5], [-5.0, 99.0]]))  # second member clipped to the bounds
    expected = np.array([[0.5, 0.5, 0.5, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]]) * 0.1
    np.testing.assert_allclose(inputs.probability, expected)
    with pytest.raises(ConfigError, match="with high > low in every dim"):
        _built("BoundedRate", n_dims=2, low=[0.0, 1.0], high=[1.0, 1.0])


# ---------------------------------------------------------------- decoders
def _readout(part_name, B=2, n_neurons=6, **config):
    net = Network.from_config({
        "parts": {"inputs": "RateMap", "neurons": "LIF", "weights": "Random",
                  "readout": part_name},
        "network": {"batch_size": B, "reward_mode": "none", "processing_steps": 5},
        "inputs": {"n_inputs": 2}, "neurons": {"n_neurons": n_neurons}, "readout": config,
    })
    return net.readout


def test_continuous_vector_is_the_rate_weighted_preferred_value():
    readout = _readout("ContinuousVector", n_outputs=6, n_dims=2, low=[-1.0, 0.0],
                       high=[1.0, 4.0])
    # dim 0 prefers (-1, 0, 1), dim 1 prefers (0, 2, 4)
    counts = np.array([[1, 0, 3, 0, 0, 0], [0, 2, 0, 1, 1, 2]])
    action = readout(counts, 100.0)
    np.testing.assert_allclose(action, [[0.5, 2.0], [0.0, (0 + 2 + 8) / 4]])  # silent -> middle
    assert readout.groups.tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ConfigError, match="n_outputs = 5 cannot be split into n_dims = 2"):
        _readout("ContinuousVector", n_outputs=5, n_dims=2)


def test_population_index_rounds_the_mean_index():
    readout = _readout("PopulationIndex", n_outputs=6, n_actions=3)
    counts = np.array([[2, 2, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]])  # mean index (0*4 + 2*2)/6
    np.testing.assert_array_equal(readout(counts, 100.0), [1, 1])  # 0.67 -> 1; silent -> middle
    readout = _readout("PopulationIndex", n_outputs=6, n_actions=3, silent_action=0)
    np.testing.assert_array_equal(readout(np.array([[3, 3, 0, 0, 0, 0]] * 2), 100.0), [0, 0])
    with pytest.raises(ConfigError, match="silent_action = 3; expected an index below"):
        _readout("PopulationIndex", n_outputs=6, n_actions=3, silent_action=3)


# ---------------------------------------------------------------- rewards
class _SpyRewarder(RewardPredictionError):
    """Records the game rewards it is given."""

    def tick_reward(self, action, game_reward, info):
        self.seen = getattr(self, "seen", []) + [np.array(game_reward, dtype=float)]
        return super().tick_reward(action, game_reward, info)


def _spy_network(adapter, B):
    config = adapter.network_config(batch_size=B, processing_steps=5)
    parts = dict(config.pop("parts"), rewarder=_SpyRewarder)
    return Network(parts, config)


def test_game_reward_reaches_the_rewarder():
    games = Logic.vector(num_envs=3, n_presentations=6, reward_correct=2.0, reward_wrong=-1.0)
    adapter = EnvAdapter(games)
    network = _spy_network(adapter, 3)
    result = run_episode(network, games, adapter, seeds=0, record=True)
    seen = np.array(network.rewarder.seen)
    np.testing.assert_array_equal(seen, np.array(result.trajectory["reward"]))
    assert set(np.unique(seen)) <= {2.0, -1.0}
    np.testing.assert_allclose(seen.sum(axis=0), result.returns)


def test_reward_fn_overrides_the_game_reward():
    games = Logic.vector(num_envs=2, n_presentations=4)
    adapter = EnvAdapter(games)
    network = _spy_network(adapter, 2)
    result = run_episode(network, games, adapter, seeds=0,
                         reward_fn=lambda reward, **_: np.full(2, 5.0))
    assert np.all(np.array(network.rewarder.seen) == 5.0)
    np.testing.assert_array_equal(result.returns, [20.0, 20.0])


def test_finished_members_stop_counting_and_learning():
    games = CartPole.vector(num_envs=4)
    adapter = EnvAdapter(games)
    network = _spy_network(adapter, 4)
    result = run_episode(network, games, adapter, seeds=3)
    assert len(set(result.lengths.tolist())) > 1  # members ended at different ticks
    seen = np.array(network.rewarder.seen)  # rewards given to the rewarder are masked
    for b, length in enumerate(result.lengths):
        assert np.all(seen[:length, b] == 1.0) and np.all(seen[length:, b] == 0.0)
    assert np.all(network.plastic == 1.0)  # unfrozen afterwards


def test_runner_checks_batch_sizes():
    adapter = EnvAdapter(gymnasium.make("CartPole-v1"))
    network = Network.from_config(adapter.network_config(batch_size=2))
    with pytest.raises(ValueError, match="vector env has 3 members but the network has "
                       "batch_size = 2"):
        run_episode(network, CartPole.vector(num_envs=3), adapter)
    with pytest.raises(ValueError, match="a single gymnasium Env plays with batch_size = 1"):
        run_episode(network, gymnasium.make("CartPole-v1"), adapter)
    solo = Network.from_config(adapter.network_config(batch_size=1, processing_steps=5))
    result = run_episode(solo, gymnasium.make("CartPole-v1", max_episode_steps=20), adapter)
    assert result.finished.all()


# ---------------------------------------------------------------- batch equivalence
def _play(game, B, net_seed, game_seed, adapter_options=None, episodes=1, limit=40):
    games = game(B)
    adapter = EnvAdapter(games, **(adapter_options or {}))
    network = Network.from_config(adapter.network_config(batch_size=B, seed=net_seed,
                                                         processing_steps=6))
    out = []
    for episode in range(episodes):  # learning carries over between episodes
        result = run_episode(network, games, adapter, seeds=game_seed + 1000 * episode,
                             max_steps=limit, record=True)
        out.append(result)
    return out


# Episodes after the first match only when every member's episode ends on the same tick
# (Logic): a member that finished early still ticks until the others finish, and its input
# spike streams and reward baseline move on meanwhile (see spikey.games.run).
@pytest.mark.parametrize("game, episodes", [
    (lambda B: CartPole.vector(num_envs=B, max_episode_steps=60), 1),
    (lambda B: Logic.vector(num_envs=B, n_presentations=15), 3),
    (lambda B: CartPole.vector(num_envs=B, action_type="continuous", cart_friction=0.01,
                               max_episode_steps=60), 1),
], ids=["cartpole", "logic", "cartpole-continuous"])
def test_batch_member_trajectory_equals_its_solo_run(game, episodes):
    B = 16
    batch = _play(game, B, net_seed=5, game_seed=50, episodes=episodes)
    assert len(set(batch[0].lengths.tolist())) > 1 or episodes > 1
    for b in range(B):
        solo = _play(game, 1, net_seed=5 + b, game_seed=50 + b, episodes=episodes)
        for together, alone in zip(batch, solo):
            n = alone.lengths[0]
            assert together.lengths[b] == n and together.returns[b] == alone.returns[0]
            for key in ("observation", "action", "reward", "terminated", "truncated"):
                got = np.array([row[b] for row in together.trajectory[key][:n]])
                want = np.array([row[0] for row in alone.trajectory[key][:n]])
                np.testing.assert_array_equal(got, want, err_msg=f"member {b}, {key}")


def test_gymnasium_sync_vector_member_equals_solo_run():
    B = 4
    make = lambda n: _vector("CartPole-v1", n, limit=40)  # noqa: E731
    batch = _play(make, B, net_seed=2, game_seed=20)[0]
    for b in range(B):
        alone = _play(make, 1, net_seed=2 + b, game_seed=20 + b)[0]
        n = alone.lengths[0]
        assert batch.lengths[b] == n
        np.testing.assert_array_equal([r[b] for r in batch.trajectory["observation"][:n]],
                                      [r[0] for r in alone.trajectory["observation"][:n]])


def test_spikey_namespace_needs_only_import_spikey():
    assert spikey.games.CartPole is CartPole
    assert gymnasium.make("spikey/CartPole-v0").spec.max_episode_steps == 500
