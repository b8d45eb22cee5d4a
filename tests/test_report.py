"""helpers.report: the results page is generated from results/*.json and marks missed targets."""

import json

from helpers import report


def write(folder, chapter, results, profile="full"):
    folder.mkdir(exist_ok=True)
    (folder / f"{chapter}.json").write_text(json.dumps(
        {"chapter": chapter, "profile": profile, "updated": "2026-01-01", "results": results}))


def test_page_lists_values_targets_and_misses(tmp_path):
    write(tmp_path / "results", "02_dense_autoencoder", {
        "notmnist.dense_ae.improved.test_mse": {"value": 0.0107, "protocol": "p1"},
        "notmnist.dense_ae.test_mse": {"value": 0.0149, "protocol": "p2"},
        "notmnist.code_size_sweep": {"value": {"2": {"ae": 0.05, "pca": 0.07}}, "protocol": "p3"},
    })
    write(tmp_path / "results", "04_denoising_autoencoder", {
        "notmnist.denoise.improved.gaussian0.7": {
            "value": {"noisy_mse": 0.18, "denoised_mse": 0.05}, "protocol": "p4"},
    })
    out = tmp_path / "results.md"
    assert report.main([str(tmp_path / "results"), str(out)]) == 0
    page = out.read_text()
    assert page.startswith("# Results at a glance")
    assert "## 02_dense_autoencoder" in page and "## 04_denoising_autoencoder" in page  # no notebooks here
    assert "3. `notmnist.dense_ae.test_mse`: p2" in page
    rows = {line.split("|")[1].strip(): line for line in page.splitlines() if line.startswith("| `")}
    assert "| notmnist | 0.0107 | <= 0.012 | met |" in rows["`notmnist.dense_ae.improved.test_mse`"]
    assert "0.0155" in rows["`notmnist.dense_ae.test_mse`"]  # the seed's figure beside ours
    assert "| 0.05 | <= 0.04 | **MISSED** |" in rows["`notmnist.denoise.improved.gaussian0.7` (denoised_mse)"]
    assert rows["`notmnist.denoise.improved.gaussian0.7` (denoised_mse)"].endswith("| (1) |")
    assert "(table in the chapter)" in rows["`notmnist.code_size_sweep`"]


def test_quick_profile_results_are_refused(tmp_path, capsys):
    write(tmp_path / "results", "02_dense_autoencoder", {}, profile="quick")
    assert report.main([str(tmp_path / "results"), str(tmp_path / "out.md")]) == 2
    assert "only full-profile results may be published" in capsys.readouterr().err
    assert not (tmp_path / "out.md").exists()


def test_empty_results_folder(tmp_path):
    (tmp_path / "results").mkdir()
    assert "No chapter has recorded results yet" in report.render(tmp_path / "results")


def test_chapter_titles_come_from_the_notebooks():
    from tests.conftest import ROOT

    assert report.chapter_title("01_datasets", ROOT) == "Chapter 1: Four datasets of 28 x 28 images"


def test_benchmark_files_are_left_to_the_performance_page(tmp_path):
    write(tmp_path / "results", "02_dense_autoencoder", {"x.test_mse": {"value": 0.01, "protocol": "p"}})
    (tmp_path / "results" / "bench-cpu-2-cores.json").write_text(json.dumps({"device": "CPU"}))
    out = tmp_path / "results.md"
    assert report.main([str(tmp_path / "results"), str(out)]) == 0
    assert "bench" not in out.read_text()
