"""The book's "Results at a glance" page, generated from ``results/*.json``.

``python -m helpers.report [RESULTS_DIR] [OUTPUT]`` writes a MyST page with one table per
chapter: each recorded metric beside the seed's published figure, the literature figure and
the target, with a clear mark where the book misses its target. ``make book`` runs it before
building, so the page is never typed by hand.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Reference:
    """What to compare a recorded metric with."""

    field: str | None = None  # for a dict value: the entry the table shows
    seed: str = ""  # the seed's published figure, or the seed code measured on our protocol
    literature: str = ""
    target: tuple[str, float] | None = None  # ("<=", 0.012) or (">=", 0.95)


REFERENCES: dict[str, Reference] = {
    "notmnist.dense_ae.test_mse": Reference(
        seed="seed reported '16.77% accuracy' (not a reconstruction metric); seed code on this "
             "protocol: 0.0155"),
    "notmnist.dense_ae.improved.test_mse": Reference(target=("<=", 0.012)),
    "notmnist.pca64.test_mse": Reference(),
    "mnist.single_layer_ae.test_mse": Reference(),
    "notmnist.denoise.gaussian0.5": Reference(
        field="denoised_mse", seed="val MSE 0.0174 after 5 epochs (48,000 train images); seed "
                                   "code on this protocol: 0.116 -> 0.036"),
    "notmnist.denoise.gaussian0.7": Reference(
        field="denoised_mse", seed="seed code on this protocol: 0.179 -> 0.057"),
    "notmnist.denoise.improved.gaussian0.5": Reference(field="denoised_mse", target=("<=", 0.025)),
    "notmnist.denoise.improved.gaussian0.7": Reference(field="denoised_mse", target=("<=", 0.040)),
    "notmnist.lr_pixels.acc": Reference(seed="seed-style code on this protocol: 0.871"),
    "notmnist.lr_on_seed_codes.acc": Reference(
        seed="seed-style code on this protocol (64-d dense-AE codes): 0.8725"),
    "notmnist.lr_on_codes.acc": Reference(
        seed="Bulatov's benchmark as quoted by the seed: 84%", target=(">=", 0.90),
        literature="Bulatov's post: about 89% (LR on autoencoder codes)"),
    "notmnist.cnn_seed000.acc": Reference(
        seed="76.25% (62.5% on a larger split); seed code on this protocol: 0.784"),
    "notmnist.cnn_best.acc": Reference(target=(">=", 0.95)),
    "kmnist.lr_pixels.acc": Reference(seed="seed-style code on this protocol: 0.6945"),
    "kmnist.cnn_seed000.acc": Reference(seed="seed-style code on this protocol: 0.887"),
    "kmnist.cnn_best.acc": Reference(
        target=(">=", 0.94),
        literature="official baselines, 60,000 training images: 4-NN 92.10%, PCA + 4-NN 93.98%, "
                   "simple Keras CNN 94.63%"),
    "kmnist.itl.swiss_roll": Reference(field="prior_divergence"),
    "kmnist.itl.gaussian": Reference(field="prior_divergence"),
    "kmnist.itl.gmm": Reference(field="acc"),
    "kmnist.plain_ae_kmeans": Reference(field="acc"),
    "notmnist.conv_ae.test_mse": Reference(
        seed="blog seed: val MSE 0.0029 after 10 epochs (48,000 train images); seed code on this "
             "protocol: 0.0112"),
    "fashion_mnist.conv_ae.test_mse": Reference(seed="seed code on this protocol: 0.0055"),
    "notmnist.conv_ae.improved.test_mse": Reference(target=("<=", 0.0075)),
    "fashion_mnist.conv_ae.improved.test_mse": Reference(target=("<=", 0.0040)),
    "mnist.compact_ae6.test_mse": Reference(seed="not published (curves only)"),
    "fashion_mnist.compact_ae6.test_mse": Reference(seed="not published (curves only)"),
    "mnist.compact_ae6_silhouette": Reference(field="best_k", seed="silhouette chose k = 9"),
    "fashion_mnist.compact_ae6_silhouette": Reference(field="best_k", seed="silhouette chose k = 5"),
    "mnist.kmeans_pixels": Reference(seed="seed-style code on this protocol: 0.542",
                                     literature="0.546 (N2D paper, MNIST test set)"),
    "fashion_mnist.kmeans_pixels": Reference(literature="0.474 (N2D paper)"),
    "mnist.compact_ae6_kmeans_best_k": Reference(
        seed="seed-style code on this protocol: 0.543 (silhouette picked k = 6)"),
    "mnist.best": Reference(target=(">=", 0.95), seed="seed-style AE + UMAP + GMM on this "
                            "protocol: 0.821", literature="N2D 0.948 (MNIST test set), DEC 0.843"),
    "fashion_mnist.best": Reference(target=(">=", 0.67), literature="N2D 0.672, DEC 0.518"),
    "mnist.n2d_seed_spread": Reference(field="mean_acc"),
    "fashion_mnist.n2d_seed_spread": Reference(field="mean_acc"),
    "training_time": Reference(field="seconds"),
}
DEFAULT_FIELDS = ("acc", "denoised_mse", "test_mse")
CHAPTER_FILES = "[0-9][0-9]_*.json"  # results/bench-*.json belong to the Performance page


def _display_value(key: str, value, ref: Reference):
    """(number shown, name of the field shown) for a recorded value, or (None, '') if none fits."""
    if isinstance(value, (int, float)):
        return float(value), ""
    if isinstance(value, dict):
        for field in ([ref.field] if ref.field else []) + list(DEFAULT_FIELDS):
            if isinstance(value.get(field), (int, float)):
                return float(value[field]), field
    return None, ""


def _status(number: float | None, target) -> str:
    if target is None or number is None:
        return ""
    op, bound = target
    met = number <= bound if op == "<=" else number >= bound
    return "met" if met else "**MISSED**"


def chapter_title(chapter: str, root: Path) -> str:
    """The chapter notebook's own title, or its file stem if the notebook is not there."""
    nb = root / "notebooks" / f"{chapter}.ipynb"
    try:
        first = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        return f"Chapter {int(chapter[:2])}: {first.splitlines()[0].lstrip('# ').strip()}"
    except (OSError, ValueError, KeyError, IndexError):
        return chapter


def chapter_table(title: str, content: dict) -> list[str]:
    lines = [f"## {title}", "",
             f"Profile: {content.get('profile', '?')}; recorded {content.get('updated', '?')}.", "",
             "| metric | dataset | this book | target | status | seed's figure | literature | protocol |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    protocols = []
    for n, (key, entry) in enumerate(sorted(content["results"].items()), 1):
        ref = REFERENCES.get(key, Reference())
        number, field = _display_value(key, entry["value"], ref)
        shown = "(table in the chapter)" if number is None else f"{number:.4g}"
        metric = f"`{key}`" + (f" ({field})" if field else "")
        dataset = key.split(".")[0] if "." in key else "all"
        target = f"{ref.target[0]} {ref.target[1]:g}" if ref.target else ""
        lines.append(f"| {metric} | {dataset} | {shown} | {target} | {_status(number, ref.target)} | "
                     f"{ref.seed} | {ref.literature} | ({n}) |")
        protocols.append(f"{n}. `{key}`: {entry['protocol']}")
    return lines + ["", "Protocols:", "", *protocols, ""]


def render(results_dir: Path) -> str:
    files = sorted(results_dir.glob(CHAPTER_FILES))
    lines = ["# Results at a glance", "",
             "Every number the chapters record, generated from `results/*.json` by "
             "`helpers.report` when the book is built. *Seed's figure* is what the earlier project "
             "published (or what its code measured on this book's protocol); a target marked "
             "**MISSED** is one the book has not reached yet.", ""]
    if not files:
        lines.append("No chapter has recorded results yet.")
    for path in files:
        content = json.loads(path.read_text())
        if content.get("profile") != "full":
            raise ValueError(f"{path}: recorded in the {content.get('profile')!r} profile; only "
                             "full-profile results may be published. Re-run the chapter with "
                             "AEBOOK_PROFILE=full.")
        lines += chapter_table(chapter_title(path.stem, results_dir.parent), content)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    results_dir = Path(argv[0]) if argv else Path("results")
    output = Path(argv[1]) if len(argv) > 1 else Path("book/results.md")
    try:
        page = render(results_dir)
    except (ValueError, KeyError, json.JSONDecodeError) as e:
        print(f"helpers.report: {e}", file=sys.stderr)
        return 2
    tmp = output.with_name(f".{output.name}.part")
    tmp.write_text(page)
    tmp.replace(output)
    print(f"wrote {output} from {len(list(results_dir.glob(CHAPTER_FILES)))} results file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
