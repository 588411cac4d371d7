"""Labelled image datasets as numpy arrays with fixed train / validation / test splits.

``load_digits()`` returns scikit-learn's bundled 8x8 digits (no download);
``load_mnist(folder)`` and ``load_fashion_mnist(folder)`` read the standard IDX files,
verified by SHA-256. See
``spikey/datasets/README.md`` for the contract.
"""

from spikey.datasets.digits import load_digits
from spikey.datasets.evaluate import (NO_ANSWER, accuracy, answer, assign_labels, class_totals,
                                      confusion_matrix, group_predictions, label_neurons,
                                      labels_from_totals, per_class, present, vote)
from spikey.datasets.idx import (DatasetFileError, load_fashion_mnist, load_idx_dataset, load_mnist,
                                 read_idx, verify_files, write_idx)
from spikey.datasets.splits import (SPLIT_NAMES, SPLIT_SEED, ByteImages, Dataset, Split, split_arrays,
                                    stratified_indices)

__all__ = ["load_digits", "load_mnist", "load_fashion_mnist", "load_idx_dataset", "read_idx",
           "write_idx", "verify_files", "DatasetFileError", "ByteImages", "Dataset", "Split", "SPLIT_NAMES", "SPLIT_SEED", "split_arrays",
           "stratified_indices", "present", "assign_labels", "class_totals", "labels_from_totals",
           "label_neurons", "answer", "vote", "group_predictions", "accuracy",
           "confusion_matrix", "per_class", "NO_ANSWER"]
