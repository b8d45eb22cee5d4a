"""The book's "Results at a glance" page, generated from ``results/*.json``.

``python -m helpers.report [RESULTS_DIR] [OUTPUT]`` writes a MyST page with one table per
chapter: one row per recorded result, named in words, with its 95% interval when the chapter
measured one, the target and whether it is met, the seed's and the literature's figures. The
full protocols sit in a collapsible list under each table. ``make book`` runs it before
building, so the page is never typed by hand.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

from helpers.files import atomic_write


@dataclass(frozen=True)
class Reference:
    """What to compare a recorded metric with."""

    field: str | None = None  # for a dict value: the entry the table shows
    seed: str = ""  # the seed's published figure, or the seed code measured on our protocol
    literature: str = ""
    target: tuple[str, float] | None = None  # ("<=", 0.012) or (">=", 0.95)
    name: str = ""  # the row's name (without the metric) where the key's parts read badly


# Published one-class figures beside ours (mean AUROC over the ten classes, each with its protocol).
ONE_CLASS_LITERATURE = {
    "mnist": "One-Class Deep SVDD (Ruff et al. 2018; ~6,000 training images per class, mean of "
             "10 seeds; per-class row as quoted in a public re-implementation's README): 94.8%",
    "fashion_mnist": "GEOM (Golan and El-Yaniv 2018; 6,000 training images per class; as "
                     "reprinted in later papers' tables): 93.5%",
}

DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "kmnist": "KMNIST",
            "notmnist": "notMNIST"}

REFERENCES: dict[str, Reference] = {
    "notmnist.dense_ae.test_mse": Reference(
        name="dense AE, seed Model 1",
        seed="seed reported '16.77% accuracy' (not a reconstruction metric); seed code on this "
             "protocol: 0.0155"),
    "notmnist.dense_ae.improved.test_mse": Reference(target=("<=", 0.012)),
    "notmnist.pca64.test_mse": Reference(),
    "mnist.single_layer_ae.test_mse": Reference(),
    "notmnist.denoise.gaussian0.5": Reference(
        field="denoised_mse", seed="val MSE 0.0174 after 5 epochs (48,000 train images); seed "
                                   "code on an earlier 8,000/2,000 split: 0.116 -> 0.036"),
    "notmnist.denoise.gaussian0.7": Reference(
        field="denoised_mse", seed="seed code on an earlier 8,000/2,000 split: 0.179 -> 0.057"),
    "notmnist.denoise.improved.gaussian0.5": Reference(field="denoised_mse", target=("<=", 0.025)),
    "notmnist.denoise.improved.gaussian0.7": Reference(field="denoised_mse", target=("<=", 0.040)),
    "notmnist.lr_pixels.acc": Reference(
        seed="seed-style code on an earlier 8,000/2,000 split: 0.871"),
    "notmnist.lr_on_seed_codes.acc": Reference(
        seed="seed-style code on an earlier 8,000/2,000 split (64-d dense-AE codes): 0.8725"),
    "notmnist.lr_on_codes.acc": Reference(
        seed="Bulatov's benchmark as quoted by the seed: 84%", target=(">=", 0.90),
        literature="Bulatov's post: about 89% (LR on autoencoder codes)"),
    "notmnist.cnn_seed000.acc": Reference(
        seed="76.25% (62.5% on a larger split); seed code on an earlier 8,000/2,000 split: 0.784"),
    "notmnist.cnn_best.acc": Reference(target=(">=", 0.95)),
    "kmnist.lr_pixels.acc": Reference(
        seed="seed-style code on an earlier 8,000/2,000 split: 0.6945"),
    "kmnist.cnn_seed000.acc": Reference(
        seed="seed-style code on an earlier 8,000/2,000 split: 0.887"),
    "kmnist.cnn_best.acc": Reference(
        target=(">=", 0.94),
        literature="official baselines, 60,000 training images: 4-NN 92.10%, PCA + 4-NN 93.98%, "
                   "simple Keras CNN 94.63%"),
    **{f"kmnist.itl.{prior}.{objective}": Reference(field="share_in_prior_box")
       for prior in ("swiss_roll", "gaussian") for objective in ("as_published", "cauchy_schwarz")},
    "kmnist.itl.gmm.as_published": Reference(field="acc"),
    "kmnist.itl.gmm.cauchy_schwarz": Reference(field="acc"),
    "kmnist.plain_ae_kmeans": Reference(field="acc"),
    "notmnist.conv_ae.test_mse": Reference(
        name="conv AE, seed model",
        seed="blog seed: val MSE 0.0029 after 10 epochs (48,000 train images, validated on a "
             "12,000-image hold-out of its training data)"),
    "notmnist.conv_ae.improved.test_mse": Reference(target=("<=", 0.0075)),
    "mnist.compact_ae6.test_mse": Reference(seed="not published (curves only)"),
    "mnist.compact_ae6_silhouette": Reference(field="best_k", seed="silhouette chose k = 9"),
    "fashion_mnist.compact_ae6_silhouette": Reference(field="best_k", seed="silhouette chose k = 5"),
    "mnist.kmeans_pixels": Reference(literature="0.546 (N2D paper, MNIST test set)"),
    "fashion_mnist.kmeans_pixels": Reference(literature="0.474 (N2D paper)"),
    "mnist.n2d": Reference(target=(">=", 0.95),
                           literature="N2D 0.948 (the 10,000 MNIST test images); DEC 0.843 "
                                      "(all 70,000 MNIST images)"),
    "mnist.n2d_shifted_copies": Reference(literature="N2D uses no shifted copies"),
    "fashion_mnist.n2d_seed_spread": Reference(
        field="mean_acc", target=(">=", 0.67),
        literature="N2D 0.672 (all 70,000 images), DEC 0.518"),
    **{f"{key}_seed_spread": Reference(field="mean_acc")
       for key in ("mnist.n2d", "mnist.n2d_shifted_copies", "kmnist.n2d", "notmnist.n2d")},
    "mnist.vae.test_elbo_nats": Reference(name="dense VAE, negative test ELBO (nats)"),
    "mnist.vae.iw_nll_nats": Reference(
        name="dense VAE, negative IW bound (nats)",
        literature="Burda et al. 2015, one-stochastic-layer VAE, 60,000 training images, "
                   "k = 5,000: 86.76 nats"),
    "fashion_mnist.vae.test_elbo_nats": Reference(name="dense VAE, negative test ELBO (nats)"),
    "fashion_mnist.vae.iw_nll_nats": Reference(name="dense VAE, negative IW bound (nats)"),
    "mnist.vae.active_units": Reference(name="dense VAE, active latent units (of 50)"),
    **{f"{d}.one_class.mean_auroc": Reference(
        field="auroc", name="one-class AE, mean AUROC over the 10 classes",
        target=(">=", 0.948) if d == "mnist" else None, literature=ONE_CLASS_LITERATURE.get(d, ""))
       for d in DATASETS},
    **{f"{d}.one_class.auroc": Reference(name="one-class AE, AUROC per class")
       for d in DATASETS},
    **{f"ood.{a}.{b}.{m}": Reference(
        name=f"OOD AUROC, model of {DA}, foreign {DB}"
             + (" (chapter's score)" if m == "auroc" else " (raw reconstruction error)"),
        target=(">=", 0.95) if m == "auroc" else None)
       for a, DA in DATASETS.items() for b, DB in DATASETS.items()
       if a != b for m in ("auroc", "auroc_raw")},
    **{f"ood.{a}.decision": Reference(
        name=f"OOD decisions, model of {DA}: share of test images flagged per threshold rule")
       for a, DA in DATASETS.items()},
    "training_time": Reference(field="seconds"),
}
DEFAULT_FIELDS = ("acc", "denoised_mse", "test_mse", "value")
CHAPTER_FILES = "[0-9][0-9]_*.json"  # results/bench-*.json belong to the Performance page

# Readable names are built from the key's parts: dataset, model parts, then the metric.
METRICS = {"test_mse": "test MSE per pixel", "acc": "accuracy",
           "mean_acc": "mean accuracy over seeds",
           "denoised_mse": "denoised MSE per pixel", "best_k": "silhouette's best k",
           "prior_divergence": "divergence from the prior", "seconds": "seconds",
           "share_in_prior_box": "share of test codes in the prior's 99% box"}
PARTS = {
    "adam": "trained with Adam", "block10": "10 px square blanked",
    "cnn_best": "improved CNN", "cnn_seed000": "seed CNN (Model 3)",
    "code_size_sweep": "code-size sweep, AE against PCA",
    "code32_comparison": "32-number codes: PCA, dense and conv AEs",
    "copy_test": "MSE on test letters and on never-seen MNIST digits",
    "undercomplete": "undercomplete (32-number dense code)", "compact_ae6": "6-d compact conv AE",
    "compact_ae6_kmeans": "k-means on 6-d compact conv AE codes",
    "compact_ae6_kmeans_best_k": "k-means on 6-d codes, silhouette's k",
    "compact_ae6_silhouette": "silhouette on 6-d compact conv AE codes", "conv_ae": "conv AE",
    "dense_ae": "dense AE", "dense_ae10_kmeans": "k-means on 10-d dense AE codes",
    "denoise": "denoising conv AE", "gaussian": "Gaussian prior",
    "gaussian0.5": "Gaussian noise 0.5", "gaussian0.7": "Gaussian noise 0.7",
    "gmm": "Gaussian-mixture prior", "itl": "ITL-regularised AE",
    "kmeans_pca50": "k-means on 50 principal components", "kmeans_pixels": "k-means on pixels",
    "lr_on_codes": "logistic regression on denoising conv AE codes",
    "lr_on_conv_codes": "logistic regression on conv AE codes",
    "lr_on_dense_codes": "logistic regression on improved dense AE codes",
    "lr_on_seed_codes": "logistic regression on seed dense AE codes",
    "lr_pixels": "logistic regression on pixels", "n2d": "N2D (AE, UMAP, GMM)",
    "n2d_seed_spread": "N2D, UMAP and GMM seeds 0-2",
    "n2d_shifted_copies": "N2D, AE trained with 3 shifted copies per image",
    "n2d_shifted_copies_seed_spread": "N2D with shifted copies, UMAP and GMM seeds 0-2",
    "pca64": "PCA, 64 components",
    "plain_ae_kmeans": "k-means on plain 3-d AE codes",
    "salt_pepper0.2": "salt-and-pepper noise 0.2", "single_layer_ae": "single-layer AE",
    "swiss_roll": "swiss-roll prior", "training_time": "training time of all runs",
    "as_published": "objective as published", "cauchy_schwarz": "Cauchy-Schwarz objective",
}
COLUMNS = (("result", 28), ("dataset", 14), ("this book", 11), ("target", 8), ("status", 9),
           ("seed's figure", 17), ("literature", 13))  # heading, share of the width in %
SPLIT_TAG = re.compile(r"(?:test-split-only|official) \d[\d,/]*\d")

GUIDE = """\
**How to read the tables.** Each row is one number a chapter recorded, named in words; under the
name, in small type, are its key in `results/<chapter>.json` and its protocol (P1, P2, ...: each
is spelled out in the *Protocols* list under its chapter's table). *This book* is our figure,
followed by its 95% interval in brackets where the chapter measured one. *Status* compares it
with the book's target: **met**, **MISSED** (not reached yet), or *within noise* when the 95%
interval straddles the target, so this run can neither claim it nor rule it out. *Seed's figure*
is what the earlier project published, or what its code measured on an earlier edition's split;
*literature* is a published figure, often on more training data. Under each dataset is its split:
`test-split-only 7,200/800/2,000` means train/validation/test images carved from the dataset's
official test split, and `official 54,000/6,000/10,000` the official training split cut into
train and validation, with the official test split.
"""
STYLE = """\
<style>
table.results { width: 100%; font-size: 0.85em; }
table.results th, table.results td { padding: 0.3em 0.45em; vertical-align: top; }
table.results small { font-size: 0.8em; color: var(--pst-color-text-muted); }
table.results code.key { overflow-wrap: anywhere; background: none; border: none; padding: 0;
  font-size: 1em; color: inherit; }
table.results .missed { color: var(--pst-color-danger); }
details.protocols { font-size: 0.85em; }
details.protocols ul { list-style: none; padding-left: 0; }
</style>
"""


def readable_name(key: str, field: str = "") -> str:
    """"Dense AE, seed Model 1 – test MSE per pixel" for ``notmnist.dense_ae.test_mse``."""
    parts = re.split(r"\.(?!\d)", key)  # gaussian0.5 is one part
    if parts[0] in DATASETS:
        parts = parts[1:]
    metric = ""
    if len(parts) > 1 and parts[-1] in METRICS:
        metric = METRICS[parts.pop()]
    elif field:
        metric = METRICS.get(field, field.replace("_", " "))
    name = REFERENCES.get(key, Reference()).name or ", ".join(
        PARTS.get(part, part.replace("_", " ")) for part in parts)
    name = name[:1].upper() + name[1:]
    return f"{name} – {metric}" if metric else name


def _interval(record: dict, field: str = "") -> tuple[float, float] | None:
    """``(<field>_ci_low, <field>_ci_high)`` or else ``(ci_low, ci_high)`` from ``record``."""
    for low, high in ((f"{field}_ci_low", f"{field}_ci_high"), ("ci_low", "ci_high")):
        if all(isinstance(record.get(k), (int, float)) for k in (low, high)):
            return float(record[low]), float(record[high])
    return None


def displayed(entry: dict, ref: Reference):
    """(number shown, name of the field shown, 95% interval or None) for a recorded entry."""
    value = entry["value"]
    if isinstance(value, (int, float)):
        return float(value), "", _interval(entry)
    if isinstance(value, dict):
        for field in ([ref.field] if ref.field else []) + list(DEFAULT_FIELDS):
            if isinstance(value.get(field), (int, float)):
                return float(value[field]), field, _interval(value, field) or _interval(entry)
    return None, "", None


def status(number: float | None, interval, target) -> str:
    """"met", "MISSED", "within noise" (the interval straddles the target) or "" (no target)."""
    if target is None or number is None:
        return ""
    op, bound = target
    if interval and interval[0] <= bound <= interval[1]:
        return "within noise"
    return "met" if (number <= bound if op == "<=" else number >= bound) else "MISSED"


def chapter_title(chapter: str, root: Path) -> str:
    """The chapter notebook's own title, or its file stem if the notebook is not there."""
    nb = root / "notebooks" / f"{chapter}.ipynb"
    try:
        first = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        return f"Chapter {int(chapter[:2])}: {first.splitlines()[0].lstrip('# ').strip()}"
    except (OSError, ValueError, KeyError, IndexError):
        return chapter


def _row(key: str, entry: dict, protocol: int, anchor: str) -> str:
    """One result as a table row; ``anchor`` is its protocol's id in the list under the table."""
    ref = REFERENCES.get(key, Reference())
    number, field, interval = displayed(entry, ref)
    shown = "(table in the chapter)" if number is None else f"{number:.4g}"
    if interval:
        shown += f"<br><small>[{interval[0]:.4g}, {interval[1]:.4g}]</small>"
    dataset = DATASETS.get(key.split(".")[0], "all")
    if split := SPLIT_TAG.search(entry["protocol"]):
        dataset += f"<br><small>{split.group(0)}</small>"
    target = ""
    if ref.target:
        target = f"{'≤' if ref.target[0] == '<=' else '≥'}&nbsp;{ref.target[1]:g}"
    state = status(number, interval, ref.target)
    state = {"MISSED": '<strong class="missed">MISSED</strong>',
             "within noise": "<em>within noise</em>"}.get(state, state)
    breakable = escape(key).replace(".", ".<wbr>").replace("_", "_<wbr>")
    cells = [f'{escape(readable_name(key, field))}<br><small><code class="key">{breakable}</code>'
             f' · <a href="#{anchor}">P{protocol}</a></small>', dataset, shown, target, state,
             escape(ref.seed), escape(ref.literature)]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def chapter_table(title: str, chapter: str, content: dict) -> list[str]:
    """A chapter's section: heading, one table row per result, then its protocols."""
    numbers: dict[str, int] = {}  # protocol text -> its number in this chapter
    rows = []
    results = dict(content["results"])
    timing = results.pop("training_time", {}).get("value", {})
    for key, entry in sorted(results.items()):
        n = numbers.setdefault(entry["protocol"], len(numbers) + 1)
        rows.append(_row(key, entry, n, f"{chapter}-p{n}"))
    header = "".join(f'<th style="width: {w}%">{h}</th>' for h, w in COLUMNS)
    protocols = [f'<li id="{chapter}-p{n}"><strong>P{n}</strong> {escape(text)}</li>'
                 for text, n in numbers.items()]
    facts = f"Profile: {content.get('profile', '?')}; recorded {content.get('updated', '?')}"
    if timing.get("chapter_seconds"):
        facts += (f"; {timing['chapter_seconds'] / 60:.1f} min from an empty weights cache on "
                  f"{timing['device']}, {timing['seconds'] / 60:.1f} min of it training")
    if not rows:
        return [f"## {title}", "", facts + ". This chapter records no results.", ""]
    return [f"## {title}", "", facts + ".", "",
            '<table class="table results">', f"<thead><tr>{header}</tr></thead>", "<tbody>",
            *rows, "</tbody>", "</table>", "",
            f'<details class="protocols"><summary>Protocols (P1–P{len(numbers)})</summary>',
            "<ul>", *protocols, "</ul>", "</details>", ""]


def render(results_dir: Path) -> str:
    files = sorted(results_dir.glob(CHAPTER_FILES))
    lines = ["# Results at a glance", "",
             "Every number the chapters record, generated from `results/*.json` by "
             "`helpers.report` when the book is built.", "", GUIDE, STYLE]
    if not files:
        lines.append("No chapter has recorded results yet.")
    for path in files:
        content = json.loads(path.read_text())
        if content.get("profile") != "full":
            raise ValueError(f"{path}: recorded in the {content.get('profile')!r} profile; only "
                             "full-profile results may be published. Re-run the chapter with "
                             "AEBOOK_PROFILE=full.")
        lines += chapter_table(chapter_title(path.stem, results_dir.parent), path.stem, content)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    results_dir = Path(argv[0]) if argv else Path("results")
    output = Path(argv[1]) if len(argv) > 1 else Path("book/results.md")
    try:
        page = render(results_dir)
    except (ValueError, KeyError, json.JSONDecodeError) as e:
        print(f"helpers.report: {e}", file=sys.stderr)
        return 2
    atomic_write(output, page)
    print(f"wrote {output} from {len(list(results_dir.glob(CHAPTER_FILES)))} results file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
