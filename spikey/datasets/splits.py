"""Fixed, stratified train / validation / test splits and the containers that hold them.

A split is made once per dataset from a generator seeded with a constant of this
module (`SPLIT_SEED`), never with a user's seed, so every call returns the same
arrays on every machine. Within each class the samples are permuted and cut at
``round(f_train * n_c)`` and ``round((f_train + f_validation) * n_c)``, so every
class keeps its proportion in every split to within one sample; each split is then
shuffled (also with the fixed generator) so that classes are interleaved.
"""

from dataclasses import dataclass, field

import numpy as np

#: Seed of the generator that makes every split (independent of any user seed).
SPLIT_SEED = 20150999


class ByteImages:
    """Images held as bytes, scaled to floats row by row as they are read.

    MNIST's three splits take 55 MB as bytes against 220 MB as float32: a loader asked for
    ``compact=True`` keeps the bytes here, and code that reads rows (``x[i]``, ``x[rows]``,
    ``x[a:b]``, as ``present`` does one sample at a time) gets exactly the floats the
    non-compact loader would hold (``bytes.astype(dtype) / 255`` in ``dtype``); ``x[a:b]``
    (a slice of rows) is a `ByteImages` view of those rows, as numpy's slices are views.
    ``numpy.asarray(x)`` converts the whole array (as much memory as not being compact).

    Parameters
    ----------
    raw : numpy.ndarray
        ``(n, n_features)`` uint8 pixel values.
    dtype : {numpy.float32, numpy.float64}
        Type of the rows read.
    scale : float
        The largest pixel value (rows are ``raw / scale``).

    Attributes
    ----------
    raw : numpy.ndarray
        The bytes (``flags.writeable`` and ``nbytes`` are theirs).
    """

    def __init__(self, raw, dtype=np.float32, scale: float = 255.0):
        raw = np.asarray(raw)
        if raw.dtype != np.uint8 or raw.ndim != 2:
            raise ValueError(f"ByteImages: raw is {raw.dtype} of shape {raw.shape}; expected "
                             "uint8 of shape (n, n_features)")
        self.raw = raw
        self.dtype = np.dtype(dtype)
        self.scale = self.dtype.type(scale)

    @property
    def shape(self):
        """tuple: ``(n, n_features)``."""
        return self.raw.shape

    @property
    def ndim(self):
        """int: 2."""
        return self.raw.ndim

    @property
    def nbytes(self):
        """int: Bytes held (one a pixel)."""
        return self.raw.nbytes

    @property
    def flags(self):
        """numpy.flagsobj: The bytes' flags (``flags.writeable = False`` freezes them)."""
        return self.raw.flags

    def __len__(self):
        return len(self.raw)

    def __getitem__(self, key):
        if isinstance(key, slice):  # rows a:b, like numpy's basic slicing: a view, no copy
            return ByteImages(self.raw[key], self.dtype, float(self.scale))
        out = np.asarray(self.raw[key]).astype(self.dtype)
        out /= self.scale
        return out

    def __array__(self, dtype=None, copy=None):
        out = self[...]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self):
        return f"ByteImages(shape={self.shape}, dtype={self.dtype.name}, scale={float(self.scale)})"


@dataclass
class Split:
    """One part of a dataset: inputs and labels.

    Attributes
    ----------
    x : numpy.ndarray or ByteImages
        ``(n, n_features)`` inputs, pixel intensities in ``[0, 1]`` (float64 for digits,
        float32 for MNIST; `ByteImages` for a compact MNIST, scaled as rows are read).
    y : numpy.ndarray
        ``(n,)`` int64 class labels in ``[0, n_classes)``.
    """

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        if self.x.ndim != 2 or self.y.ndim != 1 or len(self.x) != len(self.y):
            raise ValueError(f"a split needs x of shape (n, n_features) and y of shape (n,); "
                             f"got x {self.x.shape} and y {self.y.shape}")

    def __len__(self):
        return len(self.y)


@dataclass
class Dataset:
    """A labelled image dataset with its fixed splits.

    Attributes
    ----------
    name : str
        The dataset's name (``'digits'``, ``'mnist'``, ``'fashion_mnist'``).
    train, validation, test : Split
        The fixed splits. Select models on ``validation``; ``test`` is for the final
        report only.
    image_shape : tuple of int
        ``(height, width)`` of one image; ``x`` rows are images flattened row-major.
    n_classes : int
        Number of classes.
    class_names : list of str
        A readable name per class label.
    """

    name: str
    train: Split
    validation: Split
    test: Split
    image_shape: tuple
    n_classes: int
    class_names: list = field(default_factory=list)

    @property
    def n_features(self):
        """int: Values per sample (``height * width``)."""
        return int(np.prod(self.image_shape))

    def split(self, name):
        """Return a split by name.

        Parameters
        ----------
        name : {'train', 'validation', 'test'}
            Which split.

        Returns
        -------
        Split
            The split.

        Raises
        ------
        ValueError
            For any other name.
        """
        if name not in SPLIT_NAMES:
            raise ValueError(f"split must be one of {list(SPLIT_NAMES)}, got {name!r}")
        return getattr(self, name)

    def __repr__(self):
        return (f"Dataset({self.name!r}, image_shape={self.image_shape}, n_classes={self.n_classes}, "
                f"train={len(self.train)}, validation={len(self.validation)}, test={len(self.test)})")


#: The names of the three splits, in order.
SPLIT_NAMES = ("train", "validation", "test")


def stratified_indices(labels, fractions=(0.6, 0.2, 0.2), seed=SPLIT_SEED):
    """Cut sample indices into stratified splits with a fixed generator.

    Parameters
    ----------
    labels : array_like of int
        ``(n,)`` class label of every sample.
    fractions : tuple of float
        Fractions of each class that go to each split; they must be positive and sum to 1.
    seed : int
        Seed of the generator (the module's fixed `SPLIT_SEED` by default).

    Returns
    -------
    list of numpy.ndarray
        One int64 index array per fraction, disjoint, together covering every sample.
    """
    labels = np.asarray(labels)
    fractions = np.asarray(fractions, dtype=float)
    if np.any(fractions <= 0) or abs(fractions.sum() - 1.0) > 1e-9:
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions.tolist()}")
    rng = np.random.Generator(np.random.PCG64(seed))
    cuts = np.cumsum(fractions)[:-1]
    parts = [[] for _ in fractions]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(cuts * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, bounds)):
            part.append(chunk)
    return [rng.permutation(np.concatenate(part)).astype(np.int64) for part in parts]


def split_arrays(x, y, fractions=(0.6, 0.2, 0.2), seed=SPLIT_SEED):
    """Split inputs and labels into train, validation and test `Split` objects.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n, n_features)`` inputs.
    y : numpy.ndarray
        ``(n,)`` labels.
    fractions : tuple of float
        Train, validation and test fractions of each class.
    seed : int
        Seed of the split generator.

    Returns
    -------
    tuple of Split
        ``(train, validation, test)``.
    """
    return tuple(Split(np.ascontiguousarray(x[i]), np.ascontiguousarray(y[i]))
                 for i in stratified_indices(y, fractions, seed))
