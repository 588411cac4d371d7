"""MNIST and Fashion-MNIST from the standard IDX files in a folder of the user's.

The four gzipped IDX files of each dataset, as distributed
(``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``), are read from
``folder`` and checked against their published SHA-256 sums before anything is
parsed. MNIST's files may also lie uncompressed (``train-images-idx3-ubyte``, ...,
as torchvision's ``raw`` folder and several packages hold them): a file without its
``.gz`` is checked against the published SHA-256 of the uncompressed file
(`RAW_CHECKSUMS`). Nothing is downloaded unless ``download=True`` is passed (tests
never do).

IDX layout (LeCun et al.): two zero bytes, a type byte (``0x08``: unsigned byte),
the number of dimensions ``d``, then ``d`` big-endian uint32 sizes and the data in
row-major order.

Splits: ``test`` is the official 10,000-image test set; the official 60,000
training images are cut, stratified with the fixed `SPLIT_SEED`, into ``train``
(MNIST: 50,001; Fashion-MNIST: 50,000) and ``validation`` (9,999; 10,000: one sixth
of each class, rounded per class).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pathlib

import numpy as np

from spikey.datasets.splits import ByteImages, Dataset, Split, stratified_indices

#: The four files of a dataset: role -> file name.
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: Published SHA-256 sums of the gzipped files, per dataset.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
}

#: Published SHA-256 sums of the uncompressed files (the same bytes as the gzipped files
#: above, once unzipped), accepted when a folder holds a file without its ``.gz``.
RAW_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {},
}

#: Where ``download=True`` fetches the files from.
MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}

#: Readable class names.
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}

#: Environment variable naming the default data folder.
DATA_ENV = "SPIKEY_DATA"


class DatasetFileError(FileNotFoundError):
    """A dataset file is missing, corrupt (wrong SHA-256) or not a valid IDX file."""


def _open(path):
    """``gzip.open`` for a name ending in ``.gz``, else ``open``."""
    return gzip.open if pathlib.Path(path).suffix == ".gz" else open


#: The four file names, as error messages list them.
_LISTED = ", ".join(FILES.values())


def _unzipped(file) -> str:
    """A gzipped file's name without its ``.gz``."""
    return file[:-len(".gz")]


def _present(folder, file):
    """The path of ``file`` in ``folder``, gzipped or else uncompressed; None when neither."""
    for name in (file, _unzipped(file)):
        if (pathlib.Path(folder) / name).is_file():
            return pathlib.Path(folder) / name
    return None


def _missing(folder) -> list:
    """The dataset files absent from ``folder`` (in neither form)."""
    return [f for f in FILES.values() if _present(folder, f) is None]


def _as_floats(flat, dtype) -> np.ndarray:
    """``(n, n_features)`` bytes as intensities in ``[0, 1]`` (one array of ``dtype``, no
    float64 intermediate; the values `ByteImages` rows read as)."""
    return ByteImages(flat, dtype)[...]


def sha256(path) -> str:
    """SHA-256 of a file, as 64 hex digits.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        The hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzipped when its name ends in ``.gz``) into a uint8 array.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of the shape the header declares.

    Raises
    ------
    DatasetFileError
        When the header is not an unsigned-byte IDX header or the data do not match the
        declared shape.
    """
    path = pathlib.Path(path)
    opener = _open(path)
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetFileError(f"{path}: cannot be read as {'gzip' if opener is gzip.open else 'a file'}"
                               f" ({error})") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetFileError(f"{path}: not an unsigned-byte IDX file (header {raw[:4].hex()}; "
                               "expected 0000 08 followed by the number of dimensions)")
    ndim = raw[3]
    start = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(raw[4:start], dtype=">u4"))
    if len(shape) != ndim or len(raw) - start != int(np.prod(shape)):
        raise DatasetFileError(f"{path}: header declares shape {shape} ({int(np.prod(shape))} bytes) "
                               f"but {len(raw) - start} data bytes follow")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(shape).copy()


def write_idx(path, array) -> None:
    """Write a uint8 array as an IDX file (gzipped when the name ends in ``.gz``).

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    array : array_like
        Values 0..255, any number of dimensions.
    """
    array = np.asarray(array)
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError("write_idx: values must lie in 0..255 (unsigned bytes)")
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    with _open(path)(path, "wb") as handle:
        handle.write(payload)


def _folder(name, folder):
    if folder is None:
        folder = os.environ.get(DATA_ENV)
        if folder is None:
            raise DatasetFileError(
                f"load_{name}: no folder given; pass folder='path/to/{name}' holding "
                f"{_LISTED}, or set {DATA_ENV}")
        folder = pathlib.Path(folder) / name
    return pathlib.Path(folder).expanduser()


def _download(name, folder, files):
    import urllib.request
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        url = MIRRORS[name] + file
        try:
            urllib.request.urlretrieve(url, folder / file)
        except OSError as error:
            raise DatasetFileError(f"load_{name}(download=True): fetching {url} into {folder} "
                                   f"failed ({error})") from error


def verify_files(name, folder, checksums=None) -> dict:
    """Check that every file of a dataset is in ``folder`` with its published SHA-256.

    Parameters
    ----------
    name : {'mnist', 'fashion_mnist'}
        The dataset.
    folder : str or os.PathLike
        Folder holding the four gzipped IDX files (MNIST's may be uncompressed).
    checksums : dict, optional
        File name -> expected SHA-256 (default: the published sums in `CHECKSUMS` and,
        for uncompressed files, `RAW_CHECKSUMS`).

    Returns
    -------
    dict
        Role (``'train_images'``, ...) -> path.

    Raises
    ------
    DatasetFileError
        Naming the folder and every missing file, or the first file whose SHA-256 differs.
    """
    folder = pathlib.Path(folder)
    checksums = {**CHECKSUMS[name], **RAW_CHECKSUMS[name]} if checksums is None else checksums
    missing = _missing(folder)
    if missing:
        raise DatasetFileError(
            f"load_{name}: folder {folder} lacks {', '.join(missing)}; expected the four gzipped "
            f"IDX files {_LISTED} (or pass download=True on a machine that is online)")
    paths = {}
    for role, file in FILES.items():
        path = _present(folder, file)
        if path.name not in checksums:
            known = sorted(checksums)
            raise DatasetFileError(
                f"load_{name}: {path} has no known SHA-256 (sums are known for {known}); "
                f"gzip it to {file} (the published file) or pass checksums=")
        got = sha256(path)
        if got != checksums[path.name]:
            raise DatasetFileError(
                f"load_{name}: {path} is corrupt or not the published file: SHA-256 "
                f"{got}, expected {checksums[path.name]}; delete it and copy (or download) it "
                "again")
        paths[role] = path
    return paths


def load_idx_dataset(name, folder=None, download=False, checksums=None,
                     dtype=np.float32, compact: bool = False) -> Dataset:
    """Load MNIST or Fashion-MNIST from its IDX files, verified by SHA-256.

    Parameters
    ----------
    name : {'mnist', 'fashion_mnist'}
        The dataset.
    folder : str or os.PathLike, optional
        Folder holding the four gzipped IDX files (MNIST's may be uncompressed); default ``$SPIKEY_DATA/<name>``.
    download : bool
        Fetch missing files first (opt-in; needs a network connection).
    checksums : dict, optional
        File name -> SHA-256 to check against instead of the published sums (for files of
        your own making, e.g. in tests).
    dtype : {numpy.float32, numpy.float64}
        Type of ``x``. float32 (the default) holds bytes / 255 to 7 digits and keeps the
        three splits of MNIST in 220 MB (float64: 440 MB).
    compact : bool
        Keep the pixels as bytes: each ``x`` is a `ByteImages` (MNIST's splits in 55 MB)
        whose rows read as the same ``dtype`` values (bytes / 255) the default holds.

    Returns
    -------
    Dataset
        ``x`` ``(n, 784)`` of ``dtype`` in ``[0, 1]`` (bytes / 255; `ByteImages` when
        ``compact``), ``y`` int64; train
        50,001 (MNIST) or 50,000 (Fashion-MNIST), validation 9,999 or 10,000 (stratified
        from the official training set with the fixed split seed), test: the official test
        set.

    Raises
    ------
    DatasetFileError
        Missing folder or file, wrong checksum, malformed IDX file, or images and labels
        that do not match.
    """
    if name not in CHECKSUMS:
        raise ValueError(f"dataset must be one of {sorted(CHECKSUMS)}, got {name!r}")
    given = dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"load_{name}: dtype = {given!r}; expected numpy.float32 or "
                         "numpy.float64")
    if not isinstance(compact, (bool, np.bool_)):
        raise ValueError(f"load_{name}: compact = {compact!r}; expected True (pixels kept as "
                         "bytes, scaled as rows are read) or False")
    folder = _folder(name, folder)
    if download:
        if _missing(folder):
            _download(name, folder, _missing(folder))
    elif not folder.is_dir():
        raise DatasetFileError(
            f"load_{name}: folder {folder} does not exist; expected a folder holding "
            f"{_LISTED} (or pass download=True on a machine that is online)")
    paths = verify_files(name, folder, checksums)
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetFileError(
                f"load_{name}: {part} images {images.shape} and labels {labels.shape} do not match; "
                "expected (n, height, width) images and (n,) labels")
    shape = arrays["train_images"].shape[1:]
    if arrays["test_images"].shape[1:] != shape:
        raise DatasetFileError(f"load_{name}: train images are {shape} but test images "
                               f"{arrays['test_images'].shape[1:]}")
    # cut the bytes, then scale each split once: no full-size float copy of the training set
    # (compact: no float copy at all; rows are scaled as they are read)
    images, y_all = arrays["train_images"], arrays["train_labels"].astype(np.int64)
    train_idx, validation_idx = stratified_indices(y_all, fractions=(5 / 6, 1 / 6))

    def _scaled(images, dtype):
        flat = images.reshape(len(images), -1)
        return ByteImages(flat, dtype) if compact else _as_floats(flat, dtype)
    test = Split(_scaled(arrays["test_images"], dtype), arrays["test_labels"].astype(np.int64))
    n_classes = int(max(y_all.max(), test.y.max())) + 1
    names = CLASS_NAMES[name] if n_classes == 10 else [str(c) for c in range(n_classes)]
    return Dataset(name, Split(_scaled(images[train_idx], dtype), y_all[train_idx]),
                   Split(_scaled(images[validation_idx], dtype), y_all[validation_idx]), test,
                   image_shape=tuple(int(s) for s in shape), n_classes=n_classes, class_names=names)


def load_mnist(folder=None, download=False, checksums=None, dtype=np.float32,
               compact: bool = False) -> Dataset:
    """Load MNIST (LeCun et al. 1998) from its four IDX files; see `load_idx_dataset`.

    Parameters
    ----------
    folder : str or os.PathLike, optional
        Folder of the four gzipped (or uncompressed) IDX files (default ``$SPIKEY_DATA/mnist``).
    download : bool
        Fetch missing files first (opt-in).
    checksums : dict, optional
        SHA-256 sums to check instead of the published ones.
    dtype : {numpy.float32, numpy.float64}
        Type of the intensities ``x``.
    compact : bool
        Keep the pixels as bytes (``x`` a `ByteImages`, rows scaled as they are read).

    Returns
    -------
    Dataset
        28 x 28 digits: train 50,001, validation 9,999, test 10,000.
    """
    return load_idx_dataset("mnist", folder, download, checksums, dtype, compact)


def load_fashion_mnist(folder=None, download=False, checksums=None, dtype=np.float32,
                       compact: bool = False) -> Dataset:
    """Load Fashion-MNIST (Xiao et al. 2017) from its four IDX files; see `load_idx_dataset`.

    Parameters
    ----------
    folder : str or os.PathLike, optional
        Folder of the four gzipped IDX files (default ``$SPIKEY_DATA/fashion_mnist``).
    download : bool
        Fetch missing files first (opt-in).
    checksums : dict, optional
        SHA-256 sums to check instead of the published ones.
    dtype : {numpy.float32, numpy.float64}
        Type of the intensities ``x``.
    compact : bool
        Keep the pixels as bytes (``x`` a `ByteImages`, rows scaled as they are read).

    Returns
    -------
    Dataset
        28 x 28 clothing images in 10 classes: train 50,000, validation 10,000, test 10,000.
    """
    return load_idx_dataset("fashion_mnist", folder, download, checksums, dtype, compact)
