"""run_episode's bookkeeping in one compiled call per tick (the reward's check, returns,
lengths, done) gives what the numpy lines give, for members that end on different ticks."""

import numpy as np
import pytest

import spikey.games.run as run
from spikey.games.run import run_episode
from spikey.snn.network import Network
from spikey.training import load_config
from spikey.training.loop import make_games, seeded_config


def _cartpole(batch_size=4):
    config = seeded_config(load_config("examples/configs/cartpole.yaml"))
    config["network"]["network"]["batch_size"] = batch_size
    return config


def _play(config, episodes=2, **kwargs):
    network = Network.from_config(config["network"])
    games = make_games(config["game"], network.batch_size)
    out, actives = [], []

    def on_tick(tick, active, action, reward):
        actives.append(active)  # kept: a later tick must not change it

    for episode in range(episodes):
        result = run_episode(network, games, seeds=[10 * episode + b for b in
                                                    range(network.batch_size)],
                             max_steps=80, reset_network=False, on_tick=on_tick, **kwargs)
        out.append(result)
    return network, out, [a.copy() for a in actives], actives


def test_compiled_bookkeeping_equals_the_numpy_lines(monkeypatch):
    config = _cartpole()
    network, episodes, copies, kept = _play(config)
    assert run._after_step is not None
    lengths = np.concatenate([e.lengths for e in episodes])
    assert len(set(lengths.tolist())) > 2  # members ended on different ticks
    for copy, active in zip(copies, kept):
        np.testing.assert_array_equal(copy, active)  # never changed after the call
    monkeypatch.setattr(run, "_after_step", None)
    network2, episodes2, copies2, _ = _play(config)
    for a, b in zip(episodes, episodes2):
        np.testing.assert_array_equal(a.returns, b.returns)
        np.testing.assert_array_equal(a.lengths, b.lengths)
        np.testing.assert_array_equal(a.finished, b.finished)
    assert len(copies) == len(copies2)
    for a, b in zip(copies, copies2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(network.weights.matrix, network2.weights.matrix)
    # members stop: the active flags fall as episodes end, and are reset afterwards
    assert copies[0].all() and not copies[-1].all()
    assert network.plastic.tolist() == [1.0] * 4 and network.active.all()


@pytest.mark.parametrize("compiled", [True, False])
def test_a_non_finite_reward_is_refused_before_anything_counts_it(compiled, monkeypatch):
    if not compiled:
        monkeypatch.setattr(run, "_after_step", None)
    config = _cartpole(batch_size=3)
    network = Network.from_config(config["network"])
    games = make_games(config["game"], 3)
    returns = []

    def reward_fn(reward, **_):
        out = reward.copy()
        if len(returns) == 4:
            out[2] = -np.inf
        returns.append(1)
        return out

    from spikey.snn.health import NonFiniteError

    with pytest.raises(NonFiniteError, match=r"reward_fn's reward of member 2 in tick 4 is -inf"):
        run_episode(network, games, seeds=0, reward_fn=reward_fn, max_steps=10)
