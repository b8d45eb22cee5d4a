"""The real datasets, read from the offline mirror beside the checkout (../shared/data)."""

import hashlib
import re

import numpy as np
import pytest

from helpers.data import DATASETS, load_dataset

from .conftest import MIRROR

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no offline mirror at {MIRROR}")


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_loads_from_mirror(name):
    ds = load_dataset(name, data_dir=MIRROR, profile="full")
    n_train, n_test = (60_000, 10_000) if name == "fashion_mnist" else (8_000, 2_000)
    assert ds.x_train.shape == (n_train, 28, 28) and ds.x_test.shape == (n_test, 28, 28)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    for labels in (ds.y_train, ds.y_test):
        assert labels.min() == 0 and labels.max() == 9
        assert np.bincount(labels).min() > 0.08 * len(labels)  # every class well represented
    assert "SHA-256 verified" in ds.source
    assert ("official split" if name == "fashion_mnist" else "test split only") in ds.source
    assert len(ds.class_names) == 10


def test_checksum_table_matches_the_mirror_manifest():
    """Our table's hashes agree with the mirror's SHA256SUMS and with the bytes themselves."""
    manifest = {}
    for line in (MIRROR / "SHA256SUMS").read_text().splitlines():
        digest, path, *rest = line.split()
        if path.endswith(".npz") or rest == ["(decompressed)"]:
            manifest[path] = digest
    checked = 0
    for name, spec in DATASETS.items():
        for f in (spec.train_images, spec.train_labels, spec.test_images, spec.test_labels):
            key = f"{name}/{f.name}"
            if key in manifest:
                assert f.sha256 == manifest[key], key
                checked += 1
    assert checked == len(manifest) == 10


def test_mirror_hashes_are_of_decompressed_bytes():
    import gzip

    path = MIRROR / "mnist" / "t10k-labels-idx1-ubyte.gz"
    digest = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    assert digest == DATASETS["mnist"].test_labels.sha256
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
