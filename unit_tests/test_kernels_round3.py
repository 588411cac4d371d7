"""Issue 19, round three: the faster spike lists, segment walks and random fills give the
numbers the code before them gave."""

import numpy as np
import pytest

from spikey.snn import kernels

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


@needs_numba
@pytest.mark.parametrize("n", [1, 7, 8, 9, 64, 1000, 1003])
@pytest.mark.parametrize("density", [0.0, 0.02, 0.5, 1.0])
def test_row_pairs_lists_the_nonzero_entries_in_order(n, density):
    # row_pairs finds a word's lowest nonzero byte from its lowest set bit; every spiking
    # neuron once, ascending, whatever the row's length and density
    rng = np.random.default_rng(n)
    row = rng.random(n) < density
    bb, jj = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    count = kernels.row_pairs(row, 3, bb, jj)
    assert count == row.sum()
    np.testing.assert_array_equal(jj[:count], np.flatnonzero(row))
    assert (bb[:count] == 3).all()


@needs_numba
def test_row_pairs_counts_a_byte_of_any_nonzero_value_once():
    # a bool array viewed from bytes may hold 2 or 255: one entry per nonzero byte (the old
    # per-byte test), not one per set bit
    raw = np.zeros(24, np.uint8)
    raw[[0, 5, 9, 17, 23]] = [1, 2, 255, 129, 64]
    row = raw.view(bool)
    bb, jj = np.zeros(24, np.int64), np.zeros(24, np.int64)
    count = kernels.row_pairs(row, 0, bb, jj)
    assert count == 5
    np.testing.assert_array_equal(jj[:count], [0, 5, 9, 17, 23])
