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
    assert "recorded mnist.model.test_mse = 0.0123  [protocol A]" in capsys.readouterr().out


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
