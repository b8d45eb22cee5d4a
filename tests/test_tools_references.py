"""tools/references.json: the figures both pages compare with, and the figure each target reads."""

import json

from tools.references import DATA, GUARDS, reference

from .conftest import ROOT


def test_every_target_and_guard_says_which_figure_it_reads():
    entries = DATA["references"]
    for key, entry in entries.items():
        if "target" in entry:
            assert entry.get("reads") in ("test", "validation"), key
    for _, key, _ in GUARDS:
        assert entries.get(key, {}).get("reads") in ("test", "validation"), key
    for key, entry in entries.items():
        assert (entry.get("reads") == "validation") == ("validation" in entry), key


def test_a_validation_figure_is_read_from_the_chapter_that_records_the_test_figure():
    for path in sorted((ROOT / "results").glob("[0-9][0-9]_*.json")):
        results = json.loads(path.read_text())["results"]
        for key in results:
            ref = reference(key)
            if ref.reads == "validation":
                validation = results[ref.validation["key"]]["value"]
                field = ref.validation.get("field")
                assert isinstance(validation[field] if field else validation, float), key


def test_patterns_apply_where_a_key_has_no_entry_of_its_own(monkeypatch):
    from tools import references

    monkeypatch.setattr(references, "REFERENCES", {
        "mnist.x.acc": references.Reference(target=(">=", 0.9)),
        "*.x.acc": references.Reference(field="acc"),
    })
    assert reference("kmnist.x.acc").field == "acc"
    assert reference("kmnist.x.acc").target is None
    assert reference("mnist.x.acc").target == (">=", 0.9)  # its own entry first
    assert reference("kmnist.no_such_record").field is None
