"""How fast the book trains: seed-style training against the book's pipeline, and chapter timings.

``python -m tools.bench`` (``make bench``) trains the notMNIST blog seed's 314,625-parameter
conv autoencoder on Fashion-MNIST twice on the current device, once as the seed did (NumPy arrays
to ``fit``, batch 128, RMSprop) and once with the book's pipeline, and reports images/s, seconds
per epoch and the wall time to reach a fixed test MSE, with their ratio. ``--chapters quick``
(or ``full``) also executes every chapter end to end with an empty weights cache and times it.
The figures go to ``results/bench-<device>.json``, each with the date, backend and versions it
was measured with; ``--page`` renders them for the book's Performance appendix.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from helpers.files import atomic_write
from tools.references import (BOOK_BUDGET_S, CHAPTER_BUDGET_S, GUARDS,
                              PREVIOUS_EDITION_TRAINING_S, reference)
from tools.report import CHAPTER_FILES, displayed, readable, status, validation_figure


@dataclass(frozen=True)
class Recipe:
    """One way of training the same model."""

    name: str
    batch_size: int
    optimizer: str  # "rmsprop" or "adam"
    learning_rate: float  # constant, or the peak of a warm-up + cosine schedule
    schedule: bool  # warm-up then cosine decay to 0 over the run
    jit_compile: bool | str  # Keras' compile(jit_compile=...): "auto", True or False
    dtype_policy: str  # "float32" or "mixed_bfloat16"

    def describe(self) -> str:
        lr = f"{self.learning_rate:g}" + (" peak, warm-up + cosine" if self.schedule else "")
        return (f"batch {self.batch_size}, {self.optimizer} lr {lr}, jit_compile={self.jit_compile}, "
                f"{self.dtype_policy}")


SEED_STYLE = Recipe("seed-style", 128, "rmsprop", 1e-3, False, "auto", "float32")
# The book's pipeline, per device. On a CPU the seed's step is already compute-bound in fp32
# convolutions: larger batches, XLA and bfloat16 all measured slower there (``--levers``, shown on
# the Performance page), so the CPU pipeline keeps batch 128 and wins on optimisation instead
# (Adam with warm-up and cosine decay). On a GPU, larger batches (square-root learning-rate
# scaling behind a warm-up), XLA and bfloat16 are the usual levers; that recipe awaits its
# first GPU run.
PIPELINES = {
    "cpu": Recipe("book pipeline", 128, "adam", 2e-3, True, "auto", "float32"),
    "gpu": Recipe("book pipeline", 1024, "adam", 4e-3, True, True, "mixed_bfloat16"),
}


def device_slug(description: str) -> str:
    """A file-name-safe name for a device description: ``cpu-2-cores``, ``gpu-nvidia-h100-...``."""
    if description.startswith("GPU"):
        name = description.split(":", 1)[1].split("(")[0]
        return "gpu-" + "-".join(name.lower().replace("_", " ").split())
    return f"cpu-{os.cpu_count()}-cores"


def versions() -> dict:
    import keras

    found = {"python": platform.python_version(), "numpy": np.__version__, "keras": keras.__version__}
    backend = keras.backend.backend()
    if backend in ("tensorflow", "jax", "torch"):
        found[backend] = __import__(backend).__version__
    return found


def stamp() -> dict:
    """When, on which backend and with which versions a measurement is being made."""
    import keras

    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "backend": keras.backend.backend(), "versions": versions()}


def _optimizer(recipe: Recipe, epochs: int, n_images: int):
    import keras

    from helpers.training import warmup_cosine

    lr = recipe.learning_rate
    if recipe.schedule:
        lr = warmup_cosine(lr, epochs, n_images, recipe.batch_size)
    return {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}[recipe.optimizer](lr)


def train_and_time(recipe: Recipe, x_train, x_test, epochs: int, seed: int = 0,
                   log=print) -> dict:
    """Train a fresh seed conv AE with ``recipe`` for ``epochs``, one ``fit`` call per epoch.

    Only the training is timed; the test MSE is measured after each epoch, outside the timed
    region. The first epoch includes tracing and compiling the training step.
    """
    import keras

    from helpers import models
    from helpers.training import evaluate_mse

    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(recipe.dtype_policy)
    try:
        keras.utils.set_random_seed(seed)
        _, _, model = models.conv_autoencoder()
        model.compile(optimizer=_optimizer(recipe, epochs, len(x_train)), loss="mse",
                      jit_compile=recipe.jit_compile)
        seconds, test_mse = [], []
        for epoch in range(epochs):
            start = time.perf_counter()
            model.fit(x_train, x_train, batch_size=recipe.batch_size, epochs=1, shuffle=True, verbose=0)
            seconds.append(time.perf_counter() - start)
            test_mse.append(evaluate_mse(model, x_test))
            log(f"  {recipe.name:<14} epoch {epoch + 1:>2}/{epochs}  {seconds[-1]:6.1f} s  "
                f"{len(x_train) / seconds[-1]:8,.0f} img/s  test MSE {test_mse[-1]:.5f}")
    finally:
        keras.config.set_dtype_policy(previous)
    steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
    return {"recipe": asdict(recipe), "description": recipe.describe(), "epoch_seconds": seconds,
            "test_mse": test_mse, "seconds_per_epoch": steady,
            "images_per_second": len(x_train) / steady, "final_test_mse": test_mse[-1]}


def time_to_mse(run: dict, target: float) -> float | None:
    """Training seconds (compile included) until the test MSE first reaches ``target``, or None."""
    elapsed = 0.0
    for seconds, mse in zip(run["epoch_seconds"], run["test_mse"]):
        elapsed += seconds
        if mse <= target:
            return elapsed
    return None


def compare(seed_run: dict, book_run: dict, target: float) -> dict:
    """The book's pipeline relative to seed-style training, measured in the same process."""
    seed_t, book_t = time_to_mse(seed_run, target), time_to_mse(book_run, target)
    return {
        "target_mse": target,
        "throughput_ratio": book_run["images_per_second"] / seed_run["images_per_second"],
        "seed_seconds_to_target": seed_t, "book_seconds_to_target": book_t,
        "time_to_target_ratio": (seed_t / book_t) if seed_t and book_t else None,
        "final_mse_equal_or_better": book_run["final_test_mse"] <= seed_run["final_test_mse"],
    }


def cache_without_weights(folder: Path) -> Path:
    """Make ``folder`` a cache that links every entry of the reader's cache but the weights
    (``models``): the chapters start from no trained model, with the data already downloaded."""
    from helpers.data import cache_dir

    folder.mkdir(parents=True)
    if cache_dir().is_dir():
        for entry in cache_dir().iterdir():
            if entry.name != "models":
                (folder / entry.name).symlink_to(entry.resolve())
    return folder


def check_keep(keep: Path | None, root: Path) -> None:
    """Refuse a ``--keep`` folder that is not empty, or inside the checkout ``root``."""
    if keep is None:
        return
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise SystemExit(f"--keep {keep}: not an empty folder; name a new or empty one "
                         "(the chapters must start from an empty weights cache)")
    if keep.resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"--keep {keep}: inside the checkout {root}, whose results/ the "
                         "chapters would overwrite; name a folder outside it")


def time_chapters(profile: str, root: Path, keep: Path | None = None, log=print) -> dict:
    """Execute every chapter of the checkout ``root`` end to end in ``profile`` with an empty
    weights cache; seconds each.

    Each notebook runs from a copy in a temporary folder (or in ``keep``, a new or empty folder
    outside the checkout, which is kept: its ``cache``, ``results`` and the executed
    notebooks), so neither the committed notebooks nor ``results/`` are touched.
    """
    import nbformat
    from nbclient import NotebookClient

    check_keep(keep, root)
    timings = {}
    with contextlib.ExitStack() as stack:
        if keep is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aebook-bench-")))
        else:
            work = keep.resolve()
            work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "AEBOOK_PROFILE": profile,
               "AEBOOK_CACHE": str(cache_without_weights(work / "cache"))}
        for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            log(f"  executing {path.name} ({profile} profile)...")
            start = time.perf_counter()
            NotebookClient(nb, timeout=None, kernel_name="python3",
                           resources={"metadata": {"path": str(work)}}).execute(env=env)
            timings[path.stem] = time.perf_counter() - start
            log(f"  {path.stem}: {timings[path.stem]:.0f} s")
            if keep is not None:
                nbformat.write(nb, work / path.name)
    return {"profile": profile, "seconds": timings, "total_seconds": sum(timings.values())}


# ---------------------------------------------------------------------------------- the page


def _fmt(value, spec=".0f", unit="", none="not reached"):
    return none if value is None else format(value, spec) + unit


def stamped(bench: dict) -> dict:
    """``bench`` with a stamp in each measurement. An older file kept one stamp for the whole
    file, that of its last write: it goes to each measurement that has none."""
    old = {"date": bench.pop("updated", None), "backend": bench.pop("backend", None),
           "versions": bench.pop("versions", None)}
    for measurement in [bench.get("training"), bench.get("levers"), *bench.get("chapters", [])]:
        if measurement is not None:
            measurement.setdefault("measured", old)
    return bench


def _measured(measurement: dict) -> str:
    m = measurement["measured"]
    return (f"measured {m['date']}, backend {m['backend']}; "
            + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))


def render_page(results_dir: Path) -> str:
    """Markdown tables of every ``bench-*.json``: training speed and chapter timings per device."""
    files = sorted(Path(results_dir).glob("bench-*.json"))
    lines = _recorded_training_times(Path(results_dir)) + _quality_guards(Path(results_dir))
    if not files:
        return "\n".join(lines + ["No benchmark has been recorded yet: run `make bench`."]) + "\n"
    for path in files:
        b = stamped(json.loads(path.read_text()))
        lines += [f"### {b['device']}", "", f"From `{path.name}`.", ""]
        if "training" in b:
            t, c = b["training"], b["training"]["comparison"]
            lines += [f"Training the seed's 314,625-parameter conv AE on {t['data']}, "
                      f"{t['epochs']} epochs each, one after the other in one process "
                      f"({_measured(t)}):", "",
                      "| recipe | settings | first epoch s | s / epoch | images / s | final test MSE | "
                      f"s to test MSE {c['target_mse']:g} |",
                      "| --- | --- | --- | --- | --- | --- | --- |"]
            for run in (t["seed"], t["book"]):
                lines.append(
                    f"| {run['recipe']['name']} | {run['description']} | {run['epoch_seconds'][0]:.1f} | "
                    f"{run['seconds_per_epoch']:.1f} | {run['images_per_second']:,.0f} | "
                    f"{run['final_test_mse']:.5f} | {_fmt(time_to_mse(run, c['target_mse']))} |")
            ratio = c["time_to_target_ratio"]
            lines += ["", f"Throughput ratio book / seed: **{c['throughput_ratio']:.2f}x**; time to "
                      f"test MSE {c['target_mse']:g}: "
                      + (f"**{ratio:.2f}x** faster" if ratio else "not comparable (not reached by both)")
                      + f"; final test MSE equal or better: {'yes' if c['final_mse_equal_or_better'] else 'NO'}.",
                      ""]
        if "levers" in b:
            lv = b["levers"]
            base = lv["runs"][0]
            lines += [f"Each lever timed on its own against the first row, on {lv['data']}, "
                      f"{lv['epochs']} epochs each ({_measured(lv)}):", "",
                      f"| recipe | settings | s / epoch | images / s | vs {base['recipe']['name']} | "
                      "final test MSE |", "| --- | --- | --- | --- | --- | --- |"]
            for run in lv["runs"]:
                lines.append(f"| {run['recipe']['name']} | {run['description']} | "
                             f"{run['seconds_per_epoch']:.1f} | {run['images_per_second']:,.0f} | "
                             f"{run['images_per_second'] / base['images_per_second']:.2f}x | "
                             f"{run['final_test_mse']:.5f} |")
            lines.append("")
        for timing in b.get("chapters", []):
            lines += _chapter_timings(timing)
    return "\n".join(lines) + "\n"


def _within(seconds: float, budget: float) -> str:
    return "within" if seconds <= budget else "**OVER**"


def _chapter_timings(timing: dict) -> list[str]:
    """One benchmark run of every chapter; a full-profile run beside the budgets and the
    previous edition's training times."""
    lines = [f"Every chapter end to end, {timing['profile']} profile, empty weights cache "
             f"({_measured(timing)}):", ""]
    total = timing["total_seconds"]
    if timing["profile"] != "full":
        return lines + ["| chapter | seconds |", "| --- | --- |",
                        *(f"| {stem} | {s:.0f} |" for stem, s in timing["seconds"].items()),
                        f"| **all chapters** | **{total:.0f}** ({total / 60:.1f} min) |", ""]
    old = sum(PREVIOUS_EDITION_TRAINING_S.values())
    return lines + [
        "| chapter | seconds | minutes | budget | previous edition, training min |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {stem} | {s:.0f} | {s / 60:.1f} | {_within(s, CHAPTER_BUDGET_S)} "
          f"{CHAPTER_BUDGET_S // 60} | "
          f"{_minutes_cell(PREVIOUS_EDITION_TRAINING_S.get(stem), none='-')} |"
          for stem, s in timing["seconds"].items()),
        f"| **all chapters** | **{total:.0f}** | **{total / 60:.1f}** | "
        f"{_within(total, BOOK_BUDGET_S)} {BOOK_BUDGET_S // 60} | **{old / 60:.0f}** "
        "(training alone) |", ""]


def _guard_row(results: dict, key: str, target: tuple[str, float]) -> str:
    """A guard judged on the validation figure its key's reference reads, or its test figure
    reported as it falls."""
    ref = reference(key)
    value, field, _ = displayed(results[key], ref)
    row = f"| {key}{'.' + field if field else ''} | {target[0]} {target[1]:g} |"
    figure = validation_figure(results, ref)
    if figure is None:
        return f"{row} test | {readable(value)} | reported as it falls |"
    verdict = status(*figure, target)
    verdict = {"MISSED": "**missed**", "within noise": "*within noise*"}.get(verdict, verdict)
    return f"{row} validation | {readable(figure[0])} | {verdict} |"


def _quality_guards(results_dir: Path) -> list[str]:
    """A table of the guarded quality figures as the chapters recorded them (empty when no
    chapter has recorded any)."""
    rows, missing = [], []
    for chapter, key, target in GUARDS:
        path = results_dir / f"{chapter}.json"
        results = json.loads(path.read_text())["results"] if path.exists() else {}
        if key in results:
            rows.append(_guard_row(results, key, target))
        else:
            missing.append(f"| {key} | {target[0]} {target[1]:g} | | not recorded | |")
    if not rows:
        return []
    return ["### Quality guards", "",
            "The figures the CPU budget must not make worse, as the chapters recorded them. A "
            "guard is judged on a validation figure where the chapter records one; a test "
            "figure, scored once, is reported as it falls:", "",
            "| record | target | figure | this edition | |", "| --- | --- | --- | --- | --- |",
            *rows, *missing, ""]


def _minutes_cell(seconds, none: str = "not recorded") -> str:
    return none if seconds is None else f"{seconds / 60:.1f}"


_COUNT = r"\d{1,3}(?:,\d{3})*"  # 54,000 (not the comma after it)
MNIST_SPLIT = re.compile(rf"official {_COUNT}/{_COUNT}/{_COUNT}|test-split-only[\w ]* "
                         rf"{_COUNT}/{_COUNT}/{_COUNT}|all {_COUNT} images")


def _mnist_split(results: dict) -> str:
    """The MNIST splits a chapter's records name in their protocols (e.g. "official
    54,000/6,000/10,000"), or "-" where it records nothing on MNIST."""
    found = []
    for key, entry in results.items():
        if key.split(".")[0] == "mnist":
            found += [m for m in MNIST_SPLIT.findall(entry["protocol"]) if m not in found]
    return "; ".join(found) or "-"


def _recorded_training_times(results_dir: Path) -> list[str]:
    """A table of each chapter's own record: its time from an empty weights cache against the
    budget, its training time, and the previous edition's training time."""
    rows, total, training, missing = [], 0.0, 0.0, []
    for path in sorted(results_dir.glob(CHAPTER_FILES)):
        results = json.loads(path.read_text())["results"]
        timing = results.get("training_time")
        if not timing:
            continue
        v = timing["value"]
        chapter = v.get("chapter_seconds")
        training += v["seconds"]
        if chapter is None:
            missing.append(path.stem)
            status = "not recorded"
        else:
            total += chapter
            status = _within(chapter, CHAPTER_BUDGET_S)
        previous = PREVIOUS_EDITION_TRAINING_S.get(path.stem)
        measured = "" if v.get("from_empty_cache") or chapter is None else " (estimate)"
        rows.append(f"| {path.stem} | {_minutes_cell(chapter)}{measured} | {status} | "
                    f"{v['seconds'] / 60:.1f} | {v['runs']} | {_mnist_split(results)} | "
                    f"{_minutes_cell(previous, none='-')} |")
    if not rows:
        return []
    book = ("not complete: " + ", ".join(missing) + " not recorded" if missing else
            f"{total / 60:.0f} (alone)")
    old = sum(PREVIOUS_EDITION_TRAINING_S.values())
    return ["### Each chapter's own record", "",
            "Every chapter records, in its last cell (after the exercise solutions), how "
            "long it took from its setup cell to that cell, with "
            "every model it reused from the weights cache counted at the time it took to "
            "train: the chapter's time from an empty cache "
            "(`results/*.json`; an *estimate* where the recorded execution itself reused "
            "weights: its own time plus their recorded training time). "
            f"Budget: {CHAPTER_BUDGET_S // 60} min a chapter, "
            f"{BOOK_BUDGET_S // 60} min for the book, on the 2-core CPU. A model that two "
            "chapters share counts in both, so the sum of these times is not the book's: the "
            "full-profile run of the whole book below is. The MNIST column names the "
            "splits a chapter's MNIST results were recorded on: the official training split "
            "(54,000 images to train on, 6,000 to validate), or all 70,000 images where a "
            "chapter reproduces a paper that trained on them. The previous edition had only "
            "MNIST's test split and trained on 7,200 of its images, so a pass over MNIST now "
            "takes 7.5 times as long; its times are in the last column.", "",
            "| chapter | from an empty cache, min | budget | training, min | runs | MNIST | "
            "previous edition, training min |",
            "| --- | --- | --- | --- | --- | --- | --- |", *rows,
            f"| **all chapters** | {book} | | **{training / 60:.0f}** | | | "
            f"**{old / 60:.0f}** |", ""]


# ------------------------------------------------------------------------------ command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Time seed-style training against the book's pipeline on this device, "
                    "and optionally every chapter end to end.")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per recipe (default: 10 on a GPU, 4 on a CPU)")
    p.add_argument("--train-images", type=int, default=None,
                   help="use only the first N Fashion-MNIST training images (default: all of them)")
    p.add_argument("--target-mse", type=float, default=None,
                   help="test MSE for the time-to-target figure (default: 0.006 on a GPU, 0.010 on a CPU)")
    p.add_argument("--levers", type=int, default=0, metavar="N",
                   help="also time the book's pipeline with each of its settings changed on its "
                        "own, on the first N training images (default: 0, skip)")
    p.add_argument("--chapters", choices=("none", "quick", "full"), default="quick",
                   help="also execute every chapter in this profile and time it (default: quick)")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR",
                   help="run the chapters in DIR (new or empty, outside the checkout) and keep "
                        "its weights cache, results and executed notebooks (default: a temporary "
                        "folder)")
    p.add_argument("--no-training", action="store_true", help="skip the training comparison")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="folder for bench-<device>.json (default: results)")
    p.add_argument("--page", nargs=2, metavar=("RESULTS_DIR", "OUTPUT"), type=Path,
                   help="only render the Performance tables from RESULTS_DIR/bench-*.json to OUTPUT")
    return p


# The other value of a setting the pipeline shares with the seed: the usual GPU levers.
LEVERS = {"batch_size": 512, "jit_compile": True, "dtype_policy": "mixed_bfloat16"}


def lever_recipes(pipeline: Recipe) -> list[Recipe]:
    """The pipeline with one setting changed at a time: to the seed's where the pipeline
    departs from it, else to its lever in ``LEVERS``."""
    levers = []
    for setting in [f.name for f in fields(Recipe) if f.name != "name"]:
        value = getattr(SEED_STYLE, setting)
        if value == getattr(pipeline, setting):
            value = LEVERS[setting]
        levers.append(replace(pipeline, name=f"{setting}={value}", **{setting: value}))
    return levers


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.page:
        results_dir, output = args.page
        if not results_dir.is_dir():
            raise SystemExit(f"tools.bench: no results folder {results_dir}")
        atomic_write(output, render_page(results_dir))
        print(f"wrote {output} from {len(list(results_dir.glob('bench-*.json')))} benchmark file(s)")
        return 0

    if args.chapters != "none":
        check_keep(args.keep, Path.cwd())  # before hours of training, not after
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from helpers.environment import describe_device, native_stderr_silenced

    with native_stderr_silenced():
        import keras

        device = describe_device(keras.backend.backend())
    from helpers.data import as_model_input, load_dataset

    kind = "gpu" if device.startswith("GPU") else "cpu"
    epochs = args.epochs or (10 if kind == "gpu" else 4)
    target = args.target_mse or (0.006 if kind == "gpu" else 0.010)
    out = args.out / f"bench-{device_slug(device)}.json"
    print(f"Benchmark on {device}, Keras {keras.__version__} ({keras.backend.backend()})", flush=True)
    now = stamp()
    report = {"device": device, "cpu_count": os.cpu_count(), "chapters": []}
    if out.is_file():  # keep what an earlier run measured that this one does not redo
        report = {**report, **stamped(json.loads(out.read_text())), "device": device}

    if not args.no_training:
        ds = load_dataset("fashion_mnist")
        x_train, x_test = as_model_input(ds.x_train), as_model_input(ds.x_test)
        if args.train_images:
            x_train = x_train[:args.train_images]
        data = f"Fashion-MNIST ({len(x_train):,} training / {len(x_test):,} test images, {ds.protocol})"
        print(f"{ds.source}\nusing {data}; {epochs} epochs per recipe", flush=True)
        pipeline = PIPELINES[kind]
        seed_run = train_and_time(SEED_STYLE, x_train, x_test, epochs)
        book_run = train_and_time(pipeline, x_train, x_test, epochs)
        training = {"data": data, "epochs": epochs, "seed": seed_run, "book": book_run,
                    "comparison": compare(seed_run, book_run, target), "measured": now}
        report["training"] = training
        if args.levers:
            subset = x_train[:args.levers]
            report["levers"] = {
                "data": f"Fashion-MNIST (first {len(subset):,} training / {len(x_test):,} test images)",
                "epochs": epochs, "measured": now,
                "runs": [train_and_time(r, subset, x_test, epochs)
                         for r in (pipeline, *lever_recipes(pipeline))]}
        c = training["comparison"]
        print(f"book / seed: {c['throughput_ratio']:.2f}x images/s; time to test MSE {target:g}: "
              f"seed {_fmt(c['seed_seconds_to_target'], unit=' s')}, book {_fmt(c['book_seconds_to_target'], unit=' s')}",
              flush=True)
    if args.chapters != "none":
        timing = time_chapters(args.chapters, Path.cwd(), keep=args.keep)
        report["chapters"] = [t for t in report["chapters"] if t["profile"] != args.chapters]
        report["chapters"].append({**timing, "measured": now})
        print(f"all chapters, {args.chapters} profile: {timing['total_seconds'] / 60:.1f} min", flush=True)

    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, json.dumps(report, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
