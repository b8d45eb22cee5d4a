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

from helpers.profiles import get_profile

_chapter: str | None = None


def set_chapter(name: str) -> None:
    """Name the chapter whose results ``record`` writes (the notebook's file stem)."""
    global _chapter
    _chapter = name


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


def record(key: str, value, protocol: str) -> None:
    """Store ``value`` (a number or a dict of numbers) under the dotted ``key``."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):
        content = {"chapter": _chapter, "results": {}}
    profile = get_profile().name
    content["profile"] = profile
    content["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    content["results"][key] = {"value": value, "protocol": protocol}
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(content, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
    print(f"recorded {key} = {_short(value)}  [{protocol}]" + ("" if profile == "full" else
                                                            f"  ({profile} profile: not published)"))


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)


def load(chapter: str, root: str | os.PathLike = ".") -> dict:
    """The recorded results of ``chapter`` as {key: {"value", "protocol"}}."""
    return json.loads((Path(root) / "results" / f"{chapter}.json").read_text())["results"]
