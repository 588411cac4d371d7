"""The shipped evolved spiking CartPole-v1 controller (meta/cartpole_controller.npz)."""

import os
import sys

import pytest

META = os.path.join(os.path.dirname(__file__), "..", "meta")
sys.path.insert(0, META)

import cartpole  # noqa: E402
from spikey.snn.network import Network  # noqa: E402


def test_shipped_controller_balances_gymnasium_cartpole():
    returns = cartpole.evaluate(Network.load(os.path.join(META, "cartpole_controller.npz")))
    assert len(returns) == 100
    assert returns.mean() >= 475, returns.mean()


@pytest.mark.slow
def test_evolution_reproduces_the_shipped_controller(tmp_path):
    returns = cartpole.main(["--seed", "0", "--out", str(tmp_path / "c.npz")])
    assert returns.mean() >= 475
    shipped = Network.load(os.path.join(META, "cartpole_controller.npz"))
    evolved = Network.load(tmp_path / "c.npz")
    assert (shipped.weights.matrix == evolved.weights.matrix).all()
