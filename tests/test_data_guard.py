"""check_not_test: training code can refuse the test images of any dataset loaded here."""

import time

import numpy as np
import pytest

from helpers import data
from helpers.data import DatasetError, DatasetSpec, OfficialFile, check_not_test, load_dataset
from helpers.profiles import PROFILES, Profile

from .conftest import MIRROR
from .test_data import ALL, copy_files, fresh_notices, tiny, write_idx_gz  # noqa: F401 (fixtures)

ALLOW = "AEBOOK_ALLOW_TEST_SPLIT_ONLY"


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    monkeypatch.setattr(data, "_TEST_IMAGES", {})


def forms(x):
    """The layouts and scalings a training loop may see the same images in."""
    scaled = data.to_float(x)
    return {"uint8": x, "float [0, 1]": scaled, "flat": scaled.reshape(len(x), -1),
            "channel": scaled[..., None], "float [0, 255]": x.astype(np.float64),
            "int64": x.astype(np.int64)}


def refuses(x, what="x"):
    try:
        check_not_test(x, what)
    except DatasetError as e:
        assert what in str(e) and "test images" in str(e)
        return True
    return False


def test_test_images_are_refused_in_every_form(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    for form, x in forms(ds.x_test).items():
        assert refuses(x), form
    for part in (ds.x_train, ds.x_val):
        assert not any(refuses(x) for x in forms(part).values())


def test_test_images_pass_only_inside_an_allow_block_that_gives_a_reason(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    with data.allow_test_images("N2D clusters every image it trains on"):
        with data.allow_test_images("nested"):
            assert not refuses(ds.x_test)
        assert not refuses(ds.x_test)
    assert refuses(ds.x_test)
    with pytest.raises(RuntimeError), data.allow_test_images("an error inside the block"):
        raise RuntimeError
    assert refuses(ds.x_test)  # the block is closed even by an exception
    for reason in ("", "  ", None):
        with pytest.raises(ValueError, match="reason"), data.allow_test_images(reason):
            pass
    assert refuses(ds.x_test)


def test_nothing_is_refused_before_a_dataset_is_loaded(tiny):
    assert not refuses(tiny["arrays"]["t10k-images"])


def test_the_rule_tolerates_min_10_or_1_percent(tiny, tmp_path):
    """Any test image among fewer than 100 images; more than n // 100 (at most 10) in more."""
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    assert refuses(ds.x_test[:1])
    train = np.concatenate([ds.x_train] * 10)  # 1,080 images: 10 test images tolerated
    assert not refuses(np.concatenate([train, ds.x_test[:10]]))
    assert refuses(np.concatenate([train, ds.x_test[:11]]))
    assert refuses(np.concatenate([ds.x_train, ds.x_test]))


def test_error_names_the_array_and_the_dataset(tiny, tmp_path):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    with pytest.raises(DatasetError, match=r"x_fit: 100 of its 100 non-blank images are test "
                                           r"images of Tiny MNIST"):
        check_not_test(ds.x_test, "x_fit")


def test_blank_images_and_duplicates_of_train_images_never_count(monkeypatch, tmp_path):
    """A blank image, and a test image that the train split holds too, prove nothing."""
    rng = np.random.default_rng(5)
    train = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8)
    test[:20] = 0  # blank
    test[20:40] = 255  # blank too
    test[40:] = train[:20]  # the same images in both splits
    folder = tmp_path / "mine" / "mnist"
    arrays = [train, np.arange(100) % 10, test, np.arange(60) % 10]
    for name, array in zip(ALL, arrays):
        write_idx_gz(folder / name, array)
    monkeypatch.setitem(data.DATASETS, "mnist", DatasetSpec(
        "Dup MNIST", "", tuple("0123456789"),
        *(OfficialFile(n, (), None, a.shape) for n, a in zip(ALL, arrays))))
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    assert not refuses(ds.x_test) and not refuses(train) and not refuses(np.zeros((500, 784)))
    assert data._TEST_IMAGES == {}


def test_quick_profile_registers_the_whole_test_part(tiny, tmp_path, monkeypatch):
    copy_files(tiny["server"], tmp_path / "mine" / "mnist", ALL)
    monkeypatch.setitem(PROFILES, "quick", Profile("quick", 10, 4, 5, 1, 32))
    ds = load_dataset("mnist", data_dir=tmp_path / "mine", profile="quick")
    assert len(ds.x_test) == 5 and refuses(ds.x_test) and refuses(data.to_float(ds.x_test))
    assert refuses(tiny["arrays"]["t10k-images"])  # test images the subset left out, too
    assert not refuses(ds.x_train) and not refuses(tiny["arrays"]["train-images"])


def test_arrays_that_are_not_images_pass():
    data._TEST_IMAGES[b"x" * 16] = "Somewhere"
    for x in (np.arange(10), np.full((3, 784), -1.0), np.array(["a"] * 784), [1, 2, 3], None):
        check_not_test(x, "x")


# ------------------------------------------------------------------------- real datasets

mirror = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no offline mirror at {MIRROR}")


@mirror
@pytest.mark.parametrize("name", list(data.DATASETS))
def test_real_test_parts_are_refused_and_no_false_alarm(name, monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    ds = load_dataset(name, data_dir=MIRROR, profile="full")
    for form, x in forms(ds.x_test).items():
        assert refuses(x), form
    for part in (ds.x_train, ds.x_val):
        for form in ("uint8", "channel", "flat"):
            check_not_test(forms(part)[form], f"{name} {form}")  # no exception: no false alarm
    start = time.perf_counter()
    check_not_test(data.as_model_input(ds.x_train), "x")
    assert time.perf_counter() - start < 5  # ~0.1 s for 54,000 images on one core


@mirror
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_real_quick_profile_parts(name):
    quick = load_dataset(name, data_dir=MIRROR, profile="quick")
    assert refuses(quick.x_test) and refuses(data.as_model_input(quick.x_test, flat=True))
    check_not_test(quick.x_train, "x_train")
    check_not_test(data.as_model_input(quick.x_val), "x_val")
    full = load_dataset(name, data_dir=MIRROR, profile="full")
    check_not_test(full.x_train, "x_train")
    assert refuses(full.x_test)


@mirror
def test_datasets_do_not_raise_alarms_for_each_other(monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    loaded = {name: load_dataset(name, data_dir=MIRROR) for name in data.DATASETS}
    for name, ds in loaded.items():
        check_not_test(np.concatenate([ds.x_train, ds.x_val]), name)
    # all 24,000 test images but notMNIST's 25 blank ones and 24 that its train part holds too
    assert len(data._TEST_IMAGES) == 23_951
    assert set(data._TEST_IMAGES.values()) == {data.DATASETS[n].title for n in data.DATASETS}


@pytest.mark.parametrize("n_other, n_test, refused", [
    (990, 10, False),    # 1,000 images: n // 100 = 10 tolerated (not n // 101 = 9)
    (1989, 11, True),    # 2,000 images: at most 10, however large the set
    (4990, 10, False),   # 5,000 images in two chunks: n counts both (the last alone: 9)
    (4989, 11, True),
])
def test_the_tolerance_at_its_edges(n_other, n_test, refused):
    rng = np.random.default_rng(8)
    test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    data._register_test_part("Synthetic", test)
    x = np.concatenate([rng.integers(0, 256, (n_other, 28, 28), dtype=np.uint8), test])
    assert refuses(x) is refused
    if refused:
        with pytest.raises(DatasetError, match=rf"x: {n_test} of its {n_other + n_test:,} "
                                               r"non-blank images are test images of Synthetic"):
            check_not_test(x, "x")


def test_the_error_names_every_dataset_matched():
    rng = np.random.default_rng(9)
    a, b = (rng.integers(0, 256, (3, 28, 28), dtype=np.uint8) for _ in range(2))
    data._register_test_part("Set B", b)
    data._register_test_part("Set A", a)
    with pytest.raises(DatasetError, match=r"x: 6 of its 6 non-blank images are test images of "
                                           r"Set A, Set B \(as loaded by load_dataset\)"):
        check_not_test(np.concatenate([a, b]), "x")
