"""spikey.datasets: the bundled digits, their fixed split, and the IDX readers."""

import numpy as np
import pytest

import spikey.datasets
from spikey.datasets import load_digits, stratified_indices


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_shapes_types_and_sizes(digits):
    assert digits.image_shape == (8, 8) and digits.n_classes == 10 and digits.n_features == 64
    sizes = [len(digits.train), len(digits.validation), len(digits.test)]
    assert sizes == [1078, 360, 359] and sum(sizes) == 1797
    for split in (digits.train, digits.validation, digits.test):
        assert split.x.dtype == np.float64 and split.x.shape == (len(split), 64)
        assert split.y.dtype == np.int64 and set(np.unique(split.y)) == set(range(10))


def test_digits_values_are_intensities_over_16(digits):
    from sklearn.datasets import load_digits as raw
    x = np.concatenate([digits.train.x, digits.validation.x, digits.test.x])
    assert x.min() == 0.0 and x.max() == 1.0
    # every value is an integer intensity 0..16 divided by 16
    np.testing.assert_array_equal(x * 16, np.round(x * 16))
    # the splits hold exactly sklearn's images (as a multiset of rows with their labels)
    bunch = raw()
    ours = np.concatenate([x, np.concatenate([digits.train.y, digits.validation.y, digits.test.y])[:, None]], 1)
    theirs = np.concatenate([bunch.data / 16, bunch.target[:, None]], 1)
    assert np.array_equal(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)])


def test_digits_split_is_stratified_within_one_sample(digits):
    total = np.bincount(np.concatenate([digits.train.y, digits.validation.y, digits.test.y]))
    for split, fraction in ((digits.train, 0.6), (digits.validation, 0.2), (digits.test, 0.2)):
        counts = np.bincount(split.y, minlength=10)
        assert np.all(np.abs(counts - fraction * total) <= 1.0), (counts, fraction * total)


def test_stratified_indices_are_disjoint_and_cover_everything():
    labels = np.repeat(np.arange(3), [10, 7, 13])
    parts = stratified_indices(labels)
    joined = np.concatenate(parts)
    assert len(joined) == 30 and np.array_equal(np.sort(joined), np.arange(30))
    # per class: 10 -> 6/2/2, 7 -> round(4.2)=4 / round(5.6)-4=2 / 1, 13 -> round(7.8)=8 / round(10.4)-8=2 / 3
    assert [len(p) for p in parts] == [6 + 4 + 8, 2 + 2 + 2, 2 + 1 + 3]
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_indices(labels, fractions=(0.5, 0.2, 0.2))


def test_digits_splits_are_disjoint(digits):
    from sklearn.datasets import load_digits as raw
    # sklearn's digits hold a few duplicate images, so compare sample indices, not pixels
    parts = stratified_indices(raw().target)
    assert sum(len(p) for p in parts) == len(np.unique(np.concatenate(parts))) == 1797
    rows = {split: {r.tobytes() for r in getattr(digits, split).x} for split in ("train", "test")}
    # most test images do not occur in train at all (duplicates are rare)
    assert len(rows["test"] - rows["train"]) > 0.95 * len(rows["test"])


def test_digits_is_identical_on_every_call_whatever_the_global_seed(digits):
    np.random.seed(123)
    again = load_digits()
    for name in ("train", "validation", "test"):
        assert np.array_equal(getattr(digits, name).x, getattr(again, name).x)
        assert np.array_equal(getattr(digits, name).y, getattr(again, name).y)
    # new arrays each call: editing one result does not change the next
    again.train.x[0] = 5.0
    assert load_digits().train.x.max() == 1.0


def test_split_by_name(digits):
    assert digits.split("validation") is digits.validation
    with pytest.raises(ValueError, match="split must be one of"):
        digits.split("dev")


def test_package_exports():
    assert callable(spikey.datasets.load_digits)


# ---------------------------------------------------------------- IDX readers (never download)
from spikey.datasets import DatasetFileError, load_mnist, read_idx, write_idx  # noqa: E402
from spikey.datasets.idx import FILES, sha256  # noqa: E402


def _write_fake_mnist(folder, n_train=60, n_test=20, shape=(4, 3)):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, *shape)),
        "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, (n_test, *shape)),
        "test_labels": np.arange(n_test) % 10,
    }
    for role, file in FILES.items():
        write_idx(folder / file, arrays[role])
    return arrays, {file: sha256(folder / file) for file in FILES.values()}


def test_idx_round_trip_and_header(tmp_path):
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", data)
    write_idx(tmp_path / "b", data)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), data)
    raw = (tmp_path / "b").read_bytes()
    # magic 0x00000803 then the sizes as big-endian uint32, then the bytes row-major
    assert raw[:4] == bytes([0, 0, 8, 3]) and raw[4:16] == bytes([0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
    assert raw[16:] == bytes(range(24))


def test_idx_reader_refuses_bad_headers_and_truncation(tmp_path):
    (tmp_path / "bad").write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"abcd")
    with pytest.raises(DatasetFileError, match="not an unsigned-byte IDX"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(DatasetFileError, match="declares shape"):
        read_idx(tmp_path / "short")


def test_load_mnist_from_a_folder_with_checksums(tmp_path):
    arrays, sums = _write_fake_mnist(tmp_path)
    ds = load_mnist(tmp_path, checksums=sums)
    assert ds.image_shape == (4, 3) and ds.n_classes == 10
    assert (len(ds.train), len(ds.validation), len(ds.test)) == (50, 10, 20)
    # float32 by default (MNIST's splits in 220 MB, not 440 MB): bytes / 255 rounded once
    assert ds.test.x.dtype == ds.train.x.dtype == ds.validation.x.dtype == np.float32
    np.testing.assert_array_equal(
        ds.test.x, arrays["test_images"].reshape(20, -1).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(ds.test.y, arrays["test_labels"])
    wide = load_mnist(tmp_path, checksums=sums, dtype=np.float64)
    np.testing.assert_array_equal(wide.test.x, arrays["test_images"].reshape(20, -1) / 255.0)
    np.testing.assert_array_equal(wide.train.y, ds.train.y)  # same split either way
    np.testing.assert_allclose(wide.train.x, ds.train.x, rtol=1e-7)
    for bad in (np.int64, "nonsense"):
        with pytest.raises(ValueError, match=f"load_mnist: dtype = {bad!r}; expected "
                                             "numpy.float32 or numpy.float64"):
            load_mnist(tmp_path, checksums=sums, dtype=bad)
    # validation holds one sixth of each class of the official training set
    assert np.array_equal(np.bincount(ds.validation.y, minlength=10), np.ones(10))
    together = np.concatenate([ds.train.x, ds.validation.x]) * 255
    assert sorted(map(tuple, together.round().astype(int))) == \
        sorted(map(tuple, arrays["train_images"].reshape(60, -1)))


def test_load_mnist_names_the_folder_and_the_missing_file(tmp_path):
    _write_fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetFileError, match=r"folder .* lacks t10k-labels-idx1-ubyte.gz") as info:
        load_mnist(tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(DatasetFileError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_refuses_files_whose_sha256_differs(tmp_path):
    # files that are valid IDX but not the published MNIST: the published sums reject them
    _write_fake_mnist(tmp_path)
    with pytest.raises(DatasetFileError, match=r"train-images-idx3-ubyte.gz is corrupt .* SHA-256"):
        load_mnist(tmp_path)
    # and a file changed after its sum was taken is caught too
    _, sums = _write_fake_mnist(tmp_path)
    with open(tmp_path / "t10k-images-idx3-ubyte.gz", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(DatasetFileError, match="t10k-images-idx3-ubyte.gz is corrupt"):
        load_mnist(tmp_path, checksums=sums)


def test_load_mnist_without_folder_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("SPIKEY_DATA", raising=False)
    with pytest.raises(DatasetFileError, match="SPIKEY_DATA"):
        load_mnist()
    with pytest.raises(ValueError, match="dataset must be one of"):
        spikey.datasets.load_idx_dataset("cifar", "x")


def test_idx_reader_names_a_gz_file_that_is_not_gzip(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"<html>not found</html>")
    with pytest.raises(DatasetFileError, match=r"train-images-idx3-ubyte.gz: cannot be read as "
                                               r"gzip"):
        read_idx(tmp_path / "train-images-idx3-ubyte.gz")


def test_load_mnist_refuses_images_and_labels_that_do_not_match(tmp_path):
    arrays, _ = _write_fake_mnist(tmp_path)
    write_idx(tmp_path / FILES["test_labels"], arrays["test_labels"][:-1])  # one label short
    sums = {file: sha256(tmp_path / file) for file in FILES.values()}
    with pytest.raises(DatasetFileError, match=r"test images \(20, 4, 3\) and labels \(19,\) do "
                                               r"not match"):
        load_mnist(tmp_path, checksums=sums)
    _write_fake_mnist(tmp_path)
    write_idx(tmp_path / FILES["test_images"], np.zeros((20, 5, 3), dtype=np.uint8))
    sums = {file: sha256(tmp_path / file) for file in FILES.values()}
    with pytest.raises(DatasetFileError, match=r"train images are \(4, 3\) but test images "
                                               r"\(5, 3\)"):
        load_mnist(tmp_path, checksums=sums)


def test_fashion_mnist_reads_the_same_layout_with_its_class_names(tmp_path):
    from spikey.datasets import load_fashion_mnist
    _, sums = _write_fake_mnist(tmp_path)
    ds = load_fashion_mnist(tmp_path, checksums=sums)
    assert ds.name == "fashion_mnist" and ds.class_names[0] == "T-shirt/top"
    assert ds.class_names[9] == "Ankle boot" and len(ds.test) == 20
    # the published Fashion-MNIST sums reject these files, naming the dataset
    with pytest.raises(DatasetFileError, match="load_fashion_mnist: .* is corrupt"):
        load_fashion_mnist(tmp_path)


def test_download_failure_names_the_address_and_folder(tmp_path, monkeypatch):
    import urllib.request

    def offline(url, filename):
        raise OSError("network is unreachable")
    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    with pytest.raises(DatasetFileError, match=r"load_mnist\(download=True\): fetching https://"
                                               r".*train-images-idx3-ubyte.gz into .* failed "
                                               r"\(network is unreachable\)"):
        load_mnist(tmp_path / "new", download=True)
    # files already there are not fetched again: only the missing one is asked for
    _, sums = _write_fake_mnist(tmp_path)
    (tmp_path / FILES["train_labels"]).unlink()
    asked = []
    monkeypatch.setattr(urllib.request, "urlretrieve", lambda url, filename: asked.append(url))
    with pytest.raises(DatasetFileError, match="lacks train-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path, download=True, checksums=sums)
    assert [url.rsplit("/", 1)[1] for url in asked] == ["train-labels-idx1-ubyte.gz"]


def test_uncompressed_idx_files_are_read_and_checked_against_the_unzipped_sums(tmp_path):
    from spikey.datasets import load_fashion_mnist
    from spikey.datasets.idx import RAW_CHECKSUMS
    gz, raw = tmp_path / "gz", tmp_path / "raw"
    gz.mkdir()
    raw.mkdir()
    arrays, gz_sums = _write_fake_mnist(gz)
    for role, file in FILES.items():                     # the same arrays, not gzipped
        write_idx(raw / file[:-3], arrays[role])
    raw_sums = {file[:-3]: sha256(raw / file[:-3]) for file in FILES.values()}
    zipped, plain = load_mnist(gz, checksums=gz_sums), load_mnist(raw, checksums=raw_sums)
    np.testing.assert_array_equal(plain.train.x, zipped.train.x)
    np.testing.assert_array_equal(plain.test.y, zipped.test.y)
    # by default an uncompressed file is checked against MNIST's published unzipped sum
    assert RAW_CHECKSUMS["mnist"]["train-images-idx3-ubyte"].startswith("ba891046e650")
    with pytest.raises(DatasetFileError, match=r"raw/train-images-idx3-ubyte is corrupt or not "
                                               r"the published file: SHA-256 .*, expected "
                                               r"ba891046e650"):
        load_mnist(raw)
    # no published unzipped sums for Fashion-MNIST: the file is named, with the way out
    with pytest.raises(DatasetFileError, match=r"load_fashion_mnist: .*raw/train-images-idx3-ubyte"
                                               r" has no known SHA-256 .* gzip it to "
                                               r"train-images-idx3-ubyte.gz .* or pass checksums="):
        load_fashion_mnist(raw)
    # a gzipped file is preferred to its unzipped copy; neither form: named as missing
    (raw / "t10k-labels-idx1-ubyte").rename(raw / "t10k-labels-idx1-ubyte.gz.bak")
    with pytest.raises(DatasetFileError, match=r"lacks t10k-labels-idx1-ubyte.gz"):
        load_mnist(raw, checksums=raw_sums)
