"""8-Queens with the GA over fresh seeds (the README's "Results you can rerun" row).

``python meta/nqueens.py --seeds 9000-9019`` was run once, after the GA's
settings were chosen on seeds 0-7: 18 of 20 seeds find a full solution within
the 300-generation cap, at generation 14-225 (median 47.5); 9001 and 9002 end
at 27 of 28 non-attacking pairs. This slow test reruns those seeds and checks
the row (about a minute on 2 busy cores).
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "meta"))

import nqueens  # noqa: E402


@pytest.mark.slow
def test_nqueens_fresh_seeds_solve_within_the_cap():
    found = nqueens.main(range(9000, 9020), generations=300)
    solved = [g for g in found.values() if g is not None]
    unsolved = sorted(seed for seed, g in found.items() if g is None)
    assert len(solved) >= 18, unsolved
    assert max(solved) <= 300 and min(solved) >= 1, solved
    # most runs need far more than the 30 generations seeds 0-7 took
    assert 30 < np.median(solved) < 80, sorted(solved)
    assert sum(g > 30 for g in solved) >= 10, sorted(solved)
