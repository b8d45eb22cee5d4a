"""helpers.results.record: the full profile writes results/<chapter>.json, quick never does."""

import json

import pytest

from helpers import results


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # notebooks execute in their own folder
    results.set_chapter("99_test")
    yield tmp_path
    results.set_chapter(None)


def test_full_profile_writes_repository_results(repo, capsys):
    results.record("mnist.model.test_mse", 0.0123, "protocol A")
    results.record("mnist.model.sweep", {"2": {"ae": 0.05}}, "protocol B")
    content = json.loads((repo / "results" / "99_test.json").read_text())
    assert content["profile"] == "full" and content["chapter"] == "99_test"
    assert content["results"]["mnist.model.test_mse"] == {"value": 0.0123, "protocol": "protocol A"}
    assert results.load("99_test", repo)["mnist.model.sweep"]["value"] == {"2": {"ae": 0.05}}
    assert capsys.readouterr().out == ""  # silent: published notebooks show no bookkeeping lines


def test_floats_are_stored_to_six_significant_digits(repo):
    np = pytest.importorskip("numpy")
    results.record("a.b", {"mse": 0.1 + 0.2, "runs": [2, 1 / 3, np.float32(0.7)], "n": 60_000,
                           "ok": True, "name": "x"}, "p")
    results.record("a.c", np.float64(123456.789), "p")
    text = (repo / "results" / "99_test.json").read_text()
    assert "0.30000000000000004" not in text
    stored = results.load("99_test", repo)
    assert stored["a.b"]["value"] == {"mse": 0.3, "runs": [2, 0.333333, 0.7], "n": 60_000,
                                      "ok": True, "name": "x"}
    assert stored["a.c"]["value"] == 123457.0


def test_a_confidence_interval_is_stored_beside_the_value(repo):
    results.record("a.acc", 0.912345678, "p", interval=(0.9012345678, 0.92345678))
    assert results.load("99_test", repo)["a.acc"] == {
        "value": 0.912346, "protocol": "p", "ci_low": 0.90123, "ci_high": 0.92346}
    results.record("a.acc", 0.9, "p")  # recording again without an interval drops the old one
    assert results.load("99_test", repo)["a.acc"] == {"value": 0.9, "protocol": "p"}


def test_quick_profile_never_touches_the_repository(repo, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("AEBOOK_PROFILE", "quick")
    monkeypatch.setenv("TMPDIR", str(tmp_path_factory.mktemp("tmp")))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    results.record("mnist.model.test_mse", 0.5, "quick")
    assert not (repo / "results").exists()
    assert results.results_path().is_file()


def test_record_needs_a_chapter(repo):
    results.set_chapter(None)
    with pytest.raises(RuntimeError, match="set_chapter"):
        results.record("a.b", 1, "p")


def test_expect_says_each_headline_number_with_its_interval(tmp_path, monkeypatch, capsys):
    from helpers import results

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(tmp_path)
    results.set_chapter("96_expect")
    results.record("mnist.acc", 0.95123, "MNIST official 54,000/6,000/10,000",
                   interval=(0.9468, 0.9552))
    results.record("kmnist.acc", 0.9, "KMNIST test-split-only 7,200/800/2,000",
                   interval=(0.88, 0.92))
    results.record("mnist.mse", 0.01, "MNIST official")
    results.expect({"mnist.acc": "MNIST accuracy", "kmnist.acc": "KMNIST accuracy"})
    out = capsys.readouterr().out
    assert out.startswith("What you should see when you run this chapter: MNIST accuracy "
                          "0.9512 (95% interval 0.9468-0.9552); KMNIST accuracy 0.9 (95% "
                          "interval 0.88-0.92).")
    assert "The book computed KMNIST accuracy on parts cut from the official test split" in out
    assert "MNIST accuracy on parts" not in out.replace("KMNIST accuracy on parts", "")
    with pytest.raises(ValueError, match="no interval"):
        results.expect({"mnist.mse": "MSE"})
    with pytest.raises(KeyError, match="not recorded"):
        results.expect({"mnist.nothing": "x"})
    results.record("mnist.blank", 3, "MNIST official")
    capsys.readouterr()
    results.expect({"mnist.blank": "blank images"}, exact=("mnist.blank",))
    assert capsys.readouterr().out == (
        "What you should see when you run this chapter: blank images 3 exactly.\n")
    results.set_chapter(None)
