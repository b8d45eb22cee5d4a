"""Recording the numbers a chapter reports, with the protocol that produced them.

In the full profile ``record`` writes ``results/<chapter>.json`` in the repository (committed
beside the executed notebook, read by the book's results page). In the quick profile it writes
to a temporary folder instead, so quick numbers can never be published by accident.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from helpers.files import atomic_write
from helpers.profiles import get_profile

_chapter: str | None = None
_fresh = False  # the next record() starts the chapter's file afresh


def set_chapter(name: str) -> None:
    """Name the chapter whose results ``record`` writes (the notebook's file stem).

    The first ``record`` after this starts the chapter's file afresh, so that after a run the
    file holds exactly that run's results, never a key a previous run recorded.
    """
    global _chapter, _fresh
    _chapter, _fresh = name, True


def results_dir() -> Path:
    """``results/`` at the repository root in the full profile, else a temporary folder."""
    if not get_profile().publishable:
        return Path(tempfile.gettempdir()) / "aebook-results"
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder / "results"
    return here / "results"  # e.g. a lone notebook in Colab


def results_path() -> Path:
    if _chapter is None:
        raise RuntimeError("call helpers.results.set_chapter(<notebook stem>) before record()")
    return results_dir() / f"{_chapter}.json"


def record(key: str, value, protocol: str, *, interval: tuple[float, float] | None = None) -> None:
    """Store ``value`` (a number, or dicts and lists of numbers) under the dotted ``key``, silently.

    Floats are stored to 6 significant digits; ``interval=(low, high)``, a confidence interval,
    is stored beside the value as ``ci_low`` and ``ci_high`` (5 significant digits).
    """
    global _fresh
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        content = {"chapter": _chapter, "results": {}} if _fresh else json.loads(path.read_text())
    except (OSError, ValueError):
        content = {"chapter": _chapter, "results": {}}
    _fresh = False
    content["profile"] = get_profile().name
    content["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entry = {"value": _rounded(value, 6), "protocol": protocol}
    if interval is not None:
        entry["ci_low"], entry["ci_high"] = _rounded(list(interval), 5)
    content["results"][key] = entry
    atomic_write(path, json.dumps(content, indent=1, sort_keys=True) + "\n")


def _rounded(value, digits: int):
    """``value`` with every float (NumPy's too, in dicts and lists) to ``digits`` significant digits."""
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        value = value.tolist()
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    return value


def load(chapter: str, root: str | os.PathLike = ".") -> dict:
    """The recorded results of ``chapter`` as {key: {"value", "protocol"[, "ci_low", "ci_high"]}}."""
    return json.loads((Path(root) / "results" / f"{chapter}.json").read_text())["results"]


def expect(labels: dict[str, str], exact: tuple[str, ...] = ()) -> None:
    """Print one "What you should see" sentence: each headline number of this chapter as
    recorded, with the 95% interval a re-run should land in, read from the results file.

    ``labels`` maps record keys to readable names. Each is recorded with an interval, except
    the keys in ``exact``: numbers computed from the data alone, with no randomness, which a
    re-run on the same data reproduces exactly. Figures recorded on test-split-only parts are
    named: a reader's run downloads the official data.
    """
    recorded = json.loads(results_path().read_text())["results"]
    parts, partial = [], []
    for key, label in labels.items():
        if key not in recorded:
            raise KeyError(f"expect: {key!r} is not recorded in {results_path().name}")
        entry = recorded[key]
        if key in exact:
            parts.append(f"{label} {_number(entry['value'])} exactly")
        elif "ci_low" in entry:
            parts.append(f"{label} {_number(entry['value'])} (95% interval "
                         f"{_number(entry['ci_low'])}-{_number(entry['ci_high'])})")
        else:
            raise ValueError(f"expect: {key!r} has no interval: record it with interval=")
        if "test-split-only" in entry["protocol"]:
            partial.append(label)
    sentence = "What you should see when you run this chapter: " + "; ".join(parts) + "."
    if partial:
        sentence += (" The book computed " + ", ".join(partial) + " on parts cut from the "
                     "official test split; your run downloads the official training split, "
                     "so expect different figures there.")
    print(sentence)


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
