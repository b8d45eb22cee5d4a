"""python -m helpers.cluster: every flag and file is checked before TensorFlow loads, and a
refusal is one line that names the flag and the file."""

import gzip
import re
import subprocess
import sys

import numpy as np
import pytest

from helpers import cluster

from .conftest import ROOT
from .test_cluster_cli import bars

# main() in a fresh interpreter, then which deep-learning modules it imported
MAIN = """import sys
from helpers import cluster
try:
    code = cluster.main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print("LOADED", [m for m in ("keras", "tensorflow") if m in sys.modules])
sys.exit(code)
"""


def refused(*args):
    """Exit code, error lines and the modules loaded of a run that should be refused."""
    proc = subprocess.run([sys.executable, "-c", MAIN, *map(str, args), "--steps", "3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    return proc.returncode, errors, proc.stdout.splitlines()[-1], proc.stderr


def idx_float(path, array):
    """An IDX file of big-endian float32 (type 0x0D), gzipped."""
    header = bytes([0, 0, 0x0D, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(">f4").tobytes()))


def _float_images(folder):
    idx_float(folder / "images.gz", np.random.default_rng(0).random((30, 28, 28)))
    return ("--images", folder / "images.gz")


def _nan_images(folder):
    images = np.random.default_rng(0).random((30, 28, 28))
    images[0, 0, 0] = np.nan
    idx_float(folder / "images.gz", images)
    return ("--images", folder / "images.gz")


def _float_labels(folder):
    idx_float(folder / "labels.gz", np.arange(30) % 3 + 0.5)
    return ("--labels", folder / "labels.gz")


CASES = {  # name: (what to spoil, the words the error line must hold)
    "float images": (_float_images, ["float32", "uint8"]),
    "NaN pixels": (_nan_images, ["float32", "uint8"]),
    "float labels": (_float_labels, ["float32", "integer"]),
}


@pytest.mark.parametrize("case", CASES)
def test_own_files_must_hold_bytes_and_whole_labels(case, tmp_path):
    spoil, words = CASES[case]
    args = dict(zip(*[iter(map(str, bars(tmp_path, n=30)))] * 2))
    flag, path = spoil(tmp_path)
    args[flag] = path
    code, errors, loaded, _ = refused(*sum(args.items(), ()), "--log-dir", tmp_path / "runs")
    assert code == 2 and loaded == "LOADED []"
    assert len(errors) == 1 and f"{flag} {path}" in errors[0]
    assert all(word in errors[0] for word in words), errors[0]
    assert not (tmp_path / "runs").exists()


def test_an_empty_own_file_is_called_empty(tmp_path):
    own = bars(tmp_path, n=30)
    own[1].write_bytes(b"")
    code, errors, loaded, stderr = refused(*own, "--log-dir", tmp_path / "runs")
    assert code == 2 and loaded == "LOADED []"
    assert len(errors) == 1 and f"--images {own[1]}" in errors[0] and "empty" in errors[0]
    assert "download" not in stderr.lower() and "delete" not in stderr.lower()


@pytest.mark.parametrize("content", [
    b"<html>404</html>", b"\x00\x00\x08\x03\x00",
    gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05", mtime=0)[:-4]],
    ids=["html page", "cut-short header", "truncated gzip"])  # stable ids: pytest-xdist
def test_own_files_are_never_to_be_deleted_or_downloaded_again(content, tmp_path):
    own = bars(tmp_path, n=30)
    own[3].write_bytes(content)
    code, errors, loaded, stderr = refused(*own, "--log-dir", tmp_path / "runs")
    assert code == 2 and loaded == "LOADED []"
    assert len(errors) == 1 and f"--labels {own[3]}" in errors[0]
    assert not re.search(r"download (it|the official)|delete it", stderr, re.IGNORECASE)


def test_every_refusal_comes_before_tensorflow(tmp_path):
    own = bars(tmp_path, n=30)
    for args, message in ((own[:2], "--images and --labels go together"),
                          (own[2:], "--images and --labels go together"),
                          ((*own, "--num-clusters", 31), "--num-clusters 31 is more than")):
        code, errors, loaded, _ = refused(*args, "--log-dir", tmp_path / "runs")
        assert code == 2 and loaded == "LOADED []", args
        assert len(errors) == 1 and message in errors[0]


def test_a_second_run_under_the_same_tag_is_refused(tmp_path):
    earlier = tmp_path / "runs" / "bars"
    earlier.mkdir(parents=True)
    (earlier / "metrics.json").write_text("{}")
    code, errors, loaded, _ = refused(*bars(tmp_path, n=30), "--log-dir", tmp_path / "runs",
                                      "--tag", "bars")
    assert code == 2 and loaded == "LOADED []"
    assert len(errors) == 1 and "already holds a run" in errors[0] and "--overwrite" in errors[0]
    assert (earlier / "metrics.json").read_text() == "{}"


def test_the_seeds_flag_spellings_are_accepted():
    seed = cluster._parser().parse_args([
        "--data_dir=d", "--log_dir=out", "--tb_embedding=True", "--learning_rate=0.01",
        "--encoding_size=8", "--steps=50", "--num_clusters=3", "--convolution=false"])
    book = cluster._parser().parse_args([
        "--data-dir", "d", "--log-dir", "out", "--tb-embedding", "--learning-rate", "0.01",
        "--encoding-size", "8", "--steps", "50", "--num-clusters", "3"])
    assert vars(seed) == vars(book) and book.tb_embedding is True
    assert cluster._parser().parse_args(["--convolution"]).convolution is True
    with pytest.raises(SystemExit):
        cluster._parser().parse_args(["--tb_embedding=maybe"])
