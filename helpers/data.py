"""The book's data layer: four MNIST-shaped datasets, verified, cached, with provenance.

``load_dataset(name)`` returns a :class:`Dataset` for ``"mnist"``, ``"fashion_mnist"``,
``"kmnist"`` or ``"notmnist"``: a train, a validation and a test part. Each official file is
looked for, in order, in

1. the ``data_dir`` argument,
2. the folder named by ``$AEBOOK_DATA`` (an offline mirror laid out as ``<name>/<file>``),
3. the user cache (``$AEBOOK_CACHE`` or ``~/.cache/aebook``),
4. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist``,

and otherwise downloaded from its official home into the cache. Every file is checked
(gzip/zip integrity, IDX magic number, element type and shape, label range) and compared
with the published SHA-256 in :data:`DATASETS` where one is known. Any problem raises
:class:`DatasetError` naming the file, what is wrong and how to fix it.

The validation part is a deterministic, stratified 10% of the official train split
(:func:`stratified_split`). When only the official 10,000-image test split can be found,
``load_dataset`` fails unless ``$AEBOOK_ALLOW_TEST_SPLIT_ONLY=1``; then it carves a
stratified 80/20 train/test split out of that test split (the validation part comes out of
the 80%) and says "test split only" in ``Dataset.source``.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.files import atomic_path, atomic_write
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
            [None, None,
             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"],
            60_000, 10_000,
            # Train files: TensorFlow Datasets' list of the CVDF files (9,912,422 and 28,881 bytes),
            # https://github.com/tensorflow/datasets/blob/master/
            #     tensorflow_datasets/url_checksums/mnist.txt
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


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror}). Check the path and "
                           "permissions.") from e


def _decompressed_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip; clear errors for truncated or HTML files."""
    raw = _read_bytes(path)
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
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DatasetError(f"{path}: is a single NumPy array (.npy format), not an .npz "
                               "archive. Download the official KMNIST file again.")
        with loaded as archive:
            if "arr_0" not in archive.files:
                raise DatasetError(f"{path}: has no array 'arr_0' (found {archive.files}); "
                                   "this is not an official KMNIST .npz file.")
            return archive["arr_0"]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise DatasetError(f"{path}: is not a readable .npz archive ({e}). Delete it and "
                           "download the official file again.") from e


def _sha256_of_payload(path: Path) -> str:
    data = _read_bytes(path) if path.suffix == ".npz" else _decompressed_bytes(path)
    return hashlib.sha256(data).hexdigest()


def _sha256_of_file(path: Path) -> str:
    return hashlib.sha256(_read_bytes(path)).hexdigest()


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
            atomic_write(self.path, json.dumps(markers, indent=0))
        except OSError:
            pass  # a read-only cache only costs a re-hash next time


def _verify_digest(path: Path, spec: OfficialFile) -> str | None:
    """Check the published SHA-256 (of the payload if known, else of the file); returns it."""
    if spec.sha256:
        expected, digest_of, what = spec.sha256, _sha256_of_payload, "its contents"
    elif spec.file_sha256:
        expected, digest_of, what = spec.file_sha256, _sha256_of_file, "the file (as published)"
    else:
        return None
    markers = _VerifiedMarkers()
    if not markers.holds(path, expected):
        digest = digest_of(path)
        if digest != expected:
            raise DatasetError(
                f"{path}: SHA-256 of {what} is {digest}, expected {expected} for the official "
                f"{spec.name}. The file is corrupt or not the official one; delete it and "
                "download it again.")
        markers.add(path, expected)
    return expected


def _load_verified(path: Path, spec: OfficialFile) -> tuple[np.ndarray, str | None]:
    """Read and check one file; returns the array and the SHA-256 it was verified against."""
    array = _read_npz(path) if path.suffix == ".npz" else read_idx(path)
    images = len(spec.shape) == 3
    if not (array.dtype == np.uint8 if images else np.issubdtype(array.dtype, np.integer)):
        wanted = "unsigned bytes (IDX type code 0x08)" if images else "integer labels"
        raise DatasetError(f"{path}: holds {array.dtype} values, expected {wanted} for the "
                           f"official {spec.name}. Replace it with the official file.")
    if array.shape != spec.shape:
        raise DatasetError(f"{path}: holds an array of shape {array.shape}, expected {spec.shape} "
                           f"for the official {spec.name}. Replace it with the official file.")
    return array, _verify_digest(path, spec)


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

    Returns ``(array, path, digest)``, or ``None`` and the reasons every URL failed.
    """
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return None, [f"downloads disabled by {OFFLINE_ENV}"]
    dest = folder / spec.name
    failures = []
    for url in spec.urls:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(dest, suffix=".part" + dest.suffix) as tmp:
                with tmp.open("wb") as f:
                    try:
                        _fetch(url, f, spec.name)
                    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                        raise DatasetError(getattr(e, "reason", None) or repr(e)) from e
                array, digest = _load_verified(tmp, spec)
        except DatasetError as e:
            failures.append(f"{url}: {e}")
            continue
        except OSError as e:
            raise _unwritable(folder, e) from e
        if digest:
            _VerifiedMarkers().add(dest, digest)
        return (array, dest, digest), failures
    return None, failures


def _notice(message: str) -> None:
    """One plain line in the output (not a warning block: notebook outputs are published)."""
    print(message, flush=True)


def _obtain(name: str, spec: OfficialFile, data_dir):
    """``(array, path, digest)`` from the first folder holding the file, else a download.

    A corrupt copy in a folder the reader gave raises; a corrupt copy in the cache is
    moved aside (kept for inspection) and fetched again.
    """
    cache = cache_dir() / name
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
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            try:
                os.replace(path, aside)
            except OSError as move_error:
                raise _unwritable(folder, move_error) from e
            reason = str(e).removeprefix(f"{path}: ").split(". ")[0]
            _notice(f"Note: the cached {spec.name} is unusable ({reason}); moved it aside to "
                    f"{aside.name} and fetching a fresh copy.")
    return _download(spec, cache)


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
