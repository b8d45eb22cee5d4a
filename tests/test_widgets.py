"""The interactive figures of helpers/widgets.py: their HTML, and what they compute in Chromium.

The browser tests embed the widgets the way MyST-NB does (a docutils ``raw`` html node per
output, several on one page), write the page to disk and open it from file:// with every other
request refused, then check the numbers the page's JavaScript computed against Keras.
"""

import re
import shutil

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from helpers import widgets  # noqa: E402
from helpers.anomaly import reconstruction_error  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
FPR_TEXT = "unusual (error above the threshold that flags 5% of normal validation images)"
API = "id => document.getElementById(id).aeWidget"


# ------------------------------------------------------------------------- tiny models

@pytest.fixture(scope="module")
def decoder():
    """2 -> 16 -> 784 logits, random weights."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((2,)), layers.Dense(16, activation="relu"),
                             layers.Dense(784)], name="tiny_decoder")


@pytest.fixture(scope="module")
def autoencoder():
    """(28, 28, 1) -> 32 -> 8 -> 32 -> 784 -> (28, 28, 1), as nested functional models."""
    keras.utils.set_random_seed(1)
    x = keras.Input((28, 28, 1))
    h = layers.Dense(32, activation="relu")(layers.Flatten()(x))
    encoder = keras.Model(x, layers.Dense(8, activation="tanh")(h))
    z = keras.Input((8,))
    h = layers.Dense(784, activation="sigmoid")(layers.Dense(32, activation="relu")(z))
    decoder = keras.Model(z, layers.Reshape((28, 28, 1))(h))
    image = keras.Input((28, 28, 1))
    return keras.Model(image, decoder(encoder(image)), name="tiny_autoencoder")


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(0)
    return rng.standard_normal((300, 2)), rng.integers(0, 10, 300)


def decode(decoder, z):
    """The decoder's images for codes ``z``, through a sigmoid (it outputs logits)."""
    logits = keras.ops.convert_to_numpy(decoder(np.asarray(z, np.float32).reshape(-1, 2)))
    return 1 / (1 + np.exp(-logits.astype(np.float64)))


def root_id(widget):
    return re.search(r'id="(aew-[0-9a-f]+)"', widget.html).group(1)


# ------------------------------------------------------------------------- the HTML

def test_widget_html_has_no_url_and_reports_its_size(decoder, autoencoder, codes):
    for widget in (widgets.latent_explorer(decoder, *codes, logits=True),
                   widgets.draw_and_reconstruct(autoencoder, 0.02, 0.05)):
        assert not re.search(r"https?:|//", widget.html)
        script = widget.html.split("<script>", 1)[1]
        assert script.count("</") == 1 and "<!--" not in script  # only its own </script>
        assert widget.payload_bytes == len(widget.html.encode())
        assert f"{widget.payload_bytes / 1000:.1f} kB in the page" in repr(widget)
        assert 'role="img"' in widget.html and "aria-label" in widget.html
    small = widgets.draw_and_reconstruct(autoencoder, 0.02, 0.05, dtype="float16")
    large = widgets.draw_and_reconstruct(autoencoder, 0.02, 0.05, dtype="float32")
    assert small.payload_bytes < large.payload_bytes


def test_digest_names_the_exported_weights(decoder, codes):
    widget = widgets.latent_explorer(decoder, *codes, logits=True)
    digest = re.search(r'data-weights-sha256="([0-9a-f]{64})"', widget.html).group(1)
    assert digest == widgets.weights_digest(decoder) == widget.digest
    clone = keras.models.clone_model(decoder)
    clone.set_weights(decoder.get_weights())
    assert widgets.weights_digest(clone) == digest
    kernel = clone.layers[-1].kernel
    kernel.assign(keras.ops.convert_to_numpy(kernel) + np.eye(16, 784, dtype=np.float32) * 1e-3)
    assert widgets.weights_digest(clone) != digest


def test_exported_digest_reads_the_weights_in_the_page(decoder, codes):
    from tests.test_widget_weights import exported, exported_weights

    widget = widgets.latent_explorer(decoder, *codes, logits=True)
    (found,) = exported(widget.html)
    assert found["digest"] == widget.digest
    assert widgets.exported_digest(found["config"]) == widget.exported
    in_float32 = widgets.latent_explorer(decoder, *codes, logits=True, dtype="float32")
    assert in_float32.digest == widget.digest and in_float32.exported != widget.exported
    flat = exported_weights(found["config"])
    flat[5] += np.float16(1e-2)
    found["config"]["weights"] = widgets._b64(flat, "<f2")
    assert widgets.exported_digest(found["config"]) != widget.exported


def test_summary_is_what_a_chapter_records(decoder, codes):
    from helpers.training import TrainResult

    widget = widgets.latent_explorer(decoder, *codes, logits=True)
    run = TrainResult({}, 1, 1.0, 1.0, weights="/cache/models/mnist_vae2-0123abcd.weights.h5")
    assert widget.summary(run) == {
        "kind": "latent explorer", "weights_sha256": widget.digest,
        "exported_sha256": widget.exported, "dtype": "float16",
        "payload_kb": round(widget.payload_bytes / 1000, 1), "cached_run": "mnist_vae2-0123abcd"}
    assert "cached_run" not in widget.summary()


def test_dense_stack_runs_nested_functional_models(autoencoder):
    stack = widgets.dense_stack(autoencoder)
    assert [(k.shape, act) for k, _, act in stack] == [
        ((784, 32), "relu"), ((32, 8), "tanh"), ((8, 32), "relu"), ((32, 784), "sigmoid")]
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(autoencoder(x)).reshape(4, -1)
    np.testing.assert_allclose(widgets.forward(stack, x), expected, atol=1e-5)


def unsupported_models():
    x = keras.Input((4,))
    shared = layers.Dense(4)
    return [
        (keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(2, 3, name="conv"),
                           layers.Flatten(), layers.Dense(784)]), "'conv' (Conv2D)"),
        (keras.Sequential([keras.Input((2,)), layers.Dense(8), layers.Dropout(0.5, name="drop"),
                           layers.Dense(784)]), "'drop' (Dropout)"),
        (keras.Sequential([keras.Input((2,)), layers.Dense(784, activation="softmax",
                                                           name="soft")]), "'soft' (Dense)"),
        (keras.Model(x, layers.Add(name="add")([layers.Dense(4)(x), layers.Dense(4)(x)])),
         "'add' (Add)"),
        (keras.Model(x, shared(shared(layers.Dense(4)(x)))), "do not reproduce"),
    ]


def test_unsupported_models_raise_a_clear_error(codes):
    for model, message in unsupported_models():
        with pytest.raises(ValueError, match=re.escape(message)):
            widgets.weights_digest(model)
    wrong_size = keras.Sequential([keras.Input((3,)), layers.Dense(784)])
    with pytest.raises(ValueError, match="needs 2 -> 784"):
        widgets.latent_explorer(wrong_size, *codes)


# ------------------------------------------------------------------------- in the browser

def myst_nb_page(*outputs):
    """A page holding each widget as MyST-NB renders a text/html output: a docutils raw node
    (format html, classes output text_html) written by the HTML writer."""
    from docutils import frontend, nodes, utils
    from docutils.core import publish_from_doctree
    from docutils.parsers.rst import Parser

    document = utils.new_document("widgets", frontend.get_default_settings(Parser))
    for widget in outputs:
        document += nodes.raw(text=widget.html, format="html", classes=["output", "text_html"])
    return publish_from_doctree(document, writer_name="html5",
                                settings_overrides={"embed_stylesheet": False,
                                                    "stylesheet_path": ""}).decode()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def book_page(browser, tmp_path_factory, decoder, autoencoder, codes):
    """Five widgets on one page, opened from disk with every other request refused."""
    shown = {"f32": widgets.latent_explorer(decoder, *codes, logits=True, between=(3, 7),
                                            dtype="float32"),
             "f16": widgets.latent_explorer(decoder, *codes, logits=True),
             "again": widgets.latent_explorer(decoder, *codes, logits=True),
             "unusual": widgets.draw_and_reconstruct(autoencoder, 0.0, 0.05, dtype="float32"),
             "normal": widgets.draw_and_reconstruct(autoencoder, 1.0, 0.05)}
    path = tmp_path_factory.mktemp("widgets") / "page.html"
    path.write_text(myst_nb_page(*shown.values()))
    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    refused, errors = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (refused.append(route.request.url), route.abort()))
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(path.as_uri(), wait_until="load")
    yield page, {name: root_id(w) for name, w in shown.items()}
    assert not refused and not errors, (refused, errors)
    context.close()


def read(page, uid, *names):
    """The widget's computed values (typed arrays as lists)."""
    return page.evaluate(f"""([id, names]) => names.map(n => {{
        const v = ({API})(id)[n];
        return ArrayBuffer.isView(v) ? Array.from(v) : v;
    }})""", [uid, list(names)])


def on_screen(page, selector):
    """The element's box in the window, scrolled into view first (for mouse events)."""
    page.locator(selector).scroll_into_view_if_needed()
    return page.locator(selector).bounding_box()


def drag(page, selector, start, end, steps):
    """Press the mouse at ``start`` inside the element, move to ``end`` in ``steps``, release
    (offsets in pixels from the element's top left)."""
    box = on_screen(page, selector)
    page.mouse.move(box["x"] + start[0], box["y"] + start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0], box["y"] + end[1], steps=steps)
    page.mouse.up()


def canvas_pixels(page, uid, part):
    return np.array(page.evaluate("""([id, part]) => {
        const c = document.querySelector("#" + id + " [data-part=" + part + "]");
        return Array.from(c.getContext("2d").getImageData(0, 0, 28, 28).data)
          .filter((v, i) => i % 4 === 0);
    }""", [uid, part]))


def test_every_widget_starts_once_and_offline(book_page):
    page, ids = book_page
    assert page.locator(".aew").count() == 5
    assert len(set(page.eval_on_selector_all(".aew", "rs => rs.map(r => r.id)"))) == 5
    assert page.locator(".aew-nojs").count() == 0  # every script ran
    assert all(page.evaluate(f"id => ({API})(id) !== undefined", uid) for uid in ids.values())


def test_latent_explorer_decodes_like_keras(book_page, decoder, codes):
    page, ids = book_page
    uid = ids["f32"]
    for z in [(0.0, 0.0), (1.5, -0.5), (-2.0, 2.0)]:
        page.evaluate(f"([id, z]) => ({API})(id).setCode(z[0], z[1])", [uid, z])
        code, image = read(page, uid, "code", "image")
        assert code == list(z)
        assert np.abs(np.array(image) - decode(decoder, z)[0]).max() <= 1e-3
        assert np.abs(canvas_pixels(page, uid, "image") - np.array(image) * 255).max() <= 1
        assert page.inner_text(f"#{uid} [data-part=z]") == f"z = ({z[0]:.2f}, {z[1]:.2f})"

    page.focus(f"#{uid} [data-part=map]")
    for key in ["ArrowRight", "ArrowRight", "ArrowUp", "Shift+ArrowDown"]:
        page.keyboard.press(key)
    code, image = read(page, uid, "code", "image")
    x0, x1, y0, y1 = widgets._box(codes[0])  # a step is 1/50 of the view, 1/10 with Shift
    np.testing.assert_allclose(code, [-2 + (x1 - x0) / 25, 2 + (y1 - y0) * (1 / 50 - 1 / 10)])
    assert np.abs(np.array(image) - decode(decoder, code)[0]).max() <= 1e-3

    drag(page, f"#{uid} [data-part=map]", (100, 100), (250, 80), steps=5)
    moved, image = read(page, uid, "code", "image")
    assert moved != code and np.abs(np.array(image) - decode(decoder, moved)[0]).max() <= 1e-3

    legend = page.locator(f"#{uid} [data-label]")
    assert legend.count() == 10
    legend.nth(3).click()
    assert legend.nth(3).get_attribute("aria-pressed") == "true"
    assert read(page, uid, "highlight") == [3]


def test_interpolation_slider_decodes_like_keras(book_page, decoder, codes):
    page, ids = book_page
    uid, (z, _) = ids["f32"], codes
    slider = f"#{uid} [data-part=t]"
    page.focus(slider)
    for key, t in [("Home", 0.0), ("End", 1.0), (None, 0.5)]:
        if key:
            page.keyboard.press(key)
        else:
            page.eval_on_selector(slider, "s => { s.value = '0.5'; s.dispatchEvent("
                                          "new Event('input')); }")
        got_t, image = read(page, uid, "t", "betweenImage")
        assert got_t == t
        expected = decode(decoder, (1 - t) * z[3] + t * z[7])[0]
        assert np.abs(np.array(image) - expected).max() <= 1e-3


def test_float16_weights_stay_close(book_page, decoder):
    """Float16 halves the payload; the page then decodes within 1e-3 of the rounded weights."""
    page, ids = book_page
    page.evaluate(f"id => ({API})(id).setCode(0.7, -1.2)", ids["f16"])
    (image,) = read(page, ids["f16"], "image")
    rounded = [(k.astype(np.float16), b.astype(np.float16), a)
               for k, b, a in widgets.dense_stack(decoder)]
    expected = widgets.forward(rounded, [[0.7, -1.2]], logits=True)[0]
    assert np.abs(np.array(image) - expected).max() <= 1e-3
    assert np.abs(np.array(image) - decode(decoder, (0.7, -1.2))[0]).max() <= 1e-2


def test_drawing_is_reconstructed_and_judged(book_page, autoencoder):
    page, ids = book_page
    uid = ids["unusual"]
    drag(page, f"#{uid} [data-part=pad]", (80, 50), (120, 170), steps=8)
    x, image, error = read(page, uid, "input", "image", "error")
    x = np.array(x)
    assert 0 <= x.min() and x.max() <= 1 and (x == 1).any() and ((0 < x) & (x < 1)).any()
    recon = keras.ops.convert_to_numpy(autoencoder(x.reshape(1, 28, 28, 1).astype(np.float32)))
    assert np.abs(np.array(image) - recon.ravel()).max() <= 1e-3
    assert abs(error - reconstruction_error(x[None], recon.reshape(1, -1))[0]) <= 1e-4
    assert np.abs(canvas_pixels(page, uid, "recon") - np.array(image) * 255).max() <= 1
    assert f"{error:.3g}" in page.inner_text(f"#{uid} [data-part=error]")
    assert page.inner_text(f"#{uid} [data-part=verdict]") == f"Verdict: {FPR_TEXT}"

    page.click(f"#{uid} [data-part=clear]")
    assert read(page, uid, "input", "error") == [None, None]
    assert page.inner_text(f"#{uid} [data-part=verdict]") == ""


def test_drawing_with_the_keyboard(book_page):
    page, ids = book_page
    uid = ids["normal"]
    page.focus(f"#{uid} [data-part=pad]")
    for key in ["Space", "ArrowDown", "ArrowDown", "Shift+ArrowDown", "Space", "ArrowRight"]:
        page.keyboard.press(key)
    (x,) = read(page, uid, "input")
    assert np.array(x).reshape(28, 28)[14:20, 13:15].min() > 0.5
    assert page.inner_text(f"#{uid} [data-part=verdict]") == "Verdict: normal"
