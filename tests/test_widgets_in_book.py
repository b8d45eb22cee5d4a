"""The interactive figures as the published site shows them: every widget in the built chapter
pages, opened from file:// with the network cut off, computes what its own exported weights
compute in NumPy (``helpers.widgets.forward``), and carries no external address."""

import re

import numpy as np
import pytest

from helpers import widgets

from .test_book import SITE
from .test_browser import CHROMIUM, CHROMIUM_ARGS
from .test_widget_weights import exported, exported_stack
from .test_widgets import drag, read

playwright = pytest.importorskip("playwright.sync_api")
PAGES = sorted(SITE.glob("notebooks/*.html")) if SITE.is_dir() else []
WIDGET_PAGES = [p for p in PAGES if "aewMain(" in p.read_text()]
pytestmark = [
    pytest.mark.skipif(not SITE.is_dir(), reason="site not built: run `make book` first"),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (make test installs it)"),
]


def widgets_on(page_path) -> dict:
    return {w["id"]: w["config"] for w in exported(page_path.read_text())}


def test_the_latent_explorer_is_in_chapter_9_and_the_drawing_pad_in_chapter_8():
    kinds = {p.stem: {"codes" in cfg for cfg in widgets_on(p).values()} for p in WIDGET_PAGES}
    assert True in kinds.get("09_variational_autoencoders", set())
    assert False in kinds.get("08_anomaly_detection", set())


@pytest.mark.parametrize("page_path", WIDGET_PAGES, ids=lambda p: p.stem)
def test_published_widgets_compute_what_their_weights_compute(page_path):
    found = widgets_on(page_path)
    assert found, "a widget's script is on the page but could not be parsed"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        refused = []
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            "file:") else (refused.append(route.request.url), route.abort()))
        page.goto(page_path.as_uri())
        for uid, cfg in found.items():
            html = page.evaluate("id => document.getElementById(id).outerHTML", uid)
            assert not re.search(r"https?:|//[a-z]", html), f"{uid}: an external address"
            stack = exported_stack(cfg)
            if "codes" in cfg:  # a latent explorer: set codes, read the decoded pixels
                x0, x1, y0, y1 = cfg["box"]
                for z in [(0.0, 0.0), (x0 / 2, y1 / 2), (x1 / 2, y0 / 2)]:
                    image = page.evaluate(
                        "([id, z]) => { const w = document.getElementById(id).aeWidget;"
                        " w.setCode(z[0], z[1]); return Array.from(w.image); }",
                        [uid, list(z)])
                    want = widgets.forward(stack, np.array([z]), logits=cfg["logits"])[0]
                    assert np.abs(np.array(image) - want).max() <= 1e-3, (uid, z)
            else:  # a drawing pad: draw a stroke, read the reconstruction and the verdict
                drag(page, f"#{uid} [data-part=pad]", (100, 60), (150, 220), steps=8)
                x, image, error = read(page, uid, "input", "image", "error")
                want = widgets.forward(stack, np.array([x]))[0]
                assert np.abs(np.array(image) - want).max() <= 1e-3, uid
                assert abs(error - np.mean((np.array(x) - want) ** 2)) <= 1e-4, uid
                verdict = page.inner_text(f"#{uid} [data-part=verdict]")
                expected = "normal" if error <= cfg["threshold"] else cfg["unusual"]
                assert verdict == f"Verdict: {expected}", (uid, verdict)
        browser.close()
    assert not [u for u in refused if not u.startswith("data:")], refused
