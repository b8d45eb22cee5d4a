"""helpers.data against hostile or unlucky files: overflowing headers, gzip and npz bombs,
two processes sharing a cache, killed downloads, replaced files, and the user's own files."""

import gzip
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import data
from helpers.data import DatasetError, load_dataset, read_idx

from .test_data import ALL, copy_files, fresh_notices, idx_bytes, tiny  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]


def gzip_of_zeros(header: bytes, n_zeros: int) -> bytes:
    """A small gzip file whose payload is ``header`` then ``n_zeros`` zero bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(header)]
    chunk = bytes(1 << 20)
    for start in range(0, n_zeros, len(chunk)):
        parts.append(packer.compress(chunk[: n_zeros - start]))
    return b"".join(parts) + packer.flush()


# ---------------------------------------------------------------- overflowing IDX headers

@pytest.mark.parametrize("dims", [(2**16,) * 4, (2**32 - 1,) * 3, (0, 2**32 - 1, 2**32 - 1)],
                         ids=["wraps-to-0", "huge", "empty-but-too-big"])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_idx_dims_whose_product_overflows(tmp_path, dims, gz):
    payload = bytes([0, 0, 0x08, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    path = tmp_path / ("huge-idx-ubyte.gz" if gz else "huge-idx-ubyte")
    path.write_bytes(gzip.compress(payload) if gz else payload)
    with pytest.raises(DatasetError, match="header promises") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_npz_with_an_empty_but_too_big_shape(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    npz_claiming(path, (0, 2**40, 2**40), payload=b"")
    with pytest.raises(DatasetError, match="cannot hold") as err:
        data._read_npz(path)
    assert str(path) in str(err.value)


# -------------------------------------------------------------------------- gzip bombs

def bomb_header():
    return bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in (100, 28, 28))


def test_gzip_bomb_in_a_data_folder_is_cut_off(tiny, tmp_path):
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    (folder / ALL[2]).write_bytes(gzip_of_zeros(bomb_header(), 64 << 20))  # 64 MiB from ~64 KiB
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="more than") as err:
            load_dataset("mnist", data_dir=tmp_path / "mine")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(folder / ALL[2]) in str(err.value)
    assert peak < 8 << 20  # the largest legal file is 78,416 bytes


def test_gzip_bomb_given_as_the_users_own_file(tmp_path):
    """Without an expected shape, the header's own promise is the cap."""
    path = tmp_path / "mine-idx3-ubyte.gz"
    path.write_bytes(gzip_of_zeros(bomb_header(), 64 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="more than") as err:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value) and peak < 8 << 20


class _CountingInflater:
    """A zlib decompressor that adds what it inflates to a shared count."""

    def __init__(self, real, count, *args, **kwargs):
        self._d, self._count = real(*args, **kwargs), count

    def decompress(self, *args, **kwargs):
        out = self._d.decompress(*args, **kwargs)
        self._count[0] += len(out)
        return out

    def flush(self, *args):
        out = self._d.flush(*args)
        self._count[0] += len(out)
        return out

    def __getattr__(self, name):
        return getattr(self._d, name)


def test_each_file_is_decompressed_once_per_load(tiny, tmp_path, monkeypatch):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    inflated, real = [0], zlib.decompressobj
    monkeypatch.setattr(zlib, "decompressobj",
                        lambda *a, **k: _CountingInflater(real, inflated, *a, **k))
    load_dataset("mnist", data_dir=tmp_path / "mine")
    payloads = sum(len(idx_bytes(a)) for a in tiny["arrays"].values())
    assert payloads <= inflated[0] <= payloads + 4 * 1024  # at most a peek at each header


# ------------------------------------------------------------------------------- npz bombs

def npz_claiming(path, shape, payload=bytes(100)):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("arr_0.npy", header.getvalue() + payload)


HUGE = (10**13 // 784, 28, 28)  # 10^13 bytes


def test_npz_whose_header_claims_ten_terabytes(tmp_path):
    folder = tmp_path / "mine" / "kmnist"
    folder.mkdir(parents=True)
    npz_claiming(folder / "kmnist-test-imgs.npz", HUGE)
    with pytest.raises(DatasetError, match=r"shape \(12755102040, 28, 28\)") as err:
        load_dataset("kmnist", data_dir=tmp_path / "mine")
    assert str(folder / "kmnist-test-imgs.npz") in str(err.value)


def test_npz_whose_header_claims_more_than_the_archive_holds(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    npz_claiming(path, HUGE)
    with pytest.raises(DatasetError, match="claims") as err:
        data._read_npz(path)
    assert str(path) in str(err.value)


def test_npz_round_trip_and_truncated_member(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    np.savez_compressed(path, images)
    assert np.array_equal(data._read_npz(path), images)
    npz_claiming(path, (3, 28, 28), payload=bytes(10))
    with pytest.raises(DatasetError) as err:
        data._read_npz(path)
    assert str(path) in str(err.value)


# -------------------------------------------------------- two processes, one corrupt file

def corrupt_cache(tiny, cache):
    copy_files(tiny["server"], cache, ALL)
    (cache / ALL[0]).write_bytes(b"\x1f\x8b garbage")


def test_corrupt_file_already_moved_aside_by_another_process(tiny, monkeypatch,
                                                              isolated_data_env, capsys):
    cache = isolated_data_env / "mnist"
    corrupt_cache(tiny, cache)
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    real_replace, raced = os.replace, []

    def replace(src, dst):
        if Path(src) == cache / ALL[0] and not raced:  # the other process moves it first
            raced.append(real_replace(src, cache / f"{ALL[0]}.corrupt-other"))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    ds = load_dataset("mnist")
    assert raced and ds.source.endswith("SHA-256 verified")
    assert (cache / ALL[0]).read_bytes() == (tiny["server"] / ALL[0]).read_bytes()
    out = capsys.readouterr().out
    assert "not writable" not in out
    assert "; another process has moved it aside and fetching a fresh copy.\n" in out


def test_files_moved_aside_in_the_same_second_keep_distinct_names(tiny, monkeypatch,
                                                                  isolated_data_env):
    cache = isolated_data_env / "mnist"
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    monkeypatch.setattr(data, "time", SimpleNamespace(time=lambda: 1_700_000_000.0))
    for _ in range(2):
        corrupt_cache(tiny, cache)
        load_dataset("mnist")
    assert len([p for p in cache.iterdir() if ".corrupt-" in p.name]) == 2


# ---------------------------------------------------------------------- killed downloads

def leave_temporary_like_a_killed_writer(folder: Path, opening: str) -> Path:
    """Run ``opening`` (a with-statement binding ``tmp``) in a child process and SIGKILL it
    mid-write; return what it left in ``folder``."""
    before = set(folder.iterdir())
    script = ("import os, signal\n"
              "from pathlib import Path\n"
              "from helpers.files import atomic_path\n"
              "from pooch.utils import temporary_file\n"
              f"{opening}:\n"
              "    Path(tmp).write_bytes(b'half a download')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=False)
    (left,) = set(folder.iterdir()) - before
    return left


def leave_temporary_like_a_killed_download(dest: Path) -> Path:
    """What a download killed in pooch's hands leaves (pooch.retrieve streams into this)."""
    return leave_temporary_like_a_killed_writer(
        dest.parent, f"with temporary_file({str(dest.parent)!r}) as tmp")


def test_temporaries_of_killed_downloads_are_cleaned(tiny, isolated_data_env):
    cache = isolated_data_env / "mnist"
    copy_files(tiny["server"], cache, ALL)
    stale = leave_temporary_like_a_killed_download(cache / ALL[0])
    fresh = leave_temporary_like_a_killed_download(cache / ALL[1])
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    load_dataset("mnist")
    assert not stale.exists()
    assert fresh.exists()  # it may belong to a download still running in another process
    assert sorted(p.name for p in cache.iterdir()) == sorted(ALL + [fresh.name])


def test_cleaning_leaves_everything_but_temporaries_of_downloads(tiny, isolated_data_env):
    """Old cached files, files moved aside and other names starting with tmp all stay."""
    cache = isolated_data_env / "mnist"
    copy_files(tiny["server"], cache, ALL)
    kept = [f"{ALL[0]}.corrupt-1700000000-0123abcd", "tmp-notes.txt", "tmp1234567"]
    for name in kept:
        (cache / name).write_bytes(b"")
    hour_ago = time.time() - 3600
    for path in cache.iterdir():
        os.utime(path, (hour_ago, hour_ago))
    load_dataset("mnist")
    assert sorted(p.name for p in cache.iterdir()) == sorted(ALL + kept)


def test_stale_temporaries_of_the_marker_file_are_cleaned(tiny, isolated_data_env):
    copy_files(tiny["server"], isolated_data_env / "mnist", ALL)
    marker = isolated_data_env / "verified.json"
    stale = leave_temporary_like_a_killed_writer(
        marker.parent, f"with atomic_path({str(marker)!r}) as tmp")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    load_dataset("mnist")
    assert not stale.exists()


# -------------------------------------------------------------------- verified markers

def same_size_other_content(path: Path, array: np.ndarray) -> bytes:
    """A valid gzip IDX file of ``array`` with one pixel changed, as long as ``path``'s."""
    size = path.stat().st_size
    for i in range(array.size):
        tampered = array.copy().reshape(-1)
        tampered[i] ^= 0xFF
        candidate = gzip.compress(idx_bytes(tampered.reshape(array.shape)), mtime=0)
        if len(candidate) == size:
            return candidate
    pytest.skip("no same-size tampered file found")


def test_replaced_file_with_same_size_and_mtime_is_verified_again(tiny, tmp_path):
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    load_dataset("mnist", data_dir=tmp_path / "mine")  # verified, marker written
    path = folder / ALL[2]
    st = path.stat()
    path.write_bytes(same_size_other_content(path, tiny["arrays"]["t10k-images"]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.raises(DatasetError, match="SHA-256") as err:
        load_dataset("mnist", data_dir=tmp_path / "mine")
    assert str(path) in str(err.value)


def test_marker_file_keeps_one_entry_per_file(tiny, tmp_path, isolated_data_env):
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    for _ in range(3):
        load_dataset("mnist", data_dir=tmp_path / "mine")
        for name in ALL:  # touched: a new mtime each time
            os.utime(folder / name, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert len(json.loads((isolated_data_env / "verified.json").read_text())) == 4


# --------------------------------------------------------------------- the user's own files

def own_file_cases(tmp_path):
    good = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    gz = gzip.compress(good)
    return {
        "empty": ("mine-idx3-ubyte", b"", "is empty"),
        "empty gz": ("mine-idx3-ubyte.gz", b"", "is empty"),
        "html": ("mine-idx3-ubyte.gz", b"<html>oops</html>", "HTML page"),
        "truncated gz": ("mine-idx3-ubyte.gz", gz[: len(gz) // 2], "truncated or corrupt"),
        "magic": ("mine-idx3-ubyte", b"\x12\x34\x08\x03" + good[4:], "magic number"),
        "short header": ("mine-idx3-ubyte", good[:9], "cut short"),
        "short data": ("mine-idx3-ubyte", good[:-100], "header promises"),
        "overflow": ("mine-idx3-ubyte", bytes([0, 0, 8, 4]) + (2**16).to_bytes(4, "big") * 4,
                     "header promises"),
    }


@pytest.mark.parametrize("case", list(own_file_cases(Path("."))))
def test_messages_about_the_users_own_files(tmp_path, case):
    name, content, expected = own_file_cases(tmp_path)[case]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=expected) as err:
        read_idx(path, own=True)
    message = str(err.value)
    assert str(path) in message
    assert "download" not in message.lower() and "delete" not in message.lower()
    assert "official" not in message.lower()
    with pytest.raises(DatasetError, match=expected) as err:
        read_idx(path)  # an official file: the hint is to fetch it again
    assert "download" in str(err.value)


def test_empty_file_says_it_is_empty(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match=r"is empty \(0 bytes\)") as err:
        read_idx(path)
    assert "nothing" not in str(err.value) and str(path) in str(err.value)


# ------------------------------------------------------------- moving a corrupt file aside

def test_the_notice_gives_the_reason_and_the_new_name(tiny, monkeypatch, isolated_data_env,
                                                       capsys):
    """One line: the first sentence of the error, without the path, and the file's new name."""
    import re

    cache = isolated_data_env / "mnist"
    corrupt_cache(tiny, cache)
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    load_dataset("mnist")
    aside = [p.name for p in cache.iterdir() if ".corrupt-" in p.name]
    name = re.escape(ALL[0])
    assert len(aside) == 1 and re.fullmatch(rf"{name}\.corrupt-\d+-[0-9a-f]{{8}}", aside[0])
    out = capsys.readouterr().out
    assert re.fullmatch(rf"Note: the cached {name} is unusable \(the gzip stream is truncated or "
                        rf"corrupt \([^()]+\)\); moved it aside to {re.escape(aside[0])} and "
                        r"fetching a fresh copy\.\n", out), out


def test_unwritable_cache_when_moving_aside_names_the_folder_and_the_cause(
        tiny, monkeypatch, isolated_data_env):
    cache = isolated_data_env / "mnist"
    corrupt_cache(tiny, cache)
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.os, "replace", refuse)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist")
    assert f"the cache folder {cache} is not writable (Permission denied)." in str(err.value)


def npz_of_version(path, array, version):
    member = io.BytesIO()
    np.lib.format.write_array(member, array, version=version)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("arr_0.npy", member.getvalue())


def test_npz_members_in_npy_format_1_0_and_2_0_are_read_and_3_0_is_refused(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    for version in ((1, 0), (2, 0)):
        npz_of_version(path, images, version)
        assert np.array_equal(data._read_npz(path), images)
    npz_of_version(path, images, (3, 0))
    with pytest.raises(DatasetError, match=r"\.npy format version \(3, 0\) is not supported"):
        data._read_npz(path)


def test_npz_reads_the_bytes_it_is_given(tmp_path):
    """The bytes that were hashed are the bytes parsed: no second read of a file that may change."""
    path, other = tmp_path / "kmnist-test-imgs.npz", tmp_path / "other.npz"
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.savez_compressed(path, images)
    np.savez_compressed(other, images[::-1])
    assert np.array_equal(data._read_npz(path, raw=other.read_bytes()), images[::-1])


def test_empty_npz_names_the_file_and_says_to_download_it_again(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    path.write_bytes(b"")
    with pytest.raises(DatasetError) as err:
        data._read_npz(path)
    assert str(err.value) == (f"{path}: is empty (0 bytes): a download or copy was cut short. "
                              "Delete it and download the official file again.")


def test_npz_of_a_fortran_ordered_array_keeps_its_layout(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    images = np.asfortranarray(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    np.savez_compressed(path, images)
    assert np.array_equal(data._read_npz(path), images)


def test_npz_whose_header_claims_a_little_more_than_the_member_holds(tmp_path):
    """784 bytes claimed, 700 stored: refused by the size check before any data is read."""
    path = tmp_path / "kmnist-test-imgs.npz"
    npz_claiming(path, (1, 28, 28), payload=bytes(700))
    with pytest.raises(DatasetError, match=r"claims shape \(1, 28, 28\) of uint8 \(784 bytes\) "
                                           r"but the archive holds 828 bytes"):
        data._read_npz(path)


def test_npz_without_arr_0_lists_the_arrays_it_holds(tmp_path):
    path = tmp_path / "kmnist-test-imgs.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match=r"has no array 'arr_0' \(found \['images'\]\)"):
        data._read_npz(path)


# ------------------------------------------------- gzip members, padding and trailing bytes
# (found by mutation testing of helpers.data: each test names what it pins down)

def idx_file(shape=(5, 28, 28)) -> tuple[np.ndarray, bytes]:
    array = (np.arange(np.prod(shape)) % 251).astype(np.uint8).reshape(shape)
    return array, idx_bytes(array)


def test_multi_member_gzip_with_zero_padding_is_read_whole(tmp_path):
    """gzip allows concatenated members (and zero padding between them): all are read, in order."""
    array, payload = idx_file()
    path = tmp_path / "mine-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(payload[:6]) + bytes(4) + gzip.compress(payload[6:2000])
                     + gzip.compress(payload[2000:]) + bytes(3))
    assert np.array_equal(read_idx(path), array)
    assert np.array_equal(read_idx(path, own=True), array)


def test_gunzip_without_a_cap_inflates_everything_and_head_stops_exactly(tmp_path):
    payload = bytes(range(256)) * 10
    raw = gzip.compress(payload[:10]) + gzip.compress(payload[10:])
    assert data._gunzip(raw, tmp_path / "x.gz", False) == payload
    assert data._gunzip(raw, tmp_path / "x.gz", False, head=20) == payload[:20]


@pytest.mark.parametrize("junk", [b"XX", b"\x00\x00junk", b"X" + gzip.compress(b"more")],
                         ids=["letters", "after-padding", "before-a-member"])
def test_bytes_after_the_gzip_data_are_refused(tmp_path, junk):
    _, payload = idx_file()
    path = tmp_path / "mine-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(payload) + junk)
    for own in (False, True):
        with pytest.raises(DatasetError) as err:
            read_idx(path, own=own)
        message = str(err.value)
        assert message.startswith(f"{path}: the gzip stream is truncated or corrupt (unexpected "
                                  "bytes after the compressed data). ")
        assert ("download" in message) is not own


def test_members_that_together_exceed_the_header_are_cut_off(tmp_path, monkeypatch):
    """Each member within the size the header promises, all of them past it: refused, and no
    more than one byte past the promise is ever inflated."""
    _, payload = idx_file((1, 28, 28))
    path = tmp_path / "mine-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(payload) + gzip.compress(bytes(784)) * 3)
    inflated, real = [0], zlib.decompressobj
    monkeypatch.setattr(zlib, "decompressobj",
                        lambda *a, **k: _CountingInflater(real, inflated, *a, **k))
    with pytest.raises(DatasetError, match="decompresses to more than the 800 bytes"):
        data._idx_payload(path.read_bytes(), path)
    assert inflated[0] <= 1024 + len(payload) + 1  # the header peek, the promise, one byte


def test_gunzip_inflates_at_most_one_byte_past_the_limit(tmp_path, monkeypatch):
    _, payload = idx_file((1, 28, 28))
    raw = gzip.compress(payload) + gzip.compress(bytes(784))
    inflated, real = [0], zlib.decompressobj
    monkeypatch.setattr(zlib, "decompressobj",
                        lambda *a, **k: _CountingInflater(real, inflated, *a, **k))
    with pytest.raises(DatasetError, match="more than the 800 bytes"):
        data._gunzip(raw, tmp_path / "x.gz", False, limit=len(payload))
    assert inflated[0] == len(payload) + 1


# --------------------------------------------------------------- IDX headers and sizes

@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_a_file_of_just_the_magic_number_is_cut_short(tmp_path, gz):
    path = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    magic = b"\x00\x00\x08\x03"
    path.write_bytes(gzip.compress(magic) if gz else magic)
    with pytest.raises(DatasetError, match=r"IDX header is cut short \(4 bytes\)"):
        read_idx(path)


def test_idx_messages_give_the_exact_magic_number_and_byte_counts(tmp_path):
    _, good = idx_file()
    path = tmp_path / "mine-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + good[4:])
    with pytest.raises(DatasetError, match=r"wrong IDX magic number 0x12340803 \(expected"):
        read_idx(path)
    path.write_bytes(good[:-100])
    with pytest.raises(DatasetError, match=r"promises shape \(5, 28, 28\) \(3920 data bytes\) "
                                           r"but the file holds 3820\. "):
        read_idx(path)


def corrupt_crc(gz: bytes) -> bytes:
    return gz[:-8] + bytes(b ^ 0xFF for b in gz[-8:-4]) + gz[-4:]


def own_and_official_cases():
    _, good = idx_file()
    empty_but_huge = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big")
                                                      for d in (0, 2**32 - 1, 2**32 - 1))
    return {
        "bad crc": (corrupt_crc(gzip.compress(good)),
                    r"truncated or corrupt \(Error -3 while decompressing data: incorrect data "
                    r"check\)"),
        "truncated": (gzip.compress(good)[:-20],
                      r"truncated or corrupt \(it ends before the end of the compressed data\)"),
        "bomb": (gzip_of_zeros(bomb_header(), 1 << 20), "decompresses to more than"),
        "empty but huge": (empty_but_huge, "which NumPy cannot hold"),
        "empty but huge gz": (gzip.compress(empty_but_huge), "which NumPy cannot hold"),
        "bad magic gz": (gzip.compress(b"\x12\x34\x08\x03" + good[4:]), "wrong IDX magic number"),
    }


@pytest.mark.parametrize("case", list(own_and_official_cases()))
def test_every_idx_error_gives_the_fix_for_whose_file_it_is(tmp_path, case):
    content, expected = own_and_official_cases()[case]
    path = tmp_path / ("mine-idx3-ubyte" + (".gz" if content[:2] == b"\x1f\x8b" else ""))
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=expected) as err:
        read_idx(path, own=True)
    assert str(path) in str(err.value) and "download" not in str(err.value).lower()
    with pytest.raises(DatasetError, match=expected) as err:
        read_idx(path)
    assert "download the official file again" in str(err.value)


def test_unreadable_and_empty_own_files_say_so_exactly(tmp_path):
    with pytest.raises(DatasetError) as err:
        read_idx(tmp_path)  # a folder: open() fails
    assert str(err.value) == (f"{tmp_path}: cannot be read (Is a directory). Check the path and "
                              "permissions.")
    path = tmp_path / "mine-idx3-ubyte"
    path.write_bytes(b"")
    with pytest.raises(DatasetError) as err:
        read_idx(path, own=True)
    assert str(err.value) == f"{path}: is empty (0 bytes). {data._WRITE_AGAIN}"


@pytest.mark.parametrize("content, own, expected", [
    (b"\n  <!DOCTYPE html><html></html>", False,
     r"is an HTML page \(a failed download saved under a data file's name\?\), not a gzip file\. "
     r"Delete it and download"),
    (b"<Error><Code>NoSuchKey</Code></Error>", False, r"is an HTML page \(a failed download"),
    (b"<html>oops</html>", True, r": is an HTML page, not a gzip file\. Compress it with gzip"),
    (b"plain text", False, r": is not gzip data, not a gzip file\. Delete it"),
], ids=["leading-whitespace", "xml-error-without-prologue", "own", "not-html"])
def test_what_a_non_gzip_gz_file_is_said_to_be(tmp_path, content, own, expected):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=expected):
        read_idx(path, own=own)


# ------------------------------------------------------- checking one official file

def test_official_files_get_the_download_fix_and_their_path(tmp_path):
    spec = data.OfficialFile("t10k-images-idx3-ubyte.gz", (), None, (5, 28, 28))
    path = tmp_path / spec.name
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="a download or copy was cut short. Delete it"):
        data._load_verified(path, spec)
    _, good = idx_file()
    path.write_bytes(gzip.compress(good[:-100]))  # valid gzip, short payload
    with pytest.raises(DatasetError) as err:
        data._load_verified(path, spec)
    assert str(err.value).startswith(f"{path}: IDX header promises shape (5, 28, 28)")
    assert str(err.value).endswith("The file is truncated or corrupt; download it again.")


def test_official_image_file_of_another_element_type_is_refused(tmp_path):
    """notMNIST's train files have no published digest: the type check is all that stands."""
    spec = data.OfficialFile("train-images-idx3-ubyte.gz", (), None, (5, 28, 28))
    path = tmp_path / spec.name
    path.write_bytes(gzip.compress(idx_bytes(np.ones((5, 28, 28), np.int32), 0x0C)))
    with pytest.raises(DatasetError, match=r"holds int32 values, expected unsigned bytes "
                                           r"\(IDX type code 0x08\)"):
        data._load_verified(path, spec)


def test_official_file_whose_header_disagrees_with_the_shape_is_not_inflated(tmp_path,
                                                                              monkeypatch):
    """A header promising 30,000 images where 5 are expected: refused from the header peek."""
    spec = data.OfficialFile("t10k-images-idx3-ubyte.gz", (), None, (5, 28, 28))
    path = tmp_path / spec.name
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (30_000, 28, 28))
    path.write_bytes(gzip_of_zeros(header, 30_000 * 784))
    inflated, real = [0], zlib.decompressobj
    monkeypatch.setattr(zlib, "decompressobj",
                        lambda *a, **k: _CountingInflater(real, inflated, *a, **k))
    with pytest.raises(DatasetError) as err:
        data._load_verified(path, spec)
    assert str(err.value).startswith(f"{path}: holds an array of shape (30000, 28, 28), expected "
                                     "(5, 28, 28) for the official t10k-images-idx3-ubyte.gz.")
    assert inflated[0] <= 1024


def test_npz_file_replaced_after_it_was_read_gives_the_array_that_was_hashed(tmp_path,
                                                                             monkeypatch):
    """The array returned is parsed from the very bytes whose SHA-256 was checked."""
    import hashlib

    path, other = tmp_path / "kmnist-test-imgs.npz", tmp_path / "other.npz"
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.savez_compressed(path, images)
    np.savez_compressed(other, images[::-1])
    spec = data.OfficialFile(path.name, (), hashlib.sha256(path.read_bytes()).hexdigest(),
                             images.shape)
    real_read_file = data._read_file

    def read_then_replace(p):
        result = real_read_file(p)
        path.write_bytes(other.read_bytes())  # replaced just after it was read
        return result

    monkeypatch.setattr(data, "_read_file", read_then_replace)
    array, digest = data._load_verified(path, spec)
    assert np.array_equal(array, images) and digest == spec.sha256


def test_downloads_leave_markers_for_the_cached_files_only(tiny, monkeypatch, isolated_data_env):
    """Temporaries are checked but never marked: the marker file holds the four cached files."""
    monkeypatch.setenv("AEBOOK_OFFLINE", "0")
    load_dataset("mnist")
    markers = json.loads((isolated_data_env / "verified.json").read_text())
    cache = (isolated_data_env / "mnist").resolve()
    assert sorted(markers) == sorted(str(cache / name) for name in ALL)


# ------------------------------------------------------------ the test-data guard's edges

def guard_refuses(x) -> bool:
    try:
        data.check_not_test(x, "x")
    except DatasetError:
        return True
    return False


def test_guard_edges_of_pixel_ranges(monkeypatch):
    monkeypatch.setattr(data, "_TEST_IMAGES", {})
    rng = np.random.default_rng(7)
    dark = rng.integers(0, 3, (3, 28, 28), dtype=np.uint8)  # pixels 0, 1 and 2
    bright = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    bright[:, 0, 0] = 0
    data._register_test_part("T", np.concatenate([dark, bright]))
    assert guard_refuses(dark.astype(np.float64))  # [0, 255] floats whose maximum is 2
    assert not guard_refuses(bright.astype(np.int64) - 256)  # negative: not pixels
    over = bright.astype(np.int64)
    over[:, 0, 0] = 256  # past 255: not pixels (256 must not wrap to 0)
    assert not guard_refuses(over)
    assert guard_refuses(bright.astype(np.int64))
    for empty in (np.zeros((0, 28, 28), np.float32), np.zeros((0, 784), np.int64)):
        data.check_not_test(empty, "x")  # nothing to compare, no error


# ------------------------------------------------------------- the verification markers

def test_marker_key_covers_the_first_and_last_64_kib_and_only_those(tmp_path):
    """Same status, other bytes at either end: another key. The middle is not read (the key
    must stay much cheaper than the SHA-256 it saves)."""
    path = tmp_path / "f"
    path.write_bytes(b"")
    st, key = os.stat(path), data._VerifiedMarkers.key
    raw = bytes(200_000)
    first, last, middle = bytearray(raw), bytearray(raw), bytearray(raw)
    first[0], last[-1], middle[100_000] = 1, 1, 1
    assert len({key(st, raw), key(st, bytes(first)), key(st, bytes(last))}) == 3
    assert key(st, bytes(middle)) == key(st, raw)


def test_marker_file_that_is_not_a_json_object_is_ignored(tiny, tmp_path, isolated_data_env):
    folder = tmp_path / "mine" / "mnist"
    copy_files(tiny["server"], folder, ALL)
    isolated_data_env.mkdir(parents=True, exist_ok=True)
    for junk in ("[]", '"text"', "{not json", '{"x": 1}'):
        (isolated_data_env / "verified.json").write_text(junk)
        assert load_dataset("mnist", data_dir=tmp_path / "mine").source.endswith(
            "SHA-256 verified")
        assert len(json.loads((isolated_data_env / "verified.json").read_text())) >= 4


def test_markers_are_written_into_a_cache_folder_that_does_not_exist_yet(tiny, tmp_path,
                                                                        monkeypatch):
    cache = tmp_path / "not" / "yet" / "cache"
    monkeypatch.setenv("AEBOOK_CACHE", str(cache))
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    load_dataset("mnist", data_dir=tmp_path / "mine")
    assert len(json.loads((cache / "verified.json").read_text())) == 4


def test_official_npz_whose_header_disagrees_with_the_shape_is_not_read(tmp_path):
    """An npz holding 30,000 images where 2 are expected: refused from its array header."""
    spec = data.OfficialFile("kmnist-test-imgs.npz", (), None, (2, 28, 28))
    path = tmp_path / spec.name
    np.savez_compressed(path, np.zeros((30_000, 28, 28), np.uint8))  # 23.5 MB, deflated
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"shape \(30000, 28, 28\), expected \(2, 28, 28\)"):
            data._load_verified(path, spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


# Mutation testing (issue 26; mutmut 3.8.1 over the verification code of helpers/data.py, names
# as `mutmut show` gives them for the code of that run). Survivors that no test can kill:
# - message wording only: _read_npz 17-19, 31-33, 62-64, and 20 in the second run over the rest
#   of the verification code (_gunzip to _VerifiedMarkers); the tests check each message's key
#   words, not its phrasing;
# - unreachable: _read_npz 66 (after the size check), 8/71/79 (own=None behaves as False on a
#   path no caller takes); the last shape check after _idx_payload / _read_npz have checked it;
# - equivalent (30 in that second run, of the kinds named here): _read_npz 58-60 (read(None) /
#   read(2) still read to the end and check the CRC), 83/85 (NumPy accepts "f" / "c" there); check_not_test 20 (n / 100 against n // 100: the same
#   comparison for whole counts); b"<" already covering the other HTML prefixes; the JSON indent
#   of the verified-file markers; the digest size; int.from_bytes without "big" (Python 3.11's
#   default); stratified_split 28 (kind="STABLE": NumPy accepts either case) and 61/63 (arange's
#   int64 dtype dropped: NumPy 2's default).
