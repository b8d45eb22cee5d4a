"""helpers.data on small IDX and npz files made in a temp dir: parsing, bad input, search
order, checksums, atomic downloads, the validation part and the test-split-only fallback."""

import functools
import gzip
import hashlib
import http.server
import io
import logging
import socket
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests

from helpers import data
from helpers.data import DatasetError, DatasetSpec, OfficialFile, load_dataset, read_idx

N_TRAIN, N_TEST = 120, 100
ALLOW = "AEBOOK_ALLOW_TEST_SPLIT_ONLY"


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    dtype = {0x08: np.uint8, 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(dtype).tobytes()


def make_arrays(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def write_idx_gz(path, array, type_code=0x08):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(idx_bytes(array, type_code)))


@pytest.fixture(autouse=True)
def fresh_notices(monkeypatch):
    """No opt-in to the fallback unless a test asks; every test starts with nothing announced."""
    monkeypatch.delenv(ALLOW, raising=False)
    monkeypatch.setattr(data, "_ANNOUNCED", set())


class _Files(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; under /cut/, a response that stops after 10 of its 1,000 bytes; under
    /encoded/, a .gz file sent as gzip content-encoding to a client that accepts it (as Google
    Cloud Storage sends an object stored with that encoding)."""

    def do_GET(self):
        if self.path.startswith("/cut/"):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b" * 5)  # HTTP/1.0: the connection closes after this
            return
        if self.path.startswith("/encoded/"):
            self.path = self.path.removeprefix("/encoded")
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Replace the 'mnist' spec by a tiny one whose files live in tmp_path/server/mnist,
    served at tiny["url"] by a local HTTP server (no network)."""
    web = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Files, directory=str(tmp_path / "server")))
    threading.Thread(target=web.serve_forever, args=(0.01,), daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}"
    server = tmp_path / "server" / "mnist"
    arrays = {**dict(zip(["train-images", "train-labels"], make_arrays(N_TRAIN, 0))),
              **dict(zip(["t10k-images", "t10k-labels"], make_arrays(N_TEST, 1)))}
    files = []
    for stem, array in arrays.items():
        kind = "idx3" if array.ndim == 3 else "idx1"
        name = f"{stem}-{kind}-ubyte.gz"
        write_idx_gz(server / name, array)
        sha = hashlib.sha256(idx_bytes(array)).hexdigest()
        files.append(OfficialFile(name, (f"{url}/mnist/{name}",), sha, array.shape))
    spec = DatasetSpec("Tiny MNIST", "https://example.invalid", tuple("0123456789"), *files)
    monkeypatch.setitem(data.DATASETS, "mnist", spec)
    yield {"server": server, "arrays": arrays, "spec": spec, "url": url}
    web.shutdown()
    web.server_close()


def copy_files(src, dest, names):
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        (dest / n).write_bytes((src / n).read_bytes())


ALL = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
TEST_ONLY = ALL[2:]


def rows(images):
    return [im.tobytes() for im in images]


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


def test_npy_file_under_an_npz_name(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    with path.open("wb") as f:
        np.save(f, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match=r"\.npy format") as err:
        data._read_npz(path)
    assert str(path) in str(err.value)


# -------------------------------------------------------------------- load_dataset

def test_load_from_data_dir(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    n_val = N_TRAIN // 10
    assert ds.x_train.shape == (N_TRAIN - n_val, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_val.shape == (n_val, 28, 28) and ds.y_val.dtype == np.int64
    assert ds.x_test.shape == (N_TEST, 28, 28)
    # train and validation are disjoint parts of the official train split, together all of it
    assert sorted(rows(ds.x_train) + rows(ds.x_val)) == sorted(rows(tiny["arrays"]["train-images"]))
    assert np.array_equal(ds.y_test, tiny["arrays"]["t10k-labels"])
    assert ds.source.startswith("Tiny MNIST from data_dir argument; official split")
    assert f"{N_TRAIN - n_val} train / {n_val} validation / {N_TEST} test" in ds.source
    assert ds.source.endswith("SHA-256 verified") and str(tmp_path) not in ds.source
    assert ds.protocol == f"official {N_TRAIN - n_val}/{n_val}/{N_TEST}"
    assert "val=(12, 28, 28)" in repr(ds)


def test_data_dir_may_hold_the_files_directly(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "flat", ALL)
    assert len(load_dataset("mnist", data_dir=tmp_path / "flat").y_val) == N_TRAIN // 10


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


def unchecked_test_split(monkeypatch, folder, images, labels, image_type=0x08, label_type=0x08):
    """Write a test split without published checksums and make it the 'mnist' spec."""
    write_idx_gz(folder / TEST_ONLY[0], images, image_type)
    write_idx_gz(folder / TEST_ONLY[1], labels, label_type)
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


def test_float_idx_images_are_rejected(monkeypatch, tmp_path):
    """A float IDX file used to load as all-zero uint8 images."""
    folder = tmp_path / "mine" / "mnist"
    unchecked_test_split(monkeypatch, folder, np.full((4, 28, 28), 0.5), np.arange(4),
                         image_type=0x0D)
    with pytest.raises(DatasetError, match="float32 values, expected unsigned bytes .*0x08") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert str(folder / TEST_ONLY[0]) in str(err.value)


def test_float_idx_labels_are_rejected(monkeypatch, tmp_path):
    unchecked_test_split(monkeypatch, tmp_path / "mine" / "mnist", np.zeros((4, 28, 28)),
                         np.array([0.0, 1.0, 2.0, 3.0]), label_type=0x0D)
    with pytest.raises(DatasetError, match="expected integer labels") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert TEST_ONLY[1] in str(err.value)


def test_int32_idx_labels_are_accepted(monkeypatch, tmp_path):
    unchecked_test_split(monkeypatch, tmp_path / "mine" / "mnist", np.zeros((10, 28, 28)),
                         np.arange(10), label_type=0x0C)
    assert data._read_split("mnist", "test", tmp_path / "mine")[0][1].tolist() == list(range(10))


@pytest.mark.parametrize("blocker", ["folder", "broken link"])
def test_data_dir_with_a_non_file_is_an_error(tiny, tmp_path, monkeypatch, blocker):
    """No silent fall-back to another source (here a mirror holding good files)."""
    copy_files(tiny["server"], tmp_path / "mirror" / "mnist", ALL)
    monkeypatch.setenv("AEBOOK_DATA", str(tmp_path / "mirror"))
    target = tmp_path / "mine" / "mnist" / ALL[2]
    target.parent.mkdir(parents=True)
    if blocker == "folder":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "nowhere.gz")
    expected = "a folder" if blocker == "folder" else "not a regular file"
    with pytest.raises(DatasetError, match=expected) as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert str(target) in str(err.value)


def test_file_hash_when_no_payload_hash_is_published(tiny, tmp_path, monkeypatch):
    """Train files with only a published hash of the (compressed) file, as for MNIST."""
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    spec = tiny["spec"]
    train = [OfficialFile(f.name, f.urls, None, f.shape,
                          hashlib.sha256((folder / f.name).read_bytes()).hexdigest())
             for f in (spec.train_images, spec.train_labels)]
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        spec.title, spec.home, spec.class_names, *train, spec.test_images, spec.test_labels))
    assert load_dataset("mnist", data_dir=tmp_path / "mine").source.endswith("; SHA-256 verified")
    # the same data recompressed (another gzip header) is not the published file
    (folder / ALL[0]).write_bytes(gzip.compress(idx_bytes(tiny["arrays"]["train-images"]), mtime=1))
    with pytest.raises(DatasetError, match=r"SHA-256 of the file \(as published\)") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert str(folder / ALL[0]) in str(err.value)


def test_source_says_which_files_had_no_published_hash(tiny, tmp_path, monkeypatch):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    spec = tiny["spec"]
    train = [OfficialFile(f.name, f.urls, None, f.shape)
             for f in (spec.train_images, spec.train_labels)]
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        spec.title, spec.home, spec.class_names, *train, spec.test_images, spec.test_labels))
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    assert ds.source.endswith(f"SHA-256 verified except {ALL[0]}, {ALL[1]}: structure-checked, "
                              "no published SHA-256")


# ---------------------------------------------------------------------- search order

def test_search_order(tiny, tmp_path, monkeypatch, isolated_data_env):
    """data_dir beats $AEBOOK_DATA, which beats the cache."""
    for where in ("arg", "mirror"):
        copy_files(tiny["server"], tmp_path / where / "mnist", ALL)
    copy_files(tiny["server"], isolated_data_env / "mnist", ALL)
    monkeypatch.setenv("AEBOOK_DATA", str(tmp_path / "mirror"))
    assert "from data_dir argument;" in load_dataset("mnist", data_dir=tmp_path / "arg").source
    assert "from offline mirror ($AEBOOK_DATA);" in load_dataset("mnist").source
    monkeypatch.delenv("AEBOOK_DATA")
    assert "from cache ($AEBOOK_CACHE/mnist);" in load_dataset("mnist").source
    dirs = data.search_dirs("mnist", tmp_path / "arg")
    assert dirs[0] == tmp_path / "arg" / "mnist" and dirs[-1] == isolated_data_env / "mnist"
    assert data.search_dirs("fashion_mnist")[-1] == data.DEBIAN_FASHION_DIR


def test_default_cache_is_described_relative_to_home(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv("AEBOOK_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    copy_files(tiny["server"], tmp_path / "home" / ".cache" / "aebook" / "mnist", ALL)
    ds = load_dataset("mnist")
    assert "from cache (~/.cache/aebook/mnist);" in ds.source and str(tmp_path) not in ds.source


def test_files_split_across_places(tiny, tmp_path, monkeypatch, isolated_data_env):
    copy_files(tiny["server"], tmp_path / "mirror" / "mnist", TEST_ONLY)
    copy_files(tiny["server"], isolated_data_env / "mnist", ALL[:2])
    monkeypatch.setenv("AEBOOK_DATA", str(tmp_path / "mirror"))
    ds = load_dataset("mnist")
    assert "official split" in ds.source
    assert "offline mirror ($AEBOOK_DATA); train split from cache ($AEBOOK_CACHE/mnist)" in ds.source


# ------------------------------------------------------------------------ downloads

def test_download_is_atomic_and_verified(tiny, monkeypatch, isolated_data_env):
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    ds = load_dataset("mnist")
    cached = sorted(p.name for p in (isolated_data_env / "mnist").iterdir())
    assert cached == sorted(ALL)  # no .part files left behind
    assert "cache ($AEBOOK_CACHE/mnist)" in ds.source and "SHA-256 verified" in ds.source
    monkeypatch.setenv("AEBOOK_OFFLINE", "1")  # the second load needs no network
    assert np.array_equal(load_dataset("mnist").x_test, ds.x_test)


def test_a_download_prints_nothing_of_this_machine(tiny, monkeypatch, isolated_data_env, capfd):
    """pooch's log lines (which name the cache folder) are silenced during a download only."""
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    logger, records = pooch.get_logger(), []
    handler, level = logging.Handler(), logger.level
    handler.emit = records.append
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        load_dataset("mnist")
        assert records == [] and logger.level == logging.INFO
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    out, err = capfd.readouterr()
    assert out == "" and str(isolated_data_env) not in err


def test_a_download_is_the_file_as_published(tiny, monkeypatch, isolated_data_env):
    """A .gz file is not decompressed on its way, even by a server that would send it so."""
    spec = tiny["spec"]
    encoded = [OfficialFile(f.name, (f.urls[0].replace("/mnist/", "/encoded/mnist/"),),
                            f.sha256, f.shape)
               for f in (spec.train_images, spec.train_labels, spec.test_images, spec.test_labels)]
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        spec.title, spec.home, spec.class_names, *encoded))
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    assert load_dataset("mnist").source.endswith("; SHA-256 verified")
    for name in ALL:
        cached = (isolated_data_env / "mnist" / name).read_bytes()
        assert cached == (tiny["server"] / name).read_bytes()


def test_a_file_another_process_downloaded_first_is_checked(tiny, monkeypatch, isolated_data_env):
    """Where pooch finds the file already in place (a download that finished between the search
    and this one), it is read and checked, not downloaded again."""
    cache = isolated_data_env / "mnist"
    real_search_dirs = data.search_dirs
    monkeypatch.setattr(data, "search_dirs", lambda *a: [  # the file appears after the search
        d for d in real_search_dirs(*a) if d != cache])
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    copy_files(tiny["server"], cache, ALL)
    (tiny["server"] / ALL[0]).unlink()  # a download would fail
    assert load_dataset("mnist").source.endswith("; SHA-256 verified")
    (cache / ALL[2]).write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DatasetError, match="truncated or corrupt") as err:
        load_dataset("mnist")
    assert str(cache / ALL[2]) in str(err.value)


def test_a_downloaded_file_is_remembered_as_verified(tiny, monkeypatch, isolated_data_env):
    """A download is hashed once: the marker written after the rename spares the next load."""
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    load_dataset("mnist")
    calls = []
    real = data._sha256
    monkeypatch.setattr(data, "_sha256", lambda b: calls.append(b) or real(b))
    monkeypatch.setenv("AEBOOK_OFFLINE", "1")
    load_dataset("mnist")
    assert calls == []


def test_failed_transfer_leaves_nothing(tiny, monkeypatch, isolated_data_env):
    def broken_fetch(url, dest, desc):
        dest.write(b"\x1f\x8b partial bytes")
        raise requests.exceptions.ConnectionError("connection reset")

    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    monkeypatch.setattr(data, "_fetch", broken_fetch)
    with pytest.raises(DatasetError, match="connection reset") as err:
        load_dataset("mnist")
    assert "t10k-images-idx3-ubyte.gz" in str(err.value)
    assert list((isolated_data_env / "mnist").iterdir()) == []


def with_first_mirror(monkeypatch, spec, first="https://first.invalid/"):
    """Give every file of ``spec`` a first URL in front of its working one."""
    def prepend(f):
        return OfficialFile(f.name, (first + f.name, *f.urls), f.sha256, f.shape)
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        spec.title, spec.home, spec.class_names,
        *(prepend(f) for f in (spec.train_images, spec.train_labels,
                               spec.test_images, spec.test_labels))))


@pytest.mark.parametrize("error", [  # as requests raises them
    requests.exceptions.ChunkedEncodingError(
        "Connection broken: IncompleteRead(2 bytes read, 998 more expected)"),
    requests.exceptions.ConnectionError("Remote end closed connection without response"),
    requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
], ids=["IncompleteRead", "RemoteDisconnected", "timeout"])
def test_interrupted_download_tries_the_next_url(tiny, monkeypatch, isolated_data_env, error):
    real_fetch = data._fetch

    def fetch(url, dest, desc):
        if url.startswith("https://first.invalid/"):
            dest.write(b"\x1f\x8b half a file")
            raise error
        real_fetch(url, dest, desc)

    with_first_mirror(monkeypatch, tiny["spec"])
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    monkeypatch.setattr(data, "_fetch", fetch)
    ds = load_dataset("mnist")
    assert ds.source.endswith("SHA-256 verified")
    assert sorted(p.name for p in (isolated_data_env / "mnist").iterdir()) == sorted(ALL)


def test_incomplete_read_everywhere_fails_cleanly(tiny, monkeypatch, isolated_data_env):
    with_first_mirror(monkeypatch, tiny["spec"])
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    real_get = requests.get  # pooch's; every URL gets a response cut short after 10 bytes
    monkeypatch.setattr(requests, "get", lambda url, **kw: real_get(tiny["url"] + "/cut/", **kw))
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "IncompleteRead" in message
    assert "https://first.invalid/t10k-images-idx3-ubyte.gz" in message  # both URLs were tried
    assert tiny["spec"].test_images.urls[0] in message
    assert list((isolated_data_env / "mnist").iterdir()) == []


def test_download_is_checked_against_the_published_hash_of_the_file(tiny, monkeypatch,
                                                                   isolated_data_env):
    """Where the published SHA-256 is of the file itself, pooch checks the download against it
    (and the helpers do not hash it a second time); a mismatch is not kept."""
    spec, server = tiny["spec"], tiny["server"]

    def with_file_hashes(digest):
        train = [OfficialFile(f.name, f.urls, None, f.shape, digest(f.name))
                 for f in (spec.train_images, spec.train_labels)]
        monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
            spec.title, spec.home, spec.class_names, *train, spec.test_images, spec.test_labels))

    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    with_file_hashes(lambda name: hashlib.sha256(name.encode()).hexdigest())
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert f"hash of downloaded file ({ALL[0]}) does not match the known hash" in message
    assert sorted(p.name for p in (isolated_data_env / "mnist").iterdir()) == sorted(TEST_ONLY)
    with_file_hashes(lambda name: hashlib.sha256((server / name).read_bytes()).hexdigest())
    hashed = []
    real = data._sha256
    monkeypatch.setattr(data, "_sha256", lambda b: hashed.append(len(b)) or real(b))
    assert load_dataset("mnist").source.endswith("; SHA-256 verified")
    assert hashed == []  # the test files were verified and remembered by the first load


@pytest.mark.parametrize("right", [True, False], ids=["published", "other"])
def test_npz_downloads_are_checked_against_the_published_hash_of_the_file(
        tiny, monkeypatch, isolated_data_env, right):
    """KMNIST's digests are of the .npz files: pooch checks them, the helpers do not again."""
    server = tiny["server"].parent / "kmnist"
    server.mkdir()
    files = []
    for stem, array in zip(["train-imgs", "train-labels", "test-imgs", "test-labels"],
                           tiny["arrays"].values()):
        name = f"kmnist-{stem}.npz"
        np.savez_compressed(server / name, array)
        raw = (server / name).read_bytes()
        files.append(OfficialFile(name, (f"{tiny['url']}/kmnist/{name}",),
                                  hashlib.sha256(raw if right else raw + b"!").hexdigest(),
                                  array.shape))
    monkeypatch.setitem(data.DATASETS, "kmnist", DatasetSpec(
        "Tiny KMNIST", "https://example.invalid", tuple("0123456789"), *files))
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    hashed = []
    real = data._sha256
    monkeypatch.setattr(data, "_sha256", lambda b: hashed.append(len(b)) or real(b))
    if right:
        assert load_dataset("kmnist").source.endswith("; SHA-256 verified") and hashed == []
        return
    with pytest.raises(DatasetError, match="kmnist-test-imgs.npz\\) does not match the known hash"):
        load_dataset("kmnist")
    assert hashed == [] and list((isolated_data_env / "kmnist").iterdir()) == []


def test_a_download_rejected_by_its_hash_gives_way_to_the_next_url(tiny, monkeypatch,
                                                                   isolated_data_env):
    """The first mirror's train images are well-formed but another release (the published
    SHA-256 of the file tells); the array returned is the second mirror's, the one kept."""
    spec, server = tiny["spec"], tiny["server"]
    write_idx_gz(server.parent / "other" / ALL[0], make_arrays(N_TRAIN, 2)[0])
    digest = hashlib.sha256((server / ALL[0]).read_bytes()).hexdigest()
    images = OfficialFile(ALL[0], (f"{tiny['url']}/other/{ALL[0]}", *spec.train_images.urls),
                          None, spec.train_images.shape, digest)
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        spec.title, spec.home, spec.class_names, images, spec.train_labels,
        spec.test_images, spec.test_labels))
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    ds = load_dataset("mnist")
    assert sorted(rows(ds.x_train) + rows(ds.x_val)) == sorted(rows(tiny["arrays"]["train-images"]))
    assert (isolated_data_env / "mnist" / ALL[0]).read_bytes() == (server / ALL[0]).read_bytes()


def test_corrupt_download_is_not_kept(tiny, monkeypatch, isolated_data_env):
    (tiny["server"] / ALL[2]).write_bytes(b"<html>rate limited</html>")
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    with pytest.raises(DatasetError, match="HTML page"):
        load_dataset("mnist")
    assert [p.name for p in (isolated_data_env / "mnist").iterdir()] == [ALL[3]]  # the good file


def test_corrupt_cached_file_is_moved_aside_and_fetched_again(tiny, monkeypatch, isolated_data_env,
                                                               capsys):
    cache = isolated_data_env / "mnist"
    copy_files(tiny["server"], cache, ALL)
    (cache / ALL[0]).write_bytes(b"\x1f\x8b garbage")
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_dataset("mnist")
    assert sorted(rows(ds.x_train) + rows(ds.x_val)) == sorted(rows(tiny["arrays"]["train-images"]))
    assert any(p.name.startswith(ALL[0] + ".corrupt-") for p in cache.iterdir())
    out = capsys.readouterr().out
    assert out.startswith(f"Note: the cached {ALL[0]} is unusable (")
    assert f"moved it aside to {ALL[0]}.corrupt-" in out and len(out.strip().splitlines()) == 1
    assert out.count("\n") == 1 and str(isolated_data_env) not in out


def test_unwritable_cache_when_moving_a_corrupt_file_aside(tiny, monkeypatch, isolated_data_env):
    copy_files(tiny["server"], isolated_data_env / "mnist", ALL)
    (isolated_data_env / "mnist" / ALL[0]).write_bytes(b"\x1f\x8b garbage")
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.os, "replace", refuse)
    with pytest.raises(DatasetError, match="cache folder .* is not writable .*Set AEBOOK_CACHE"):
        load_dataset("mnist")


def test_unwritable_cache_when_downloading(tiny, monkeypatch, isolated_data_env):
    """Runs as root too: the failing call is patched, not the folder's mode."""
    (isolated_data_env / "mnist").mkdir(parents=True)
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)  # pooch's temporaries
    with pytest.raises(DatasetError, match="not writable .*Set AEBOOK_CACHE to a writable") as err:
        load_dataset("mnist")
    assert str(isolated_data_env / "mnist") in str(err.value)


def test_unwritable_cache_is_reported_with_its_cause(tiny, monkeypatch, isolated_data_env):
    """Once, in the helpers' words (pooch wraps the PermissionError in one of its own)."""
    (isolated_data_env / "mnist").mkdir(parents=True)
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist")
    assert str(err.value) == (f"the cache folder {isolated_data_env / 'mnist'} is not writable "
                              "(Permission denied). Set AEBOOK_CACHE to a writable folder (or "
                              "make this one writable).")


@pytest.mark.skipif(not hasattr(data.os, "geteuid") or data.os.geteuid() == 0,
                    reason="root writes to read-only folders")
def test_read_only_cache_folder(tiny, monkeypatch, isolated_data_env):
    folder = isolated_data_env / "mnist"
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    try:
        with pytest.raises(DatasetError, match="not writable"):
            load_dataset("mnist")
    finally:
        folder.chmod(0o700)


def test_checksum_marker_avoids_rehashing(tiny, tmp_path, monkeypatch):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    calls = []
    real = data._sha256
    monkeypatch.setattr(data, "_sha256", lambda b: calls.append(b) or real(b))
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(calls) == 4
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(calls) == 4  # verified once, remembered by path and a key of the file
    write_idx_gz(tmp_path / "mine" / "mnist" / ALL[2], tiny["arrays"]["t10k-images"])
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(calls) == 5  # a rewritten file is hashed again


# ------------------------------------------------------------------ offline fallback

def test_missing_train_split_is_an_error_without_opt_in(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", TEST_ONLY)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    message = str(err.value)
    assert ALL[0] in message and ALL[1] in message and str(tmp_path / "mine" / "mnist") in message
    assert "connect to the internet" in message and f"set {ALLOW}=1" in message
    assert "8,000/2,000" in message


def test_test_split_only_fallback(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ALLOW, "1")
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", TEST_ONLY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a printed notice, never a warning block
        ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    n_test = N_TEST // 5
    n_val = (N_TEST - n_test) // 10
    n_train = N_TEST - n_test - n_val
    assert "test split only" in ds.source
    assert f"{n_train} train / {n_val} validation / {n_test} test" in ds.source
    assert ds.protocol == f"test-split-only {n_train}/{n_val}/{n_test}"
    # three disjoint parts of the official test images, together all of them
    got = rows(ds.x_train) + rows(ds.x_val) + rows(ds.x_test)
    assert sorted(got) == sorted(rows(tiny["arrays"]["t10k-images"]))
    out = capsys.readouterr().out
    assert out.startswith("Note: Tiny MNIST: no train split") and out.count("\n") == 1
    assert f"{n_train}/{n_val}/{n_test}" in out and str(tmp_path) not in out
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert capsys.readouterr().out == ""  # announced once per dataset per process


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
    monkeypatch.setitem(PROFILES, "quick", Profile("quick", 10, 4, 5, 1, 32))
    ds = load_dataset("mnist", data_dir=tmp_path / "mine", profile="quick")
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (10, 4, 5)
    assert "quick profile subset" in ds.source and ds.protocol == "official 10/4/5, quick subset"


def test_no_warning_or_output_when_train_split_present(tiny, tmp_path, capsys):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------------------ splitting

COUNTS = [100, 90, 110, 100, 100, 95, 105, 100, 100, 103]


def shuffled_labels():
    labels = np.repeat(np.arange(10), COUNTS)
    np.random.default_rng(0).shuffle(labels)
    return labels


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.37])
def test_stratified_split_is_balanced_disjoint_and_complete(fraction):
    labels = shuffled_labels()
    kept, held = data.stratified_split(labels, fraction)
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)  # sorted, no repeats
    assert not set(kept) & set(held) and len(kept) + len(held) == len(labels)
    assert len(held) == round(fraction * len(labels))
    for c, n in enumerate(COUNTS):
        assert abs(np.sum(labels[held] == c) - fraction * n) <= 1  # within one image


def test_stratified_split_is_deterministic_and_uses_no_random_stream():
    labels = shuffled_labels()
    np.random.seed(1)
    first = data.stratified_split(labels, 0.2)
    np.random.seed(2)
    np.random.default_rng(3).random(10)
    second = data.stratified_split(labels, 0.2)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[1], data.stratified_split(labels, 0.2, seed=1)[1])


def test_stratified_split_holds_out_the_lowest_hash_ranks():
    labels = shuffled_labels()
    _, held = data.stratified_split(labels, 0.1, seed=7)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        rank = sorted(idx, key=lambda i: hashlib.sha256(f"7:{i}".encode()).digest())
        assert set(held[labels[held] == c]) == set(rank[:np.sum(labels[held] == c)])


def test_stratified_split_golden():
    """Pinned: a change of rule (or of a library under it) must not move the published parts."""
    _, held = data.stratified_split(np.arange(100) % 10, 0.2)
    digest = hashlib.sha256(held.astype(np.int64).tobytes()).hexdigest()
    assert digest == "22d8f86dd569882c725d40c4bcbe8550422547f193498da58ae4a85770f9c474"


def test_scaling_helpers():
    x = np.array([[[0, 255]]], dtype=np.uint8).repeat(28, 1).repeat(14, 2)
    assert data.to_float(x).dtype == np.float32 and data.to_float(x).max() == 1.0
    assert data.add_channel(x).shape == (1, 28, 28, 1)
    assert data.as_model_input(x, flat=True).shape == (1, 784)


def test_class_labels_are_ascii_for_kmnist():
    names = data.DATASETS["kmnist"].class_names
    ds = data.Dataset("kmnist", *(np.zeros(1),) * 6, names, "", "")
    assert ds.class_labels[0] == "o" and all(label.isascii() for label in ds.class_labels)
    assert "お" in names[0]


def test_a_refused_download_draws_no_progress_bar(capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        data._fetch(f"http://127.0.0.1:{port}/x.gz", io.BytesIO(), "x.gz")
    assert capsys.readouterr().err == ""
