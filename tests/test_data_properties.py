"""Properties of stratified_split and of the IDX reader, checked on generated inputs."""

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers.data import DatasetError, read_idx, stratified_split

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

labels_st = st.lists(st.integers(0, 6), min_size=0, max_size=300).map(
    lambda xs: np.array(xs, dtype=np.int64))
fraction_st = st.floats(0, 1, allow_nan=False)
seed_st = st.one_of(st.integers(0, 2**31), st.text(max_size=8))


# --------------------------------------------------------------------- stratified_split

@FAST
@given(labels_st, fraction_st, seed_st)
def test_split_is_a_sorted_partition_with_exact_quotas(labels, fraction, seed):
    kept, held = stratified_split(labels, fraction, seed)
    assert kept.dtype == held.dtype == np.int64
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)  # sorted, no repeats
    assert np.array_equal(np.union1d(kept, held), np.arange(len(labels)))
    assert len(np.intersect1d(kept, held)) == 0
    assert len(held) == round(fraction * len(labels))  # the quotas add up to the fraction
    for c in np.unique(labels):
        n_c, held_c = np.sum(labels == c), np.sum(labels[held] == c)
        assert abs(held_c - fraction * n_c) < 1  # every class within one image of exact


@FAST
@given(labels_st, fraction_st, seed_st)
def test_split_is_deterministic(labels, fraction, seed):
    first, second = stratified_split(labels, fraction, seed), stratified_split(labels.copy(),
                                                                                fraction, seed)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


@FAST
@given(labels_st, fraction_st, st.integers(0, 6), st.randoms(use_true_random=False))
def test_a_class_is_split_whatever_the_other_classes_positions(labels, fraction, c, rnd):
    """Shuffling the other classes' labels among their own positions changes no class size,
    so class ``c`` keeps its quota, its ranks and so its held-out images."""
    others = np.flatnonzero(labels != c)
    shuffled = labels.copy()
    shuffled[others] = labels[rnd.sample(list(others), len(others))]
    held = stratified_split(labels, fraction)[1]
    held_shuffled = stratified_split(shuffled, fraction)[1]
    assert np.array_equal(held[labels[held] == c], held_shuffled[shuffled[held_shuffled] == c])


@FAST
@given(labels_st)
def test_split_extremes(labels):
    kept, held = stratified_split(labels, 0.0)
    assert len(held) == 0 and np.array_equal(kept, np.arange(len(labels)))
    kept, held = stratified_split(labels, 1.0)
    assert len(kept) == 0 and np.array_equal(held, np.arange(len(labels)))


# ---------------------------------------------------------------------------- IDX reader

IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return bytes([0, 0, code, array.ndim]) + dims + array.astype(IDX_TYPES[code]).tobytes()


def read_bytes_as_idx(content: bytes, gz: bool, own: bool = False):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("file-idx-ubyte.gz" if gz else "file-idx-ubyte")
        path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
        return read_idx(path, own=own)


shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)


@FAST
@given(hnp.arrays(np.uint8, shapes), st.booleans())
def test_uint8_round_trip(array, gz):
    got = read_bytes_as_idx(idx_bytes(array, 0x08), gz)
    assert got.dtype == np.uint8 and np.array_equal(got, array)


@FAST
@given(st.sampled_from(sorted(IDX_TYPES)), st.data(), st.booleans())
def test_round_trip_of_every_idx_type(code, draw, gz):
    dtype = np.dtype(IDX_TYPES[code]).newbyteorder("=")
    elements = (hnp.from_dtype(dtype, allow_nan=False) if dtype.kind == "f" else None)
    array = draw.draw(hnp.arrays(dtype, hnp.array_shapes(max_dims=3, max_side=4),
                                 elements=elements))
    got = read_bytes_as_idx(idx_bytes(array, code), gz)
    assert got.dtype == dtype and np.array_equal(got, array)


@FAST
@given(hnp.arrays(np.uint8, shapes), st.data(), st.booleans(), st.booleans())
def test_corrupted_header_raises_dataset_error(array, draw, gz, own):
    """A header byte changed, or the file cut anywhere: a DatasetError, never another
    exception; an array only when what is left still holds exactly what its header says."""
    content = bytearray(idx_bytes(array, 0x08))
    header = 4 + 4 * array.ndim
    if draw.draw(st.booleans()):
        i = draw.draw(st.integers(0, header - 1))
        content[i] = draw.draw(st.integers(0, 255).filter(lambda b: b != content[i]))
    else:
        content = content[:draw.draw(st.integers(0, len(content) - 1))]
    try:
        got = read_bytes_as_idx(bytes(content), gz, own)
    except DatasetError as e:
        assert "file-idx-ubyte" in str(e)
        return
    dims = got.shape
    assert content[:2] == b"\0\0" and len(content) == 4 + 4 * len(dims) + got.nbytes


dims_st = st.lists(st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2**16, 2**32 - 1])),
                   max_size=6)


@FAST
@given(st.sampled_from(sorted(IDX_TYPES) + [0x00, 0x0A, 0xFF]), dims_st, st.binary(max_size=48),
       st.booleans())
def test_any_header_gives_an_exact_array_or_a_dataset_error(code, dims, rest, gz):
    """Huge dimensions (whose product overflows 64 bits) included."""
    content = bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + rest
    try:
        got = read_bytes_as_idx(content, gz)
    except DatasetError:
        return
    assert got.shape == tuple(dims) and got.nbytes == len(rest)


@FAST
@given(st.binary(max_size=64), st.booleans())
def test_arbitrary_bytes_raise_only_dataset_error(content, gz):
    try:
        read_bytes_as_idx(content, gz)
    except DatasetError:
        pass


@pytest.mark.parametrize("gz", [False, True])
def test_header_promising_more_than_it_holds(gz):
    array = np.zeros((2, 3), np.uint8)
    content = bytearray(idx_bytes(array, 0x08))
    content[7] = 200  # 200 rows promised, 2 given
    with pytest.raises(DatasetError, match="header promises"):
        read_bytes_as_idx(bytes(content), gz)


def test_tied_remainders_go_to_the_lower_class():
    """Largest remainders first, ties to the class listed first: the parts must not depend on
    how a sort orders ties (NumPy's default sort here does not keep their order)."""
    counts = [42, 55, 55, 11, 7, 8, 44, 58, 55, 40, 58]  # remainders 0.5 tie in classes 1, 2 and 8
    labels = np.repeat(np.arange(len(counts)), counts)
    _, held = stratified_split(labels, 0.1)
    assert np.bincount(labels[held]).tolist() == [4, 6, 5, 1, 1, 1, 4, 6, 5, 4, 6]
