"""python -m helpers.cluster: the TensorFlow seed's command line, rebuilt."""

import errno
import gzip
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from helpers import cluster

from .conftest import ROOT

FLAGS = ["--data-dir", "--log-dir", "--tag", "--learning-rate", "--encoding-size", "--steps",
         "--epochs", "--num-clusters", "--convolution", "--tb-embedding", "--dataset", "--images",
         "--labels", "--code-activation", "--quiet"]


def cli(*args, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "AEBOOK_PROFILE": "quick"}
    return subprocess.run([sys.executable, "-m", "helpers.cluster", *map(str, args)],
                          cwd=cwd or ROOT, env=env, capture_output=True, text=True, timeout=300)


def idx_gz(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def bars(folder, n=300):
    """Three easy classes as IDX files: a bar in the top, middle or bottom of the image."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), n // 3)
    images = np.zeros((len(labels), 28, 28))
    for i, label in enumerate(labels):
        row = 4 + 9 * label + rng.integers(0, 3)
        images[i, row:row + 4, 4:24] = 255
    idx_gz(folder / "images.gz", images)
    idx_gz(folder / "labels.gz", labels)
    return ["--images", folder / "images.gz", "--labels", folder / "labels.gz"]


def test_help_documents_every_flag_and_the_differences_from_the_seed():
    proc = cli("--help")
    assert proc.returncode == 0
    for flag in FLAGS:
        assert flag in proc.stdout, flag
    text = " ".join(proc.stdout.split())
    for difference in ("differences from the TensorFlow seed", "training steps (batches of 128",
                       "Adam (the seed used Adagrad", "ReLU code layer", "Hungarian ACC"):
        assert difference in text, difference


@pytest.mark.parametrize("args, message", [
    (["--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["--encoding-size", "0"], "must be positive"),
    (["--epochs", "many"], "'many' is not a valid int"),
    (["--learning-rate", "nan"], "must be positive and finite, got nan"),
    (["--learning-rate", "inf"], "must be positive and finite, got inf"),
    (["--tag", "../elsewhere"], "must be a plain folder name"),
    (["--tag", ".."], "must be a plain folder name"),
    (["--tag", "a/b"], "must be a plain folder name"),
    (["--steps", "5", "--epochs", "2"], "not allowed with argument"),
])
def test_bad_arguments_exit_2_with_one_error_line(args, message, tmp_path):
    proc = cli(*args, "--log-dir", tmp_path / "runs", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []  # nothing trained or written


def test_log_dir_below_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    proc = cli(*bars(tmp_path), "--log-dir", tmp_path / "notes.txt" / "runs")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "notes.txt is not a folder" in errors[0]
    assert proc.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == [
        "images.gz", "labels.gz", "notes.txt"]


@pytest.mark.parametrize("patch, message", [
    ("access", "no permission to write in"),   # what a non-root user meets in a read-only folder
    ("probe", "cannot write in"),              # e.g. a read-only file system, even for root
])
def test_unwritable_log_dir_is_refused_before_training(patch, message, tmp_path, monkeypatch,
                                                       capsys):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    if patch == "access":
        monkeypatch.setattr(cluster.os, "access", lambda *args: False)
    else:
        monkeypatch.setattr(cluster.tempfile, "TemporaryFile", refuse)
    monkeypatch.setattr(cluster, "run", lambda args: pytest.fail("trained anyway"))
    with pytest.raises(SystemExit) as exit_:
        cluster.main(["--log-dir", str(tmp_path / "runs")])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


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
    proc = cli("--images", tmp_path / "im.gz", "--labels", tmp_path / "lab.gz",
               "--log-dir", tmp_path)
    assert proc.returncode == 2 and "one label per image" in proc.stderr


def test_a_run_on_your_own_idx_files(tmp_path):
    proc = cli(*bars(tmp_path), "--steps", 300, "--num-clusters", 3, "--encoding-size", 8,
               "--tag", "bars", "--log-dir", tmp_path / "runs", "--tb-embedding", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(word in proc.stdout for word in ("ACC", "majority", "bootstrap interval"))
    assert "the same images train the autoencoder and are clustered" in proc.stdout
    assert "training: 300 steps of 128 images" in proc.stdout
    assert "warning" not in proc.stderr  # the default recipe leaves the mean-image plateau
    out = tmp_path / "runs" / "bars"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k"] == 3 and 0 <= metrics["acc"] <= metrics["majority_acc"] <= 1
    low, high = metrics["acc_interval"]
    assert low <= metrics["acc"] <= high and metrics["steps"] == 300
    assert metrics["train_mse"] < 0.5 * metrics["mean_image_mse"]
    assert np.load(out / "codes.npy").shape == (300, 8)
    projector = out / "projector"
    assert (projector / "vectors.tsv").read_text().count("\n") == 300
    assert (projector / "metadata.tsv").read_text().splitlines()[0] == "label\tcluster"
    assert (projector / "sprite.png").stat().st_size > 1000
    assert 'tensor_path: "vectors.tsv"' in (projector / "projector_config.pbtxt").read_text()
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == []  # every file was written through a temporary file, then renamed


def test_epochs_are_passes_capped_by_the_quick_profile_and_the_plateau_is_flagged(tmp_path):
    proc = cli(*bars(tmp_path), "--epochs", 100, "--num-clusters", 3,
               "--log-dir", tmp_path / "runs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the quick profile caps 100 epochs at 2; 300 images make 2 full batches of 128 per pass
    assert "training: 4 steps of 128 images" in proc.stdout
    warning = [line for line in proc.stderr.splitlines() if "warning:" in line]
    assert len(warning) == 1 and "predicting the mean image" in warning[0]


NOISE = re.compile(r"^[IWEF]\d{4} |oneDNN|cuda|absl|TensorFlow binary|rebuild TensorFlow")


def test_quiet_runs_a_time_estimate_overwrite_and_the_seeds_spellings(tmp_path):
    """TensorFlow's start-up log stays hidden unless the user sets TF_CPP_MIN_LOG_LEVEL; the
    time left is estimated after a few steps; a second run under a tag needs --overwrite,
    which replaces the earlier outputs; the seed's flag names work."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["AEBOOK_PROFILE"] = "quick"
    args = [sys.executable, "-m", "helpers.cluster", *map(str, bars(tmp_path)), "--steps", "20",
            "--log-dir", str(tmp_path / "runs")]
    proc = subprocess.run([*args, "--encoding-size", "8", "--num-clusters", "3",
                           "--tb-embedding"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line for line in proc.stderr.splitlines() if NOISE.search(line)] == []
    assert [line for line in proc.stderr.splitlines()
            if line and not line.startswith("python -m helpers.cluster: warning:")] == []
    estimate = [line for line in proc.stdout.splitlines() if "of training left" in line]
    assert len(estimate) == 1 and estimate[0].split()[1] == "12/20"
    out = tmp_path / "runs" / "default"
    first = json.loads((out / "metrics.json").read_text())
    assert first["k"] == 3 and np.load(out / "codes.npy").shape == (300, 8)
    assert (out / "projector").is_dir()

    seed_flags = ["--encoding_size=4", "--num_clusters=2", "--tb_embedding=false"]
    again = subprocess.run([*args, *seed_flags], cwd=ROOT, capture_output=True, text=True,
                           timeout=300, env=env)
    assert again.returncode == 2 and "already holds a run" in again.stderr
    assert json.loads((out / "metrics.json").read_text()) == first

    again = subprocess.run([*args, *seed_flags, "--overwrite"], cwd=ROOT, capture_output=True,
                           text=True, timeout=300, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads((out / "metrics.json").read_text())["k"] == 2
    assert np.load(out / "codes.npy").shape == (300, 4)
    assert sorted(p.name for p in out.iterdir()) == ["codes.npy", "metrics.json"]


def test_quiet_prints_no_training_log_but_the_summary_and_scores(tmp_path):
    proc = cli(*bars(tmp_path), "--steps", 20, "--num-clusters", 3, "--quiet",
               "--log-dir", tmp_path / "runs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line.startswith("step")] == []
    assert "training: 20 steps of 128 images" in proc.stdout
    assert any(line.startswith("trained in") for line in lines)
    assert "bootstrap interval" in proc.stdout


def test_a_loss_that_is_not_finite_stops_the_run(tmp_path):
    proc = cli(*bars(tmp_path), "--steps", 20, "--learning-rate", 1e38, "--num-clusters", 3,
               "--log-dir", tmp_path / "runs")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "not a finite number" in proc.stderr.strip().splitlines()[-1]
    assert "ACC" not in proc.stdout and not (tmp_path / "runs").exists()
