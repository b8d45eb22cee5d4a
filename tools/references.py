"""What the book's figures are compared with, read from ``references.json`` (its ``about``
explains each part): the seed's and the literature's figures, the targets and the figure each is
judged on, the quality guards and the time budgets. Both generated pages read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

DATA = json.loads(Path(__file__).with_name("references.json").read_text())


@dataclass(frozen=True)
class Reference:
    """What to compare a recorded metric with."""

    field: str | None = None  # for a dict value: the entry the table shows
    seed: str = ""
    literature: str = ""
    target: tuple[str, float] | None = None  # ("<=", 0.012) or (">=", 0.95)
    reads: str = "test"  # the figure a target or guard is judged on: "test" or "validation"
    validation: dict | None = None  # {"key": ..., "field": ...}: where the validation figure is


REFERENCES = {key: Reference(**{**entry, "target": tuple(entry["target"])} if "target" in entry
                             else entry)
              for key, entry in DATA["references"].items()}
GUARDS = [(g["chapter"], g["key"], tuple(g["target"])) for g in DATA["quality_guards"]]
CHAPTER_BUDGET_S = DATA["budget_minutes"]["chapter"] * 60
BOOK_BUDGET_S = DATA["budget_minutes"]["book"] * 60
PREVIOUS_EDITION_TRAINING_S: dict[str, float] = DATA["previous_edition_training_s"]


def reference(key: str) -> Reference:
    """``key``'s own entry, else the first pattern (``*`` wildcards) that matches it."""
    if key in REFERENCES:
        return REFERENCES[key]
    return next((ref for pattern, ref in REFERENCES.items() if fnmatchcase(key, pattern)),
                Reference())
