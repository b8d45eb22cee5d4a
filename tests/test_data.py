"""helpers.data on small IDX and npz files made in a temp dir: parsing, bad input, search
order, checksums, atomic downloads and the offline fallback split."""

import gzip
import hashlib
import urllib.error
import warnings

import numpy as np
import pytest

from helpers import data
from helpers.data import DatasetError, DatasetSpec, OfficialFile, load_dataset, read_idx

N_TRAIN, N_TEST = 120, 100


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_arrays(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def write_idx_gz(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(idx_bytes(array)))


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Replace the 'mnist' spec by a tiny one whose files live in tmp_path/server/mnist."""
    server = tmp_path / "server" / "mnist"
    arrays = {**dict(zip(["train-images", "train-labels"], make_arrays(N_TRAIN, 0))),
              **dict(zip(["t10k-images", "t10k-labels"], make_arrays(N_TEST, 1)))}
    files = []
    for stem, array in arrays.items():
        kind = "idx3" if array.ndim == 3 else "idx1"
        name = f"{stem}-{kind}-ubyte.gz"
        write_idx_gz(server / name, array)
        sha = hashlib.sha256(idx_bytes(array)).hexdigest()
        files.append(OfficialFile(name, (server.as_uri() + "/" + name,), sha, array.shape))
    spec = DatasetSpec("Tiny MNIST", "https://example.invalid", tuple("0123456789"), *files)
    monkeypatch.setitem(data.DATASETS, "mnist", spec)
    return {"server": server, "arrays": arrays, "spec": spec}


def copy_files(src, dest, names):
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        (dest / n).write_bytes((src / n).read_bytes())


ALL = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
TEST_ONLY = ALL[2:]


# ------------------------------------------------------------------------- read_idx

def test_read_idx_gz_and_raw_roundtrip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx_gz(tmp_path / "a-idx3-ubyte.gz", array)
    (tmp_path / "a-idx3-ubyte").write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), array)
    assert np.array_equal(read_idx(tmp_path / "a-idx3-ubyte"), array)


def test_read_idx_big_endian_int32(tmp_path):
    values = np.array([1, -2, 70000], dtype=">i4")
    path = tmp_path / "ints-idx1"
    path.write_bytes(bytes([0, 0, 0x0C, 1]) + (3).to_bytes(4, "big") + values.tobytes())
    assert read_idx(path).tolist() == [1, -2, 70000]


@pytest.mark.parametrize("content, message", [
    (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "HTML page"),
    (b"PK\x03\x04 something else", "not gzip data"),
])
def test_non_gzip_file_named_gz(tmp_path, content, message):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    full = gzip.compress(idx_bytes(np.zeros((5, 28, 28), np.uint8)))
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DatasetError, match="truncated or corrupt") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_wrong_magic_number(tmp_path):
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x12\x34\x08\x03" + bytes(12) + bytes(10)))
    with pytest.raises(DatasetError, match="magic number") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_payload_shorter_than_header_promises(tmp_path):
    path = tmp_path / "short-idx3-ubyte.gz"
    good = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    path.write_bytes(gzip.compress(good[:-100]))
    with pytest.raises(DatasetError, match="header promises") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_unreadable_npz(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    path.write_bytes(b"<html>not a zip</html>")
    with pytest.raises(DatasetError, match="npz") as err:
        data._read_npz(path)
    assert str(path) in str(err.value)


def test_npz_without_arr_0(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="arr_0"):
        data._read_npz(path)


# -------------------------------------------------------------------- load_dataset

def test_load_from_data_dir(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    assert ds.x_train.shape == (N_TRAIN, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (N_TEST, 28, 28)
    assert np.array_equal(ds.x_train, tiny["arrays"]["train-images"])
    assert np.array_equal(ds.y_test, tiny["arrays"]["t10k-labels"])
    assert "data_dir argument" in ds.source and "official split" in ds.source
    assert f"{N_TRAIN} train / {N_TEST} test" in ds.source and "SHA-256 verified" in ds.source
    assert ds.protocol == f"official {N_TRAIN}/{N_TEST}"


def test_data_dir_may_hold_the_files_directly(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "flat", ALL)
    assert len(load_dataset("mnist", data_dir=tmp_path / "flat").x_train) == N_TRAIN


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")


def test_checksum_mismatch_names_the_file(tiny, tmp_path):
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    tampered = tiny["arrays"]["t10k-images"].copy()
    tampered[0, 0, 0] ^= 1
    write_idx_gz(folder / ALL[2], tampered)
    with pytest.raises(DatasetError, match="SHA-256") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert str(folder / ALL[2]) in str(err.value)


def test_wrong_shape_for_the_official_file(tiny, tmp_path):
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    write_idx_gz(folder / ALL[2], np.zeros((N_TEST + 1, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="shape") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert ALL[2] in str(err.value)


def unchecked_test_split(monkeypatch, folder, images, labels):
    """Write a test split without published checksums and make it the 'mnist' spec."""
    write_idx_gz(folder / TEST_ONLY[0], images)
    write_idx_gz(folder / TEST_ONLY[1], labels)
    test_files = [OfficialFile(n, (), None, a.shape) for n, a in zip(TEST_ONLY, (images, labels))]
    train_files = [OfficialFile(n, (), None, (1,)) for n in ALL[:2]]
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        "Unchecked", "", tuple("0123456789"), *train_files, *test_files))


def test_count_mismatch_between_images_and_labels(monkeypatch, tmp_path):
    unchecked_test_split(monkeypatch, tmp_path / "mine" / "mnist",
                         np.zeros((6, 28, 28), np.uint8), np.arange(5) % 10)
    with pytest.raises(DatasetError, match="6 images but .* 5 labels"):
        load_dataset("mnist", data_dir=tmp_path / "mine")


def test_labels_out_of_range(monkeypatch, tmp_path):
    unchecked_test_split(monkeypatch, tmp_path / "mine" / "mnist",
                         np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 2, 11]))
    with pytest.raises(DatasetError, match="labels range 0..11") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value)


# ---------------------------------------------------------------------- search order

def test_search_order(tiny, tmp_path, monkeypatch, isolated_data_env):
    """data_dir beats $AEBOOK_DATA, which beats the cache."""
    for where in ("arg", "mirror"):
        copy_files(tiny["server"], tmp_path / where / "mnist", ALL)
    copy_files(tiny["server"], isolated_data_env / "mnist", ALL)
    monkeypatch.setenv("AEBOOK_DATA", str(tmp_path / "mirror"))
    assert "data_dir argument" in load_dataset("mnist", data_dir=tmp_path / "arg").source
    assert "offline mirror" in load_dataset("mnist").source
    monkeypatch.delenv("AEBOOK_DATA")
    assert "cache" in load_dataset("mnist").source
    dirs = data.search_dirs("mnist", tmp_path / "arg")
    assert dirs[0] == tmp_path / "arg" / "mnist" and dirs[-1] == isolated_data_env / "mnist"
    assert data.search_dirs("fashion_mnist")[-1] == data.DEBIAN_FASHION_DIR


def test_files_split_across_places(tiny, tmp_path, monkeypatch, isolated_data_env):
    copy_files(tiny["server"], tmp_path / "mirror" / "mnist", TEST_ONLY)
    copy_files(tiny["server"], isolated_data_env / "mnist", ALL[:2])
    monkeypatch.setenv("AEBOOK_DATA", str(tmp_path / "mirror"))
    ds = load_dataset("mnist")
    assert "official split" in ds.source and "train split from" in ds.source


# ------------------------------------------------------------------------ downloads

def test_download_is_atomic_and_verified(tiny, monkeypatch, isolated_data_env):
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    ds = load_dataset("mnist")
    cached = sorted(p.name for p in (isolated_data_env / "mnist").iterdir())
    assert cached == sorted(ALL)  # no .part files left behind
    assert "cache of the official download" in ds.source and "SHA-256 verified" in ds.source
    monkeypatch.setenv("AEBOOK_OFFLINE", "1")  # the second load needs no network
    assert np.array_equal(load_dataset("mnist").x_test, ds.x_test)


def test_failed_transfer_leaves_nothing(tiny, monkeypatch, isolated_data_env):
    def broken_fetch(url, dest, desc):
        dest.write(b"\x1f\x8b partial bytes")
        raise urllib.error.URLError("connection reset")

    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    monkeypatch.setattr(data, "_fetch", broken_fetch)
    with pytest.raises(DatasetError, match="connection reset") as err:
        load_dataset("mnist")
    assert "t10k-images-idx3-ubyte.gz" in str(err.value)
    assert list((isolated_data_env / "mnist").iterdir()) == []


def test_corrupt_download_is_not_kept(tiny, monkeypatch, isolated_data_env):
    (tiny["server"] / ALL[2]).write_bytes(b"<html>rate limited</html>")
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    with pytest.raises(DatasetError, match="HTML page"):
        load_dataset("mnist")
    assert ALL[2] not in {p.name for p in (isolated_data_env / "mnist").iterdir()}
    assert not any(p.name.startswith(".part") for p in (isolated_data_env / "mnist").iterdir())


def test_corrupt_cached_file_is_moved_aside_and_fetched_again(tiny, monkeypatch, isolated_data_env):
    cache = isolated_data_env / "mnist"
    copy_files(tiny["server"], cache, ALL)
    (cache / ALL[0]).write_bytes(b"\x1f\x8b garbage")
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    with pytest.warns(UserWarning, match="Moved it aside"):
        ds = load_dataset("mnist")
    assert np.array_equal(ds.x_train, tiny["arrays"]["train-images"])
    assert any(p.name.startswith(ALL[0] + ".corrupt-") for p in cache.iterdir())


def test_checksum_marker_avoids_rehashing(tiny, tmp_path, monkeypatch):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    calls = []
    real = data._sha256_of_payload
    monkeypatch.setattr(data, "_sha256_of_payload", lambda p: calls.append(p) or real(p))
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(calls) == 4
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(calls) == 4  # verified once, remembered by path, size and mtime
    write_idx_gz(tmp_path / "mine" / "mnist" / ALL[2], tiny["arrays"]["t10k-images"])
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(calls) == 5  # a rewritten file is hashed again


# ------------------------------------------------------------------ offline fallback

def test_test_split_only_fallback(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", TEST_ONLY)
    with pytest.warns(UserWarning, match="train split not available"):
        ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    assert "test split only" in ds.source
    assert f"{int(N_TEST * 0.8)} train / {int(N_TEST * 0.2)} test" in ds.source
    assert ds.protocol.startswith("test-split-only")
    # train and test are disjoint parts of the official test images, together all of them
    test_images = tiny["arrays"]["t10k-images"]
    rows = {im.tobytes() for im in test_images}
    got = [im.tobytes() for im in np.concatenate([ds.x_train, ds.x_test])]
    assert len(got) == N_TEST and set(got) == rows


def test_stratified_split_is_deterministic_balanced_disjoint():
    labels = np.repeat(np.arange(10), [100, 90, 110, 100, 100, 95, 105, 100, 100, 100])
    np.random.default_rng(0).shuffle(labels)
    train, test = data.stratified_split(labels)
    train2, test2 = data.stratified_split(labels)
    assert np.array_equal(train, train2) and np.array_equal(test, test2)
    assert not set(train) & set(test) and len(train) + len(test) == len(labels)
    for c in range(10):
        n = np.sum(labels == c)
        assert np.sum(labels[test] == c) == round(0.2 * n)
    assert not np.array_equal(test, data.stratified_split(labels, seed=1)[1])


def test_nothing_available_lists_places_and_urls(tiny, tmp_path):
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", data_dir=tmp_path / "empty")
    message = str(err.value)
    for folder in data.search_dirs("mnist", tmp_path / "empty"):
        assert str(folder) in message
    assert tiny["spec"].test_images.urls[0] in message
    assert "AEBOOK_DATA" in message


def test_quick_profile_subsets(tiny, tmp_path, monkeypatch):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    from helpers.profiles import PROFILES, Profile
    monkeypatch.setitem(PROFILES, "quick", Profile("quick", 10, 5, 1, 32))
    ds = load_dataset("mnist", data_dir=tmp_path / "mine", profile="quick")
    assert len(ds.x_train) == 10 and len(ds.x_test) == 5
    assert "quick profile subset" in ds.source and "quick subset" in ds.protocol


def test_scaling_helpers():
    x = np.array([[[0, 255]]], dtype=np.uint8).repeat(28, 1).repeat(14, 2)
    assert data.to_float(x).dtype == np.float32 and data.to_float(x).max() == 1.0
    assert data.add_channel(x).shape == (1, 28, 28, 1)
    assert data.as_model_input(x, flat=True).shape == (1, 784)


def test_class_labels_are_ascii_for_kmnist():
    names = data.DATASETS["kmnist"].class_names
    ds = data.Dataset("kmnist", *(np.zeros(1),) * 4, names, "", "")
    assert ds.class_labels[0] == "o" and all(label.isascii() for label in ds.class_labels)
    assert "お" in names[0]


def test_no_warning_when_train_split_present(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset("mnist", data_dir=tmp_path / "mine")
