"""The 8x8 handwritten digits bundled with scikit-learn (UCI optdigits test set).

1,797 images of 8x8 pixels with integer intensities 0..16, ten classes (178 ± 4
images each). `load_digits` scales intensities to ``[0, 1]`` (divides by 16) and cuts
the fixed stratified split of `spikey.datasets.splits` (60 % train, 20 % validation,
20 % test: 1,078 / 360 / 359 images). Nothing is downloaded: the data ship inside
scikit-learn.
"""

import numpy as np

from spikey.datasets.splits import Dataset, split_arrays

#: Largest pixel value of the raw digits images.
DIGITS_MAX = 16.0


def load_digits():
    """Load sklearn's 8x8 digits with the fixed 60/20/20 stratified split.

    Every call returns new arrays with identical contents: the split's generator is
    seeded by a constant (`spikey.datasets.splits.SPLIT_SEED`), not by any user seed.

    Returns
    -------
    Dataset
        ``train`` (1,078), ``validation`` (360) and ``test`` (359) splits; ``x`` float64
        ``(n, 64)`` in ``[0, 1]`` (rows are 8x8 images, row-major), ``y`` int64 in 0..9;
        ``image_shape == (8, 8)``, ``n_classes == 10``.

    Raises
    ------
    ImportError
        When scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:  # pragma: no cover - scikit-learn is a dependency
        raise ImportError("spikey.datasets.load_digits needs scikit-learn "
                          "(pip install scikit-learn)") from error
    bunch = sklearn_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / DIGITS_MAX
    y = np.asarray(bunch.target, dtype=np.int64)
    train, validation, test = split_arrays(x, y)
    return Dataset("digits", train, validation, test, image_shape=(8, 8), n_classes=10,
                   class_names=[str(d) for d in range(10)])
