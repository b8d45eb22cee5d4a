"""tools.report: the results page is generated from results/*.json; targets are judged on
validation figures, test figures are reported as they fall."""

import json
import re

from tools import references, report
from tools.references import Reference


def write(folder, chapter, results, profile="full"):
    folder.mkdir(exist_ok=True)
    (folder / f"{chapter}.json").write_text(json.dumps(
        {"chapter": chapter, "profile": profile, "updated": "2026-01-01", "results": results}))


def rows_by_key(page):
    """{JSON key: its table row's cells} of a generated page."""
    rows = [line for line in page.splitlines() if line.startswith("<tr><td>")]
    return {re.search(r'<code class="key">(.*?)</code>', row).group(1).replace("<wbr>", ""):
            re.findall(r"<td>(.*?)</td>", row) for row in rows}


def test_page_lists_values_targets_and_references(tmp_path):
    write(tmp_path / "results", "02_dense_autoencoder", {
        "notmnist.dense_ae.improved.test_mse": {"value": 0.0107, "protocol": "notMNIST "
                                                "test-split-only 7,200/800/2,000; p1"},
        "notmnist.dense_ae.test_mse": {"value": 0.0149, "protocol": "p2"},
        "notmnist.code_size_sweep": {"value": {"2": {"ae": 0.05, "pca": 0.07}}, "protocol": "p2"},
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
    rows = rows_by_key(page)
    improved = rows["notmnist.dense_ae.improved.test_mse"]
    assert improved[0].startswith("Dense AE, improved – test MSE per pixel<br>")
    assert improved[1] == "notMNIST<br><small>test-split-only 7,200/800/2,000</small>"
    assert improved[2:5] == ["0.0107", "≤&nbsp;0.012", "<em>reported as it falls</em>"]
    seed = rows["notmnist.dense_ae.test_mse"]
    assert seed[0].startswith("Dense AE, seed Model 1 – test MSE per pixel")  # an explicit name
    assert "0.0155" in seed[5]  # the seed's figure beside ours
    denoise = rows["notmnist.denoise.improved.gaussian0.7"]
    assert denoise[0].startswith("Denoising conv AE, improved, Gaussian noise 0.7 – denoised MSE")
    assert denoise[2:5] == ["0.05", "≤&nbsp;0.04", "<em>reported as it falls</em>"]
    assert rows["notmnist.code_size_sweep"][2] == "(table in the chapter)"
    # Protocols are numbered per chapter (shared ones once) and listed under the table.
    link = ' · <a href="#02_dense_autoencoder-p1">P1</a></small>'
    assert rows["notmnist.code_size_sweep"][0].endswith(link) and seed[0].endswith(link)
    assert '<li id="02_dense_autoencoder-p1"><strong>P1</strong> p2</li>' in page
    assert page.count('<details class="protocols"><summary>Protocols') == 2


def test_intervals_are_shown_and_a_straddled_target_is_within_noise(tmp_path, monkeypatch):
    monkeypatch.setitem(references.REFERENCES, "mnist.n2d", Reference(
        target=(">=", 0.95), reads="validation", validation={"key": "mnist.n2d_validation"}))
    write(tmp_path / "results", "05_clustering_latent_space", {
        "mnist.n2d": {"value": {"acc": 0.93, "acc_ci_low": 0.92, "acc_ci_high": 0.94, "nmi": 0.9},
                      "protocol": "p"},
        "mnist.n2d_validation": {"value": 0.949, "ci_low": 0.94, "ci_high": 0.96, "protocol": "p"},
        "notmnist.lr_on_codes.acc": {"value": 0.905, "ci_low": 0.891, "ci_high": 0.918,
                                     "protocol": "p"},
    })
    rows = rows_by_key(report.render(tmp_path / "results"))
    assert rows["mnist.n2d"][2:5] == [
        "0.93<br><small>[0.92, 0.94]</small>", "≥&nbsp;0.95",
        "<em>within noise</em><br><small>validation 0.949</small>"]
    assert rows["notmnist.lr_on_codes.acc"][2:5] == [  # a test figure: no verdict
        "0.905<br><small>[0.891, 0.918]</small>", "≥&nbsp;0.9", "<em>reported as it falls</em>"]


def test_readable_names():
    assert report.readable_name("notmnist.lr_pixels.acc") == \
        "Logistic regression on pixels – accuracy"
    assert report.readable_name("kmnist.itl.swiss_roll", "prior_divergence") == \
        "ITL-regularised AE, swiss-roll prior – divergence from the prior"
    assert report.readable_name("mnist.single_layer_ae.adam.test_mse") == \
        "Single-layer AE, trained with Adam – test MSE per pixel"
    assert report.readable_name("training_time", "seconds") == \
        "Training time of all runs – seconds"
    # Unknown parts fall back to the cleaned-up key.
    assert report.readable_name("kmnist.new_model.extra_part") == "New model, extra part"
    assert report.readable_name("kmnist.new_model.acc") == "New model – accuracy"


def test_guide_explains_the_statuses_and_protocol_tags(tmp_path):
    (tmp_path / "results").mkdir()
    page = report.render(tmp_path / "results")
    guide = page.split("\n\n")[2]
    assert guide.startswith("**How to read the tables.**")
    for words in ("*within noise*", "**MISSED**", "*reported as it falls*", "validation figure",
                  "`test-split-only 7,200/800/2,000`",
                  "train/validation/test", "`official 54,000/6,000/10,000`", "Protocols"):
        assert words in guide


def test_every_published_result_has_a_row_with_its_key():
    from tests.conftest import ROOT

    page = report.render(ROOT / "results")
    rows = rows_by_key(page)
    for path in sorted((ROOT / "results").glob(report.CHAPTER_FILES)):
        content = json.loads(path.read_text())
        for key in content["results"]:
            if key == "training_time":  # a fact under the chapter's heading, not a result row
                assert key not in rows
                seconds = content["results"][key]["value"].get("chapter_seconds")
                assert not seconds or f"{seconds / 60:.1f} min from an empty weights cache" in page
                continue
            assert key in rows
            assert key not in rows[key][0].split("<br>")[0]  # the name is words, not the key


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


def test_large_numbers_have_digit_groups_and_booleans_read_yes_or_no(tmp_path):
    write(tmp_path / "results", "03_convolutional_autoencoders", {
        "notmnist.conv_ae.multiply_adds": {"value": 29578752, "protocol": "p"},
        "notmnist.conv_ae.reproduced": {"value": True, "protocol": "p"},
        "notmnist.conv_ae.flags": {"value": {"value": False}, "protocol": "p"}})
    rows = rows_by_key(report.render(tmp_path / "results"))
    assert rows["notmnist.conv_ae.multiply_adds"][2] == "29,578,752"
    assert rows["notmnist.conv_ae.reproduced"][2] == "yes"
    assert rows["notmnist.conv_ae.flags"][2] == "no"


def test_a_missing_results_folder_is_an_error_naming_it(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert report.main([str(missing), str(tmp_path / "out.md")]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "out.md").exists()


def test_targets_are_judged_on_validation_figures_and_test_figures_are_reported_as_they_fall(
        tmp_path):
    write(tmp_path / "results", "02_dense_autoencoder", {
        "notmnist.dense_ae.improved.test_mse": {"value": 0.0125, "protocol": "p"},
        "notmnist.dense_ae.validation_mse": {"value": {"deeper + shifts": 0.0101}, "protocol": "p"}})
    write(tmp_path / "results", "04_denoising_autoencoder", {
        "notmnist.denoise.improved.gaussian0.7": {"value": {"denoised_mse": 0.05}, "protocol": "p"}})
    rows = rows_by_key(report.render(tmp_path / "results"))
    # The test figure misses the target; the validation figure it reads meets it.
    assert rows["notmnist.dense_ae.improved.test_mse"][2:5] == [
        "0.0125", "≤&nbsp;0.012", "met<br><small>validation 0.0101</small>"]
    # A target read on the test figure: described, never met or missed.
    assert rows["notmnist.denoise.improved.gaussian0.7"][2:5] == [
        "0.05", "≤&nbsp;0.04", "<em>reported as it falls</em>"]
    write(tmp_path / "results", "02_dense_autoencoder", {  # no validation figure recorded
        "notmnist.dense_ae.improved.test_mse": {"value": 0.0105, "protocol": "p"}})
    rows = rows_by_key(report.render(tmp_path / "results"))
    assert rows["notmnist.dense_ae.improved.test_mse"][4] == "<em>reported as it falls</em>"
