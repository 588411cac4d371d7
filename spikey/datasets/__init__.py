"""Labelled image datasets as numpy arrays with fixed train / validation / test splits.

``load_digits()`` returns scikit-learn's bundled 8x8 digits (no download). See
``spikey/datasets/README.md`` for the contract.
"""

from spikey.datasets.digits import load_digits
from spikey.datasets.splits import SPLIT_NAMES, SPLIT_SEED, Dataset, Split, split_arrays, stratified_indices

__all__ = ["load_digits", "Dataset", "Split", "SPLIT_NAMES", "SPLIT_SEED", "split_arrays",
           "stratified_indices"]
