"""An interactive figure shows the chapter's model, or a test fails.

A chapter that exports a widget (``helpers.widgets``) records ``Widget.summary`` in its
results file, under a key with ``.interactive_figure.`` in it: the SHA-256 of the model's
float32 Dense weights (``weights_sha256``, also the widget's ``data-weights-sha256``), of the
weights the page carries (``exported_sha256``, float16) and the weights-cache entry the model
came from (``cached_run``).

- Always (CI too): the widgets in the committed notebooks' outputs, and on the built pages when
  the site is built, carry exactly the weights their chapter recorded.
- Where this machine's weights cache holds the run a chapter exported (after a full-profile
  execution here): the chapter's own cells that make the model run again in a subprocess,
  with ``keras.Model.fit`` refused, so ``helpers.training.fit`` can only load cached weights (a
  recipe that no longer matches the cached run fails instead of training); the model's
  ``weights_digest`` must be the recorded one, and its float16 export the page's weights. The
  same check on a copy of the cache with one weight of every kernel changed must fail.
"""

import ast
import base64
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.test_book import SITE

NOTEBOOKS = ROOT / "notebooks"
# This machine's weights cache and data, read before conftest gives each test a private cache.
USER_CACHE = Path(os.environ.get("AEBOOK_CACHE") or Path.home() / ".cache" / "aebook")
USER_ENV = {k: os.environ[k] for k in ("AEBOOK_DATA", "AEBOOK_ALLOW_TEST_SPLIT_ONLY")
            if k in os.environ}
FIGURE_KEY = ".interactive_figure."
WIDGET = re.compile(r'<div class="aew" id="(aew-[0-9a-f]+)" data-weights-sha256="([0-9a-f]{64})"')
SCRIPT = re.compile(r'aewMain\(document\.getElementById\("(aew-[0-9a-f]+)"\),(\{.*?\})\);\}\)'
                    r"\(\);</script>", re.S)
DTYPES = {"float16": "<f2", "float32": "<f4"}
MARK = "REBUILT "  # the subprocess's last line: MARK + its findings as JSON


# ------------------------------------------------------------------------- reading exports

def exported(html: str) -> list[dict]:
    """The widgets in ``html`` (a page or a notebook output), in order: their ``id``, the
    ``digest`` of their data-weights-sha256 and their script's ``config``."""
    digests, configs = dict(WIDGET.findall(html)), dict(SCRIPT.findall(html))
    assert digests.keys() == configs.keys(), "a widget's markup and its script do not pair up"
    return [{"id": uid, "digest": digest, "config": json.loads(configs[uid])}
            for uid, digest in digests.items()]


def exported_weights(config) -> np.ndarray:
    """The flat weights a widget carries, in their exported dtype (a writable copy)."""
    return np.frombuffer(base64.urlsafe_b64decode(config["weights"]),
                         DTYPES[config["dtype"]]).copy()


def exported_stack(config) -> list:
    """The (kernel, bias, activation) layers a widget carries, as float64."""
    flat = exported_weights(config).astype(np.float64)
    stack, at = [], 0
    for n_in, n_out, activation in config["spec"]:
        kernel = flat[at:at + n_in * n_out].reshape(n_in, n_out)
        bias = flat[at + n_in * n_out:at + n_in * n_out + n_out]
        stack.append((kernel, bias, activation))
        at += n_in * n_out + n_out
    assert at == len(flat), "the exported weights do not match their layer sizes"
    return stack


def notebook(chapter):
    return json.loads((NOTEBOOKS / f"{chapter}.ipynb").read_text())


def html_outputs(cell) -> str:
    return "".join("".join(out.get("data", {}).get("text/html", ""))
                   for out in cell.get("outputs", ()))


def notebook_widgets(chapter) -> list[dict]:
    return [w for cell in notebook(chapter)["cells"] for w in exported(html_outputs(cell))]


def recorded(chapter) -> dict:
    """The chapter's recorded widget summaries, by key."""
    path = ROOT / "results" / f"{chapter}.json"
    results = json.loads(path.read_text())["results"] if path.is_file() else {}
    return {k: e["value"] for k, e in results.items() if FIGURE_KEY in k}


def fingerprints(found) -> list:
    """What a widget carries: its float32 digest, its exported digest and dtype."""
    from helpers.widgets import exported_digest

    return sorted((w["digest"], exported_digest(w["config"]), w["config"]["dtype"])
                  for w in found)


def recorded_fingerprints(figures) -> list:
    return sorted((v["weights_sha256"], v["exported_sha256"], v["dtype"])
                  for v in figures.values())


CHAPTERS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
WITH_WIDGETS = [c for c in CHAPTERS if notebook_widgets(c) or recorded(c)]


# ------------------------------------------------------------------------- always

def test_chapters_8_and_9_record_their_widgets():
    assert {"08_anomaly_detection", "09_variational_autoencoders"} <= set(WITH_WIDGETS)
    for chapter in ("08_anomaly_detection", "09_variational_autoencoders"):
        assert len(recorded(chapter)) == 1, f"{chapter}: record its widget's summary once"


@pytest.mark.parametrize("chapter", WITH_WIDGETS)
def test_a_chapters_widgets_carry_the_weights_it_recorded(chapter):
    found, figures = notebook_widgets(chapter), recorded(chapter)
    assert len(found) == len(figures), (
        f"{chapter}: {len(found)} widget(s) in the outputs, {len(figures)} recorded "
        f"({sorted(figures)}): record each widget's summary once")
    assert fingerprints(found) == recorded_fingerprints(figures), (
        f"{chapter}: the weights in the notebook's widgets are not the ones recorded in "
        "results/: re-execute the chapter, which exports and records them together")
    for value in figures.values():
        assert value.get("cached_run"), f"{chapter}: record the run with widget.summary(run)"


@pytest.mark.skipif(not SITE.is_dir(), reason="site not built: run `make book` first")
@pytest.mark.parametrize("chapter", WITH_WIDGETS)
def test_the_built_page_carries_the_recorded_weights(chapter):
    page = SITE / "notebooks" / f"{chapter}.html"
    assert page.is_file(), f"{page.name} is not in the built site"
    assert fingerprints(exported(page.read_text())) == recorded_fingerprints(recorded(chapter)), (
        f"{page.name}: the site shows other weights than the chapter records: `make book`")


# ------------------------------------------------------------------------- from the cache

@dataclass(frozen=True)
class Recipe:
    """The chapter's cells that make the widget's model: ``prelude`` runs whole (setup, data,
    definitions), then the first ``statements`` top-level statements of ``model`` (None:
    all of it); the model is the first argument of the widget call in ``widget``."""

    prelude: tuple[str, ...]
    model: str
    statements: int | None
    widget: str


RECIPES = {
    "08_anomaly_detection": Recipe(("f627fe6d", "a42d0bf9", "ec493db1", "a156a299"),
                                   "cee2c79b", None, "c5a8dbdc"),
    "09_variational_autoencoders": Recipe(("aa43a2f4", "f431ecb2", "f948534b"),
                                          "1e62268f", 2, "3fcdfd30"),
}


class Refused(RuntimeError):
    """helpers.training.fit was about to train: no cached run matches the recipe."""


def _python(source: str) -> str:
    """A cell's source as plain Python (IPython's magics become calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def widget_model(source: str) -> str:
    """The expression a widget call in ``source`` exports (its first argument)."""
    for node in ast.walk(ast.parse(_python(source))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("latent_explorer", "draw_and_reconstruct")):
            return ast.unparse(node.args[0])
    raise AssertionError("no widgets.latent_explorer/draw_and_reconstruct call in the cell")


def rebuild(chapter: str, caches: list[str]) -> dict:
    """(Run in a subprocess.) The chapter's model, made by its own cells once per weights cache
    in ``caches`` with training refused: its digests and the cached runs it loaded."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from helpers import training, widgets

    def refuse(self, *args, **kwargs):
        raise Refused(f"{self.name}: helpers.training.fit found no cached run and would train")

    keras.Model.fit = refuse
    recipe = RECIPES[chapter]
    cells = {c.get("id"): "".join(c["source"]) for c in notebook(chapter)["cells"]}
    missing = [i for i in (*recipe.prelude, recipe.model, recipe.widget) if i not in cells]
    if missing:
        raise AssertionError(f"cells {missing} are gone from {chapter}: update RECIPES")
    scope = {"__name__": "__main__"}
    for cell in recipe.prelude:
        exec(compile(_python(cells[cell]), f"{chapter}:{cell}", "exec"), scope)
    body = ast.parse(_python(cells[recipe.model])).body[:recipe.statements]
    make = compile(ast.Module(body, []), f"{chapter}:{recipe.model}", "exec")
    expression = widget_model(cells[recipe.widget])
    found = {"keras": keras.__version__, "backend": keras.backend.backend(),
             "expression": expression, "caches": []}
    for cache in caches:
        os.environ["AEBOOK_CACHE"] = cache
        start = len(training.SESSION)
        try:
            exec(make, scope)
        except Refused as refusal:
            found["caches"].append({"refused": str(refusal)})
            continue
        model = eval(expression, scope)
        stack = widgets.dense_stack(model)
        found["caches"].append({
            "runs": [re.split(r"[\\/]", r.weights)[-1].removesuffix(".weights.h5")
                     for r in training.SESSION[start:]],
            "weights_sha256": widgets.weights_digest(model),
            "exported_sha256": {d: widgets.exported_digest(widgets._network(stack, d))
                                for d in DTYPES}})
    return found


def setup_line(chapter) -> str:
    """The setup cell's first printed line: Keras version, backend, device."""
    for cell in notebook(chapter)["cells"]:
        for out in cell.get("outputs", ()):
            text = "".join(out.get("text", ""))
            if text.startswith("Keras "):
                return text.splitlines()[0]
    return ""


def linked_copy(cache: Path, folder: Path, leave_out=()) -> Path:
    """``folder``, a weights cache whose ``models`` links to every file of ``cache/models``
    but those named in ``leave_out``."""
    models = folder / "models"
    models.mkdir(parents=True)
    for f in (cache / "models").iterdir():
        if f.name not in leave_out:
            (models / f.name).symlink_to(f)
    return folder


def perturbed_copy(cache: Path, run: str, folder: Path) -> Path:
    """A linked copy of ``cache`` that holds ``run``'s weights with one entry of every
    kernel changed by 0.01."""
    import h5py

    linked_copy(cache, folder, leave_out={f"{run}.weights.h5"})
    copy = shutil.copy(cache / "models" / f"{run}.weights.h5", folder / "models")
    changed = []
    with h5py.File(copy, "r+") as h5:
        def change(name, item):
            if isinstance(item, h5py.Dataset) and item.ndim == 2 and "optimizer" not in name:
                item[0, 0] = item[0, 0] + 0.01
                changed.append(name)
        h5.visititems(change)
    assert changed, f"no kernel found in {copy}"
    return folder


@pytest.fixture(scope="module", params=sorted(RECIPES))
def rebuilt(request, tmp_path_factory):
    """(chapter, its recorded summary, the widget in its outputs, what ``rebuild`` found with
    this machine's cache, with a copy holding one changed weight per kernel and with a copy
    lacking the run)."""
    chapter = request.param
    figures = recorded(chapter)
    assert len(figures) == 1, f"{chapter}: one recorded widget summary expected"
    (figure,) = figures.values()
    run = figure.get("cached_run")
    assert run, f"{chapter}: its widget summary names no cached run"
    if not (USER_CACHE / "models" / f"{run}.weights.h5").is_file():
        pytest.skip(f"the weights cache {USER_CACHE} does not hold {run}, the run {chapter} "
                    "exported: execute the chapter here in the full profile to check it")
    perturbed = perturbed_copy(USER_CACHE, run, tmp_path_factory.mktemp("cache"))
    without = linked_copy(USER_CACHE, tmp_path_factory.mktemp("cache"),
                          leave_out={f"{run}.weights.h5", f"{run}.json"})
    env = {k: v for k, v in os.environ.items() if k not in (
        "AEBOOK_DATA", "AEBOOK_ALLOW_TEST_SPLIT_ONLY", "AEBOOK_RETRAIN")}
    env |= USER_ENV | {"AEBOOK_PROFILE": "full", "AEBOOK_OFFLINE": "1", "MPLBACKEND": "Agg",
                       "AEBOOK_CACHE": str(USER_CACHE)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_widget_weights", chapter,
         *map(str, (USER_CACHE, perturbed, without))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    assert proc.returncode == 0 and lines, (
        f"rebuilding {chapter}'s model failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    found = json.loads(lines[-1][len(MARK):])
    where = f"Keras {found['keras']} | backend: {found['backend']} |"
    if not setup_line(chapter).startswith(where):
        pytest.skip(f"{chapter} was executed with '{setup_line(chapter)}', this machine "
                    f"runs '{where}': its cached runs are keyed on another Keras")
    (widget,) = notebook_widgets(chapter)
    found["without"] = without
    return chapter, figure, widget, found


def check(chapter, figure, widget, found):
    """The model rebuilt from a weights cache is the one the widget and the results carry."""
    run = figure["cached_run"]
    assert "refused" not in found, (
        f"{chapter}: {found.get('refused')}. The chapter's recipe for the widget's model (its "
        "cells, the helpers' code or the data) changed since it exported "
        f"{run}: re-execute the chapter")
    assert run in found["runs"], (
        f"{chapter}: its cells now load {found['runs']}, not {run}, the run its widget "
        "exported: re-execute the chapter")
    assert found["weights_sha256"] == figure["weights_sha256"] == widget["digest"], (
        f"{chapter}: the model's weights differ from the ones its widget exported "
        f"({found['weights_sha256'][:12]} in the cache, {widget['digest'][:12]} in the "
        "page): re-execute the chapter")
    dtype = widget["config"]["dtype"]
    assert found["exported_sha256"][dtype] == figure["exported_sha256"], (
        f"{chapter}: the model's weights in {dtype} are not the ones in the page")


def test_the_cached_model_is_the_one_its_widget_carries(rebuilt):
    chapter, figure, widget, found = rebuilt
    check(chapter, figure, widget, found["caches"][0])


def test_a_changed_weight_in_the_cache_fails_that_check(rebuilt):
    chapter, figure, widget, found = rebuilt
    perturbed = found["caches"][1]
    assert figure["cached_run"] in perturbed.get("runs", ()), perturbed
    with pytest.raises(AssertionError, match="weights differ"):
        check(chapter, figure, widget, perturbed)


def test_a_recipe_with_no_cached_run_fails_instead_of_training(rebuilt):
    chapter, figure, widget, found = rebuilt
    links = sorted(p.name for p in (found["without"] / "models").iterdir())
    assert "would train" in found["caches"][2].get("refused", ""), found["caches"][2]
    with pytest.raises(AssertionError, match="re-execute the chapter"):
        check(chapter, figure, widget, found["caches"][2])
    assert f"{figure['cached_run']}.json" not in links  # nothing was trained or saved


if __name__ == "__main__":  # python -m tests.test_widget_weights CHAPTER CACHE...
    findings = rebuild(sys.argv[1], sys.argv[2:])
    print(MARK + json.dumps(findings), flush=True)
