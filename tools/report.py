"""The book's "Results at a glance" page, generated from ``results/*.json``.

``python -m tools.report [RESULTS_DIR] [OUTPUT]`` writes a MyST page with one table per
chapter: one row per recorded result, named in words, with its 95% interval when the chapter
measured one, the target and whether its validation figure meets it, the seed's and the
literature's figures (all from ``references.json``). The full protocols sit in a collapsible
list under each table. ``make book`` runs it before building, so the page is never typed by
hand.
"""

from __future__ import annotations

import json
import re
import sys
from html import escape
from pathlib import Path

from helpers.files import atomic_write
from tools.references import Reference, reference

DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "kmnist": "KMNIST",
            "notmnist": "notMNIST"}

SPARSE_AE_VARIANTS = {"dense": "no constraint", "l1": "L1 penalty", "topk": "k-sparse code"}

# Row names where the key's parts read badly (the figures compared with are in references.json).
NAMES = {
    **{f"{d}.pixels.{m}": f"training images, {what}" for d in DATASETS for m, what in (
        ("mean", "mean pixel value (0-1)"), ("inked", "share of pixels with any ink"),
        ("grey", "share of inked pixels that are grey (0.1-0.9)"))},
    "notmnist.flat_images": "images of one flat value (all white, all labelled I)",
    "notmnist.dense_ae.test_mse": "dense AE, seed Model 1",
    "notmnist.conv_ae.test_mse": "conv AE, seed model",
    **{f"{d}.vae.{metric}": name for d in ("mnist", "fashion_mnist") for metric, name in (
        ("test_elbo_nats", "dense VAE, negative test ELBO (nats)"),
        ("iw_nll_nats", "dense VAE, negative IW bound (nats)"))},
    "mnist.vae.active_units": "dense VAE, active latent units (of 50)",
    **{f"{d}.one_class.mean_auroc": "one-class AE, mean AUROC over the 10 classes" for d in DATASETS},
    **{f"{d}.one_class.auroc": "one-class AE, AUROC per class" for d in DATASETS},
    **{f"{d}.one_class.baselines": "one-class baselines (PCA, 1-NN), mean AUROC over the 10 "
       "classes" for d in DATASETS},
    **{f"ood.{a}.{b}.{m}": f"OOD AUROC, model of {DA}, foreign {DB}"
       + (" (score chosen with it held out)" if m == "auroc" else " (reconstruction error)")
       for a, DA in DATASETS.items() for b, DB in DATASETS.items()
       if a != b for m in ("auroc", "auroc_raw")},
    **{f"ood.{a}.decision": f"OOD decisions, model of {DA}: share of test images flagged per "
       "threshold rule" for a, DA in DATASETS.items()},
    **{f"mnist.sparse_ae.{v}.{m}": f"overcomplete AE (1,024 units), {name}{what}"
       for v, name in SPARSE_AE_VARIANTS.items()
       for m, what in (("test_mse", ""), ("l0", ", active code units per image (L0)"),
                       ("dead_units", ", dead code units (of 1,024)"),
                       ("copy_test", ", copy test: MSE on unseen letters over MSE on digits"))},
    **{f"mnist.sparse_ae.{v}.acc": f"logistic regression on codes of the overcomplete AE, {name}"
       for v, name in SPARSE_AE_VARIANTS.items()},
    "mnist.sparse_ae.validation_grid": "overcomplete AEs, every L1 weight and k tried "
                                       "(validation part)",
    "mnist.mlp.acc": "MLP classifier 784-256-128-10",
    **{f"mnist.sae.{kind}.{m}": f"{name} SAE on the MLP's 128-unit layer, {what}"
       for kind, name in (("relu_l1", "ReLU + L1"), ("topk", "TopK"))
       for m, what in (("l0", "active latents per image (L0)"),
                       ("fvu", "fraction of variance unexplained"),
                       ("dead_latents", "dead latents (of 1,024)"),
                       ("loss_recovered", "cross-entropy recovered (against mean ablation)"),
                       ("acc_recovered", "accuracy recovered (against mean ablation)"))},
    **{f"mnist.sae.{kind}.acc": f"MLP with its 128-unit layer replaced by the {name} SAE's "
       "reconstruction" for kind, name in (("relu_l1", "ReLU + L1"), ("topk", "TopK"))},
    "mnist.sae.tradeoff": "SAE sweep: L0, FVU, loss recovered and dead latents of every L1 "
                          "weight and k",
    "mnist.sae.class_purity": "class purity of the MLP's neurons and of SAE latents",
    "mnist.sae.steering": "steering the MLP with one TopK latent",
}
DEFAULT_FIELDS = ("acc", "denoised_mse", "test_mse", "value")
CHAPTER_FILES = "[0-9][0-9]_*.json"  # results/bench-*.json belong to the Performance page

# Readable names are built from the key's parts: dataset, model parts, then the metric.
METRICS = {"test_mse": "test MSE per pixel", "acc": "accuracy",
           "mean_acc": "mean accuracy over seeds",
           "payload_kb": "what it adds to the page, kB",
           "denoised_mse": "denoised MSE per pixel", "best_k": "silhouette's best k",
           "prior_divergence": "divergence from the prior", "seconds": "seconds",
           "share_in_prior_box": "share of test codes in the prior's 99% box", "nmi": "NMI"}
PARTS = {
    "plain_ae": "plain 3-d AE", "plain_ae_mixture": "Gaussian mixture on plain 3-d AE codes",
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
    "n2d_all_images": "N2D on all 70,000 images, AE trained on them",
    "n2d_all_images_1passes": "N2D on all 70,000 images, AE trained 1 pass",
    "n2d_all_images_3passes": "N2D on all 70,000 images, AE trained 3 passes",
    "n2d_all_images_seed_spread": "N2D on all 70,000 images, UMAP and GMM seeds 0-2",
    "n2d_all_images_by_length": "N2D on all 70,000 images, by training length",
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
followed by its 95% interval in brackets where the chapter measured one. *Status* judges the
book's target on a validation figure, shown under it: **met**, **MISSED** (not reached yet), or
*within noise* when its 95% interval straddles the target, so this run can neither claim it nor
rule it out. A target without a recorded validation figure is *reported as it falls*: the test
part is scored once, to describe the result, and is never judged against a target. *Seed's figure*
is what the earlier project published, or what its code measured on an earlier edition's split;
*literature* is a published figure, often on more training data. Under each dataset is its split:
`test-split-only 7,200/800/2,000` means train/validation/test images carved from the dataset's
official test split, and `official 54,000/6,000/10,000` the official training split cut into
train and validation, with the official test split. MNIST and Fashion-MNIST are official; KMNIST
and notMNIST are test-split-only, because the offline copy of the data that the book's outputs
were computed from holds only their test files. A chapter whose MNIST rows still say
`test-split-only` was executed before MNIST's training file joined that copy, and is due to be
re-executed on the official split.
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
    name = NAMES.get(key) or ", ".join(
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
        return value, "", _interval(entry)
    if isinstance(value, dict):
        for field in ([ref.field] if ref.field else []) + list(DEFAULT_FIELDS):
            if isinstance(value.get(field), (int, float)):
                return value[field], field, _interval(value, field) or _interval(entry)
    return None, "", None


def readable(number) -> str:
    """``0.0107``, ``29,578,752``, ``yes``: 4 significant digits, digit groups from 10,000 up."""
    if isinstance(number, bool):
        return "yes" if number else "no"
    return f"{number:,.0f}" if abs(number) >= 1e4 else f"{number:.4g}"


def validation_figure(results: dict, ref: Reference):
    """(number, 95% interval or None) of the validation figure ``ref`` reads from a chapter's
    ``results``, or None: it reads the test figure, or the chapter did not record one."""
    if ref.reads != "validation" or ref.validation["key"] not in results:
        return None
    number, _, interval = displayed(results[ref.validation["key"]],
                                    Reference(field=ref.validation.get("field")))
    return None if number is None else (number, interval)


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


def _status_cell(results: dict, ref: Reference) -> str:
    """The target's verdict on the validation figure (shown under it), or *reported as it
    falls* for a test figure; empty without a target."""
    if ref.target is None:
        return ""
    figure = validation_figure(results, ref)
    if figure is None:
        return "<em>reported as it falls</em>"
    state = status(*figure, ref.target)
    state = {"MISSED": '<strong class="missed">MISSED</strong>',
             "within noise": "<em>within noise</em>"}.get(state, state)
    return f"{state}<br><small>validation {readable(figure[0])}</small>"


def _row(key: str, results: dict, protocol: int, anchor: str) -> str:
    """One result of a chapter's ``results`` as a table row; ``anchor`` is its protocol's id in
    the list under the table."""
    entry, ref = results[key], reference(key)
    number, field, interval = displayed(entry, ref)
    shown = "(table in the chapter)" if number is None else readable(number)
    if interval:
        shown += f"<br><small>[{readable(interval[0])}, {readable(interval[1])}]</small>"
    dataset = DATASETS.get(key.split(".")[0], "all")
    if split := SPLIT_TAG.search(entry["protocol"]):
        dataset += f"<br><small>{split.group(0)}</small>"
    target = ""
    if ref.target:
        target = f"{'≤' if ref.target[0] == '<=' else '≥'}&nbsp;{ref.target[1]:g}"
    breakable = escape(key).replace(".", ".<wbr>").replace("_", "_<wbr>")
    cells = [f'{escape(readable_name(key, field))}<br><small><code class="key">{breakable}</code>'
             f' · <a href="#{anchor}">P{protocol}</a></small>', dataset, shown, target,
             _status_cell(results, ref),
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
        rows.append(_row(key, results, n, f"{chapter}-p{n}"))
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
    if not results_dir.is_dir():
        raise FileNotFoundError(f"no results folder {results_dir}")
    files = sorted(results_dir.glob(CHAPTER_FILES))
    lines = ["# Results at a glance", "",
             "Every number the chapters record, generated from `results/*.json` by "
             "`tools.report` when the book is built.", "", GUIDE, STYLE]
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
    except (OSError, ValueError, KeyError) as e:
        print(f"tools.report: {e}", file=sys.stderr)
        return 2
    atomic_write(output, page)
    print(f"wrote {output} from {len(list(results_dir.glob(CHAPTER_FILES)))} results file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
