"""Weight normalisation: each neuron's incoming weight sum is set to a target, ratios kept."""

import numpy as np
import pytest

from conftest import build_small_config
from spikey import ConfigError, Network


def _net(modifier):
    cfg = build_small_config()
    cfg["modifiers"] = [{"part": "NormalizeWeights", **modifier}]
    return Network.from_config(cfg)


def test_normalisation_sets_column_sums_and_keeps_ratios():
    net = _net({"target": 4.0})
    before = net.weights.matrix.copy()
    net.modifiers[0].apply(0)
    after = net.weights.matrix
    totals = after.sum(axis=1)
    np.testing.assert_allclose(totals[totals > 0], 4.0, rtol=1e-5)
    np.testing.assert_allclose(after[0, :, 0], before[0, :, 0] * 4.0 / before[0, :, 0].sum(),
                               rtol=1e-5)
    assert not np.any(after[~net.weights.mask])


def test_applied_at_the_start_of_every_nth_tick():
    net = _net({"target": 2.0, "every": 3}).eval()  # frozen plasticity: only the modifier acts
    obs, info = np.zeros((1, 2), dtype=int), {"expected": np.zeros(1, dtype=int)}
    net.weights.matrix *= 0.5  # off target
    net.tick(obs, info)  # tick 0 normalises
    np.testing.assert_allclose(net.weights.matrix.sum(axis=1), 2.0, rtol=1e-5)
    net.weights.matrix *= 0.5
    net.tick(obs, info)  # tick 1 and 2 leave the weights alone
    net.tick(obs, info)
    np.testing.assert_allclose(net.weights.matrix.sum(axis=1), 1.0, rtol=1e-5)
    net.tick(obs, info)  # tick 3 normalises again
    np.testing.assert_allclose(net.weights.matrix.sum(axis=1), 2.0, rtol=1e-5)


def test_bad_rows():
    with pytest.raises(ConfigError, match="rows = \\[5, 2\\]"):
        _net({"target": 1.0, "rows": [5, 2]})


@pytest.mark.parametrize("columns", [1, 3, 40])
@pytest.mark.parametrize("members", [1, 5])
def test_column_sums_add_the_rows_in_order(columns, members):
    """The scale divides by the rows added strictly in order (((r0 + r1) + r2) + ...), the
    same for every batch size, so a batch member equals its solo network bit for bit."""
    from spikey.snn.modifier.normalize import NormalizeWeights

    rng = np.random.default_rng(columns + members)
    full = rng.random((members, 181, columns + 7)).astype(np.float32) * 3.0
    block = full[:, :, 7:]  # a column slice of the matrix, as the modifier sees it
    expected = block[:, :1].copy()
    for row in range(1, block.shape[1]):
        expected = expected + block[:, row:row + 1]
    part = NormalizeWeights.__new__(NormalizeWeights)
    part.target = 20.0
    part.weights = type("W", (), {"clip": staticmethod(lambda b: None)})()
    before = block.copy()
    part._normalise(block)
    assert np.array_equal(block, before * np.divide(20.0, expected))
