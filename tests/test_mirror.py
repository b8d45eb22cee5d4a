"""The real datasets, read from the offline mirror beside the checkout (../shared/data)."""

import gzip
import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from helpers import data
from helpers.data import DATASETS, DatasetError, load_dataset, read_idx, stratified_split

from .conftest import MIRROR

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no offline mirror at {MIRROR}")
ALLOW = "AEBOOK_ALLOW_TEST_SPLIT_ONLY"


@pytest.fixture
def allow_test_split_only(monkeypatch):
    monkeypatch.setenv(ALLOW, "1")


def index_hash(indices) -> str:
    return hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest()


OFFICIAL = {"mnist", "fashion_mnist"}  # whose train split the mirror holds


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_loads_from_mirror(name, allow_test_split_only):
    ds = load_dataset(name, data_dir=MIRROR, profile="full")
    sizes = (54_000, 6_000, 10_000) if name in OFFICIAL else (7_200, 800, 2_000)
    assert tuple(len(x) for x in (ds.x_train, ds.x_val, ds.x_test)) == sizes
    assert tuple(len(y) for y in (ds.y_train, ds.y_val, ds.y_test)) == sizes
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    for labels in (ds.y_train, ds.y_val, ds.y_test):
        assert labels.min() == 0 and labels.max() == 9
        assert np.bincount(labels).min() > 0.08 * len(labels)  # every class well represented
    # every file checked against a published digest, MNIST's train files included
    assert ds.source.endswith("; SHA-256 verified") and str(MIRROR) not in ds.source
    assert ("official split" if name in OFFICIAL else "test split only") in ds.source
    tag = "official" if name in OFFICIAL else "test-split-only"
    assert ds.protocol == f"{tag} {sizes[0]:,}/{sizes[1]:,}/{sizes[2]:,}"
    assert len(ds.class_names) == 10


@pytest.mark.parametrize("name, missing", [("kmnist", "kmnist-train-imgs.npz"),
                                           ("notmnist", "train-images-idx3-ubyte.gz")])
def test_test_split_only_needs_opt_in(monkeypatch, name, missing):
    monkeypatch.delenv(ALLOW, raising=False)
    with pytest.raises(DatasetError, match=f"{ALLOW}=1") as err:
        load_dataset(name, data_dir=MIRROR, profile="full")
    assert missing in str(err.value)


@pytest.mark.parametrize("name, digest, counts", [
    ("mnist", "7a780c3eae9bd95fde367046c2da40bb4410bc22c62c8f6bcf8ce9fca76b8db4",
     [592, 674, 596, 613, 584, 542, 592, 627, 585, 595]),
    ("fashion_mnist", "3333e033b43c0943ae2dacac6be6c1d37de6eb3aa27e957e86aed5c4ae382ec1",
     [600] * 10),
])
def test_golden_validation_part(name, digest, counts):
    """The published validation part of the official train split: pinned, and what
    load_dataset returns."""
    images = read_idx(MIRROR / name / "train-images-idx3-ubyte.gz")
    labels = read_idx(MIRROR / name / "train-labels-idx1-ubyte.gz")
    kept, val = stratified_split(labels, data.VALIDATION_FRACTION)
    assert index_hash(val) == digest
    assert np.bincount(labels[val]).tolist() == counts
    ds = load_dataset(name, data_dir=MIRROR, profile="full")
    assert np.array_equal(ds.x_val, images[val]) and np.array_equal(ds.x_train, images[kept])
    assert np.array_equal(ds.y_val, labels[val])


def test_golden_test_split_only_parts_of_kmnist(allow_test_split_only):
    """The published fallback parts of KMNIST's test split: pinned, and what load_dataset
    returns."""
    with np.load(MIRROR / "kmnist" / "kmnist-test-imgs.npz") as archive:
        images = archive["arr_0"]
    with np.load(MIRROR / "kmnist" / "kmnist-test-labels.npz") as archive:
        labels = archive["arr_0"]
    kept, test = stratified_split(labels, data.FALLBACK_TEST_FRACTION)
    train, val = (kept[i] for i in stratified_split(labels[kept], data.VALIDATION_FRACTION))
    assert index_hash(test) == "19df0f52dd4804b1b695bef9c81c518c61b0421a027b23ee2ccfa24e5e67e675"
    assert index_hash(val) == "557fa85854c6e8a98e49e962a5d06f27eab3a2ad197ca6bc29c6b5686a5e99db"
    assert np.bincount(labels[test]).tolist() == [200] * 10
    assert np.bincount(labels[val]).tolist() == [80] * 10
    ds = load_dataset("kmnist", data_dir=MIRROR, profile="full")
    for part, idx in ((ds.x_train, train), (ds.x_val, val), (ds.x_test, test)):
        assert np.array_equal(part, images[idx])


def test_checksum_table_matches_the_mirror_manifest():
    """Our table's hashes agree with the mirror's SHA256SUMS and with the bytes themselves."""
    manifest, files = {}, {}
    for line in (MIRROR / "SHA256SUMS").read_text().splitlines():
        digest, path, *rest = line.split()
        if path.endswith(".npz") or rest == ["(decompressed)"]:
            manifest[path] = digest
        else:
            files[path] = digest
    checked = 0
    for name, spec in DATASETS.items():
        for f in (spec.train_images, spec.train_labels, spec.test_images, spec.test_labels):
            key = f"{name}/{f.name}"
            if key in manifest:
                assert f.sha256 == manifest[key], key
                checked += 1
            if f.file_sha256 and key in files:
                assert f.file_sha256 == files[key], key
    assert checked == len(manifest) == 12


def test_every_train_file_without_a_payload_hash_is_accounted_for():
    """MNIST's train files carry the hash of their contents and the published hash of the gz
    file, KMNIST's the digest of the .npz file; notMNIST's have none (the source line says
    "structure-checked")."""
    unchecked = {f"{name}/{f.name}" for name, spec in DATASETS.items()
                 for f in (spec.train_images, spec.train_labels) if not (f.sha256 or f.file_sha256)}
    assert unchecked == {"notmnist/train-images-idx3-ubyte.gz", "notmnist/train-labels-idx1-ubyte.gz"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", f.file_sha256)
               for f in (DATASETS["mnist"].train_images, DATASETS["mnist"].train_labels))


def test_mirror_hashes_are_of_decompressed_bytes():
    path = MIRROR / "mnist" / "t10k-labels-idx1-ubyte.gz"
    digest = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    assert digest == DATASETS["mnist"].test_labels.sha256
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_reading_the_mirror_never_imports_pooch():
    """pooch (and the progress-bar import that warns in a notebook) loads only to download."""
    code = ("import sys, helpers.data as d; d.load_dataset('fashion_mnist'); "
            "print('pooch' in sys.modules, 'tqdm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "AEBOOK_DATA": str(MIRROR),
                              "AEBOOK_PROFILE": "quick"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
