"""The book's data layer: four MNIST-shaped datasets, verified, cached, with provenance.

``load_dataset(name)`` returns a :class:`Dataset` for ``"mnist"``, ``"fashion_mnist"``,
``"kmnist"`` or ``"notmnist"``: a train, a validation and a test part. Each official file is
looked for, in order, in

1. the ``data_dir`` argument,
2. the folder named by ``$AEBOOK_DATA`` (an offline mirror laid out as ``<name>/<file>``),
3. the user cache (``$AEBOOK_CACHE`` or ``~/.cache/aebook``),
4. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist``,

and otherwise downloaded from its official home into the cache with `pooch`, which moves a
download into place only once it passed the checks. Every file is checked (gzip/zip integrity,
IDX magic number, element type and shape, label range) and compared with the published SHA-256
in :data:`DATASETS` where one is known. Any problem raises :class:`DatasetError` naming the
file, what is wrong and how to fix it.

The validation part is a deterministic, stratified 10% of the official train split
(:func:`stratified_split`). When only the official 10,000-image test split can be found,
``load_dataset`` fails unless ``$AEBOOK_ALLOW_TEST_SPLIT_ONLY=1``; then it carves a
stratified 80/20 train/test split out of that test split (the validation part comes out of
the 80%) and says "test split only" in ``Dataset.source``.

``check_not_test(images, what)`` refuses images of a loaded dataset's test part (a guard for
training code).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import sys
import time
import uuid
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.files import atomic_write, remove_stale, remove_stale_temporaries
from helpers.profiles import get_profile

DATA_ENV = "AEBOOK_DATA"
CACHE_ENV = "AEBOOK_CACHE"
OFFLINE_ENV = "AEBOOK_OFFLINE"
ALLOW_TEST_SPLIT_ONLY_ENV = "AEBOOK_ALLOW_TEST_SPLIT_ONLY"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_TIMEOUT_S = 60
VALIDATION_FRACTION = 0.1
FALLBACK_TEST_FRACTION = 0.2
SPLIT_SEED = 20_181_203  # fixed: the parts must never change between runs or library versions


class DatasetError(Exception):
    """A dataset file is missing, unreadable, corrupt or inconsistent."""


@dataclass(frozen=True)
class OfficialFile:
    """One file of an official distribution, with its published SHA-256 where one exists."""

    name: str  # official file name
    urls: tuple[str, ...]  # where to download it, tried in order
    sha256: str | None  # of the decompressed bytes (npz: of the file); None = not published
    shape: tuple[int, ...]  # shape of the array it holds
    file_sha256: str | None = None  # of the file as published (compressed); used without sha256


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is made of and where it comes from."""

    title: str
    home: str
    class_names: tuple[str, ...]
    train_images: OfficialFile
    train_labels: OfficialFile
    test_images: OfficialFile
    test_labels: OfficialFile

    def files(self, split: str) -> tuple[OfficialFile, OfficialFile]:
        return (self.train_images, self.train_labels) if split == "train" else (
            self.test_images, self.test_labels)


def _files(urls, names, sha, n_train, n_test, file_sha=(None,) * 4):
    shapes = [(n_train, 28, 28), (n_train,), (n_test, 28, 28), (n_test,)]
    return [
        OfficialFile(name, tuple(u + name for u in urls), digest, shape, file_digest)
        for name, digest, shape, file_digest in zip(names, sha, shapes, file_sha)
    ]


_IDX_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

# sha256: of the decompressed payloads (npz: of the file), as in the offline mirror's
# SHA256SUMS, which some mirrors' recompressed gz files still match. file_sha256: of the
# gz files as published. ROIS-CODH publishes no SHA-256 for the KMNIST .npz files (TensorFlow
# Datasets and torchvision list KMNIST's IDX files only): the train digests below are those a
# public third-party loader ships, pinned from the official download; its digests of the two
# test files equal ours, which the offline mirror matches. No digest of notMNIST-to-MNIST's
# train files is published anywhere we found: they are checked by structure and exact shape
# only, and the source line says so.
DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "MNIST", "https://yann.lecun.com/exdb/mnist/",
        tuple(str(d) for d in range(10)),
        *_files(
            ["https://storage.googleapis.com/cvdf-datasets/mnist/",
             "https://ossci-datasets.s3.amazonaws.com/mnist/"],
            _IDX_NAMES,
            ["ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
             "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"],
            60_000, 10_000,
            # Train files as published: TensorFlow Datasets' list of the CVDF files (9,912,422
            # and 28,881 bytes), https://github.com/tensorflow/datasets/blob/master/
            #     tensorflow_datasets/url_checksums/mnist.txt
            # (their decompressed digests above are those the offline mirror's SHA256SUMS holds)
            ["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", None, None]),
    ),
    "fashion_mnist": DatasetSpec(
        "Fashion-MNIST", "https://github.com/zalandoresearch/fashion-mnist",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        *_files(
            ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"],
            _IDX_NAMES,
            ["c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
             "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
             "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"],
            60_000, 10_000),
    ),
    "kmnist": DatasetSpec(
        "Kuzushiji-MNIST", "http://codh.rois.ac.jp/kmnist/",
        # One hiragana per row of the syllabary, with its romanisation.
        ("お (o)", "き (ki)", "す (su)", "つ (tsu)", "な (na)",
         "は (ha)", "ま (ma)", "や (ya)", "れ (re)", "を (wo)"),
        *_files(
            ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
            ["kmnist-train-imgs.npz", "kmnist-train-labels.npz",
             "kmnist-test-imgs.npz", "kmnist-test-labels.npz"],
            ["11d69e17c8fd294905864aef177fd10c2185e5a3655f4da03d72ea5a64c17a72",
             "a325c877035602cb9b9ba54f4194a2a1b5f718026a463db5b5e0cdc124c03720",
             "692d824896bec8f3c357ebf7a0fe904ed67ac632ce953d0b58f7fbef7bb27d87",
             "660f13a4705431ea2a6391c41ecbe384cd0d932c595a101ec4f3b8989e785046"],
            60_000, 10_000),
    ),
    "notmnist": DatasetSpec(
        "notMNIST (letters A-J)", "https://github.com/davidflanagan/notMNIST-to-MNIST",
        tuple("ABCDEFGHIJ"),
        *_files(
            ["https://github.com/davidflanagan/notMNIST-to-MNIST/raw/master/"],
            _IDX_NAMES,
            [None, None,
             "8e7f38ae95cc8f48e0986175ffc9137e5007ebcf3d8fdf6656c904eb9dab198b",
             "5f8e6012f2ce730700d8d05fca098bc47f71d25b890e4bec7ac5ebfd614a4001"],
            60_000, 10_000),
    ),
}


@dataclass
class Dataset:
    """Images as uint8 ``(n, 28, 28)``, labels as int64 ``(n,)``, and where they came from."""

    name: str
    x_train: np.ndarray  # the train part, without the validation images
    y_train: np.ndarray
    x_val: np.ndarray  # the validation part: for early stopping and model choice
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str  # one line: where the files came from, how they were split, sizes, checks
    protocol: str  # short tag for figure titles, e.g. "official 54,000/6,000/10,000"

    @property
    def class_labels(self) -> tuple[str, ...]:
        """ASCII class names for plot labels (KMNIST: the romanisation, not the glyph)."""
        return tuple(n.split("(")[-1].rstrip(")") if "(" in n else n for n in self.class_names)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={self.x_train.shape}, val={self.x_val.shape}, "
                f"test={self.x_test.shape}, source={self.source!r})")


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images in [0, 255] as float32 in [0, 1]."""
    return np.asarray(images, dtype=np.float32) / 255.0


def add_channel(images: np.ndarray) -> np.ndarray:
    """``(n, 28, 28)`` -> ``(n, 28, 28, 1)``, the layout Keras' Conv2D expects."""
    return images[..., np.newaxis]


def as_model_input(images: np.ndarray, flat: bool = False) -> np.ndarray:
    """uint8 images as float32 in [0, 1], shaped for a conv net (default) or flattened."""
    x = to_float(images)
    return x.reshape(len(x), -1) if flat else add_channel(x)


# --------------------------------------------------------------------------- reading files

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_MAX_HEADER = 4 + 4 * 255  # magic number and up to 255 dimensions
_GZIP_MAGIC = b"\x1f\x8b"
_FETCH_AGAIN = "Delete it and download the official file again."
_WRITE_AGAIN = ("Check that it is the file you meant, and write it again as an MNIST-format "
                "IDX file (gzip-compressed or raw).")


def _fix(own: bool) -> str:
    """How to mend a bad file: the reader's own is written again, an official one re-fetched."""
    return _WRITE_AGAIN if own else _FETCH_AGAIN


def _read_file(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes, and its status when it was opened (for the verification marker)."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            return f.read(), st
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror}). Check the path and "
                           "permissions.") from e


def _read_bytes(path: Path) -> bytes:
    return _read_file(path)[0]


def _check_not_empty(raw: bytes, path: Path, own: bool) -> None:
    if not raw:
        cause = "" if own else ": a download or copy was cut short"
        raise DatasetError(f"{path}: is empty (0 bytes){cause}. {_fix(own)}")


def _bad_gzip(path: Path, why, own: bool) -> DatasetError:
    return DatasetError(f"{path}: the gzip stream is truncated or corrupt ({why}). {_fix(own)}")


def _gunzip(raw: bytes, path: Path, own: bool, limit: int | None = None,
            head: int | None = None) -> bytes:
    """Inflate every gzip member of ``raw``: only its first ``head`` bytes if given, else all
    of it, refusing to produce more than ``limit`` bytes (a small file can inflate to gigabytes).
    """
    out, size = [], 0
    while raw:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and CRC checked
        room = (head - size if head is not None else 0 if limit is None else
                min(limit - size + 1, sys.maxsize))  # 0: no limit
        try:
            chunk = inflater.decompress(raw, room)
        except zlib.error as e:
            raise _bad_gzip(path, e, own) from e
        out.append(chunk)
        size += len(chunk)
        if head is not None and size >= head:
            break
        if limit is not None and size > limit:
            raise DatasetError(
                f"{path}: decompresses to more than the {limit:,} bytes its IDX header allows; "
                f"the file is corrupt (or built to exhaust memory). {_fix(own)}")
        if not inflater.eof:
            raise _bad_gzip(path, "it ends before the end of the compressed data", own)
        raw = inflater.unused_data.lstrip(b"\x00")  # zero padding may follow a member
        if raw and not raw.startswith(_GZIP_MAGIC):
            raise _bad_gzip(path, "unexpected bytes after the compressed data", own)
    return b"".join(out)


def _idx_header(payload: bytes, path: Path, own: bool) -> tuple[np.dtype, tuple[int, ...], int]:
    """Element type, dimensions and header length of IDX bytes (or of their first bytes)."""
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] not in _IDX_DTYPES:
        fix = ("This is not an MNIST-format IDX file; " + (
            "check that you gave the right file." if own else "download the official file again."))
        raise DatasetError(
            f"{path}: wrong IDX magic number 0x{payload[:4].hex()} (expected 0x0000 then a type "
            "code such as 0x08 and the number of dimensions, e.g. 0x00000803 for images). "
            + fix)
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DatasetError(f"{path}: IDX header is cut short ({len(payload)} bytes). The file "
                           f"is truncated; {'write' if own else 'download'} it again.")
    dims = tuple(int.from_bytes(payload[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.dtype(_IDX_DTYPES[payload[2]]), dims, header


def _shape_error(path: Path, shape, spec: OfficialFile) -> DatasetError:
    return DatasetError(f"{path}: holds an array of shape {shape}, expected {spec.shape} for "
                        f"the official {spec.name}. Replace it with the official file.")


def _idx_payload(raw: bytes, path: Path, own: bool = False,
                 spec: OfficialFile | None = None) -> bytes:
    """The IDX bytes of a file's contents: gunzipped if gzip, never past the size its header
    promises (nor, for an official file, past the size of the shape ``spec`` expects)."""
    _check_not_empty(raw, path, own)
    if raw[:2] != _GZIP_MAGIC:
        if path.suffix == ".gz":
            head = raw[:200].lstrip().lower()
            html = head.startswith((b"<!doctype", b"<html", b"<?xml", b"<"))
            what = ("an HTML page" + ("" if own else
                                      " (a failed download saved under a data file's name?)")
                    if html else "not gzip data")
            fix = "Compress it with gzip, or remove .gz from its name." if own else _FETCH_AGAIN
            raise DatasetError(f"{path}: is {what}, not a gzip file. {fix}")
        return raw
    dtype, dims, header = _idx_header(_gunzip(raw, path, own, head=_IDX_MAX_HEADER), path, own)
    if spec is not None and dims != spec.shape:
        raise _shape_error(path, dims, spec)
    return _gunzip(raw, path, own, limit=header + math.prod(dims) * dtype.itemsize)


def _parse_idx(payload: bytes, path: Path, own: bool = False) -> np.ndarray:
    dtype, dims, header = _idx_header(payload, path, own)
    expected = math.prod(dims) * dtype.itemsize  # exact: huge dimensions cannot wrap around
    if len(payload) - header != expected:
        raise DatasetError(
            f"{path}: IDX header promises shape {dims} ({expected} data bytes) but the file "
            f"holds {len(payload) - header}. The file is truncated or corrupt; "
            f"{'write' if own else 'download'} it again.")
    return _as_array(payload[header:], dtype, dims, path, own)


def _as_array(data: bytes, dtype: np.dtype, shape, path: Path, own: bool,
              order: str = "C") -> np.ndarray:
    """``data`` as a native-byte-order array of ``shape`` (whose size the caller checked)."""
    try:
        array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
    except ValueError as e:  # e.g. (0, 2**31, 2**31): no data, yet too big a shape for NumPy
        raise DatasetError(f"{path}: its header promises shape {tuple(shape)}, which NumPy "
                           f"cannot hold ({e}). The file is corrupt. {_fix(own)}") from e
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, *, own: bool = False) -> np.ndarray:
    """Read an MNIST-format IDX file (gzip-compressed or raw) into a NumPy array.

    The format: two zero bytes, a type code (0x08 = unsigned byte), the number of
    dimensions, each dimension as a big-endian uint32, then the data in C order.
    ``own=True`` marks the reader's own file (not an official download): error messages
    then say how to write it again instead of telling to download the official file.
    """
    path = Path(path)
    return _parse_idx(_idx_payload(_read_bytes(path), path, own), path, own)


def _npy_header(member) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from the header of an .npy stream."""
    version = np.lib.format.read_magic(member)
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f".npy format version {version} is not supported")
    return readers[version](member)


def _read_npz(path: Path, spec: OfficialFile | None = None, raw: bytes | None = None) -> np.ndarray:
    """Array ``arr_0`` of an .npz file; its header is checked (against ``spec``'s shape, and
    against what the archive holds) before any of its data is read."""
    raw = _read_bytes(path) if raw is None else raw
    _check_not_empty(raw, path, own=False)
    if raw.startswith(b"\x93NUMPY"):
        raise DatasetError(f"{path}: is a single NumPy array (.npy format), not an .npz "
                           "archive. Download the official KMNIST file again.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = archive.namelist()
            if "arr_0.npy" not in names:
                raise DatasetError(f"{path}: has no array 'arr_0' (found "
                                   f"{[n.removesuffix('.npy') for n in names]}); "
                                   "this is not an official KMNIST .npz file.")
            info = archive.getinfo("arr_0.npy")
            with archive.open(info) as member:
                shape, fortran, dtype = _npy_header(member)
                if spec is not None and shape != spec.shape:
                    raise _shape_error(path, shape, spec)
                n_bytes = math.prod(shape) * dtype.itemsize
                if dtype.hasobject or n_bytes > info.file_size - member.tell():
                    raise DatasetError(
                        f"{path}: its array header claims shape {shape} of {dtype} "
                        f"({n_bytes:,} bytes) but the archive holds {info.file_size:,} bytes "
                        f"for it. The file is corrupt. {_FETCH_AGAIN}")
                payload = member.read(n_bytes)
                member.read(1)  # reading to the end checks the CRC
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error,
            NotImplementedError) as e:
        raise DatasetError(f"{path}: is not a readable .npz archive ({e}). Delete it and "
                           "download the official file again.") from e
    except MemoryError as e:
        raise DatasetError(f"{path}: its array claims more memory than this machine has; the "
                           f"file is corrupt. {_FETCH_AGAIN}") from e
    if len(payload) != n_bytes:
        raise DatasetError(f"{path}: array 'arr_0' is cut short ({len(payload):,} of {n_bytes:,} "
                           f"bytes). {_FETCH_AGAIN}")
    return _as_array(payload, dtype, shape, path, False, order="F" if fortran else "C")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------- verification

def cache_dir() -> Path:
    """Where downloads, verification markers and trained weights are kept."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "aebook")


class _VerifiedMarkers:
    """Remembers files whose checksum passed: one entry per path, with a key of the file.

    The key holds size, mtime, ctime, inode and device, and a hash of the first and last
    64 KiB (a gzip file ends with the CRC of its contents, a zip file with its members'), so
    a replacement that keeps the size and mtime is hashed again.
    """

    ENDS = 1 << 16

    def __init__(self):
        self.path = cache_dir() / "verified.json"

    def _load(self) -> dict:
        try:
            markers = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {p: m for p, m in markers.items() if isinstance(m, dict)} if isinstance(
            markers, dict) else {}

    @classmethod
    def key(cls, st: os.stat_result, raw: bytes) -> str:
        ends = hashlib.blake2b(raw[:cls.ENDS] + raw[-cls.ENDS:], digest_size=16).hexdigest()
        return f"{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}|{st.st_dev}|{ends}"

    def holds(self, path: Path, key: str, digest: str) -> bool:
        return self._load().get(str(path.resolve())) == {"key": key, "sha256": digest}

    def add(self, path: Path, key: str, digest: str) -> None:
        markers = self._load()
        markers[str(path.resolve())] = {"key": key, "sha256": digest}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(self.path)
            atomic_write(self.path, json.dumps(markers, indent=0))
        except OSError:
            pass  # a read-only cache only costs a re-hash next time


def _verify_digest(path: Path, spec: OfficialFile, raw: bytes, payload: bytes,
                   st: os.stat_result | None) -> str | None:
    """Check the published SHA-256 (of the payload if known, else of the file); returns it.

    ``st`` (the file's status when read) lets a marker skip the hash of an unchanged file;
    None for a download, whose digest of the file pooch checks (:func:`_file_digest`).
    """
    if spec.sha256:
        expected, data, what = spec.sha256, payload, "its contents"
    elif spec.file_sha256:
        expected, data, what = spec.file_sha256, raw, "the file (as published)"
    else:
        return None
    if st is None and _file_digest(spec):
        return expected
    markers = _VerifiedMarkers()
    key = markers.key(st, raw) if st is not None else None
    if key is None or not markers.holds(path, key, expected):
        digest = _sha256(data)
        if digest != expected:
            raise DatasetError(
                f"{path}: SHA-256 of {what} is {digest}, expected {expected} for the official "
                f"{spec.name}. The file is corrupt or not the official one; delete it and "
                "download it again.")
        if key is not None:
            markers.add(path, key, expected)
    return expected


def _load_verified(path: Path, spec: OfficialFile,
                   download: Path | None = None) -> tuple[np.ndarray, str | None]:
    """Read and check one file, decompressing it once; returns the array and the SHA-256 it
    was verified against. ``download``: pooch's temporary file holding a download of ``path``,
    read instead (never marked as verified; pooch checks the digest of the file itself)."""
    raw, st = _read_file(download or path)
    if path.suffix == ".npz":
        payload, array = raw, _read_npz(path, spec, raw)
    else:
        payload = _idx_payload(raw, path, spec=spec)
        array = _parse_idx(payload, path)
    images = len(spec.shape) == 3
    if not (array.dtype == np.uint8 if images else np.issubdtype(array.dtype, np.integer)):
        wanted = "unsigned bytes (IDX type code 0x08)" if images else "integer labels"
        raise DatasetError(f"{path}: holds {array.dtype} values, expected {wanted} for the "
                           f"official {spec.name}. Replace it with the official file.")
    if array.shape != spec.shape:
        raise _shape_error(path, array.shape, spec)
    return array, _verify_digest(path, spec, raw, payload, None if download else st)


def _remember_verified(path: Path, digest: str) -> None:
    """Mark a file (a download just moved into place) as verified against ``digest``."""
    raw, st = _read_file(path)
    _VerifiedMarkers().add(path, _VerifiedMarkers.key(st, raw), digest)


# ------------------------------------------------------------------- finding and fetching

def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for ``name``'s files, in order (the cache last)."""
    dirs = []
    if data_dir is not None:
        dirs += [Path(data_dir) / name, Path(data_dir)]
    if os.environ.get(DATA_ENV):
        dirs.append(Path(os.environ[DATA_ENV]) / name)
    dirs.append(cache_dir() / name)
    if name == "fashion_mnist":
        dirs.append(DEBIAN_FASHION_DIR)
    return dirs


def _unwritable(folder: Path, e: OSError) -> DatasetError:
    return DatasetError(f"the cache folder {folder} is not writable ({e.strerror or e}). Set "
                        f"{CACHE_ENV} to a writable folder (or make this one writable).")


def _file_digest(spec: OfficialFile) -> str | None:
    """The published SHA-256 of the file itself where that is what it is checked against
    (pooch checks a download against it); None where the digest is of the decompressed bytes."""
    if spec.sha256 and not spec.name.endswith(".npz"):
        return None
    return spec.sha256 or spec.file_sha256


def _pooch():
    """pooch, imported only when a download is needed: its progress-bar import warns in a
    notebook without ipywidgets ("IProgress not found")."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import pooch
    return pooch


class _Bar:
    """A progress bar named after the file, drawn only once a server answers: pooch sets
    ``total`` from the response (a refused or unreachable URL draws nothing)."""

    def __init__(self, name: str):
        self.name, self._bar = name, None

    @property
    def total(self):
        return self._bar.total if self._bar else None

    @total.setter
    def total(self, n: int):
        from tqdm import tqdm

        self._bar = tqdm(total=n or None, desc=self.name, unit="B", unit_scale=True,
                         leave=False)

    def update(self, n: int) -> None:
        self._bar.update(n)

    def reset(self) -> None:
        self._bar.reset()

    def close(self) -> None:
        if self._bar:
            self._bar.close()


def _fetch(url: str, dest, name: str) -> None:
    """Stream ``url`` into the open binary file ``dest`` (pooch's HTTP downloader), with a
    progress bar named ``name``: the bytes as published (no transparent decompression)."""
    _pooch().HTTPDownloader(progressbar=_Bar(name), chunk_size=1 << 16,
                            timeout=DOWNLOAD_TIMEOUT_S,
                            headers={"Accept-Encoding": "identity"})(url, dest, None)


def _download(spec: OfficialFile, folder: Path):
    """Download and check one file; pooch moves it into ``folder`` only once it passed.

    Returns ``(array, path, digest)``, or ``None`` and the reasons every URL failed.
    """
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return None, [f"downloads disabled by {OFFLINE_ENV}"]
    pooch = _pooch()
    dest = folder / spec.name
    file_digest = _file_digest(spec)
    failures, checked = [], []

    def fetch_and_check(url, tmp, _):  # pooch's downloader, writing its temporary file
        with open(tmp, "wb") as f:
            try:
                _fetch(url, f, spec.name)
            except OSError as e:  # requests' errors: refused, reset, cut short, timed out
                raise DatasetError(repr(e)) from e
        checked.append(_load_verified(dest, spec, download=Path(tmp)))

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # its INFO lines name this machine's folders
    try:
        for url in spec.urls:
            checked.clear()
            try:
                pooch.retrieve(url, file_digest and f"sha256:{file_digest}", spec.name, folder,
                               downloader=fetch_and_check)
            except (DatasetError, ValueError) as e:  # ValueError: pooch's SHA-256 check
                failures.append(f"{url}: {e}")
                continue
            except OSError as e:  # pooch wraps a PermissionError in one naming the folder
                raise _unwritable(folder, e.__cause__ or e) from e
            if checked:
                array, digest = checked[0]
                if digest:
                    _remember_verified(dest, digest)
            else:  # pooch found the file: another process moved its download there first
                array, digest = _load_verified(dest, spec)
            return (array, dest, digest), failures
    finally:
        logger.setLevel(level)
    return None, failures


def _notice(message: str) -> None:
    """One plain line in the output (not a warning block: notebook outputs are published)."""
    print(message, flush=True)


def _obtain(name: str, spec: OfficialFile, data_dir):
    """``(array, path, digest)`` from the first folder holding the file, else a download.

    A corrupt copy in a folder the reader gave raises; a corrupt copy in the cache is
    moved aside (kept for inspection) and fetched again. Temporaries that killed downloads
    left in the cache are removed.
    """
    cache = cache_dir() / name
    remove_stale(cache, r"tmp[a-z0-9_]{8}")  # what killed pooch downloads leave
    for folder in search_dirs(name, data_dir):
        path = folder / spec.name
        if not path.is_file():
            if path.exists() or path.is_symlink():
                what = "a folder" if path.is_dir() else "not a regular file (a broken link?)"
                raise DatasetError(f"{path}: is {what}, where the data file {spec.name} should be. "
                                   "Remove or rename it, or put the official file there.")
            continue
        try:
            array, digest = _load_verified(path, spec)
            return (array, path, digest), []
        except DatasetError as e:
            if folder != cache:
                raise
            _move_aside(path, e)
    return _download(spec, cache)


def _move_aside(path: Path, error: DatasetError) -> None:
    """Rename a corrupt cached file to a unique name (kept for inspection), and say so.

    Another process that met the same file may have moved it first: that is fine.
    """
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}-{uuid.uuid4().hex[:8]}")
    reason = str(error).removeprefix(f"{path}: ").split(". ")[0]
    try:
        os.replace(path, aside)
        done = f"moved it aside to {aside.name}"
    except FileNotFoundError:
        done = "another process has moved it aside"
    except OSError as move_error:
        raise _unwritable(path.parent, move_error) from error
    _notice(f"Note: the cached {path.name} is unusable ({reason}); {done} and fetching a fresh "
            "copy.")


def _describe_origin(path: Path, data_dir, name: str) -> str:
    """Where a file came from, without this machine's absolute paths."""
    folder = path.parent
    if data_dir is not None and folder in (Path(data_dir), Path(data_dir) / name):
        return "data_dir argument"
    if os.environ.get(DATA_ENV) and folder == Path(os.environ[DATA_ENV]) / name:
        return f"offline mirror (${DATA_ENV})"
    if folder == DEBIAN_FASHION_DIR:
        return "Debian package dataset-fashion-mnist"
    return f"cache ({f'${CACHE_ENV}' if os.environ.get(CACHE_ENV) else '~/.cache/aebook'}/{name})"


def _read_split(name, split, data_dir):
    """Arrays, origin and unverified file names of one split, or the reasons it is missing."""
    spec = DATASETS[name]
    arrays, origins, unverified, problems = [], [], [], []
    for file_spec in spec.files(split):
        found, failures = _obtain(name, file_spec, data_dir)
        if found is None:
            problems.append((file_spec, failures))
            continue
        array, path, digest = found
        arrays.append(array)
        origins.append(_describe_origin(path, data_dir, name))
        if digest is None:
            unverified.append(file_spec.name)
    if problems:
        return None, problems
    images, labels = arrays
    files = [f.name for f in spec.files(split)]
    if len(images) != len(labels):
        raise DatasetError(f"{files[0]} holds {len(images)} images but {files[1]} holds "
                           f"{len(labels)} labels; both must come from the same release.")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= len(spec.class_names):
        raise DatasetError(f"{files[1]}: labels range {labels.min()}..{labels.max()}, expected "
                           f"0..{len(spec.class_names) - 1}; this is not the official label file.")
    return (images.astype(np.uint8), labels, origins[0], unverified), None


# ---------------------------------------------------------------------------- splitting

def _rank_key(seed, index: int) -> bytes:
    return hashlib.sha256(f"{seed}:{index}".encode()).digest()


def stratified_split(labels: np.ndarray, test_fraction: float,
                     seed: int | str = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``(kept, held_out)`` indices holding ``test_fraction`` of every class out.

    Each class's indices are ranked by SHA-256 of ``f"{seed}:{index}"`` and the lowest-ranked
    are held out, so the split depends on nothing but the labels and the seed (no random
    number generator). Class quotas are ``test_fraction`` times the class size, rounded so
    that they add up to ``round(test_fraction * len(labels))`` (largest remainders first):
    every class's share is within one image of exact.
    """
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = test_fraction * counts
    n_out = np.floor(quotas).astype(int)
    extra = int(round(test_fraction * len(labels))) - n_out.sum()
    n_out[np.argsort(-(quotas - n_out), kind="stable")[:extra]] += 1
    held = []
    for c, k in zip(classes, n_out):
        ranked = sorted(np.flatnonzero(labels == c).tolist(), key=lambda i: _rank_key(seed, i))
        held += ranked[:k]
    held_out = np.sort(np.array(held, dtype=np.int64))
    kept = np.setdiff1d(np.arange(len(labels), dtype=np.int64), held_out)
    return kept, held_out


def _subset(n: int, limit: int | None) -> np.ndarray:
    """Evenly spaced indices keeping at most ``limit`` of ``n`` (all when limit is None)."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


# ------------------------------------------------------------- guard against test data

IMAGE_PIXELS = 28 * 28
_TEST_IMAGES: dict[bytes, str] = {}  # fingerprint of each test image loaded -> dataset title
_ALLOWED: list[str] = []  # reasons given to allow_test_images, innermost last


@contextlib.contextmanager
def allow_test_images(reason: str):
    """Inside this block :func:`check_not_test` lets test images through.

    For a published protocol that fits an unsupervised model on every image it then scores
    (N2D trains its autoencoder on all 70,000 MNIST images and clusters them); ``reason`` says
    so where the block opens, and may not be empty. Labels must still play no part in the fit.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("allow_test_images: give the reason the test images may be used")
    _ALLOWED.append(reason)
    try:
        yield
    finally:
        _ALLOWED.pop()


def _image_rows(images, chunk: int = 4096):
    """``images`` as uint8 rows of 784 pixels, chunk by chunk, blank (constant) images left out.

    uint8 or integer pixels in [0, 255], or floats in [0, 1] (scaled by 255) or [0, 255];
    anything else (no multiple of 784 values, negative values) yields nothing.
    """
    try:
        x = np.asarray(images)
    except (TypeError, ValueError, RuntimeError):
        return
    if x.dtype.kind not in "uif" or x.size == 0 or x.size % IMAGE_PIXELS:
        return
    x = x.reshape(-1, IMAGE_PIXELS)
    scale = 1.0
    if x.dtype != np.uint8:
        low, high = x.min(), x.max()
        if not (0 <= low and high <= 255):
            return
        scale = 255.0 if x.dtype.kind == "f" and high <= 1 else 1.0
    for start in range(0, len(x), chunk):
        rows = x[start:start + chunk]
        if x.dtype.kind == "f":
            rows = np.rint(rows * np.asarray(scale, rows.dtype))  # chunks keep this fast
        rows = np.ascontiguousarray(rows, dtype=np.uint8)
        yield rows[rows.min(axis=1) != rows.max(axis=1)]


def _fingerprints(rows: np.ndarray) -> list[bytes]:
    return [hashlib.blake2b(row, digest_size=16).digest() for row in rows]


def _register_test_part(title: str, x_test: np.ndarray, *other_parts: np.ndarray) -> None:
    """Remember the test images of a dataset, except those its other parts also hold."""
    elsewhere = {f for part in other_parts for rows in _image_rows(part)
                 for f in _fingerprints(rows)}
    for rows in _image_rows(x_test):
        for f in _fingerprints(rows):
            if f not in elsewhere:
                _TEST_IMAGES.setdefault(f, title)


def check_not_test(images, what: str) -> None:
    """Raise :class:`DatasetError` if ``images`` hold test images of a loaded dataset.

    ``images``: uint8 pixels, or floats in [0, 1] (or [0, 255]), shaped ``(n, 28, 28)``,
    ``(n, 784)`` or ``(n, 28, 28, 1)``; ``what`` names them in the message (e.g. ``"x"``).
    Every image is compared, by a BLAKE2b fingerprint of its 784 bytes, with the test part
    (all of it, also under the quick profile) of every dataset :func:`load_dataset` returned
    in this process. Blank (constant) images are ignored, and so are test images that the
    dataset's train or validation part also holds (notMNIST has such exact duplicates). It
    refuses when more than ``min(10, n // 100)`` of the ``n`` non-blank images match: any
    match among fewer than 100 images, more than 10 in a large set.
    """
    if not _TEST_IMAGES or _ALLOWED:
        return
    n, matched, titles = 0, 0, set()
    for rows in _image_rows(images):
        n += len(rows)
        for f in _fingerprints(rows):
            if f in _TEST_IMAGES:
                matched += 1
                titles.add(_TEST_IMAGES[f])
    if matched > min(10, n // 100):
        raise DatasetError(
            f"{what}: {matched:,} of its {n:,} non-blank images are test images of "
            f"{', '.join(sorted(titles))} (as loaded by load_dataset). Fitting or choosing a "
            "model on test images makes the test figures meaningless: train on x_train, "
            "choose on x_val, and keep x_test for the final evaluation.")


def _missing_message(name, problems, data_dir, allow_hint=False) -> str:
    places = "\n".join(f"  - {d}" for d in search_dirs(name, data_dir))
    spec = DATASETS[name]
    lines = [f"{spec.title} ({spec.home}): no usable copy of the files below. Searched:\n{places}"]
    for file_spec, failures in problems:
        lines.append(f"  {file_spec.name}: download from {' or '.join(file_spec.urls)}")
        lines += [f"      tried: {f}" for f in failures]
    lines.append(f"Fix: connect to the internet, or put the official files in one of those "
                 f"folders (e.g. set {DATA_ENV} to a mirror laid out as <name>/<file>).")
    if allow_hint:
        lines.append(f"Or set {ALLOW_TEST_SPLIT_ONLY_ENV}=1 to accept the test-split-only "
                     "protocol: a stratified 8,000/2,000 train/test split of the official "
                     "10,000 test images (800 of the 8,000 held out for validation), whose "
                     "numbers are not comparable with full-dataset results.")
    return "\n".join(lines)


_ANNOUNCED: set[str] = set()  # datasets whose test-split-only fallback was announced


def _test_split_only_allowed() -> bool:
    return os.environ.get(ALLOW_TEST_SPLIT_ONLY_ENV, "").strip() not in ("", "0")


def _checks(unverified: list[str]) -> str:
    if not unverified:
        return "SHA-256 verified"
    return (f"SHA-256 verified except {', '.join(unverified)}: structure-checked, "
            "no published SHA-256")


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None,
                 profile: str | None = None) -> Dataset:
    """Load one of ``"mnist"``, ``"fashion_mnist"``, ``"kmnist"``, ``"notmnist"``.

    The validation part is :data:`VALIDATION_FRACTION` of the train split (stratified, see
    :func:`stratified_split`). In the quick profile each part is cut to an evenly spaced
    subset (see :mod:`helpers.profiles`); ``source`` always says what was used.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    spec = DATASETS[name]
    test, problems = _read_split(name, "test", data_dir)
    if test is None:
        raise DatasetError(_missing_message(name, problems, data_dir))
    x_test, y_test, origin, unverified = test
    train, problems = _read_split(name, "train", data_dir)
    if train is not None:
        x_train, y_train, train_origin, train_unverified = train
        unverified += train_unverified
        protocol = "official split, validation part = stratified 10% of the train split"
        if train_origin != origin:
            origin = f"{origin}; train split from {train_origin}"
    else:
        if not _test_split_only_allowed():
            raise DatasetError(_missing_message(name, problems, data_dir, allow_hint=True))
        protocol = (f"test split only: stratified 80/20 train/test split of the official "
                    f"{len(y_test):,}-image test split, validation part = 10% of its train part")
        keep, held_out = stratified_split(y_test, FALLBACK_TEST_FRACTION)
        x_train, y_train = x_test[keep], y_test[keep]
        x_test, y_test = x_test[held_out], y_test[held_out]
    keep, val = stratified_split(y_train, VALIDATION_FRACTION)
    x_train, y_train, x_val, y_val = x_train[keep], y_train[keep], x_train[val], y_train[val]
    _register_test_part(spec.title, x_test, x_train, x_val)  # for check_not_test
    if train is None and name not in _ANNOUNCED:
        _ANNOUNCED.add(name)
        missing = ", ".join(p[0].name for p in problems)
        sizes = f"{len(x_train):,}/{len(x_val):,}/{len(x_test):,}"
        _notice(f"Note: {spec.title}: no train split ({missing}); {ALLOW_TEST_SPLIT_ONLY_ENV} is "
                f"set, so using the test-split-only protocol ({sizes} train/validation/test images "
                "from the official test split). Not comparable with full-dataset results.")
    prof = get_profile(profile)
    keep_train, keep_val, keep_test = (_subset(len(x), cap) for x, cap in (
        (x_train, prof.max_train), (x_val, prof.max_val), (x_test, prof.max_test)))
    x_train, y_train = x_train[keep_train], y_train[keep_train]
    x_val, y_val = x_val[keep_val], y_val[keep_val]
    x_test, y_test = x_test[keep_test], y_test[keep_test]
    source = (f"{spec.title} from {origin}; {protocol}; {len(x_train):,} train / {len(x_val):,} "
              f"validation / {len(x_test):,} test images; {_checks(unverified)}")
    tag = (f"{'official' if train is not None else 'test-split-only'} "
           f"{len(x_train):,}/{len(x_val):,}/{len(x_test):,}")
    if not prof.publishable:
        source += f"; {prof.name} profile subset"
        tag += f", {prof.name} subset"
    return Dataset(name, x_train, y_train, x_val, y_val, x_test, y_test, spec.class_names,
                   source, tag)
