"""The notebooks as committed and the site as built: what a reader gets."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SITE = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files():
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def load(nb_path):
    return json.loads(nb_path.read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def title_of(entry):
    path = ROOT / entry
    if path.with_suffix(".ipynb").exists():
        first = load(path.with_suffix(".ipynb"))["cells"][0]["source"]
        text = "".join(first)
    else:
        text = path.with_suffix(".md").read_text()
    return re.search(r"^# (.+)$", text, re.M).group(1).strip()


def png_outputs(nb):
    return sum("image/png" in o.get("data", {}) for c in code_cells(nb) for o in c["outputs"])


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    assert NOTEBOOKS, "no chapters found"
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in listed, f"{nb.name} is missing from _toc.yml"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_executed_in_full_profile(nb_path):
    nb = load(nb_path)
    cells = code_cells(nb)
    assert all(c["execution_count"] for c in cells), "some cells were never executed"
    outputs = [o for c in cells for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = json.dumps(outputs)
    assert "Run profile: full" in text and "Run profile: quick" not in text
    assert len(nb_path.read_bytes()) < 2_000_000, "keep executed notebooks under 2 MB"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_recorded_results_are_committed_from_the_full_profile(nb_path):
    sources = "".join("".join(c["source"]) for c in code_cells(load(nb_path)))
    if "record(" not in sources:
        pytest.skip("this chapter records no results")
    path = ROOT / "results" / f"{nb_path.stem}.json"
    assert path.is_file(), f"{path.name} missing: execute the chapter in the full profile"
    content = json.loads(path.read_text())
    assert content["profile"] == "full" and content["results"]
    # The chapter's first record() starts its file afresh, so the file holds one run's results:
    # the committed run's, if the file was last written while the notebook was executing.
    times = [c["metadata"].get("execution", {}) for c in code_cells(load(nb_path))]
    if "shell.execute_reply" in times[-1]:
        start = times[0]["iopub.execute_input"][:19]
        end = max(t["shell.execute_reply"] for t in times if t)[:19]
        assert start <= content["updated"][:19] <= end, \
            f"{path.name} was written at {content['updated']}, outside the notebook's run"
    else:  # executed before execution times were kept: every result was printed
        printed = json.dumps([o for c in code_cells(load(nb_path)) for o in c["outputs"]])
        for key in content["results"]:
            assert f"recorded {key} = " in printed, f"{key} is in {path.name}, not in the notebook"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_installs_from_the_configured_repository(nb_path):
    first = "".join(code_cells(load(nb_path))[0]["source"])
    assert "from helpers.environment import setup" in first
    url = CONFIG["repository"]["url"]
    # REPO names the repository on a line that fits the page; chapters executed before that
    # change still spell the URL inside the %pip line.
    assert f'REPO = "{url}.git"' in first and '"git+{REPO}"' in first \
        or f"git+{url}.git" in first


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_ends_with_summary_and_exercises(nb_path):
    headings = [line for c in load(nb_path)["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")]
    assert "## Summary" in headings and "## Exercises" in headings


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_asks_colab_for_a_gpu(nb_path):
    assert load(nb_path)["metadata"].get("accelerator") == "GPU"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.skipif(not SITE.is_dir(), reason="site not built: run `make book` first")
@pytest.mark.parametrize("entry", toc_files())
def test_built_page_has_its_title_and_figures(entry):
    html_path = SITE / "index.html" if entry == TOC["root"] and not (SITE / f"{entry}.html").exists() \
        else SITE / f"{entry}.html"
    assert html_path.is_file(), f"{entry} was not built"
    page = _Page()
    page.feed(html_path.read_text())
    assert title_of(entry) in " ".join(" ".join(page.text).split())
    nb_path = (ROOT / entry).with_suffix(".ipynb")
    if nb_path.exists():
        figures = [src for src in page.images if src.startswith("../_images/")]
        assert len(figures) >= png_outputs(load(nb_path)) > 0
        for src in figures:
            assert (html_path.parent / src).resolve().is_file(), src
