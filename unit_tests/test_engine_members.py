"""The fused tick runs member after member (kernels.tick_member): it gives the per-step and
numpy paths' results also where members could interact (non-finite reward factors).

Speed is measured in benchmarks/, never here.
"""

import numpy as np
import pytest

from spikey import Network
from spikey.snn import kernels
from test_engine import _assert_same_state, _count_fused, _play, _step_config

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


@needs_numba
@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")
def test_an_infinite_plastic_switch_runs_step_by_step_like_numpy(monkeypatch):
    # The per-step path rewards every member once any member's output fired: a member
    # without output spikes gets 0 * inf = nan. The member-by-member kernel rewards only
    # members that fired, so the engine must not fuse such a tick.
    calls = _count_fused(monkeypatch)
    cfg = _step_config()
    net = Network.from_config(cfg)
    reference = Network.from_config({**cfg, "network": {**cfg["network"], "kernels": "numpy"}})
    _play([net, reference], ticks=6, plastic=[np.inf, 1.0, 1.0])
    assert len(calls) == 3  # the ticks before the switch fused, the ones after did not
    assert np.isnan(net.weights.matrix[0]).any()
    assert not np.isnan(net.weights.matrix[1:]).any()
    _assert_same_state(net, reference)
