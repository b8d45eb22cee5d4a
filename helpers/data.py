"""The book's data layer: four MNIST-shaped datasets, verified, cached, with provenance.

``load_dataset(name)`` returns a :class:`Dataset` for ``"mnist"``, ``"fashion_mnist"``,
``"kmnist"`` or ``"notmnist"``. Each official file is looked for, in order, in

1. the ``data_dir`` argument,
2. the folder named by ``$AEBOOK_DATA`` (an offline mirror laid out as ``<name>/<file>``),
3. the user cache (``$AEBOOK_CACHE`` or ``~/.cache/aebook``),
4. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist``,

and otherwise downloaded from its official home into the cache. Every file is checked
(gzip/zip integrity, IDX magic number and shape, label range) and its decompressed bytes
are compared with the SHA-256 in :data:`DATASETS` before use. Any problem raises
:class:`DatasetError` naming the file, what is wrong and how to fix it.

When only the official 10,000-image test split can be found and nothing can be
downloaded (an offline machine), the loader carves a deterministic, stratified 80/20
train/test split out of it, warns, and says "test split only" in ``Dataset.source``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.profiles import get_profile

DATA_ENV = "AEBOOK_DATA"
CACHE_ENV = "AEBOOK_CACHE"
OFFLINE_ENV = "AEBOOK_OFFLINE"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_TIMEOUT_S = 60
FALLBACK_TEST_FRACTION = 0.2
FALLBACK_SEED = 20_181_203  # fixed: the fallback split must never change between runs


class DatasetError(Exception):
    """A dataset file is missing, unreadable, corrupt or inconsistent."""


@dataclass(frozen=True)
class OfficialFile:
    """One file of an official distribution."""

    name: str  # official file name
    urls: tuple[str, ...]  # where to download it, tried in order
    sha256: str | None  # of the decompressed bytes (npz: of the file); None = not yet known
    shape: tuple[int, ...]  # shape of the array it holds


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


def _files(urls: list[str], names: list[str], sha: list[str | None], n_train: int, n_test: int):
    shapes = [(n_train, 28, 28), (n_train,), (n_test, 28, 28), (n_test,)]
    return [
        OfficialFile(name, tuple(u + name for u in urls), digest, shape)
        for name, digest, shape in zip(names, sha, shapes)
    ]


_IDX_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

# SHA-256 of the decompressed payloads. Files the offline mirror does not hold (the
# MNIST, KMNIST and notMNIST train splits) have None: until their hash is filled in they
# are verified by gzip integrity, IDX structure and exact shape only (the source line says so).
DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "MNIST", "https://yann.lecun.com/exdb/mnist/",
        tuple(str(d) for d in range(10)),
        *_files(
            ["https://storage.googleapis.com/cvdf-datasets/mnist/",
             "https://ossci-datasets.s3.amazonaws.com/mnist/"],
            _IDX_NAMES,
            [None, None,
             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"],
            60_000, 10_000),
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
            [None, None,
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
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str  # one line: where the files came from, how they were split, sizes, checks
    protocol: str  # short tag for figure titles, e.g. "official 60,000/10,000"

    @property
    def class_labels(self) -> tuple[str, ...]:
        """ASCII class names for plot labels (KMNIST: the romanisation, not the glyph)."""
        return tuple(n.split("(")[-1].rstrip(")") if "(" in n else n for n in self.class_names)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={self.x_train.shape}, "
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


def _decompressed_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip; clear errors for truncated or HTML files."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror}). Check the path and permissions.") from e
    if raw[:2] != b"\x1f\x8b":
        if path.suffix == ".gz":
            head = raw[:200].lstrip().lower()
            what = ("an HTML page (a failed download saved under a data file's name?)"
                    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")) else
                    "not gzip data")
            raise DatasetError(f"{path}: is {what}, not a gzip file. Delete it and download "
                               "the official file again.")
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DatasetError(f"{path}: the gzip stream is truncated or corrupt ({e}). Delete it "
                           "and download the official file again.") from e


def _parse_idx(payload: bytes, path: Path) -> np.ndarray:
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] not in _IDX_DTYPES:
        magic = payload[:4].hex() or "nothing"
        raise DatasetError(
            f"{path}: wrong IDX magic number 0x{magic} (expected 0x0000 then a type code such as "
            "0x08 and the number of dimensions, e.g. 0x00000803 for images). This is not an "
            "MNIST-format IDX file; download the official file again.")
    dtype = np.dtype(_IDX_DTYPES[payload[2]])
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DatasetError(f"{path}: IDX header is cut short ({len(payload)} bytes). "
                           "The file is truncated; download it again.")
    dims = tuple(int.from_bytes(payload[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(payload) - header != expected:
        raise DatasetError(
            f"{path}: IDX header promises shape {dims} ({expected} data bytes) but the file "
            f"holds {len(payload) - header}. The file is truncated or corrupt; download it again.")
    return np.frombuffer(payload, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an MNIST-format IDX file (gzip-compressed or raw) into a NumPy array.

    The format: two zero bytes, a type code (0x08 = unsigned byte), the number of
    dimensions, each dimension as a big-endian uint32, then the data in C order.
    """
    path = Path(path)
    return _parse_idx(_decompressed_bytes(path), path)


def _read_npz(path: Path) -> np.ndarray:
    try:
        with np.load(path) as archive:
            if "arr_0" not in archive.files:
                raise DatasetError(f"{path}: has no array 'arr_0' (found {archive.files}); "
                                   "this is not an official KMNIST .npz file.")
            return archive["arr_0"]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise DatasetError(f"{path}: is not a readable .npz archive ({e}). Delete it and "
                           "download the official file again.") from e


def _sha256_of_payload(path: Path) -> str:
    data = path.read_bytes() if path.suffix == ".npz" else _decompressed_bytes(path)
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------- verification

def cache_dir() -> Path:
    """Where downloads, verification markers and trained weights are kept."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "aebook")


class _VerifiedMarkers:
    """Remembers files whose checksum passed, keyed by path, size and mtime."""

    def __init__(self):
        self.path = cache_dir() / "verified.json"

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _key(path: Path) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def holds(self, path: Path, digest: str) -> bool:
        return self._load().get(self._key(path)) == digest

    def add(self, path: Path, digest: str) -> None:
        markers = self._load()
        markers[self._key(path)] = digest
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write_bytes(self.path, json.dumps(markers, indent=0).encode())
        except OSError:
            pass  # a read-only cache only costs a re-hash next time


def _atomic_write_bytes(dest: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_verified(path: Path, spec: OfficialFile) -> tuple[np.ndarray, bool]:
    """Read and check one file; returns the array and whether its SHA-256 was verified."""
    array = _read_npz(path) if path.suffix == ".npz" else read_idx(path)
    if array.shape != spec.shape:
        raise DatasetError(f"{path}: holds an array of shape {array.shape}, expected {spec.shape} "
                           f"for the official {spec.name}. Replace it with the official file.")
    if spec.sha256 is None:
        return array, False
    markers = _VerifiedMarkers()
    if not markers.holds(path, spec.sha256):
        digest = _sha256_of_payload(path)
        if digest != spec.sha256:
            raise DatasetError(
                f"{path}: SHA-256 of its contents is {digest}, expected {spec.sha256} for the "
                f"official {spec.name}. The file is corrupt or not the official one; delete it "
                "and download it again.")
        markers.add(path, spec.sha256)
    return array, True


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


def _fetch(url: str, dest, progress_desc: str) -> None:
    """Stream ``url`` into the open binary file ``dest`` with a progress bar."""
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=progress_desc, leave=False) as bar:
            while chunk := response.read(1 << 16):
                dest.write(chunk)
                bar.update(len(chunk))


def _download(spec: OfficialFile, folder: Path):
    """Download and check one file, renaming it into ``folder`` only once it passed.

    Returns ``(array, path, verified)``, or ``None`` and the reasons every URL failed.
    """
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return None, [f"downloads disabled by {OFFLINE_ENV}"]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return None, [f"cannot create cache folder {folder}: {e.strerror}"]
    failures = []
    for url in spec.urls:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-", suffix=f"-{spec.name}")
        tmp = Path(tmp)
        try:
            with os.fdopen(fd, "wb") as f:
                _fetch(url, f, spec.name)
            array, verified = _load_verified(tmp, spec)
            dest = folder / spec.name
            os.replace(tmp, dest)
            if verified:
                _VerifiedMarkers().add(dest, spec.sha256)
            return (array, dest, verified), failures
        except (urllib.error.URLError, OSError, DatasetError) as e:
            failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
        finally:
            tmp.unlink(missing_ok=True)
    return None, failures


def _obtain(name: str, spec: OfficialFile, data_dir):
    """``(array, path, verified)`` from the first folder holding the file, else a download.

    A corrupt copy in a folder the reader gave raises; a corrupt copy in the cache is
    moved aside (kept for inspection) and fetched again.
    """
    cache = cache_dir() / name
    for folder in search_dirs(name, data_dir):
        path = folder / spec.name
        if not path.is_file():
            continue
        try:
            array, verified = _load_verified(path, spec)
            return (array, path, verified), []
        except DatasetError as e:
            if folder != cache:
                raise
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            shutil.move(path, aside)
            warnings.warn(f"{e} Moved it aside to {aside.name}; fetching a fresh copy.",
                          stacklevel=4)
    return _download(spec, cache)


def _describe_origin(path: Path, data_dir) -> str:
    folder = path.parent
    if data_dir is not None and folder in (Path(data_dir), Path(data_dir) / folder.name):
        return f"{folder} (data_dir argument)"
    if os.environ.get(DATA_ENV) and folder.parent == Path(os.environ[DATA_ENV]):
        return f"{folder} (offline mirror, ${DATA_ENV})"
    if folder == DEBIAN_FASHION_DIR:
        return f"{folder} (Debian package dataset-fashion-mnist)"
    return f"{folder} (cache of the official download)"


def _read_split(name, split, data_dir):
    """Arrays, origin and verification state of one split, or the reasons it is missing."""
    spec = DATASETS[name]
    arrays, origins, verified, problems = [], [], True, []
    for file_spec in spec.files(split):
        found, failures = _obtain(name, file_spec, data_dir)
        if found is None:
            problems.append((file_spec, failures))
            continue
        array, path, ok = found
        arrays.append(array)
        origins.append(_describe_origin(path, data_dir))
        verified &= ok
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
    return (images.astype(np.uint8), labels, origins[0], verified), None


def stratified_split(labels: np.ndarray, test_fraction: float = FALLBACK_TEST_FRACTION,
                     seed: int = FALLBACK_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic train/test indices holding ``test_fraction`` of every class out."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _subset(n: int, limit: int | None) -> np.ndarray:
    """Evenly spaced indices keeping at most ``limit`` of ``n`` (all when limit is None)."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


def _missing_message(name, problems, data_dir) -> str:
    places = "\n".join(f"  - {d}" for d in search_dirs(name, data_dir))
    spec = DATASETS[name]
    lines = [f"{spec.title} ({spec.home}): no usable copy of the files below. Searched:\n{places}"]
    for file_spec, failures in problems:
        lines.append(f"  {file_spec.name}: download from {' or '.join(file_spec.urls)}")
        lines += [f"      tried: {f}" for f in failures]
    lines.append(f"Fix: connect to the internet, or put the official files in one of those "
                 f"folders (e.g. set {DATA_ENV} to a mirror laid out as <name>/<file>).")
    return "\n".join(lines)


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None,
                 profile: str | None = None) -> Dataset:
    """Load one of ``"mnist"``, ``"fashion_mnist"``, ``"kmnist"``, ``"notmnist"``.

    In the quick profile the splits are cut to evenly spaced subsets (see
    :mod:`helpers.profiles`); ``source`` always says what was used.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    spec = DATASETS[name]
    test, problems = _read_split(name, "test", data_dir)
    if test is None:
        raise DatasetError(_missing_message(name, problems, data_dir))
    x_test, y_test, origin, verified = test
    train, problems = _read_split(name, "train", data_dir)
    if train is not None:
        x_train, y_train, train_origin, train_verified = train
        verified &= train_verified
        protocol = "official split"
        if train_origin != origin:
            origin = f"{origin}; train split from {train_origin}"
    else:
        missing = ", ".join(p[0].name for p in problems)
        protocol = (f"test split only: stratified 80/20 split of the official "
                    f"{len(y_test):,}-image test split")
        tr, te = stratified_split(y_test)
        x_train, y_train = x_test[tr], y_test[tr]
        x_test, y_test = x_test[te], y_test[te]
        warnings.warn(f"{spec.title}: train split not available ({missing}); using a {protocol}. "
                      "Figures from this data are not comparable with full-dataset results.",
                      stacklevel=2)
    prof = get_profile(profile)
    keep_train, keep_test = _subset(len(x_train), prof.max_train), _subset(len(x_test), prof.max_test)
    x_train, y_train = x_train[keep_train], y_train[keep_train]
    x_test, y_test = x_test[keep_test], y_test[keep_test]
    check = "SHA-256 verified" if verified else "structure-checked (no published SHA-256 yet)"
    source = (f"{spec.title} from {origin}; {protocol}; {len(x_train):,} train / "
              f"{len(x_test):,} test images; {check}")
    tag = "official" if train is not None else "test-split-only"
    tag = f"{tag} {len(x_train):,}/{len(x_test):,}"
    if not prof.publishable:
        source += f"; {prof.name} profile subset"
        tag += f", {prof.name} subset"
    return Dataset(name, x_train, y_train, x_test, y_test, spec.class_names, source, tag)
