"""python -m helpers.cluster: the TensorFlow seed's command line, rebuilt."""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from .conftest import ROOT

FLAGS = ["--data-dir", "--log-dir", "--tag", "--learning-rate", "--encoding-size", "--steps",
         "--epochs", "--num-clusters", "--convolution", "--tb-embedding", "--dataset", "--images",
         "--labels"]


def cli(*args, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "helpers.cluster", *map(str, args)], cwd=cwd or ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def idx_gz(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_help_documents_every_flag():
    proc = cli("--help")
    assert proc.returncode == 0
    for flag in FLAGS:
        assert flag in proc.stdout, flag


@pytest.mark.parametrize("args, message", [
    (["--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["--encoding-size", "0"], "must be positive"),
    (["--epochs", "many"], "'many' is not a valid int"),
])
def test_bad_arguments_exit_2_with_one_error_line(args, message):
    proc = cli(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]


def test_bad_files_exit_2_naming_the_file(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_text("<html>404</html>")
    labels = tmp_path / "labels-idx1-ubyte.gz"
    idx_gz(labels, np.zeros(5))
    for args, message in (([f"--images={bad}", f"--labels={labels}"], str(bad)),
                          ([f"--images={bad}"], "--images and --labels go together")):
        proc = cli(*args, "--log-dir", tmp_path / "runs")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert message in proc.stderr.strip().splitlines()[-1]


def test_mismatched_counts(tmp_path):
    idx_gz(tmp_path / "im.gz", np.zeros((6, 28, 28)))
    idx_gz(tmp_path / "lab.gz", np.zeros(5))
    proc = cli("--images", tmp_path / "im.gz", "--labels", tmp_path / "lab.gz", "--log-dir", tmp_path)
    assert proc.returncode == 2 and "one label per image" in proc.stderr


def test_a_run_on_your_own_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 100)
    images = np.zeros((300, 28, 28))
    for i, label in enumerate(labels):  # three easy classes: a bar in the top, middle or bottom
        row = 4 + 9 * label + rng.integers(0, 3)
        images[i, row:row + 4, 4:24] = 255
    idx_gz(tmp_path / "images.gz", images)
    idx_gz(tmp_path / "labels.gz", labels)
    proc = cli("--images", tmp_path / "images.gz", "--labels", tmp_path / "labels.gz",
               "--epochs", 3, "--num-clusters", 3, "--encoding-size", 8, "--tag", "bars",
               "--log-dir", tmp_path / "runs", "--tb-embedding", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ACC" in proc.stdout and "majority" in proc.stdout
    out = tmp_path / "runs" / "bars"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k"] == 3 and 0 <= metrics["acc"] <= 1 and metrics["majority_acc"] >= metrics["acc"]
    assert np.load(out / "codes.npy").shape == (300, 8)
    projector = out / "projector"
    assert (projector / "vectors.tsv").read_text().count("\n") == 300
    assert (projector / "metadata.tsv").read_text().splitlines()[0] == "label\tcluster"
    assert (projector / "sprite.png").stat().st_size > 1000
    assert 'tensor_path: "vectors.tsv"' in (projector / "projector_config.pbtxt").read_text()
