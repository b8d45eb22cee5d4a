"""Interactive figures that run in the reader's browser, with no server, kernel or network.

Each widget is one block of HTML with an inline ``<script>``: the model's Dense layers travel
in it as base64 (float16 or float32) and a few lines of plain JavaScript run the forward pass.
So the figure works wherever a notebook's HTML output is shown: the published book (served
or opened from disk, offline), JupyterLab (trusted notebooks) and Colab.

- :func:`latent_explorer`: drag a point over a 2-d code space and watch the decoder's image.
- :func:`draw_and_reconstruct`: draw a digit; the autoencoder rebuilds it and judges its error.

Only chains of Dense layers are supported (Flatten, Reshape and InputLayer pass flat vectors
through unchanged); anything else raises a ValueError that names the layer. Each widget
carries :func:`weights_digest` of its model in ``data-weights-sha256``; a chapter records
:meth:`Widget.summary` in its results, so that a test can tell when the page no longer shows
the chapter's model.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import uuid
from pathlib import Path

import numpy as np

__all__ = ["Widget", "dense_stack", "forward", "weights_digest", "exported_digest",
           "latent_explorer", "draw_and_reconstruct"]

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
DTYPES = {"float16": "<f2", "float32": "<f4"}
PIXELS = 28 * 28
# Okabe & Ito's colour-blind-safe palette, then two of Paul Tol's for labels 9 and 10.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
           "#CC79A7", "#000000", "#882255", "#999999")


class Widget:
    """An interactive figure: HTML in a notebook and on the book's pages.

    ``payload_bytes`` is what it adds to the page (and to the notebook); ``digest`` is
    :func:`weights_digest` of the model, ``exported`` :func:`exported_digest` of the weights
    the page carries."""

    def __init__(self, kind: str, html_text: str, digest: str, dtype: str, exported: str):
        self.kind, self.html = kind, html_text
        self.digest, self.dtype, self.exported = digest, dtype, exported

    @property
    def payload_bytes(self) -> int:
        return len(self.html.encode())

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return (f"<{self.kind}: {self.payload_bytes / 1000:.1f} kB in the "
                f"page, weights in {self.dtype}, sha256 {self.digest[:12]}>")

    def summary(self, run=None) -> dict:
        """What a chapter records about the widget (strings are hex digests and names):
        ``weights_sha256`` (:func:`weights_digest` of the model, float32),
        ``exported_sha256`` (:func:`exported_digest` of the weights in the page), ``dtype``,
        ``kind``, ``payload_kb`` and, given the :class:`helpers.training.TrainResult`
        ``run`` the model came from, ``cached_run``: its entry in the weights cache
        (``<name>-<key>``, no folder)."""
        facts = {"kind": self.kind, "weights_sha256": self.digest,
                 "exported_sha256": self.exported, "dtype": self.dtype,
                 "payload_kb": round(self.payload_bytes / 1000, 1)}
        if run is not None:
            facts["cached_run"] = Path(run.weights).name.removesuffix(".weights.h5")
        return facts


# ------------------------------------------------------------------------- the model

def dense_stack(model) -> list:
    """The model's Dense layers in order, as ``(kernel, bias, activation)``
    (float32 arrays, the activation's name). Raises ValueError for a layer
    that is not Dense, Flatten, Reshape or InputLayer, for an activation the
    page cannot run, and for layers that do not form one chain."""
    stack = list(_walk(model))
    if not stack:
        raise ValueError(f"model {model.name!r} has no Dense layer")
    _check_chain(model, stack)
    return stack


def _walk(model):
    import keras

    passive = (keras.layers.InputLayer, keras.layers.Flatten, keras.layers.Reshape)
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
        elif isinstance(layer, keras.layers.Dense):
            yield _dense(layer)
        elif not isinstance(layer, passive):
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) is not supported: "
                             "widgets run Dense layers only (and Flatten, Reshape, InputLayer)")


def _dense(layer):
    from keras import ops

    name = getattr(layer.activation, "__name__", repr(layer.activation))
    if name not in ACTIVATIONS:
        raise ValueError(f"layer {layer.name!r} (Dense) has activation {name!r}: "
                         f"widgets support {', '.join(ACTIVATIONS)}")
    kernel = np.asarray(ops.convert_to_numpy(layer.kernel), np.float32)
    bias = (np.zeros(kernel.shape[1], np.float32) if layer.bias is None
            else np.asarray(ops.convert_to_numpy(layer.bias), np.float32))
    return kernel, bias, name


def forward(stack, x, logits: bool = False) -> np.ndarray:
    """The page's forward pass in NumPy (float64): rows of ``x`` through
    ``stack`` (from :func:`dense_stack`), then a sigmoid if ``logits``."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    for kernel, bias, activation in stack:
        x = _activate(activation, x @ kernel.astype(np.float64) + bias)
    return _activate("sigmoid", x) if logits else x


def _activate(name, x):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    return np.tanh(x) if name == "tanh" else x


def _check_chain(model, stack):
    """The stack must reproduce the model: a branch or a reused layer would not."""
    from keras import ops

    x = np.random.default_rng(0).standard_normal((3, stack[0][0].shape[0]))
    inputs = getattr(model, "inputs", None) or [None]
    shape = tuple(inputs[0].shape[1:]) if inputs[0] is not None else (-1,)
    try:
        expected = ops.convert_to_numpy(model(x.reshape((3,) + shape).astype(np.float32)))
        got = forward(stack, x)
        same = expected.size == got.size and np.allclose(
            expected.reshape(got.shape), got, rtol=1e-3, atol=1e-3)
    except (ValueError, TypeError) as err:
        raise ValueError(f"model {model.name!r}: its Dense layers do not form one chain "
                         f"({err})") from err
    if not same:
        raise ValueError(f"model {model.name!r}: its Dense layers, applied in order, do not "
                         "reproduce its output (branches or shared layers are not supported)")


def weights_digest(model) -> str:
    """SHA-256 of the model's Dense weights (float32) and activations, as a
    widget exports them: compare with a widget's data-weights-sha256 to see
    whether the page still shows the current model."""
    return _digest(dense_stack(model))


def _digest(stack) -> str:
    sha = hashlib.sha256()
    for kernel, bias, activation in stack:
        sha.update(f"{kernel.shape}{activation}".encode())
        sha.update(kernel.astype("<f4").tobytes() + bias.astype("<f4").tobytes())
    return sha.hexdigest()


def exported_digest(network: dict) -> str:
    """SHA-256 of the weights a widget carries (``spec``, ``dtype`` and the base64
    ``weights`` of its page's configuration), as the page decodes them."""
    sha = hashlib.sha256(_json([network["spec"], network["dtype"]]).encode())
    sha.update(base64.urlsafe_b64decode(network["weights"]))
    return sha.hexdigest()


def _b64(array, dtype) -> str:
    """URL-safe base64 (no '/' in the page) of ``array`` as little-endian ``dtype``."""
    return base64.urlsafe_b64encode(np.asarray(array).astype(dtype).tobytes()).decode()


def _check_dtype(dtype):
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")


def _network(stack, dtype) -> dict:
    _check_dtype(dtype)
    flat = np.concatenate([a.ravel() for k, b, _ in stack for a in (k, b)])
    return {"spec": [[*kernel.shape, act] for kernel, _, act in stack],
            "weights": _b64(flat, DTYPES[dtype]), "dtype": dtype}


def _check_sizes(stack, n_in, n_out, what):
    sizes = (stack[0][0].shape[0], stack[-1][0].shape[1])
    if sizes != (n_in, n_out):
        raise ValueError(f"the {what} maps {sizes[0]} to {sizes[1]} numbers; "
                         f"this widget needs {n_in} -> {n_out}")


# ------------------------------------------------------------------------- the page

def _json(obj) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(obj, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(kind, stack, dtype, markup, js, cfg) -> Widget:
    """The widget's HTML: style, markup in a root with a fresh id, then its script
    (``js`` defines the function ``aewMain(root, cfg)``)."""
    uid = f"aew-{uuid.uuid4().hex[:12]}"
    digest, network = _digest(stack), _network(stack, dtype)
    script = (f"(function(){{{RUNTIME}{js}aewMain(document.getElementById({_json(uid)}),"
              f"{_json(cfg | network)});}})();")
    text = (f"<style>{CSS}</style><div class=\"aew\" id=\"{uid}\" "
            f"data-weights-sha256=\"{digest}\">{markup}"
            "<p class=\"aew-nojs\">This interactive figure needs JavaScript (in Jupyter: "
            f"trust the notebook).</p></div><script>{script}</script>")
    return Widget(kind, text, digest, dtype, exported_digest(network))


def _canvas(part, label) -> str:
    """A 28x28 image canvas, shown scaled up."""
    return (f"<canvas data-part=\"{part}\" class=\"aew-img\" width=\"28\" height=\"28\" "
            f"role=\"img\" aria-label=\"{html.escape(label)}\"></canvas>")


# ------------------------------------------------------------------------- latent explorer

def latent_explorer(decoder, codes, labels, *, logits=False, between=None,
                    class_names=None, max_points=2000, dtype="float16"):
    """A map of a 2-d code space the reader can explore: the test ``codes``
    coloured by ``labels`` and a point to drag (or move with the arrow keys)
    whose decoded image is drawn live; below, a slider walks the straight
    line between the codes of two test images (``between``: their indices;
    default the first two with different labels). ``logits=True`` applies a
    sigmoid to the decoder's outputs. At most ``max_points`` codes are drawn.
    """
    stack = dense_stack(decoder)
    _check_sizes(stack, 2, PIXELS, "decoder")
    codes, labels = np.asarray(codes, np.float64), np.ravel(labels)
    if codes.ndim != 2 or codes.shape[1] != 2 or len(labels) != len(codes):
        raise ValueError(f"need codes of shape (n, 2) and n labels, "
                         f"got {codes.shape} and {labels.shape}")
    values, index = np.unique(labels, return_inverse=True)
    if len(values) > len(PALETTE):
        raise ValueError(f"{len(values)} labels: at most {len(PALETTE)}")
    a, b = _pair(index) if between is None else between
    names = [str(v if class_names is None else class_names[v])
             for v in values]
    shown = np.sort(np.random.default_rng(0).permutation(len(codes))
                    [:max_points])
    cfg = _map_config(codes, index, shown, (a, b), dtype)
    cfg["logits"] = bool(logits)
    ends = (a, names[index[a]]), (b, names[index[b]])
    markup = _latent_markup(names, len(shown), ends)
    return _page("latent explorer", stack, dtype, markup, LATENT_JS, cfg)


def _map_config(codes, index, shown, ends, dtype) -> dict:
    """What the map draws: the shown codes and labels, the view, the ends."""
    _check_dtype(dtype)
    return {"codes": _b64(codes[shown], DTYPES[dtype]), "labels": _b64(index[shown], "u1"),
            "box": _box(codes), "start": np.median(codes, axis=0).tolist(),
            "ends": [codes[i].tolist() for i in ends],
            "colours": PALETTE[:index.max() + 1]}


def _pair(index):
    """The first code and the first one after it with another label."""
    other = np.flatnonzero(index != index[0])
    return 0, int(other[0]) if len(other) else min(1, len(index) - 1)


def _box(codes):
    """The map's view, the codes' range plus 4% each side: [x0, x1, y0, y1]."""
    lo, hi = codes.min(axis=0), codes.max(axis=0)
    margin = np.maximum(hi - lo, 1e-6) * 0.04
    return [lo[0] - margin[0], hi[0] + margin[0], lo[1] - margin[1], hi[1] + margin[1]]


def _latent_markup(names, n_points, ends) -> str:
    legend = "".join(
        f"<button type=\"button\" data-label=\"{i}\" aria-pressed=\"false\" "
        f"aria-label=\"Highlight label {html.escape(name)}\"><span class=\"aew-sw\" "
        f"style=\"background:{PALETTE[i]}\"></span>{html.escape(name)}</button>"
        for i, name in enumerate(names))
    (a, la), (b, lb) = ends
    scatter = (f"Scatter plot of {n_points} test images' 2-d codes, z1 across and z2 up, "
               "coloured by label; a ring marks the code being decoded. Drag it, or focus "
               "here and move it with the arrow keys (Shift for larger steps).")
    return (
        "<div><div class=\"aew-cap\">Code space (drag the ring)</div>"
        f"<canvas data-part=\"map\" tabindex=\"0\" role=\"img\" "
        f"aria-label=\"{html.escape(scatter)}\"></canvas>"
        "<div class=\"aew-legend\" role=\"group\" aria-label=\"Labels (press one to highlight "
        f"it)\">{legend}</div></div>"
        "<div><div class=\"aew-cap\">Decoded image</div>"
        + _canvas("image", "The decoder's 28 by 28 image for the code at the ring")
        + "<output data-part=\"z\" aria-live=\"polite\"></output>"
        f"<div class=\"aew-cap\">From test image {a} (label {html.escape(la)}) to "
        f"test image {b} (label {html.escape(lb)})</div>"
        + _canvas("between", "The decoder's image for the code at t along the line "
                  "between the two test images' codes (the diamond on the map)")
        + "<label class=\"aew-row\">t <input type=\"range\" data-part=\"t\" min=\"0\" "
        "max=\"1\" step=\"0.01\" value=\"0.5\" aria-label=\"t: 0 at the first test image's "
        "code, 1 at the second's\"></label><output data-part=\"tz\" aria-live=\"polite\">"
        "</output></div>")


# ------------------------------------------------------------------------- draw

def draw_and_reconstruct(autoencoder, threshold, fpr, *, dtype="float16"):
    """A 28x28 pad to draw on; the ``autoencoder`` (784 -> 784) rebuilds the
    drawing live and its reconstruction error (mean squared error per pixel,
    as :func:`helpers.anomaly.reconstruction_error`) is judged against
    ``threshold``, which flags a fraction ``fpr`` of normal images."""
    stack = dense_stack(autoencoder)
    _check_sizes(stack, PIXELS, PIXELS, "autoencoder")
    if not (np.isfinite(threshold) and 0 < fpr < 1):
        raise ValueError(f"need a finite threshold and fpr in (0, 1), got "
                         f"{threshold} and {fpr}")
    unusual = ("unusual (error above the threshold that flags "
               f"{fpr * 100:g}% of normal validation images)")
    cfg = {"threshold": float(threshold), "unusual": unusual}
    return _page("draw and reconstruct", stack, dtype, DRAW_MARKUP,
                 DRAW_JS, cfg)


DRAW_MARKUP = (
    "<div><div class=\"aew-cap\">Draw a digit inside the dashed box</div>"
    "<div class=\"aew-padwrap\"><canvas data-part=\"pad\" class=\"aew-pad\" width=\"280\" "
    "height=\"280\" tabindex=\"0\" role=\"img\" aria-label=\"Drawing pad, 28 by 28 pixels: "
    "draw with the mouse, a finger or a pen; with the keyboard, the arrow keys move the pen, "
    "Space lowers or lifts it, Escape clears.\"></canvas><div class=\"aew-pen\"></div>"
    "<div class=\"aew-guide\"></div></div>"
    "<button type=\"button\" data-part=\"clear\" aria-label=\"Clear the drawing\">Clear"
    "</button></div>"
    "<div><div class=\"aew-cap\">Reconstruction</div>"
    + _canvas("recon", "The autoencoder's reconstruction of the drawing")
    + "<p data-part=\"error\" aria-live=\"polite\">Draw to see the reconstruction error.</p>"
    "<p data-part=\"verdict\" class=\"aew-verdict\" aria-live=\"polite\"></p></div>")

CSS = (
    ".aew{font:14px/1.4 system-ui,sans-serif;color:#222;background:#fff;display:flex;"
    "flex-wrap:wrap;gap:18px;align-items:flex-start;padding:10px;border:1px solid #ccc;"
    "border-radius:6px;margin:8px 0}"
    ".aew canvas{display:block;touch-action:none;user-select:none}"
    ".aew canvas:focus-visible,.aew button:focus-visible,.aew input:focus-visible"
    "{outline:3px solid #0072B2;outline-offset:2px}"
    ".aew .aew-img{width:168px;height:168px;image-rendering:pixelated;background:#000}"
    ".aew-cap{font-weight:600;margin:4px 0;max-width:320px}"
    ".aew output,.aew p{display:block;margin:4px 0;max-width:320px;"
    "font-variant-numeric:tabular-nums}"
    ".aew button{font:inherit;margin:4px 4px 0 0;padding:2px 8px;border:1px solid #888;"
    "border-radius:4px;background:#f4f4f4;color:#222;cursor:pointer}"
    ".aew button[aria-pressed=true]{background:#222;color:#fff}"
    ".aew-legend{display:flex;flex-wrap:wrap;max-width:320px}"
    ".aew-sw{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px}"
    ".aew-row{display:flex;gap:8px;align-items:center;margin-top:6px}"
    ".aew-padwrap{position:relative;width:224px;height:224px}"
    ".aew-pad{width:224px;height:224px;background:#000;cursor:crosshair}"
    ".aew-guide{position:absolute;inset:14.3%;border:1px dashed #888;pointer-events:none}"
    ".aew-pen{position:absolute;width:18px;height:18px;margin:-9px;border:2px solid #0072B2;"
    "border-radius:50%;pointer-events:none;display:none}"
    ".aew-pad:focus-visible+.aew-pen{display:block}.aew-pen.down{background:#0072B2}"
    ".aew-verdict{font-weight:600}.aew-nojs{color:#a00}")

# Plain JavaScript, no '//' comments (no '//' anywhere: the page must hold no URL).
RUNTIME = r"""
function aewBytes(b64) {
  const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/")), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return new DataView(u.buffer);
}
function aewHalf(h) {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 32768 ? -1 : 1;
  if (e === 0) return s * m * Math.pow(2, -24);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * Math.pow(2, e - 15);
}
function aewFloats(b64, dtype) {
  const v = aewBytes(b64), half = dtype === "float16", n = v.byteLength / (half ? 2 : 4);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = half ? aewHalf(v.getUint16(2 * i, true))
                                            : v.getFloat32(4 * i, true);
  return out;
}
function aewNet(cfg) {
  const w = aewFloats(cfg.weights, cfg.dtype);
  let at = 0;
  return cfg.spec.map(([rows, cols, act]) => {
    const layer = {rows, cols, act, W: w.subarray(at, at + rows * cols),
                   b: w.subarray(at + rows * cols, at + rows * cols + cols)};
    at += rows * cols + cols;
    return layer;
  });
}
const aewAct = {linear: v => v, relu: v => Math.max(0, v), tanh: Math.tanh,
                sigmoid: v => 1 / (1 + Math.exp(-v))};
function aewForward(net, x, logits) {
  for (const l of net) {
    const y = Float64Array.from(l.b), f = aewAct[l.act];
    for (let i = 0; i < l.rows; i++) {
      const xi = x[i], o = i * l.cols;
      if (xi !== 0) for (let j = 0; j < l.cols; j++) y[j] += xi * l.W[o + j];
    }
    for (let j = 0; j < l.cols; j++) y[j] = f(y[j]);
    x = y;
  }
  return logits ? x.map(aewAct.sigmoid) : x;
}
function aewPaint(canvas, img) {
  const ctx = canvas.getContext("2d"), d = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    d.data[4 * i] = d.data[4 * i + 1] = d.data[4 * i + 2] = 255 * Math.min(1, Math.max(0, img[i]));
    d.data[4 * i + 3] = 255;
  }
  ctx.putImageData(d, 0, 0);
}
function aewPart(root, name) { return root.querySelector("[data-part=" + name + "]"); }
function aewDragging(canvas, onPoint) {
  let down = false;
  canvas.addEventListener("pointerdown", e => {
    down = true; canvas.setPointerCapture(e.pointerId); onPoint(e, true);
  });
  canvas.addEventListener("pointermove", e => { if (down) onPoint(e, false); });
  const up = () => { down = false; };
  canvas.addEventListener("pointerup", up); canvas.addEventListener("pointercancel", up);
}
function aewAt(canvas, e, size) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height];
}
"""

LATENT_JS = r"""
function aewMain(root, cfg) {
  root.querySelector(".aew-nojs").remove();
  const net = aewNet(cfg), pts = aewFloats(cfg.codes, cfg.dtype), labs = aewBytes(cfg.labels);
  const map = aewPart(root, "map"), slider = aewPart(root, "t"), box = cfg.box;
  const S = 320, M = 34, dpr = window.devicePixelRatio || 1, api = {highlight: -1};
  map.width = map.height = S * dpr; map.style.width = map.style.height = S + "px";
  const ctx = map.getContext("2d"), base = document.createElement("canvas");
  base.width = base.height = S * dpr;
  const fx = z => M + (z - box[0]) / (box[1] - box[0]) * (S - 8 - M);
  const fy = z => S - M - (z - box[2]) / (box[3] - box[2]) * (S - 8 - M);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const fmt = z => "(" + z[0].toFixed(2) + ", " + z[1].toFixed(2) + ")";
  function drawBase() {
    const c = base.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.fillStyle = "#fff"; c.fillRect(0, 0, S, S);
    c.strokeStyle = "#888"; c.strokeRect(M, 8, S - 8 - M, S - 8 - M);
    c.fillStyle = "#222"; c.font = "12px system-ui, sans-serif";
    c.textAlign = "center";
    c.fillText(box[0].toFixed(1), M, S - M + 14); c.fillText(box[1].toFixed(1), S - 8, S - M + 14);
    c.fillText("z1", (S + M) / 2, S - 6);
    c.textAlign = "right";
    c.fillText(box[2].toFixed(1), M - 3, S - M); c.fillText(box[3].toFixed(1), M - 3, 18);
    c.fillText("z2", M - 6, S / 2);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < labs.byteLength; i++) {
        const k = labs.getUint8(i), lit = api.highlight < 0 || k === api.highlight;
        if (lit !== (pass === 1)) continue;
        c.globalAlpha = api.highlight < 0 ? 0.65 : lit ? 0.95 : 0.12;
        c.fillStyle = cfg.colours[k];
        c.fillRect(fx(pts[2 * i]) - 1.5, fy(pts[2 * i + 1]) - 1.5, 3, 3);
      }
    }
    c.globalAlpha = 1;
  }
  function mark(z, ring) {
    const x = fx(z[0]), y = fy(z[1]);
    ctx.beginPath();
    if (ring) ctx.arc(x, y, 7, 0, 2 * Math.PI);
    else [[0, -6], [6, 0], [0, 6], [-6, 0]].forEach(([dx, dy]) => ctx.lineTo(x + dx, y + dy));
    ctx.closePath();
    ctx.lineWidth = 4; ctx.strokeStyle = "#fff"; ctx.stroke();
    ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.stroke();
  }
  function redraw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.drawImage(base, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const [a, b] = cfg.ends;
    ctx.beginPath(); ctx.moveTo(fx(a[0]), fy(a[1])); ctx.lineTo(fx(b[0]), fy(b[1]));
    ctx.setLineDash([4, 3]); ctx.lineWidth = 1.5; ctx.strokeStyle = "#000"; ctx.stroke();
    ctx.setLineDash([]);
    mark(api.between, false); mark(api.code, true);
  }
  api.setCode = (z1, z2) => {
    api.code = [clamp(z1, box[0], box[1]), clamp(z2, box[2], box[3])];
    api.image = aewForward(net, api.code, cfg.logits);
    aewPaint(aewPart(root, "image"), api.image);
    aewPart(root, "z").textContent = "z = " + fmt(api.code);
    redraw();
  };
  api.setT = t => {
    const [a, b] = cfg.ends;
    slider.value = t; api.t = +slider.value;
    api.between = [0, 1].map(k => (1 - api.t) * a[k] + api.t * b[k]);
    api.betweenImage = aewForward(net, api.between, cfg.logits);
    aewPaint(aewPart(root, "between"), api.betweenImage);
    aewPart(root, "tz").textContent = "t = " + api.t.toFixed(2) + ": z = " + fmt(api.between);
    if (api.code) redraw();
  };
  aewDragging(map, e => {
    const [x, y] = aewAt(map, e, S);
    api.setCode(box[0] + (x - M) / (S - 8 - M) * (box[1] - box[0]),
                box[2] + (S - M - y) / (S - 8 - M) * (box[3] - box[2]));
  });
  map.addEventListener("keydown", e => {
    const steps = e.shiftKey ? 10 : 50, sx = (box[1] - box[0]) / steps;
    const sy = (box[3] - box[2]) / steps;
    const move = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]};
    if (!(e.key in move)) return;
    e.preventDefault();
    api.setCode(api.code[0] + sx * move[e.key][0], api.code[1] + sy * move[e.key][1]);
  });
  slider.addEventListener("input", () => api.setT(+slider.value));
  root.querySelectorAll("[data-label]").forEach(button => button.addEventListener("click", () => {
    const k = +button.dataset.label;
    api.highlight = api.highlight === k ? -1 : k;
    root.querySelectorAll("[data-label]").forEach(o => o.setAttribute(
      "aria-pressed", String(+o.dataset.label === api.highlight)));
    drawBase(); redraw();
  }));
  drawBase(); api.setT(+slider.value); api.setCode(cfg.start[0], cfg.start[1]);
  root.aeWidget = api;
}
"""

DRAW_JS = r"""
function aewMain(root, cfg) {
  root.querySelector(".aew-nojs").remove();
  const pad = aewPart(root, "pad"), pen = root.querySelector(".aew-pen");
  const ctx = pad.getContext("2d", {willReadFrequently: true});
  const net = aewNet(cfg), api = {input: null, image: null, error: null, verdict: null};
  let last = null, penAt = [140, 140], penDown = false;
  function sample() {
    const d = ctx.getImageData(0, 0, 280, 280).data, x = new Float64Array(784);
    for (let r = 0; r < 280; r++)
      for (let c = 0; c < 280; c++) x[28 * (r / 10 | 0) + (c / 10 | 0)] += d[4 * (280 * r + c)];
    return x.map(v => v / 25500);
  }
  function update() {
    api.input = sample();
    api.image = aewForward(net, api.input, false);
    api.error = api.input.reduce((s, v, i) => s + (v - api.image[i]) ** 2, 0) / 784;
    api.verdict = api.error > cfg.threshold ? cfg.unusual : "normal";
    aewPaint(aewPart(root, "recon"), api.image);
    aewPart(root, "error").textContent = "Reconstruction error (mean squared error per pixel): "
      + api.error.toPrecision(3) + "; threshold " + cfg.threshold.toPrecision(3) + ".";
    aewPart(root, "verdict").textContent = "Verdict: " + api.verdict;
  }
  function strokeTo(p) {
    ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
    last = p; update();
  }
  api.clear = () => {
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, 280, 280);
    ctx.lineCap = ctx.lineJoin = "round"; ctx.lineWidth = 22; ctx.strokeStyle = "#fff";
    Object.assign(api, {input: null, image: null, error: null, verdict: null});
    aewPaint(aewPart(root, "recon"), new Float64Array(784));
    aewPart(root, "error").textContent = "Draw to see the reconstruction error.";
    aewPart(root, "verdict").textContent = "";
  };
  aewDragging(pad, (e, first) => {
    const p = aewAt(pad, e, 280);
    if (first) last = p;
    strokeTo(p);
  });
  function showPen() {
    pen.style.left = penAt[0] / 2.8 + "%"; pen.style.top = penAt[1] / 2.8 + "%";
    pen.classList.toggle("down", penDown);
  }
  pad.addEventListener("keydown", e => {
    const step = e.shiftKey ? 40 : 10;
    const move = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
    if (e.key === "Escape" || e.key === "Delete") api.clear();
    else if (e.key === " " || e.key === "Enter") {
      penDown = !penDown; last = penAt;
      if (penDown) strokeTo(penAt);
    } else if (e.key in move) {
      penAt = penAt.map((v, k) => Math.min(275, Math.max(5, v + step * move[e.key][k])));
      if (penDown) strokeTo(penAt);
    } else return;
    e.preventDefault(); showPen();
  });
  aewPart(root, "clear").addEventListener("click", api.clear);
  api.clear(); showPen();
  root.aeWidget = api;
}
"""

