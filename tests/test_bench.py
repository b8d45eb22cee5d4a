"""tools.bench: the speed comparison's arithmetic, its page, and one tiny real run."""

import json
import os
from dataclasses import fields

import pytest

from tools import bench

from .conftest import MIRROR


def run(seconds, mse, images=1000):
    steady = sorted(seconds[1:])[len(seconds[1:]) // 2] if len(seconds) > 1 else seconds[0]
    return {"recipe": {"name": "r"}, "description": "d", "epoch_seconds": seconds, "test_mse": mse,
            "seconds_per_epoch": steady, "images_per_second": images / steady, "final_test_mse": mse[-1]}


def test_time_to_mse_counts_training_time_until_the_target_is_first_reached():
    r = run([10.0, 5.0, 5.0], [0.02, 0.011, 0.009])
    assert bench.time_to_mse(r, 0.012) == 15.0
    assert bench.time_to_mse(r, 0.009) == 20.0
    assert bench.time_to_mse(r, 0.001) is None


def test_comparison_ratios():
    seed, book = run([10.0, 8.0, 8.0], [0.03, 0.02, 0.011]), run([6.0, 2.0, 2.0], [0.02, 0.01, 0.008])
    c = bench.compare(seed, book, 0.012)
    assert c["throughput_ratio"] == pytest.approx(4.0)
    assert c["seed_seconds_to_target"] == 26.0 and c["book_seconds_to_target"] == 8.0
    assert c["time_to_target_ratio"] == pytest.approx(3.25)
    assert c["final_mse_equal_or_better"]
    assert bench.compare(seed, run([1.0], [0.5]), 0.012)["time_to_target_ratio"] is None


def test_device_slugs_are_file_names():
    assert bench.device_slug("GPU: NVIDIA H100 80GB HBM3 (JAX)") == "gpu-nvidia-h100-80gb-hbm3"
    assert bench.device_slug("CPU only (2 cores, x86_64)").startswith("cpu-")


def test_page_without_benchmarks_says_how_to_make_one(tmp_path):
    assert "make bench" in bench.render_page(tmp_path)


def test_page_shows_levers_relative_to_seed_and_chapter_totals(tmp_path):
    seed, xla = run([3.0, 2.0], [0.05, 0.04]), run([3.0, 4.0], [0.05, 0.04])
    seed["recipe"]["name"], xla["recipe"]["name"] = "seed-style", "XLA"
    (tmp_path / "bench-cpu-2-cores.json").write_text(json.dumps({
        "device": "CPU only (2 cores)", "backend": "tensorflow", "versions": {"keras": "3"},
        "updated": "today", "levers": {"data": "d", "epochs": 2, "runs": [seed, xla]},
        "chapters": [{"profile": "quick", "seconds": {"01_a": 60.0, "02_b": 90.0}, "total_seconds": 150.0}]}))
    for stem, seconds, chapter, cold in (("02_b", 600.0, 660.0, True),
                                         ("03_c", 1200.0, 1260.0, False)):
        (tmp_path / f"{stem}.json").write_text(json.dumps({"results": {"training_time": {
            "value": {"seconds": seconds, "runs": 2, "device": "CPU",
                      "chapter_seconds": chapter, "from_empty_cache": cold},
            "protocol": "p"}}}))
    page = bench.render_page(tmp_path)
    assert "| 02_b | 11.0 | within | 10.0 | 2 | - |" in page
    assert "| 03_c | 21.0 (estimate) | **OVER** | 20.0 | 2 | - |" in page
    assert "| **all chapters** | 32 (alone) | | **30** |" in page
    assert "| XLA | d | 4.0 | 250 | 0.50x | 0.04000 |" in page
    assert "| **all chapters** | **150** (2.5 min) |" in page


@pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no offline mirror at {MIRROR}")
def test_tiny_benchmark_writes_json_and_page(tmp_path, monkeypatch):
    monkeypatch.setenv("AEBOOK_DATA", str(MIRROR))
    assert bench.main(["--train-images", "256", "--epochs", "2", "--chapters", "none",
                       "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("bench-*.json")
    b = json.loads(path.read_text())
    t = b["training"]
    assert t["measured"]["versions"]["keras"] and t["measured"]["date"] and b["device"]
    for r in (t["seed"], t["book"]):
        assert len(r["epoch_seconds"]) == 2 and all(0 < m < 1 for m in r["test_mse"])
    page = tmp_path / "perf.md"
    assert bench.main(["--page", str(tmp_path), str(page)]) == 0
    text = page.read_text()
    assert "| seed-style |" in text and "| book pipeline |" in text and "Throughput ratio" in text


def test_chapter_timing_runs_each_notebook_with_the_profile(tmp_path, monkeypatch):
    import nbformat

    monkeypatch.setenv("AEBOOK_PROFILE", "full")
    (tmp_path / "notebooks").mkdir()
    check = "import os\nassert os.environ['AEBOOK_PROFILE'] == 'quick'"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(check)]),
                   tmp_path / "notebooks" / "01_check.ipynb")
    timing = bench.time_chapters("quick", tmp_path, log=lambda *a: None)
    assert list(timing["seconds"]) == ["01_check"] and timing["total_seconds"] > 0
    assert os.environ["AEBOOK_PROFILE"] == "full"  # the caller's environment is left alone


def test_chapter_table_says_when_a_chapter_has_no_time_from_an_empty_cache(tmp_path):
    (tmp_path / "03_convolutional_autoencoders.json").write_text(json.dumps({"results": {
        "training_time": {"value": {"seconds": 2513.4, "runs": 7, "device": "CPU"},
                          "protocol": "p"}}}))
    page = bench.render_page(tmp_path)
    row = "| 03_convolutional_autoencoders | not recorded | not recorded | 41.9 | 7 | - | 41.9 |"
    assert row in page
    assert "not complete: 03_convolutional_autoencoders not recorded" in page


def test_chapter_timing_keeps_its_folder_only_when_asked_and_only_an_empty_one(tmp_path):
    import nbformat

    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    code = "open('made.txt', 'w').write('x')"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]),
                   tmp_path / "repo" / "notebooks" / "01_make.ipynb")
    keep = tmp_path / "kept"
    bench.time_chapters("quick", tmp_path / "repo", keep=keep, log=lambda *a: None)
    assert (keep / "made.txt").is_file() and (keep / "01_make.ipynb").is_file()
    with pytest.raises(SystemExit, match="not an empty folder"):
        bench.time_chapters("quick", tmp_path / "repo", keep=keep, log=lambda *a: None)


def test_full_profile_run_is_shown_beside_the_budgets_and_the_previous_edition(tmp_path):
    (tmp_path / "bench-x.json").write_text(json.dumps({
        "device": "X", "backend": "jax", "versions": {}, "updated": "now",
        "chapters": [{"profile": "full", "total_seconds": 4700.0, "seconds": {
            "02_dense_autoencoder": 1000.0, "03_convolutional_autoencoders": 3700.0}}]}))
    page = bench.render_page(tmp_path)
    assert "| 02_dense_autoencoder | 1000 | 16.7 | **OVER** 15 | 10.7 |" in page
    assert "| 03_convolutional_autoencoders | 3700 | 61.7 | **OVER** 15 | 41.9 |" in page
    assert "| **all chapters** | **4700** | **78.3** | **OVER** 75 | **149** " in page


@pytest.mark.parametrize("kind", ["cpu", "gpu"])
def test_each_lever_changes_exactly_one_setting_of_the_pipeline(kind):
    pipeline = bench.PIPELINES[kind]
    settings = [f.name for f in fields(bench.Recipe) if f.name != "name"]
    changed = []
    for lever in bench.lever_recipes(pipeline):
        differ = [s for s in settings if getattr(lever, s) != getattr(pipeline, s)]
        assert len(differ) == 1, (lever.name, differ)
        changed += differ
    assert sorted(changed) == sorted(settings)  # every setting, each once


def test_a_kept_folder_inside_the_checkout_is_refused(tmp_path):
    (tmp_path / "notebooks").mkdir()  # a checkout: the chapters would record into its results/
    with pytest.raises(SystemExit, match="inside"):
        bench.time_chapters("quick", tmp_path, keep=tmp_path / "runs" / "full", log=lambda *a: None)
    assert not (tmp_path / "runs").exists()


def test_chapters_start_from_an_empty_weights_cache_but_keep_the_downloaded_data(
        tmp_path, isolated_data_env):
    import nbformat

    (isolated_data_env / "mnist").mkdir(parents=True)
    (isolated_data_env / "mnist" / "t10k-images-idx3-ubyte.gz").write_text("data")
    (isolated_data_env / "models").mkdir()
    (isolated_data_env / "models" / "w.weights.h5").write_text("weights")
    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    check = ("import os\ncache = os.environ['AEBOOK_CACHE']\n"
             "assert os.path.isfile(os.path.join(cache, 'mnist', 't10k-images-idx3-ubyte.gz'))\n"
             "assert not os.path.exists(os.path.join(cache, 'models'))")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(check)]),
                   tmp_path / "repo" / "notebooks" / "01_check.ipynb")
    bench.time_chapters("quick", tmp_path / "repo", log=lambda *a: None)
    assert (isolated_data_env / "models" / "w.weights.h5").is_file()  # the reader's own cache


def test_a_rerun_keeps_the_versions_and_date_each_figure_was_measured_with(tmp_path, monkeypatch):
    import helpers.environment

    seed, book = run([3.0, 2.0], [0.05, 0.04]), run([3.0, 2.0], [0.05, 0.03])
    comparison = bench.compare(seed, book, 0.045)
    out = tmp_path / f"bench-{bench.device_slug('CPU only')}.json"
    out.write_text(json.dumps({
        "device": "CPU only", "backend": "jax", "versions": {"keras": "0.1"}, "updated": "1999-01-01",
        "training": {"data": "d", "epochs": 2, "seed": seed, "book": book, "comparison": comparison},
        "chapters": []}))
    monkeypatch.setattr(helpers.environment, "describe_device", lambda backend: "CPU only")
    monkeypatch.setattr(bench, "time_chapters", lambda *a, **k: {
        "profile": "quick", "seconds": {"01_a": 1.0}, "total_seconds": 1.0})
    assert bench.main(["--no-training", "--chapters", "quick", "--out", str(tmp_path)]) == 0
    lines = bench.render_page(tmp_path).splitlines()
    training = next(line for line in lines if line.startswith("Training the seed's"))
    chapters = next(line for line in lines if line.startswith("Every chapter end to end"))
    assert "1999-01-01" in training and "keras 0.1" in training and "jax" in training
    assert "1999-01-01" not in chapters and "keras 0.1" not in chapters


def test_a_missing_results_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(SystemExit, match="no-such-folder"):
        bench.main(["--page", str(tmp_path / "no-such-folder"), str(tmp_path / "out.md")])
    assert not (tmp_path / "out.md").exists()


def test_guards_judge_validation_figures_and_report_test_figures_as_they_fall(tmp_path):
    assert bench._quality_guards(tmp_path) == []  # nothing recorded: no table
    (tmp_path / "02_dense_autoencoder.json").write_text(json.dumps({"results": {
        "notmnist.dense_ae.improved.test_mse": {"value": 0.0110, "protocol": "p"},
        "notmnist.dense_ae.validation_mse": {"value": {"deeper + shifts": 0.0101}, "protocol": "p"}}}))
    (tmp_path / "06_classifiers_on_codes.json").write_text(json.dumps({"results": {
        "notmnist.cnn_best.acc": {"value": 0.9415, "protocol": "p"}}}))
    page = "\n".join(bench._quality_guards(tmp_path))
    assert "| notmnist.dense_ae.improved.test_mse | <= 0.0105 | validation | 0.0101 | met |" in page
    assert "| notmnist.cnn_best.acc | >= 0.95 | test | 0.9415 | reported as it falls |" in page
    assert "| mnist.n2d | >= 0.948 | | not recorded | |" in page
    (tmp_path / "02_dense_autoencoder.json").write_text(json.dumps({"results": {  # no validation
        "notmnist.dense_ae.improved.test_mse": {"value": 0.0110, "protocol": "p"}}}))
    page = "\n".join(bench._quality_guards(tmp_path))
    assert "| notmnist.dense_ae.improved.test_mse | <= 0.0105 | test | 0.011 | reported as it falls |" in page


def test_each_chapter_row_names_the_mnist_splits_its_records_were_made_on(tmp_path):
    timing = {"value": {"seconds": 60.0, "runs": 1, "device": "CPU", "chapter_seconds": 90.0,
                        "from_empty_cache": True}, "protocol": "p"}
    official = "mnist: 10,000 official test images; AEs: official 54,000/6,000/10,000, N2D"
    (tmp_path / "05_clustering_latent_space.json").write_text(json.dumps({"results": {
        "training_time": timing, "mnist.n2d": {"value": 0.95, "protocol": official},
        "mnist.n2d.acc": {"value": 0.95, "protocol": official.replace(", N2D", "; N2D")},
        "kmnist.n2d": {"value": 0.5, "protocol": "test-split-only 7,200/800/2,000"}}}))
    (tmp_path / "11_n2d_all_images.json").write_text(json.dumps({"results": {
        "training_time": timing,
        "mnist.n2d_all_images": {"value": 0.97, "protocol": "mnist: all 70,000 images (...)"}}}))
    (tmp_path / "07_latent_priors.json").write_text(json.dumps({"results": {
        "training_time": timing,
        "kmnist.itl": {"value": 1.0, "protocol": "test-split-only 7,200/800/2,000"}}}))
    page = bench.render_page(tmp_path)
    assert "| 1 | official 54,000/6,000/10,000 | 46.4 |" in page  # once, not per record
    assert "| 1 | all 70,000 images | - |" in page
    assert "| 1 | - | 3.7 |" in page  # no MNIST record: no MNIST split
